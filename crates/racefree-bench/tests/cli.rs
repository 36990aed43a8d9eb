//! racefree-bench end to end, as a user runs it, with tiny sizes.

use clap::{Parser, ValueEnum};
use racefree_bench::adapter::MapKind;
use racefree_bench::cli::{Cli, run};
use racefree_bench::gocases::GoCase;
use racefree_bench::suite::Scenario;

fn parse(args: &str) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("racefree-bench").chain(args.split_whitespace()))
}

#[test]
fn a_tiny_run_measures_every_map_and_recommends() {
    let json = std::env::temp_dir().join(format!("racefree-bench-{}.json", std::process::id()));
    let cli = parse(&format!(
        "--quiet --capacity-log2 8 --ops 4000 --reps 2 --warmups 0 --threads 1,2 --workloads exchange --json {}",
        json.display()
    ))
    .unwrap();
    let table = run(&cli).unwrap();
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

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    let results = report["results"].as_array().unwrap();
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
    assert_eq!(report["recommendations"].as_array().unwrap().len(), 1);
}

#[test]
fn a_custom_mix_replaces_the_standard_workloads() {
    let cli = parse("--quiet --mix read=80,update=20 --prefill 50 --capacity-log2 8 --ops 2000 --reps 1 --warmups 0 --threads 1 --maps sharded").unwrap();
    let plan = cli.plan();
    assert_eq!(plan.workloads.len(), 1);
    match &plan.workloads[0] {
        Scenario::Mix(workload) => assert_eq!(workload.prefill, 0.5),
        other => panic!("expected the --mix workload, got {other:?}"),
    }
    let table = run(&cli).unwrap();
    assert!(
        table.contains("| read=80,insert=0,remove=0,update=20 | 1 | racefree::ShardedMap |"),
        "{table}"
    );
}

/// Each Go case checks the answers it gets, so this also checks every
/// adapter's get_or_insert, compare_and_swap and iteration.
#[test]
fn every_go_case_runs_on_every_map() {
    let cases = GoCase::value_variants()
        .iter()
        .map(|c| c.to_possible_value().unwrap().get_name().to_owned());
    let cli = parse(&format!(
        "--quiet --go-cases {} --go-millis 2 --reps 1 --warmups 0 --threads 1,3",
        cases.collect::<Vec<_>>().join(",")
    ))
    .unwrap();
    let table = run(&cli).unwrap();
    for case in GoCase::value_variants() {
        let rows = table
            .lines()
            .filter(|l| l.starts_with(&format!("| {case} |")));
        assert_eq!(rows.count(), MapKind::ALL.len() * 2, "{case}");
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
    ] {
        let error = parse(args).unwrap_err().to_string();
        assert!(error.contains(says), "{args}: {error}");
    }
}

#[test]
fn an_unwritable_json_path_fails_before_measuring() {
    let cli = parse("--quiet --json /nonexistent-dir/report.json --capacity-log2 30 --reps 1000")
        .unwrap();
    // At capacity 2^30 and 1000 repetitions this would run for hours if the
    // path were checked only at the end.
    let error = run(&cli).unwrap_err();
    assert!(
        error.contains("cannot write the JSON report to /nonexistent-dir/report.json"),
        "{error}"
    );
}
