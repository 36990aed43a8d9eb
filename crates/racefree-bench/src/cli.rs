//! The command line.

use std::thread;

use clap::Parser;

use crate::adapter::MapKind;
use crate::machine::Machine;
use crate::report;
use crate::suite::{self, Plan};
use crate::workload::{Size, Workload};

/// Benchmarks racefree's concurrent maps against std's `RwLock<HashMap>` and
/// dashmap on the conc-map-bench workloads, every map with the same hasher,
/// interleaved in one run, and prints a Markdown table.
///
/// With no options it runs the three workloads at 1 thread, every core, and
/// four threads per core (oversubscribed, where lock holders get preempted).
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// Workloads to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = Workload::TRIO.to_vec())]
    pub workloads: Vec<Workload>,

    /// Thread counts, comma-separated [default: 1, cores, 4 × cores].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Vec<u16>,

    /// Maps to measure, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub maps: Vec<MapKind>,

    /// log2 of each map's initial capacity; read-heavy and exchange prefill 75 % of it.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(4..=30))]
    pub capacity_log2: u32,

    /// Operations per run, across all threads [default: 4 × capacity].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub ops: Option<u64>,

    /// Measured runs per map and setting; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub reps: u64,

    /// Unreported warm-up runs per map and setting.
    #[arg(long, default_value_t = 1)]
    pub warmups: u64,

    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl Cli {
    /// The plan these options describe.
    pub fn plan(&self) -> Plan {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let mut threads: Vec<usize> = self.threads.iter().map(|&t| usize::from(t)).collect();
        if threads.is_empty() {
            threads = vec![1, cores, 4 * cores];
        }
        threads.dedup();
        Plan {
            workloads: self.workloads.clone(),
            threads,
            maps: if self.maps.is_empty() {
                MapKind::ALL.to_vec()
            } else {
                self.maps.clone()
            },
            repetitions: self.reps as usize,
            warmups: self.warmups as usize,
            size: Size {
                capacity_log2: self.capacity_log2,
                operations: self.ops.unwrap_or(4 << self.capacity_log2),
            },
        }
    }
}

/// Runs what `cli` asks for and returns the report.
pub fn run(cli: &Cli) -> String {
    let plan = cli.plan();
    let cells = suite::run(&plan, cli.quiet);
    report::markdown(&cells, &plan, &Machine::detect())
}
