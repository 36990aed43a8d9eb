//! Model checking with loom: every interleaving, up to the preemption
//! bound, of the races that matter for the lock-based maps.
//!
//! Run with `.ci/run`, or by hand:
//! `RUSTFLAGS="--cfg racefree_loom" cargo test --release -p racefree --test loom`
//! (`LOOM_MAX_PREEMPTIONS` defaults to 3 in `.ci/run`).

#![cfg(racefree_loom)]

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use racefree::{ConcurrentMap, LockedMap, ShardedMap};

/// Builds a fresh map for one loom execution.
type MakeMap = Arc<dyn Fn() -> Box<dyn ModelMap> + Send + Sync>;

/// A hasher with no random seed: loom replays executions and needs each to
/// take the same locks, so a key must land in the same shard every time.
type Fixed = BuildHasherDefault<DefaultHasher>;

/// A key that `Fixed` puts in the other shard from key 0 when there are
/// two shards (checked when each map is built).
const OTHER_SHARD: u8 = 7;

/// Runs `check` against each lock-based map; `ShardedMap` with two shards,
/// so that keys 0 and [`OTHER_SHARD`] take different locks.
fn each_map(check: fn(MakeMap)) {
    check(Arc::new(|| Box::new(LockedMap::<u8, u8, Fixed>::default())));
    check(Arc::new(|| {
        let map =
            ShardedMap::<u8, u8, Fixed>::with_capacity_hasher_and_shards(0, Fixed::default(), 2);
        // Single-threaded, before any spawn: adds no interleavings.
        ConcurrentMap::insert(&map, 0, 0);
        ConcurrentMap::insert(&map, OTHER_SHARD, 1);
        assert_eq!(
            map.shard_lengths(),
            [1, 1],
            "keys 0 and OTHER_SHARD must be in different shards"
        );
        ConcurrentMap::clear(&map);
        Box::new(map)
    }));
}

/// The operations the models use, object-safe so one model covers both maps.
trait ModelMap: Send + Sync {
    fn insert(&self, k: u8, v: u8) -> Option<u8>;
    fn remove(&self, k: u8) -> Option<u8>;
    fn get(&self, k: u8) -> Option<u8>;
    fn cas(&self, k: u8, current: u8, new: u8) -> bool;
    fn car(&self, k: u8, current: u8) -> bool;
    fn get_or_insert_with(&self, k: u8, f: &(dyn Fn() -> u8 + Sync)) -> u8;
    fn len(&self) -> usize;
}

impl<M: ConcurrentMap<u8, u8> + Send + Sync> ModelMap for M {
    fn insert(&self, k: u8, v: u8) -> Option<u8> {
        ConcurrentMap::insert(self, k, v)
    }
    fn remove(&self, k: u8) -> Option<u8> {
        ConcurrentMap::remove(self, &k)
    }
    fn get(&self, k: u8) -> Option<u8> {
        ConcurrentMap::get(self, &k)
    }
    fn cas(&self, k: u8, current: u8, new: u8) -> bool {
        self.compare_and_swap(&k, &current, new).is_ok()
    }
    fn car(&self, k: u8, current: u8) -> bool {
        self.compare_and_remove(&k, &current)
    }
    fn get_or_insert_with(&self, k: u8, f: &(dyn Fn() -> u8 + Sync)) -> u8 {
        ConcurrentMap::get_or_insert_with(self, k, f)
    }
    fn len(&self) -> usize {
        ConcurrentMap::len(self)
    }
}

/// Insert racing remove on one key: the remove either sees the insert and
/// takes its value, or misses it and the value stays. `len` agrees.
#[test]
fn insert_races_remove_on_one_key() {
    each_map(|make| {
        loom::model(move || {
            let map: Arc<dyn ModelMap> = Arc::from(make());
            let m = Arc::clone(&map);
            let inserter = thread::spawn(move || m.insert(0, 1));
            let removed = map.remove(0);
            assert_eq!(inserter.join().unwrap(), None);
            match removed {
                Some(1) => assert_eq!((map.get(0), map.len()), (None, 0)),
                None => assert_eq!((map.get(0), map.len()), (Some(1), 1)),
                other => panic!("remove returned {other:?}"),
            }
        });
    });
}

/// A successful compare_and_swap and a successful compare_and_remove can
/// never both see the same old value.
#[test]
fn compare_and_swap_races_compare_and_remove() {
    each_map(|make| {
        loom::model(move || {
            let map: Arc<dyn ModelMap> = Arc::from(make());
            map.insert(0, 7);
            let m = Arc::clone(&map);
            let swapper = thread::spawn(move || m.cas(0, 7, 8));
            let removed = map.car(0, 7);
            let swapped = swapper.join().unwrap();
            assert!(
                swapped != removed,
                "exactly one of them wins: swapped {swapped}, removed {removed}"
            );
            assert_eq!(map.get(0), if swapped { Some(8) } else { None });
        });
    });
}

/// Two threads race on one absent key: one value is stored, both return
/// it, and the loader runs once.
#[test]
fn get_or_insert_with_races_on_one_absent_key() {
    each_map(|make| {
        loom::model(move || {
            let map: Arc<dyn ModelMap> = Arc::from(make());
            let calls = Arc::new(AtomicUsize::new(0));
            let (m, c) = (Arc::clone(&map), Arc::clone(&calls));
            let other = thread::spawn(move || {
                m.get_or_insert_with(0, &|| {
                    c.fetch_add(1, Ordering::Relaxed);
                    1
                })
            });
            let mine = map.get_or_insert_with(0, &|| {
                calls.fetch_add(1, Ordering::Relaxed);
                2
            });
            let theirs = other.join().unwrap();
            assert_eq!(mine, theirs);
            assert_eq!(map.get(0), Some(mine));
            assert_eq!(calls.load(Ordering::Relaxed), 1);
        });
    });
}

/// Inserts of keys in different shards from two threads: both land, and
/// `len`, read without a lock, counts both once the threads are joined.
#[test]
fn len_counts_concurrent_inserts() {
    each_map(|make| {
        loom::model(move || {
            let map: Arc<dyn ModelMap> = Arc::from(make());
            let m = Arc::clone(&map);
            let other = thread::spawn(move || m.insert(OTHER_SHARD, 1));
            map.insert(0, 0);
            let during = map.len();
            assert!(
                during == 1 || during == 2,
                "len {during} while inserting 2 keys"
            );
            other.join().unwrap();
            assert_eq!(map.len(), 2);
            assert_eq!((map.get(0), map.get(OTHER_SHARD)), (Some(0), Some(1)));
        });
    });
}
