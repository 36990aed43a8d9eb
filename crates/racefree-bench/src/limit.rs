//! The limit every concurrent map is held to: std's `HashMap` (hashbrown)
//! with no synchronization at all, driven by one thread.
//!
//! Written here because no crate offers a map that is `Sync` yet takes no
//! lock. It checks nothing per call in release builds: even a
//! thread-local read per call to check the calling thread measured 2x
//! slower on a 2^21-entry table, which would no longer be the limit.
//! Instead [`dispatch`](crate::adapter::dispatch) gives it only to jobs
//! that run on one thread, and debug builds (every test) check each call.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::fmt;

use crate::adapter::{BenchMap, Hasher, visit};
use crate::datum::Datum;

/// `HashMap` for one thread, behind the benchmark's shared-map interface.
pub(crate) struct Unsynchronized<K, V> {
    map: UnsafeCell<HashMap<K, V, Hasher>>,
    /// Debug builds' check that one thread, outside any call, uses the map.
    #[cfg(debug_assertions)]
    check: debug::OneCaller,
}

// SAFETY: only `adapter::dispatch` builds this map (the type is private to
// the crate), and only for a job that drives it from one thread, which it
// asserts; creating and dropping it on the coordinating thread is ordered
// with that thread's work by spawn and join. No closure the benchmark passes
// to a map calls the map back, so no two references to the table coexist.
// Debug builds check both rules on every call. Keys and values may be
// dropped by another thread when the map is (`Send`).
unsafe impl<K: Send, V: Send> Sync for Unsynchronized<K, V> {}

impl<K, V> fmt::Debug for Unsynchronized<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unsynchronized").finish_non_exhaustive()
    }
}

impl<K, V> Unsynchronized<K, V> {
    /// Runs `f` on the table.
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<K, V, Hasher>) -> R) -> R {
        #[cfg(debug_assertions)]
        let _inside = self.check.enter();
        // SAFETY: one thread, outside any other call (see the `Sync` impl).
        f(unsafe { &mut *self.map.get() })
    }
}

#[cfg(debug_assertions)]
mod debug {
    use std::sync::Mutex;
    use std::thread::{self, ThreadId};

    /// The thread that first used a map, and whether it is inside a call.
    #[derive(Debug, Default)]
    pub(super) struct OneCaller(Mutex<(Option<ThreadId>, bool)>);

    /// Marks the owner inside a call until dropped.
    pub(super) struct Inside<'a>(&'a OneCaller);

    impl OneCaller {
        pub(super) fn enter(&self) -> Inside<'_> {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let me = thread::current().id();
            assert_eq!(
                *state.0.get_or_insert(me),
                me,
                "the limit map is for one thread only"
            );
            assert!(!state.1, "the limit map is not re-entrant");
            state.1 = true;
            Inside(self)
        }
    }

    impl Drop for Inside<'_> {
        fn drop(&mut self) {
            self.0.0.lock().unwrap_or_else(|e| e.into_inner()).1 = false;
        }
    }
}

impl<K: Datum, V: Datum> BenchMap<K, V> for Unsynchronized<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            map: UnsafeCell::new(HashMap::with_capacity_and_hasher(
                capacity,
                Hasher::default(),
            )),
            #[cfg(debug_assertions)]
            check: debug::OneCaller::default(),
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

    /// A job that claims to use two threads.
    struct TwoThreads;

    impl crate::adapter::MapJob for TwoThreads {
        type Output = ();
        fn threads(&self) -> usize {
            2
        }
        fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(&self) {}
    }

    #[test]
    #[should_panic(expected = "the limit map runs on one thread only")]
    fn is_never_given_to_a_job_on_several_threads() {
        use crate::adapter::{MapKind, dispatch};
        use crate::datum::DataType;
        dispatch(MapKind::Limit, DataType::U64, DataType::U64, &TwoThreads);
    }

    #[test]
    #[cfg(debug_assertions)]
    fn refuses_a_second_thread() {
        let map = <Unsynchronized<u64, u64> as BenchMap<u64, u64>>::with_capacity(4);
        map.insert(1, 1);
        let other = std::thread::scope(|s| s.spawn(|| map.size()).join());
        assert!(other.is_err(), "another thread got in");
        assert_eq!(map.size(), 1, "the owner keeps working");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not re-entrant")]
    fn refuses_a_closure_that_calls_back() {
        let map = <Unsynchronized<u64, u64> as BenchMap<u64, u64>>::with_capacity(4);
        map.insert(1, 1);
        map.get(&1, |_| map.size());
    }
}
