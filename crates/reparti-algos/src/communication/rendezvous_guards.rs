//! # Guards, select statements and what a rendezvous leaves behind (shared by `rendezvous` and `rendezvous-symmetric`)
//!
//! **What.** A CSP process runs a sequence of *select* statements; each is a set of
//! guards, `!q(v)` (send v to q) or `?p` (receive from p), and completes with exactly
//! one of them, by a rendezvous with the partner that guard names. This module holds
//! what both rendezvous algorithms share: the guards and their text form (what the
//! console's `select` reads), a process's [`Script`] (its selects, how far it is, and
//! how each completed), and the properties that judge a run from the processes' states.
//!
//! **Source.** C. A. R. Hoare, *Communicating Sequential Processes*, CACM 21(8), 1978: `!`/`?`,
//! guarded alternatives and the rendezvous, specified here as usual: the send and the
//! matching receive overlap in time; each request is matched exactly once; the value is
//! delivered intact.
//!
//! **How the properties see time.** An engine sees states, not wall clocks, so the
//! overlap `start(send) < end(recv) ∧ start(recv) < end(send)` is judged at the moment
//! each side ends: whenever a process has completed its select k with partner y's select
//! ks, y is still blocked in ks, offering the matching guard, or has completed ks too.
//! As this is checked after every event, it holds at the instant either side ends, which
//! is the two inequalities. Each side records the partner's select number (carried on
//! the messages, as any real implementation carries a request number), so the pairing is
//! checked too: two completed selects point at each other, with the same value and
//! opposite directions — each request matched exactly once, its value intact.
//!
//! **Pitfalls.** A select with two guards for one partner (`!2(5) ?2`) makes "which one
//! happened" ambiguous for both algorithms: the text form refuses it. A guard naming its
//! own process or a position outside `0..n` is refused when the input arrives (logged,
//! the statement dropped), since n is known only there.

use reparti_core::{Invariant, NodeId, Process, Terminal, World};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One guard of a select statement.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Guard {
    /// `!q(v)`: send `value` to `to`.
    Send {
        /// The receiver.
        to: NodeId,
        /// What is sent.
        value: i64,
    },
    /// `?p`: receive from `from`.
    Recv {
        /// The sender.
        from: NodeId,
    },
}

impl Guard {
    /// The process this guard names.
    pub fn partner(&self) -> NodeId {
        match *self {
            Guard::Send { to, .. } => to,
            Guard::Recv { from } => from,
        }
    }

    /// The value this guard sends, if it is an output guard.
    pub fn sends(&self) -> Option<i64> {
        match *self {
            Guard::Send { value, .. } => Some(value),
            Guard::Recv { .. } => None,
        }
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Guard::Send { to, value } => write!(f, "!{to}({value})"),
            Guard::Recv { from } => write!(f, "?{from}"),
        }
    }
}

/// The guards of one select statement, sorted by partner, at most one per partner.
/// Written and read as text, `!2(42) ?1` (positions, `#2` accepted too).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Guards(Vec<Guard>);

impl Guards {
    /// Guards from a list; `Err` when it is empty or names a partner twice.
    pub fn new(mut guards: Vec<Guard>) -> Result<Self, String> {
        if guards.is_empty() {
            return Err("a select needs at least one guard: write e.g. `!2(42) ?1`".into());
        }
        guards.sort_by_key(|g| g.partner());
        if let Some(w) = guards.windows(2).find(|w| w[0].partner() == w[1].partner()) {
            return Err(format!(
                "two guards name process {}: a select offers at most one guard per partner",
                w[0].partner()
            ));
        }
        Ok(Guards(guards))
    }

    /// The guards, by partner.
    pub fn iter(&self) -> impl Iterator<Item = &Guard> {
        self.0.iter()
    }

    /// The guard naming `partner`, if any.
    pub fn toward(&self, partner: NodeId) -> Option<Guard> {
        self.0.iter().copied().find(|g| g.partner() == partner)
    }

