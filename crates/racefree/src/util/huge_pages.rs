//! Memory for the lock-based maps' tables: from the global allocator, as
//! for any hashbrown table, except that a table of 2 MiB or more is placed
//! on 2 MiB boundaries and asks Linux to back it with transparent huge
//! pages.
//!
//! Why: a call on a big table lands on a random page. With 4 KiB pages
//! nearly every such page is missing from the processor's address cache
//! (the TLB), and the page walk that follows is another chain of memory
//! reads before the cache miss itself; in a virtual machine the walk goes
//! through two page tables. One 2 MiB page covers what 512 small ones do.
//! Most Linux systems hand out huge pages only where a program asks for
//! them (`/sys/kernel/mm/transparent_hugepage/enabled` set to `madvise`),
//! so without this a table never gets them.
//!
//! The cost: a huge page is resident as a whole once any byte of it is
//! written, so a table reserved far larger than it is filled (fewer entries
//! than 1 in 256 of its buckets) holds more memory than with small pages.
//! Tables under 2 MiB are left as they are.
//!
//! Written here because no crate offers an [`Allocator`] that asks for
//! huge pages yet takes its memory from the global allocator, which keeps
//! whatever allocator (and allocation counting) the program has chosen.

#![allow(unsafe_code)]

use std::alloc::{self, Layout};
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};

/// The size of a huge page on x86_64 and on arm64 with 4 KiB pages.
const HUGE_PAGE: usize = 2 << 20;

/// The most of a big block's end that may stay on small pages rather than
/// shift the block (see [`offset`]).
const SMALL_TAIL: usize = 64 << 10;

/// hashbrown's allocator for the lock-based maps' tables (see the module
/// docs).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TableAlloc;

/// How far into its allocation a big block starts, chosen so that its end
/// falls on a huge page (or past one by less than the block's alignment):
/// hashbrown puts a table's control bytes, which every call reads, at the
/// end of its block, and only the whole huge pages of a block get huge
/// pages. The unused bytes before the block are
/// address space only, never written, so never resident. Where the end
/// would pass a huge page by at most [`SMALL_TAIL`] (2^21 buckets of
/// `u64 → u64` take 34 MiB and the control bytes' 16-byte tail), the block
/// starts on a huge page instead, so that a big map does not reserve
/// 2 MiB of address space for a few bytes.
fn offset(layout: Layout) -> usize {
    match layout.size() % HUGE_PAGE {
        tail if tail <= SMALL_TAIL => 0,
        tail => (HUGE_PAGE - tail).next_multiple_of(layout.align()),
    }
}

/// The layout a block of `layout` is allocated with, and where in that
/// allocation the block starts: aligned to a huge page and [`offset`]
/// bytes in if the block is at least one huge page (and asks for no larger
/// alignment), and as asked otherwise. A function of the asked layout
/// alone, so that `deallocate` finds the same.
fn placed(layout: Layout) -> (Layout, usize) {
    if layout.size() < HUGE_PAGE || layout.align() > HUGE_PAGE {
        return (layout, 0);
    }
    let offset = offset(layout);
    match Layout::from_size_align(layout.size() + offset, HUGE_PAGE) {
        Ok(placed) => (placed, offset),
        Err(_) => (layout, 0),
    }
}

// SAFETY: blocks come from the global allocator and go back to it as they
// were allocated: `placed` depends on the asked layout alone, which the
// caller passes to `deallocate` unchanged. A block is as large as asked
// and at least as aligned (its allocation is aligned to a huge page, at
// least the asked alignment, and its offset is a multiple of the asked
// alignment), and stays valid until deallocated. The allocator has no
// state, so its copies are interchangeable.
unsafe impl Allocator for TableAlloc {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if layout.size() == 0 {
            // hashbrown does not allocate empty tables; a dangling pointer
            // of the asked alignment is what the trait expects.
            let dangling =
                NonNull::new(std::ptr::without_provenance_mut(layout.align())).ok_or(AllocError)?;
            return Ok(NonNull::slice_from_raw_parts(dangling, 0));
        }
        let (placed, offset) = placed(layout);
        // SAFETY: `placed` has a non-zero size.
        let allocation = NonNull::new(unsafe { alloc::alloc(placed) }).ok_or(AllocError)?;
        // SAFETY: `placed` is `offset` bytes longer than the block, so the
        // block lies inside the allocation.
        let block = unsafe { allocation.add(offset) };
        if placed.align() == HUGE_PAGE {
            advise_huge_pages(block, layout.size());
        }
        Ok(NonNull::slice_from_raw_parts(block, layout.size()))
    }

    unsafe fn deallocate(&self, block: NonNull<u8>, layout: Layout) {
        if layout.size() != 0 {
            let (placed, offset) = placed(layout);
            // SAFETY: the caller passes a block this allocator allocated
            // with `layout`: `allocate` placed it `offset` bytes into an
            // allocation made with `placed`.
            unsafe { alloc::dealloc(block.as_ptr().sub(offset), placed) };
        }
    }
}

