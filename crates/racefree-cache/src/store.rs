//! One shard's entries: a key index holding keys and values, a slab of
//! the policy's nodes, and the policy that decides which leave.
//! Single-threaded; the cache locks it.

use std::borrow::Borrow;

use hashbrown::HashTable;

use crate::accesses::Access;
use crate::node::{Entry, NIL, Node, Nodes};
use crate::policy::Policy;
use crate::removal::RemovalCause;
use crate::timers::{Life, NEVER, Timers};

/// Entries that left a store, handed to the eviction listener once the
/// shard's lock is released. Most calls remove one or two (a replaced
/// value, an evicted entry), which fit in place; more spill to the heap.
/// A heap vector cost an allocation and a free on every replacing or
/// evicting insert.
pub(crate) type Removed<K, V> = smallvec::SmallVec<[(K, V, RemovalCause); 2]>;

/// What a reader's lookup found.
pub(crate) enum Lookup<'a, K, V> {
    Found(&'a Entry<K, V>),
    /// An entry past its deadline, which only a writer may remove.
    Expired,
    Absent,
}

pub(crate) struct Store<K, V, P> {
    nodes: Nodes<K, V>,
    policy: P,
    capacity: u64,
    /// Sum of the entries' weights. Invariant: at most `capacity` between
    /// calls.
    weight: u64,
    /// The time-to-idle in nanoseconds, or [`NEVER`].
    idle: u64,
    timers: Timers,
    /// Whether every entry offered so far weighed 1 (a cache without a
    /// weigher): a replacement of weight 1 then keeps its entry's weight
    /// without reading the entry's node, a cache miss of its own. Inserts
    /// of the 90/10 mix's keys (Zipf 1, 78 % already cached), timed alone
    /// at capacity 65 536, took 126 to 157 ns against 157 to 273.
    unit_weights: bool,
}

impl<K: Eq, V, P: Policy> Store<K, V, P> {
    /// A store of at most `capacity` weight whose entries expire `idle`
    /// nanoseconds after their last use (or never, for [`NEVER`]).
    pub(crate) fn new(capacity: u64, idle: u64) -> Self {
        Self {
            nodes: Nodes::default(),
            policy: P::with_capacity(capacity),
            capacity,
            weight: 0,
            idle,
            timers: Timers::default(),
            unit_weights: true,
        }
    }

    /// Removes the entries whose deadline is at or before `now`. Every
    /// other method assumes this ran with the same `now` under the same
    /// lock, so none of them checks deadlines.
    pub(crate) fn expire(&mut self, now: u64, removed: &mut Removed<K, V>) {
        while let Some(i) = self.timers.pop_due(now) {
            if !self.nodes.slab.contains(i as usize) {
                continue;
            }
            let deadline = self.timers.life(i).deadline;
            if deadline <= now {
                self.policy.on_remove(&mut self.nodes, i);
                let (key, value) = self.unindex(self.nodes.bucket(i));
                removed.push((key, value, RemovalCause::Expired));
            } else {
                // Read since it was scheduled, or a stale timer of an entry
                // that left, whose slot another entry took.
                self.timers.schedule(deadline, i);
            }
        }
        if self.timers.is_bloated(self.nodes.len()) {
            self.timers
                .rebuild(self.nodes.slab.iter().map(|(i, _)| i as u32));
        }
    }

    /// An entry read or written at `now` expires then.
    fn deadline(&self, live_until: u64, now: u64) -> u64 {
        live_until.min(now.saturating_add(self.idle))
    }

