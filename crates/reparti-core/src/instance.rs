//! What every engine does first: turn a request into a concrete instance.
//!
//! Parameters are resolved against the declared defaults, the algorithm is built, the
//! topology is chosen (the one asked for, or the algorithm's first) and checked against
//! the ones the algorithm accepts, identities are assigned, and the workload is drawn.
//! Every engine draws from one seeded generator in this same order, so the simulator,
//! the model checker and the network runtime given the same seed agree on identities
//! and workload.

use crate::algorithm::{Algorithm, AlgorithmSpec, ScheduledInput, WorkloadSetup};
use crate::idents::{IdAssignment, IdError};
use crate::params::{ParamError, Params};
use crate::process::Process;
use crate::topology::{Topology, TopologyError, TopologyKind};
use crate::Rng;

/// Why an instance could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A parameter is unknown or malformed.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The topology cannot be built.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// The algorithm does not run on this topology.
    #[error("{algorithm} does not run on the topology '{topology}'; it accepts: {accepted} (use --topology)")]
    Unsupported {
        /// The algorithm.
        algorithm: String,
        /// The topology asked for.
        topology: String,
        /// The topologies it accepts.
        accepted: String,
    },
    /// The identity assignment is unusable.
    #[error(transparent)]
    Ids(#[from] IdError),
    /// The parameters do not suit this number of nodes ([`Algorithm::check_size`]).
    #[error("{0}")]
    Size(String),
}

/// A concrete instance of an algorithm.
pub struct Instance<A: Algorithm> {
    /// The algorithm, built from its parameters.
    pub algorithm: A,
    /// Its self-description.
    pub spec: AlgorithmSpec,
    /// The resolved parameters.
    pub params: Params,
    /// The topology.
    pub topology: Topology,
    /// Every node's identity, by position.
    pub idents: Vec<u64>,
    /// The workload, sorted by time (ties keep the algorithm's order).
    pub workload: Vec<ScheduledInput<<A::Node as Process>::Input>>,
    /// The generator, after the draws above: engines continue with it.
    pub rng: Rng,
}

impl<A: Algorithm> Instance<A> {
    /// Makes the instance; `nodes` is ignored for edge-list files, which say how many.
    pub fn new(
        given: &[(String, String)],
        topology: Option<&TopologyKind>,
        nodes: usize,
        ids: &IdAssignment,
        seed: u64,
    ) -> Result<Self, SetupError> {
        let spec = A::spec();
        let params = Params::resolve(spec.name, spec.params, given)?;
        let mut algorithm = A::from_params(&params)?;
        let mut rng = crate::rng(seed);
        let kind = match topology {
            Some(k) => k.clone(),
            None => spec.topologies[0].parse()?,
        };
        if !spec.topologies.contains(&kind.name()) && kind.name() != "file" {
            return Err(SetupError::Unsupported {
                algorithm: spec.name.into(),
                topology: kind.to_string(),
                accepted: spec.topologies.join(", "),
            });
        }
        let topology = Topology::build(&kind, nodes, &mut rng)?;
        params.check_positions(spec.params, topology.len())?;
        algorithm.check_size(topology.len()).map_err(SetupError::Size)?;
        algorithm.fit_topology(&topology).map_err(SetupError::Size)?;
        let idents = ids.assign(topology.len(), &mut rng)?;
        let mut workload =
            algorithm.workload(&WorkloadSetup { n: topology.len(), idents: &idents, topology: &topology }, &mut rng);
        workload.retain(|w| w.node.index() < topology.len());
        workload.sort_by(|a, b| a.at.total_cmp(&b.at));
        Ok(Instance { algorithm, spec, params, topology, idents, workload, rng })
    }
}
