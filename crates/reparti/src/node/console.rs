//! The interactive console of `reparti node`: what a line typed at a running algorithm
//! node means, without doing any of it.
//!
//! [`parse`] turns a line into a [`Command`]. A node has two kinds of commands: its own
//! (`clock`, `peers`, `state`, `help`, `quit`), and the ones its algorithm declares in
//! `AlgorithmSpec::commands` (`request`, `send PORT TEXT`, ...), so that `help` lists
//! exactly what this node accepts. An algorithm command comes out as serde's JSON form
//! of the algorithm's `Input` (`{"Send":{"to":2,"text":"hi"}}`, `"Release"`), which the
//! caller deserialises. Destinations are resolved here, against the nodes' addresses, so
//! that a mistyped port is reported with the ports that exist.

use reparti_core::{ArgKind, Command as AlgorithmCommand};
use serde_json::{json, Map, Value};
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

/// The node's own commands, after the algorithm's in `help`.
const NODE_COMMANDS: &[(&str, &str)] = &[
    ("clock", "show this node's clocks"),
    ("peers", "show every node's position and address"),
    ("state", "show this node's state"),
    ("help, ?", "show this list"),
    ("quit, exit, fin", "stop this node"),
];

/// How a command is typed: `send PORT|#I|HOST:PORT TEXT`.
fn usage(c: &AlgorithmCommand) -> String {
    let mut out = c.word.to_string();
    for arg in c.args {
        out.push(' ');
        out.push_str(match arg.kind {
            ArgKind::Node => "PORT|#I|HOST:PORT",
            ArgKind::Int => "N",
            ArgKind::Text => "TEXT",
        });
    }
    out
}

/// One line per command this node accepts: its algorithm's, then its own.
pub fn help(commands: &[AlgorithmCommand]) -> String {
    let rows: Vec<(String, &str)> = commands
        .iter()
        .map(|c| (usage(c), c.help))
        .chain(NODE_COMMANDS.iter().map(|(w, h)| (w.to_string(), *h)))
        .collect();
    let width = rows.iter().map(|(u, _)| u.chars().count()).max().unwrap_or(0) + 3;
    rows.iter().map(|(u, h)| format!("{u:<width$}{h}")).collect::<Vec<_>>().join("\n")
}

/// The command words, for error messages.
fn words(commands: &[AlgorithmCommand]) -> String {
    let mut all: Vec<&str> = commands.iter().map(|c| c.word).collect();
    all.extend(["clock", "peers", "state", "help", "quit"]);
    all.join(", ")
}

/// Parses one console line; `peers` are the nodes' addresses by position (this node's
/// included), for destinations; `commands` are the algorithm's. A blank line is
/// `Ok(None)`; a mistake is one line saying what is wrong and what to type instead.
pub fn parse(line: &str, peers: &[SocketAddr], commands: &[AlgorithmCommand]) -> Result<Option<Command>, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (line, ""),
    };
    if word.is_empty() {
        return Ok(None);
    }
    let word = word.to_ascii_lowercase();
    if let Some(c) = commands.iter().find(|c| c.word.eq_ignore_ascii_case(&word)) {
        return algorithm_input(c, rest, peers).map(|v| Some(Command::Input(v)));
    }
    let bare = |command: Command| {
        if rest.is_empty() {
            Ok(Some(command))
        } else {
            Err(format!("`{word}` takes no argument: type `{word}` alone"))
        }
    };
    match word.as_str() {
        "clock" => bare(Command::Show(Show::Clock)),
        "peers" => bare(Command::Show(Show::Peers)),
        "state" => bare(Command::Show(Show::State)),
        "help" | "?" => bare(Command::Help),
        "quit" | "exit" | "fin" => bare(Command::Quit),
        other => Err(format!("unknown command `{other}`: the commands are {} (`help` explains them)", words(commands))),
    }
}

