//! Cache throughput: many threads on one cache, per the cache issue's
//! two mixes, every cache interleaved within each repetition.

use std::fmt::Write as _;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use crate::caches::{BenchCache, CacheKind};
use crate::distribution::Distribution;

/// What the threads do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SpeedWorkload {
    /// Only lookups of resident keys (half the capacity, prefilled).
    Hits,
    /// 90 % lookups, 10 % inserts, keys Zipf 1.0 over 16 × the capacity.
    ReadInsert,
}

impl SpeedWorkload {
    /// Both, in report order.
    pub const ALL: [Self; 2] = [Self::Hits, Self::ReadInsert];

    /// The name shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hits => "100 % hits",
            Self::ReadInsert => "90 % read, 10 % insert",
        }
    }

    /// Thread `thread`'s keys, drawn before timing.
    pub fn keys(self, capacity: u64, per_thread: usize, thread: usize) -> Vec<u64> {
        let seed = 0xcace_0000 + thread as u64;
        match self {
            Self::Hits => Distribution::Uniform.draws(capacity / 2, per_thread, seed),
            Self::ReadInsert => Distribution::Zipf(1.0).draws(16 * capacity, per_thread, seed),
        }
    }
}

/// Runs `workload` on a fresh cache of `kind` with `threads` threads doing
/// `ops` operations in all; the time they took.
pub fn run(
    kind: CacheKind,
    workload: SpeedWorkload,
    threads: usize,
    capacity: u64,
    ops: u64,
) -> Duration {
    let cache = kind.make(capacity);
    if workload == SpeedWorkload::Hits {
        // Half the capacity, inserted until every key is resident: a cache
        // may turn away a key it has room for (quick_cache's small shards
        // did so now and then at capacity 256), and this workload times
        // hits only.
        let mut missing: Vec<u64> = (0..capacity / 2).collect();
        for _ in 0..4 {
            for &key in &missing {
                cache.insert(key);
            }
            cache.settle();
            missing.retain(|&key| !cache.get(key));
        }
    }
    let per_thread = (ops as usize).div_ceil(threads);
    let keys: Vec<Vec<u64>> = (0..threads)
        .map(|t| workload.keys(capacity, per_thread, t))
        .collect();
    let start = Barrier::new(threads + 1);
    let (cache, start) = (&*cache, &start);
    std::thread::scope(|s| {
        let workers: Vec<_> = keys
            .iter()
            .map(|keys| s.spawn(move || drive(cache, workload, keys, start)))
            .collect();
        start.wait();
        let began = Instant::now();
        let hits: u64 = workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .sum();
        let elapsed = began.elapsed();
        if workload == SpeedWorkload::Hits {
            // moka applies inserts lazily; anything below all hits means a
            // cache did not keep what it had room for.
            let total = (per_thread * threads) as u64;
            assert!(
                hits * 100 >= total * 99,
                "{}: only {hits} of {total} lookups hit",
                kind.name()
            );
        }
        elapsed
    })
}

fn drive(cache: &dyn BenchCache, workload: SpeedWorkload, keys: &[u64], start: &Barrier) -> u64 {
    start.wait();
    let mut hits = 0;
    for (i, &key) in keys.iter().enumerate() {
        match workload {
            SpeedWorkload::ReadInsert if i % 10 == 0 => cache.insert(key),
            _ => hits += u64::from(cache.get(key)),
        }
    }
    hits
}

/// Millions of operations per second, per cache and thread count.
#[derive(Debug)]
pub struct SpeedTable {
    /// Rows: workload, threads, then one median per cache in `caches` order.
    pub rows: Vec<(SpeedWorkload, usize, Vec<f64>)>,
    /// Column order.
    pub caches: Vec<CacheKind>,
}

/// Measures every cell `reps` times, caches interleaved, and keeps medians.
pub fn measure(
    caches: &[CacheKind],
    workloads: &[SpeedWorkload],
    threads: &[usize],
    capacity: u64,
    ops: u64,
    reps: usize,
    progress: impl Fn(),
) -> SpeedTable {
    let mut rows = Vec::new();
    for &workload in workloads {
        for &t in threads {
            let mut samples = vec![Vec::new(); caches.len()];
            for _ in 0..reps {
                for (i, &kind) in caches.iter().enumerate() {
                    let time = run(kind, workload, t, capacity, ops);
                    samples[i].push(ops as f64 / time.as_secs_f64() / 1e6);
                    progress();
                }
            }
            let medians = samples
                .into_iter()
                .map(|mut s| {
                    s.sort_by(f64::total_cmp);
                    s[s.len() / 2]
                })
                .collect();
            rows.push((workload, t, medians));
        }
    }
    SpeedTable {
        rows,
        caches: caches.to_vec(),
    }
}

impl SpeedTable {
    /// The table in Markdown: Mops/s, and racefree-cache's ratio to each
    /// peer where both are measured.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| workload | threads |");
        for kind in &self.caches {
            write!(out, " {} Mops/s |", kind.name()).unwrap();
        }
        let ours = self.caches.iter().position(|&k| k == CacheKind::Racefree);
        let peers: Vec<usize> = (0..self.caches.len())
            .filter(|&i| Some(i) != ours)
            .collect();
        if ours.is_some() {
            for &p in &peers {
                write!(out, " racefree ÷ {} |", self.caches[p].name()).unwrap();
            }
        }
        out.push_str("\n|---|---:|");
        let columns = self.caches.len() + if ours.is_some() { peers.len() } else { 0 };
        out.push_str(&"---:|".repeat(columns));
        out.push('\n');
        for (workload, threads, medians) in &self.rows {
            write!(out, "| {} | {threads} |", workload.name()).unwrap();
            for m in medians {
                write!(out, " {m:.2} |").unwrap();
            }
            if let Some(ours) = ours {
                for &p in &peers {
                    write!(out, " {:.2} |", medians[ours] / medians[p]).unwrap();
                }
            }
            out.push('\n');
        }
        out
    }
}
