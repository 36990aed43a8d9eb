//! One cache line per thread in which a reader names the lock it is
//! reading, so that reading a biased [`RawRwLock`](super::rw_lock::RawRwLock)
//! writes only a line of the reader's own.
//!
//! A thread claims a slot the first time it reads and gives it back when it
//! exits. A writer revoking a lock's bias looks through the slots claimed so
//! far for readers of that lock. The slots are a fixed array, so a thread
//! beyond the first [`SLOTS`] alive at once reads through the lock's
//! readers' count instead.

// Under a model checker the maps use the checker's lock, and only the
// lock's own model tests use the slots.
#![cfg_attr(any(racefree_loom, racefree_shuttle), allow(dead_code))]

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
use std::cell::Cell;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crossbeam_utils::CachePadded;

use crate::util::sync::AtomicUsize;

/// A slot's value while no thread owns it.
const FREE: usize = 0;
/// A slot's value while its thread reads no biased lock. Otherwise it holds
/// the address of the lock being read, which is never 0 or 1.
pub(crate) const IDLE: usize = 1;

/// A thread's slot.
pub(crate) type Slot = CachePadded<AtomicUsize>;

/// How many threads alive at once can read without the readers' count:
/// more than the cores of the machines racefree is built for, in 64 KiB
/// (crossbeam pads a slot to 128 bytes on x86-64) that stay untouched
/// beyond the slots in use.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const SLOTS: usize = 512;

/// Every slot, and how far threads have claimed them.
pub(crate) struct Registry<const N: usize> {
    slots: [Slot; N],
    /// One past the highest slot ever claimed: writers look no further.
    in_use: AtomicUsize,
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
static REGISTRY: Registry<SLOTS> = Registry {
    slots: [const { CachePadded::new(AtomicUsize::new(FREE)) }; SLOTS],
    in_use: AtomicUsize::new(0),
};

impl<const N: usize> Registry<N> {
    /// Slots for a test.
    #[cfg(any(test, racefree_loom))]
    pub(crate) fn new() -> Self {
        Self {
            slots: std::array::from_fn(|_| CachePadded::new(AtomicUsize::new(FREE))),
            in_use: AtomicUsize::new(0),
        }
    }

    /// Slots claimed so far (some may since have been given back).
    #[inline]
    pub(crate) fn in_use(&self) -> &[Slot] {
        &self.slots[..self.in_use.load(Acquire).min(N)]
    }

    /// A free slot, now [`IDLE`] and this caller's, if any is left.
    pub(crate) fn claim(&self) -> Option<&Slot> {
        let (index, slot) = self
            .slots
            .iter()
            .enumerate()
            .find(|(_, slot)| slot.compare_exchange(FREE, IDLE, Relaxed, Relaxed).is_ok())?;
        // `Release` with `in_use`'s `Acquire`: a writer that finds the slot
        // in range reads it after the claim.
        self.in_use.fetch_max(index + 1, Release);
        Some(slot)
    }

    /// Gives `slot` back; its thread no longer reads through it.
    pub(crate) fn give_back(slot: &Slot) {
        slot.store(FREE, Release);
    }
}

/// The slots every biased lock's writer looks through.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[inline]
pub(crate) fn in_use() -> &'static [Slot] {
    REGISTRY.in_use()
}

/// This thread's hold on a slot.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[derive(Clone, Copy)]
enum Mine {
    /// Not claimed yet.
    Unclaimed,
    Claimed(&'static Slot),
    /// None left when this thread asked, or the thread is exiting.
    Without,
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
thread_local! {
    /// Read on every biased read: `const` and without a destructor, so
    /// that reaching it costs one load.
    static MINE: Cell<Mine> = const { Cell::new(Mine::Unclaimed) };
    /// Gives the slot back when the thread exits.
    static OWNER: Owner = const { Owner(Cell::new(None)) };
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
struct Owner(Cell<Option<&'static Slot>>);

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
impl Drop for Owner {
    fn drop(&mut self) {
        MINE.set(Mine::Without);
        if let Some(slot) = self.0.get() {
            Registry::<SLOTS>::give_back(slot);
        }
    }
}

/// This thread's slot, claimed on first use; `None` if every slot is taken
/// or the thread is exiting.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[inline]
pub(crate) fn mine() -> Option<&'static Slot> {
    match MINE.get() {
        Mine::Claimed(slot) => Some(slot),
        Mine::Without => None,
        Mine::Unclaimed => claim_mine(),
    }
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
#[cold]
fn claim_mine() -> Option<&'static Slot> {
    let slot = REGISTRY.claim();
    let kept = slot.filter(|slot| OWNER.try_with(|owner| owner.0.set(Some(slot))).is_ok());
    if let (Some(slot), None) = (slot, kept) {
        Registry::<SLOTS>::give_back(slot);
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
        assert!(registry.in_use().is_empty());
        let first = registry.claim().expect("a free slot");
        let second = registry.claim().expect("a free slot");
        assert!(!std::ptr::eq(first, second));
        assert!(registry.claim().is_none(), "a third slot out of two");
        assert_eq!(registry.in_use().len(), 2);
        Registry::<2>::give_back(first);
        assert!(std::ptr::eq(registry.claim().unwrap(), first));
    }

    /// Threads one after another, more than there are slots, each get
    /// one: a thread's slot is given back when it exits.
    #[test]
    fn an_exiting_thread_gives_its_slot_back() {
        for _ in 0..SLOTS + 64 {
            let slot = std::thread::spawn(mine).join().unwrap();
            assert!(slot.is_some(), "no slot left");
        }
    }
}
