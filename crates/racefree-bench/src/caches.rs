//! Every cache the `cache` command measures, behind one small trait.

use clap::ValueEnum;
use racefree_cache::Cache;
use racefree_cache::policy::{Lru, Policy, S3Fifo, Sieve, TinyLfu};

use crate::adapter::Hasher;

/// What the cache workloads do: look a key up, and store it on a miss.
/// Every value is its own key, so each hit is checked.
pub trait BenchCache: Send + Sync {
    /// An empty cache holding at most `capacity` entries.
    fn new(capacity: u64) -> Self
    where
        Self: Sized;
    /// Whether `key` was cached. Panics if it was, with a wrong value.
    fn get(&self, key: u64) -> bool;
    /// Stores `key`.
    fn insert(&self, key: u64);
}

fn check(key: u64, value: Option<u64>, cache: &str) -> bool {
    match value {
        Some(value) if value != key => panic!("{cache} returned {value} for key {key}"),
        found => found.is_some(),
    }
}

/// racefree-cache with its default shards.
struct Sharded<P: Policy>(Cache<u64, u64, P, Hasher>);
/// racefree-cache with one shard: the policy alone, exactly.
struct OneShard<P: Policy>(Cache<u64, u64, P, Hasher>);

impl<P: Policy> BenchCache for Sharded<P> {
    fn new(capacity: u64) -> Self {
        Self(
            Cache::builder(capacity)
                .hasher(Hasher::default())
                .policy::<P>()
                .build()
                .expect("capacity is at least 1"),
        )
    }
    fn get(&self, key: u64) -> bool {
        check(key, self.0.get(&key), "racefree-cache")
    }
    fn insert(&self, key: u64) {
        self.0.insert(key, key);
    }
}

impl<P: Policy> BenchCache for OneShard<P> {
    fn new(capacity: u64) -> Self {
        Self(
            Cache::builder(capacity)
                .shards(1)
                .hasher(Hasher::default())
                .policy::<P>()
                .build()
                .expect("capacity is at least 1"),
        )
    }
    fn get(&self, key: u64) -> bool {
        check(key, self.0.get(&key), "racefree-cache")
    }
    fn insert(&self, key: u64) {
        self.0.insert(key, key);
    }
}

impl BenchCache for moka::sync::Cache<u64, u64, Hasher> {
    fn new(capacity: u64) -> Self {
        moka::sync::Cache::builder()
            .max_capacity(capacity)
            .build_with_hasher(Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        check(key, moka::sync::Cache::get(self, &key), "moka")
    }
    fn insert(&self, key: u64) {
        moka::sync::Cache::insert(self, key, key);
    }
}

type QuickCache = quick_cache::sync::Cache<u64, u64, quick_cache::UnitWeighter, Hasher>;

impl BenchCache for QuickCache {
    fn new(capacity: u64) -> Self {
        quick_cache::sync::Cache::with(
            capacity as usize,
            capacity,
            quick_cache::UnitWeighter,
            Hasher::default(),
            quick_cache::sync::DefaultLifecycle::default(),
        )
    }
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

    /// A new, empty cache of this kind.
    pub fn make(self, capacity: u64) -> Box<dyn BenchCache> {
        match self {
            Self::Racefree => Box::new(Sharded::<TinyLfu>::new(capacity)),
            Self::Lru => Box::new(OneShard::<Lru>::new(capacity)),
            Self::Sieve => Box::new(OneShard::<Sieve>::new(capacity)),
            Self::S3Fifo => Box::new(OneShard::<S3Fifo>::new(capacity)),
            Self::TinyLfu => Box::new(OneShard::<TinyLfu>::new(capacity)),
            Self::Moka => Box::new(<moka::sync::Cache<u64, u64, Hasher> as BenchCache>::new(
                capacity,
            )),
            Self::QuickCache => Box::new(<QuickCache as BenchCache>::new(capacity)),
        }
    }
}
