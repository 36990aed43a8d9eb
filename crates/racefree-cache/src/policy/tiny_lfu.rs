//! W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient
//! Cache Admission Policy", ACM ToS 2017), with Caffeine's proportions.

use super::sealed;
use super::sketch::Sketch;
use crate::node::Nodes;
use crate::queue::Queue;

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;

/// How many of probation's oldest entries a newcomer is weighed against:
/// it displaces the least frequent of them, not simply the oldest (which
/// may be a popular key that has not been asked for lately). Against the
/// oldest alone, 8 gained about 1 point of hit ratio on the OLTP trace at
/// capacities 1000 and 2000, 0.3 to 0.8 at 256 and 512, and 0.1 to 0.2 on
/// Zipf keys; 16 gained little more. It costs up to 8 sketch lookups per
/// eviction: about 10 % on a 1 M-entry cache taking 10 % inserts.
const VICTIM_SAMPLE: usize = 8;

/// W-TinyLFU: newcomers enter a small LRU window (1 % of the capacity at
/// first; a hill climber then sizes it to the workload, between 1 % and
/// 80 %).
/// An entry pushed out of the window may enter the main area only if a
/// frequency sketch of recent lookups says it is wanted more often than the
/// entry it would evict, the least wanted of the main area's few oldest
/// entries; so one-pass scans never displace the hot set. The
/// main area is a segmented LRU: entries hit in probation move to
/// protected (80 % of main).
///
/// Unlike Caffeine's, a hit does no more than count in its entry, so that
/// lookups under a shard's shared lock leave the policy alone. The policy
/// reads the count when it next looks at the entry: the count then goes
/// to the sketch, and a hit entry goes where the hit would have sent it
/// (the head of its queue, or protected from probation) instead of
/// leaving. The queues are thus CLOCK approximations of LRU queues.
#[derive(Debug)]
pub struct TinyLfu {
    window: Queue,
    probation: Queue,
    protected: Queue,
    sketch: Sketch,
    capacity: u64,
    window_target: u64,
    main_target: u64,
    protected_target: u64,
    climber: Climber,
}

/// Caffeine's hill climber: every period, it moves the window's share of
/// the capacity one step; if the hit ratio fell, the next step goes the
/// other way. Steps shrink as it settles and reset when the hit ratio
/// jumps (the workload changed). A recency-heavy workload ends with a
/// large window, a frequency-heavy one with a small window.
///
/// Unlike Caffeine's, it stands still when the change is within the
/// period's sampling noise: otherwise noise alone walks the window away
/// from the 1 % that stationary Zipf keys want, which cost 0.3 to 0.5
/// points of hit ratio there. And its first step is down, against the
/// 1 % floor, where Caffeine's is up: a first step up on stationary keys
/// was never undone (no later change stood out from the noise), and the
/// window stayed at 4 to 10 %, which cost Zipf 0.8 0.3 points (32.61 to
/// 32.75 % in seven runs, against 32.96 to 33.07 in nine). A workload
/// whose hit ratio falls still turns it upward.
#[derive(Debug)]
struct Climber {
    /// The window's share of the capacity.
    window: f64,
    /// Signed: the direction of the next move.
    step: f64,
    hits: u64,
    misses: u64,
    previous: Option<f64>,
}

impl Climber {
    /// Half of Caffeine's 6.25 %: on stationary Zipf keys, where a 1 %
    /// window is best, larger steps cost hit ratio in wandering.
    const FIRST_STEP: f64 = 0.03;

    /// Each period's step is this fraction of the last (Caffeine: 0.98),
    /// so the window settles within a few dozen periods.
    const STEP_DECAY: f64 = 0.9;

    /// A change in hit ratio smaller than this many standard deviations of
    /// the difference of two periods' ratios is taken for noise.
    const NOISE_SIGMAS: f64 = 1.5;

    fn new() -> Self {
        Self {
            window: 0.01,
            step: -Self::FIRST_STEP,
            hits: 0,
            misses: 0,
            previous: None,
        }
    }

