//! One hash table (a [`GrowingTable`], which grows over many inserts
//! rather than in one) behind one reader-writer lock: the building block of
//! [`LockedMap`](crate::LockedMap) (one table) and
//! [`ShardedMap`](crate::ShardedMap) (many).
//!
//! Every method takes the key's hash, computed once by the map, and the map's
//! hasher for when the table grows or shrinks. No method hands out a
//! reference that outlives the lock.

// One `unsafe`: `WriteGuard::release` moves the lock's guard out of a guard
// it will not drop.
#![allow(unsafe_code)]

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::mem;
use std::ops::{ControlFlow, Deref, DerefMut};
use std::sync::atomic::Ordering::Relaxed;

use crate::Action;
use crate::bucket_hint::BucketHint;
use crate::growing_table::Entry;
use crate::growing_table::{GrowingTable, Shape};
use crate::util::shrink::shrunk_capacity;
use crate::util::sync::{AtomicUsize, RwLock, RwLockWriteGuard, read_biased, release_write};

/// `repr(C)` to keep the fields in this order: the lock, the table's
/// header and the length, which every call writes, share the first 64
/// bytes, so a call on a table last used by another core moves one cache
/// line to this one, not two; what every call reads but only rare calls
/// write has a line of its own ([`ReadMostly`]).
#[repr(C)]
pub(crate) struct LockedTable<K, V> {
    /// The entries, each key once.
    table: RwLock<GrowingTable<(K, V)>>,
    /// A copy of `table.len()`, so that `len()` takes no lock. Written only
    /// through [`WriteGuard`], which stores it when the lock is released
    /// (also on unwind), so it equals the table's length whenever the lock
    /// is free. `Relaxed`: it is an estimate that publishes no other memory.
    len: AtomicUsize,
    /// The prefetch hint and the reserved capacity, on the next line.
    read_mostly: ReadMostly,
}

/// A table's fields that calls read and rarely write, on a cache line of
/// their own: it stays in every core's cache while the lock's line moves
/// between them, so a call reads the hint at once and its prefetches
/// overlap the wait for the lock's line. (With the hint beside the lock,
/// ShardedMap lost a fifth of its read-heavy throughput at 2 threads.)
#[repr(C, align(64))]
struct ReadMostly {
    /// Where the table's buckets are, so that a call can prefetch its key's
    /// before it takes the lock. Written when the table moves.
    hint: BucketHint,
    /// The capacity the table was made with, below which removals never
    /// shrink it ([`shrunk_capacity`]);
    /// [`shrink_to_fit`](LockedTable::shrink_to_fit) and
    /// [`clear`](LockedTable::clear) may go below it. Never changes.
    reserved: usize,
}

/// The write lock, which refreshes the length copy and the bucket hint
/// when released.
///
/// The calls that write [`run`](Self::run) under it, which ends with
/// [`release`](Self::release) rather than a drop: the compiler keeps a
/// drop out of line in most of them, which cost about 35 instructions a
/// write (callgrind). A drop, as on unwinding, does the same work.
struct WriteGuard<'a, K, V> {
    table: RwLockWriteGuard<'a, GrowingTable<(K, V)>>,
    len: &'a AtomicUsize,
    hint: &'a BucketHint,
    /// The table's shape when the lock was taken, to tell if it moved.
    before: Shape,
}

impl<K, V> Deref for WriteGuard<'_, K, V> {
    type Target = GrowingTable<(K, V)>;
    fn deref(&self) -> &Self::Target {
        &self.table
    }
}

impl<K, V> DerefMut for WriteGuard<'_, K, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.table
    }
}

impl<K, V> WriteGuard<'_, K, V> {
    /// Stores the length and refreshes the hint, before the lock goes.
    #[inline(always)]
    fn publish(&self) {
        self.len.store(self.table.len(), Relaxed);
        self.hint.refresh(&self.table, self.before);
    }

    /// Runs `f` on the table, then releases the lock inline.
    #[inline(always)]
    fn run<R>(mut self, f: impl FnOnce(&mut GrowingTable<(K, V)>) -> R) -> R {
        let result = f(&mut self);
        self.release();
        result
    }

    /// Releases the lock, inline.
    #[inline(always)]
    fn release(self) {
        let this = mem::ManuallyDrop::new(self);
        this.publish();
        // SAFETY: `this` is never dropped or used again, so the lock's
        // guard read out of it is the only one.
        let table = unsafe { std::ptr::read(&this.table) };
        release_write(table);
    }
}

