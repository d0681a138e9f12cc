//! A compact list of states: each serialized with postcard into one byte arena.
//!
//! A BFS level can hold millions of states; stored as Rust values each would own
//! several heap vectors. Serialized end to end they cost their encoded size (tens of
//! bytes for a small election) plus 8 bytes of offset. A state type whose serde form
//! does not round-trip through postcard (say, one using `skip_serializing_if`) is kept
//! as plain values instead: [`Frontier::packs`] decides once, on the initial state.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Postcard's output appended to a byte vector. Postcard's own `to_extend` goes through
/// `Extend` and an iterator per field, which cost a library copy call for every few
/// bytes: this one pushes short runs (a varint, a small integer) byte by byte.
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if data.len() <= 16 {
            for &b in data {
                self.0.push(b);
            }
        } else {
            self.0.extend_from_slice(data);
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// A list of states.
pub struct Frontier<S> {
    packed: bool,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    values: Vec<S>,
}

impl<S: Serialize + DeserializeOwned + Clone + PartialEq> Frontier<S> {
    /// An empty list, packed or not.
    pub fn new(packed: bool) -> Self {
        Frontier { packed, bytes: Vec::new(), ends: Vec::new(), values: Vec::new() }
    }

    /// Whether states like `sample` survive a postcard round trip unchanged.
    pub fn packs(sample: &S) -> bool {
        postcard::to_allocvec(sample)
            .ok()
            .and_then(|b| postcard::from_bytes::<S>(&b).ok())
            .is_some_and(|back| back == *sample)
    }

    /// Appends a state.
    pub fn push(&mut self, s: &S) {
        if self.packed {
            let start = self.bytes.len();
            match postcard::serialize_with_flavor(s, Append(&mut self.bytes)) {
                Ok(()) => {
                    self.ends.push(self.bytes.len());
                    return;
                }
                Err(_) => {
                    self.bytes.truncate(start);
                    self.unpack();
                }
            }
        }
        self.values.push(s.clone());
    }

    /// Switches to plain values (if a state ever fails to serialize).
    fn unpack(&mut self) {
        let values: Vec<S> = (0..self.ends.len()).filter_map(|i| self.packed_get(i)).collect();
        self.values = values;
        self.packed = false;
        self.bytes = Vec::new();
        self.ends = Vec::new();
    }

    fn packed_get(&self, i: usize) -> Option<S> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        postcard::from_bytes(&self.bytes[start..self.ends[i]]).ok()
    }

    /// The `i`-th state (`None` only if a packed state failed to read back, which
    /// [`Frontier::packs`] rules out for well-behaved state types).
    pub fn get(&self, i: usize) -> Option<S> {
        if self.packed {
            self.packed_get(i)
        } else {
            self.values.get(i).cloned()
        }
    }

    /// How many states.
    pub fn len(&self) -> usize {
        if self.packed {
            self.ends.len()
        } else {
            self.values.len()
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves every state of `other` to the end of this list.
    pub fn append(&mut self, mut other: Frontier<S>) {
        if self.packed && other.packed {
            let base = self.bytes.len();
            self.bytes.extend_from_slice(&other.bytes);
            self.ends.extend(other.ends.into_iter().map(|e| e + base));
        } else {
            if self.packed {
                self.unpack();
            }
            if other.packed {
                other.unpack();
            }
            self.values.append(&mut other.values);
        }
    }

    /// Bytes used: the packed form exactly; plain values by their inline size only
    /// (what they own on the heap is not known, so this undercounts them). Spare
    /// capacity is not counted: the allocator grows large buffers by remapping pages,
    /// and capacity never written is never resident.
    pub fn bytes(&self) -> usize {
        self.bytes.len() + self.ends.len() * 8 + self.values.len() * std::mem::size_of::<S>()
    }
}
