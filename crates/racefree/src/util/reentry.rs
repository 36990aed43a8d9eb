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

// What closure this thread is running inside a map's lock. Two cells, so
// that the check every call makes reads one word: the map's address (0 when
// no closure runs; it identifies the map while it is borrowed), and the
// operation, read only to build the panic message.
thread_local_cell!(ACTIVE_MAP: usize = 0);
thread_local_cell!(ACTIVE_OPERATION: &'static str = "");

/// Marks the current thread as running a closure of `operation` on `map`
/// until the returned scope is dropped (also on unwind).
#[inline]
pub(crate) fn enter(map: usize, operation: &'static str) -> Scope {
    Scope {
        previous_map: ACTIVE_MAP.with(|active| active.replace(map)),
        previous_operation: ACTIVE_OPERATION.with(|active| active.replace(operation)),
    }
}

/// Restores the previous record when a closure returns or unwinds, so
/// closures of different maps can nest.
pub(crate) struct Scope {
    previous_map: usize,
    previous_operation: &'static str,
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        ACTIVE_MAP.with(|active| active.set(self.previous_map));
        ACTIVE_OPERATION.with(|active| active.set(self.previous_operation));
    }
}

/// Panics if the current thread is inside a closure running under a lock of
/// `map`. Inlined: it runs on every call, and is one thread-local read.
#[inline]
#[track_caller]
pub(crate) fn check(map: usize, map_name: &'static str, operation: &'static str) {
    if is_active(map) {
        reentered(
            map_name,
            operation,
            ACTIVE_OPERATION.with(|active| active.get()),
        );
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
#[inline]
pub(crate) fn is_active(map: usize) -> bool {
    ACTIVE_MAP.with(|active| active.get()) == map
}
