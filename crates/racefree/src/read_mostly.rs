//! [`ReadMostlyMap`]: reads take no lock and write nothing shared.

mod trie;

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::ControlFlow;
use std::panic::{RefUnwindSafe, UnwindSafe};

use crate::util::reentry;
use crate::{Action, ConcurrentMap, DefaultHashBuilder};
use trie::{Change, KeyArg, Trie};

/// A map for data written once and read many times, or written by threads
/// on disjoint keys (Go's `sync.Map` cases): a lookup takes no lock and
/// writes no shared memory, so reads scale with cores.
///
/// # Design
///
/// A concurrent hash trie, the design Go 1.24 adopted for `sync.Map`:
/// 16-way nodes indexed by successive hash bits, with an entry (or, for a
/// full 64-bit hash collision, a short chain) in each used slot. A reader
/// walks atomic pointers down the trie; a writer locks only the node whose
/// slot it changes, so writes to different parts of the map proceed in
/// parallel. Entries are immutable: a write publishes a new entry and
/// retires the old one to a per-map [seize](https://docs.rs/seize)
/// collector, which frees it once no reader can still see it. Calls that
/// find nothing to change read as a lookup does, with no lock (as Go's
/// `sync.Map` does): `get_or_insert` and `get_or_insert_with` of a present
/// key; `remove` and `update` of an absent one; `compare_and_swap` and
/// `compare_and_remove` that find another value. On Go's
/// LoadAndDeleteBalanced case (mostly removals of absent keys) this took
/// ReadMostlyMap from 47 to 85 M calls/s on one thread, and from 54 to
/// between 120 and 170 at 2 and 8 threads; on CompareAndSwapCollision at 8
/// threads, from 17 to 19 M calls/s to 53 to 57.
///
/// A writer whose key sits in one of the 16 root nodes (every key of a
/// small map, and the hot keys of many) takes no reclamation guard: roots
/// are never freed, and under the root's lock nothing the slot links to can
/// be retired, so it saves the guard's read-modify-write and never holds
/// back other threads' reclamation. A writer that must descend below the
/// roots takes a guard for the descent. Each thread keeps the memory of up
/// to 32 KiB of reclaimed entries for its next writes, because the
/// collector frees entries in batches, more at once than the allocator's
/// per-thread cache holds. Together with reclaiming in batches of 32 KiB
/// (one process-wide barrier each), these took many threads overwriting one
/// key (Go's SwapCollision) from 0.20 of `LockedMap`'s speed to 0.41 to
/// 0.59.
///
/// Go's older `sync.Map` (a read-only map plus a locked "dirty" map,
/// promoted after enough misses) makes a store of a new key copy the
/// whole read-only map now and then, and keeps deleted keys until the next
/// promotion (Go issue 40999). The trie has neither cost: a store of a
/// new key allocates one entry, and a removed entry is freed once readers
/// are done with it. A left-right map was ruled out too: every write waits
/// for all readers to move to the other copy, and memory doubles.
///
/// # When to use it
///
/// Measured with racefree-bench on Go's `sync.Map` cases on 2 cores
/// (BENCHMARKS.md): 1024 `String` keys read by 2 threads took 13 to 14 ns
/// a hit, 4.3 to 5.3 times [`LockedMap`](crate::LockedMap)'s throughput
/// (Go's own `sync.Map`, measured on the same machine, took 20 ns), and
/// reads keep scaling where a lock's cache line stops them. On one thread a
/// lookup costs 1.3 to 1.7 times a `LockedMap` lookup (the guard and the
/// walk).
///
/// Writes allocate an entry each: on one thread, Go's cases that store
/// new keys ran at 0.39 to 0.44 of `LockedMap`'s speed, and iterating 1024
/// entries at 0.39 to 0.43. Many threads overwriting one hot key ran at
/// 0.41 to 0.59 of `LockedMap`'s speed (Go's `sync.Map`, which allocates on
/// every overwrite too, ran at 0.67 to 1.02 of its own locked map): use
/// [`ShardedMap`](crate::ShardedMap) or `LockedMap` for write-heavy data.
///
/// # Consistency
///
/// - Every single-key operation is linearizable.
/// - [`for_each`](ConcurrentMap::for_each) walks the live trie, taking no
///   lock: every key present for the whole call is visited exactly once,
///   with a value it held during the call, and the callback may call any
///   method of the map.
/// - [`len`](ConcurrentMap::len) reads one counter, which writers update:
///   exact when no write is under way.
/// - [`retain`](ConcurrentMap::retain) and [`clear`](ConcurrentMap::clear)
///   lock one node at a time, so a write racing them may survive them,
///   as with [`ShardedMap`](crate::ShardedMap)'s shards.
///
/// # Closures
///
/// Closures run once per call. Those of `update`, `compute`,
/// `get_or_insert_with` and `retain` run under the lock of the node that
/// holds the key; `get_with`'s runs with no lock. A closure that calls back
/// into the same map panics with a message naming both operations.
/// `compare_and_swap` and `compare_and_remove` compare values first with
/// no lock, then again under it if they matched, so a call that succeeds
/// runs `V`'s `PartialEq` twice.
///
/// # Memory
///
/// Values that leave the map are returned as clones (`V: Clone`), because
/// a reader may still be looking at the original. The original is dropped
/// once no reader can see it: each thread's removed entries, and nodes
/// left empty, are reclaimed in batches of about 32 KiB of entries (1024
/// for a `u64 → u64` map; from 64 to 2048 by entry size), so up to a batch
/// per writing thread stays alive until that thread writes more,
/// [`clear`](ConcurrentMap::clear) or [`retain`](ConcurrentMap::retain)
/// runs (they reclaim at once), or the map is dropped. Memory follows the
/// live entries. Each entry is its own allocation: a `u64 → u64` map takes
/// 84 bytes an entry at 1 M entries, against 36 for a
/// [`LockedMap`](crate::LockedMap), and after removing all 1 M entries it
/// held 93 to 187 KB in racefree-bench's memory runs.
///
/// Each thread also keeps the memory of up to 32 KiB of reclaimed entries
/// of each of up to 4 entry sizes, for its next entries; it goes back to
/// the allocator when the thread exits. Together, a writing thread holds at
/// most about 210 KiB beyond the live entries of a map with small entries
/// (a batch of emptied nodes, the batch's own records and the reused
/// memory; more if its values own heap memory).
///
/// # Examples
///
/// ```
/// use racefree::{ConcurrentMap, ReadMostlyMap};
/// use std::thread;
///
/// let settings = ReadMostlyMap::new();
/// settings.insert("timeout_ms", 500);
/// thread::scope(|s| {
///     for _ in 0..4 {
///         // Readers take no lock: they never wait for each other.
///         s.spawn(|| assert_eq!(settings.get("timeout_ms"), Some(500)));
///     }
/// });
/// ```
pub struct ReadMostlyMap<K, V, S = DefaultHashBuilder> {
    trie: Trie<K, V>,
    hasher: S,
}

