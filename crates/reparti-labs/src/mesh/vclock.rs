//! Vector clocks for a mesh whose members come and go (TP6, exercise 2).
//!
//! The textbook vector clock has one entry per process, by position. A mesh has no
//! positions and no fixed membership: members are named by address and join at any time.
//! So a [`VectorClock`] is a map from member address to count, where a member not listed
//! counts 0. Only non-zero entries are kept, so two clocks that mean the same vector are
//! equal (`{}` is the all-zero vector a member starts with), and the map is a `BTreeMap`
//! so that its entries, printed or sent, always come in one order: by address (IP, then
//! port as a number), never in a hash map's arbitrary order.
//!
//! On the wire and on screen it is a JSON object keyed by `"IP:PORT"`:
//! `{"127.0.0.1:5001":2,"127.0.0.1:5002":1}`.
//!
//! The rules, with `me` the member's own address:
//! * start: `{}`;
//! * a local event and a send: `V[me] += 1` ([`VectorClock::tick`]); a send then stamps
//!   the message with `V`;
//! * a receive of a message stamped `W`: `V = max(V, W)` entry by entry
//!   ([`VectorClock::merge`]), then `V[me] += 1`.
//!
//! `e → f` (happened before) exactly when `V(e) < V(f)`: every entry `≤`, one `<`
//! ([`VectorClock`]'s `PartialOrd`); neither way round, the events are concurrent.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

/// A vector clock keyed by member address; absent entries are 0.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct VectorClock(BTreeMap<SocketAddr, u64>);

impl VectorClock {
    /// The all-zero clock, `{}`.
    pub fn new() -> Self {
        VectorClock::default()
    }

    /// The entry of `member` (0 if absent).
    pub fn get(&self, member: SocketAddr) -> u64 {
        self.0.get(&member).copied().unwrap_or(0)
    }

    /// The non-zero entries, in address order.
    pub fn entries(&self) -> impl Iterator<Item = (SocketAddr, u64)> + '_ {
        self.0.iter().map(|(addr, count)| (*addr, *count))
    }

    /// Whether every entry is 0.
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// A local event or a send of `me`: `V[me] += 1`.
    pub fn tick(&mut self, me: SocketAddr) {
        let entry = self.0.entry(me).or_insert(0);
        *entry = entry.saturating_add(1);
    }

    /// The first half of a receive: `V = max(V, other)`, entry by entry.
    pub fn merge(&mut self, other: &VectorClock) {
        for (addr, count) in other.entries() {
            let entry = self.0.entry(addr).or_insert(0);
            *entry = (*entry).max(count);
        }
    }

    /// Reads the JSON object of the wire format; the message says which entry is wrong.
    pub fn from_json(value: &Value) -> Result<VectorClock, String> {
        let Value::Object(map) = value else {
            return Err(format!("{value} is not an object keyed by \"IP:PORT\" such as {{\"127.0.0.1:5001\":2}}"));
        };
        let mut clock = VectorClock::new();
        for (key, count) in map {
            let addr: SocketAddr =
                key.parse().map_err(|_| format!("key {key:?} is not an IP:PORT address such as \"127.0.0.1:5001\""))?;
            let count = count.as_u64().ok_or_else(|| format!("entry {key:?} is {count}, not a count (0 or more)"))?;
            if count > 0 {
                clock.0.insert(addr, count);
            }
        }
        Ok(clock)
    }
}

impl FromIterator<(SocketAddr, u64)> for VectorClock {
    /// Later duplicates win; zero entries are left out.
    fn from_iter<I: IntoIterator<Item = (SocketAddr, u64)>>(iter: I) -> Self {
        VectorClock(iter.into_iter().filter(|(_, count)| *count > 0).collect())
    }
}

