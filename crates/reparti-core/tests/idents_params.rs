//! Identity assignment and algorithm parameters.

use proptest::prelude::*;
use reparti_core::idents::IdError;
use reparti_core::{rng, IdAssignment, ParamError, ParamSpec, Params};
use std::collections::BTreeMap;

/// Proptest settings: `cases` cases, and no regression files written into the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn assign(ids: &IdAssignment, n: usize, seed: u64) -> Result<Vec<u64>, IdError> {
    ids.assign(n, &mut rng(seed))
}

fn is_permutation_of_1_to_n(v: &[u64]) -> bool {
    let mut seen = vec![false; v.len()];
    v.iter().all(|&x| x >= 1 && x as usize <= v.len() && !std::mem::replace(&mut seen[x as usize - 1], true))
}

const SPECS: &[ParamSpec] = &[
    // Free text: these tests are about merging; what values a kind takes is tested below.
    ParamSpec::text("requests", "3", "how many requests each node makes"),
    ParamSpec::text("initiators", "all", "who starts"),
    ParamSpec::text("holder", "0", "who holds the token first"),
];

fn defaults() -> BTreeMap<String, String> {
    SPECS.iter().map(|p| (p.name.to_string(), p.default.to_string())).collect()
}

fn values(p: &Params) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn id_assignment() -> impl Strategy<Value = IdAssignment> {
    prop_oneof![
        Just(IdAssignment::Random),
        Just(IdAssignment::Asc),
        Just(IdAssignment::Desc),
        prop::collection::vec(any::<u64>(), 1..20).prop_map(IdAssignment::List),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_ids_are_a_seeded_permutation(n in 0usize..=300, seed in any::<u64>()) {
        let v = assign(&IdAssignment::Random, n, seed).unwrap();
        prop_assert_eq!(v.len(), n);
        prop_assert!(is_permutation_of_1_to_n(&v), "{:?}", v);
        prop_assert_eq!(assign(&IdAssignment::Random, n, seed).unwrap(), v);
    }

    #[test]
    fn asc_and_desc_are_as_documented(n in 0usize..=300) {
        let asc = assign(&IdAssignment::Asc, n, 0).unwrap();
        let desc = assign(&IdAssignment::Desc, n, 0).unwrap();
        prop_assert!(is_permutation_of_1_to_n(&asc));
        prop_assert!(is_permutation_of_1_to_n(&desc));
        for i in 0..n {
            prop_assert_eq!(asc[i], i as u64 + 1);
            prop_assert_eq!(desc[i], (n - i) as u64);
        }
        // Along i → i+1 (the ring's direction), asc increases and desc decreases.
        prop_assert!(asc.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(desc.windows(2).all(|w| w[0] > w[1]));
        // Neither depends on the seed.
        prop_assert_eq!(assign(&IdAssignment::Asc, n, 99).unwrap(), asc);
        prop_assert_eq!(assign(&IdAssignment::Desc, n, 99).unwrap(), desc);
    }

    #[test]
    fn distinct_lists_of_the_right_length_are_kept_as_given(
        set in prop::collection::btree_set(any::<u64>(), 1..50),
        shuffle_seed in any::<u64>(),
    ) {
        // A distinct list in some non-sorted order.
        let mut list: Vec<u64> = set.into_iter().collect();
        let k = (shuffle_seed as usize) % list.len();
        list.rotate_left(k);
        let n = list.len();
        prop_assert_eq!(assign(&IdAssignment::List(list.clone()), n, 0), Ok(list.clone()));
        prop_assert_eq!(
            assign(&IdAssignment::List(list.clone()), n + 1, 0),
            Err(IdError::Count { given: n, n: n + 1 })
        );
        prop_assert_eq!(
            assign(&IdAssignment::List(list.clone()), n - 1, 0),
            Err(IdError::Count { given: n, n: n - 1 })
        );
    }

    #[test]
    fn a_repeated_identity_is_refused(
        set in prop::collection::btree_set(any::<u64>(), 1..50),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut list: Vec<u64> = set.into_iter().collect();
        let dup = *which.get(&list);
        let pos = at.index(list.len() + 1);
        list.insert(pos, dup);
        let n = list.len();
        prop_assert_eq!(assign(&IdAssignment::List(list), n, 0), Err(IdError::Duplicate(dup)));
    }

    #[test]
    fn id_assignments_round_trip_through_display(ids in id_assignment()) {
        let text = ids.to_string();
        prop_assert_eq!(text.parse::<IdAssignment>(), Ok(ids));
    }

    #[test]
    fn resolve_overrides_defaults_with_the_last_given_value(
        given in prop::collection::vec((0usize..3, "[a-z0-9]{0,6}"), 0..8),
    ) {
        let given: Vec<(String, String)> =
            given.into_iter().map(|(k, v)| (SPECS[k].name.to_string(), v)).collect();
        let mut expected = defaults();
        for (k, v) in &given {
            expected.insert(k.clone(), v.clone());
        }
        let p = Params::resolve("algo", SPECS, &given).unwrap();
        prop_assert_eq!(values(&p), expected.clone());
        for (k, v) in &expected {
            prop_assert_eq!(p.raw(k), Some(v.as_str()));
        }
    }

    #[test]
    fn resolve_refuses_an_unknown_name_wherever_it_is(
        known in prop::collection::vec((0usize..3, "[a-z0-9]{0,6}"), 0..6),
        at in any::<prop::sample::Index>(),
        unknown in "[a-z_]{1,12}",
    ) {
        prop_assume!(SPECS.iter().all(|s| s.name != unknown));
        let mut given: Vec<(String, String)> =
            known.into_iter().map(|(k, v)| (SPECS[k].name.to_string(), v)).collect();
        given.insert(at.index(given.len() + 1), (unknown.clone(), "1".to_string()));
        prop_assert_eq!(
            Params::resolve("algo", SPECS, &given),
            Err(ParamError::Unknown {
                algorithm: "algo".into(),
                name: unknown,
                accepted: "requests, initiators, holder".into(),
            })
        );
    }

    #[test]
    fn parse_pair_splits_at_the_first_equals_sign(key in "[a-z_]{1,10}", value in "[ -~]{0,20}") {
        let (k, v) = Params::parse_pair(&format!(" {key} ={value}")).unwrap();
        prop_assert_eq!(k, key);
        prop_assert_eq!(v, value.trim());
    }

    #[test]
    fn parse_pair_refuses_text_without_equals(s in "[^=]{0,20}") {
        prop_assert_eq!(Params::parse_pair(&s), Err(ParamError::Syntax(s.clone())));
    }
}

#[test]
fn random_ids_usually_differ_between_seeds() {
    let a = (0..40u64).filter(|&s| assign(&IdAssignment::Random, 20, s) != assign(&IdAssignment::Random, 20, s + 1));
    assert!(a.count() >= 38);
}

#[test]
fn id_assignment_names_and_syntax_errors() {
    assert_eq!("random".parse(), Ok(IdAssignment::Random));
    assert_eq!("asc".parse(), Ok(IdAssignment::Asc));
    assert_eq!("ascending".parse(), Ok(IdAssignment::Asc));
    assert_eq!("desc".parse(), Ok(IdAssignment::Desc));
    assert_eq!("descending".parse(), Ok(IdAssignment::Desc));
    assert_eq!("3, 1 ,2".parse(), Ok(IdAssignment::List(vec![3, 1, 2])));
    assert_eq!("7".parse(), Ok(IdAssignment::List(vec![7])));
    for bad in ["", "rand", "Random", "1,,2", "1,-2", "1;2", "a,b", "1,2,", "18446744073709551616"] {
        assert_eq!(bad.parse::<IdAssignment>(), Err(IdError::Syntax(bad.to_string())), "'{bad}'");
    }
    assert_eq!(IdAssignment::List(vec![3, 1, 2]).to_string(), "3,1,2");
}

#[test]
fn list_errors_report_what_is_wrong() {
    let l = IdAssignment::List(vec![5, 9, 5, 2, 9]);
    assert_eq!(assign(&l, 5, 0), Err(IdError::Duplicate(5)));
    assert_eq!(assign(&IdAssignment::List(vec![1, 2]), 3, 0), Err(IdError::Count { given: 2, n: 3 }));
    assert_eq!(assign(&IdAssignment::List(vec![]), 0, 0), Ok(vec![]));
    // The messages name the numbers.
    let msg = IdError::Count { given: 2, n: 3 }.to_string();
    assert!(msg.contains('2') && msg.contains('3'), "{msg}");
    assert!(IdError::Duplicate(42).to_string().contains("42"));
}

#[test]
fn resolve_keeps_every_default_when_nothing_is_given() {
    let p = Params::resolve("algo", SPECS, &[]).unwrap();
    assert_eq!(values(&p), defaults());
    assert_eq!(p.raw("requests"), Some("3"));
    assert_eq!(p.raw("nope"), None);
    assert_eq!(Params::resolve("algo", &[], &[]).unwrap(), Params::default());
}

#[test]
fn resolve_with_no_declared_parameters_says_so() {
    let given = vec![("x".to_string(), "1".to_string())];
    assert_eq!(
        Params::resolve("silent", &[], &given),
        Err(ParamError::Unknown { algorithm: "silent".into(), name: "x".into(), accepted: "no parameters".into() })
    );
}

#[test]
fn get_parses_or_reports_the_bad_value() {
    let given = vec![("requests".to_string(), "many".to_string()), ("holder".to_string(), "2".to_string())];
    let p = Params::resolve("algo", SPECS, &given).unwrap();
    assert_eq!(p.get::<u32>("holder"), Ok(2));
    assert_eq!(p.get::<String>("initiators"), Ok("all".to_string()));
    match p.get::<u32>("requests") {
        Err(ParamError::Invalid { name, value, why }) => {
            assert_eq!(name, "requests");
            assert_eq!(value, "many");
            assert!(why.contains("u32"), "{why}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(matches!(p.get::<i8>("holder"), Ok(2)));
    assert!(matches!(p.get::<bool>("holder"), Err(ParamError::Invalid { .. })));
    match p.get::<u32>("undeclared") {
        Err(ParamError::Invalid { name, value, .. }) => {
            assert_eq!(name, "undeclared");
            assert_eq!(value, "");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let mut p = p;
    p.set("requests", 12);
    assert_eq!(p.get::<u64>("requests"), Ok(12));
}

#[test]
fn parse_pair_cases() {
    assert_eq!(Params::parse_pair("k=v"), Ok(("k".into(), "v".into())));
    assert_eq!(Params::parse_pair("  k  =  v  "), Ok(("k".into(), "v".into())));
    assert_eq!(Params::parse_pair("k="), Ok(("k".into(), "".into())));
    assert_eq!(Params::parse_pair("k=a=b"), Ok(("k".into(), "a=b".into())));
    for bad in ["", "k", "=v", "  =v", "requests 3"] {
        assert_eq!(Params::parse_pair(bad), Err(ParamError::Syntax(bad.to_string())), "'{bad}'");
    }
}

/// Each parameter declares the values it takes; a value outside them is refused when
/// the parameters are resolved (before any engine runs), naming the parameter, the value
/// and what it takes.
#[test]
fn values_outside_a_parameters_kind_are_refused_saying_what_it_takes() {
    const KINDS: &[ParamSpec] = &[
        ParamSpec::int("requests", "2", 0, 100, "requests"),
        ParamSpec::real("send_prob", "0.5", 0.0, 1.0, "probability"),
        ParamSpec::boolean("fixed", "true", "fixed"),
        ParamSpec::choice("stop", "leader", &["leader", "all"], "stop"),
    ];
    let given = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    assert!(Params::resolve("algo", KINDS, &[]).is_ok(), "the defaults are valid");
    for (k, v) in [("requests", "100"), ("requests", "0"), ("send_prob", "1"), ("fixed", "false"), ("stop", "all")] {
        assert!(Params::resolve("algo", KINDS, &given(k, v)).is_ok(), "{k}={v}");
    }
    for (k, v, says) in [
        ("requests", "4294967295", "must be a whole number from 0 to 100"),
        ("requests", "-1", "must be a whole number from 0 to 100"),
        ("requests", "two", "must be a whole number from 0 to 100"),
        ("send_prob", "1.5", "must be a number from 0 to 1"),
        ("send_prob", "NaN", "must be a number from 0 to 1"),
        ("fixed", "yes", "must be true or false"),
        ("stop", "never", "must be one of leader, all"),
    ] {
        let err = Params::resolve("algo", KINDS, &given(k, v)).expect_err("refused").to_string();
        assert_eq!(err, format!("parameter {k}={v}: {says}"));
    }
}
