//! What the loader must ask the algorithm itself: builds the instance the scenario
//! describes (parameters, topology, identities) and tries every given input against the
//! algorithm's `Input` type, so that a mistake is reported at its place in the file
//! before anything runs — and refuses first an instance too large for the memory.

use crate::simulate::memory::{refuse_if_too_large, Room};
use reparti_core::TopologyKind;
use reparti_core::{Algorithm, AlgorithmVisitor, IdAssignment, Instance, Message, NodeId, Process, SetupError};
use reparti_sim::SimConfig;

/// What the scenario needs to know about the algorithm and the instance.
pub struct Facts {
    /// The number of nodes (a `file:` topology says how many itself).
    pub n: usize,
    /// Every property's name: invariants, terminal properties, then history properties.
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

/// Why the instance was not made.
pub enum ProbeError {
    /// The scenario's parameters, topology or identities do not make an instance.
    Setup(SetupError),
    /// The instance (its workload, its topology) would not fit in memory: the refusal.
    TooLarge(String),
}

impl AlgorithmVisitor for Probe<'_> {
    type Output = Result<Facts, ProbeError>;
    fn visit<A: Algorithm>(self) -> Result<Facts, ProbeError> {
        let nodes = self.nodes.unwrap_or(A::spec().default_nodes);
        // Making the instance draws the whole workload: judge its size first, as a run
        // of it would be (`nodes = 100000000` must not allocate before it is refused).
        if let Some(room) = Room::resolve(None) {
            let cfg = SimConfig {
                nodes: Some(nodes),
                topology: self.topology.cloned(),
                ids: self.ids.clone(),
                seed: self.seed,
                params: self.params.to_vec(),
                ..SimConfig::default()
            };
            refuse_if_too_large::<A>(A::spec().name, &cfg, false, room)
                .map_err(|e| ProbeError::TooLarge(e.to_string()))?;
        }
        let inst =
            Instance::<A>::new(self.params, self.topology, nodes, self.ids, self.seed).map_err(ProbeError::Setup)?;
        let props = inst.algorithm.properties();
        let mut properties: Vec<&'static str> = props.invariants.iter().map(|i| i.name()).collect();
        properties.extend(props.terminal.iter().map(|t| t.name));
        properties.extend(inst.algorithm.history_properties().iter().map(|h| h.name));
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
            kinds: <<A::Node as Process>::Msg as Message>::kinds(),
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
