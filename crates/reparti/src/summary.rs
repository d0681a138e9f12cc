//! The human summary of a run: short, readable, counts beside their formulas.

use reparti_core::ClockMode;
use reparti_sim::{Report, Stop};
use std::fmt::Write;

/// `1234567` → `1,234,567` (the pictures write counts the same way).
pub use reparti_viz::thousands;

/// A rate with a unit prefix: `12.3 M`.
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0} ")
    }
}

/// "ring of 5 nodes", "complete graph of 1 node": the topology as a sentence names it.
pub fn topology_of(topology: &str, n: usize) -> String {
    let shape = match topology {
        "complete" => "complete graph".to_string(),
        "bidir-ring" => "bidirectional ring".to_string(),
        t if t.starts_with("random") => format!("{t} graph"),
        t if t.starts_with("file:") => format!("topology from {}", &t["file:".len()..]),
        t => t.to_string(),
    };
    format!("{shape} of {}", count(n as u64, "node", "nodes"))
}

/// "1 node", "2 nodes", "1,000 nodes".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn mark(holds: Option<bool>) -> &'static str {
    match holds {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "–",
    }
}

pub fn render(r: &Report) -> String {
    render_as(r, None)
}

/// The summary of a run the simulator replayed from a trace: its network is the one the
/// trace recorded (`recorded`, in words), not the replay's own, its speed is the
/// replay's (not shown), and its clocks are the trace's.
pub fn render_replay(r: &Report, recorded: &str) -> String {
    render_as(r, Some(recorded))
}

/// The network a trace's header records, in words: `unordered (model checker)`,
/// `non-FIFO channels, as recorded`.
pub fn recorded_network(header: &reparti_core::trace::TraceHeader) -> String {
    let net = &header.network;
    if let Some(order) = net.get("checker").and_then(|v| v.as_str()) {
        return format!("{order} channels, every schedule the model checker allows (this one from the trace)");
    }
    // A simulated run's header keeps its model under `model`; the others at the top.
    let net = net.get("model").unwrap_or(net);
    if net.get("sync").and_then(|v| v.as_bool()) == Some(true) {
        return "synchronous rounds, as recorded".to_string();
    }
    match net.get("fifo").and_then(|v| v.as_bool()) {
        Some(true) => "FIFO channels, as recorded".to_string(),
        Some(false) => "non-FIFO channels, as recorded".to_string(),
        None => "as the trace recorded it".to_string(),
    }
}

