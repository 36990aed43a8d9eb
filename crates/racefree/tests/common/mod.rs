//! Shared helpers: every map under test, drop tracking, and a watchdog.
//!
//! A new map joins every suite by getting a [`Family`] here and a line in
//! [`map_tests!`].

#![allow(dead_code, unreachable_pub, unused_macros, unused_imports)]

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use racefree::{ConcurrentMap, DefaultHashBuilder, LockedMap, OwnedMap, ReadMostlyMap, ShardedMap};

pub mod key_model;
pub mod linearizability;

/// A kind of map, so that tests can build one for any key, value and hasher.
pub trait Family: 'static {
    /// The type's name, as the map's own panic messages give it.
    const NAME: &'static str;
    /// How many removed entries, per thread, the map's docs say may wait
    /// for readers before they are dropped (0: dropped before the call
    /// returns).
    const DEFERRED_DROPS: usize = 0;
    /// How many bytes, per writing thread, the map's docs say it may hold
    /// beyond its live entries (removed entries waiting to be reclaimed,
    /// and memory kept for reuse until the thread exits).
    const RETAINED_BYTES: usize = 0;
    type Map<K, V, S>: ConcurrentMap<K, V> + Send + Sync
    where
        K: Hash + Eq + Send + Sync + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        S: BuildHasher + Send + Sync + 'static;

    fn with_hasher<K, V, S>(hasher: S) -> Self::Map<K, V, S>
    where
        K: Hash + Eq + Send + Sync + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        S: BuildHasher + Send + Sync + 'static;

    /// Runs `f` on each thread the map runs on besides its callers' (an
    /// OwnedMap's owner), for per-thread test set-up.
    fn on_map_threads<K, V, S>(_map: &Self::Map<K, V, S>, _f: fn())
    where
        K: Hash + Eq + Send + Sync + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        S: BuildHasher + Send + Sync + 'static,
    {
    }
}

/// A map of family `F` with the default hasher.
pub fn new_map<F, K, V>() -> F::Map<K, V, DefaultHashBuilder>
where
    F: Family,
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    F::with_hasher(DefaultHashBuilder::default())
}

/// Declares a [`Family`] for a map type with a `with_hasher` constructor.
macro_rules! family {
    (
        $family:ident,
        $map:ident
        $(, on_map_threads: $on:expr)?
        $(, deferred_drops: $deferred:expr, retained_bytes: $retained:expr)?
    ) => {
        pub struct $family;
        impl Family for $family {
            const NAME: &'static str = stringify!($map);
            $(
                const DEFERRED_DROPS: usize = $deferred;
                const RETAINED_BYTES: usize = $retained;
            )?
            type Map<K, V, S>
                = $map<K, V, S>
            where
                K: Hash + Eq + Send + Sync + Clone + 'static,
                V: Send + Sync + Clone + 'static,
                S: BuildHasher + Send + Sync + 'static;
            fn with_hasher<K, V, S>(hasher: S) -> Self::Map<K, V, S>
            where
                K: Hash + Eq + Send + Sync + Clone + 'static,
                V: Send + Sync + Clone + 'static,
                S: BuildHasher + Send + Sync + 'static,
            {
                $map::with_hasher(hasher)
            }
            $(
                fn on_map_threads<K, V, S>(map: &Self::Map<K, V, S>, f: fn())
                where
                    K: Hash + Eq + Send + Sync + Clone + 'static,
                    V: Send + Sync + Clone + 'static,
                    S: BuildHasher + Send + Sync + 'static,
                {
                    ($on)(map, f)
                }
            )?
        }
    };
}

family!(Locked, LockedMap);
family!(Sharded, ShardedMap);
// Its docs: removed entries wait in per-thread batches of at most 2048
// (two batches may be pending), and each writing thread holds at most
// about 210 KiB beyond the live entries.
family!(ReadMostly, ReadMostlyMap, deferred_drops: 4096, retained_bytes: 210 * 1024);
// The owner thread is the map's own.
family!(Owned, OwnedMap, on_map_threads: |map: &OwnedMap<_, _, _>, f: fn()| map.with_map(|_| f()));

