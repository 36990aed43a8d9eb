//! The entries of one shard, in a slab, linked into the policy's queues by
//! index.

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
    /// The policy's small counter or flag: accessed since last looked at.
    pub(crate) freq: u8,
}

/// A shard's entries.
// `pub` (in a private module): the sealed `Policy` trait names it.
#[allow(unreachable_pub)]
pub type Nodes<K, V> = Slab<Node<K, V>>;
