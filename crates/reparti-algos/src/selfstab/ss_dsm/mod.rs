//! # Self-stabilizing distributed shared memory: a token for the writer, soft state for the directory
//!
//! **What.** Pages that clients read and write from any node, kept coherent — single
//! writer / multiple readers, every copy holding the last write — in a way that
//! *recovers by itself* from a transient fault that overwrites the nodes' memory
//! (directories, access rights, versions, the token's counters) with arbitrary values.
//! Three pieces, each chosen because it repairs itself:
//! * *Write permission is a token*, one per page: Dijkstra's K-state ring over the node
//!   positions 0 → 1 → … → n−1 → 0, run by state exchange. Only the privileged node may
//!   hold a page writable; once the ring has stabilized there is one privilege, hence
//!   one possible writer, whatever the fault left behind.
//! * *The directory is soft state.* Every period each node reports its copy of each page
//!   (`STATUS`: access, version, value, whether it holds the token) to the page's home,
//!   p mod n. The home keeps the last report of each node (older than two periods, it
//!   expires) rather than trusting what it remembers, and invalidates (`INV`) any copy a
//!   report shows to be wrong: a reader whose version and value differ from the home's,
//!   a writer without the token or without the home's lock.
//! * *Everything else times out.* Requests carry sequence numbers; a request, or a
//!   lock at the home, that is not completed within `timeout` periods is dropped, so
//!   corrupt pending requests vanish.
//!
//! The normal protocol is Li & Hudak's fixed manager with the token as an extra
//! condition for writing: a write invalidates every copy through the home before it
//! happens, and the home serves no read meanwhile.
//!
//! **Source.** A design for the course, from three classics: the DSM of K. Li and
//! P. Hudak, "Memory coherence in shared virtual memory systems", ACM TOCS 7(4):321–359,
//! 1989 (a fixed manager per page, invalidation before a write); the token of
//! E. W. Dijkstra, "Self-stabilizing systems in spite of distributed control", CACM
//! 17(11):643–644, 1974 (the K-state ring, [`super::k_state`]); and soft state, after
//! S. Raman and S. McCanne, "A model, analysis, and protocol framework for soft
//! state-based communication", SIGCOMM 1999 (state refreshed by periodic reports, and
//! forgotten when they stop).
//!
//! ```text
//! every period, at node i, for each page p (home h = p mod n):
//!   privileged := (i = 0 ? x = x_pred : x ≠ x_pred)          -- x_pred: the last TOKEN from i−1
//!   if access = write:  if privileged: move;  access := read;  h ← RELEASE(p, seq, v, val)
//!   elif privileged and a TOKEN came from i−1 since i last moved:
//!     if a client write on p waits:  h ← WREQ(p, seq)   -- and keep the token until GRANT
//!     else move                       -- node 0: x := x_pred + 1 mod K; others: x := x_pred
//!   i+1 ← TOKEN(p, x);  h ← STATUS(p, access, v, val, privileged)
//! at h, WREQ(p, seq) from w:  (if p is unlocked, or locked for w)
//!                             lock p for w; every j ≠ w ← INV(p, seq); reads of p wait
//!                             when every IACK is in:  w ← GRANT(p, seq, v, val)
//! at w, GRANT(p, seq, v, val):  if still privileged: access := write; copy := (v, val);
//!                               perform the waiting writes (v := v + 1 each)
//!                               else h ← RELEASE(p, seq, v, val) at once
//! at h, RELEASE(p, seq, v, val) from the lock's holder:  (v, val) := the writer's; unlock;
//!                               answer the reads that waited; serve the next WREQ
//! read at r without a copy:   h ← RREQ(p, seq);  h (unlocked) → r  DATA(p, seq, v, val);
//!                             r: access := read, copy := (v, val)
//! at j, INV(p, ·):            access := nil;  h ← IACK(p, ·)
//! at h, STATUS from j:        keep it as j's entry (entries older than 2 periods expire);
//!                             j has write, but not the token or not h's lock → j ← INV(p)
//!                             j has read, with (v, val) ≠ h's                → j ← INV(p)
//!                             j holds h's lock, but neither write nor token  → unlock p
//! a request unanswered after `timeout` periods is dropped (a read is asked again; a
//! write lets the token move on and waits for its next visit); so is a lock at h
//! ```
//!
//! **How it runs here.** A complete graph: everyone sends to everyone (the ring is over
//! positions, not links). Every node runs `periods` periods of `period` time units, all
//! in step from time 0, then stops, and the run ends. The nodes start legitimate: every
//! counter 0 (node 0 holds every token), no copies, every home holding (version 0, nil).
//! Clients are the chapter's ([`crate::memory::client`]): one open operation per node,
//! called and returned as outputs (so `reparti lin` can judge the history); the
//! workload draws `ops` reads and writes per node (share `reads` of reads, written values
//! 1, 2, 3, …) over the first two thirds of the run; the console adds `read K`,
//! `write K V`, `cas K FROM TO` (a compare-and-set writes like a write). A node never
//! sends to itself: a home's own requests, reports and invalidations are local steps.
//! Transient faults: the `Corrupt { seed }` input (console `corrupt SEED`; `corrupt=K`
//! nodes at `corrupt_at` in the workload) overwrites the node's counters, its view of
//! its predecessor's, its copies (access, version, value — values drawn negative, so
//! that they stand out in a history), and at a home the whole directory (version, value,
//! lock, waiting requests, reports), all drawn from SEED. The client's own operations
//! are not touched: they are the users' requests, not the protocol's memory. Outputs:
//! `move` (page) at each K-state move, `invalidated` (k, the `INV` messages of a write)
//! at each lock, `repair` (`remote` or `local`) at each `INV` a report caused, and
//! `corrupted` at each fault.
//!
//! **Pitfalls.**
//! * *Invalidating only the copy set.* The home's copy set is built from reports, so it
//!   may miss a copy fetched since the reader's last report, and a report sent before a
//!   `DATA` arrives may erase the entry the `DATA` made. A write that invalidated only
//!   the copy set would leave such a copy beside the writer: the lock invalidates every
//!   node, 2(n − 1) messages per write, and needs no directory to be right.
//! * *Writing as soon as the token arrives.* The token says who may write, not that the
//!   readers are gone: a privileged node that wrote without the home's lock would write
//!   beside stale copies. The lock is what orders reads and writes; the token only picks
//!   the writer, and after a fault, stops two writers from taking turns for ever.
//! * *Keeping the token while the lock is stuck.* A privileged node that waits for its
//!   `GRANT` keeps the token, and the ring stands still meanwhile. After a fault the
//!   home's lock may be a corrupt one, held for a node that asked for nothing; if it
//!   only expired (`timeout` periods), every privileged writer would keep its token that
//!   long, and convergence would take the lock's timeout on top of the ring's time
//!   (with `timeout=10`, n = 4 took up to 149 time units, beyond the bound of 144
//!   below). Here the home drops a lock as soon as its holder reports neither write
//!   access nor the token, and a holder that asks again restarts its lock; a writer
//!   whose request timed out moves the token on instead of asking again at once.
//! * *Trusting the directory.* A home that kept its own record of who holds what would
//!   keep a corrupt one. Here a report overwrites it every period, and a node that
//!   reports nothing for two periods is forgotten.
//! * *Unordered channels.* `needs_fifo`: a `TOKEN` that overtakes a newer one makes its
//!   receiver see a privilege that has gone (two writers in a legitimate ring), and a
//!   `STATUS` overtaken by the `RELEASE` sent after it would make the home invalidate the
//!   writer it just unlocked. A period must also be longer than four delays (a write's
//!   `WREQ`, `INV`, `IACK`, `GRANT`), or a writer keeps the token a period more, and a
//!   lock may expire under a writer.
//! * *Lost writes.* Writes made before or during the fault that the fault overwrote are
//!   gone: the protocol restores coherence, not the data. The history of a run with a
//!   fault is generally not linearizable (reads may return the negative values a fault
//!   wrote), which is why the linearizability check is declared only when `corrupt` = 0.
//!
//! **Properties.** L, the legitimate configurations, per page: (1) exactly one node
//! privileged by the K-state counters; (2) at most one node with write access, and it
//! is the privileged one; (3) every copy holds the same version and value, which are the
//! home's unless the home's lock is held (then every reader other than the lock's holder
//! holds the home's); (4) a writer is the holder of the home's lock, granted. [`legitimate`]
//! checks it; the terminal property "legitimate at the end (SWMR restored)" checks it at
//! quiescence together with [`directory_matches`] (each node's last report at the home is
//! its actual copy; in a run the reports lag by up to a period, by design).
//! * *Closure.* From L, the normal protocol stays in L (on FIFO channels with a period
//!   longer than four delays): the ring's closure; a write happens only after every copy
//!   was invalidated and while reads wait at the home; a reader's copy comes from the
//!   home while it is unlocked; and the repairs never fire (the tests check L after
//!   every event of fault-free runs, and that no `repair` was output).
//! * *Convergence.* After the last fault: the ring stabilizes (§7.1; at most 3, 13, 24
//!   steps for n = 3, 4, 5, each step a period here); a writer that is not privileged
//!   drops its write access at its next period, and one that is passes the token then;
//!   the next report of every wrong copy reaches the home, whose `INV` arrives a delay
//!   later; a corrupt lock goes at its holder's next report (or expires within `timeout`
//!   periods). The bound is the ring's stabilization time plus one report period plus
//!   one round trip: with a period of 10 and delays up to 2, 3·10 + 10 + 4 = 44,
//!   13·10 + 10 + 4 = 144 and 24·10 + 10 + 4 = 254 for n = 3, 4, 5. Measured, every node
//!   corrupted at once (1,200 simulated runs for each n: 1 to 3 pages, constant or
//!   uniform delays up to 2, faults at and between period boundaries): at most 39, 59
//!   and 89 time units, means about 14, 25 and 37 — the ring
//!   stabilizes in far fewer periods than its worst case, since a period here is a
//!   synchronous step from the states of the previous one. The `timeout` parameter does
//!   not change these figures (2, 3 and 10 tried).
//!
//! **Costs.** Per period, per page: n `TOKEN` and n − 1 `STATUS` (the home's own report
//! is local), whatever happens — exactly n·pages·periods and (n − 1)·pages·periods.
//! A write round (one lock) costs `WREQ` + (n − 1) `INV` + (n − 1) `IACK` + `GRANT` +
//! `RELEASE`, less the local hops when the writer is the home; a read without a copy
//! `RREQ` + `DATA` (none at the home); a repair `INV` + `IACK`. Asserted exactly: the
//! `TOKEN` and `STATUS` counts, `INV` = Σ k + remote repairs (Σ k alone without a fault)
//! and `IACK` = `INV`.

