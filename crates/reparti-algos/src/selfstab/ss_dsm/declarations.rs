//! What the engines judge: the legitimacy predicate, the directory check, and the
//! algorithm's parameters, commands, properties and counts.

use super::*;

/// Whether `nodes` (the whole system, by position) is legitimate: for every page, one
/// privilege; at most one writer, the privileged node, holding the home's granted lock;
/// every copy holding the same version and value, the home's unless the home is locked
/// (then every reader but the lock's holder holds the home's). `Err` says what is wrong.
pub fn legitimate(nodes: &[Node], n: usize) -> Result<(), String> {
    if nodes.len() != n || n < 2 {
        return Err(format!("{} nodes, expected {n} (at least 2)", nodes.len()));
    }
    let pages = nodes[0].pages.len();
    for p in 0..pages {
        let x = |i: usize| nodes[i].pages[p].x;
        let privileged: Vec<usize> =
            (0..n).filter(|&i| if i == 0 { x(0) == x(n - 1) } else { x(i) != x(i - 1) }).collect();
        if privileged.len() != 1 {
            let xs: Vec<u32> = (0..n).map(x).collect();
            return Err(format!("page {p}: privileged {privileged:?} (counters {xs:?})"));
        }
        let with = |a: Access| -> Vec<usize> { (0..n).filter(|&i| nodes[i].pages[p].access == a).collect() };
        let writers = with(Access::Write);
        if writers.len() > 1 || writers.first().is_some_and(|&w| w != privileged[0]) {
            return Err(format!("page {p}: write access at {writers:?}, privileged {}", privileged[0]));
        }
        let h = p % n;
        let Some(home) = nodes[h].homes.get(&(p as u32)) else {
            return Err(format!("page {p}: node {h}, its home, has no directory for it"));
        };
        if let Some(&w) = writers.first() {
            if !home.lock.as_ref().is_some_and(|l| l.holder.index() == w && l.granted) {
                return Err(format!("page {p}: node {w} writes, but the home's lock is {:?}", home.lock));
            }
        }
        let copies: Vec<(usize, Stamp)> =
            (0..n).filter(|&i| nodes[i].pages[p].access != Access::Nil).map(|i| (i, nodes[i].pages[p].stamp)).collect();
        if let Some(&(i, s)) = copies.iter().find(|(_, s)| *s != copies[0].1) {
            return Err(format!("page {p}: node {} holds {:?}, node {i} {s:?}", copies[0].0, copies[0].1));
        }
        let holder = home.lock.as_ref().map(|l| l.holder.index());
        if let Some(&(i, s)) = copies.iter().find(|&&(i, s)| Some(i) != holder && s != home.stamp) {
            return Err(format!("page {p}: node {i} holds {s:?}, the home {:?} (lock {:?})", home.stamp, home.lock));
        }
    }
    Ok(())
}

/// Whether each home's last report of every node is that node's actual copy (access,
/// and version and value when it holds one). True at the end of a legitimate run; in
/// the middle of one the reports lag by up to a period.
pub fn directory_matches(nodes: &[Node], n: usize) -> Result<(), String> {
    let pages = nodes.first().map_or(0, |s| s.pages.len());
    for p in 0..pages {
        let h = p % n;
        let Some(home) = nodes.get(h).and_then(|s| s.homes.get(&(p as u32))) else {
            return Err(format!("page {p}: node {h}, its home, has no directory for it"));
        };
        for (j, node) in nodes.iter().enumerate() {
            let actual = node.pages[p];
            let agrees = home.reports.get(j).copied().flatten().is_some_and(|r| {
                r.access == actual.access && (actual.access == Access::Nil || r.stamp == actual.stamp)
            });
            if !agrees {
                return Err(format!(
                    "page {p}: the home's report of node {j} is {:?}, but it has {:?} {:?}",
                    home.reports.get(j).copied().flatten(),
                    actual.access,
                    actual.stamp
                ));
            }
        }
    }
    Ok(())
}

