//! The cache's counters.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crossbeam_utils::CachePadded;
use thread_local::ThreadLocal;

/// A shard's counters. Written only under the shard's exclusive lock, so
/// a plain load and store suffice (`shared_hits` aside, see there); read
/// without the lock by [`Cache::stats`](crate::Cache::stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    /// Hits found under the shared lock, for the policy alone: readers
    /// bump it with a plain load and store, so two at once may count one
    /// hit (see [`ReaderHits`] for the exact count).
    shared_hits: AtomicU64,
    misses: AtomicU64,
    insertions: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
}

/// Adds `n` to a counter whose writers all hold the same lock.
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed) + n, Relaxed);
}

impl Counters {
    pub(crate) fn hit(&self) {
        bump(&self.hits, 1);
    }
    /// Counts a hit found under the shard's shared lock, for the policy.
    /// An atomic add here, with the exact count it kept, cost about 4 ns
    /// of a 27 ns hit on one thread; a count lost to a concurrent reader
    /// only nudges the policy's estimate of the hit ratio.
    #[inline]
    pub(crate) fn shared_hit(&self) {
        bump(&self.shared_hits, 1);
    }
    /// The policy's count of shared hits. It can step back when readers
    /// race (one stores a count another had already passed).
    pub(crate) fn shared_hits(&self) -> u64 {
        self.shared_hits.load(Relaxed)
    }
    /// What a reader that lost a race leaves behind.
    #[cfg(test)]
    pub(crate) fn step_shared_hits_back_to(&self, n: u64) {
        self.shared_hits.store(n, Relaxed);
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
