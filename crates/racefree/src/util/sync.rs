//! The synchronisation primitives the maps use, switched to loom's models
//! by `--cfg racefree_loom` so that loom can explore every interleaving
//! (the shim pattern of crossbeam's `primitive` and quick_cache's `shim`).

#[cfg(not(racefree_loom))]
pub(crate) use parking_lot::{RwLock, RwLockWriteGuard};
#[cfg(not(racefree_loom))]
pub(crate) use std::sync::atomic::AtomicUsize;

#[cfg(racefree_loom)]
pub(crate) use loom::sync::atomic::AtomicUsize;
#[cfg(racefree_loom)]
pub(crate) use loom_rwlock::{RwLock, RwLockWriteGuard};

/// loom's `RwLock` behind parking_lot's signatures. racefree never panics
/// while holding a lock in a loom test, so poisoning cannot happen there.
#[cfg(racefree_loom)]
mod loom_rwlock {
    pub(crate) use loom::sync::{RwLockReadGuard, RwLockWriteGuard};

    #[derive(Debug)]
    pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::RwLock::new(value))
        }
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().expect("no lock is poisoned under loom")
        }
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().expect("no lock is poisoned under loom")
        }
    }
}

/// Declares a thread-local: std's, or loom's under loom, where threads are
/// modelled and std's thread-locals would be shared between them.
macro_rules! thread_local_cell {
    ($name:ident: $ty:ty = $init:expr) => {
        #[cfg(not(racefree_loom))]
        std::thread_local! { static $name: std::cell::Cell<$ty> = const { std::cell::Cell::new($init) }; }
        #[cfg(racefree_loom)]
        loom::thread_local! { static $name: std::cell::Cell<$ty> = std::cell::Cell::new($init); }
    };
}
pub(crate) use thread_local_cell;
