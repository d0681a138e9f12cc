//! An algorithm of the library with some of its properties set aside, to show what a
//! broken variant really harms (an overflow, an overdraft, a lost request) rather than
//! the bookkeeping invariant that catches it first.

use reparti_core::{
    Algorithm, AlgorithmSpec, Expectation, NodeSetup, ParamError, Params, Process, Properties, RunFacts,
    ScheduledInput, WorkloadSetup,
};
use std::marker::PhantomData;

/// Which of the algorithm's properties a [`Narrowed`] keeps.
pub trait Keep: Send + Sync + 'static {
    /// The name the narrowed algorithm goes by in reports (none: the algorithm's own).
    const NAME: Option<&'static str> = None;
    /// Whether the invariant named `name` is kept.
    fn invariant(name: &str) -> bool;
    /// Whether terminal properties are kept.
    const TERMINAL: bool = true;
}

/// `A` with only the properties `K` keeps.
pub struct Narrowed<A, K>(A, PhantomData<K>);

impl<A: Algorithm, K: Keep> Algorithm for Narrowed<A, K> {
    type Node = A::Node;

    fn spec() -> AlgorithmSpec {
        match K::NAME {
            Some(name) => AlgorithmSpec { name, ..A::spec() },
            None => A::spec(),
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        A::from_params(params).map(|a| Narrowed(a, PhantomData))
    }

    fn init(&self, setup: &NodeSetup) -> A::Node {
        self.0.init(setup)
    }

    fn workload(
        &self,
        setup: &WorkloadSetup<'_>,
        rng: &mut reparti_core::Rng,
    ) -> Vec<ScheduledInput<<A::Node as Process>::Input>> {
        self.0.workload(setup, rng)
    }

    fn properties(&self) -> Properties<A::Node> {
        let mut p = self.0.properties();
        p.invariants.retain(|i| K::invariant(i.name()));
        if !K::TERMINAL {
            p.terminal.clear();
        }
        p
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        self.0.expected(facts)
    }
}
