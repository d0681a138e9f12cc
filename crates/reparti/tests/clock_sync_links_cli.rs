//! Cristian, NTP and Berkeley on real processes over every link of the house — UDP and
//! TCP, plain and encrypted, clean and lossy (20 % loss, 10 % duplication, reordering)
//! under the reliable layer — with clocks drawn ±500 ms apart: every property judged on
//! the merged run holds, the exact message counts hold, and the clocks end close
//! together (the figure printed). A lost message only lengthens a round trip, which
//! loosens the bound the algorithm claims but never breaks it.

mod common;

use common::{assert_ran_on, key_file, links, run_report, sent};
use serde_json::Value;

fn holds_everywhere(r: &Value, what: &str) {
    assert_eq!(r["stop"], "quiescence", "{what}");
    for p in r["properties"].as_array().expect("properties") {
        assert_eq!(p["holds"], true, "{what}: {p}");
    }
}

fn spread(r: &Value) -> f64 {
    r["physical_clocks"]["spread"].as_f64().expect("the precision reached")
}

const OFFSETS: [&str; 2] = ["--clock-offset", "uniform:-500,500"];

#[test]
fn cristian_and_ntp_synchronize_over_every_link() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        for (algorithm, kind) in [("cristian", "REQUEST"), ("ntp", "REQUEST")] {
            let what = format!("{algorithm} {:?}", link.args);
            let r = run_report(algorithm, 4, &[], &[&OFFSETS[..], &link.args].concat());
            assert_ran_on(&r, &link, &what);
            holds_everywhere(&r, &what);
            assert_eq!(sent(&r, kind), 8 * 3, "{what}: 8 exchanges per client");
            eprintln!("{what}: clocks within {:.3} ms at the end", spread(&r));
            // From up to 1000 ms apart; a loaded machine's round trips of a few ms at most.
            assert!(spread(&r) < 50.0, "{what}: still {:.3} ms apart", spread(&r));
        }
    }
}

#[test]
fn berkeley_synchronizes_over_every_link() {
    let (_dir, key) = key_file();
    for link in links(&key) {
        let what = format!("berkeley {:?}", link.args);
        // Rounds 2.5 s apart: a first adjustment of up to ~1000 ms takes 2 s to slew.
        let r = run_report("berkeley", 4, &["period=2500", "rounds=2"], &[&OFFSETS[..], &link.args].concat());
        assert_ran_on(&r, &link, &what);
        holds_everywhere(&r, &what);
        for kind in ["POLL", "REPLY", "ADJUST"] {
            assert_eq!(sent(&r, kind), 2 * 3, "{what}: {kind}, n − 1 per round");
        }
        eprintln!("{what}: clocks within {:.3} ms at the end", spread(&r));
        // On a lossy link a REPLY retransmitted by the reliable layer makes a round trip
        // of ~100 ms, and Berkeley's estimate is only good to rtt/2: the clocks then end
        // some 50 ms apart (measured: 50–60 ms), as the agreement property — judged
        // above against each round's own rtt/2 — allows. Here only that they came much
        // closer than the ±500 ms they started at.
        let limit = if link.lossy { 400.0 } else { 50.0 };
        assert!(spread(&r) < limit, "{what}: still {:.3} ms apart", spread(&r));
    }
}
