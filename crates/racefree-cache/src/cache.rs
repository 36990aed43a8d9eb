//! The concurrent cache: shards of single-threaded stores, each behind
//! its own lock, with single-flight loading and an eviction listener.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use hashbrown::HashTable;
use racefree::biased_lock::{RwLock, read_biased};
use racefree::{BucketHint, DefaultHashBuilder};

use crate::accesses::{Access, Accesses, DRAIN_AT, Recorded, SLOTS};
use crate::builder::CacheBuilder;
use crate::expiry::Expiry;
use crate::flight::Flight;
use crate::node::Entry;
use crate::policy::{DefaultPolicy, Policy};
use crate::reentry;
use crate::removal::RemovalCause;
use crate::stats::{CacheStats, Counters, HIT_SAMPLE, ReaderCounts};
use crate::store::{Lookup, Removed, Store};

mod loading;

pub(crate) type Weigher<K, V> = Box<dyn Fn(&K, &V) -> u64 + Send + Sync>;
pub(crate) type Listener<K, V> = Box<dyn Fn(K, V, RemovalCause) + Send + Sync>;

/// A bounded concurrent cache.
///
/// Holds at most its capacity: entries count 1 each, or what the
/// [weigher](CacheBuilder::weigher) says. When full, the
/// [policy](crate::policy) chooses what leaves; the default, W-TinyLFU, had
/// the best hit ratio in racefree-bench's comparison.
///
/// Values come out by clone (wrap large values in an [`Arc`]). No method
/// returns a guard, and no user code runs under a lock except
/// [`retain`](Self::retain)'s predicate, which panics rather than deadlock
/// if it calls the cache.
///
/// # Bound
///
/// The capacity is split evenly over the shards, and each shard keeps
/// within its share at every moment, so the cache never holds more than
/// its capacity. The cost: when keys fall unevenly on the shards, a full
/// shard evicts while another has room, so the cache may hold somewhat
/// less. Make a cache with [`shards(1)`](CacheBuilder::shards) for an exact
/// single policy over the whole capacity.
///
/// # Example
///
/// ```
/// use racefree_cache::Cache;
///
/// let cache = Cache::new(2);
/// cache.insert("a", 1);
/// cache.insert("b", 2);
/// assert_eq!(cache.get("a"), Some(1));
/// cache.insert("c", 3); // evicts one entry
/// assert_eq!(cache.len(), 2);
///
/// // Loads on a miss, once, however many threads miss at the same time.
/// assert_eq!(cache.get_or_insert_with("d", || 4), 4);
/// assert_eq!(cache.stats().misses, 1);
/// ```
pub struct Cache<K, V, P = DefaultPolicy, S = DefaultHashBuilder> {
    shards: Box<[CachePadded<Shard<K, V, P>>]>,
    hasher: S,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    expiry: Expiry<K, V>,
    /// The total capacity, split over the shards.
    capacity: AtomicU64,
    /// Lookups under a shared lock not recorded for the policy, for
    /// [`stats`](Self::stats).
    reader_counts: ReaderCounts,
}

struct Shard<K, V, P> {
    /// Lookups take it shared; everything that changes the store (and
    /// applies the recorded lookups to the policy) takes it exclusive.
    ///
    /// racefree's table lock rather than parking_lot's: a lookup names the
    /// lock in a cache line of its own thread's instead of counting itself
    /// in the lock's word, so hits on many cores do not pass the lock's
    /// line between them (see racefree's `rw_lock.rs`, "The bias to
    /// readers").
    state: RwLock<State<K, V, P>>,
    counters: Counters,
    /// Lookups made under the shared lock, waiting for the policy.
    accesses: Accesses,
    /// Copies of the store's length and weight, written under the lock, so
    /// `len` and `weight` take none.
    len: AtomicU64,
    weight: AtomicU64,
    /// Hits found under the shared lock, in steps of [`HIT_SAMPLE`]: a
    /// thread counts its hits in its own cell and adds them here that many
    /// at a time ([`ReaderCounts::hit`]), so that a hit does not write a
    /// line that every reader of the shard reads (the count is padded to a
    /// line of its own, for the same reason). An atomic add, so that no
    /// step is lost and the stats, which add these up, stay exact; one
    /// hit in [`HIT_SAMPLE`] pays for it. The policy learns of them at the
    /// next drain.
    shared_hits: CachePadded<AtomicU64>,
    /// Where the store's key index keeps its buckets, so that a call can
    /// start loading its key's while it takes the lock (racefree's
    /// `bucket_hint.rs`). On a line of its own, which every call reads and
    /// only a write that moves the index writes.
    hint: CachePadded<BucketHint>,
}

