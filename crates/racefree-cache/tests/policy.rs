//! Each policy alone (a one-shard cache): the bound, exact behaviour on
//! small cases, and a model test that nothing is lost, duplicated or stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use racefree_cache::policy::{Lru, Policy, S3Fifo, Sieve, TinyLfu};
use racefree_cache::{Cache, RemovalCause};

type Log = Arc<Mutex<Vec<(u32, u32, RemovalCause)>>>;

fn logged<P: Policy>(capacity: u64) -> (Cache<u32, u32, P>, Log) {
    let log = Log::default();
    let sink = Arc::clone(&log);
    let cache = Cache::builder(capacity)
        .shards(1)
        .policy::<P>()
        .eviction_listener(move |key, value, cause| sink.lock().unwrap().push((key, value, cause)))
        .build()
        .unwrap();
    (cache, log)
}

fn evicted(log: &Log) -> Vec<u32> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|e| e.2 == RemovalCause::Size)
        .map(|e| e.0)
        .collect()
}

#[test]
fn lru_evicts_the_least_recently_used() {
    let (cache, log) = logged::<Lru>(2);
    cache.insert(1, 1);
    cache.insert(2, 2);
    assert_eq!(cache.get(&1), Some(1));
    cache.insert(3, 3);
    assert_eq!(evicted(&log), [2]);
}

#[test]
fn sieve_spares_visited_entries_and_keeps_their_place() {
    let (cache, log) = logged::<Sieve>(3);
    for k in 1..=3 {
        cache.insert(k, k);
    }
    cache.get(&1);
    // The hand clears 1's bit and evicts 2; then it points at 3.
    cache.insert(4, 4);
    assert_eq!(evicted(&log), [2]);
    cache.get(&4);
    cache.insert(5, 5);
    assert_eq!(evicted(&log), [2, 3]);
}

#[test]
fn s3_fifo_sends_one_hit_wonders_through_the_small_queue() {
    let (cache, log) = logged::<S3Fifo>(10);
    for k in 0..10 {
        cache.insert(k, k);
    }
    for k in 0..5 {
        cache.get(&k);
        cache.get(&k);
    }
    // New keys push out those not hit twice first.
    for k in 10..15 {
        cache.insert(k, k);
    }
    let mut gone = evicted(&log);
    gone.sort();
    assert_eq!(gone, [5, 6, 7, 8, 9]);
}

#[test]
fn tiny_lfu_keeps_a_hot_set_through_a_scan() {
    let (cache, _) = logged::<TinyLfu>(100);
    for round in 0..20 {
        for k in 0..90 {
            if cache.get(&k).is_none() {
                cache.insert(k, round);
            }
        }
    }
    // A one-pass scan of ten times the capacity in cold keys (longer scans
    // age the sketch's memory of the hot set, by design).
    for k in 1000..2000 {
        if cache.get(&k).is_none() {
            cache.insert(k, 0);
        }
    }
    let kept = (0..90).filter(|k| cache.contains_key(k)).count();
    assert!(kept >= 85, "only {kept} of 90 hot keys survived the scan");
}

#[test]
fn tiny_lfu_evicts_the_coldest_of_the_oldest_entries_rather_than_the_oldest() {
    // Capacity 100: a window of 1 entry and a main area of 99.
    let (cache, log) = logged::<TinyLfu>(100);
    let missed = |key: u32, times: usize| {
        for _ in 0..times {
            assert_eq!(cache.get(&key), None);
        }
    };
    // Key 500 is wanted often, then stored first: it becomes the oldest
    // entry of the main area, ahead of 98 keys never asked for.
    missed(500, 5);
    cache.insert(500, 0);
    for k in 1..=98 {
        cache.insert(k, 0);
    }
    // Key 99 was asked for twice; a new key pushes it out of the window,
    // so it competes for a place in the full main area.
    missed(99, 2);
    cache.insert(99, 0);
    cache.insert(1000, 0);
    // Against the oldest entry (500, wanted 5 times) it would lose; against
    // the coldest of the oldest few (1, never wanted) it wins.
    assert_eq!(evicted(&log), [1]);
    assert!(cache.contains_key(&500) && cache.contains_key(&99));
}

