//! The cache's guarantees under concurrency: single flight, the bound,
//! the listener's exactly-once, and no stale reads. Threads are
//! oversubscribed (8 on the CI's 2 cores) so preemption lands mid-call.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;

use racefree_cache::policy::{Lru, Policy, S3Fifo, Sieve, TinyLfu};
use racefree_cache::{BuildError, Cache, RemovalCause};

const THREADS: usize = 8;

/// Loaders block until every caller has announced itself, so all of them
/// miss while the first load is running.
fn wait_for(arrived: &AtomicUsize, n: usize) {
    while arrived.load(SeqCst) < n {
        thread::yield_now();
    }
}

/// `THREADS` callers miss key 1 at once (each loader waits until all have
/// arrived) and load it with `load`; every call that does not panic must
/// return `expected`. Returns how many panicked.
fn miss_together(cache: &Cache<u32, u64>, load: impl Fn() -> u64 + Sync, expected: u64) -> usize {
    let arrived = AtomicUsize::new(0);
    let panicked = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                arrived.fetch_add(1, SeqCst);
                let call = panic::catch_unwind(AssertUnwindSafe(|| {
                    cache.get_or_insert_with(1, || {
                        wait_for(&arrived, THREADS);
                        load()
                    })
                }));
                match call {
                    Ok(value) => assert_eq!(value, expected),
                    Err(_) => _ = panicked.fetch_add(1, SeqCst),
                }
            });
        }
    });
    panicked.into_inner()
}

#[test]
fn one_loader_runs_however_many_callers_miss() {
    for _ in 0..50 {
        let cache: Cache<u32, u64> = Cache::new(100);
        let loads = AtomicUsize::new(0);
        let load = || {
            loads.fetch_add(1, SeqCst);
            42
        };
        assert_eq!(miss_together(&cache, load, 42), 0);
        assert_eq!(loads.load(SeqCst), 1);
    }
}

#[test]
fn a_panicking_loader_releases_its_waiters_and_the_next_caller_loads() {
    let cache: Cache<u32, u64> = Cache::new(100);
    let loads = AtomicUsize::new(0);
    let load = || {
        if loads.fetch_add(1, SeqCst) == 0 {
            panic!("backend down");
        }
        7
    };
    let panicked = miss_together(&cache, load, 7);
    assert_eq!(panicked, 1, "only the loader's own caller sees its panic");
    assert_eq!(loads.load(SeqCst), 2, "one retry loads for all the waiters");
    assert_eq!(cache.get(&1), Some(7));
}

/// The user's closures around a load (weigher, listener) may panic too;
/// the waiters still get the loaded value, and the key is not left
/// registered as loading.
#[test]
fn a_panic_after_the_load_does_not_strand_the_waiters() {
    let cache: Cache<u32, u64> = Cache::builder(1)
        .eviction_listener(|key, _, _| assert_ne!(key, 0, "listener panics on key 0"))
        .build()
        .unwrap();
    cache.insert(0, 0);
    // Storing the loaded value evicts key 0: the listener panics.
    assert_eq!(
        miss_together(&cache, || 7, 7),
        1,
        "only the loader's caller"
    );
    assert_eq!(cache.get(&1), Some(7));
    assert_eq!(cache.get_or_insert_with(2, || 8), 8, "loading still works");
}

#[test]
fn a_failing_loader_gives_its_waiters_the_same_error_and_caches_nothing() {
    let cache: Cache<u32, u64> = Cache::new(100);
    let arrived = AtomicUsize::new(0);
    let loads = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                arrived.fetch_add(1, SeqCst);
                let result = cache.try_get_or_insert_with(1, || {
                    wait_for(&arrived, THREADS);
                    Err(format!("attempt {}", loads.fetch_add(1, SeqCst)))
                });
                errors.lock().unwrap().push(result.unwrap_err());
            });
        }
    });
    let errors = errors.into_inner().unwrap();
    // Callers that waited share the loader's error; any that came after it
    // ended loaded again (and failed again).
    let distinct: HashSet<&str> = errors.iter().map(|e| e.as_str()).collect();
    assert_eq!(distinct.len(), loads.load(SeqCst));
    assert!(
        loads.load(SeqCst) < THREADS,
        "the waiters did not share the first error"
    );
    assert!(!cache.contains_key(&1));
    assert_eq!(
        cache.try_get_or_insert_with(1, || Ok::<_, String>(5)),
        Ok(5)
    );
}

