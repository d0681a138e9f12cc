//! Algorithms that behave oddly on purpose, for testing the engines (not in the
//! catalogue).
//!
//! [`Stray`]: on start, every node sends one `PING` to its ring successor and one to a
//! node that does not exist (position n). Every engine must count both as sent, deliver
//! the first, and drop the second with the reason "no such node".

use reparti_core::{
    Algorithm, AlgorithmSpec, Chapter, Context, Message, NodeId, NodeSetup, ParamError, ParamSpec, Params, Process,
    Properties, Terminal, World,
};
use serde::{Deserialize, Serialize};

/// The one message.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub struct Ping;

/// A node: how many pings it received.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct StrayNode {
    /// Pings received.
    pub received: u32,
}

impl Process for StrayNode {
    type Msg = Ping;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Context<'_, Ping>) {
        ctx.broadcast(Ping);
        ctx.send(NodeId(ctx.n() as u32), Ping);
        ctx.output("started", 1);
    }

    fn on_message(&mut self, _from: NodeId, _msg: Ping, _ctx: &mut Context<'_, Ping>) {
        self.received += 1;
    }
}

/// `claim=wrong` makes the terminal property claim two pings per node.
const PARAMS: &[ParamSpec] = &[ParamSpec::choice("claim", "right", &["right", "wrong"], "wrong makes a property fail")];

/// See the [module documentation](self). With `-p claim=wrong` its terminal property
/// claims two pings per node, so that the checker has a counterexample to write.
pub struct Stray {
    wrong: bool,
}

fn pings_each(w: &World<'_, StrayNode>, expected: u32) -> Result<(), String> {
    match w.nodes.iter().position(|s| s.received != expected) {
        Some(i) => Err(format!("node {i} received {} pings", w.nodes[i].received)),
        None => Ok(()),
    }
}

fn one_ping_each(w: &World<'_, StrayNode>) -> Result<(), String> {
    pings_each(w, 1)
}

fn two_pings_each(w: &World<'_, StrayNode>) -> Result<(), String> {
    pings_each(w, 2)
}

impl Algorithm for Stray {
    type Node = StrayNode;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            default_nodes: 3,
            params: PARAMS,
            ..AlgorithmSpec::new("stray", Chapter::Communication, "test: a send to a node that does not exist")
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(Stray { wrong: params.raw("claim") == Some("wrong") })
    }

    fn init(&self, _: &NodeSetup) -> StrayNode {
        StrayNode { received: 0 }
    }

    fn properties(&self) -> Properties<StrayNode> {
        Properties {
            invariants: Vec::new(),
            terminal: vec![if self.wrong {
                Terminal::<StrayNode>::new("each node received two pings (wrong)", two_pings_each)
            } else {
                Terminal::<StrayNode>::new("each node received its predecessor's ping", one_ping_each)
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reparti_core::{Effect, TopologyKind};

    #[test]
    fn the_test_kits_see_the_stray_send_as_a_send() {
        let mut node = StrayNode { received: 0 };
        let effects = crate::handler_harness::run(&mut node, TopologyKind::Ring, NodeId(0), 3, |p, c| p.on_start(c));
        let to: Vec<NodeId> = crate::handler_harness::sends(&effects).into_iter().map(|(to, _)| to).collect();
        assert_eq!(to, vec![NodeId(1), NodeId(3)]);
        assert!(matches!(effects.last(), Some(Effect::Output { key: "started", .. })));
    }
}