    /// How many guards.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true (a select has at least one guard); for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every guard names a process of `0..n` other than `me`; `Err` says which does not.
    pub fn fit(&self, me: NodeId, n: usize) -> Result<(), String> {
        match self.0.iter().find(|g| g.partner() == me || g.partner().index() >= n) {
            Some(g) if g.partner() == me => Err(format!("guard {g} names this process itself")),
            Some(g) => Err(format!("guard {g} names no process: the positions are 0 to {}", n.saturating_sub(1))),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Guards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self.0.iter().map(Guard::to_string).collect();
        f.write_str(&words.join(" "))
    }
}

impl From<Guards> for String {
    fn from(g: Guards) -> String {
        g.to_string()
    }
}

impl TryFrom<String> for Guards {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl FromStr for Guards {
    type Err = String;

    /// `!2(42) ?1`, words separated by spaces or commas.
    fn from_str(text: &str) -> Result<Self, String> {
        let node = |w: &str, word: &str| -> Result<NodeId, String> {
            let w = w.trim().trim_start_matches('#');
            w.parse::<u32>()
                .map(NodeId)
                .map_err(|_| format!("`{word}`: `{w}` is not a position (write e.g. !2(42) or ?1)"))
        };
        let mut guards = Vec::new();
        for word in text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()) {
            let guard = if let Some(rest) = word.strip_prefix('!') {
                let (to, value) = rest
                    .strip_suffix(')')
                    .and_then(|r| r.split_once('('))
                    .ok_or_else(|| format!("`{word}`: an output guard is !Q(VALUE), e.g. !2(42)"))?;
                let value =
                    value.trim().parse::<i64>().map_err(|_| format!("`{word}`: `{value}` is not a whole number"))?;
                Guard::Send { to: node(to, word)?, value }
            } else if let Some(rest) = word.strip_prefix('?') {
                Guard::Recv { from: node(rest, word)? }
            } else {
                return Err(format!(
                    "`{word}` is not a guard: write !Q(VALUE) to send or ?P to receive, e.g. `!2(42) ?1`"
                ));
            };
            guards.push(guard);
        }
        Guards::new(guards)
    }
}

/// How one select statement completed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Done {
    /// The partner of the rendezvous.
    pub partner: NodeId,
    /// The partner's select that matched this one (its number at the partner, from 0).
    pub partner_select: u32,
    /// The value that passed.
    pub value: i64,
    /// This side sent it (else it received it).
    pub sent: bool,
}

/// A process's program: its select statements in order, how far it is, how each ended.
/// Selects run one at a time: `done.len()` is `entered` (between two) or `entered − 1`
/// (blocked in select number `entered − 1`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Default)]
pub struct Script {
    /// Every select this process was given, in order.
    pub selects: Vec<Guards>,
    /// How many it has entered.
    pub entered: u32,
    /// `done[k]`: how select k completed.
    pub done: Vec<Done>,
}

/// Output keys: a select entered (its guards), a select completed (what passed).
pub const SELECT: &str = "select";
/// See [`SELECT`].
pub const RDV: &str = "rdv";

impl Script {
    /// The select in progress, with its number.
    pub fn current(&self) -> Option<(u32, &Guards)> {
        let k = self.entered.checked_sub(1)?;
        match self.done.len() < self.entered as usize {
            true => self.selects.get(k as usize).map(|g| (k, g)),
            false => None,
        }
    }

    /// Enters the next select if there is one and none is in progress; returns its number.
    pub fn enter_next(&mut self, ctx: &mut reparti_core::Context<'_, impl reparti_core::Message>) -> Option<u32> {
        if self.current().is_some() {
            return None;
        }
        let guards = self.selects.get(self.entered as usize)?;
        ctx.output(SELECT, guards.to_string());
        self.entered += 1;
        Some(self.entered - 1)
    }