/// What a shard's lock guards.
struct State<K, V, P> {
    store: Store<K, V, P>,
    /// Keys whose loader is running.
    flights: HashTable<Pending<K, V>>,
    /// The shard's shared hits the policy has been told of.
    shared_hits_told: u64,
}

struct Pending<K, V> {
    hash: u64,
    key: K,
    flight: Arc<Flight<V>>,
}

/// Splits `total` over `shards` as evenly as possible.
fn share(total: u64, shards: usize, shard: usize) -> u64 {
    let shards = shards as u64;
    total / shards + u64::from((shard as u64) < total % shards)
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    /// A cache of at most `capacity` entries with the default policy and
    /// hasher. [`Cache::builder`] sets the rest.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: such a cache would store nothing. Use
    /// [`Cache::builder`] to get an error instead.
    ///
    /// # Example
    ///
    /// ```
    /// let cache: racefree_cache::Cache<u64, String> = racefree_cache::Cache::new(10_000);
    /// assert_eq!(cache.capacity(), 10_000);
    /// ```
    pub fn new(capacity: u64) -> Self {
        Self::builder(capacity)
            .build()
            .unwrap_or_else(|error| panic!("Cache::new({capacity}): {error}"))
    }

    /// Starts a cache of `capacity` (entries, or weight with a weigher).
    ///
    /// # Example
    ///
    /// ```
    /// use racefree_cache::{Cache, policy::S3Fifo};
    ///
    /// // At most 1 MiB of values, by their length.
    /// let cache: Cache<u32, Vec<u8>, S3Fifo> = Cache::builder(1 << 20)
    ///     .weigher(|_key, value: &Vec<u8>| value.len() as u64)
    ///     .policy::<S3Fifo>()
    ///     .build()?;
    /// cache.insert(1, vec![0; 1000]);
    /// assert_eq!(cache.weight(), 1000);
    /// # Ok::<(), racefree_cache::BuildError>(())
    /// ```
    pub fn builder(capacity: u64) -> CacheBuilder<K, V> {
        CacheBuilder::new(capacity)
    }
}

