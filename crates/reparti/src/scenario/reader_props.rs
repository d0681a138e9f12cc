//! The files that describe a run — scenario files, cluster files and the key a cluster
//! shares — under random and mutated input: each is read as a valid value or refused
//! with an error (at a place in the file, for a scenario), never a panic.

use super::plan::sim_plan;
use super::plan_check::check_plan;
use super::Scenario;
use proptest::prelude::*;

use crate::node::cluster_file;

/// The course pack's scenarios: real files to mutate.
const PACK: &[&str] = &[
    include_str!("../../../../scenarios/check-franklin-broken.toml"),
    include_str!("../../../../scenarios/communication-token-loss.toml"),
    include_str!("../../../../scenarios/election-chang-roberts-crash.toml"),
    include_str!("../../../../scenarios/election-chang-roberts-worst.toml"),
    include_str!("../../../../scenarios/mutex-ricart-agrawala.toml"),
    include_str!("../../../../scenarios/tp6-logical-clocks.toml"),
];

const CLUSTER: &str = "nodes = [\"10.0.0.1:5000\", \"10.0.0.2:5000\", \"[::1]:5002\"]\ntopology = \"ring\"\ntransport = \"udp\"\nids = \"asc\"\nseed = 7\n[params]\ninitiators = \"0\"\n";

/// A key as `reparti keygen` writes it (Fernet: 32 bytes, URL-safe base64), and a newline.
const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\n";

/// One edit of a text: replace, insert or delete a span, repeat one, or truncate.
#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, String),
    Insert(usize, String),
    Delete(usize, usize),
    Repeat(usize, usize, u8),
    Truncate(usize),
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("[[".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("=".to_string()),
        Just("\n".to_string()),
        Just(",".to_string()),
        Just("#".to_string()),
        Just("'''".to_string()),
        Just("-1".to_string()),
        Just("1e400".to_string()),
        Just("nan".to_string()),
        Just("18446744073709551615".to_string()),
        "[0-9]{1,3}",
        "[a-z_.]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), piece()).prop_map(|(i, p)| Edit::Replace(i, p)),
        (any::<usize>(), piece()).prop_map(|(i, p)| Edit::Insert(i, p)),
        (any::<usize>(), 1usize..30).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..20, 1u8..3).prop_map(|(i, n, k)| Edit::Repeat(i, n, k)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Applies the edits at character boundaries, so the text stays text.
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len();
        let at = |i: &usize| i % (len + 1);
        match e {
            Edit::Replace(i, p) if len > 0 => {
                let k = i % len;
                chars.splice(k..k + 1, p.chars());
            }
            Edit::Replace(..) => {}
            Edit::Insert(i, p) => {
                let k = at(i);
                chars.splice(k..k, p.chars());
            }
            Edit::Delete(i, n) => {
                let k = at(i);
                let end = (k + n).min(len);
                chars.drain(k..end);
            }
            Edit::Repeat(i, n, times) => {
                let k = at(i);
                let end = (k + n).min(len);
                let span: Vec<char> = chars[k..end].to_vec();
                for _ in 0..*times {
                    chars.splice(end..end, span.iter().copied());
                }
            }
            Edit::Truncate(i) => chars.truncate(at(i)),
        }
    }
    chars.into_iter().collect()
}

/// Whether every number in `text` is small: planning a scenario builds its instance,
/// which must stay small for a test case to take milliseconds (large instances are
/// refused or built by the same code; their sizes are the CLI tests' business).
fn small_numbers(text: &str) -> bool {
    let values = text.lines().map(|l| l.split('#').next().unwrap_or_default());
    values.flat_map(|l| l.split(|c: char| !c.is_ascii_digit())).all(|d| d.len() <= 2)
}

/// Reads (and, when its numbers are small, plans) a scenario; says whether it planned.
fn assert_scenario_sound(text: &str) -> Result<bool, TestCaseError> {
    match Scenario::parse("t.toml", text.to_string()) {
        Ok(s) => {
            if small_numbers(text) {
                for e in [sim_plan(&s.file, None).err(), check_plan(&s.file, None).err()].into_iter().flatten() {
                    prop_assert!(e.span.end <= text.len(), "span {:?} outside {} bytes", e.span, text.len());
                    prop_assert!(!e.message.is_empty());
                }
                return Ok(true);
            }
        }
        Err(e) => {
            prop_assert!(e.span.start <= text.len() && e.span.end <= text.len(), "{:?} of {}", e.span, text.len());
            prop_assert!(!e.message.is_empty(), "{:?} in {:?}", e, text);
        }
    }
    Ok(false)
}

#[test]
fn the_texts_mutated_are_valid() {
    assert!(reparti_net::Key::from_text(KEY).is_ok());
    assert_eq!(cluster_file::ClusterFile::parse(CLUSTER).expect("valid").nodes.len(), 3);
}

#[test]
fn the_course_pack_is_read_and_planned() {
    for text in PACK {
        assert!(small_numbers(text), "{text}");
        let s = Scenario::parse("pack.toml", text.to_string()).expect("the course pack parses");
        assert!(sim_plan(&s.file, None).is_ok() || check_plan(&s.file, None).is_ok(), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_scenario_is_read_or_refused_at_a_place(
        base in prop::sample::select(PACK.to_vec()),
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        assert_scenario_sound(&apply(base, &edits))?;
    }

    #[test]
    fn random_text_is_read_or_refused_as_a_scenario(text in "[ -~\n]{0,200}") {
        assert_scenario_sound(&text)?;
    }

    #[test]
    fn a_mutated_key_is_read_or_refused(edits in prop::collection::vec(edit(), 0..4)) {
        let text = apply(KEY, &edits);
        match reparti_net::Key::from_text(&text) {
            Ok(key) => prop_assert_eq!(key.as_text(), text.trim()),
            Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }

    #[test]
    fn a_mutated_cluster_file_is_read_or_refused(edits in prop::collection::vec(edit(), 1..5)) {
        let text = apply(CLUSTER, &edits);
        match cluster_file::ClusterFile::parse(&text) {
            Ok(f) => {
                prop_assert!(!f.nodes.is_empty());
                let mut seen = std::collections::BTreeSet::new();
                prop_assert!(f.nodes.iter().all(|a| seen.insert(a.clone())), "duplicate addresses accepted");
            }
            // Not asserted one line: toml's messages have two (`invalid table header\n
            // expected ...`), which `ClusterFile::parse` passes on as they are.
            Err(e) => prop_assert!(!e.trim().is_empty(), "{e}"),
        }
    }
}
