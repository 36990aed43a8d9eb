//! The cases of Go's `src/sync/map_bench_test.go` (WORKLOADS.md §2), so
//! racefree's maps can be measured on the work Go's `sync.Map` was built
//! for. The cases' ideas and numbers are Go's; the code is racefree's.

use std::fmt;
use std::time::{Duration, Instant};

use crate::adapter::BenchMap;
use crate::timing::time_threads;

/// A benchmark case of Go's `sync.Map`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GoCase {
    /// 1023 primed keys and 1 miss: `get(i % 1024)`.
    LoadMostlyHits,
    /// 1 primed key and 1023 misses: `get(i % 1024)`.
    LoadMostlyMisses,
    /// Half the calls find one of 128 primed keys, half store a new key.
    LoadOrStoreBalanced,
    /// Every call stores a new key.
    LoadOrStoreUnique,
    /// Every call finds key 0.
    LoadOrStoreCollision,
    /// Half the calls remove a primed key, half a key that never existed.
    LoadAndDeleteBalanced,
    /// Remove key 0, and put it back if it was there.
    LoadAndDeleteCollision,
    /// One full iteration over 1024 entries.
    Range,
    /// Gets that miss, with a store each time misses outnumber stores.
    AdversarialAlloc,
    /// Gets over 1024 entries; every 1024th call removes the first key
    /// iteration yields and stores a new one.
    AdversarialDelete,
    /// Remove key 0.
    DeleteCollision,
    /// Store key 0.
    SwapCollision,
    /// Compare-and-swap key 0 from 0 to 42 and back.
    CompareAndSwapCollision,
}

impl GoCase {
    /// The cases the default run measures.
    pub const MAIN: [GoCase; 8] = [
        Self::LoadMostlyHits,
        Self::LoadMostlyMisses,
        Self::LoadOrStoreBalanced,
        Self::LoadAndDeleteBalanced,
        Self::Range,
        Self::AdversarialAlloc,
        Self::AdversarialDelete,
        Self::SwapCollision,
    ];

    /// How many map operations one call of the case does, to size runs:
    /// a `Range` call visits every entry.
    pub fn weight(self) -> u64 {
        match self {
            Self::Range => 1024,
            _ => 1,
        }
    }

    /// Fills a fresh map as Go's case does, then reads the primed keys
    /// twice over so caches are warm.
    fn setup<M: BenchMap>(self, map: &M) {
        let primed = match self {
            Self::LoadMostlyHits => 1023,
            Self::LoadMostlyMisses | Self::LoadOrStoreCollision | Self::CompareAndSwapCollision => {
                1
            }
            Self::LoadOrStoreBalanced | Self::LoadAndDeleteBalanced => 128,
            Self::Range | Self::AdversarialDelete => 1024,
            _ => 0,
        };
        for i in 0..primed {
            map.insert(i, i);
        }
        for i in 0..2 * primed {
            map.get(i % primed.max(1));
        }
    }
}

impl fmt::Display for GoCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format!("{self:?}");
        write!(f, "go:{name}")
    }
}

/// What one thread carries from call to call.
#[derive(Default)]
struct ThreadState {
    stores: u64,
    loads_since_store: u64,
}

/// One call of `case` with counter `i`.
///
/// # Panics
///
/// If the map answers what the case rules out, as Go's benchmarks do.
fn call<M: BenchMap>(case: GoCase, map: &M, i: u64, state: &mut ThreadState) {
    match case {
        GoCase::LoadMostlyHits => {
            let key = i % 1024;
            assert_eq!(map.get(key), key < 1023, "LoadMostlyHits: key {key}");
        }
        GoCase::LoadMostlyMisses => {
            let key = i % 1024;
            assert_eq!(map.get(key), key == 0, "LoadMostlyMisses: key {key}");
        }
        GoCase::LoadOrStoreBalanced => {
            let j = i % 256;
            if j < 128 {
                assert!(
                    map.get_or_insert(j, i),
                    "LoadOrStoreBalanced: primed key {j} missing"
                );
            } else {
                assert!(
                    !map.get_or_insert(i, i),
                    "LoadOrStoreBalanced: new key {i} already present"
                );
            }
        }
        GoCase::LoadOrStoreUnique => {
            assert!(
                !map.get_or_insert(i, i),
                "LoadOrStoreUnique: new key {i} already present"
            );
        }
        GoCase::LoadOrStoreCollision => {
            assert!(
                map.get_or_insert(0, 0),
                "LoadOrStoreCollision: key 0 missing"
            );
        }
        GoCase::LoadAndDeleteBalanced => {
            let j = i % 256;
            map.remove(if j < 128 { j } else { i });
        }
        GoCase::LoadAndDeleteCollision => {
            if map.remove(0) {
                map.insert(0, 0);
            }
        }
        GoCase::Range => {
            assert_eq!(map.count_entries(), 1024, "Range: entries visited");
        }
        GoCase::AdversarialAlloc => {
            map.get(i);
            state.loads_since_store += 1;
            if state.loads_since_store > state.stores {
                map.get_or_insert(i, state.stores);
                state.loads_since_store = 0;
                state.stores += 1;
            }
        }
        GoCase::AdversarialDelete => {
            map.get(i);
            if i % 1024 == 0 {
                if let Some(first) = map.first_key() {
                    map.remove(first);
                }
                map.insert(i, i);
            }
        }
        GoCase::DeleteCollision => {
            map.remove(0);
        }
        GoCase::SwapCollision => {
            map.insert(0, 0);
        }
        GoCase::CompareAndSwapCollision => {
            if map.compare_and_swap(0, 0, 42) {
                map.compare_and_swap(0, 42, 0);
            }
        }
    }
}

/// Runs `case` on a fresh `M` with `threads` threads for about `duration`
/// and returns the time taken and the calls made (setup excluded). Thread
/// `t`'s counter starts at `t · 2^40`, so "new" keys never collide.
///
/// Bounded by time rather than by calls: a map that stalls (a spinning
/// lock whose holder was preempted) shows as low throughput instead of
/// stretching the run.
pub fn run<M: BenchMap>(case: GoCase, threads: usize, duration: Duration) -> (Duration, u64) {
    let map = M::with_capacity(1024);
    case.setup(&map);
    // Check the clock every `batch` calls: about 256 map operations.
    let batch = (256 / case.weight()).max(1);
    let (took, calls) = time_threads(
        threads,
        |_| ThreadState::default(),
        |t, mut state| {
            let deadline = Instant::now() + duration;
            let first = (t as u64) << 40;
            let mut i = first;
            while Instant::now() < deadline {
                for _ in 0..batch {
                    call(case, &map, i, &mut state);
                    i += 1;
                }
            }
            i - first
        },
    );
    (took, calls.into_iter().sum())
}