impl<K, V> ReadMostlyMap<K, V> {
    /// An empty map with the default hasher.
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }

    /// The same as [`new`](Self::new): the trie grows as keys arrive and
    /// has no capacity to reserve. For a drop-in change from the other maps.
    pub fn with_capacity(_capacity: usize) -> Self {
        Self::new()
    }
}

// A panic in a closure leaves the trie consistent (no poisoning), so a map
// may be used across `catch_unwind`, as std's locks may.
impl<K: RefUnwindSafe, V: RefUnwindSafe, S: RefUnwindSafe> RefUnwindSafe
    for ReadMostlyMap<K, V, S>
{
}
impl<K: RefUnwindSafe, V: RefUnwindSafe, S: RefUnwindSafe> UnwindSafe for ReadMostlyMap<K, V, S> {}

impl<K, V, S> ReadMostlyMap<K, V, S> {
    /// An empty map that hashes keys with `hasher`.
    pub fn with_hasher(hasher: S) -> Self {
        Self {
            trie: Trie::new(),
            hasher,
        }
    }

    /// The same as [`with_hasher`](Self::with_hasher): the trie grows as
    /// keys arrive and has no capacity to reserve. For a drop-in change
    /// from the other maps.
    pub fn with_capacity_and_hasher(_capacity: usize, hasher: S) -> Self {
        Self::with_hasher(hasher)
    }

