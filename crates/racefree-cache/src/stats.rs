//! The cache's counters.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

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

/// Lookups under a shard's shared lock that the policy does not hear of
/// one by one, counted exactly: hits, and misses under a policy that
/// ignores them. Each thread counts in a cell of its own with a plain
/// load and store, and [`Cache::stats`](crate::Cache::stats) adds the
/// cells up. A cell outlives its thread, so no count is lost when a
/// thread ends.
///
/// A cell counts its thread's hits per shard, so that a hit writes only
/// the thread's own line: [`hit`](Self::hit) says when [`HIT_SAMPLE`]
/// more have built up in a shard, and the caller hands them to the shard,
/// whose count then holds them for both the policy and the stats. The
/// cell keeps no total of its own, so a hit writes one counter. (Against
/// a total kept beside the per-shard counts, hits on one thread moved
/// within the noise: 0.78 to 0.79 of quick_cache's speed with it, 0.78 to
/// 0.81 without, in three alternating runs of racefree-bench's `cache
/// --speed-only --threads 1,2,8 --reps 5`.)
///
/// `thread_local` gives each thread its cell for this cache; each cell is
/// padded to its own cache line so that threads do not slow each other.
#[derive(Debug)]
pub(crate) struct ReaderCounts {
    cells: ThreadLocal<CachePadded<CountCell>>,
    shards: usize,
}

/// One thread's misses, and its hits per shard modulo 256.
#[derive(Debug)]
struct CountCell {
    misses: AtomicU64,
    hits_per_shard: Box<[AtomicU8]>,
}

/// How many of a thread's hits in one shard are handed to the shard's
/// policy at once. The policy only estimates a hit ratio from them, over
/// ten times its capacity in lookups; it learns of each hit at most this
/// many hits late. In seven runs each of racefree-bench's hit ratios,
/// Zipf 0.8 kept 32.95 to 33.03 % (mean 32.98) against 32.96 to 33.09
/// (33.03) with every hit told at once, and the other rows moved within
/// their run-to-run range. Handing on 4 at a time cost hits at 8 threads
/// on 2 cores about a third of the gain (25 to 27 M/s against 34 to 40).
pub(crate) const HIT_SAMPLE: u8 = 16;
const _: () = assert!(256 % HIT_SAMPLE as u16 == 0);

impl ReaderCounts {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            cells: ThreadLocal::new(),
            shards,
        }
    }

    /// Counts a hit in shard `shard`; true at every [`HIT_SAMPLE`]th of
    /// this thread's hits there, when the caller hands that many to the
    /// shard.
    #[inline]
    pub(crate) fn hit(&self, shard: usize) -> bool {
        // Wrapping: `HIT_SAMPLE` divides 256, so every `HIT_SAMPLE`th hit
        // lands on a multiple of it.
        let in_shard = &self.cell().hits_per_shard[shard];
        let hits = in_shard.load(Relaxed).wrapping_add(1);
        in_shard.store(hits, Relaxed);
        hits % HIT_SAMPLE == 0
    }

    /// Counts a miss.
    #[inline]
    pub(crate) fn miss(&self) {
        bump(&self.cell().misses, 1);
    }

    #[inline]
    fn cell(&self) -> &CachePadded<CountCell> {
        match self.cells.get() {
            Some(cell) => cell,
            None => self.new_cell(),
        }
    }

    /// This thread's first count: makes its cell. Out of line, as
    /// `get_or`'s closure kept the lookup of the cell from being inlined
    /// (34 instructions a hit, counted by callgrind).
    #[cold]
    fn new_cell(&self) -> &CachePadded<CountCell> {
        self.cells.get_or(|| {
            CachePadded::new(CountCell {
                misses: AtomicU64::new(0),
                hits_per_shard: (0..self.shards).map(|_| AtomicU8::new(0)).collect(),
            })
        })
    }

    pub(crate) fn add_to(&self, stats: &mut CacheStats) {
        for cell in &self.cells {
            // Hits not yet handed to their shard.
            stats.hits += cell
                .hits_per_shard
                .iter()
                .map(|hits| u64::from(hits.load(Relaxed) % HIT_SAMPLE))
                .sum::<u64>();
            stats.misses += cell.misses.load(Relaxed);
        }
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
