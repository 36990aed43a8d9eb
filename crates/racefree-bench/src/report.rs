//! Turns measured cells into tables.

use std::fmt::Write;

use crate::machine::Machine;
use crate::suite::{Cell, Plan};

/// The cells of one workload at one thread count, fastest first.
fn groups(cells: &[Cell]) -> Vec<Vec<&Cell>> {
    let mut groups: Vec<Vec<&Cell>> = Vec::new();
    for cell in cells {
        match groups.last_mut() {
            Some(group)
                if group[0].workload == cell.workload && group[0].threads == cell.threads =>
            {
                group.push(cell)
            }
            _ => groups.push(vec![cell]),
        }
    }
    for group in &mut groups {
        group.sort_by(|a, b| b.median().total_cmp(&a.median()));
    }
    groups
}

/// A Markdown table of every cell, with the machine and plan above it:
/// what BENCHMARKS.md records.
pub fn markdown(cells: &[Cell], plan: &Plan, machine: &Machine) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{machine}");
    let _ = writeln!(
        out,
        "Capacity 2^{}, {} operations per run, median of {} runs after {} warm-up, maps interleaved. \
         \"vs fastest\" is the median of per-round ratios to the fastest map.\n",
        plan.size.capacity_log2, plan.size.operations, plan.repetitions, plan.warmups
    );
    let _ = writeln!(
        out,
        "| workload | threads | map | Mops/s | ns/op | spread | vs fastest |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|");
    for group in groups(cells) {
        let fastest = group[0];
        for cell in &group {
            let median = cell.median();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} | {:.1} | {:.0} % | {:.2} |",
                cell.workload,
                cell.threads,
                cell.map.label(),
                median / 1e6,
                1e9 / median * cell.threads as f64,
                cell.spread() * 100.0,
                cell.paired_ratio(fastest),
            );
        }
    }
    out
}
