//! A count-min sketch of byte counters that halves itself periodically:
//! TinyLFU's frequency estimate (Einziger, Friedman and Manes, "TinyLFU: A
//! Highly Efficient Cache Admission Policy", ACM ToS 2017). Caffeine's
//! `FrequencySketch` packs 4-bit counters; this one differs where the
//! constants say, because racefree-bench's hit-ratio rows measured it
//! better.
//! Caffeine's newer layout, a key's four counters in one 64-byte block, was
//! measured here and was no faster (about 20 ns an increment either way on
//! a sketch beyond the L2 cache): the four rows' cache misses overlap.
//! Measured again under cachegrind (a 2 MiB last-level cache; 4 M calls of
//! racefree-bench's 90/10 mix at capacity 65 536, one thread), blocks cut
//! the sketch's last-level misses from 1.5 M to 0.6 M, of the cache's 2.5 M
//! and 1.3 M in all; but timed runs stayed within their noise, and Zipf 0.8
//! fell to 32.73 to 32.89 % in four runs, against 32.96 to 33.07 with
//! rows: more than a point below the optimum (33.95 %). Blocks of twice
//! the memory (64 counters per entry) kept Zipf 0.8 at 33.09 % and still
//! saved misses, yet in alternating timed runs their ratio to quick_cache
//! on the 90/10 mix (0.56 to 0.73 at 1, 2 and 8 threads) did not rise
//! above the rows' (0.50 to 0.98): on that mix the cache runs twice
//! quick_cache's instructions, and the sketch's misses overlap them. Half
//! the rows' memory (16 per entry) lost Zipf 0.8 half a point (32.48 %).
//! Written by hand: it is the core of the policy and fits in a page.

/// Per-row multipliers that spread one 64-bit hash over four rows.
const SEEDS: [u64; 4] = [
    0x97cb_3127_2ded_1b4f,
    0xc2b2_ae3d_27d4_eb4f,
    0x1656_67b1_9e37_79f9,
    0x9e37_79b9_7f4a_7c15,
];

/// Counters (bytes) per entry the sketch is sized for, shared by the four
/// rows: 32 bytes an entry, as the 64 half-byte counters it replaced.
const COUNTERS_PER_ENTRY: u64 = 32;

/// Increments per entry between halvings. The memory must be long to tell
/// apart keys of close popularity: at capacity 1000 under Zipf 0.8, the
/// 1000th key is seen about 9 times in 100 000 requests. Byte counters
/// let it be four times Caffeine's 25 without saturating: Zipf 0.8 and 1.0
/// gained 0.5 to 0.9 points over 4-bit counters halved every 25, the OLTP
/// trace (whose popular set drifts) lost 1 to 2.
const SAMPLE_PER_ENTRY: u64 = 100;

/// Estimates how often each hash was seen recently, never underestimating
/// (until it halves).
#[derive(Debug)]
pub(crate) struct Sketch {
    /// A power of two in length.
    counters: Vec<u8>,
    /// Increments since the last halving.
    additions: u64,
    /// Halve after this many increments, so the sketch tracks the recent
    /// past.
    sample: u64,
}

impl Sketch {
    /// A sketch sized for `entries` distinct hot keys.
    pub(crate) fn new(entries: u64) -> Self {
        let entries = entries.clamp(16, 1 << 24).next_power_of_two();
        Self {
            counters: vec![0; (entries * COUNTERS_PER_ENTRY) as usize],
            additions: 0,
            sample: SAMPLE_PER_ENTRY * entries,
        }
    }

    /// How many entries the sketch was sized for.
    pub(crate) fn entries(&self) -> usize {
        (self.sample / SAMPLE_PER_ENTRY) as usize
    }

    /// `hash`'s counter index in each row.
    fn slots(&self, hash: u64) -> [usize; 4] {
        let mask = self.counters.len() as u64 - 1;
        std::array::from_fn(|row| {
            let h = (hash ^ (hash >> 29)).wrapping_mul(SEEDS[row]);
            ((h >> 32) & mask) as usize
        })
    }