/// The JSON input a command's words make: the bare variant, or a struct variant whose
/// fields are the arguments.
fn algorithm_input(c: &AlgorithmCommand, rest: &str, peers: &[SocketAddr]) -> Result<Value, String> {
    if c.args.is_empty() {
        if !rest.is_empty() {
            return Err(format!("`{}` takes no argument: type `{}` alone", c.word, c.word));
        }
        return Ok(json!(c.variant));
    }
    let needs = || format!("{} needs {}: {}", c.word, describe(c), usage(c));
    let mut fields = Map::new();
    let mut rest = rest;
    for (k, arg) in c.args.iter().enumerate() {
        let last = k + 1 == c.args.len();
        let value = if arg.kind == ArgKind::Text && last {
            std::mem::take(&mut rest).trim().to_string()
        } else {
            let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            rest = after.trim_start();
            word.to_string()
        };
        if value.is_empty() {
            return Err(needs());
        }
        let json = match arg.kind {
            ArgKind::Node => json!(resolve(&value, peers)?),
            ArgKind::Int => {
                json!(value.parse::<i64>().map_err(|_| format!("`{value}` is not a whole number: {}", usage(c)))?)
            }
            ArgKind::Text => json!(value),
        };
        fields.insert(arg.field.to_string(), json);
    }
    if !rest.trim().is_empty() {
        return Err(format!("too many words for {}: {}", c.word, usage(c)));
    }
    Ok(json!({ c.variant: Value::Object(fields) }))
}