    /// Counts accesses; after a period of `period` accesses, moves the
    /// window share and says so.
    fn record(&mut self, hits: u64, misses: u64, period: u64) -> bool {
        self.hits += hits;
        self.misses += misses;
        if self.hits + self.misses < period {
            return false;
        }
        let accesses = (self.hits + self.misses) as f64;
        let ratio = self.hits as f64 / accesses;
        self.hits = 0;
        self.misses = 0;
        if let Some(previous) = self.previous.replace(ratio) {
            let change = ratio - previous;
            let noise = (2.0 * ratio * (1.0 - ratio) / accesses).sqrt();
            if change.abs() < Self::NOISE_SIGMAS * noise {
                self.step *= Self::STEP_DECAY;
                return false;
            }
            let magnitude = if change.abs() >= 0.05 {
                Self::FIRST_STEP
            } else {
                self.step.abs() * Self::STEP_DECAY
            };
            self.step = if change < 0.0 {
                -self.step.signum()
            } else {
                self.step.signum()
            } * magnitude;
        }
        self.window = (self.window + self.step).clamp(0.01, 0.8);
        true
    }
}

impl TinyLfu {
    fn queue(&mut self, id: u8) -> &mut Queue {
        match id {
            WINDOW => &mut self.window,
            PROBATION => &mut self.probation,
            _ => &mut self.protected,
        }
    }

    /// Adds entry `i`'s hits since the policy last looked at it to the
    /// sketch; whether it had any.
    fn settle<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) -> bool {
        let hits = std::mem::take(nodes.hits(i));
        self.sketch.add(nodes[i as usize].hash, hits);
        hits > 0
    }

    /// The oldest entry of queue `id` not hit since the policy last looked
    /// at it. Older entries that were hit go to the head, as a hit moves
    /// them in an LRU queue (the CLOCK approximation of LRU).
    fn oldest_unhit<K, V>(&mut self, nodes: &mut Nodes<K, V>, id: u8) -> Option<u32> {
        loop {
            let t = self.queue(id).tail()?;
            if !self.settle(nodes, t) {
                return Some(t);
            }
            self.queue(id).move_to_head(nodes, t);
        }
    }

    /// Probation entry `i` was hit: it moves to protected.
    fn promote<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        self.probation.unlink(nodes, i);
        self.protected.push_head(nodes, i, PROTECTED);
        self.demote_overflow(nodes);
    }

    /// Keeps `protected` within its share by demoting its oldest entries
    /// not hit since the policy last looked.
    fn demote_overflow<K, V>(&mut self, nodes: &mut Nodes<K, V>) {
        while self.protected.weight > self.protected_target {
            let Some(t) = self.oldest_unhit(nodes, PROTECTED) else {
                break;
            };
            self.protected.unlink(nodes, t);
            self.probation.push_head(nodes, t, PROBATION);
        }
    }
}

impl TinyLfu {
    /// The main area's eviction victim and its frequency: the least
    /// frequent of probation's [`VICTIM_SAMPLE`] oldest entries not hit
    /// since the policy last looked at them (the oldest of those on a
    /// tie), or protected's oldest such entry if there is none. Hit
    /// entries met on the way are promoted, as the hit itself would have
    /// done in Caffeine's SLRU.
    fn coldest_oldest<K, V>(&mut self, nodes: &mut Nodes<K, V>) -> Option<(u32, u64)> {
        let mut coldest: Option<(u32, u64)> = None;
        let mut sampled = 0;
        let mut at = self.probation.tail();
        while let Some(i) = at.filter(|_| sampled < VICTIM_SAMPLE) {
            // Promoting `i` may demote entries to probation's head, but
            // leaves its newer neighbour where it is.
            at = Queue::newer(nodes, i);
            if self.settle(nodes, i) {
                self.promote(nodes, i);
                continue;
            }
            sampled += 1;
            let f = self.sketch.frequency(nodes[i as usize].hash);
            if coldest.is_none_or(|(_, c)| f < c) {
                coldest = Some((i, f));
                // None is colder than a key never counted.
                if f == 0 {
                    break;
                }
            }
        }
        coldest.or_else(|| {
            let victim = self.oldest_unhit(nodes, PROTECTED)?;
            Some((victim, self.sketch.frequency(nodes[victim as usize].hash)))
        })
    }

    fn climb(&mut self, hits: u64, misses: u64) {
        if self.climber.record(hits, misses, 10 * self.capacity) {
            sealed::Policy::set_capacity(self, self.capacity);
        }
    }
}

impl super::Policy for TinyLfu {}

impl sealed::Policy for TinyLfu {
    const NAME: &'static str = "W-TinyLFU";
    const HEARS_MISSES: bool = true;

    fn with_capacity(capacity: u64) -> Self {
        let mut policy = Self {
            window: Queue::default(),
            probation: Queue::default(),
            protected: Queue::default(),
            sketch: Sketch::new(capacity.min(1024)),
            capacity,
            window_target: 0,
            main_target: 0,
            protected_target: 0,
            climber: Climber::new(),
        };
        policy.set_capacity(capacity);
        policy
    }

