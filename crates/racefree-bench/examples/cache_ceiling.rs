//! How fast can one thread use a cache on this machine? The `cache`
//! command's two throughput workloads at one thread, through racefree-cache
//! and quick_cache as the command builds them, and through two references:
//! quick_cache's own policy and table with no lock at all
//! (`quick_cache::unsync::Cache`), the most quick_cache's design gains from
//! taking its locks away; and, for hits, a bare hashbrown lookup that marks
//! its entry, the least any cache's hit can do.
//!
//! It puts a one-thread target such as "1.5 times quick_cache" in scale
//! (BENCHMARKS.md, "What 1.5 times quick_cache asks at 1 thread").
//!
//! ```text
//! cargo run --release -p racefree-bench --example cache_ceiling [-- ROUNDS]
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use racefree_bench::adapter::Hasher;
use racefree_bench::cache_speed::SpeedWorkload;
use racefree_cache::policy::TinyLfu;

/// The `cache` command's default capacity and operations per run.
const CAPACITY: u64 = 65_536;
const OPS: usize = 4_000_000;

/// A cache driven by one thread.
trait OneThread {
    fn get(&self, key: u64) -> bool;
    fn insert(&self, key: u64);
}

/// Built as the `cache` command builds them (`CacheKind::make`), but called
/// directly rather than through its `BenchCache`, so that every contender
/// here costs one dynamic call.
type RacefreeCache = racefree_cache::Cache<u64, u64, TinyLfu, Hasher>;
type QuickCache = quick_cache::sync::Cache<u64, u64, quick_cache::UnitWeighter, Hasher>;

impl OneThread for RacefreeCache {
    fn get(&self, key: u64) -> bool {
        check(key, RacefreeCache::get(self, &key))
    }
    fn insert(&self, key: u64) {
        RacefreeCache::insert(self, key, key);
    }
}

impl OneThread for QuickCache {
    fn get(&self, key: u64) -> bool {
        check(key, QuickCache::get(self, &key))
    }
    fn insert(&self, key: u64) {
        QuickCache::insert(self, key, key);
    }
}

/// Whether `key` was found; every value is its own key.
fn check(key: u64, value: Option<u64>) -> bool {
    assert!(
        value.is_none_or(|value| value == key),
        "{key} gave {value:?}"
    );
    value.is_some()
}

type UnsyncQuickCache = quick_cache::unsync::Cache<u64, u64, quick_cache::UnitWeighter, Hasher>;

impl OneThread for RefCell<UnsyncQuickCache> {
    fn get(&self, key: u64) -> bool {
        check(key, self.borrow().get(&key).copied())
    }
    fn insert(&self, key: u64) {
        self.borrow_mut().insert(key, key);
    }
}

/// A hashbrown table whose hits set their entry's "referenced" flag. It
/// never evicts, so it runs only the hits workload, and holds that
/// workload's keys from the start.
type Table = HashMap<u64, (u64, Cell<bool>), Hasher>;

impl OneThread for Table {
    fn get(&self, key: u64) -> bool {
        let found = HashMap::get(self, &key).map(|(value, referenced)| {
            referenced.set(true);
            *value
        });
        check(key, found)
    }
    fn insert(&self, key: u64) {
        assert!(
            self.contains_key(&key),
            "the table holds only the hits workload's keys"
        );
    }
}

/// What is measured: a name, and a maker of a fresh, empty one.
type Contender = (&'static str, fn() -> Box<dyn OneThread>);

fn contenders(workload: SpeedWorkload) -> Vec<Contender> {
    let mut all: Vec<Contender> = vec![
        ("racefree-cache", || {
            let cache = racefree_cache::Cache::builder(CAPACITY)
                .hasher(Hasher::default())
                .build();
            Box::new(cache.expect("the capacity is above 0"))
        }),
        ("quick_cache 0.7", || {
            Box::new(QuickCache::with(
                CAPACITY as usize,
                CAPACITY,
                quick_cache::UnitWeighter,
                Hasher::default(),
                Default::default(),
            ))
        }),
        ("quick_cache 0.7, no lock", || {
            Box::new(RefCell::new(UnsyncQuickCache::with(
                CAPACITY as usize,
                CAPACITY,
                quick_cache::UnitWeighter,
                Hasher::default(),
                Default::default(),
            )))
        }),
    ];
    if workload == SpeedWorkload::Hits {
        all.push(("hashbrown lookup, no lock", || {
            let mut table = Table::with_capacity_and_hasher(CAPACITY as usize, Hasher::default());
            table.extend((0..CAPACITY / 2).map(|key| (key, (key, Cell::new(false)))));
            Box::new(table)
        }));
    }
    all
}

/// Fills `cache` with the hits workload's keys, as the `cache` command
/// does: until every one is resident.
fn fill(cache: &dyn OneThread) {
    let mut missing: Vec<u64> = (0..CAPACITY / 2).collect();
    for _ in 0..4 {
        for &key in &missing {
            cache.insert(key);
        }
        missing.retain(|&key| !cache.get(key));
    }
    assert!(missing.is_empty(), "{} keys did not stay", missing.len());
}

/// Millions of operations per second of one round on a fresh cache.
fn round(make: fn() -> Box<dyn OneThread>, workload: SpeedWorkload, keys: &[u64]) -> f64 {
    let cache = make();
    let cache: &dyn OneThread = &*cache;
    if workload == SpeedWorkload::Hits {
        fill(cache);
    }
    let began = Instant::now();
    let mut hits = 0u64;
    for (i, &key) in keys.iter().enumerate() {
        match workload {
            SpeedWorkload::ReadInsert if i % 10 == 0 => cache.insert(key),
            _ => hits += u64::from(black_box(cache).get(key)),
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    if workload == SpeedWorkload::Hits {
        assert_eq!(hits, keys.len() as u64, "a lookup of a resident key missed");
    }
    keys.len() as f64 / seconds / 1e6
}

fn main() {
    let rounds: usize = match std::env::args().nth(1) {
        None => 15,
        Some(arg) => match arg.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("cache_ceiling: ROUNDS must be a whole number above 0, not {arg:?}");
                std::process::exit(2);
            }
        },
    };
    for workload in SpeedWorkload::ALL {
        // Thread 0's keys in the `cache` command's runs.
        let keys = workload.keys(CAPACITY, OPS, 0);
        let contenders = contenders(workload);
        let mut samples = vec![Vec::new(); contenders.len()];
        for _ in 0..rounds {
            for (i, &(_, make)) in contenders.iter().enumerate() {
                samples[i].push(round(make, workload, &keys));
            }
        }
        println!(
            "{}, 1 thread, capacity {CAPACITY}, {OPS} operations a round, median of {rounds} \
             alternating rounds:",
            workload.name()
        );
        let median = |s: &mut Vec<f64>| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        };
        let medians: Vec<f64> = samples.iter_mut().map(median).collect();
        let quick_cache = medians[1];
        for (i, &(name, _)) in contenders.iter().enumerate() {
            let s = &samples[i];
            println!(
                "  {name:26} {:6.1} M ops/s ({:.1} to {:.1}), {:.2} × quick_cache",
                medians[i],
                s[0],
                s[s.len() - 1],
                medians[i] / quick_cache
            );
        }
    }
}
