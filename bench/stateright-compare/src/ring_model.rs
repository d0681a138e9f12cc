//! Chang–Roberts as a Stateright [`Model`], with the state space reparti's checker explores.
//!
//! Written from `crates/reparti-algos/src/election/chang_roberts.rs` and the checker's
//! transition system (`crates/reparti-check/src/model.rs`, `state.rs`), the way a
//! Stateright user would write it: plain structs, handlers as a `match`.
//!
//! * **Initial state.** reparti runs every node's start handler before the search (as
//!   the simulator does at time 0): with every node an initiator, each has joined the
//!   election (`participant`) and its `ELECT(id)` is in transit to its successor.
//! * **Network.** Unordered channels: the messages in transit are a multiset, kept as a
//!   sorted vector so that one multiset has one representation (reparti sorts by channel
//!   and content hash: another order, the same equivalence). One action per *distinct*
//!   message in transit, as reparti delivers only the first of identical copies. No loss,
//!   duplication, crash, timer or external input: reparti's unordered network injects
//!   none, and Chang–Roberts sets no timer.
//! * **A step** delivers one message and runs the receiver's handler, whose sends join
//!   the network in the same step (reparti's atomic step).
//! * **What a state holds.** reparti's node is `{ident, leader, role, participant,
//!   initiator, informed}`; here the identity lives in the model (it never changes) and
//!   `informed` with `leader` is an `Option`, which makes no state equal that reparti
//!   tells apart nor the reverse: same states, a few bytes less to hash here. reparti's
//!   packet also carries a clock stamp, always 0 because Chang–Roberts reads no clock.
//!
//! **Why not Stateright's actor framework.** Its `ActorModel` drops a delivery whose
//! handler changes nothing and sends nothing (a swallowed ELECT, the ELECTED that comes
//! home): the message stays in transit forever and no quiescent state is ever reached,
//! another state space than reparti's, where every delivery consumes its message.
//!
//! Properties, the same work as reparti's (`election_properties` plus Chang–Roberts'
//! own terminal ones): on every state, *at most one leader*; on a quiescent state
//! (nothing in transit), *exactly one leader, the maximum*, *every node knows the
//! leader* and *every other node is lost*. reparti checks its invariant on every new
//! state and its terminal properties on quiescent ones; Stateright checks each `always`
//! property on every state it expands, so the second is written "quiescent implies …".

use stateright::{Model, Property};

/// A node's role, as in reparti's `Role`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Candidate,
    Lost,
    Leader,
}

/// What a node remembers; its identity is [`ChangRoberts::idents`]`[position]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeState {
    pub role: Role,
    /// Has sent (or forwarded) an ELECT: a node originates its own ELECT at most once.
    pub participant: bool,
    /// The leader's identity, once known.
    pub leader: Option<u64>,
}

/// Chang–Roberts messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg {
    Elect(u64),
    Elected(u64),
}

/// A message in transit on the channel `from → to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Envelope {
    pub to: u32,
    pub from: u32,
    pub msg: Msg,
}

/// A global state: the nodes by position and the messages in transit, sorted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RingState {
    pub nodes: Vec<NodeState>,
    pub in_transit: Vec<Envelope>,
}

/// Chang–Roberts on a unidirectional ring (position `i` sends to `i + 1 mod n`), every
/// node an initiator.
pub struct ChangRoberts {
    /// The identity at each position.
    pub idents: Vec<u64>,
}

impl ChangRoberts {
    fn successor(&self, i: usize) -> u32 {
        ((i + 1) % self.idents.len()) as u32
    }

    /// Sends `msg` from position `i` to its successor, keeping the multiset sorted.
    fn send_next(&self, state: &mut RingState, i: usize, msg: Msg) {
        let envelope = Envelope { to: self.successor(i), from: i as u32, msg };
        let at = state.in_transit.partition_point(|e| *e <= envelope);
        state.in_transit.insert(at, envelope);
    }