/// The self-stabilizing shared memory. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SsDsm {
    pages: u32,
    k: String,
    period: u32,
    periods: u32,
    timeout: u32,
    ops: u32,
    reads: f64,
    corrupt: usize,
    corrupt_at: f64,
}

pub(super) const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("pages", "1", 1, 64, "pages of the shared memory (page p's home is node p mod n)"),
    ParamSpec::text("k", "n+1", "K-state values per page: n, n+1, … or a number ≥ n (the ring needs K ≥ n)"),
    ParamSpec::int("period", "10", 1, 1_000_000, "time units between two periods (longer than 4 delays)"),
    ParamSpec::int("periods", "60", 1, 1_000_000, "periods each node runs before it stops (the run then ends)"),
    ParamSpec::int("timeout", "3", 2, 1_000, "periods after which a request, or a lock at the home, is given up"),
    ParamSpec::int("ops", "4", 0, 1_000_000, "client operations per node, over the first two thirds of the run"),
    ParamSpec::real("reads", "0.5", 0.0, 1.0, "share of reads among the operations (the rest are writes)"),
    ParamSpec::int("corrupt", "0", 0, 1_000_000, "how many nodes have their memory overwritten at corrupt_at"),
    ParamSpec::int("corrupt_at", "205", 0, 1_000_000_000, "when (time units) the corrupt nodes are overwritten"),
];

/// The chapter's `read`, `write` and `cas`, and `corrupt SEED`.
const COMMANDS: &[Command] = &[
    crate::memory::COMMANDS[0],
    crate::memory::COMMANDS[1],
    crate::memory::COMMANDS[2],
    Command {
        word: "corrupt",
        variant: "Corrupt",
        args: &[CommandArg { field: "seed", kind: ArgKind::Int }],
        help: "overwrite this node's counters, copies and directory with arbitrary values (SEED picks them)",
    },
];

impl SsDsm {
    /// K for `n` nodes.
    fn k_for(&self, n: usize) -> Result<u32, String> {
        let k = reparti_core::guarded::parse_relative(&self.k, n)
            .ok_or_else(|| format!("parameter k={}: expected n, n+1, … (here n = {n}) or a number", self.k))?;
        if k < n {
            return Err(format!("parameter k={k}: the K-state ring needs K ≥ n = {n} here; give k=n+1"));
        }
        u32::try_from(k).map_err(|_| format!("parameter k={k} is too large; give k=n+1"))
    }
}

/// The K-state ring's worst case in steps under the distributed daemon, from
/// `reparti check dijkstra-k-state -n N -p k=n|n+1 --daemon distributed` (the same for
/// K = n and K = n + 1); a period of the ring here is one synchronous step, which the
/// distributed daemon's worst case bounds.
fn ring_steps(n: usize, k: usize) -> Option<u32> {
    if k != n && k != n + 1 {
        return None;
    }
    match n {
        3 => Some(3),
        4 => Some(13),
        5 => Some(24),
        6 => Some(38),
        _ => None,
    }
}

/// §7.5's bound on the time from a transient fault back to L, for n nodes: the ring's
/// stabilization, then one report period for every wrong copy and access to reach the
/// home, then the round trip of its `INV` (two delays, under period/2 since a period is
/// longer than four delays). `None` where the ring's worst case is not tabulated.
pub fn restore_bound(k: &str, period: f64, n: usize) -> Option<Bound> {
    let k = reparti_core::guarded::parse_relative(k, n)?;
    let steps = ring_steps(n, k)?;
    Some(Bound {
        time: (f64::from(steps) + 1.5) * period,
        formula: format!("({steps} ring steps + 1 + 1/2) × period {period}"),
    })
}

