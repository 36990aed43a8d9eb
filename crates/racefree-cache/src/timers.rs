//! When a shard's entries expire, and which expire next.
//!
//! Each entry's deadlines live here, in a table by slab slot that is
//! allocated only once some entry can expire: a cache without expiry
//! spends no memory on them.
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
    /// By slot; empty while no entry can expire, and slots past its end
    /// never expire.
    lives: Vec<Life>,
}

/// One entry's deadlines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Life {
    /// When it expires unless read first (time-to-idle).
    pub(crate) deadline: u64,
    /// When it expires however often it is read (time-to-live).
    pub(crate) live_until: u64,
}

const FOREVER: Life = Life {
    deadline: NEVER,
    live_until: NEVER,
};

impl Timers {
    /// Slot `i`'s deadlines.
    #[inline]
    pub(crate) fn life(&self, i: u32) -> Life {
        self.lives.get(i as usize).copied().unwrap_or(FOREVER)
    }

    /// A new entry in slot `i` lives `life`.
    pub(crate) fn start(&mut self, i: u32, life: Life) {
        self.write(i, life);
        self.schedule(life.deadline, i);
    }

    /// The entry in slot `i` was replaced and now lives `life`; a timer
    /// is added only if its deadline moved earlier (the old one stays early
    /// enough otherwise).
    pub(crate) fn renew(&mut self, i: u32, life: Life) {
        let before = self.write(i, life);
        if life.deadline < before.deadline {
            self.schedule(life.deadline, i);
        }
    }

    /// Writes slot `i`'s deadlines; returns what the slot held.
    fn write(&mut self, i: u32, life: Life) -> Life {
        let slot = i as usize;
        if slot >= self.lives.len() {
            if life.deadline == NEVER && life.live_until == NEVER {
                return FOREVER;
            }
            self.lives.resize(slot + 1, FOREVER);
        }
        std::mem::replace(&mut self.lives[slot], life)
    }

    /// Moves slot `i`'s deadline later (a read restarted its time-to-idle);
    /// its timer stays early enough.
    pub(crate) fn extend(&mut self, i: u32, deadline: u64) {
        if let Some(life) = self.lives.get_mut(i as usize) {
            life.deadline = deadline;
        }
    }

    /// Forgets slots at and past `slots`, which the slab no longer has.
    pub(crate) fn truncate(&mut self, slots: usize) {
        if self.lives.len() > slots {
            self.lives.truncate(slots);
            self.lives.shrink_to_fit();
        }
    }

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

    /// Replaces every timer by one per live slot.
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = u32>) {
        let heap = live
            .map(|i| (self.life(i).deadline, i))
            .filter(|&(deadline, _)| deadline != NEVER)
            .map(Reverse)
            .collect();
        self.heap = heap;
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
impl Timers {
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}
