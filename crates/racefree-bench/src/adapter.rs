//! Every map the benchmark measures, behind one small trait.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::RwLock;

use dashmap::DashMap;
use racefree::{ConcurrentMap, LockedMap, OwnedMap, ReadMostlyMap, ShardedMap};

use crate::datum::{DataType, Datum};
use crate::limit::Unsynchronized;

/// The hasher every map and cache in a comparison uses, so that differences
/// come from them and not from hashing.
///
/// foldhash's `quality` variant, not the `fast` one racefree defaults to:
/// peers pick their shard from a few high bits of the hash (quick_cache bits
/// 32 and up, dashmap the bits below the top seven). With `fast`, for about
/// one process seed in a hundred those bits barely change over consecutive
/// integer keys, so a peer put every key in one or two shards: quick_cache
/// then evicted half of what it had room for. `quality` adds one multiply
/// that spreads them (see the test below).
pub type Hasher = foldhash::quality::RandomState;

/// What a workload does to a map. Each method reports what it found, so the
/// runner can check every result: a fast but wrong map fails loudly.
pub trait BenchMap<K: Datum, V: Datum>: Send + Sync {
    /// An empty map with room for `capacity` entries.
    fn with_capacity(capacity: usize) -> Self
    where
        Self: Sized;
    /// Runs `read` on `key`'s value, if present.
    fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R>;
    /// Stores `key`; whether it was absent before.
    fn insert(&self, key: K, value: V) -> bool;
    /// Removes `key`; whether it was present.
    fn remove(&self, key: &K) -> bool;
    /// Replaces a present `key`'s value with `f` of it, without inserting;
    /// whether it was present. `f` may run more than once.
    fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool;
    /// Stores `value` if `key` is absent (Go `LoadOrStore`); whether it was
    /// present.
    fn get_or_insert(&self, key: K, value: V) -> bool;
    /// Replaces `key`'s value with `new` if it is `current`; whether it did.
    fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool;
    /// Visits every entry, reading each key and value as Go's `Range`
    /// callback would (through `black_box`, so that no map can count
    /// without visiting); how many there were.
    fn count_entries(&self) -> usize;
    /// The first key an iteration yields, if any.
    fn first_key(&self) -> Option<K>;
    /// The number of entries.
    fn size(&self) -> usize;
}

/// Reads an entry so the optimiser cannot skip it.
pub(crate) fn visit<K, V>(entry: (&K, &V)) {
    std::hint::black_box(entry);
}

/// `std::sync::RwLock<HashMap>`: what most Rust code does today.
pub type StdRwLockMap<K, V> = RwLock<HashMap<K, V, Hasher>>;

impl<K: Datum, V: Datum> BenchMap<K, V> for StdRwLockMap<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        RwLock::new(HashMap::with_capacity_and_hasher(
            capacity,
            Hasher::default(),
        ))
    }
    fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R> {
        self.read().unwrap().get(key).map(read)
    }
    fn insert(&self, key: K, value: V) -> bool {
        self.write().unwrap().insert(key, value).is_none()
    }
    fn remove(&self, key: &K) -> bool {
        self.write().unwrap().remove(key).is_some()
    }
    fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool {
        self.write()
            .unwrap()
            .get_mut(key)
            .map(|v| *v = f(v))
            .is_some()
    }
    fn get_or_insert(&self, key: K, value: V) -> bool {
        // Go's RWMutexMap: look under the read lock, store under the write lock.
        if self.read().unwrap().contains_key(&key) {
            return true;
        }
        match self.write().unwrap().entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => true,
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(value);
                false
            }
        }
    }
    fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool {
        let mut map = self.write().unwrap();
        match map.get_mut(key) {
            Some(v) if v == current => {
                *v = new;
                true
            }
            _ => false,
        }
    }
    fn count_entries(&self) -> usize {
        self.read().unwrap().iter().map(visit).count()
    }
    fn first_key(&self) -> Option<K> {
        self.read().unwrap().keys().next().cloned()
    }
    fn size(&self) -> usize {
        self.read().unwrap().len()
    }
}

