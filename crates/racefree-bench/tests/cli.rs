//! racefree-bench end to end, as a user runs it, with tiny sizes.

use std::fs;

use clap::{Parser, ValueEnum};
use racefree_bench::adapter::MapKind;
use racefree_bench::cli::{Cli, run};
use racefree_bench::gocases::GoCase;
use racefree_bench::suite::Scenario;
use tempfile::TempDir;

fn parse(args: &str) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("racefree-bench").chain(args.split_whitespace()))
}

/// Runs `args` quietly, without the memory measurement (which counts every
/// thread's allocations, and tests run in parallel: tests/memory.rs has it
/// to itself), with the report in a fresh directory; returns the printed
/// table and the directory.
fn tiny(args: &str) -> (String, TempDir) {
    let dir = TempDir::new().unwrap();
    let cli = parse(&format!(
        "--quiet --memory-entries 0 --growth-entries 0 --report {} {args}",
        dir.path().display()
    ))
    .unwrap();
    (run(&cli, "racefree-bench (test)").unwrap(), dir)
}

#[test]
fn a_tiny_run_measures_every_map_writes_every_file_and_recommends() {
    let out = TempDir::new().unwrap();
    let (json, markdown) = (out.path().join("r.json"), out.path().join("B.md"));
    fs::write(
        &markdown,
        "# Kept\n<!-- racefree-bench:begin -->old<!-- racefree-bench:end -->\nAlso kept\n",
    )
    .unwrap();
    let (table, report) = tiny(&format!(
        "--capacity-log2 8 --ops 4000 --reps 2 --warmups 0 --threads 1,2 --workloads exchange \
         --json {} --markdown {}",
        json.display(),
        markdown.display()
    ));
    for map in MapKind::ALL {
        let rows = table
            .lines()
            .filter(|l| l.starts_with("| exchange |") && l.contains(map.label()));
        assert_eq!(
            rows.count(),
            2,
            "one row per thread count for {}",
            map.label()
        );
    }
    assert!(table.contains("Recommendation:\n\n- exchange: "), "{table}");

    let report_json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let results = report_json["results"].as_array().unwrap();
    assert_eq!(results.len(), MapKind::ALL.len() * 2);
    assert!(
        results
            .iter()
            .all(|r| r["ops_per_sec_runs"].as_array().unwrap().len() == 2)
    );
    assert!(
        results
            .iter()
            .all(|r| r["ops_per_sec_median"].as_f64().unwrap() > 0.0)
    );
    assert_eq!(report_json["recommendations"].as_array().unwrap().len(), 1);

    let page = fs::read_to_string(report.path().join("index.html")).unwrap();
    assert!(
        page.contains("<h2>exchange</h2>") && page.contains("<svg"),
        "{page}"
    );
    assert!(
        page.contains("std RwLock&lt;HashMap&gt;"),
        "labels are escaped"
    );
    let limit = page
        .split("<h2>The single-thread limit</h2>")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("a section on the limit");
    assert!(
        limit.contains("<th>exchange</th>")
            && limit.contains("<td>the limit, Mops/s</td>")
            && limit.contains("<td>racefree::ShardedMap</td><td class=\"n\">")
            && limit.contains(" %</td>"),
        "{limit}"
    );
    let chart = fs::read_to_string(report.path().join("exchange.svg")).unwrap();
    assert!(
        chart.contains("<svg") && chart.contains("threads"),
        "{chart}"
    );

    let markdown = fs::read_to_string(&markdown).unwrap();
    assert!(
        markdown.starts_with(
            "# Kept\n<!-- racefree-bench:begin -->\n\nMade by `racefree-bench (test)`."
        )
    );
    assert!(
        markdown.ends_with("<!-- racefree-bench:end -->\nAlso kept\n"),
        "{markdown}"
    );
    assert!(markdown.contains("| exchange | 2 |") && !markdown.contains("old"));
    assert!(
        markdown.contains("| 1 thread | exchange |\n|---|---:|\n| the limit, Mops/s | "),
        "{markdown}"
    );
}

#[test]
fn a_custom_mix_replaces_the_standard_workloads() {
    let cli = parse("--mix read=80,update=20 --prefill 50").unwrap();
    let plan = cli.run_args().plan();
    assert_eq!(plan.workloads.len(), 1);
    match &plan.workloads[0] {
        Scenario::Mix(workload) => assert_eq!(workload.prefill, 0.5),
        other => panic!("expected the --mix workload, got {other:?}"),
    }
    let (table, _) = tiny(
        "--mix read=80,update=20 --prefill 50 --capacity-log2 8 --ops 2000 --reps 1 --warmups 0 --threads 1 --maps sharded",
    );
    assert!(
        table.contains("| read=80,update=20 | 1 | racefree::ShardedMap |"),
        "{table}"
    );
}

