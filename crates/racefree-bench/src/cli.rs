//! The command line.

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::adapter::MapKind;
use crate::cache_command::{self, CacheArgs};
use crate::caches::CacheKind;
use crate::datum::DataType;
use crate::distribution::Distribution;
use crate::gocases::GoCase;
use crate::machine::Machine;
use crate::mix::Mix;
use crate::output::Outputs;
use crate::report;
use crate::suite::{self, Plan, Scenario};
use crate::workload::{Budget, Preset, Size, Workload};

/// Benchmarks racefree's concurrent maps against std's `RwLock<HashMap>`,
/// dashmap, papaya and scc on your workload, every map with the same
/// hasher, interleaved in one run; prints a table, writes an HTML report
/// with charts, and says which map to use.
///
/// With no options it runs the three standard workloads and Go's main
/// sync.Map cases at 1 thread, every core, and four threads per core
/// (oversubscribed, where lock holders get preempted). `--mix` describes
/// your own workload.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do [default: run].
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The options of `run`, which is what a bare `racefree-bench` does.
    #[command(flatten)]
    pub run: RunArgs,
}

/// What racefree-bench can do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure the maps (the default).
    Run(Box<RunArgs>),
    /// List the maps, workloads, Go cases and caches that can be chosen.
    List,
    /// Compare bounded caches: hit ratios of racefree-cache's policies,
    /// moka and quick_cache on Zipf keys, a real trace and a scan mix, and
    /// their throughput.
    Cache(Box<CacheArgs>),
}

impl Cli {
    /// The options of the run this command line asks for.
    pub fn run_args(&self) -> &RunArgs {
        match &self.command {
            Some(Command::Run(args)) => args,
            _ => &self.run,
        }
    }
}