impl<K: Datum, V: Datum> BenchMap<K, V> for DashMap<K, V, Hasher> {
    fn with_capacity(capacity: usize) -> Self {
        DashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R> {
        DashMap::get(self, key).map(|entry| read(entry.value()))
    }
    fn insert(&self, key: K, value: V) -> bool {
        DashMap::insert(self, key, value).is_none()
    }
    fn remove(&self, key: &K) -> bool {
        DashMap::remove(self, key).is_some()
    }
    fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool {
        self.get_mut(key).map(|mut v| *v = f(&v)).is_some()
    }
    fn get_or_insert(&self, key: K, value: V) -> bool {
        match self.entry(key) {
            dashmap::Entry::Occupied(_) => true,
            dashmap::Entry::Vacant(entry) => {
                entry.insert(value);
                false
            }
        }
    }
    fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool {
        match self.get_mut(key) {
            Some(mut v) if *v == *current => {
                *v = new;
                true
            }
            _ => false,
        }
    }
    fn count_entries(&self) -> usize {
        self.iter()
            .map(|entry| visit((entry.key(), entry.value())))
            .count()
    }
    fn first_key(&self) -> Option<K> {
        self.iter().next().map(|entry| entry.key().clone())
    }
    fn size(&self) -> usize {
        DashMap::len(self)
    }
}

/// `papaya::HashMap` 0.2: lock-free, pinned per operation as a typical
/// caller would.
pub type PapayaMap<K, V> = papaya::HashMap<K, V, Hasher>;

impl<K: Datum, V: Datum> BenchMap<K, V> for PapayaMap<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        papaya::HashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R> {
        self.pin().get(key).map(read)
    }
    fn insert(&self, key: K, value: V) -> bool {
        self.pin().insert(key, value).is_none()
    }
    fn remove(&self, key: &K) -> bool {
        self.pin().remove(key).is_some()
    }
    fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool {
        self.pin().update(key.clone(), f).is_some()
    }
    fn get_or_insert(&self, key: K, value: V) -> bool {
        self.pin().try_insert(key, value).is_err()
    }
    fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool {
        let map = self.pin();
        let outcome = map.compute(key.clone(), |entry| match entry {
            Some((_, v)) if v == current => papaya::Operation::Insert(new.clone()),
            _ => papaya::Operation::Abort(()),
        });
        matches!(outcome, papaya::Compute::Updated { .. })
    }
    fn count_entries(&self) -> usize {
        self.pin().iter().map(visit).count()
    }
    fn first_key(&self) -> Option<K> {
        self.pin().keys().next().cloned()
    }
    fn size(&self) -> usize {
        papaya::HashMap::len(self)
    }
}

/// `scc::HashMap` 3.
pub type SccMap<K, V> = scc::HashMap<K, V, Hasher>;

impl<K: Datum, V: Datum> BenchMap<K, V> for SccMap<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        scc::HashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R> {
        self.read_sync(key, |_, v| read(v))
    }
    fn insert(&self, key: K, value: V) -> bool {
        self.upsert_sync(key, value).is_none()
    }
    fn remove(&self, key: &K) -> bool {
        self.remove_sync(key).is_some()
    }
    fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool {
        self.update_sync(key, |_, v| *v = f(v)).is_some()
    }
    fn get_or_insert(&self, key: K, value: V) -> bool {
        // scc's insert refuses to overwrite: exactly Go's LoadOrStore.
        self.insert_sync(key, value).is_err()
    }
    fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool {
        let swap = |_: &K, v: &mut V| {
            let matched = v == current;
            if matched {
                *v = new;
            }
            matched
        };
        self.update_sync(key, swap) == Some(true)
    }
    fn count_entries(&self) -> usize {
        let mut count = 0;
        self.iter_sync(|k, v| {
            visit((k, v));
            count += 1;
            true
        });
        count
    }
    fn first_key(&self) -> Option<K> {
        self.begin_sync().map(|entry| entry.key().clone())
    }
    fn size(&self) -> usize {
        scc::HashMap::len(self)
    }
}

/// racefree's maps all go through the common contract.
macro_rules! racefree_bench_map {
    ($($map:ident),*) => {$(
        impl<K: Datum, V: Datum> BenchMap<K, V> for $map<K, V, Hasher> {
            fn with_capacity(capacity: usize) -> Self {
                $map::with_capacity_and_hasher(capacity, Hasher::default())
            }
            fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R> {
                self.get_with(key, read)
            }
            fn insert(&self, key: K, value: V) -> bool {
                ConcurrentMap::insert(self, key, value).is_none()
            }
            fn remove(&self, key: &K) -> bool {
                ConcurrentMap::remove(self, key).is_some()
            }
            fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool {
                ConcurrentMap::update(self, key, f)
            }
            fn get_or_insert(&self, key: K, value: V) -> bool {
                ConcurrentMap::get_or_insert(self, key, value).1
            }
            fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool {
                ConcurrentMap::compare_and_swap(self, key, current, new).is_ok()
            }
            fn count_entries(&self) -> usize {
                let mut count = 0;
                self.for_each(|k, v| {
                    visit((k, v));
                    count += 1;
                    ControlFlow::Continue(())
                });
                count
            }
            fn first_key(&self) -> Option<K> {
                let mut first = None;
                self.for_each(|k, _| {
                    first = Some(k.clone());
                    ControlFlow::Break(())
                });
                first
            }
            fn size(&self) -> usize {
                ConcurrentMap::len(self)
            }
        }
    )*};
}
racefree_bench_map!(LockedMap, ShardedMap, ReadMostlyMap, OwnedMap);

