//! A compact list of states: each serialized with postcard into one byte arena.
//!
//! A BFS level can hold millions of states; stored as Rust values each would own
//! several heap vectors. Serialized end to end they cost their encoded size (tens of
//! bytes for a small election) plus 4 bytes of offset. A state type whose serde form
//! does not round-trip through postcard (say, one using `skip_serializing_if`) is kept
//! as plain values instead: [`Frontier::packs`] decides once, on the initial state.

use crate::packing::{Layout, Like, Packable};

/// A segment takes no more states once its arena is past this many bytes, so that its
/// ends fit in `u32` (a state's encoding is far smaller than the margin left).
const SEGMENT_CLOSES_AT: usize = (u32::MAX / 2) as usize;

/// A list of states.
///
/// Packed states live in segments, each a byte arena with its states' ends: appending
/// another list moves its segments over instead of copying its bytes. A BFS level is
/// built from the chunks its threads produce, and copying them end to end into one
/// arena was serial work (0.6 s of Chang–Roberts n=9's 16 s) that no second thread
/// could share.
pub struct Frontier<S> {
    packed: bool,
    segments: Vec<Segment>,
    /// The index of each segment's first state.
    firsts: Vec<usize>,
    /// Packed states in all segments, and their bytes.
    packed_len: usize,
    packed_bytes: usize,
    values: Vec<S>,
}

/// Packed states end to end, and where each ends (`u32`: a segment is closed before
/// its arena reaches 4 GiB).
#[derive(Default)]
struct Segment {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Segment {
    fn bytes_of(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.bytes.get(start..end)
    }
}

/// A worker's buffers for reading states one after the other: the state read now and
/// the one read before (consecutive states of a level are mostly siblings, and what the
/// two share is cloned rather than decoded), with their layouts.
pub struct Reader<S> {
    state: S,
    layout: Layout,
    last: S,
    last_layout: Layout,
    /// Where the last state read lies: its segment and its index there.
    last_at: Option<(usize, usize)>,
}

impl<S> Reader<S> {
    /// A reader that recycles two state buffers' allocations.
    pub fn new(state: S, last: S) -> Self {
        Reader { state, layout: Layout::default(), last, last_layout: Layout::default(), last_at: None }
    }
}

impl<S: Packable> Frontier<S> {
    /// An empty list, packed or not.
    pub fn new(packed: bool) -> Self {
        Frontier {
            packed,
            segments: Vec::new(),
            firsts: Vec::new(),
            packed_len: 0,
            packed_bytes: 0,
            values: Vec::new(),
        }
    }

    /// Whether states like `sample` survive a round trip through the packed form.
    pub fn packs(sample: &S) -> bool {
        let mut bytes = Vec::new();
        sample.pack_into(&mut bytes, None).is_ok() && S::unpack(&bytes).is_some_and(|back| back == *sample)
    }

    /// Appends a state.
    pub fn push(&mut self, s: &S) {
        self.push_like(s, None);
    }

    /// Appends a state, copying from `like` (a state read from a frontier, typically
    /// its parent) the packed bytes of what the two share.
    pub fn push_like(&mut self, s: &S, like: Option<Like<'_, S>>) {
        if self.packed {
            if self.segments.last().is_none_or(|seg| seg.bytes.len() > SEGMENT_CLOSES_AT) {
                self.firsts.push(self.packed_len);
                self.segments.push(Segment::default());
            }
            let Some(seg) = self.segments.last_mut() else { return };
            let start = seg.bytes.len();
            match s.pack_into(&mut seg.bytes, like) {
                Ok(()) => {
                    seg.ends.push(seg.bytes.len() as u32);
                    self.packed_len += 1;
                    self.packed_bytes += seg.bytes.len() - start;
                    return;
                }
                Err(_) => {
                    seg.bytes.truncate(start);
                    self.unpack();
                }
            }
        }
        self.values.push(s.clone());
    }

