//! When entries expire: the cache's time-to-live, time-to-idle and
//! per-entry settings, and its clock.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::clock::{Clock, SystemClock};
use crate::timers::NEVER;

pub(crate) type ExpireAfter<K, V> = Box<dyn Fn(&K, &V) -> Option<Duration> + Send + Sync>;

/// What a [`CacheBuilder`](crate::CacheBuilder) was told about expiry.
pub(crate) struct Settings<K, V> {
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) time_to_live: Option<Duration>,
    pub(crate) time_to_idle: Option<Duration>,
    pub(crate) expire_after: Option<ExpireAfter<K, V>>,
}

impl<K, V> Default for Settings<K, V> {
    fn default() -> Self {
        Self {
            clock: Box::new(SystemClock),
            time_to_live: None,
            time_to_idle: None,
            expire_after: None,
        }
    }
}

/// A cache's expiry: its settings, and the clock's reading at its start.
pub(crate) struct Expiry<K, V> {
    pub(crate) settings: Settings<K, V>,
    /// Time zero of the nanosecond timestamps the shards compare.
    origin: Instant,
    /// Whether any entry may expire; until then the clock is not read.
    enabled: AtomicBool,
}

impl<K, V> Expiry<K, V> {
    pub(crate) fn new(settings: Settings<K, V>) -> Self {
        let enabled = settings.time_to_live.is_some()
            || settings.time_to_idle.is_some()
            || settings.expire_after.is_some();
        Self {
            origin: settings.clock.now(),
            enabled: AtomicBool::new(enabled),
            settings,
        }
    }

    /// Nanoseconds since the cache was made, or 0 while no entry can
    /// expire.
    pub(crate) fn now(&self) -> u64 {
        if self.enabled.load(Relaxed) {
            nanos(
                self.settings
                    .clock
                    .now()
                    .saturating_duration_since(self.origin),
            )
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
        self.settings.time_to_idle.map_or(NEVER, nanos)
    }

    /// The latest an entry written at `now` may live, however often it is
    /// read: `ttl` if given, else what `expire_after` says, else the
    /// time-to-live.
    pub(crate) fn live_until(&self, key: &K, value: &V, now: u64, ttl: Option<Duration>) -> u64 {
        let settings = &self.settings;
        let ttl = ttl
            .or_else(|| settings.expire_after.as_ref().and_then(|f| f(key, value)))
            .or(settings.time_to_live);
        ttl.map_or(NEVER, |ttl| now.saturating_add(nanos(ttl)))
    }
}

/// Saturates at [`NEVER`]: about 584 years.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(NEVER)
}
