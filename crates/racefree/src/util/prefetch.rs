//! Asks the processor to start loading a cache line, so that a lookup's
//! cache misses overlap with taking its lock instead of following it.

#![allow(unsafe_code)]

/// Starts loading the cache line at `addr` towards the first-level cache.
/// A hint only: it never faults, whatever the address, and the program
/// reads nothing through it, so a stale or wrong address costs a wasted
/// load and nothing else. A no-op off x86_64, under Miri and under the
/// model checkers.
#[inline(always)]
pub fn prefetch(addr: usize) {
    #[cfg(all(
        target_arch = "x86_64",
        not(any(miri, racefree_loom, racefree_shuttle))
    ))]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: the intrinsic needs SSE, which every x86_64 processor
        // has; a prefetch dereferences nothing (hence a pointer without
        // provenance) and does not fault on any address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::without_provenance(addr)) };
    }
    #[cfg(not(all(
        target_arch = "x86_64",
        not(any(miri, racefree_loom, racefree_shuttle))
    )))]
    let _ = addr;
}
