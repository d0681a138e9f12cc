//! Why a cluster did not end: which node held it up, and what to do about it.
//!
//! A run ends when every node is quiet and every message sent was delivered. When the
//! timeout comes first, blaming "every node still running" sends the user looking in the
//! wrong place. The supervisor knows more: each node's last status, whether it was told
//! to stop, and — from the kernel — whether its process is stopped (SIGSTOP, a debugger),
//! which is the one state in which a node can neither report nor exit.

use std::time::Duration;

/// What the supervisor knows of one node when the run times out.
#[derive(Clone, Copy, Default)]
pub struct NodeView {
    /// The process has exited.
    pub exited: bool,
    /// The process is stopped by a signal or a debugger (kernel state `T`/`t`).
    pub stopped: bool,
    /// Its last status: `None` if it never reported one.
    pub quiet: Option<bool>,
}

/// The counts of the last statuses, summed over the nodes.
#[derive(Clone, Copy, Default)]
pub struct Totals {
    pub sent: u64,
    pub delivered: u64,
}

/// Whether process `pid` is stopped (SIGSTOP, SIGTSTP, or held by a tracer). Reads
/// `/proc`; where there is no `/proc`, says no (the timeout message is then the general one).
pub fn is_stopped(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The command name (field 2) may hold spaces and parentheses: the state follows the last `)`.
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    state.starts_with('T') || state.starts_with('t')
}

fn list(nodes: &[usize]) -> String {
    let names: Vec<String> = nodes.iter().map(usize::to_string).collect();
    let noun = if nodes.len() == 1 { "node" } else { "nodes" };
    format!("{noun} {}", names.join(", "))
}

/// The one-line reason the nodes `late` did not report ready in time, `stopped` among them.
pub fn not_ready(late: &[usize], stopped: &[usize]) -> String {
    if stopped.is_empty() {
        format!("{} did not bind their port in time: is the machine overloaded? try a longer --timeout", list(late))
    } else {
        format!(
            "{} stopped (SIGSTOP or a debugger) before reporting ready, so the run could not start; \
             the others were stopped too. Resume a paused node with `kill -CONT PID` before --timeout",
            list(stopped)
        )
    }
}

/// The one-line reason a run that reached its timeout did not end, naming the node(s)
/// responsible, with advice that fits what held it up.
pub fn diagnose(views: &[NodeView], totals: Totals, told_to_stop: bool, timeout: Duration) -> String {
    let secs = timeout.as_secs_f64();
    let pick = |f: &dyn Fn(&NodeView) -> bool| -> Vec<usize> { (0..views.len()).filter(|i| f(&views[*i])).collect() };
    let stopped = pick(&|v| !v.exited && v.stopped);
    if !stopped.is_empty() {
        return format!(
            "timed out after {secs} s: {} stopped (SIGSTOP or a debugger) and stopped reporting, so the run could not end; \
             the others were stopped too. Resume a paused node with `kill -CONT PID` before --timeout, or raise --timeout",
            list(&stopped)
        );
    }
    let silent = pick(&|v| !v.exited && v.quiet.is_none());
    if !silent.is_empty() {
        return format!(
            "timed out after {secs} s: {} never reported a status after starting; they were stopped. \
             Their stderr is in the --keep folder; is the machine overloaded? try a longer --timeout",
            list(&silent)
        );
    }
    if told_to_stop {
        let lingering = pick(&|v| !v.exited);
        return format!(
            "timed out after {secs} s: the run was over, but {} did not exit when told to stop; they were killed",
            list(&lingering)
        );
    }
    let busy = pick(&|v| !v.exited && v.quiet == Some(false));
    if !busy.is_empty() {
        return format!(
            "timed out after {secs} s: {} still busy (a timer pending, a message unacknowledged or input to come); \
             they were stopped. A perpetual algorithm needs a bounded workload (e.g. --param laps=3), or raise --timeout",
            list(&busy)
        );
    }
    format!(
        "timed out after {secs} s: every node was idle, but {} messages were sent and {} delivered, and the \
         nodes kept changing; they were stopped. Raise --timeout, or lower --idle-ms to end on silence",
        totals.sent, totals.delivered
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(quiet: Option<bool>) -> NodeView {
        NodeView { quiet, ..NodeView::default() }
    }

    #[test]
    fn a_stopped_node_is_named_alone() {
        let mut views = vec![view(Some(false)); 5];
        views[2].stopped = true;
        let why = diagnose(&views, Totals::default(), false, Duration::from_secs(3));
        assert!(why.contains("node 2 stopped (SIGSTOP"), "{why}");
        assert!(!why.contains("node 0") && !why.contains("perpetual"), "{why}");
    }

    #[test]
    fn busy_nodes_are_named_and_the_quiet_ones_are_not() {
        let views = vec![view(Some(true)), view(Some(false)), view(Some(true)), view(Some(false))];
        let why = diagnose(&views, Totals::default(), false, Duration::from_secs(1));
        assert!(why.contains("nodes 1, 3 still busy") && why.contains("laps=3"), "{why}");
    }

    #[test]
    fn lingering_after_stop_and_silent_nodes_have_their_own_words() {
        let mut views = vec![view(Some(true)); 3];
        views[0].exited = true;
        let why = diagnose(&views, Totals::default(), true, Duration::from_secs(1));
        assert!(why.contains("nodes 1, 2 did not exit when told to stop"), "{why}");
        let views = vec![view(Some(true)), view(None)];
        let why = diagnose(&views, Totals::default(), false, Duration::from_secs(1));
        assert!(why.contains("node 1 never reported"), "{why}");
    }

    #[test]
    fn this_process_is_not_stopped() {
        assert!(!is_stopped(std::process::id()));
    }
}