use crate::memory::client::{Client, MemoryNode};
use crate::memory::ivy::Access;
use crate::memory::{every_operation_answered, output_count, output_sum};
use rand::Rng as _;
use reparti_core::history::{HistoryProperty, Operation, Reply};
use reparti_core::property::Bound;
use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Invariant, Message, NodeId,
    NodeSetup, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, WorkloadSetup,
    World,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The terminal property: L, and the home's reports match the copies.
pub const LEGITIMATE: &str = "legitimate at the end (SWMR restored)";
/// The stabilizing property: L after every event, and every stretch outside it (a
/// transient fault's) within §7.5's bound.
pub const RESTORED: &str = "L (one token, one writer per page) restored within the bound";
/// The output made at each transient fault.
pub const CORRUPTED: &str = "corrupted";
/// The output (by the home, at each lock) of k, the `INV` messages of the write.
pub const INVALIDATED: &str = "invalidated";
/// The output (by the home) of each `INV` a report caused: `remote` or `local`.
pub const REPAIR: &str = "repair";
/// The output (the page) of each K-state move.
pub const MOVE: &str = "move";

const TICK: &str = "period";
/// Reports older than this many of the home's periods are forgotten.
const REPORT_LIFE: u64 = 2;

/// A copy's contents: a version and the value it holds. Two copies are coherent when
/// their stamps are equal (the value is part of it, so that two corrupt copies with the
/// same version but different values are not).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Stamp {
    /// Bumped by each write.
    pub version: u64,
    /// The value (`None`: never written).
    pub value: Option<i64>,
}

