//! The flags the commands share, resolved once.
//!
//! Modelled on ripgrep's low-level and high-level arguments: a command hands over the
//! flags it shares with the others as typed — the algorithm (or a scenario file in its
//! place), the topology, identities, parameters, node count and seed — in a
//! [`SetupFlags`]; [`Setup::resolve`] parses and checks them once, in one order, with one
//! wording for each mistake (a usage error: one line, exit status 2); and the command
//! builds its engine's configuration from the resulting [`Setup`]. `reparti sim`, `check`,
//! `node`, `run`, `topo` and `eval` all go through here, so a flag means the same, and
//! is refused the same way, everywhere.
//!
//! The channel model is resolved here too, from the algorithm's declaration: an algorithm
//! that assumes FIFO channels is checked on FIFO channels unless told otherwise, and an
//! explicit non-FIFO choice for it is pointed out ([`check_network`], [`fifo_note`]).

use crate::error::usage;
use reparti_check::NetworkKind;
use reparti_core::TopologyKind;
use reparti_core::{Algorithm, AlgorithmSpec, AlgorithmVisitor, IdAssignment, Instance, Params, Topology};
use std::path::{Path, PathBuf};

/// What the first argument of `sim`, `check` or `run` names.
#[derive(Debug, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A scenario file (FILE.toml, see docs/SCENARIOS.md) that describes the whole run.
    Scenario(PathBuf),
    /// An algorithm, by its catalogue name (checked by [`algorithm`]).
    Algorithm(&'a str),
}

/// A scenario file when `arg` ends in `.toml`, or is an existing file that is not an
/// algorithm's name; an algorithm otherwise.
pub fn subject(arg: &str) -> Subject<'_> {
    match scenario_path(arg) {
        Some(path) => Subject::Scenario(path),
        None => Subject::Algorithm(arg),
    }
}

/// The scenario file `arg` names instead of an algorithm, if it does (see [`subject`]).
pub fn scenario_path(arg: &str) -> Option<PathBuf> {
    let p = Path::new(arg);
    let named = arg.ends_with(".toml") || (reparti_algos::find(arg).is_none() && p.is_file());
    named.then(|| p.to_path_buf())
}

/// The algorithm `name` names, run over the layers the flags ask for (`--fifo-layer`
/// makes `NAME+fifo`, which the catalogue resolves to the algorithm over the FIFO
/// layer). A scenario file says its layers in its own `algorithm` line.
pub fn over_layers(name: String, fifo_layer: bool) -> anyhow::Result<String> {
    let suffix = reparti_algos::communication::fifo_layer::SUFFIX;
    if !fifo_layer || name.ends_with(suffix) {
        return Ok(name);
    }
    if scenario_path(&name).is_some() {
        return Err(usage(format!(
            "--fifo-layer applies to an algorithm, not to the scenario file '{name}': write `algorithm = \"NAME{suffix}\"` in the file instead"
        )));
    }
    Ok(format!("{name}{suffix}"))
}

/// The catalogue entry for `name`, or a usage error suggesting the nearest name.
pub fn algorithm(name: &str) -> anyhow::Result<AlgorithmSpec> {
    reparti_algos::find(name).ok_or_else(|| {
        for (suffix, layer, apps) in [
            (reparti_algos::CHANDY_LAMPORT_SUFFIX, "Chandy–Lamport's snapshot", reparti_algos::SNAPSHOT_APPS),
            (reparti_algos::LAI_YANG_SUFFIX, "Lai–Yang's snapshot", reparti_algos::SNAPSHOT_APPS),
            (reparti_algos::MEMORY_SUFFIX, "The memory by mutual exclusion", reparti_algos::MEMORY_MUTEXES),
        ] {
            if let Some(app) = name.strip_suffix(suffix) {
                return usage(format!(
                    "{layer} is offered over {}, not over '{app}': choose one of those (`reparti list` shows the layers)",
                    apps.join(", ")
                ));
            }
        }
        // A layer named alone (`chandy-lamport`): say how to name it over an application.
        if let Some((suffix, what)) = reparti_algos::LAYERS.iter().find(|(suffix, _)| suffix.strip_prefix('+') == Some(name)) {
            return usage(format!(
                "'{name}' is a layer, run over an application: name both, as in `APP{suffix}` ({what}; `reparti list` shows the layers)"
            ));
        }
        let hint = match reparti_algos::suggest(name) {
            Some(s) => format!("did you mean '{s}'? "),
            None => String::new(),
        };
        usage(format!("unknown algorithm '{name}'; {hint}(`reparti list` shows them all)"))
    })
}

