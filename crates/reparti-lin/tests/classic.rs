//! Hand-made histories with known verdicts: the textbook cases, pending operations that
//! only a completion explains, every model, keys checked apart, the readers' formats
//! and their errors, and a budget that runs out.

use reparti_lin::{check, read_history, Budget, Model, Outcome, Verdict};

fn verdict(model: Model, text: &str) -> Verdict {
    let history = read_history(text).expect("a well-formed history");
    check(&history, model, &Budget::default(), 2).expect("the model fits").verdict()
}

/// `client type f value t` per line, in reparti's format, key `x` unless given.
fn lines(ops: &[(u64, &str, &str, &str, f64)]) -> String {
    ops.iter()
        .map(|(c, ty, f, v, t)| format!("{{\"client\":{c},\"type\":\"{ty}\",\"f\":\"{f}\",\"value\":{v},\"t\":{t}}}\n"))
        .collect()
}

#[test]
fn a_read_concurrent_with_a_write_may_see_it_and_a_stale_read_after_it_may_not() {
    let concurrent = lines(&[
        (1, "invoke", "write", "1", 0.0),
        (2, "invoke", "read", "null", 1.0),
        (2, "ok", "read", "1", 2.0),
        (1, "ok", "write", "1", 3.0),
    ]);
    assert_eq!(verdict(Model::Register, &concurrent), Verdict::Linearizable);
    let stale = lines(&[
        (1, "invoke", "write", "1", 0.0),
        (1, "ok", "write", "1", 1.0),
        (1, "invoke", "write", "2", 2.0),
        (1, "ok", "write", "2", 3.0),
        (2, "invoke", "read", "null", 4.0),
        (2, "ok", "read", "1", 5.0),
    ]);
    assert_eq!(verdict(Model::Register, &stale), Verdict::NotLinearizable);
}

#[test]
fn a_stale_read_is_sequentially_consistent_but_reads_against_program_order_are_not() {
    use reparti_lin::check_sequentially;
    let sc = |text: &str| {
        let history = read_history(text).expect("reads");
        check_sequentially(&history, Model::Register, &Budget::default()).expect("fits").verdict()
    };
    // The read comes after the write in real time but may be ordered before it.
    let stale = lines(&[
        (1, "invoke", "write", "1", 0.0),
        (1, "ok", "write", "1", 1.0),
        (2, "invoke", "read", "null", 2.0),
        (2, "ok", "read", "null", 3.0),
    ]);
    assert_eq!(verdict(Model::Register, &stale), Verdict::NotLinearizable);
    assert_eq!(sc(&stale), Verdict::Linearizable);
    // One client reads 1 then nil: no interleaving puts the write between them backwards.
    let backwards = lines(&[
        (1, "invoke", "write", "1", 0.0),
        (1, "ok", "write", "1", 1.0),
        (2, "invoke", "read", "null", 2.0),
        (2, "ok", "read", "1", 3.0),
        (2, "invoke", "read", "null", 4.0),
        (2, "ok", "read", "null", 5.0),
    ]);
    assert_eq!(sc(&backwards), Verdict::NotLinearizable);
}

#[test]
fn two_reads_may_not_see_a_write_in_opposite_orders() {
    // Herlihy and Wing's point: reads 1 then 0 by one client while another writes.
    let text = lines(&[
        (1, "invoke", "write", "0", 0.0),
        (1, "ok", "write", "0", 1.0),
        (1, "invoke", "write", "1", 2.0),
        (2, "invoke", "read", "null", 3.0),
        (2, "ok", "read", "1", 4.0),
        (3, "invoke", "read", "null", 5.0),
        (3, "ok", "read", "0", 6.0),
        (1, "ok", "write", "1", 7.0),
    ]);
    assert_eq!(verdict(Model::Register, &text), Verdict::NotLinearizable);
}

