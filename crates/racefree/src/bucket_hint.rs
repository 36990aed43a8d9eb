//! [`BucketHint`]: where a locked table's buckets are, so that a call can
//! start loading its key's before it takes the lock.

use std::mem;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use crate::growing_table::GrowingTable;
use crate::util::prefetch::prefetch;

/// A copy of [`GrowingTable::bucket_layout`] that calls read without the
/// lock, to start loading their key's control bytes and bucket while they
/// take it: the lock's atomic read-modify-write would otherwise wait for
/// nothing, and the lookup's cache misses would follow it one after the
/// other. Written under the table's write lock when the table has moved. `Relaxed`:
/// the addresses are only prefetched, never dereferenced, so a stale or
/// mismatched pair costs a wasted hint and nothing else.
///
/// std's atomics, not the model checkers': no thread waits on them and
/// nothing is published through them, so there is nothing to check.
#[derive(Default)]
pub(crate) struct BucketHint {
    /// The address of the control bytes; 0 while unknown.
    ctrl: AtomicUsize,
    /// The bucket mask that goes with `ctrl`.
    mask: AtomicUsize,
    /// The table's generation when `ctrl` was taken; read and written only
    /// under the write lock.
    generation: AtomicUsize,
}

impl BucketHint {
    /// Prefetches the control bytes and the first bucket that `hash`'s
    /// lookup will read, for entries of type `T`.
    #[inline]
    pub(crate) fn prefetch<T>(&self, hash: u64) {
        let ctrl = self.ctrl.load(Relaxed);
        if ctrl == 0 {
            return;
        }
        let home = (hash as usize) & self.mask.load(Relaxed);
        prefetch(ctrl.wrapping_add(home));
        prefetch(ctrl.wrapping_sub((home + 1).wrapping_mul(mem::size_of::<T>())));
    }

    /// Takes the table's new address if it moved. Call under the write lock.
    pub(crate) fn refresh<T>(&self, table: &GrowingTable<T>) {
        if self.generation.load(Relaxed) == table.generation() && self.ctrl.load(Relaxed) != 0 {
            return;
        }
        let (ctrl, mask) = table.bucket_layout().unwrap_or((0, 0));
        self.mask.store(mask, Relaxed);
        self.ctrl.store(ctrl, Relaxed);
        self.generation.store(table.generation(), Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use hashbrown::hash_table::Entry;

    use super::*;

    fn hash(key: &u64) -> u64 {
        key.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// What the hint holds, as `bucket_layout` gives it.
    fn held(hint: &BucketHint) -> Option<(usize, usize)> {
        let ctrl = hint.ctrl.load(Relaxed);
        (ctrl != 0).then(|| (ctrl, hint.mask.load(Relaxed)))
    }

    /// Refreshed after every write, as the write lock does, the hint always
    /// matches the table: `refresh` skips the work only when the table has
    /// not moved, and this fails if it moved without saying so.
    #[test]
    fn follows_the_table_through_growth_removal_shrink_and_take() {
        let hint = BucketHint::default();
        let mut table = GrowingTable::with_capacity(0);
        let check = |table: &GrowingTable<u64>| {
            hint.refresh(table);
            assert_eq!(held(&hint), table.bucket_layout());
        };
        check(&table);
        for key in 0..20_000u64 {
            if let Entry::Vacant(entry) = table.entry(hash(&key), |k| *k == key, hash) {
                entry.insert(key);
            }
            check(&table);
        }
        for key in 0..19_000u64 {
            table
                .find_entry(hash(&key), |k| *k == key)
                .unwrap()
                .remove();
            table.keep_growing(hash);
            check(&table);
        }
        table.shrink_to(0, hash);
        check(&table);
        table.take();
        check(&table);
        assert_eq!(held(&hint), None);
    }
}
