//! The behaviour every racefree map promises (`shared/SEMANTICS.md`), run
//! against every map.

mod common;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use common::{ConstantHasher, Family, Tracker, expect_panic, map_tests, new_map, watchdog};
use racefree::{Action, ConcurrentMap};

map_tests!(
    insert_get_remove,
    borrowed_lookups,
    get_or_insert_reports_presence,
    get_or_insert_with_runs_only_when_absent,
    compare_and_swap_and_remove,
    update_never_inserts,
    compute_keeps_sets_and_removes,
    for_each_stops_early,
    retain_and_clear,
    for_each_callback_may_call_every_method,
    reentrant_closures_panic_instead_of_hanging,
    panicking_closures_leave_old_values,
    every_key_and_value_dropped_exactly_once,
    get_or_insert_with_race_stores_one_value,
    colliding_hashes_are_still_correct,
);

fn insert_get_remove<F: Family>() {
    let map = new_map::<F, u64, &str>();
    assert!(map.is_empty());
    assert_eq!(map.insert(1, "one"), None);
    assert_eq!(map.insert(2, "two"), None);
    assert_eq!(map.insert(1, "uno"), Some("one"));
    assert_eq!(map.len(), 2);
    assert_eq!(map.get(&1), Some("uno"));
    assert_eq!(map.get_with(&2, |v| v.len()), Some(3));
    assert!(map.contains_key(&2));
    assert_eq!(map.remove(&1), Some("uno"));
    assert_eq!(map.remove(&1), None);
    assert_eq!(map.get(&1), None);
    assert!(!map.contains_key(&1));
    assert_eq!(map.len(), 1);
    assert_eq!(map.snapshot(), [(2, "two")].into());
}

fn borrowed_lookups<F: Family>() {
    let map = new_map::<F, String, u32>();
    map.insert("key".to_owned(), 1);
    assert_eq!(map.get("key"), Some(1));
    assert!(map.update("key", |v| v + 1));
    assert_eq!(map.compare_and_swap("key", &2, 3), Ok(()));
    assert!(map.compare_and_remove("key", &3));
    assert_eq!(map.remove("key"), None);
}

fn get_or_insert_reports_presence<F: Family>() {
    let map = new_map::<F, u8, u8>();
    assert_eq!(map.get_or_insert(1, 10), (10, false));
    assert_eq!(map.get_or_insert(1, 20), (10, true));
    assert_eq!(map.get(&1), Some(10));
}

