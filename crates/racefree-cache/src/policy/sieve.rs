//! SIEVE (Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is Simpler than
//! LRU", NSDI '24).

use super::sealed;
use crate::node::Nodes;
use crate::queue::Queue;

/// SIEVE: a FIFO queue and a hand. A hit only counts in the entry (the
/// paper's visited bit is a count above 0); eviction moves the hand from
/// the tail towards the head, clearing counts, and evicts the first entry
/// that was not visited. Survivors keep their place, so new entries are
/// judged quickly.
#[derive(Debug, Default)]
pub struct Sieve {
    queue: Queue,
    /// The next entry the hand examines; `None` means the tail.
    hand: Option<u32>,
}

impl super::Policy for Sieve {}

impl sealed::Policy for Sieve {
    const NAME: &'static str = "SIEVE";

    fn with_capacity(_: u64) -> Self {
        Self::default()
    }

    fn set_capacity(&mut self, _: u64) {}

    fn on_insert<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        self.queue.push_head(nodes, i, 0);
    }

    fn on_remove<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        if self.hand == Some(i) {
            self.hand = Queue::newer(nodes, i);
        }
        self.queue.unlink(nodes, i);
    }

    fn evict<K, V>(&mut self, nodes: &mut Nodes<K, V>) -> Option<u32> {
        let mut at = self.hand.or(self.queue.tail())?;
        while std::mem::take(nodes.hits(at)) != 0 {
            at = Queue::newer(nodes, at).or(self.queue.tail())?;
        }
        self.hand = Queue::newer(nodes, at);
        self.queue.unlink(nodes, at);
        Some(at)
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}
