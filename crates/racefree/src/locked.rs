//! [`LockedMap`]: one reader-writer lock around one hash table.

use crate::DefaultHashBuilder;
use crate::lock_based::impl_lock_based_map;
use crate::locked_table::LockedTable;

/// A hash map behind a single reader-writer lock: Go's `map` +
/// `sync.RWMutex`, done so that it cannot deadlock or poison.
///
/// This is the baseline every other racefree map is measured against, and
/// often all a program needs: when the map is touched by few threads or
/// rarely, one lock is as fast as anything and the simplest to reason about.
/// Under many writers the single lock becomes the bottleneck; use
/// [`ShardedMap`](crate::ShardedMap) then.
///
/// Compared with `std::sync::RwLock<HashMap<K, V>>` it never poisons (a
/// panicking closure leaves the map usable), never hands out a guard, and
/// turns a re-entrant call that would deadlock into a panic that says so.
///
/// # Consistency
///
/// - Every single-key operation is linearizable.
/// - [`for_each`](crate::ConcurrentMap::for_each) copies the whole map under
///   the read lock, then calls the callback with no lock held: it sees one
///   atomic snapshot, and the callback may call any method of the map. The
///   copy costs memory in proportion to the map; for huge maps that are
///   iterated often, prefer [`ShardedMap`](crate::ShardedMap), which copies
///   one shard at a time.
/// - [`len`](crate::ConcurrentMap::len) takes no lock: it is the length when
///   the write lock was last released, exact when no write is under way.
///
/// # Closures
///
/// Closures run once per call, under the lock: the read lock for
/// `get_with`, the write lock for the others. Keep them short. A closure
/// that calls back into the same map panics with a message naming both
/// operations instead of deadlocking.
///
/// # Memory
///
/// Removed, replaced and cleared entries are dropped before the call
/// returns. The table shrinks by itself once it is less than an eighth
/// full, but not below the capacity the map was made with
/// ([`with_capacity`](Self::with_capacity)), and
/// [`clear`](crate::ConcurrentMap::clear) frees it;
/// [`shrink_to_fit`](Self::shrink_to_fit) shrinks it as far as possible.
///
/// A table of 2 MiB or more asks Linux for transparent huge pages, which
/// spare a big table's random accesses most of their address-translation
/// misses ([`ShardedMap`](crate::ShardedMap) has the figures). A huge page
/// is resident as a whole once written, so a map reserved with far more
/// capacity than it holds (fewer entries than one per 256 buckets) may
/// hold more memory than with small pages; a filled table holds the same.
///
/// A full table grows without stopping the insert that fills it: a table
/// of twice the size takes the new entries, and each later write moves
/// 128 buckets' worth of old entries into it. Growing one thread's map to
/// 8 M entries, the slowest insert took 8 to 30 ms (allocating the new
/// table, and the first write to each of its huge pages, which the kernel
/// clears 2 MiB at a time) where a whole-table copy took 222 ms; one
/// insert in a hundred took 1.6 to 2.0 us rather than 0.6 (where that
/// tail matters, [`ShardedMap`](crate::ShardedMap)'s docs say how to turn
/// huge pages off). While a table grows, its memory is both tables' and
/// inserts cost a second lookup.
///
/// # Examples
///
/// ```
/// use racefree::{ConcurrentMap, LockedMap};
/// use std::thread;
///
/// let map = LockedMap::new();
/// thread::scope(|s| {
///     for t in 0..4 {
///         let map = &map;
///         s.spawn(move || map.insert(t, t * 10));
///     }
/// });
/// assert_eq!(map.len(), 4);
/// assert_eq!(map.get(&3), Some(30));
/// ```
pub struct LockedMap<K, V, S = DefaultHashBuilder> {
    table: LockedTable<K, V>,
    hasher: S,
}

impl<K, V> LockedMap<K, V> {
    /// An empty map with the default hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `capacity` entries before it allocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, DefaultHashBuilder::default())
    }
}

impl<K, V, S> LockedMap<K, V, S> {
    /// An empty map that hashes keys with `hasher`.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, LockedMap};
    /// use std::hash::RandomState;
    ///
    /// let map = LockedMap::with_hasher(RandomState::new());
    /// map.insert("k", 1);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// An empty map with room for `capacity` entries, hashing with `hasher`.
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self {
            table: LockedTable::with_capacity(capacity),
            hasher,
        }
    }

    fn table_for(&self, _hash: u64) -> &LockedTable<K, V> {
        &self.table
    }

    fn tables(&self) -> impl Iterator<Item = &LockedTable<K, V>> {
        std::iter::once(&self.table)
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for LockedMap<K, V, S> {
    fn clone(&self) -> Self {
        Self {
            table: self.table.clone(),
            hasher: self.hasher.clone(),
        }
    }
}

impl_lock_based_map!(LockedMap);
