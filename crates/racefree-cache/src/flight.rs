//! Single flight: one loader per missing key; the callers that miss the
//! same key meanwhile wait for its value instead of loading it again.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use event_listener::{Event, Listener};

/// What a failed loader left for its waiters: its error, if it returned
/// one (a loader that panicked or was cancelled leaves `None`).
pub(crate) type Failure = Option<Arc<dyn Any + Send + Sync>>;

/// How a load ended.
#[derive(Clone)]
pub(crate) enum Outcome<V> {
    Loaded(V),
    Failed(Failure),
}

/// One key's load in progress. Waiters may block a thread or await: the
/// same event wakes both.
pub(crate) struct Flight<V> {
    outcome: OnceLock<Outcome<V>>,
    done: Event,
}

impl<V: Clone> Flight<V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            outcome: OnceLock::new(),
            done: Event::new(),
        })
    }

    /// Blocks until the loader is done; called with no cache lock held.
    pub(crate) fn wait(&self) -> Outcome<V> {
        loop {
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            let listener = self.done.listen();
            // Finished between the check and `listen`: it notified nobody.
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            listener.wait();
        }
    }

    /// Like [`wait`](Self::wait), without blocking the thread.
    #[cfg(feature = "async")]
    pub(crate) async fn wait_async(&self) -> Outcome<V> {
        loop {
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            let listener = self.done.listen();
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            listener.await;
        }
    }

    /// Wakes every waiter with `outcome`. Called once per flight.
    pub(crate) fn finish(&self, outcome: Outcome<V>) {
        if self.outcome.set(outcome).is_ok() {
            self.done.notify(usize::MAX);
        }
    }
}