#[test]
fn the_bound_holds_and_every_entry_is_reported_once() {
    const CAPACITY: u64 = 200;
    let reported = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reported);
    let cache: Cache<(usize, u64), u64> = Cache::builder(CAPACITY)
        .eviction_listener(move |key, _, cause| sink.lock().unwrap().push((key, cause)))
        .build()
        .unwrap();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            while !done.load(SeqCst) {
                assert!(cache.len() as u64 <= CAPACITY, "{} entries", cache.len());
                assert!(cache.weight() <= CAPACITY);
            }
        });
        let writers: Vec<_> = (0..THREADS)
            .map(|t| {
                let cache = &cache;
                s.spawn(move || {
                    for i in 0..5_000u64 {
                        cache.insert((t, i), i);
                        if i % 7 == 0 {
                            cache.remove(&(t, i / 2));
                        }
                        cache.get(&(t, i / 3));
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        done.store(true, SeqCst);
    });
    let reported = reported.lock().unwrap();
    let mut seen = HashSet::new();
    for (key, cause) in reported.iter() {
        assert_ne!(
            *cause,
            RemovalCause::Replaced,
            "every key was inserted once"
        );
        assert!(seen.insert(*key), "{key:?} reported twice");
    }
    for (key, _) in cache.iter() {
        assert!(seen.insert(key), "{key:?} both resident and reported");
    }
    assert_eq!(
        seen.len(),
        THREADS * 5_000,
        "some entry left without a report"
    );
    let stats = cache.stats();
    assert_eq!(stats.insertions, (THREADS * 5_000) as u64);
    assert_eq!(
        stats.evictions as usize,
        reported
            .iter()
            .filter(|r| r.1 == RemovalCause::Size)
            .count()
    );
}

/// A `get` never returns a value overwritten or removed before it began.
/// Each key has one writer, which writes versions 1, 2, 3, ... (removing
/// the key now and then) and publishes each version once its call
/// returns; readers note the published version before calling `get`.
#[test]
fn get_never_returns_a_stale_value() {
    const KEYS: usize = 4;
    let cache: Cache<usize, u64> = Cache::builder(64).shards(2).build().unwrap();
    // Per key: the version whose write has returned; removals publish
    // `u64::MAX - version` so readers know nothing older may appear.
    let published: Vec<AtomicU64> = (0..KEYS).map(|_| AtomicU64::new(0)).collect();
    let removed_after: Vec<AtomicU64> = (0..KEYS).map(|_| AtomicU64::new(0)).collect();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for key in 0..KEYS {
            let (cache, published, removed_after, done) =
                (&cache, &published, &removed_after, &done);
            s.spawn(move || {
                for version in 1..20_000u64 {
                    cache.insert(key, version);
                    published[key].store(version, SeqCst);
                    if version % 10 == 0 {
                        cache.remove(&key);
                        removed_after[key].store(version, SeqCst);
                    }
                    // Churn other keys through the shard so eviction runs too.
                    cache.insert(KEYS + (version as usize % 200), version);
                }
                done.store(true, SeqCst);
            });
        }
        for _ in 0..THREADS - KEYS {
            let (cache, published, removed_after, done) =
                (&cache, &published, &removed_after, &done);
            s.spawn(move || {
                while !done.load(SeqCst) {
                    for key in 0..KEYS {
                        let floor = published[key].load(SeqCst);
                        let removed = removed_after[key].load(SeqCst);
                        if let Some(version) = cache.get(&key) {
                            assert!(
                                version >= floor,
                                "key {key}: read {version} after {floor} was written"
                            );
                            assert!(
                                version > removed,
                                "key {key}: read {version} after it was removed at {removed}"
                            );
                        }
                    }
                }
            });
        }
    });
}

#[test]
fn a_listener_may_call_the_cache() {
    let called = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&called);
    let cache: Arc<Cache<u32, u32>> = Arc::new_cyclic(|weak: &std::sync::Weak<Cache<u32, u32>>| {
        let weak = weak.clone();
        Cache::builder(1)
            .eviction_listener(move |key, _, _| {
                let cache = weak.upgrade().expect("the cache is alive while it evicts");
                assert!(!cache.contains_key(&key));
                count.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap()
    });
    cache.insert(1, 1);
    cache.insert(2, 2);
    assert_eq!(cache.len(), 1);
    assert_eq!(called.load(SeqCst), 1);
}

/// One call can remove many entries (`clear` here): a listener that
/// panics on one of them is still called for the others, and the caller
/// gets the panic.
#[test]
fn a_listener_that_panics_on_one_entry_still_hears_of_the_rest() {
    let told = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&told);
    let cache: Cache<u32, u32> = Cache::builder(10)
        .shards(1)
        .eviction_listener(move |key, _, _| {
            log.lock().unwrap().push(key);
            assert_ne!(key, 3, "listener fails on key 3");
        })
        .build()
        .unwrap();
    for key in 0..6 {
        cache.insert(key, key);
    }
    let call = panic::catch_unwind(AssertUnwindSafe(|| cache.clear()));
    let message = *call.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("listener fails on key 3"), "{message}");
    let mut told = told.lock().unwrap().clone();
    told.sort_unstable();
    assert_eq!(told, [0, 1, 2, 3, 4, 5]);
    assert!(cache.is_empty());
}

