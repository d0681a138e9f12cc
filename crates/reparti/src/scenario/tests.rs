//! Unit tests of the scenario parser and of its mapping to engine configurations.

use super::diag::{line_col, picture, Located};
use super::expect::PropExpect;
use super::file::Count;
use super::plan::{sim_plan, SimPlan};
use super::plan_check::{check_plan, CheckPlan};
use super::{commands_of, list_dir, Scenario};
use crate::resolve::scenario_path as path_of;
use reparti_check::{NetworkKind, Strategy};
use reparti_core::{IdAssignment, NodeId};
use reparti_sim::{Delay, Fault, VectorClocks};

fn parse(text: &str) -> Result<Scenario, Located> {
    Scenario::parse("t.toml", text.to_string())
}

fn sim(text: &str) -> Result<SimPlan, Located> {
    sim_plan(&parse(text)?.file, None)
}

fn check(text: &str) -> Result<CheckPlan, Located> {
    check_plan(&parse(text)?.file, None)
}

/// The error's line and column in `text`, and its message.
fn error_at(text: &str, result: Result<impl std::fmt::Debug, Located>) -> (usize, usize, String) {
    let e = result.expect_err("the scenario should be refused");
    let (line, col) = line_col(text, e.span.start);
    (line, col, e.message)
}

const FULL: &str = r#"
description = "everything"
algorithm = "chang-roberts"
seed = 7

[params]
initiators = [0, 2]

[topology]
kind = "ring"
nodes = 6
ids = [6, 5, 4, 3, 2, 1]

[network]
fifo = false
delay = "uniform:1,3"
loss = 0.25
dup = 0.5
sync = false

[[faults.crash]]
node = 3
at = 10

[[faults.partition]]
nodes = [1, 2]
from = 5
until = 20

[[faults.delay]]
from = 2
to = 3
message = "elect"
payload = "Elect(5)"
by = 100

[workload]
replace_workload = true
inputs = [{ at = 4, node = 2, input = "Elect" }]

[limits]
max_events = 500
max_time = 99.5
vector_clocks = "on"
keep_going = true

[expect]
stop = "quiescence"
fail = ["every other node is lost"]
hold = ["at most one leader"]
others = "any"
declared_counts = "any"
outputs.leader = { value = 6, count = { min = 2, max = 6 } }
messages = { elect = 7, total = { max = 50 }, dropped = 0 }

[check]
network = "fifo"
nodes = 3
ids = "desc"
strategy = "random"
walks = 10
depth = 20
threads = 2
max_crashes = 1
liveness = false
por = true

[check.expect]
fail = ["no deadlock"]
counterexample = true
counterexample_steps = { max = 9 }
complete = false
unique_states = 12
"#;

#[test]
fn every_table_maps_onto_the_simulation_config() {
    let plan = sim(FULL).expect("the full example is valid");
    let c = &plan.config;
    assert_eq!(plan.algorithm, "chang-roberts");
    assert_eq!((c.nodes, c.seed), (Some(6), 7));
    assert_eq!(c.topology.as_ref().map(|t| t.to_string()), Some("ring".to_string()));
    assert_eq!(c.ids, IdAssignment::List(vec![6, 5, 4, 3, 2, 1]));
    assert_eq!(c.params, vec![("initiators".to_string(), "0,2".to_string())]);
    assert!(!c.network.fifo && !c.network.sync);
    assert_eq!(c.network.delay, Delay::Uniform { min: 1.0, max: 3.0 });
    assert_eq!((c.network.loss, c.network.dup), (0.25, 0.5));
    assert_eq!(
        c.faults,
        vec![
            Fault::Crash { node: NodeId(3), at: 10.0 },
            Fault::Partition { nodes: vec![NodeId(1), NodeId(2)], from: 5.0, until: 20.0 },
            // The type is spelt as the algorithm declares it, whatever the file's case.
            Fault::DelayMessage {
                from: NodeId(2),
                to: NodeId(3),
                message: "ELECT".into(),
                payload: Some("Elect(5)".into()),
                after: 0.0,
                by: 100.0,
            },
        ]
    );
    assert!(c.no_workload);
    assert_eq!(c.inputs.len(), 1);
    assert_eq!((c.inputs[0].at, c.inputs[0].node), (4.0, 2));
    assert_eq!(c.inputs[0].input, serde_json::json!("Elect"));
    assert_eq!((c.max_events, c.max_time), (Some(500), Some(99.5)));
    assert_eq!(c.vector_clocks, VectorClocks::On);
    assert!(!c.stop_at_violation);

    let e = &plan.expect;
    assert_eq!(e.stop.as_deref(), Some("quiescence"));
    assert_eq!(
        e.props,
        PropExpect {
            fail: vec!["every other node is lost".into()],
            hold: vec!["at most one leader".into()],
            others_hold: false
        }
    );
    assert!(!e.declared_counts);
    assert_eq!(e.outputs, vec![("leader".into(), "6".into(), Count::Range { min: Some(2), max: Some(6) })]);
    // Message types are normalised to the algorithm's spelling; keys come sorted.
    assert_eq!(
        e.messages,
        vec![
            ("dropped".into(), Count::Exact(0)),
            ("ELECT".into(), Count::Exact(7)),
            ("total".into(), Count::Range { min: None, max: Some(50) })
        ]
    );
}

