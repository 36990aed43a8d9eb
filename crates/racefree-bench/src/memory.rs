//! Bytes per entry (WORKLOADS.md §4), counted by the global allocator.
//!
//! The counter is hand-written because counting must cost nothing while
//! maps are timed: the allocator crates that count (stats_alloc, cap) add
//! to shared atomics on every allocation, a contended cache line that would
//! slow the maps that allocate most. Here counting is switched on only
//! while memory is measured, after every timed run: all threads count then,
//! so a map's own threads (OwnedMap's owner) are included, and nothing
//! else may allocate meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use crate::adapter::{BenchMap, MapJob};
use crate::caches::CacheKind;
use crate::datum::Datum;

/// The system allocator, counting live bytes while [`COUNTING`] is on.
struct CountingAllocator;

/// Whether allocations are counted; read (never written) while maps are timed.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed while counting.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counting touches only atomics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: the caller's contract for `dealloc` is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: the caller's contract for `realloc` is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn count(bytes: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// What a map holds on to.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Footprint {
    /// Heap bytes per entry with `entries` entries inserted into a map
    /// created empty, keys' and values' own heap memory included.
    pub bytes_per_entry: f64,
    /// Heap bytes the map still holds after every entry was removed.
    pub bytes_after_removal: isize,
}

/// Measures one map type's [`Footprint`] with `entries` entries.
#[derive(Debug)]
pub struct Measure {
    /// How many entries to insert.
    pub entries: usize,
}

impl MapJob for Measure {
    type Output = Footprint;

    fn threads(&self) -> usize {
        1
    }

    /// Counts what every thread allocates: run it while nothing but the
    /// map allocates.
    fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(&self) -> Footprint {
        counting(|| {
            let map = M::with_capacity(0);
            for i in 0..self.entries as u64 {
                map.insert(K::from_number(i), V::from_number(i));
            }
            let full = live();
            let mut key = K::from_number(0);
            for i in 0..self.entries as u64 {
                key.set_number(i);
                map.remove(&key);
            }
            drop(key);
            let after_removal = live();
            assert_eq!(map.size(), 0, "memory: entries left after removing all");
            Footprint {
                bytes_per_entry: full as f64 / self.entries.max(1) as f64,
                bytes_after_removal: after_removal,
            }
        })
    }
}

/// Runs `measure` with every thread's allocations counted from zero.
fn counting<R>(measure: impl FnOnce() -> R) -> R {
    LIVE.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let result = measure();
    COUNTING.store(false, Ordering::SeqCst);
    result
}

/// Bytes allocated and not freed since counting began.
fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// Heap bytes per entry of a cache of `kind` with capacity `entries`,
/// filled with that many `u64` keys and values, divided by the entries it
/// holds. Counts what every thread allocates: run it while nothing but the
/// cache allocates.
pub fn cache_bytes_per_entry(kind: CacheKind, entries: u64) -> f64 {
    counting(|| {
        let cache = kind.make(entries);
        for key in 0..entries {
            cache.insert(key);
        }
        cache.settle();
        live() as f64 / cache.entries().max(1) as f64
    })
}
