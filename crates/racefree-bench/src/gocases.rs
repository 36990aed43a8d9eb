//! The cases of Go's `src/sync/map_bench_test.go` (WORKLOADS.md §2), so
//! racefree's maps can be measured on the work Go's `sync.Map` was built
//! for. The cases' ideas and numbers are Go's; the code is racefree's.

use std::fmt;
use std::time::{Duration, Instant};

use crate::adapter::BenchMap;
use crate::datum::Datum;
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
    fn setup<K: Datum, V: Datum, M: BenchMap<K, V>>(self, map: &M) {
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
            map.insert(K::from_number(i), V::from_number(i));
        }
        let keys = Keys::<K>::new();
        for i in 0..2 * primed {
            map.get(keys.small(i % primed.max(1)), |_| ());
        }
    }
}

impl fmt::Display for GoCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format!("{self:?}");
        write!(f, "go:{name}")
    }
}

/// The keys of Go's small key spaces (below 1024), made once, so that a
/// `String` key costs no formatting in the read-mostly cases; other keys
/// are written into one reused key.
struct Keys<K> {
    small: Vec<K>,
    scratch: K,
}

/// The size of the key space the cases' fixed keys come from.
const SMALL: u64 = 1024;

impl<K: Datum> Keys<K> {
    fn new() -> Self {
        Self {
            small: (0..SMALL).map(K::from_number).collect(),
            scratch: K::from_number(0),
        }
    }

    /// Key `x`, which is below 1024.
    fn small(&self, x: u64) -> &K {
        &self.small[x as usize]
    }

    /// Key `x`, for a lookup.
    fn get(&mut self, x: u64) -> &K {
        if x < SMALL {
            return &self.small[x as usize];
        }
        self.scratch.set_number(x);
        &self.scratch
    }

    /// Key `x`, to store.
    fn owned(&self, x: u64) -> K {
        match self.small.get(x as usize) {
            Some(key) => key.clone(),
            None => K::from_number(x),
        }
    }
}

/// What one thread carries from call to call.
struct ThreadState<K, V> {
    keys: Keys<K>,
    /// The values 0 and 42, for the compare-and-swap case.
    zero: V,
    forty_two: V,
    stores: u64,
    loads_since_store: u64,
}

impl<K: Datum, V: Datum> ThreadState<K, V> {
    fn new() -> Self {
        Self {
            keys: Keys::new(),
            zero: V::from_number(0),
            forty_two: V::from_number(42),
            stores: 0,
            loads_since_store: 0,
        }
    }
}

/// One call of `case` with counter `i`.
///
/// # Panics
///
/// If the map answers what the case rules out, as Go's benchmarks do.
fn call<K: Datum, V: Datum, M: BenchMap<K, V>>(
    case: GoCase,
    map: &M,
    i: u64,
    state: &mut ThreadState<K, V>,
) {
    let keys = &mut state.keys;
    let found = |x: Option<()>| x.is_some();
    match case {
        GoCase::LoadMostlyHits => {
            let key = i % 1024;
            assert_eq!(
                found(map.get(keys.small(key), |_| ())),
                key < 1023,
                "LoadMostlyHits: key {key}"
            );
        }
        GoCase::LoadMostlyMisses => {
            let key = i % 1024;
            assert_eq!(
                found(map.get(keys.small(key), |_| ())),
                key == 0,
                "LoadMostlyMisses: key {key}"
            );
        }
        GoCase::LoadOrStoreBalanced => {
            let j = i % 256;
            if j < 128 {
                assert!(
                    map.get_or_insert(keys.owned(j), V::from_number(i)),
                    "LoadOrStoreBalanced: primed key {j} missing"
                );
            } else {
                assert!(
                    !map.get_or_insert(keys.owned(i), V::from_number(i)),
                    "LoadOrStoreBalanced: new key {i} already present"
                );
            }
        }
        GoCase::LoadOrStoreUnique => {
            assert!(
                !map.get_or_insert(keys.owned(i), V::from_number(i)),
                "LoadOrStoreUnique: new key {i} already present"
            );
        }
        GoCase::LoadOrStoreCollision => {
            assert!(
                map.get_or_insert(keys.owned(0), state.zero.clone()),
                "LoadOrStoreCollision: key 0 missing"
            );
        }
        GoCase::LoadAndDeleteBalanced => {
            let j = i % 256;
            map.remove(keys.get(if j < 128 { j } else { i }));
        }
        GoCase::LoadAndDeleteCollision => {
            if map.remove(keys.small(0)) {
                map.insert(keys.owned(0), state.zero.clone());
            }
        }
        GoCase::Range => {
            assert_eq!(map.count_entries(), 1024, "Range: entries visited");
        }
        GoCase::AdversarialAlloc => {
            map.get(keys.get(i), |_| ());
            state.loads_since_store += 1;
            if state.loads_since_store > state.stores {
                map.get_or_insert(keys.owned(i), V::from_number(state.stores));
                state.loads_since_store = 0;
                state.stores += 1;
            }
        }
        GoCase::AdversarialDelete => {
            map.get(keys.get(i), |_| ());
            if i % 1024 == 0 {
                if let Some(first) = map.first_key() {
                    map.remove(&first);
                }
                map.insert(keys.owned(i), V::from_number(i));
            }
        }
        GoCase::DeleteCollision => {
            map.remove(keys.small(0));
        }
        GoCase::SwapCollision => {
            map.insert(keys.owned(0), state.zero.clone());
        }
        GoCase::CompareAndSwapCollision => {
            let key = keys.small(0);
            if map.compare_and_swap(key, &state.zero, state.forty_two.clone()) {
                map.compare_and_swap(key, &state.forty_two, state.zero.clone());
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
pub fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(
    case: GoCase,
    threads: usize,
    duration: Duration,
) -> (Duration, u64) {
    let map = M::with_capacity(1024);
    case.setup(&map);
    // Check the clock every `batch` calls: about 256 map operations.
    let batch = (256 / case.weight()).max(1);
    let (took, calls) = time_threads(
        threads,
        |_| ThreadState::new(),
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
