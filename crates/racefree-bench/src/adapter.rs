//! Every map the benchmark measures, behind one small trait.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::RwLock;

use dashmap::DashMap;
use racefree::{ConcurrentMap, LockedMap, ShardedMap};

/// The hasher every map in a comparison uses, so that differences come from
/// the maps and not from hashing.
pub type Hasher = foldhash::fast::RandomState;

/// What a workload does to a map. Each method reports what it found, so the
/// runner can check every result: a fast but wrong map fails loudly.
pub trait BenchMap: Send + Sync {
    /// An empty map with room for `capacity` entries.
    fn with_capacity(capacity: usize) -> Self
    where
        Self: Sized;
    /// Whether `key` is present.
    fn get(&self, key: u64) -> bool;
    /// Stores `key`; whether it was absent before.
    fn insert(&self, key: u64, value: u64) -> bool;
    /// Removes `key`; whether it was present.
    fn remove(&self, key: u64) -> bool;
    /// Adds one to a present `key`'s value without inserting; whether it was
    /// present.
    fn update(&self, key: u64) -> bool;
    /// Stores `value` if `key` is absent (Go `LoadOrStore`); whether it was
    /// present.
    fn get_or_insert(&self, key: u64, value: u64) -> bool;
    /// Replaces `key`'s value with `new` if it is `current`; whether it did.
    fn compare_and_swap(&self, key: u64, current: u64, new: u64) -> bool;
    /// Visits every entry, reading each key and value as Go's `Range`
    /// callback would (through `black_box`, so that no map can count
    /// without visiting); how many there were.
    fn count_entries(&self) -> usize;
    /// The first key an iteration yields, if any.
    fn first_key(&self) -> Option<u64>;
}

/// Reads an entry so the optimiser cannot skip it.
fn visit(entry: (&u64, &u64)) {
    std::hint::black_box(entry);
}

/// `std::sync::RwLock<HashMap>`: what most Rust code does today.
pub type StdRwLockMap = RwLock<HashMap<u64, u64, Hasher>>;

