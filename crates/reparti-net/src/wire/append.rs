//! Writing postcard at the end of a byte buffer.
//!
//! postcard's own `to_extend` hands each byte, and each varint's few bytes, to
//! `Extend` one at a time, and its serializer takes a dozen calls for each of a binary
//! header's varints (the vector clock has one per node): a seventh of a binary ring
//! hop's instructions. The header is written here varint by varint, the very bytes
//! postcard writes (a test holds them equal); the body, of the algorithm's type, goes
//! through postcard with a flavor that pushes into the `Vec` directly.

use super::{BinHeaderOut, VERSION};
use serde::Serialize;

/// Appends `n` as postcard writes an unsigned integer: LEB128, seven bits a byte, the
/// least significant first.
#[inline(always)]
fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Appends `(VERSION, header)` as postcard writes it.
pub(super) fn binary_header(out: &mut Vec<u8>, header: &BinHeaderOut<'_>) {
    varint(out, VERSION);
    varint(out, u64::from(header.from));
    varint(out, u64::from(header.to));
    varint(out, header.lamport);
    match header.vc {
        None => out.push(0),
        Some(vc) => {
            out.push(1);
            varint(out, vc.len() as u64);
            for &entry in vc {
                varint(out, entry);
            }
        }
    }
    match header.seq {
        None => out.push(0),
        Some(seq) => {
            out.push(1);
            varint(out, seq);
        }
    }
    varint(out, u64::from(header.kind));
}

/// A postcard flavor appending to a `Vec<u8>`.
struct Append(Vec<u8>);

impl postcard::ser_flavors::Flavor for Append {
    type Output = Vec<u8>;

    #[inline]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        // A varint is at most 10 bytes: pushed one by one, not through a call to memcpy.
        if data.len() <= 10 {
            self.0.reserve(data.len());
            for &b in data {
                self.0.push(b);
            }
        } else {
            self.0.extend_from_slice(data);
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// `value` in postcard, after what `bytes` holds (as `postcard::to_extend`).
pub(super) fn append<T: Serialize + ?Sized>(value: &T, bytes: Vec<u8>) -> postcard::Result<Vec<u8>> {
    postcard::serialize_with_flavor(value, Append(bytes))
}

#[cfg(test)]
mod tests {
    use super::super::{BinHeaderOut, VERSION};

    #[test]
    fn the_header_is_postcards() {
        let vc = [0, 127, 128, 300, u64::MAX];
        for (vc, seq) in [(None, None), (Some(&vc[..]), Some(0)), (Some(&[][..]), Some(u64::MAX))] {
            for (from, lamport) in [(0, 0), (127, 128), (u32::MAX, u64::MAX)] {
                let header = BinHeaderOut { from, to: 16_384, lamport, vc, seq, kind: 2 };
                let mut ours = vec![0xB5];
                super::binary_header(&mut ours, &header);
                let theirs = postcard::to_extend(&(VERSION, &header), vec![0xB5]).expect("encodes");
                assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn the_bytes_are_postcards() {
        let value = (1u8, 300u32, Some(vec![0u64, 1 << 40, 7]), "run");
        let ours = super::append(&value, vec![0xB5]).expect("encodes");
        let theirs = postcard::to_extend(&value, vec![0xB5]).expect("encodes");
        assert_eq!(ours, theirs);
    }
}