/// `--topology`, parsed (`None`: the algorithm's first accepted one).
pub fn topology(text: Option<&str>) -> anyhow::Result<Option<TopologyKind>> {
    text.map(|t| t.parse::<TopologyKind>().map_err(|e| usage(e.to_string()))).transpose()
}

/// `--ids`, parsed.
pub fn ids(text: &str) -> anyhow::Result<IdAssignment> {
    text.parse().map_err(|e: reparti_core::idents::IdError| usage(e.to_string()))
}

/// `--param K=V` pairs, split (their names are checked against an algorithm by
/// [`Setup::resolve`]).
pub fn params(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs.iter().map(|p| Params::parse_pair(p).map_err(|e| usage(e.to_string()))).collect()
}

/// `--nodes`, refused when zero.
pub fn nodes(n: Option<usize>) -> anyhow::Result<Option<usize>> {
    match n {
        Some(0) => Err(usage("--nodes must be at least 1")),
        other => Ok(other),
    }
}

/// The shared flags as typed: the low-level arguments.
#[derive(Clone, Debug, Default)]
pub struct SetupFlags<'a> {
    /// `--topology` (`None`: the algorithm's first accepted one).
    pub topology: Option<&'a str>,
    /// `--ids`.
    pub ids: &'a str,
    /// `--param K=V`, in the order typed (a later one wins).
    pub params: &'a [String],
    /// Parameters from a file that the `--param` flags override (a cluster file's).
    pub file_params: Vec<(String, String)>,
    /// `--nodes` (`None`: the command's own default).
    pub nodes: Option<usize>,
    /// `--seed`.
    pub seed: u64,
}

/// The shared flags resolved and checked: the high-level arguments.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The algorithm.
    pub spec: AlgorithmSpec,
    /// The topology (`None`: the algorithm's first accepted one).
    pub topology: Option<TopologyKind>,
    /// How identities are assigned.
    pub ids: IdAssignment,
    /// The parameters as `K=V` pairs, every name one the algorithm declares.
    pub params: Vec<(String, String)>,
    /// The node count asked for, at least 1 (`None`: the command's own default).
    pub nodes: Option<usize>,
    /// The seed.
    pub seed: u64,
}

impl Setup {
    /// Resolves the algorithm named `name` and its flags.
    pub fn resolve(name: &str, flags: SetupFlags<'_>) -> anyhow::Result<Setup> {
        Setup::for_spec(algorithm(name)?, flags)
    }

    /// Resolves the flags of an algorithm already found.
    pub fn for_spec(spec: AlgorithmSpec, flags: SetupFlags<'_>) -> anyhow::Result<Setup> {
        let topology = topology(flags.topology)?;
        let ids = ids(flags.ids)?;
        let mut params = flags.file_params;
        params.extend(self::params(flags.params)?);
        // Resolved here, so that a bad parameter is reported before anything runs.
        Params::resolve(spec.name, spec.params, &params).map_err(|e| usage(e.to_string()))?;
        let nodes = nodes(flags.nodes)?;
        Ok(Setup { spec, topology, ids, params, nodes, seed: flags.seed })
    }

    /// The instance every engine builds from this setup with `n` nodes (an edge-list
    /// file says how many itself): its topology and identities. A topology the algorithm
    /// does not run on, or that `n` nodes cannot make, or identities that do not fit, are
    /// usage errors reported here, before anything runs.
    pub fn build(&self, n: usize) -> anyhow::Result<Built> {
        reparti_algos::visit(self.spec.name, Build { setup: self, n })
            .unwrap_or_else(|| Err(usage(format!("unknown algorithm '{}'", self.spec.name))))
    }
}

/// What [`Setup::build`] made.
pub struct Built {
    /// The topology.
    pub topology: Topology,
    /// Every node's identity, by position.
    pub idents: Vec<u64>,
}

struct Build<'a> {
    setup: &'a Setup,
    n: usize,
}

impl AlgorithmVisitor for Build<'_> {
    type Output = anyhow::Result<Built>;
    fn visit<A: Algorithm>(self) -> Self::Output {
        let s = self.setup;
        let instance = Instance::<A>::new(&s.params, s.topology.as_ref(), self.n, &s.ids, s.seed)
            .map_err(|e| usage(e.to_string()))?;
        Ok(Built { topology: instance.topology, idents: instance.idents })
    }
}

