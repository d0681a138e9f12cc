//! The interactive console of `reparti node`: what a line typed at a running algorithm
//! node means, without doing any of it.
//!
//! [`parse`] turns a line into a [`Command`]. Commands for the algorithm come out as the
//! JSON form of its input (`{"Send":{"to":2,"text":"hi"}}`, `"Release"`), built the same
//! way for every algorithm: the caller deserialises that into the algorithm's own `Input`
//! type, and a failure there means "this algorithm has no such command". Destinations
//! are resolved here, against the nodes' addresses, so that a mistyped port is reported
//! with the ports that exist.

use serde_json::{json, Value};
use std::net::SocketAddr;

/// What a console line asks for.
#[derive(Clone, PartialEq, Debug)]
pub enum Command {
    /// An input for the algorithm, in serde's JSON form of its `Input` enum.
    Input(Value),
    /// Something to print about the node.
    Show(Show),
    /// The list of commands ([`help`]).
    Help,
    /// Stop the node.
    Quit,
}

/// What `Command::Show` prints.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Show {
    /// The node's clocks.
    Clock,
    /// The nodes' addresses and positions.
    Peers,
    /// The node's state.
    State,
}

/// The command words, for error messages.
const COMMANDS: &str = "send, broadcast, request, release, elect, local, clock, peers, state, help, quit";

/// One line per command.
pub fn help() -> &'static str {
    "send PORT|#I|HOST:PORT TEXT   send TEXT to one node (by port, position or address)\n\
     broadcast TEXT                send TEXT to every neighbour\n\
     request                       ask for the critical section\n\
     release                       pass the token on, or leave the critical section\n\
     elect                         start an election\n\
     local                         a local event: advance the clocks\n\
     clock                         show this node's clocks\n\
     peers                         show every node's position and address\n\
     state                         show this node's state\n\
     help, ?                       show this list\n\
     quit, exit, fin               stop this node"
}

/// Parses one console line; `peers` are the nodes' addresses by position (this node's
/// included), for `send`'s destination. A blank line is `Ok(None)`; a mistake is one line
/// saying what is wrong and what to type instead.
pub fn parse(line: &str, peers: &[SocketAddr]) -> Result<Option<Command>, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (line, ""),
    };
    if word.is_empty() {
        return Ok(None);
    }
    let word = word.to_ascii_lowercase();
    let bare = |command: Command| {
        if rest.is_empty() {
            Ok(Some(command))
        } else {
            Err(format!("`{word}` takes no argument: type `{word}` alone"))
        }
    };
    match word.as_str() {
        "send" => {
            let usage = "send needs a destination and a text: send PORT TEXT (or #I TEXT, or HOST:PORT TEXT)";
            let (target, text) = rest.split_once(char::is_whitespace).ok_or(usage)?;
            let text = text.trim();
            if text.is_empty() {
                return Err(usage.to_string());
            }
            let to = resolve(target, peers)?;
            Ok(Some(Command::Input(json!({ "Send": { "to": to, "text": text } }))))
        }
        "broadcast" => {
            if rest.is_empty() {
                return Err("broadcast needs a text: broadcast TEXT".to_string());
            }
            Ok(Some(Command::Input(json!({ "Broadcast": { "text": rest } }))))
        }
        "request" => bare(Command::Input(json!("Request"))),
        "release" => bare(Command::Input(json!("Release"))),
        "elect" => bare(Command::Input(json!("Elect"))),
        "local" => bare(Command::Input(json!("Local"))),
        "clock" => bare(Command::Show(Show::Clock)),
        "peers" => bare(Command::Show(Show::Peers)),
        "state" => bare(Command::Show(Show::State)),
        "help" | "?" => bare(Command::Help),
        "quit" | "exit" | "fin" => bare(Command::Quit),
        other => Err(format!("unknown command `{other}`: the commands are {COMMANDS} (`help` explains them)")),
    }
}

/// The position of the node `target` names: `#I`, `HOST:PORT`, or a port that exactly
/// one node listens on.
fn resolve(target: &str, peers: &[SocketAddr]) -> Result<usize, String> {
    if let Some(index) = target.strip_prefix('#') {
        let i: usize = index.parse().map_err(|_| format!("`{target}` is not a position: write #0, #1, ..."))?;
        if i < peers.len() {
            return Ok(i);
        }
        return Err(format!("there is no node #{i}: the positions are #0 to #{}", peers.len().saturating_sub(1)));
    }
    if let Ok(addr) = target.parse::<SocketAddr>() {
        return peers
            .iter()
            .position(|p| *p == addr)
            .ok_or_else(|| format!("no node has the address {addr}: the nodes are {}", list_addrs(peers)));
    }
    let port: u16 = target.parse().map_err(|_| {
        format!("`{target}` is not a destination: write a port ({}), #I or HOST:PORT", list_ports(peers))
    })?;
    let matching: Vec<usize> = (0..peers.len()).filter(|&i| peers[i].port() == port).collect();
    match matching.as_slice() {
        [i] => Ok(*i),
        [] => Err(format!("no node listens on port {port}: the ports are {}", list_ports(peers))),
        _ => Err(format!("several nodes listen on port {port}: write HOST:PORT or #I ({})", list_addrs(peers))),
    }
}

fn list_ports(peers: &[SocketAddr]) -> String {
    peers.iter().map(|p| p.port().to_string()).collect::<Vec<_>>().join(", ")
}

