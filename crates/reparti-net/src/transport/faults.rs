//! Fault injection: a seeded model of a lossy link, applied to every outgoing datagram or
//! frame before it reaches the socket.
//!
//! [`Faults`] says what the link does (drop, duplicate, delay, reorder); the
//! [`Injector`] turns each send into a [`Plan`] by drawing from a seeded generator, so a
//! run's fault pattern depends only on the seed and the order of the sends. Every send
//! draws the same number of values whatever the outcome, so the drop pattern of a seed
//! does not change when, say, duplication is switched on as well.

use super::link_delay::LinkDelay;
use rand::Rng as _;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// How long a datagram held back for reordering waits for a successor before it is sent
/// anyway, so that the last datagram of a burst is not stuck.
pub const REORDER_HOLD: Duration = Duration::from_millis(5);

/// What the link does to outgoing datagrams or frames. The default is a perfect link.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Probability of not sending at all.
    pub drop: f64,
    /// Probability of sending twice.
    pub dup: f64,
    /// Send after a delay drawn from this law. Delays reorder by themselves, so
    /// `reorder` has no further effect when a delay is given.
    pub delay: Option<LinkDelay>,
    /// Without a delay: hold each datagram with probability 1/2 and send it after the next
    /// one to the same destination (or after [`REORDER_HOLD`], whichever comes first).
    pub reorder: bool,
    /// The seed of the fault pattern.
    pub seed: u64,
}

impl Faults {
    /// True when the link is perfect (the seed aside).
    pub fn is_none(&self) -> bool {
        self.drop == 0.0 && self.dup == 0.0 && self.delay.is_none() && !self.reorder
    }

    /// Parses a delay: `const:5ms`, `uniform:5ms,20ms`, `exp:10ms` (see [`LinkDelay`]).
    pub fn parse_delay(text: &str) -> Result<LinkDelay, String> {
        LinkDelay::parse(text)
    }

    /// Parses a probability for the flag `name` (`"drop"`, `"dup"`): a number in `[0, 1]`.
    pub fn parse_probability(name: &str, text: &str) -> Result<f64, String> {
        let p = text
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("bad {name} probability {text:?}: give a number between 0 and 1, e.g. 0.1"))?;
        check_probability(name, p)?;
        Ok(p)
    }

    /// Checks that the settings make sense, with a one-line error naming the fix.
    pub fn validate(&self) -> Result<(), String> {
        check_probability("loss", self.drop)?;
        check_probability("dup", self.dup)?;
        if let Some(LinkDelay::Uniform { min, max }) = self.delay {
            if min > max {
                return Err(format!("bad delay: the minimum {min:?} is above the maximum {max:?}; swap them"));
            }
        }
        Ok(())
    }
}

fn check_probability(name: &str, p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("bad {name} probability {p}: give a number between 0 and 1, e.g. 0.1"))
    }
}

/// What to do with one copy of a datagram.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Send it now.
    Now(Vec<u8>),
    /// Send it after this delay.
    After(Duration, Vec<u8>),
    /// It was held back for reordering: release it after [`REORDER_HOLD`] unless a later
    /// send to the same destination has released it already (see [`Injector::release`]).
    Held { id: u64 },
}

/// The injector's decision for one send, in the order the steps must be carried out.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Dropped on purpose.
    pub dropped: bool,
    /// A second copy was made.
    pub duplicated: bool,
    /// The copies to send (and released held ones), in order.
    pub steps: Vec<Step>,
}

struct Held {
    id: u64,
    bytes: Vec<u8>,
}

/// Applies [`Faults`] to a stream of sends.
pub struct Injector {
    faults: Faults,
    /// The project's seeded generator: the same seed, the same faults.
    rng: reparti_core::Rng,
    /// At most one datagram held back per destination: reordering only matters within
    /// one link.
    held: HashMap<SocketAddr, Held>,
    next_hold_id: u64,
}

