//! Safe memory reclamation for the maps whose readers take no lock:
//! seize, with one collector per map, so dropping a map frees everything
//! it retired. Under the model checkers (which cannot run seize), retired
//! objects are kept until the map is dropped: the checkers then test the
//! map's own publication and locking, with reclamation assumed correct.

#![allow(unsafe_code)]

use std::sync::atomic::Ordering;

use super::sync::AtomicPtr;

/// Frees the `Box<T>` that `ptr` came from.
///
/// # Safety
///
/// `ptr` came from `Box::into_raw` and nothing uses it any more.
unsafe fn free_box<T>(ptr: *mut ()) {
    // SAFETY: by the caller's contract.
    drop(unsafe { Box::from_raw(ptr.cast::<T>()) });
}

/// How many bytes of objects a thread retires before they are reclaimed
/// together: 1024 entries of a `u64 → u64` map, at most 2048 objects of
/// any map. That many removed entries (and emptied nodes) per writing
/// thread may stay alive (`flush` frees them sooner). Each reclamation
/// costs a process-wide barrier (a `membarrier` system call, several
/// microseconds on a 2-core VM). On one hot key written by 8 threads
/// (racefree-bench SwapCollision, ReadMostlyMap ÷ LockedMap in paired
/// runs), batches of 256 entries ran at 0.29 to 0.32, 512 at 0.34 to 0.36,
/// 1024 at 0.38 to 0.44 and 2048 at 0.41 to 0.44.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) const BATCH_BYTES: usize = 32 * 1024;

/// The batch for objects of `size` bytes: the power of two (seize's
/// batches are) nearest below [`BATCH_BYTES`] of them, from 64 to 2048.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
fn batch(size: usize) -> usize {
    let fit = BATCH_BYTES / size.max(1);
    (1 << fit.max(1).ilog2()).clamp(64, 2048)
}

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
mod imp {
    use seize::Guard as _;

    use super::*;
    use crate::util::spare;

    /// One map's collector.
    pub(crate) struct Collector(seize::Collector);

    /// Keeps every object loaded through it alive until dropped.
    pub(crate) struct Guard<'a>(seize::LocalGuard<'a>);

    impl Collector {
        /// A collector for objects of about `size` bytes.
        pub(crate) fn new(size: usize) -> Self {
            Self(seize::Collector::new().batch_size(batch(size)))
        }

        /// Marks this thread as reading; cheap, and writes only this
        /// thread's own record.
        #[inline]
        pub(crate) fn enter(&self) -> Guard<'_> {
            Guard(self.0.enter())
        }

        /// Frees the entry at `ptr`, made by [`spare::boxed`], once no guard
        /// can still see it, keeping its block for the reclaiming thread's
        /// next entry. The calling thread needs no guard: a writer that
        /// reads only what a lock it holds keeps alive saves the
        /// read-modify-write of leaving a guard, and a thread outside every
        /// guard never holds back other threads' batches.
        ///
        /// # Safety
        ///
        /// As [`Guard::retire`], and the caller does not use `ptr` again:
        /// unless the calling thread is inside a guard, seize may free it
        /// at once.
        pub(crate) unsafe fn retire_spare<T>(&self, ptr: *mut T) {
            // SAFETY: by the caller's contract.
            unsafe { self.0.retire(ptr, reclaim_spare::<T>) }
        }
    }

    /// Frees what [`spare::boxed`] made, keeping its block.
    unsafe fn reclaim_spare<T>(ptr: *mut T, _: &seize::Collector) {
        // SAFETY: seize calls this once nothing can see `ptr`.
        unsafe { spare::free(ptr) }
    }

    impl Guard<'_> {
        /// Loads a pointer that may be retired, protected for this guard's life.
        #[inline]
        pub(crate) fn protect<T>(&self, ptr: &AtomicPtr<T>, order: Ordering) -> *mut T {
            self.0.protect(ptr, order)
        }

        /// Frees the `Box<T>` at `ptr` once no guard can still see it.
        ///
        /// # Safety
        ///
        /// `ptr` came from `Box::into_raw`, is no longer reachable from the
        /// map, and is retired once.
        pub(crate) unsafe fn retire<T>(&self, ptr: *mut T) {
            unsafe fn reclaim<T>(ptr: *mut T, _: &seize::Collector) {
                // SAFETY: seize calls this once nothing can see `ptr`.
                unsafe { free_box::<T>(ptr.cast()) }
            }
            // SAFETY: by the caller's contract.
            unsafe { self.0.defer_retire(ptr, reclaim::<T>) }
        }

        /// Starts reclaiming what this thread retired so far, instead of
        /// waiting for a full batch: it is freed once this guard and every
        /// guard active now are dropped.
        pub(crate) fn flush(&self) {
            self.0.flush();
        }
    }
}

#[cfg(any(racefree_loom, racefree_shuttle))]
mod imp {
    use super::*;

    /// A retired object and the function that frees it.
    type Retired = (*mut (), unsafe fn(*mut ()));

    /// Retired objects, freed when the map is dropped.
    pub(crate) struct Collector(std::sync::Mutex<Vec<Retired>>);

    // SAFETY: the pointers are only freed, once, when the collector drops.
    unsafe impl Send for Collector {}
    // SAFETY: as above; the list is behind a mutex.
    unsafe impl Sync for Collector {}

    pub(crate) struct Guard<'a>(&'a Collector);

    impl Collector {
        pub(crate) fn new(_size: usize) -> Self {
            Self(std::sync::Mutex::new(Vec::new()))
        }

        pub(crate) fn enter(&self) -> Guard<'_> {
            Guard(self)
        }

        /// # Safety
        ///
        /// As the production `retire_spare`.
        pub(crate) unsafe fn retire_spare<T>(&self, ptr: *mut T) {
            // SAFETY: `spare::boxed` makes plain boxes under the checkers.
            self.0.lock().unwrap().push((ptr.cast(), free_box::<T>));
        }
    }

    impl Guard<'_> {
        pub(crate) fn protect<T>(&self, ptr: &AtomicPtr<T>, order: Ordering) -> *mut T {
            ptr.load(order)
        }

        /// # Safety
        ///
        /// As the production `retire`.
        pub(crate) unsafe fn retire<T>(&self, ptr: *mut T) {
            // SAFETY: by the caller's contract.
            unsafe { self.0.retire_spare(ptr) }
        }

        pub(crate) fn flush(&self) {}
    }

    impl Drop for Collector {
        fn drop(&mut self) {
            for (ptr, free) in self.0.get_mut().unwrap().drain(..) {
                // SAFETY: retired once, and the map is gone.
                unsafe { free(ptr) }
            }
        }
    }
}

pub(crate) use imp::{Collector, Guard};

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Collector")
    }
}
