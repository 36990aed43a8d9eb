//! The default hasher.

/// The hasher every racefree map uses unless given another:
/// [foldhash](https://docs.rs/foldhash)'s `fast::RandomState`.
///
/// Each map gets its own seed (a per-instance value mixed with a random
/// per-process seed), so keys chosen by an attacker cannot be made to collide
/// in advance (HashDoS). foldhash was chosen because it is among the fastest
/// seeded hashers for short keys such as integers and small strings, which
/// dominate concurrent-map workloads, and it is what `hashbrown` itself
/// defaults to. Supply any other [`BuildHasher`](std::hash::BuildHasher)
/// through the maps' `with_hasher` constructors, for example
/// [`std::hash::RandomState`] (SipHash) where stronger resistance matters
/// more than speed.
///
/// ```
/// use racefree::{ConcurrentMap, DefaultHashBuilder, ShardedMap};
///
/// // The default, spelled out: each map draws its own seed.
/// let map: ShardedMap<String, u32, DefaultHashBuilder> = ShardedMap::new();
/// map.insert("key".into(), 1);
/// ```
pub type DefaultHashBuilder = foldhash::fast::RandomState;

/// Which of `shards` shards owns a key with this `hash`: the maps' and
/// racefree-cache's shard choice, usable for any structure sharded by a
/// hash.
///
/// The hash is mixed first (a multiply by 2^64 / φ, Knuth's multiplicative
/// hashing) and its top bits scaled to `shards` (Lemire's multiply-shift
/// range reduction). foldhash's hash of an integer is one folded multiply by
/// a per-process seed, and for about one seed in 200 its high bits barely
/// change across a run of consecutive keys: picking shards from those bits
/// put all of keys 0 to 499 in one shard of eight. Mixed, the fullest of
/// eight shards held at most 99 of 500 such keys over 20 000 seeds.
/// The mixed bits depend on all of the hash, so the keys of one shard do
/// not share hashbrown's bucket bits (the low ones) or tag bits (the top
/// seven). It never panics: `shards == 0` gives 0.
///
/// ```
/// let shard = racefree::shard_index(0x1234_5678_9abc_def0, 16);
/// assert!(shard < 16);
/// ```
#[inline]
#[must_use]
pub fn shard_index(hash: u64, shards: usize) -> usize {
    let mixed = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((u128::from(mixed) * shards as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// Consecutive integer keys spread evenly whatever the seed. A test
    /// process has one per-process seed, so this builds foldhash's `fast`
    /// hasher, which [`DefaultHashBuilder`] is, over 2000 shared seeds; the
    /// test fails for the unmixed high bits.
    #[test]
    fn consecutive_keys_spread_over_shards_for_any_seed() {
        use foldhash::SharedSeed;
        use foldhash::fast::SeedableRandomState;

        let seeds = DefaultHashBuilder::default();
        for n in 0..2000u64 {
            let shared: &'static SharedSeed =
                Box::leak(Box::new(SharedSeed::from_u64(seeds.hash_one(n))));
            let hasher = SeedableRandomState::with_seed(seeds.hash_one(!n), shared);
            let mut counts = [0u32; 8];
            for key in 0..500u64 {
                counts[shard_index(hasher.hash_one(key), 8)] += 1;
            }
            // Expected 62.5 a shard, standard deviation 7.4.
            assert!(counts.iter().all(|&c| c < 110), "seed {n}: {counts:?}");
        }
    }

    #[test]
    fn every_shard_is_reachable_and_none_beyond() {
        let seeds = DefaultHashBuilder::default();
        for shards in [1, 2, 3, 8, 64] {
            let mut seen = vec![false; shards];
            for key in 0..10_000u64 {
                seen[shard_index(seeds.hash_one(key), shards)] = true;
            }
            assert!(seen.iter().all(|&s| s), "{shards} shards");
        }
        assert_eq!(shard_index(u64::MAX, 0), 0);
    }
}
