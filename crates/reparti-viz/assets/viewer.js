// reparti trace viewer: hooks onto the inline SVG written by crates/reparti-viz/src/svg.rs
// and the events in <script id="trace-data">. No network, no libraries.
(function () {
  'use strict';

  // Collected first, so the self-test can report anything that goes wrong later.
  const errors = [];
  window.addEventListener('error', (ev) => errors.push(String(ev.message || ev.error)));
  const consoleError = console.error.bind(console);
  console.error = function (...args) {
    errors.push(args.map(String).join(' '));
    consoleError(...args);
  };

  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const events = data.events;
  const byK = new Map(events.map((e) => [e.k, e]));
  const svg = document.getElementById('diagram');
  const canvas = document.getElementById('canvas');
  const details = document.getElementById('details');
  const eventEls = Array.from(svg.querySelectorAll('.event'));
  const msgEls = Array.from(svg.querySelectorAll('.message'));
  const elOfK = new Map(eventEls.map((el) => [Number(el.dataset.k), el]));
  const isNetwork = (e) => e.kind === 'drop' || e.kind === 'duplicate';

  // Message bookkeeping: the send of each message (payloads are written there), and
  // every receive, drop and duplicate of it, in trace order.
  const sendOf = new Map();
  const fates = new Map();
  for (const e of events) {
    if (e.msg === undefined) continue;
    if (e.kind === 'send') sendOf.set(e.msg, e);
    else {
      if (!fates.has(e.msg)) fates.set(e.msg, []);
      fates.get(e.msg).push(e);
    }
  }

  // Program order per node (network events belong to no node's program).
  const prevOnNode = new Map();
  const lastOf = new Map();
  for (const e of events) {
    if (isNetwork(e)) continue;
    if (lastOf.has(e.node)) prevOnNode.set(e.k, lastOf.get(e.node));
    lastOf.set(e.node, e);
  }

  // ---- causality by graph reachability: program order plus send -> receive/drop/duplicate,
  // and a duplicate -> the receives of its message that follow it.
  const succ = new Map(events.map((e) => [e.k, []]));
  const pred = new Map(events.map((e) => [e.k, []]));
  const edge = (a, b) => { succ.get(a.k).push(b); pred.get(b.k).push(a); };
  for (const e of events) {
    const p = prevOnNode.get(e.k);
    if (p) edge(p, e);
    if (e.kind === 'send') {
      for (const f of fates.get(e.msg) || []) {
        if (f.k > e.k) edge(e, f);
        if (f.kind === 'duplicate') {
          for (const r of fates.get(e.msg)) if (r.kind === 'receive' && r.k > f.k) edge(f, r);
        }
      }
    }
  }
  function reach(start, next) {
    const seen = new Set();
    const todo = [start];
    while (todo.length) {
      for (const n of next.get(todo.pop().k)) {
        if (!seen.has(n.k)) { seen.add(n.k); todo.push(n); }
      }
    }
    return seen;
  }
  const graphCausal = (e) => ({ past: reach(e, pred), future: reach(e, succ) });

  // ---- causality from vector clocks. Send, receive and declared local events tick the
  // node's clock and carry the clock they made (TP6's rules). Start, timer, input,
  // output, log and crash do not tick; their clock is taken from the last ticking event
  // before them on the node (the clock they found). Then x -> e, for x on another node, iff e knows
  // x's node's next tick at or after x: clock(e)[x.node] >= clock(x)[x.node] + (x ticks ? 0 : 1).
  const ticks = (e) => ['send', 'receive', 'local'].includes(e.kind);
  const clockOf = new Map();
  for (const e of events) {
    if (isNetwork(e) || !e.vc) continue;
    const p = prevOnNode.get(e.k);
    clockOf.set(e.k, ticks(e) || !p ? e.vc : clockOf.get(p.k) || e.vc.map(() => 0));
  }
  const useVector = data.vector && events.every((e) => isNetwork(e) || Array.isArray(e.vc));
  function hb(x, e) {
    if (x.k === e.k) return false;
    if (x.node === e.node) return x.k < e.k;
    return clockOf.get(e.k)[x.node] >= clockOf.get(x.k)[x.node] + (ticks(x) ? 0 : 1);
  }
  function vectorCausal(e) {
    const past = new Set();
    const future = new Set();
    const nodeEvents = events.filter((x) => !isNetwork(x));
    // A network event's past is its send and the send's past; its future is what its
    // duplicate copies were received into.
    const anchorsPast = isNetwork(e) ? [sendOf.get(e.msg)].filter(Boolean) : [e];
    for (const a of anchorsPast) {
      if (a !== e) past.add(a.k);
      for (const x of nodeEvents) if (hb(x, a)) past.add(x.k);
    }
    let anchorsFuture = [e];
    if (isNetwork(e)) {
      anchorsFuture = e.kind === 'duplicate' ? (fates.get(e.msg) || []).filter((r) => r.kind === 'receive' && r.k > e.k) : [];
      for (const r of anchorsFuture) future.add(r.k);
    }
    for (const a of anchorsFuture) for (const x of nodeEvents) if (hb(a, x)) future.add(x.k);
    // Network events around node events: drops and duplicates follow their send; a
    // duplicate precedes what its receives precede.
    for (const x of events) {
      if (!isNetwork(x) || x.k === e.k) continue;
      const s = sendOf.get(x.msg);
      if (s && (s.k === e.k || future.has(s.k))) future.add(x.k);
      if (x.kind === 'duplicate') {
        const later = (fates.get(x.msg) || []).filter((r) => r.kind === 'receive' && r.k > x.k);
        if (later.some((r) => r.k === e.k || past.has(r.k))) past.add(x.k);
      }
    }
    return { past, future };
  }
  const causal = (e) => (useVector ? vectorCausal(e) : graphCausal(e));

  // ---- details panel
  const nodeName = (n) => (data.idents[n] !== undefined ? `n${n} (id ${data.idents[n]})` : `n${n}`);
  function outputsSoFar(e) {
    const seen = new Map();
    for (const x of events) {
      if (x.k > e.k) break;
      if (x.node === e.node && x.kind === 'output') seen.set(x.key, x.value);
    }
    return Array.from(seen, ([k, v]) => `${k} = ${v}`).join(', ') || 'none';
  }
  function show(e, c) {
    const rows = [['event', `#${e.i} ${e.kind} at ${nodeName(e.node)}`], ['time', String(e.t)], ['Lamport', String(e.lamport)]];
    rows.push(['vector clock', e.vc ? JSON.stringify(e.vc) : '(not kept)']);
    // An algorithm that reads physical clocks: its reading, and how far it is from real
    // time (t is then real time; a real run's events carry it as `real`).
    if (typeof e.clock === 'number') {
      const real = typeof e.real === 'number' ? e.real : e.t;
      const off = e.clock - real;
      rows.push(['physical clock', `${e.clock.toFixed(3)} (${off >= 0 ? '+' : ''}${off.toFixed(3)} from real time ${real})`]);
    }
    if (e.msg !== undefined) {
      const s = sendOf.get(e.msg);
      const from = e.kind === 'send' ? e.node : e.from;
      const to = e.kind === 'send' ? e.to : (e.to !== undefined ? e.to : e.node);
      rows.push(['message', `${e.type} #${e.msg}: n${from} → n${to}`]);
      rows.push(['payload', s && s.payload !== undefined ? JSON.stringify(s.payload) : '(send not drawn)']);
      const f = (fates.get(e.msg) || []).map((x) => (x.kind === 'drop' ? `lost (${x.reason})` : x.kind)).join(', ');
      rows.push(['fate', f || 'in flight at the end']);
    }
    if (e.kind === 'drop') rows.push(['reason', e.reason]);
    if (e.kind === 'input') rows.push(['input', JSON.stringify(e.payload)]);
    if (e.kind === 'timer') rows.push(['timer', e.timer]);
    if (e.kind === 'log') rows.push(['log', e.text]);
    if (e.kind === 'output') rows.push(['output', `${e.key} = ${e.value}`]);
    if (e.kind === 'clock') {
      const by = typeof e.adjust === 'number' ? `${e.adjust >= 0 ? '+' : ''}${e.adjust.toFixed(3)}` : '?';
      const over = typeof e.over === 'number' ? ` over ${e.over.toFixed(3)}` : '';
      rows.push(['correction', `${e.text || 'step'} by ${by}${over}`]);
    }
    rows.push([`outputs of n${e.node}`, outputsSoFar(e)]);
    if (c) rows.push(['causality', `past ${c.past.size}, future ${c.future.size} (${useVector ? 'vector clocks' : 'graph'})`]);
    details.replaceChildren();
    const table = document.createElement('table');
    for (const [k, v] of rows) {
      const tr = table.insertRow();
      const th = document.createElement('th');
      th.textContent = k;
      tr.appendChild(th);
      tr.insertCell().textContent = v;
    }
    details.appendChild(table);
  }

  // ---- selection, highlighting, stepping
  const hint = details.firstElementChild;
  let selected = null;
  let selectedCausal = null;
  const replay = document.getElementById('replay');
  function paint() {
    const c = selectedCausal;
    for (const el of eventEls) {
      const k = Number(el.dataset.k);
      el.classList.toggle('selected', !!selected && k === selected.k);
      el.classList.toggle('past', !!c && c.past.has(k));
      el.classList.toggle('future', !!c && c.future.has(k));
      el.classList.toggle('dim', !!c && k !== selected.k && !c.past.has(k) && !c.future.has(k));
      el.classList.toggle('later', replay.checked && !!selected && k > selected.k);
    }
    for (const el of msgEls) {
      const a = Number(el.dataset.from);
      const b = el.dataset.to === '' ? null : Number(el.dataset.to);
      const inPast = (k) => !!c && (k === selected.k || c.past.has(k));
      const inFuture = (k) => !!c && (k === selected.k || c.future.has(k));
      const past = !!c && inPast(a) && b !== null && inPast(b);
      const future = !!c && inFuture(a) && (b === null || inFuture(b));
      el.classList.toggle('past', past);
      el.classList.toggle('future', future);
      el.classList.toggle('dim', !!c && !past && !future);
      el.classList.toggle('later', replay.checked && !!selected && a > selected.k);
      el.classList.toggle('pending', replay.checked && !!selected && a <= selected.k && (b === null || b > selected.k));
    }
  }
  function select(e) {
    selected = e;
    selectedCausal = e ? causal(e) : null;
    if (e) show(e, selectedCausal);
    else if (hint) details.replaceChildren(hint);
    paint();
  }
  function step(delta) {
    const visible = events.filter((e) => !elOfK.get(e.k).classList.contains('filtered'));
    if (!visible.length) return;
    const at = selected ? visible.findIndex((e) => e.k === selected.k) : -1;
    const next = visible[Math.max(0, Math.min(visible.length - 1, at < 0 ? (delta > 0 ? 0 : visible.length - 1) : at + delta))];
    select(next);
    reveal(elOfK.get(next.k));
  }

  // ---- zoom and pan, on the viewBox
  const full = { x: 0, y: 0, w: svg.width.baseVal.value, h: svg.height.baseVal.value };
  let vb = Object.assign({}, full);
  const apply = () => svg.setAttribute('viewBox', `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);
  function toSvg(clientX, clientY) {
    const m = svg.getScreenCTM();
    if (!m) return { x: vb.x + vb.w / 2, y: vb.y + vb.h / 2 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  }
  function zoom(factor, cx, cy) {
    const w = Math.min(full.w * 4, Math.max(40, vb.w / factor));
    const f = vb.w / w;
    const h = vb.h / f;
    vb = { x: cx - (cx - vb.x) / f, y: cy - (cy - vb.y) / f, w, h };
    apply();
  }
  // The first view, and the fit button, show the whole diagram: the viewBox is the
  // drawing's own box and `meet` scales it to the canvas's width or height, whichever
  // binds, so a long run is never cut off on the right (the wheel zooms into its part).
  // Top-aligned, so a wide run sits under the toolbar rather than in mid-air.
  svg.setAttribute('preserveAspectRatio', 'xMidYMin meet');
  function fit() { vb = Object.assign({}, full); apply(); }
  function reveal(el) {
    if (!el) return;
    const b = el.getBBox();
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    if (cx < vb.x || cx > vb.x + vb.w || cy < vb.y || cy > vb.y + vb.h) {
      vb.x = cx - vb.w / 2;
      vb.y = cy - vb.h / 2;
      apply();
    }
  }
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const p = toSvg(ev.clientX, ev.clientY);
    zoom(Math.pow(1.0015, -ev.deltaY), p.x, p.y);
  }, { passive: false });
  let drag = null;
  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.target.closest('.event')) return;
    drag = { x: ev.clientX, y: ev.clientY, vb: Object.assign({}, vb), moved: false };
    canvas.classList.add('panning');
  });
  window.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const m = svg.getScreenCTM();
    const scale = m ? m.a : 1;
    const dx = (ev.clientX - drag.x) / scale;
    const dy = (ev.clientY - drag.y) / scale;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    vb.x = drag.vb.x - dx;
    vb.y = drag.vb.y - dy;
    apply();
  });
  window.addEventListener('pointerup', () => {
    if (drag && !drag.moved) select(null);
    drag = null;
    canvas.classList.remove('panning');
  });

  // ---- events on the drawing
  svg.addEventListener('click', (ev) => {
    const el = ev.target.closest('.event');
    if (el) select(byK.get(Number(el.dataset.k)) || null);
  });
  svg.addEventListener('mouseover', (ev) => {
    const el = ev.target.closest('.event');
    const e = el && byK.get(Number(el.dataset.k));
    if (e) show(e, selected && e.k === selected.k ? selectedCausal : null);
  });
  svg.addEventListener('mouseout', (ev) => {
    if (!ev.target.closest('.event')) return;
    if (selected) show(selected, selectedCausal);
    else if (hint) details.replaceChildren(hint);
  });

  // ---- toolbar: stepping, replay, zoom, one filter per message type
  document.getElementById('prev').addEventListener('click', () => step(-1));
  document.getElementById('next').addEventListener('click', () => step(1));
  replay.addEventListener('change', paint);
  const centre = () => ({ x: vb.x + vb.w / 2, y: vb.y + vb.h / 2 });
  document.getElementById('zoom-in').addEventListener('click', () => { const c = centre(); zoom(1.25, c.x, c.y); });
  document.getElementById('zoom-out').addEventListener('click', () => { const c = centre(); zoom(0.8, c.x, c.y); });
  document.getElementById('fit').addEventListener('click', fit);
  document.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement && ev.target.type !== 'checkbox') return;
    const c = centre();
    const keys = {
      ArrowRight: () => step(1), ArrowDown: () => step(1), ArrowLeft: () => step(-1), ArrowUp: () => step(-1),
      '+': () => zoom(1.25, c.x, c.y), '=': () => zoom(1.25, c.x, c.y), '-': () => zoom(0.8, c.x, c.y), '0': fit,
      Escape: () => select(null),
    };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });
  const filters = document.getElementById('filters');
  data.types.forEach((t, idx) => {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.addEventListener('change', () => {
      svg.querySelectorAll(`[data-t="${idx}"]`).forEach((el) => el.classList.toggle('filtered', !box.checked));
    });
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = t.colour;
    label.append(box, swatch, `${t.name} (${t.sent})`);
    filters.appendChild(label);
  });
  // A snapshot's recorded cut (drawn by the SVG): one checkbox shows or hides it.
  if (data.cut) {
    const label = document.createElement('label');
    label.title = data.cut;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.id = 'show-cut';
    box.addEventListener('change', () => {
      svg.querySelectorAll('#cut, #cut-crossings').forEach((el) => el.classList.toggle('filtered', !box.checked));
    });
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = '#6A3D9A';
    label.append(box, swatch, 'snapshot cut');
    filters.appendChild(label);
  }
  fit();

  // ---- self-test (#selftest): click the first event with a real click, report what the
  // page shows, and check the vector-clock causality against graph reachability.
  function selftest() {
    const out = { events: eventEls.length, messages: msgEls.length, clicked: null, details: '', errors };
    try {
      // The first view, measured by the browser before anything moves it: where the
      // canvas is on screen, where the whole drawing (its background) and every event
      // landed, in CSS pixels.
      const rectOf = (r) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
      const drawn = eventEls.map((el) => el.getBoundingClientRect());
      out.firstView = {
        window: { width: window.innerWidth, height: window.innerHeight },
        canvas: rectOf(canvas.getBoundingClientRect()),
        drawing: rectOf(svg.querySelector('rect.bg').getBoundingClientRect()),
        events: drawn.length ? {
          left: Math.min(...drawn.map((r) => r.left)), top: Math.min(...drawn.map((r) => r.top)),
          right: Math.max(...drawn.map((r) => r.right)), bottom: Math.max(...drawn.map((r) => r.bottom)),
        } : null,
        full: { w: full.w, h: full.h },
      };
      const first = svg.querySelector('.event');
      if (first) {
        first.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window }));
        const e = byK.get(Number(first.dataset.k));
        out.clicked = { k: e.k, i: e.i, lamport: e.lamport, vc: e.vc || null, clock: typeof e.clock === 'number' ? e.clock : null, selected: !!selected && selected.k === e.k };
        out.details = details.innerText;
      }
      // Exercise the controls a user would: step with the arrow key, filter a type, zoom.
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      out.stepped = selected ? selected.i : null;
      const box = filters.querySelector('input');
      if (box) {
        box.click();
        out.filtered = svg.querySelectorAll('.filtered').length;
        box.click();
        out.unfiltered = svg.querySelectorAll('.filtered').length;
      }
      if (data.cut) {
        const box = document.getElementById('show-cut');
        box.click();
        const hidden = svg.querySelectorAll('#cut.filtered, #cut-crossings.filtered').length;
        box.click();
        out.cut = {
          summary: data.cut,
          crossings: svg.querySelectorAll('#cut-crossings circle').length,
          hidden,
          shownAgain: svg.querySelectorAll('#cut.filtered').length === 0,
        };
      }
      const before = vb.w;
      document.getElementById('zoom-in').click();
      out.zoomed = vb.w < before;
      fit();
      let mismatches = 0;
      // Hidden lanes cut causal paths out of the graph (not out of the clocks), so the
      // cross-check only makes sense when every node is drawn.
      const checked = useVector && data.lanes >= data.nodes ? events.slice(0, 300) : [];
      for (const e of checked) {
        const v = vectorCausal(e);
        const g = graphCausal(e);
        const same = (a, b) => a.size === b.size && Array.from(a).every((k) => b.has(k));
        if (!same(v.past, g.past) || !same(v.future, g.future)) {
          mismatches += 1;
          if (mismatches <= 3) errors.push(`vector and graph causality differ at event ${e.i}`);
        }
      }
      out.causal = { method: useVector ? 'vector' : 'graph', checked: checked.length, mismatches };
    } catch (err) {
      errors.push(`selftest: ${err && err.stack ? err.stack : err}`);
    }
    document.getElementById('selftest').textContent = JSON.stringify(out);
  }
  if (location.hash === '#selftest') {
    if (document.readyState === 'complete') selftest();
    else window.addEventListener('load', selftest);
  }
})();