    /// The map's hasher.
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    fn id(&self) -> usize {
        self as *const Self as usize
    }
}

impl<K, V, S> ReadMostlyMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// Checks for re-entry and hashes `key`.
    fn locate<Q: Hash + ?Sized>(&self, operation: &'static str, key: &Q) -> u64 {
        reentry::check(self.id(), "ReadMostlyMap", operation);
        self.hasher.hash_one(key)
    }

    /// `decide`, run for `key` under its node's lock with the re-entrancy
    /// scope of `operation`: for the calls that lock whatever they find
    /// (`insert`, `compute`), which own their key.
    fn modify<R>(
        &self,
        operation: &'static str,
        key: K,
        decide: impl FnOnce(Option<&V>) -> (Change<V>, R),
    ) -> R {
        let hash = self.locate(operation, &key);
        self.modify_located(operation, hash, KeyArg::Owned(key), decide)
    }

    /// [`modify`](Self::modify), for a caller that has already located
    /// `key` (its hash is `hash`), owned or borrowed.
    fn modify_located<Q, R>(
        &self,
        operation: &'static str,
        hash: u64,
        key: KeyArg<'_, K, Q>,
        decide: impl FnOnce(Option<&V>) -> (Change<V>, R),
    ) -> R
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let _scope = reentry::enter(self.id(), operation);
        self.trie.modify(hash, key, decide)
    }

    /// Whether `key` holds `current`, read without a lock: a compare that
    /// fails here takes effect at this read and needs no lock (Go's
    /// `sync.Map` checks first too). The comparison runs in `operation`'s
    /// re-entrancy scope, as it does under the lock.
    fn holds<Q>(&self, hash: u64, key: &Q, current: &V, operation: &'static str) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: PartialEq,
    {
        let _scope = reentry::enter(self.id(), operation);
        self.trie.get(hash, key, |value| value == current) == Some(true)
    }
}

