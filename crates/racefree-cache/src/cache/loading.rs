//! Loading on a miss with single flight: one loader per missing key, the
//! other callers wait for its value, blocking or (with the `async`
//! feature) awaiting.

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use super::{Cache, Pending, Shard};
use crate::flight::{Flight, Outcome};
use crate::policy::Policy;

/// What a loading call found.
enum Lookup<V> {
    Hit(V),
    /// Another call is loading the key.
    Wait(Arc<Flight<V>>),
    /// This call registered the flight and must load.
    Lead(Arc<Flight<V>>),
}

/// A flight this call leads. [`finish`](Self::finish) stores the value and
/// wakes the waiters; dropped unfinished (the loader panicked, or its
/// future was dropped), it wakes them to retry.
struct Leader<'a, K: Eq, V: Clone, P, S> {
    cache: &'a Cache<K, V, P, S>,
    shard: &'a Shard<K, V, P>,
    hash: u64,
    /// `None` once finished.
    key: Option<K>,
    flight: Arc<Flight<V>>,
}

impl<K, V, P, S> Cache<K, V, P, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    P: Policy,
    S: BuildHasher,
{
    /// The value of `key`, or the value `load` returns, which is then
    /// cached. However many threads miss `key` at the same moment, one runs
    /// its `load`; the others wait for its value (single flight).
    ///
    /// If `load` panics, the panic goes to its caller, and the callers that
    /// were waiting retry: one of them runs its own `load`. No lock is held
    /// while `load` runs, so it may use the cache (except to load the same
    /// key, which would wait for itself).
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let cache = racefree_cache::Cache::new(100);
    /// let loads = AtomicUsize::new(0);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             let value = cache.get_or_insert_with("config", || {
    ///                 loads.fetch_add(1, Ordering::Relaxed);
    ///                 "loaded".to_string()
    ///             });
    ///             assert_eq!(value, "loaded");
    ///         });
    ///     }
    /// });
    /// assert_eq!(loads.load(Ordering::Relaxed), 1);
    /// ```
    pub fn get_or_insert_with(&self, key: K, load: impl FnOnce() -> V) -> V {
        match self.try_get_or_insert_with(key, || Ok::<V, std::convert::Infallible>(load())) {
            Ok(value) => value,
            Err(never) => match *never {},
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), for a
    /// loader that can fail. An error is not cached: the loader's caller
    /// and the callers waiting on it get the same error, as an `Arc`, and
    /// the next call loads again. (A waiting caller whose loader had an
    /// error of another type, or panicked, retries.)
    ///
    /// # Example
    ///
    /// ```
    /// let cache = racefree_cache::Cache::new(100);
    /// let failed = cache.try_get_or_insert_with(1, || Err::<u32, _>("backend down"));
    /// assert_eq!(*failed.unwrap_err(), "backend down");
    /// assert_eq!(cache.try_get_or_insert_with(1, || Ok::<_, &str>(7)), Ok(7));
    /// ```
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        load: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let (hash, shard) = self.locate("try_get_or_insert_with", &key);
        loop {
            match self.find_or_join(shard, hash, &key) {
                Lookup::Hit(value) => return Ok(value),
                Lookup::Wait(flight) => match joined(flight.wait()) {
                    Some(result) => return result,
                    None => continue,
                },
                Lookup::Lead(flight) => {
                    let leader = Leader::new(self, shard, hash, key, flight);
                    return leader.finish(load());
                }
            }
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), awaiting
    /// instead of blocking: the callers that miss `key` while another
    /// caller's `load` runs await its value. `load` is polled only by the
    /// caller that leads; if that caller's future is dropped before `load`
    /// finishes, the waiters retry and one of them loads.
    ///
    /// Blocking and async callers of the same cache wait for each other's
    /// loads.
    ///
    /// # Example
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = racefree_cache::Cache::new(100);
    /// let page = cache
    ///     .get_or_insert_with_async("/home", async { "<h1>home</h1>".to_string() })
    ///     .await;
    /// assert_eq!(page, "<h1>home</h1>");
    /// # });
    /// ```
    #[cfg(feature = "async")]
    pub async fn get_or_insert_with_async(&self, key: K, load: impl Future<Output = V>) -> V {
        let load = async { Ok::<V, std::convert::Infallible>(load.await) };
        match self.try_get_or_insert_with_async(key, load).await {
            Ok(value) => value,
            Err(never) => match *never {},
        }
    }

    /// Like [`try_get_or_insert_with`](Self::try_get_or_insert_with),
    /// awaiting instead of blocking, as
    /// [`get_or_insert_with_async`](Self::get_or_insert_with_async).
    #[cfg(feature = "async")]
    pub async fn try_get_or_insert_with_async<E>(
        &self,
        key: K,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let (hash, shard) = self.locate("try_get_or_insert_with_async", &key);
        loop {
            match self.find_or_join(shard, hash, &key) {
                Lookup::Hit(value) => return Ok(value),
                Lookup::Wait(flight) => match joined(flight.wait_async().await) {
                    Some(result) => return result,
                    None => continue,
                },
                Lookup::Lead(flight) => {
                    let leader = Leader::new(self, shard, hash, key, flight);
                    return leader.finish(load.await);
                }
            }
        }
    }

    /// Looks `key` up for a loading call: its value, or the flight loading
    /// it, or a new flight this call must lead.
    fn find_or_join(&self, shard: &Shard<K, V, P>, hash: u64, key: &K) -> Lookup<V> {
        let now = self.now();
        if let Some(Some(value)) = self.read(shard, hash, key, now, false) {
            return Lookup::Hit(value);
        }
        self.with_shard(shard, now, |state, counters, _| {
            if let Some(value) = state.store.get(hash, key, now) {
                counters.hit();
                return Lookup::Hit(value.clone());
            }
            counters.miss();
            if let Some(pending) = state.flights.find(hash, |p| p.key == *key) {
                return Lookup::Wait(Arc::clone(&pending.flight));
            }
            let flight = Flight::new();
            state.flights.insert_unique(
                hash,
                Pending {
                    hash,
                    key: key.clone(),
                    flight: Arc::clone(&flight),
                },
                |p| p.hash,
            );
            Lookup::Lead(flight)
        })
    }
}

/// What a waiter makes of its loader's outcome: its result, or `None` to
/// retry (the loader panicked, was cancelled, or failed with an error of
/// another type).
fn joined<V, E: Send + Sync + 'static>(outcome: Outcome<V>) -> Option<Result<V, Arc<E>>> {
    match outcome {
        Outcome::Loaded(value) => Some(Ok(value)),
        Outcome::Failed(Some(error)) => error.downcast::<E>().ok().map(Err),
        Outcome::Failed(None) => None,
    }
}

