//! Runs every chosen map on every chosen workload and thread count.

use std::time::Duration;

use dashmap::DashMap;
use indicatif::{ProgressBar, ProgressStyle};
use racefree::{LockedMap, ShardedMap};

use crate::adapter::{Hasher, MapKind, StdRwLockMap};
use crate::workload::{self, Size, Workload};

/// What to measure.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The workloads, in order.
    pub workloads: Vec<Workload>,
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
    /// The workload.
    pub workload: Workload,
    /// Threads used.
    pub threads: usize,
    /// The map.
    pub map: MapKind,
    /// Throughput of each run, in operations per second, sorted.
    pub ops_per_sec: Vec<f64>,
}

impl Cell {
    /// The median throughput.
    pub fn median(&self) -> f64 {
        let n = self.ops_per_sec.len();
        if n % 2 == 1 {
            self.ops_per_sec[n / 2]
        } else {
            (self.ops_per_sec[n / 2 - 1] + self.ops_per_sec[n / 2]) / 2.0
        }
    }

    /// (max - min) / median: how much the runs disagreed.
    pub fn spread(&self) -> f64 {
        let (min, max) = (
            self.ops_per_sec[0],
            self.ops_per_sec[self.ops_per_sec.len() - 1],
        );
        (max - min) / self.median()
    }
}

/// Runs one map once.
fn run_once(map: MapKind, workload: Workload, threads: usize, size: Size) -> Duration {
    match map {
        MapKind::Locked => workload::run::<LockedMap<u64, u64, Hasher>>(workload, threads, size),
        MapKind::Sharded => workload::run::<ShardedMap<u64, u64, Hasher>>(workload, threads, size),
        MapKind::StdRwLock => workload::run::<StdRwLockMap>(workload, threads, size),
        MapKind::Dashmap => workload::run::<DashMap<u64, u64, Hasher>>(workload, threads, size),
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
    for &workload in &plan.workloads {
        for &threads in &plan.threads {
            let mut runs: Vec<Vec<f64>> = vec![Vec::new(); plan.maps.len()];
            // Interleave the maps and rotate their order, so that drift in
            // the machine's speed hits every map alike.
            for round in 0..per_cell {
                for offset in 0..plan.maps.len() {
                    let index = (round + offset) % plan.maps.len();
                    let map = plan.maps[index];
                    progress.set_message(format!("{workload}, {threads} threads, {}", map.label()));
                    let took = run_once(map, workload, threads, plan.size);
                    if round >= plan.warmups {
                        runs[index].push(plan.size.operations as f64 / took.as_secs_f64());
                    }
                    progress.inc(1);
                }
            }
            for (map, mut ops_per_sec) in plan.maps.iter().zip(runs) {
                ops_per_sec.sort_by(f64::total_cmp);
                cells.push(Cell {
                    workload,
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
