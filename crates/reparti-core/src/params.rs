//! Algorithm parameters: declared with defaults, given as `--param K=V`.

use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// One parameter an algorithm accepts.
#[derive(Clone, Debug, Serialize)]
pub struct ParamSpec {
    /// Its name, as in `--param NAME=VALUE`.
    pub name: &'static str,
    /// Its default value, as text.
    pub default: &'static str,
    /// What it means.
    pub help: &'static str,
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
    /// Merges user-given `K=V` pairs over the declared defaults, refusing unknown names.
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
        Ok(Params { values })
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
