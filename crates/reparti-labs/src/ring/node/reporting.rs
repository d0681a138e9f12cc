//! What a node says about itself: its report (at `state`, and when it stops), and
//! what is wrong for the ring if it stops now — the report's `problems`, each saying
//! what to check. Any makes the command line exit 1.

use super::RingNode;
use crate::ring::report::{RingReport, State};
use std::net::SocketAddr;

impl RingNode {
    /// The report, as of now; its `problems` are what would be wrong if the node
    /// stopped now. `send_errors` is the driver's to fill in.
    pub fn report(&self) -> RingReport {
        RingReport {
            port: self.setup.me,
            addr: self.setup.addr.to_string(),
            predecessor: self.predecessor.map(|(port, _)| port),
            jeton: self.setup.jeton,
            laps: self.setup.laps,
            hold_ms: self.setup.hold.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            state: State {
                has_token: self.has_token,
                successor: self.successor.map(|(port, _)| port),
                predecessor_answered: !self.awaiting_predecessor,
                laps_done: self.laps_done,
                lamport: self.lamport,
                queued: self.queued.iter().cloned().collect(),
                waiting_for_successor: self.outbox.len() + usize::from(self.release_pending),
                ring: self.members.iter().map(SocketAddr::port).collect(),
                token_passes: self.token_pass,
            },
            sent: self.sent.clone(),
            received: self.received.clone(),
            originated: self.originated,
            relayed: self.relayed,
            delivered: self.delivered.clone(),
            undeliverable: self.undeliverable.clone(),
            dropped: self.dropped.clone(),
            send_errors: 0,
            problems: self.problems(),
        }
    }

    /// What is wrong for the ring if we stop now; each line says what to check.
    pub(super) fn problems(&self) -> Vec<String> {
        let s = &self.setup;
        let Some(given) = s.predecessor else { return self.registry_problems() };
        let (me, pred) = (s.me, given.port());
        let mut out = Vec::new();
        if self.awaiting_predecessor {
            out.push(format!(
                "our predecessor {pred} never answered SUCCESSOR: is a lab node running at {given} (with the same key file)?"
            ));
        }
        if s.jeton && !self.has_token {
            let to = self.passed_to.map_or(String::from("its successor"), |p| p.to_string());
            out.push(format!(
                "the token left this node (the jeton node) for {to} and never came back: the ring lost it (a node stopped, or a datagram was lost)"
            ));
        } else if !s.jeton && self.has_token {
            out.push(if self.successor.is_none() {
                format!("this node stops with the token and no successor ever announced itself: the ring loses it (does a node name {me} as its predecessor?)")
            } else {
                "this node stops with the token: the ring loses it (type `release` before `quit`)".to_string()
            });
        }
        match s.laps {
            Some(laps) if s.jeton && self.has_token && self.laps_done < laps => out.push(format!(
                "the token made {} of its {laps} laps: it never left, no successor announced itself (does a node name {me} as its predecessor?)",
                self.laps_done
            )),
            Some(_) if !s.jeton && self.received.token == 0 => out.push(
                "this node never received the token (automatic mode): is the jeton node running, and does every node name its real predecessor?".to_string(),
            ),
            _ => {}
        }
        out.extend(self.unsent());
        out
    }

    /// The registry ring's: the token leaves with a node that leaves, unless it was the
    /// last; a predecessor that never acknowledged our `LEAVE` may still send to us.
    fn registry_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        // The last node: the ring ends with it, and so does its token. Not a fault.
        let last = !self.members.iter().any(|m| *m != self.setup.addr);
        if self.has_token && !last {
            out.push(
                "this node stops with the token: the ring loses it (stop with `quit` or Ctrl-C, which pass it on)"
                    .to_string(),
            );
        }
        if let Some(leaving) = self.leaving.as_ref().filter(|l| !l.awaiting.is_empty()) {
            let silent: Vec<String> = leaving.awaiting.iter().map(|a| a.port().to_string()).collect();
            out.push(format!(
                "{} never acknowledged our LEAVE: a token sent to this node after it stopped is lost",
                silent.join(", ")
            ));
        }
        out.extend(self.unsent());
        out
    }

    /// Texts that never left, in both rings.
    fn unsent(&self) -> Vec<String> {
        let me = self.setup.me;
        let mut out = Vec::new();
        if !self.queued.is_empty() {
            let list: Vec<String> = self.queued.iter().map(|q| format!("to {}: {:?}", q.dest, q.text)).collect();
            out.push(format!(
                "{} message(s) queued for the token were never sent, the token never came ({})",
                self.queued.len(),
                list.join(", ")
            ));
        }
        if !self.outbox.is_empty() {
            out.push(format!(
                "{} message(s) for our successor were never sent: no node announced itself (does a node name {me} as its predecessor?)",
                self.outbox.len()
            ));
        }
        out
    }
}
