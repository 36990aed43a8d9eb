//! Single flight: one loader per missing key; the callers that miss the
//! same key meanwhile wait for its value instead of loading it again.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use event_listener::{Event, EventListener, Listener};

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

    /// The outcome, or a listener that fires when there is one.
    fn outcome_or_listener(&self) -> Result<Outcome<V>, EventListener> {
        if let Some(outcome) = self.outcome.get() {
            return Ok(outcome.clone());
        }
        let listener = self.done.listen();
        // Finished between the check and `listen`: it notified nobody.
        match self.outcome.get() {
            Some(outcome) => Ok(outcome.clone()),
            None => Err(listener),
        }
    }

    /// Blocks until the loader is done; called with no cache lock held.
    pub(crate) fn wait(&self) -> Outcome<V> {
        loop {
            match self.outcome_or_listener() {
                Ok(outcome) => return outcome,
                Err(listener) => listener.wait(),
            }
        }
    }

    /// Like [`wait`](Self::wait), without blocking the thread.
    #[cfg(feature = "async")]
    pub(crate) async fn wait_async(&self) -> Outcome<V> {
        loop {
            match self.outcome_or_listener() {
                Ok(outcome) => return outcome,
                Err(listener) => listener.await,
            }
        }
    }

    /// Wakes every waiter with `outcome`. Called once per flight.
    pub(crate) fn finish(&self, outcome: Outcome<V>) {
        if self.outcome.set(outcome).is_ok() {
            self.done.notify(usize::MAX);
        }
    }
}
