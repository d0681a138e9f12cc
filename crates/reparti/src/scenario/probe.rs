//! What the loader must ask the algorithm itself: builds the instance the scenario
//! describes (parameters, topology, identities) and tries every given input against the
//! algorithm's `Input` type, so that a mistake is reported at its place in the file
//! before anything runs.

use reparti_core::TopologyKind;
use reparti_core::{Algorithm, AlgorithmVisitor, IdAssignment, Instance, Message, NodeId, Process, SetupError};

/// What the scenario needs to know about the algorithm and the instance.
pub struct Facts {
    /// The number of nodes (a `file:` topology says how many itself).
    pub n: usize,
    /// Every property's name: invariants, then terminal properties.
    pub properties: Vec<&'static str>,
    /// The message type names.
    pub kinds: &'static [&'static str],
    /// The first given input the algorithm cannot read: its index and serde's reason.
    pub bad_input: Option<(usize, String)>,
    /// Whether the algorithm takes no inputs at all (`Input = ()`).
    pub no_inputs: bool,
    /// The first held-back message (by index) whose sender and receiver share no channel.
    pub bad_channel: Option<usize>,
}

/// The question, asked of the algorithm the catalogue hands over.
pub struct Probe<'a> {
    /// `--param`-style pairs.
    pub params: &'a [(String, String)],
    /// The topology, if the scenario names one.
    pub topology: Option<&'a TopologyKind>,
    /// Nodes, if the scenario names a count.
    pub nodes: Option<usize>,
    /// The identity assignment.
    pub ids: &'a IdAssignment,
    /// The seed (random topologies and identities depend on it).
    pub seed: u64,
    /// The given inputs, as JSON.
    pub inputs: &'a [serde_json::Value],
    /// Held-back messages' (sender, receiver) positions.
    pub channels: &'a [(u32, u32)],
}

impl AlgorithmVisitor for Probe<'_> {
    type Output = Result<Facts, SetupError>;
    fn visit<A: Algorithm>(self) -> Result<Facts, SetupError> {
        let nodes = self.nodes.unwrap_or(A::spec().default_nodes);
        let inst = Instance::<A>::new(self.params, self.topology, nodes, self.ids, self.seed)?;
        let props = inst.algorithm.properties();
        let mut properties: Vec<&'static str> = props.invariants.iter().map(|i| i.name()).collect();
        properties.extend(props.terminal.iter().map(|t| t.name));
        let bad_input = self.inputs.iter().enumerate().find_map(|(k, v)| {
            serde_json::from_value::<<A::Node as Process>::Input>(v.clone()).err().map(|e| (k, e.to_string()))
        });
        let n = inst.topology.len();
        let bad_channel = self.channels.iter().position(|&(from, to)| {
            (from as usize) < n && (to as usize) < n && inst.topology.channel_index(NodeId(from), NodeId(to)).is_none()
        });
        Ok(Facts {
            n,
            properties,
            kinds: <<A::Node as Process>::Msg as Message>::KINDS,
            bad_input,
            no_inputs: takes_no_input::<A>(),
            bad_channel,
        })
    }
}

/// Whether the algorithm's `Input` is `()`: serde reads `()` from JSON `null` only.
fn takes_no_input<A: Algorithm>() -> bool {
    std::any::type_name::<<A::Node as Process>::Input>() == "()"
}