fn render_as(r: &Report, recorded: Option<&str>) -> String {
    let mut o = String::new();
    let net = &r.network;
    let order = if let Some(recorded) = recorded {
        recorded.to_string()
    } else if net.sync {
        "synchronous rounds".to_string()
    } else {
        format!("{}, delay {}", if net.fifo { "FIFO" } else { "non-FIFO" }, net.delay)
    };
    let mut faults = Vec::new();
    if net.loss > 0.0 {
        faults.push(format!("loss {}", net.loss));
    }
    if net.dup > 0.0 {
        faults.push(format!("dup {}", net.dup));
    }
    if !r.faults.is_empty() {
        faults.push(format!("{} scheduled", count(r.faults.len() as u64, "fault", "faults")));
    }
    let _ = writeln!(o, "{} on a {} · ids {} · seed {}", r.algorithm, topology_of(&r.topology, r.nodes), r.ids, r.seed);
    let _ = write!(o, "network: {order}");
    if !faults.is_empty() {
        let _ = write!(o, " · {}", faults.join(", "));
    }
    let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !params.is_empty() {
        let _ = write!(o, " · {}", params.join(" "));
    }
    let stop = match r.stop {
        Stop::Quiescence => "quiescence",
        Stop::Time => "the time limit",
        Stop::Events => "the event limit",
        Stop::Violation => "a violated invariant",
        Stop::Interrupted => "an interrupt (Ctrl-C)",
    };
    let rounds = r.rounds.map(|x| format!(", {x} rounds")).unwrap_or_default();
    let _ = writeln!(
        o,
        "\nstopped at {stop} after {} events (time {:.2}{rounds}, longest causal chain {})",
        thousands(r.events),
        r.time,
        thousands(r.longest_causal_chain)
    );

    if !r.outputs.is_empty() {
        let _ = writeln!(o, "\noutputs");
        for (key, values) in &r.outputs {
            let shown: Vec<String> = values.iter().take(6).map(|(v, c)| format!("{v} ×{}", thousands(*c))).collect();
            let more = if values.len() > 6 { format!(" … ({} values)", values.len()) } else { String::new() };
            let _ = writeln!(o, "  {key:<12} {}{more}", shown.join(", "));
        }
    }

    let _ = writeln!(o, "\nproperties");
    let width = r.properties.iter().map(|p| p.name.chars().count()).max().unwrap_or(0);
    for p in &r.properties {
        let pad = width - p.name.chars().count();
        let _ = writeln!(o, "  {} {}{}  ({})", mark(p.holds), p.name, " ".repeat(pad), p.checked);
        if let Some(d) = &p.detail {
            let at = p.first_violation.map(|e| format!(" at event {e}")).unwrap_or_default();
            let _ = writeln!(o, "      violated{at}: {d}");
        }
    }

    let m = &r.messages;
    let _ = writeln!(
        o,
        "\nmessages: {} sent ({:.1} per node, at most {} by one node), {} delivered, {} dropped, {} duplicated",
        thousands(m.total),
        m.per_node.mean,
        thousands(m.per_node.max),
        thousands(m.delivered),
        thousands(m.dropped),
        thousands(m.duplicated)
    );
    let mut rows: Vec<(String, u64)> = m.by_type.iter().map(|(k, v)| (k.clone(), *v)).collect();
    rows.push(("total".into(), m.total));
    for (kind, count) in rows {
        let claims: Vec<String> = r
            .expected
            .values()
            .filter(|e| e.expectation.counts == kind)
            .map(|e| format!("{} {} {} {}", mark(e.holds), e.expectation.formula, e.expectation.value_text(), ""))
            .map(|s| s.trim_end().to_string())
            .collect();
        if count == 0 && claims.is_empty() {
            continue;
        }
        // A control layer's messages (a snapshot's markers) are told from the basic ones.
        let role = if m.control_types.contains(&kind) { "(control) " } else { "" };
        let _ = writeln!(o, "  {kind:<12} {:>12}   {role}{}", thousands(count), claims.join(" · "));
    }
    // Outputs, sums of kinds (a layer's count of its application's messages), messages
    // sent between two moments (`after:`, with the time between them).
    for e in r
        .expected
        .values()
        .filter(|e| e.expectation.counts != "total" && !m.by_type.contains_key(&e.expectation.counts))
    {
        let within = e.elapsed.map(|t| format!(" (in {t:.2} time units)")).unwrap_or_default();
        let _ = writeln!(
            o,
            "  {:<12} {:>12}   {} {} {}{within}",
            e.expectation.counts.trim_start_matches("output:"),
            thousands(e.measured),
            mark(e.holds),
            e.expectation.formula,
            e.expectation.value_text()
        );
    }
    if r.expected
        .values()
        .any(|e| e.holds.is_none() && !matches!(e.expectation.kind, reparti_core::ExpectationKind::Reference { .. }))
    {
        let why = if r.stop != Stop::Quiescence { "the run did not reach quiescence" } else { "faults were injected" };
        let _ = writeln!(o, "  (expected counts not asserted: {why})");
    }

    let clocks = match (r.clocks, recorded) {
        (ClockMode::Lamport, None) => "Lamport only (vector clocks off: pass --vector-clocks on to keep them)",
        (ClockMode::Lamport, Some(_)) => {
            "Lamport only (the trace has no vector clocks: record it again with --vector-clocks on)"
        }
        (ClockMode::LamportAndVector, _) => "Lamport and vector",
    };
    let _ = writeln!(o, "\nclocks kept: {clocks}");
    if let Some(p) = &r.physical_clocks {
        let _ = writeln!(
            o,
            "physical clocks at the end: within {:.3} of each other (precision), at most {:.3} from real time (accuracy)",
            p.spread, p.worst_offset
        );
    }
    if recorded.is_some() {
        // The replay's speed says nothing of the run it replays.
    } else if r.wall_seconds < 0.001 {
        // A rate over a few microseconds measures the clock, not the simulator.
        let _ = writeln!(o, "speed: {} in under a millisecond", count(r.events, "event", "events"));
    } else {
        let _ = writeln!(
            o,
            "speed: {} in {:.3} s = {}events/s",
            count(r.events, "event", "events"),
            r.wall_seconds,
            rate(r.events_per_sec)
        );
    }
    let verdict = if r.all_good() { "all properties hold" } else { "SOMETHING FAILED (see ✗ above)" };
    let _ = writeln!(o, "verdict: {verdict}");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn topologies_and_counts_read_as_english() {
        assert_eq!(topology_of("complete", 5), "complete graph of 5 nodes");
        assert_eq!(topology_of("ring", 1), "ring of 1 node");
        assert_eq!(topology_of("random:3", 1000), "random:3 graph of 1,000 nodes");
        assert_eq!(count(1, "event", "events"), "1 event");
        assert_eq!(count(0, "event", "events"), "0 events");
    }
}