    /// The index bucket holding `key`.
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.nodes
            .index
            .find_bucket_index(hash, |entry| entry.key.borrow() == key)
    }

    /// Counts a hit on the entry in index bucket `bucket` for the policy.
    fn hit(&mut self, bucket: usize) {
        let entry = self.nodes.entry(bucket);
        if P::LAZY_HITS {
            entry.count_hit();
            self.policy.on_hits(1);
        } else {
            let i = entry.slot;
            self.policy.on_hit(&mut self.nodes, i);
        }
    }

    /// Looks `key` up at `now`, tells the policy whether it was found, and
    /// restarts a found entry's time-to-idle.
    pub(crate) fn get<Q>(&mut self, hash: u64, key: &Q, now: u64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let Some(bucket) = self.find(hash, key) else {
            self.policy.on_miss(hash);
            return None;
        };
        self.hit(bucket);
        if self.idle != NEVER {
            let i = self.nodes.entry(bucket).slot;
            let deadline = self.deadline(self.timers.life(i).live_until, now);
            self.timers.extend(i, deadline);
        }
        Some(&self.nodes.entry(bucket).value)
    }

    /// Whether a lookup at `now` must take the exclusive lock: to remove
    /// entries that expired, or to restart a found entry's time-to-idle.
    pub(crate) fn needs_writer(&self, now: u64) -> bool {
        self.idle != NEVER || self.timers.is_due(now)
    }

    /// The key index, whose buckets callers prefetch.
    pub(crate) fn index(&self) -> &HashTable<Entry<K, V>> {
        &self.nodes.index
    }

    /// Looks `key` up at `now` without telling the policy; for readers
    /// that share the store.
    pub(crate) fn lookup<Q>(&self, hash: u64, key: &Q, now: u64) -> Lookup<'_, K, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match self
            .nodes
            .index
            .find(hash, |entry| entry.key.borrow() == key)
        {
            Some(entry) if self.timers.life(entry.slot).deadline > now => Lookup::Found(entry),
            Some(_) => Lookup::Expired,
            None => Lookup::Absent,
        }
    }

    /// A reader found no entry for `hash` and recorded the miss, for
    /// [`apply`](Self::apply) later.
    pub(crate) fn prefetch_miss(&self, hash: u64) {
        self.policy.prefetch_miss(hash);
    }

    /// Tells the policy that readers counted `n` hits in their entries.
    pub(crate) fn on_hits(&mut self, n: u64) {
        if n > 0 {
            self.policy.on_hits(n);
        }
    }

    /// Tells the policy about a lookup recorded by a reader.
    pub(crate) fn apply(&mut self, access: Access) {
        match access {
            Access::Hit(i) => {
                debug_assert!(
                    self.nodes.slab.contains(i as usize),
                    "a recorded entry left"
                );
                self.policy.on_hit(&mut self.nodes, i);
            }
            Access::Miss(hash) => self.policy.on_miss(hash),
        }
    }

    /// Stores `value` under `key` at `now`, to live until `live_until` at
    /// the latest, then evicts until the store fits. A replaced value,
    /// evicted entries, and an entry heavier than the whole capacity
    /// (refused) go to `removed`.
    #[allow(clippy::too_many_arguments)] // One entry's parts and its times.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        live_until: u64,
        now: u64,
        removed: &mut Removed<K, V>,
    ) {
        let deadline = self.deadline(live_until, now);
        let life = Life {
            deadline,
            live_until,
        };
        let unit_weights = self.unit_weights && weight == 1;
        self.unit_weights = unit_weights;
        if let Some(bucket) = self.find(hash, &key) {
            let entry = self.nodes.entry(bucket);
            let old_value = std::mem::replace(&mut entry.value, value);
            let old_key = std::mem::replace(&mut entry.key, key);
            let i = entry.slot;
            removed.push((old_key, old_value, RemovalCause::Replaced));
            self.timers.renew(i, life);
            if unit_weights || self.nodes[i as usize].weight == weight {
                self.hit(bucket);
            } else {
                // Queues keep their weight totals: relink at the new weight,
                // as a new entry.
                self.policy.on_remove(&mut self.nodes, i);
                *self.nodes.entry(bucket).hits() = 0;
                self.weight = self.weight - self.nodes[i as usize].weight + weight;
                self.nodes[i as usize].weight = weight;
                self.policy.on_insert(&mut self.nodes, i);
            }
        } else if weight > self.capacity {
            removed.push((key, value, RemovalCause::Size));
            return;
        } else {
            let Nodes { slab, index } = &mut self.nodes;
            if self.weight + weight > self.capacity {
                // An eviction follows and frees a slot: grow the slab by
                // one, not by doubling, or a full store holds twice the
                // slots it uses.
                slab.reserve_exact(1);
            }
            let i = slab.insert(Node {
                hash,
                weight,
                prev: NIL,
                next: NIL,
                queue: 0,
            });
            let i = u32::try_from(i).expect("a shard holds fewer than 2^32 entries");
            index.insert_unique(hash, Entry::new(key, value, i), |entry| {
                slab[entry.slot as usize].hash
            });
            self.weight += weight;
            self.policy.on_insert(&mut self.nodes, i);
            self.timers.start(i, life);
        }
        self.evict_overflow(removed);
    }

    fn evict_overflow(&mut self, removed: &mut Removed<K, V>) {
        while self.weight > self.capacity {
            let victim = self
                .policy
                .evict(&mut self.nodes)
                .expect("a store over capacity holds an entry");
            let (key, value) = self.unindex(self.nodes.bucket(victim));
            removed.push((key, value, RemovalCause::Size));
        }
    }

    /// Takes the entry in index bucket `bucket`, already unlinked by the
    /// policy, out of the store.
    fn unindex(&mut self, bucket: usize) -> (K, V) {
        let Nodes { slab, index } = &mut self.nodes;
        let (entry, _) = match index.get_bucket_entry(bucket) {
            Ok(entry) => entry.remove(),
            Err(_) => unreachable!("the bucket holds an entry"),
        };
        self.weight -= slab.remove(entry.slot as usize).weight;
        if index.capacity() > 4 * index.len().max(16) {
            index.shrink_to(index.len(), |entry| slab[entry.slot as usize].hash);
            slab.shrink_to_fit();
            self.timers.truncate(slab.capacity());
        }
        (entry.key, entry.value)
    }

    /// Removes `key`; returns its entry.
    pub(crate) fn remove<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let bucket = self.find(hash, key)?;
        let i = self.nodes.entry(bucket).slot;
        self.policy.on_remove(&mut self.nodes, i);
        Some(self.unindex(bucket))
    }

    /// Removes every entry for which `keep` returns false.
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(&K, &V) -> bool,
        removed: &mut Removed<K, V>,
    ) {
        let doomed: Vec<u32> = self
            .nodes
            .index
            .iter()
            .filter(|entry| !keep(&entry.key, &entry.value))
            .map(|entry| entry.slot)
            .collect();
        for i in doomed {
            self.policy.on_remove(&mut self.nodes, i);
            let (key, value) = self.unindex(self.nodes.bucket(i));
            removed.push((key, value, RemovalCause::Explicit));
        }
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self, removed: &mut Removed<K, V>) {
        self.policy.clear();
        self.timers.clear();
        self.weight = 0;
        removed.extend(
            std::mem::take(&mut self.nodes)
                .index
                .into_iter()
                .map(|entry| (entry.key, entry.value, RemovalCause::Explicit)),
        );
    }

    pub(crate) fn set_capacity(&mut self, capacity: u64, removed: &mut Removed<K, V>) {
        self.capacity = capacity;
        self.policy.set_capacity(capacity);
        self.evict_overflow(removed);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.nodes
            .index
            .iter()
            .map(|entry| (&entry.key, &entry.value))
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn weight(&self) -> u64 {
        self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Lru, TinyLfu};

    /// The insert before each eviction holds one entry over the capacity;
    /// it must not grow the slab or the sketch for good.
    #[test]
    fn a_full_store_keeps_its_size() {
        let mut store: Store<u32, u32, TinyLfu> = Store::new(64, NEVER);
        let mut removed = Removed::new();
        for key in 0..1000 {
            store.insert(u64::from(key), key, key, 1, NEVER, 0, &mut removed);
        }
        assert_eq!(store.len(), 64);
        assert!(
            store.nodes.slab.capacity() <= 65,
            "{} slots",
            store.nodes.slab.capacity()
        );
        assert_eq!(store.policy.sketch_entries(), 64);
    }

    /// A store that has only seen weight 1 replaces an entry without
    /// reading its weight; the first other weight must still re-weigh the
    /// entry, and so must a later return to weight 1.
    #[test]
    fn a_replacement_of_another_weight_reweighs_its_entry() {
        let mut store: Store<u32, u32, TinyLfu> = Store::new(100, NEVER);
        let mut removed = Removed::new();
        let mut insert = |store: &mut Store<_, _, _>, key: u32, weight| {
            store.insert(u64::from(key), key, key, weight, NEVER, 0, &mut removed);
        };
        for key in 0..10 {
            insert(&mut store, key, 1);
        }
        insert(&mut store, 3, 1);
        assert_eq!(store.weight(), 10);
        insert(&mut store, 3, 5);
        assert_eq!(store.weight(), 14);
        insert(&mut store, 3, 1);
        assert_eq!(store.weight(), 10);
        insert(&mut store, 4, 1);
        assert_eq!(store.weight(), 10);
    }

    /// Timers of entries that left or were rescheduled stay in the heap
    /// until popped; they must not pile up when their deadlines are far.
    #[test]
    fn stale_timers_do_not_pile_up() {
        let mut store: Store<u32, u32, Lru> = Store::new(10, NEVER);
        let mut removed = Removed::new();
        let far = 1 << 60;
        for round in 0..10_000u32 {
            store.expire(u64::from(round), &mut removed);
            // Each replacement shortens the deadline: a new timer.
            let key = round % 3;
            store.insert(
                u64::from(key),
                key,
                round,
                1,
                far - u64::from(round),
                0,
                &mut removed,
            );
            if round % 2 == 0 {
                store.remove(u64::from(key), &key);
            }
        }
        assert!(store.len() <= 3);
        assert!(
            store.timers.len() <= 2 * 3 + 64 + 1,
            "{} timers",
            store.timers.len()
        );
        removed.clear();
        store.expire(far, &mut removed);
        assert_eq!(store.len(), 0);
        assert!(
            removed
                .iter()
                .all(|(_, _, cause)| *cause == RemovalCause::Expired)
        );
    }
}