#[test]
fn the_check_table_maps_onto_the_check_config() {
    let plan = check(FULL).expect("the full example is valid");
    let c = &plan.config;
    assert_eq!(plan.algorithm, "chang-roberts");
    assert_eq!((c.nodes, c.seed, c.threads), (Some(3), 7, 2));
    assert_eq!(c.ids, IdAssignment::Desc);
    assert_eq!(c.network, NetworkKind::Fifo);
    assert_eq!(c.strategy, Strategy::Random { walks: 10, depth: 20 });
    assert_eq!((c.max_crashes, c.max_drops, c.max_dups), (1, 1, 1));
    assert!(c.por && !c.symmetry && !c.liveness && !c.wide_fingerprints);
    assert_eq!(c.params, vec![("initiators".to_string(), "0,2".to_string())]);
    let e = &plan.expect;
    assert_eq!(e.props.fail, vec!["no deadlock".to_string()]);
    assert!(e.props.others_hold);
    assert_eq!(e.counterexample, Some(true));
    assert_eq!(e.counterexample_steps, Some(Count::Range { min: None, max: Some(9) }));
    assert_eq!((e.complete, e.unique_states), (Some(false), Some(Count::Exact(12))));
    // The simulation-only tables are named in a note rather than silently ignored.
    assert_eq!(plan.notes.len(), 1);
    for table in ["[network]", "[faults]", "[workload]", "[limits]"] {
        assert!(plan.notes[0].contains(table), "{}", plan.notes[0]);
    }
}

#[test]
fn a_minimal_file_takes_the_defaults() {
    let plan = sim("algorithm = \"franklin\"").expect("valid");
    let c = &plan.config;
    assert_eq!((c.nodes, c.seed, c.ids.clone()), (Some(8), 1, IdAssignment::Random));
    assert!(c.topology.is_none() && c.faults.is_empty() && c.inputs.is_empty() && !c.no_workload);
    assert!(c.network.fifo && c.stop_at_violation);
    assert_eq!(c.vector_clocks, VectorClocks::Auto);
    // No [expect]: nothing may be violated, every declared count must hold.
    assert!(plan.expect.props.others_hold && plan.expect.declared_counts);
    assert!(plan.expect.props.fail.is_empty() && plan.expect.stop.is_none());

    let e = check("algorithm = \"franklin\"\n[check]\n").expect("valid");
    assert_eq!((e.config.network, e.config.strategy, e.config.threads), (NetworkKind::Unordered, Strategy::Bfs, 1));
    assert!(e.config.liveness && e.notes.is_empty());
}

#[test]
fn a_nodes_override_wins_over_the_file() {
    let f = parse("algorithm = \"chang-roberts\"\n[topology]\nnodes = 8\n").expect("valid");
    let plan = sim_plan(&f.file, Some(toml::Spanned::new(0..0, 5))).expect("valid");
    assert_eq!(plan.config.nodes, Some(5));
}

#[test]
fn counts_are_a_number_or_bounds() {
    let count = |v: &str| toml::from_str::<std::collections::BTreeMap<String, Count>>(&format!("c = {v}"));
    assert_eq!(count("3").map(|m| m["c"]), Ok(Count::Exact(3)));
    assert_eq!(count("{ min = 2 }").map(|m| m["c"]), Ok(Count::Range { min: Some(2), max: None }));
    for bad in ["-1", "{ min = 3, max = 2 }", "{}", "{ least = 1 }", "\"3\""] {
        assert!(count(bad).is_err(), "{bad} should be refused");
    }
    assert!(Count::Exact(3).admits(3) && !Count::Exact(3).admits(4));
    assert!(Count::Range { min: Some(1), max: None }.admits(9));
    assert_eq!(Count::Range { min: Some(1), max: Some(2) }.to_string(), "∈ [1, 2]");
}

