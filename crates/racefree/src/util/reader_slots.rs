//! Cache lines of each thread's own in which a reader names the lock it is
//! reading, so that reading a [`RawRwLock`](super::rw_lock::RawRwLock)
//! writes only a line of the reader's.
//!
//! A thread has [`GROUPS`] slots, one for each group of locks (a lock's
//! address picks its group), so that a writer looking at one group's slots
//! mostly finds them unchanged since the last write looked, even while
//! the same threads read locks of other groups.
//!
//! A thread claims its slots the first time it reads and gives them back
//! when it exits. A writer looks through the slots up to the highest
//! thread's owned, so that after a burst of threads has exited, writes look
//! through only as many as the threads still alive need. The slots are a
//! fixed array, so a thread beyond the first [`THREADS`] alive at once
//! reads through the lock's readers' count instead.

// Under a model checker the maps use the checker's lock, and only the
// lock's own model tests use the slots.
#![cfg_attr(any(racefree_loom, racefree_shuttle), allow(dead_code))]

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
use std::cell::Cell;
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};

use crossbeam_utils::CachePadded;

use crate::util::sync::{AtomicUsize, Mutex};

/// A slot's value while no thread owns it.
const FREE: usize = 0;
/// A slot's value while its thread reads no biased lock. Otherwise it holds
/// the address of the lock being read, which is never 0 or 1.
pub(crate) const IDLE: usize = 1;

/// A slot: a thread's, for one group of locks.
pub(crate) type Slot = CachePadded<AtomicUsize>;

/// How many slots each thread has, one per group of locks. Sixteen: with
/// one, exchange at 2 threads lost more than a quarter of its lead (see
/// `rw_lock.rs`). Each costs a thread 128 bytes (crossbeam pads a slot to
/// 128 bytes on x86-64).
pub(crate) const GROUPS: usize = 16;

/// How many threads alive at once can read without the readers' count:
/// more than the cores of the machines racefree is built for, in 1 MiB of
/// zeroed memory (`.bss`) whose pages stay untouched beyond the threads'
/// in use.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const THREADS: usize = 512;

/// Every thread's slots, and how far threads have claimed them.
///
/// Laid out by group, so that a writer's look through one group's slots
/// reads consecutive lines. Laid out by thread, a thread's slots 2 KiB
/// apart, the lines a write looked at all fell in the same few sets of the
/// first-level cache: with 64 and 256 threads alive and idle, an insert
/// into a ShardedMap took about 100 and 550 ns more than with none; laid
/// out by group, 45 and 165 (best of 5 rounds of 1 M inserts; two runs by
/// thread, the median of five by group; on the 2-core AMD machine of
/// BENCHMARKS.md's "The bias kept").
pub(crate) struct Registry<const N: usize> {
    /// Thread `i`'s slot for group `g` is `slots[g][i]`. A thread's slots
    /// are all [`FREE`] or all owned.
    slots: [[Slot; N]; GROUPS],
    /// One past the highest thread's slots owned: writers look no further.
    /// Changed only under `changing`.
    in_use: AtomicUsize,
    /// Held while slots are claimed or given back: a claim must not come
    /// between a give-back's look for the highest owned slots and its
    /// lowering of `in_use`, or `in_use` could end below a claimed slot.
    /// Threads start and exit far too seldom for a lock-free protocol to
    /// pay for itself.
    changing: Mutex<()>,
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
static REGISTRY: Registry<THREADS> = Registry {
    slots: [const { [const { CachePadded::new(AtomicUsize::new(FREE)) }; THREADS] }; GROUPS],
    in_use: AtomicUsize::new(0),
    changing: Mutex::new(()),
};

impl<const N: usize> Registry<N> {
    /// Slots for a test.
    #[cfg(any(test, racefree_loom))]
    pub(crate) fn new() -> Self {
        Self {
            slots: std::array::from_fn(|_| {
                std::array::from_fn(|_| CachePadded::new(AtomicUsize::new(FREE)))
            }),
            in_use: AtomicUsize::new(0),
            changing: Mutex::new(()),
        }
    }

    /// `group`'s slots up to the highest thread's owned (some below may be
    /// free).
    ///
    /// `SeqCst`, with the claim's: a writer sets `WRITER` on a lock, then
    /// loads this, then looks through the slots; a reader claims its slots,
    /// then names the lock in one, then looks for a writer. If the reader
    /// found none, its look came before the writer's `WRITER` in the single
    /// order of `SeqCst` operations, so its claim came before this load,
    /// which therefore covers its slot. (`Acquire` and `Release` would not
    /// do: nothing makes the claim happen before the load.)
    #[inline]
    pub(crate) fn in_use(&self, group: usize) -> &[Slot] {
        &self.slots[group][..self.in_use.load(SeqCst).min(N)]
    }

    /// Thread `thread`'s slot for `group`.
    #[inline]
    pub(crate) fn slot(&self, group: usize, thread: usize) -> &Slot {
        &self.slots[group][thread]
    }

