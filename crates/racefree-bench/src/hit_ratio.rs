//! Hit ratios: every cache replays the same requests, single-threaded (a
//! `get`, and an `insert` on a miss), per WORKLOADS.md §3 and the cache
//! issue: Zipf keys, the OLTP trace, and a scan mix.

use std::fmt::Write as _;

use crate::caches::CacheKind;
use crate::distribution::Distribution;

/// Fixed, so every run and every cache sees the same requests.
const SEED: u64 = 0x5eed_cace;

/// One replay: a request sequence at one capacity.
#[derive(Debug, Clone)]
pub struct HitWorkload {
    /// Shown in the table.
    pub name: String,
    /// Cache capacity in entries.
    pub capacity: u64,
    /// The keys requested, in order.
    pub keys: std::sync::Arc<Vec<u64>>,
    /// The best hit ratio any cache of this capacity can expect, where it
    /// can be computed: for independent Zipf requests, the probability mass
    /// of the `capacity` most popular keys.
    pub optimum: Option<f64>,
}

/// The probability mass of the `top` most popular of `keys` Zipf(`s`) keys.
pub fn zipf_optimum(keys: u64, s: f64, top: u64) -> f64 {
    let weight = |rank: u64| (rank as f64).powf(-s);
    let all: f64 = (1..=keys).map(weight).sum();
    let best: f64 = (1..=top.min(keys)).map(weight).sum();
    best / all
}

/// Zipf(`s`) requests over `keys` keys.
pub fn zipf(s: f64, keys: u64, requests: usize, capacity: u64) -> HitWorkload {
    HitWorkload {
        name: format!("Zipf {s} over {keys} keys"),
        capacity,
        keys: Distribution::Zipf(s).draws(keys, requests, SEED).into(),
        optimum: Some(zipf_optimum(keys, s, capacity)),
    }
}

/// A hot set (Zipf 1.0 over 10 × `capacity` keys) interrupted by
/// one-pass scans of cold keys: `rounds` times, 20 × `capacity` hot
/// requests then a scan of 3 × `capacity` keys never seen again. A cache
/// that lets scans through loses its hot set each time.
pub fn scan_mix(capacity: u64, rounds: u64) -> HitWorkload {
    let hot_keys = 10 * capacity;
    let hot = Distribution::Zipf(1.0).draws(hot_keys, (20 * capacity * rounds) as usize, SEED);
    let mut keys = Vec::with_capacity(hot.len() + (3 * capacity * rounds) as usize);
    let mut cold = hot_keys;
    for chunk in hot.chunks((20 * capacity) as usize) {
        keys.extend_from_slice(chunk);
        keys.extend(cold..cold + 3 * capacity);
        cold += 3 * capacity;
    }
    HitWorkload {
        name: "scan mix".to_owned(),
        capacity,
        keys: keys.into(),
        optimum: None,
    }
}

/// The measured hit ratio of `kind` on `workload`.
pub fn replay(kind: CacheKind, workload: &HitWorkload) -> f64 {
    let cache = kind.make(workload.capacity);
    let mut hits = 0u64;
    for &key in workload.keys.iter() {
        if cache.get(key) {
            hits += 1;
        } else {
            cache.insert(key);
        }
    }
    hits as f64 / workload.keys.len() as f64
}

/// Every workload's hit ratios, one row per workload, one column per cache.
#[derive(Debug)]
pub struct HitTable {
    /// The caches, in column order.
    pub caches: Vec<CacheKind>,
    /// Each workload with its ratios in `caches` order.
    pub rows: Vec<(HitWorkload, Vec<f64>)>,
}

