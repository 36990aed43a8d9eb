//! Configures a [`Cache`].

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::thread;
use std::time::Duration;

use racefree::DefaultHashBuilder;

use crate::cache::{Cache, Listener, Weigher};
use crate::clock::Clock;
use crate::expiry::{self, Expiry};
use crate::policy::{DefaultPolicy, Policy};
use crate::removal::RemovalCause;

/// Each shard holds at least this much capacity by default, so that a
/// small cache keeps enough entries per policy to judge them. At 64, a
/// cache of capacity 1000 took 8 shards, and kept 32.90 to 33.05 % of
/// racefree-bench's Zipf 0.8 requests (24 runs, median 32.99; the optimum
/// is 33.95), below 32.95 in one run in six; at 128 it takes 4, and kept
/// 32.98 to 33.07 (16 runs). Its throughput moved within the noise: at 8
/// threads, hits ran 1.24 to 1.57 times quick_cache's speed with 8 shards
/// and 1.02 to 2.25 with 4, the 90/10 mix 0.46 to 0.49 and 0.43 to 0.49
/// (three alternating runs). Caches of 4096 and more keep 16 shards per
/// core on 2 cores.
const MIN_SHARE: u64 = 128;

/// Shards per core by default (within [`MIN_SHARE`]). Two threads meet on
/// a shard less often with more of them: against 4 per core, 16 per core
/// raised racefree-bench's cache throughput at 2 and 8 threads by about
/// 1.4 times (from 0.22 to 0.35 of quick_cache's to 0.34 to 0.59, in three
/// paired runs). Each shard costs 1.6 KiB before its first entry (1.5
/// with policies other than W-TinyLFU; half of it is the buffer of
/// recorded lookups), and W-TinyLFU's sketch starts at up to 32 KiB a
/// shard.
const SHARDS_PER_CORE: usize = 16;

/// Configures a [`Cache`]; made by [`Cache::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct CacheBuilder<K, V, P = DefaultPolicy, S = DefaultHashBuilder> {
    capacity: u64,
    shards: Option<usize>,
    hasher: S,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    expiry: expiry::Settings<K, V>,
    policy: PhantomData<fn() -> P>,
}

/// Why a [`CacheBuilder`] could not build.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The capacity was 0.
    ZeroCapacity,
    /// `shards(0)` was asked for.
    ZeroShards,
    /// More shards than capacity: some shard could hold nothing.
    ShardsExceedCapacity {
        /// The shard count, rounded up to a power of two.
        shards: usize,
        /// The capacity asked for.
        capacity: u64,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroCapacity => write!(
                f,
                "the capacity must be at least 1: a cache of capacity 0 would store nothing"
            ),
            Self::ZeroShards => write!(f, "the shard count must be at least 1"),
            Self::ShardsExceedCapacity { shards, capacity } => write!(
                f,
                "{shards} shards cannot share a capacity of {capacity}: each shard needs at least 1; \
                 ask for fewer shards or a larger capacity"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

impl<K, V> CacheBuilder<K, V> {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            capacity,
            shards: None,
            hasher: DefaultHashBuilder::default(),
            weigher: None,
            listener: None,
            expiry: expiry::Settings::default(),
            policy: PhantomData,
        }
    }
}

