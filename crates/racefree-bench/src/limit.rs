//! The limit every concurrent map is held to: std's `HashMap` (hashbrown)
//! with no synchronization at all, driven by one thread.
//!
//! Written here because no crate offers a map that is `Sync` yet takes no
//! lock: this one lets exactly one thread in, checked without an atomic
//! read-modify-write on the hot path, so its figure is the cost of the
//! table alone.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::adapter::{BenchMap, Hasher, visit};
use crate::datum::Datum;

/// No thread has used the map yet.
const UNCLAIMED: u64 = 0;
/// The owner is inside a call (a closure calling back in is refused).
const BUSY: u64 = 1;

/// Source of thread identities, never reused.
static NEXT_THREAD: AtomicU64 = AtomicU64::new(2);

thread_local! {
    /// This thread's identity: taken once per thread, not per call.
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, Relaxed);
}

/// `HashMap` that the first thread to use it owns: any other thread's
/// call panics, as does a call from inside one of its closures.
pub(crate) struct Unsynchronized<K, V> {
    map: UnsafeCell<HashMap<K, V, Hasher>>,
    /// `UNCLAIMED`, `BUSY`, or the owning thread's identity.
    owner: AtomicU64,
}

// SAFETY: every access to `map` goes through `with`, which lets in only the
// thread that claimed the map, and not while it is already inside, so no
// two references to the table ever coexist. Keys and values may be dropped
// by another thread when the map is (`Send`).
unsafe impl<K: Send, V: Send> Sync for Unsynchronized<K, V> {}

impl<K, V> fmt::Debug for Unsynchronized<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unsynchronized").finish_non_exhaustive()
    }
}

impl<K, V> Unsynchronized<K, V> {
    /// Runs `f` on the table, if this thread owns the map (claiming it if
    /// no thread has yet).
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<K, V, Hasher>) -> R) -> R {
        let me = THREAD.with(|id| *id);
        let owner = self.owner.load(Relaxed);
        if owner != me {
            // Only an unclaimed map may be claimed, and only once: a second
            // thread either loses this exchange or sees another owner.
            let claimed = owner == UNCLAIMED
                && self
                    .owner
                    .compare_exchange(UNCLAIMED, me, Relaxed, Relaxed)
                    .is_ok();
            assert!(
                claimed,
                "the unsynchronized limit map is for one thread, and not re-entrant"
            );
        }
        // Only the owner writes `owner` from here on, so plain stores do.
        self.owner.store(BUSY, Relaxed);
        // SAFETY: this thread owns the map and is not inside another call
        // (the owner is now `BUSY`, which no thread's identity equals).
        let result = f(unsafe { &mut *self.map.get() });
        self.owner.store(me, Relaxed);
        result
    }
}

impl<K: Datum, V: Datum> BenchMap<K, V> for Unsynchronized<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            map: UnsafeCell::new(HashMap::with_capacity_and_hasher(
                capacity,
                Hasher::default(),
            )),
            owner: AtomicU64::new(UNCLAIMED),
        }
    }
    fn get<R: Send>(&self, key: &K, read: impl FnOnce(&V) -> R + Send) -> Option<R> {
        self.with(|map| map.get(key).map(read))
    }
    fn insert(&self, key: K, value: V) -> bool {
        self.with(|map| map.insert(key, value).is_none())
    }
    fn remove(&self, key: &K) -> bool {
        self.with(|map| map.remove(key).is_some())
    }
    fn update(&self, key: &K, f: impl Fn(&V) -> V + Send + Sync) -> bool {
        self.with(|map| map.get_mut(key).map(|v| *v = f(v)).is_some())
    }
    fn get_or_insert(&self, key: K, value: V) -> bool {
        self.with(|map| match map.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => true,
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(value);
                false
            }
        })
    }
    fn compare_and_swap(&self, key: &K, current: &V, new: V) -> bool {
        self.with(|map| match map.get_mut(key) {
            Some(v) if v == current => {
                *v = new;
                true
            }
            _ => false,
        })
    }
    fn count_entries(&self) -> usize {
        self.with(|map| map.iter().map(visit).count())
    }
    fn first_key(&self) -> Option<K> {
        self.with(|map| map.keys().next().cloned())
    }
    fn size(&self) -> usize {
        self.with(|map| map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_like_a_map_on_its_own_thread() {
        let map = <Unsynchronized<u64, u64> as BenchMap<u64, u64>>::with_capacity(4);
        assert!(map.insert(1, 10));
        assert!(!map.insert(1, 11));
        assert_eq!(map.get(&1, |v| *v), Some(11));
        assert!(map.compare_and_swap(&1, &11, 12));
        assert!(map.remove(&1));
        assert_eq!(map.size(), 0);
    }

    #[test]
    fn refuses_a_second_thread() {
        let map = <Unsynchronized<u64, u64> as BenchMap<u64, u64>>::with_capacity(4);
        map.insert(1, 1);
        let other = std::thread::scope(|s| s.spawn(|| map.size()).join());
        assert!(other.is_err(), "another thread got in");
        assert_eq!(map.size(), 1, "the owner keeps working");
    }

    #[test]
    #[should_panic(expected = "not re-entrant")]
    fn refuses_a_closure_that_calls_back() {
        let map = <Unsynchronized<u64, u64> as BenchMap<u64, u64>>::with_capacity(4);
        map.insert(1, 1);
        map.get(&1, |_| map.size());
    }
}
