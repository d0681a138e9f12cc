//! The catalogue: every algorithm, listed once.
//!
//! [`algorithms!`] below is the only list. From it come the dispatch from a name to a
//! type ([`visit`]), the names in catalogue order ([`names`]) and the self-descriptions
//! ([`specs`]); an algorithm's name is the one its own `AlgorithmSpec` gives, so it is
//! written in one place too. Adding an algorithm is one line here.
//!
//! Layers compose by name: `NAME+fifo` is the algorithm `NAME` run over the FIFO layer
//! ([`FifoLayer`]), so that every path that carries an algorithm's name — a trace's
//! header, a counterexample, the processes of `reparti run`, a scenario file — carries
//! the layer too, and no engine or command needs to know about it.

use crate::communication::fifo_layer::{self, FifoLayer};
use crate::memory::by_mutex::{self, MutexMemory};
use crate::observation::chandy_lamport::{self, ChandyLamport};
use crate::observation::lai_yang::{self, LaiYang};
use reparti_core::guarded::exchange::Exchange;
use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor, Guarded, GuardedVisitor};

/// The catalogue, in the order `reparti list` shows it (by chapter, then by age).
macro_rules! algorithms {
    ($($algorithm:ty),* $(,)?) => {
        /// Calls `visitor.visit::<A>()` for the algorithm of the catalogue named `name`.
        fn visit_listed<V: AlgorithmVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            $(
                if <$algorithm as Algorithm>::spec().name == name {
                    return Some(visitor.visit::<$algorithm>());
                }
            )*
            None
        }

        /// Every message-passing algorithm's self-description, in catalogue order.
        fn listed_specs() -> Vec<AlgorithmSpec> {
            vec![$(<$algorithm as Algorithm>::spec()),*]
        }
    };
}

/// The self-stabilizing algorithms, in the state-reading model (chapter 8).
macro_rules! guarded {
    ($($algorithm:ty),* $(,)?) => {
        /// Calls `visitor.visit::<G>()` for the guarded algorithm named `name`.
        pub fn visit_guarded<V: GuardedVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            $(
                if <$algorithm as Guarded>::spec().name == name {
                    return Some(visitor.visit::<$algorithm>());
                }
            )*
            None
        }

        /// Every guarded algorithm's self-description, in catalogue order.
        fn guarded_specs() -> Vec<AlgorithmSpec> {
            vec![$(<Exchange<$algorithm> as Algorithm>::spec()),*]
        }
    };
}

guarded![crate::selfstab::KState, crate::selfstab::ThreeState, crate::selfstab::FourState, crate::selfstab::BfsTree,];

/// Every algorithm's self-description, in catalogue order: the guarded ones with
/// their message-passing form's parameters (those of `reparti run`).
pub fn specs() -> Vec<AlgorithmSpec> {
    let mut all = listed_specs();
    all.extend(guarded_specs());
    all
}

/// Whether `name` is a guarded (state-reading) algorithm: `sim` and `check` then run
/// its state-reading model, and the message-passing engines its state exchange.
pub fn is_guarded(name: &str) -> bool {
    struct Yes;
    impl GuardedVisitor for Yes {
        type Output = ();
        fn visit<G: Guarded>(self) {}
    }
    visit_guarded(name, Yes).is_some()
}

/// Hands a visitor a guarded algorithm's message-passing form.
struct AsExchange<V>(V);

impl<V: AlgorithmVisitor> GuardedVisitor for AsExchange<V> {
    type Output = V::Output;
    fn visit<G: Guarded>(self) -> V::Output {
        self.0.visit::<Exchange<G>>()
    }
}

algorithms![
    crate::communication::TokenRing,
    crate::communication::ProducerConsumer,
    crate::communication::CreditFlow,
    crate::communication::CreditAllocator,
    crate::communication::CreditRing,
    crate::communication::Rendezvous,
    crate::communication::RendezvousSymmetric,
    crate::communication::FifoStream,
    crate::time::LogicalClocks,
    crate::time::Berkeley,
    crate::time::LamportPhysical,
    crate::time::Cristian,
    crate::time::Ntp,
    crate::time::BfsRounds,
    crate::time::BfsAlpha,
    crate::mutex::LamportMutex,
    crate::mutex::RicartAgrawala,
    crate::mutex::CarvalhoRoucairol,
    crate::mutex::TokenRingMutex,
    crate::mutex::SuzukiKasami,
    crate::mutex::Raymond,
    crate::mutex::Maekawa,
    crate::observation::Bank,
    crate::observation::termination::Diffusing,
    crate::observation::deadlock::WaitFor,
    crate::election::ChangRoberts,
    crate::election::ChangRobertsLab,
    crate::election::Franklin,
    crate::memory::SingleCopy,
    crate::memory::LiHudak,
    crate::memory::Ivy,
    crate::memory::TobSequencer,
    crate::memory::TobLamport,
    crate::selfstab::SsDsm,
];

