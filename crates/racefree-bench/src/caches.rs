//! Every cache the `cache` command measures, behind one small trait.

use clap::ValueEnum;
use racefree_cache::Cache;
use racefree_cache::policy::{Lru, Policy, S3Fifo, Sieve, TinyLfu};

use crate::adapter::Hasher;

/// What the cache workloads do: look a key up, and store it on a miss.
/// Every value is its own key, so each hit is checked.
pub trait BenchCache: Send + Sync {
    /// Whether `key` was cached. Panics if it was, with a wrong value.
    fn get(&self, key: u64) -> bool;
    /// Stores `key`.
    fn insert(&self, key: u64);
    /// How many entries it holds, once [`settle`](Self::settle)d.
    fn entries(&self) -> usize;
    /// Finishes work the cache defers (moka applies writes in batches).
    fn settle(&self) {}
}

fn check(key: u64, value: Option<u64>, cache: &str) -> bool {
    match value {
        Some(value) if value != key => panic!("{cache} returned {value} for key {key}"),
        found => found.is_some(),
    }
}

/// racefree-cache with policy `P`.
struct Racefree<P: Policy>(Cache<u64, u64, P, Hasher>);

impl<P: Policy> Racefree<P> {
    /// With its default shards, or with one (the policy alone, exactly).
    fn boxed(capacity: u64, one_shard: bool) -> Box<dyn BenchCache> {
        let builder = Cache::builder(capacity)
            .hasher(Hasher::default())
            .policy::<P>();
        let builder = if one_shard {
            builder.shards(1)
        } else {
            builder
        };
        Box::new(Self(builder.build().expect("capacity is at least 1")))
    }
}

impl<P: Policy> BenchCache for Racefree<P> {
    fn get(&self, key: u64) -> bool {
        check(key, self.0.get(&key), "racefree-cache")
    }
    fn insert(&self, key: u64) {
        self.0.insert(key, key);
    }
    fn entries(&self) -> usize {
        self.0.len()
    }
}

impl BenchCache for moka::sync::Cache<u64, u64, Hasher> {
    fn get(&self, key: u64) -> bool {
        check(key, moka::sync::Cache::get(self, &key), "moka")
    }
    fn insert(&self, key: u64) {
        moka::sync::Cache::insert(self, key, key);
    }
    fn entries(&self) -> usize {
        self.entry_count() as usize
    }
    fn settle(&self) {
        self.run_pending_tasks();
    }
}

type QuickCache = quick_cache::sync::Cache<u64, u64, quick_cache::UnitWeighter, Hasher>;

impl BenchCache for QuickCache {
    fn get(&self, key: u64) -> bool {
        check(
            key,
            quick_cache::sync::Cache::get(self, &key),
            "quick_cache",
        )
    }
    fn insert(&self, key: u64) {
        quick_cache::sync::Cache::insert(self, key, key);
    }
    fn entries(&self) -> usize {
        quick_cache::sync::Cache::len(self)
    }
}

/// A cache the `cache` command can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CacheKind {
    /// racefree-cache as users get it: W-TinyLFU, default shards.
    Racefree,
    /// racefree-cache's LRU policy, one shard.
    Lru,
    /// racefree-cache's SIEVE policy, one shard.
    Sieve,
    /// racefree-cache's S3-FIFO policy, one shard.
    S3Fifo,
    /// racefree-cache's W-TinyLFU policy, one shard.
    TinyLfu,
    /// `moka::sync::Cache` 0.12.
    Moka,
    /// `quick_cache::sync::Cache` 0.7.
    QuickCache,
}

impl CacheKind {
    /// Every cache, in report order.
    pub const ALL: [Self; 7] = [
        Self::Racefree,
        Self::Lru,
        Self::Sieve,
        Self::S3Fifo,
        Self::TinyLfu,
        Self::Moka,
        Self::QuickCache,
    ];

    /// The caches a user would pick between: the throughput comparison.
    pub const PRODUCTS: [Self; 3] = [Self::Racefree, Self::Moka, Self::QuickCache];

    /// The name shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Racefree => "racefree-cache",
            Self::Lru => "LRU (1 shard)",
            Self::Sieve => "SIEVE (1 shard)",
            Self::S3Fifo => "S3-FIFO (1 shard)",
            Self::TinyLfu => "W-TinyLFU (1 shard)",
            Self::Moka => "moka 0.12",
            Self::QuickCache => "quick_cache 0.7",
        }
    }

    /// For racefree-cache's one-shard policy columns, the builder calls
    /// that make this cache.
    pub fn builder_calls(self) -> Option<&'static str> {
        match self {
            Self::Lru => Some(".policy::<Lru>().shards(1)"),
            Self::Sieve => Some(".policy::<Sieve>().shards(1)"),
            Self::S3Fifo => Some(".policy::<S3Fifo>().shards(1)"),
            Self::TinyLfu => Some(".shards(1)"),
            Self::Racefree | Self::Moka | Self::QuickCache => None,
        }
    }

    /// A new, empty cache of this kind.
    pub fn make(self, capacity: u64) -> Box<dyn BenchCache> {
        match self {
            Self::Racefree => Racefree::<TinyLfu>::boxed(capacity, false),
            Self::Lru => Racefree::<Lru>::boxed(capacity, true),
            Self::Sieve => Racefree::<Sieve>::boxed(capacity, true),
            Self::S3Fifo => Racefree::<S3Fifo>::boxed(capacity, true),
            Self::TinyLfu => Racefree::<TinyLfu>::boxed(capacity, true),
            Self::Moka => Box::new(
                moka::sync::Cache::builder()
                    .max_capacity(capacity)
                    .build_with_hasher(Hasher::default()),
            ),
            Self::QuickCache => Box::new(QuickCache::with(
                capacity as usize,
                capacity,
                quick_cache::UnitWeighter,
                Hasher::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            )),
        }
    }
}