impl Algorithm for SsDsm {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &["complete"],
            default_nodes: 4,
            needs_fifo: true,
            commands: COMMANDS,
            ..AlgorithmSpec::new(
                "ss-dsm",
                Chapter::Selfstab,
                "Self-stabilizing DSM: K-state token per page for the writer, soft-state directory at the home",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(SsDsm {
            pages: params.get("pages")?,
            k: params.get("k")?,
            period: params.get("period")?,
            periods: params.get("periods")?,
            timeout: params.get("timeout")?,
            ops: params.get("ops")?,
            reads: params.get("reads")?,
            corrupt: params.get("corrupt")?,
            corrupt_at: params.get::<f64>("corrupt_at")?,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        if n < 2 {
            return Err(format!("ss-dsm needs at least 2 nodes (a ring for the token), not {n}"));
        }
        if n > u32::MAX as usize / 2 {
            return Err(format!("ss-dsm: {n} nodes is too many"));
        }
        self.k_for(n).map(|_| ())
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        // check_size has refused a K that does not parse.
        let k = self.k_for(setup.n).unwrap_or(setup.n as u32 + 1);
        Node::new(setup.me, setup.n as u32, self.pages, k, self.period, self.timeout, self.periods)
    }

    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        use rand::seq::SliceRandom;
        let horizon = 2.0 * f64::from(self.periods) * f64::from(self.period) / 3.0;
        let mut next_value = 0i64;
        let mut inputs = Vec::new();
        for i in 0..setup.n {
            let mut times: Vec<f64> = (0..self.ops).map(|_| rng.gen::<f64>() * horizon).collect();
            times.sort_by(f64::total_cmp);
            for at in times {
                let key = rng.gen_range(0..self.pages);
                let input = if rng.gen::<f64>() < self.reads {
                    Input::Read { key }
                } else {
                    next_value += 1;
                    Input::Write { key, value: next_value }
                };
                inputs.push(ScheduledInput { at, node: NodeId(i as u32), input });
            }
        }
        let mut nodes: Vec<usize> = (0..setup.n).collect();
        nodes.shuffle(rng);
        for i in nodes.into_iter().take(self.corrupt.min(setup.n)) {
            let input = Input::Corrupt { seed: rng.gen() };
            inputs.push(ScheduledInput { at: self.corrupt_at, node: NodeId(i as u32), input });
        }
        inputs
    }

    fn properties(&self) -> Properties<Node> {
        let (k, period) = (self.k.clone(), f64::from(self.period));
        Properties {
            invariants: vec![Invariant::stabilizing(RESTORED, |w: &World<'_, Node>| {
                legitimate(w.nodes, w.nodes.len())
            })
            .within(move |n| restore_bound(&k, period, n))],
            terminal: vec![
                Terminal::new(LEGITIMATE, |w: &World<'_, Node>| {
                    legitimate(w.nodes, w.nodes.len())?;
                    directory_matches(w.nodes, w.nodes.len())
                }),
                every_operation_answered(),
            ],
        }
    }

    fn history_properties(&self) -> Vec<HistoryProperty> {
        if self.corrupt == 0 {
            vec![crate::memory::linearizable()]
        } else {
            Vec::new()
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let (n, pages, periods) = (facts.n as f64, f64::from(self.pages), f64::from(self.periods));
        let k = output_sum(facts, INVALIDATED) as f64;
        let repairs = output_count(facts, REPAIR, "remote") as f64;
        let inv = if facts.output_count(CORRUPTED) == 0 {
            Expectation::exact("INV", "Σk: n − 1 per write, less the home's own; no repair without a fault", k)
        } else {
            Expectation::exact("INV", "Σk + remote repairs", k + repairs)
        };
        vec![
            Expectation::exact("TOKEN", "n·pages·periods", n * pages * periods),
            Expectation::exact("STATUS", "(n − 1)·pages·periods", (n - 1.0) * pages * periods),
            inv,
            Expectation::exact("IACK", "#INV", facts.measured("INV") as f64),
        ]
    }
}