impl<K, V, P, S> Cache<K, V, P, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    P: Policy,
    S: BuildHasher,
{
    pub(crate) fn from_parts(
        capacity: u64,
        shards: usize,
        hasher: S,
        weigher: Option<Weigher<K, V>>,
        listener: Option<Listener<K, V>>,
        expiry: Expiry<K, V>,
    ) -> Self {
        let idle = expiry.idle();
        let reader_counts = ReaderCounts::new(shards);
        let shards = (0..shards)
            .map(|i| {
                CachePadded::new(Shard {
                    state: RwLock::new(State {
                        store: Store::new(share(capacity, shards, i), idle),
                        flights: HashTable::new(),
                        shared_hits_told: 0,
                    }),
                    shared_hits: CachePadded::default(),
                    accesses: Accesses::default(),
                    counters: Counters::default(),
                    len: AtomicU64::new(0),
                    weight: AtomicU64::new(0),
                    hint: CachePadded::default(),
                })
            })
            .collect();
        Self {
            shards,
            hasher,
            weigher,
            listener,
            expiry,
            capacity: AtomicU64::new(capacity),
            reader_counts,
        }
    }

    /// The address identifies the cache to the re-entrancy check.
    fn id(&self) -> usize {
        (self as *const Self).addr()
    }

    /// Checks that `operation` is not re-entrant, then hashes `key`, finds
    /// its shard, and starts loading its buckets there.
    #[inline]
    #[track_caller]
    fn locate<Q: Hash + ?Sized>(&self, operation: &'static str, key: &Q) -> (u64, &Shard<K, V, P>) {
        reentry::check(self.id(), operation);
        let hash = self.hasher.hash_one(key);
        let shard = self.shard(hash);
        shard.hint.prefetch::<Entry<K, V>>(hash);
        (hash, shard)
    }

    fn shard(&self, hash: u64) -> &Shard<K, V, P> {
        &self.shards[racefree::shard_index(hash, self.shards.len())]
    }

    fn weigh(&self, key: &K, value: &V) -> u64 {
        self.weigher
            .as_ref()
            .map_or(1, |weigher| weigher(key, value))
    }

    /// The time on the cache's clock, in nanoseconds since the cache was
    /// made; 0 while no entry can expire, so that such a cache reads no
    /// clock.
    fn now(&self) -> u64 {
        self.expiry.now()
    }

    /// `now`, read before taking a shard's lock, as the lock's holder must
    /// use it: read again if it was 0. No entry could expire then, but one
    /// given its own time-to-live since may be in this shard, and the lock
    /// orders that entry's [`Expiry::enable`] before this read.
    fn recheck(&self, now: u64) -> u64 {
        if now == 0 { self.now() } else { now }
    }

    /// Runs `f` on a shard under its lock, after removing the entries
    /// expired at `now`, then tells the listener about what left, with the
    /// lock released.
    ///
    /// User code runs inside `f` (a `retain` predicate, `K`'s `Eq`, `V`'s
    /// `Clone`). If it panics, what had already left the shard is still
    /// counted and told to the listener before the panic goes on.
    fn with_shard<R>(
        &self,
        shard: &Shard<K, V, P>,
        now: u64,
        f: impl FnOnce(&mut State<K, V, P>, &Counters, &mut Removed<K, V>) -> R,
    ) -> R {
        let mut removed = Removed::new();
        let result = {
            let mut state = shard.state.write();
            let buckets = state.store.index().num_buckets();
            Self::drain(shard, &mut state);
            let now = self.recheck(now);
            state.store.expire(now, &mut removed);
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                f(&mut state, &shard.counters, &mut removed)
            }));
            let count = |wanted| {
                removed
                    .iter()
                    .filter(|(_, _, cause)| *cause == wanted)
                    .count() as u64
            };
            shard.counters.evicted(count(RemovalCause::Size));
            shard.counters.expired(count(RemovalCause::Expired));
            shard.len.store(state.store.len() as u64, Relaxed);
            shard.weight.store(state.store.weight(), Relaxed);
            shard.hint.follow(state.store.index(), buckets);
            result
        };
        match (result, self.notify(removed)) {
            (Ok(result), Ok(())) => result,
            (Err(payload), _) | (Ok(_), Err(payload)) => panic::resume_unwind(payload),
        }
    }

    /// Applies the lookups readers recorded to the policy, in order, and
    /// counts them; then tells it how many hits readers counted in their
    /// entries. The caller holds the shard's write lock.
    fn drain(shard: &Shard<K, V, P>, state: &mut State<K, V, P>) {
        let shared_hits = shard.shared_hits.load(Relaxed);
        state
            .store
            .on_hits(shared_hits - std::mem::replace(&mut state.shared_hits_told, shared_hits));
        for access in shard.accesses.drain() {
            match access {
                Access::Hit(_) => shard.counters.hit(),
                Access::Miss(_) => shard.counters.miss(),
            }
            state.store.apply(access);
        }
    }

    /// Looks `key` up under the shard's shared lock and records the lookup
    /// for the policy (a hit, in its entry if the policy counts hits
    /// there): `Some` with what it found, or `None` if the call
    /// must take the exclusive lock (an entry to expire or whose
    /// time-to-idle restarts; or, unless `record_miss`, a miss).
    fn read<Q>(
        &self,
        shard: &Shard<K, V, P>,
        hash: u64,
        key: &Q,
        now: u64,
        record_miss: bool,
    ) -> Option<Option<V>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let state = read_biased(&shard.state);
        let now = self.recheck(now);
        if state.store.needs_writer(now) {
            return None;
        }
        let (found, access) = match state.store.lookup(hash, key, now) {
            Lookup::Found(entry) if P::LAZY_HITS => {
                entry.touch();
                let index = racefree::shard_index(hash, self.shards.len());
                if self.reader_counts.hit(index) {
                    shard.shared_hits.fetch_add(HIT_SAMPLE.into(), Relaxed);
                }
                return Some(Some(entry.value.clone()));
            }
            Lookup::Found(entry) => (Some(entry.value.clone()), Access::Hit(entry.slot)),
            Lookup::Absent if record_miss && P::HEARS_MISSES => {
                state.store.prefetch_miss(hash);
                (None, Access::Miss(hash))
            }
            Lookup::Absent if record_miss => {
                self.reader_counts.miss();
                return Some(None);
            }
            Lookup::Absent | Lookup::Expired => return None,
        };
        let recorded = shard.accesses.record(access);
        drop(state);
        if matches!(
            recorded,
            Recorded::Slot(DRAIN_AT | SLOTS) | Recorded::Dropped
        ) {
            if let Some(mut state) = shard.state.try_write() {
                Self::drain(shard, &mut state);
            }
        }
        Some(found)
    }

    /// Tells the listener of every entry in `removed`, each exactly once
    /// even if a call panics; the first panic is returned, to go on once
    /// all are told.
    fn notify(&self, removed: Removed<K, V>) -> thread::Result<()> {
        let mut outcome = Ok(());
        if let Some(listener) = &self.listener {
            for (key, value, cause) in removed {
                let told = panic::catch_unwind(AssertUnwindSafe(|| listener(key, value, cause)));
                outcome = outcome.and(told);
            }
        }
        outcome
    }

    /// The value of `key`, cloned, counting a hit or a miss.
    ///
    /// # Example
    ///
    /// ```
    /// let cache = racefree_cache::Cache::new(100);
    /// cache.insert("k".to_string(), 1);
    /// assert_eq!(cache.get("k"), Some(1));
    /// assert_eq!(cache.get("other"), None);
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (hash, shard) = self.locate("get", key);
        let now = self.now();
        if let Some(found) = self.read(shard, hash, key, now, true) {
            return found;
        }
        self.get_exclusive(shard, hash, key, now)
    }

    /// `get` under the shard's exclusive lock: for lookups that expire
    /// entries or restart a time-to-idle. Kept out of line, so that the
    /// shared lookup does not pay for it.
    #[inline(never)]
    fn get_exclusive<Q>(&self, shard: &Shard<K, V, P>, hash: u64, key: &Q, now: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.with_shard(shard, now, |state, counters, _| {
            let found = state.store.get(hash, key, now).cloned();
            match found {
                Some(_) => counters.hit(),
                None => counters.miss(),
            }
            found
        })
    }

    /// Whether `key` is cached; counts neither a hit nor a miss, and does
    /// not tell the policy.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (hash, shard) = self.locate("contains_key", key);
        let state = read_biased(&shard.state);
        let now = self.now();
        if !state.store.needs_writer(now) {
            return matches!(state.store.lookup(hash, key, now), Lookup::Found(..));
        }
        drop(state);
        self.with_shard(shard, now, |state, _, _| {
            matches!(state.store.lookup(hash, key, now), Lookup::Found(..))
        })
    }

    /// Stores `value` under `key`; the listener gets a replaced value with
    /// [`RemovalCause::Replaced`] and anything evicted to make room with
    /// [`RemovalCause::Size`].
    ///
    /// An entry that weighs more than a shard's share of the capacity is
    /// not stored; the listener gets it at once, as `Size`.
    pub fn insert(&self, key: K, value: V) {
        self.insert_expiring("insert", key, value, None);
    }

    /// Like [`insert`](Self::insert), for an entry that expires `ttl` from
    /// now, whatever the cache's own time-to-live (its time-to-idle still
    /// applies). Works on any cache: one built without expiry settings
    /// starts reading its clock at its first `insert_with_ttl`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use racefree_cache::{Cache, ManualClock};
    ///
    /// let clock = Arc::new(ManualClock::new());
    /// let cache = Cache::builder(100).clock(Arc::clone(&clock)).build()?;
    /// cache.insert_with_ttl("token", "abc", Duration::from_secs(30));
    /// cache.insert("forever", "xyz");
    /// clock.advance(Duration::from_secs(30));
    /// assert_eq!(cache.get("token"), None);
    /// assert_eq!(cache.get("forever"), Some("xyz"));
    /// # Ok::<(), racefree_cache::BuildError>(())
    /// ```
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Duration) {
        self.insert_expiring("insert_with_ttl", key, value, Some(ttl));
    }

    fn insert_expiring(&self, operation: &'static str, key: K, value: V, ttl: Option<Duration>) {
        let (hash, shard) = self.locate(operation, &key);
        let weight = self.weigh(&key, &value);
        if ttl.is_some() {
            self.expiry.enable();
        }
        let now = self.now();
        let live_until = self.expiry.live_until(&key, &value, now, ttl);
        self.with_shard(shard, now, |state, counters, removed| {
            state
                .store
                .insert(hash, key, value, weight, live_until, now, removed);
            counters.inserted();
        });
    }

    /// Removes `key` and returns its value; the listener gets it too, as
    /// [`RemovalCause::Explicit`] (with a clone, as the caller has the
    /// value).
    #[doc(alias = "invalidate")]
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (hash, shard) = self.locate("remove", key);
        let with_listener = self.listener.is_some();
        self.with_shard(shard, self.now(), |state, _, removed| {
            let (key, value) = state.store.remove(hash, key)?;
            if with_listener {
                removed.push((key, value.clone(), RemovalCause::Explicit));
            }
            Some(value)
        })
    }

    /// Keeps only the entries for which `keep` returns true; the listener
    /// gets the others as [`RemovalCause::Explicit`]. Also known as
    /// invalidating by predicate.
    ///
    /// `keep` runs under a shard's lock, one shard at a time: calling the
    /// same cache from it panics (it would deadlock).
    ///
    /// # Example
    ///
    /// ```
    /// let cache = racefree_cache::Cache::new(100);
    /// for user in 0..10 {
    ///     cache.insert(user, format!("profile {user}"));
    /// }
    /// cache.retain(|user, _| user % 2 == 0);
    /// assert_eq!(cache.len(), 5);
    /// ```
    #[doc(alias = "invalidate_entries_if")]
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        reentry::check(self.id(), "retain");
        let now = self.now();
        for shard in self.shards.iter() {
            self.with_shard(shard, now, |state, _, removed| {
                let _scope = reentry::enter(self.id());
                state.store.retain(&mut keep, removed);
            });
        }
    }

    /// Removes every entry; the listener gets each as
    /// [`RemovalCause::Explicit`].
    #[doc(alias = "invalidate_all")]
    pub fn clear(&self) {
        reentry::check(self.id(), "clear");
        let now = self.now();
        for shard in self.shards.iter() {
            self.with_shard(shard, now, |state, _, removed| state.store.clear(removed));
        }
    }

    /// Removes the expired entries of every shard now; the listener gets
    /// each as [`RemovalCause::Expired`].
    ///
    /// An expired entry is never returned, but it is removed (and counted
    /// in [`len`](Self::len) until then) only when a call reaches its shard.
    /// Call this to release expired entries of a cache that is no longer
    /// used much, for instance from a periodic task.
    #[doc(alias = "run_pending_tasks")]
    pub fn remove_expired(&self) {
        reentry::check(self.id(), "remove_expired");
        let now = self.now();
        for shard in self.shards.iter() {
            self.with_shard(shard, now, |_, _, _| ());
        }
    }

    /// Changes the capacity; a smaller one evicts at once (listener cause
    /// [`RemovalCause::Size`]).
    ///
    /// # Panics
    ///
    /// If `capacity` is less than the number of shards, which would leave a
    /// shard unable to hold anything.
    pub fn set_capacity(&self, capacity: u64) {
        reentry::check(self.id(), "set_capacity");
        let shards = self.shards.len();
        assert!(
            capacity >= shards as u64,
            "Cache::set_capacity({capacity}): the capacity must be at least the number of shards ({shards})"
        );
        self.capacity.store(capacity, Relaxed);
        let now = self.now();
        for (i, shard) in self.shards.iter().enumerate() {
            self.with_shard(shard, now, |state, _, removed| {
                state
                    .store
                    .set_capacity(share(capacity, shards, i), removed)
            });
        }
    }

    /// Visits every entry with clones taken one shard at a time, so no lock
    /// is held while the iterator is in use; entries written meanwhile may
    /// or may not be seen.
    ///
    /// # Example
    ///
    /// ```
    /// let cache = racefree_cache::Cache::new(100);
    /// cache.insert(1, "one");
    /// cache.insert(2, "two");
    /// let mut keys: Vec<_> = cache.iter().map(|(key, _)| key).collect();
    /// keys.sort();
    /// assert_eq!(keys, [1, 2]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (K, V)> + '_ {
        reentry::check(self.id(), "iter");
        self.shards.iter().flat_map(|shard| {
            self.with_shard(shard, self.now(), |state, _, _| {
                state
                    .store
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>()
            })
        })
    }

    /// The counters: hits, misses, insertions and evictions. Takes no
    /// lock; exact when no call runs.
    pub fn stats(&self) -> CacheStats {
        let mut stats = CacheStats::default();
        for shard in self.shards.iter() {
            shard.counters.add_to(&mut stats);
            let (hits, misses) = shard.accesses.uncounted();
            stats.hits += hits + shard.shared_hits.load(Relaxed);
            stats.misses += misses;
        }
        self.reader_counts.add_to(&mut stats);
        stats
    }

    /// The number of entries. Takes no lock; exact when no call runs, and
    /// counting expired entries not yet removed (see
    /// [`remove_expired`](Self::remove_expired)).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.len.load(Relaxed) as usize)
            .sum()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total weight of the entries (their number, without a weigher).
    pub fn weight(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.weight.load(Relaxed))
            .sum()
    }

    /// The capacity: the most weight the cache holds.
    pub fn capacity(&self) -> u64 {
        self.capacity.load(Relaxed)
    }

    /// How many independently locked shards the capacity is split over.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The policy's name, for reports ("W-TinyLFU").
    pub fn policy_name(&self) -> &'static str {
        <P as crate::policy::sealed::Policy>::NAME
    }
}

impl<K, V, P, S> Extend<(K, V)> for Cache<K, V, P, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    P: Policy,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl<K, V, P, S> fmt::Debug for Cache<K, V, P, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    P: Policy,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("policy", &self.policy_name())
            .field("len", &self.len())
            .field("weight", &self.weight())
            .field("capacity", &self.capacity())
            .field("shards", &self.shard_count())
            .field("time_to_live", &self.expiry.settings.time_to_live)
            .field("time_to_idle", &self.expiry.settings.time_to_idle)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}
