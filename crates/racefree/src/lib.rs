//! Concurrent maps that cannot deadlock on a held guard, behind one
//! contract.
//!
//! Go programs crash with `fatal error: concurrent map writes`; Rust's
//! compiler rules that out. What Rust programs still hit is the rest:
//! deadlocks from a guard held across a call, lock poisoning, lost updates
//! from check-then-act, memory never given back, and the wrong structure for
//! the workload. racefree answers each:
//!
//! - **No guards.** No method returns a reference into the map. Values come
//!   out by clone or move; anything else happens in a closure. A closure that
//!   calls back into its own map panics with a message that names both
//!   operations, instead of hanging.
//! - **No poisoning.** A panicking closure leaves the map usable and the key
//!   at its old value.
//! - **Atomic read-modify-write.** [`get_or_insert_with`], [`update`],
//!   [`compute`], [`compare_and_swap`] and [`compare_and_remove`] replace
//!   check-then-act.
//! - **Memory comes back.** Tables shrink as they empty; removed entries
//!   are freed (at once, or for [`ReadMostlyMap`] once readers are done).
//! - **One contract.** Every map implements [`ConcurrentMap`], so switching
//!   is a one-line change, and the same test suite checks them all.
//!
//! # Which map?
//!
//! Start with [`ShardedMap`]: it is the general-purpose map. On the
//! conc-map-bench workloads with 2^21 entries it runs ahead of dashmap,
//! papaya and scc at 1, 2 and 8 threads; on a map small enough to stay in
//! the cache, dashmap or scc may lead write-heavy work (BENCHMARKS.md in
//! the repository). The others are for the cases their rows name.
//!
//! | Go pattern | racefree | use it when |
//! |---|---|---|
//! | `orcaman/concurrent-map` | [`ShardedMap`] | the default: many threads read and write |
//! | `map` + `sync.RWMutex` | [`LockedMap`] | few threads, or the map is not hot; the baseline |
//! | `sync.Map` | [`ReadMostlyMap`] | data written once and read many times, or written on disjoint keys: lookups take no lock |
//! | one goroutine owns the map, requests over channels | [`OwnedMap`] | transactions over several keys ([`OwnedMap::with_map`]), state that must stay on one thread, async callers; not for hot lookups |
//!
//! Measure before you choose: the `racefree-bench` tool in this repository
//! runs the maps side by side on a workload you describe.
//!
//! # The contract
//!
//! [`ConcurrentMap`] lists the operations, with the Go and Java names beside
//! them. Every single-key operation is linearizable. Each map's docs have a
//! "Consistency" section saying what iteration and [`len`] observe while
//! other threads write, and a "Closures" section saying under which lock a
//! closure runs and whether it can run twice.
//!
//! # Hashing
//!
//! Every map hashes with [`DefaultHashBuilder`] unless given another
//! [`BuildHasher`](std::hash::BuildHasher): a fast hasher seeded per map,
//! so keys chosen by an attacker cannot be made to collide in advance.
//!
//! # Example
//!
//! ```
//! use racefree::{ConcurrentMap, ShardedMap};
//! use std::thread;
//!
//! let sessions = ShardedMap::new();
//! thread::scope(|s| {
//!     for worker in 0..4u32 {
//!         let sessions = &sessions;
//!         s.spawn(move || {
//!             // Exactly one thread creates the entry; all see the same value.
//!             let created_by = sessions.get_or_insert_with("shared", || worker);
//!             assert_eq!(sessions.get("shared"), Some(created_by));
//!         });
//!     }
//! });
//! assert_eq!(sessions.len(), 1);
//! ```
//!
//! [`get_or_insert_with`]: ConcurrentMap::get_or_insert_with
//! [`update`]: ConcurrentMap::update
//! [`compute`]: ConcurrentMap::compute
//! [`compare_and_swap`]: ConcurrentMap::compare_and_swap
//! [`compare_and_remove`]: ConcurrentMap::compare_and_remove
//! [`len`]: ConcurrentMap::len

#![deny(unsafe_code)]

mod bucket_hint;
mod growing_table;
mod hash;
mod lock_based;
mod locked;
mod locked_table;
mod map;
mod owned;
mod read_mostly;
mod sharded;
mod util;

pub use hash::{DefaultHashBuilder, shard_index};
pub use locked::LockedMap;
pub use map::{Action, ConcurrentMap};
pub use owned::OwnedMap;
pub use read_mostly::ReadMostlyMap;
pub use sharded::ShardedMap;

/// The reader-biased lock on the maps' tables (`util/rw_lock.rs`), for
/// racefree-cache's shards. Not part of racefree's API: it may change in
/// any release.
#[doc(hidden)]
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub mod biased_lock {
    pub use crate::util::rw_lock::{RawRwLock, ReadGuard, RwLock, read_biased};
}

/// Starts loading a cache line (`util/prefetch.rs`), for racefree-cache's
/// frequency sketch. Not part of racefree's API: it may change in any
/// release.
#[doc(hidden)]
pub use util::prefetch::prefetch;

/// Where a table's buckets are, so that a call can start loading its
/// key's before it takes the lock (`bucket_hint.rs`), for racefree-cache's
/// shards. Not part of racefree's API: it may change in any release.
#[doc(hidden)]
pub use bucket_hint::BucketHint;

#[cfg(test)]
mod tests {
    use std::panic::{RefUnwindSafe, UnwindSafe};

    fn usable_across_catch_unwind<T: RefUnwindSafe + UnwindSafe>() {}

    /// No map poisons, so each may be used across `catch_unwind`.
    #[test]
    fn every_map_may_be_used_across_catch_unwind() {
        usable_across_catch_unwind::<crate::ReadMostlyMap<String, Vec<u8>>>();
        usable_across_catch_unwind::<crate::LockedMap<String, Vec<u8>>>();
        usable_across_catch_unwind::<crate::ShardedMap<String, Vec<u8>>>();
        usable_across_catch_unwind::<crate::OwnedMap<String, Vec<u8>>>();
    }
}
