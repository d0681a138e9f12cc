//! Reading histories: reparti's own (one JSON object a line), Jepsen's textual logs and
//! Jepsen's EDN operation maps.
//!
//! All are streams of *events*: a client invokes an operation, later the same client
//! completes it — `ok` (it happened, with this answer), `fail` (it certainly did not
//! happen: the operation is left out) or `info` (unknown: pending, it may have happened
//! at any moment after its call). A client has at most one operation outstanding, so a
//! completion is matched with its client's last invocation. An invocation with no
//! completion at the end is pending too.
//!
//! reparti's format, documented in `docs/TRACE.md`:
//! `{"client": 3, "type": "invoke", "f": "cas", "key": "x", "value": [1, 4], "t": 12.5}`;
//! Jepsen's EDN maps: `{:process 3, :type :invoke, :f :cas, :key "x", :value [1 4]}`;
//! Jepsen's log lines: `INFO  jepsen.util - 3 :invoke :cas [1 4]`, tab-separated (the line number is
//! the time; lines that are not client operations, such as the nemesis's, are skipped).

use crate::history::{Answer, Call, History, Operation};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a history could not be read: the line and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ReadError {
    /// 1-based.
    pub line: usize,
    /// What is wrong, and what was expected.
    pub problem: String,
}

/// What an event says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One event, format aside.
struct Event {
    line: usize,
    client: u64,
    kind: Kind,
    f: String,
    key: Option<String>,
    value: Value,
    t: f64,
}

/// Reads a history in reparti's JSON Lines format, Jepsen's EDN operation maps or
/// Jepsen's log format, telling them apart by the first non-blank line: `{"` is JSON,
/// `{:`, `[` or `;` is EDN, anything else a log.
pub fn read_history(text: &str) -> Result<History, ReadError> {
    let first = text.lines().map(str::trim_start).find(|l| !l.is_empty()).unwrap_or("");
    if first.starts_with('{') && first[1..].trim_start().starts_with('"') {
        read_json_lines(text)
    } else if first.starts_with(['{', '[', ';']) {
        read_edn(text)
    } else {
        read_jepsen_log(text)
    }
}

/// Reads Jepsen's EDN operation maps (`{:process 1, :type :invoke, :f :cas, :key "3",
/// :value [1 4]}`), one a line or all in one vector. `:time` (nanoseconds) orders them
/// when present, else their order in the file. Operations of jepsen.independent carry
/// their key in the value (`:value [:x [1 4]]`); they are read as `:key :x`. Maps whose
/// `:process` is not a number (the nemesis) are skipped.
pub fn read_edn(text: &str) -> Result<History, ReadError> {
    let forms = crate::edn::forms(text).map_err(|(line, problem)| ReadError { line, problem })?;
    let mut events = Vec::new();
    // Clients whose open operation carries its key in the value.
    let mut tupled: BTreeMap<u64, String> = BTreeMap::new();
    for (index, (line, map)) in forms.into_iter().enumerate() {
        let bad = |problem: String| ReadError { line, problem };
        if !map.is_object() {
            return Err(bad(format!("expected an operation map {{:process …, :type …, :f …}}, got {map}")));
        }
        let Some(client) = map["process"].as_u64() else { continue };
        let kind = match map["type"].as_str() {
            Some("invoke") => Kind::Invoke,
            Some("ok") => Kind::Ok,
            Some("fail") => Kind::Fail,
            Some("info") => Kind::Info,
            _ => return Err(bad(":type must be :invoke, :ok, :fail or :info".into())),
        };
        let f = map["f"].as_str().ok_or_else(|| bad("no :f (read, write, cas, enqueue, dequeue, add)".into()))?;
        let mut key = match &map["key"] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        let mut value = map["value"].clone();
        if kind == Kind::Invoke && key.is_none() && is_independent_tuple(f, &value) {
            tupled.insert(client, text_of(&value[0]));
        }
        if let Some(k) = tupled.get(&client) {
            if let Value::Array(pair) = &value {
                if pair.len() == 2 {
                    value = pair[1].clone();
                }
            }
            key = Some(k.clone());
            if kind != Kind::Invoke {
                tupled.remove(&client);
            }
        }
        let t = map["time"].as_f64().unwrap_or(index as f64);
        events.push(Event { line, client, kind, f: f.to_string(), key, value, t });
    }
    assemble(events)
}

