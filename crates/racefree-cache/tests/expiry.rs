//! Time-to-live, time-to-idle and per-entry expiry, on a `ManualClock`:
//! no test sleeps.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use racefree_cache::{Cache, CacheBuilder, ManualClock, RemovalCause};

const SECOND: Duration = Duration::from_secs(1);

type Log = Arc<Mutex<Vec<(u32, u64, RemovalCause)>>>;

/// A cache on a manual clock whose listener logs what leaves.
fn logged(
    build: impl FnOnce(CacheBuilder<u32, u64>) -> CacheBuilder<u32, u64>,
) -> (Cache<u32, u64>, Arc<ManualClock>, Log) {
    let clock = Arc::new(ManualClock::new());
    let log = Log::default();
    let seen = Arc::clone(&log);
    let cache = build(Cache::builder(1000).shards(4))
        .clock(Arc::clone(&clock))
        .eviction_listener(move |key, value, cause| seen.lock().unwrap().push((key, value, cause)))
        .build()
        .unwrap();
    (cache, clock, log)
}

#[test]
fn time_to_live_counts_from_the_write_and_reads_do_not_extend_it() {
    let (cache, clock, log) = logged(|b| b.time_to_live(10 * SECOND));
    cache.insert(1, 10);
    clock.advance(5 * SECOND);
    cache.insert(2, 20);
    assert_eq!(cache.get(&1), Some(10));
    clock.advance(5 * SECOND - Duration::from_nanos(1));
    assert_eq!(
        cache.get(&1),
        Some(10),
        "one nanosecond before its deadline"
    );
    clock.advance(Duration::from_nanos(1));
    assert_eq!(cache.get(&1), None, "at its deadline");
    assert!(cache.contains_key(&2));
    clock.advance(5 * SECOND);
    assert!(!cache.contains_key(&2));
    assert_eq!(
        *log.lock().unwrap(),
        [
            (1, 10, RemovalCause::Expired),
            (2, 20, RemovalCause::Expired)
        ]
    );
    let stats = cache.stats();
    assert_eq!((stats.expirations, stats.evictions), (2, 0));
    assert_eq!(cache.len(), 0);
}

#[test]
fn a_replacement_restarts_the_time_to_live() {
    let (cache, clock, _) = logged(|b| b.time_to_live(10 * SECOND));
    cache.insert(1, 10);
    clock.advance(8 * SECOND);
    cache.insert(1, 11);
    clock.advance(8 * SECOND);
    assert_eq!(cache.get(&1), Some(11));
    clock.advance(2 * SECOND);
    assert_eq!(cache.get(&1), None);
}

#[test]
fn time_to_idle_restarts_on_every_read_but_not_on_contains_key() {
    let (cache, clock, _) = logged(|b| b.time_to_idle(10 * SECOND));
    cache.insert(1, 10);
    for _ in 0..5 {
        clock.advance(9 * SECOND);
        assert_eq!(cache.get(&1), Some(10));
    }
    clock.advance(9 * SECOND);
    assert!(cache.contains_key(&1));
    clock.advance(SECOND);
    assert!(!cache.contains_key(&1), "contains_key did not restart it");
}

#[test]
fn with_both_the_earlier_deadline_wins() {
    let (cache, clock, _) = logged(|b| b.time_to_live(25 * SECOND).time_to_idle(10 * SECOND));
    cache.insert(1, 10);
    cache.insert(2, 20);
    for _ in 0..2 {
        clock.advance(9 * SECOND);
        assert_eq!(cache.get(&1), Some(10));
    }
    clock.advance(SECOND);
    assert_eq!(cache.get(&2), None, "idle for 19 seconds");
    clock.advance(6 * SECOND);
    assert_eq!(
        cache.get(&1),
        None,
        "25 seconds old, though read 7 seconds ago"
    );
}

#[test]
fn insert_with_ttl_overrides_the_caches_time_to_live_both_ways() {
    let (cache, clock, _) = logged(|b| b.time_to_live(10 * SECOND));
    cache.insert_with_ttl(1, 10, 2 * SECOND);
    cache.insert_with_ttl(2, 20, 100 * SECOND);
    cache.insert(3, 30);
    clock.advance(2 * SECOND);
    assert_eq!(cache.get(&1), None);
    clock.advance(8 * SECOND);
    assert_eq!(cache.get(&3), None);
    assert_eq!(cache.get(&2), Some(20));
}

