//! The HTML viewer in a real headless browser: the page loads without errors, has one
//! element per event and per message, and clicking the first event shows its clocks.
//!
//! Runs Debian's `/usr/bin/chromium` with `--dump-dom` on `page.html#selftest`: the
//! viewer then clicks the first event itself and writes a JSON report into
//! `<pre id="selftest">`. Without chromium the test says why it skipped and passes (CI
//! installs it: `apt-get install -y chromium`).

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

fn check(name: &str, trace: &Trace, dir: &Path, method: &str) {
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
}

#[test]
fn the_viewer_runs_in_a_real_browser() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: {CHROMIUM} is not installed (apt-get install -y chromium); CI installs it");
        return;
    }
    let dir = TempDir::new("browser");
    check("election3", &common::election3(), &dir.0, "vector");
    check("faulty4", &common::faulty4(), &dir.0, "vector");
    check("mutex3-lamport-only", &common::without_vectors(common::mutex3()), &dir.0, "graph");
    for (name, trace) in common::simulated() {
        check(&name.replace(' ', "-"), &trace, &dir.0, "vector");
    }
}
