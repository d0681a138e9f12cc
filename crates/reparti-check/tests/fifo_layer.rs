//! The FIFO layer in the checker, over every interleaving of a network that reorders:
//! the algorithms that need FIFO channels stay correct under it (liveness included), and
//! without it — or with a window the sender does not keep — the checker finds the
//! violation, shortest, replayed in the simulator.

mod common;

use common::{assert_all_hold, caught_shortest, cfg, run, with_params};
use reparti_algos::communication::fifo_layer::FifoLayer;
use reparti_algos::communication::fifo_stream::FifoStream;
use reparti_algos::mutex::LamportMutex;
use reparti_check::NetworkKind;
use reparti_core::IdAssignment;

const MUTEX: &str = "mutual exclusion: at most one node in the critical section";
const IN_ORDER: &str = "each channel delivers in the order sent";

fn unordered(n: usize, params: &[(&str, &str)]) -> reparti_check::CheckConfig {
    with_params(cfg(n, IdAssignment::Asc, NetworkKind::Unordered), params)
}

#[test]
fn lamport_mutex_over_the_layer_is_correct_on_channels_that_reorder() {
    // n = 3 holds too (3,888,403 states, minutes in a debug build): a benchmark's size.
    for (n, requests) in [(2, "1"), (2, "2")] {
        let c = unordered(n, &[("requests", requests)]);
        let r = run::<FifoLayer<LamportMutex>>(&c);
        assert_all_hold(&r, &format!("lamport-mutex+fifo n={n} requests={requests}"));
        println!("lamport-mutex+fifo, n={n}, requests={requests}, unordered: {} states, all hold", r.states);
    }
}

#[test]
fn lamport_mutex_without_the_layer_is_caught_on_the_same_channels() {
    let c = unordered(2, &[("requests", "1")]);
    let len = caught_shortest::<LamportMutex>(&c, MUTEX, "lamport-mutex, unordered, no layer");
    println!("lamport-mutex, n=2, unordered, no layer: shortest counterexample {len} steps");
}

#[test]
fn a_numbered_stream_needs_fifo_and_gets_it_from_the_layer() {
    let c = unordered(2, &[("count", "3")]);
    let len = caught_shortest::<FifoStream>(&c, IN_ORDER, "fifo-stream, unordered");
    assert_eq!(len, 1, "the sends are made at start: delivering the second first is one step");
    for n in [2, 3] {
        let c = unordered(n, &[("count", "3")]);
        let r = run::<FifoLayer<FifoStream>>(&c);
        assert_all_hold(&r, &format!("fifo-stream+fifo n={n}"));
        println!("fifo-stream+fifo, n={n}, 3 per channel, unordered: {} states, all hold", r.states);
    }
}

#[test]
fn the_bounded_window_numbers_mod_w_and_stays_correct() {
    for window in ["1", "2", "3"] {
        let c = unordered(2, &[("count", "4"), ("fifo_window", window)]);
        let r = run::<FifoLayer<FifoStream>>(&c);
        assert_all_hold(&r, &format!("fifo-stream+fifo W={window}"));
        println!("fifo-stream+fifo, n=2, 4 per channel, W={window}: {} states, all hold", r.states);
    }
    let c = unordered(2, &[("requests", "1"), ("fifo_window", "2")]);
    let r = run::<FifoLayer<LamportMutex>>(&c);
    assert_all_hold(&r, "lamport-mutex+fifo W=2");
    println!("lamport-mutex+fifo, n=2, W=2: {} states, all hold", r.states);
}

/// Numbers mod W are unambiguous only while at most W messages are unacknowledged: a
/// sender that ignores the window lets message s+W overtake message s into its place.
#[test]
fn a_sender_that_ignores_the_window_is_caught() {
    let c = unordered(2, &[("count", "3"), ("fifo_window", "2"), ("fifo_window_kept", "false")]);
    let len = caught_shortest::<FifoLayer<FifoStream>>(&c, IN_ORDER, "fifo-stream+fifo W=2, window ignored");
    println!("fifo-stream+fifo, W=2, window ignored: shortest counterexample {len} steps");
}
