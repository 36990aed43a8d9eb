//! [`ShardedMap`]: many cache-padded locked tables, chosen by hash.

use std::sync::OnceLock;
use std::thread;

use crossbeam_utils::CachePadded;

use crate::DefaultHashBuilder;
use crate::lock_based::impl_lock_based_map;
use crate::locked_table::LockedTable;

/// A hash map split into shards, each a hash table behind its own
/// reader-writer lock: Go's `orcaman/concurrent-map`, and the design of
/// `dashmap`, without guards that can deadlock.
///
/// A key's shard is chosen by bits of its hash, so threads working on
/// different keys mostly take different locks, and each shard's lock sits
/// on its own cache line so they do not slow each other through false
/// sharing. This is the general-purpose choice when many threads both read
/// and write.
///
/// The default shard count is sixteen times the number of cores, rounded
/// up to a power of two, at most 1024; [`with_shards`](Self::with_shards)
/// sets it. More shards mean less contention and a little more memory and
/// iteration overhead: each shard costs 128 bytes before it holds anything
/// (4 KiB for an empty map on 2 cores, 128 KiB on 64), so a program with
/// thousands of small maps may want fewer.
///
/// # Why a lock per shard
///
/// A write takes its shard's write lock. A lookup takes its shard's read
/// lock without writing the lock: it names the lock in a cache line of its
/// own thread's, checks that no writer has claimed it, and clears the line
/// with a plain store, so it writes no line that another core reads. A
/// write looks through every thread's line for its shard and waits for the
/// lookups under way (BRAVO, Dice and Kogan 2019, never revoked; see
/// `util/rw_lock.rs`).
///
/// A readers' count, the usual way, takes two atomic read-modify-writes on
/// the lock's cache line, the second of which waits for the lookup's cache
/// misses, and readers on many cores pass the line between them. On one
/// thread and a 2^21-entry table, that is most of the gap to a table with
/// no synchronization at all: 50 to 80 ns a lookup bare, 70 to 140 under
/// `parking_lot`'s read lock. racefree's lock keeps a count only for
/// threads beyond the first 512 alive and for a read nested inside a read
/// of a lock in the same group of slots.
///
/// Two other ways to read without writing the lock were measured and lost:
/// - lock-free reads in a [seize](https://docs.rs/seize) guard (papaya's
///   and [`ReadMostlyMap`](crate::ReadMostlyMap)'s way): entering and
///   leaving the guard took the lookup to 130 to 190 ns;
/// - BRAVO as published, with a table of slots hashed by thread and lock:
///   claiming a slot takes a compare-and-swap, which cost as much as the
///   lock, and lookups ran 1.2 to 2 times slower than through the lock.
///   With slots per thread, where a reader names its lock with a plain
///   store, the slot costs about 15 instructions more than the count on a
///   lookup at one thread, and saves it a read-modify-write.
/// - BRAVO's revocation: until 2026-12 a write took the bias away, and a
///   shard went back to its readers' count until it had been read 4 times
///   per two threads alive. Keeping the bias for good, with 16 slots per
///   thread so that writes mostly find the slots they look at unchanged,
///   raised the median lead on exchange and read-heavy at 2 and 8 threads
///   by 0.13 to 0.55 (three alternating pairs, `util/rw_lock.rs`).
///
/// What narrows the gap is prefetching. Before taking the lock, a call
/// starts loading its key's control bytes and first buckets, from an
/// address each shard publishes for the purpose (see `bucket_hint.rs`), so
/// the lookup's two cache misses overlap each other and the lock instead
/// of following them one by one: on one thread, lookups in a 2^21-entry
/// map went from 177 to 187 ns to 134 to 146. Each shard also keeps its
/// lock, table header and length in one cache line, so a call on a shard
/// last used by another core moves one line. Where the whole map fits in
/// the cache there is little to prefetch, and at 2^18 scc ran ahead of it
/// on exchange and rapid-grow at 2 threads.
///
/// The lock is racefree's own (`util/rw_lock.rs`): parking_lot's, but a
/// write releases it with a plain store instead of a compare-and-swap,
/// which would wait for the write's own cache misses, so they overlap the
/// next call. In alternating runs at 2^21 that lifted rapid-grow at one
/// thread from 4.0–4.8 to 5.0–7.7 M ops/s. The price: a thread that
/// sleeps waiting for a writer can miss its wake-up, so it looks again
/// after at most 200 us.
///
/// Big tables also ask Linux for huge pages (see Memory below): a call on
/// a random key of a 2^21-entry map otherwise lands on a random 4 KiB page
/// whose address translation is rarely cached, and the page walk is one
/// more chain of memory reads (two page tables' worth in a virtual
/// machine). Each table is placed so that its control bytes, which every
/// call reads, sit on huge pages. In paired runs on the trio at 2^21 (one
/// thread, the same binary with and without the request), ShardedMap's
/// throughput over dashmap's rose from 0.88–0.95 to 1.10–1.26 on
/// exchange, from 0.90–1.07 to 1.14–1.41 on rapid-grow and from
/// 1.08–1.30 to 1.31–1.63 on read-heavy. On WORKLOADS.md's trio at 2^21
/// (BENCHMARKS.md, three runs on a 2-core AMD machine), the map ran 1.35
/// to 1.75 times the best of dashmap, papaya and scc on read-heavy at 1,
/// 2 and 8 threads, and 1.15 to 1.65 times on exchange and rapid-grow at 2
/// and 8. At 1 thread those two were 1.1 to 1.35 times dashmap. On two
/// Intel machines the lead was smaller: in three runs on one, 1.15 to
/// 1.43 on read-heavy, 0.75 to 1.37 on exchange and rapid-grow (1 thread
/// lowest, where dashmap runs close), and an earlier run on the other
/// gave 0.9 to 1.3 on those two. Those runs predate racefree's own lock;
/// with it, two runs on the first gave 1.27 to 1.48 on read-heavy (but
/// 0.63 to 0.85 at 2 threads in one, during a slow spell) and 1.14 to
/// 1.63 on exchange and rapid-grow. Since a write checks inline whether
/// its table is growing (about 6 % fewer instructions on exchange), three
/// more runs gave 1.24 to 1.92 by median in 25 of 27 cells. The misses:
/// 1.07 on exchange at 1 thread, where dashmap runs close, and 1.06 on
/// read-heavy at 2 threads against papaya, whose reads write nothing.
/// Since reads write only their thread's line (above), reads of a hot set
/// from every thread run as fast as papaya's: Go's LoadMostlyHits at 2
/// threads went from 25 to 63–68 M ops/s, 2.5 to 3 times dashmap. On the
/// trio, since the lock keeps its bias (BENCHMARKS.md, "Seven full runs
/// since the bias was kept"; a 2-core AMD machine), the median over seven
/// runs was 1.35 to 1.69 in every cell: 1.57 to 1.69 on read-heavy, 1.35
/// to 1.49 on exchange and 1.37 to 1.65 on rapid-grow. Single runs in
/// noisy spells went as low as 0.99 (exchange at 2 threads).
///
/// # Past two cores
///
/// What grows with the machine:
/// - **Shards.** Sixteen per core, up to 1024. Two threads calling on
///   random keys pick the same shard once in as many calls as there are
///   shards.
/// - **No line that every call writes.** Besides its key's buckets, a
///   write writes only its shard's line: the lock, the table's header and
///   the length, kept together; a read writes none (below).
///   [`len`](crate::ConcurrentMap::len) adds up the per-shard lengths
///   rather than keeping one shared counter, and the prefetch hint is on a
///   line that only table moves write.
/// - **Growth stays in its shard.** A shard grows a few buckets per insert
///   under its own lock, so a growing shard slows only its own callers.
/// - **Reads write no shared line.** A lookup writes only a cache line of
///   its own thread's (see "Why a lock per shard"), so readers of one hot
///   key on many cores run in parallel instead of passing the lock's line
///   between them. A lookup that finds a writer in its shard waits for it,
///   looking at the lock's line, and writes it only to sleep.
///
/// What would limit it:
/// - **A write looks at a line per thread.** It reads one cache line per
///   thread that has read any ShardedMap, LockedMap or racefree-cache
///   `Cache` and is still alive, and waits for those reading its shard.
///   Each thread has 16 such lines, one per group of shards, so a line a
///   write looks at has changed only if that thread read a shard of the
///   same group since: the loads are independent, read consecutive lines
///   and mostly hit the writer's cache, but their number grows with the
///   threads. With 64 and 256 threads alive that had read and sat idle,
///   an insert on the 2-core machine took about 45 and 165 ns more than
///   with none (from about 95); threads that read all the time would
///   change their lines more often and cost more. Up to 512 threads alive
///   at once get lines; more read through a count that writes the lock's
///   line.
/// - **A preempted writer stalls its shard.** A thread descheduled while
///   it holds a shard's write lock holds up that shard's other callers
///   until it runs again. More shards make that rarer, not impossible.
/// - **Whole-map calls visit every shard.** `for_each`, `retain`, `clear`
///   and `len` take time in proportion to the shard count.
///
/// # Consistency
///
/// - Every single-key operation is linearizable.
/// - [`for_each`](crate::ConcurrentMap::for_each) copies one shard at a time
///   under its read lock and calls the callback with no lock held. Every key
///   present for the whole call is visited exactly once (a key lives in one
///   shard), each value is one the key held during the call, and the
///   callback may call any method of the map. Different shards are copied at
///   different instants, so the whole is not one atomic snapshot.
/// - [`len`](crate::ConcurrentMap::len) takes no lock: it adds up per-shard
///   counts, each kept beside its shard's lock and written only by that
///   shard's writers, so it never becomes a contended line. It is exact when
///   no write is under way, and otherwise an estimate between the smallest
///   and largest length the map had during the call.
///
/// # Closures
///
/// Closures run once per call, under the key's shard lock: the read lock
/// for `get_with`, the write lock for the others (`retain` takes each
/// shard's write lock in turn). A closure that calls back into the same map
/// panics with a message naming both operations instead of deadlocking.
///
/// # Memory
///
/// Removed, replaced and cleared entries are dropped before the call
/// returns. Each shard shrinks by itself once it is less than an eighth
/// full, but not below its share of the capacity the map was made with
/// ([`with_capacity`](Self::with_capacity)),
/// [`clear`](crate::ConcurrentMap::clear) frees all shards, and
/// [`shrink_to_fit`](Self::shrink_to_fit) shrinks them as far as possible.
///
/// A shard's table of 2 MiB or more asks Linux for transparent huge pages
/// (`madvise`; most systems give them only where asked). A huge page is
/// resident as a whole once written, so a map reserved with far more
/// capacity than it holds (fewer entries than one per 256 buckets) may
/// hold more memory than with small pages; a filled table holds the same.
///
/// A full shard grows without stopping the insert that fills it: a table
/// of twice the size takes the new entries, and each later write moves
/// 128 buckets' worth of old entries into it, so no insert copies a whole
/// table (dashmap's slowest insert growing to 8 M entries: 10 to 35 ms).
/// The moves land on other inserts: one in a hundred took 2.1 us rather
/// than 0.6, one in a thousand 8 us rather than 1, and a workload of
/// mostly inserts runs about 7 % slower while tables grow.
///
/// With huge pages, the slowest insert is the first write to a new huge
/// page, which the kernel clears, 2 MiB at once. Growing one thread's map
/// to 8 M entries in a process of its own on a 2-core virtual machine,
/// where clearing memory the machine has never touched is slow, it took
/// 29 to 38 ms (0.76 to 2.0 ms with small pages); the rest of the
/// distribution improved (one insert in a thousand: 5.6 to 5.8 us against
/// 7.8 to 8.6). A program that would rather have the short tail can turn
/// huge pages off for itself with `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)`
/// (the `libc` crate has it) before it makes its maps; they then get small
/// pages, as with huge pages off for the whole machine
/// (`/sys/kernel/mm/transparent_hugepage/enabled` set to `never`).
///
/// A map that keeps its size while keys come and go holds about twice the
/// buckets its entries need, as std's `HashMap` does: removals leave
/// markers that use up a table's room, and a table out of room is rebuilt
/// (as it grows, a few buckets per insert) at twice its entries. Pairs of
/// an insert of a new key and a removal of the oldest took a
/// 786 432-entry LockedMap from 2^20 buckets to 2^21 within a million
/// pairs, and it stayed there over 80 M pairs, rebuilt twice at that
/// size; ShardedMap's shards doubled alike.
///
/// # Examples
///
/// ```
/// use racefree::{ConcurrentMap, ShardedMap};
/// use std::thread;
///
/// let hits: ShardedMap<String, u64> = ShardedMap::new();
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for page in ["/", "/about", "/"] {
///                 hits.compute(page.to_owned(), |n| racefree::Action::Set(n.map_or(1, |n| n + 1)));
///             }
///         });
///     }
/// });
/// assert_eq!(hits.get("/"), Some(8));
/// assert_eq!(hits.get("/about"), Some(4));
/// ```
pub struct ShardedMap<K, V, S = DefaultHashBuilder> {
    /// Invariant: a power-of-two number of shards, at least one.
    shards: Box<[CachePadded<LockedTable<K, V>>]>,
    hasher: S,
}

/// Sixteen shards per core, as a power of two, at most 1024; computed once
/// because reading the core count can touch the file system (cgroup
/// limits).
///
/// Why sixteen (racefree-bench, WORKLOADS.md §1 at capacity 2^21, 2
/// cores): with dashmap's four per core (8 shards) the map ran level with
/// dashmap at 2 and 8 threads, losing time to threads waiting on a busy
/// shard (a lock held across a cache miss, or by a preempted thread); with
/// 32 or 64 shards it ran 1.1 to 1.3 times dashmap on exchange and
/// rapid-grow. 256 shards cost about a tenth at one thread, where the
/// shards' lock words no longer stay in the first-level cache.
fn default_shard_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        (cores * 16).next_power_of_two().min(1024)
    })
}

