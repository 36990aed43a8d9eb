//! Tests from Go's `src/sync/map_test.go` (Go 1.9 to 1.24), rewritten in
//! Rust for every racefree map: the ideas and the numbers are Go's, the code
//! is not. `TestMapMatchesRWMutex` and `TestMapMatchesDeepCopy` are ported
//! as the proptest model test in `model.rs`.

mod common;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use common::{Family, Tracker, map_tests, new_map, watchdog, xorshift};
use racefree::ConcurrentMap;

map_tests!(
    concurrent_range,
    issue_40999_removed_keys_are_dropped,
    range_nested_call,
    compare_and_swap_non_existing_key,
    map_delete,
    map_clear,
    concurrent_clear,
);

/// `TestConcurrentRange`: while writers store `n -> n·i·g`, every pass of
/// `for_each` sees all 1024 keys, none twice, each value a multiple of its
/// key. More writers than cores, so writers are preempted mid-operation.
fn concurrent_range<F: Family>() {
    const MAP_SIZE: u64 = 1 << 10;
    const WRITERS: u64 = 4;
    const PASSES: usize = 1 << 10;
    let map = new_map::<F, u64, u64>();
    for n in 1..=MAP_SIZE {
        map.insert(n, n);
    }
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for g in 1..=WRITERS {
            let (map, done) = (&map, &done);
            s.spawn(move || {
                let mut rng = xorshift(g);
                for i in 0.. {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    for n in 1..MAP_SIZE {
                        if rng() % MAP_SIZE == 0 {
                            map.insert(n, n * i * g);
                        } else {
                            map.get(&n);
                        }
                    }
                }
            });
        }
        for pass in 0..PASSES {
            let mut seen = std::collections::HashSet::new();
            map.for_each(|k, v| {
                assert_eq!(
                    v % k,
                    0,
                    "pass {pass}: value {v} for key {k} is not a multiple of it"
                );
                assert!(seen.insert(*k), "pass {pass}: key {k} visited twice");
                ControlFlow::Continue(())
            });
            assert_eq!(seen.len() as u64, MAP_SIZE, "pass {pass}: keys visited");
        }
        done.store(true, Ordering::Relaxed);
    });
}

/// `TestIssue40999`: a key stored then deleted must not be kept alive by
/// the map. Go waited for a finalizer; here the drop is checked after each
/// remove, allowing the few removed keys a map's docs say may wait for
/// readers ([`Family::DEFERRED_DROPS`]).
fn issue_40999_removed_keys_are_dropped<F: Family>() {
    let tracker = Tracker::new();
    let map = new_map::<F, common::Tracked<u64>, ()>();
    map.insert(tracker.track(u64::MAX), ());
    for i in 0..10_000 {
        map.insert(tracker.track(i), ());
        map.remove(&tracker.track(i));
        assert!(
            tracker.live() <= 1 + F::DEFERRED_DROPS,
            "after removing key {i}, {} keys are alive: only the first key, and at most {} \
             removed ones waiting for readers, may be",
            tracker.live(),
            F::DEFERRED_DROPS
        );
    }
}

/// `TestMapRangeNestedCall`: inside nested iterations, get, get_or_insert,
/// insert and remove behave as on a quiet map, and removing every key from
/// the outer callback leaves the map empty.
fn range_nested_call<F: Family>() {
    let map = Arc::new(new_map::<F, u64, String>());
    for (i, v) in ["hello", "world", "Go"].into_iter().enumerate() {
        map.insert(i as u64, v.to_owned());
    }
    let m = Arc::clone(&map);
    let panic = watchdog(30, "nested for_each calls", move || {
        m.for_each(|key, _| {
            m.for_each(|k, v| {
                assert_eq!(
                    m.get(k).as_ref(),
                    Some(v),
                    "the key offered by for_each must load"
                );
                let (_, loaded) = m.get_or_insert(42, "dummy".to_owned());
                assert!(
                    !loaded,
                    "key 42 was never left in the map, yet it was found"
                );
                m.insert(42, "racefree".to_owned());
                assert_eq!(m.remove(&42).as_deref(), Some("racefree"));
                ControlFlow::Continue(())
            });
            m.remove(key);
            ControlFlow::Continue(())
        });
    });
    assert_eq!(panic, None);
    let mut length = 0;
    map.for_each(|_, _| {
        length += 1;
        ControlFlow::Continue(())
    });
    assert_eq!(length, 0, "every key was removed during the outer for_each");
}

/// `TestCompareAndSwap_NonExistingKey`.
fn compare_and_swap_non_existing_key<F: Family>() {
    let map = new_map::<F, u64, Option<u64>>();
    assert_eq!(map.compare_and_swap(&1, &None, Some(42)), Err(Some(42)));
    assert!(
        map.is_empty(),
        "compare_and_swap on a missing key inserted it"
    );
}

/// `TestMapDelete` and the `Delete` / `LoadAndDelete` cases of Go's suite.
fn map_delete<F: Family>() {
    let map = new_map::<F, &str, &str>();
    assert_eq!(
        map.remove("missing"),
        None,
        "deleting a missing key is a no-op"
    );
    map.insert("foo", "bar");
    map.insert("baz", "qux");
    assert_eq!(map.remove("foo"), Some("bar"));
    assert_eq!(map.get("foo"), None);
    assert_eq!(map.remove("foo"), None);
    assert_eq!(map.snapshot(), [("baz", "qux")].into());
}

/// `TestMapClear`.
fn map_clear<F: Family>() {
    let map = new_map::<F, &str, &str>();
    map.insert("foo", "bar");
    map.insert("baz", "qux");
    map.clear();
    map.for_each(|k, v| panic!("after clear, the map contains ({k}, {v})"));
}

/// `TestConcurrentClear`: 10 inserters, 10 readers and 10 clearers at once;
/// a final clear leaves the map empty.
fn concurrent_clear<F: Family>() {
    let map = new_map::<F, u64, u64>();
    thread::scope(|s| {
        for i in 0..10 {
            let map = &map;
            s.spawn(move || map.insert(i, i * 10));
            s.spawn(move || {
                if let Some(value) = map.get(&i) {
                    assert_eq!(value, i * 10);
                }
            });
            s.spawn(move || map.clear());
        }
    });
    map.clear();
    map.for_each(|k, v| panic!("after the final clear, the map contains ({k}, {v})"));
    assert!(map.is_empty());
}
