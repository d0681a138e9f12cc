//! The network model: ordering, delays, loss, duplication, synchronous rounds, and faults.

use reparti_core::NodeId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How long a message takes from send to delivery.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Delay {
    /// Always `value`.
    Const {
        /// The delay.
        value: f64,
    },
    /// Uniform in `[min, max]`.
    Uniform {
        /// The least delay.
        min: f64,
        /// The greatest delay.
        max: f64,
    },
    /// Exponential with the given mean.
    Exp {
        /// The mean delay.
        mean: f64,
    },
}

impl Default for Delay {
    fn default() -> Self {
        Delay::Const { value: 1.0 }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::Const { value } => write!(f, "const:{value}"),
            Delay::Uniform { min, max } => write!(f, "uniform:{min},{max}"),
            Delay::Exp { mean } => write!(f, "exp:{mean}"),
        }
    }
}

/// Why a network flag does not parse.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct NetworkError(pub String);

fn number(s: &str, what: &str) -> Result<f64, NetworkError> {
    let v: f64 = s.trim().parse().map_err(|_| NetworkError(format!("{what}: '{s}' is not a number")))?;
    if !v.is_finite() || v < 0.0 {
        return Err(NetworkError(format!("{what}: '{s}' must be a finite number ≥ 0")));
    }
    Ok(v)
}

impl FromStr for Delay {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self, NetworkError> {
        let usage = "expected const:D, uniform:A,B or exp:MEAN (e.g. --delay uniform:1,10)";
        let (kind, args) = s.split_once(':').ok_or_else(|| NetworkError(format!("bad --delay '{s}': {usage}")))?;
        let d = match kind {
            "const" => Delay::Const { value: number(args, "--delay const")? },
            "uniform" => {
                let (a, b) = args.split_once(',').ok_or_else(|| NetworkError(format!("bad --delay '{s}': {usage}")))?;
                let (min, max) = (number(a, "--delay uniform")?, number(b, "--delay uniform")?);
                if min > max {
                    return Err(NetworkError(format!(
                        "bad --delay '{s}': the minimum {min} exceeds the maximum {max}"
                    )));
                }
                Delay::Uniform { min, max }
            }
            "exp" => Delay::Exp { mean: number(args, "--delay exp")? },
            _ => return Err(NetworkError(format!("bad --delay '{s}': {usage}"))),
        };
        Ok(d)
    }
}

/// Channel behaviour for a whole run.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct NetworkModel {
    /// Messages on one channel are delivered in the order they were sent.
    pub fifo: bool,
    /// The delay distribution.
    pub delay: Delay,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub dup: f64,
    /// Synchronous rounds: every message sent in round r is delivered at the start of
    /// round r+1 (forces a constant delay of 1 and FIFO).
    pub sync: bool,
}

impl Default for NetworkModel {
    fn default() -> Self {
        NetworkModel { fifo: true, delay: Delay::default(), loss: 0.0, dup: 0.0, sync: false }
    }
}

/// A fault injected at a given time.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fault {
    /// Node `node` stops for good at time `at` (crash-stop).
    Crash {
        /// The node.
        node: NodeId,
        /// When.
        at: f64,
    },
    /// The first message from `from` to `to` of type `message` (and, if given, whose
    /// debug form is `payload`, compared ignoring case, e.g. `Elect(5)`) sent at or after
    /// `after` takes `by` extra time units.
    DelayMessage {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message type, e.g. `ELECT`.
        message: String,
        /// The message's debug form, e.g. `Elect(5)`.
        payload: Option<String>,
        /// Not before this time.
        after: f64,
        /// The extra delay.
        by: f64,
    },
    /// Messages between `nodes` and the other nodes are lost while `from ≤ t < until`
    /// (at either the send or the delivery time).
    Partition {
        /// One side of the cut.
        nodes: Vec<NodeId>,
        /// When the cut begins.
        from: f64,
        /// When it heals.
        until: f64,
    },
    /// Every message from `from` to `to` takes `delay` instead of the network's: an
    /// asymmetric path (the way back keeps the network's delay unless given too).
    LinkDelay {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The channel's delay.
        delay: Delay,
    },
}

