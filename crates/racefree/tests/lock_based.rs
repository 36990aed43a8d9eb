//! What `LockedMap` and `ShardedMap` promise beyond the shared contract:
//! memory given back, a `len` that takes no lock, and the std traits.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{expect_panic, watchdog};
use racefree::{ConcurrentMap, LockedMap, OwnedMap, ShardedMap};

/// Runs a test body once with each lock-based map type.
macro_rules! each_lock_based_map {
    ($name:ident, |$map:ident: $ty:ident| $body:block) => {
        mod $name {
            use super::*;
            fn run<$ty>()
            where
                $ty: ConcurrentMap<u64, u64> + Default + Send + Sync + 'static,
                $ty: std::fmt::Debug + Clone + FromIterator<(u64, u64)> + Extend<(u64, u64)>,
            {
                $body
            }
            #[test]
            fn locked() {
                run::<LockedMap<u64, u64>>()
            }
            #[test]
            fn sharded() {
                run::<ShardedMap<u64, u64>>()
            }
        }
    };
}

/// A map that grows to many entries and shrinks back to few gives its
/// memory back without being asked.
#[test]
fn memory_is_returned_after_mass_removal() {
    fn check<M: ConcurrentMap<u64, u64>>(map: &M, capacity: impl Fn(&M) -> usize, name: &str) {
        for i in 0..1_000_000 {
            map.insert(i, i);
        }
        let full = capacity(map);
        assert!(full >= 1_000_000);
        for i in 1_000..1_000_000 {
            map.remove(&i);
        }
        let after = capacity(map);
        assert_eq!(map.len(), 1_000);
        assert!(
            after * 64 < full,
            "{name}: capacity {full} only fell to {after} with 1000 entries left"
        );
    }
    check(&LockedMap::new(), LockedMap::capacity, "LockedMap");
    check(&ShardedMap::new(), ShardedMap::capacity, "ShardedMap");
}

/// Removals shrink a sparse table, but not below the capacity the map was
/// made with: a map that reserved room and removes a few keys while it is
/// still nearly empty keeps that room (it used to drop to a few buckets and
/// grow again step by step). A shrink would at least halve it; tombstones
/// left by removals take a little of it.
#[test]
fn removals_keep_the_capacity_a_map_was_made_with() {
    fn check<M: ConcurrentMap<u64, u64>>(map: &M, capacity: impl Fn(&M) -> usize, name: &str) {
        let reserved = capacity(map);
        assert!(reserved >= 100_000);
        let kept = |map: &M, when: &str| {
            assert!(
                capacity(map) > reserved / 2,
                "{name}: capacity {} {when}, made with {reserved}",
                capacity(map)
            );
        };
        for i in 0..300_000 {
            map.insert(i, i);
            if i % 10 == 0 {
                map.remove(&(i / 2));
            }
            kept(map, &format!("after {i} inserts"));
        }
        for i in 0..300_000 {
            map.remove(&i);
        }
        assert!(map.is_empty());
        kept(map, "once emptied");
    }
    check(
        &LockedMap::with_capacity(100_000),
        LockedMap::capacity,
        "LockedMap",
    );
    check(
        &ShardedMap::with_capacity(100_000),
        ShardedMap::capacity,
        "ShardedMap",
    );
    // OwnedMap's table is a plain HashMap, with the same rule.
    check(
        &OwnedMap::with_capacity(100_000),
        OwnedMap::capacity,
        "OwnedMap",
    );
}

#[test]
fn shrink_to_fit_and_clear_release_capacity() {
    let map: ShardedMap<u64, u64> = ShardedMap::with_capacity(100_000);
    assert!(map.capacity() >= 100_000);
    map.insert(1, 1);
    map.shrink_to_fit();
    assert!(
        map.capacity() < 1_000,
        "capacity {} after shrink_to_fit",
        map.capacity()
    );
    let map: LockedMap<u64, u64> = (0..10_000).map(|i| (i, i)).collect();
    map.clear();
    assert_eq!(map.capacity(), 0);
}

each_lock_based_map!(len_takes_no_lock, |map: M| {
    // A closure holds the write lock of key 1's table until `len` has
    // answered on another thread. If `len` locked, this would hang.
    let map = Arc::new(M::default());
    map.insert(1, 1);
    let (holding, release) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let (m, h, r) = (Arc::clone(&map), Arc::clone(&holding), Arc::clone(&release));
    let writer = thread::spawn(move || {
        m.update(&1, |v| {
            h.wait();
            r.wait();
            v + 1
        })
    });
    holding.wait();
    let m = Arc::clone(&map);
    let panic = watchdog(10, "len while a closure holds a lock", move || {
        assert_eq!(m.len(), 1)
    });
    release.wait();
    assert_eq!(panic, None);
    assert!(writer.join().unwrap());
});

each_lock_based_map!(std_traits, |map: M| {
    let mut map: M = (0..3).map(|i| (i, i * 10)).collect();
    map.extend([(3, 30), (4, 40)]);
    assert_eq!(map.len(), 5);
    let copy = map.clone();
    map.clear();
    assert_eq!(copy.len(), 5, "a clone is a deep copy");
    assert_eq!(copy.get(&4), Some(40));
    let one: M = [(7, 70)].into_iter().collect();
    assert!(
        format!("{one:?}").ends_with("{7: 70}"),
        "Debug shows entries: {one:?}"
    );
    assert!(M::default().is_empty());
});

each_lock_based_map!(debug_inside_a_closure_does_not_deadlock, |map: M| {
    let map = Arc::new(M::default());
    map.insert(1, 1);
    let m = Arc::clone(&map);
    let panic = watchdog(10, "Debug inside update", move || {
        m.update(&1, |v| {
            assert!(format!("{m:?}").contains(".."));
            *v
        });
    });
    assert_eq!(panic, None);
});

#[test]
fn shard_count_is_a_power_of_two_and_zero_is_refused() {
    assert_eq!(ShardedMap::<u8, u8>::with_shards(1).shard_count(), 1);
    assert_eq!(ShardedMap::<u8, u8>::with_shards(5).shard_count(), 8);
    assert!(ShardedMap::<u8, u8>::new().shard_count().is_power_of_two());
    let message = expect_panic(|| _ = ShardedMap::<u8, u8>::with_shards(0));
    assert!(message.contains("got 0"), "{message}");
}

#[test]
fn keys_spread_over_all_shards() {
    let map = ShardedMap::with_shards(64);
    for i in 0..64_000u64 {
        map.insert(i, ());
    }
    // Every shard receives keys; none has more than twice its share.
    assert_eq!(map.len(), 64_000);
    let per_shard = map.shard_lengths();
    assert!(
        per_shard.iter().all(|&n| n > 500 && n < 2_000),
        "{per_shard:?}"
    );
}

/// As with std's `HashMap`, reading the capacity or the hasher asks
/// nothing of the key type.
#[test]
fn capacity_and_hasher_ask_nothing_of_the_key() {
    struct Opaque;
    let locked: LockedMap<Opaque, Opaque> = LockedMap::with_capacity(100);
    let sharded: ShardedMap<Opaque, Opaque> = ShardedMap::with_capacity(100);
    assert!(locked.capacity() >= 100 && sharded.capacity() >= 100);
    let _: (&racefree::DefaultHashBuilder, &racefree::DefaultHashBuilder) =
        (locked.hasher(), sharded.hasher());
}
