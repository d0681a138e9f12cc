//! Starting, watching and stopping the node processes of `reparti run`.
//!
//! Every node is this same executable run as `reparti node ... --supervised`. The
//! handshake avoids both races of process-per-node clusters — ports picked before they
//! are bound, and messages sent before their receiver listens:
//!
//! 1. each child binds port 0 (UDP socket or TCP listener) and prints `READY ADDR`;
//! 2. once every child is ready, the supervisor writes `PEERS A0,A1,...` to each one's
//!    stdin; a child starts its algorithm only then, and every address it may send to is
//!    already bound (datagrams and connections wait in the kernel until read);
//! 3. each child reports `STATUS IDLE SENT DELIVERED PENDING_INPUTS` whenever it changes;
//!    the supervisor, which sees them all, detects the end of the run — every node idle
//!    (no timer, nothing unacknowledged, no input to come) and every message sent
//!    delivered, stable for a moment — and writes `STOP` to each; a child then writes its
//!    trace file and prints its JSON summary. No node has to guess from silence that the
//!    others are done (with messages lost for good, the reliable layer being off, the
//!    counts never meet: then all idle and nothing changing for `--idle-ms` ends it).
//!
//! No process is left behind: [`Cluster`]'s `Drop` kills and reaps every child still
//! running (an error, a timeout, a panic), and a child whose stdin closes — the
//! supervisor died, even by SIGKILL, or was stopped by Ctrl-C — exits at once.

use super::stalled::{self, NodeView, Totals};
use crate::error::Interrupted;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// How long the end condition must hold before the run is stopped: a node's status is
/// sampled every 10 ms, so this covers a message between two samples, twice over.
const SETTLE: Duration = Duration::from_millis(40);

/// How long a node's process may stay stopped (SIGSTOP, a debugger) before the
/// supervisor says so on stderr: a short pause is a legitimate experiment, a long one
/// is why the run will time out.
const STOPPED_NOTICE: Duration = Duration::from_secs(1);

/// How often the supervisor looks up its children's process states, and polls the
/// interrupt flag while it waits for a line.
const POLL: Duration = Duration::from_millis(100);

/// A child's last `STATUS`.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Status {
    idle: bool,
    sent: u64,
    delivered: u64,
    pending_inputs: u64,
}

impl Status {
    fn parse(text: &str) -> Option<Status> {
        let v: Vec<u64> = text.split_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
        match v.as_slice() {
            [idle, sent, delivered, pending] => {
                Some(Status { idle: *idle == 1, sent: *sent, delivered: *delivered, pending_inputs: *pending })
            }
            _ => None,
        }
    }

    fn quiet(&self) -> bool {
        self.idle && self.pending_inputs == 0
    }
}

/// One line a child printed on stdout, or the end of its stdout.
enum Line {
    Text(usize, String),
    Closed(usize),
}

/// The node processes of one run.
pub struct Cluster {
    children: Vec<Child>,
    stdins: Vec<Option<ChildStdin>>,
    lines: mpsc::Receiver<Line>,
    /// What each child printed after `READY` (its JSON summary).
    outputs: Vec<String>,
    stderr_files: Vec<PathBuf>,
    /// Set by Ctrl-C or SIGTERM: stop the nodes, and let the scratch folder be removed.
    interrupt: Option<Arc<AtomicBool>>,
    /// Since when each child's process has been seen stopped, and whether that was said.
    paused_since: Vec<Option<Instant>>,
    paused_said: Vec<bool>,
    last_look: Instant,
}

/// How the run of the cluster ended.
pub struct Finished {
    /// Each node's stdout after the handshake (its JSON summary), by position.
    pub outputs: Vec<String>,
    /// Wall-clock time from `PEERS` to the last exit.
    pub elapsed: Duration,
}

