//! A history drawn: one lane per client, each operation a bar from its call to its
//! completion (a pending one runs on to the right edge, dashed), its call and answer
//! written on it.
//!
//! The picture is of one key's part — the failing one when there is one. When the part
//! is linearizable each bar carries its place in the witness order. When it is not, the
//! operations of the longest linearizable prefix are green with their places, the
//! operation that cannot be placed after them is red, the other operations still to
//! place that overlap it are orange, and the rest grey: the reader sees which
//! operations the search could not reconcile, and why (a read too late for the value it
//! returned, two reads seeing writes in opposite orders).
//!
//! Only the order of times matters to linearizability, so the horizontal axis is the
//! rank of each call and completion time, not the time itself: a burst of operations
//! within a microsecond is as readable as one spread over an hour. A long part is cut
//! to a window of [`MAX_DRAWN`] operations around the failure (or from the start), and
//! the heading says so.

use crate::history::Operation;
use crate::search::Outcome;
use crate::KeyResult;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The most operations one picture draws.
pub const MAX_DRAWN: usize = 120;

const LANE: f64 = 34.0;
const STEP: f64 = 44.0;
const LEFT: f64 = 90.0;
const TOP: f64 = 58.0;

/// How an operation is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Placed(usize),
    Blocked,
    Involved,
    Other,
}

impl Role {
    fn colour(self) -> &'static str {
        match self {
            Role::Placed(_) => "#2e7d32",
            Role::Blocked => "#c62828",
            Role::Involved => "#ef6c00",
            Role::Other => "#9e9e9e",
        }
    }
}

/// The SVG picture of one key's result, checked for `condition` ("linearizable" or
/// "sequentially consistent").
pub fn svg(part: &KeyResult, condition: &str) -> String {
    let ops = &part.operations;
    let (roles, heading) = roles_and_heading(part, condition);
    let window = window(ops, &part.outcome);
    let drawn: Vec<&Operation> = ops.iter().filter(|o| window.contains(&o.id)).collect();

    // Ranks of the times drawn, so that only their order sets the x positions.
    let times: BTreeSet<OrderedTime> =
        drawn.iter().flat_map(|o| std::iter::once(o.called).chain(o.returned)).map(OrderedTime).collect();
    let rank: BTreeMap<OrderedTime, usize> = times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let x_of = |t: f64| LEFT + STEP * rank.get(&OrderedTime(t)).copied().unwrap_or(0) as f64;
    let right = LEFT + STEP * (times.len().max(1) as f64) + 40.0;

    let clients: BTreeSet<u64> = drawn.iter().map(|o| o.client).collect();
    let lane: BTreeMap<u64, usize> = clients.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let height = TOP + LANE * clients.len() as f64 + 50.0;
    let title = match &part.key {
        Some(k) => format!("key {k}: {heading}"),
        None => heading,
    };
    // Wide enough for the heading and the legend (about 7 pixels a character).
    let width = (right + 20.0).max(20.0 + 8.0 * title.chars().count() as f64).max(820.0);

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(s, "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>", escape(&title));
    let shown =
        if drawn.len() < ops.len() { format!("operations {} of {}; ", drawn.len(), ops.len()) } else { String::new() };
    let _ = writeln!(
        s,
        "<text x=\"10\" y=\"38\" fill=\"#555\">{shown}time runs right, by the order of calls and completions; \
         dashed: pending (may take effect any time after its call, or never)</text>"
    );
    for (client, i) in &lane {
        let y = TOP + LANE * *i as f64 + LANE / 2.0;
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{right}\" y2=\"{y}\" stroke=\"#eee\"/>\
             <text x=\"10\" y=\"{:.1}\">client {client}</text>",
            y + 4.0
        );
    }
    for o in &drawn {
        let role = roles.get(&o.id).copied().unwrap_or(Role::Other);
        let y = TOP + LANE * lane[&o.client] as f64 + 6.0;
        let x1 = x_of(o.called);
        let x2 = o.returned.map_or(right, x_of).max(x1 + 6.0);
        let dash = if o.returned.is_none() { " stroke-dasharray=\"4 3\"" } else { "" };
        let colour = role.colour();
        let _ = writeln!(
            s,
            "<g class=\"op\" data-id=\"{}\"><title>{}</title><rect x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{:.1}\" \
             height=\"{:.1}\" rx=\"3\" fill=\"{colour}\" fill-opacity=\"0.18\" stroke=\"{colour}\"{dash}/>",
            o.id,
            escape(&o.to_string()),
            x2 - x1,
            LANE - 12.0
        );
        let place = match role {
            Role::Placed(k) => format!("{}. ", k + 1),
            Role::Blocked => "✗ ".to_string(),
            _ => String::new(),
        };
        let answer = o.answer.as_ref().map_or("?".to_string(), |a| a.to_string());
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text></g>",
            x1 + 4.0,
            y + LANE / 2.0 - 2.0,
            escape(&format!("{place}{} → {answer}", o.call))
        );
    }
    let legend_y = height - 18.0;
    let mut x = 10.0;
    for (label, role) in [
        ("placed (its place in the order)", Role::Placed(0)),
        ("cannot be placed", Role::Blocked),
        ("still to place, overlapping it", Role::Involved),
        ("other", Role::Other),
    ] {
        let c = role.colour();
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"12\" height=\"10\" fill=\"{c}\" fill-opacity=\"0.18\" stroke=\"{c}\"/>\
             <text x=\"{:.1}\" y=\"{legend_y}\">{label}</text>",
            legend_y - 9.0,
            x + 16.0
        );
        x += 30.0 + 6.0 * label.len() as f64;
    }
    s.push_str("</svg>\n");
    s
}

