//! When entries expire: the cache's time-to-live, time-to-idle and
//! per-entry settings, and its clock.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::timers::NEVER;

pub(crate) type ExpireAfter<K, V> = Box<dyn Fn(&K, &V) -> Option<Duration> + Send + Sync>;

/// A cache's expiry settings.
pub(crate) struct Expiry<K, V> {
    pub(crate) clock: Box<dyn Clock>,
    /// Time zero of the nanosecond timestamps the shards compare.
    origin: Instant,
    /// Whether any entry may expire; until then the clock is not read.
    enabled: AtomicBool,
    pub(crate) time_to_live: Option<Duration>,
    pub(crate) time_to_idle: Option<Duration>,
    pub(crate) expire_after: Option<ExpireAfter<K, V>>,
}

impl<K, V> Expiry<K, V> {
    pub(crate) fn new(
        clock: Box<dyn Clock>,
        time_to_live: Option<Duration>,
        time_to_idle: Option<Duration>,
        expire_after: Option<ExpireAfter<K, V>>,
    ) -> Self {
        let enabled = time_to_live.is_some() || time_to_idle.is_some() || expire_after.is_some();
        Self {
            origin: clock.now(),
            enabled: AtomicBool::new(enabled),
            clock,
            time_to_live,
            time_to_idle,
            expire_after,
        }
    }

    /// Nanoseconds since the cache was made, or 0 while no entry can
    /// expire.
    pub(crate) fn now(&self) -> u64 {
        if self.enabled.load(Relaxed) {
            nanos(self.clock.now().saturating_duration_since(self.origin))
        } else {
            0
        }
    }

    /// From now on, read the clock: an entry with its own time-to-live is
    /// about to be stored. Callers that read 0 from [`now`](Self::now)
    /// just before this call must read it again once they hold the lock of
    /// the shard the entry went to (the lock orders this store before
    /// their load).
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Relaxed);
    }

    /// The time-to-idle in nanoseconds, or [`NEVER`].
    pub(crate) fn idle(&self) -> u64 {
        self.time_to_idle.map_or(NEVER, nanos)
    }

    /// The latest an entry written at `now` may live, however often it is
    /// read: `ttl` if given, else what `expire_after` says, else the
    /// time-to-live.
    pub(crate) fn live_until(&self, key: &K, value: &V, now: u64, ttl: Option<Duration>) -> u64 {
        let ttl = ttl
            .or_else(|| self.expire_after.as_ref().and_then(|f| f(key, value)))
            .or(self.time_to_live);
        ttl.map_or(NEVER, |ttl| now.saturating_add(nanos(ttl)))
    }
}

/// Saturates at [`NEVER`]: about 584 years.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(NEVER)
}
