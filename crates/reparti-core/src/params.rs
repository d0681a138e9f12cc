//! Algorithm parameters: declared with defaults, given as `--param K=V`.

use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// One parameter an algorithm accepts, with the values it may take: a value outside
/// them is a usage error (exit 2) before anything runs, in every engine.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ParamSpec {
    /// Its name, as in `--param NAME=VALUE`.
    pub name: &'static str,
    /// Its default value, as text.
    pub default: &'static str,
    /// What it means.
    pub help: &'static str,
    /// The values it may take.
    pub kind: ParamKind,
}

/// The values a parameter may take.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKind {
    /// A whole number from `min` to `max`.
    Int {
        /// The least value.
        min: i64,
        /// The greatest value.
        max: i64,
    },
    /// A number from `min` to `max`.
    Real {
        /// The least value.
        min: f64,
        /// The greatest value.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// One of these words.
    Choice {
        /// The words.
        of: &'static [&'static str],
    },
    /// Text the algorithm reads itself (and refuses itself, in one line).
    Text,
    /// One node's position, `0..n` (checked once the number of nodes is known).
    Node,
    /// `all`, or a comma-separated list of node positions, each `0..n`.
    Nodes,
}

impl std::fmt::Display for ParamKind {
    /// What a person may type: `0..=100000`, `true|false`, `leader|all`, `text`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamKind::Int { min, max } => write!(f, "{min}..={max}"),
            ParamKind::Real { min, max } => write!(f, "{min}..={max}"),
            ParamKind::Bool => f.write_str("true|false"),
            ParamKind::Choice { of } => f.write_str(&of.join("|")),
            ParamKind::Text => f.write_str("text"),
            ParamKind::Node => f.write_str("a node's position, 0..n-1"),
            ParamKind::Nodes => f.write_str("all|positions like 0,3"),
        }
    }
}

impl ParamSpec {
    /// A whole number from `min` to `max`.
    pub const fn int(name: &'static str, default: &'static str, min: i64, max: i64, help: &'static str) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Int { min, max } }
    }

    /// A number from `min` to `max`.
    pub const fn real(name: &'static str, default: &'static str, min: f64, max: f64, help: &'static str) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Real { min, max } }
    }

    /// `true` or `false`.
    pub const fn boolean(name: &'static str, default: &'static str, help: &'static str) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Bool }
    }

    /// One of the words `of`.
    pub const fn choice(
        name: &'static str,
        default: &'static str,
        of: &'static [&'static str],
        help: &'static str,
    ) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Choice { of } }
    }

    /// Text the algorithm reads (and checks) itself.
    pub const fn text(name: &'static str, default: &'static str, help: &'static str) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Text }
    }

    /// One node's position, `0..n`.
    pub const fn node(name: &'static str, default: &'static str, help: &'static str) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Node }
    }

    /// `all`, or a comma-separated list of node positions.
    pub const fn nodes(name: &'static str, default: &'static str, help: &'static str) -> Self {
        ParamSpec { name, default, help, kind: ParamKind::Nodes }
    }

    /// Whether `value` names only nodes of `0..n`; other kinds take any `n`.
    pub fn check_positions(&self, value: &str, n: usize) -> Result<(), String> {
        let positions: Vec<&str> = match self.kind {
            ParamKind::Node => vec![value],
            ParamKind::Nodes if value.trim().eq_ignore_ascii_case("all") => return Ok(()),
            ParamKind::Nodes => value.split(',').collect(),
            _ => return Ok(()),
        };
        for p in positions {
            match p.trim().parse::<u64>() {
                Ok(i) if (i as u128) < n as u128 => {}
                Ok(i) => {
                    return Err(format!(
                        "names node {i}, but the {} are numbered 0 to {}",
                        if n == 1 { "only node is" } else { "nodes" },
                        n.saturating_sub(1)
                    ))
                }
                Err(_) => return Err(format!("'{}' is not a node's position (0, 1, …)", p.trim())),
            }
        }
        Ok(())
    }

    /// Whether `value` is one this parameter takes; `Err` says which values it takes.
    pub fn check(&self, value: &str) -> Result<(), String> {
        match self.kind {
            ParamKind::Int { min, max } => match value.parse::<i64>() {
                Ok(v) if (min..=max).contains(&v) => Ok(()),
                _ => Err(format!("must be a whole number from {min} to {max}")),
            },
            ParamKind::Real { min, max } => match value.parse::<f64>() {
                Ok(v) if v >= min && v <= max => Ok(()),
                _ => Err(format!("must be a number from {min} to {max}")),
            },
            ParamKind::Bool => match value {
                "true" | "false" => Ok(()),
                _ => Err("must be true or false".into()),
            },
            ParamKind::Choice { of } => {
                if of.contains(&value) {
                    Ok(())
                } else {
                    Err(format!("must be one of {}", of.join(", ")))
                }
            }
            ParamKind::Text => Ok(()),
            // Their range is known with the number of nodes: `check_positions`. Here,
            // only their form.
            ParamKind::Node | ParamKind::Nodes => self.check_positions(value, usize::MAX),
        }
    }
}

