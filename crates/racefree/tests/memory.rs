//! Memory accounting with a counting global allocator, for every map: a
//! map emptied and dropped gives back every byte; insert/remove churn
//! (Go issue 40999) does not grow memory; a grow/shrink cycle gives memory
//! back each time.
//!
//! The allocator counts per thread: the test harness allocates on its own
//! threads while a test runs, and a process-wide count would see that. Each
//! map here lives and dies on the test thread. Written by hand because the
//! counting-allocator crates count only process-wide.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{Family, every_family, new_map};
use racefree::ConcurrentMap;

/// The system allocator, counting the bytes each thread holds.
struct PerThreadCounting;

thread_local! {
    /// Bytes allocated minus bytes freed by this thread. `const`, with no
    /// destructor: reading it never allocates, so the allocator may use it.
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    // `try_with`: never panic inside the allocator, even at thread exit.
    let _ = HELD.try_with(|held| held.set(held.get() + bytes));
}

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees are ours; the counting touches no allocated memory.
unsafe impl GlobalAlloc for PerThreadCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller meets `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller meets `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller meets `GlobalAlloc::realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: PerThreadCounting = PerThreadCounting;

/// Bytes this thread has allocated and not freed since `start()`.
struct Region(isize);

impl Region {
    fn start() -> Self {
        Region(HELD.with(Cell::get))
    }
}

fn live_bytes(region: &Region) -> isize {
    HELD.with(Cell::get) - region.0
}

#[test]
fn memory_accounting() {
    // Process-wide, once: the first map reads the core count, and std keeps
    // what it learned about cgroup limits. Not memory of any map.
    every_family!(build_one_map);
    every_family!(emptied_and_dropped_returns_every_byte);
    every_family!(churn_does_not_grow_memory);
    every_family!(grow_shrink_cycles_give_memory_back);
}

fn build_one_map<F: Family>() {
    drop(new_map::<F, u64, u64>());
}

fn emptied_and_dropped_returns_every_byte<F: Family>() {
    let region = Region::start();
    {
        let map = new_map::<F, u64, String>();
        for i in 0..50_000 {
            map.insert(i, format!("value {i}"));
        }
        assert!(live_bytes(&region) > 50_000 * 16);
        for i in 0..25_000 {
            map.remove(&i);
        }
        map.clear();
        for i in 0..1_000 {
            map.insert(i, i.to_string());
        }
    }
    assert_eq!(
        live_bytes(&region),
        0,
        "{}: bytes still held after the map was dropped",
        F::NAME
    );
}

/// Go issue 40999: a map that inserts and removes forever must not keep
/// what it removed.
fn churn_does_not_grow_memory<F: Family>() {
    let region = Region::start();
    let map = new_map::<F, u64, String>();
    for i in 0..100 {
        map.insert(i, i.to_string());
    }
    let settled = live_bytes(&region);
    for i in 100..200_000 {
        map.insert(i, i.to_string());
        map.remove(&(i - 100));
    }
    let after = live_bytes(&region);
    // Tables may end a size larger after tombstones; what matters is that
    // memory follows the live entries, not the 200 000 removed ones.
    assert!(
        after <= settled * 4,
        "{}: 100 live entries held {settled} bytes before churn and {after} after",
        F::NAME
    );
    drop(map);
    assert_eq!(
        live_bytes(&region),
        0,
        "{}: bytes held after the map was dropped",
        F::NAME
    );
}

fn grow_shrink_cycles_give_memory_back<F: Family>() {
    let region = Region::start();
    let map = new_map::<F, u64, u64>();
    let mut floors = Vec::new();
    for cycle in 0..3 {
        for i in 0..200_000 {
            map.insert(i, i);
        }
        let peak = live_bytes(&region);
        for i in 100..200_000 {
            map.remove(&i);
        }
        let floor = live_bytes(&region);
        assert!(
            floor * 50 < peak,
            "{} cycle {cycle}: {peak} bytes at 200k entries, still {floor} at 100",
            F::NAME
        );
        floors.push(floor);
    }
    assert!(
        floors[2] <= floors[0] * 2,
        "{}: the floor keeps rising: {floors:?}",
        F::NAME
    );
    drop((map, floors));
    assert_eq!(
        live_bytes(&region),
        0,
        "{}: bytes held after the map was dropped",
        F::NAME
    );
}
