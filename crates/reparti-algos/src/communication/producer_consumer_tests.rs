//! Unit tests of the producer-consumer handlers.
use super::*;
use crate::handler_harness::sends;
use reparti_core::{Effect, TopologyKind};

fn algo(buffer: u32, quota: u32, suspend: bool) -> ProducerConsumer {
    ProducerConsumer { settings: Settings { buffer, quota, drain_time: 3, idle_laps: 1, suspend }, items: 0 }
}

fn node(a: &ProducerConsumer, me: u32, n: usize) -> Node {
    a.init(&NodeSetup::new(NodeId(me), me as u64 + 1, n))
}

fn run(node: &mut Node, n: usize, f: impl FnOnce(&mut Node, &mut Context<'_, Msg>)) -> Vec<Effect<Msg>> {
    let me = node.me;
    crate::handler_harness::run(node, TopologyKind::Complete, me, n, f)
}

#[test]
fn the_consumer_creates_the_token_and_sends_it_to_the_first_producer() {
    let a = algo(2, 1, true);
    let mut c = node(&a, 0, 3);
    assert!(c.has_token, "the token is in C's initial state");
    assert_eq!(sends(&run(&mut c, 3, |s, x| s.on_start(x))), vec![(NodeId(1), Msg::Token)]);
    assert!(!c.has_token);
}

#[test]
fn a_holder_writes_one_item_at_a_time_and_passes_the_token_after_its_quota() {
    let a = algo(5, 2, true);
    let mut p = node(&a, 1, 3);
    for v in [7, 8, 9] {
        run(&mut p, 3, |s, x| s.on_input(Input::Produce { value: v }, x));
    }
    assert_eq!(
        sends(&run(&mut p, 3, |s, x| s.on_message(NodeId(0), Msg::Token, x))),
        vec![(CONSUMER, Msg::Data { seq: 0, value: 7 })]
    );
    assert!(p.waiting && p.queue.len() == 3, "the item leaves the queue only when answered");
    let eff = run(&mut p, 3, |s, x| s.on_message(CONSUMER, Msg::Ack, x));
    assert_eq!(sends(&eff), vec![(CONSUMER, Msg::Data { seq: 1, value: 8 })]);
    let eff = run(&mut p, 3, |s, x| s.on_message(CONSUMER, Msg::Ack, x));
    assert_eq!(sends(&eff), vec![(NodeId(2), Msg::Token)], "quota 2 reached: the token moves on");
    assert_eq!((p.stored, p.queue.len(), p.has_token), (2, 1, false));
}

#[test]
fn full_suspends_the_holder_until_resume() {
    let a = algo(1, 5, true);
    let mut c = node(&a, 0, 2);
    run(&mut c, 2, |s, x| s.on_start(x));
    let eff = run(&mut c, 2, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 0, value: 4 }, x));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Full)]);
    assert_eq!((c.draining, c.resume), (true, Some(NodeId(1))));
    let eff = run(&mut c, 2, |s, x| s.on_timer(DRAIN, x));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Resume)]);
    assert!(c.buf.is_empty() && !c.draining && c.resume.is_none());
    assert_eq!(c.consumed, vec![0, 1]);

    let mut p = node(&a, 1, 2);
    for v in [4, 5] {
        run(&mut p, 2, |s, x| s.on_input(Input::Produce { value: v }, x));
    }
    run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Token, x));
    assert!(sends(&run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Full, x))).is_empty());
    assert!(p.suspended && p.has_token && p.stored == 1, "FULL stores the item, then the holder waits");
    let eff = run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Resume, x));
    assert_eq!(sends(&eff), vec![(CONSUMER, Msg::Data { seq: 1, value: 5 })]);
}

#[test]
fn the_broken_variant_answers_ack_when_the_memory_fills() {
    let a = algo(1, 5, false);
    let mut c = node(&a, 0, 2);
    let eff = run(&mut c, 2, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 0, value: 4 }, x));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Ack)]);
    assert_eq!((c.draining, c.resume), (true, None));
}

#[test]
fn the_token_rests_at_the_consumer_after_an_idle_revolution_and_wake_restarts_it() {
    let a = algo(3, 1, true);
    let mut c = node(&a, 0, 3);
    run(&mut c, 3, |s, x| s.on_start(x));
    c.buf.push_back(Item { from: 2, seq: 0, value: 1 });
    c.received_this_lap = 1;
    let eff = run(&mut c, 3, |s, x| s.on_message(NodeId(2), Msg::Token, x));
    assert_eq!(sends(&eff), vec![(NodeId(1), Msg::Token)], "a busy revolution: round again");
    assert!(c.buf.is_empty(), "what the memory holds is consumed as the token passes");
    assert!(sends(&run(&mut c, 3, |s, x| s.on_message(NodeId(2), Msg::Token, x))).is_empty());
    assert!(c.has_token, "an idle revolution: the token rests");
    assert_eq!(sends(&run(&mut c, 3, |s, x| s.on_input(Input::Wake, x))), vec![(NodeId(1), Msg::Token)]);
}

#[test]
fn a_resume_that_overtakes_its_full_is_remembered() {
    let a = algo(1, 5, true);
    let mut p = node(&a, 1, 2);
    for v in [4, 5] {
        run(&mut p, 2, |s, x| s.on_input(Input::Produce { value: v }, x));
    }
    run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Token, x));
    assert!(sends(&run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Resume, x))).is_empty());
    let eff = run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Full, x));
    assert_eq!(sends(&eff), vec![(CONSUMER, Msg::Data { seq: 1, value: 5 })], "not suspended forever");
    assert!(!p.suspended && !p.early_resume);
}

/// The outputs a console shows for TP5 exercise 2, keyed and worded as printed.
fn outputs(effects: &[Effect<Msg>], key: &str) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Output { key: k, value } if *k == key => Some(value.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn items_typed_without_the_token_say_they_wait_and_the_token_says_what_it_sends() {
    let a = algo(2, 2, true);
    let mut p = node(&a, 1, 2);
    let mut waiting = Vec::new();
    for v in [4, 5, 6] {
        waiting.extend(outputs(&run(&mut p, 2, |s, x| s.on_input(Input::Produce { value: v }, x)), "waiting"));
    }
    assert_eq!(
        waiting,
        ["for the token (1 item queued)", "for the token (2 items queued)", "for the token (3 items queued)"]
    );
    let eff = run(&mut p, 2, |s, x| s.on_message(CONSUMER, Msg::Token, x));
    assert_eq!(outputs(&eff, "token"), ["sending 2 of 3 waiting items (the quota)"]);
    assert_eq!(sends(&eff), vec![(CONSUMER, Msg::Data { seq: 0, value: 4 })], "sent the moment it arrives");
    let eff = run(&mut p, 2, |s, x| s.on_input(Input::Produce { value: 7 }, x));
    assert!(outputs(&eff, "waiting").is_empty(), "the holder does not wait for the token");

    let mut c = node(&a, 0, 2);
    let eff = run(&mut c, 2, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 0, value: 4 }, x));
    assert!(outputs(&eff, "memory").is_empty());
    let eff = run(&mut c, 2, |s, x| s.on_message(NodeId(1), Msg::Data { seq: 1, value: 5 }, x));
    assert_eq!(outputs(&eff, "memory"), ["full (2 items): emptying it"]);
    let mut idle = node(&a, 1, 2);
    assert!(outputs(&run(&mut idle, 2, |s, x| s.on_message(CONSUMER, Msg::Token, x)), "token").is_empty());
}
