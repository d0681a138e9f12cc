//! The HTML viewer in a real headless browser: the page loads without errors, has one
//! element per event and per message, and clicking the first event shows its clocks.
//!
//! Runs Debian's `/usr/bin/chromium` with `--dump-dom` on `page.html#selftest`: the
//! viewer then clicks the first event itself and writes a JSON report into
//! `<pre id="selftest">`, with where the first view put the diagram: every page must
//! show its whole diagram inside the canvas at first, however wide. Without chromium
//! the test says why it skipped and passes (CI installs it: `apt-get install -y
//! chromium`).

mod common;

use reparti_core::trace::Trace;
use reparti_viz::spacetime::{layout, Options};
use reparti_viz::{render, Format};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("reparti-viz-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loads `page` with `#selftest` and returns the DOM chromium dumps.
fn dump_dom(page: &Path, profile: &Path) -> String {
    let url = format!("file://{}#selftest", page.display());
    let mut child = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=5000", "--dump-dom", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    // A hung browser must fail the test, not hang it.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait().expect("chromium can be waited for") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("chromium did not finish within 120 s on {url}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    reader.join().expect("the reader thread ends")
}

/// The self-test report from a dumped DOM.
fn report(dom: &str) -> Value {
    let start = dom.find("<pre id=\"selftest\">").expect("the page has its selftest element") + 19;
    let end = start + dom[start..].find("</pre>").expect("closed");
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    assert!(!text.is_empty(), "the self-test wrote nothing: the viewer did not run");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the self-test report is not JSON ({e}): {text}"))
}

/// Checks one page and returns how wide its diagram is and how wide the canvas showed it.
fn check(name: &str, trace: &Trace, dir: &Path, method: &str) -> (f64, f64) {
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, render(trace, Format::Html).expect("renders")).expect("the page is written");
    let profile = dir.join(format!("{name}-profile"));
    let r = report(&dump_dom(&page, &profile));
    let l = layout(trace, &Options::default());
    assert_eq!(r["errors"], Value::Array(vec![]), "{name}: the page reported errors: {r}");
    assert_eq!(r["events"], l.dots.len(), "{name}: event elements");
    assert_eq!(r["messages"], l.arrows.len(), "{name}: message elements");
    let first = &trace.events[0];
    assert_eq!(r["clicked"]["i"], first.i, "{name}: the first event was clicked");
    assert_eq!(r["clicked"]["selected"], true, "{name}: the click selected it");
    assert_eq!(r["clicked"]["lamport"], first.lamport, "{name}");
    assert_eq!(r["clicked"]["vc"], serde_json::to_value(&first.vc).expect("JSON"), "{name}");
    let details = r["details"].as_str().expect("the details panel's text");
    assert!(
        details.contains(&format!("Lamport\t{}", first.lamport)),
        "{name}: details lack the Lamport clock: {details}"
    );
    let vc = match &first.vc {
        Some(vc) => serde_json::to_string(vc).expect("JSON"),
        None => "(not kept)".to_string(),
    };
    assert!(details.contains(&format!("vector clock\t{vc}")), "{name}: details lack the vector clock: {details}");
    assert!(details.contains(&format!("outputs of n{}", first.node)), "{name}: details lack the outputs: {details}");
    let second = trace.events.get(1).map(|e| e.i);
    assert_eq!(r["stepped"], serde_json::to_value(second).expect("JSON"), "{name}: → steps to the next event");
    let first_type = l.types.first().map(|t| t.name.clone());
    let of_first_type = trace.events.iter().filter(|e| e.msg_type.is_some() && e.msg_type == first_type).count()
        + l.arrows.iter().filter(|a| a.ty == 0).count();
    assert_eq!(r["filtered"], of_first_type, "{name}: unticking a type hides its events and arrows");
    assert_eq!(r["unfiltered"], 0, "{name}: ticking it again shows them");
    assert_eq!(r["zoomed"], true, "{name}: the zoom button zooms");
    assert_eq!(r["causal"]["method"], method, "{name}");
    assert_eq!(r["causal"]["mismatches"], 0, "{name}: vector-clock and graph causality disagree: {r}");
    assert_first_view_fits(name, &r["firstView"])
}

