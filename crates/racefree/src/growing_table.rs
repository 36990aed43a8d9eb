//! A hash table that grows without stopping the insert that fills it.
//!
//! hashbrown doubles a full table in one go: the insert that fills it moves
//! every entry, which for a table of millions takes a fraction of a second
//! while its lock is held. Here a full table becomes the *old* table and
//! an empty one of twice the size takes its place; each later insert first
//! moves the entries of 128 of the old table's buckets, so the work is
//! spread over the inserts that follow and no single call waits for all of
//! it. Lookups check both tables while a move is under way.
//!
//! Written here because hashbrown offers no incremental resize; the moves
//! use its bucket-index API (`num_buckets`, `get_bucket_entry`).

use std::mem;

use hashbrown::hash_table::{self, HashTable};

use crate::util::huge_pages::TableAlloc;

/// A hashbrown table whose big blocks ask for huge pages.
type Table<T> = HashTable<T, TableAlloc>;
pub(crate) type Entry<'a, T> = hash_table::Entry<'a, T, TableAlloc>;
type OccupiedEntry<'a, T> = hash_table::OccupiedEntry<'a, T, TableAlloc>;

/// Old buckets each insert moves (a bucket holds at most one entry), unless
/// the new table would fill first (see `step`). While a table grows, every
/// insert of a new key looks in both tables, a second cache miss; moving
/// many buckets per insert keeps that phase short. Measured (racefree-bench
/// rapid-grow at capacity 2^21, ShardedMap against dashmap, 1 and 2
/// threads): 2 buckets per insert lost 35 to 40 % of the throughput of
/// hashbrown's all-at-once growth, 8 about 25 %, 32 10 to 15 %, 128 about
/// 7 %. Growing to 8 M entries, the slowest insert took 0.36 ms with 2, 32
/// or 128, and one in a thousand took 4, 7 and 8 us.
const BUCKETS_PER_INSERT: usize = 128;

/// The entries of one map or shard: normally one table, two while growing.
#[derive(Clone)]
pub(crate) struct GrowingTable<T> {
    /// Where new entries go.
    current: Table<T>,
    /// The table being emptied into `current`, while the table grows.
    /// Boxed: a table that is not growing, nearly always, is then 40
    /// bytes, and [`LockedTable`](crate::locked_table::LockedTable) keeps
    /// it in one cache line with its lock and length, so that a call from
    /// another core moves one line rather than two.
    growth: Option<Box<Growth<T>>>,
}

/// A table being emptied into a new one.
#[derive(Clone)]
struct Growth<T> {
    /// Not empty, except just after a removal emptied it: the move that
    /// follows every removal ends the growth.
    old: Table<T>,
    /// The first bucket of `old` not yet moved.
    next_bucket: usize,
}

/// What changes when a table moves in memory: its bucket count, or whether
/// it is growing (a growth may keep the bucket count, and a table smaller
/// than [`BUCKETS_PER_INSERT`] can start and finish growing in one call).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Shape {
    /// The bucket count of `current`.
    pub(crate) buckets: usize,
    /// Whether an old table is being emptied into it.
    pub(crate) growing: bool,
}

