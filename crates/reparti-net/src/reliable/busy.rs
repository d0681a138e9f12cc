//! The channels that may have something to do, one bit per peer.
//!
//! A node keeps a channel to and from every node of its run, but talks to a few: a ring
//! node to its two neighbours. Polling every channel after every datagram cost a ring of
//! 8 a tenth of a hop's instructions; polling the marked ones costs what they do. A
//! channel is marked whenever it is given something (a message to send, one received,
//! an acknowledgement) and unmarked when a poll leaves it idle, so an unmarked channel
//! has nothing due, ever, until it is given something again.

/// A set of channel numbers, walked in increasing order (the order the whole walk had,
/// so that what a poll hands out comes in the same order).
#[derive(Debug, Default)]
pub(super) struct Busy {
    words: Vec<u64>,
}

impl Busy {
    /// No channel marked, room for `n`.
    pub(super) fn new(n: usize) -> Self {
        Busy { words: vec![0; n.div_ceil(64)] }
    }

    /// Marks channel `i` (ignored past the room given).
    #[inline]
    pub(super) fn mark(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    /// Calls `still_busy` on each marked channel, in increasing order, and unmarks those
    /// for which it says `false`.
    #[inline]
    pub(super) fn retain(&mut self, mut still_busy: impl FnMut(usize) -> bool) {
        for (k, word) in self.words.iter_mut().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                if !still_busy(k * 64 + b as usize) {
                    *word &= !(1 << b);
                }
            }
        }
    }

    /// The marked channels, in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    k * 64 + b
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_channels_are_walked_in_order_and_unmarked_when_idle() {
        let mut busy = Busy::new(130);
        for i in [129, 3, 64, 3, 0, 200] {
            busy.mark(i);
        }
        assert_eq!(busy.iter().collect::<Vec<_>>(), [0, 3, 64, 129], "200 is past the room");
        let mut seen = Vec::new();
        busy.retain(|i| {
            seen.push(i);
            i % 2 == 1
        });
        assert_eq!(seen, [0, 3, 64, 129]);
        assert_eq!(busy.iter().collect::<Vec<_>>(), [3, 129]);
        busy.retain(|_| false);
        assert_eq!(busy.iter().count(), 0);
    }
}