#[test]
fn a_shorter_ttl_on_replacement_takes_effect() {
    let (cache, clock, log) = logged(|b| b);
    cache.insert(1, 10);
    cache.insert_with_ttl(1, 11, SECOND);
    clock.advance(SECOND);
    assert_eq!(cache.get(&1), None);
    assert_eq!(
        *log.lock().unwrap(),
        [
            (1, 10, RemovalCause::Replaced),
            (1, 11, RemovalCause::Expired)
        ]
    );
}

#[test]
fn insert_with_ttl_works_on_a_cache_built_without_expiry() {
    let clock = Arc::new(ManualClock::new());
    let cache: Cache<u32, u64> = Cache::builder(100)
        .clock(Arc::clone(&clock))
        .build()
        .unwrap();
    cache.insert(1, 10);
    clock.advance(SECOND);
    cache.insert_with_ttl(2, 20, SECOND);
    clock.advance(SECOND);
    assert_eq!(cache.get(&2), None);
    assert_eq!(
        cache.get(&1),
        Some(10),
        "entries without a ttl never expire"
    );
}

#[test]
fn expire_after_gives_each_entry_its_own_ttl_and_none_falls_back() {
    // Even values live their own number of seconds; odd ones the default.
    let (cache, clock, _) = logged(|b| {
        b.time_to_live(5 * SECOND)
            .expire_after(|_, value| (value % 2 == 0).then(|| *value as u32 * SECOND))
    });
    cache.insert(1, 2);
    cache.insert(2, 8);
    cache.insert(3, 1);
    clock.advance(2 * SECOND);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&3), Some(1));
    clock.advance(3 * SECOND);
    assert_eq!(cache.get(&3), None);
    assert_eq!(cache.get(&2), Some(8));
    clock.advance(3 * SECOND);
    assert_eq!(cache.get(&2), None);
}

#[test]
fn loaded_values_expire_and_are_loaded_again() {
    let (cache, clock, _) = logged(|b| b.time_to_live(10 * SECOND));
    let mut loads = 0;
    for _ in 0..3 {
        assert_eq!(
            cache.get_or_insert_with(1, || {
                loads += 1;
                7
            }),
            7
        );
        clock.advance(5 * SECOND);
    }
    assert_eq!(loads, 2, "loaded at 0 s and again at 10 s");
}

#[test]
fn remove_expired_sweeps_every_shard_and_iter_skips_expired_entries() {
    let (cache, clock, log) = logged(|b| b.time_to_live(10 * SECOND));
    for key in 0..100 {
        cache.insert(key, u64::from(key));
    }
    clock.advance(5 * SECOND);
    for key in 100..150 {
        cache.insert(key, u64::from(key));
    }
    clock.advance(5 * SECOND);
    let mut left: Vec<u32> = cache.iter().map(|(key, _)| key).collect();
    left.sort_unstable();
    assert_eq!(left, (100..150).collect::<Vec<_>>());
    clock.advance(5 * SECOND);
    cache.remove_expired();
    assert_eq!(cache.len(), 0);
    assert_eq!(log.lock().unwrap().len(), 150);
    assert_eq!(cache.stats().expirations, 150);
}

/// User code that runs under a shard's lock (a `retain` predicate here)
/// may panic after the call has removed the shard's expired entries: the
/// listener still hears of each, and the counts and length follow.
#[test]
fn entries_expired_by_a_call_whose_predicate_panics_still_reach_the_listener() {
    let (cache, clock, log) = logged(|b| b.time_to_live(10 * SECOND).shards(1));
    for key in 0..10 {
        cache.insert(key, u64::from(key));
    }
    clock.advance(5 * SECOND);
    cache.insert(10, 10);
    clock.advance(5 * SECOND);
    let call = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cache.retain(|_, _| panic!("predicate fails"));
    }));
    assert!(call.is_err());
    let mut expired: Vec<u32> = log.lock().unwrap().iter().map(|&(key, ..)| key).collect();
    expired.sort_unstable();
    assert_eq!(expired, (0..10).collect::<Vec<_>>());
    assert_eq!(cache.stats().expirations, 10);
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.get(&10), Some(10), "the cache is still usable");
}

