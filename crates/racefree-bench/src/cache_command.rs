//! `racefree-bench cache`: hit ratios and throughput of racefree-cache,
//! its policies, moka and quick_cache, side by side.

use std::path::PathBuf;
use std::thread;

use clap::Args;

use crate::cache_speed::{self, SpeedWorkload};
use crate::caches::CacheKind;
use crate::hit_chart;
use crate::hit_ratio::{self, HitWorkload};
use crate::machine::Machine;
use crate::memory;
use crate::output::{check_writable, replace_generated};
use crate::progress;
use crate::trace;

/// Where the generated part of a Markdown file starts and ends.
const BEGIN: &str = "<!-- racefree-bench-cache:begin -->";
const END: &str = "<!-- racefree-bench-cache:end -->";

/// What the `cache` command measures.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Caches to compare, comma-separated [default: all; the throughput
    /// table takes the racefree-cache, moka and quick_cache among them].
    #[arg(long, value_delimiter = ',')]
    pub caches: Vec<CacheKind>,

    /// Requests per Zipf replay.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: u64,

    /// A trace to replay instead of the bundled OLTP trace: lines of
    /// `start_block num_blocks ignore request_number`, plain or `.xz`.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Cache sizes for the trace replay, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,512,1000,2000", value_parser = clap::value_parser!(u64).range(1..))]
    pub trace_capacities: Vec<u64>,

    /// Thread counts for throughput, comma-separated [default: 1, cores,
    /// 4 × cores].
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Vec<u16>,

    /// Capacity of the caches in the throughput runs.
    #[arg(long, value_name = "N", default_value_t = 1 << 16, value_parser = clap::value_parser!(u64).range(2..))]
    pub capacity: u64,

    /// Operations per throughput run, across all threads.
    #[arg(long, value_name = "N", default_value_t = 4_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub ops: u64,

    /// Throughput runs per cell; the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub reps: u64,

    /// Capacity (and entries) to measure each cache's memory with, in
    /// bytes per entry; 0 skips it.
    #[arg(long, value_name = "N", default_value_t = 1 << 16)]
    pub memory_entries: u64,

    /// Only the hit ratios (and memory).
    #[arg(long)]
    pub skip_speed: bool,

    /// Only the throughput (and memory), for quick comparisons or a
    /// profiler; its partial report cannot replace a full one.
    #[arg(long, conflicts_with_all = ["skip_speed", "markdown", "chart"])]
    pub speed_only: bool,

    /// Throughput workloads, comma-separated [default: both].
    #[arg(long, value_delimiter = ',')]
    pub speed_workloads: Vec<SpeedWorkload>,

    /// Also write the results as Markdown to this file; in a file that has
    /// them, only the part between `<!-- racefree-bench-cache:begin -->`
    /// and `<!-- racefree-bench-cache:end -->` is replaced.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Also draw the hit ratios as an SVG dot plot (each cache's distance
    /// from the best, per workload) to this file.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,

    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The hit-ratio workloads these options describe.
fn hit_workloads(args: &CacheArgs) -> Result<Vec<HitWorkload>, String> {
    let requests = args.requests as usize;
    let mut workloads: Vec<HitWorkload> = [0.8, 1.0, 1.2]
        .into_iter()
        .map(|s| hit_ratio::zipf(s, 100_000, requests, 1000))
        .collect();
    let (name, keys) = match &args.trace {
        Some(path) => (path.display().to_string(), trace::load(path)?),
        None => ("OLTP trace".to_owned(), trace::oltp()),
    };
    let keys = std::sync::Arc::new(keys);
    for &capacity in &args.trace_capacities {
        workloads.push(HitWorkload {
            name: name.clone(),
            capacity,
            keys: keys.clone(),
            optimum: None,
        });
    }
    workloads.push(hit_ratio::scan_mix(1000, 20));
    Ok(workloads)
}

/// Measures each cache's bytes per entry, one at a time (the allocator
/// counts every thread), as a Markdown section.
fn memory_markdown(caches: &[CacheKind], capacity: u64) -> String {
    let mut text = format!(
        "\n### Memory\n\nHeap bytes per entry of a cache of capacity {capacity} filled with as many \
         `u64` keys and values (16 bytes of the entry), divided by the entries it holds; counted by the \
         benchmark's allocator.\n\n| cache | bytes per entry | beyond key and value |\n|---|---:|---:|\n"
    );
    for &kind in caches {
        let bytes = memory::cache_bytes_per_entry(kind, capacity);
        text += &format!("| {} | {bytes:.1} | {:.1} |\n", kind.name(), bytes - 16.0);
    }
    text
}

