//! A node's client: the operations asked of the shared memory at this node, one open at
//! a time, and the history they leave.
//!
//! Operations reach a node as external inputs (the workload, a scenario, the console's
//! `read 1`, `write 1 5`, `cas 1 5 6`). A node hosts one client, which, like every client
//! a linearizability checker knows, has at most one operation open: an operation asked
//! while another is open waits its turn here, and is *called* only when it starts. The
//! call and the answer are outputs ([`reparti_core::history`]), so that every engine's
//! trace carries the history and `--history FILE` can write it.
//!
//! A protocol implements [`MemoryNode::start`] (begin an operation; answer at once if it
//! can) and calls [`MemoryNode::answer`] when a remote answer arrives; the queueing, the
//! calls and the returns are written once here.

use reparti_core::history::{self, Operation, Reply};
use reparti_core::{Context, Process};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The operations of one node's client.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Client {
    /// The operation called and not yet answered.
    pub open: Option<Operation>,
    /// Operations asked while one was open, in the order asked (a queue: the order is
    /// the client's program order).
    pub waiting: VecDeque<Operation>,
    /// Operations answered so far.
    pub answered: u32,
}

impl Client {
    /// Whether nothing is open or waiting.
    pub fn idle(&self) -> bool {
        self.open.is_none() && self.waiting.is_empty()
    }

    /// Returns the open operation's answer and opens the next waiting operation, if
    /// any (its caller calls and starts it).
    fn close<M: Clone>(&mut self, reply: Reply, ctx: &mut Context<'_, M>) -> Option<Operation> {
        self.open = None;
        self.answered += 1;
        history::ret(ctx, reply);
        self.waiting.pop_front()
    }

    /// What is left to do, for a terminal property's message.
    pub fn describe(&self) -> String {
        match &self.open {
            Some(op) => format!("'{op}' still open, {} waiting", self.waiting.len()),
            None => format!("{} operations waiting", self.waiting.len()),
        }
    }
}

/// A node of a shared-memory protocol: it hosts a [`Client`] and starts its operations.
pub trait MemoryNode: Process {
    /// The node's client.
    fn client(&self) -> &Client;

    /// The node's client, to change.
    fn client_mut(&mut self) -> &mut Client;

    /// Begins `op`, which has just been called: `Some` answers it at once (a local
    /// operation), `None` means the answer will come through [`MemoryNode::answer`].
    fn start(&mut self, op: Operation, ctx: &mut Context<'_, Self::Msg>) -> Option<Reply>;

    /// An operation asked from outside: called now if the client is idle, else queued.
    fn ask(&mut self, op: Operation, ctx: &mut Context<'_, Self::Msg>) {
        let client = self.client_mut();
        if client.open.is_some() {
            client.waiting.push_back(op);
        } else {
            self.begin(op, ctx);
        }
    }

    /// The open operation's answer: returned, then the next waiting operation called.
    fn answer(&mut self, reply: Reply, ctx: &mut Context<'_, Self::Msg>) {
        let client = self.client_mut();
        if client.open.is_none() {
            // A duplicated or stray answer: nothing is open to receive it.
            ctx.log(format!("answer '{reply}' with no operation open: ignored"));
            return;
        }
        if let Some(next) = client.close(reply, ctx) {
            self.begin(next, ctx);
        }
    }

    /// Calls `op` and starts it; operations answered at once let the next one start.
    fn begin(&mut self, op: Operation, ctx: &mut Context<'_, Self::Msg>) {
        let mut next = Some(op);
        while let Some(op) = next.take() {
            self.client_mut().open = Some(op);
            history::call(ctx, op);
            if let Some(reply) = self.start(op, ctx) {
                next = self.client_mut().close(reply, ctx);
            }
        }
    }
}
