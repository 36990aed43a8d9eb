//! What only OwnedMap promises, beyond the shared suites: handles, the
//! owner thread's life, many-key transactions, and the async calls.

mod common;

use std::panic;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use common::{panic_message, watchdog};
use racefree::{Action, ConcurrentMap, OwnedMap};

#[test]
fn clones_are_handles_to_one_map() {
    let map = OwnedMap::new();
    let other = map.clone();
    map.insert(1, "one");
    assert_eq!(other.get(&1), Some("one"));
    drop(map);
    other.insert(2, "two");
    assert_eq!(other.len(), 2);
}

/// Records the thread that dropped it.
struct DropsOn(Arc<Mutex<Vec<String>>>);

impl Drop for DropsOn {
    fn drop(&mut self) {
        let name = thread::current().name().unwrap_or("unnamed").to_owned();
        self.0.lock().unwrap().push(name);
    }
}

#[test]
fn dropping_the_last_handle_waits_for_the_owner_to_drop_everything() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let map = OwnedMap::new();
    for i in 0..100 {
        map.insert(i, DropsOn(Arc::clone(&drops)));
    }
    let handles: Vec<_> = (0..4).map(|_| map.clone()).collect();
    thread::scope(|s| {
        for handle in handles {
            s.spawn(move || {
                handle.remove(&0);
                drop(handle);
            });
        }
    });
    // Removed values come back to the caller and are dropped there.
    assert_eq!(drops.lock().unwrap().len(), 1);
    drop(map);
    // The drop returned only after the owner dropped the rest and ended.
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), 100);
    assert!(
        drops[1..].iter().all(|name| name == "racefree-owned-map"),
        "{drops:?}"
    );
}

#[test]
fn many_key_transactions_are_atomic() {
    const ACCOUNTS: u64 = 10;
    let map: OwnedMap<u64, i64> = (0..ACCOUNTS).map(|a| (a, 100)).collect();
    thread::scope(|s| {
        for t in 0..8u64 {
            let map = map.clone();
            s.spawn(move || {
                for i in 0..500 {
                    let (from, to) = ((t + i) % ACCOUNTS, (t * 7 + i * 3 + 1) % ACCOUNTS);
                    map.with_map(|accounts| {
                        *accounts.get_mut(&from).unwrap() -= 1;
                        *accounts.get_mut(&to).unwrap() += 1;
                    });
                }
            });
        }
        let map = map.clone();
        s.spawn(move || {
            for _ in 0..500 {
                let total: i64 = map.with_map(|accounts| accounts.values().sum());
                assert_eq!(
                    total,
                    100 * ACCOUNTS as i64,
                    "a transfer was seen half done"
                );
            }
        });
    });
}

#[test]
fn a_panic_on_the_owner_reaches_the_caller_with_its_message() {
    let map = OwnedMap::new();
    map.insert("k", 1);
    let code = std::hint::black_box(42);
    let caught = panic::catch_unwind(|| map.update("k", |_| panic!("closure failed: {code}")));
    let payload = caught.expect_err("the panic is resumed in the caller");
    assert_eq!(panic_message(&*payload), "closure failed: 42");
    // The owner kept serving, and the key kept its value.
    assert_eq!(map.get("k"), Some(1));
    assert!(map.update("k", |v| v + 1));
}

#[test]
fn the_table_shrinks_as_it_empties() {
    let map = OwnedMap::new();
    (0..100_000).for_each(|i| _ = map.insert(i, i));
    let full = map.capacity();
    (0..99_990).for_each(|i| _ = map.remove(&i));
    assert!(map.capacity() * 100 < full, "{} of {full}", map.capacity());
    map.clear();
    assert_eq!(map.capacity(), 0);
}

#[test]
fn debug_shows_entries_and_is_safe_on_the_owner() {
    let map = OwnedMap::new();
    map.insert(1, 'a');
    assert_eq!(format!("{map:?}"), "{1: 'a'}");
    let inside = map.get_with(&1, |_| format!("{map:?}"));
    assert_eq!(inside.as_deref(), Some("OwnedMap { .. }"));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One runtime thread: if an async call blocked it while the owner waits
/// for another task on the same thread, neither could finish.
#[test]
fn async_calls_do_not_block_the_runtime_thread() {
    let hang = watchdog(30, "an async call blocking its runtime", || {
        runtime().block_on(async {
            let map = OwnedMap::<u32, u32>::new();
            let (release, wait) = mpsc::channel::<()>();
            let blocked = map.with_map_async(move |m| {
                // Holds the owner until the other task runs.
                wait.recv().unwrap();
                m.insert(1, 1)
            });
            let other = async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                release.send(()).unwrap();
            };
            let (previous, ()) = tokio::join!(blocked, other);
            assert_eq!(previous, None);
            assert_eq!(map.get_async(1).await, Some(1));
        });
    });
    assert!(hang.is_none(), "{hang:?}");
}

#[test]
fn async_calls_follow_the_contract() {
    runtime().block_on(async {
        let map = OwnedMap::<&str, u32>::new();
        assert_eq!(map.insert_async("a", 1).await, None);
        assert_eq!(map.get_or_insert_with_async("a", || 9).await, 1);
        assert_eq!(map.get_or_insert_with_async("b", || 2).await, 2);
        assert!(map.update_async("a", |v| v + 10).await);
        assert!(!map.update_async("zz", |v| v + 10).await);
        assert_eq!(map.compute_async("b", |_| Action::Remove).await, Some(2));
        assert_eq!(map.remove_async("a").await, Some(11));
        assert_eq!(map.get_async("a").await, None);
        assert!(map.is_empty());
        // Spawned tasks each keep a handle.
        let shared = OwnedMap::<u32, u32>::new();
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let shared = shared.clone();
                tokio::spawn(async move { shared.insert_async(i, i).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(shared.len(), 50);
    });
}

#[test]
fn a_cancelled_async_call_still_takes_effect_and_panics_reach_the_task() {
    runtime().block_on(async {
        let map = OwnedMap::<u32, u32>::new();
        // Dropped before it is polled: the request was never sent.
        drop(map.insert_async(1, 1));
        assert_eq!(map.get_async(1).await, None);
        // Polled once (sent), then dropped: the owner still runs it.
        let (release, wait) = mpsc::channel::<()>();
        let call = map.with_map_async(move |m| {
            wait.recv().unwrap();
            m.insert(2, 2)
        });
        let timed_out = tokio::time::timeout(Duration::from_millis(5), call).await;
        assert!(timed_out.is_err(), "the owner was held");
        release.send(()).unwrap();
        assert_eq!(map.get_async(2).await, Some(2));

        let task = tokio::spawn({
            let map = map.clone();
            async move { map.update_async(2, |_| panic!("boom")).await }
        });
        let error = task.await.expect_err("the task panicked");
        assert!(error.is_panic());
        assert_eq!(map.get_async(2).await, Some(2), "the old value stays");
    });
}
