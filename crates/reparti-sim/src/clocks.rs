//! Physical clocks in the simulator: how each node's hardware clock is set (offset and
//! drift, drawn from the seed or given per node), and the least delay of each channel,
//! which the clock-synchronization bounds are stated in.
//!
//! Settings are drawn from their own random stream (the seed, mixed with a constant), so
//! that adding a clock to a run leaves every other random choice of the run — delays,
//! losses, the workload — exactly as it was.

use crate::config::SimConfig;
use crate::engine::Simulation;
use crate::network::{Delay, Fault, NetworkError};
use rand::Rng as _;
use reparti_core::trace::EventKind;
use reparti_core::{Algorithm, ClockAt, ClockChange, ClockHow, ClockSetting, NodeId, PhysicalClock};
use serde::Serialize;
use std::fmt;
use std::io::Write;
use std::str::FromStr;

/// A distribution of a clock parameter (an offset, or a drift in ppm); values may be
/// negative.
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Spread {
    /// Always `value`.
    Const {
        /// The value.
        value: f64,
    },
    /// Uniform in `[min, max]`.
    Uniform {
        /// The least value.
        min: f64,
        /// The greatest value.
        max: f64,
    },
    /// Normal with this mean and standard deviation.
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        sd: f64,
    },
}

impl Spread {
    /// Draws one value.
    pub fn draw(&self, rng: &mut reparti_core::Rng) -> f64 {
        match *self {
            Spread::Const { value } => value,
            Spread::Uniform { min, max } => {
                if max > min {
                    rng.gen_range(min..=max)
                } else {
                    min
                }
            }
            Spread::Normal { mean, sd } => {
                // Box–Muller: two uniform draws make one normal one.
                let (u1, u2): (f64, f64) = (1.0 - rng.gen::<f64>(), rng.gen());
                mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            }
        }
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spread::Const { value } => write!(f, "const:{value}"),
            Spread::Uniform { min, max } => write!(f, "uniform:{min},{max}"),
            Spread::Normal { mean, sd } => write!(f, "normal:{mean},{sd}"),
        }
    }
}

fn signed(s: &str, what: &str) -> Result<f64, NetworkError> {
    let v: f64 = s.trim().parse().map_err(|_| NetworkError(format!("{what}: '{s}' is not a number")))?;
    if !v.is_finite() {
        return Err(NetworkError(format!("{what}: '{s}' must be a finite number")));
    }
    Ok(v)
}

impl FromStr for Spread {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self, NetworkError> {
        let usage = "expected a number, const:V, uniform:A,B or normal:MEAN,SD (e.g. uniform:-50,50)";
        let bad = || NetworkError(format!("bad clock spread '{s}': {usage}"));
        let Some((kind, args)) = s.split_once(':') else {
            return signed(s, "clock spread").map(|value| Spread::Const { value }).map_err(|_| bad());
        };
        let pair = |args: &str| -> Result<(f64, f64), NetworkError> {
            let (a, b) = args.split_once(',').ok_or_else(bad)?;
            Ok((signed(a, "clock spread")?, signed(b, "clock spread")?))
        };
        match kind {
            "const" => Ok(Spread::Const { value: signed(args, "clock spread")? }),
            "uniform" => {
                let (min, max) = pair(args)?;
                if min > max {
                    return Err(NetworkError(format!(
                        "bad clock spread '{s}': the minimum {min} exceeds the maximum {max}"
                    )));
                }
                Ok(Spread::Uniform { min, max })
            }
            "normal" => {
                let (mean, sd) = pair(args)?;
                if sd < 0.0 {
                    return Err(NetworkError(format!(
                        "bad clock spread '{s}': a standard deviation cannot be negative"
                    )));
                }
                Ok(Spread::Normal { mean, sd })
            }
            _ => Err(bad()),
        }
    }
}

/// How the nodes' hardware clocks are set, for algorithms that read physical clocks.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct ClockConfig {
    /// Each clock's offset at real time 0, in time units.
    pub offset: Spread,
    /// Each clock's drift, in parts per million.
    pub drift: Spread,
    /// Nodes whose clock is given rather than drawn (a scenario's `[[clock]]`, or a
    /// faulty clock): `(node, setting)`.
    pub given: Vec<(u32, ClockSetting)>,
}

/// The default spread of offsets: `uniform:-50,50` time units.
pub const DEFAULT_OFFSET: Spread = Spread::Uniform { min: -50.0, max: 50.0 };
/// The default spread of drifts: `uniform:-100,100` ppm, a cheap quartz oscillator's.
pub const DEFAULT_DRIFT: Spread = Spread::Uniform { min: -100.0, max: 100.0 };

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig { offset: DEFAULT_OFFSET, drift: DEFAULT_DRIFT, given: Vec::new() }
    }
}

/// Mixed into the seed for the clocks' own random stream ("clocks" in ASCII).
const CLOCK_STREAM: u64 = 0x636c_6f63_6b73;

