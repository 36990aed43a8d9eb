//! [`BucketHint`]: where a locked table's buckets are, so that a call can
//! start loading its key's before it takes the lock.

use std::mem;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use allocator_api2::alloc::Allocator;
use hashbrown::HashTable;

use crate::growing_table::{GrowingTable, Shape};
use crate::util::prefetch::prefetch;

/// Tables with fewer buckets get no hint: they stay in the cache anyway,
/// and one this small can start and finish growing within one call,
/// where [`Shape`] would not see it move.
const MIN_BUCKETS: usize = 256;

/// The address of a table's control bytes and its bucket count, which
/// calls read without the lock, to start loading their key's control bytes
/// and bucket while they take it. Without it a lookup's two cache misses
/// follow the lock's atomic read-modify-write and each other; with it they
/// overlap both. Measured on 2 cores with a 2^21-entry map, one thread:
/// lookups and inserts 20 to 30 % faster.
///
/// One word, so that the lock, the table's header, its length and this
/// fit in one cache line: the address in the low 56 bits (user-space
/// addresses on 64-bit systems fit in 56), log2 of the bucket count in
/// the top 8, 0 while unknown. Written under the table's write lock when
/// the table has moved. `Relaxed`, and std's atomic rather than the model
/// checkers': the addresses are only prefetched, never dereferenced, so a
/// stale hint costs a wasted load and nothing is published through it.
///
/// racefree-cache keeps one per shard for its own hashbrown tables
/// ([`follow`](Self::follow)); not part of racefree's API.
#[derive(Debug, Default)]
pub struct BucketHint(AtomicU64);

/// The address bits of the hint word.
const ADDRESS: u64 = (1 << 56) - 1;

impl BucketHint {
    /// Prefetches what `hash`'s lookup reads first, for entries of type
    /// `T`: its control bytes, and its first four buckets, where the key
    /// nearly always is (bucket `i` ends `i` buckets below the control
    /// bytes, so buckets `home` to `home + 3` lie between the starts of
    /// the two). Prefetching the fourth as well as the first made inserts
    /// and lookups about 5 to 10 % faster on a 2^21-entry `u64` table.
    #[inline]
    pub fn prefetch<T>(&self, hash: u64) {
        let Some((ctrl, mask)) = unpack(self.0.load(Relaxed)) else {
            return;
        };
        let home = hash as usize & mask;
        let bucket = |i: usize| ctrl.wrapping_sub((i + 1).wrapping_mul(mem::size_of::<T>()));
        prefetch(ctrl.wrapping_add(home));
        prefetch(bucket(home));
        prefetch(bucket(home + 3));
    }

    /// Takes the table's new address if it moved since it had `before`'s
    /// shape, or if it had none yet. Call under the write lock.
    #[inline]
    pub(crate) fn refresh<T>(&self, table: &GrowingTable<T>, before: Shape) {
        let shape = table.shape();
        self.update(shape != before, shape.buckets, || table.bucket_layout());
    }

    /// [`refresh`](Self::refresh) for a plain hashbrown table, which moves
    /// only when its bucket count changes: takes its address if it had
    /// another bucket count than `buckets_before`, or if the hint has none
    /// yet. Call under the lock that guards `table`.
    #[inline]
    pub fn follow<T>(&self, table: &HashTable<T>, buckets_before: usize) {
        let buckets = table.num_buckets();
        self.update(buckets != buckets_before, buckets, || layout(table));
    }

    /// Takes the address `layout` gives if the table `moved`, or if the
    /// hint has none yet for a table of `buckets` big enough to get one.
    #[inline]
    fn update(&self, moved: bool, buckets: usize, layout: impl FnOnce() -> Option<(usize, usize)>) {
        if moved || (self.0.load(Relaxed) == 0 && buckets >= MIN_BUCKETS) {
            self.0.store(word(layout()), Relaxed);
        }
    }
}

/// The hint word for a table laid out as `layout` says.
#[cold]
fn word(layout: Option<(usize, usize)>) -> u64 {
    match layout {
        Some((ctrl, mask)) if mask + 1 >= MIN_BUCKETS && (ctrl as u64) & !ADDRESS == 0 => {
            (u64::from((mask + 1).trailing_zeros()) << 56) | ctrl as u64
        }
        _ => 0,
    }
}

/// The address of `table`'s control bytes (bucket `i` ends `i` buckets
/// below it) and its bucket mask, a hash's first bucket being
/// `hash & mask`. Found from any occupied bucket, so `None` while the
/// table is empty (and for a zero-sized `T`, whose buckets take no room).
/// Only for prefetching: an address that no longer matches the table
/// costs a wasted hint.
pub(crate) fn layout<T, A: Allocator>(table: &HashTable<T, A>) -> Option<(usize, usize)> {
    if mem::size_of::<T>() == 0 {
        return None;
    }
    let index = table.iter_buckets().next()?;
    let bucket = table.get_bucket(index)?;
    let ctrl = std::ptr::from_ref(bucket).addr() + (index + 1) * mem::size_of::<T>();
    Some((ctrl, table.num_buckets() - 1))
}

