//! How a node's messages travel — encoding, key, reliable layer, injected faults: the
//! flags `reparti node` and `reparti run` share, parsed and checked in one place.

use crate::error::usage;
use clap::Args;
use reparti_net::secure::Key;
use reparti_net::transport::Faults;
use reparti_net::wire::Wire;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct LinkFlags {
    /// Encoding of the messages sent: json (what the labs' Python speaks) or binary (postcard).
    #[arg(long, default_value = "json")]
    pub wire: String,

    /// Encrypt and authenticate every datagram or frame with this Fernet key (`reparti keygen -o F`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// The reliable channel layer (acknowledgements, retransmission, no duplicates, FIFO
    /// when the algorithm needs it): on, or off for raw datagrams (to see what raw UDP does
    /// to an algorithm, or when a lab script that sends no acknowledgements takes part).
    #[arg(long, default_value = "on", value_name = "on|off")]
    pub reliable: String,

    /// Inject loss: lose each datagram or frame sent with probability P, in [0, 1] (as
    /// `sim --loss`). `--drop` is read too.
    #[arg(long = "loss", alias = "drop", default_value_t = 0.0, value_name = "P")]
    pub loss: f64,

    /// Inject duplication: send each datagram or frame twice with probability P, in [0, 1].
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub dup: f64,

    /// Inject delay, in `sim --delay`'s forms with units: const:5ms, uniform:5ms,20ms or
    /// exp:10ms (units ms, s or us; a plain number is milliseconds).
    #[arg(long, value_name = "DELAY")]
    pub delay: Option<String>,

    /// Inject reordering: let datagrams overtake each other.
    #[arg(long)]
    pub reorder: bool,
}

impl LinkFlags {
    /// The encoding.
    pub fn wire(&self) -> anyhow::Result<Wire> {
        self.wire.parse().map_err(|e: String| usage(format!("--wire: {e}")))
    }

    /// The key, read from its file.
    pub fn key(&self) -> anyhow::Result<Option<Key>> {
        self.key_file.as_deref().map(|path| Key::from_file(path).map_err(|e| usage(e.to_string()))).transpose()
    }

    /// Whether the reliable layer is on.
    pub fn reliable(&self) -> anyhow::Result<bool> {
        match self.reliable.as_str() {
            "on" | "true" | "yes" => Ok(true),
            "off" | "false" | "no" => Ok(false),
            other => Err(usage(format!("--reliable {other}: write on or off"))),
        }
    }

    /// The injected faults, checked; `seed` makes the pattern repeatable.
    pub fn faults(&self, seed: u64) -> anyhow::Result<Faults> {
        let delay = match &self.delay {
            Some(d) => Some(Faults::parse_delay(d).map_err(|e| usage(format!("--delay: {e}")))?),
            None => None,
        };
        let faults = Faults { drop: self.loss, dup: self.dup, delay, reorder: self.reorder, seed };
        faults.validate().map_err(|e| usage(format!("{e} (--loss and --dup take probabilities in [0, 1])")))?;
        Ok(faults)
    }

    /// Every flag checked at once, so that a mistake is reported before anything starts.
    pub fn check(&self) -> anyhow::Result<()> {
        self.wire()?;
        self.key()?;
        self.reliable()?;
        self.faults(0)?;
        Ok(())
    }

    /// The same flags as command-line arguments, for a child process (the key file made
    /// absolute, since the child may run elsewhere).
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![
            "--wire".to_string(),
            self.wire.clone(),
            "--reliable".into(),
            self.reliable.clone(),
            "--loss".into(),
            self.loss.to_string(),
            "--dup".into(),
            self.dup.to_string(),
        ];
        if let Some(d) = &self.delay {
            a.extend(["--delay".into(), d.clone()]);
        }
        if self.reorder {
            a.push("--reorder".into());
        }
        if let Some(k) = &self.key_file {
            let abs = std::fs::canonicalize(k).unwrap_or_else(|_| k.clone());
            a.extend(["--key-file".into(), abs.display().to_string()]);
        }
        a
    }
}
