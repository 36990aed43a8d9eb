//! S3-FIFO (Yang, Zhang, Qiu, Yue and Rashmi, "FIFO queues are all you
//! need for cache eviction", SOSP '23).

use std::collections::VecDeque;

use hashbrown::HashMap;
use racefree::DefaultHashBuilder;

use super::sealed;
use crate::node::Nodes;
use crate::queue::Queue;

const SMALL: u8 = 0;
const MAIN: u8 = 1;

/// S3-FIFO: new entries enter a small FIFO (10 % of the capacity); those
/// hit at least twice while there move to the main FIFO (the paper's
/// threshold, which measured better here than once), the rest leave and
/// their hashes go to a ghost FIFO. A newcomer whose hash is in the ghost goes straight
/// to main. Main reinserts entries with a nonzero 2-bit counter,
/// decrementing it. Hits only count in the entry; counts above 3 are
/// taken as 3.
#[derive(Debug)]
pub struct S3Fifo {
    small: Queue,
    main: Queue,
    /// Hashes of entries evicted from `small`, oldest first, at most as
    /// many as the store holds entries; `ghost_counts` indexes them (a hash
    /// may be there more than once).
    ghost: VecDeque<u64>,
    ghost_counts: HashMap<u64, u32, DefaultHashBuilder>,
    /// The weight `small` may hold before eviction takes from it.
    small_target: u64,
}

impl S3Fifo {
    fn remember(&mut self, hash: u64, limit: usize) {
        self.ghost.push_back(hash);
        *self.ghost_counts.entry(hash).or_default() += 1;
        while self.ghost.len() > limit.max(1) {
            let old = self.ghost.pop_front().expect("ghost is not empty");
            // Every hash in the FIFO is counted.
            let count = self
                .ghost_counts
                .get_mut(&old)
                .expect("ghost hashes are counted");
            *count -= 1;
            if *count == 0 {
                self.ghost_counts.remove(&old);
            }
        }
    }
}

impl super::Policy for S3Fifo {}

impl sealed::Policy for S3Fifo {
    const NAME: &'static str = "S3-FIFO";

    fn with_capacity(capacity: u64) -> Self {
        Self {
            small: Queue::default(),
            main: Queue::default(),
            ghost: VecDeque::new(),
            ghost_counts: HashMap::default(),
            small_target: (capacity / 10).max(1),
        }
    }

    fn set_capacity(&mut self, capacity: u64) {
        self.small_target = (capacity / 10).max(1);
    }

    fn on_insert<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        // A ghost hit leaves its record: the ghost FIFO ages it out.
        if self.ghost_counts.contains_key(&nodes[i as usize].hash) {
            self.main.push_head(nodes, i, MAIN);
        } else {
            self.small.push_head(nodes, i, SMALL);
        }
    }

    fn on_remove<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        match nodes[i as usize].queue {
            SMALL => self.small.unlink(nodes, i),
            _ => self.main.unlink(nodes, i),
        }
    }

    fn evict<K, V>(&mut self, nodes: &mut Nodes<K, V>) -> Option<u32> {
        loop {
            let from_small = self.small.weight > self.small_target || self.main.tail().is_none();
            if let Some(t) = self.small.tail().filter(|_| from_small) {
                self.small.unlink(nodes, t);
                if std::mem::take(nodes.hits(t)) > 1 {
                    self.main.push_head(nodes, t, MAIN);
                    continue;
                }
                // The victim still counts in `nodes`, hence the `- 1`.
                self.remember(nodes[t as usize].hash, nodes.len() - 1);
                return Some(t);
            }
            let t = self.main.tail()?;
            let hits = nodes.hits(t);
            if *hits > 0 {
                // The paper's 2-bit counter: hits beyond 3 do not count.
                *hits = (*hits).min(3) - 1;
                self.main.move_to_head(nodes, t);
            } else {
                self.main.unlink(nodes, t);
                return Some(t);
            }
        }
    }

    fn clear(&mut self) {
        self.small.clear();
        self.main.clear();
        self.ghost.clear();
        self.ghost_counts.clear();
    }
}