#[test]
fn entries_read_often_under_time_to_idle_outlive_their_first_deadline_many_times() {
    // Each read moves the deadline; the timers must follow without losing
    // the entry or expiring it early.
    let (cache, clock, log) = logged(|b| b.time_to_idle(3 * SECOND));
    for key in 0..50 {
        cache.insert(key, 0);
    }
    for _ in 0..100 {
        clock.advance(SECOND);
        for key in 0..25 {
            assert_eq!(cache.get(&key), Some(0));
        }
    }
    // A shard that no read reached still holds its expired entries.
    cache.remove_expired();
    assert_eq!(cache.len(), 25, "the unread half expired");
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 25);
    assert!(
        log.iter()
            .all(|&(key, _, cause)| key >= 25 && cause == RemovalCause::Expired)
    );
}

/// Writers publish, after each insert, a deadline no earlier than the
/// entry's own; readers check that `get` never returns a value whose
/// published deadline had passed before the call began, while another
/// thread moves the clock. At the end every value stored was reported to
/// the listener exactly once.
#[test]
fn under_concurrency_no_expired_value_is_returned_and_each_leaves_once() {
    const THREADS: u64 = 8;
    const KEYS: u64 = 64;
    const ENOUGH: u64 = 1000;
    let clock = Arc::new(ManualClock::new());
    let left: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
    let seen = Arc::clone(&left);
    let cache: Cache<u64, u64> = Cache::builder(48)
        .shards(4)
        .clock(Arc::clone(&clock))
        .time_to_idle(Duration::from_millis(40))
        .eviction_listener(move |_, id, _| *seen.lock().unwrap().entry(id).or_default() += 1)
        .build()
        .unwrap();
    let stop = AtomicBool::new(false);
    let deadlines: Mutex<HashMap<u64, Duration>> = Mutex::default();
    let (stored, checked) = (AtomicU64::new(0), AtomicU64::new(0));
    thread::scope(|s| {
        s.spawn(|| {
            // At least 20 000 steps, and on until enough was stored and
            // checked however little time the scheduler gives the workers
            // (20 000 steps alone once left too few on a loaded 2-core
            // machine); bounded, so a cache that never hits fails below.
            for step in 0..2_000_000 {
                let enough = stored.load(SeqCst) > ENOUGH && checked.load(SeqCst) > ENOUGH;
                if step >= 20_000 && enough {
                    break;
                }
                clock.advance(Duration::from_micros(100));
                thread::yield_now();
            }
            stop.store(true, SeqCst);
        });
        for t in 0..THREADS {
            let (cache, clock, stop, deadlines, stored, checked) =
                (&cache, &clock, &stop, &deadlines, &stored, &checked);
            s.spawn(move || {
                let mut n = 0u64;
                while !stop.load(SeqCst) {
                    n += 1;
                    let key = rand::random_range(0..KEYS);
                    if rand::random_ratio(1, 4) {
                        // Unique values: the thread and its sequence number.
                        let id = t << 32 | n;
                        let ttl = Duration::from_millis(n % 80);
                        cache.insert_with_ttl(key, id, ttl);
                        let latest = clock.elapsed() + ttl;
                        deadlines.lock().unwrap().insert(id, latest);
                        stored.fetch_add(1, SeqCst);
                    } else {
                        let before = clock.elapsed();
                        let Some(id) = cache.get(&key) else { continue };
                        // Not yet published: its writer is between the two.
                        let Some(&latest) = deadlines.lock().unwrap().get(&id) else {
                            continue;
                        };
                        assert!(
                            latest > before,
                            "got value {id:#x}, expired by {latest:?}, though the clock read {before:?} before the call"
                        );
                        checked.fetch_add(1, SeqCst);
                    }
                }
            });
        }
    });
    clock.advance(Duration::from_secs(1));
    cache.remove_expired();
    assert_eq!(cache.len(), 0);
    let left = left.lock().unwrap();
    let published = deadlines.into_inner().unwrap();
    assert!(
        published.len() as u64 > ENOUGH,
        "only {} values were stored",
        published.len()
    );
    assert!(
        checked.load(SeqCst) > ENOUGH,
        "only {} reads were checked",
        checked.load(SeqCst)
    );
    for id in published.keys() {
        assert_eq!(
            left.get(id),
            Some(&1),
            "value {id:#x} left {:?} times",
            left.get(id)
        );
    }
    assert_eq!(left.len(), published.len());
}