impl<'a, K, V, P, S> Leader<'a, K, V, P, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    P: Policy,
    S: BuildHasher,
{
    fn new(
        cache: &'a Cache<K, V, P, S>,
        shard: &'a Shard<K, V, P>,
        hash: u64,
        key: K,
        flight: Arc<Flight<V>>,
    ) -> Self {
        Self {
            cache,
            shard,
            hash,
            key: Some(key),
            flight,
        }
    }

    /// Stores a loaded value and ends the flight, waking the waiters with
    /// the value or the error. User code (the weigher, `expire_after`, the
    /// listener) may panic at each step, and must not leave the waiters
    /// waiting or the flight registered: the user's closures run while the
    /// guard still holds the key, and the waiters are woken before the
    /// listener runs.
    fn finish<E: Send + Sync + 'static>(mut self, loaded: Result<V, E>) -> Result<V, Arc<E>> {
        let cache = self.cache;
        let now = cache.now();
        let key = self.key.as_ref().expect("a flight finishes once");
        let stored = loaded.as_ref().ok().map(|value| {
            let weight = cache.weigh(key, value);
            let live_until = cache.expiry.live_until(key, value, now, None);
            (value.clone(), weight, live_until)
        });
        let result = match loaded {
            Ok(value) => {
                self.flight.finish(Outcome::Loaded(value.clone()));
                Ok(value)
            }
            Err(error) => {
                let error = Arc::new(error);
                self.flight.finish(Outcome::Failed(Some(error.clone())));
                Err(error)
            }
        };
        let (hash, key) = (self.hash, self.key.take().expect("taken only here"));
        cache.with_shard(self.shard, now, |state, counters, removed| {
            unregister(&mut state.flights, hash, &key);
            if let Some((value, weight, live_until)) = stored {
                state
                    .store
                    .insert(hash, key, value, weight, live_until, now, removed);
                counters.inserted();
            }
        });
        result
    }
}

impl<K: Eq, V: Clone, P, S> Drop for Leader<'_, K, V, P, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Only the flight's entry: no expiry sweep, so no listener runs
            // while a panic may be unwinding.
            unregister(&mut self.shard.state.write().flights, self.hash, &key);
            self.flight.finish(Outcome::Failed(None));
        }
    }
}

fn unregister<K: Eq, V>(flights: &mut hashbrown::HashTable<Pending<K, V>>, hash: u64, key: &K) {
    if let Ok(pending) = flights.find_entry(hash, |p| p.key == *key) {
        pending.remove();
    }
}