/// The control bytes' address and the bucket mask in a hint word, if it
/// holds any.
#[inline]
fn unpack(word: u64) -> Option<(usize, usize)> {
    (word != 0).then(|| ((word & ADDRESS) as usize, (1usize << (word >> 56)) - 1))
}

#[cfg(test)]
mod tests {
    use crate::growing_table::Entry;

    use super::*;

    fn hash(key: &u64) -> u64 {
        key.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn insert(table: &mut GrowingTable<u64>, key: u64) {
        if let Entry::Vacant(entry) = table.entry(hash(&key), |k| *k == key, hash) {
            entry.insert(key);
        }
    }

    /// Removes `key`, then moves on a growth as the locked table does.
    fn remove(table: &mut GrowingTable<u64>, key: u64) {
        table
            .find_entry(hash(&key), |k| *k == key)
            .unwrap()
            .remove();
        table.keep_growing(hash);
    }

    /// What the hint holds, as `bucket_layout` gives it.
    fn held(hint: &BucketHint) -> Option<(usize, usize)> {
        unpack(hint.0.load(Relaxed))
    }

    /// Refreshed after every write, as the write lock does, the hint always
    /// matches the table: `refresh` skips the work when the table's shape
    /// is unchanged, and this fails if the table moved without its shape
    /// saying so.
    #[test]
    fn follows_the_table_through_growth_removal_shrink_and_clear() {
        let hint = BucketHint::default();
        let mut table = GrowingTable::with_capacity(0);
        let write = |table: &mut GrowingTable<u64>, change: &dyn Fn(&mut GrowingTable<u64>)| {
            let before = table.shape();
            change(table);
            hint.refresh(table, before);
            let expected = table
                .bucket_layout()
                .filter(|(_, mask)| mask + 1 >= MIN_BUCKETS);
            assert_eq!(
                held(&hint),
                expected,
                "after a write to {:?}",
                table.shape()
            );
        };
        for key in 0..20_000u64 {
            write(&mut table, &|table| insert(table, key));
        }
        assert!(held(&hint).is_some());
        // Churn at a steady size: the table keeps its address, so the
        // hint must too.
        let grown = table.shape().buckets;
        for key in 20_000..200_000u64 {
            write(&mut table, &|table| insert(table, key));
            let old = key - 20_000;
            write(&mut table, &|table| remove(table, old));
        }
        assert_eq!(table.shape().buckets, grown, "the churn resized the table");
        for key in 180_000..199_990u64 {
            write(&mut table, &|table| {
                remove(table, key);
                if table.len() < table.capacity() / 8 {
                    table.shrink_to(table.len() * 2, hash);
                }
            });
        }
        write(&mut table, &|table| *table = GrowingTable::default());
        assert_eq!(held(&hint), None);
    }

    /// `follow` keeps a plain hashbrown table's hint right through growth,
    /// churn at a steady size, shrinking, clearing and replacement.
    #[test]
    fn follows_a_hashbrown_table() {
        let hint = BucketHint::default();
        let mut table = HashTable::new();
        let write = |table: &mut HashTable<u64>, change: &dyn Fn(&mut HashTable<u64>)| {
            let before = table.num_buckets();
            change(table);
            hint.follow(table, before);
            if let Some(layout) = layout(table).filter(|(_, mask)| mask + 1 >= MIN_BUCKETS) {
                assert_eq!(held(&hint), Some(layout), "{} buckets", table.num_buckets());
            }
        };
        let insert = |key: u64| {
            move |table: &mut HashTable<u64>| {
                table.insert_unique(hash(&key), key, hash);
            }
        };
        let remove = |key: u64| {
            move |table: &mut HashTable<u64>| {
                table
                    .find_entry(hash(&key), |k| *k == key)
                    .unwrap()
                    .remove();
            }
        };
        for key in 0..20_000u64 {
            write(&mut table, &insert(key));
        }
        for key in 20_000..100_000u64 {
            write(&mut table, &insert(key));
            write(&mut table, &remove(key - 20_000));
        }
        for key in 80_000..98_000u64 {
            write(&mut table, &remove(key));
        }
        let grown = table.num_buckets();
        write(&mut table, &|table| table.shrink_to_fit(hash));
        assert!(table.num_buckets() < grown, "the table did not shrink");
        let before = held(&hint);
        assert!(before.is_some());
        write(&mut table, &|table| table.clear());
        assert_eq!(held(&hint), before, "clearing keeps the table where it was");
        write(&mut table, &|table| *table = HashTable::new());
        assert_eq!(held(&hint), None);
    }
}
