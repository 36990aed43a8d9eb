//! Turns a call that would deadlock into a panic that says why: `retain`
//! runs its predicate under a shard's lock, so a predicate that calls the
//! same cache would wait for a lock its own thread holds. Every entry point
//! checks one thread-local word first.

use std::cell::Cell;

thread_local! {
    /// The address of the cache whose predicate this thread is running, or 0.
    static ACTIVE: Cell<usize> = const { Cell::new(0) };
}

/// Marks this thread as running a predicate of `cache` until dropped
/// (also on unwind).
pub(crate) fn enter(cache: usize) -> Scope {
    Scope {
        previous: ACTIVE.with(|active| active.replace(cache)),
    }
}

pub(crate) struct Scope {
    previous: usize,
}

impl Drop for Scope {
    fn drop(&mut self) {
        ACTIVE.with(|active| active.set(self.previous));
    }
}

/// Panics if this thread is inside a predicate of `cache`.
#[inline]
#[track_caller]
pub(crate) fn check(cache: usize, operation: &'static str) {
    if ACTIVE.with(Cell::get) == cache {
        reentered(operation);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn reentered(operation: &str) -> ! {
    panic!(
        "racefree_cache::Cache::{operation} was called from inside the predicate passed to \
         Cache::retain on the same cache. The predicate runs under a shard's lock, so the call \
         would deadlock. Collect what you need and call the cache after retain returns."
    );
}