impl<K, V, P, S> CacheBuilder<K, V, P, S> {
    /// Splits the cache into `shards` independently locked parts (rounded
    /// up to a power of two). The default is 16 per core, fewer for small
    /// capacities so that each shard holds at least 128.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// Counts each entry as `weigher(key, value)` against the capacity
    /// instead of 1, for a cache bounded in bytes. Called once per stored
    /// value, with no lock held.
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u64 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Box::new(weigher));
        self
    }

    /// Calls `listener` exactly once for every entry that leaves the cache,
    /// with the reason, after the shard's lock is released (so it may call
    /// the cache). If it panics, the other entries that the same call
    /// removed are still told, and then the call panics with the first
    /// panic; so does a call whose user code (a `retain` predicate, a
    /// key's `Eq`) panics after entries left. Entries still cached when
    /// the cache itself is dropped go with it, untold; call
    /// [`clear`](crate::Cache::clear) first to hear of them.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use racefree_cache::{Cache, RemovalCause};
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&log);
    /// let cache = Cache::builder(10)
    ///     .eviction_listener(move |key, _value, cause| seen.lock().unwrap().push((key, cause)))
    ///     .build()?;
    /// cache.insert("a", 1);
    /// cache.insert("a", 2);
    /// cache.remove("a");
    /// assert_eq!(*log.lock().unwrap(), [("a", RemovalCause::Replaced), ("a", RemovalCause::Explicit)]);
    /// # Ok::<(), racefree_cache::BuildError>(())
    /// ```
    pub fn eviction_listener(
        mut self,
        listener: impl Fn(K, V, RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Expires each entry `ttl` after it was stored (inserted, replaced or
    /// loaded), however often it is read. The listener gets it as
    /// [`RemovalCause::Expired`].
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use racefree_cache::{Cache, ManualClock};
    ///
    /// let clock = Arc::new(ManualClock::new());
    /// let cache = Cache::builder(100)
    ///     .time_to_live(Duration::from_secs(10))
    ///     .clock(Arc::clone(&clock))
    ///     .build()?;
    /// cache.insert("a", 1);
    /// clock.advance(Duration::from_secs(9));
    /// assert_eq!(cache.get("a"), Some(1)); // a read does not extend it
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(cache.get("a"), None);
    /// assert_eq!(cache.stats().expirations, 1);
    /// # Ok::<(), racefree_cache::BuildError>(())
    /// ```
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.expiry.time_to_live = Some(ttl);
        self
    }

    /// Expires each entry `tti` after it was last stored or read (by `get`
    /// or a `get_or_insert_with` hit; `contains_key` does not count). With
    /// a time-to-live too, an entry expires at whichever comes first.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use racefree_cache::{Cache, ManualClock};
    ///
    /// let clock = Arc::new(ManualClock::new());
    /// let cache = Cache::builder(100)
    ///     .time_to_idle(Duration::from_secs(10))
    ///     .clock(Arc::clone(&clock))
    ///     .build()?;
    /// cache.insert("a", 1);
    /// clock.advance(Duration::from_secs(9));
    /// assert_eq!(cache.get("a"), Some(1)); // restarts its 10 seconds
    /// clock.advance(Duration::from_secs(9));
    /// assert_eq!(cache.get("a"), Some(1));
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(cache.get("a"), None);
    /// # Ok::<(), racefree_cache::BuildError>(())
    /// ```
    pub fn time_to_idle(mut self, tti: Duration) -> Self {
        self.expiry.time_to_idle = Some(tti);
        self
    }

    /// Gives each stored entry its own time-to-live: `expire_after(key,
    /// value)`, or the cache's [`time_to_live`](Self::time_to_live) where
    /// it returns `None`. Called once per stored value, with no lock held;
    /// [`Cache::insert_with_ttl`] overrides it for one entry.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use racefree_cache::{Cache, ManualClock};
    ///
    /// // An HTTP response cached for its own max-age.
    /// #[derive(Clone)]
    /// struct Response { body: String, max_age: Duration }
    ///
    /// let clock = Arc::new(ManualClock::new());
    /// let cache = Cache::builder(100)
    ///     .expire_after(|_url: &&str, response: &Response| Some(response.max_age))
    ///     .clock(Arc::clone(&clock))
    ///     .build()?;
    /// cache.insert("/news", Response { body: "...".into(), max_age: Duration::from_secs(5) });
    /// cache.insert("/logo", Response { body: "...".into(), max_age: Duration::from_secs(3600) });
    /// clock.advance(Duration::from_secs(5));
    /// assert!(cache.get("/news").is_none());
    /// assert!(cache.get("/logo").is_some());
    /// # Ok::<(), racefree_cache::BuildError>(())
    /// ```
    pub fn expire_after(
        mut self,
        expire_after: impl Fn(&K, &V) -> Option<Duration> + Send + Sync + 'static,
    ) -> Self {
        self.expiry.expire_after = Some(Box::new(expire_after));
        self
    }

    /// Reads the time for expiry from `clock` instead of the system's
    /// monotonic clock: a [`ManualClock`](crate::ManualClock) lets tests
    /// expire entries without sleeping.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.expiry.clock = Box::new(clock);
        self
    }

    /// Hashes keys with `hasher` instead of the default.
    pub fn hasher<S2>(self, hasher: S2) -> CacheBuilder<K, V, P, S2> {
        CacheBuilder {
            capacity: self.capacity,
            shards: self.shards,
            hasher,
            weigher: self.weigher,
            listener: self.listener,
            expiry: self.expiry,
            policy: PhantomData,
        }
    }

    /// Uses eviction policy `P2` instead of the default
    /// ([`TinyLfu`](crate::policy::TinyLfu)).
    pub fn policy<P2: Policy>(self) -> CacheBuilder<K, V, P2, S> {
        CacheBuilder {
            capacity: self.capacity,
            shards: self.shards,
            hasher: self.hasher,
            weigher: self.weigher,
            listener: self.listener,
            expiry: self.expiry,
            policy: PhantomData,
        }
    }

    /// Builds the cache, or says what is wrong with the settings.
    pub fn build(self) -> Result<Cache<K, V, P, S>, BuildError>
    where
        K: Hash + Eq + Clone,
        V: Clone,
        P: Policy,
        S: BuildHasher,
    {
        if self.capacity == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        let shards = match self.shards {
            Some(0) => return Err(BuildError::ZeroShards),
            Some(shards) => shards.next_power_of_two(),
            None => {
                let cores = thread::available_parallelism().map_or(1, |n| n.get());
                let wanted = (SHARDS_PER_CORE * cores).next_power_of_two() as u64;
                let most = (self.capacity / MIN_SHARE).max(1);
                // The largest power of two within both.
                1 << wanted.min(most).ilog2()
            }
        };
        if shards as u64 > self.capacity {
            return Err(BuildError::ShardsExceedCapacity {
                shards,
                capacity: self.capacity,
            });
        }
        Ok(Cache::from_parts(
            self.capacity,
            shards,
            self.hasher,
            self.weigher,
            self.listener,
            Expiry::new(self.expiry),
        ))
    }
}

