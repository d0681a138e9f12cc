//! The clients' workload, shared by every protocol of the chapter: how many clients,
//! how many operations each, over how many registers, in what mix, how far apart —
//! drawn from the run's seed, so that the same seed asks the same things.
//!
//! Written values are unique (1, 2, 3, … in the order drawn), so that a read names the
//! write it saw and a history is easy to judge by eye; a compare-and-set expects a value
//! already drawn for its register (it may or may not be there when it runs) and puts a
//! fresh one in its place.

use rand::Rng as _;
use reparti_core::history::Operation;
use reparti_core::{NodeId, ParamError, Params, ScheduledInput, WorkloadSetup};
use std::collections::BTreeMap;

/// The workload's parameters, to be listed in each protocol's `params` (after its own).
#[macro_export]
macro_rules! memory_params {
    ($($own:expr),* $(,)?) => {
        &[
            $($own,)*
            reparti_core::ParamSpec::int("clients", "0", 0, 1_000_000, "how many nodes (0..clients−1) issue operations; 0: every node"),
            reparti_core::ParamSpec::int("ops", "3", 0, 1_000_000, "operations per client"),
            reparti_core::ParamSpec::int("keys", "1", 1, 1_000_000, "registers the operations touch"),
            reparti_core::ParamSpec::real("reads", "0.5", 0.0, 1.0, "share of reads"),
            reparti_core::ParamSpec::real("cas", "0", 0.0, 1.0, "share of compare-and-sets (the rest are writes)"),
            reparti_core::ParamSpec::real("think", "4", 0.0, 1e9, "mean time between a client's requests (uniform on 0..2·think)"),
        ]
    };
}

/// What the clients do.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// How many nodes issue operations (0: all).
    pub clients: usize,
    /// Operations per client.
    pub ops: u32,
    /// Registers touched.
    pub keys: u32,
    /// Share of reads.
    pub reads: f64,
    /// Share of compare-and-sets.
    pub cas: f64,
    /// Mean time between a client's requests.
    pub think: f64,
}

impl Workload {
    /// Reads the parameters [`memory_params!`] lists.
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        let w = Workload {
            clients: params.get::<usize>("clients")?,
            ops: params.get("ops")?,
            keys: params.get("keys")?,
            reads: params.get("reads")?,
            cas: params.get("cas")?,
            think: params.get("think")?,
        };
        if w.reads + w.cas > 1.0 {
            return Err(ParamError::Invalid {
                name: "cas".into(),
                value: w.cas.to_string(),
                why: format!(
                    "reads={} and cas={} add up to more than 1: lower one of them (the rest are writes)",
                    w.reads, w.cas
                ),
            });
        }
        Ok(w)
    }

    /// Whether `n` nodes can host the clients.
    pub fn check_size(&self, n: usize) -> Result<(), String> {
        if self.clients > n {
            return Err(format!(
                "clients={} but only {n} nodes host them: give clients ≤ {n}, or more nodes",
                self.clients
            ));
        }
        Ok(())
    }

    /// The nodes that issue operations.
    pub fn client_count(&self, n: usize) -> usize {
        if self.clients == 0 {
            n
        } else {
            self.clients.min(n)
        }
    }

    /// Every client's operations, at their times.
    pub fn draw(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Operation>> {
        let mut next_value = 0i64;
        let mut written: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
        let mut inputs = Vec::new();
        for client in 0..self.client_count(setup.n) {
            let mut at = 0.0;
            for _ in 0..self.ops {
                at += rng.gen::<f64>() * 2.0 * self.think;
                let key = rng.gen_range(0..self.keys);
                let roll: f64 = rng.gen();
                let op = if roll < self.reads {
                    Operation::Read { key }
                } else {
                    next_value += 1;
                    let seen = written.entry(key).or_default();
                    let op = match seen.len() {
                        len if roll < self.reads + self.cas && len > 0 => {
                            Operation::Cas { key, from: seen[rng.gen_range(0..len)], to: next_value }
                        }
                        _ => Operation::Write { key, value: next_value },
                    };
                    seen.push(next_value);
                    op
                };
                inputs.push(ScheduledInput { at, node: NodeId(client as u32), input: op });
            }
        }
        inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_core::{ParamSpec, Topology, TopologyKind};

    const PARAMS: &[ParamSpec] = memory_params!();

    fn draw(given: &[(&str, &str)], n: usize, seed: u64) -> Vec<ScheduledInput<Operation>> {
        let given: Vec<_> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let w = Workload::from_params(&Params::resolve("memory", PARAMS, &given).unwrap()).unwrap();
        let topo = Topology::build(&TopologyKind::Complete, n, &mut reparti_core::rng(0)).unwrap();
        let idents: Vec<u64> = (1..=n as u64).collect();
        w.draw(&WorkloadSetup { n, idents: &idents, topology: &topo }, &mut reparti_core::rng(seed))
    }

    #[test]
    fn every_client_gets_its_operations_in_time_order_with_unique_written_values() {
        let w = draw(&[("ops", "20"), ("keys", "3"), ("cas", "0.2")], 4, 7);
        assert_eq!(w.len(), 80);
        for c in 0..4 {
            let times: Vec<f64> = w.iter().filter(|s| s.node == NodeId(c)).map(|s| s.at).collect();
            assert_eq!(times.len(), 20);
            assert!(times.windows(2).all(|p| p[0] <= p[1]));
        }
        let mut values: Vec<i64> = w
            .iter()
            .filter_map(|s| match s.input {
                Operation::Write { value, .. } | Operation::Cas { to: value, .. } => Some(value),
                Operation::Read { .. } => None,
            })
            .collect();
        let count = values.len();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), count, "written values are unique");
        assert!(w.iter().any(|s| matches!(s.input, Operation::Cas { .. })));
        assert!(w.iter().all(|s| s.input.key() < 3));
        assert_eq!(w, draw(&[("ops", "20"), ("keys", "3"), ("cas", "0.2")], 4, 7), "same seed, same workload");
    }

    #[test]
    fn clients_limit_who_asks_and_shares_above_one_are_refused() {
        let w = draw(&[("clients", "2")], 5, 1);
        assert!(w.iter().all(|s| s.node.0 < 2));
        let given = vec![("reads".to_string(), "0.8".to_string()), ("cas".to_string(), "0.5".to_string())];
        let err = Workload::from_params(&Params::resolve("memory", PARAMS, &given).unwrap()).unwrap_err();
        assert!(err.to_string().contains("add up to more than 1"), "{err}");
    }
}
