//! A run's identity, carried inside every envelope and acknowledgement of that run.
//!
//! A Fernet token proves who sealed it and when, not for which run: a token captured
//! in one run and replayed into the next on the same ports, within the TTL, opens and
//! decodes. A node given a [`RunId`] stamps it on everything it sends (inside the seal,
//! so it cannot be changed) and drops what carries another run's identity, or none.
//! `reparti run` draws a fresh one for every run ([`RunId::fresh`]); a cluster started
//! by hand may share one (`--run-id`, or `run_id` in the cluster file), or go without,
//! as a Python lab script does.

use std::fmt;
use std::str::FromStr;

/// The longest run identity, in bytes: room for a UUID or a date and a counter, and
/// a bound on what a hostile datagram can make a node compare.
pub const MAX_RUN_ID: usize = 64;

/// How many characters [`RunId::fresh`] draws: 96 bits of the operating system's
/// randomness, so that two runs never share one by chance.
const FRESH_LEN: usize = 16;

/// A run's identity: 1 to [`MAX_RUN_ID`] bytes of text without spaces or control
/// characters (on the wire, a JSON string, or an integer read as its decimal text).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct RunId(Box<str>);

impl RunId {
    /// Checks `text` and makes it a run identity.
    pub fn new(text: &str) -> Result<RunId, String> {
        if text.is_empty() {
            return Err("a run identity cannot be empty".into());
        }
        if text.len() > MAX_RUN_ID {
            return Err(format!("a run identity is at most {MAX_RUN_ID} bytes, not {}", text.len()));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("a run identity has no spaces or control characters: {text:?}"));
        }
        Ok(RunId(text.into()))
    }

    /// A fresh identity: 16 url-safe base64 characters from the operating
    /// system's generator (drawn through a new Fernet key, the one source of randomness
    /// this crate already trusts for keys).
    pub fn fresh() -> RunId {
        let key = crate::secure::Key::generate();
        // Letters and digits only: base64url's `-` and `_` would make an identity that
        // starts with `-` read as a flag on a command line (`--run-id -jX…`).
        let text: String =
            key.as_text().chars().take(FRESH_LEN).map(|c| if c.is_ascii_alphanumeric() { c } else { 'x' }).collect();
        RunId(text.into())
    }

    /// The identity as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RunId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunId::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_checked_text() {
        assert_eq!(RunId::new("run-7").map(|r| r.to_string()), Ok("run-7".to_string()));
        assert!(RunId::new("").is_err());
        assert!(RunId::new("two words").is_err());
        assert!(RunId::new("bell\u{7}").is_err());
        assert!(RunId::new(&"x".repeat(MAX_RUN_ID)).is_ok());
        assert!(RunId::new(&"x".repeat(MAX_RUN_ID + 1)).is_err());
    }

    #[test]
    fn fresh_identities_differ_and_are_valid() {
        let (a, b) = (RunId::fresh(), RunId::fresh());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), FRESH_LEN);
        assert_eq!(RunId::new(a.as_str()), Ok(a));
        for _ in 0..1000 {
            let id = RunId::fresh();
            assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        }
    }
}