impl<K, V, P, S: fmt::Debug> fmt::Debug for CacheBuilder<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards)
            .field("hasher", &self.hasher)
            .field("weigher", &self.weigher.is_some())
            .field("listener", &self.listener.is_some())
            .field("time_to_live", &self.expiry.time_to_live)
            .field("time_to_idle", &self.expiry.time_to_idle)
            .field("expire_after", &self.expiry.expire_after.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small cache takes fewer shards, each holding at least
    /// [`MIN_SHARE`]; a large one takes [`SHARDS_PER_CORE`] per core.
    #[test]
    fn default_shards_hold_at_least_the_minimum_share() {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let most = (SHARDS_PER_CORE * cores).next_power_of_two();
        for capacity in [1, 127, 128, 255, 256, 1000, 4096, 1 << 20] {
            let cache: Cache<u32, u32> = Cache::builder(capacity).build().unwrap();
            let shards = cache.shard_count();
            assert!(
                shards.is_power_of_two() && shards <= most,
                "{capacity}: {shards}"
            );
            let share = capacity / shards as u64;
            assert!(
                shards == 1 || share >= MIN_SHARE,
                "{capacity}: {shards} shards"
            );
            // No fewer shards than the minimum share allows.
            assert!(
                shards == most || share < 2 * MIN_SHARE,
                "{capacity}: {shards} shards"
            );
        }
    }
}