#[test]
fn retain_refuses_a_predicate_that_calls_the_cache() {
    let cache: Cache<u32, u32> = Cache::new(10);
    cache.insert(1, 1);
    let refused = panic::catch_unwind(AssertUnwindSafe(|| {
        cache.retain(|key, _| cache.contains_key(key))
    }));
    let message = *refused.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains(
            "Cache::contains_key was called from inside the predicate passed to Cache::retain"
        ),
        "{message}"
    );
    // Nothing stayed locked.
    cache.insert(2, 2);
    assert_eq!(cache.len(), 2);
}

#[test]
fn bad_settings_are_errors_that_name_the_problem() {
    let error = Cache::<u32, u32>::builder(0).build().unwrap_err();
    assert_eq!(error, BuildError::ZeroCapacity);
    assert!(error.to_string().contains("capacity must be at least 1"));
    assert_eq!(
        Cache::<u32, u32>::builder(8).shards(0).build().unwrap_err(),
        BuildError::ZeroShards
    );
    assert_eq!(
        Cache::<u32, u32>::builder(8).shards(9).build().unwrap_err(),
        BuildError::ShardsExceedCapacity {
            shards: 16,
            capacity: 8
        }
    );
    let panicked = panic::catch_unwind(|| Cache::<u32, u32>::new(0)).unwrap_err();
    assert!(
        panicked
            .downcast::<String>()
            .unwrap()
            .contains("Cache::new(0): the capacity must be at least 1")
    );
}

#[test]
fn weights_bound_the_cache_and_an_oversized_entry_is_refused() {
    let refused = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&refused);
    let cache: Cache<u32, Vec<u8>> = Cache::builder(1000)
        .shards(1)
        .weigher(|_, value: &Vec<u8>| value.len() as u64)
        .eviction_listener(move |key, _, cause| sink.lock().unwrap().push((key, cause)))
        .build()
        .unwrap();
    for key in 0..50 {
        cache.insert(key, vec![0; 100]);
        assert!(cache.weight() <= 1000);
    }
    assert_eq!(cache.len(), 10);
    cache.insert(99, vec![0; 1001]);
    assert!(!cache.contains_key(&99));
    assert_eq!(
        refused.lock().unwrap().last(),
        Some(&(99, RemovalCause::Size))
    );
}

#[test]
fn shrinking_the_capacity_evicts_at_once() {
    let cache: Cache<u32, u32> = Cache::builder(100).shards(4).build().unwrap();
    for key in 0..1000 {
        cache.insert(key, key);
    }
    assert!(cache.len() <= 100);
    cache.set_capacity(10);
    assert!(cache.len() <= 10, "{} entries", cache.len());
    assert_eq!(cache.capacity(), 10);
    cache.clear();
    assert!(cache.is_empty());
    assert!(format!("{cache:?}").contains("capacity: 10"));
}

/// Under the shared lock, hits are counted at once (each thread in a cell
/// of its own, which outlives the thread), and so are misses under a
/// policy that ignores them; W-TinyLFU's misses are counted when they are
/// applied to the policy (or at once when the record is full). Under every
/// policy, none is lost or counted twice.
#[test]
fn every_lookup_is_counted_once() {
    every_lookup_is_counted_once_under::<TinyLfu>();
    every_lookup_is_counted_once_under::<Lru>();
    every_lookup_is_counted_once_under::<Sieve>();
    every_lookup_is_counted_once_under::<S3Fifo>();
}

fn every_lookup_is_counted_once_under<P: Policy>() {
    let cache: Cache<u32, u32, P> = Cache::builder(1000).policy::<P>().build().unwrap();
    for key in 0..500 {
        cache.insert(key, key);
    }
    const LOOKUPS: u32 = 20_000;
    thread::scope(|s| {
        for t in 0..THREADS as u32 {
            let cache = &cache;
            s.spawn(move || {
                for n in 0..LOOKUPS {
                    // Keys 0..1000: half of them cached.
                    let key = (n * 7 + t * 13) % 1000;
                    assert_eq!(cache.get(&key), (key < 500).then_some(key));
                }
            });
        }
    });
    let stats = cache.stats();
    let lookups = u64::from(LOOKUPS) * THREADS as u64;
    assert_eq!(stats.hits + stats.misses, lookups, "{stats:?}");
    assert_eq!(stats.hits, lookups / 2, "{stats:?}");
    // Applying the records changes nothing that was counted.
    cache.insert(2000, 0);
    assert_eq!(cache.stats().hits + cache.stats().misses, lookups);
}