/// One node's state for one page: its K-state counter, its view of its predecessor's,
/// and its copy.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct PageState {
    /// The K-state counter, in `0..K`.
    pub x: u32,
    /// The predecessor's counter, as last received.
    pub pred: u32,
    /// Whether a `TOKEN` came from the predecessor since this node last moved.
    pub fresh: bool,
    /// The access right.
    pub access: Access,
    /// The copy (meaningless when `access` is nil).
    pub stamp: Stamp,
    /// The sequence number of the `GRANT` this node holds write access under.
    pub grant: u64,
}

/// The home's lock on a page: a write in progress.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Lock {
    /// The writer.
    pub holder: NodeId,
    /// Its request's sequence number.
    pub seq: u64,
    /// The home's period when it was taken (it expires `timeout` periods later).
    pub since: u64,
    /// The nodes whose `IACK` is awaited.
    pub awaiting: BTreeSet<NodeId>,
    /// Whether `GRANT` was sent.
    pub granted: bool,
}

/// What a node last reported of a page.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Its access.
    pub access: Access,
    /// Its copy.
    pub stamp: Stamp,
    /// Whether it was privileged.
    pub token: bool,
    /// The home's period when the report arrived.
    pub at: u64,
}

/// The home's directory of one page.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Home {
    /// The page as the home knows it: the last released write.
    pub stamp: Stamp,
    /// The write in progress.
    pub lock: Option<Lock>,
    /// Reads waiting for the lock to go: node position → request number.
    pub reads: BTreeMap<u32, u64>,
    /// Writes waiting for the lock to go: node position → request number.
    pub writes: BTreeMap<u32, u64>,
    /// Each node's last report, by position (`None`: none, or expired).
    pub reports: Vec<Option<Report>>,
}

