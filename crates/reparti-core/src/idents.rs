//! How identities are assigned to positions.
//!
//! Elections compare identities, and their cost depends on how identities are laid
//! out along the ring: Chang–Roberts sends n(n+1)/2 ELECT messages when identities
//! decrease along the direction messages travel, and 2n−1 when they increase.

use crate::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An identity assignment, as named on the command line.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdAssignment {
    /// A random permutation of `1..=n` (seeded).
    Random,
    /// Node i gets `i+1`: identities increase along the ring's direction.
    Asc,
    /// Node i gets `n-i`: identities decrease along the ring's direction (Chang–Roberts' worst case).
    Desc,
    /// Explicit identities, one per node, all distinct.
    List(Vec<u64>),
}

/// Why an identity assignment is not usable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdError {
    /// Not `random`, `asc`, `desc`, nor a comma-separated list of numbers.
    #[error("bad --ids '{0}': expected random, asc, desc, or a comma-separated list like 3,1,2")]
    Syntax(String),
    /// The list does not have one identity per node.
    #[error("--ids lists {given} identities for {n} nodes; give exactly one per node")]
    Count {
        /// How many were listed.
        given: usize,
        /// How many nodes there are.
        n: usize,
    },
    /// Two nodes would share an identity.
    #[error("--ids repeats identity {0}; identities must be distinct")]
    Duplicate(u64),
}

impl FromStr for IdAssignment {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match s {
            "random" => Ok(IdAssignment::Random),
            "asc" | "ascending" => Ok(IdAssignment::Asc),
            "desc" | "descending" => Ok(IdAssignment::Desc),
            list => list
                .split(',')
                .map(|x| x.trim().parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map(IdAssignment::List)
                .map_err(|_| IdError::Syntax(s.to_string())),
        }
    }
}

impl fmt::Display for IdAssignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdAssignment::Random => f.write_str("random"),
            IdAssignment::Asc => f.write_str("asc"),
            IdAssignment::Desc => f.write_str("desc"),
            IdAssignment::List(l) => {
                let parts: Vec<String> = l.iter().map(u64::to_string).collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

impl IdAssignment {
    /// The identity of each position `0..n`.
    pub fn assign(&self, n: usize, rng: &mut Rng) -> Result<Vec<u64>, IdError> {
        Ok(match self {
            IdAssignment::Random => {
                let mut v: Vec<u64> = (1..=n as u64).collect();
                v.shuffle(rng);
                v
            }
            IdAssignment::Asc => (1..=n as u64).collect(),
            IdAssignment::Desc => (0..n as u64).map(|i| n as u64 - i).collect(),
            IdAssignment::List(l) => {
                if l.len() != n {
                    return Err(IdError::Count { given: l.len(), n });
                }
                let mut sorted = l.clone();
                sorted.sort_unstable();
                if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                    return Err(IdError::Duplicate(w[0]));
                }
                l.clone()
            }
        })
    }
}
