//! How a state is written into a frontier's byte arena and read back.
//!
//! The encoding is postcard's, byte for byte: what changes is the work around it. A
//! frontier is read once per expanded state and written once per new state, and with
//! serde's generic path those two were about two fifths of a search (Chang–Roberts,
//! callgrind): every read allocated each of the state's vectors afresh, and every write
//! encoded every node although a successor differs from its parent in one node or
//! none. Here a state is read *into* a recycled buffer (its vectors keep their
//! capacity), the read records where each node's bytes lie, and a successor written
//! with its parent at hand copies the bytes of every node equal to the parent's
//! instead of encoding it again. Equal values have equal encodings (postcard is
//! deterministic), so the copy is exactly what encoding would have written.

use crate::histories::Recorded;
use crate::state::State;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::hash::Hash;

/// Postcard's output appended to a byte vector. Postcard's own `to_extend` goes through
/// `Extend` and an iterator per field, which cost a library copy call for every few
/// bytes: this one pushes short runs (a varint, a small integer) byte by byte.
pub struct Append<'a>(pub &'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        append_bytes(self.0, data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Where a packed state's sequences lie in its bytes: for its nodes and for its
/// messages in transit, where the first item starts and then where each ends.
#[derive(Default, Debug, PartialEq)]
pub struct Layout {
    /// The nodes' offsets (n + 1 of them).
    pub nodes: Vec<u32>,
    /// The packets' offsets.
    pub packets: Vec<u32>,
}

/// A state already packed, with its layout: what a state packed or read next to it
/// (its successor, the next state of a level) may copy instead of encoding or decoding.
pub struct Like<'a, S> {
    /// The state, unpacked.
    pub state: &'a S,
    /// Its packed bytes.
    pub bytes: &'a [u8],
    /// Where its sequences lie in `bytes`.
    pub layout: &'a Layout,
}

// By hand: derived, they would ask `S: Copy`.
impl<S> Clone for Like<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Like<'_, S> {}

/// A state that can be packed into a frontier. The provided methods are plain postcard
/// round trips; the checker's [`State`] overrides them with the recycling ones.
pub trait Packable: Serialize + DeserializeOwned + Clone + PartialEq {
    /// Appends the state's encoding to `out`, copying what it shares with `like`.
    fn pack_into(&self, out: &mut Vec<u8>, like: Option<Like<'_, Self>>) -> postcard::Result<()> {
        let _ = like;
        postcard::serialize_with_flavor(self, Append(out))
    }

    /// Reads a packed state into `self`, recording where its sequences lie in `layout`
    /// (left empty by types without them) and taking from `last` (a state read before,
    /// typically the previous one of the same level) the items whose bytes it repeats.
    /// `None` if the bytes do not hold a state.
    fn unpack_into(&mut self, bytes: &[u8], layout: &mut Layout, last: Option<Like<'_, Self>>) -> Option<()> {
        let _ = last;
        *layout = Layout::default();
        *self = postcard::from_bytes(bytes).ok()?;
        Some(())
    }

    /// Reads a packed state.
    fn unpack(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }
}

/// Reads one value off the front of `bytes`.
#[inline]
fn take<T: DeserializeOwned>(bytes: &mut &[u8]) -> Option<T> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).ok()?;
    *bytes = rest;
    Some(value)
}

/// Reads a sequence off the front of `bytes` into `into`, whose capacity is kept.
#[inline]
fn take_vec_into<T: DeserializeOwned>(bytes: &mut &[u8], into: &mut Vec<T>) -> Option<()> {
    let len: usize = take(bytes)?;
    into.clear();
    // A length is only as trustworthy as the bytes: never reserve past what they hold.
    into.reserve(len.min(bytes.len()));
    for _ in 0..len {
        into.push(take(bytes)?);
    }
    Some(())
}

/// The offset of `rest` (a tail of `whole`) in `whole`.
#[inline]
fn offset(whole: &[u8], rest: &[u8]) -> u32 {
    (whole.len() - rest.len()) as u32
}

/// Appends `data`; an item's bytes are a handful, fewer than a library copy call costs.
#[inline]
fn append_bytes(out: &mut Vec<u8>, data: &[u8]) {
    if data.len() <= 16 {
        out.reserve(data.len());
        for &b in data {
            out.push(b);
        }
    } else {
        out.extend_from_slice(data);
    }
}

/// Whether `bytes` starts with `prefix`, compared in line for the same reason.
#[inline]
fn starts_with(bytes: &[u8], prefix: &[u8]) -> bool {
    prefix.len() <= bytes.len() && prefix.iter().zip(bytes).all(|(a, b)| a == b)
}

/// A sequence in a packed state: its items, the state's bytes, and the items' offsets.
type Run<'a, T> = (&'a [T], &'a [u8], &'a [u32]);