#[test]
fn syntax_and_type_errors_point_at_their_place() {
    let text = "algorithm = \"franklin\"\n[topology]\nnodes = \"eight\"\n";
    let (line, col, msg) = error_at(text, parse(text));
    assert_eq!((line, col), (3, 9), "{msg}");
    let text = "algorithm = \"franklin\"\n[network]\nfifo = true\nfifo = false\n";
    assert_eq!(error_at(text, parse(text)).0, 4);
    let text = "algorithm = \"franklin\"\n\n[limits]\nmax_evnts = 3\n";
    let (line, col, msg) = error_at(text, parse(text));
    assert_eq!((line, col), (4, 1));
    assert!(msg.contains("unknown field `max_evnts`"), "{msg}");
}

#[test]
fn semantic_errors_point_at_the_value() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        ("algorithm = \"frankln\"", (1, 13), "unknown algorithm 'frankln'"),
        ("algorithm = \"franklin\"\n[params]\nfixd = true", (3, 1), "no parameter 'fixd'"),
        ("algorithm = \"franklin\"\n[params]\nfixed = \"maybe\"", (3, 9), "fixed=maybe"),
        ("algorithm = \"franklin\"\n[topology]\nkind = \"ring\"", (3, 8), "does not run on the topology 'ring'"),
        ("algorithm = \"franklin\"\n[topology]\nnodes = 3\nids = [1, 2]", (4, 7), "2 identities for 3 nodes"),
        ("algorithm = \"franklin\"\n[topology]\nnodes = 0", (3, 9), "at least one node"),
        ("algorithm = \"franklin\"\n[[faults.crash]]\nnode = 8\nat = 1", (3, 8), "node 8 does not exist"),
        ("algorithm = \"franklin\"\n[[faults.crash]]\nnode = 1\nat = -1", (4, 6), "finite number ≥ 0"),
        (
            "algorithm = \"franklin\"\n[[faults.partition]]\nnodes = [1, 9]\nfrom = 1\nuntil = 2",
            (3, 13),
            "node 9 does not exist",
        ),
        ("algorithm = \"franklin\"\n[[faults.partition]]\nnodes = [1]\nfrom = 5\nuntil = 2", (5, 9), "must end after"),
        (
            "algorithm = \"chang-roberts\"\n[[faults.delay]]\nfrom = 0\nto = 1\nmessage = \"ID\"\nby = 3",
            (5, 11),
            "no message type 'ID'",
        ),
        (
            "algorithm = \"chang-roberts\"\n[[faults.delay]]\nfrom = 0\nto = 2\nmessage = \"ELECT\"\nby = 3",
            (4, 6),
            "no channel from node 0 to node 2",
        ),
        ("algorithm = \"franklin\"\n[network]\nloss = 1.5", (3, 8), "probability"),
        ("algorithm = \"franklin\"\n[network]\ndelay = \"gauss:1\"", (3, 9), "bad delay"),
        (
            "algorithm = \"ricart-agrawala\"\n[workload]\ninputs = [{ at = 1, node = 0, input = \"Enter\" }]",
            (3, 39),
            "unknown variant `Enter`",
        ),
        (
            "algorithm = \"ricart-agrawala\"\n[workload]\ninputs = [{ at = 1, node = 7, input = \"Request\" }]",
            (3, 28),
            "node 7 does not exist",
        ),
        ("algorithm = \"franklin\"\n[expect]\nhold = [\"one leader\"]", (3, 9), "unknown property 'one leader'"),
        ("algorithm = \"franklin\"\n[expect]\nstop = \"done\"", (3, 8), "unknown stop reason"),
        ("algorithm = \"franklin\"\n[expect]\nothers = \"some\"", (3, 10), "`others`"),
        ("algorithm = \"franklin\"\n[expect]\nmessages = { ELECT = 3 }", (3, 14), "no message type or counter 'ELECT'"),
        (
            "algorithm = \"franklin\"\n[expect]\nfail = [\"at most one leader\"]\nhold = [\"at most one leader\"]",
            (4, 9),
            "both to hold and to fail",
        ),
    ];
    for (text, (line, col), what) in cases {
        let (l, c, msg) = error_at(text, sim(text));
        assert!(msg.contains(what), "{text}\n→ {msg}");
        assert_eq!((l, c), (*line, *col), "{text}\n→ {msg}");
    }
}

