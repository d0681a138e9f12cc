//! What the command line attaches to a running node: the supervisor's protocol under
//! `reparti run` (`READY`, `PEERS`, `STATUS`, `STOP` on the standard streams) and the
//! interactive console. Both only talk to the node through its control channel
//! ([`Controls`]); running it is [`reparti_net::plan`]'s business.

use super::addr::parse_addr;
use super::console;
use reparti_core::Algorithm;
use reparti_net::plan::{Controls, PlanError};
use reparti_net::runtime::{Control, Input, Show};
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often a supervised node looks at its status: rarely enough to cost nothing
/// (each look wakes the node), often enough that the end of a run is seen at once.
const STATUS_PERIOD: Duration = Duration::from_millis(10);

/// Attaches the supervisor's status reports (under `reparti run`) and the console (a
/// person at a terminal, or `--interactive`) to a node about to start.
pub fn attach<A: Algorithm>(controls: Controls<A>, supervised: bool, interactive: bool) {
    if supervised {
        supervise::<A>(controls.sender.clone(), controls.pending_inputs);
    }
    // Without a console the sender is dropped here: the node runs on its workload alone.
    if interactive {
        spawn_console::<A>(controls.sender, controls.addrs);
    }
}

/// `READY ADDR` on stdout, then `PEERS A0,A1,...` from stdin: the address of every one
/// of the `n` nodes, by position. Blocks on stdin.
pub fn handshake(local: SocketAddr, n: usize) -> Result<Vec<SocketAddr>, PlanError> {
    println!("READY {local}");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| PlanError::Start(format!("cannot read the peers from stdin: {e}")))?;
    let list = line.trim().strip_prefix("PEERS ").ok_or_else(|| {
        PlanError::Start(format!(
            "expected `PEERS A0,A1,...` on stdin, got {:?} (--supervised is for reparti run)",
            line.trim()
        ))
    })?;
    let addrs = list
        .split(',')
        .map(|a| parse_addr(a, "PEERS"))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| PlanError::Setup(e.to_string()))?;
    if addrs.len() != n {
        return Err(PlanError::Start(format!("PEERS lists {} addresses for {n} nodes", addrs.len())));
    }
    Ok(addrs)
}

/// Under `reparti run`, the supervisor decides when the run is over (it sees every
/// node): this node reports `STATUS IDLE SENT DELIVERED PENDING_INPUTS` on stdout each
/// time it changes, stops on `STOP`, and exits at once if stdin closes (the supervisor is
/// gone: no node outlives its run).
fn supervise<A: Algorithm>(tx: mpsc::Sender<Control<Input<A>>>, pending_inputs: Arc<AtomicUsize>) {
    let quit = tx.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(k) if k > 0 => {
                    if line.trim() == "STOP" {
                        let _ = quit.blocking_send(Control::Quit);
                    }
                }
                _ => std::process::exit(3),
            }
        }
    });
    tokio::spawn(async move {
        let mut last = String::new();
        loop {
            // Read before asking: an input counted as fed is then already queued ahead of
            // the question, so the answer includes its effects.
            let pending = pending_inputs.load(Ordering::SeqCst);
            let (reply, answer) = oneshot::channel();
            if tx.send(Control::Show(Show::Status, reply)).await.is_err() {
                return;
            }
            let Ok(status) = answer.await else { return };
            let status = format!("{status} {pending}");
            if status != last {
                println!("STATUS {status}");
                std::io::stdout().flush().ok();
                last = status;
            }
            tokio::time::sleep(STATUS_PERIOD).await;
        }
    });
}

/// Reads console commands from stdin on a thread of its own, turning them into controls.
fn spawn_console<A: Algorithm>(tx: mpsc::Sender<Control<Input<A>>>, addrs: Vec<SocketAddr>) {
    println!("console: type `help` for the commands");
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match console::parse(&line, &addrs, A::spec().commands) {
                Ok(None) => {}
                Ok(Some(console::Command::Input(json))) => match console_input::<A>(json) {
                    Ok(input) => {
                        if tx.blocking_send(Control::Input(input)).is_err() {
                            return;
                        }
                    }
                    Err(line) => println!("{line}"),
                },
                Ok(Some(console::Command::Show(what))) => {
                    let (reply, answer) = oneshot::channel();
                    if tx.blocking_send(Control::Show(show(what), reply)).is_err() {
                        return;
                    }
                    if let Ok(text) = answer.blocking_recv() {
                        println!("{text}");
                    }
                }
                Ok(Some(console::Command::Help)) => println!("{}", console::help(A::spec().commands)),
                Ok(Some(console::Command::Quit)) => break,
                Err(e) => println!("{e}"),
            }
        }
        let _ = tx.blocking_send(Control::Quit);
    });
}

/// The algorithm's input from a console command's JSON, or the one line to print
/// instead. The console only builds JSON for words the algorithm lists, so a refusal is
/// nearly always about the arguments (`select ?2 !2(1)`: two guards name process 2),
/// whose reason the person needs; only a listed word naming no variant of the input
/// (a slip in the algorithm's command table) is "no such command".
fn console_input<A: Algorithm>(json: serde_json::Value) -> Result<Input<A>, String> {
    serde_json::from_value::<Input<A>>(json).map_err(|e| {
        let reason = e.to_string();
        if reason.starts_with("unknown variant") {
            format!("{} has no such command: type `help`", A::spec().name)
        } else {
            reason.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    })
}

fn show(what: console::Show) -> Show {
    match what {
        console::Show::Clock => Show::Clock,
        console::Show::Peers => Show::Peers,
        console::Show::State => Show::State,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_algos::communication::RendezvousSymmetric;
    use serde_json::json;

    /// What the console prints for a line of `reparti node rendezvous-symmetric`.
    fn console_line(line: &str) -> Result<Input<RendezvousSymmetric>, String> {
        let addrs: Vec<SocketAddr> = (0..3).map(|k| SocketAddr::from(([127, 0, 0, 1], 5000 + k))).collect();
        match console::parse(line, &addrs, RendezvousSymmetric::spec().commands)? {
            Some(console::Command::Input(json)) => console_input::<RendezvousSymmetric>(json),
            _ => Err(format!("`{line}` is not an input")),
        }
    }

    #[test]
    fn arguments_the_input_refuses_are_said_with_the_reason() {
        let said = console_line("select ?2 !2(1)").unwrap_err();
        assert!(said.starts_with("two guards name process 2: "), "{said}");
        assert!(!said.contains('\n') && !said.contains("no such command"), "{said}");
        assert!(console_line("select ?2 !1(1)").is_ok());
    }

    #[test]
    fn a_listed_word_naming_no_input_is_no_such_command() {
        let said = console_input::<RendezvousSymmetric>(json!({"Launch": {"guards": "?1"}})).unwrap_err();
        assert_eq!(said, "rendezvous-symmetric has no such command: type `help`");
    }
}
