//! The catalogue: every algorithm by name, and the dispatch from a name to its type.

use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor};

/// Calls `visitor.visit::<A>()` for the algorithm named `name`; `None` if there is none.
pub fn visit<V: AlgorithmVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    use crate::{communication, election, mutex, time};
    Some(match name {
        "chang-roberts" => visitor.visit::<election::ChangRoberts>(),
        "chang-roberts-lab" => visitor.visit::<election::ChangRobertsLab>(),
        "franklin" => visitor.visit::<election::Franklin>(),
        "token-ring" => visitor.visit::<communication::TokenRing>(),
        "logical-clocks" => visitor.visit::<time::LogicalClocks>(),
        "ricart-agrawala" => visitor.visit::<mutex::RicartAgrawala>(),
        _ => return None,
    })
}

struct SpecOf;
impl AlgorithmVisitor for SpecOf {
    type Output = AlgorithmSpec;
    fn visit<A: Algorithm>(self) -> AlgorithmSpec {
        A::spec()
    }
}

/// Every algorithm's name, in catalogue order.
pub fn names() -> &'static [&'static str] {
    &["token-ring", "logical-clocks", "ricart-agrawala", "chang-roberts", "chang-roberts-lab", "franklin"]
}

/// Every algorithm's self-description, in catalogue order.
pub fn specs() -> Vec<AlgorithmSpec> {
    names().iter().filter_map(|n| visit(n, SpecOf)).collect()
}

/// The self-description of the algorithm named `name`.
pub fn find(name: &str) -> Option<AlgorithmSpec> {
    visit(name, SpecOf)
}

/// The catalogue name closest to `name` (by edit distance), to suggest after a typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    names().iter().copied().min_by_key(|c| edit_distance(name, c)).filter(|c| edit_distance(name, c) <= c.len() / 2 + 1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_resolves_to_its_own_spec() {
        for name in names() {
            assert_eq!(find(name).map(|s| s.name), Some(*name));
        }
    }

    #[test]
    fn typos_get_the_nearest_name() {
        assert_eq!(suggest("chang-robert"), Some("chang-roberts"));
        assert_eq!(suggest("frankln"), Some("franklin"));
        assert_eq!(suggest("zzzzzzzzzzzzzzzzzzzz"), None);
    }
}
