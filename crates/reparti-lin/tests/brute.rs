//! The search agrees with brute force: on thousands of small random histories, trying
//! every order of the operations that respects real time gives the same verdict, and a
//! witness the search returns is itself such an order.

use proptest::prelude::*;
use reparti_lin::{check_object, check_sequential, Answer, Budget, Call, Model, Operation, Outcome, State};

/// Whether some order of `ops` respecting real time explains every answer (pending
/// operations accept any answer), by trying them all.
fn brute_force(model: Model, ops: &[Operation]) -> bool {
    fn place(model: Model, ops: &[Operation], used: &mut Vec<bool>, state: &State) -> bool {
        if used.iter().all(|&u| u) {
            return true;
        }
        for k in 0..ops.len() {
            // Minimal: no unplaced operation completed before this one was called.
            let minimal = !used[k] && (0..ops.len()).all(|j| used[j] || j == k || ops[j].end() >= ops[k].called);
            if !minimal {
                continue;
            }
            if let Some(next) = model.step(state, &ops[k].call, ops[k].answer.as_ref()) {
                used[k] = true;
                if place(model, ops, used, &next) {
                    return true;
                }
                used[k] = false;
            }
        }
        false
    }
    place(model, ops, &mut vec![false; ops.len()], &model.init())
}

/// Whether some interleaving of the clients' operations, each client's in invocation
/// order, explains every answer, by trying them all.
fn brute_force_sequential(model: Model, ops: &[Operation]) -> bool {
    fn place(model: Model, ops: &[Operation], programs: &[Vec<usize>], at: &mut Vec<usize>, state: &State) -> bool {
        if (0..programs.len()).all(|p| at[p] == programs[p].len()) {
            return true;
        }
        for p in 0..programs.len() {
            let Some(&k) = programs[p].get(at[p]) else { continue };
            if let Some(next) = model.step(state, &ops[k].call, ops[k].answer.as_ref()) {
                at[p] += 1;
                if place(model, ops, programs, at, &next) {
                    return true;
                }
                at[p] -= 1;
            }
        }
        false
    }
    let programs = reparti_lin::sequential::programs(ops);
    place(model, ops, &programs, &mut vec![0; programs.len()], &model.init())
}

/// Whether no client has two operations overlapping in time (a well-formed history).
fn well_formed(ops: &[Operation]) -> bool {
    ops.iter().enumerate().all(|(a, x)| {
        ops.iter().enumerate().all(|(b, y)| a == b || x.client != y.client || x.end() < y.called || y.end() < x.called)
    })
}

/// Whether `order` (ids) respects real time and explains every answer.
fn explains(model: Model, ops: &[Operation], order: &[usize]) -> bool {
    let mut state = model.init();
    for (pos, &id) in order.iter().enumerate() {
        let op = &ops[id];
        if order[pos + 1..].iter().any(|&later| ops[later].end() < op.called) {
            return false;
        }
        match model.step(&state, &op.call, op.answer.as_ref()) {
            Some(next) => state = next,
            None => return false,
        }
    }
    order.len() == ops.len()
}

/// A random operation of `model`: call, answer (or pending), interval.
fn operation(model: Model) -> impl Strategy<Value = (Call, Option<Answer>, u8, u8, u64)> {
    let value = 0i64..3;
    let call = match model {
        Model::Queue => prop_oneof![value.clone().prop_map(Call::Enqueue), Just(Call::Dequeue)].boxed(),
        Model::Set => prop_oneof![value.clone().prop_map(Call::Add), Just(Call::Read)].boxed(),
        Model::Register => prop_oneof![value.clone().prop_map(Call::Write), Just(Call::Read)].boxed(),
        Model::CasRegister | Model::Kv => prop_oneof![
            value.clone().prop_map(Call::Write),
            Just(Call::Read),
            (value.clone(), value.clone()).prop_map(|(a, b)| Call::Cas(a, b))
        ]
        .boxed(),
    };
    let answer = prop_oneof![
        1 => Just(None),
        4 => prop_oneof![
            Just(Answer::Ok),
            Just(Answer::Fail),
            proptest::option::of(value.clone()).prop_map(Answer::Value),
            proptest::collection::btree_set(value, 0..3).prop_map(Answer::Set),
        ]
        .prop_map(Some),
    ];
    (call, answer, 0u8..10, 1u8..6, 0u64..3)
}

