//! Bytes per entry (WORKLOADS.md §4), counted by the global allocator.
//!
//! The counter is hand-written because counting must cost nothing while
//! maps are timed: the allocator crates that count (stats_alloc, cap) add
//! to shared atomics on every allocation, a contended cache line that would
//! slow the maps that allocate most. Here each thread counts its own
//! allocations, and only while it measures, so other threads (the timed
//! runs' or a test harness's) neither pay nor disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::adapter::{BenchMap, MapJob};
use crate::datum::Datum;

/// The system allocator, counting live bytes on threads that ask it to.
struct CountingAllocator;

thread_local! {
    /// Bytes this thread allocated minus freed since it began counting, if it is.
    // `const`, with no destructor: readable from inside the allocator at
    // any point of the thread's life, without allocating.
    static LIVE: Cell<Option<isize>> = const { Cell::new(None) };
}

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
    let _ = LIVE.try_with(|live| live.set(live.get().map(|n| n + bytes)));
}

/// This thread's live bytes since counting began.
fn live() -> isize {
    LIVE.with(|live| live.get().expect("counting is on"))
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

    /// Counts what this thread allocates for the map: the map must not
    /// hand its memory to other threads (none of the measured maps do
    /// while used from one thread).
    fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(&self) -> Footprint {
        LIVE.with(|live| live.set(Some(0)));
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
        drop(map);
        LIVE.with(|live| live.set(None));
        Footprint {
            bytes_per_entry: full as f64 / self.entries.max(1) as f64,
            bytes_after_removal: after_removal,
        }
    }
}
