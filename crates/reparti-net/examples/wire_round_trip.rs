//! Encodes and decodes a token ring's `DATA` envelope (vector clock, sequence number,
//! run identity: what a reliable one-way stream carries) N times over the JSON wire, or
//! the binary one with `binary`: the wire's own cost per message, free of sockets and
//! of the machine's pace when counted by instructions.
//!
//! ```sh
//! cargo build --profile measure -p reparti-net --example wire_round_trip
//! valgrind --tool=callgrind target/measure/examples/wire_round_trip 100000 [binary]
//! ```

use reparti_algos::communication::token_ring::Msg;
use reparti_core::NodeId;
use reparti_net::wire::{self, Datagram, Envelope, RunId, Wire};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(n) = args.next().and_then(|a| a.parse::<u32>().ok()) else {
        eprintln!("usage: wire_round_trip N [binary]   (N envelopes encoded then decoded)");
        return ExitCode::FAILURE;
    };
    let wire = if args.next().as_deref() == Some("binary") { Wire::Binary } else { Wire::Json };
    let run = RunId::new("r1a2b3c4").ok();
    let mut lamports = 0u64;
    for i in 0..n {
        let body = Msg::Data { origin: NodeId(0), seq: i, dest: NodeId(1), hops: 1, text: format!("message {i}") };
        let env = Envelope {
            from: NodeId(0),
            to: NodeId(1),
            lamport: u64::from(i),
            vc: Some(vec![u64::from(i), 3]),
            seq: Some(u64::from(i) + 1),
            body,
        };
        let decoded = wire::encode_with_run(&env, wire, run.as_ref())
            .map_err(|(e, _)| e)
            .and_then(|bytes| wire::decode_with_run::<Msg>(&bytes));
        match decoded {
            Ok((Datagram::Message(back), _)) if back == env => lamports += back.lamport,
            other => {
                eprintln!("wire_round_trip: envelope {i} came back as {other:?}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{n} envelopes over the {wire} wire and back (lamport sum {lamports})");
    ExitCode::SUCCESS
}
