//! The entries of one shard, in a slab, linked into the policy's queues by
//! index.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use slab::Slab;

/// "No entry": the end of a queue.
pub(crate) const NIL: u32 = u32::MAX;

/// One cached entry with the policy's bookkeeping.
#[derive(Debug)]
pub struct Node<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    /// The key's hash, kept so the index can grow without rehashing keys.
    pub(crate) hash: u64,
    /// What the entry counts against the capacity (1 without a weigher).
    pub(crate) weight: u64,
    /// Towards the queue's head (newer), or [`NIL`].
    pub(crate) prev: u32,
    /// Towards the queue's tail (older), or [`NIL`].
    pub(crate) next: u32,
    /// Which of the policy's queues holds the entry.
    pub(crate) queue: u8,
    /// Hits since the policy last looked at the entry, saturating. Lookups
    /// under the shard's shared lock bump it ([`Node::touch`]); the policy
    /// reads and resets it under the exclusive lock.
    pub(crate) hits: AtomicU8,
}

impl<K, V> Node<K, V> {
    /// Counts a hit. A load and a store, not a locked read-modify-write:
    /// two lookups of one key at the same moment may count once, which
    /// only makes the entry look a little less wanted.
    pub(crate) fn touch(&self) {
        let hits = self.hits.load(Relaxed);
        if hits < u8::MAX {
            self.hits.store(hits + 1, Relaxed);
        }
    }

    /// The hits counted since the policy last looked, as a policy sees
    /// them under the exclusive lock.
    pub(crate) fn hits(&mut self) -> &mut u8 {
        self.hits.get_mut()
    }
}

/// A shard's entries.
// `pub` (in a private module): the sealed `Policy` trait names it.
#[allow(unreachable_pub)]
pub type Nodes<K, V> = Slab<Node<K, V>>;
