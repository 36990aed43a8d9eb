//! ReadMostlyMap's calls that find nothing to change take no lock: they
//! finish while another call holds the lock of the node their key is in.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use racefree::{Action, ConcurrentMap, ReadMostlyMap};

/// Runs `call` while a `compute` on `key` holds its node's lock, and says
/// whether `call` returned before that lock was released. The lock is
/// held for at most 5 s, so a `call` that waits for it fails rather than
/// hangs.
fn finishes_under_a_held_lock(
    map: &ReadMostlyMap<u32, u32>,
    key: u32,
    call: impl FnOnce(&ReadMostlyMap<u32, u32>),
) -> bool {
    let released = &AtomicBool::new(false);
    let (locked_tx, locked_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    thread::scope(|s| {
        s.spawn(move || {
            map.compute(key, move |_| {
                locked_tx.send(()).unwrap();
                let _ = done_rx.recv_timeout(Duration::from_secs(5));
                Action::Keep
            });
            released.store(true, SeqCst);
        });
        locked_rx.recv().unwrap();
        call(map);
        let finished_first = !released.load(SeqCst);
        // The holder may have given up waiting already.
        let _ = done_tx.send(());
        finished_first
    })
}

#[test]
fn get_or_insert_of_a_present_key_takes_no_lock() {
    let map = ReadMostlyMap::new();
    map.insert(1, 10);
    assert!(
        finishes_under_a_held_lock(&map, 1, |map| {
            assert_eq!(map.get_or_insert(1, 99), (10, true));
            assert_eq!(map.get_or_insert_with(1, || unreachable!()), 10);
        }),
        "get_or_insert waited for the lock a compute on its key held"
    );
    assert_eq!(map.get(&1), Some(10));
}

#[test]
fn remove_of_an_absent_key_takes_no_lock() {
    let map = ReadMostlyMap::new();
    map.insert(2, 20);
    assert!(
        finishes_under_a_held_lock(&map, 1, |map| {
            assert_eq!(map.remove(&1), None);
        }),
        "remove waited for the lock a compute on its key held"
    );
    assert_eq!(map.len(), 1);
}

#[test]
fn update_of_an_absent_key_takes_no_lock() {
    let map = ReadMostlyMap::new();
    map.insert(2, 20);
    assert!(
        finishes_under_a_held_lock(&map, 1, |map| {
            assert!(!map.update(&1, |_| unreachable!()));
        }),
        "update waited for the lock a compute on its key held"
    );
    assert_eq!(map.get(&1), None);
}

#[test]
fn compares_that_fail_take_no_lock() {
    let map = ReadMostlyMap::new();
    map.insert(1, 10);
    assert!(
        finishes_under_a_held_lock(&map, 1, |map| {
            assert_eq!(map.compare_and_swap(&1, &11, 12), Err(12));
            assert!(!map.compare_and_remove(&1, &11));
            assert_eq!(map.compare_and_swap(&3, &10, 12), Err(12));
            assert!(!map.compare_and_remove(&3, &10));
        }),
        "a failing compare waited for the lock a compute on its key held"
    );
    assert_eq!(map.get(&1), Some(10));
    // A match still takes the lock and changes the value.
    assert_eq!(map.compare_and_swap(&1, &10, 12), Ok(()));
    assert!(map.compare_and_remove(&1, &12));
    assert_eq!(map.len(), 0);
}
