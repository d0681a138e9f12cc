//! The sequential specifications a history is checked against.
//!
//! A model is a deterministic state machine: from a state, an operation with its answer
//! is either legal (and gives the next state) or not. A pending operation's answer is
//! unknown, so any answer is accepted and the operation takes its effect. Every model
//! here is one object; a history of many keys is checked key by key (see
//! [`crate::History::by_key`]), which is how the `kv` model is a register per key.

use crate::history::{Answer, Call};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Which object the history's operations are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// A read/write register, initially empty (nil).
    Register,
    /// A register with compare-and-set.
    CasRegister,
    /// A key-value store: a compare-and-set register per key.
    Kv,
    /// A FIFO queue.
    Queue,
    /// A grow-only set with reads of the whole set.
    Set,
}

impl Model {
    /// Every model's name, as `--model` takes it.
    pub const NAMES: &'static [&'static str] = &["register", "cas-register", "kv", "queue", "set"];

    /// The initial state.
    pub fn init(self) -> State {
        match self {
            Model::Register | Model::CasRegister | Model::Kv => State::Register(None),
            Model::Queue => State::Queue(Vec::new()),
            Model::Set => State::Set(BTreeSet::new()),
        }
    }

    /// Whether the model takes this kind of call at all.
    pub fn accepts(self, call: &Call) -> bool {
        matches!(
            (self, call),
            (Model::Register, Call::Read | Call::Write(_))
                | (Model::CasRegister | Model::Kv, Call::Read | Call::Write(_) | Call::Cas(..))
                | (Model::Queue, Call::Enqueue(_) | Call::Dequeue)
                | (Model::Set, Call::Add(_) | Call::Read)
        )
    }

    /// Whether `call` answered `answer` changes no state it is legal in: a read, a
    /// compare-and-set that failed, a dequeue that found the queue empty. (A write of
    /// the value already there leaves *that* state alone, but not every state.)
    pub fn only_observes(self, call: &Call, answer: Option<&Answer>) -> bool {
        matches!(
            (call, answer),
            (Call::Read, _) | (Call::Cas(..), Some(Answer::Fail)) | (Call::Dequeue, Some(Answer::Value(None)))
        )
    }

    /// The state after `call` answered `answer` (`None`: pending, any answer), or `None`
    /// when that answer is impossible in `state`.
    pub fn step(self, state: &State, call: &Call, answer: Option<&Answer>) -> Option<State> {
        match (state, call) {
            (State::Register(v), Call::Read) => match answer {
                None => Some(state.clone()),
                Some(Answer::Value(seen)) => (seen == v).then(|| state.clone()),
                Some(_) => None,
            },
            (State::Register(_), Call::Write(x)) => match answer {
                None | Some(Answer::Ok) => Some(State::Register(Some(*x))),
                Some(_) => None,
            },
            (State::Register(v), Call::Cas(from, to)) => {
                let matches = *v == Some(*from);
                match answer {
                    None if matches => Some(State::Register(Some(*to))),
                    None => Some(state.clone()),
                    Some(Answer::Ok) => matches.then_some(State::Register(Some(*to))),
                    Some(Answer::Fail) => (!matches).then(|| state.clone()),
                    Some(_) => None,
                }
            }
            (State::Queue(q), Call::Enqueue(x)) => match answer {
                None | Some(Answer::Ok) => {
                    let mut q = q.clone();
                    q.push(*x);
                    Some(State::Queue(q))
                }
                Some(_) => None,
            },
            (State::Queue(q), Call::Dequeue) => match answer {
                None => Some(State::Queue(q.get(1..).unwrap_or_default().to_vec())),
                Some(Answer::Value(seen)) => {
                    (q.first() == seen.as_ref()).then(|| State::Queue(q.get(1..).unwrap_or_default().to_vec()))
                }
                Some(_) => None,
            },
            (State::Set(s), Call::Add(x)) => match answer {
                None | Some(Answer::Ok) => {
                    let mut s = s.clone();
                    s.insert(*x);
                    Some(State::Set(s))
                }
                Some(_) => None,
            },
            (State::Set(s), Call::Read) => match answer {
                None => Some(state.clone()),
                Some(Answer::Set(seen)) => (seen == s).then(|| state.clone()),
                Some(_) => None,
            },
            _ => None,
        }
    }
}

impl FromStr for Model {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "register" => Ok(Model::Register),
            "cas-register" => Ok(Model::CasRegister),
            "kv" => Ok(Model::Kv),
            "queue" => Ok(Model::Queue),
            "set" => Ok(Model::Set),
            other => Err(format!("unknown model '{other}': expected one of {}", Model::NAMES.join(", "))),
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Model::Register => "register",
            Model::CasRegister => "cas-register",
            Model::Kv => "kv",
            Model::Queue => "queue",
            Model::Set => "set",
        };
        f.write_str(name)
    }
}

/// A model's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// A register's value (`None`: never written).
    Register(Option<i64>),
    /// A queue, head first.
    Queue(Vec<i64>),
    /// A set.
    Set(BTreeSet<i64>),
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Register(Some(v)) => write!(f, "{v}"),
            State::Register(None) => write!(f, "nil"),
            State::Queue(q) => write!(f, "{q:?}"),
            State::Set(s) => write!(f, "{s:?}"),
        }
    }
}
