//! Workloads of operation mixes (WORKLOADS.md §1 and `--mix`): what they
//! are and how big a run is. `fresh_keys` and `shared_keys` run them.

use std::fmt;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use crate::adapter::BenchMap;
use crate::datum::Datum;
use crate::distribution::Distribution;
use crate::mix::Mix;
use crate::{fresh_keys, shared_keys};

/// One operation of a mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Insert,
    Remove,
    Update,
    GetOrInsert,
    CompareAndSwap,
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
                ..Mix::default()
            },
            prefill,
            keys: KeySpace::Fresh,
        }
    }
}

/// Which keys the operations use.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum KeySpace {
    /// conc-map-bench's model: each thread owns its keys, inserts always
    /// take a fresh key and removes the thread's oldest, so every result
    /// is known in advance and checked. The map's size is its capacity
    /// times the prefill share.
    #[default]
    Fresh,
    /// All threads share `keys` keys, picked by `distribution`, so hot
    /// keys are contended; inserts may find their key and removes may miss.
    /// Values read must be the key's own, and inserts minus removes must
    /// match the final size.
    Shared {
        /// How many keys.
        keys: u64,
        /// Which keys the operations hit.
        distribution: Distribution,
    },
}

/// What the threads do: a mix of operations on a prefilled map.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// The name shown in reports.
    pub name: String,
    /// The operation mix.
    pub mix: Mix,
    /// The share of the capacity (or of the shared keys) inserted before
    /// timing starts, 0 to 1.
    pub prefill: f64,
    /// Which keys the operations use.
    pub keys: KeySpace,
}

impl Workload {
    /// A workload with a user's mix, named after it.
    pub fn custom(mix: Mix, prefill: f64) -> Self {
        Self {
            name: mix.to_string(),
            mix,
            prefill,
            keys: KeySpace::Fresh,
        }
    }

    /// This workload on a shared key space, with the space in its name.
    pub fn on_shared_keys(mut self, keys: u64, distribution: Distribution) -> Self {
        self.name = format!("{} ({keys} {distribution} keys)", self.name);
        self.keys = KeySpace::Shared { keys, distribution };
        self
    }

    /// Runs this workload on a fresh `M` with `threads` threads and returns
    /// the time the operations took (prefill excluded) and how many there
    /// were.
    ///
    /// # Panics
    ///
    /// If the map gives a wrong answer (see [`KeySpace`]).
    pub fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(
        &self,
        threads: usize,
        size: Size,
    ) -> (Duration, u64) {
        match self.keys {
            KeySpace::Fresh => fresh_keys::run::<K, V, M>(self, threads, size),
            KeySpace::Shared { keys, distribution } => {
                shared_keys::run::<K, V, M>(self, keys, distribution, threads, size)
            }
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// How long a run of a mix lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// This many operations, across all threads.
    Operations(u64),
    /// Each thread runs for this long.
    Time(Duration),
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operations(n) => write!(f, "{n} operations per run"),
            Self::Time(d) => write!(f, "{} ms per run", d.as_millis()),
        }
    }
}

/// How big one run is.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    /// log2 of the map's initial capacity; a fresh-key prefill is a share of it.
    pub capacity_log2: u32,
    /// How long a run of a mix lasts.
    pub budget: Budget,
    /// How long one run of a Go case lasts.
    pub go_run: Duration,
}

#[cfg(test)]
impl Size {
    /// A run small enough for a unit test.
    pub(crate) fn tiny() -> Self {
        Self {
            capacity_log2: 8,
            budget: Budget::Operations(10_000),
            go_run: Duration::ZERO,
        }
    }
}

/// Calls `op(i)` for `i` from 0 until one thread's share of `budget` is
/// spent; returns how many calls it made.
pub(crate) fn drive(budget: Budget, threads: usize, mut op: impl FnMut(u64)) -> u64 {
    match budget {
        Budget::Operations(total) => {
            let share = total / threads as u64;
            (0..share).for_each(&mut op);
            share
        }
        Budget::Time(span) => {
            let deadline = Instant::now() + span;
            let mut i = 0;
            // Read the clock every 100 operations, one pass of the mix.
            while Instant::now() < deadline {
                (i..i + 100).for_each(&mut op);
                i += 100;
            }
            i
        }
    }
}

/// splitmix64's finaliser: a bijection on u64 that makes consecutive
/// numbers look random to a hasher.
pub(crate) fn scramble(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The 100-slot operation array for `mix`, shuffled once with a fixed seed.
pub(crate) fn plan(mix: Mix) -> Vec<Op> {
    let mut ops = Vec::with_capacity(100);
    for (op, share) in [
        (Op::Read, mix.read),
        (Op::Insert, mix.insert),
        (Op::Remove, mix.remove),
        (Op::Update, mix.update),
        (Op::GetOrInsert, mix.get_or_insert),
        (Op::CompareAndSwap, mix.compare_and_swap),
    ] {
        ops.extend(std::iter::repeat_n(op, usize::from(share)));
    }
    assert_eq!(ops.len(), 100, "a mix must add up to 100 %");
    ops.shuffle(&mut SmallRng::seed_from_u64(0x5eed));
    ops
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
        let mix: Mix = "get_or_insert=60,compare_and_swap=40".parse().unwrap();
        let ops = plan(mix);
        assert_eq!(ops.iter().filter(|&&o| o == Op::GetOrInsert).count(), 60);
        assert_eq!(ops.iter().filter(|&&o| o == Op::CompareAndSwap).count(), 40);
    }
}