impl Home {
    /// The nodes whose last report says they hold a copy (the soft copy set).
    pub fn copy_set(&self) -> BTreeSet<NodeId> {
        let holds = |r: &Option<Report>| r.is_some_and(|r| r.access != Access::Nil);
        (0..self.reports.len()).filter(|&j| holds(&self.reports[j])).map(|j| NodeId(j as u32)).collect()
    }

    /// The node whose last report says it holds the page writable, if one does.
    pub fn owner(&self) -> Option<NodeId> {
        let writes = |r: &Option<Report>| r.is_some_and(|r| r.access == Access::Write);
        (0..self.reports.len()).find(|&j| writes(&self.reports[j])).map(|j| NodeId(j as u32))
    }
}

/// The request this node's client waits on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Pending {
    /// The page.
    pub page: u32,
    /// A write lock (`WREQ`) or a copy (`RREQ`).
    pub write: bool,
    /// Its sequence number.
    pub seq: u64,
    /// This node's period when it was sent.
    pub since: u64,
}

/// The messages. Every one names its page first.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `TOKEN(p, x)`: a node's K-state counter, to its successor, every period.
    #[message(kind = "TOKEN")]
    Token {
        /// The page.
        page: u32,
        /// The counter.
        x: u32,
    },
    /// `STATUS(p, access, v, val, token)`: a node's copy, to the home, every period.
    #[message(kind = "STATUS")]
    Status {
        /// The page.
        page: u32,
        /// The access right.
        access: Access,
        /// The copy.
        stamp: Stamp,
        /// Whether the node is privileged.
        token: bool,
    },
    /// `RREQ(p, seq)`: a read copy, please (to the home).
    #[message(kind = "RREQ")]
    ReadReq {
        /// The page.
        page: u32,
        /// The request's number.
        seq: u64,
    },
    /// `DATA(p, seq, v, val)`: the home's copy, answering `RREQ(seq)`.
    #[message(kind = "DATA")]
    Data {
        /// The page.
        page: u32,
        /// The request answered.
        seq: u64,
        /// The copy.
        stamp: Stamp,
    },
    /// `WREQ(p, seq)`: the privileged node asks the home for the lock.
    #[message(kind = "WREQ")]
    WriteReq {
        /// The page.
        page: u32,
        /// The request's number.
        seq: u64,
    },
    /// `INV(p, seq)`: drop your copy (a write's, `Some(seq)`, or a repair, `None`).
    #[message(kind = "INV")]
    Inv {
        /// The page.
        page: u32,
        /// The write's request number, or `None` for a repair.
        seq: Option<u64>,
    },
    /// `IACK(p, seq)`: dropped.
    #[message(kind = "IACK")]
    InvAck {
        /// The page.
        page: u32,
        /// As in the `INV`.
        seq: Option<u64>,
    },
    /// `GRANT(p, seq, v, val)`: every copy is gone; write, starting from this copy.
    #[message(kind = "GRANT")]
    Grant {
        /// The page.
        page: u32,
        /// The request granted.
        seq: u64,
        /// The home's copy.
        stamp: Stamp,
    },
    /// `RELEASE(p, seq, v, val)`: the writer is done; here is the page.
    #[message(kind = "RELEASE")]
    Release {
        /// The page.
        page: u32,
        /// The request it was granted under.
        seq: u64,
        /// The writer's copy.
        stamp: Stamp,
    },
}

