//! The lab node's console: TP3's `menu_send`, one command per line. Parsing only; the
//! node ([`super::node`]) acts on the result.

use super::wire::Port;

/// What `help` prints: every command the node accepts, and nothing else.
pub const HELP: &str =
    "send PORT TEXT   send TEXT to the node listening on PORT (any port: it travels hop by hop);\n                 \
without the token it is queued and leaves when the token arrives\n\
release          pass the token to the successor\n\
state            show this node's ring, token, clock and counters\n\
help, ?          show this list\n\
quit, exit, fin  stop this node";

/// The longest text `send` takes: with the envelope and Fernet's expansion (4/3 plus
/// padding) a message must still fit in one UDP datagram.
pub const MAX_TEXT: usize = 32 * 1024;

/// A console line, understood.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Command {
    /// `send PORT TEXT`.
    Send {
        /// The destination's port.
        dest: Port,
        /// The text.
        text: String,
    },
    /// `release`: pass the token on.
    Release,
    /// `state`.
    State,
    /// `help`.
    Help,
    /// `quit`.
    Quit,
}

/// Reads one console line: `Ok(None)` for a blank line, `Err` with a one-line reason
/// (naming `help`) for anything else the node does not take.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim_start()),
        None => (line, ""),
    };
    let bare = |command: Command| {
        if rest.is_empty() {
            Ok(Some(command))
        } else {
            Err(format!("`{word}` takes nothing after it: type `{word}` alone"))
        }
    };
    match word.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "send" => parse_send(rest).map(Some),
        "release" => bare(Command::Release),
        "state" => bare(Command::State),
        "help" | "?" => bare(Command::Help),
        "quit" | "exit" | "fin" => bare(Command::Quit),
        _ => Err(format!(
            "unknown command `{word}`: a lab ring node takes send PORT TEXT, release, state, help and quit (type `help`)"
        )),
    }
}

/// Reads a scripted send, `PORT:TEXT` (the command line's `--send`), with the same
/// checks as a typed `send PORT TEXT`.
pub fn parse_send_spec(spec: &str) -> Result<Command, String> {
    match spec.split_once(':') {
        Some((port, text)) if !port.trim().is_empty() => parse_send(&format!("{} {text}", port.trim())),
        _ => Err(format!("`{spec}` is not PORT:TEXT, e.g. 5003:bonjour")),
    }
}

fn parse_send(rest: &str) -> Result<Command, String> {
    let usage = "`send` takes a port and a text, e.g. `send 5003 bonjour`";
    let (port, text) = match rest.split_once(char::is_whitespace) {
        Some((port, text)) => (port, text.trim()),
        None => (rest, ""),
    };
    if port.is_empty() {
        return Err(usage.to_string());
    }
    let dest = match port.parse::<Port>() {
        Ok(p) if p != 0 => p,
        _ => return Err(format!("{usage}: `{port}` is not a port (1..65535); lab nodes are named by their port")),
    };
    if text.is_empty() {
        return Err(format!("{usage}: the text is missing"));
    }
    if text.len() > MAX_TEXT {
        return Err(format!("the text is {} bytes, over the {MAX_TEXT}-byte limit of one datagram", text.len()));
    }
    Ok(Command::Send { dest, text: text.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_of_help_are_the_ones_parsed() {
        assert_eq!(
            parse("send 5003 bonjour à tous"),
            Ok(Some(Command::Send { dest: 5003, text: "bonjour à tous".into() }))
        );
        assert_eq!(parse("  SEND   5003   hi  "), Ok(Some(Command::Send { dest: 5003, text: "hi".into() })));
        assert_eq!(parse("release"), Ok(Some(Command::Release)));
        assert_eq!(parse("state"), Ok(Some(Command::State)));
        assert_eq!(parse("?"), Ok(Some(Command::Help)));
        assert_eq!(parse("fin"), Ok(Some(Command::Quit)));
        assert_eq!(parse("   "), Ok(None));
        // Help lists those and only those (a line starting with a space continues one).
        let listed: Vec<&str> =
            HELP.lines().filter(|l| !l.starts_with(' ')).filter_map(|l| l.split_whitespace().next()).collect();
        assert_eq!(listed, ["send", "release", "state", "help,", "quit,"]);
        for line in HELP.lines().filter(|l| !l.starts_with(' ')) {
            let word = line.split([' ', ',']).next().unwrap_or_default();
            assert!(!matches!(parse(word), Err(e) if e.contains("unknown")), "{word} is a command");
        }
        // The catalogue's commands are not the lab node's.
        for word in ["broadcast", "request", "elect", "clock", "peers"] {
            assert!(parse(word).is_err_and(|e| e.contains("help")), "{word} is refused, naming help");
        }
    }

    #[test]
    fn mistakes_say_what_to_type() {
        assert!(parse("send").is_err_and(|e| e.contains("send 5003 bonjour")));
        assert!(parse("send 5003").is_err_and(|e| e.contains("text is missing")));
        assert!(parse("send 70000 hi").is_err_and(|e| e.contains("not a port")));
        assert!(parse("send 0 hi").is_err_and(|e| e.contains("not a port")));
        assert!(parse("release now").is_err_and(|e| e.contains("alone")));
        assert_eq!(parse_send_spec("5003:a: b"), Ok(Command::Send { dest: 5003, text: "a: b".into() }));
        assert!(parse_send_spec("hello").is_err_and(|e| e.contains("PORT:TEXT")));
        assert!(parse_send_spec("x:hello").is_err_and(|e| e.contains("not a port")));
        let long = format!("send 5003 {}", "x".repeat(MAX_TEXT + 1));
        assert!(parse(&long).is_err_and(|e| e.contains("limit")));
    }
}