/// Asks Linux to back the whole huge pages inside the `size` bytes at
/// `block` with huge pages; the parts before the first and after the last
/// keep small pages, so nothing outside the block becomes resident. A
/// hint: where huge pages are off or unsupported, nothing changes.
fn advise_huge_pages(block: NonNull<u8>, size: usize) {
    #[cfg(all(target_os = "linux", not(any(miri, racefree_loom, racefree_shuttle))))]
    {
        let first = block.addr().get().next_multiple_of(HUGE_PAGE);
        let end = (block.addr().get() + size) / HUGE_PAGE * HUGE_PAGE;
        if first < end {
            // SAFETY: the range lies in a block just allocated and owned by
            // the caller; MADV_HUGEPAGE changes how the kernel backs those
            // pages, never their contents. A failure (THP compiled out) is
            // harmless.
            unsafe {
                let start = block.as_ptr().add(first - block.addr().get());
                libc::madvise(start.cast(), end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(all(target_os = "linux", not(any(miri, racefree_loom, racefree_shuttle)))))]
    let _ = (block, size);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big block ends on a huge page (or past it by less than its
    /// alignment), or starts on one when only its last few KiB would pass
    /// it; a small one is allocated as asked. Each
    /// is writable from end to end and goes back to the allocator.
    #[test]
    fn big_blocks_are_placed_on_huge_pages() {
        use Placement::*;
        #[derive(Debug)]
        enum Placement {
            AsAsked,
            Starts,
            /// Ends this many bytes past a huge page.
            EndsPast(usize),
        }
        let cases = [
            (64, 16, AsAsked),
            (HUGE_PAGE - 16, 16, AsAsked),
            (HUGE_PAGE, 16, Starts),
            (2 * HUGE_PAGE + 16, 16, Starts),
            (HUGE_PAGE + (128 << 10), 16, EndsPast(0)),
            (5 * HUGE_PAGE - 4096, 16, EndsPast(0)),
            // A 64-aligned table of 2^17 buckets, whose size is not a
            // multiple of 64.
            (HUGE_PAGE + (128 << 10) + 16, 64, EndsPast(16)),
        ];
        for (size, align, placement) in cases {
            let layout = Layout::from_size_align(size, align).unwrap();
            let block = TableAlloc.allocate(layout).unwrap();
            assert_eq!(block.len(), size);
            let start = block.cast::<u8>();
            let at = start.addr().get();
            assert_eq!(at % align, 0);
            match placement {
                AsAsked => assert_eq!(placed(layout), (layout, 0)),
                Starts => assert_eq!(at % HUGE_PAGE, 0, "{size} bytes"),
                EndsPast(past) => assert_eq!((at + size) % HUGE_PAGE, past, "{size} bytes"),
            }
            // SAFETY: the block is `size` bytes, allocated just above with
            // `layout`.
            unsafe {
                start.as_ptr().write_bytes(0xa5, size);
                TableAlloc.deallocate(start, layout);
            }
        }
    }

    /// The whole huge pages of a big block are marked for huge pages
    /// (`hg` in the flags of their mapping in /proc/self/smaps). Where
    /// the advice is compiled out (Miri, the model checkers), so is this.
    #[cfg(all(target_os = "linux", not(any(miri, racefree_loom, racefree_shuttle))))]
    #[test]
    fn big_blocks_ask_for_huge_pages() {
        let layout = Layout::from_size_align(3 * HUGE_PAGE + (128 << 10), 16).unwrap();
        let block = TableAlloc.allocate(layout).unwrap().cast::<u8>();
        let first = block.addr().get().next_multiple_of(HUGE_PAGE);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut flags = None;
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((from, to)) = range.split_once('-')
                && let (Ok(from), Ok(to)) = (
                    usize::from_str_radix(from, 16),
                    usize::from_str_radix(to, 16),
                )
            {
                inside = from <= first && first + 3 * HUGE_PAGE <= to;
            } else if inside && let Some(found) = line.strip_prefix("VmFlags:") {
                flags = Some(found.to_owned());
            }
        }
        // SAFETY: allocated just above with `layout`.
        unsafe { TableAlloc.deallocate(block, layout) };
        let flags = flags.expect("no mapping holds the block's huge pages");
        assert!(
            flags.split_whitespace().any(|f| f == "hg"),
            "flags: {flags}"
        );
    }
}
