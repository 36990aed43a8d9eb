//! One shard's entries: a key index, a slab of entries, and the policy
//! that decides which leave. Single-threaded; the cache locks it.

use std::borrow::Borrow;
use std::sync::atomic::AtomicU8;

use hashbrown::HashTable;

use crate::accesses::Access;
use crate::node::{NIL, Node, Nodes};
use crate::policy::Policy;
use crate::removal::RemovalCause;
use crate::timers::{Life, NEVER, Timers};

/// Entries that left a store, handed to the eviction listener once the
/// shard's lock is released.
pub(crate) type Removed<K, V> = Vec<(K, V, RemovalCause)>;

/// What a reader's lookup found.
pub(crate) enum Lookup<'a, V> {
    /// The entry in this slot, and its value.
    Found(u32, &'a V),
    /// An entry past its deadline, which only a writer may remove.
    Expired,
    Absent,
}

pub(crate) struct Store<K, V, P> {
    nodes: Nodes<K, V>,
    /// Slab indices, hashed by their entry's hash; keys are stored once.
    index: HashTable<u32>,
    policy: P,
    capacity: u64,
    /// Sum of the entries' weights. Invariant: at most `capacity` between
    /// calls.
    weight: u64,
    /// The time-to-idle in nanoseconds, or [`NEVER`].
    idle: u64,
    timers: Timers,
}

impl<K: Eq, V, P: Policy> Store<K, V, P> {
    /// A store of at most `capacity` weight whose entries expire `idle`
    /// nanoseconds after their last use (or never, for [`NEVER`]).
    pub(crate) fn new(capacity: u64, idle: u64) -> Self {
        Self {
            nodes: Nodes::new(),
            index: HashTable::new(),
            policy: P::with_capacity(capacity),
            capacity,
            weight: 0,
            idle,
            timers: Timers::default(),
        }
    }

    /// Removes the entries whose deadline is at or before `now`. Every
    /// other method assumes this ran with the same `now` under the same
    /// lock, so none of them checks deadlines.
    pub(crate) fn expire(&mut self, now: u64, removed: &mut Removed<K, V>) {
        while let Some(i) = self.timers.pop_due(now) {
            if !self.nodes.contains(i as usize) {
                continue;
            }
            let deadline = self.timers.life(i).deadline;
            if deadline <= now {
                self.policy.on_remove(&mut self.nodes, i);
                let node = self.unindex(i);
                removed.push((node.key, node.value, RemovalCause::Expired));
            } else {
                // Read since it was scheduled, or a stale timer of an entry
                // that left, whose slot another entry took.
                self.timers.schedule(deadline, i);
            }
        }
        if self.timers.is_bloated(self.nodes.len()) {
            self.timers
                .rebuild(self.nodes.iter().map(|(i, _)| i as u32));
        }
    }