#[test]
fn only_a_pending_writes_effect_explains_a_read_and_its_absence_explains_another() {
    let seen = lines(&[
        (1, "invoke", "write", "1", 0.0),
        (1, "info", "write", "1", 1.0),
        (2, "invoke", "read", "null", 5.0),
        (2, "ok", "read", "1", 6.0),
    ]);
    assert_eq!(verdict(Model::Register, &seen), Verdict::Linearizable);
    let unseen =
        lines(&[(1, "invoke", "write", "1", 0.0), (2, "invoke", "read", "null", 5.0), (2, "ok", "read", "null", 6.0)]);
    assert_eq!(verdict(Model::Register, &unseen), Verdict::Linearizable);
    // A failed write certainly did not happen: the read of 1 has no explanation.
    let failed = lines(&[
        (1, "invoke", "write", "1", 0.0),
        (1, "fail", "write", "1", 1.0),
        (2, "invoke", "read", "null", 5.0),
        (2, "ok", "read", "1", 6.0),
    ]);
    assert_eq!(verdict(Model::Register, &failed), Verdict::NotLinearizable);
}

#[test]
fn compare_and_set_queue_and_set_models() {
    let cas = lines(&[
        (1, "invoke", "write", "0", 0.0),
        (1, "ok", "write", "0", 1.0),
        (1, "invoke", "cas", "[0, 4]", 2.0),
        (1, "ok", "cas", "[0, 4]", 3.0),
        (2, "invoke", "read", "null", 4.0),
        (2, "ok", "read", "4", 5.0),
    ]);
    assert_eq!(verdict(Model::CasRegister, &cas), Verdict::Linearizable);
    let wrong_cas = cas.replace("\"ok\",\"f\":\"read\",\"value\":4", "\"ok\",\"f\":\"read\",\"value\":0");
    assert_eq!(verdict(Model::CasRegister, &wrong_cas), Verdict::NotLinearizable);
    let queue = lines(&[
        (1, "invoke", "enqueue", "1", 0.0),
        (1, "ok", "enqueue", "1", 1.0),
        (1, "invoke", "enqueue", "2", 2.0),
        (1, "ok", "enqueue", "2", 3.0),
        (2, "invoke", "dequeue", "null", 4.0),
        (2, "ok", "dequeue", "2", 5.0),
    ]);
    assert_eq!(verdict(Model::Queue, &queue), Verdict::NotLinearizable, "FIFO: 1 comes out first");
    assert_eq!(
        verdict(Model::Queue, &queue.replace("\"dequeue\",\"value\":2", "\"dequeue\",\"value\":1")),
        Verdict::Linearizable
    );
    let set = lines(&[
        (1, "invoke", "add", "1", 0.0),
        (1, "ok", "add", "1", 1.0),
        (2, "invoke", "read", "null", 2.0),
        (2, "ok", "read", "[]", 3.0),
    ]);
    assert_eq!(verdict(Model::Set, &set), Verdict::NotLinearizable, "an add that completed must be seen");
    assert_eq!(verdict(Model::Set, &set.replace("\"value\":[]", "\"value\":[1]")), Verdict::Linearizable);
}