fn list_addrs(peers: &[SocketAddr]) -> String {
    peers.iter().enumerate().map(|(i, p)| format!("#{i} {p}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> Vec<SocketAddr> {
        ["127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002"].iter().map(|a| a.parse().unwrap()).collect()
    }

    fn ok(line: &str) -> Command {
        parse(line, &peers()).expect("parses").expect("a command")
    }

    fn err(line: &str) -> String {
        parse(line, &peers()).expect_err("refused")
    }

    #[test]
    fn blank_lines_are_nothing() {
        assert_eq!(parse("", &peers()), Ok(None));
        assert_eq!(parse("   \t ", &peers()), Ok(None));
    }

    #[test]
    fn send_resolves_ports_positions_and_addresses() {
        let expected = Command::Input(json!({"Send": {"to": 2, "text": "bonjour à tous"}}));
        assert_eq!(ok("send 5002 bonjour à tous"), expected);
        assert_eq!(ok("  SEND   #2   bonjour à tous  "), expected);
        assert_eq!(ok("send 127.0.0.1:5002 bonjour à tous"), expected);
        assert_eq!(ok("send 5000 x"), Command::Input(json!({"Send": {"to": 0, "text": "x"}})));
    }

    #[test]
    fn send_names_the_known_destinations_when_none_matches() {
        let e = err("send 5009 hi");
        assert!(e.contains("port 5009") && e.contains("5000, 5001, 5002"), "{e}");
        let e = err("send #3 hi");
        assert!(e.contains("#0 to #2"), "{e}");
        let e = err("send 10.0.0.1:5000 hi");
        assert!(e.contains("#0 127.0.0.1:5000"), "{e}");
        let e = err("send bob hi");
        assert!(e.contains("`bob`") && e.contains("5000, 5001, 5002"), "{e}");
        assert!(err("send #x hi").contains("not a position"));
        assert!(err("send 99999 hi").contains("not a destination"));
    }

    #[test]
    fn a_port_shared_by_two_hosts_is_ambiguous() {
        let peers: Vec<SocketAddr> = vec!["10.0.0.1:5000".parse().unwrap(), "10.0.0.2:5000".parse().unwrap()];
        let e = parse("send 5000 hi", &peers).expect_err("ambiguous");
        assert!(e.contains("several nodes") && e.contains("#1 10.0.0.2:5000"), "{e}");
        assert_eq!(
            parse("send 10.0.0.2:5000 hi", &peers),
            Ok(Some(Command::Input(json!({"Send": {"to": 1, "text": "hi"}}))))
        );
    }

    #[test]
    fn send_and_broadcast_need_a_text() {
        assert!(err("send").contains("send PORT TEXT"));
        assert!(err("send 5001").contains("send PORT TEXT"));
        assert!(err("send 5001   ").contains("send PORT TEXT"));
        assert!(err("broadcast").contains("broadcast TEXT"));
        assert_eq!(ok("broadcast  hello   world "), Command::Input(json!({"Broadcast": {"text": "hello   world"}})));
    }

    #[test]
    fn algorithm_commands_are_their_inputs_names() {
        assert_eq!(ok("release"), Command::Input(json!("Release")));
        assert_eq!(ok("elect"), Command::Input(json!("Elect")));
        assert_eq!(ok("Request"), Command::Input(json!("Request")));
        assert_eq!(ok("local"), Command::Input(json!("Local")));
        assert!(err("elect now").contains("takes no argument"));
    }

    #[test]
    fn the_inputs_deserialise_into_the_algorithms_types() {
        use reparti_algos::communication::token_ring;
        use reparti_algos::time::logical_clocks;
        use reparti_core::NodeId;
        let input = |line: &str| match ok(line) {
            Command::Input(v) => v,
            other => panic!("{other:?}"),
        };
        let send: token_ring::Input = serde_json::from_value(input("send 5001 hi")).unwrap();
        assert_eq!(send, token_ring::Input::Send { to: NodeId(1), text: "hi".into() });
        let broadcast: logical_clocks::Input = serde_json::from_value(input("broadcast yo")).unwrap();
        assert_eq!(broadcast, logical_clocks::Input::Broadcast { text: "yo".into() });
        assert!(serde_json::from_value::<token_ring::Input>(input("elect")).is_err(), "no such command there");
    }

    #[test]
    fn shows_help_and_quit() {
        assert_eq!(ok("clock"), Command::Show(Show::Clock));
        assert_eq!(ok("peers"), Command::Show(Show::Peers));
        assert_eq!(ok("state"), Command::Show(Show::State));
        assert_eq!(ok("help"), Command::Help);
        assert_eq!(ok("?"), Command::Help);
        for word in ["quit", "exit", "fin", "FIN"] {
            assert_eq!(ok(word), Command::Quit);
        }
    }

    #[test]
    fn unknown_commands_list_the_known_ones() {
        let e = err("jump 3");
        assert!(e.contains("`jump`") && e.contains("broadcast") && e.contains("quit"), "{e}");
    }

    #[test]
    fn help_has_one_line_per_command() {
        for word in
            ["send", "broadcast", "request", "release", "elect", "local", "clock", "peers", "state", "help", "quit"]
        {
            assert_eq!(help().lines().filter(|l| l.starts_with(word)).count(), 1, "{word}");
            assert!(COMMANDS.contains(word));
        }
        assert_eq!(help().lines().count(), 11);
    }
}