/// Runs the `cache` command; returns the text to print.
pub fn run(args: &CacheArgs, command_line: &str) -> Result<String, String> {
    if let Some(path) = &args.markdown {
        check_writable("the Markdown report", path)?;
    }
    if let Some(path) = &args.chart {
        check_writable("the chart", path)?;
    }
    let caches = if args.caches.is_empty() {
        CacheKind::ALL.to_vec()
    } else {
        args.caches.clone()
    };
    // The caches the throughput table compares.
    let products: Vec<CacheKind> = caches
        .iter()
        .copied()
        .filter(|k| CacheKind::PRODUCTS.contains(k))
        .collect();
    if args.speed_only && products.is_empty() {
        return Err(
            "--speed-only times racefree, moka and quick-cache, and --caches names none of them"
                .to_owned(),
        );
    }
    let mut text = if args.speed_only {
        String::new()
    } else {
        hit_ratio_markdown(args, &caches)?
    };
    if args.memory_entries > 0 {
        text += &memory_markdown(&caches, args.memory_entries);
    }
    if !args.skip_speed {
        text += &speed_markdown(args, &products);
    }
    if let Some(path) = &args.markdown {
        let machine = Machine::detect();
        let generated =
            format!("{BEGIN}\n\nMade by `{command_line}` on {machine}.\n\n{text}\n{END}");
        replace_generated(path, &generated, BEGIN, END)?;
    }
    Ok(text)
}

/// Replays the hit-ratio workloads through `caches`, draws the chart if
/// asked, and gives the "Hit ratio" and "Which cache" sections.
fn hit_ratio_markdown(args: &CacheArgs, caches: &[CacheKind]) -> Result<String, String> {
    let workloads = hit_workloads(args)?;
    let bar = progress::bar(workloads.len() * caches.len(), args.quiet, "replays");
    let hits = hit_ratio::measure(workloads, caches, || bar.inc(1));
    bar.finish_and_clear();
    if let Some(path) = &args.chart {
        let svg = hit_chart::hit_ratios(&hits)?;
        std::fs::write(path, svg)
            .map_err(|e| format!("cannot write the chart to {}: {e}", path.display()))?;
    }
    let mut text = format!(
        "### Hit ratio\n\nEach cache replays the same requests on one thread: a `get`, and an `insert` on a \
         miss. Zipf rows: {} requests, fixed seed, capacity 1000; \"optimum\" is the probability mass of \
         the 1000 most popular keys, the best any cache can expect on independent requests. The scan mix \
         alternates 20 000 Zipf 1.0 requests over 10 000 hot keys with a one-pass scan of 3 000 new keys, \
         20 times.\n\n{}",
        args.requests,
        hits.markdown()
    );
    text += &format!(
        "\n### Which cache\n\nA one-shard cache takes one lock for every call: weigh a gain in hit ratio \
         against the throughput below.\n\n{}",
        hits.advice()
    );
    Ok(text)
}

/// Times the throughput workloads on `products` (racefree-cache, moka and
/// quick_cache, or some of them): the "Throughput" section.
fn speed_markdown(args: &CacheArgs, products: &[CacheKind]) -> String {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads: Vec<usize> = args.threads.iter().map(|&t| usize::from(t)).collect();
    if threads.is_empty() {
        threads = vec![1, cores, 4 * cores];
    }
    let workloads = if args.speed_workloads.is_empty() {
        SpeedWorkload::ALL.to_vec()
    } else {
        args.speed_workloads.clone()
    };
    let cells = workloads.len() * threads.len() * products.len() * args.reps as usize;
    let bar = progress::bar(cells, args.quiet, "runs");
    let speed = cache_speed::measure(
        products,
        &workloads,
        &threads,
        args.capacity,
        args.ops,
        args.reps as usize,
        || bar.inc(1),
    );
    bar.finish_and_clear();
    format!(
        "\n### Throughput\n\nCapacity {}, {} operations per run across all threads, median of {} runs, \
         caches interleaved; every hit's value is checked.\n\n{}",
        args.capacity,
        args.ops,
        args.reps,
        speed.markdown()
    )
}
