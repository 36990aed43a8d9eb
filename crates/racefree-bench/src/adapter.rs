//! Every map the benchmark measures, behind one small trait.

use std::collections::HashMap;
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
}

impl MapKind {
    /// Every map, racefree's first.
    pub const ALL: [MapKind; 4] = [Self::Locked, Self::Sharded, Self::StdRwLock, Self::Dashmap];

    /// The name shown in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Locked => "racefree::LockedMap",
            Self::Sharded => "racefree::ShardedMap",
            Self::StdRwLock => "std RwLock<HashMap>",
            Self::Dashmap => "dashmap 6",
        }
    }

    /// Whether this is one of racefree's maps rather than a peer.
    pub fn is_racefree(self) -> bool {
        matches!(self, Self::Locked | Self::Sharded)
    }
}