/// Calls `visitor.visit::<A>()` for the algorithm named `name`, a layer included
/// (`lamport-mutex+fifo`); `None` if there is none.
pub fn visit<V: AlgorithmVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    if crate::observation::termination::is_detector(name) {
        return crate::observation::termination::visit(name, visitor);
    }
    if name.strip_suffix(crate::observation::deadlock::chandy_misra_haas::SUFFIX) == Some("wait-for") {
        return Some(visitor.visit::<crate::observation::deadlock::ChandyMisraHaas>());
    }
    if let Some(app) = name.strip_suffix(fifo_layer::SUFFIX) {
        return visit_listed(app, OverFifo(visitor));
    }
    if let Some(app) = name.strip_suffix(chandy_lamport::SUFFIX) {
        return visit_observable(app, OverChandyLamport(visitor));
    }
    if let Some(app) = name.strip_suffix(lai_yang::SUFFIX) {
        return visit_observable(app, OverLaiYang(visitor));
    }
    if let Some(mutex) = name.strip_suffix(by_mutex::SUFFIX) {
        return visit_memory_over(mutex, visitor);
    }
    if is_guarded(name) {
        return visit_guarded(name, AsExchange(visitor));
    }
    visit_listed(name, visitor)
}

/// The applications Chandy–Lamport's snapshot is offered over. A list, not the whole
/// catalogue: every layered pair is compiled once per engine and command.
pub const SNAPSHOT_APPS: &[&str] = &["bank", "token-ring", "chang-roberts"];

/// Calls `visitor.visit::<A>()` for the application of [`SNAPSHOT_APPS`] named `name`.
fn visit_observable<V: AlgorithmVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    use crate::communication::TokenRing;
    use crate::election::ChangRoberts;
    use crate::observation::Bank;
    match name {
        n if n == Bank::spec().name => Some(visitor.visit::<Bank>()),
        n if n == TokenRing::spec().name => Some(visitor.visit::<TokenRing>()),
        n if n == ChangRoberts::spec().name => Some(visitor.visit::<ChangRoberts>()),
        _ => None,
    }
}

/// Calls `visitor.visit::<A>()` for the replicated memory over the mutual-exclusion
/// algorithm of [`by_mutex::MUTEXES`] named `mutex`. By name, not through a wrapping
/// visitor: the memory needs the algorithm's node to be one of chapter 4's.
fn visit_memory_over<V: AlgorithmVisitor>(mutex: &str, visitor: V) -> Option<V::Output> {
    use crate::mutex::{CarvalhoRoucairol, LamportMutex, Maekawa, Raymond, RicartAgrawala, SuzukiKasami};
    match mutex {
        n if n == LamportMutex::spec().name => Some(visitor.visit::<MutexMemory<LamportMutex>>()),
        n if n == RicartAgrawala::spec().name => Some(visitor.visit::<MutexMemory<RicartAgrawala>>()),
        n if n == CarvalhoRoucairol::spec().name => Some(visitor.visit::<MutexMemory<CarvalhoRoucairol>>()),
        n if n == SuzukiKasami::spec().name => Some(visitor.visit::<MutexMemory<SuzukiKasami>>()),
        n if n == Raymond::spec().name => Some(visitor.visit::<MutexMemory<Raymond>>()),
        n if n == Maekawa::spec().name => Some(visitor.visit::<MutexMemory<Maekawa>>()),
        _ => None,
    }
}

/// Hands a visitor the application it is given, observed by Chandy–Lamport.
struct OverChandyLamport<V>(V);

impl<V: AlgorithmVisitor> AlgorithmVisitor for OverChandyLamport<V> {
    type Output = V::Output;
    fn visit<A: Algorithm>(self) -> V::Output {
        self.0.visit::<ChandyLamport<A>>()
    }
}

/// Hands a visitor the application it is given, observed by Lai–Yang.
struct OverLaiYang<V>(V);

impl<V: AlgorithmVisitor> AlgorithmVisitor for OverLaiYang<V> {
    type Output = V::Output;
    fn visit<A: Algorithm>(self) -> V::Output {
        self.0.visit::<LaiYang<A>>()
    }
}

/// Hands a visitor the algorithm it is given, run over the FIFO layer.
struct OverFifo<V>(V);

impl<V: AlgorithmVisitor> AlgorithmVisitor for OverFifo<V> {
    type Output = V::Output;
    fn visit<A: Algorithm>(self) -> V::Output {
        self.0.visit::<FifoLayer<A>>()
    }
}

