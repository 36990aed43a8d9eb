//! Where a cache with expiry reads the time: the system's monotonic clock,
//! or a [`ManualClock`] that tests move by hand.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A source of monotonic time for expiry; set with
/// [`CacheBuilder::clock`](crate::CacheBuilder::clock).
///
/// Read once per cache call, and only by caches that expire entries.
pub trait Clock: Send + Sync + 'static {
    /// The current time. Must never go backwards.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock, [`Instant::now`]: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to, for testing expiry without
/// sleeping. Share it with the cache through an [`Arc`].
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
///     .time_to_live(Duration::from_secs(60))
///     .clock(Arc::clone(&clock))
///     .build()?;
/// cache.insert("session", 1);
/// clock.advance(Duration::from_secs(59));
/// assert_eq!(cache.get("session"), Some(1));
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(cache.get("session"), None);
/// # Ok::<(), racefree_cache::BuildError>(())
/// ```
pub struct ManualClock {
    start: Instant,
    /// Nanoseconds moved since `start`.
    elapsed: AtomicU64,
}

impl ManualClock {
    /// A clock standing at the moment it was made.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward by `by`.
    ///
    /// # Panics
    ///
    /// If the clock would pass about 584 years from its start.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).expect("ManualClock::advance: too far");
        self.elapsed
            .fetch_update(Relaxed, Relaxed, |elapsed| elapsed.checked_add(by))
            .expect("ManualClock::advance: the clock would pass 584 years");
    }

    /// How far the clock has been moved.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed.load(Relaxed))
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("elapsed", &self.elapsed())
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}
