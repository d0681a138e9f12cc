//! `reparti node`: one node of an algorithm as its own OS process, over UDP or TCP.
//!
//! Every node of a cluster is started with the same algorithm, address list, topology,
//! identities, parameters and seed — on the command line (`--peers`) or from one shared
//! file (`--cluster`) — so [`Instance::new`](reparti_core::Instance::new) gives each the
//! same identities and workload without any exchange: a node only keeps its own identity
//! and applies its own share of the workload, at the scheduled times (in ms since it
//! started). It runs until it has been idle for `--idle-ms` (with the reliable layer:
//! and everything it sent acknowledged), then prints a summary (or `--json`).
//!
//! Separate processes do not start at the same instant; a node binds first and waits
//! `--start-delay-ms` before running the algorithm, while the kernel queues whatever the
//! faster peers already send. Under `reparti run` (`--supervised`) there is no guessing:
//! the node announces its bound address and starts when told ([`crate::run`]).
//!
//! The labs' shapes are kept: `reparti node token-ring 5001 5003 jeton` is TP3's
//! `node.py port_local port_prec [jeton]` ([`lab_ring`], the lab's own ring protocol,
//! not the catalogue algorithm), `reparti node mesh 5001` is TP4's mesh with its
//! `BDD.txt` registry ([`lab`]), `reparti node token-ring 5001` (one port, or none) is
//! TP4 exercise 3's token ring formed from that registry ([`registry_ring`]), and
//! `reparti node chang-roberts-lab 5001 --nodes 3` is
//! TP7's election over that registry, each node drawing its own identity
//! ([`lab_election`], the catalogue algorithm on the real runtime);
//! `reparti node producer-consumer 5000 consumer --nodes 3` and `… 5001 5000 --nodes 3`
//! are TP5's consumer and producers over the same registry ([`lab_producers`], the
//! catalogue algorithm with a console at each node). With `--interactive`
//! (or a terminal on stdin) a console drives the node ([`console`]).
//!
//! The flags ([`args`], with [`cluster_file`] and [`link`]) are resolved by [`drive`] into
//! the plan that [`reparti_net::plan`] runs; [`attach`] is what the command line hooks to
//! the running node (the console, the supervisor's protocol); [`summary`] prints it.

mod addr;
mod args;
mod attach;
pub(crate) mod cluster_file;
mod console;
mod drive;
mod lab;
mod lab_election;
mod lab_producers;
mod lab_ring;
pub mod link;
mod registry_ring;
mod summary;

pub use args::{LabShape, NodeArgs};

use crate::error::usage;
use std::process::ExitCode;

pub fn run(args: &NodeArgs) -> anyhow::Result<ExitCode> {
    if let Some(LabShape::Mesh(mesh)) = &args.lab {
        return lab::run_mesh(mesh);
    }
    let name = args.algorithm.as_deref().ok_or_else(|| {
        usage("name an algorithm (see `reparti list`), or `mesh PORT` for TP4's mesh; see `reparti node --help`")
    })?;
    let spec = crate::resolve::algorithm(name)?;
    if spec.name == lab_producers::LAB_PRODUCERS_ALGORITHM && !args.lab_args.is_empty() {
        return lab_producers::run_producers(args, spec);
    }
    if args.wake_ms.is_some() {
        return Err(usage(
            "--wake-ms is for TP5's lab shape (`reparti node producer-consumer PORT consumer --nodes N`)",
        ));
    }
    let election = spec.name == lab_election::LAB_ELECTION_ALGORITHM;
    let registry_ring = spec.name == lab_ring::LAB_RING_ALGORITHM && registry_ring::is_registry_shape(args);
    if registry_ring {
        return registry_ring::run_registry_ring(args, spec);
    }
    // TP3's shape refuses --registry itself, naming the registry ring.
    let tp3 = spec.name == lab_ring::LAB_RING_ALGORITHM && !args.lab_args.is_empty();
    if !election && !tp3 && (args.registry.is_some() || args.wait_ms.is_some()) {
        return Err(usage(
            "--registry and --wait-ms are for TP7's lab shape (`reparti node chang-roberts-lab PORT --nodes N`); TP4's mesh has its own (`reparti node mesh PORT --registry FILE`)",
        ));
    }
    if election && !args.lab_args.is_empty() {
        return lab_election::run_election(args, spec);
    }
    if !args.lab_args.is_empty() {
        return lab_ring::run_ring(args, spec);
    }
    if !args.send.is_empty() {
        return Err(usage(
            "--send is for TP3's lab shape (`reparti node token-ring LOCAL_PORT PREV_PORT [jeton] --send PORT:TEXT`); an algorithm node draws its workload from --param",
        ));
    }
    let algorithm = spec.name;
    let node = drive::NodeRun::from_args(args, spec)?;
    let summary =
        reparti_algos::visit(algorithm, node).unwrap_or_else(|| Err(usage(format!("unknown algorithm '{name}'"))))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary::render(&summary));
    }
    // A node that could not finish its algorithm must not look like one that did.
    for problem in &summary.problems {
        eprintln!("error: {problem}");
    }
    Ok(if summary.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