/// The layers an algorithm of the catalogue can be run under, as name suffixes.
pub const LAYERS: &[(&str, &str)] = &[
    ("+dijkstra-scholten", "termination detection by Dijkstra–Scholten's signals; over diffusing"),
    ("+ewd840", "termination detection by EWD840's coloured token, basic messages acknowledged; over diffusing"),
    ("+safra", "termination detection by Safra's token with counters (EWD998; non-FIFO); over diffusing"),
    ("+misra", "termination detection by Misra's marker on the ring (FIFO); over diffusing"),
    ("+chandy-misra-haas", "deadlock detection by Chandy–Misra–Haas's probes (edge chasing, AND model; FIFO); over wait-for"),
    (fifo_layer::SUFFIX, "FIFO channels over a network that reorders (sequence numbers, hold-back)"),
    (
        chandy_lamport::SUFFIX,
        "Chandy–Lamport's snapshot of the application, judged C1/C2 (markers; FIFO); over bank, token-ring, chang-roberts",
    ),
    (
        lai_yang::SUFFIX,
        "Lai–Yang's snapshot of the application, judged C1/C2 (colours, logs or Mattern's counters; non-FIFO); over bank, token-ring, chang-roberts",
    ),
    (
        by_mutex::SUFFIX,
        "shared memory copied at every node, each operation in the critical section (read=local: the non-linearizable variant); over lamport-mutex, ricart-agrawala, carvalho-roucairol, suzuki-kasami, raymond, maekawa",
    ),
];

/// Every algorithm's name, in catalogue order.
pub fn names() -> Vec<&'static str> {
    specs().into_iter().map(|s| s.name).collect()
}

/// The self-description of the algorithm named `name`, layers included.
pub fn find(name: &str) -> Option<AlgorithmSpec> {
    struct Spec;
    impl AlgorithmVisitor for Spec {
        type Output = AlgorithmSpec;
        fn visit<A: Algorithm>(self) -> AlgorithmSpec {
            A::spec()
        }
    }
    visit(name, Spec)
}

/// The catalogue name closest to `name`, to suggest after a typo (normalized
/// Damerau–Levenshtein similarity from `strsim`; nothing when no name is close).
pub fn suggest(name: &str) -> Option<&'static str> {
    let score = |c: &str| strsim::normalized_damerau_levenshtein(&name.to_ascii_lowercase(), c);
    names()
        .into_iter()
        .map(|c| (score(c), c))
        .filter(|(s, _)| *s >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_name_resolves_to_its_own_spec_and_names_are_unique() {
        let names = names();
        for name in &names {
            assert_eq!(find(name).map(|s| s.name), Some(*name));
            struct Name;
            impl AlgorithmVisitor for Name {
                type Output = &'static str;
                fn visit<A: Algorithm>(self) -> &'static str {
                    A::spec().name
                }
            }
            assert_eq!(visit(name, Name), Some(*name), "dispatch reaches {name}");
        }
        assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), names.len(), "two algorithms share a name");
        assert!(visit("no-such-algorithm", Name2).is_none());
        struct Name2;
        impl AlgorithmVisitor for Name2 {
            type Output = ();
            fn visit<A: Algorithm>(self) {}
        }
    }

    #[test]
    fn every_default_parameter_value_is_one_its_parameter_takes() {
        for spec in specs() {
            let resolved = reparti_core::Params::resolve(spec.name, spec.params, &[]);
            assert!(resolved.is_ok(), "{}: {resolved:?}", spec.name);
        }
    }

    #[test]
    fn a_layer_suffix_names_the_algorithm_over_the_layer() {
        let spec = find("lamport-mutex+fifo").expect("the FIFO layer composes with any algorithm");
        assert_eq!(spec.name, "lamport-mutex+fifo");
        assert!(!spec.needs_fifo, "the layer gives FIFO: the run needs no FIFO network");
        assert!(spec.params.iter().any(|p| p.name == "fifo_window"));
        assert!(spec.params.iter().any(|p| p.name == "requests"), "the application's parameters stay");
        assert!(find("lamport-mutex").is_some_and(|s| s.needs_fifo));
        assert!(find("no-such+fifo").is_none());
        assert!(find("lamport-mutex+fifo+fifo").is_none(), "one FIFO layer is enough");
    }

    #[test]
    fn typos_get_the_nearest_name() {
        assert_eq!(suggest("chang-robert"), Some("chang-roberts"));
        assert_eq!(suggest("frankln"), Some("franklin"));
        assert_eq!(suggest("Ricart-Agrawla"), Some("ricart-agrawala"));
        assert_eq!(suggest("zzzzzzzzzzzzzzzzzzzz"), None);
    }
}
