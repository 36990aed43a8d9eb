//! Runs every chosen map on every chosen workload and thread count.

use std::time::Duration;

use crate::adapter::{BenchMap, MapJob, MapKind, dispatch};
use crate::datum::{DataType, Datum};
use crate::gocases::{self, GoCase};
use crate::latency::{self, Growth};
use crate::memory::{self, Footprint};
use crate::progress;
use crate::workload::{KeySpace, Size, Workload};

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
    /// The key type.
    pub key: DataType,
    /// The value type.
    pub value: DataType,
    /// Entries to measure each map's memory with; none skips it.
    pub memory_entries: Option<usize>,
    /// Entries each map grows to for insert latencies; none skips it.
    pub growth_entries: Option<usize>,
    /// Whether to run the unsynchronized limit beside the maps on the
    /// 1-thread runs of each workload mix.
    pub limit: bool,
}

impl Plan {
    /// The maps whose growth is timed: the chosen ones, and the limit.
    fn growers(&self) -> Vec<MapKind> {
        let mut maps = self.maps.clone();
        if self.limit {
            maps.push(MapKind::Limit);
        }
        maps
    }

    /// The maps to run on `scenario` at `threads`: the chosen ones, and
    /// the limit where it applies (one thread on fresh keys, where that
    /// thread also fills the map: the limit lets only one thread in).
    fn contenders(&self, scenario: &Scenario, threads: usize) -> Vec<MapKind> {
        let mut maps = self.maps.clone();
        let fresh = matches!(scenario, Scenario::Mix(w) if w.keys == KeySpace::Fresh);
        if self.limit && threads == 1 && fresh {
            maps.push(MapKind::Limit);
        }
        maps
    }
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

    /// Nanoseconds per operation for one thread: the median run's time
    /// spread over its threads.
    pub fn ns_per_op(&self) -> f64 {
        1e9 / self.median() * self.threads as f64
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

/// One timed run of a scenario.
struct TimedRun<'a> {
    scenario: &'a Scenario,
    threads: usize,
    size: Size,
}

impl MapJob for TimedRun<'_> {
    /// The time taken and the calls made (operations for a mix; whole
    /// calls for Go's cases, where a `Range` call visits every entry).
    type Output = (Duration, u64);

    fn threads(&self) -> usize {
        self.threads
    }

    fn run<K: Datum, V: Datum, M: BenchMap<K, V>>(&self) -> Self::Output {
        match self.scenario {
            Scenario::Mix(workload) => workload.run::<K, V, M>(self.threads, self.size),
            Scenario::Go(case) => gocases::run::<K, V, M>(*case, self.threads, self.size.go_run),
        }
    }
}

/// What a plan measured.
#[derive(Clone, Debug)]
pub struct Results {
    /// Every map on every scenario and thread count.
    pub cells: Vec<Cell>,
    /// The unsynchronized limit's 1-thread runs, in the same rounds as the
    /// maps' 1-thread cells.
    pub limit: Vec<Cell>,
    /// Each map's insert latencies while growing, in the plan's order of
    /// maps and then the limit, if measured.
    pub growth: Vec<(MapKind, Growth)>,
    /// Each map's memory, in the plan's order of maps, if measured.
    pub memory: Vec<(MapKind, Footprint)>,
}

/// Runs the plan, showing progress on standard error unless `quiet`.
pub fn run(plan: &Plan, quiet: bool) -> Results {
    let per_cell = plan.repetitions + plan.warmups;
    let memory_runs = if plan.memory_entries.is_some() {
        plan.maps.len()
    } else {
        0
    };
    let timed_runs: usize = plan
        .workloads
        .iter()
        .flat_map(|w| plan.threads.iter().map(|&t| plan.contenders(w, t).len()))
        .sum();
    let growth_runs = if plan.growth_entries.is_some() {
        plan.growers().len()
    } else {
        0
    };
    let progress = progress::bar(
        timed_runs * per_cell + growth_runs + memory_runs,
        quiet,
        "runs",
    );
    let (mut cells, mut limit) = (Vec::new(), Vec::new());
    for workload in &plan.workloads {
        for &threads in &plan.threads {
            let maps = plan.contenders(workload, threads);
            let mut runs: Vec<Vec<f64>> = vec![Vec::new(); maps.len()];
            // Interleave the maps and rotate their order, so that drift in
            // the machine's speed hits every map alike.
            for round in 0..per_cell {
                for offset in 0..maps.len() {
                    let index = (round + offset) % maps.len();
                    let map = maps[index];
                    progress.set_message(format!(
                        "{}, {threads} threads, {}",
                        workload.name(),
                        map.label()
                    ));
                    let run = TimedRun {
                        scenario: workload,
                        threads,
                        size: plan.size,
                    };
                    let (took, calls) = dispatch(map, plan.key, plan.value, &run);
                    if round >= plan.warmups {
                        runs[index].push(calls as f64 / took.as_secs_f64());
                    }
                    progress.inc(1);
                }
            }
            for (map, ops_per_sec) in maps.into_iter().zip(runs) {
                let cell = Cell {
                    workload: workload.name(),
                    threads,
                    map,
                    ops_per_sec,
                };
                match map {
                    MapKind::Limit => limit.push(cell),
                    _ => cells.push(cell),
                }
            }
        }
    }
    let mut growth = Vec::new();
    if let Some(entries) = plan.growth_entries {
        for map in plan.growers() {
            progress.set_message(format!("growing to {entries} entries, {}", map.label()));
            let job = latency::Measure { entries };
            growth.push((map, dispatch(map, plan.key, plan.value, &job)));
            progress.inc(1);
        }
    }
    let mut memory = Vec::new();
    if let Some(entries) = plan.memory_entries {
        for &map in &plan.maps {
            progress.set_message(format!("memory of {entries} entries, {}", map.label()));
            let job = memory::Measure { entries };
            memory.push((map, dispatch(map, plan.key, plan.value, &job)));
            progress.inc(1);
        }
    }
    progress.finish_and_clear();
    Results {
        cells,
        limit,
        growth,
        memory,
    }
}