/// Each operation's role and the picture's heading.
fn roles_and_heading(part: &KeyResult, condition: &str) -> (BTreeMap<usize, Role>, String) {
    let mut roles = BTreeMap::new();
    let n = part.operations.len();
    let heading = match &part.outcome {
        Outcome::Linearizable { order } => {
            roles.extend(order.iter().enumerate().map(|(k, id)| (*id, Role::Placed(k))));
            format!("{condition}: {n} operations, numbered in a witness order")
        }
        Outcome::NotLinearizable { prefix, blocked, involved } => {
            roles.extend(involved.iter().map(|id| (*id, Role::Involved)));
            roles.extend(prefix.iter().enumerate().map(|(k, id)| (*id, Role::Placed(k))));
            roles.insert(*blocked, Role::Blocked);
            format!(
                "NOT {condition}: {} of {n} operations can be ordered, then #{} cannot be placed",
                prefix.len(),
                blocked
            )
        }
        Outcome::Unknown { reason } => format!("unknown: {reason}"),
    };
    (roles, heading)
}

/// The ids drawn: all when few, else a window of calls around the failure.
fn window(ops: &[Operation], outcome: &Outcome) -> BTreeSet<usize> {
    if ops.len() <= MAX_DRAWN {
        return ops.iter().map(|o| o.id).collect();
    }
    let centre = match outcome {
        Outcome::NotLinearizable { blocked, .. } => ops.iter().position(|o| o.id == *blocked).unwrap_or(0),
        _ => 0,
    };
    let start = centre.saturating_sub(MAX_DRAWN * 3 / 4).min(ops.len() - MAX_DRAWN);
    ops[start..start + MAX_DRAWN].iter().map(|o| o.id).collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A time with a total order (`total_cmp`), to rank times in a map.
#[derive(Clone, Copy, PartialEq)]
struct OrderedTime(f64);

impl Eq for OrderedTime {}

impl PartialOrd for OrderedTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Answer, Call};

    fn write(id: usize, t: f64) -> Operation {
        Operation {
            id,
            client: (id % 3) as u64,
            key: None,
            call: Call::Write(id as i64),
            answer: Some(Answer::Ok),
            called: t,
            returned: Some(t + 0.5),
            line: id + 1,
        }
    }

    #[test]
    fn a_long_part_is_cut_to_a_window_around_the_operation_that_cannot_be_placed() {
        let operations: Vec<Operation> = (0..300).map(|i| write(i, i as f64)).collect();
        let outcome = Outcome::NotLinearizable { prefix: (0..250).collect(), blocked: 250, involved: vec![250] };
        let part = KeyResult { key: Some("x".into()), operations, outcome };
        let picture = svg(&part, "linearizable");
        assert_eq!(picture.matches("class=\"op\"").count(), MAX_DRAWN);
        assert!(picture.contains("operations 120 of 300"), "{picture}");
        assert!(picture.contains("data-id=\"250\""), "the blocked operation is drawn");
        assert!(picture.contains("✗ write 250"), "and marked");
        assert!(!picture.contains("data-id=\"100\""), "far from the failure: left out");
    }

    #[test]
    fn a_pending_operation_is_dashed_to_the_right_edge() {
        let mut pending = write(1, 1.0);
        pending.returned = None;
        pending.answer = None;
        let part = KeyResult {
            key: None,
            operations: vec![write(0, 0.0), pending],
            outcome: Outcome::Linearizable { order: vec![0, 1] },
        };
        let picture = svg(&part, "linearizable");
        assert_eq!(picture.matches("stroke-dasharray").count(), 1, "{picture}");
        assert!(picture.contains("2. write 1 → ?"), "{picture}");
    }
}