#[test]
fn check_errors_point_at_the_value_too() {
    let text = "algorithm = \"franklin\"\n[check]\nnetwork = \"lossless\"";
    assert_eq!(error_at(text, check(text)).0, 3);
    let text = "algorithm = \"franklin\"\n[check]\nthreads = 0";
    assert_eq!(error_at(text, check(text)).0, 3);
    // The checker's own verdicts are property names there, not in a simulation.
    let text = "algorithm = \"franklin\"\n[check.expect]\nfail = [\"no deadlock\"]";
    assert!(check(text).is_ok());
    let text = "algorithm = \"franklin\"\n[expect]\nfail = [\"no deadlock\"]";
    assert_eq!(error_at(text, sim(text)).0, 3);
    let (line, _, msg) = error_at("algorithm = \"franklin\"", check("algorithm = \"franklin\""));
    assert_eq!(line, 1);
    assert!(msg.contains("no [check] table"), "{msg}");
}

#[test]
fn hints_name_the_fix() {
    let e = sim("algorithm = \"chang-robert\"").expect_err("unknown");
    assert!(e.help.as_deref().is_some_and(|h| h.contains("did you mean 'chang-roberts'")), "{e:?}");
    let e = sim("algorithm = \"franklin\"\n[workload]\ninputs = [{ at = 1, node = 0, input = \"Elect\" }]")
        .expect_err("franklin takes no input");
    assert!(e.help.as_deref().is_some_and(|h| h.contains("takes no external inputs")), "{e:?}");
}

#[test]
fn the_picture_shows_file_line_column_and_caret() {
    let text = "algorithm = \"franklin\"\n[topology]\nnodes = 0\n";
    let e = sim(text).expect_err("zero nodes");
    let p = picture("t.toml", text, &e);
    assert!(p.contains("[t.toml:3:9]"), "{p}");
    assert!(p.contains("nodes = 0") && p.contains('┬') && p.contains("zero nodes"), "{p}");
    // A span at the very end of the file is still drawn.
    let at_end = Located::new(text.len()..text.len() + 4, "x", "y");
    assert!(picture("t.toml", text, &at_end).contains("t.toml:"));
    assert_eq!(line_col("ab\ncé\nd", 6), (2, 3));
}

#[test]
fn scenario_paths_and_commands() {
    assert_eq!(path_of("scenarios/x.toml"), Some("scenarios/x.toml".into()));
    assert_eq!(path_of("chang-roberts"), None);
    let t = |s: &str| s.parse::<toml::Table>().expect("valid TOML");
    assert_eq!(commands_of(&t("algorithm = \"x\"")), vec!["sim"]);
    assert_eq!(commands_of(&t("[check]")), vec!["check"]);
    assert_eq!(commands_of(&t("[expect]\n[check]")), vec!["sim", "check"]);
}

#[test]
fn listing_reads_descriptions_and_says_nothing_without_a_folder() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    assert!(list_dir(&dir.path().join("absent")).is_empty());
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("written");
    write("b.toml", "description = \"second\"\nalgorithm = \"franklin\"\n[check]\n");
    write("a.toml", "description = \"first\"\nalgorithm = \"franklin\"\n");
    write("c.toml", "description = \"unterminated\n");
    write("notes.md", "not a scenario");
    let listed = list_dir(dir.path());
    let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["a.toml", "b.toml", "c.toml"]);
    assert_eq!((listed[0].commands.as_str(), listed[0].description.as_str()), ("sim", "first"));
    assert_eq!(listed[1].commands, "check");
    assert!(listed[2].description.contains("does not parse"));
}

#[test]
fn a_key_written_at_the_top_is_pointed_to_its_table() {
    for (key, table) in [("nodes = 8", "[topology]"), ("loss = 0.1", "[network]"), ("max_events = 9", "[limits]")] {
        let text = format!("algorithm = \"chang-roberts\"\n{key}\n");
        let e = parse(&text).expect_err("refused");
        let help = e.help.unwrap_or_default();
        assert!(help.contains(&format!("belongs in the {table} table")), "{key}: {help}");
    }
}
