//! Why an entry left the cache.

/// Why an entry left the cache, as told to the eviction listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemovalCause {
    /// Evicted by the policy to stay within the capacity, or refused
    /// because it alone weighs more than a shard's share of the capacity.
    Size,
    /// Removed by the user: `remove`, `invalidate`, `retain` or `clear`.
    Explicit,
    /// Its time-to-live or time-to-idle ran out.
    Expired,
    /// Its value was replaced by an `insert` of the same key; the listener
    /// gets the old value.
    Replaced,
}