    /// Starts loading `hash`'s four counters, for an increment to come. A
    /// reader that misses calls this (through
    /// [`Policy::prefetch_miss`](super::sealed::Policy::prefetch_miss)), so
    /// that the writer who later drains the miss into the sketch finds them
    /// near at hand: the sketch is 32 bytes an entry, beyond the first-level
    /// cache and sharing the second with the entries.
    pub(crate) fn prefetch(&self, hash: u64) {
        for i in self.slots(hash) {
            racefree::prefetch(self.counters.as_ptr().wrapping_add(i).addr());
        }
    }

    /// Counts one occurrence of `hash`.
    pub(crate) fn increment(&mut self, hash: u64) {
        self.add(hash, 1);
    }

    /// Counts `n` occurrences of `hash`. A conservative update: no counter
    /// rises above the estimate plus `n`, so a key shares less of its count
    /// with the keys that collide with it in other rows.
    pub(crate) fn add(&mut self, hash: u64, n: u8) {
        // Most entries the policy looks at were not hit since: skip their
        // four counters' cache misses.
        if n == 0 {
            return;
        }
        let slots = self.slots(hash);
        let estimate = slots.iter().map(|&i| self.counters[i]).min().unwrap_or(0);
        if estimate == u8::MAX {
            return;
        }
        let raised = estimate.saturating_add(n);
        for i in slots {
            self.counters[i] = self.counters[i].max(raised);
        }
        self.additions += u64::from(n);
        if self.additions >= self.sample {
            for counter in &mut self.counters {
                *counter >>= 1;
            }
            self.additions /= 2;
        }
    }

    /// The estimated count of `hash`, 0 to 255.
    pub(crate) fn frequency(&self, hash: u64) -> u64 {
        self.slots(hash)
            .into_iter()
            .map(|i| u64::from(self.counters[i]))
            .min()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_to_255_and_never_underestimates() {
        let mut sketch = Sketch::new(1024);
        for n in 1..=300u64 {
            sketch.increment(42);
            assert!(sketch.frequency(42) >= n.min(255));
        }
        assert_eq!(sketch.frequency(42), 255);
    }

    #[test]
    fn conservative_update_leaves_a_colliding_key_alone() {
        let mut sketch = Sketch::new(16);
        // Find two hashes that share exactly one counter.
        let a = 1u64;
        let b = (2..)
            .find(|&b| {
                let (sa, sb) = (sketch.slots(a), sketch.slots(b));
                sa.iter().filter(|i| sb.contains(i)).count() == 1
                    && sb.iter().filter(|i| sa.contains(i)).count() == 1
            })
            .unwrap();
        for _ in 0..10 {
            sketch.increment(a);
        }
        // `b`'s shared counter holds 10, its others 0: its estimate is 0,
        // and incrementing it raises only the counters at 0.
        assert_eq!(sketch.frequency(b), 0);
        sketch.increment(b);
        assert_eq!(sketch.frequency(b), 1);
        assert_eq!(sketch.frequency(a), 10);
    }

    /// A policy adds an entry's hits in one go when it next looks at the
    /// entry: that must leave the counters as the hits one by one would.
    #[test]
    fn adding_n_is_n_increments() {
        let (mut batched, mut one_by_one) = (Sketch::new(16), Sketch::new(16));
        for (key, n) in (0..200u64).map(|k| (k.wrapping_mul(0x9e37_79b9_7f4a_7c15), k % 7)) {
            batched.add(key, n as u8);
            for _ in 0..n {
                one_by_one.increment(key);
            }
        }
        assert!(batched.counters.iter().any(|&c| c > 1));
        assert_eq!(batched.counters, one_by_one.counters);
        assert_eq!(batched.additions, one_by_one.additions);
    }

    #[test]
    fn halves_after_its_sample() {
        let mut sketch = Sketch::new(16);
        for _ in 0..8 {
            sketch.increment(7);
        }
        let before = sketch.frequency(7);
        // Other keys fill the sample and trigger a halving.
        for key in 0..sketch.sample {
            sketch.increment(key.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 << 63);
        }
        assert!(
            sketch.frequency(7) < before,
            "{} !< {before}",
            sketch.frequency(7)
        );
    }
}