/// Every operation of `--mix` on every map, with fresh keys (every answer
/// checked, values included) and with shared keys.
#[test]
fn every_mix_operation_runs_on_every_map() {
    let mix = "read=30,insert=15,remove=15,update=10,get_or_insert=20,compare_and_swap=10";
    for keys in ["", "--keys 300"] {
        let (table, _) = tiny(&format!(
            "--mix {mix} {keys} --capacity-log2 8 --ops 3000 --reps 1 --warmups 0 --threads 1,3"
        ));
        for map in MapKind::ALL {
            let rows = table
                .lines()
                .filter(|l| l.starts_with(&format!("| {mix}")) && l.contains(map.label()));
            assert_eq!(rows.count(), 2, "{keys}: {}\n{table}", map.label());
        }
    }
}

/// Shared keys are checked for consistency (values are their key's own,
/// new-key answers add up to the size), with hot keys contended by 3
/// threads on every map, with `String` keys and values.
#[test]
fn shared_zipf_keys_run_on_every_map_with_string_keys_and_values() {
    let (table, _) = tiny(
        "--mix read=50,insert=20,remove=20,update=10 --keys 500 --distribution zipf:1.1 \
         --key string --value string --capacity-log2 6 --duration 0.02 --reps 1 --warmups 0 --threads 3",
    );
    let name = "read=50,insert=20,remove=20,update=10 (500 zipf:1.1 keys)";
    for map in MapKind::ALL {
        assert!(
            table.contains(&format!("| {name} | 3 | {} |", map.label())),
            "{table}"
        );
    }
    assert!(table.contains("Keys `String`, values `String`"), "{table}");
}

/// Each Go case checks the answers it gets, so this also checks every
/// adapter's get_or_insert, compare_and_swap and iteration, for both key
/// and value types.
#[test]
fn every_go_case_runs_on_every_map() {
    let cases: Vec<String> = GoCase::value_variants()
        .iter()
        .map(|c| c.to_possible_value().unwrap().get_name().to_owned())
        .collect();
    for types in ["", "--key string --value string"] {
        let (table, _) = tiny(&format!(
            "--go-cases {} --go-millis 2 --reps 1 --warmups 0 --threads 1,3 {types}",
            cases.join(",")
        ));
        for case in GoCase::value_variants() {
            let rows = table
                .lines()
                .filter(|l| l.starts_with(&format!("| {case} |")));
            assert_eq!(rows.count(), MapKind::ALL.len() * 2, "{case} {types}");
        }
    }
}

#[test]
fn the_standard_workloads_run_with_string_keys_by_time() {
    let (table, _) = tiny(
        "--workloads read-heavy,exchange,rapid-grow --key string --capacity-log2 8 \
         --duration 0.01 --reps 1 --warmups 0 --threads 2 --maps locked,papaya",
    );
    for workload in ["read-heavy", "exchange", "rapid-grow"] {
        assert!(
            table.contains(&format!("| {workload} | 2 | papaya 0.2 |")),
            "{table}"
        );
    }
    assert!(table.contains("10 ms per run"), "{table}");
}

#[test]
fn list_names_every_choice() {
    let listing = run(&parse("list").unwrap(), "racefree-bench list").unwrap();
    for name in [
        "sharded",
        "std-rw-lock",
        "rapid-grow",
        "load-mostly-hits",
        "compare-and-swap-collision",
    ] {
        assert!(listing.contains(name), "{name} missing from:\n{listing}");
    }
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    for (args, says) in [
        ("--mix read=90,insert=5", "add up to 95, not 100"),
        ("--mix read=90,delete=10", "unknown operation `delete`"),
        ("--threads 0", "--threads"),
        ("--capacity-log2 40", "--capacity-log2"),
        ("--maps treemap", "treemap"),
        ("--prefill 101", "--prefill"),
        ("--keys 0", "--keys"),
        ("--distribution zipf:1", "--keys"),
        (
            "--keys 10 --distribution zipf:x",
            "`x` is not a Zipf exponent",
        ),
        (
            "--keys 10 --distribution pareto",
            "unknown distribution `pareto`",
        ),
        ("--duration 0", "is not a number of seconds"),
        ("--duration 1 --ops 5", "cannot be used with"),
        ("--key bytes", "bytes"),
    ] {
        let error = parse(args).unwrap_err().to_string();
        assert!(error.contains(says), "{args}: {error}");
    }
}

