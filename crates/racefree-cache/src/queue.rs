//! A doubly linked queue threaded through a shard's slab of entries, so
//! that moving an entry is O(1) and costs no allocation. Every policy is
//! built from these. Written by hand because the links live inside the
//! entries (one allocation per entry), which no list crate offers over a
//! slab.

use crate::node::{NIL, Nodes};

/// The head is the newest end, the tail the oldest.
#[derive(Debug)]
pub(crate) struct Queue {
    head: u32,
    tail: u32,
    /// Sum of the linked entries' weights.
    pub(crate) weight: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            head: NIL,
            tail: NIL,
            weight: 0,
        }
    }
}

impl Queue {
    /// The oldest entry.
    pub(crate) fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// Links `i` (not in any queue) at the head, tagged with `id`.
    pub(crate) fn push_head<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32, id: u8) {
        let node = &mut nodes[i as usize];
        node.prev = NIL;
        node.next = self.head;
        node.queue = id;
        self.weight += node.weight;
        if self.head == NIL {
            self.tail = i;
        } else {
            nodes[self.head as usize].prev = i;
        }
        self.head = i;
    }

    /// Unlinks `i`, which is in this queue.
    pub(crate) fn unlink<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        let (prev, next, weight) = {
            let node = &nodes[i as usize];
            (node.prev, node.next, node.weight)
        };
        if prev == NIL {
            self.head = next;
        } else {
            nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            nodes[next as usize].prev = prev;
        }
        self.weight -= weight;
    }

    /// Moves `i`, which is in this queue, to the head.
    pub(crate) fn move_to_head<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        if self.head != i {
            let id = nodes[i as usize].queue;
            self.unlink(nodes, i);
            self.push_head(nodes, i, id);
        }
    }

    /// The entry just newer than `i`, or `None` at the head.
    pub(crate) fn newer<K, V>(nodes: &Nodes<K, V>, i: u32) -> Option<u32> {
        let prev = nodes[i as usize].prev;
        (prev != NIL).then_some(prev)
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}
