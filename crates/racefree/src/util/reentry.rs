//! Turns a call that would deadlock into a panic that says why.
//!
//! Lock-based maps run some user closures while holding a lock. If such a
//! closure calls back into the same map, the call would wait for a lock its
//! own thread holds, forever (the bug dashmap users report most). Each
//! thread records which map's closure it is running; every entry point
//! checks that record first and panics with a message naming the map and
//! both operations. The check is one thread-local read.
//!
//! Any re-entrant call panics, even one that would find a free shard: a call
//! that waits on another shard could deadlock against a second thread doing
//! the same in reverse, and a rule that holds for every call is one a user
//! can rely on.

use super::sync::thread_local_cell;

/// The closure this thread is running inside a map's lock.
#[derive(Clone, Copy)]
struct Active {
    /// The map's address, which identifies it while it is borrowed.
    map: usize,
    /// The operation whose closure is running.
    operation: &'static str,
}

thread_local_cell!(ACTIVE: Option<Active> = None);

/// Marks the current thread as running a closure of `operation` on `map`
/// until the returned scope is dropped (also on unwind).
#[inline]
pub(crate) fn enter(map: usize, operation: &'static str) -> Scope {
    Scope {
        previous: ACTIVE.with(|active| active.replace(Some(Active { map, operation }))),
    }
}

/// Restores the previous record when a closure returns or unwinds, so
/// closures of different maps can nest.
pub(crate) struct Scope {
    previous: Option<Active>,
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        ACTIVE.with(|active| active.set(self.previous));
    }
}

/// Panics if the current thread is inside a closure running under a lock of
/// `map`. Inlined: it runs on every call, and is one thread-local read.
#[inline]
#[track_caller]
pub(crate) fn check(map: usize, map_name: &'static str, operation: &'static str) {
    if let Some(active) = ACTIVE.with(|active| active.get())
        && active.map == map
    {
        reentered(map_name, operation, active.operation);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn reentered(map_name: &str, operation: &str, outer: &str) -> ! {
    panic!(
        "racefree::{map_name}::{operation} was called from inside the closure passed to \
         {map_name}::{outer} on the same map. That closure runs while the map holds a lock, \
         so the call would deadlock. Return what you need from the closure and make the call \
         after {map_name}::{outer} returns, or use for_each, whose callback may call the map."
    );
}

/// Whether the current thread is inside a closure running under a lock of
/// `map`.
pub(crate) fn is_active(map: usize) -> bool {
    ACTIVE
        .with(|active| active.get())
        .is_some_and(|active| active.map == map)
}