impl BenchMap for StdRwLockMap {
    fn with_capacity(capacity: usize) -> Self {
        RwLock::new(HashMap::with_capacity_and_hasher(
            capacity,
            Hasher::default(),
        ))
    }
    fn get(&self, key: u64) -> bool {
        self.read().unwrap().contains_key(&key)
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        self.write().unwrap().insert(key, value).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.write().unwrap().remove(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.write()
            .unwrap()
            .get_mut(&key)
            .map(|v| *v += 1)
            .is_some()
    }
    fn get_or_insert(&self, key: u64, value: u64) -> bool {
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
    fn compare_and_swap(&self, key: u64, current: u64, new: u64) -> bool {
        let mut map = self.write().unwrap();
        match map.get_mut(&key) {
            Some(v) if *v == current => {
                *v = new;
                true
            }
            _ => false,
        }
    }
    fn count_entries(&self) -> usize {
        self.read().unwrap().iter().map(visit).count()
    }
    fn first_key(&self) -> Option<u64> {
        self.read().unwrap().keys().next().copied()
    }
}

impl BenchMap for DashMap<u64, u64, Hasher> {
    fn with_capacity(capacity: usize) -> Self {
        DashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        DashMap::get(self, &key).is_some()
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        DashMap::insert(self, key, value).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        DashMap::remove(self, &key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.get_mut(&key).map(|mut v| *v += 1).is_some()
    }
    fn get_or_insert(&self, key: u64, value: u64) -> bool {
        match self.entry(key) {
            dashmap::Entry::Occupied(_) => true,
            dashmap::Entry::Vacant(entry) => {
                entry.insert(value);
                false
            }
        }
    }
    fn compare_and_swap(&self, key: u64, current: u64, new: u64) -> bool {
        match self.get_mut(&key) {
            Some(mut v) if *v == current => {
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
    fn first_key(&self) -> Option<u64> {
        self.iter().next().map(|entry| *entry.key())
    }
}

/// `papaya::HashMap` 0.2: lock-free, pinned per operation as a typical
/// caller would.
pub type PapayaMap = papaya::HashMap<u64, u64, Hasher>;

impl BenchMap for PapayaMap {
    fn with_capacity(capacity: usize) -> Self {
        papaya::HashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        self.pin().get(&key).is_some()
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        self.pin().insert(key, value).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.pin().remove(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.pin().update(key, |v| v + 1).is_some()
    }
    fn get_or_insert(&self, key: u64, value: u64) -> bool {
        self.pin().try_insert(key, value).is_err()
    }
    fn compare_and_swap(&self, key: u64, current: u64, new: u64) -> bool {
        let map = self.pin();
        let outcome = map.compute(key, |entry| match entry {
            Some((_, v)) if *v == current => papaya::Operation::Insert(new),
            _ => papaya::Operation::Abort(()),
        });
        matches!(outcome, papaya::Compute::Updated { .. })
    }
    fn count_entries(&self) -> usize {
        self.pin().iter().map(visit).count()
    }
    fn first_key(&self) -> Option<u64> {
        self.pin().keys().next().copied()
    }
}

/// `scc::HashMap` 3.
pub type SccMap = scc::HashMap<u64, u64, Hasher>;

impl BenchMap for SccMap {
    fn with_capacity(capacity: usize) -> Self {
        scc::HashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        self.contains_sync(&key)
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        self.upsert_sync(key, value).is_none()
    }
    fn remove(&self, key: u64) -> bool {
        self.remove_sync(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.update_sync(&key, |_, v| *v += 1).is_some()
    }
    fn get_or_insert(&self, key: u64, value: u64) -> bool {
        // scc's insert refuses to overwrite: exactly Go's LoadOrStore.
        self.insert_sync(key, value).is_err()
    }
    fn compare_and_swap(&self, key: u64, current: u64, new: u64) -> bool {
        let swap = |_: &u64, v: &mut u64| {
            let matched = *v == current;
            if matched {
                *v = new;
            }
            matched
        };
        self.update_sync(&key, swap) == Some(true)
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
    fn first_key(&self) -> Option<u64> {
        self.begin_sync().map(|entry| *entry.key())
    }
}

/// racefree's maps all go through the common contract.
macro_rules! racefree_bench_map {
    ($($map:ident),*) => {$(
        impl BenchMap for $map<u64, u64, Hasher> {
            fn with_capacity(capacity: usize) -> Self {
                $map::with_capacity_and_hasher(capacity, Hasher::default())
            }
            fn get(&self, key: u64) -> bool {
                self.contains_key(&key)
            }
            fn insert(&self, key: u64, value: u64) -> bool {
                ConcurrentMap::insert(self, key, value).is_none()
            }
            fn remove(&self, key: u64) -> bool {
                ConcurrentMap::remove(self, &key).is_some()
            }
            fn update(&self, key: u64) -> bool {
                ConcurrentMap::update(self, &key, |v| v + 1)
            }
            fn get_or_insert(&self, key: u64, value: u64) -> bool {
                ConcurrentMap::get_or_insert(self, key, value).1
            }
            fn compare_and_swap(&self, key: u64, current: u64, new: u64) -> bool {
                ConcurrentMap::compare_and_swap(self, &key, &current, new).is_ok()
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
            fn first_key(&self) -> Option<u64> {
                let mut first = None;
                self.for_each(|k, _| {
                    first = Some(*k);
                    ControlFlow::Break(())
                });
                first
            }
        }
    )*};
}
racefree_bench_map!(LockedMap, ShardedMap);

/// A map the benchmark can run, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MapKind {
    /// racefree's `LockedMap`.
    Locked,
    /// racefree's `ShardedMap`.
    Sharded,
    /// `std::sync::RwLock<std::collections::HashMap>`.
    StdRwLock,
    /// `dashmap::DashMap` 6.
    Dashmap,
    /// `papaya::HashMap` 0.2.
    Papaya,
    /// `scc::HashMap` 3.
    Scc,
}

impl MapKind {
    /// Every map, racefree's first.
    pub const ALL: [MapKind; 6] = [
        Self::Locked,
        Self::Sharded,
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
            Self::StdRwLock => "std RwLock<HashMap>",
            Self::Dashmap => "dashmap 6",
            Self::Papaya => "papaya 0.2",
            Self::Scc => "scc 3",
        }
    }

    /// Whether this is one of racefree's maps rather than a peer.
    pub fn is_racefree(self) -> bool {
        matches!(self, Self::Locked | Self::Sharded)
    }
}
