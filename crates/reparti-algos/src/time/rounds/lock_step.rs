//! # The lock-step runner: rounds on a network that is synchronous
//!
//! **What.** Runs a [`RoundProcess`] on a network whose every message takes exactly one
//! time unit (the simulator's `--sync`, which forces a constant delay of 1 and FIFO
//! channels): every node sends round r's messages at the same instant and closes the
//! round with a timer set late enough for all of them to be in. No message is added:
//! the synchronous model's own cost, and the baseline of the synchronizers.
//!
//! **Source.** N. Lynch, *Distributed Algorithms*, 1996, ch. 2 (the synchronous network
//! model); B. Awerbuch, JACM 32(4), 1985 (the synchronous network a synchronizer
//! simulates).
//!
//! ```text
//! on start:                 r ← 1; send msgs(r); set timer "half" after ½
//! on timer "half":          set timer "round" after ½          (fires at the round's end)
//! on ⟨r', m⟩ from j:        if r' ≠ r: violation (late: the network is not synchronous)
//!                           else inbox[j] += m
//! on timer "round":         trans(r, inbox sorted by sender); inbox ← ∅
//!                           unless halted: r ← r+1; send msgs(r); set timer "half" after ½
//! ```
//!
//! **How it runs here.** Named `STEM-rounds` in the catalogue (`bfs-rounds`). Round r
//! is the time interval [r−1, r]: its messages are sent at r−1 and delivered at r, and
//! the round closes at r, where the next one's messages go out, so the simulator's
//! round count is the algorithm's. *Why the closing timer is set in two halves.* The
//! simulator's event queue orders events by time, then by the order they were pushed
//! (`reparti-sim`'s `queue.rs`). Round r's deliveries and its closing timers all fall
//! due at the same instant r. Were a node to set its closing timer when it sends, at
//! r−1, a neighbour whose handler runs after it at that same instant would push its
//! messages after the timer, and they would be delivered after the round closed. So the
//! node sets, at r−1, a timer for r−½, and only then the closing timer for r: pushed at
//! r−½, it comes after every message pushed at r−1, that is after every message of
//! round r, whatever order the handlers of an instant ran in. Nothing is sent at
//! r−½, and halves of whole numbers are exact in floating point, so the tie at r is
//! always broken the right way. Every node starts at 0, so all round instants agree. A
//! message that arrives for another round than the one open is a violation of
//! [`IN_THEIR_ROUND`] whose explanation tells the user to add
//! `--sync` or run the α version: on a network with other delays the runner is wrong,
//! and says so instead of mixing rounds. The model checker ignores time (a timer may
//! fire at any point), so it finds that violation at once: check the α version
//! instead. On real processes the nodes do not start at the same instant and a time
//! unit is a millisecond: rounds drift apart and the same violation is reported
//! (`reparti run bfs-rounds` shows it); run `STEM-alpha` there.
//!
//! **Pitfalls.**
//! * The closing timer set at the round's start: deliveries and the timer tie at the
//!   round's end, and push order puts some messages after the round they belong to
//!   (see above).
//! * Starting each node's rounds at its own start would desynchronize them as soon as
//!   starts are staggered: here every start happens at time 0.
//!
//! **Properties.** The algorithm's own, plus after every event
//! [`IN_THEIR_ROUND`]: every message is delivered while its
//! round is open at the receiver (and went to a neighbour).
//!
//! **Costs.** Exactly the algorithm's messages; r rounds take r time units (and two
//! timer events per node and round).

use super::{
    file, lift_round, neighbour_set, runner_spec, sorted, InRound, Inbox, RoundAlgorithm, RoundHost, RoundProcess,
    IN_THEIR_ROUND,
};
use reparti_core::layer::per_type;
use reparti_core::{
    Algorithm, AlgorithmSpec, Context, Expectation, Invariant, Message, NodeId, NodeSetup, ParamError, Params, Process,
    Properties, RunFacts, Timer,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The timer that closes a round, at its end.
pub const ROUND_TIMER: Timer = "round";
/// The timer, half a round in, that sets [`ROUND_TIMER`]: pushed after every message
/// of the round, so that it fires after them at the round's end.
pub const HALF_TIMER: Timer = "half";

impl<M: Message> Message for InRound<M> {
    fn kinds() -> &'static [&'static str] {
        M::kinds()
    }
    fn kind(&self) -> usize {
        self.msg.kind()
    }
}