/// The channel model `reparti check` explores: the one asked for, else FIFO for an
/// algorithm that assumes FIFO channels and unordered for the others (the more
/// schedules, the more a check proves).
pub fn check_network(spec: &AlgorithmSpec, asked: Option<NetworkKind>) -> NetworkKind {
    match asked {
        Some(kind) => kind,
        None if spec.needs_fifo => NetworkKind::Fifo,
        None => NetworkKind::Unordered,
    }
}

/// The one line to print when channels that may reorder were chosen (`choice` says how,
/// e.g. `--no-fifo`) for an algorithm that assumes FIFO channels: its properties may then
/// fail for a reason that is not a bug.
pub fn fifo_note(spec: &AlgorithmSpec, fifo: bool, choice: &str) -> Option<String> {
    (spec.needs_fifo && !fifo).then(|| format!("note: {} assumes FIFO channels; {choice} may break it", spec.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(needs_fifo: bool) -> AlgorithmSpec {
        let spec = reparti_algos::find("ricart-agrawala").expect("in the catalogue");
        AlgorithmSpec { needs_fifo, ..spec }
    }

    #[test]
    fn an_algorithm_that_assumes_fifo_is_checked_on_fifo_channels_by_default() {
        assert_eq!(check_network(&spec(true), None), NetworkKind::Fifo);
        assert_eq!(check_network(&spec(false), None), NetworkKind::Unordered);
        for asked in [NetworkKind::Fifo, NetworkKind::Unordered, NetworkKind::Lossy, NetworkKind::Duplicating] {
            assert_eq!(check_network(&spec(true), Some(asked)), asked, "an explicit choice stands");
        }
    }

    #[test]
    fn an_explicit_non_fifo_choice_is_one_line_for_an_algorithm_that_assumes_fifo() {
        let note = fifo_note(&spec(true), false, "--no-fifo").expect("a note");
        assert_eq!(note, "note: ricart-agrawala assumes FIFO channels; --no-fifo may break it");
        assert_eq!(note.lines().count(), 1);
        assert_eq!(fifo_note(&spec(true), true, "--fifo"), None, "FIFO is what it assumes");
        assert_eq!(fifo_note(&spec(false), false, "--no-fifo"), None, "it assumes nothing");
    }

    fn flags(params: &[String]) -> SetupFlags<'_> {
        SetupFlags { ids: "random", params, ..SetupFlags::default() }
    }

    #[test]
    fn flags_are_refused_with_the_usual_words() {
        let e = Setup::resolve("chang-robert", flags(&[])).expect_err("a typo").to_string();
        assert!(e.contains("did you mean 'chang-roberts'"), "{e}");
        let bad = ["nonsense=1".to_string()];
        let e = Setup::resolve("chang-roberts", flags(&bad)).expect_err("unknown").to_string();
        assert!(e.contains("no parameter 'nonsense'"), "{e}");
        let e = Setup::resolve("chang-roberts", SetupFlags { nodes: Some(0), ..flags(&[]) }).expect_err("none");
        assert_eq!(e.to_string(), "--nodes must be at least 1");
        let e = Setup::resolve("chang-roberts", SetupFlags { topology: Some("moebius"), ..flags(&[]) });
        assert!(e.expect_err("unknown").to_string().contains("unknown topology"));
    }

    #[test]
    fn file_parameters_are_overridden_by_the_flags() {
        let typed = ["laps=3".to_string()];
        let flags = SetupFlags {
            ids: "asc",
            params: &typed,
            file_params: vec![("laps".into(), "1".into())],
            ..SetupFlags::default()
        };
        let setup = Setup::resolve("token-ring", flags).expect("valid");
        let spec = setup.spec;
        let resolved = Params::resolve(spec.name, spec.params, &setup.params).expect("valid");
        assert_eq!(resolved.raw("laps"), Some("3"));
    }

    #[test]
    fn a_scenario_file_is_told_from_an_algorithm() {
        assert_eq!(subject("scenarios/x.toml"), Subject::Scenario("scenarios/x.toml".into()));
        assert_eq!(subject("chang-roberts"), Subject::Algorithm("chang-roberts"));
    }
}
