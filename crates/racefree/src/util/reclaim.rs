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

/// How many objects a thread retires before they are reclaimed together:
/// at most this many removed entries per writing thread stay alive (and
/// `flush` frees them sooner). Each reclamation costs a process-wide
/// barrier (a `membarrier` system call, several microseconds on a 2-core
/// VM), so seize's default of 32 made a write to one hot key about 3 times
/// slower at 2 and 8 threads than 256 does (racefree-bench SwapCollision).
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
const BATCH: usize = 256;

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
mod imp {
    use seize::Guard as _;

    use super::*;

    /// One map's collector.
    pub(crate) struct Collector(seize::Collector);

    /// Keeps every object loaded through it alive until dropped.
    pub(crate) struct Guard<'a>(seize::LocalGuard<'a>);

    impl Collector {
        pub(crate) fn new() -> Self {
            Self(seize::Collector::new().batch_size(BATCH))
        }

        /// Marks this thread as reading; cheap, and writes only this
        /// thread's own record.
        #[inline]
        pub(crate) fn enter(&self) -> Guard<'_> {
            Guard(self.0.enter())
        }
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

    /// Retired objects, freed when the map is dropped.
    pub(crate) struct Collector(std::sync::Mutex<Vec<(*mut (), unsafe fn(*mut ()))>>);

    // SAFETY: the pointers are only freed, once, when the collector drops.
    unsafe impl Send for Collector {}
    // SAFETY: as above; the list is behind a mutex.
    unsafe impl Sync for Collector {}

    pub(crate) struct Guard<'a>(&'a Collector);

    impl Collector {
        pub(crate) fn new() -> Self {
            Self(std::sync::Mutex::new(Vec::new()))
        }

        pub(crate) fn enter(&self) -> Guard<'_> {
            Guard(self)
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
            self.0.0.lock().unwrap().push((ptr.cast(), free_box::<T>));
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
