//! # The bank: money moves between accounts, and the total must be conserved
//!
//! **What.** Every node is a bank branch holding `balance` units of money. Now and then
//! a branch transfers an amount to a neighbouring branch: it debits its own account and
//! sends `TRANSFER(amount)`; the receiver credits the amount on arrival. A branch that
//! has less than the amount refuses the transfer and sends nothing. No money is ever
//! created or destroyed, so at every moment the balances *plus the money in transit*
//! add up to the initial total — the quantity a snapshot algorithm must record
//! consistently, and the chapter's application for Chandy–Lamport and Lai–Yang.
//!
//! **Source.** K. M. Chandy and L. Lamport, "Distributed snapshots: determining global
//! states of distributed systems", *ACM Transactions on Computer Systems* 3(1), 1985,
//! pp. 63–75: a recorded global state must count every message once, in a process's
//! state or in a channel's. The bank is the textbook illustration of that requirement,
//! e.g. A. D. Kshemkalyani and M. Singhal, *Distributed Computing: Principles,
//! Algorithms, and Systems*, Cambridge University Press 2008, ch. 4 (two branches that
//! transfer money: a state without the money in transit loses it).
//!
//! ```text
//! initially:            balance = B
//! on Transfer(to, a):   if balance ≥ a: balance -= a; send TRANSFER(a) to to
//!                       else: refuse (nothing sent)
//! on TRANSFER(a):       balance += a
//! ```
//!
//! **How it runs here.** Each node makes `transfers` transfers (workload inputs, the
//! k-th at a time drawn uniformly in [k, k+1)), each to a neighbour and of an amount
//! drawn uniformly in 1..=`max_amount`; the console's `transfer NODE AMOUNT` adds one.
//! Every change of a balance outputs `balance` with the new value, a transfer made
//! outputs `transfer`, one refused for a short balance `refused`, one that cannot be
//! made (not to a neighbour, or not a positive amount) `rejected`, all with the amount;
//! a transfer beyond the node's plan of `transfers` outputs `beyond_plan`. Any
//! topology, n ≥ 2: complete (the default), rings, line, star, tree, grid, torus,
//! hypercube, random, an edge list. Destinations are the node's out-neighbours, so on a
//! directed ring money only moves forward (a node with none, a sink of a one-way edge
//! list, has each of its transfers rejected). [`money_held`], [`money_carried`] and
//! [`money_at_start`] say where the money is, for the invariant here and for a
//! snapshot layer that checks what it recorded.
//!
//! **Pitfalls.**
//! * Money in transit is money: a state that adds up the balances only is short by the
//!   TRANSFER messages on their way. Conservation is Σ balances + Σ in transit.
//! * Check and debit together, in the same step. The broken variant (`fault =
//!   debit-late`) does what an `await` between the send and the write does: it checks
//!   the balance and sends, but posts the debit later (a `post` timer, one time unit).
//!   Until then the money is counted twice — in the account and in the channel — and a
//!   second transfer checked in between reads the unposted balance and can overdraw.
//!   The checker's shortest run breaks conservation in 1 step (the first transfer).
//! * Crashes break conservation: a TRANSFER sent to a crashed branch is lost with its
//!   money (and a crashed branch's balance is frozen). The invariant says so; it is the
//!   application's property, not something a snapshot can repair.
//! * Refusing is local: the sender never learns whether the receiver is short; an
//!   amount once sent is never refused by the receiver.
//!
//! **Properties.** After every event: "money conserved" (Σ balances + Σ TRANSFER amounts
//! in transit = n·balance, a global invariant over the messages in flight) and "no
//! negative balance" (local). At quiescence: "every planned transfer was made or
//! refused" and "every transfer made was credited exactly once".
//!
//! **Costs.** One TRANSFER per transfer made, nothing else: TRANSFER = made (exact, from
//! the `transfer` outputs) ≤ n·transfers + beyond plan; when `balance ≥ transfers ·
//! max_amount` no planned transfer can be refused, and TRANSFER = n·transfers − rejected
//! exactly (nothing is rejected on the topologies named above, where every node has a
//! neighbour).
//!
//! **State count.** `reparti check bank -n 3 -p transfers=1`: 27 states = 3³, each
//! branch's transfer not yet asked, in transit or credited (they commute); with
//! `transfers=2`, 343 = 7³; with `transfers=2 balance=3 max_amount=3`, where some
//! transfers are refused, 329 on unordered channels and 282 on FIFO ones. With
//! `fault=debit-late`, money is no longer conserved after 1 step.

