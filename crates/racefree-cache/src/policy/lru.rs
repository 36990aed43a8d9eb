//! Least recently used: the baseline every other policy must beat.

use super::sealed;
use crate::node::Nodes;
use crate::queue::Queue;

/// Least recently used: a hit moves the entry to the head, eviction takes
/// the tail. Every hit writes the queue, and one-pass scans flush it.
#[derive(Debug, Default)]
pub struct Lru {
    queue: Queue,
}

impl super::Policy for Lru {}

impl sealed::Policy for Lru {
    const NAME: &'static str = "LRU";
    const LAZY_HITS: bool = false;

    fn with_capacity(_: u64) -> Self {
        Self::default()
    }

    fn set_capacity(&mut self, _: u64) {}

    fn on_hit<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        self.queue.move_to_head(nodes, i);
    }

    fn on_insert<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        self.queue.push_head(nodes, i, 0);
    }

    fn on_remove<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        self.queue.unlink(nodes, i);
    }

    fn evict<K, V>(&mut self, nodes: &mut Nodes<K, V>) -> Option<u32> {
        let victim = self.queue.tail()?;
        self.queue.unlink(nodes, victim);
        Some(victim)
    }

    fn clear(&mut self) {
        self.queue.clear();
    }
}
