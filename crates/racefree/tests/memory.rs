//! Memory accounting with a counting global allocator, for every map: a
//! map emptied and dropped holds no more than its docs let a thread keep,
//! and every byte is back once the thread that used it exits;
//! insert/remove churn (Go issue 40999) does not grow memory; a
//! grow/shrink cycle gives memory back each time.
//!
//! Only allocations made by threads that opted in are counted: the test
//! thread, and a map's own threads (`Family::on_map_threads`: OwnedMap's
//! owner). The test harness allocates on its own threads while a test runs,
//! and a process-wide count would see that. Each allocation carries a
//! header that says whether it was counted, so its free is counted (or not)
//! to match, whichever thread frees it: OwnedMap's owner frees what the
//! test thread allocated. Written by hand because the counting-allocator
//! crates count every thread.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use common::{Family, every_family, new_map};
use racefree::ConcurrentMap;

/// The system allocator, counting the bytes that opted-in threads hold.
struct OptInCounting;

thread_local! {
    /// Whether this thread's allocations are counted. `const`, with no
    /// destructor: reading it never allocates, so the allocator may use it.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Bytes of counted allocations not yet freed.
static HELD: AtomicIsize = AtomicIsize::new(0);

/// Counts this thread's allocations from now on.
fn count_this_thread() {
    COUNTED.with(|counted| counted.set(true));
}

/// The header in front of each allocation: room for the counted flag,
/// keeping the caller's alignment.
fn with_header(layout: Layout) -> (Layout, usize) {
    let header = layout.align().max(16);
    let layout = Layout::from_size_align(layout.size() + header, layout.align())
        .expect("a valid layout stays valid with a header");
    (layout, header)
}

// SAFETY: every method forwards to `System` with a layout that is the
// caller's plus a header in front, and hands out the memory after the
// header, so `System`'s guarantees are ours.
unsafe impl GlobalAlloc for OptInCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (full, header) = with_header(layout);
        // SAFETY: the caller meets `GlobalAlloc::alloc`'s contract, and
        // `full` is no smaller.
        let base = unsafe { System.alloc(full) };
        if base.is_null() {
            return base;
        }
        // `try_with`: never panic inside the allocator, even at thread exit.
        let counted = COUNTED.try_with(Cell::get).unwrap_or(false);
        if counted {
            HELD.fetch_add(layout.size() as isize, Relaxed);
        }
        // SAFETY: `base` has room for the header, which is at least 16 bytes.
        unsafe {
            base.write(u8::from(counted));
            base.add(header)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (full, header) = with_header(layout);
        // SAFETY: `ptr` came from `alloc` or `realloc` above, `header` bytes
        // after the start of a block of layout `full`.
        unsafe {
            let base = ptr.sub(header);
            if base.read() == 1 {
                HELD.fetch_sub(layout.size() as isize, Relaxed);
            }
            System.dealloc(base, full);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (full, header) = with_header(layout);
        // SAFETY: as in `dealloc`; `System.realloc` keeps the header bytes.
        unsafe {
            let base = System.realloc(ptr.sub(header), full, new_size + header);
            if base.is_null() {
                return base;
            }
            if base.read() == 1 {
                HELD.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
            }
            base.add(header)
        }
    }
}

#[global_allocator]
static GLOBAL: OptInCounting = OptInCounting;

/// Counted bytes held now, against a starting point.
struct Region(isize);

impl Region {
    fn start() -> Self {
        Region(HELD.load(Relaxed))
    }
}

fn live_bytes(region: &Region) -> isize {
    HELD.load(Relaxed) - region.0
}

#[test]
fn memory_accounting() {
    count_this_thread();
    // Process-wide, once: the first map reads the core count, and std keeps
    // what it learned about cgroup limits; seize keeps the ids of threads
    // that exited, for reuse. Not memory of any map.
    every_family!(build_one_map);
    std::thread::spawn(|| {
        every_family!(use_one_key);
    })
    .join()
    .unwrap();
    every_family!(emptied_and_dropped_returns_every_byte);
    every_family!(churn_does_not_grow_memory);
    every_family!(grow_shrink_cycles_give_memory_back);
}

/// Runs `scenario` on a new thread that counts its allocations, then
/// checks that every byte is back once that thread has exited: what a map
/// keeps per thread for reuse goes with the thread.
fn on_a_new_thread<F: Family>(scenario: fn()) {
    let region = Region::start();
    std::thread::spawn(move || {
        count_this_thread();
        scenario();
    })
    .join()
    .expect("the scenario's checks pass");
    assert_eq!(
        live_bytes(&region),
        0,
        "{}: bytes held after the thread that used the map exited",
        F::NAME
    );
}

/// Checks that no more than the bytes the map's docs allow a thread to
/// keep ([`Family::RETAINED_BYTES`]) are still held.
fn assert_retained_at_most_its_docs_allow<F: Family>(region: &Region, when: &str) {
    let held = live_bytes(region);
    assert!(
        held <= F::RETAINED_BYTES as isize,
        "{}: {held} bytes held {when}; its docs allow {}",
        F::NAME,
        F::RETAINED_BYTES
    );
}

fn build_one_map<F: Family>() {
    drop(new_map::<F, u64, u64>());
}

fn use_one_key<F: Family>() {
    let map = new_map::<F, u64, u64>();
    map.insert(1, 1);
    assert_eq!(map.get(&1), Some(1));
}

fn emptied_and_dropped_returns_every_byte<F: Family>() {
    on_a_new_thread::<F>(emptied_and_dropped::<F>);
}

fn emptied_and_dropped<F: Family>() {
    let region = Region::start();
    {
        let map = new_map::<F, u64, String>();
        F::on_map_threads(&map, count_this_thread);
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
    assert_retained_at_most_its_docs_allow::<F>(&region, "after the map was dropped");
}

/// Go issue 40999: a map that inserts and removes forever must not keep
/// what it removed.
fn churn_does_not_grow_memory<F: Family>() {
    on_a_new_thread::<F>(churn::<F>);
}

fn churn<F: Family>() {
    let region = Region::start();
    let map = new_map::<F, u64, String>();
    F::on_map_threads(&map, count_this_thread);
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
        after <= settled * 4 + F::RETAINED_BYTES as isize,
        "{}: 100 live entries held {settled} bytes before churn and {after} after",
        F::NAME
    );
    drop(map);
    assert_retained_at_most_its_docs_allow::<F>(&region, "after the map was dropped");
}

fn grow_shrink_cycles_give_memory_back<F: Family>() {
    on_a_new_thread::<F>(grow_shrink_cycles::<F>);
}

fn grow_shrink_cycles<F: Family>() {
    let region = Region::start();
    let map = new_map::<F, u64, u64>();
    F::on_map_threads(&map, count_this_thread);
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
            (floor - F::RETAINED_BYTES as isize) * 50 < peak,
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
    assert_retained_at_most_its_docs_allow::<F>(&region, "after the map was dropped");
}