    /// The select in progress completes with `done`.
    pub fn complete(&mut self, done: Done, ctx: &mut reparti_core::Context<'_, impl reparti_core::Message>) {
        let text = match done.sent {
            true => format!("sent {} to {}", done.value, done.partner),
            false => format!("received {} from {}", done.value, done.partner),
        };
        ctx.output(RDV, text);
        self.done.push(done);
    }
}

/// What every rendezvous node exposes to the shared properties.
pub trait HasScript: Process {
    /// The node's program and its progress.
    fn script(&self) -> &Script;
}

/// Property: a completed select took one of its own guards.
pub const OWN_GUARD: &str = "each completed select took one of its own guards";
/// Property: the overlap of the send and the receive, judged when either ends.
pub const OVERLAP: &str =
    "send and receive overlap: a completed select's partner is blocked in the matching one or has completed it";
/// Property: the pairing, and the value.
pub const MATCHED_ONCE: &str = "each rendezvous matched exactly once, the value intact";
/// Terminal property: no process is left blocked (a deadlock breaks it).
pub const ALL_COMPLETED: &str = "every select completed";

fn own_guard<N: HasScript>(node: &N) -> Result<(), String> {
    let s = node.script();
    for (k, d) in s.done.iter().enumerate() {
        let offered = s.selects.get(k).and_then(|g| g.toward(d.partner));
        let ok = match offered {
            Some(Guard::Send { value, .. }) => d.sent && d.value == value,
            Some(Guard::Recv { .. }) => !d.sent,
            None => false,
        };
        if !ok {
            let guards = s.selects.get(k).map(Guards::to_string).unwrap_or_default();
            return Err(format!("select #{k} ({guards}) completed as {d:?}, which none of its guards offers"));
        }
    }
    Ok(())
}

/// Every completed select of every node, as (node, select number, how).
fn completed<N: HasScript>(w: &World<'_, N>) -> Vec<(usize, usize, Done)> {
    let each =
        |(x, s): (usize, &N)| s.script().done.iter().enumerate().map(move |(k, d)| (x, k, *d)).collect::<Vec<_>>();
    w.nodes.iter().enumerate().flat_map(each).collect()
}

fn overlap<N: HasScript>(w: &World<'_, N>) -> Result<(), String> {
    for (x, k, d) in completed(w) {
        let Some(y) = w.nodes.get(d.partner.index()).map(HasScript::script) else {
            return Err(format!("node {x}'s select #{k} names node {}, which does not exist", d.partner));
        };
        let ks = d.partner_select as usize;
        if ks < y.done.len() {
            continue; // both ended: whether they agree is the next property's business
        }
        let me = NodeId(x as u32);
        let wanted = if d.sent { Guard::Recv { from: me } } else { Guard::Send { to: me, value: d.value } };
        let blocked_in_it = y.current().is_some_and(|(j, g)| j as usize == ks && g.toward(me) == Some(wanted));
        if !blocked_in_it {
            let at = match y.current() {
                Some((j, g)) => format!("it is blocked in select #{j} ({g})"),
                None => format!("it has completed {} selects and is in none", y.done.len()),
            };
            return Err(format!(
                "node {x} completed select #{k} ({}) with node {}'s select #{ks}, which is not offering {wanted}: {at}",
                what(&d),
                d.partner
            ));
        }
    }
    Ok(())
}

fn matched_once<N: HasScript>(w: &World<'_, N>) -> Result<(), String> {
    for (x, k, d) in completed(w) {
        let Some(theirs) = w.nodes.get(d.partner.index()).and_then(|y| y.script().done.get(d.partner_select as usize))
        else {
            continue; // the partner is still blocked in it: the overlap property judges that
        };
        let mirror = Done { partner: NodeId(x as u32), partner_select: k as u32, value: d.value, sent: !d.sent };
        if *theirs != mirror {
            return Err(format!(
                "node {x}'s select #{k} ({}) and node {}'s select #{} ({}) do not match each other",
                describe(&d),
                d.partner,
                d.partner_select,
                describe(theirs)
            ));
        }
    }
    Ok(())
}

