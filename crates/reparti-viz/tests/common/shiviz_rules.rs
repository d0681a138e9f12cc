//! A re-implementation of ShiViz's log checks, to test that exported logs load.

use reparti_core::trace::{EventKind, Trace};
use reparti_viz::shiviz::{self, PARSER_REGEX};
use std::collections::{BTreeMap, HashMap};

/// One parsed event of a ShiViz log.
pub struct Entry {
    pub host: String,
    pub clock: BTreeMap<String, u64>,
    pub text: String,
}

/// Parses a log the way ShiViz's file loader and our regex do: the regex line, the
/// delimiter line, then (host line, description line) pairs.
pub fn parse(log: &str) -> Result<Vec<Entry>, String> {
    let mut lines = log.lines();
    if lines.next() != Some(PARSER_REGEX) {
        return Err("the first line is not the parser regex".into());
    }
    if lines.next() != Some("") {
        return Err("the second line (the executions delimiter) is not empty".into());
    }
    let rest: Vec<&str> = lines.collect();
    let pairs = rest.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err("the events are not in (host, description) pairs".into());
    }
    pairs
        .map(|pair| {
            let (host, clock) = pair[0].split_once(' ').ok_or(format!("no space in host line '{}'", pair[0]))?;
            if host.chars().any(char::is_whitespace) || !clock.starts_with('{') || !clock.ends_with('}') {
                return Err(format!("host line '{}' does not match (?<host>\\S*) (?<clock>{{.*}})", pair[0]));
            }
            let clock: BTreeMap<String, u64> =
                serde_json::from_str(clock).map_err(|e| format!("clock '{clock}' is not JSON: {e}"))?;
            Ok(Entry { host: host.to_string(), clock, text: pair[1].to_string() })
        })
        .collect()
}

/// ShiViz's checks: (a) a host's own entry reads 1, 2, 3, … along its events; (b) every
/// entry names an existing host's event that comes earlier in the log, whose own clock
/// this clock covers (so the clock is exactly what its parents make it, ShiViz's
/// "impermissible vector clock" check).
pub fn check_rules(entries: &[Entry]) -> Result<(), String> {
    let mut seen: HashMap<&str, Vec<&BTreeMap<String, u64>>> = HashMap::new();
    let hosts: Vec<&str> = entries.iter().map(|e| e.host.as_str()).collect();
    for (line, e) in entries.iter().enumerate() {
        let own = e.clock.get(&e.host).copied().ok_or(format!("event {line}: its own host is missing"))?;
        let before = seen.get(e.host.as_str()).map_or(0, Vec::len) as u64;
        if own != before + 1 {
            return Err(format!("event {line} ({}): own entry {own} after {before} (a gap or a repeat)", e.host));
        }
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        if let Some(prev) = seen.get(e.host.as_str()).and_then(|v| v.last()) {
            expected = (*prev).clone();
        }
        for (h, &c) in &e.clock {
            if c == 0 {
                return Err(format!("event {line}: a zero entry for {h}"));
            }
            if h == &e.host {
                continue;
            }
            if !hosts.contains(&h.as_str()) {
                return Err(format!("event {line}: an entry for the unknown host {h}"));
            }
            let reached = seen.get(h.as_str()).map_or(0, Vec::len) as u64;
            let Some(theirs) = seen.get(h.as_str()).and_then(|v| v.get(c as usize - 1)).filter(|_| c <= reached) else {
                return Err(format!("event {line}: {h}:{c} but {h} has only reached {reached}"));
            };
            for (hh, &cc) in theirs.iter() {
                let mine = expected.entry(hh.clone()).or_insert(0);
                *mine = (*mine).max(cc);
            }
        }
        expected.insert(e.host.clone(), own);
        if expected != e.clock {
            return Err(format!("event {line}: impermissible clock {:?}, its parents make {expected:?}", e.clock));
        }
        seen.entry(e.host.as_str()).or_default().push(&e.clock);
    }
    Ok(())
}

/// Happens-before from the trace alone (program order plus send → receive), as bitsets
/// over the trace's host events, in order.
pub fn reachability(trace: &Trace) -> (Vec<usize>, Vec<Vec<bool>>) {
    let host: Vec<usize> = (0..trace.events.len()).filter(|&k| shiviz::is_host_event(&trace.events[k])).collect();
    let mut past = vec![vec![false; host.len()]; host.len()];
    let mut last: HashMap<u32, usize> = HashMap::new();
    let mut send: HashMap<u64, usize> = HashMap::new();
    for (a, &k) in host.iter().enumerate() {
        let e = &trace.events[k];
        let mut preds = Vec::new();
        if let Some(&p) = last.get(&e.node) {
            preds.push(p);
        }
        if let (EventKind::Receive, Some(s)) = (e.kind, e.msg.and_then(|m| send.get(&m))) {
            preds.push(*s);
        }
        for p in preds {
            past[a][p] = true;
            let row = past[p].clone();
            for (x, on) in row.into_iter().enumerate() {
                past[a][x] |= on;
            }
        }
        if e.kind == EventKind::Send {
            if let Some(m) = e.msg {
                send.insert(m, a);
            }
        }
        last.insert(e.node, a);
    }
    (host, past)
}

/// Exports, re-checks the rules and compares the exported causality with the trace's.
pub fn check_trace(name: &str, trace: &Trace) {
    let log = shiviz::export(trace).unwrap_or_else(|e| panic!("{name}: export failed: {e}"));
    let entries = parse(&log).unwrap_or_else(|e| panic!("{name}: {e}\n{log}"));
    check_rules(&entries).unwrap_or_else(|e| panic!("{name}: {e}\n{log}"));
    let (host, past) = reachability(trace);
    assert_eq!(entries.len(), host.len(), "{name}: one ShiViz event per host event");
    for (a, ea) in entries.iter().enumerate() {
        assert_eq!(ea.host, shiviz::host(trace.events[host[a]].node), "{name}: event {a} is on the wrong host");
        assert!(!ea.text.is_empty() && !ea.text.contains('\n'));
        for (b, eb) in entries.iter().enumerate() {
            let own = ea.clock[&ea.host];
            let exported = a != b && eb.clock.get(&ea.host).is_some_and(|&c| c >= own);
            assert_eq!(exported, past[b][a], "{name}: events {a} → {b} disagree with the trace");
        }
    }
}
