//! Eviction policies: which entry leaves when a shard is full.
//!
//! Each policy is single-threaded and knows nothing of locks: a
//! shard's store drives one, and the concurrent
//! [`Cache`](crate::Cache) puts a lock around each of its shards' stores
//! (quick_cache's layout). That keeps every policy testable on its own and
//! lets the hit-ratio benchmark replay traces through each of them.
//!
//! Every policy but [`Lru`] only counts a hit in the entry it found: a
//! lookup then takes the shard's lock shared and leaves the policy alone,
//! and the policy reads the count when it next looks at the entry (as
//! eviction scans its queues). [`Lru`] must move every entry it finds, so
//! its hits are recorded and applied in order under the exclusive lock.
//!
//! | policy | on a hit | on eviction | from |
//! |---|---|---|---|
//! | [`Lru`] | moves the entry to the head | the tail | the baseline |
//! | [`Sieve`] | counts in the entry | a hand sweeps from the tail, clearing counts, and takes the first entry not hit | Zhang et al., NSDI '24 |
//! | [`S3Fifo`] | counts in the entry (up to 3 matter) | a small FIFO for new entries, a main FIFO with reinsertion, a ghost FIFO of recently evicted hashes | Yang et al., SOSP '23 |
//! | [`TinyLfu`] | counts in the entry | a 1 % window, then a segmented main area that admits a newcomer only if a frequency sketch says it is more frequent than the entry it would evict (the least frequent of the main area's 8 oldest not hit since last looked at); an entry's hits go to the sketch, and move it, when the policy next looks at it | Einziger et al., "TinyLFU" (2017); Caffeine's W-TinyLFU |
//!
//! racefree-bench's `cache` command compares their hit ratios on Zipf
//! keys, a real trace and a scan mix; `BENCHMARKS.md` has the figures that
//! chose [`DefaultPolicy`].

mod lru;
mod s3_fifo;
mod sieve;
mod sketch;
mod tiny_lfu;

pub use lru::Lru;
pub use s3_fifo::S3Fifo;
pub use sieve::Sieve;
pub use tiny_lfu::TinyLfu;

/// The policy a [`Cache`](crate::Cache) uses unless told otherwise: the
/// best measured hit ratio across the benchmark's workloads.
pub type DefaultPolicy = TinyLfu;

/// An eviction policy. Implemented by [`Lru`], [`Sieve`], [`S3Fifo`] and
/// [`TinyLfu`]; sealed, because its methods work on the store's internals.
pub trait Policy: sealed::Policy + Send + Sync + 'static {}

pub(crate) mod sealed {
    use crate::node::Nodes;

    /// The policy's side of a store. Entries are slab indices; a policy
    /// links and unlinks them in its own queues and never frees them.
    pub trait Policy {
        /// The policy's name in reports.
        const NAME: &'static str;

        /// A policy for a store holding at most `capacity` weight.
        fn with_capacity(capacity: u64) -> Self;

        /// The store's capacity changed.
        fn set_capacity(&mut self, capacity: u64);

        /// Whether a hit only counts in its entry
        /// ([`Entry::touch`](crate::node::Entry::touch)), for
        /// the policy to read when it next looks at the entry, and in
        /// [`on_hits`](Policy::on_hits); otherwise the store passes every
        /// hit to [`on_hit`](Policy::on_hit), in order. Counting hits in
        /// the entries lets lookups under a shard's shared lock leave the
        /// policy alone.
        const LAZY_HITS: bool = true;

        /// A lookup found entry `i`. Called only for policies without
        /// [`LAZY_HITS`](Policy::LAZY_HITS), which must override it: the
        /// store counts the others' hits in their entries itself.
        fn on_hit<K, V>(&mut self, _nodes: &mut Nodes<K, V>, _i: u32) {
            unreachable!("{} counts hits in its entries", Self::NAME);
        }

        /// `n` more lookups found entries, each counted in its entry. Only
        /// with [`LAZY_HITS`](Policy::LAZY_HITS).
        fn on_hits(&mut self, _n: u64) {}

        /// Whether [`on_miss`](Policy::on_miss) does anything: a policy
        /// that overrides it sets this. Misses found under a shard's shared
        /// lock are recorded for the policy only if so, and otherwise only
        /// counted.
        const HEARS_MISSES: bool = false;

        /// A lookup of `hash` found nothing.
        fn on_miss(&mut self, _hash: u64) {}

        /// A lookup of `hash` found nothing, and [`on_miss`](Policy::on_miss)
        /// will hear of it later: start loading what that call will touch.
        /// Called under the shard's shared lock, so it takes `&self`.
        fn prefetch_miss(&self, _hash: u64) {}

        /// Entry `i` was just added to the store: link it.
        fn on_insert<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32);

        /// Entry `i` is leaving the store for a reason of its own: unlink it.
        fn on_remove<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32);

        /// The store is over capacity: choose an entry to evict, unlink it
        /// and return it. `None` only when the policy holds no entry.
        fn evict<K, V>(&mut self, nodes: &mut Nodes<K, V>) -> Option<u32>;

        /// Every entry left the store.
        fn clear(&mut self);
    }
}