#[test]
fn keys_are_checked_apart_and_the_failing_key_is_named_with_its_blocked_operation() {
    let text = "\
{\"client\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"x\",\"value\":1,\"t\":0}
{\"client\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"x\",\"value\":1,\"t\":1}
{\"client\":2,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"y\",\"value\":5,\"t\":0}
{\"client\":2,\"type\":\"ok\",\"f\":\"write\",\"key\":\"y\",\"value\":5,\"t\":1}
{\"client\":3,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"y\",\"t\":2}
{\"client\":3,\"type\":\"ok\",\"f\":\"read\",\"key\":\"y\",\"value\":1,\"t\":3}
{\"client\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\",\"t\":2}
{\"client\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"x\",\"value\":1,\"t\":3}
";
    let history = read_history(text).expect("reads");
    let report = check(&history, Model::Kv, &Budget::default(), 2).expect("fits");
    assert_eq!(report.verdict(), Verdict::NotLinearizable);
    let outcome = |key: &str| &report.keys.iter().find(|k| k.key.as_deref() == Some(key)).expect("the key").outcome;
    assert!(matches!(outcome("x"), Outcome::Linearizable { order } if order == &vec![0, 3]), "{:?}", outcome("x"));
    match outcome("y") {
        Outcome::NotLinearizable { prefix, blocked, involved } => {
            assert_eq!(prefix, &vec![1], "the write of 5 is placed");
            assert_eq!(*blocked, 2, "the read of 1 cannot be");
            assert_eq!(involved, &vec![2]);
        }
        other => panic!("key y: {other:?}"),
    }
}

#[test]
fn jepsen_logs_are_read_with_info_as_pending_and_fail_as_never() {
    let log = "\
INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.util - 1\t:info\t:cas\t[3 4]
INFO  jepsen.util - 2\t:invoke\t:read\tnil
INFO  jepsen.util - 2\t:ok\t:read\t4
INFO  jepsen.util - 3\t:invoke\t:write\t7
INFO  jepsen.util - 3\t:fail\t:write\t7
";
    let history = read_history(log).expect("reads");
    assert_eq!(history.operations.len(), 3, "the failed write is left out, the nemesis skipped");
    assert!(history.operations[1].pending(), "the :info cas is pending");
    assert_eq!(verdict(Model::CasRegister, log), Verdict::Linearizable, "the pending cas explains the 4");
    assert_eq!(verdict(Model::CasRegister, &log.replace(":read\t4", ":read\t7")), Verdict::NotLinearizable);
}

#[test]
fn jepsen_edn_maps_are_read_with_keys_given_or_in_independent_tuples() {
    // A key-value store: key "3" keeps its own register; key "4" sees a lost write.
    let edn = r#"
{:process 0, :type :invoke, :f :write, :key "3", :value 1, :time 10}
{:process 1, :type :invoke, :f :write, :key "4", :value 2, :time 11}
{:process :nemesis, :type :info, :f :start, :value nil, :time 12}
{:process 0, :type :ok, :f :write, :key "3", :value 1, :time 20}
{:process 1, :type :ok, :f :write, :key "4", :value 2, :time 21}
{:process 0, :type :invoke, :f :read, :key "3", :value nil, :time 30}
{:process 0, :type :ok, :f :read, :key "3", :value 1, :time 40}
{:process 2, :type :invoke, :f :read, :key "4", :value nil, :time 50}
{:process 2, :type :ok, :f :read, :key "4", :value 2, :time 60}
"#;
    let history = read_history(edn).expect("reads");
    assert_eq!(history.operations.len(), 4, "the nemesis is skipped");
    assert_eq!(verdict(Model::Kv, edn), Verdict::Linearizable);
    let lost = edn.replace(":key \"4\", :value 2, :time 60", ":key \"4\", :value nil, :time 60");
    let report = check(&read_history(&lost).expect("reads"), Model::Kv, &Budget::default(), 2).expect("fits");
    assert_eq!(report.verdict(), Verdict::NotLinearizable, "a read after the write returns nothing");
    let failing: Vec<_> = report.keys.iter().filter(|k| !matches!(k.outcome, Outcome::Linearizable { .. })).collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].key.as_deref(), Some("4"));

    // jepsen.independent: the key travels in the value, and a vector wraps the whole.
    let tuples = "[{:process 0, :type :invoke, :f :cas, :value [:x [0 5]]}
 {:process 0, :type :ok, :f :cas, :value [:x [0 5]]}
 {:process 1, :type :invoke, :f :read, :value [:x nil]}
 {:process 1, :type :ok, :f :read, :value [:x 5]}]";
    let history = read_history(tuples).expect("reads");
    assert_eq!(history.operations[1].key.as_deref(), Some("x"));
    assert_eq!(verdict(Model::Kv, tuples), Verdict::NotLinearizable, "cas 0→5 on a register that holds nil");
    let written = tuples.replace(":f :cas, :value [:x [0 5]]", ":f :write, :value [:x 5]");
    assert_eq!(verdict(Model::Kv, &written), Verdict::Linearizable, "a write of 5, then a read of 5");
}

#[test]
fn malformed_histories_name_the_line_and_the_problem() {
    for (text, line, problem) in [
        ("{\"client\":1,\"type\":\"invoke\",\"f\":\"read\"}\nnot json\n", 2, "not JSON"),
        ("{\"type\":\"invoke\",\"f\":\"read\"}\n", 1, "\"client\""),
        ("{\"client\":1,\"type\":\"done\",\"f\":\"read\"}\n", 1, "\"type\""),
        ("{\"client\":1,\"type\":\"ok\",\"f\":\"read\"}\n", 1, "never invoked"),
        ("{\"client\":1,\"type\":\"invoke\",\"f\":\"cas\",\"value\":3}\n", 1, "[expected new]"),
        ("{\"client\":1,\"type\":\"invoke\",\"f\":\"fly\"}\n", 1, "unknown operation 'fly'"),
        (
            "{\"client\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{\"client\":1,\"type\":\"invoke\",\"f\":\"read\"}\n",
            2,
            "still open",
        ),
        ("INFO  jepsen.util - 1\t:invoke\t:write\tx\n", 1, "'x' is not a value"),
        ("{:process 1, :type :invoke, :f :read}\n{:process 1, :type :ok, :f :read, :value [1}\n", 2, "closes nothing"),
        ("{:process 1, :type :invoked, :f :read}\n", 1, ":type must be"),
        ("{:process 1, :type :invoke, :f :append, :value [:x 1]}\n", 1, "unknown operation 'append'"),
    ] {
        let e = read_history(text).expect_err(text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.to_string().contains(problem), "{text}: {e}");
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
    let queue_op = read_history("{\"client\":1,\"type\":\"invoke\",\"f\":\"dequeue\"}\n").expect("reads");
    let e = check(&queue_op, Model::Register, &Budget::default(), 1).expect_err("no dequeue on a register");
    assert!(e.to_string().contains("line 1: the register model has no 'dequeue'"), "{e}");
}

/// As [`lines`], for values built on the fly.
fn owned_lines(ops: &[(u64, &str, &str, String, f64)]) -> String {
    let borrowed: Vec<(u64, &str, &str, &str, f64)> =
        ops.iter().map(|(c, ty, f, v, t)| (*c, *ty, *f, v.as_str(), *t)).collect();
    lines(&borrowed)
}

#[test]
fn a_budget_that_runs_out_says_unknown_never_a_wrong_verdict() {
    // Ten concurrent writes and a read of the first: many orders to try.
    let mut ops: Vec<(u64, &str, &str, String, f64)> = Vec::new();
    for c in 0..10u64 {
        ops.push((c, "invoke", "write", c.to_string(), 0.0));
    }
    for c in 0..10u64 {
        ops.push((c, "ok", "write", c.to_string(), 1.0));
    }
    ops.push((20, "invoke", "read", "null".into(), 2.0));
    ops.push((20, "ok", "read", "99".into(), 3.0));
    let history = read_history(&owned_lines(&ops)).expect("reads");
    let tight = Budget { max_configurations: 5, ..Budget::default() };
    let report = check(&history, Model::Register, &tight, 1).expect("fits");
    assert_eq!(report.verdict(), Verdict::Unknown);
    assert_eq!(
        check(&history, Model::Register, &Budget::default(), 1).expect("fits").verdict(),
        Verdict::NotLinearizable
    );
}

#[test]
fn concurrent_reads_are_not_tried_in_every_order() {
    // Eighteen concurrent reads of nil, then a read of a value never written. Trying the
    // reads in every order would remember 2¹⁸ configurations before giving up; a read
    // placed first is as good as anywhere (it changes nothing), so a few dozen suffice.
    let mut ops: Vec<(u64, &str, &str, String, f64)> = Vec::new();
    for c in 0..18u64 {
        ops.push((c, "invoke", "read", "null".into(), 0.0));
    }
    for c in 0..18u64 {
        ops.push((c, "ok", "read", "null".into(), 1.0));
    }
    ops.push((20, "invoke", "read", "null".into(), 2.0));
    ops.push((20, "ok", "read", "7".into(), 3.0));
    let history = read_history(&owned_lines(&ops)).expect("reads");
    let small = Budget { max_configurations: 100, ..Budget::default() };
    let report = check(&history, Model::Register, &small, 1).expect("fits");
    assert_eq!(report.verdict(), Verdict::NotLinearizable, "{:?}", report.keys[0].outcome);
}
