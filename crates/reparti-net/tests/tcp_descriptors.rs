//! A TCP listener out of file descriptors: accepting fails, the listener backs off,
//! closes the connection idle longest to free a descriptor, and keeps accepting, so a
//! real peer's frame still arrives. Before, it gave up after 100 failures and refused
//! every later connection for good.
//!
//! The only test of its file, since it lowers this process's own descriptor limit
//! (with `prlimit`, Linux); the connections come from a Python child, whose descriptors
//! are its own. Skipped, saying why, without python3 or prlimit.

use reparti_net::transport::{Faults, TcpLimits, Transport, TransportKind};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

/// Connections that say nothing, then one that sends a frame: more than the listener
/// has descriptors for.
const CLIENT: &str = r#"
import socket, struct, sys
port = int(sys.argv[1])
sys.stdin.readline()
hogs = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
real = socket.create_connection(("127.0.0.1", port))
frame = b"a real frame"
real.sendall(struct.pack(">I", len(frame)) + frame)
print("SENT", flush=True)
sys.stdin.readline()
"#;

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map(Iterator::count).unwrap_or(0)
}

/// The soft and hard limits on open files, from `/proc/self/limits`.
fn file_limits() -> Option<(String, String)> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let mut words = line.trim_start_matches("Max open files").split_whitespace();
    Some((words.next()?.to_string(), words.next()?.to_string()))
}

fn set_soft_limit(soft: &str, hard: &str) -> bool {
    let pid = std::process::id().to_string();
    Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={soft}:{hard}")])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_listener_backs_off_frees_one_and_recovers() {
    if !runs("python3", "--version") || !runs("prlimit", "--version") {
        eprintln!("skipped: needs python3 and prlimit");
        return;
    }
    let Some((soft, hard)) = file_limits() else {
        eprintln!("skipped: no /proc/self/limits here");
        return;
    };
    // A cap far above the descriptors, so that they, not the cap, run out.
    let limits = TcpLimits { max_connections: 100_000, ..TcpLimits::default() };
    let mut server =
        Transport::bind_with(TransportKind::Tcp, "127.0.0.1:0".parse().expect("address"), Faults::default(), limits)
            .await
            .expect("bind");
    let port = server.local_addr().port().to_string();
    // Started before the limit is lowered: spawning needs descriptors of its own.
    let mut client = Command::new("python3")
        .args(["-c", CLIENT, &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut to_client = client.stdin.take().expect("stdin");
    let mut from_client = BufReader::new(client.stdout.take().expect("stdout"));
    let room = 10;
    assert!(set_soft_limit(&(open_descriptors() + room).to_string(), &hard), "prlimit lowers our own limit");
    to_client.write_all(b"GO\n").and_then(|()| to_client.flush()).expect("tell the client to connect");
    let mut line = String::new();
    from_client.read_line(&mut line).expect("the client reports");
    assert_eq!(line.trim(), "SENT");
    let received = timeout(LIMIT, server.recv()).await;
    let stats = server.stats();
    // Descriptors back before anything else is checked or spawned.
    drop(server);
    drop(to_client);
    let _ = client.wait();
    assert!(set_soft_limit(&soft, &hard), "prlimit restores the limit");
    let (bytes, _) = received.expect("the real frame arrives in time").expect("received");
    assert_eq!(bytes, b"a real frame");
    assert!(stats.accept_errors > 0, "descriptors ran out: {stats:?}");
    assert!(stats.evicted > 0, "idle connections were closed to free descriptors: {stats:?}");
    assert!(stats.connections > room as u64, "it kept accepting past its descriptors: {stats:?}");
}