use rand::Rng as _;
use reparti_core::{
    Algorithm, AlgorithmSpec, ArgKind, Chapter, Command, CommandArg, Context, Expectation, Invariant, Message, NodeId,
    NodeSetup, ParamError, ParamSpec, Params, Process, Properties, RunFacts, ScheduledInput, Terminal, Timer,
    WorkloadSetup, World,
};
use serde::{Deserialize, Serialize};

/// The conservation invariant.
pub const MONEY_CONSERVED: &str = "money conserved: Σ balances + Σ TRANSFER in transit = n·balance";
/// The local invariant.
pub const NO_NEGATIVE: &str = "no negative balance";
/// The terminal property on the plan.
pub const ALL_SETTLED: &str = "every planned transfer was made or refused";
/// The terminal property on the deliveries.
pub const ALL_CREDITED: &str = "every transfer made was credited exactly once";
/// Output after every change of a balance; its value is the new balance.
pub const BALANCE: &str = "balance";
/// Output for each transfer made; its value is the amount.
pub const TRANSFER: &str = "transfer";
/// Output for each transfer refused; its value is the amount asked.
pub const REFUSED: &str = "refused";
/// Output for a transfer that cannot be asked (not to a neighbour, or not a positive
/// amount); its value is the amount asked.
pub const REJECTED: &str = "rejected";
/// Output for a transfer asked beyond the plan; its value is the node's K-th ask.
pub const BEYOND_PLAN: &str = "beyond_plan";
/// The broken variant's timer that posts the pending debits.
pub const POST_TIMER: Timer = "post";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("balance", "100", 0, 1_000_000_000, "money each branch holds at the start"),
    ParamSpec::int("transfers", "5", 0, 100_000, "transfers each branch makes (workload), to random neighbours"),
    ParamSpec::int("max_amount", "20", 1, 1_000_000_000, "largest amount of one transfer (drawn in 1..=max_amount)"),
    ParamSpec::choice(
        "fault",
        "none",
        &["none", "debit-late"],
        "debit-late = the classic mistake: check and send now, post the debit later (one time unit)",
    ),
];

const COMMANDS: &[Command] = &[Command {
    word: "transfer",
    variant: "Transfer",
    args: &[CommandArg { field: "to", kind: ArgKind::Node }, CommandArg { field: "amount", kind: ArgKind::Int }],
    help: "transfer AMOUNT to a neighbouring branch (refused if the balance is short)",
}];

/// The one message: money on its way.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Message)]
pub enum Msg {
    /// `amount` units of money, credited on arrival.
    Transfer {
        /// How much.
        amount: u64,
    },
}

/// Requests from outside: the workload's and the console's `transfer NODE AMOUNT`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Transfer `amount` to the neighbour `to`, if the balance allows.
    Transfer {
        /// The receiving branch (a neighbour).
        to: NodeId,
        /// How much (a console may type anything: non-positive amounts are rejected).
        amount: i64,
    },
}

/// Which mistake, if any, a branch makes (param `fault`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Fault {
    /// Check, debit and send in one step.
    None,
    /// Check and send now, post the debit when the `post` timer fires.
    DebitLate,
}

/// One branch.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Node {
    /// This branch's position.
    pub me: NodeId,
    /// Its money (signed, so that the broken variant's overdraft shows).
    pub balance: i64,
    /// Its money at the start (param `balance`): its share of the constant total.
    pub initial: i64,
    /// Transfers it plans to make (param `transfers`).
    pub planned: u32,
    /// Transfers made (TRANSFER sent).
    pub made: u32,
    /// Transfers refused (a short balance) or rejected (no such neighbour, bad amount).
    pub refused: u32,
    /// TRANSFER messages credited here.
    pub credited: u32,
    /// The mistake it makes (param `fault`).
    pub fault: Fault,
    /// Debits sent but not yet posted (broken variant only; always 0 otherwise).
    pub pending: u64,
}

