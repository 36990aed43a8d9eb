//! Model checking with loom: every interleaving, up to the preemption
//! bound, of the races that matter for the lock-based maps.
//!
//! Run with `.ci/run`, or by hand:
//! `RUSTFLAGS="--cfg racefree_loom" cargo test --release -p racefree --test loom`
//! (`LOOM_MAX_PREEMPTIONS` defaults to 3 in `.ci/run`).

#![cfg(racefree_loom)]

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use common::{Family, map_tests};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use racefree::{ConcurrentMap, ShardedMap};

/// A hasher with no random seed: loom replays executions and needs each to
/// take the same locks, so a key must land in the same shard every time.
type Fixed = BuildHasherDefault<DefaultHasher>;

/// A fresh map of family `F` for one execution.
fn fresh<F: Family>() -> Arc<F::Map<u8, u8, Fixed>> {
    Arc::new(F::with_hasher(Fixed::default()))
}

map_tests!(
    insert_races_remove_on_one_key,
    compare_and_swap_races_compare_and_remove,
    get_or_insert_with_races_on_one_absent_key,
);

/// Insert racing remove on one key: the remove either sees the insert and
/// takes its value, or misses it and the value stays. `len` agrees.
fn insert_races_remove_on_one_key<F: Family>() {
    loom::model(|| {
        let map = fresh::<F>();
        let m = Arc::clone(&map);
        let inserter = thread::spawn(move || m.insert(0, 1));
        let removed = map.remove(&0);
        assert_eq!(inserter.join().unwrap(), None);
        match removed {
            Some(1) => assert_eq!((map.get(&0), map.len()), (None, 0)),
            None => assert_eq!((map.get(&0), map.len()), (Some(1), 1)),
            other => panic!("remove returned {other:?}"),
        }
    });
}

/// A successful compare_and_swap and a successful compare_and_remove can
/// never both see the same old value.
/// A successful compare_and_swap and a successful compare_and_remove can
/// never both see the same old value.
fn compare_and_swap_races_compare_and_remove<F: Family>() {
    loom::model(|| {
        let map = fresh::<F>();
        map.insert(0, 7);
        let m = Arc::clone(&map);
        let swapper = thread::spawn(move || m.compare_and_swap(&0, &7, 8).is_ok());
        let removed = map.compare_and_remove(&0, &7);
        let swapped = swapper.join().unwrap();
        assert!(
            swapped != removed,
            "exactly one wins: swapped {swapped}, removed {removed}"
        );
        assert_eq!(map.get(&0), if swapped { Some(8) } else { None });
    });
}

/// Two threads race on one absent key: one value is stored, both return
/// it, and the loader runs once.
fn get_or_insert_with_races_on_one_absent_key<F: Family>() {
    loom::model(|| {
        let map = fresh::<F>();
        let calls = Arc::new(AtomicUsize::new(0));
        let (m, c) = (Arc::clone(&map), Arc::clone(&calls));
        let other = thread::spawn(move || {
            m.get_or_insert_with(0, || {
                c.fetch_add(1, Ordering::Relaxed);
                1
            })
        });
        let mine = map.get_or_insert_with(0, || {
            calls.fetch_add(1, Ordering::Relaxed);
            2
        });
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs);
        assert_eq!(map.get(&0), Some(mine));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    });
}

/// A key that `Fixed` puts in the other shard from key 0 when there are
/// two shards (checked below).
const OTHER_SHARD: u8 = 7;

/// Inserts into two shards from two threads: both land, and `len`, read
/// without a lock, counts both once the threads are joined.
#[test]
fn sharded_len_counts_inserts_into_two_shards() {
    loom::model(|| {
        let map = Arc::new(
            ShardedMap::<u8, u8, Fixed>::with_capacity_hasher_and_shards(0, Fixed::default(), 2),
        );
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
        assert_eq!(
            map.shard_lengths(),
            [1, 1],
            "keys 0 and OTHER_SHARD share a shard"
        );
    });
}