/// A small xorshift generator: each test thread gets its own, so threads
/// share no random state.
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Runs each named generic test function once per map family.
///
/// `map_tests!(a, b)` expects `fn a<F: Family>()` and `fn b<F: Family>()`
/// in the calling file and makes `locked::a`, `sharded::a`, ...
/// `map_tests!(ignored: a, b)` marks them `#[ignore]`, for stress tests that
/// `.ci/run` runs in release.
macro_rules! map_tests {
    (ignored: $($test:ident),* $(,)?) => {
        $crate::common::map_tests!(@with [#[ignore = "stress test: .ci/run runs it in release"]] $($test),*);
    };
    ($($test:ident),* $(,)?) => {
        $crate::common::map_tests!(@with [] $($test),*);
    };
    (@with $attrs:tt $($test:ident),*) => {
        mod locked {
            $( $crate::common::map_tests!(@one $attrs Locked $test); )*
        }
        mod sharded {
            $( $crate::common::map_tests!(@one $attrs Sharded $test); )*
        }
        mod owned {
            $( $crate::common::map_tests!(@one $attrs Owned $test); )*
        }
        mod read_mostly {
            $( $crate::common::map_tests!(@one $attrs ReadMostly $test); )*
        }
    };
    (@one [$($attr:tt)*] $family:ident $test:ident) => {
        $($attr)* #[test] fn $test() { super::$test::<$crate::common::$family>() }
    };
}
pub(crate) use map_tests;

/// Calls a generic test function once per map family, in sequence, inside
/// one test: for measurements that other test threads would disturb.
/// A new map adds a line here and in [`map_tests!`].
macro_rules! every_family {
    ($test:ident) => {
        $test::<$crate::common::Locked>();
        $test::<$crate::common::Sharded>();
        $test::<$crate::common::Owned>();
        $test::<$crate::common::ReadMostly>();
    };
}
pub(crate) use every_family;

/// Records which [`Tracked`] values are alive, to catch leaks and double
/// drops.
#[derive(Clone, Default)]
pub struct Tracker {
    live: Arc<Mutex<HashSet<u64>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new tracked value carrying `value`.
    pub fn track<T>(&self, value: T) -> Tracked<T> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        assert!(self.live.lock().unwrap().insert(id));
        Tracked {
            value,
            id,
            tracker: self.clone(),
        }
    }

    pub fn live(&self) -> usize {
        self.live.lock().unwrap().len()
    }

    /// Asserts that every tracked value was dropped.
    pub fn assert_all_dropped(&self, context: &str) {
        assert_eq!(
            self.live(),
            0,
            "{context}: tracked keys or values were never dropped"
        );
    }
}

/// A value whose creation, clones and drops are recorded; equality and hash
/// look only at `value`. Dropping one twice panics.
pub struct Tracked<T> {
    pub value: T,
    id: u64,
    tracker: Tracker,
}

impl<T: Clone> Clone for Tracked<T> {
    fn clone(&self) -> Self {
        self.tracker.track(self.value.clone())
    }
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        let was_live = self
            .tracker
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
        assert!(was_live, "tracked value {} dropped twice", self.id);
    }
}

impl<T: PartialEq> PartialEq for Tracked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Tracked<T> {}
impl<T: Hash> Hash for Tracked<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}
impl<T: std::fmt::Debug> std::fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

/// Runs `f` on another thread and fails the test if it has not finished
/// after `seconds`: a hang becomes a failure with a message, not a stuck CI.
/// Returns `f`'s panic message, if it panicked.
pub fn watchdog<F>(seconds: u64, what: &str, f: F) -> Option<String>
where
    F: FnOnce() + Send + 'static,
{
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let outcome = panic::catch_unwind(AssertUnwindSafe(f));
        let _ = done.send(outcome.err().map(|payload| panic_message(&*payload)));
    });
    match finished.recv_timeout(Duration::from_secs(seconds)) {
        Ok(panic) => panic,
        Err(_) => panic!("{what}: no answer after {seconds} s; it is deadlocked or livelocked"),
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<non-string panic>".to_owned())
}

/// Runs `f`, expecting it to panic, and returns the panic message.
pub fn expect_panic(f: impl FnOnce()) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => panic!("expected a panic, but the call returned"),
        Err(payload) => panic_message(&*payload),
    }
}

/// A hasher that sends every key to the same hash: the worst case a
/// user-supplied hasher can produce.
#[derive(Clone, Copy, Default)]
pub struct ConstantHasher;

impl BuildHasher for ConstantHasher {
    type Hasher = ConstantHash;
    fn build_hasher(&self) -> ConstantHash {
        ConstantHash
    }
}

pub struct ConstantHash;
impl std::hash::Hasher for ConstantHash {
    fn finish(&self) -> u64 {
        0x5eed
    }
    fn write(&mut self, _: &[u8]) {}
}