impl Node {
    /// A transfer asked for: made, or refused (or rejected) with a reason.
    fn transfer(&mut self, to: NodeId, amount: i64, ctx: &mut Context<'_, Msg>) {
        let asked = self.made + self.refused + 1;
        if asked > self.planned {
            ctx.output(BEYOND_PLAN, asked);
        }
        let why = if amount <= 0 {
            Some((REJECTED, format!("cannot transfer {amount}: amounts are positive")))
        } else if to == self.me || !ctx.neighbours().contains(to) {
            Some((REJECTED, format!("cannot transfer to {to}: not a neighbouring branch")))
        } else if self.balance < amount {
            Some((REFUSED, format!("cannot transfer {amount} to {to}: the balance is only {}", self.balance)))
        } else {
            None
        };
        if let Some((key, why)) = why {
            self.refused += 1;
            ctx.output(key, amount);
            ctx.log(why);
            return;
        }
        self.made += 1;
        ctx.output(TRANSFER, amount);
        ctx.send(to, Msg::Transfer { amount: amount.unsigned_abs() });
        match self.fault {
            Fault::None => {
                self.balance -= amount;
                ctx.output(BALANCE, self.balance);
            }
            Fault::DebitLate => {
                // THE MISTAKE: the money is in the channel and still in the account.
                self.pending = self.pending.saturating_add(amount.unsigned_abs());
                ctx.set_timer(POST_TIMER, 1.0);
            }
        }
    }
}

impl Process for Node {
    type Msg = Msg;
    type Input = Input;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let Msg::Transfer { amount } = msg;
        match i64::try_from(amount).ok().and_then(|a| self.balance.checked_add(a)) {
            Some(balance) if amount > 0 => {
                self.balance = balance;
                self.credited += 1;
                ctx.output(BALANCE, balance);
            }
            _ => ctx.log(format!("TRANSFER of {amount} from {from} does not fit an account, ignored")),
        }
    }

    fn on_input(&mut self, input: Input, ctx: &mut Context<'_, Msg>) {
        let Input::Transfer { to, amount } = input;
        self.transfer(to, amount, ctx);
    }

    fn on_timer(&mut self, timer: Timer, ctx: &mut Context<'_, Msg>) {
        if timer == POST_TIMER && self.pending > 0 {
            let debit = i64::try_from(self.pending).unwrap_or(i64::MAX);
            self.balance = self.balance.saturating_sub(debit);
            self.pending = 0;
            ctx.output(BALANCE, self.balance);
        }
    }
}

/// The money a branch holds: what a snapshot records of its local state.
pub fn money_held(s: &Node) -> i64 {
    s.balance
}

/// The money a message carries: what a snapshot records of a channel.
pub fn money_carried(m: &Msg) -> i64 {
    let Msg::Transfer { amount } = m;
    i64::try_from(*amount).unwrap_or(i64::MAX)
}

/// The money a branch held at the start; the total is their sum.
pub fn money_at_start(s: &Node) -> i64 {
    s.initial
}

/// The bank. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Bank {
    balance: i64,
    transfers: u32,
    max_amount: i64,
    fault: Fault,
}

fn conserved(w: &World<'_, Node>) -> Result<(), String> {
    let held: i128 = w.nodes.iter().map(|s| i128::from(money_held(s))).sum();
    let mut moving: i128 = 0;
    (w.in_flight)(&mut |_, _, m| moving += i128::from(money_carried(m)));
    let total: i128 = w.nodes.iter().map(|s| i128::from(money_at_start(s))).sum();
    match held + moving == total {
        true => Ok(()),
        false => Err(format!("balances {held} + in transit {moving} = {} ≠ {total}", held + moving)),
    }
}

fn not_negative(s: &Node) -> Result<(), String> {
    match s.balance < 0 {
        true => Err(format!("branch {} is overdrawn: balance {}", s.me, s.balance)),
        false => Ok(()),
    }
}

fn all_settled(w: &World<'_, Node>) -> Result<(), String> {
    match w.nodes.iter().find(|s| s.made + s.refused < s.planned) {
        Some(s) => Err(format!("branch {} settled {} of its {} transfers", s.me, s.made + s.refused, s.planned)),
        None => Ok(()),
    }
}