/// What can be done to a node from outside: the chapter's operations (the field `key` is
/// the page) and a transient fault.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Read page `key`.
    Read {
        /// The page.
        key: u32,
    },
    /// Write `value` into page `key`.
    Write {
        /// The page.
        key: u32,
        /// The value.
        value: i64,
    },
    /// If page `key` holds `from`, make it `to`.
    Cas {
        /// The page.
        key: u32,
        /// The value expected.
        from: i64,
        /// Its replacement.
        to: i64,
    },
    /// A transient fault: the node's memory becomes arbitrary values drawn from SEED.
    Corrupt {
        /// Picks the values (the same seed, the same values).
        seed: u64,
    },
}

impl Input {
    /// The client operation, unless this is a fault.
    pub fn operation(&self) -> Option<Operation> {
        match *self {
            Input::Read { key } => Some(Operation::Read { key }),
            Input::Write { key, value } => Some(Operation::Write { key, value }),
            Input::Cas { key, from, to } => Some(Operation::Cas { key, from, to }),
            Input::Corrupt { .. } => None,
        }
    }
}

fn is_write(op: &Operation) -> bool {
    !matches!(op, Operation::Read { .. })
}

/// One node: its pages (counters and copies), the directories of the pages homed here,
/// its client and its pending request.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This node's position.
    pub me: NodeId,
    /// The number of nodes.
    pub n: u32,
    /// The K-state ring's K.
    pub k: u32,
    /// Time units between two periods.
    pub period: u32,
    /// Periods before a request or a lock is given up.
    pub timeout: u32,
    /// Periods still to run.
    pub periods_left: u32,
    /// Periods run so far (this node's clock, in periods).
    pub tick: u64,
    /// Each page's counter, view and copy, by page.
    pub pages: Vec<PageState>,
    /// The directories of the pages homed here (p mod n = me), by page.
    pub homes: BTreeMap<u32, Home>,
    /// This node's client.
    pub client: Client,
    /// The request the client waits on.
    pub pending: Option<Pending>,
    /// The last request number used.
    pub seq: u64,
    /// Messages to itself, handled before the current event ends (empty between events).
    pub local: VecDeque<(NodeId, Msg)>,
}

impl MemoryNode for Node {
    fn client(&self) -> &Client {
        &self.client
    }

    fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    fn start(&mut self, op: Operation, ctx: &mut Context<'_, Msg>) -> Option<Reply> {
        let p = op.key();
        let s = self.pages[p as usize];
        match op {
            Operation::Read { .. } if s.access >= Access::Read => Some(Reply::Value(s.stamp.value)),
            Operation::Read { .. } => {
                self.ask_read(p, ctx);
                None
            }
            _ if s.access == Access::Write => Some(self.perform(op)),
            // A write waits for the token: the next period at which this node is
            // privileged asks the home for the lock.
            _ => None,
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_start(&mut self, ctx: &mut Context<'_, Msg>) {
        if self.periods_left > 0 {
            ctx.set_timer(TICK, f64::from(self.period));
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        self.handle(from, msg, ctx);
        self.drain(ctx);
    }

    fn on_timer(&mut self, _timer: reparti_core::Timer, ctx: &mut Context<'_, Msg>) {
        self.period_tick(ctx);
        self.drain(ctx);
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        match (input.operation(), &input) {
            (_, Input::Corrupt { seed }) => self.corrupt(*seed, ctx),
            (Some(op), _) if self.valid(op.key()) => self.ask(op, ctx),
            (op, _) => ctx.log(format!("{op:?}: there are only {} pages: ignored", self.pages.len())),
        }
        self.drain(ctx);
    }
}

mod declarations;
mod handlers;

pub use declarations::{directory_matches, legitimate, restore_bound, SsDsm};

#[cfg(test)]
mod tests;