    /// Switches to plain values (if a state ever fails to serialize).
    fn unpack(&mut self) {
        let values: Vec<S> = (0..self.packed_len).filter_map(|i| self.packed_get(i)).collect();
        self.values = values;
        self.packed = false;
        self.segments = Vec::new();
        self.firsts = Vec::new();
        self.packed_len = 0;
        self.packed_bytes = 0;
    }

    /// Where packed state `i` lies: its segment (the last whose first state is at or
    /// before `i`) and its index there.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        let k = self.firsts.partition_point(|&first| first <= i).checked_sub(1)?;
        Some((k, i - self.firsts[k]))
    }

    fn packed_get(&self, i: usize) -> Option<S> {
        let (k, j) = self.locate(i)?;
        S::unpack(self.segments.get(k)?.bytes_of(j)?)
    }

    /// Reads the `i`-th state into `reader`; gives it back with, when packed, what a
    /// successor may copy of it (`None` if a packed state failed to read back).
    pub fn read<'a>(&'a self, i: usize, reader: &'a mut Reader<S>) -> Option<(&'a S, Option<Like<'a, S>>)> {
        if !self.packed {
            reader.state.clone_from(self.values.get(i)?);
            return Some((&reader.state, None));
        }
        let (k, j) = self.locate(i)?;
        let bytes = self.segments.get(k)?.bytes_of(j)?;
        std::mem::swap(&mut reader.state, &mut reader.last);
        std::mem::swap(&mut reader.layout, &mut reader.last_layout);
        let last = reader.last_at.take().and_then(|(k, j)| self.segments.get(k)?.bytes_of(j)).map(|bytes| Like {
            state: &reader.last,
            bytes,
            layout: &reader.last_layout,
        });
        reader.state.unpack_into(bytes, &mut reader.layout, last)?;
        reader.last_at = Some((k, j));
        let like = Like { state: &reader.state, bytes, layout: &reader.layout };
        Some((&reader.state, Some(like)))
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
            self.packed_len
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
            for (mut seg, first) in other.segments.into_iter().zip(other.firsts) {
                // A chunk's arena grew by doubling; the spare room would stay with the
                // level (the allocator gives it back in place, without a copy).
                seg.bytes.shrink_to_fit();
                seg.ends.shrink_to_fit();
                self.firsts.push(self.packed_len + first);
                self.segments.push(seg);
            }
            self.packed_len += other.packed_len;
            self.packed_bytes += other.packed_bytes;
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
        self.packed_bytes + self.packed_len * 4 + self.values.len() * std::mem::size_of::<S>()
    }
}

#[cfg(test)]
mod tests {
    use super::Frontier;
    use crate::packing::Packable;

    impl Packable for (u64, String) {}

    fn list(states: std::ops::Range<u64>) -> Frontier<(u64, String)> {
        let mut f = Frontier::new(true);
        for i in states {
            f.push(&(i, "x".repeat(i as usize % 7)));
        }
        f
    }

    #[test]
    fn appended_lists_read_back_in_order_across_their_segments() {
        let mut level = Frontier::new(true);
        level.append(list(0..0));
        level.append(list(0..5));
        level.append(list(5..5));
        level.append(list(5..12));
        level.push(&(12, "x".repeat(12 % 7)));
        level.append(list(13..20));
        assert_eq!(level.len(), 20);
        for i in 0..20u64 {
            assert_eq!(level.get(i as usize), Some((i, "x".repeat(i as usize % 7))), "state {i}");
        }
        assert_eq!(level.get(20), None);
        let encoded: usize =
            (0..20u64).map(|i| postcard::to_allocvec(&(i, "x".repeat(i as usize % 7))).map_or(0, |b| b.len())).sum();
        assert_eq!(level.bytes(), encoded + 20 * 4, "the packed bytes and one end per state");
    }

    #[test]
    fn a_packed_list_appended_to_a_plain_one_is_read_back_plain() {
        let mut plain = Frontier::new(false);
        plain.push(&(0, String::new()));
        plain.append(list(1..4));
        assert_eq!((0..4).filter_map(|i| plain.get(i)).map(|s| s.0).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }
}
