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
use racefree::{ConcurrentMap, ReadMostlyMap, ShardedMap};

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
        // loom runs a new thread only once this one yields or blocks.
        thread::yield_now();
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
fn compare_and_swap_races_compare_and_remove<F: Family>() {
    loom::model(|| {
        let map = fresh::<F>();
        map.insert(0, 7);
        let m = Arc::clone(&map);
        let swapper = thread::spawn(move || m.compare_and_swap(&0, &7, 8).is_ok());
        thread::yield_now();
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
        thread::yield_now();
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
        thread::yield_now();
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

/// Keys that share ReadMostlyMap's first slot (the low 8 bits of their
/// hash under the fixed hasher: a root, and a slot in it), so that
/// inserting them grows the trie and removing them prunes it.
fn same_root_slot(count: usize) -> Vec<u32> {
    use std::hash::BuildHasher;
    let slot = |k: &u32| Fixed::default().hash_one(k) & 0xff;
    let first = slot(&0);
    let keys: Vec<u32> = (0..100_000)
        .filter(|k| slot(k) == first)
        .take(count)
        .collect();
    assert_eq!(keys.len(), count, "not enough keys share a slot");
    keys
}

/// A value whose contents loom tracks: reading it on another thread
/// without a happens-before edge from its creation is reported, so a
/// publication with too weak an ordering fails the model.
struct Published(loom::cell::UnsafeCell<u8>);

impl Published {
    fn new(value: u8) -> Self {
        let cell = loom::cell::UnsafeCell::new(0);
        // A tracked write: loom checks reads on other threads against it.
        // SAFETY: not shared yet.
        cell.with_mut(|v| unsafe { *v = value });
        Self(cell)
    }
    fn read(&self) -> u8 {
        // SAFETY: never written after creation.
        self.0.with(|v| unsafe { *v })
    }
}

impl Clone for Published {
    fn clone(&self) -> Self {
        Self::new(self.read())
    }
}

// SAFETY: the cell is never written after creation, and loom checks that
// every read is ordered after it.
unsafe impl Sync for Published {}

/// A reader racing an insert that grows the trie under the key it reads:
/// the key moves into a new node, and the reader finds it either way; a
/// reader that finds the new key sees its value fully written.
#[test]
fn read_mostly_growth_races_a_reader() {
    let keys: [u32; 2] = same_root_slot(2).try_into().unwrap();
    loom::model(move || {
        let map = Arc::new(ReadMostlyMap::<u32, Published, Fixed>::with_hasher(
            Fixed::default(),
        ));
        map.insert(keys[0], Published::new(1));
        let m = Arc::clone(&map);
        let grower = thread::spawn(move || m.insert(keys[1], Published::new(2)).is_none());
        // loom runs a new thread only once this one yields or blocks: let
        // the grower run before, during and after the reads.
        thread::yield_now();
        assert_eq!(map.get_with(&keys[0], Published::read), Some(1));
        let new = map.get_with(&keys[1], Published::read);
        assert!(new.is_none() || new == Some(2));
        assert!(grower.join().unwrap());
        let both = (
            map.get_with(&keys[0], Published::read),
            map.get_with(&keys[1], Published::read),
        );
        assert_eq!((both, map.len()), ((Some(1), Some(2)), 2));
    });
}

/// An overwrite racing an insert that grows the root slot holding its key:
/// the overwrite starts without a guard (its key sits in a root) and, if
/// it finds the slot grown once it holds the root's lock, starts over
/// with one and descends. Neither write is lost.
#[test]
fn read_mostly_overwrite_races_growth_of_its_root_slot() {
    let keys: [u32; 2] = same_root_slot(2).try_into().unwrap();
    loom::model(move || {
        let map = Arc::new(ReadMostlyMap::<u32, u8, Fixed>::with_hasher(
            Fixed::default(),
        ));
        map.insert(keys[0], 0);
        let m = Arc::clone(&map);
        let grower = thread::spawn(move || m.insert(keys[1], 1));
        thread::yield_now();
        assert_eq!(map.insert(keys[0], 2), Some(0));
        assert_eq!(grower.join().unwrap(), None);
        assert_eq!((map.get(&keys[0]), map.get(&keys[1])), (Some(2), Some(1)));
        assert_eq!(map.len(), 2);
    });
}

/// Two removes that empty a grown node (the second prunes it) racing an
/// insert into the same part of the trie: the insert must not land in the
/// pruned node, where it would be lost.
#[test]
fn read_mostly_pruning_races_an_insert() {
    let keys: [u32; 3] = same_root_slot(3).try_into().unwrap();
    // The final walk loads every slot of the 16 roots: more branches than
    // loom's default limit, none of them spinning.
    let mut model = loom::model::Builder::new();
    model.max_branches = 10_000;
    model.check(move || {
        let map = Arc::new(ReadMostlyMap::<u32, u8, Fixed>::with_hasher(
            Fixed::default(),
        ));
        map.insert(keys[0], 0);
        map.insert(keys[1], 1);
        let m = Arc::clone(&map);
        let remover = thread::spawn(move || (m.remove(&keys[0]), m.remove(&keys[1])));
        thread::yield_now();
        map.insert(keys[2], 2);
        assert_eq!(remover.join().unwrap(), (Some(0), Some(1)));
        assert_eq!(map.get(&keys[2]), Some(2), "the insert was lost");
        assert_eq!(map.len(), 1);
        let mut seen = Vec::new();
        map.for_each(|k, v| {
            seen.push((*k, *v));
            std::ops::ControlFlow::Continue(())
        });
        assert_eq!(seen, [(keys[2], 2)]);
    });
}
