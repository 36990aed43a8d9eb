//! A bounded concurrent cache: the one a Rust service should reach for
//! first.
//!
//! - **Bounded** by entry count or by weight ([`CacheBuilder::weigher`]),
//!   at every moment, under any concurrency.
//! - **An eviction policy chosen by measured hit ratio**: W-TinyLFU by
//!   default; [`policy`] explains the four compared and racefree-bench's
//!   `cache` command measures them on your keys.
//! - **Single flight**: [`Cache::get_or_insert_with`] runs one loader per
//!   missing key however many callers miss at once; a loader that panics
//!   or fails releases its waiters. With the `async` feature,
//!   `Cache::get_or_insert_with_async` does the same for a future, and a
//!   leader whose future is dropped releases its waiters too.
//! - **Expiry**: a time-to-live ([`CacheBuilder::time_to_live`]),
//!   time-to-idle ([`CacheBuilder::time_to_idle`]) and per-entry
//!   lifetimes ([`CacheBuilder::expire_after`],
//!   [`Cache::insert_with_ttl`]), on a [`Clock`] that tests replace with a
//!   [`ManualClock`]. A cache whose entries cannot expire reads no clock.
//! - **Observable**: [`Cache::stats`] (lock-free counters) and an eviction
//!   listener called once per entry that leaves, with its
//!   [`RemovalCause`].
//! - **No guards, no poisoning**: values come out by clone, no user code
//!   runs under a lock except [`Cache::retain`]'s predicate (which panics
//!   instead of deadlocking if it calls the cache).
//!
//! # Features
//!
//! - `async`: `Cache::get_or_insert_with_async` and
//!   `Cache::try_get_or_insert_with_async`. Runtime-agnostic: waiters
//!   await an `event-listener` event, which blocking callers wait on too.
//!
//! `examples/http_service.rs` is an axum service whose handlers share a
//! cache in front of a slow backend; its test checks that concurrent
//! misses of a user make one backend call.
//!
//! # Layout
//!
//! Each shard is a single-threaded store (a key index holding the keys and
//! values, a slab of the policy's nodes with its queues threaded through
//! them) behind its own reader-writer lock, as in quick_cache. The policy
//! code never sees a lock, so it is tested alone, and a trace replays
//! through it exactly.
//! Lookups take the lock shared. The lock is racefree's table lock, biased
//! to readers: a hit writes only cache lines of its own thread's (it
//! counts itself for the stats and the policy in its own cell), so hits
//! on many cores do not take turns on a shared line. A hit counts in the
//! entry it found, with a plain load and store, and the policy reads that
//! count when it next looks at the entry (every policy but LRU works this
//! way: see [`policy`]). A miss under W-TinyLFU (the one policy that
//! learns from misses), and a hit under LRU, is recorded in a small
//! per-shard buffer; other misses count in the thread's own cell, as hits
//! do. Whoever next takes the lock exclusively (a write, or
//! a lookup that finds the buffer half full) applies the records to the
//! policy in order, before changing anything, as Caffeine's read buffers
//! do. On one thread the policy sees exactly the calls made (but
//! W-TinyLFU's tally of hits, from which it tunes its window, hears of
//! them 16 at a time); under
//! contention, two hits on one entry at the same moment may count once,
//! and a lookup that finds the buffer full is counted in the stats but not
//! recorded. Keys and values must be `Sync`, since lookups on many threads
//! read them at once.
//!
//! The shards are not racefree maps: the policies thread their queues
//! through the entries, which a map behind the common contract does not
//! expose; the cache shares racefree's hasher.
//!
//! # Memory
//!
//! Measured by racefree-bench's `cache` command (its allocator counts every
//! byte; `BENCHMARKS.md` has the table): a full cache of 65 536 `u64` keys
//! and values takes 124 bytes per entry, 108 beyond the key and value,
//! with W-TinyLFU, and 90 (74 beyond) with the other policies;
//! quick_cache took 55 to 70 (across runs) and moka about 230. Where the
//! 108 bytes go: the index bucket besides the key and value (the entry's
//! slot and hit count, 8 with padding) and its control byte, at 8 192
//! entries a shard half full, so twice that; the policy's node in the
//! slab (the entry's hash, weight, queue links and queue, 32 with padding,
//! and the slab's tag, 8); W-TinyLFU's frequency sketch (32 byte counters
//! per entry of capacity: 32); and the shards' own state (under 1). The
//! key and value sit in the index, not in the node, so that a hit reads
//! one bucket: that costs their size again in empty buckets when the
//! index is half full, as here (hashbrown's tables are powers of two, at
//! most 7/8 full). Once any entry can expire, each entry's two deadlines
//! (16 bytes) and a timer (16) are added. Larger keys and values add
//! their own size (and their heap memory, if any) to the bucket. Each
//! thread that hits the cache has a count for the stats, padded against
//! false sharing to 256 bytes. The counts come in groups by thread index
//! (the `thread_local` crate's, which reuses the indices of threads that
//! ended), doubling in size: a cache hit from a process's hundredth live
//! thread holds a group of 64 (16 KiB).
//!
//! # Speed
//!
//! A call first starts loading its key's index bucket, from an address each
//! shard publishes for the purpose (racefree's `bucket_hint.rs`), so that
//! the load overlaps taking the lock: hits on 2 and 8 threads rose 12 to
//! 20 % with it. A hit then takes the shard's lock shared, finds its entry in
//! that bucket, counts in it and in the calling thread's own count (plain
//! loads and stores; every 16th hit in a shard adds 16 to the shard's
//! count, for the policy and [`Cache::stats`]), and clones the value. The
//! lock is the only atomic read-modify-write of 15 hits in 16, where
//! quick_cache's hit takes two; but the hit runs about twice quick_cache's
//! instructions (some 190 against 95 in racefree-bench's hits at one
//! thread, callgrind), which is why one thread trails it. The entry's count
//! stops at 15, so a hot entry's line is only read, and stays shared
//! between cores: on three 2-core machines, two Intel and one AMD, hits on
//! 2 and 8 threads ran 1.0 to 2.3 times quick_cache's speed (0.6 to 1.2 on
//! one thread). Under W-TinyLFU the frequency sketch and the queues learn
//! of a hit only when eviction next looks at the entry. A miss costs more:
//! W-TinyLFU counts it in the sketch, and the insert that usually follows
//! weighs the newcomer against the main area's coldest entries.
//! `BENCHMARKS.md` has the figures.
//!
//! # Example
//!
//! ```
//! use racefree_cache::Cache;
//!
//! let cache: Cache<u64, String> = Cache::new(10_000);
//! let page = cache.get_or_insert_with(7, || format!("rendered page {}", 7));
//! assert_eq!(page, "rendered page 7");
//! assert_eq!(cache.get(&7).as_deref(), Some("rendered page 7"));
//! ```

#![deny(unsafe_code)]

mod accesses;
mod builder;
mod cache;
mod clock;
mod expiry;
mod flight;
mod node;
pub mod policy;
mod queue;
mod reentry;
mod removal;
mod stats;
mod store;
mod timers;

pub use builder::{BuildError, CacheBuilder};
pub use cache::Cache;
pub use clock::{Clock, ManualClock, SystemClock};
pub use removal::RemovalCause;
pub use stats::CacheStats;

// The README's examples use both crates; this one depends on both.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
