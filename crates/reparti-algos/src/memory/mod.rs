//! Chapter 7: distributed shared memory.
//!
//! Every protocol here implements the same thing — registers that clients read, write
//! and compare-and-set from any node — and differs in where the copies live and what a
//! fault costs. They share:
//!
//! * the clients ([`client`]): operations are external inputs, one open per node, each
//!   called and returned as an output, so that every engine records the run's
//!   *history* ([`reparti_core::history`]), which `reparti lin` judges: linearizable
//!   (Herlihy & Wing, 1990) or only sequentially consistent (Lamport, 1979);
//! * the workload ([`workload`]): clients, operations, registers, mix, think times;
//! * the console commands `read K`, `write K V`, `cas K FROM TO`.

pub mod by_mutex;
pub mod client;
pub mod ivy;
pub mod judge;
pub mod lamport_tob;
pub mod li_hudak;
pub mod sequencer;
pub mod single_copy;
pub mod tob_replica;
pub mod workload;

pub use by_mutex::MutexMemory;
pub use ivy::Ivy;
pub use judge::{linearizable, sequentially_consistent, LINEARIZABLE, SEQUENTIAL};
pub use lamport_tob::TobLamport;
pub use li_hudak::LiHudak;
pub use sequencer::TobSequencer;
pub use single_copy::SingleCopy;

use client::MemoryNode;
use reparti_core::{
    AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, OutputValue, ParamSpec, RunFacts, Terminal, World,
};

/// The name of the terminal property every protocol declares.
pub const ANSWERED: &str = "every operation was answered";

const KEY: CommandArg = CommandArg { field: "key", kind: ArgKind::Int };

/// The console commands of every protocol of the chapter.
pub const COMMANDS: &[Command] = &[
    Command { word: "read", variant: "Read", args: &[KEY], help: "read register K" },
    Command {
        word: "write",
        variant: "Write",
        args: &[KEY, CommandArg { field: "value", kind: ArgKind::Int }],
        help: "write V into register K",
    },
    Command {
        word: "cas",
        variant: "Cas",
        args: &[KEY, CommandArg { field: "from", kind: ArgKind::Int }, CommandArg { field: "to", kind: ArgKind::Int }],
        help: "if register K holds FROM, make it TO",
    },
];

/// The spec every protocol of the chapter starts from: complete graph, the commands.
pub const fn spec(name: &'static str, summary: &'static str, params: &'static [ParamSpec]) -> AlgorithmSpec {
    AlgorithmSpec {
        params,
        topologies: &["complete"],
        commands: COMMANDS,
        ..AlgorithmSpec::new(name, Chapter::Memory, summary)
    }
}

/// At quiescence every client has had all its operations answered (on a reliable
/// network with no crash: a lost message leaves its operation pending, which is what
/// the history then says).
pub fn every_operation_answered<N: MemoryNode>() -> Terminal<N> {
    Terminal::new(ANSWERED, |w: &World<'_, N>| {
        for i in w.live() {
            let client = w.nodes[i].client();
            if !client.idle() {
                return Err(format!("node {i}: {}", client.describe()));
            }
        }
        Ok(())
    })
}

/// How many times `key` was output with the text `value`.
pub fn output_count(facts: &RunFacts<'_>, key: &str, value: &str) -> u64 {
    facts.outputs.get(key).and_then(|m| m.get(&OutputValue::Text(value.into()))).copied().unwrap_or(0)
}

/// The sum of the integer values output under `key`.
pub fn output_sum(facts: &RunFacts<'_>, key: &str) -> u64 {
    let Some(values) = facts.outputs.get(key) else { return 0 };
    values.iter().map(|(v, count)| if let OutputValue::Int(v) = v { (*v).max(0) as u64 * count } else { 0 }).sum()
}
