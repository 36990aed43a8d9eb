//! Which of a shard's entries expire next.
//!
//! A binary heap of (deadline, entry) with lazy deletion, rather than the
//! hierarchical timer wheel Caffeine uses: a shard is small, and the heap
//! needs no tuning of tick sizes. Entries are not taken out of the heap when
//! they leave the store or their deadline moves; the store checks each
//! popped one against the entry's current deadline, and the heap is rebuilt
//! from the live entries when stale ones outnumber them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The deadline of an entry that never expires.
pub(crate) const NEVER: u64 = u64::MAX;

/// Deadlines, in nanoseconds on the cache's clock. Invariant kept by the
/// store: every live entry with a deadline other than [`NEVER`] has a timer
/// at or before its deadline.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Timers {
    /// Asks to be told about entry `i` at `deadline`.
    pub(crate) fn schedule(&mut self, deadline: u64, i: u32) {
        if deadline != NEVER {
            self.heap.push(Reverse((deadline, i)));
        }
    }

    /// Whether a timer is due at `now`.
    pub(crate) fn is_due(&self, now: u64) -> bool {
        self.heap
            .peek()
            .is_some_and(|&Reverse((deadline, _))| deadline <= now)
    }

    /// An entry whose timer is due at `now`. It may since have left or been
    /// given a later deadline: the caller checks.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<u32> {
        match self.heap.peek() {
            Some(&Reverse((deadline, i))) if deadline <= now => {
                self.heap.pop();
                Some(i)
            }
            _ => None,
        }
    }

    /// Whether stale timers outnumber `live` entries enough to rebuild.
    pub(crate) fn is_bloated(&self, live: usize) -> bool {
        self.heap.len() > 2 * live + 64
    }

    /// Replaces every timer by one per live entry.
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = (u64, u32)>) {
        self.heap = live
            .filter(|&(deadline, _)| deadline != NEVER)
            .map(Reverse)
            .collect();
    }

    pub(crate) fn clear(&mut self) {
        self.heap = BinaryHeap::new();
    }
}

#[cfg(test)]
impl Timers {
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}