impl Fault {
    /// Parses `NODE@T` (a crash).
    pub fn parse_crash(s: &str) -> Result<Fault, NetworkError> {
        let usage = format!("bad --crash '{s}': expected NODE@TIME, e.g. --crash 3@10");
        let (node, at) = s.split_once('@').ok_or_else(|| NetworkError(usage.clone()))?;
        let node: u32 = node.trim().parse().map_err(|_| NetworkError(usage.clone()))?;
        Ok(Fault::Crash { node: NodeId(node), at: number(at, "--crash time")? })
    }

    /// Parses `A,B,C@T1..T2` (a partition of nodes A, B, C from the rest).
    pub fn parse_partition(s: &str) -> Result<Fault, NetworkError> {
        let usage = format!("bad --partition '{s}': expected NODES@FROM..UNTIL, e.g. --partition 1,2@5..20");
        let (nodes, span) = s.split_once('@').ok_or_else(|| NetworkError(usage.clone()))?;
        let (from, until) = span.split_once("..").ok_or_else(|| NetworkError(usage.clone()))?;
        let nodes = nodes
            .split(',')
            .map(|x| x.trim().parse::<u32>().map(NodeId))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| NetworkError(usage.clone()))?;
        let (from, until) = (number(from, "--partition start")?, number(until, "--partition end")?);
        if from >= until {
            return Err(NetworkError(format!("bad --partition '{s}': it must start before it ends")));
        }
        Ok(Fault::Partition { nodes, from, until })
    }

    /// Parses `A>B=DELAY` (the channel from A to B has its own delay).
    pub fn parse_link_delay(s: &str) -> Result<Fault, NetworkError> {
        let usage = format!("bad --link-delay '{s}': expected FROM>TO=DELAY, e.g. --link-delay 0>1=const:5");
        let (link, delay) = s.split_once('=').ok_or_else(|| NetworkError(usage.clone()))?;
        let (from, to) = link.split_once('>').ok_or_else(|| NetworkError(usage.clone()))?;
        let node = |x: &str| x.trim().parse::<u32>().map(NodeId).map_err(|_| NetworkError(usage.clone()));
        let delay: Delay =
            delay.parse().map_err(|e: NetworkError| NetworkError(format!("--link-delay {s}: {}", e.0)))?;
        Ok(Fault::LinkDelay { from: node(from)?, to: node(to)?, delay })
    }

    /// The nodes this fault names.
    pub fn nodes(&self) -> Vec<NodeId> {
        match self {
            Fault::Crash { node, .. } => vec![*node],
            Fault::Partition { nodes, .. } => nodes.clone(),
            Fault::DelayMessage { from, to, .. } | Fault::LinkDelay { from, to, .. } => vec![*from, *to],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_parse_and_print_back() {
        for s in ["const:1", "uniform:1,10", "exp:5"] {
            assert_eq!(s.parse::<Delay>().map(|d| d.to_string()), Ok(s.to_string()));
        }
        assert!("uniform:10,1".parse::<Delay>().is_err());
        assert!("gauss:1".parse::<Delay>().is_err());
        assert!("const:-1".parse::<Delay>().is_err());
    }

    #[test]
    fn faults_parse() {
        assert_eq!(Fault::parse_crash("3@10"), Ok(Fault::Crash { node: NodeId(3), at: 10.0 }));
        assert_eq!(
            Fault::parse_partition("1,2@5..20"),
            Ok(Fault::Partition { nodes: vec![NodeId(1), NodeId(2)], from: 5.0, until: 20.0 })
        );
        assert!(Fault::parse_partition("1,2@20..5").is_err());
        assert!(Fault::parse_crash("x@1").is_err());
    }
}