mod model {
    //! Random calls and clock moves against a model of the expiry rules,
    //! on one shard (so every call sweeps every due entry) with room for
    //! every key (so nothing is evicted for size): the cache must return,
    //! expire and report exactly what the model says.

    use super::*;
    use proptest::prelude::*;

    const TTI: u64 = 4;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u64),
        InsertWithTtl(u32, u64, u64),
        Get(u32),
        ContainsKey(u32),
        Remove(u32),
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let key = 0..8u32;
        prop_oneof![
            (key.clone(), any::<u64>()).prop_map(|(k, v)| Op::Insert(k, v)),
            (key.clone(), any::<u64>(), 0..12u64).prop_map(|(k, v, t)| Op::InsertWithTtl(k, v, t)),
            key.clone().prop_map(Op::Get),
            key.clone().prop_map(Op::ContainsKey),
            key.prop_map(Op::Remove),
            (0..4u64).prop_map(Op::Advance),
        ]
    }

    /// A live entry: its value, when it expires unless read, and when it
    /// expires regardless (seconds).
    struct Entry {
        value: u64,
        deadline: u64,
        live_until: u64,
    }

    fn check(ops: &[Op]) {
        let (cache, clock, log) = logged(|b| {
            b.shards(1)
                .time_to_live(10 * SECOND)
                .time_to_idle(Duration::from_secs(TTI))
        });
        let mut model: HashMap<u32, Entry> = HashMap::new();
        let mut now = 0;
        let write = |now: u64, value, ttl: u64| Entry {
            value,
            deadline: (now + ttl).min(now + TTI),
            live_until: now + ttl,
        };
        for op in ops {
            // What is due expires before the call, whatever it is.
            let mut expired: Vec<(u32, u64)> = Vec::new();
            if !matches!(op, Op::Advance(_)) {
                model.retain(|&key, entry| {
                    let alive = entry.deadline > now;
                    if !alive {
                        expired.push((key, entry.value));
                    }
                    alive
                });
            }
            let mut expected: Vec<(u32, u64, RemovalCause)> = expired
                .into_iter()
                .map(|(key, value)| (key, value, RemovalCause::Expired))
                .collect();
            match *op {
                Op::Insert(key, value) | Op::InsertWithTtl(key, value, _) => {
                    let ttl = match *op {
                        Op::InsertWithTtl(_, _, ttl) => {
                            cache.insert_with_ttl(key, value, Duration::from_secs(ttl));
                            ttl
                        }
                        _ => {
                            cache.insert(key, value);
                            10
                        }
                    };
                    if let Some(old) = model.insert(key, write(now, value, ttl)) {
                        expected.push((key, old.value, RemovalCause::Replaced));
                    }
                }
                Op::Get(key) => {
                    let want = model.get_mut(&key).map(|entry| {
                        entry.deadline = entry.live_until.min(now + TTI);
                        entry.value
                    });
                    assert_eq!(cache.get(&key), want, "get {key} at {now} s");
                }
                Op::ContainsKey(key) => {
                    assert_eq!(
                        cache.contains_key(&key),
                        model.contains_key(&key),
                        "contains_key {key} at {now} s"
                    );
                }
                Op::Remove(key) => {
                    let want = model.remove(&key).map(|entry| entry.value);
                    if let Some(value) = want {
                        expected.push((key, value, RemovalCause::Explicit));
                    }
                    assert_eq!(cache.remove(&key), want, "remove {key} at {now} s");
                }
                Op::Advance(seconds) => {
                    clock.advance(Duration::from_secs(seconds));
                    now += seconds;
                }
            }
            let mut reported = std::mem::take(&mut *log.lock().unwrap());
            let order = |&(key, value, cause): &(u32, u64, RemovalCause)| {
                (key, value, format!("{cause:?}"))
            };
            reported.sort_unstable_by_key(order);
            expected.sort_unstable_by_key(order);
            assert_eq!(reported, expected, "{op:?} at {now} s");
            assert_eq!(cache.len(), model.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn expiry_matches_a_model(ops in prop::collection::vec(op(), 0..200)) {
            check(&ops);
        }
    }
}