/// Replays every workload through every cache, in parallel over
/// workloads (replays are single-threaded and independent).
pub fn measure(
    workloads: Vec<HitWorkload>,
    caches: &[CacheKind],
    progress: impl Fn() + Sync,
) -> HitTable {
    let rows = std::thread::scope(|s| {
        let handles: Vec<_> = workloads
            .into_iter()
            .map(|workload| {
                let progress = &progress;
                s.spawn(move || {
                    let ratios = caches
                        .iter()
                        .map(|&kind| {
                            let ratio = replay(kind, &workload);
                            progress();
                            ratio
                        })
                        .collect();
                    (workload, ratios)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a replay panicked"))
            .collect()
    });
    HitTable {
        caches: caches.to_vec(),
        rows,
    }
}

impl HitTable {
    /// The table in Markdown, hit ratios in percent; the best measured in
    /// each row in bold.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| workload | capacity |");
        for kind in &self.caches {
            write!(out, " {} |", kind.name()).unwrap();
        }
        out.push_str(" optimum |\n|---|---:|");
        out.push_str(&"---:|".repeat(self.caches.len() + 1));
        out.push('\n');
        for (workload, ratios) in &self.rows {
            let best = ratios.iter().copied().fold(f64::MIN, f64::max);
            write!(out, "| {} | {} |", workload.name, workload.capacity).unwrap();
            for &ratio in ratios {
                let cell = format!("{:.2} %", 100.0 * ratio);
                if ratio == best {
                    write!(out, " **{cell}** |").unwrap();
                } else {
                    write!(out, " {cell} |").unwrap();
                }
            }
            match workload.optimum {
                Some(optimum) => writeln!(out, " {:.2} % |", 100.0 * optimum).unwrap(),
                None => out.push_str(" — |\n"),
            }
        }
        out
    }
}

impl HitTable {
    /// One line per workload: which cache kept the most, and, if a
    /// one-shard racefree-cache beat the default there, how to build it.
    pub fn advice(&self) -> String {
        let mut out = String::new();
        for (workload, ratios) in &self.rows {
            let column = |kind| self.caches.iter().position(|&k| k == kind);
            let best = (0..ratios.len())
                .max_by(|&a, &b| ratios[a].total_cmp(&ratios[b]))
                .expect("at least one cache");
            write!(
                out,
                "- {} at capacity {}: {} kept the most ({:.2} %)",
                workload.name,
                workload.capacity,
                self.caches[best].name(),
                100.0 * ratios[best]
            )
            .unwrap();
            let ours = column(CacheKind::Racefree).or(column(CacheKind::TinyLfu));
            if let Some(ours) = ours.filter(|&i| i != best) {
                write!(
                    out,
                    "; racefree-cache's default {:.2} points behind",
                    100.0 * (ratios[best] - ratios[ours])
                )
                .unwrap();
            }
            let policy = (0..ratios.len())
                .filter(|&i| self.caches[i].builder_calls().is_some())
                .max_by(|&a, &b| ratios[a].total_cmp(&ratios[b]));
            if let Some(policy) = policy {
                let calls = self.caches[policy].builder_calls().expect("filtered");
                if let Some(ours) = ours.filter(|&i| ratios[policy] > ratios[i] + 0.001) {
                    write!(
                        out,
                        "; `Cache::builder(..){calls}` gains {:.2} points over it",
                        100.0 * (ratios[policy] - ratios[ours])
                    )
                    .unwrap();
                }
            }
            out.push_str(".\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zipf_optimum_is_the_mass_of_the_top_keys() {
        assert!((zipf_optimum(2, 1.0, 1) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(zipf_optimum(10, 0.8, 10), 1.0);
    }

    #[test]
    fn lru_cannot_beat_the_optimum_and_tiny_lfu_beats_lru_on_zipf() {
        let workload = zipf(1.0, 10_000, 200_000, 100);
        let lru = replay(CacheKind::Lru, &workload);
        let tiny = replay(CacheKind::TinyLfu, &workload);
        let optimum = workload.optimum.unwrap();
        assert!(
            lru < tiny && tiny < optimum + 0.01,
            "LRU {lru}, W-TinyLFU {tiny}, optimum {optimum}"
        );
    }

    #[test]
    fn scans_are_keys_never_seen_again() {
        let workload = scan_mix(10, 3);
        assert_eq!(workload.keys.len(), 3 * (200 + 30));
        let scanned = &workload.keys[200..230];
        assert_eq!(scanned, (100..130).collect::<Vec<_>>());
    }
}
