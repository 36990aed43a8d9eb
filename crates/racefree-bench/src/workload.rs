//! The conc-map-bench model (the `bustle` crate's): each thread owns a
//! disjoint set of keys and replays a shuffled 100-slot operation mix.
//!
//! Written here rather than taken from `bustle` because the runner checks
//! every result and must grow to other key types and distributions.

use std::fmt;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use crate::adapter::BenchMap;
use crate::mix::Mix;
use crate::timing::time_threads;

/// One operation of a mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Insert,
    Remove,
    Update,
}

/// A workload of `WORKLOADS.md` §1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// 98 % reads, 1 % inserts, 1 % removes; 75 % prefilled.
    ReadHeavy,
    /// 10 % reads, 40 % inserts, 40 % removes, 10 % updates; 75 % prefilled.
    Exchange,
    /// 5 % reads, 80 % inserts, 5 % removes, 10 % updates; empty at start.
    RapidGrow,
}

impl Preset {
    /// The three workloads of the trio.
    pub const TRIO: [Preset; 3] = [Self::ReadHeavy, Self::Exchange, Self::RapidGrow];

    /// The workload this preset names.
    pub fn workload(self) -> Workload {
        let (name, read, insert, remove, update, prefill) = match self {
            Self::ReadHeavy => ("read-heavy", 98, 1, 1, 0, 0.75),
            Self::Exchange => ("exchange", 10, 40, 40, 10, 0.75),
            Self::RapidGrow => ("rapid-grow", 5, 80, 5, 10, 0.0),
        };
        Workload {
            name: name.to_owned(),
            mix: Mix {
                read,
                insert,
                remove,
                update,
            },
            prefill,
        }
    }
}

/// What the threads do: a mix of operations on a map prefilled to a share
/// of its capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// The name shown in reports.
    pub name: String,
    /// The operation mix.
    pub mix: Mix,
    /// The share of the capacity inserted before timing starts, 0 to 1.
    pub prefill: f64,
}

impl Workload {
    /// A workload with a user's mix, named after it.
    pub fn custom(mix: Mix, prefill: f64) -> Self {
        Self {
            name: mix.to_string(),
            mix,
            prefill,
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// How big one run is.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// log2 of the map's initial capacity; prefill is a share of it.
    pub capacity_log2: u32,
    /// Operations in one run, across all threads.
    pub operations: u64,
    /// How long one run of a Go case lasts.
    pub go_run: Duration,
}

/// The key of index `i` for `thread`: a bijective mix, so keys look random
/// to the hasher and the threads' key sets never overlap.
fn key(thread: usize, i: u64) -> u64 {
    let mut x = ((thread as u64) << 40) ^ i;
    // splitmix64's finaliser: a bijection on u64.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The 100-slot operation array for `mix`, shuffled once with a fixed seed.
fn plan(mix: Mix) -> Vec<Op> {
    let mut ops = Vec::with_capacity(100);
    for (op, share) in [
        (Op::Read, mix.read),
        (Op::Insert, mix.insert),
        (Op::Remove, mix.remove),
        (Op::Update, mix.update),
    ] {
        ops.extend(std::iter::repeat_n(op, usize::from(share)));
    }
    assert_eq!(ops.len(), 100, "a mix must add up to 100 %");
    ops.shuffle(&mut SmallRng::seed_from_u64(0x5eed));
    ops
}

/// Runs `workload` on a fresh `M` with `threads` threads and returns the
/// time the operations took (prefill excluded).
///
/// # Panics
///
/// If the map gives a wrong answer: a fresh key already present, a live key
/// missing, or a removed key still there.
pub fn run<M: BenchMap>(workload: &Workload, threads: usize, size: Size) -> Duration {
    let capacity = 1usize << size.capacity_log2;
    let map = M::with_capacity(capacity);
    let ops = plan(workload.mix);
    let per_thread_ops = size.operations / threads as u64;
    let per_thread_prefill = (capacity as f64 * workload.prefill) as u64 / threads as u64;
    let (took, _) = time_threads(
        threads,
        |t| {
            // Live keys are key(t, oldest..next).
            let mut next = 0u64;
            while next < per_thread_prefill {
                assert!(
                    map.insert(key(t, next), next),
                    "prefill: fresh key {next} was present"
                );
                next += 1;
            }
            next
        },
        |t, prefilled| {
            let (mut oldest, mut next) = (0u64, prefilled);
            // A full-period walk over the live keys for reads and updates.
            let mut walk = 0u64;
            for i in 0..per_thread_ops {
                let live = next - oldest;
                match ops[(i % 100) as usize] {
                    Op::Read | Op::Update if live == 0 => {}
                    Op::Read => {
                        walk = walk.wrapping_add(0x9e37_79b9_7f4a_7c15);
                        let k = key(t, oldest + walk % live);
                        assert!(map.get(k), "read: live key missing");
                    }
                    Op::Update => {
                        walk = walk.wrapping_add(0x9e37_79b9_7f4a_7c15);
                        let k = key(t, oldest + walk % live);
                        assert!(map.update(k), "update: live key missing");
                    }
                    Op::Insert => {
                        assert!(map.insert(key(t, next), i), "insert: fresh key was present");
                        next += 1;
                    }
                    Op::Remove if live == 0 => {}
                    Op::Remove => {
                        assert!(map.remove(key(t, oldest)), "remove: live key missing");
                        oldest += 1;
                    }
                }
            }
            // The end state: the last removed key is gone, the newest is there.
            assert!(
                oldest == 0 || !map.get(key(t, oldest - 1)),
                "a removed key is back"
            );
            assert!(
                next == oldest || map.get(key(t, next - 1)),
                "the newest key is missing"
            );
        },
    );
    took
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_follow_the_mix() {
        for preset in Preset::TRIO {
            let mix = preset.workload().mix;
            let ops = plan(mix);
            let count = |op| ops.iter().filter(|&&o| o == op).count() as u8;
            assert_eq!(
                (
                    count(Op::Read),
                    count(Op::Insert),
                    count(Op::Remove),
                    count(Op::Update)
                ),
                (mix.read, mix.insert, mix.remove, mix.update)
            );
        }
    }

    #[test]
    fn keys_of_different_threads_never_collide() {
        let mut seen = std::collections::HashSet::new();
        for t in 0..8 {
            for i in 0..10_000 {
                assert!(seen.insert(key(t, i)));
            }
        }
    }
}