/// A rectangle as the page measured it (`getBoundingClientRect`, CSS pixels).
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn from(v: &Value, what: &str) -> Rect {
        let side = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{what}.{k} is not a number: {v}"));
        Rect { left: side("left"), top: side("top"), right: side("right"), bottom: side("bottom") }
    }

    /// Whether `inner` lies inside, give or take a pixel of rounding.
    fn holds(&self, inner: &Rect) -> bool {
        inner.left >= self.left - 1.0
            && inner.top >= self.top - 1.0
            && inner.right <= self.right + 1.0
            && inner.bottom <= self.bottom + 1.0
    }
}

/// The first view shows the whole diagram: the drawing and every event lie inside the
/// canvas, and the drawing is scaled to fill the canvas's width or its height.
fn assert_first_view_fits(name: &str, view: &Value) -> (f64, f64) {
    let canvas = Rect::from(&view["canvas"], "canvas");
    let drawing = Rect::from(&view["drawing"], "drawing");
    let window_width = view["window"]["width"].as_f64().expect("the window's width");
    assert!(canvas.right <= window_width + 1.0, "{name}: the canvas runs past the window: {view}");
    assert!(canvas.holds(&drawing), "{name}: the first view cuts the diagram off: {view}");
    if !view["events"].is_null() {
        assert!(
            canvas.holds(&Rect::from(&view["events"], "events")),
            "{name}: an event is off screen at first: {view}"
        );
    }
    let fills_width = (drawing.right - drawing.left) >= (canvas.right - canvas.left) - 2.0;
    let fills_height = (drawing.bottom - drawing.top) >= (canvas.bottom - canvas.top) - 2.0;
    assert!(fills_width || fills_height, "{name}: the first view is not fitted to the canvas: {view}");
    let full_width = view["full"]["w"].as_f64().expect("the diagram's width");
    (full_width, canvas.right - canvas.left)
}

#[test]
fn the_viewer_runs_in_a_real_browser() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: {CHROMIUM} is not installed (apt-get install -y chromium); CI installs it");
        return;
    }
    let dir = TempDir::new("browser");
    let mut widths = vec![
        check("election3", &common::election3(), &dir.0, "vector"),
        check("faulty4", &common::faulty4(), &dir.0, "vector"),
        check("mutex3-lamport-only", &common::without_vectors(common::mutex3()), &dir.0, "graph"),
    ];
    for (name, trace) in common::simulated() {
        widths.push(check(&name.replace(' ', "-"), &trace, &dir.0, "vector"));
    }
    // The fit is only tested if some diagram was wider than its canvas (ricart-agrawala's
    // 4 nodes draw about 2,000 px wide): it then had to be scaled down to be seen whole.
    assert!(
        widths.iter().any(|&(diagram, canvas)| diagram > 1.5 * canvas),
        "no page was wide enough to test the fit: {widths:?}"
    );
}

#[test]
fn the_viewer_shows_a_snapshot_cut_and_its_checkbox_hides_it() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: {CHROMIUM} is not installed (apt-get install -y chromium); CI installs it");
        return;
    }
    let dir = TempDir::new("cut");
    let trace = common::snapshot3();
    check("snapshot3", &trace, &dir.0, "vector");
    let page = dir.0.join("snapshot3.html");
    let r = report(&dump_dom(&page, &dir.0.join("snapshot3-cut-profile")));
    let summary = layout(&trace, &Options::default()).cut.expect("a cut").summary();
    assert_eq!(r["cut"]["summary"], summary.as_str(), "{r}");
    assert_eq!(r["cut"]["crossings"], 3, "a ring per crossing message: {r}");
    assert_eq!(r["cut"]["hidden"], 2, "unticking hides the cut and its rings: {r}");
    assert_eq!(r["cut"]["shownAgain"], true, "{r}");
}