/// "sent 10 to 2".
fn what(d: &Done) -> String {
    let (verb, way) = if d.sent { ("sent", "to") } else { ("received", "from") };
    format!("{verb} {} {way} {}", d.value, d.partner)
}

/// "sent 10 to 2 (2's select #0)".
fn describe(d: &Done) -> String {
    format!("{} ({}'s select #{})", what(d), d.partner, d.partner_select)
}

fn all_completed<N: HasScript>(w: &World<'_, N>) -> Result<(), String> {
    let stuck: Vec<String> = w
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, s)| s.script().done.len() < s.script().selects.len())
        .map(|(x, s)| {
            let s = s.script();
            let k = s.done.len();
            let guards = s.selects.get(k).map(Guards::to_string).unwrap_or_default();
            format!("node {x} is blocked in select #{k} ({guards})")
        })
        .collect();
    match stuck.is_empty() {
        true => Ok(()),
        false => Err(stuck.join("; ")),
    }
}

/// The properties both rendezvous algorithms declare.
pub fn invariants<N: HasScript>() -> Vec<Invariant<N>> {
    vec![
        Invariant::local(OWN_GUARD, own_guard::<N>),
        Invariant::global(OVERLAP, overlap::<N>),
        Invariant::global(MATCHED_ONCE, matched_once::<N>),
    ]
}

/// The terminal property both declare.
pub fn terminal<N: HasScript>() -> Vec<Terminal<N>> {
    vec![Terminal::new(ALL_COMPLETED, all_completed::<N>)]
}

/// A request from outside: one statement, run after those before it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// `send #Q V`: a select with the one guard `!Q(V)`.
    Send {
        /// The receiver.
        to: NodeId,
        /// What is sent.
        value: i64,
    },
    /// `recv #P`: a select with the one guard `?P`.
    Recv {
        /// The sender.
        from: NodeId,
    },
    /// `select !2(42) ?1`: a select with several guards.
    Select {
        /// The guards.
        guards: Guards,
    },
}

impl Input {
    /// The statement as a select.
    pub fn into_guards(self) -> Guards {
        match self {
            Input::Send { to, value } => Guards(vec![Guard::Send { to, value }]),
            Input::Recv { from } => Guards(vec![Guard::Recv { from }]),
            Input::Select { guards } => guards,
        }
    }

    /// The statement for a select: `Send`/`Recv` for one guard, `Select` otherwise.
    pub fn of(guards: Guards) -> Input {
        match guards.0.as_slice() {
            [Guard::Send { to, value }] => Input::Send { to: *to, value: *value },
            [Guard::Recv { from }] => Input::Recv { from: *from },
            _ => Input::Select { guards },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_read_and_print_back() {
        let g: Guards = "?3, !#1(42)  ?2".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.to_string(), "!1(42) ?2 ?3");
        assert_eq!(g.toward(NodeId(1)), Some(Guard::Send { to: NodeId(1), value: 42 }));
        // Serde goes through the same text, so consoles and scenario files write it so.
        assert_eq!(Guards::try_from(String::from(g.clone())), Ok(g));
    }

    #[test]
    fn bad_guards_say_what_to_write() {
        for (text, why) in [
            ("", "at least one guard"),
            ("!2 ?1", "!Q(VALUE)"),
            ("!2(x)", "not a whole number"),
            ("?a", "not a position"),
            ("send", "not a guard"),
            ("!2(1) ?2", "at most one guard per partner"),
        ] {
            let e = text.parse::<Guards>().err().unwrap_or_default();
            assert!(e.contains(why), "{text:?}: {e}");
        }
        let g: Guards = "?0 ?5".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(g.fit(NodeId(0), 6).is_err_and(|e| e.contains("itself")));
        assert!(g.fit(NodeId(1), 4).is_err_and(|e| e.contains("0 to 3")));
        assert!(g.fit(NodeId(1), 6).is_ok());
    }
}
