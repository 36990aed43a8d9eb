//! The synchronisation primitives the maps use, switched to a model
//! checker's by `--cfg racefree_loom` (loom: every interleaving up to a
//! bound) or `--cfg racefree_shuttle` (shuttle: randomised schedules), so
//! those tools can control every thread switch (the shim pattern of
//! crossbeam's `primitive` and quick_cache's `shim`).

/// The tables' lock: see `rw_lock.rs` for why not parking_lot's.
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use super::rw_lock::{RwLock, RwLockWriteGuard, read_biased, release_write};
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use crossbeam_channel::{Receiver, Sender, unbounded as channel};
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicUsize};
#[cfg(not(any(racefree_loom, racefree_shuttle)))]
pub(crate) use std::thread;

#[cfg(any(racefree_loom, racefree_shuttle))]
pub(crate) use model::{
    AtomicPtr, AtomicU8, AtomicU32, AtomicUsize, Mutex, MutexGuard, Receiver, RwLock,
    RwLockWriteGuard, Sender, channel, read_biased, release_write, thread,
};

/// The checker's primitives behind parking_lot's signatures. racefree never
/// panics while holding a lock in a model test, so poisoning cannot happen.
#[cfg(any(racefree_loom, racefree_shuttle))]
mod model {
    #[cfg(racefree_loom)]
    use loom::sync as checker;
    #[cfg(racefree_shuttle)]
    use shuttle::sync as checker;

    pub(crate) use checker::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicUsize};
    pub(crate) use checker::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};
    #[cfg(racefree_loom)]
    pub(crate) use loom::thread;
    #[cfg(racefree_shuttle)]
    pub(crate) use shuttle::thread;

    use std::collections::VecDeque;
    use std::sync::Arc;

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

    /// Releases the checker's write lock.
    pub(crate) fn release_write<T>(guard: RwLockWriteGuard<'_, T>) {
        drop(guard);
    }

    /// The checker's read lock: the bias is racefree's own lock's, checked
    /// in its own model tests.
    pub(crate) fn read_biased<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
        lock.read()
    }

    #[derive(Debug)]
    pub(crate) struct Mutex<T>(checker::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(checker::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().expect("no lock is poisoned in a model test")
        }
    }

    /// An unbounded multi-producer channel with crossbeam's disconnection
    /// rules, built on the checker's mutex and condition variable: the
    /// checkers' own channels do not report disconnection, which OwnedMap's
    /// shutdown relies on.
    struct Channel<T> {
        state: checker::Mutex<State<T>>,
        ready: checker::Condvar,
    }

    struct State<T> {
        queue: VecDeque<T>,
        senders: usize,
        receiver: bool,
    }

    pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let channel = Arc::new(Channel {
            state: checker::Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                receiver: true,
            }),
            ready: checker::Condvar::new(),
        });
        (Sender(Arc::clone(&channel)), Receiver(channel))
    }

    pub(crate) struct Sender<T>(Arc<Channel<T>>);
    pub(crate) struct Receiver<T>(Arc<Channel<T>>);

    impl<T> std::fmt::Debug for Sender<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Sender")
        }
    }

    impl<T> Sender<T> {
        /// Queues `message`, or gives it back if the receiver is gone.
        pub(crate) fn send(&self, message: T) -> Result<(), crossbeam_channel::SendError<T>> {
            let mut state = self.0.state.lock().unwrap();
            if !state.receiver {
                return Err(crossbeam_channel::SendError(message));
            }
            state.queue.push_back(message);
            self.0.ready.notify_one();
            Ok(())
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            self.0.state.lock().unwrap().senders += 1;
            Self(Arc::clone(&self.0))
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let mut state = self.0.state.lock().unwrap();
            state.senders -= 1;
            if state.senders == 0 {
                self.0.ready.notify_one();
            }
        }
    }

    impl<T> Receiver<T> {
        /// The next message; an error once it is empty and every sender is gone.
        pub(crate) fn recv(&self) -> Result<T, crossbeam_channel::RecvError> {
            let mut state = self.0.state.lock().unwrap();
            loop {
                if let Some(message) = state.queue.pop_front() {
                    return Ok(message);
                }
                if state.senders == 0 {
                    return Err(crossbeam_channel::RecvError);
                }
                state = self.0.ready.wait(state).unwrap();
            }
        }
    }

    impl<T> Drop for Receiver<T> {
        fn drop(&mut self) {
            // As crossbeam does: refuse further sends, drop what is queued.
            let queued = {
                let mut state = self.0.state.lock().unwrap();
                state.receiver = false;
                std::mem::take(&mut state.queue)
            };
            drop(queued);
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
