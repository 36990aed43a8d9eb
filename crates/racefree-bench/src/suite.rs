//! Runs every chosen map on every chosen workload and thread count.

use std::time::Duration;

use dashmap::DashMap;
use indicatif::{ProgressBar, ProgressStyle};
use racefree::{LockedMap, ShardedMap};

use crate::adapter::{BenchMap, Hasher, MapKind, PapayaMap, SccMap, StdRwLockMap};
use crate::gocases::{self, GoCase};
use crate::workload::{self, Size, Workload};

/// Something to measure: a mix of operations, or one of Go's cases.
#[derive(Clone, Debug)]
pub enum Scenario {
    /// A WORKLOADS.md §1 workload or the user's `--mix`.
    Mix(Workload),
    /// A case of Go's `sync.Map` benchmarks (WORKLOADS.md §2).
    Go(GoCase),
}

impl Scenario {
    /// The name shown in reports.
    pub fn name(&self) -> String {
        match self {
            Self::Mix(workload) => workload.name.clone(),
            Self::Go(case) => case.to_string(),
        }
    }
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct Plan {
    /// What to run, in order.
    pub workloads: Vec<Scenario>,
    /// Thread counts, in order.
    pub threads: Vec<usize>,
    /// The maps; each repetition runs them all, in a rotated order.
    pub maps: Vec<MapKind>,
    /// Runs per (workload, threads, map); the median is reported.
    pub repetitions: usize,
    /// Runs per (workload, threads, map) before measuring, not reported.
    pub warmups: usize,
    /// How big each run is.
    pub size: Size,
}

/// The measured runs of one map on one workload at one thread count.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The scenario's name.
    pub workload: String,
    /// Threads used.
    pub threads: usize,
    /// The map.
    pub map: MapKind,
    /// Throughput of each run, in operations per second, in the order of
    /// the rounds: run `i` of every map in a group was measured in round
    /// `i`, back to back with the others.
    pub ops_per_sec: Vec<f64>,
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

impl Cell {
    /// The median throughput.
    pub fn median(&self) -> f64 {
        median(self.ops_per_sec.clone())
    }

    /// (max - min) / median: how much the runs disagreed.
    pub fn spread(&self) -> f64 {
        let max = self.ops_per_sec.iter().copied().fold(f64::MIN, f64::max);
        let min = self.ops_per_sec.iter().copied().fold(f64::MAX, f64::min);
        (max - min) / self.median()
    }

    /// The median over rounds of this map's throughput divided by
    /// `other`'s in the same round. Runs of one round are back to back, so
    /// drift in the machine's speed cancels out: a steadier comparison than
    /// the ratio of two medians.
    pub fn paired_ratio(&self, other: &Cell) -> f64 {
        median(
            self.ops_per_sec
                .iter()
                .zip(&other.ops_per_sec)
                .map(|(a, b)| a / b)
                .collect(),
        )
    }
}

/// Runs one map once on `scenario`; returns the time taken and the calls
/// made (operations for a mix; whole calls for Go's cases, where a `Range`
/// call visits every entry).
fn run_once(map: MapKind, scenario: &Scenario, threads: usize, size: Size) -> (Duration, u64) {
    fn on<M: BenchMap>(scenario: &Scenario, threads: usize, size: Size) -> (Duration, u64) {
        match scenario {
            Scenario::Mix(workload) => {
                (workload::run::<M>(workload, threads, size), size.operations)
            }
            Scenario::Go(case) => gocases::run::<M>(*case, threads, size.go_run),
        }
    }
    match map {
        MapKind::Locked => on::<LockedMap<u64, u64, Hasher>>(scenario, threads, size),
        MapKind::Sharded => on::<ShardedMap<u64, u64, Hasher>>(scenario, threads, size),
        MapKind::StdRwLock => on::<StdRwLockMap>(scenario, threads, size),
        MapKind::Dashmap => on::<DashMap<u64, u64, Hasher>>(scenario, threads, size),
        MapKind::Papaya => on::<PapayaMap>(scenario, threads, size),
        MapKind::Scc => on::<SccMap>(scenario, threads, size),
    }
}

/// Runs the plan, showing progress on standard error unless `quiet`.
pub fn run(plan: &Plan, quiet: bool) -> Vec<Cell> {
    let per_cell = plan.repetitions + plan.warmups;
    let total = plan.workloads.len() * plan.threads.len() * plan.maps.len() * per_cell;
    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} runs  {msg}")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    let mut cells = Vec::new();
    for workload in &plan.workloads {
        for &threads in &plan.threads {
            let mut runs: Vec<Vec<f64>> = vec![Vec::new(); plan.maps.len()];
            // Interleave the maps and rotate their order, so that drift in
            // the machine's speed hits every map alike.
            for round in 0..per_cell {
                for offset in 0..plan.maps.len() {
                    let index = (round + offset) % plan.maps.len();
                    let map = plan.maps[index];
                    progress.set_message(format!(
                        "{}, {threads} threads, {}",
                        workload.name(),
                        map.label()
                    ));
                    let (took, calls) = run_once(map, workload, threads, plan.size);
                    if round >= plan.warmups {
                        runs[index].push(calls as f64 / took.as_secs_f64());
                    }
                    progress.inc(1);
                }
            }
            for (map, ops_per_sec) in plan.maps.iter().zip(runs) {
                cells.push(Cell {
                    workload: workload.name(),
                    threads,
                    map: *map,
                    ops_per_sec,
                });
            }
        }
    }
    progress.finish_and_clear();
    cells
}