/// The run of `items` in `like`, if its offsets fit its items and its bytes.
fn run<'a, T>(items: &'a [T], bytes: &'a [u8], ends: &'a [u32]) -> Option<Run<'a, T>> {
    let fits = ends.len() == items.len() + 1 && ends.last().is_some_and(|&e| e as usize <= bytes.len());
    fits.then_some((items, bytes, ends))
}

/// How far ahead in the other sequence an item is looked for: a step changes one node,
/// or takes one packet and adds a few, so an item equal to one of the next two is the
/// common case and a longer search would cost more than it saves.
const LOOK_AHEAD: usize = 2;

/// Appends a sequence's encoding (its length, then each item), copying the bytes of
/// every item equal to one of the next ones of `like` instead of encoding it.
fn pack_seq<T: Serialize + PartialEq>(
    items: &[T],
    out: &mut Vec<u8>,
    like: Option<Run<'_, T>>,
) -> postcard::Result<()> {
    postcard::serialize_with_flavor(&items.len(), Append(out))?;
    let mut cursor = 0;
    for item in items {
        let copy = like.and_then(|(old, bytes, ends)| {
            let k = (cursor..(cursor + LOOK_AHEAD).min(old.len())).find(|&k| old[k] == *item)?;
            Some((k, &bytes[ends[k] as usize..ends[k + 1] as usize]))
        });
        if let Some((k, encoded)) = copy {
            // Equal values have equal encodings.
            append_bytes(out, encoded);
            cursor = k + 1;
            continue;
        }
        postcard::serialize_with_flavor(item, Append(out))?;
    }
    Ok(())
}

/// Reads a sequence off the front of `rest` (a tail of `whole`) into `into`, recording
/// its offsets in `ends`. An item whose bytes repeat those of one of the next items of
/// `like` is that item, cloned, not decoded: postcard reads a value front to back,
/// never past its end, so the same bytes decode to the same value and length.
fn take_seq_into<T: DeserializeOwned + Clone>(
    whole: &[u8],
    rest: &mut &[u8],
    into: &mut Vec<T>,
    ends: &mut Vec<u32>,
    like: Option<Run<'_, T>>,
) -> Option<()> {
    let len: usize = take(rest)?;
    into.clear();
    ends.clear();
    into.reserve(len.min(rest.len()));
    ends.push(offset(whole, rest));
    let mut cursor = 0;
    for _ in 0..len {
        let repeat = like.and_then(|(old, bytes, old_ends)| {
            (cursor..(cursor + LOOK_AHEAD).min(old.len()))
                .map(|k| (k, &bytes[old_ends[k] as usize..old_ends[k + 1] as usize]))
                .find(|(_, span)| starts_with(rest, span))
                .map(|(k, span)| (k, &old[k], span.len()))
        });
        if let Some((k, item, len)) = repeat {
            into.push(item.clone());
            *rest = &rest[len..];
            ends.push(offset(whole, rest));
            cursor = k + 1;
            continue;
        }
        into.push(take(rest)?);
        ends.push(offset(whole, rest));
    }
    Some(())
}

/// Everything after the nodes and the network, in the order [`State`] declares (and so
/// serializes) it.
type Rest<'a> = (&'a [(u32, u16)], &'a [u16], u64, u8, u8, u8, &'a [u64], &'a [u64], &'a Recorded);