    fn set_capacity(&mut self, capacity: u64) {
        self.capacity = capacity;
        self.window_target = ((capacity as f64 * self.climber.window) as u64).max(1);
        self.main_target = capacity.saturating_sub(self.window_target);
        self.protected_target = self.main_target / 10 * 8;
    }

    fn on_hits(&mut self, n: u64) {
        self.climb(n, 0);
    }

    fn prefetch_miss(&self, hash: u64) {
        self.sketch.prefetch(hash);
    }

    fn on_miss(&mut self, hash: u64) {
        self.sketch.increment(hash);
        self.climb(0, 1);
    }

    fn on_insert<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        // The sketch grows with the number of entries (a weigher can make
        // the capacity far larger than the entry count), as Caffeine's does,
        // but not past the capacity: a full store holds one entry more
        // until it evicts.
        let entries = nodes.len() as u64;
        if entries > self.sketch.entries() as u64 && entries <= self.capacity {
            self.sketch = Sketch::new((entries * 2).min(self.capacity));
        }
        self.window.push_head(nodes, i, WINDOW);
    }

    fn on_remove<K, V>(&mut self, nodes: &mut Nodes<K, V>, i: u32) {
        // Its hits count if the key comes back.
        self.settle(nodes, i);
        let id = nodes[i as usize].queue;
        self.queue(id).unlink(nodes, i);
    }

    fn evict<K, V>(&mut self, nodes: &mut Nodes<K, V>) -> Option<u32> {
        while self.window.weight > self.window_target {
            let Some(candidate) = self.oldest_unhit(nodes, WINDOW) else {
                break;
            };
            self.window.unlink(nodes, candidate);
            let main = self.probation.weight + self.protected.weight;
            if main + nodes[candidate as usize].weight <= self.main_target {
                self.probation.push_head(nodes, candidate, PROBATION);
                continue;
            }
            let Some((victim, victim_frequency)) = self.coldest_oldest(nodes) else {
                return Some(candidate);
            };
            let wanted = self.sketch.frequency(nodes[candidate as usize].hash);
            if wanted > victim_frequency {
                let id = nodes[victim as usize].queue;
                self.queue(id).unlink(nodes, victim);
                self.probation.push_head(nodes, candidate, PROBATION);
                return Some(victim);
            }
            return Some(candidate);
        }
        // The window is within its share, so the main area is over its own.
        let victim = match self.coldest_oldest(nodes) {
            Some((victim, _)) => victim,
            None => self.oldest_unhit(nodes, WINDOW)?,
        };
        let id = nodes[victim as usize].queue;
        self.queue(id).unlink(nodes, victim);
        Some(victim)
    }

    fn clear(&mut self) {
        self.window.clear();
        self.probation.clear();
        self.protected.clear();
    }
}

#[cfg(test)]
impl TinyLfu {
    pub(crate) fn sketch_entries(&self) -> usize {
        self.sketch.entries()
    }
}

#[cfg(test)]
mod tests {
    use super::Climber;

    /// Feeds one period of `period` accesses, `hits` of them hits.
    fn period(climber: &mut Climber, hits: u64, period: u64) -> bool {
        let mut moved = false;
        for n in 0..period {
            moved |= climber.record(u64::from(n < hits), u64::from(n >= hits), period);
        }
        moved
    }

    #[test]
    fn the_climber_holds_still_on_noise_and_follows_real_changes() {
        let mut climber = Climber::new();
        // The first period has nothing to compare with: a step down,
        // against the 1 % floor.
        assert!(period(&mut climber, 500, 1000));
        assert_eq!(climber.window, 0.01);
        // A change of 1 point in 1000 accesses is noise (sigma about 2.2).
        for hits in [500, 510, 500, 495] {
            assert!(!period(&mut climber, hits, 1000));
        }
        assert_eq!(climber.window, 0.01);
        // A fall of 20 points: turn, upward.
        assert!(period(&mut climber, 300, 1000));
        let turned = climber.window;
        assert!(turned > 0.01);
        // A rise of 20 points: keep going the same way.
        assert!(period(&mut climber, 500, 1000));
        assert!(climber.window > turned);
        // A fall of 20 points: turn back.
        let before = climber.window;
        assert!(period(&mut climber, 300, 1000));
        assert!(climber.window < before);
    }
}