impl PartialOrd for VectorClock {
    /// `Less`: happened before; `Greater`: happened after; `None`: concurrent.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let keys = self.0.keys().chain(other.0.keys());
        let (mut less, mut greater) = (false, false);
        for addr in keys {
            match self.get(*addr).cmp(&other.get(*addr)) {
                Ordering::Less => less = true,
                Ordering::Greater => greater = true,
                Ordering::Equal => {}
            }
        }
        match (less, greater) {
            (false, false) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (true, true) => None,
        }
    }
}

impl Serialize for VectorClock {
    /// A JSON object keyed by `"IP:PORT"`, in address order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (addr, count) in &self.0 {
            map.serialize_entry(&addr.to_string(), count)?;
        }
        map.end()
    }
}

impl fmt::Display for VectorClock {
    /// The wire form, `{"127.0.0.1:5001":2,"127.0.0.1:5002":1}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (addr, count)) in self.0.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(f, "{comma}\"{addr}\":{count}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn clock(entries: &[(u16, u64)]) -> VectorClock {
        entries.iter().map(|(port, count)| (addr(*port), *count)).collect()
    }

    #[test]
    fn starts_at_zero_and_ticks_its_own_entry() {
        let mut v = VectorClock::new();
        assert!(v.is_zero());
        assert_eq!((v.get(addr(5001)), v.to_string()), (0, "{}".to_string()));
        v.tick(addr(5001));
        v.tick(addr(5001));
        assert_eq!(v, clock(&[(5001, 2)]));
        assert_eq!(v.get(addr(5002)), 0, "an unknown member counts 0");
    }

    #[test]
    fn merge_is_the_entrywise_maximum() {
        let mut v = clock(&[(5001, 3), (5002, 1)]);
        v.merge(&clock(&[(5002, 4), (5003, 2), (5001, 1)]));
        assert_eq!(v, clock(&[(5001, 3), (5002, 4), (5003, 2)]));
    }

    #[test]
    fn zero_entries_do_not_make_clocks_differ() {
        assert_eq!(clock(&[(5001, 0), (5002, 1)]), clock(&[(5002, 1)]));
        let read = VectorClock::from_json(&serde_json::json!({"127.0.0.1:5001": 0})).unwrap();
        assert!(read.is_zero());
    }

    #[test]
    fn prints_and_serialises_in_address_order() {
        // 10000 > 5001 as a number, though "10000" < "5001" as text.
        let v = clock(&[(10000, 1), (5001, 2)]);
        assert_eq!(v.to_string(), r#"{"127.0.0.1:5001":2,"127.0.0.1:10000":1}"#);
        assert_eq!(serde_json::to_string(&v).unwrap(), v.to_string());
        assert_eq!(VectorClock::from_json(&serde_json::from_str(&v.to_string()).unwrap()), Ok(v));
    }

    #[test]
    fn the_order_is_happened_before() {
        let a = clock(&[(5001, 1)]);
        let b = clock(&[(5001, 1), (5002, 1)]);
        let c = clock(&[(5001, 2)]);
        assert_eq!(a.partial_cmp(&b), Some(Ordering::Less), "a → b");
        assert_eq!(b.partial_cmp(&a), Some(Ordering::Greater));
        assert!(a < c);
        assert_eq!(b.partial_cmp(&c), None, "concurrent");
        assert_eq!(a.partial_cmp(&a.clone()), Some(Ordering::Equal));
    }

    #[test]
    fn bad_json_is_refused_with_the_entry_named() {
        for (json, expected) in [
            (serde_json::json!([1, 2]), "not an object"),
            (serde_json::json!({"somewhere": 1}), "\"somewhere\""),
            (serde_json::json!({"127.0.0.1:5001": -1}), "\"127.0.0.1:5001\" is -1"),
            (serde_json::json!({"127.0.0.1:5001": "2"}), "not a count"),
        ] {
            let err = VectorClock::from_json(&json).expect_err("refused");
            assert!(err.contains(expected), "{json}: {err}");
        }
    }
}
