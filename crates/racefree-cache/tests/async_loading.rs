//! The async loaders: single flight across tasks, a cancelled or panicking
//! leader releases its waiters, and blocking and async callers share
//! flights.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use racefree_cache::Cache;
use tokio::sync::{Barrier, Notify};

const TASKS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_loader_runs_however_many_tasks_miss() {
    let cache: Arc<Cache<u32, u64>> = Arc::new(Cache::new(100));
    let loads = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (cache, loads, barrier) = (cache.clone(), loads.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let watched = Arc::clone(&cache);
                cache
                    .get_or_insert_with_async(1, async move {
                        loads.fetch_add(1, SeqCst);
                        // Until every task has missed: a miss is counted as
                        // its caller joins this flight. Not a fixed sleep,
                        // which a loaded machine can outlast; bounded, so a
                        // caller that never misses fails the asserts below.
                        for _ in 0..5_000 {
                            if watched.stats().misses >= TASKS as u64 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        42
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 42);
    }
    assert_eq!(loads.load(SeqCst), 1);
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.insertions), (TASKS as u64, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_releases_its_waiters_and_one_of_them_loads() {
    let cache: Arc<Cache<u32, u64>> = Arc::new(Cache::new(100));
    let leader = lead(&cache, async { std::future::pending::<u64>().await }).await;
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_or_insert_with_async(1, async move { 10 + i })
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    let values = within_seconds(join_all(waiters)).await;
    // All waiters got the one value that the first retry loaded.
    assert!(values.iter().all(|&v| v == values[0]), "{values:?}");
    assert_eq!(cache.get(&1), Some(values[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_reaches_every_waiter_and_is_not_cached() {
    let cache: Arc<Cache<u32, u64>> = Arc::new(Cache::new(100));
    let barrier = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (cache, barrier) = (cache.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                cache
                    .try_get_or_insert_with_async(1, async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err::<u64, _>("backend down")
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(*task.await.unwrap().unwrap_err(), "backend down");
    }
    assert_eq!(cache.len(), 0);
    let loaded = cache.try_get_or_insert_with_async(1, async { Ok::<_, &str>(7) });
    assert_eq!(loaded.await, Ok(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_async_loader_releases_its_waiters() {
    let cache: Arc<Cache<u32, u64>> = Arc::new(Cache::new(100));
    let leader = lead(&cache, async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        panic!("loader failed")
    })
    .await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get_or_insert_with_async(1, async { 5 }).await })
    };
    assert!(leader.await.unwrap_err().is_panic());
    assert_eq!(within_seconds(waiter).await.unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_caller_waits_for_an_async_loader() {
    let cache: Arc<Cache<u32, u64>> = Arc::new(Cache::new(100));
    let leader = lead(&cache, async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        8
    })
    .await;
    let blocking = {
        let cache = cache.clone();
        tokio::task::spawn_blocking(move || cache.get_or_insert_with(1, || unreachable!("joined")))
    };
    assert_eq!(blocking.await.unwrap(), 8);
    assert_eq!(leader.await.unwrap(), 8);
}

/// Spawns a task that misses key 1 and loads it with `load`; returns once
/// `load` has started, so that later callers wait for it.
async fn lead(
    cache: &Arc<Cache<u32, u64>>,
    load: impl Future<Output = u64> + Send + 'static,
) -> tokio::task::JoinHandle<u64> {
    let started = Arc::new(Notify::new());
    let (cache, signal) = (cache.clone(), started.clone());
    let leader = tokio::spawn(async move {
        cache
            .get_or_insert_with_async(1, async move {
                signal.notify_one();
                load.await
            })
            .await
    });
    started.notified().await;
    leader
}

async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

/// Fails instead of hanging if a waiter is never released.
async fn within_seconds<T>(waiting: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("waiters were left hanging")
}
