//! Physical clocks: a hardware clock that drifts, the correction an algorithm makes to
//! it, and the reading a handler sees — kept by the framework, outside the algorithm's
//! state, as Lamport and vector clocks are.
//!
//! Environment (real) time `t` is what an outside observer sees; no process can read it.
//! Each node has a **hardware clock** `H(t) = t·(1 + ρ) + θ₀`, with its own offset `θ₀`
//! and drift rate `ρ` ([`ClockSetting`], `ρ` in parts per million), and a **software
//! correction** that its algorithm changes through its context: stepped at once
//! ([`Context::set_clock`](crate::Context::set_clock),
//! [`Context::adjust_clock`](crate::Context::adjust_clock)) or slewed — spread over a
//! while, so that the clock speeds up or slows down but never jumps, and never runs
//! backwards ([`Context::slew_clock`](crate::Context::slew_clock)). The reading
//! `C(t) = H(t) + correction` is what [`Context::clock`](crate::Context::clock) returns.
//!
//! Each engine supplies real time its own way: the simulator's time, a real node's
//! monotonic clock since the run's epoch. Within one handler real time stands still (the
//! engine samples it once per event), which keeps a handler deterministic and lets a real
//! run's trace replay in the simulator with the very readings the nodes saw.
//!
//! Readings travel in messages and live in states, which must be `Eq + Hash`: a
//! [`ClockTime`] is an `f64` ordered and hashed by its bits' total order.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Add, Sub};

/// A clock reading, in time units: a float that can sit in a state or a message.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClockTime(pub f64);

impl ClockTime {
    /// Zero.
    pub const ZERO: ClockTime = ClockTime(0.0);

    /// The reading as a number.
    pub fn value(self) -> f64 {
        self.0
    }

    /// `0.0` and `-0.0` are one reading.
    fn key(self) -> f64 {
        if self.0 == 0.0 {
            0.0
        } else {
            self.0
        }
    }
}

impl PartialEq for ClockTime {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ClockTime {}

impl PartialOrd for ClockTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClockTime {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().total_cmp(&other.key())
    }
}

impl Hash for ClockTime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().to_bits().hash(state);
    }
}

impl Sub for ClockTime {
    type Output = f64;
    fn sub(self, other: ClockTime) -> f64 {
        self.0 - other.0
    }
}

impl Add<f64> for ClockTime {
    type Output = ClockTime;
    fn add(self, d: f64) -> ClockTime {
        ClockTime(self.0 + d)
    }
}

impl Sub<f64> for ClockTime {
    type Output = ClockTime;
    fn sub(self, d: f64) -> ClockTime {
        ClockTime(self.0 - d)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.0)
    }
}

/// One node's hardware clock: where it starts and how fast it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockSetting {
    /// The hardware clock's reading at real time 0, in time units.
    pub offset: f64,
    /// How much faster than real time it runs, in parts per million (negative: slower).
    pub drift_ppm: f64,
}

impl ClockSetting {
    /// The rate `1 + ρ` of the hardware clock.
    pub fn rate(&self) -> f64 {
        1.0 + self.drift_ppm * 1e-6
    }
}

/// The fastest a slew may change the clock's rate, as a fraction of it: a slew of `δ`
/// asked over less than `|δ| / MAX_SLEW_RATE` is stretched to that, so that a clock
/// slowed down still runs at least at half speed (it never stops or runs backwards).
pub const MAX_SLEW_RATE: f64 = 0.5;

/// A correction being spread over real time.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Slew {
    /// Real time from which the remaining correction is applied.
    from: f64,
    /// Real time at which it is all applied.
    until: f64,
    /// Correction per unit of real time.
    rate: f64,
}

/// A node's physical clock (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct PhysicalClock {
    setting: ClockSetting,
    /// The correction applied so far (steps and finished slews).
    correction: f64,
    slew: Option<Slew>,
}

impl PhysicalClock {
    /// A clock with this hardware setting, not corrected yet.
    pub fn new(setting: ClockSetting) -> Self {
        PhysicalClock { setting, correction: 0.0, slew: None }
    }

    /// Its hardware setting.
    pub fn setting(&self) -> ClockSetting {
        self.setting
    }

    /// The hardware clock at real time `real`, before any correction.
    pub fn hardware(&self, real: f64) -> f64 {
        real * self.setting.rate() + self.setting.offset
    }

    fn slewed(&self, real: f64) -> f64 {
        match self.slew {
            Some(s) => s.rate * (real.min(s.until) - s.from).max(0.0),
            None => 0.0,
        }
    }

    /// The reading at real time `real`.
    pub fn read(&self, real: f64) -> f64 {
        self.hardware(real) + self.correction + self.slewed(real)
    }

    /// How far the reading is ahead of real time at `real` (its true offset).
    pub fn offset(&self, real: f64) -> f64 {
        self.read(real) - real
    }

    /// Whether a slew is still being applied at `real`.
    pub fn slewing(&self, real: f64) -> bool {
        self.slew.is_some_and(|s| real < s.until)
    }

