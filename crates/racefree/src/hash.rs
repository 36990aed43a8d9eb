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