/// A node of the lock-step runner.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct LockStepNode<P: RoundProcess> {
    /// The round algorithm's node.
    pub app: P,
    /// This node's position.
    pub me: NodeId,
    /// The round open (0 before start; the last one run once halted).
    pub round: u32,
    /// Whether the algorithm has halted.
    pub halted: bool,
    /// The neighbours, laid at start.
    pub neighbours: BTreeSet<NodeId>,
    /// The open round's messages so far.
    pub inbox: Inbox<P::Msg>,
    /// The first message that came for a round not open here, or went to a non-neighbour.
    pub fault: Option<String>,
}

type Ctx<'a, P> = Context<'a, InRound<<P as RoundProcess>::Msg>>;

impl<P: RoundProcess> LockStepNode<P> {
    fn begin(&mut self, ctx: &mut Ctx<'_, P>) {
        let round = self.round;
        let LockStepNode { app, neighbours, fault, .. } = self;
        lift_round(ctx, neighbours, fault, round, |c| app.send(round, c), |_, rank, msg| InRound { round, rank, msg });
        ctx.set_timer(HALF_TIMER, 0.5);
    }

    fn close(&mut self, ctx: &mut Ctx<'_, P>) {
        let round = self.round;
        let inbox = sorted(std::mem::take(&mut self.inbox));
        let LockStepNode { app, neighbours, fault, .. } = self;
        // Nothing is sent while receiving: the round's messages went out at its start.
        let sent = lift_round(
            ctx,
            neighbours,
            fault,
            round,
            |c| app.receive(round, &inbox, c),
            |_, rank, msg| InRound { round, rank, msg },
        );
        if sent > 0 {
            self.fault.get_or_insert_with(|| format!("round {round}: messages sent while receiving"));
        }
        if self.app.halted() {
            self.halted = true;
        } else {
            self.round += 1;
            self.begin(ctx);
        }
    }
}

impl<P: RoundProcess> Process for LockStepNode<P> {
    type Msg = InRound<P::Msg>;
    type Input = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, P>) {
        self.neighbours = neighbour_set(ctx);
        if self.app.halted() {
            self.halted = true;
            return;
        }
        self.round = 1;
        self.begin(ctx);
    }

    fn on_message(&mut self, from: NodeId, m: Self::Msg, ctx: &mut Ctx<'_, P>) {
        let InRound { round, rank, msg } = m;
        if self.halted && round > self.round {
            ctx.log(format!("{} of round {round} from {from}: halted, ignored", msg.kind_name()));
            return;
        }
        if round != self.round || self.halted {
            let when = if round < self.round || self.halted { "after it closed" } else { "before it began" };
            let here = if self.halted { "halted after round" } else { "round open:" };
            self.fault.get_or_insert_with(|| {
                format!(
                    "node {}: a message of round {round} from {from} arrived {when} ({here} {})",
                    self.me, self.round
                )
            });
            return;
        }
        file(&mut self.inbox, from, rank, msg);
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_, P>) {
        match timer {
            _ if self.halted => {}
            HALF_TIMER => ctx.set_timer(ROUND_TIMER, 0.5),
            ROUND_TIMER => self.close(ctx),
            _ => {}
        }
    }
}

impl<P: RoundProcess> RoundHost for LockStepNode<P> {
    type App = P;
    fn app(&self) -> &P {
        &self.app
    }
    fn neighbours(&self) -> &BTreeSet<NodeId> {
        &self.neighbours
    }
    fn round(&self) -> u32 {
        self.round
    }
}

/// The round algorithm `A` run in lock step (see the [module documentation](self)).
pub struct LockStep<A> {
    app: A,
}

impl<A: RoundAlgorithm> Algorithm for LockStep<A> {
    type Node = LockStepNode<A::Node>;

    fn spec() -> AlgorithmSpec {
        per_type::<Self, AlgorithmSpec>(|| {
            runner_spec::<Self>(A::spec(), "-rounds", "lock-step rounds, for a synchronous network (--sync)", &[])
        })
        .clone()
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        Ok(LockStep { app: A::from_params(params)? })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        self.app.check_size(n)
    }

    fn init(&self, setup: &NodeSetup) -> Self::Node {
        LockStepNode {
            app: self.app.init(setup),
            me: setup.me,
            round: 0,
            halted: false,
            neighbours: BTreeSet::new(),
            inbox: Inbox::new(),
            fault: None,
        }
    }

    fn properties(&self) -> Properties<Self::Node> {
        let mut props = self.app.properties::<Self::Node>();
        let alpha = format!("{}-alpha", A::spec().name);
        props.invariants.push(Invariant::<Self::Node>::local(IN_THEIR_ROUND, move |s| match &s.fault {
            Some(fault) => Err(format!(
                "{fault}: the network is not synchronous — add --sync (every delay exactly 1), or run {alpha}"
            )),
            None => Ok(()),
        }));
        props
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        self.app.expected(facts)
    }
}
