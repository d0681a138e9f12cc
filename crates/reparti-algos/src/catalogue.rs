//! The catalogue: every algorithm, listed once.
//!
//! [`algorithms!`] below is the only list. From it come the dispatch from a name to a
//! type ([`visit`]), the names in catalogue order ([`names`]) and the self-descriptions
//! ([`specs`]); an algorithm's name is the one its own `AlgorithmSpec` gives, so it is
//! written in one place too. Adding an algorithm is one line here.

use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor};

/// The catalogue, in the order `reparti list` shows it (by chapter, then by age).
macro_rules! algorithms {
    ($($algorithm:ty),* $(,)?) => {
        /// Calls `visitor.visit::<A>()` for the algorithm named `name`; `None` if there is none.
        pub fn visit<V: AlgorithmVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            $(
                if <$algorithm as Algorithm>::spec().name == name {
                    return Some(visitor.visit::<$algorithm>());
                }
            )*
            None
        }

        /// Every algorithm's self-description, in catalogue order.
        pub fn specs() -> Vec<AlgorithmSpec> {
            vec![$(<$algorithm as Algorithm>::spec()),*]
        }
    };
}

algorithms![
    crate::communication::TokenRing,
    crate::communication::ProducerConsumer,
    crate::communication::CreditFlow,
    crate::communication::CreditRing,
    crate::time::LogicalClocks,
    crate::mutex::LamportMutex,
    crate::mutex::RicartAgrawala,
    crate::election::ChangRoberts,
    crate::election::ChangRobertsLab,
    crate::election::Franklin,
];

/// Every algorithm's name, in catalogue order.
pub fn names() -> Vec<&'static str> {
    specs().into_iter().map(|s| s.name).collect()
}

/// The self-description of the algorithm named `name`.
pub fn find(name: &str) -> Option<AlgorithmSpec> {
    specs().into_iter().find(|s| s.name == name)
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
    fn typos_get_the_nearest_name() {
        assert_eq!(suggest("chang-robert"), Some("chang-roberts"));
        assert_eq!(suggest("frankln"), Some("franklin"));
        assert_eq!(suggest("Ricart-Agrawla"), Some("ricart-agrawala"));
        assert_eq!(suggest("zzzzzzzzzzzzzzzzzzzz"), None);
    }
}