fn get_or_insert_with_runs_only_when_absent<F: Family>() {
    let map = new_map::<F, u8, u8>();
    let calls = AtomicUsize::new(0);
    let make = || {
        calls.fetch_add(1, Ordering::SeqCst);
        7
    };
    assert_eq!(map.get_or_insert_with(1, make), 7);
    assert_eq!(map.get_or_insert_with(1, make), 7);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

fn compare_and_swap_and_remove<F: Family>() {
    let map = new_map::<F, u8, u8>();
    assert_eq!(map.compare_and_swap(&1, &0, 5), Err(5));
    assert!(
        !map.contains_key(&1),
        "compare_and_swap on an absent key inserted it"
    );
    assert!(!map.compare_and_remove(&1, &0));
    map.insert(1, 0);
    assert_eq!(map.compare_and_swap(&1, &9, 5), Err(5));
    assert_eq!(map.compare_and_swap(&1, &0, 5), Ok(()));
    assert_eq!(map.get(&1), Some(5));
    assert!(!map.compare_and_remove(&1, &0));
    assert!(map.compare_and_remove(&1, &5));
    assert!(map.is_empty());
}

fn update_never_inserts<F: Family>() {
    let map = new_map::<F, u8, u8>();
    assert!(!map.update(&1, |v| v + 1));
    assert!(!map.contains_key(&1));
    map.insert(1, 1);
    assert!(map.update(&1, |v| v + 1));
    assert_eq!(map.get(&1), Some(2));
}

fn compute_keeps_sets_and_removes<F: Family>() {
    let map = new_map::<F, u8, u8>();
    assert_eq!(
        map.compute(1, |v| {
            assert_eq!(v, None);
            Action::Keep
        }),
        None
    );
    assert!(!map.contains_key(&1), "Keep on an absent key inserted it");
    assert_eq!(map.compute(1, |_| Action::Remove), None);
    assert_eq!(map.compute(1, |_| Action::Set(1)), None);
    assert_eq!(
        map.compute(1, |v| {
            assert_eq!(v, Some(&1));
            Action::Keep
        }),
        None
    );
    assert_eq!(map.compute(1, |v| Action::Set(v.unwrap() + 1)), Some(1));
    assert_eq!(map.get(&1), Some(2));
    assert_eq!(map.compute(1, |_| Action::Remove), Some(2));
    assert!(map.is_empty());
}

fn for_each_stops_early<F: Family>() {
    let map = new_map::<F, u32, u32>();
    (0..100).for_each(|i| _ = map.insert(i, i));
    let mut seen = 0;
    map.for_each(|_, _| {
        seen += 1;
        if seen == 10 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(seen, 10);
}

fn retain_and_clear<F: Family>() {
    let map = new_map::<F, u32, u32>();
    (0..1000).for_each(|i| _ = map.insert(i, i * 2));
    map.retain(|k, v| k % 3 == 0 && *v == k * 2);
    assert_eq!(map.len(), 334);
    assert_eq!(
        map.snapshot(),
        (0..1000)
            .filter(|k| k % 3 == 0)
            .map(|k| (k, k * 2))
            .collect()
    );
    map.clear();
    assert!(map.is_empty());
    assert_eq!(map.snapshot().len(), 0);
    map.insert(1, 1);
    assert_eq!(map.get(&1), Some(1), "the map is usable after clear");
}

/// SEMANTICS.md: the callback may call any method of the same map.
fn for_each_callback_may_call_every_method<F: Family>() {
    let map = Arc::new(new_map::<F, u32, u32>());
    (0..64).for_each(|i| _ = map.insert(i, i));
    let inner = Arc::clone(&map);
    let panic = watchdog(30, "for_each with a re-entrant callback", move || {
        let map = &*inner;
        map.for_each(|k, v| {
            assert_eq!(map.get(k), Some(*v));
            assert!(map.update(k, |v| v + 1000));
            map.compute(*k, |v| Action::Set(v.unwrap() - 1000));
            assert_eq!(map.get_or_insert(1000 + k, 0), (0, false));
            map.get_or_insert_with(2000 + k, || 0);
            assert_eq!(map.insert(3000 + k, 0), None);
            assert_eq!(map.compare_and_swap(&(3000 + k), &0, 1), Ok(()));
            assert!(map.compare_and_remove(&(3000 + k), &1));
            assert_eq!(map.remove(&(1000 + k)), Some(0));
            map.retain(|key, _| *key != 2000 + k);
            assert!(map.len() >= 64);
            let _ = map.snapshot();
            map.for_each(|_, _| ControlFlow::Break(()));
            ControlFlow::Continue(())
        });
    });
    assert_eq!(panic, None);
    assert_eq!(map.snapshot(), (0..64).map(|i| (i, i)).collect());
}

/// An operation that runs a closure, named, and a way to call it on `M` with
/// a closure body.
type OuterCall<M> = (&'static str, fn(&M, &(dyn Fn() + Sync)));

/// SEMANTICS.md: a closure that calls back into its own map either works
/// or panics with a message naming the map and the operation; never hangs.
fn reentrant_closures_panic_instead_of_hanging<F: Family>() {
    let map = Arc::new(new_map::<F, u32, u32>());
    map.insert(1, 1);
    let outer: [OuterCall<F::Map<u32, u32, racefree::DefaultHashBuilder>>; 5] = [
        ("get_with", |m, call| _ = m.get_with(&1, |_| call())),
        ("update", |m, call| {
            _ = m.update(&1, |v| {
                call();
                *v
            })
        }),
        ("compute", |m, call| {
            _ = m.compute(1, |_| {
                call();
                Action::Keep
            })
        }),
        ("get_or_insert_with", |m, call| {
            _ = m.get_or_insert_with(2, || {
                call();
                2
            })
        }),
        ("retain", |m, call| {
            m.retain(|_, _| {
                call();
                true
            })
        }),
    ];
    for (outer_name, run_outer) in outer {
        for inner_name in ["get", "insert", "remove", "for_each", "clear"] {
            let map = Arc::clone(&map);
            let what = format!("{} re-entered from {outer_name} via {inner_name}", F::NAME);
            let message = watchdog(30, &what, move || {
                let m = &*map;
                let call = || match inner_name {
                    "get" => _ = m.get(&1),
                    "insert" => _ = m.insert(3, 3),
                    "remove" => _ = m.remove(&1),
                    "for_each" => m.for_each(|_, _| ControlFlow::Continue(())),
                    _ => m.clear(),
                };
                run_outer(m, &call);
            });
            let message = message.unwrap_or_else(|| panic!("{what}: expected a panic"));
            for needle in [F::NAME, outer_name, inner_name] {
                assert!(
                    message.contains(needle),
                    "{what}: message {message:?} does not name {needle}"
                );
            }
        }
    }
    assert_eq!(
        map.get(&1),
        Some(1),
        "the map is usable after re-entry panics"
    );
    assert!(!map.contains_key(&2));
    assert!(map.update(&1, |v| v + 1));
}

/// SEMANTICS.md: a panicking closure leaves the map usable (no poisoning)
/// and the key with the value it had before the call.
fn panicking_closures_leave_old_values<F: Family>() {
    let map = new_map::<F, u32, u32>();
    (0..10).for_each(|i| _ = map.insert(i, i));
    expect_panic(|| _ = map.update(&1, |_| panic!("boom")));
    expect_panic(|| _ = map.compute(2, |_| panic!("boom")));
    expect_panic(|| _ = map.compute(20, |_| panic!("boom")));
    expect_panic(|| _ = map.get_or_insert_with(21, || panic!("boom")));
    expect_panic(|| _ = map.get_with(&3, |_| panic!("boom")));
    expect_panic(|| map.for_each(|_, _| panic!("boom")));
    assert_eq!(map.snapshot(), (0..10).map(|i| (i, i)).collect());
    assert_eq!(map.len(), 10);
    // A retain that panics part way keeps every entry it had not yet
    // removed, and its length counts what it did remove.
    let mut calls = 0;
    expect_panic(|| {
        map.retain(|_, _| {
            calls += 1;
            if calls == 5 {
                panic!("boom")
            }
            calls > 2
        })
    });
    let left = map.snapshot().len();
    assert!(
        left >= 8,
        "only the two it rejected may be gone, {left} left"
    );
    assert_eq!(map.len(), left);
    (0..10).for_each(|i| _ = map.insert(i, i));
    // Every operation still works and no lock was left held.
    assert!(map.update(&1, |v| v + 1));
    assert_eq!(map.insert(20, 20), None);
    assert_eq!(map.remove(&20), Some(20));
    map.clear();
    assert!(map.is_empty());
}

/// SEMANTICS.md "Memory": every key and value that leaves the map is
/// dropped exactly once (Tracked panics on a second drop).
fn every_key_and_value_dropped_exactly_once<F: Family>() {
    let tracker = Tracker::new();
    let t = &tracker;
    {
        let map = new_map::<F, common::Tracked<u32>, common::Tracked<u32>>();
        for i in 0..200 {
            map.insert(t.track(i), t.track(i));
        }
        for i in 0..200 {
            match i % 8 {
                0 => _ = map.insert(t.track(i), t.track(i + 1)),
                1 => _ = map.remove(&t.track(i)),
                2 => _ = map.compute(t.track(i), |_| Action::Set(t.track(0))),
                3 => _ = map.compute(t.track(i), |_| Action::Remove),
                4 => _ = map.compare_and_swap(&t.track(i), &t.track(i), t.track(7)),
                5 => _ = map.compare_and_remove(&t.track(i), &t.track(i)),
                6 => _ = map.update(&t.track(i), |v| t.track(v.value + 1)),
                _ => _ = map.get_or_insert(t.track(i + 1000), t.track(i)),
            }
        }
        let _ = map.get_or_insert_with(t.track(5000), || t.track(1));
        let _ = map.snapshot();
        map.retain(|k, _| k.value % 2 == 0);
        assert!(tracker.live() > 0);
        let half = map.len();
        map.clear();
        assert_eq!(
            tracker.live(),
            0,
            "clear dropped {half} entries' keys and values"
        );
        for i in 0..100 {
            map.insert(t.track(i), t.track(i));
        }
        // The map is dropped here with 100 entries.
    }
    tracker.assert_all_dropped("after every operation and dropping the map");
}

/// SEMANTICS.md: when several threads race on one absent key, exactly one
/// value is stored and all of them return that value.
fn get_or_insert_with_race_stores_one_value<F: Family>() {
    const THREADS: usize = 8;
    for round in 0..50u32 {
        let map = new_map::<F, u32, usize>();
        let calls = AtomicUsize::new(0);
        let start = Barrier::new(THREADS);
        let results: Vec<usize> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (map, calls, start) = (&map, &calls, &start);
                    s.spawn(move || {
                        start.wait();
                        map.get_or_insert_with(round, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            t
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let stored = map.get(&round).unwrap();
        assert!(
            results.iter().all(|&r| r == stored),
            "round {round}: callers saw {results:?}, map holds {stored}"
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "these maps run the loader once per key"
        );
    }
}

/// A user-supplied hasher that sends every key to one hash is slow, but the
/// map stays correct.
fn colliding_hashes_are_still_correct<F: Family>() {
    let map = F::with_hasher::<u32, u32, _>(ConstantHasher);
    for i in 0..500 {
        assert_eq!(map.insert(i, i), None);
    }
    for i in (0..500).step_by(2) {
        assert_eq!(map.remove(&i), Some(i));
    }
    assert_eq!(map.len(), 250);
    assert!((0..500).all(|i| map.contains_key(&i) == (i % 2 == 1)));
}