/// jepsen.independent's `[key value]`, told from a plain value by the shape `f` expects.
fn is_independent_tuple(f: &str, value: &Value) -> bool {
    let Some([_, inner]) = value.as_array().map(Vec::as_slice) else { return false };
    match f {
        "read" | "r" | "dequeue" => inner.is_null(),
        "write" | "w" | "enqueue" | "add" => inner.is_i64(),
        "cas" => inner.is_array(),
        _ => false,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads reparti's history format.
pub fn read_json_lines(text: &str) -> Result<History, ReadError> {
    let mut events = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |problem: String| ReadError { line, problem };
        let v: Value = serde_json::from_str(raw).map_err(|e| bad(format!("not JSON ({e})")))?;
        let client = v["client"].as_u64().ok_or_else(|| bad("no \"client\" (a number)".into()))?;
        let kind = match v["type"].as_str() {
            Some("invoke") => Kind::Invoke,
            Some("ok") => Kind::Ok,
            Some("fail") => Kind::Fail,
            Some("info") => Kind::Info,
            _ => return Err(bad("\"type\" must be \"invoke\", \"ok\", \"fail\" or \"info\"".into())),
        };
        let f = v["f"].as_str().ok_or_else(|| bad("no \"f\" (read, write, cas, enqueue, dequeue, add)".into()))?;
        let key = match &v["key"] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        let t = v["t"].as_f64().unwrap_or(line as f64);
        events.push(Event { line, client, kind, f: f.to_string(), key, value: v["value"].clone(), t });
    }
    assemble(events)
}

/// Reads Jepsen's textual log (`INFO  jepsen.util - 3 :invoke :cas [1 4]`, tab-separated).
pub fn read_jepsen_log(text: &str) -> Result<History, ReadError> {
    let mut events = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let Some(rest) = raw.split_once("jepsen.util - ").map(|(_, r)| r) else { continue };
        let fields: Vec<&str> = rest.split('\t').map(str::trim).collect();
        let Ok(client) = fields[0].parse::<u64>() else { continue }; // :nemesis and the like
        let bad = |problem: String| ReadError { line, problem };
        if fields.len() < 3 {
            return Err(bad("expected `PROCESS<TAB>:TYPE<TAB>:F<TAB>VALUE`".into()));
        }
        let kind = match fields[1] {
            ":invoke" => Kind::Invoke,
            ":ok" => Kind::Ok,
            ":fail" => Kind::Fail,
            ":info" => Kind::Info,
            other => return Err(bad(format!("unknown type {other}: expected :invoke, :ok, :fail or :info"))),
        };
        let f = fields[2].trim_start_matches(':').to_string();
        let value = edn_value(fields.get(3).copied().unwrap_or("nil")).map_err(bad)?;
        events.push(Event { line, client, kind, f, key: None, value, t: line as f64 });
    }
    assemble(events)
}

/// The few EDN values a register's log holds: `nil`, integers, vectors of them, sets.
fn edn_value(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if text == "nil" {
        return Ok(Value::Null);
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Value::from(n));
    }
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .or_else(|| text.strip_prefix("#{").and_then(|t| t.strip_suffix('}')));
    match inner {
        Some(items) => items
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<i64>().map(Value::from).map_err(|_| format!("'{s}' is not an integer in {text}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        None => Err(format!("'{text}' is not a value this checker reads (nil, an integer, [a b], #{{…}})")),
    }
}

fn int(v: &Value, what: &str) -> Result<i64, String> {
    v.as_i64().ok_or_else(|| format!("{what} must be an integer, got {v}"))
}

/// The call an invocation makes.
fn call_of(f: &str, value: &Value) -> Result<Call, String> {
    Ok(match f {
        "read" | "r" => Call::Read,
        "write" | "w" => Call::Write(int(value, "a write's value")?),
        "cas" => match value.as_array().map(Vec::as_slice) {
            Some([a, b]) => Call::Cas(int(a, "cas's expected value")?, int(b, "cas's new value")?),
            _ => return Err(format!("a cas's value must be [expected new], got {value}")),
        },
        "enqueue" => Call::Enqueue(int(value, "an enqueue's value")?),
        "dequeue" => Call::Dequeue,
        "add" => Call::Add(int(value, "an add's value")?),
        other => {
            return Err(format!("unknown operation '{other}': expected read, write, cas, enqueue, dequeue or add"))
        }
    })
}

/// The answer a completion `ok` gives to `call`.
fn answer_of(call: &Call, value: &Value) -> Result<Answer, String> {
    Ok(match call {
        Call::Read => match value {
            Value::Array(items) => {
                Answer::Set(items.iter().map(|v| int(v, "a set element")).collect::<Result<_, _>>()?)
            }
            Value::Null => Answer::Value(None),
            v => Answer::Value(Some(int(v, "a read's value")?)),
        },
        Call::Dequeue => match value {
            Value::Null => Answer::Value(None),
            v => Answer::Value(Some(int(v, "a dequeue's value")?)),
        },
        Call::Write(_) | Call::Cas(..) | Call::Enqueue(_) | Call::Add(_) => Answer::Ok,
    })
}

/// Matches completions with invocations, client by client.
fn assemble(events: Vec<Event>) -> Result<History, ReadError> {
    let mut ops: Vec<Option<Operation>> = Vec::new();
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    for e in events {
        let bad = |problem: String| ReadError { line: e.line, problem };
        match e.kind {
            Kind::Invoke => {
                if let Some(&k) = open.get(&e.client) {
                    let since = ops[k].as_ref().map_or(0, |o| o.line);
                    return Err(bad(format!(
                        "client {} invokes again while its operation of line {since} is still open (one at a time)",
                        e.client
                    )));
                }
                let call = call_of(&e.f, &e.value).map_err(bad)?;
                open.insert(e.client, ops.len());
                ops.push(Some(Operation {
                    id: ops.len(),
                    client: e.client,
                    key: e.key,
                    call,
                    answer: None,
                    called: e.t,
                    returned: None,
                    line: e.line,
                }));
            }
            kind => {
                let k = open
                    .remove(&e.client)
                    .ok_or_else(|| bad(format!("client {} completes an operation it never invoked", e.client)))?;
                match kind {
                    // Certainly not done: as if never asked.
                    Kind::Fail => ops[k] = None,
                    // Unknown outcome: stays pending.
                    Kind::Info => {}
                    _ => {
                        let Some(op) = ops[k].as_mut() else { continue };
                        if e.t < op.called {
                            return Err(bad(format!("completes at {} before its invocation at {}", e.t, op.called)));
                        }
                        op.answer = Some(answer_of(&op.call, &e.value).map_err(bad)?);
                        op.returned = Some(e.t);
                    }
                }
            }
        }
    }
    let mut operations: Vec<Operation> = ops.into_iter().flatten().collect();
    for (id, op) in operations.iter_mut().enumerate() {
        op.id = id;
    }
    Ok(History { operations })
}