impl<K, V> ShardedMap<K, V> {
    /// An empty map with the default hasher and shard count.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `capacity` entries before it allocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, DefaultHashBuilder::default())
    }

    /// An empty map with `shards` shards, rounded up to a power of two.
    ///
    /// # Panics
    ///
    /// If `shards` is zero.
    ///
    /// ```
    /// use racefree::ShardedMap;
    ///
    /// let map: ShardedMap<u64, u64> = ShardedMap::with_shards(12);
    /// assert_eq!(map.shard_count(), 16);
    /// ```
    pub fn with_shards(shards: usize) -> Self {
        Self::with_capacity_hasher_and_shards(0, DefaultHashBuilder::default(), shards)
    }
}

impl<K, V, S> ShardedMap<K, V, S> {
    /// An empty map that hashes keys with `hasher`.
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    /// use std::hash::RandomState;
    ///
    /// let map = ShardedMap::with_hasher(RandomState::new());
    /// map.insert("k", 1);
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// An empty map with room for `capacity` entries, hashing with `hasher`.
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self::with_capacity_hasher_and_shards(capacity, hasher, default_shard_count())
    }

    /// An empty map with room for `capacity` entries, hashing with `hasher`,
    /// with `shards` shards rounded up to a power of two.
    ///
    /// # Panics
    ///
    /// If `shards` is zero or more than 2<sup>16</sup>.
    pub fn with_capacity_hasher_and_shards(capacity: usize, hasher: S, shards: usize) -> Self {
        assert!(
            (1..=1 << 16).contains(&shards),
            "ShardedMap needs between 1 and 65536 shards, got {shards}"
        );
        let shards = shards.next_power_of_two();
        let per_shard = capacity.div_ceil(shards);
        Self {
            shards: (0..shards)
                .map(|_| CachePadded::new(LockedTable::with_capacity(per_shard)))
                .collect(),
            hasher,
        }
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// How many entries each shard holds, in shard order: a way to see
    /// whether a custom hasher spreads keys evenly. Each count is read
    /// without locking, as in [`len`](crate::ConcurrentMap::len).
    ///
    /// ```
    /// use racefree::{ConcurrentMap, ShardedMap};
    ///
    /// let map: ShardedMap<u32, ()> = (0..1000).map(|i| (i, ())).collect();
    /// assert_eq!(map.shard_lengths().iter().sum::<usize>(), 1000);
    /// ```
    pub fn shard_lengths(&self) -> Vec<usize> {
        self.tables().map(LockedTable::len).collect()
    }

    /// The shard that owns `hash`: see [`shard_index`](crate::shard_index)
    /// for why the hash is mixed first.
    fn table_for(&self, hash: u64) -> &LockedTable<K, V> {
        &self.shards[crate::shard_index(hash, self.shards.len())]
    }

    fn tables(&self) -> impl Iterator<Item = &LockedTable<K, V>> {
        self.shards.iter().map(|shard| &**shard)
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for ShardedMap<K, V, S> {
    fn clone(&self) -> Self {
        Self {
            shards: self
                .shards
                .iter()
                .map(|s| CachePadded::new((**s).clone()))
                .collect(),
            hasher: self.hasher.clone(),
        }
    }
}

impl_lock_based_map!(ShardedMap);