/// A full W-TinyLFU cache of capacity 100 (a window of 1 entry, a main
/// area of 99): keys 1 to 99, each asked for 3 times before it was stored,
/// fill the main area, oldest first, and key 101, asked for 5 times, the
/// window. The log is empty.
fn tiny_lfu_of_equally_wanted_keys() -> (Cache<u32, u32, TinyLfu>, Log) {
    let (cache, log) = logged::<TinyLfu>(100);
    let missed = |key: u32, times: usize| {
        for _ in 0..times {
            assert_eq!(cache.get(&key), None);
        }
    };
    for k in 1..=99 {
        missed(k, 3);
        cache.insert(k, 0);
    }
    // Nothing was evicted yet, so all of them are still in the window.
    // Going over the capacity sends 1 to 99 to the main area and turns
    // away 100, never asked for.
    cache.insert(100, 0);
    missed(101, 5);
    cache.insert(101, 0);
    assert_eq!(evicted(&log), [100]);
    log.lock().unwrap().clear();
    (cache, log)
}

#[test]
fn tiny_lfu_spares_an_entry_hit_since_it_was_last_looked_at() {
    let (cache, log) = tiny_lfu_of_equally_wanted_keys();
    // A hit only counts in the entry; eviction must still see it.
    assert_eq!(cache.get(&1), Some(0));
    // 101, pushed out of the window, competes for a place in the main
    // area: 1 was the oldest of the equally wanted, but it was hit.
    cache.insert(1000, 0);
    assert_eq!(evicted(&log), [2]);
    assert!(cache.contains_key(&1) && cache.contains_key(&101));
}

#[test]
fn tiny_lfu_remembers_the_hits_of_an_entry_that_left() {
    let (cache, log) = tiny_lfu_of_equally_wanted_keys();
    // 500, never asked for, pushes 101 into the main area (1 goes).
    cache.insert(500, 0);
    // It is hit 10 times, then removed.
    for _ in 0..10 {
        assert_eq!(cache.get(&500), Some(0));
    }
    cache.remove(&500);
    // Stored again and pushed out of the window, it competes with the
    // main area's entries, wanted 3 times each: its hits make it win.
    cache.insert(500, 0);
    cache.insert(1000, 0);
    assert_eq!(evicted(&log), [1, 2]);
    assert!(cache.contains_key(&500));
}

fn check_model<P: Policy>(capacity: u64, ops: &[(u8, u32, u32)]) {
    let (cache, log) = logged::<P>(capacity);
    let mut model: HashMap<u32, u32> = HashMap::new();
    for &(op, key, value) in ops {
        match op % 4 {
            0 | 1 => {
                cache.insert(key, value);
                if let Some(old) = model.insert(key, value) {
                    let replaced =
                        log.lock()
                            .unwrap()
                            .contains(&(key, old, RemovalCause::Replaced));
                    assert!(
                        replaced,
                        "replacing {key} did not report its old value {old}"
                    );
                }
            }
            2 => {
                let got = cache.get(&key);
                assert!(
                    got.is_none() || got == model.get(&key).copied(),
                    "get {key}: {got:?}, last written {:?}",
                    model.get(&key)
                );
            }
            _ => assert_eq!(cache.remove(&key), model.remove(&key), "remove {key}"),
        }
        // Whatever the policy evicted leaves the model too.
        for (key, value, cause) in log.lock().unwrap().drain(..) {
            if cause == RemovalCause::Size {
                assert_eq!(
                    model.remove(&key),
                    Some(value),
                    "evicted {key} with a stale value"
                );
            }
        }
        assert!(
            cache.len() as u64 <= capacity,
            "{} entries in a cache of {capacity}",
            cache.len()
        );
        assert_eq!(
            cache.len(),
            model.len(),
            "the cache and the model disagree on what is resident"
        );
    }
    for (key, value) in cache.iter() {
        assert_eq!(model.get(&key), Some(&value));
    }
}

fn ops() -> impl Strategy<Value = Vec<(u8, u32, u32)>> {
    prop::collection::vec((any::<u8>(), 0..24u32, any::<u32>()), 0..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lru_matches_a_model(capacity in 1..12u64, ops in ops()) { check_model::<Lru>(capacity, &ops) }
    #[test]
    fn sieve_matches_a_model(capacity in 1..12u64, ops in ops()) { check_model::<Sieve>(capacity, &ops) }
    #[test]
    fn s3_fifo_matches_a_model(capacity in 1..12u64, ops in ops()) { check_model::<S3Fifo>(capacity, &ops) }
    #[test]
    fn tiny_lfu_matches_a_model(capacity in 1..12u64, ops in ops()) { check_model::<TinyLfu>(capacity, &ops) }
}
