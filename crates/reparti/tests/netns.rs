//! Several hosts on one machine: `reparti node` processes in separate network namespaces,
//! joined by veth pairs to a bridge, so their messages cross real (virtual) links that the
//! test can cut and heal.
//!
//! Each test builds its own lab: four node namespaces and a fifth holding the bridge, so
//! no interface, address or route ever appears in the host's namespace, and a [`Lab`]
//! guard deletes the namespaces (and with them the veths and the bridge) on drop, also on
//! panic. The node processes live in a [`Cluster`] guard that kills and reaps them on drop,
//! and is declared after the lab so it drops first. Every wait is bounded.
//!
//! The tests need root and `ip netns`; elsewhere (an unprivileged user, a container that
//! may not create namespaces) they print `skipped: <why>` on stderr and pass.

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Nodes per lab.
const NODES: usize = 4;
/// Every node listens on this port, at its own address.
const PORT: u16 = 7000;
/// Bound on a whole cluster, from spawn to the last exit.
const LIMIT: Duration = Duration::from_secs(60);
/// The token ring's laps. 60 laps take about 50 ms on veths, over before a cut could land;
/// 2000 (8000 TOKEN messages) take 1 to 1.6 s without a cut on a 2-core machine, so the
/// ring is far from its end when the cut comes (and the freeze around the cut, see
/// [`ring_survives_a_cut`], makes sure of it).
const LAPS: u64 = 2000;
/// Data messages each node of the ring originates (the workload).
const SENDS: u64 = 3;
/// How long the link stays down: longer than several retransmission timeouts (50 ms
/// doubling), so the sender backs off a few times before the link comes back.
const CUT: Duration = Duration::from_millis(1500);
/// The node whose link is cut.
const CUT_NODE: usize = 2;
/// Packets through the cut node's interface before the cut: the token and its ack, in and
/// out, make 4 per lap, so this is ~50 laps in (the lab's own chatter before the run, ARP
/// and IPv6 neighbour discovery, is a few packets), once the ring is surely going round.
const PROGRESS_PACKETS: u64 = 200;
/// Longer than the longest silence the cut causes (the cut, then at most one backed-off
/// retransmission timeout: the retransmission due at 1.55 s crosses the healed link), with
/// room for a loaded machine, so that no node stops while the token waits at the cut.
const RING_IDLE_MS: &str = "6000";

/// Runs `ip ARGS`, giving its stdout, or its stderr as the error.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`ip {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Runs `ip ARGS`, which must succeed once the lab could be started at all.
fn ip_ok(args: &[&str]) -> String {
    ip(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Why this environment cannot run the tests, if it cannot.
fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // "Uid: real effective saved fs": the effective one decides.
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|r| r.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("network namespaces need root".into());
    }
    if let Err(e) = ip(&["netns", "list"]) {
        return Some(format!("`ip netns` is unavailable: {e}"));
    }
    None
}

/// Whether `cmd` is an executable on the PATH.
fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(cmd).is_file()))
}

/// Tags of the labs, one per test, in namespace names `rp<pid><tag>-...`.
const TAGS: &[char] = &['e', 'u', 't'];

