//! Single flight: one loader per missing key; the callers that miss the
//! same key meanwhile wait for its value instead of loading it again.

use std::any::Any;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

/// What a failed loader left for its waiters: its error, if it returned
/// one (a panicking loader leaves `None`).
pub(crate) type Failure = Option<Arc<dyn Any + Send + Sync>>;

/// How a load ended.
#[derive(Clone)]
pub(crate) enum Outcome<V> {
    Loaded(V),
    Failed(Failure),
}

/// One key's load in progress.
pub(crate) struct Flight<V> {
    /// `None` while the loader runs.
    outcome: Mutex<Option<Outcome<V>>>,
    done: Condvar,
}

impl<V: Clone> Flight<V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            outcome: Mutex::new(None),
            done: Condvar::new(),
        })
    }

    /// Waits for the loader; called with no cache lock held.
    pub(crate) fn wait(&self) -> Outcome<V> {
        let mut outcome = self.outcome.lock();
        loop {
            if let Some(outcome) = &*outcome {
                return outcome.clone();
            }
            self.done.wait(&mut outcome);
        }
    }

    /// Wakes every waiter with `outcome`.
    pub(crate) fn finish(&self, outcome: Outcome<V>) {
        *self.outcome.lock() = Some(outcome);
        self.done.notify_all();
    }
}