impl<K, V> Drop for WriteGuard<'_, K, V> {
    fn drop(&mut self) {
        self.publish();
    }
}

/// Rehashes an entry when the table resizes.
fn rehash<K: Hash, V, S: BuildHasher>(hasher: &S) -> impl Fn(&(K, V)) -> u64 + '_ {
    move |(k, _)| hasher.hash_one(k)
}

/// Matches an entry by a borrowed form of its key.
fn matches<K: Borrow<Q>, V, Q: Eq + ?Sized>(key: &Q) -> impl Fn(&(K, V)) -> bool + '_ {
    move |(k, _)| k.borrow() == key
}

impl<K, V> LockedTable<K, V> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let table = GrowingTable::with_capacity(capacity);
        Self {
            read_mostly: ReadMostly {
                hint: BucketHint::default(),
                reserved: table.capacity(),
            },
            table: RwLock::new(table),
            len: AtomicUsize::new(0),
        }
    }

    /// The write lock, taken after prefetching `hash`'s lines.
    fn write_for(&self, hash: u64) -> WriteGuard<'_, K, V> {
        self.read_mostly.hint.prefetch::<(K, V)>(hash);
        self.write()
    }

    fn write(&self) -> WriteGuard<'_, K, V> {
        let table = self.table.write();
        WriteGuard {
            before: table.shape(),
            table,
            len: &self.len,
            hint: &self.read_mostly.hint,
        }
    }

    /// The number of entries when the lock was last released.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.table.read().capacity()
    }

    pub(crate) fn get_with<Q, R>(&self, hash: u64, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.read_mostly.hint.prefetch::<(K, V)>(hash);
        let table = read_biased(&self.table);
        table.find(hash, matches(key)).map(|(_, v)| f(v))
    }

    pub(crate) fn insert<S>(&self, hasher: &S, hash: u64, key: K, value: V) -> Option<V>
    where
        K: Hash + Eq,
        S: BuildHasher,
    {
        self.write_for(hash).run(|table| {
            match table.entry(hash, |(k, _)| *k == key, rehash(hasher)) {
                Entry::Occupied(mut entry) => Some(mem::replace(&mut entry.get_mut().1, value)),
                Entry::Vacant(entry) => {
                    entry.insert((key, value));
                    None
                }
            }
        })
    }

    /// Returns the value for `key`, first storing `make()` if it is absent,
    /// and whether it was present. Hits take only the read lock.
    pub(crate) fn get_or_insert_with<S>(
        &self,
        hasher: &S,
        hash: u64,
        key: K,
        make: impl FnOnce() -> V,
    ) -> (V, bool)
    where
        K: Hash + Eq,
        V: Clone,
        S: BuildHasher,
    {
        if let Some(found) = self.get_with(hash, &key, V::clone) {
            return (found, true);
        }
        // `get_with` has just prefetched the key's lines.
        self.write().run(
            |table| match table.entry(hash, |(k, _)| *k == key, rehash(hasher)) {
                Entry::Occupied(entry) => (entry.get().1.clone(), true),
                Entry::Vacant(entry) => {
                    let value = make();
                    (entry.insert((key, value)).get().1.clone(), false)
                }
            },
        )
    }

    pub(crate) fn remove<Q, S>(&self, hasher: &S, hash: u64, key: &Q) -> Option<V>
    where
        K: Borrow<Q> + Hash,
        Q: Eq + ?Sized,
        S: BuildHasher,
    {
        self.remove_if(hasher, hash, key, |_| true)
    }

    /// Removes `key` if it is present and `condition(value)` holds.
    pub(crate) fn remove_if<Q, S>(
        &self,
        hasher: &S,
        hash: u64,
        key: &Q,
        condition: impl FnOnce(&V) -> bool,
    ) -> Option<V>
    where
        K: Borrow<Q> + Hash,
        Q: Eq + ?Sized,
        S: BuildHasher,
    {
        self.write_for(hash).run(|table| {
            let removed = match table.find_entry(hash, matches(key)) {
                Some(entry) if condition(&entry.get().1) => Some(entry.remove().0.1),
                _ => None,
            };
            if removed.is_some() {
                self.shrink_if_sparse(table, hasher);
            }
            removed
        })
    }

    pub(crate) fn compare_and_swap<Q>(
        &self,
        hash: u64,
        key: &Q,
        current: &V,
        new: V,
    ) -> Result<(), V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
        V: PartialEq,
    {
        self.write_for(hash)
            .run(|table| match table.find_mut(hash, matches(key)) {
                Some((_, value)) if *value == *current => {
                    *value = new;
                    Ok(())
                }
                _ => Err(new),
            })
    }

    pub(crate) fn update<Q>(&self, hash: u64, key: &Q, f: impl FnOnce(&V) -> V) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.write_for(hash)
            .run(|table| match table.find_mut(hash, matches(key)) {
                Some((_, value)) => {
                    *value = f(value);
                    true
                }
                None => false,
            })
    }

    pub(crate) fn compute<S>(
        &self,
        hasher: &S,
        hash: u64,
        key: K,
        f: impl FnOnce(Option<&V>) -> Action<V>,
    ) -> Option<V>
    where
        K: Hash + Eq,
        S: BuildHasher,
    {
        self.write_for(hash).run(|table| {
            let previous = match table.entry(hash, |(k, _)| *k == key, rehash(hasher)) {
                Entry::Occupied(mut entry) => match f(Some(&entry.get().1)) {
                    Action::Keep => None,
                    Action::Set(value) => Some(mem::replace(&mut entry.get_mut().1, value)),
                    Action::Remove => Some(entry.remove().0.1),
                },
                Entry::Vacant(entry) => {
                    if let Action::Set(value) = f(None) {
                        entry.insert((key, value));
                    }
                    None
                }
            };
            self.shrink_if_sparse(table, hasher);
            previous
        })
    }

    /// Calls `f` on a copy of the entries, taken under the read lock and
    /// visited after it is released, so that `f` may call into the map.
    pub(crate) fn for_each(&self, f: &mut impl FnMut(&K, &V) -> ControlFlow<()>) -> ControlFlow<()>
    where
        K: Clone,
        V: Clone,
    {
        let copy: Vec<(K, V)> = self.table.read().iter().cloned().collect();
        copy.iter().try_for_each(|(k, v)| f(k, v))
    }

    pub(crate) fn retain<S>(&self, hasher: &S, f: &mut impl FnMut(&K, &V) -> bool)
    where
        K: Hash,
        S: BuildHasher,
    {
        let mut table = self.write();
        table.retain(|(k, v)| f(k, v));
        self.shrink_if_sparse(&mut table, hasher);
    }

    /// Empties the table and gives its memory back. The entries are dropped
    /// after the lock is released.
    pub(crate) fn clear(&self) {
        let old = mem::take(&mut *self.write());
        drop(old);
    }

    pub(crate) fn shrink_to_fit<S>(&self, hasher: &S)
    where
        K: Hash,
        S: BuildHasher,
    {
        self.write().shrink_to(0, rehash(hasher));
    }

    /// After a write that may remove: moves on a growing table, and gives
    /// memory back once a table is mostly empty ([`shrunk_capacity`]).
    fn shrink_if_sparse<S>(&self, table: &mut GrowingTable<(K, V)>, hasher: &S)
    where
        K: Hash,
        S: BuildHasher,
    {
        table.keep_growing(rehash(hasher));
        // Not while growing: the shrink would finish the move at once.
        if !table.is_growing()
            && let Some(capacity) =
                shrunk_capacity(table.len(), table.capacity(), self.read_mostly.reserved)
        {
            table.shrink_to(capacity, rehash(hasher));
        }
    }

    pub(crate) fn debug_entries(&self, out: &mut fmt::DebugMap<'_, '_>)
    where
        K: fmt::Debug,
        V: fmt::Debug,
    {
        out.entries(self.table.read().iter().map(|(k, v)| (k, v)));
    }
}

impl<K: Clone, V: Clone> Clone for LockedTable<K, V> {
    fn clone(&self) -> Self {
        let table = self.table.read().clone();
        Self {
            len: AtomicUsize::new(table.len()),
            read_mostly: ReadMostly {
                hint: BucketHint::default(),
                reserved: self.read_mostly.reserved,
            },
            table: RwLock::new(table),
        }
    }
}

#[cfg(all(
    test,
    target_pointer_width = "64",
    not(any(racefree_loom, racefree_shuttle))
))]
mod tests {
    use super::*;

    /// The lock, the table's header and the length share the first cache
    /// line, and the read-mostly fields have the second (see the struct's
    /// docs); a new field in the first would push one of them out.
    #[test]
    fn what_every_call_writes_fits_in_one_cache_line() {
        type Table = LockedTable<u64, String>;
        assert!(mem::offset_of!(Table, len) + mem::size_of::<AtomicUsize>() <= 64);
        assert_eq!(mem::offset_of!(Table, read_mostly), 64);
        assert_eq!(mem::size_of::<Table>(), 128);
    }
}
