//! Stress under oversubscription, for every map: many more threads than
//! cores, so threads are preempted inside critical sections, over few keys,
//! so they collide. Each test checks an invariant that a lost update, a
//! torn compare-and-swap, a leak or a double drop would break.
//!
//! Ignored by default; `.ci/run` runs them in release with debug
//! assertions. `RACEFREE_SOAK=N` multiplies the work by N for a long soak.

mod common;

use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use common::{Family, Tracked, Tracker, map_tests, new_map};
use racefree::{Action, ConcurrentMap};

map_tests!(
    ignored:
    counters_lose_no_update,
    compare_and_swap_hands_each_value_to_one_thread,
    churn_drops_everything_exactly_once,
    panicking_closures_under_load_leave_a_consistent_map,
);

const THREADS: u64 = 16;

fn rounds(base: u64) -> u64 {
    let soak = std::env::var("RACEFREE_SOAK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    base * soak
}

/// Increments through `update`, `compute` and `get_or_insert` + `update`
/// from 16 threads on 8 keys: the final sum is exact.
fn counters_lose_no_update<F: Family>() {
    let rounds = rounds(20_000);
    let map = new_map::<F, u64, u64>();
    thread::scope(|s| {
        for t in 0..THREADS {
            let map = &map;
            s.spawn(move || {
                for i in 0..rounds {
                    let key = (t + i) % 8;
                    match i % 3 {
                        0 => _ = map.compute(key, |n| Action::Set(n.map_or(1, |n| n + 1))),
                        1 => {
                            map.get_or_insert(key, 0);
                            assert!(map.update(&key, |n| n + 1));
                        }
                        _ => loop {
                            let current = map.get_or_insert(key, 0).0;
                            if map.compare_and_swap(&key, &current, current + 1).is_ok() {
                                break;
                            }
                        },
                    }
                }
            });
        }
    });
    let mut total = 0;
    map.for_each(|_, n| {
        total += n;
        ControlFlow::Continue(())
    });
    assert_eq!(total, THREADS * rounds, "{}: increments were lost", F::NAME);
}

/// Threads pass one token around with compare-and-swap and
/// compare-and-remove: a value is never taken by two threads.
fn compare_and_swap_hands_each_value_to_one_thread<F: Family>() {
    let rounds = rounds(5_000);
    let map = new_map::<F, u8, u64>();
    let taken = AtomicU64::new(0);
    map.insert(0, 0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            let (map, taken) = (&map, &taken);
            s.spawn(move || {
                let mut mine = 0;
                while mine < rounds {
                    let Some(seen) = map.get(&0) else { continue };
                    // Taking the token: remove it if it still holds `seen`,
                    // then put back the next value.
                    if map.compare_and_remove(&0, &seen) {
                        mine += 1;
                        taken.fetch_add(1, Ordering::Relaxed);
                        assert_eq!(map.insert(0, seen + 1), None, "two threads held the token");
                    }
                }
            });
        }
    });
    assert_eq!(map.get(&0), Some(THREADS * rounds));
    assert_eq!(taken.load(Ordering::Relaxed), THREADS * rounds);
}

/// Inserts, overwrites, removes and clears tracked keys and values from
/// 16 threads: at the end every one was dropped exactly once.
fn churn_drops_everything_exactly_once<F: Family>() {
    let rounds = rounds(5_000);
    let tracker = Tracker::new();
    {
        let map = new_map::<F, Tracked<u64>, Tracked<u64>>();
        thread::scope(|s| {
            for t in 0..THREADS {
                let (map, tracker) = (&map, &tracker);
                s.spawn(move || {
                    for i in 0..rounds {
                        let key = tracker.track((t * 7 + i) % 64);
                        match i % 7 {
                            0 | 1 => _ = map.insert(key, tracker.track(i)),
                            2 => _ = map.remove(&key),
                            3 => {
                                _ = map.compute(key, |v| {
                                    if v.is_some() {
                                        Action::Remove
                                    } else {
                                        Action::Set(tracker.track(i))
                                    }
                                })
                            }
                            4 => _ = map.get_or_insert_with(key, || tracker.track(i)),
                            5 => map.retain(|k, _| k.value % 5 != i % 5),
                            _ if i % 700 == 6 => map.clear(),
                            _ => _ = map.update(&key, |v| tracker.track(v.value + 1)),
                        }
                    }
                });
            }
        });
        assert!(map.len() <= 64);
    }
    tracker.assert_all_dropped(&format!("{} after churn", F::NAME));
}

/// Closures that panic at random while other threads work: afterwards the
/// map is usable and each key's value counts exactly the increments whose
/// closures returned.
fn panicking_closures_under_load_leave_a_consistent_map<F: Family>() {
    let rounds = rounds(5_000);
    let map = new_map::<F, u64, u64>();
    let succeeded = AtomicU64::new(0);
    (0..8).for_each(|k| _ = map.insert(k, 0));
    // Keep the expected panics out of the test output.
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    thread::scope(|s| {
        for t in 0..THREADS {
            let (map, succeeded) = (&map, &succeeded);
            s.spawn(move || {
                for i in 0..rounds {
                    let key = (t + i) % 8;
                    let fail = (t * 31 + i * 17) % 5 == 0;
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                        if i % 2 == 0 {
                            map.update(&key, |n| if fail { panic!("injected") } else { n + 1 });
                        } else {
                            map.compute(key, |n| {
                                if fail {
                                    panic!("injected")
                                } else {
                                    Action::Set(n.unwrap() + 1)
                                }
                            });
                        }
                    }));
                    if outcome.is_ok() {
                        succeeded.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    panic::set_hook(quiet);
    let total: u64 = (0..8).map(|k| map.get(&k).unwrap()).sum();
    assert_eq!(
        total,
        succeeded.load(Ordering::Relaxed),
        "{}: a panicking closure changed a value",
        F::NAME
    );
    assert_eq!(map.len(), 8);
}
