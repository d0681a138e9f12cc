//! What a simulated run may take of the machine's memory: refused before anything is
//! allocated when its estimate ([`reparti_sim::footprint`]) does not fit, and watched
//! while it runs, since the estimate cannot foresee everything (a state that grows, many
//! messages in flight at once).
//!
//! The room is what the machine has available when the command starts (`MemAvailable`,
//! lowered to a cgroup limit's headroom), or `--max-memory SIZE`. Both refusals are one
//! line, exit status 2, with the size the run would need and how to make it fit.

use crate::error::usage;
use crate::summary::thousands;
use reparti_core::machine_memory::{available_bytes, human_bytes};
use reparti_core::{Algorithm, TopologyKind};
use reparti_sim::footprint::Share;
use reparti_sim::{Footprint, SimConfig};

/// How much memory a run may take, and where that number comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Room {
    /// The bytes.
    pub bytes: u64,
    /// Set with `--max-memory` (else: what the machine has available).
    explicit: bool,
}

impl Room {
    /// `--max-memory` when given, else the memory available now; `None` when neither is
    /// known (no `/proc`), and nothing is refused.
    pub fn resolve(explicit: Option<u64>) -> Option<Room> {
        match explicit {
            Some(bytes) => Some(Room { bytes, explicit: true }),
            None => available_bytes().map(|bytes| Room { bytes, explicit: false }),
        }
    }

    /// "22.9 GiB is available" or "--max-memory allows 1.0 GiB".
    pub fn says(&self) -> String {
        if self.explicit {
            format!("--max-memory allows {}", human_bytes(self.bytes))
        } else {
            format!("{} is available", human_bytes(self.bytes))
        }
    }
}

/// Refuses a run of `A` (named `name`) whose estimate does not fit in `room`; returns
/// the estimate otherwise. A run that cannot even be set up is let through: the run
/// itself then says what is wrong, in its usual words.
pub fn refuse_if_too_large<A: Algorithm>(
    name: &str,
    cfg: &SimConfig,
    traced: bool,
    room: Room,
) -> anyhow::Result<Option<Footprint>> {
    let Ok(fp) = reparti_sim::estimate::<A>(cfg, traced) else { return Ok(None) };
    if fp.bytes <= room.bytes {
        return Ok(Some(fp));
    }
    Err(usage(too_large(name, cfg, &fp, room)))
}

/// The refusal: what the run would need, what there is, and what to change.
fn too_large(name: &str, cfg: &SimConfig, fp: &Footprint, room: Room) -> String {
    let share = match fp.largest {
        Share::Workload => {
            format!("mostly the workload: {} inputs", thousands((fp.inputs_per_node * fp.nodes as f64) as u64))
        }
        other => format!("mostly {other}"),
    };
    let file = matches!(cfg.topology, Some(TopologyKind::File { .. }));
    let fits = fp.nodes_within(room.bytes);
    let smaller_workload = "a smaller workload (its parameters: `reparti list`)";
    // Below what an empty run takes, no change to the run helps.
    let no_room = fp.bytes_for(0) > room.bytes;
    let fix = match (fits, fp.largest) {
        (0, Share::Workload) if !no_room => format!("use {smaller_workload}"),
        (0, _) if room.explicit => "raise --max-memory".to_string(),
        (0, _) => "free some memory".to_string(),
        (_, _) if file => "use a smaller edge-list file".to_string(),
        (k, Share::Workload) => format!("use fewer nodes (about {} fit) or {smaller_workload}", thousands(k as u64)),
        (k, Share::VectorClocks) => {
            format!("use fewer nodes (about {} fit) or --vector-clocks off", thousands(k as u64))
        }
        (k, _) => format!("use fewer nodes (about {} fit)", thousands(k as u64)),
    };
    format!(
        "{} nodes of {name} would need about {} ({share}), but {}; {fix}",
        thousands(fp.nodes as u64),
        human_bytes(fp.bytes),
        room.says()
    )
}

/// Watches a run's resident memory and stops it, with a refusal, once it has outgrown
/// the room it was given (the estimate undercounted: say so, with the event count).
pub struct Watch {
    /// The resident size past which the run is stopped.
    limit: u64,
    room: Room,
}

impl Watch {
    /// A watch for a run given `room`: with `--max-memory`, the process's resident size
    /// must stay within it; otherwise the run may grow by the memory that was available
    /// when it started, less a twentieth kept for everything else.
    pub fn new(room: Room) -> Watch {
        let limit = if room.explicit { room.bytes } else { resident_bytes() + room.bytes / 20 * 19 };
        Watch { limit, room }
    }

    /// A refusal once the process holds more than its limit.
    pub fn check(&self, name: &str, events: u64) -> anyhow::Result<()> {
        let resident = resident_bytes();
        if resident <= self.limit {
            return Ok(());
        }
        let allowed = if self.room.explicit {
            format!("more than --max-memory allows ({})", human_bytes(self.room.bytes))
        } else {
            format!("close to all the {} available when it started", human_bytes(self.room.bytes))
        };
        Err(usage(format!(
            "{name} outgrew its memory after {} events: {} resident, {allowed}; use fewer nodes or a smaller workload",
            thousands(events),
            human_bytes(resident),
        )))
    }
}

/// The process's resident size (`VmRSS`), or 0 where it cannot be read.
fn resident_bytes() -> u64 {
    crate::measure::proc_status("VmRSS:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_says_where_it_comes_from() {
        let room = Room::resolve(Some(1 << 30)).expect("explicit");
        assert_eq!(room.says(), "--max-memory allows 1.0 GiB");
        if let Some(machine) = Room::resolve(None) {
            assert!(machine.says().ends_with("is available"), "{}", machine.says());
        }
    }

    #[test]
    fn a_run_that_does_not_fit_is_refused_with_its_size_and_a_fix() {
        let cfg = SimConfig::with_nodes(100_000_000);
        let room = Room { bytes: 1 << 30, explicit: true };
        let visit = reparti_algos::visit("chang-roberts", Refuse { cfg: &cfg, room });
        let e = visit.expect("in the catalogue").expect_err("too large").to_string();
        assert!(e.starts_with("100,000,000 nodes of chang-roberts would need about "), "{e}");
        assert!(e.contains("--max-memory allows 1.0 GiB; use fewer nodes (about "), "{e}");
        let fits = reparti_algos::visit("chang-roberts", Refuse { cfg: &SimConfig::with_nodes(1000), room });
        assert!(fits.expect("in the catalogue").is_ok());
    }

    struct Refuse<'a> {
        cfg: &'a SimConfig,
        room: Room,
    }

    impl reparti_core::AlgorithmVisitor for Refuse<'_> {
        type Output = anyhow::Result<Option<Footprint>>;
        fn visit<A: Algorithm>(self) -> Self::Output {
            refuse_if_too_large::<A>(A::spec().name, self.cfg, false, self.room)
        }
    }
}