fn history(model: Model) -> impl Strategy<Value = Vec<Operation>> {
    proptest::collection::vec(operation(model), 1..7).prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(id, (call, answer, start, length, client))| {
                // Answers that fit the call, so that many histories are linearizable.
                let answer = answer.map(|a| match (&call, a) {
                    (Call::Write(_) | Call::Enqueue(_) | Call::Add(_), _) => Answer::Ok,
                    (Call::Cas(..), Answer::Fail) => Answer::Fail,
                    (Call::Cas(..), _) => Answer::Ok,
                    (_, a) => a,
                });
                let returned = answer.is_some().then_some(f64::from(start) + f64::from(length));
                Operation { id, client, key: None, call, answer, called: f64::from(start), returned, line: id + 1 }
            })
            .collect()
    })
}

fn agree(model: Model, ops: &[Operation]) -> Result<(), TestCaseError> {
    let expected = brute_force(model, ops);
    match check_object(model, ops, &Budget::default()) {
        Outcome::Linearizable { order } => {
            prop_assert!(expected, "the search says linearizable, brute force does not: {ops:#?}");
            prop_assert!(explains(model, ops, &order), "the witness {order:?} does not explain {ops:#?}");
        }
        Outcome::NotLinearizable { .. } => prop_assert!(!expected, "brute force finds an order: {ops:#?}"),
        Outcome::Unknown { reason } => prop_assert!(false, "unknown on a tiny history: {reason}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn sequential_consistency_agrees_with_brute_force(ops in history(Model::CasRegister)) {
        let expected = brute_force_sequential(Model::CasRegister, &ops);
        match check_sequential(Model::CasRegister, &ops, &Budget::default()) {
            Outcome::Linearizable { order } => {
                prop_assert!(expected, "the search says consistent, brute force does not: {ops:#?}");
                let mut sorted = order.clone();
                sorted.sort_unstable();
                prop_assert_eq!(sorted, (0..ops.len()).collect::<Vec<_>>());
            }
            Outcome::NotLinearizable { .. } => prop_assert!(!expected, "brute force finds an order: {ops:#?}"),
            Outcome::Unknown { reason } => prop_assert!(false, "unknown on a tiny history: {reason}"),
        }
        // Linearizable well-formed histories are sequentially consistent.
        if well_formed(&ops) && brute_force(Model::CasRegister, &ops) {
            prop_assert!(expected);
        }
    }

    #[test]
    fn registers_agree_with_brute_force(ops in history(Model::Register)) {
        agree(Model::Register, &ops)?;
    }

    #[test]
    fn cas_registers_agree_with_brute_force(ops in history(Model::CasRegister)) {
        agree(Model::CasRegister, &ops)?;
    }

    #[test]
    fn queues_agree_with_brute_force(ops in history(Model::Queue)) {
        agree(Model::Queue, &ops)?;
    }

    #[test]
    fn sets_agree_with_brute_force(ops in history(Model::Set)) {
        agree(Model::Set, &ops)?;
    }
}

/// The random histories are not all of one verdict (else the agreement says little).
#[test]
fn the_random_histories_have_both_verdicts() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut yes, mut no) = (0, 0);
    for _ in 0..500 {
        let ops = history(Model::CasRegister).new_tree(&mut runner).expect("a history").current();
        if brute_force(Model::CasRegister, &ops) {
            yes += 1;
        } else {
            no += 1;
        }
    }
    assert!(yes > 50 && no > 50, "{yes} linearizable, {no} not");
}