/// Deletes the namespaces of earlier runs of these tests that were killed before their
/// guards ran (their pid is gone), so they do not pile up on a CI machine.
fn remove_stale_labs() {
    let Ok(list) = ip(&["netns", "list"]) else { return };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(rest) = name.strip_prefix("rp") else { continue };
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let mut tail = rest[pid.len()..].chars();
        let ours = !pid.is_empty() && tail.next().is_some_and(|t| TAGS.contains(&t)) && tail.next() == Some('-');
        if ours && !Path::new("/proc").join(&pid).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// Four node namespaces on one bridge, deleted on drop.
struct Lab {
    /// `rp<pid><tag>`: unique per test process and test.
    name: String,
    /// The first three octets of the nodes' /24.
    subnet: [u8; 3],
    /// Namespaces created so far, so a half-built lab is cleaned up too.
    namespaces: Vec<String>,
}

impl Lab {
    /// Builds the lab, or says why this environment cannot (then the test is skipped).
    /// `octet` keeps the labs of concurrent tests on different subnets, which only matters
    /// for whoever reads their addresses: each lab is isolated in its own namespaces.
    fn create(tag: char, octet: u8) -> Result<Lab, String> {
        let pid = std::process::id();
        let mut lab = Lab { name: format!("rp{pid}{tag}"), subnet: [10, octet, (pid % 256) as u8], namespaces: vec![] };
        let bridge = lab.bridge();
        // The first namespace and the first links tell whether this environment may create
        // them at all (an unprivileged container may not): then skip rather than fail.
        ip(&["netns", "add", &bridge]).map_err(|e| format!("cannot create a network namespace: {e}"))?;
        lab.namespaces.push(bridge.clone());
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"])
            .map_err(|e| format!("cannot create a bridge: {e}"))?;
        ip_ok(&["-n", &bridge, "link", "set", "br0", "up"]);
        for i in 0..NODES {
            let ns = lab.node(i);
            ip_ok(&["netns", "add", &ns]);
            lab.namespaces.push(ns.clone());
            ip_ok(&["-n", &ns, "link", "set", "lo", "up"]);
            // Created from the bridge's namespace with its peer straight in the node's, so
            // neither end ever exists in the host's namespace.
            let port = format!("v{i}");
            ip(&["-n", &bridge, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns])
                .map_err(|e| format!("cannot create a veth pair: {e}"))?;
            ip_ok(&["-n", &bridge, "link", "set", &port, "master", "br0"]);
            ip_ok(&["-n", &bridge, "link", "set", &port, "up"]);
            ip_ok(&["-n", &ns, "addr", "add", &format!("{}/24", lab.ip(i)), "dev", "eth0"]);
            ip_ok(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        lab.check_connectivity();
        Ok(lab)
    }

    fn bridge(&self) -> String {
        format!("{}-b", self.name)
    }

    fn node(&self, i: usize) -> String {
        format!("{}-n{i}", self.name)
    }

    fn ip(&self, i: usize) -> String {
        let [a, b, c] = self.subnet;
        format!("{a}.{b}.{c}.{}", i + 1)
    }

    fn addr(&self, i: usize) -> String {
        format!("{}:{PORT}", self.ip(i))
    }

    fn peers(&self) -> String {
        (0..NODES).map(|i| self.addr(i)).collect::<Vec<_>>().join(",")
    }

    /// Node 0 pings the others, when ping is installed; otherwise the election is the
    /// first to notice a broken lab.
    fn check_connectivity(&self) {
        if !on_path("ping") {
            eprintln!("note: no ping on the PATH: the lab's connectivity is not checked before the run");
            return;
        }
        for i in 1..NODES {
            let out = Command::new("ip")
                .args(["netns", "exec", &self.node(0), "ping", "-c1", "-W1", &self.ip(i)])
                .output()
                .expect("run ping");
            assert!(
                out.status.success(),
                "node 0 cannot reach {}: {}",
                self.ip(i),
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }

    /// Sets node `i`'s link up or down, on the bridge's side: the node keeps its address
    /// and route, like a host whose cable was pulled.
    fn set_link(&self, i: usize, up: bool) {
        ip_ok(&["-n", &self.bridge(), "link", "set", &format!("v{i}"), if up { "up" } else { "down" }]);
    }

    /// Packets in and out of node `i`'s interface so far, as seen by the process `pid`
    /// running there; `None` while that process is not yet in the node's namespace. Read
    /// from `/proc/PID/net/dev` rather than asked of `ip`: `ip` waits on the kernel's RTNL
    /// lock, which namespaces being created or torn down elsewhere hold, and was seen to
    /// stall for a second on a busy machine, long enough for the whole ring to go round.
    fn packets_seen_by(&self, i: usize, pid: u32) -> Option<u64> {
        // A namespace's inode is the one of its file under the netns folder, as `ip netns
        // identify` compares them.
        let file = ["/var/run/netns", "/run/netns"]
            .iter()
            .find_map(|d| std::fs::metadata(format!("{d}/{}", self.node(i))).ok())?;
        let current = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
        if current.to_str()? != format!("net:[{}]", file.ino()) {
            return None;
        }
        let dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok()?;
        let counts = dev.lines().find_map(|l| l.trim_start().strip_prefix("eth0:"))?;
        let fields: Vec<u64> = counts.split_whitespace().filter_map(|f| f.parse().ok()).collect();
        // Received packets are the 2nd field, transmitted the 10th.
        Some(fields.get(1)? + fields.get(9)?)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a node's namespace deletes its veth pair; the bridge's, the bridge.
        for ns in self.namespaces.iter().rev() {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

/// Builds a lab, or returns `None` after printing why the test is skipped.
fn lab_or_skip(tag: char, octet: u8) -> Option<Lab> {
    let why = match unavailable() {
        Some(why) => why,
        None => {
            remove_stale_labs();
            match Lab::create(tag, octet) {
                Ok(lab) => return Some(lab),
                Err(why) => why,
            }
        }
    };
    eprintln!("skipped: {why}");
    None
}

/// One `reparti node` per namespace, killed and reaped on drop; their output goes to
/// files, so a chatty node never blocks on a full pipe.
struct Cluster {
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn spawn(lab: &Lab, algorithm: &str, extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = assert_cmd::cargo::cargo_bin("reparti");
        let peers = lab.peers();
        let mut cluster = Cluster { children: Vec::new(), dir };
        for i in 0..NODES {
            let out = File::create(cluster.dir.path().join(format!("node{i}.out"))).expect("stdout file");
            let err = File::create(cluster.dir.path().join(format!("node{i}.err"))).expect("stderr file");
            // `ip netns exec` execs the command, so the child's pid is the node's own.
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", &lab.node(i)]).arg(&bin);
            cmd.args(["node", algorithm, "--me", &i.to_string(), "--listen", &lab.addr(i), "--peers", &peers]);
            cmd.arg("--json").args(extra);
            // Not a terminal: a node reading a terminal would start its console and never stop.
            cmd.stdin(Stdio::null()).stdout(out).stderr(err);
            cluster.children.push(cmd.spawn().expect("spawn ip netns exec reparti node"));
        }
        cluster
    }

    fn read(&self, i: usize, ext: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node{i}.{ext}"))).unwrap_or_default()
    }

    fn stderrs(&self) -> String {
        (0..NODES).map(|i| format!("node {i}: {}", self.read(i, "err"))).collect::<Vec<_>>().join("\n")
    }

    /// Whether every node is still running.
    fn all_running(&mut self) -> bool {
        self.children.iter_mut().all(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits (bounded) for every node to exit, asserts each succeeded, and parses their
    /// JSON reports.
    fn finish(&mut self, since: Instant) -> Vec<Value> {
        let deadline = since + LIMIT;
        let mut statuses = vec![None; NODES];
        while statuses.iter().any(Option::is_none) {
            assert!(Instant::now() < deadline, "the cluster did not stop within {LIMIT:?}\n{}", self.stderrs());
            for (child, status) in self.children.iter_mut().zip(&mut statuses) {
                if status.is_none() {
                    *status = child.try_wait().expect("poll child");
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut reports = Vec::new();
        for (i, status) in statuses.iter().enumerate() {
            let err = self.read(i, "err");
            assert!(status.is_some_and(|s| s.success()), "node {i} failed ({status:?}): {err}");
            let out = self.read(i, "out");
            reports.push(serde_json::from_str(&out).unwrap_or_else(|e| panic!("node {i} JSON ({e}): {out}\n{err}")));
        }
        reports
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            // Already exited: kill fails harmlessly; wait reaps either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A process stopped (SIGSTOP) until this is dropped (SIGCONT), also on panic.
struct Frozen(u32);

impl Frozen {
    fn new(pid: u32) -> Frozen {
        let status = Command::new("kill").args(["-s", "STOP", &pid.to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -s STOP {pid}: {status}");
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let pid = self.0.to_string();
        if !Command::new("kill").args(["-s", "CONT", &pid]).status().is_ok_and(|s| s.success()) {
            eprintln!("cleanup: kill -s CONT {pid} failed");
        }
    }
}

/// Σ over the nodes of `report[a][b]`, missing counts as 0.
fn total(reports: &[Value], a: &str, b: &str) -> u64 {
    reports.iter().filter_map(|r| r[a][b].as_u64()).sum()
}

#[test]
fn four_namespaces_elect_the_maximum() {
    let Some(lab) = lab_or_skip('e', 101) else { return };
    let started = Instant::now();
    let mut cluster = Cluster::spawn(&lab, "chang-roberts", &["--ids", "desc", "--idle-ms", "1500"]);
    let reports = cluster.finish(started);
    eprintln!("netns election: {:?}", started.elapsed());
    let mut leaders = 0;
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r["me"], i as u64);
        assert_eq!(r["addr"], lab.addr(i), "node {i} names its own address");
        let outs = r["outputs"].as_array().expect("outputs");
        assert_eq!(outs.len(), 1, "node {i} outputs once: {outs:?}");
        assert_eq!(outs[0]["key"], "leader");
        assert_eq!(outs[0]["value"], NODES as u64, "node {i} learns the maximum identity");
        if r["state"]["role"].as_str().is_some_and(|role| role.eq_ignore_ascii_case("leader")) {
            leaders += 1;
            assert_eq!(r["identity"], NODES as u64, "the leader is the maximum");
        }
        let drops: u64 = r["dropped"].as_object().expect("drops").values().filter_map(Value::as_u64).sum();
        assert_eq!(drops, 0, "node {i} dropped messages: {}", r["dropped"]);
    }
    assert_eq!(leaders, 1, "exactly one leader");
    let n = NODES as u64;
    assert_eq!(total(&reports, "sent", "ELECT"), n * (n + 1) / 2, "desc identities: n(n+1)/2 ELECT");
    assert_eq!(total(&reports, "received", "ELECT"), n * (n + 1) / 2, "every ELECT arrived once");
    assert_eq!(total(&reports, "sent", "ELECTED"), n);
    assert_eq!(total(&reports, "received", "ELECTED"), n);
}

#[test]
fn a_token_ring_over_udp_survives_a_cut_link() {
    ring_survives_a_cut("udp", 'u', 102);
}

#[test]
fn a_token_ring_over_tcp_survives_a_cut_link() {
    ring_survives_a_cut("tcp", 't', 103);
}

/// Runs the token ring, cuts node [`CUT_NODE`]'s link once the token is going round,
/// heals it [`CUT`] later, and checks that the run completed as if nothing had happened.
fn ring_survives_a_cut(transport: &str, tag: char, octet: u8) {
    let Some(lab) = lab_or_skip(tag, octet) else { return };
    let (laps, sends) = (format!("laps={LAPS}"), format!("sends={SENDS}"));
    let args = ["--transport", transport, "--param", &laps, "--param", &sends, "--idle-ms", RING_IDLE_MS];
    let started = Instant::now();
    let mut cluster = Cluster::spawn(&lab, "token-ring", &args);
    let pid = cluster.children[CUT_NODE].id();
    // Wait for the ring to be under way (the nodes wait 500 ms after binding) rather than
    // guess when that is.
    loop {
        assert!(cluster.all_running(), "a node stopped before the ring got going\n{}", cluster.stderrs());
        assert!(started.elapsed() < LIMIT, "the ring did not start within {LIMIT:?}\n{}", cluster.stderrs());
        if lab.packets_seen_by(CUT_NODE, pid).is_some_and(|count| count >= PROGRESS_PACKETS) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let freeze = Instant::now();
    {
        // Every lap passes through the frozen node, so the ring cannot end while `ip` takes
        // the link down, however long that takes: the cut lands mid-run.
        let _frozen = Frozen::new(pid);
        lab.set_link(CUT_NODE, false);
    }
    let (cut_at, frozen_for) = (started.elapsed(), freeze.elapsed());
    std::thread::sleep(CUT);
    lab.set_link(CUT_NODE, true);
    let reports = cluster.finish(started);
    let retransmitted = total(&reports, "reliable", "retransmitted");
    eprintln!(
        "netns token ring over {transport}: cut at {cut_at:?} for {CUT:?} (node {CUT_NODE} frozen \
         {frozen_for:?} meanwhile), all stopped after {:?} (idle stop {RING_IDLE_MS} ms); \
         retransmitted {retransmitted}, duplicates suppressed {}, send errors {}",
        started.elapsed(),
        total(&reports, "reliable", "duplicates_suppressed"),
        reports.iter().filter_map(|r| r["send_errors"].as_u64()).sum::<u64>(),
    );
    check_ring(&reports);
    assert!(retransmitted > 0, "the cut forced no retransmission: did the ring end before it? raise LAPS");
    assert_eq!(total(&reports, "reliable", "given_up"), 0, "the reliable layer never gives up");
}

/// The token made exactly `LAPS` laps and rests at its holder, and every data message of
/// the workload reached its destination exactly once, along the ring.
fn check_ring(reports: &[Value]) {
    let n = NODES as u64;
    assert_eq!(total(reports, "sent", "TOKEN"), LAPS * n, "laps·n TOKEN sent");
    assert_eq!(total(reports, "received", "TOKEN"), LAPS * n, "every TOKEN arrived once");
    let holders: Vec<usize> = (0..NODES).filter(|&i| reports[i]["state"]["has_token"] == true).collect();
    assert_eq!(holders, [0], "exactly one token, resting at the holder (node 0)");
    assert_eq!(reports[0]["state"]["laps_done"], LAPS);

    let ids = |v: &Value| -> Vec<u64> { v.as_array().expect("a list").iter().filter_map(Value::as_u64).collect() };
    // sent_to[origin][seq] = destination, as each origin recorded it.
    let sent_to: Vec<Vec<u64>> = reports.iter().map(|r| ids(&r["state"]["sent_to"])).collect();
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(sent_to[i].len() as u64, SENDS, "node {i} originated its whole workload");
        assert_eq!(r["state"]["queue"].as_array().map(Vec::len), Some(0), "node {i} has sends left");
    }
    let mut seen = BTreeSet::new();
    let mut hops_total = 0;
    for (at, r) in reports.iter().enumerate() {
        for d in r["state"]["delivered"].as_array().expect("delivered") {
            let (origin, seq, hops) = (d["origin"].as_u64(), d["seq"].as_u64(), d["hops"].as_u64());
            let (Some(origin), Some(seq), Some(hops)) = (origin, seq, hops) else { panic!("node {at} delivered {d}") };
            let dest = sent_to.get(origin as usize).and_then(|s| s.get(seq as usize));
            assert_eq!(dest, Some(&(at as u64)), "message {origin}#{seq} delivered at node {at}");
            assert!(seen.insert((origin, seq)), "message {origin}#{seq} delivered twice");
            assert_eq!(hops, (at as u64 + n - origin) % n, "message {origin}#{seq} took a detour");
            hops_total += hops;
        }
    }
    assert_eq!(seen.len() as u64, SENDS * n, "every data message delivered");
    // Each hop is one DATA message: a duplicate relayed anywhere would show here.
    assert_eq!(total(reports, "sent", "DATA"), hops_total, "one DATA per hop");
    assert_eq!(total(reports, "received", "DATA"), hops_total, "every DATA arrived once");
}