impl<T> Default for GrowingTable<T> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<T> GrowingTable<T> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            current: HashTable::with_capacity_in(capacity, TableAlloc),
            growth: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.current.len() + self.growth.as_ref().map_or(0, |g| g.old.len())
    }

    /// How many entries fit before the table allocates again.
    pub(crate) fn capacity(&self) -> usize {
        self.current.capacity()
    }

    /// Whether entries are still being moved out of an old table.
    pub(crate) fn is_growing(&self) -> bool {
        self.growth.is_some()
    }

    /// The table's shape now, to tell later whether it moved.
    pub(crate) fn shape(&self) -> Shape {
        Shape {
            buckets: self.current.num_buckets(),
            growing: self.is_growing(),
        }
    }

    /// Inline: every lookup comes here, and the call was about a tenth of a
    /// lookup's instructions (callgrind, read-heavy at 1 thread: 924 M
    /// to 882 M).
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(&T) -> bool) -> Option<&T> {
        match (self.current.find(hash, &mut eq), &self.growth) {
            (Some(found), _) => Some(found),
            (None, Some(growth)) => growth.old.find(hash, eq),
            (None, None) => None,
        }
    }

    pub(crate) fn find_mut(&mut self, hash: u64, mut eq: impl FnMut(&T) -> bool) -> Option<&mut T> {
        if let Some(growth) = &mut self.growth
            && let Some(found) = growth.old.find_mut(hash, &mut eq)
        {
            return Some(found);
        }
        self.current.find_mut(hash, eq)
    }

    /// The entry that `eq` matches, in whichever table holds it.
    pub(crate) fn find_entry(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(&T) -> bool,
    ) -> Option<OccupiedEntry<'_, T>> {
        if let Some(growth) = &mut self.growth
            && let Ok(found) = growth.old.find_entry(hash, &mut eq)
        {
            return Some(found);
        }
        self.current.find_entry(hash, eq).ok()
    }

    /// The entry for a key that may be inserted: occupied in whichever
    /// table holds it, or vacant in `current`, which has room for it (so
    /// inserting never triggers hashbrown's own whole-table resize).
    pub(crate) fn entry(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(&T) -> bool,
        hasher: impl Fn(&T) -> u64,
    ) -> Entry<'_, T> {
        self.make_room(&hasher);
        if let Some(growth) = &mut self.growth
            && let Ok(found) = growth.old.find_entry(hash, &mut eq)
        {
            return Entry::Occupied(found);
        }
        self.current.entry(hash, eq, hasher)
    }

    /// Moves a few old buckets if the table is growing: for writes other
    /// than inserts, so that a table that stops receiving new keys still
    /// finishes growing (and frees the old table).
    ///
    /// This and [`make_room`](Self::make_room) are inline, and the moves
    /// and the start of a growth out of line: nearly every write finds the
    /// table not growing and with room, and the calls alone cost more
    /// than those checks (callgrind, racefree-bench exchange at 1 thread:
    /// 1 220 M instructions before, 1 149 M after).
    #[inline]
    pub(crate) fn keep_growing(&mut self, hasher: impl Fn(&T) -> u64) {
        if let Some(step) = self.step() {
            self.move_buckets(step, &hasher);
        }
    }

    /// Moves a few old buckets, and starts growing if `current` is full.
    #[inline]
    fn make_room(&mut self, hasher: &impl Fn(&T) -> u64) {
        self.keep_growing(hasher);
        if self.current.len() >= self.current.capacity() {
            self.start_growing(hasher);
        }
    }

    /// Makes `current` an old table to be emptied into a new one.
    #[inline(never)]
    fn start_growing(&mut self, hasher: &impl Fn(&T) -> u64) {
        debug_assert!(
            !self.is_growing(),
            "a table filled before the last one emptied"
        );
        // Room for twice the entries, and at least enough that the usual
        // step empties the old table first (a table of tombstones has more
        // buckets than entries).
        let len = self.current.len();
        let moves = self.current.num_buckets().div_ceil(BUCKETS_PER_INSERT);
        let room = (2 * len).max(len + moves + 1).max(4);
        let old = mem::replace(
            &mut self.current,
            HashTable::with_capacity_in(room, TableAlloc),
        );
        if !old.is_empty() {
            self.growth = Some(Box::new(Growth {
                old,
                next_bucket: 0,
            }));
            self.keep_growing(hasher);
        }
    }

    /// How many old buckets this insert moves, if the table is growing:
    /// `BUCKETS_PER_INSERT`, or more if the new table's spare room (beyond
    /// the entries still to come from the old one) would run out first.
    /// Moves leave that spare room as it is and only inserts of new keys
    /// use it, so the old table is always empty before the new one fills.
    fn step(&self) -> Option<usize> {
        let growth = self.growth.as_ref()?;
        let remaining = growth.old.num_buckets() - growth.next_bucket;
        let spare = (self.current.capacity() - self.current.len()).saturating_sub(growth.old.len());
        Some(remaining.div_ceil(spare.max(1)).max(BUCKETS_PER_INSERT))
    }

    /// Moves the entries of up to `count` buckets of the old table into
    /// `current`, and frees the old table once it is empty.
    #[inline(never)]
    fn move_buckets(&mut self, count: usize, hasher: &impl Fn(&T) -> u64) {
        let Some(growth) = &mut self.growth else {
            return;
        };
        let end = growth
            .old
            .num_buckets()
            .min(growth.next_bucket.saturating_add(count));
        while growth.next_bucket < end {
            let bucket = growth.next_bucket;
            // Hashed before it leaves the old table: a key whose `Hash`
            // panics stays where it is instead of being lost.
            if let Some(hash) = growth.old.get_bucket(bucket).map(hasher) {
                let (item, _) = match growth.old.get_bucket_entry(bucket) {
                    Ok(entry) => entry.remove(),
                    Err(_) => unreachable!("the bucket was just read"),
                };
                // `current` has room (see `step`), so this never rehashes.
                self.current.insert_unique(hash, item, hasher);
            }
            growth.next_bucket += 1;
        }
        if growth.old.is_empty() {
            self.growth = None;
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        // Two plain iterators: with a `flat_map` over the growth, copying
        // a table for `for_each` ran at half the speed (Go's Range case).
        let old = self.growth.as_ref().map(|growth| growth.old.iter());
        self.current.iter().chain(old.unwrap_or_default())
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        self.current.retain(&mut keep);
        if let Some(growth) = &mut self.growth {
            growth.old.retain(keep);
            if growth.old.is_empty() {
                self.growth = None;
            }
        }
    }

    /// Shrinks to hold `min_capacity` entries (finishing a move first, as
    /// the shrink copies the table anyway).
    pub(crate) fn shrink_to(&mut self, min_capacity: usize, hasher: impl Fn(&T) -> u64) {
        self.move_buckets(usize::MAX, &hasher);
        self.current.shrink_to(min_capacity, hasher);
    }

    /// Where `current`'s buckets are, for prefetching
    /// ([`layout`](crate::bucket_hint::layout)).
    pub(crate) fn bucket_layout(&self) -> Option<(usize, usize)> {
        crate::bucket_hint::layout(&self.current)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn hash(key: u32) -> u64 {
        u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn rehash(item: &(u32, u32)) -> u64 {
        hash(item.0)
    }

    fn insert(table: &mut GrowingTable<(u32, u32)>, key: u32, value: u32) -> Option<u32> {
        match table.entry(hash(key), |e| e.0 == key, rehash) {
            Entry::Occupied(mut e) => Some(mem::replace(&mut e.get_mut().1, value)),
            Entry::Vacant(e) => {
                e.insert((key, value));
                None
            }
        }
    }

    #[test]
    fn grows_a_few_buckets_per_insert() {
        let mut table = GrowingTable::with_capacity(0);
        let mut grew = 0;
        for key in 0..100_000 {
            let before = table.capacity();
            insert(&mut table, key, key);
            if table.capacity() != before {
                grew += 1;
                // A new table starts empty: nothing was copied in bulk.
                assert!(table.current.len() <= BUCKETS_PER_INSERT + 1);
            }
            assert!(table.current.len() < table.current.capacity() || !table.is_growing());
        }
        assert!(grew > 10, "the table grew {grew} times");
        assert_eq!(table.len(), 100_000);
        for key in 0..100_000 {
            assert_eq!(table.find(hash(key), |e| e.0 == key), Some(&(key, key)));
        }
    }

    /// Inserts of fresh keys and removals of old ones leave tombstones
    /// that eat the new table's room; the step must still empty the old
    /// table first (the debug assertion in `make_room` checks it).
    #[test]
    fn churn_never_fills_the_new_table_early() {
        let mut table = GrowingTable::with_capacity(0);
        let mut live = std::collections::VecDeque::new();
        for key in 0..300_000u32 {
            insert(&mut table, key, key);
            live.push_back(key);
            // The live set swings between 1 and 5000 entries.
            while live.len() > 1 + (key as usize / 1000) % 5000 {
                let old = live.pop_front().unwrap();
                let removed = table
                    .find_entry(hash(old), |e| e.0 == old)
                    .map(|e| e.remove());
                assert!(removed.is_some(), "{old} missing");
            }
            assert_eq!(table.len(), live.len());
        }
    }

    /// A key whose hash panics while the table grows stays in the table.
    #[test]
    fn a_panicking_hash_loses_nothing() {
        let mut table = GrowingTable::with_capacity(0);
        let mut key = 0;
        while table.growth.as_ref().is_none_or(|g| g.old.len() < 1000) {
            insert(&mut table, key, key);
            key += 1;
        }
        let panicking = |_: &(u32, u32)| -> u64 { panic!("hash") };
        let moved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            table.keep_growing(panicking);
        }));
        assert!(moved.is_err());
        assert_eq!(table.len(), key as usize);
        for k in 0..key {
            assert_eq!(table.find(hash(k), |e| e.0 == k), Some(&(k, k)));
        }
    }

    /// The prefetch hint's picture of hashbrown's layout: bucket `i` ends
    /// `i` buckets below the control bytes. If a hashbrown release changed
    /// that, prefetches would load the wrong lines; this says so.
    #[test]
    fn bucket_layout_locates_every_occupied_bucket() {
        let mut table = GrowingTable::with_capacity(0);
        assert_eq!(table.bucket_layout(), None, "an empty table has no layout");
        for key in 0..5000 {
            insert(&mut table, key, key);
        }
        let (ctrl, mask) = table.bucket_layout().unwrap();
        assert_eq!(mask, table.current.num_buckets() - 1);
        let size = mem::size_of::<(u32, u32)>();
        for index in table.current.iter_buckets() {
            let bucket = table.current.get_bucket(index).unwrap();
            assert_eq!(std::ptr::from_ref(bucket).addr(), ctrl - (index + 1) * size);
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u32, u32),
        Remove(u32),
        Update(u32, u32),
        Retain(u32),
        Shrink,
    }

    fn op() -> impl Strategy<Value = Op> {
        let key = 0..200u32;
        prop_oneof![
            6 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => key.clone().prop_map(Op::Remove),
            1 => (key, any::<u32>()).prop_map(|(k, v)| Op::Update(k, v)),
            1 => (2..10u32).prop_map(Op::Retain),
            1 => Just(Op::Shrink),
        ]
    }

    proptest! {
        /// Any sequence of calls, mostly mid-growth, matches std's map.
        #[test]
        fn matches_a_plain_map(ops in prop::collection::vec(op(), 1..400)) {
            let mut table = GrowingTable::with_capacity(0);
            let mut model = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        prop_assert_eq!(insert(&mut table, k, v), model.insert(k, v));
                    }
                    Op::Remove(k) => {
                        let removed = table.find_entry(hash(k), |e| e.0 == k).map(|e| e.remove().0.1);
                        prop_assert_eq!(removed, model.remove(&k));
                    }
                    Op::Update(k, v) => {
                        let found = table.find_mut(hash(k), |e| e.0 == k).map(|e| mem::replace(&mut e.1, v));
                        let expected = model.get_mut(&k).map(|m| mem::replace(m, v));
                        prop_assert_eq!(found, expected);
                    }
                    Op::Retain(m) => {
                        table.retain(|e| e.0 % m != 0);
                        model.retain(|k, _| k % m != 0);
                    }
                    Op::Shrink => {
                        table.shrink_to(table.len(), rehash);
                        prop_assert!(!table.is_growing());
                    }
                }
                prop_assert_eq!(table.len(), model.len());
                for (k, v) in &model {
                    prop_assert_eq!(table.find(hash(*k), |e| e.0 == *k), Some(&(*k, *v)));
                }
                let mut seen: Vec<_> = table.iter().copied().collect();
                seen.sort_unstable();
                let mut expected: Vec<_> = model.iter().map(|(k, v)| (*k, *v)).collect();
                expected.sort_unstable();
                prop_assert_eq!(seen, expected);
            }
        }
    }
}
