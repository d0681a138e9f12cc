//! # Self-stabilization: reaching legitimate configurations from arbitrary ones
//!
//! The algorithms of this chapter are written in the *state-reading* model of
//! E. W. Dijkstra, "Self-stabilizing systems in spite of distributed control", CACM
//! 17(11):643–644, 1974, not as message handlers. Each node ("machine") holds a small
//! state; it sees only its own state and the states of the neighbours it reads. A
//! *guard* is a predicate over what a node sees; a node whose guard holds is
//! *privileged*, and its *move* rewrites its own state. Each algorithm implements
//! [`reparti_core::guarded::Guarded`]: its states, its guards, its moves and the
//! legitimacy predicate.
//!
//! **Daemons.** Who moves is chosen by a scheduler, the *daemon*
//! ([`reparti_core::Daemon`]):
//! * *central* — one privileged node moves at a time;
//! * *distributed* — any non-empty subset of the privileged nodes moves at once, each
//!   reading the configuration as it was before the step;
//! * *synchronous* — every privileged node moves at once.
//!
//! An algorithm correct under the distributed daemon is correct under the other two;
//! the converse fails (Dijkstra's K-state ring needs K ≥ n−1 under the central daemon
//! and K ≥ n under the distributed one).
//!
//! **Self-stabilization.** A set L of *legitimate* configurations is given (for
//! Dijkstra's rings: exactly one privilege in the whole system, i.e. one token). The
//! algorithm is self-stabilizing for L under a daemon when
//! * *closure*: every step from a configuration of L leads to a configuration of L, and
//! * *convergence*: every run, from *any* configuration (the memory may have been
//!   corrupted arbitrarily), reaches L after finitely many moves.
//!
//! **How they run.** `reparti sim` draws an arbitrary start and lets a daemon choose the
//! moves; `reparti check` enumerates every initial configuration (the product of the
//! nodes' domains) and every daemon choice, so closure and convergence are proved for
//! the instance, and the worst case measured. On real processes, each algorithm runs by
//! message passing through [`reparti_core::guarded::exchange`]: every node sends its
//! state to its neighbours periodically and moves on the last states it received.
//!
//! | algorithm | module | topology | states per node | legitimate |
//! |---|---|---|---|---|
//! | Dijkstra K-state (1974) | [`k_state`] | `ring` | K | one privilege: K + (n − 1)K(K − 1) |
//! | Dijkstra 3-state (1974, proof 1986) | [`three_state`] | `bidir-ring` | 3 | one privilege: 12n − 15 |
//! | Dijkstra 4-state (1974) | [`four_state`] | `line` | 4 (2 at the ends) | one privilege: 4(n − 1) |
//! | BFS tree, min+1 (Dolev, Israeli, Moran 1993) | [`bfs_tree`] | any | (D_max + 1)(deg + 1) | silent |
//!
//! (The last column counts the legitimate configurations where it is a formula in n.)

pub mod bfs_tree;
pub mod four_state;
pub mod k_state;
pub mod ss_dsm;
pub mod three_state;

pub use bfs_tree::BfsTree;
pub use four_state::FourState;
pub use k_state::KState;
pub use ss_dsm::SsDsm;
pub use three_state::ThreeState;

use reparti_core::guarded::Guarded;
use reparti_core::{NodeId, Topology};

/// Checks that every node can read what its guards read: each node `j` that `reads(i)`
/// lists must have a channel `j → i` in the topology (the message-passing form delivers
/// nothing else). `Err` says, in one line, which read is missing and what to use.
pub(crate) fn check_reads<G: Guarded>(g: &G, topology: &Topology, wanted: &str) -> Result<(), String> {
    for i in 0..g.n() {
        let me = NodeId(i as u32);
        for j in g.reads(me) {
            if j.index() >= topology.len() || !topology.neighbours(j).contains(me) {
                return Err(format!(
                    "{}: node {i} reads node {j}, but this {} topology has no channel {j} -> {i}; use a {wanted}",
                    G::spec().name,
                    topology.kind().name(),
                ));
            }
        }
    }
    Ok(())
}