    /// Folds what a slew has applied by `real` into the correction.
    fn settle(&mut self, real: f64) {
        self.correction += self.slewed(real);
        self.slew = match self.slew {
            Some(s) if real < s.until => Some(Slew { from: real, ..s }),
            _ => None,
        };
    }

    /// Steps the reading by `delta` at once; a slew in progress goes on.
    pub fn step(&mut self, real: f64, delta: f64) {
        self.settle(real);
        self.correction += delta;
    }

    /// Steps the reading to `value` at once, ending any slew in progress.
    pub fn set(&mut self, real: f64, value: f64) {
        self.settle(real);
        self.slew = None;
        self.correction += value - self.read(real);
    }

    /// Spreads a correction of `delta` over `over` units of real time (at least
    /// `|delta| / MAX_SLEW_RATE`), replacing what a slew in progress had left to apply —
    /// as `adjtime(2)` does. Returns the real duration it takes.
    pub fn slew(&mut self, real: f64, delta: f64, over: f64) -> f64 {
        self.settle(real);
        let over = over.max(delta.abs() / MAX_SLEW_RATE);
        self.slew = (over > 0.0 && delta != 0.0).then_some(Slew { from: real, until: real + over, rate: delta / over });
        over
    }
}

/// Every node's physical clock and the real time now, as the engine knows them: what a
/// property compares clock readings with ([`crate::World::time`]).
pub struct TrueTime<'a> {
    /// Real time now.
    pub now: f64,
    /// Every node's clock, by position.
    pub clocks: &'a [PhysicalClock],
    /// The least delay a message can take from one node to another (the delay model's
    /// lower bound; 0 on a real network, where none is known).
    pub min_delay: &'a dyn Fn(crate::NodeId, crate::NodeId) -> f64,
}

impl TrueTime<'_> {
    /// Node `i`'s reading now.
    pub fn reading(&self, i: usize) -> f64 {
        self.clocks[i].read(self.now)
    }

    /// How far node `i`'s reading is ahead of real time now.
    pub fn offset(&self, i: usize) -> f64 {
        self.clocks[i].offset(self.now)
    }

    /// The greatest difference between the readings of the nodes `alive` selects.
    pub fn spread(&self, alive: impl Fn(usize) -> bool) -> f64 {
        let readings = (0..self.clocks.len()).filter(|&i| alive(i)).map(|i| self.reading(i));
        let (lo, hi) = readings.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| (lo.min(r), hi.max(r)));
        if hi >= lo {
            hi - lo
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(offset: f64, drift_ppm: f64) -> PhysicalClock {
        PhysicalClock::new(ClockSetting { offset, drift_ppm })
    }

    #[test]
    fn a_hardware_clock_drifts_from_its_offset() {
        let c = clock(5.0, 1000.0);
        assert_eq!(c.read(0.0), 5.0);
        assert!((c.read(1000.0) - 1006.0).abs() < 1e-9, "1000 ppm over 1000 units is one unit ahead");
        assert!((c.offset(1000.0) - 6.0).abs() < 1e-9);
    }

    #[test]
    fn a_step_moves_the_reading_at_once_and_a_set_reaches_its_value() {
        let mut c = clock(5.0, 0.0);
        c.step(10.0, -3.0);
        assert_eq!(c.read(10.0), 12.0);
        c.set(20.0, 100.0);
        assert_eq!(c.read(20.0), 100.0);
        assert_eq!(c.read(21.0), 101.0);
    }

    #[test]
    fn a_slew_spreads_its_correction_and_never_runs_the_clock_backwards() {
        let mut c = clock(0.0, 0.0);
        let took = c.slew(0.0, -10.0, 4.0);
        assert_eq!(took, 20.0, "stretched so the clock runs at least at half speed");
        let mut last = c.read(0.0);
        for k in 1..=30 {
            let now = c.read(f64::from(k));
            assert!(now > last, "the clock never stops or runs back");
            last = now;
        }
        assert!((c.offset(30.0) + 10.0).abs() < 1e-9, "the whole correction applied");
        assert!(!c.slewing(30.0));
    }

    #[test]
    fn a_new_slew_replaces_what_the_last_had_left() {
        let mut c = clock(0.0, 0.0);
        c.slew(0.0, 10.0, 100.0);
        assert!((c.offset(50.0) - 5.0).abs() < 1e-9, "half applied");
        c.slew(50.0, 1.0, 10.0);
        assert!((c.offset(100.0) - 6.0).abs() < 1e-9, "the first's remaining 5 dropped, as adjtime does");
    }

    #[test]
    fn readings_are_ordered_and_hashed_as_numbers() {
        use std::collections::BTreeSet;
        let set: BTreeSet<ClockTime> = [ClockTime(2.0), ClockTime(-0.0), ClockTime(0.0), ClockTime(1.5)].into();
        assert_eq!(set.into_iter().map(ClockTime::value).collect::<Vec<_>>(), vec![0.0, 1.5, 2.0]);
        assert_eq!(serde_json::to_string(&ClockTime(1.25)).ok().as_deref(), Some("1.25"));
    }
}