    /// `initiate` of the algorithm: join with one's own identity, once.
    fn initiate(&self, state: &mut RingState, i: usize) {
        if !state.nodes[i].participant {
            state.nodes[i].participant = true;
            self.send_next(state, i, Msg::Elect(self.idents[i]));
        }
    }

    /// The receiver's handler, line for line as reparti's `on_message`.
    fn on_message(&self, state: &mut RingState, i: usize, msg: Msg) {
        let me = self.idents[i];
        match msg {
            Msg::Elect(x) if x > me => {
                state.nodes[i].participant = true;
                state.nodes[i].role = Role::Lost;
                self.send_next(state, i, Msg::Elect(x));
            }
            Msg::Elect(x) if x < me => self.initiate(state, i),
            Msg::Elect(_) => {
                if state.nodes[i].role != Role::Leader {
                    state.nodes[i].role = Role::Leader;
                    state.nodes[i].leader = Some(me);
                    self.send_next(state, i, Msg::Elected(me));
                }
            }
            Msg::Elected(x) if x != me => {
                if state.nodes[i].leader != Some(x) {
                    state.nodes[i].leader = Some(x);
                    state.nodes[i].role = Role::Lost;
                    self.send_next(state, i, Msg::Elected(x));
                }
            }
            Msg::Elected(_) => {}
        }
    }

    fn max_ident(&self) -> u64 {
        self.idents.iter().copied().max().unwrap_or(0)
    }
}

impl Model for ChangRoberts {
    type State = RingState;
    type Action = Envelope;

    fn init_states(&self) -> Vec<RingState> {
        let blank = NodeState { role: Role::Candidate, participant: false, leader: None };
        let mut state = RingState { nodes: vec![blank; self.idents.len()], in_transit: Vec::new() };
        for i in 0..self.idents.len() {
            self.initiate(&mut state, i);
        }
        vec![state]
    }

    fn actions(&self, state: &RingState, actions: &mut Vec<Envelope>) {
        // Equal copies sit side by side: delivering either gives the same state.
        for (k, e) in state.in_transit.iter().enumerate() {
            if k == 0 || state.in_transit[k - 1] != *e {
                actions.push(*e);
            }
        }
    }

    fn next_state(&self, last: &RingState, delivered: Envelope) -> Option<RingState> {
        let mut state = last.clone();
        let at = state.in_transit.binary_search(&delivered).ok()?;
        state.in_transit.remove(at);
        self.on_message(&mut state, delivered.to as usize, delivered.msg);
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("at most one leader", |_, s: &RingState| {
                s.nodes.iter().filter(|n| n.role == Role::Leader).count() <= 1
            }),
            Property::always("quiescent implies the election ended correctly", |m: &Self, s: &RingState| {
                !s.in_transit.is_empty() || m.ended_correctly(s)
            }),
        ]
    }
}

impl ChangRoberts {
    /// reparti's terminal properties: exactly one leader, the maximum; every node knows
    /// it; every other node is lost.
    pub fn ended_correctly(&self, s: &RingState) -> bool {
        let max = self.max_ident();
        let mut leaders = s.nodes.iter().zip(&self.idents).filter(|(n, _)| n.role == Role::Leader);
        let one_leader_the_max = matches!((leaders.next(), leaders.next()), (Some((_, &id)), None) if id == max);
        let everyone_knows = s.nodes.iter().all(|n| n.leader == Some(max));
        let no_candidate = s.nodes.iter().all(|n| n.role != Role::Candidate);
        one_leader_the_max && everyone_knows && no_candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;

    #[test]
    fn two_leaders_are_caught() {
        // Identities must be unique: with two equal maxima, each gets "its own" ELECT
        // back and both lead. The property must see it, or it checks nothing.
        let checker = ChangRoberts { idents: vec![3, 3, 1] }.checker().spawn_bfs().join();
        assert!(checker.discovery("at most one leader").is_some());
    }
}