/// Why a parameter is not usable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamError {
    /// The algorithm has no such parameter.
    #[error("{algorithm} has no parameter '{name}'; it accepts: {accepted}")]
    Unknown {
        /// The algorithm.
        algorithm: String,
        /// The name given.
        name: String,
        /// The names it accepts.
        accepted: String,
    },
    /// The value does not parse.
    #[error("parameter {name}={value}: {why}")]
    Invalid {
        /// The parameter.
        name: String,
        /// The value given.
        value: String,
        /// What was expected.
        why: String,
    },
    /// Not of the form K=V.
    #[error("'{0}' is not of the form NAME=VALUE (e.g. --param requests=3)")]
    Syntax(String),
}

/// The parameter values of one run: the declared defaults overridden by the user's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Merges user-given `K=V` pairs over the declared defaults, refusing unknown names
    /// and values outside what each parameter takes.
    pub fn resolve(algorithm: &str, specs: &[ParamSpec], given: &[(String, String)]) -> Result<Params, ParamError> {
        let mut values: BTreeMap<String, String> =
            specs.iter().map(|p| (p.name.to_string(), p.default.to_string())).collect();
        for (k, v) in given {
            if !values.contains_key(k) {
                let accepted = if specs.is_empty() {
                    "no parameters".to_string()
                } else {
                    specs.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                };
                return Err(ParamError::Unknown { algorithm: algorithm.into(), name: k.clone(), accepted });
            }
            values.insert(k.clone(), v.clone());
        }
        for spec in specs {
            let value = values.get(spec.name).map(String::as_str).unwrap_or(spec.default);
            spec.check(value).map_err(|why| ParamError::Invalid {
                name: spec.name.into(),
                value: value.into(),
                why,
            })?;
        }
        Ok(Params { values })
    }

    /// Refuses a value that names a node outside `0..n`, once the instance's size is known.
    pub fn check_positions(&self, specs: &[ParamSpec], n: usize) -> Result<(), ParamError> {
        for spec in specs {
            let value = self.raw(spec.name).unwrap_or(spec.default);
            spec.check_positions(value, n).map_err(|why| ParamError::Invalid {
                name: spec.name.into(),
                value: value.into(),
                why,
            })?;
        }
        Ok(())
    }

    /// Splits `K=V`.
    pub fn parse_pair(s: &str) -> Result<(String, String), ParamError> {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => Err(ParamError::Syntax(s.to_string())),
        }
    }

    /// The raw text of a parameter.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A parameter parsed as `T`.
    pub fn get<T: FromStr>(&self, name: &str) -> Result<T, ParamError> {
        let raw = self.raw(name).ok_or_else(|| ParamError::Invalid {
            name: name.into(),
            value: String::new(),
            why: "missing (the algorithm does not declare it)".into(),
        })?;
        raw.parse::<T>().map_err(|_| ParamError::Invalid {
            name: name.into(),
            value: raw.into(),
            why: format!("expected a {}", std::any::type_name::<T>().rsplit("::").next().unwrap_or("value")),
        })
    }

    /// Every value, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets a value (used by tests and scenario files).
    pub fn set(&mut self, name: &str, value: impl ToString) {
        self.values.insert(name.to_string(), value.to_string());
    }
}