/// A map the benchmark can run, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MapKind {
    /// racefree's `LockedMap`.
    Locked,
    /// racefree's `ShardedMap`.
    Sharded,
    /// racefree's `ReadMostlyMap`: lookups take no lock.
    ReadMostly,
    /// racefree's `OwnedMap`: one owner thread serves every call.
    Owned,
    /// `std::sync::RwLock<std::collections::HashMap>`.
    StdRwLock,
    /// `dashmap::DashMap` 6.
    Dashmap,
    /// `papaya::HashMap` 0.2.
    Papaya,
    /// `scc::HashMap` 3.
    Scc,
    /// std's `HashMap` with no synchronization, on one thread: the limit
    /// the others are held to, measured beside them at 1 thread.
    #[value(skip)]
    Limit,
}

impl MapKind {
    /// Every map, racefree's first.
    pub const ALL: [MapKind; 8] = [
        Self::Locked,
        Self::Sharded,
        Self::ReadMostly,
        Self::Owned,
        Self::StdRwLock,
        Self::Dashmap,
        Self::Papaya,
        Self::Scc,
    ];

    /// The name shown in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Locked => "racefree::LockedMap",
            Self::Sharded => "racefree::ShardedMap",
            Self::ReadMostly => "racefree::ReadMostlyMap",
            Self::Owned => "racefree::OwnedMap",
            Self::StdRwLock => "std RwLock<HashMap>",
            Self::Dashmap => "dashmap 6",
            Self::Papaya => "papaya 0.2",
            Self::Scc => "scc 3",
            Self::Limit => "std HashMap, unsynchronized",
        }
    }

    /// Whether this is one of racefree's maps rather than a peer.
    pub fn is_racefree(self) -> bool {
        matches!(
            self,
            Self::Locked | Self::Sharded | Self::ReadMostly | Self::Owned
        )
    }
}

/// Something to do with one map type: [`dispatch`] picks the type.
pub trait MapJob {
    /// What the job returns.
    type Output;
    /// How many threads the job drives a map from at once.
    fn threads(&self) -> usize;
    /// Does the job with map type `M`, keys `K` and values `V`.
    fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(&self) -> Self::Output;
}

/// Runs `job` with the map type `map` names, over the key and value types
/// chosen, every map with the same hasher.
pub fn dispatch<J: MapJob>(map: MapKind, key: DataType, value: DataType, job: &J) -> J::Output {
    fn with_types<K: Datum, V: Datum, J: MapJob>(map: MapKind, job: &J) -> J::Output {
        match map {
            MapKind::Locked => job.run::<K, V, LockedMap<K, V, Hasher>>(),
            MapKind::Sharded => job.run::<K, V, ShardedMap<K, V, Hasher>>(),
            MapKind::ReadMostly => job.run::<K, V, ReadMostlyMap<K, V, Hasher>>(),
            MapKind::Owned => job.run::<K, V, OwnedMap<K, V, Hasher>>(),
            MapKind::StdRwLock => job.run::<K, V, StdRwLockMap<K, V>>(),
            MapKind::Dashmap => job.run::<K, V, DashMap<K, V, Hasher>>(),
            MapKind::Papaya => job.run::<K, V, PapayaMap<K, V>>(),
            MapKind::Scc => job.run::<K, V, SccMap<K, V>>(),
            MapKind::Limit => {
                // What makes the unsynchronized map sound to share.
                assert_eq!(job.threads(), 1, "the limit map runs on one thread only");
                job.run::<K, V, Unsynchronized<K, V>>()
            }
        }
    }
    match (key, value) {
        (DataType::U64, DataType::U64) => with_types::<u64, u64, J>(map, job),
        (DataType::U64, DataType::String) => with_types::<u64, String, J>(map, job),
        (DataType::String, DataType::U64) => with_types::<String, u64, J>(map, job),
        (DataType::String, DataType::String) => with_types::<String, String, J>(map, job),
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use foldhash::SharedSeed;
    use foldhash::quality::SeedableRandomState;

    use super::Hasher;

    /// Consecutive keys spread over the shards the peers pick, for any
    /// process seed. A test process has one seed, so this builds
    /// foldhash's `quality` hasher, which [`Hasher`] is, over 2000 of them.
    /// With the `fast` variant it fails.
    #[test]
    fn peers_shard_consecutive_keys_evenly_for_any_seed() {
        let quick_cache_shard = |hash: u64| (hash.rotate_right(32) & 7) as usize;
        let dashmap_shard = |hash: u64| ((hash << 7) >> 61) as usize;
        let seeds = Hasher::default();
        for n in 0..2000u64 {
            let shared: &'static SharedSeed =
                Box::leak(Box::new(SharedSeed::from_u64(seeds.hash_one(n))));
            let hasher = SeedableRandomState::with_seed(seeds.hash_one(!n), shared);
            for shard in [quick_cache_shard, dashmap_shard] {
                let mut counts = [0u32; 8];
                for key in 0..500u64 {
                    counts[shard(hasher.hash_one(key))] += 1;
                }
                // Expected 62.5 a shard, standard deviation 7.4.
                assert!(counts.iter().all(|&c| c < 110), "seed {n}: {counts:?}");
            }
        }
    }
}
