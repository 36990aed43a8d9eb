//! The cache's counters.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crossbeam_utils::CachePadded;
use thread_local::ThreadLocal;

/// A shard's counters. Written only under the shard's exclusive lock, so
/// a plain load and store suffice; read without the lock by
/// [`Cache::stats`](crate::Cache::stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    insertions: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
}

/// Adds `n` with a plain load and store, no read-modify-write: exact
/// where one writer at a time bumps the counter (under an exclusive lock,
/// or in a thread's own cell); writers that race may lose counts.
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed) + n, Relaxed);
}

impl Counters {
    pub(crate) fn hit(&self) {
        bump(&self.hits, 1);
    }
    pub(crate) fn miss(&self) {
        bump(&self.misses, 1);
    }
    pub(crate) fn inserted(&self) {
        bump(&self.insertions, 1);
    }
    pub(crate) fn evicted(&self, n: u64) {
        bump(&self.evictions, n);
    }
    pub(crate) fn expired(&self, n: u64) {
        bump(&self.expirations, n);
    }

    pub(crate) fn add_to(&self, stats: &mut CacheStats) {
        stats.hits += self.hits.load(Relaxed);
        stats.misses += self.misses.load(Relaxed);
        stats.insertions += self.insertions.load(Relaxed);
        stats.evictions += self.evictions.load(Relaxed);
        stats.expirations += self.expirations.load(Relaxed);
    }
}

/// Hits found under a shard's shared lock, counted exactly: each thread
/// counts in a cell of its own with a plain load and store, and
/// [`Cache::stats`](crate::Cache::stats) adds the cells up. A cell outlives
/// its thread, so no count is lost when a thread ends.
///
/// `thread_local` gives each thread its cell for this cache; each cell is
/// padded to its own cache line so that threads do not slow each other.
#[derive(Debug, Default)]
pub(crate) struct ReaderHits(ThreadLocal<CachePadded<AtomicU64>>);

impl ReaderHits {
    #[inline]
    pub(crate) fn count(&self) {
        bump(self.0.get_or_default(), 1);
    }

    pub(crate) fn add_to(&self, stats: &mut CacheStats) {
        stats.hits += self.0.iter().map(|hits| hits.load(Relaxed)).sum::<u64>();
    }
}

/// What the cache has done since it was made, from
/// [`Cache::stats`](crate::Cache::stats).
///
/// Read without locks: under concurrent calls the fields are each exact
/// for some recent moment, not necessarily the same one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found their key (`get`, `contains_key`, and the
    /// `get_or_insert_with` family).
    pub hits: u64,
    /// Lookups that did not. A `get_or_insert_with` that waited for another
    /// caller's loader counts as a miss.
    pub misses: u64,
    /// Values stored: new keys and replacements, by `insert` and by loaders.
    pub insertions: u64,
    /// Entries the policy evicted to stay within the capacity (and entries
    /// refused for weighing more than a shard's capacity).
    pub evictions: u64,
    /// Entries removed because their time-to-live or time-to-idle ran out.
    pub expirations: u64,
}

impl CacheStats {
    /// Hits divided by lookups; 0 before the first lookup.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}