impl ClockConfig {
    /// Every node's setting for a run of `n` nodes with this seed: drawn, then the given
    /// ones put in place. A given node outside the run is an error naming it.
    pub fn settings(&self, n: usize, seed: u64) -> Result<Vec<ClockSetting>, String> {
        let mut rng = reparti_core::rng(seed ^ CLOCK_STREAM);
        let mut all: Vec<ClockSetting> = (0..n)
            .map(|_| {
                let offset = self.offset.draw(&mut rng);
                ClockSetting { offset, drift_ppm: self.drift.draw(&mut rng) }
            })
            .collect();
        for &(node, setting) in &self.given {
            let Some(slot) = all.get_mut(node as usize) else {
                return Err(format!("a clock is given for node {node}, but the nodes are 0..{}", n.saturating_sub(1)));
            };
            *slot = setting;
        }
        if let Some(bad) = all.iter().position(|s| s.rate() <= 0.0) {
            return Err(format!(
                "node {bad}'s clock drifts {} ppm: a clock must run forward (drift above -1000000 ppm)",
                all[bad].drift_ppm
            ));
        }
        Ok(all)
    }
}

impl Delay {
    /// The least delay this model can give (what Cristian's and Lamport's bounds call
    /// `min` and `μ`).
    pub fn min(&self) -> f64 {
        match *self {
            Delay::Const { value } => value,
            Delay::Uniform { min, .. } => min,
            Delay::Exp { .. } => 0.0,
        }
    }
}

/// The delay model of the channel `from → to`: its own (`--link-delay`) or the network's.
pub(crate) fn channel_delay(cfg: &SimConfig, from: u32, to: u32) -> Delay {
    cfg.faults
        .iter()
        .find_map(|f| match f {
            Fault::LinkDelay { from: a, to: b, delay } if a.0 == from && b.0 == to => Some(*delay),
            _ => None,
        })
        .unwrap_or(cfg.network.delay)
}

/// The least delay a message from `from` to `to` can take in this run.
pub(crate) fn min_delay(cfg: &SimConfig, from: NodeId, to: NodeId) -> f64 {
    channel_delay(cfg, from.0, to.0).min()
}

/// Every node's physical clock at the start, for an algorithm that reads them (`None`
/// for the others: no clock is kept).
pub(crate) fn physical_clocks(
    spec: &reparti_core::AlgorithmSpec,
    cfg: &SimConfig,
    n: usize,
) -> Result<Option<Vec<PhysicalClock>>, crate::SimError> {
    if !spec.reads_physical_clock {
        return Ok(None);
    }
    let settings = cfg.clocks.settings(n, cfg.seed).map_err(crate::SimError::Fault)?;
    Ok(Some(settings.into_iter().map(PhysicalClock::new).collect()))
}

/// The simulation's side of physical clocks: readings for the trace, real time, and the
/// trace line of a correction.
impl<A: Algorithm, W: Write> Simulation<A, W> {
    /// Node `node`'s physical clock reading now, when physical clocks are kept.
    pub(crate) fn clock_reading(&self, node: u32) -> Option<f64> {
        self.physical.as_ref().and_then(|c| c.get(node as usize)).map(|c| c.read(self.real_now()))
    }

    /// Real time now: simulated time, unless a replay says otherwise.
    pub(crate) fn real_now(&self) -> f64 {
        self.real_override.unwrap_or(self.now)
    }

    /// Every node's physical clock, when the algorithm reads them.
    pub fn physical_clocks(&self) -> Option<&[PhysicalClock]> {
        self.physical.as_deref()
    }

    /// Traces `node`'s clock correction (a `clock` event with its change).
    pub(crate) fn trace_clock_change(&mut self, node: NodeId, change: ClockChange, at: ClockAt<'_>) {
        self.trace_at(node.0, EventKind::Clock, at, |e| {
            e.adjust = Some(change.delta);
            e.text = Some(change.how.name().to_string());
            if let ClockHow::Slew { over } = change.how {
                e.over = Some(over);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_parse_print_back_and_refuse_nonsense_in_one_line() {
        for s in ["const:-3", "uniform:-50,50", "normal:0,10"] {
            assert_eq!(s.parse::<Spread>().map(|d| d.to_string()), Ok(s.to_string()));
        }
        assert_eq!("7".parse::<Spread>(), Ok(Spread::Const { value: 7.0 }));
        for bad in ["uniform:5,-5", "normal:0,-1", "gauss:1", "uniform:1", "nan", "const:inf"] {
            let e = bad.parse::<Spread>().expect_err(bad);
            assert!(!e.0.contains('\n'), "{e}");
        }
    }

    #[test]
    fn settings_are_drawn_from_the_seed_and_given_ones_win() {
        let mut cfg = ClockConfig::default();
        let a = cfg.settings(5, 9);
        assert_eq!(a, cfg.settings(5, 9), "the same seed, the same clocks");
        assert_ne!(a, cfg.settings(5, 10));
        cfg.given = vec![(2, ClockSetting { offset: 500.0, drift_ppm: 0.0 })];
        let b = cfg.settings(5, 9).expect("fits");
        assert_eq!(b[2].offset, 500.0);
        assert_eq!(b[0], a.expect("fits")[0], "the others are drawn as before");
        cfg.given = vec![(7, ClockSetting::default())];
        assert!(cfg.settings(5, 9).expect_err("outside").contains("node 7"));
    }
}
