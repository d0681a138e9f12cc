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

fn mark(holds: Option<bool>) -> &'static str {
    match holds {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "–",
    }
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let net = &r.network;
    let order = if net.sync {
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
        faults.push(format!("{} scheduled fault(s)", r.faults.len()));
    }
    let _ = writeln!(
        o,
        "{} on a {} of {} nodes · ids {} · seed {}",
        r.algorithm,
        r.topology,
        thousands(r.nodes as u64),
        r.ids,
        r.seed
    );
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
        let _ = writeln!(o, "  {kind:<12} {:>12}   {}", thousands(count), claims.join(" · "));
    }
    for e in r.expected.values().filter(|e| e.expectation.counts.starts_with("output:")) {
        let _ = writeln!(
            o,
            "  {:<12} {:>12}   {} {} {}",
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

    let clocks = match r.clocks {
        ClockMode::Lamport => "Lamport only (vector clocks off: pass --vector-clocks on to keep them)",
        ClockMode::LamportAndVector => "Lamport and vector",
    };
    let _ = writeln!(o, "\nclocks kept: {clocks}");
    let _ = writeln!(
        o,
        "speed: {} events in {:.3} s = {}events/s",
        thousands(r.events),
        r.wall_seconds,
        rate(r.events_per_sec)
    );
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
}
