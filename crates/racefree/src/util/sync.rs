//! The synchronisation primitives the maps use, switched to a model
//! checker's by `--cfg racefree_loom` (loom: every interleaving up to a
//! bound) or `--cfg racefree_shuttle` (shuttle: randomised schedules), so
//! those tools can control every thread switch (the shim pattern of
//! crossbeam's `primitive` and quick_cache's `shim`).

#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use parking_lot::{RwLock, RwLockWriteGuard};
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use std::sync::atomic::AtomicUsize;

#[cfg(any(racefree_loom, racefree_shuttle))]
pub(crate) use model::{AtomicUsize, RwLock, RwLockWriteGuard};

/// The checker's primitives behind parking_lot's signatures. racefree never
/// panics while holding a lock in a model test, so poisoning cannot happen.
#[cfg(any(racefree_loom, racefree_shuttle))]
mod model {
    #[cfg(racefree_loom)]
    use loom::sync as checker;
    #[cfg(racefree_shuttle)]
    use shuttle::sync as checker;

    pub(crate) use checker::atomic::AtomicUsize;
    pub(crate) use checker::{RwLockReadGuard, RwLockWriteGuard};

    #[derive(Debug)]
    pub(crate) struct RwLock<T>(checker::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(checker::RwLock::new(value))
        }
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().expect("no lock is poisoned in a model test")
        }
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().expect("no lock is poisoned in a model test")
        }
    }
}

/// Declares a thread-local `Cell`: std's, or the checker's, whose threads
/// are simulated and would otherwise share std's thread-locals.
macro_rules! thread_local_cell {
    ($name:ident: $ty:ty = $init:expr) => {
        #[cfg(not(any(racefree_loom, racefree_shuttle)))]
        std::thread_local! { static $name: std::cell::Cell<$ty> = const { std::cell::Cell::new($init) }; }
        #[cfg(racefree_loom)]
        loom::thread_local! { static $name: std::cell::Cell<$ty> = std::cell::Cell::new($init); }
        #[cfg(racefree_shuttle)]
        shuttle::thread_local! { static $name: std::cell::Cell<$ty> = std::cell::Cell::new($init); }
    };
}
pub(crate) use thread_local_cell;