impl Cluster {
    /// Starts `n` children; `args(i)` are node `i`'s arguments after the executable,
    /// followed by `--run-id` and this run's fresh identity, so that no node accepts a
    /// datagram of another run (a replay, a node left over). Their stderr goes to
    /// `dir/node-i.err`.
    pub fn spawn(
        n: usize,
        dir: &Path,
        interrupt: Option<Arc<AtomicBool>>,
        args: impl Fn(usize) -> Vec<String>,
    ) -> anyhow::Result<Cluster> {
        let exe = std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find the reparti executable to start the nodes: {e}"))?;
        let run_id = reparti_net::wire::RunId::fresh();
        let (tx, lines) = mpsc::channel();
        let mut cluster = Cluster {
            children: Vec::new(),
            stdins: Vec::new(),
            lines,
            outputs: vec![String::new(); n],
            stderr_files: Vec::new(),
            interrupt,
            paused_since: vec![None; n],
            paused_said: vec![false; n],
            last_look: Instant::now(),
        };
        for i in 0..n {
            cluster.check_interrupt()?;
            let err_path = dir.join(format!("node-{i}.err"));
            let err = std::fs::File::create(&err_path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", err_path.display()))?;
            let mut child = Command::new(&exe)
                .args(args(i))
                // One argument `--run-id=ID`: an identity is never read as a flag.
                .arg(format!("--run-id={}", run_id.as_str()))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(err))
                .spawn()
                .map_err(|e| anyhow::anyhow!("cannot start node {i} ({}): {e}", exe.display()))?;
            let stdout = child.stdout.take();
            cluster.stdins.push(child.stdin.take());
            cluster.children.push(child);
            cluster.stderr_files.push(err_path);
            if let Some(stdout) = stdout {
                let tx = tx.clone();
                // One reader per child: a blocking read must not hold up the others.
                thread::spawn(move || {
                    for line in BufReader::new(stdout).lines() {
                        match line {
                            Ok(l) => {
                                if tx.send(Line::Text(i, l)).is_err() {
                                    return;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    let _ = tx.send(Line::Closed(i));
                });
            }
        }
        Ok(cluster)
    }

    /// Waits for every child's `READY ADDR` and returns the addresses by position.
    pub fn wait_ready(&mut self, deadline: Instant, timeout: Duration) -> anyhow::Result<Vec<String>> {
        let n = self.children.len();
        let mut addrs: Vec<Option<String>> = vec![None; n];
        let running = vec![None; n];
        while addrs.iter().any(Option::is_none) {
            self.check_interrupt()?;
            self.look_for_paused(&running, timeout);
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.min(POLL)) {
                Ok(Line::Text(i, l)) => match l.strip_prefix("READY ") {
                    Some(addr) => addrs[i] = Some(addr.trim().to_string()),
                    None => self.outputs[i].push_str(&format!("{l}\n")),
                },
                Ok(Line::Closed(i)) => return Err(self.failure(i, "failed: it exited before it was ready")),
                Err(_) if Instant::now() < deadline => {}
                Err(_) => {
                    let late: Vec<usize> = (0..n).filter(|i| addrs[*i].is_none()).collect();
                    let stopped: Vec<usize> =
                        late.iter().copied().filter(|i| stalled::is_stopped(self.children[*i].id())).collect();
                    anyhow::bail!(stalled::not_ready(&late, &stopped));
                }
            }
        }
        Ok(addrs.into_iter().flatten().collect())
    }

    /// Tells every child the whole address list: the start signal.
    pub fn start(&mut self, addrs: &[String]) -> anyhow::Result<()> {
        let line = format!("PEERS {}\n", addrs.join(","));
        for (i, stdin) in self.stdins.iter_mut().enumerate() {
            if let Some(stdin) = stdin {
                stdin.write_all(line.as_bytes()).and_then(|_| stdin.flush()).map_err(|e| {
                    anyhow::anyhow!("cannot start node {i}: writing to its stdin failed ({e}); did it crash?")
                })?;
            }
        }
        Ok(())
    }

    /// Waits until every child has exited (successfully, else an error naming the first
    /// node that failed and its last stderr line), or the deadline passes (an error; the
    /// children are killed when the cluster is dropped).
    pub fn wait_all(mut self, deadline: Instant, idle: Duration, timeout: Duration) -> anyhow::Result<Finished> {
        let started = Instant::now();
        let n = self.children.len();
        let mut closed = vec![false; n];
        let mut status: Vec<Option<ExitStatus>> = vec![None; n];
        let mut reports: Vec<Option<Status>> = vec![None; n];
        let mut last_change = Instant::now();
        let mut stopped = false;
        loop {
            self.check_interrupt()?;
            while let Ok(line) = self.lines.try_recv() {
                match line {
                    Line::Text(i, l) => match l.strip_prefix("STATUS ").and_then(Status::parse) {
                        Some(s) => {
                            reports[i] = Some(s);
                            last_change = Instant::now();
                        }
                        None => self.outputs[i].push_str(&format!("{l}\n")),
                    },
                    Line::Closed(i) => closed[i] = true,
                }
            }
            if !stopped && reports.iter().all(|r| r.is_some_and(|s| s.quiet())) {
                let sent: u64 = reports.iter().flatten().map(|s| s.sent).sum();
                let delivered: u64 = reports.iter().flatten().map(|s| s.delivered).sum();
                let quiet_for = last_change.elapsed();
                if (sent == delivered && quiet_for >= SETTLE) || quiet_for >= idle {
                    self.stop_all();
                    stopped = true;
                }
            }
            for (i, child) in self.children.iter_mut().enumerate() {
                if status[i].is_none() {
                    status[i] = child.try_wait().ok().flatten();
                }
            }
            if let Some(i) = (0..n).find(|i| status[*i].is_some_and(|s| !s.success())) {
                let code = status[i].and_then(|s| s.code()).map_or("a signal".to_string(), |c| format!("status {c}"));
                return Err(self.failure(i, &format!("failed ({code})")));
            }
            if status.iter().all(Option::is_some) && closed.iter().all(|c| *c) {
                break;
            }
            self.look_for_paused(&status, timeout);
            if Instant::now() >= deadline {
                let views: Vec<NodeView> = (0..n)
                    .map(|i| NodeView {
                        exited: status[i].is_some(),
                        stopped: status[i].is_none() && stalled::is_stopped(self.children[i].id()),
                        quiet: reports[i].map(|s| s.quiet()),
                    })
                    .collect();
                let totals = Totals {
                    sent: reports.iter().flatten().map(|s| s.sent).sum(),
                    delivered: reports.iter().flatten().map(|s| s.delivered).sum(),
                };
                anyhow::bail!(stalled::diagnose(&views, totals, stopped, timeout));
            }
            thread::sleep(Duration::from_millis(5));
        }
        let outputs = std::mem::take(&mut self.outputs);
        Ok(Finished { outputs, elapsed: started.elapsed() })
    }

    /// Says once on stderr when a node's process has been stopped for a while: the run
    /// cannot end without it, and the user may not know it was paused.
    /// Looks at most every [`POLL`], before and after the nodes are ready.
    fn look_for_paused(&mut self, status: &[Option<ExitStatus>], timeout: Duration) {
        if self.last_look.elapsed() < POLL {
            return;
        }
        self.last_look = Instant::now();
        for (i, child) in self.children.iter().enumerate() {
            if status[i].is_some() || !stalled::is_stopped(child.id()) {
                self.paused_since[i] = None;
                continue;
            }
            let first = *self.paused_since[i].get_or_insert_with(Instant::now);
            if !self.paused_said[i] && first.elapsed() >= STOPPED_NOTICE {
                self.paused_said[i] = true;
                eprintln!(
                    "note: node {i} (pid {}) is stopped (SIGSTOP or a debugger); the run waits for it until --timeout ({} s)",
                    child.id(),
                    timeout.as_secs_f64()
                );
            }
        }
    }

    /// Ends the wait with [`Interrupted`] once Ctrl-C or SIGTERM came; the caller's
    /// drops then stop the nodes and remove the scratch folder.
    fn check_interrupt(&self) -> anyhow::Result<()> {
        if self.interrupt.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
            return Err(anyhow::Error::new(Interrupted("interrupted: every node was stopped".to_string())));
        }
        Ok(())
    }

    /// Tells every child the run is over.
    fn stop_all(&mut self) {
        for stdin in self.stdins.iter_mut().flatten() {
            // A child that already exited cannot be told; it is done anyway.
            let _ = stdin.write_all(b"STOP\n").and_then(|_| stdin.flush());
        }
    }

    /// An error about node `i`, with the last line it wrote on stderr.
    fn failure(&self, i: usize, what: &str) -> anyhow::Error {
        let last = std::fs::read_to_string(&self.stderr_files[i])
            .ok()
            .and_then(|s| s.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string));
        match last {
            Some(line) => anyhow::anyhow!("node {i} {what}: {line}"),
            None => anyhow::anyhow!("node {i} {what} (it wrote nothing on stderr)"),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Closing the stdins first lets well-behaved children exit by themselves.
        self.stdins.clear();
        for child in &mut self.children {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}
