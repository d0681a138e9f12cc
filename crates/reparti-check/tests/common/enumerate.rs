//! A brute-force enumerator for the exact-count tests: the network in the tests' own
//! representation ([`Net`]) and a breadth-first walk ([`enumerate`]) whose figures
//! ([`Space`]) compare with the checker's `unique_states`, `states` (transitions
//! generated) and `max_depth`. It never calls the checker's model nor an algorithm's
//! handlers: each test writes its algorithm's semantics itself, from the pseudo-code.

use reparti_check::{CheckReport, NetworkKind};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

/// The network, in the test's own representation: FIFO queues per channel (empty ones
/// absent), or a multiset of (from, to, message) with multiplicities.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Net<M: Ord> {
    Fifo(BTreeMap<(usize, usize), VecDeque<M>>),
    Bag(BTreeMap<(usize, usize, M), usize>),
}

impl<M: Ord + Clone> Net<M> {
    pub fn new(network: NetworkKind) -> Self {
        match network {
            NetworkKind::Fifo => Net::Fifo(BTreeMap::new()),
            NetworkKind::Unordered => Net::Bag(BTreeMap::new()),
            other => panic!("the enumerator models reliable networks only, not {other}"),
        }
    }

    pub fn send(&mut self, from: usize, to: usize, m: M) {
        match self {
            Net::Fifo(q) => q.entry((from, to)).or_default().push_back(m),
            Net::Bag(b) => *b.entry((from, to, m)).or_default() += 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Net::Fifo(q) => q.is_empty(),
            Net::Bag(b) => b.is_empty(),
        }
    }

    /// Every message that may be received next, with the network left after it: the
    /// head of each channel (FIFO), or one copy of each distinct message (unordered).
    pub fn receptions(&self) -> Vec<(usize, usize, M, Net<M>)> {
        let mut out = Vec::new();
        match self {
            Net::Fifo(q) => {
                for &(from, to) in q.keys() {
                    let mut rest = q.clone();
                    let left = rest.get_mut(&(from, to)).expect("present");
                    let m = left.pop_front().expect("non-empty");
                    if left.is_empty() {
                        rest.remove(&(from, to));
                    }
                    out.push((from, to, m, Net::Fifo(rest)));
                }
            }
            Net::Bag(b) => {
                for ((from, to, m), &count) in b {
                    let mut rest = b.clone();
                    if count == 1 {
                        rest.remove(&(*from, *to, m.clone()));
                    } else {
                        rest.insert((*from, *to, m.clone()), count - 1);
                    }
                    out.push((*from, *to, m.clone(), Net::Bag(rest)));
                }
            }
        }
        out
    }

    /// Every message in flight with its channel `(from, to, message)`, copies included.
    pub fn in_flight(&self) -> Vec<(usize, usize, M)> {
        match self {
            Net::Fifo(q) => {
                q.iter().flat_map(|(&(from, to), ms)| ms.iter().map(move |m| (from, to, m.clone()))).collect()
            }
            Net::Bag(b) => {
                b.iter().flat_map(|((from, to, m), &k)| std::iter::repeat_n((*from, *to, m.clone()), k)).collect()
            }
        }
    }

    /// Every message in flight, copies included.
    pub fn messages(&self) -> Vec<M> {
        match self {
            Net::Fifo(q) => q.values().flatten().cloned().collect(),
            Net::Bag(b) => b.iter().flat_map(|((_, _, m), &k)| std::iter::repeat_n(m.clone(), k)).collect(),
        }
    }
}

/// What a breadth-first enumeration found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    pub unique: u64,
    pub transitions: u64,
    pub depth: u64,
}

/// Breadth-first enumeration from `init`; `check` runs on every state found.
pub fn enumerate<S: Clone + Eq + Hash>(init: S, succ: impl Fn(&S) -> Vec<S>, check: impl Fn(&S)) -> Space {
    let mut seen = HashSet::from([init.clone()]);
    let mut level = vec![init];
    let (mut transitions, mut depth) = (0u64, 0u64);
    check(&level[0]);
    loop {
        let mut next = Vec::new();
        for s in &level {
            for t in succ(s) {
                transitions += 1;
                if seen.insert(t.clone()) {
                    check(&t);
                    next.push(t);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        depth += 1;
        level = next;
    }
    Space { unique: seen.len() as u64, transitions, depth }
}

/// The same walk, storing a 128-bit fingerprint of each state seen instead of the state:
/// for spaces of a million states, whose full states would take gigabytes. Two states
/// share a fingerprint with probability about 2⁻¹²⁸ per pair, negligible here.
pub fn enumerate_fingerprinted<S: Eq + Hash>(init: S, succ: impl Fn(&S) -> Vec<S>, check: impl Fn(&S)) -> Space {
    let fingerprint = |s: &S| {
        let half = |salt: u8| {
            // The default hasher's keys are fixed: the same state, the same fingerprint.
            let mut h = DefaultHasher::new();
            (salt, s).hash(&mut h);
            h.finish()
        };
        (u128::from(half(0)) << 64) | u128::from(half(1))
    };
    let mut seen = HashSet::from([fingerprint(&init)]);
    check(&init);
    let mut level = vec![init];
    let (mut transitions, mut depth) = (0u64, 0u64);
    loop {
        let mut next = Vec::new();
        for s in &level {
            for t in succ(s) {
                transitions += 1;
                if seen.insert(fingerprint(&t)) {
                    check(&t);
                    next.push(t);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        depth += 1;
        level = next;
    }
    Space { unique: seen.len() as u64, transitions, depth }
}

/// The checker's figures, to compare with an enumeration.
pub fn space_of(r: &CheckReport) -> Space {
    Space { unique: r.unique_states, transitions: r.states, depth: r.max_depth }
}
