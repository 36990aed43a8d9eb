//! A mix on one key space that every thread shares, with uniform or Zipf
//! key popularity: hot keys are contended, as in a real cache or counter
//! table.
//!
//! Answers are not known in advance, so the checks are of consistency: a
//! value read or updated must be its key's own, and the inserts that
//! reported a new key minus the removes that found one must add up to the
//! final size, which an iteration must confirm.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::adapter::BenchMap;
use crate::datum::Datum;
use crate::distribution::Distribution;
use crate::timing::time_threads;
use crate::workload::{Op, Size, Workload, drive, plan, scramble};

/// Key draws per thread, replayed in a loop: drawing a Zipf sample costs
/// more than a map operation, so draws are made before timing starts.
const DRAWS: usize = 1 << 16;

/// Scatters key indexes over u64 (salted, so they differ from the fresh
/// keys' numbers).
fn scatter(i: u64) -> u64 {
    scramble(i ^ 0x2545_f491_4f6c_dd1d)
}

/// Whether key `i` is inserted before timing: a scattered choice, so the
/// hot keys are present in the same share as all others.
fn prefilled(i: u64, share: f64) -> bool {
    (scatter(i) % 10_000) < (share * 10_000.0) as u64
}

/// Runs `workload` on `keys` shared keys; see [`Workload::run`].
pub(crate) fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(
    workload: &Workload,
    keys: u64,
    distribution: Distribution,
    threads: usize,
    size: Size,
) -> (Duration, u64) {
    let map = M::with_capacity(1 << size.capacity_log2);
    let ops = plan(workload.mix);
    let key_of: Vec<K> = (0..keys).map(|i| K::from_number(scatter(i))).collect();
    let value_of: Vec<V> = (0..keys).map(V::from_number).collect();
    let (took, counts) = time_threads(
        threads,
        |t| {
            let mut prefill = 0u64;
            for i in (t as u64..keys).step_by(threads) {
                if prefilled(i, workload.prefill) {
                    let fresh =
                        map.insert(key_of[i as usize].clone(), value_of[i as usize].clone());
                    assert!(fresh, "prefill: key {i} was already present");
                    prefill += 1;
                }
            }
            (prefill, distribution.draws(keys, DRAWS, t as u64))
        },
        |_, (prefill, draws)| {
            let (mut inserted, mut removed) = (0u64, 0u64);
            let wrong = AtomicBool::new(false);
            let done = drive(size.budget, threads, |i| {
                let k = draws[i as usize % DRAWS] as usize;
                let (key, value) = (&key_of[k], &value_of[k]);
                match ops[(i % 100) as usize] {
                    Op::Read => {
                        let own = map.get(key, |v| v == value);
                        assert!(own != Some(false), "read: key {k} had another key's value");
                    }
                    Op::Update => {
                        map.update(key, |v| {
                            if v != value {
                                wrong.store(true, Ordering::Relaxed);
                            }
                            value.clone()
                        });
                    }
                    Op::Insert => inserted += u64::from(map.insert(key.clone(), value.clone())),
                    Op::GetOrInsert => {
                        inserted += u64::from(!map.get_or_insert(key.clone(), value.clone()));
                    }
                    Op::CompareAndSwap => {
                        // Succeeds exactly when present: values never change.
                        map.compare_and_swap(key, value, value.clone());
                    }
                    Op::Remove => removed += u64::from(map.remove(key)),
                }
            });
            assert!(
                !wrong.load(Ordering::Relaxed),
                "update: a key had another key's value"
            );
            (prefill + inserted, removed, done)
        },
    );
    let added: u64 = counts.iter().map(|c| c.0).sum();
    let removed: u64 = counts.iter().map(|c| c.1).sum();
    let expected = (added - removed) as usize;
    assert_eq!(
        map.size(),
        expected,
        "the map's size is not what its answers add up to ({added} new keys, {removed} removed)"
    );
    assert_eq!(
        map.count_entries(),
        expected,
        "an iteration does not see what the map's answers add up to"
    );
    (took, counts.iter().map(|c| c.2).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "the map's size is not what its answers add up to")]
    fn a_map_that_loses_inserts_fails() {
        let workload = crate::workload::Preset::Exchange.workload();
        let size = Size::tiny();
        run::<u64, u64, crate::lossy_map::LossyMap>(&workload, 100, Distribution::Uniform, 2, size);
    }

    #[test]
    fn prefill_takes_its_share_of_keys() {
        let count = (0..100_000).filter(|&i| prefilled(i, 0.75)).count();
        assert!((74_000..76_000).contains(&count), "{count}");
        assert_eq!((0..1000).filter(|&i| prefilled(i, 0.0)).count(), 0);
        assert_eq!((0..1000).filter(|&i| prefilled(i, 1.0)).count(), 1000);
    }
}