impl Injector {
    /// An injector for valid `faults` (see [`Faults::validate`]).
    pub fn new(faults: Faults) -> Self {
        let rng = reparti_core::rng(faults.seed);
        Injector { faults, rng, held: HashMap::new(), next_hold_id: 0 }
    }

    /// Decides the fate of one datagram to `to`.
    pub fn plan(&mut self, to: SocketAddr, bytes: Vec<u8>) -> Plan {
        // Always six draws, whatever is used: see the module documentation.
        let mut unit = || self.rng.gen::<f64>();
        let drop_draw = unit();
        let dup_draw = unit();
        let copy_draws = [(unit(), unit()), (unit(), unit())];

        let mut plan = Plan::default();
        if drop_draw < self.faults.drop {
            plan.dropped = true;
            return plan;
        }
        plan.duplicated = dup_draw < self.faults.dup;
        let copies = if plan.duplicated { vec![bytes.clone(), bytes] } else { vec![bytes] };
        for (copy, (delay_draw, hold_draw)) in copies.into_iter().zip(copy_draws) {
            if let Some(delay) = self.faults.delay {
                plan.steps.push(Step::After(delay.sample(delay_draw), copy));
            } else if !self.faults.reorder {
                plan.steps.push(Step::Now(copy));
            } else if let Some(held) = self.held.remove(&to) {
                plan.steps.push(Step::Now(copy));
                plan.steps.push(Step::Now(held.bytes));
            } else if hold_draw < 0.5 {
                let id = self.next_hold_id;
                self.next_hold_id += 1;
                self.held.insert(to, Held { id, bytes: copy });
                plan.steps.push(Step::Held { id });
            } else {
                plan.steps.push(Step::Now(copy));
            }
        }
        plan
    }

    /// Takes back the datagram held for `to` under `id`, if no later send released it.
    pub fn release(&mut self, to: SocketAddr, id: u64) -> Option<Vec<u8>> {
        match self.held.get(&to) {
            Some(held) if held.id == id => self.held.remove(&to).map(|held| held.bytes),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    #[test]
    fn probabilities_outside_zero_one_are_refused() {
        assert_eq!(Faults::parse_probability("drop", "0.25"), Ok(0.25));
        assert!(Faults::parse_probability("drop", "1.5").unwrap_err().contains("between 0 and 1"));
        assert!(Faults::parse_probability("dup", "NaN").is_err());
        assert!(Faults::parse_probability("dup", "ten").unwrap_err().starts_with("bad dup probability"));
        assert!(Faults { dup: -0.1, ..Faults::default() }.validate().is_err());
        assert!(Faults::default().validate().is_ok());
        assert!(Faults::default().is_none());
    }

    #[test]
    fn a_held_datagram_goes_out_after_the_next_one_or_on_release() {
        let mut injector = Injector::new(Faults { reorder: true, seed: 3, ..Faults::default() });
        let mut order = Vec::new();
        let mut pending = None;
        for i in 0..200u8 {
            for step in injector.plan(to(), vec![i]).steps {
                match step {
                    Step::Now(bytes) => order.push(bytes[0]),
                    Step::Held { id } => pending = Some(id),
                    Step::After(..) => panic!("no delay was asked for"),
                }
            }
        }
        if let Some(id) = pending {
            if let Some(bytes) = injector.release(to(), id) {
                order.push(bytes[0]);
            }
        }
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..200u8).collect::<Vec<_>>(), "nothing lost, nothing doubled");
        assert_ne!(order, sorted, "some datagrams overtook others");
    }

    #[test]
    fn delays_stay_within_bounds() {
        let (min, max) = (Duration::from_millis(5), Duration::from_millis(9));
        let mut injector =
            Injector::new(Faults { delay: Some(LinkDelay::Uniform { min, max }), dup: 0.5, ..Faults::default() });
        for i in 0..500u32 {
            for step in injector.plan(to(), i.to_be_bytes().to_vec()).steps {
                let Step::After(delay, _) = step else { panic!("every copy is delayed") };
                assert!(delay >= min && delay <= max, "{delay:?}");
            }
        }
    }
}
