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
}

/// `scc::HashMap` 3. Its `insert_sync` refuses to overwrite, which is
/// "the key was absent" here: the workloads only insert fresh keys.
pub type SccMap = scc::HashMap<u64, u64, Hasher>;

impl BenchMap for SccMap {
    fn with_capacity(capacity: usize) -> Self {
        scc::HashMap::with_capacity_and_hasher(capacity, Hasher::default())
    }
    fn get(&self, key: u64) -> bool {
        self.contains_sync(&key)
    }
    fn insert(&self, key: u64, value: u64) -> bool {
        self.insert_sync(key, value).is_ok()
    }
    fn remove(&self, key: u64) -> bool {
        self.remove_sync(&key).is_some()
    }
    fn update(&self, key: u64) -> bool {
        self.update_sync(&key, |_, v| *v += 1).is_some()
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
