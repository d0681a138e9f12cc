//! The FIFO layer through the simulator, on networks that reorder (random delays, no
//! FIFO): the algorithms that need FIFO keep every property and their exact counts under
//! it, a token held back by the layer still counts as the one token, and the bounded
//! window numbers mod W with at most ⌊DATA/⌈W/2⌉⌋ acknowledgements (per channel).

use reparti_algos::communication::fifo_layer::FifoLayer;
use reparti_algos::communication::fifo_stream::FifoStream;
use reparti_algos::communication::TokenRing;
use reparti_algos::mutex::LamportMutex;
use reparti_core::trace::read_trace;
use reparti_core::IdAssignment;
use reparti_sim::{simulate_traced, Delay, NetworkModel};

mod common;
use common::mutex::check_trace;
use common::{assert_good, config, run};

const MUTEX: &str = "mutual exclusion: at most one node in the critical section";
const SERVED: &str = "every request was served";
const IN_ORDER: &str = "each channel delivers in the order sent";
const DELIVERED: &str = "FIFO layer: every message delivered (nothing held back or waiting)";

fn reordering() -> Vec<NetworkModel> {
    common::networks().into_iter().filter(|n| !n.fifo && !matches!(n.delay, Delay::Const { .. })).collect()
}

#[test]
fn lamport_mutex_over_the_layer_keeps_exclusion_order_and_3_n_minus_1_on_reordering_networks() {
    for network in reordering() {
        for n in [2usize, 3, 5, 8] {
            for seed in 1..=8u64 {
                let ctx = format!("n={n} seed={seed} {network:?}");
                let cfg = config(n, seed, IdAssignment::Random, &network, &[("requests", "3")]);
                let (r, bytes) = simulate_traced::<FifoLayer<LamportMutex>, _>(&cfg, Vec::new()).expect("starts");
                assert_good(&r, &[MUTEX, SERVED, DELIVERED], &ctx);
                let cs: u64 = r.outputs.get("enter_cs").map(|m| m.values().sum()).unwrap_or(0);
                assert_eq!(cs, 3 * n as u64, "{ctx}");
                for kind in ["REQUEST", "REPLY", "RELEASE"] {
                    assert_eq!(r.sent(kind), (n as u64 - 1) * cs, "{ctx}: {kind}, as without the layer");
                }
                assert_eq!(r.sent("FIFO_ACK"), 0, "{ctx}: no extra message without a window");
                assert_eq!(r.expected["REQUEST+REPLY+RELEASE"].holds, Some(true), "{ctx}: the application's total");
                let trace = read_trace(bytes.as_slice()).expect("the trace reads back");
                let each = n - 1;
                check_trace(&trace, n, 3, &[("REQUEST", each), ("REPLY", each), ("RELEASE", each)], &ctx);
            }
        }
    }
}

#[test]
fn a_numbered_stream_is_disordered_without_the_layer_and_in_order_with_it() {
    let mut disordered = 0;
    for network in reordering() {
        for seed in 1..=10u64 {
            let ctx = format!("seed={seed} {network:?}");
            let cfg = config(4, seed, IdAssignment::Asc, &network, &[("count", "20")]);
            let bare = run::<FifoStream>(&cfg);
            disordered += usize::from(!bare.holds(IN_ORDER));
            let layered = run::<FifoLayer<FifoStream>>(&cfg);
            assert_good(&layered, &[IN_ORDER, DELIVERED], &ctx);
            assert_eq!(layered.sent("STREAM"), 80, "{ctx}: 20 per channel on a ring of 4");
        }
    }
    assert!(disordered >= 10, "random delays reorder a stream of 20 in most runs: {disordered} of 20");
}

#[test]
fn a_token_held_back_by_the_layer_is_still_the_one_token() {
    for network in reordering() {
        for seed in 1..=10u64 {
            let ctx = format!("seed={seed} {network:?}");
            let cfg = config(5, seed, IdAssignment::Asc, &network, &[("laps", "3")]);
            let r = run::<FifoLayer<TokenRing>>(&cfg);
            assert_good(&r, &["exactly one token", DELIVERED], &ctx);
        }
    }
}

#[test]
fn the_window_bounds_acknowledgements_and_keeps_the_order() {
    for window in [1u64, 2, 4, 7] {
        for network in reordering() {
            for seed in 1..=5u64 {
                let ctx = format!("W={window} seed={seed} {network:?}");
                let w = window.to_string();
                let cfg = config(3, seed, IdAssignment::Asc, &network, &[("count", "12"), ("fifo_window", &w)]);
                let r = run::<FifoLayer<FifoStream>>(&cfg);
                assert_good(&r, &[IN_ORDER, DELIVERED], &ctx);
                let data = r.sent("STREAM");
                assert_eq!(data, 36, "{ctx}");
                // At most one ACK per ⌈W/2⌉ deliveries on each of the 3 channels (one ACK
                // covers a whole batch released from the hold-back queue), and at least
                // enough for the sender to get its 12 through a window of W.
                let acks = r.sent("FIFO_ACK");
                assert!(acks <= 3 * (12 / window.div_ceil(2)), "{ctx}: {acks} ACK");
                assert!(acks >= 3 * (12 - window.min(12)).div_ceil(window), "{ctx}: {acks} ACK");
                assert_eq!(r.expected["FIFO_ACK"].holds, Some(true), "{ctx}");
            }
        }
    }
}

#[test]
fn a_sender_that_ignores_the_window_breaks_the_order_in_some_run() {
    let broken = reordering().iter().flat_map(|network| (1..=10u64).map(move |seed| (network.clone(), seed))).any(
        |(network, seed)| {
            let params = [("count", "12"), ("fifo_window", "2"), ("fifo_window_kept", "false")];
            let r = run::<FifoLayer<FifoStream>>(&config(3, seed, IdAssignment::Asc, &network, &params));
            !r.holds(IN_ORDER)
        },
    );
    assert!(broken, "numbers mod 2 without the window are ambiguous: some run must misdeliver");
}