fn all_credited(w: &World<'_, Node>) -> Result<(), String> {
    let made: u64 = w.nodes.iter().map(|s| u64::from(s.made)).sum();
    let credited: u64 = w.nodes.iter().map(|s| u64::from(s.credited)).sum();
    match made == credited {
        true => Ok(()),
        false => Err(format!("{made} transfers made, {credited} credited")),
    }
}

impl Algorithm for Bank {
    type Node = Node;

    fn spec() -> AlgorithmSpec {
        AlgorithmSpec {
            params: PARAMS,
            topologies: &[
                "complete",
                "ring",
                "bidir-ring",
                "line",
                "star",
                "tree",
                "grid",
                "torus",
                "hypercube",
                "random",
                "file",
            ],
            commands: COMMANDS,
            ..AlgorithmSpec::new(
                "bank",
                Chapter::Observation,
                "branches transfer money to neighbours; balances + money in transit stay n·balance (for snapshots)",
            )
        }
    }

    fn from_params(params: &Params) -> Result<Self, ParamError> {
        let fault = match params.get::<String>("fault")?.as_str() {
            "debit-late" => Fault::DebitLate,
            _ => Fault::None,
        };
        Ok(Bank {
            balance: params.get("balance")?,
            transfers: params.get("transfers")?,
            max_amount: params.get("max_amount")?,
            fault,
        })
    }

    fn check_size(&self, n: usize) -> Result<(), String> {
        match n < 2 {
            true => Err(format!("bank moves money between branches: give --nodes 2 or more (not {n})")),
            false => Ok(()),
        }
    }

    fn init(&self, setup: &NodeSetup) -> Node {
        Node {
            me: setup.me,
            balance: self.balance,
            initial: self.balance,
            planned: self.transfers,
            made: 0,
            refused: 0,
            credited: 0,
            fault: self.fault,
            pending: 0,
        }
    }

    /// Node i's k-th transfer at a time uniform in [k, k+1), to a neighbour drawn
    /// uniformly, of an amount uniform in 1..=max_amount.
    fn workload(&self, setup: &WorkloadSetup<'_>, rng: &mut reparti_core::Rng) -> Vec<ScheduledInput<Input>> {
        let mut inputs = Vec::with_capacity(setup.n * self.transfers as usize);
        for i in 0..setup.n {
            let me = NodeId(i as u32);
            let neighbours = setup.topology.neighbours(me);
            for k in 0..self.transfers {
                let at = f64::from(k) + rng.gen::<f64>();
                // A branch with no outgoing channel (a sink of a one-way edge list) asks
                // anyway, to itself, and is rejected: its plan is still settled.
                let to = neighbours.get(rng.gen_range(0..neighbours.len().max(1))).unwrap_or(me);
                let amount = rng.gen_range(1..=self.max_amount);
                inputs.push(ScheduledInput { at, node: me, input: Input::Transfer { to, amount } });
            }
        }
        inputs
    }

    fn properties(&self) -> Properties<Node> {
        Properties {
            invariants: vec![
                Invariant::<Node>::global(MONEY_CONSERVED, conserved),
                Invariant::<Node>::local(NO_NEGATIVE, not_negative),
            ],
            terminal: vec![
                Terminal::<Node>::new(ALL_SETTLED, all_settled),
                Terminal::<Node>::new(ALL_CREDITED, all_credited),
            ],
        }
    }

    fn expected(&self, facts: &RunFacts<'_>) -> Vec<Expectation> {
        let made = facts.output_count(TRANSFER) as f64;
        let beyond = facts.output_count(BEYOND_PLAN) as f64;
        let rejected = facts.output_count(REJECTED) as f64;
        let plan = facts.n as f64 * f64::from(self.transfers);
        let mut expected = vec![
            Expectation::exact("TRANSFER", "transfers made (one message each)", made),
            Expectation::at_most("TRANSFER", "n·transfers + beyond plan", plan + beyond),
            Expectation::exact("total", "TRANSFER (no control message)", made),
        ];
        let never_short = self.balance >= i64::from(self.transfers).saturating_mul(self.max_amount);
        if never_short && beyond == 0.0 && self.fault == Fault::None {
            let formula = "n·transfers − rejected (balance ≥ transfers·max_amount: none refused)";
            expected.push(Expectation::exact("TRANSFER", formula, plan - rejected));
        }
        expected
    }
}

#[cfg(test)]
#[path = "bank_tests.rs"]
mod tests;
