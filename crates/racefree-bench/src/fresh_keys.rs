//! The conc-map-bench model (the `bustle` crate's): each thread owns a
//! disjoint set of keys and replays a shuffled 100-slot operation mix, so
//! every answer the map gives is known in advance and checked.
//!
//! Written here rather than taken from `bustle` because the runner checks
//! every result, runs by time as well as by count, and uses `String` keys.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::adapter::BenchMap;
use crate::datum::Datum;
use crate::timing::time_threads;
use crate::workload::{Op, Size, Workload, drive, plan, scramble};

/// The number of the key of index `i` for `thread`: a bijective mix, so
/// keys look random to the hasher and the threads' key sets never overlap.
fn key_number(thread: usize, i: u64) -> u64 {
    scramble(((thread as u64) << 40) ^ i)
}

/// `key`, rewritten to thread `t`'s key of index `i`.
fn at<K: Datum>(key: &mut K, t: usize, i: u64) -> &K {
    key.set_number(key_number(t, i));
    key
}

/// Runs `workload` on a fresh `M`; see [`Workload::run`].
///
/// Key `i` of a thread always holds value `i`, so every read, update and
/// compare-and-swap can check the value it sees. Lookups reuse one key per
/// thread (a `String` key is rewritten in place, not allocated); an insert
/// makes its key and value, as a caller would.
pub(crate) fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(
    workload: &Workload,
    threads: usize,
    size: Size,
) -> (Duration, u64) {
    let capacity = 1usize << size.capacity_log2;
    let map = M::with_capacity(capacity);
    let ops = plan(workload.mix);
    let per_thread_prefill = (capacity as f64 * workload.prefill) as u64 / threads as u64;
    let (took, done) = time_threads(
        threads,
        |t| {
            // Live keys are key(t, oldest..next).
            for i in 0..per_thread_prefill {
                let fresh = map.insert(K::from_number(key_number(t, i)), V::from_number(i));
                assert!(fresh, "prefill: fresh key {i} was present");
            }
        },
        |t, ()| {
            let (mut oldest, mut next) = (0u64, per_thread_prefill);
            // Reused for lookups: a `String` is rewritten in place.
            let (mut key, mut value) = (K::from_number(0), V::from_number(0));
            // A full-period walk over the live keys for reads and updates.
            let mut walk = 0u64;
            let mut live_key = || {
                walk = walk.wrapping_add(0x9e37_79b9_7f4a_7c15);
                walk
            };
            let wrong = AtomicBool::new(false);
            let done = drive(size.budget, threads, |i| {
                let live = next - oldest;
                let op = ops[(i % 100) as usize];
                match op {
                    Op::Read | Op::Update | Op::CompareAndSwap if live == 0 => {}
                    Op::Read => {
                        let index = oldest + live_key() % live;
                        value.set_number(index);
                        let own = map.get(at(&mut key, t, index), |v| *v == value);
                        assert_eq!(own, Some(true), "read: a live key missing or wrong");
                    }
                    Op::Update => {
                        let index = oldest + live_key() % live;
                        value.set_number(index);
                        // Stores the key's own value again, so later checks hold.
                        let found = map.update(at(&mut key, t, index), |v| {
                            if *v != value {
                                wrong.store(true, Ordering::Relaxed);
                            }
                            value.clone()
                        });
                        assert!(found, "update: live key missing");
                    }
                    Op::CompareAndSwap => {
                        let index = oldest + live_key() % live;
                        value.set_number(index);
                        let swapped =
                            map.compare_and_swap(at(&mut key, t, index), &value, value.clone());
                        assert!(swapped, "compare_and_swap: a live key missing or wrong");
                    }
                    Op::GetOrInsert if live > 0 && i % 2 == 0 => {
                        let index = oldest + live_key() % live;
                        let k = K::from_number(key_number(t, index));
                        let present = map.get_or_insert(k, V::from_number(index));
                        assert!(present, "get_or_insert: live key missing");
                    }
                    Op::Insert | Op::GetOrInsert => {
                        let k = K::from_number(key_number(t, next));
                        let v = V::from_number(next);
                        let fresh = match op {
                            Op::Insert => map.insert(k, v),
                            _ => !map.get_or_insert(k, v),
                        };
                        assert!(fresh, "insert: fresh key was present");
                        next += 1;
                    }
                    Op::Remove if live == 0 => {}
                    Op::Remove => {
                        assert!(
                            map.remove(at(&mut key, t, oldest)),
                            "remove: live key missing"
                        );
                        oldest += 1;
                    }
                }
            });
            assert!(
                !wrong.load(Ordering::Relaxed),
                "update: a key had another key's value"
            );
            // The end state: the last removed key is gone, the newest is there.
            assert!(
                oldest == 0 || map.get(at(&mut key, t, oldest - 1), |_| ()).is_none(),
                "a removed key is back"
            );
            assert!(
                next == oldest || map.get(at(&mut key, t, next - 1), |_| ()).is_some(),
                "the newest key is missing"
            );
            done
        },
    );
    (took, done.into_iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "live key missing")]
    fn a_map_that_loses_inserts_fails() {
        let workload = crate::workload::Preset::ReadHeavy.workload();
        let size = Size::tiny();
        run::<u64, u64, crate::lossy_map::LossyMap>(&workload, 2, size);
    }

    #[test]
    fn keys_of_different_threads_never_collide() {
        let mut seen = std::collections::HashSet::new();
        for t in 0..8 {
            for i in 0..10_000 {
                assert!(seen.insert(key_number(t, i)));
            }
        }
    }
}
