//! The command line.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use clap::Parser;

use crate::adapter::MapKind;
use crate::gocases::GoCase;
use crate::machine::Machine;
use crate::mix::Mix;
use crate::report;
use crate::suite::{self, Plan, Scenario};
use crate::workload::{Preset, Size, Workload};

/// Benchmarks racefree's concurrent maps against std's `RwLock<HashMap>`,
/// dashmap, papaya and scc on the conc-map-bench workloads, every map with
/// the same hasher, interleaved in one run, and prints a Markdown table.
///
/// With no options it runs the three standard workloads at 1 thread, every
/// core, and four threads per core (oversubscribed, where lock holders get
/// preempted). `--mix` describes your own workload instead.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// Standard workloads to run, comma-separated. With none of --workloads,
    /// --mix and --go-cases, the run is all three and the main Go cases.
    #[arg(long, value_delimiter = ',')]
    pub workloads: Option<Vec<Preset>>,

    /// Cases of Go's sync.Map benchmarks to run, comma-separated
    /// [default with no other choice: the eight main ones].
    #[arg(long, value_delimiter = ',')]
    pub go_cases: Option<Vec<GoCase>>,

    /// Your own workload: percentages of read, insert, remove and update
    /// that add up to 100, e.g. `read=90,insert=5,remove=5`.
    #[arg(long, value_parser = clap::value_parser!(Mix))]
    pub mix: Option<Mix>,

    /// How full the map is before a --mix workload starts, in percent of its capacity.
    #[arg(long, default_value_t = 75, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub prefill: u8,

    /// Thread counts, comma-separated [default: 1, cores, 4 × cores].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Vec<u16>,

    /// Maps to measure, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub maps: Vec<MapKind>,

    /// log2 of each map's initial capacity; prefill is a share of it [default: 19, or 22 with --full].
    #[arg(long, value_parser = clap::value_parser!(u32).range(4..=30))]
    pub capacity_log2: Option<u32>,

    /// Operations per run, across all threads [default: 4 × capacity].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub ops: Option<u64>,

    /// Milliseconds per run of a Go case [default: 25, or 200 with --full].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub go_millis: Option<u64>,

    /// Measured runs per map and setting; the median is reported [default: 5, or 7 with --full].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub reps: Option<u64>,

    /// The sizes for published figures: capacity 2^22 (WORKLOADS.md asks
    /// for 2^21 to 2^23 on a 2-core machine) and 7 runs. Took 28 minutes
    /// on a 2-core machine; the default run takes about 2.
    #[arg(long)]
    pub full: bool,

    /// Unreported warm-up runs per map and setting.
    #[arg(long, default_value_t = 1)]
    pub warmups: u64,

    /// Also write every run's figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

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
        let chosen = self.workloads.is_some() || self.mix.is_some() || self.go_cases.is_some();
        let presets = self.workloads.clone().unwrap_or(if chosen {
            Vec::new()
        } else {
            Preset::TRIO.to_vec()
        });
        let go_cases = self.go_cases.clone().unwrap_or(if chosen {
            Vec::new()
        } else {
            GoCase::MAIN.to_vec()
        });
        let mut workloads: Vec<Scenario> = presets
            .into_iter()
            .map(|preset| Scenario::Mix(preset.workload()))
            .collect();
        if let Some(mix) = self.mix {
            workloads.push(Scenario::Mix(Workload::custom(
                mix,
                f64::from(self.prefill) / 100.0,
            )));
        }
        workloads.extend(go_cases.into_iter().map(Scenario::Go));
        let capacity_log2 = self
            .capacity_log2
            .unwrap_or(if self.full { 22 } else { 19 });
        Plan {
            workloads,
            threads,
            maps: if self.maps.is_empty() {
                MapKind::ALL.to_vec()
            } else {
                self.maps.clone()
            },
            repetitions: self.reps.unwrap_or(if self.full { 7 } else { 5 }) as usize,
            warmups: self.warmups as usize,
            size: Size {
                capacity_log2,
                operations: self.ops.unwrap_or(4 << capacity_log2),
                go_run: Duration::from_millis(self.go_millis.unwrap_or(if self.full {
                    200
                } else {
                    25
                })),
            },
        }
    }
}

/// Runs what `cli` asks for, writes the files it names, and returns the
/// table to print.
pub fn run(cli: &Cli) -> Result<String, String> {
    // Open output files first: a bad path fails now, not after the run.
    let json_file = match &cli.json {
        Some(path) => Some(
            File::create(path)
                .map_err(|e| format!("cannot write the JSON report to {}: {e}", path.display()))
                .map(|file| (path, file))?,
        ),
        None => None,
    };
    let plan = cli.plan();
    let cells = suite::run(&plan, cli.quiet);
    let machine = Machine::detect();
    if let Some((path, mut file)) = json_file {
        let json = serde_json::to_string_pretty(&report::json(&cells, &plan, &machine))
            .expect("a JSON value always serialises");
        file.write_all(json.as_bytes())
            .map_err(|e| format!("cannot write the JSON report to {}: {e}", path.display()))?;
    }
    Ok(report::markdown(&cells, &plan, &machine))
}