    /// The lowest free thread's slots, now [`IDLE`] and this caller's, if
    /// any are left: the thread's index.
    pub(crate) fn claim(&self) -> Option<usize> {
        let _changing = self.changing.lock();
        let thread = (0..N).find(|&thread| !self.owned(thread))?;
        for group in &self.slots {
            group[thread].store(IDLE, Relaxed);
        }
        self.in_use.fetch_max(thread + 1, SeqCst);
        Some(thread)
    }

    /// Gives `thread`'s slots back; it no longer reads through them.
    /// Lowers `in_use` past the free slots at its end.
    pub(crate) fn give_back(&self, thread: usize) {
        let _changing = self.changing.lock();
        for group in &self.slots {
            group[thread].store(FREE, Release);
        }
        let owned = (0..self.in_use.load(Relaxed)).rposition(|thread| self.owned(thread));
        self.in_use.store(owned.map_or(0, |i| i + 1), SeqCst);
    }

    /// Whether a thread owns `thread`'s slots. Called under `changing`.
    fn owned(&self, thread: usize) -> bool {
        self.slots[0][thread].load(Relaxed) != FREE
    }
}

/// `group`'s slots, which the writers of its locks look through.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[inline]
pub(crate) fn in_use(group: usize) -> &'static [Slot] {
    REGISTRY.in_use(group)
}

/// This thread's hold on its slots.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[derive(Clone, Copy)]
enum Mine {
    /// Not claimed yet.
    Unclaimed,
    /// Claimed: the thread's index in the registry.
    Claimed(usize),
    /// None left when this thread asked, or the thread is exiting.
    Without,
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
thread_local! {
    /// Read on every read through a slot: `const` and without a
    /// destructor, so that reaching it costs one load.
    static MINE: Cell<Mine> = const { Cell::new(Mine::Unclaimed) };
    /// Gives the slots back when the thread exits.
    static OWNER: Owner = const { Owner(Cell::new(None)) };
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
struct Owner(Cell<Option<usize>>);

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
impl Drop for Owner {
    fn drop(&mut self) {
        MINE.set(Mine::Without);
        if let Some(thread) = self.0.get() {
            REGISTRY.give_back(thread);
        }
    }
}

/// This thread's slot for `group`, its slots claimed on first use; `None`
/// if every thread's are taken or the thread is exiting.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[inline]
pub(crate) fn mine(group: usize) -> Option<&'static Slot> {
    let thread = match MINE.get() {
        Mine::Claimed(thread) => thread,
        Mine::Without => return None,
        Mine::Unclaimed => claim_mine()?,
    };
    Some(REGISTRY.slot(group, thread))
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[cold]
fn claim_mine() -> Option<usize> {
    let thread = REGISTRY.claim();
    let kept = thread.filter(|&thread| OWNER.try_with(|owner| owner.0.set(Some(thread))).is_ok());
    if let (Some(thread), None) = (thread, kept) {
        REGISTRY.give_back(thread);
    }
    MINE.set(kept.map_or(Mine::Without, Mine::Claimed));
    kept
}

#[cfg(all(test, not(any(racefree_loom, racefree_shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn slots_are_claimed_once_until_given_back() {
        let registry = Registry::<2>::new();
        assert!(registry.in_use(0).is_empty());
        let first = registry.claim().expect("free slots");
        let second = registry.claim().expect("free slots");
        assert_ne!(first, second);
        for group in 0..GROUPS {
            for thread in [first, second] {
                assert_eq!(registry.slot(group, thread).load(Relaxed), IDLE);
            }
        }
        assert!(registry.claim().is_none(), "a third thread's out of two");
        assert_eq!(registry.in_use(GROUPS - 1).len(), 2);
        registry.give_back(first);
        assert_eq!(registry.claim(), Some(first));
    }

    /// Writers look through no more slots than the highest thread's owned:
    /// `in_use` falls when the slots at its end are given back, in any
    /// order, and rises again with the next claim beyond it.
    #[test]
    fn in_use_ends_at_the_highest_owned_slot() {
        let registry = Registry::<4>::new();
        let threads: Vec<_> = (0..3).map(|_| registry.claim().unwrap()).collect();
        assert_eq!(threads, [0, 1, 2]);
        assert_eq!(registry.in_use(0).len(), 3);
        registry.give_back(1);
        assert_eq!(registry.in_use(0).len(), 3, "thread 2's are still owned");
        registry.give_back(2);
        assert_eq!(registry.in_use(0).len(), 1, "threads 1 and 2's are free");
        assert_eq!(registry.claim(), Some(1), "the lowest free");
        assert_eq!(registry.in_use(0).len(), 2);
        registry.give_back(0);
        registry.give_back(1);
        assert!(registry.in_use(0).is_empty());
    }

    /// Threads one after another, more than there are slots for, each get
    /// theirs: a thread's slots are given back when it exits.
    #[test]
    fn an_exiting_thread_gives_its_slots_back() {
        for _ in 0..THREADS + 64 {
            let slot = std::thread::spawn(|| mine(0)).join().unwrap();
            assert!(slot.is_some(), "no slots left");
        }
    }
}