impl<N, M> Packable for State<N, M>
where
    N: Serialize + DeserializeOwned + Clone + PartialEq,
    M: Serialize + DeserializeOwned + Clone + PartialEq + Hash,
{
    fn pack_into(&self, out: &mut Vec<u8>, like: Option<Like<'_, Self>>) -> postcard::Result<()> {
        let nodes = like.and_then(|l| run(&l.state.nodes, l.bytes, &l.layout.nodes));
        pack_seq(&self.nodes, out, nodes)?;
        let net = like.and_then(|l| run(&l.state.net, l.bytes, &l.layout.packets));
        pack_seq(&self.net, out, net)?;
        let rest: Rest<'_> = (
            &self.timers,
            &self.next_input,
            self.crashed,
            self.drops,
            self.dups,
            self.crashes,
            &self.lamport,
            &self.vectors,
            &self.history,
        );
        postcard::serialize_with_flavor(&rest, Append(out))
    }

    fn unpack_into(&mut self, bytes: &[u8], layout: &mut Layout, last: Option<Like<'_, Self>>) -> Option<()> {
        let mut rest = bytes;
        let nodes = last.and_then(|l| run(&l.state.nodes, l.bytes, &l.layout.nodes));
        take_seq_into(bytes, &mut rest, &mut self.nodes, &mut layout.nodes, nodes)?;
        let net = last.and_then(|l| run(&l.state.net, l.bytes, &l.layout.packets));
        take_seq_into(bytes, &mut rest, &mut self.net, &mut layout.packets, net)?;
        take_vec_into(&mut rest, &mut self.timers)?;
        take_vec_into(&mut rest, &mut self.next_input)?;
        (self.crashed, self.drops, self.dups, self.crashes) = take(&mut rest)?;
        take_vec_into(&mut rest, &mut self.lamport)?;
        take_vec_into(&mut rest, &mut self.vectors)?;
        self.history = take(&mut rest)?;
        rest.is_empty().then_some(())
    }

    fn unpack(bytes: &[u8]) -> Option<Self> {
        let mut s = State::empty();
        s.unpack_into(bytes, &mut Layout::default(), None)?;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Packet;

    fn state(nodes: &[u32], net: &[(u32, u32, u16)]) -> State<u32, u16> {
        let mut s = State::empty();
        s.nodes = nodes.to_vec();
        s.net = net.iter().map(|&(f, t, m)| Packet::new(f, t, m, 0, Vec::new())).collect();
        s.next_input = vec![1; nodes.len()];
        s.crashed = 0b10;
        s.drops = 1;
        s
    }

    fn packed(s: &State<u32, u16>, like: Option<Like<'_, State<u32, u16>>>) -> Vec<u8> {
        let mut bytes = Vec::new();
        s.pack_into(&mut bytes, like).expect("packs");
        bytes
    }

    #[test]
    fn a_state_packs_to_postcards_bytes_and_reads_back_into_a_used_buffer() {
        let s = state(&[3, 200, 7], &[(0, 1, 500), (2, 1, 9)]);
        let bytes = packed(&s, None);
        assert_eq!(bytes, postcard::to_allocvec(&s).expect("postcard"), "the same encoding as postcard's");
        let mut back = state(&[1, 1, 1, 1, 1], &[(4, 4, 4)]);
        let mut layout = Layout::default();
        back.unpack_into(&bytes, &mut layout, None).expect("reads back");
        assert_eq!(back, s);
        // One byte of count, then 1, 2 (200 is a two-byte varint) and 1 byte of nodes.
        assert_eq!(layout.nodes, [1, 2, 4, 5]);
        // A count, then (from, to, ELECT-like u16 varint, lamport, empty vector) twice.
        assert_eq!(layout.packets, [6, 12, 17]);
        assert_eq!(back.unpack_into(&bytes[..bytes.len() - 1], &mut layout, None), None, "a cut state is no state");
    }

    /// A packed state read on its own, with its layout.
    fn read_back(bytes: &[u8]) -> (State<u32, u16>, Layout) {
        let mut s = State::empty();
        let mut layout = Layout::default();
        s.unpack_into(bytes, &mut layout, None).expect("reads back");
        (s, layout)
    }

    /// States like a level's: siblings and cousins, with nodes and packets in common.
    fn relatives() -> Vec<State<u32, u16>> {
        vec![
            state(&[3, 200, 7, 130], &[(0, 1, 500), (2, 3, 8)]),
            state(&[3, 5, 7, 130], &[(0, 1, 500), (1, 2, 77), (2, 3, 8)]),
            state(&[250, 200, 7, 1], &[(2, 3, 8)]),
            state(&[9, 9, 9, 9], &[(0, 1, 500), (0, 1, 500), (3, 0, 1)]),
            state(&[9, 9, 9], &[]),
            state(&[9, 9, 9, 9], &[(3, 0, 1), (0, 1, 500)]),
        ]
    }

    #[test]
    fn a_state_packed_beside_another_copies_equal_items_and_encodes_the_others() {
        let states = relatives();
        for parent in &states {
            let parent_bytes = packed(parent, None);
            let (read, layout) = read_back(&parent_bytes);
            let like = Like { state: &read, bytes: &parent_bytes, layout: &layout };
            for child in &states {
                let bytes = packed(child, Some(like));
                assert_eq!(bytes, postcard::to_allocvec(child).expect("postcard"), "{child:?} beside {parent:?}");
            }
        }
    }

    #[test]
    fn a_state_read_after_another_takes_its_repeated_items_and_is_still_itself() {
        let states = relatives();
        let mut reading = State::empty();
        let mut layout = Layout::default();
        for before in &states {
            let before_bytes = packed(before, None);
            let (last, last_layout) = read_back(&before_bytes);
            let like = Like { state: &last, bytes: &before_bytes, layout: &last_layout };
            for s in &states {
                let bytes = packed(s, None);
                reading.unpack_into(&bytes, &mut layout, Some(like)).expect("reads back");
                assert_eq!(reading, *s, "read after {before:?}");
                // Packets cloned keep their content key: the state hashes as decoded.
                assert_eq!(
                    reading.net.iter().map(|p| p.key).collect::<Vec<_>>(),
                    s.net.iter().map(|p| p.key).collect::<Vec<_>>()
                );
                assert_eq!(layout, read_back(&bytes).1, "the same layout, whatever was read before");
            }
        }
    }
}