/// "a destination and a text", for error messages.
fn describe(c: &AlgorithmCommand) -> String {
    let names: Vec<&str> = c
        .args
        .iter()
        .map(|a| match a.kind {
            ArgKind::Node => "a destination",
            ArgKind::Int => "a number",
            ArgKind::Text => "a text",
        })
        .collect();
    names.join(" and ")
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
    use reparti_core::CommandArg;

    const SEND: AlgorithmCommand = AlgorithmCommand {
        word: "send",
        variant: "Send",
        args: &[CommandArg { field: "to", kind: ArgKind::Node }, CommandArg { field: "text", kind: ArgKind::Text }],
        help: "send TEXT to one node",
    };
    const BROADCAST: AlgorithmCommand = AlgorithmCommand {
        word: "broadcast",
        variant: "Broadcast",
        args: &[CommandArg { field: "text", kind: ArgKind::Text }],
        help: "send TEXT to every neighbour",
    };
    const REPEAT: AlgorithmCommand = AlgorithmCommand {
        word: "repeat",
        variant: "Repeat",
        args: &[CommandArg { field: "times", kind: ArgKind::Int }],
        help: "repeat",
    };
    const ELECT: AlgorithmCommand = AlgorithmCommand { word: "elect", variant: "Elect", args: &[], help: "start" };
    const ALL: &[AlgorithmCommand] = &[SEND, BROADCAST, REPEAT, ELECT];

    fn peers() -> Vec<SocketAddr> {
        ["127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002"].iter().map(|a| a.parse().unwrap()).collect()
    }

    fn ok(line: &str) -> Command {
        parse(line, &peers(), ALL).expect("parses").expect("a command")
    }

    fn err(line: &str) -> String {
        parse(line, &peers(), ALL).expect_err("refused")
    }

    #[test]
    fn blank_lines_are_nothing() {
        assert_eq!(parse("", &peers(), ALL), Ok(None));
        assert_eq!(parse("   \t ", &peers(), ALL), Ok(None));
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
        let e = parse("send 5000 hi", &peers, ALL).expect_err("ambiguous");
        assert!(e.contains("several nodes") && e.contains("#1 10.0.0.2:5000"), "{e}");
        assert_eq!(
            parse("send 10.0.0.2:5000 hi", &peers, ALL),
            Ok(Some(Command::Input(json!({"Send": {"to": 1, "text": "hi"}}))))
        );
    }

    #[test]
    fn arguments_are_required_and_checked() {
        assert!(err("send").contains("send PORT|#I|HOST:PORT TEXT"), "{}", err("send"));
        assert!(err("send 5001").contains("a destination and a text"));
        assert!(err("send 5001   ").contains("a destination and a text"));
        assert!(err("broadcast").contains("broadcast TEXT"));
        assert_eq!(ok("broadcast  hello   world "), Command::Input(json!({"Broadcast": {"text": "hello   world"}})));
        assert_eq!(ok("repeat 3"), Command::Input(json!({"Repeat": {"times": 3}})));
        assert!(err("repeat three").contains("not a whole number"));
        assert!(err("repeat 3 4").contains("too many words"));
    }

    #[test]
    fn bare_commands_are_their_variants() {
        assert_eq!(ok("elect"), Command::Input(json!("Elect")));
        assert_eq!(ok("ELECT"), Command::Input(json!("Elect")));
        assert!(err("elect now").contains("takes no argument"));
    }

    #[test]
    fn an_algorithm_without_a_command_does_not_accept_it() {
        let e = parse("elect", &peers(), &[SEND]).expect_err("not this algorithm's");
        assert!(e.contains("unknown command `elect`") && e.contains("send, clock"), "{e}");
    }

    #[test]
    fn every_algorithms_commands_deserialise_into_its_input() {
        use reparti_algos::communication::token_ring;
        use reparti_algos::mutex::critical_section;
        use reparti_algos::time::logical_clocks;
        use reparti_core::{Algorithm, NodeId};
        let input = |line: &str, commands: &[AlgorithmCommand]| match parse(line, &peers(), commands) {
            Ok(Some(Command::Input(v))) => v,
            other => panic!("{line}: {other:?}"),
        };
        let ring = token_ring::TokenRing::spec().commands;
        let send: token_ring::Input = serde_json::from_value(input("send 5001 hi", ring)).unwrap();
        assert_eq!(send, token_ring::Input::Send { to: NodeId(1), text: "hi".into() });
        let clocks = logical_clocks::LogicalClocks::spec().commands;
        let broadcast: logical_clocks::Input = serde_json::from_value(input("broadcast yo", clocks)).unwrap();
        assert_eq!(broadcast, logical_clocks::Input::Broadcast { text: "yo".into() });
        // Every declared command, typed with plausible arguments, is an input of its algorithm.
        for spec in reparti_algos::specs() {
            for c in spec.commands {
                let line: Vec<String> = std::iter::once(c.word.to_string())
                    .chain(c.args.iter().map(|a| match a.kind {
                        ArgKind::Node => "#1".to_string(),
                        ArgKind::Int => "2".to_string(),
                        // A select's text is a guard list, with a grammar of its own.
                        ArgKind::Text if c.word == "select" => "?1".to_string(),
                        ArgKind::Text => "some text".to_string(),
                    }))
                    .collect();
                let value = input(&line.join(" "), spec.commands);
                struct Accepts(Value);
                impl reparti_core::AlgorithmVisitor for Accepts {
                    type Output = Result<(), String>;
                    fn visit<A: Algorithm>(self) -> Self::Output {
                        serde_json::from_value::<<A::Node as reparti_core::Process>::Input>(self.0)
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    }
                }
                let verdict = reparti_algos::visit(spec.name, Accepts(value));
                assert_eq!(verdict, Some(Ok(())), "{}: `{}`", spec.name, line.join(" "));
            }
        }
        let _ = critical_section::COMMANDS;
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
    fn help_lists_this_nodes_commands_only() {
        let h = help(&[ELECT]);
        assert!(h.lines().next().is_some_and(|l| l.starts_with("elect") && l.ends_with("start")), "{h}");
        assert!(!h.contains("send") && !h.contains("request"), "{h}");
        assert_eq!(h.lines().count(), 1 + NODE_COMMANDS.len());
        let h = help(ALL);
        assert!(h.contains("send PORT|#I|HOST:PORT TEXT") && h.contains("repeat N"), "{h}");
    }
}