    /// An entry read or written at `now` expires then.
    fn deadline(&self, live_until: u64, now: u64) -> u64 {
        live_until.min(now.saturating_add(self.idle))
    }

    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let nodes = &self.nodes;
        self.index
            .find(hash, |&i| nodes[i as usize].key.borrow() == key)
            .copied()
    }

    /// Looks `key` up at `now`, tells the policy whether it was found, and
    /// restarts a found entry's time-to-idle.
    pub(crate) fn get<Q>(&mut self, hash: u64, key: &Q, now: u64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match self.find(hash, key) {
            Some(i) => {
                self.policy.on_hit(&mut self.nodes, i);
                if self.idle != NEVER {
                    let deadline = self.deadline(self.timers.life(i).live_until, now);
                    self.timers.extend(i, deadline);
                }
                Some(&self.nodes[i as usize].value)
            }
            None => {
                self.policy.on_miss(hash);
                None
            }
        }
    }

    /// Whether a lookup at `now` must take the exclusive lock: to remove
    /// entries that expired, or to restart a found entry's time-to-idle.
    pub(crate) fn needs_writer(&self, now: u64) -> bool {
        self.idle != NEVER || self.timers.is_due(now)
    }

    /// Looks `key` up at `now` without telling the policy; for readers
    /// that share the store.
    pub(crate) fn lookup<Q>(&self, hash: u64, key: &Q, now: u64) -> Lookup<'_, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        match self.find(hash, key) {
            Some(i) if self.timers.life(i).deadline > now => {
                Lookup::Found(i, &self.nodes[i as usize].value)
            }
            Some(_) => Lookup::Expired,
            None => Lookup::Absent,
        }
    }

    /// Counts a hit on entry `i`, found by a reader under the shared lock,
    /// in the entry, for a policy with [`Policy::LAZY_HITS`].
    pub(crate) fn touch(&self, i: u32) {
        self.nodes[i as usize].touch();
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
                debug_assert!(self.nodes.contains(i as usize), "a recorded entry left");
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
        if let Some(i) = self.find(hash, &key) {
            let node = &mut self.nodes[i as usize];
            let old_value = std::mem::replace(&mut node.value, value);
            let old_key = std::mem::replace(&mut node.key, key);
            removed.push((old_key, old_value, RemovalCause::Replaced));
            let same_weight = node.weight == weight;
            self.timers.renew(
                i,
                Life {
                    deadline,
                    live_until,
                },
            );
            if same_weight {
                self.policy.on_hit(&mut self.nodes, i);
            } else {
                // Queues keep their weight totals: relink at the new weight.
                self.policy.on_remove(&mut self.nodes, i);
                self.weight = self.weight - self.nodes[i as usize].weight + weight;
                self.nodes[i as usize].weight = weight;
                self.policy.on_insert(&mut self.nodes, i);
            }
        } else if weight > self.capacity {
            removed.push((key, value, RemovalCause::Size));
            return;
        } else {
            if self.weight + weight > self.capacity {
                // An eviction follows and frees a slot: grow the slab by
                // one, not by doubling, or a full store holds twice the
                // slots it uses.
                self.nodes.reserve_exact(1);
            }
            let i = self.nodes.insert(Node {
                key,
                value,
                hash,
                weight,
                prev: NIL,
                next: NIL,
                queue: 0,
                hits: AtomicU8::new(0),
            });
            let i = u32::try_from(i).expect("a shard holds fewer than 2^32 entries");
            let nodes = &self.nodes;
            self.index
                .insert_unique(hash, i, |&j| nodes[j as usize].hash);
            self.weight += weight;
            self.policy.on_insert(&mut self.nodes, i);
            self.timers.start(
                i,
                Life {
                    deadline,
                    live_until,
                },
            );
        }
        self.evict_overflow(removed);
    }

    fn evict_overflow(&mut self, removed: &mut Removed<K, V>) {
        while self.weight > self.capacity {
            let victim = self
                .policy
                .evict(&mut self.nodes)
                .expect("a store over capacity holds an entry");
            let node = self.unindex(victim);
            removed.push((node.key, node.value, RemovalCause::Size));
        }
    }

    /// Takes entry `i`, already unlinked by the policy, out of the store.
    fn unindex(&mut self, i: u32) -> Node<K, V> {
        let hash = self.nodes[i as usize].hash;
        self.index
            .find_entry(hash, |&j| j == i)
            .unwrap_or_else(|_| unreachable!("every entry is indexed"))
            .remove();
        let node = self.nodes.remove(i as usize);
        self.weight -= node.weight;
        if self.index.capacity() > 4 * self.index.len().max(16) {
            let nodes = &self.nodes;
            self.index
                .shrink_to(self.index.len(), |&j| nodes[j as usize].hash);
            self.nodes.shrink_to_fit();
            self.timers.truncate(self.nodes.capacity());
        }
        node
    }

    /// Removes `key`; returns its entry.
    pub(crate) fn remove<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let i = self.find(hash, key)?;
        self.policy.on_remove(&mut self.nodes, i);
        let node = self.unindex(i);
        Some((node.key, node.value))
    }

    /// Removes every entry for which `keep` returns false.
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(&K, &V) -> bool,
        removed: &mut Removed<K, V>,
    ) {
        let doomed: Vec<u32> = self
            .nodes
            .iter()
            .filter(|(_, node)| !keep(&node.key, &node.value))
            .map(|(i, _)| i as u32)
            .collect();
        for i in doomed {
            self.policy.on_remove(&mut self.nodes, i);
            let node = self.unindex(i);
            removed.push((node.key, node.value, RemovalCause::Explicit));
        }
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self, removed: &mut Removed<K, V>) {
        self.policy.clear();
        self.timers.clear();
        self.index = HashTable::new();
        self.weight = 0;
        removed.extend(
            std::mem::take(&mut self.nodes)
                .into_iter()
                .map(|(_, n)| (n.key, n.value, RemovalCause::Explicit)),
        );
    }

    pub(crate) fn set_capacity(&mut self, capacity: u64, removed: &mut Removed<K, V>) {
        self.capacity = capacity;
        self.policy.set_capacity(capacity);
        self.evict_overflow(removed);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.nodes.iter().map(|(_, node)| (&node.key, &node.value))
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
            store.nodes.capacity() <= 65,
            "{} slots",
            store.nodes.capacity()
        );
        assert_eq!(store.policy.sketch_entries(), 64);
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