#[test]
fn unwritable_output_paths_fail_before_measuring() {
    // At capacity 2^30 and 1000 repetitions these would run for hours if
    // the paths were checked only at the end.
    let report = TempDir::new().unwrap();
    let slow = format!(
        "--quiet --capacity-log2 30 --reps 1000 --report {}",
        report.path().display()
    );
    for (option, says) in [
        (
            "--json /nonexistent-dir/report.json",
            "cannot write the JSON report to /nonexistent-dir/report.json",
        ),
        (
            "--markdown /nonexistent-dir/B.md",
            "cannot write the Markdown report to /nonexistent-dir/B.md",
        ),
    ] {
        let args = format!("{slow} {option}");
        let error = run(&parse(&args).unwrap(), "racefree-bench (test)").unwrap_err();
        assert!(error.contains(says), "{option}: {error}");
    }
    let error = run(&parse("--quiet --report /proc/racefree").unwrap(), "").unwrap_err();
    assert!(
        error.contains("cannot write the HTML report to /proc/racefree"),
        "{error}"
    );
}

#[test]
fn the_cache_command_compares_caches_advises_and_splices_its_markdown() {
    let dir = TempDir::new().unwrap();
    let (trace, markdown) = (dir.path().join("t.lis"), dir.path().join("B.md"));
    let chart = dir.path().join("hits.svg");
    // Lines of `start_block num_blocks ignore request_number`: a hot block
    // among a few cold ones.
    let lines: String = (0..2000)
        .map(|i| format!("{} 1 0 {i}\n", if i % 2 == 0 { 7 } else { i }))
        .collect();
    fs::write(&trace, lines).unwrap();
    fs::write(
        &markdown,
        "# Kept\n<!-- racefree-bench-cache:begin -->old<!-- racefree-bench-cache:end -->\nAlso kept\n",
    )
    .unwrap();
    // No memory run: it counts every thread's allocations, and tests run in
    // parallel.
    let cli = parse(&format!(
        "cache --quiet --requests 2000 --trace {} --trace-capacities 16,64 --capacity 256 \
         --ops 2000 --reps 1 --threads 1,2 --memory-entries 0 --markdown {} --chart {}",
        trace.display(),
        markdown.display(),
        chart.display()
    ))
    .unwrap();
    let text = run(&cli, "racefree-bench cache (test)").unwrap();
    for section in ["### Hit ratio", "### Which cache", "### Throughput"] {
        assert!(text.contains(section), "{section} missing from:\n{text}");
    }
    assert!(!text.contains("### Memory"));
    // The trace rows: every other request is block 7, so about half hit.
    assert!(
        text.contains(&format!("| {} | 16 |", trace.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("- {} at capacity 64: ", trace.display())),
        "{text}"
    );
    let written = fs::read_to_string(&markdown).unwrap();
    assert!(written.starts_with("# Kept\n<!-- racefree-bench-cache:begin -->"));
    assert!(written.ends_with("<!-- racefree-bench-cache:end -->\nAlso kept\n"));
    assert!(written.contains("### Which cache") && !written.contains("old"));
    let svg = fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("quick_cache 0.7"),
        "{svg}"
    );
}

#[test]
fn the_cache_command_times_alone_what_it_is_asked_to() {
    let cli = parse(
        "cache --quiet --speed-only --speed-workloads hits --caches racefree,lru --capacity 256 \
         --ops 2000 --reps 1 --threads 1 --memory-entries 0",
    )
    .unwrap();
    let text = run(&cli, "racefree-bench cache (test)").unwrap();
    assert!(text.contains("| 100 % hits | 1 |"), "{text}");
    assert!(!text.contains("90 % read"), "{text}");
    assert!(!text.contains("### Hit ratio"), "{text}");
    // A partial report must not replace a full one.
    assert!(parse("cache --speed-only --markdown B.md").is_err());
    assert!(parse("cache --speed-only --skip-speed").is_err());
    let cli = parse("cache --quiet --speed-only --caches lru").unwrap();
    let error = run(&cli, "racefree-bench cache (test)").unwrap_err();
    assert!(error.contains("--caches names none of them"), "{error}");
}

#[test]
fn the_cache_command_names_the_bad_line_of_a_trace() {
    let dir = TempDir::new().unwrap();
    let trace = dir.path().join("bad.lis");
    fs::write(&trace, "1 1 0 0\n2 x 0 1\n").unwrap();
    let cli = parse(&format!(
        "cache --quiet --skip-speed --trace {}",
        trace.display()
    ))
    .unwrap();
    let error = run(&cli, "racefree-bench cache (test)").unwrap_err();
    assert!(
        error.contains("bad.lis") && error.contains("line 2"),
        "{error}"
    );
}