/// Reads a size parameter relative to n (`n`, `n-1`, `n+2` or a number).
pub(crate) fn relative_param(params: &reparti_core::Params, name: &str, n: usize) -> Result<usize, String> {
    let raw: String = params.get(name).map_err(|e| e.to_string())?;
    reparti_core::guarded::parse_relative(&raw, n)
        .ok_or_else(|| format!("parameter {name}={raw}: expected n, n-1, n+1, … (here n = {n}) or a number"))
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Exhaustive exploration of small instances, shared by the chapter's tests.

    use reparti_core::guarded::{privileged, step, Guarded};
    use reparti_core::{Daemon, Params, Topology};
    use std::collections::HashMap;

    /// Builds `G` on `n` nodes of `topology` with the given parameters.
    pub fn build<G: Guarded>(topology: &str, n: usize, given: &[(&str, &str)]) -> Result<G, String> {
        let spec = G::spec();
        let given: Vec<(String, String)> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let params = Params::resolve(spec.name, spec.params, &given).map_err(|e| e.to_string())?;
        let kind = topology.parse().map_err(|e: reparti_core::TopologyError| e.to_string())?;
        let topo = Topology::build(&kind, n, &mut reparti_core::rng(1)).map_err(|e| e.to_string())?;
        G::build(&params, &topo)
    }

    /// Every configuration: the product of the nodes' domains, node 0 varying slowest.
    pub fn all_configs<G: Guarded>(g: &G) -> Vec<Vec<G::State>> {
        let mut out: Vec<Vec<G::State>> = vec![Vec::new()];
        for i in 0..g.n() {
            let domain = g.domain(reparti_core::NodeId(i as u32));
            out = out
                .into_iter()
                .flat_map(|c| {
                    domain.iter().map(move |s| {
                        let mut c = c.clone();
                        c.push(s.clone());
                        c
                    })
                })
                .collect();
        }
        out
    }

    /// Asserts closure: every step the daemon may take from a legitimate configuration
    /// leads to a legitimate one. Returns the number of legitimate configurations.
    pub fn assert_closure<G: Guarded>(g: &G, daemon: Daemon) -> usize {
        let mut count = 0;
        for c in all_configs(g).into_iter().filter(|c| g.legitimate(c)) {
            count += 1;
            for s in daemon.steps(&privileged(g, &c)) {
                let next = step(g, &c, &s);
                assert!(g.legitimate(&next), "{c:?} --{s:?}--> {next:?} leaves L");
            }
        }
        count
    }

    /// The greatest number of moves (node moves, summed over the steps) any run under
    /// `daemon` takes to reach L, over every initial configuration; `None` when some run
    /// never reaches it (a cycle, or a deadlock, outside L).
    pub fn worst_case<G: Guarded>(g: &G, daemon: Daemon) -> Option<u64> {
        worst_case_by(g, daemon, true)
    }

    /// [`worst_case`] counting steps instead of moves (the same under the central daemon).
    pub fn worst_steps<G: Guarded>(g: &G, daemon: Daemon) -> Option<u64> {
        worst_case_by(g, daemon, false)
    }

    fn worst_case_by<G: Guarded>(g: &G, daemon: Daemon, moves: bool) -> Option<u64> {
        // Iterative depth-first search with memo: None on the map = on the stack.
        let mut memo: HashMap<Vec<G::State>, Option<u64>> = HashMap::new();
        let mut worst = 0;
        for start in all_configs(g) {
            if memo.contains_key(&start) {
                continue;
            }
            // Each frame: a configuration, its successors (with their move counts), the
            // next successor to look at and the best found so far.
            type Frame<S> = (Vec<S>, Vec<(Vec<S>, u64)>, usize, u64);
            let expand = |c: &Vec<G::State>| -> Vec<(Vec<G::State>, u64)> {
                daemon
                    .steps(&privileged(g, c))
                    .iter()
                    .map(|s| (step(g, c, s), if moves { s.len() as u64 } else { 1 }))
                    .collect()
            };
            let mut stack: Vec<Frame<G::State>> = Vec::new();
            let root_succ = if g.legitimate(&start) { Vec::new() } else { expand(&start) };
            if !g.legitimate(&start) && root_succ.is_empty() {
                return None;
            }
            memo.insert(start.clone(), None);
            stack.push((start, root_succ, 0, 0));
            while let Some(top) = stack.last_mut() {
                if top.2 < top.1.len() {
                    let (next, cost) = top.1[top.2].clone();
                    top.2 += 1;
                    match memo.get(&next) {
                        Some(Some(d)) => top.3 = top.3.max(cost + d),
                        Some(None) => return None, // back edge: a cycle outside L
                        None if g.legitimate(&next) => {
                            memo.insert(next, Some(0));
                            top.3 = top.3.max(cost);
                        }
                        None => {
                            let succ = expand(&next);
                            if succ.is_empty() {
                                return None;
                            }
                            memo.insert(next.clone(), None);
                            stack.push((next, succ, 0, 0));
                        }
                    }
                } else {
                    let (c, _, _, best) = stack.pop().expect("the loop runs only on a non-empty stack");
                    memo.insert(c.clone(), Some(best));
                    worst = worst.max(best);
                    if let Some(parent) = stack.last_mut() {
                        let cost = parent.1[parent.2 - 1].1;
                        parent.3 = parent.3.max(cost + best);
                    }
                }
            }
        }
        Some(worst)
    }
}