/// What to measure, and where to write the results.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Standard workloads to run, comma-separated. With none of --workloads,
    /// --mix and --go-cases, the run is all three and the main Go cases.
    #[arg(long, value_delimiter = ',')]
    pub workloads: Option<Vec<Preset>>,

    /// Cases of Go's sync.Map benchmarks to run, comma-separated
    /// [default with no other choice: the eight main ones].
    #[arg(long, value_delimiter = ',')]
    pub go_cases: Option<Vec<GoCase>>,

    /// Your own workload: percentages of read, insert, remove, update,
    /// get_or_insert and compare_and_swap that add up to 100, e.g.
    /// `read=90,insert=5,remove=5`.
    #[arg(long, value_parser = clap::value_parser!(Mix))]
    pub mix: Option<Mix>,

    /// How full the map is before a --mix workload starts, in percent of
    /// its capacity (or of --keys).
    #[arg(long, default_value_t = 75, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub prefill: u8,

    /// Run the workloads on N keys that all threads share, picked by
    /// --distribution, instead of giving each thread fresh keys of its own.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1 << 32))]
    pub keys: Option<u64>,

    /// Which of the --keys the operations hit: `uniform`, or `zipf:S` for a
    /// few hot keys (S = 0.99 is YCSB's).
    #[arg(long, default_value = "uniform", requires = "keys", value_parser = clap::value_parser!(Distribution))]
    pub distribution: Distribution,

    /// The key type.
    #[arg(long, value_enum, default_value_t = DataType::U64)]
    pub key: DataType,

    /// The value type.
    #[arg(long, value_enum, default_value_t = DataType::U64)]
    pub value: DataType,

    /// Thread counts, comma-separated [default: 1, cores, 4 × cores].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Vec<u16>,

    /// Maps to measure, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub maps: Vec<MapKind>,

    /// log2 of each map's initial capacity; a prefill without --keys is a
    /// share of it [default: 18, or 22 with --full].
    #[arg(long, value_parser = clap::value_parser!(u32).range(4..=30))]
    pub capacity_log2: Option<u32>,

    /// Operations per run of a workload, across all threads [default: 2 ×
    /// capacity, or 4 × with --full].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub ops: Option<u64>,

    /// Seconds per run of a workload, instead of a number of operations.
    #[arg(long, value_name = "SECONDS", conflicts_with = "ops", value_parser = parse_seconds)]
    pub duration: Option<Duration>,

    /// Milliseconds per run of a Go case [default: 25, or 200 with --full].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub go_millis: Option<u64>,

    /// Measured runs per map and setting; the median is reported [default: 5, or 7 with --full].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub reps: Option<u64>,

    /// Unreported warm-up runs per map and setting.
    #[arg(long, default_value_t = 1)]
    pub warmups: u64,

    /// Entries to measure each map's memory with (bytes per entry); 0 skips it.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub memory_entries: usize,

    /// Entries each map grows to from empty, one insert timed at a time,
    /// for insert-latency percentiles (a resize that copies the whole
    /// table shows as the slowest insert); 0 skips it.
    #[arg(long, value_name = "N", default_value_t = 8_000_000)]
    pub growth_entries: usize,

    /// The sizes for published figures: capacity 2^22 (WORKLOADS.md asks
    /// for 2^21 to 2^23 on a 2-core machine) and 7 runs. Took 28 minutes
    /// on a 2-core machine with six maps (more now that there are eight);
    /// the default run takes about 3 minutes.
    #[arg(long)]
    pub full: bool,

    /// Directory for the HTML report and its charts (SVG).
    #[arg(long, value_name = "DIR", default_value = "target/racefree-bench")]
    pub report: PathBuf,

    /// Also write every run's figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the results as Markdown to this file; in a file that has
    /// them, only the part between `<!-- racefree-bench:begin -->` and
    /// `<!-- racefree-bench:end -->` is replaced (how BENCHMARKS.md is made).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,

    /// Skip the limit: std's `HashMap` with no synchronization, which the
    /// 1-thread runs of each workload mix are otherwise compared with.
    #[arg(long)]
    pub no_limit: bool,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{text}` is not a number of seconds from 0 to 3600, as in 0.5"))
}

impl RunArgs {
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
        let mut mixes: Vec<Workload> = presets.into_iter().map(Preset::workload).collect();
        if let Some(mix) = self.mix {
            mixes.push(Workload::custom(mix, f64::from(self.prefill) / 100.0));
        }
        if let Some(keys) = self.keys {
            mixes = mixes
                .into_iter()
                .map(|w| w.on_shared_keys(keys, self.distribution))
                .collect();
        }
        let mut workloads: Vec<Scenario> = mixes.into_iter().map(Scenario::Mix).collect();
        workloads.extend(go_cases.into_iter().map(Scenario::Go));
        let capacity_log2 = self
            .capacity_log2
            .unwrap_or(if self.full { 22 } else { 18 });
        let budget = match self.duration {
            Some(time) => Budget::Time(time),
            None => Budget::Operations(
                self.ops
                    .unwrap_or((if self.full { 4 } else { 2 }) << capacity_log2),
            ),
        };
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
                budget,
                go_run: Duration::from_millis(self.go_millis.unwrap_or(if self.full {
                    200
                } else {
                    25
                })),
            },
            key: self.key,
            value: self.value,
            memory_entries: (self.memory_entries > 0).then_some(self.memory_entries),
            growth_entries: (self.growth_entries > 0).then_some(self.growth_entries),
            limit: !self.no_limit,
        }
    }
}

/// One line per value of `E`: its name and its doc comment.
fn described<E: ValueEnum>() -> String {
    E::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .map(|value| {
            let help = value
                .get_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            format!(
                "  {:<26} {help}
",
                value.get_name()
            )
        })
        .collect()
}

/// Every map, workload and Go case, with what it is.
fn list() -> String {
    format!(
        "Maps (--maps):\n{}\nWorkloads (--workloads; or your own with --mix):\n{}\n\
         Go's sync.Map cases (--go-cases):\n{}\nCaches (racefree-bench cache --caches):\n{}",
        described::<MapKind>(),
        described::<Preset>(),
        described::<GoCase>(),
        described::<CacheKind>()
    )
}

/// Does what `cli` asks for, writes the files it names, and returns the
/// text to print. `command_line` is quoted in the Markdown output.
pub fn run(cli: &Cli, command_line: &str) -> Result<String, String> {
    match &cli.command {
        Some(Command::List) => return Ok(list()),
        Some(Command::Cache(args)) => return cache_command::run(args, command_line),
        _ => {}
    }
    let args = cli.run_args();
    // Check the output paths first: a bad path fails now, not after the run.
    let outputs = Outputs::open(args)?;
    let plan = args.plan();
    let results = suite::run(&plan, args.quiet);
    let machine = Machine::detect();
    let table = report::markdown(&results, &plan, &machine);
    outputs.write(&results, &plan, &machine, command_line)?;
    Ok(table)
}