impl<K, V, S> ConcurrentMap<K, V> for ReadMostlyMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    fn get_with<Q, R, F>(&self, key: &Q, f: F) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        F: FnOnce(&V) -> R + Send,
        R: Send,
    {
        let hash = self.locate("get_with", key);
        let _scope = reentry::enter(self.id(), "get_with");
        self.trie.get(hash, key, f)
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: Clone + Send,
    {
        let hash = self.locate("get", key);
        self.trie.get(hash, key, V::clone)
    }

    fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
    {
        let hash = self.locate("contains_key", key);
        self.trie.get(hash, key, |_| ()).is_some()
    }

    fn insert(&self, key: K, value: V) -> Option<V> {
        self.modify("insert", key, |old| (Change::Set(value), old.cloned()))
    }

    fn get_or_insert(&self, key: K, value: V) -> (V, bool)
    where
        V: Clone,
    {
        let hash = self.locate("get_or_insert", &key);
        // A present key is read without a lock, as `get` reads it (Go's
        // `sync.Map` does the same): only a store locks.
        if let Some(found) = self.trie.get(hash, &key, V::clone) {
            return (found, true);
        }
        self.modify_located("get_or_insert", hash, KeyArg::Owned(key), |old| match old {
            Some(old) => (Change::Keep, (old.clone(), true)),
            None => (Change::Set(value.clone()), (value, false)),
        })
    }

    fn get_or_insert_with<F>(&self, key: K, f: F) -> V
    where
        V: Clone,
        F: FnOnce() -> V + Send,
    {
        let hash = self.locate("get_or_insert_with", &key);
        if let Some(found) = self.trie.get(hash, &key, V::clone) {
            return found;
        }
        self.modify_located(
            "get_or_insert_with",
            hash,
            KeyArg::Owned(key),
            |old| match old {
                Some(old) => (Change::Keep, old.clone()),
                None => {
                    let value = f();
                    (Change::Set(value.clone()), value)
                }
            },
        )
    }

    fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
    {
        let hash = self.locate("remove", key);
        // An absent key is seen without a lock: the call takes effect there.
        self.trie.get(hash, key, |_| ())?;
        self.modify_located("remove", hash, KeyArg::Borrowed(key), |old| {
            (Change::Remove, old.cloned())
        })
    }

    fn compare_and_swap<Q>(&self, key: &Q, current: &V, new: V) -> Result<(), V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: PartialEq + Sync,
    {
        let hash = self.locate("compare_and_swap", key);
        if !self.holds(hash, key, current, "compare_and_swap") {
            return Err(new);
        }
        self.modify_located(
            "compare_and_swap",
            hash,
            KeyArg::Borrowed(key),
            |old| match old {
                Some(old) if old == current => (Change::Set(new), Ok(())),
                _ => (Change::Keep, Err(new)),
            },
        )
    }

    fn compare_and_remove<Q>(&self, key: &Q, current: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        V: PartialEq + Sync,
    {
        let hash = self.locate("compare_and_remove", key);
        if !self.holds(hash, key, current, "compare_and_remove") {
            return false;
        }
        self.modify_located(
            "compare_and_remove",
            hash,
            KeyArg::Borrowed(key),
            |old| match old {
                Some(old) if old == current => (Change::Remove, true),
                _ => (Change::Keep, false),
            },
        )
    }

    fn update<Q, F>(&self, key: &Q, mut f: F) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        F: FnMut(&V) -> V + Send,
    {
        let hash = self.locate("update", key);
        // An absent key is seen without a lock, as `remove` sees it.
        if self.trie.get(hash, key, |_| ()).is_none() {
            return false;
        }
        self.modify_located("update", hash, KeyArg::Borrowed(key), |old| match old {
            Some(old) => (Change::Set(f(old)), true),
            None => (Change::Keep, false),
        })
    }

    fn compute<F>(&self, key: K, mut f: F) -> Option<V>
    where
        F: FnMut(Option<&V>) -> Action<V> + Send,
    {
        self.modify("compute", key, |old| match f(old) {
            Action::Keep => (Change::Keep, None),
            Action::Set(value) => (Change::Set(value), old.cloned()),
            Action::Remove => (Change::Remove, old.cloned()),
        })
    }

    fn for_each<F>(&self, mut f: F)
    where
        K: Clone,
        V: Clone,
        F: FnMut(&K, &V) -> ControlFlow<()> + Send,
    {
        // No scope: the walk holds no lock, so the callback may call the map.
        reentry::check(self.id(), "ReadMostlyMap", "for_each");
        self.trie.for_each(&mut f);
    }

    fn retain<F>(&self, mut f: F)
    where
        F: FnMut(&K, &V) -> bool + Send,
    {
        reentry::check(self.id(), "ReadMostlyMap", "retain");
        let _scope = reentry::enter(self.id(), "retain");
        self.trie.retain(&mut f);
    }

    fn len(&self) -> usize {
        self.trie.len()
    }

    fn clear(&self) {
        reentry::check(self.id(), "ReadMostlyMap", "clear");
        self.trie.retain(&mut |_, _| false);
    }
}

impl<K, V, S> fmt::Debug for ReadMostlyMap<K, V, S>
where
    K: fmt::Debug,
    V: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The walk takes no lock, so this is safe inside the map's closures.
        let mut entries = f.debug_map();
        self.trie.for_each(&mut |k, v| {
            entries.entry(k, v);
            ControlFlow::Continue(())
        });
        entries.finish()
    }
}

impl<K, V, S: Default> Default for ReadMostlyMap<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> FromIterator<(K, V)> for ReadMostlyMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Default,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::default();
        map.extend(iter);
        map
    }
}

impl<K, V, S> Extend<(K, V)> for ReadMostlyMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            ConcurrentMap::insert(&*self, key, value);
        }
    }
}

impl<K, V, S> Clone for ReadMostlyMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// A new map with the same entries (a snapshot, as `for_each` sees them).
    fn clone(&self) -> Self {
        let copy = Self::with_hasher(self.hasher.clone());
        self.trie.for_each(&mut |k, v| {
            ConcurrentMap::insert(&copy, k.clone(), v.clone());
            ControlFlow::Continue(())
        });
        copy
    }
}
