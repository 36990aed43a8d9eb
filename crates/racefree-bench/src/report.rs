//! Turns measured cells into tables.

use std::fmt::Write;

use crate::adapter::MapKind;
use crate::machine::Machine;
use crate::memory::Footprint;
use crate::suite::{Cell, Plan, Results};

/// The cells of one workload at one thread count, fastest first.
pub(crate) fn groups<'a>(cells: impl IntoIterator<Item = &'a Cell>) -> Vec<Vec<&'a Cell>> {
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

/// How close a map must come to racefree's best for a plain
/// `RwLock<HashMap>` to be recommended instead.
const PLAIN_IS_FINE: f64 = 0.95;

/// How close the second racefree map must come to the first for the
/// recommendation to name it too.
const CLOSE_CALL: f64 = 0.9;

/// The geometric mean of `map`'s "vs fastest" over `groups`, if it ran in all.
fn score(groups: &[&Vec<&Cell>], map: MapKind) -> Option<f64> {
    let ratios: Option<Vec<f64>> = groups
        .iter()
        .map(|group| {
            group
                .iter()
                .find(|c| c.map == map)
                .map(|c| c.paired_ratio(group[0]))
        })
        .collect();
    let ratios = ratios?;
    Some(
        ratios
            .iter()
            .map(|r| r.ln())
            .sum::<f64>()
            .exp()
            .powf(1.0 / ratios.len() as f64),
    )
}

/// One sentence per workload: which racefree map to use and by how much,
/// or that a plain `RwLock<HashMap>` is fine.
pub fn recommendations(cells: &[Cell]) -> Vec<String> {
    let groups = groups(cells);
    let mut names: Vec<&str> = Vec::new();
    for group in &groups {
        if !names.contains(&group[0].workload.as_str()) {
            names.push(&group[0].workload);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let of_workload: Vec<&Vec<&Cell>> = groups.iter().filter(|g| g[0].workload == name).collect();
            let mut ranked: Vec<(MapKind, f64)> = MapKind::ALL
                .into_iter()
                .filter(|m| m.is_racefree())
                .filter_map(|m| score(&of_workload, m).map(|s| (m, s)))
                .collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let (best, best_score) = *ranked.first()?;
            // A runner-up this close may come first in the next run.
            let close_call = ranked
                .get(1)
                .filter(|(_, s)| *s >= CLOSE_CALL * best_score)
                .map(|(m, s)| {
                    format!(
                        " {} came within {:.0} %: measure both on your machine.",
                        m.label(),
                        100.0 * (1.0 - s / best_score)
                    )
                })
                .unwrap_or_default();
            let plain = score(&of_workload, MapKind::StdRwLock);
            Some(match plain {
                Some(plain) if plain >= PLAIN_IS_FINE * best_score => {
                    let ratio = plain / best_score;
                    let measure = if ratio >= 1.0 {
                        format!("ran {ratio:.1}x")
                    } else {
                        format!("reached {:.0} % of", 100.0 * ratio)
                    };
                    format!(
                        "{name}: a plain `RwLock<HashMap>` is fine here; across thread counts it {measure} {}'s throughput.",
                        best.label()
                    )
                }
                _ => {
                    let busiest = of_workload.iter().max_by_key(|g| g[0].threads).expect("a workload has groups");
                    let ratio_to = |other: MapKind| {
                        let mine = busiest.iter().find(|c| c.map == best)?;
                        let theirs = busiest.iter().find(|c| c.map == other)?;
                        Some(mine.paired_ratio(busiest[0]) / theirs.paired_ratio(busiest[0]))
                    };
                    let versus_plain = ratio_to(MapKind::StdRwLock)
                        .map(|r| format!(" At {} threads it ran {r:.1}x `RwLock<HashMap>`.", busiest[0].threads))
                        .unwrap_or_default();
                    format!(
                        "{name}: use {}; across thread counts it averaged {:.2} of the fastest map measured.{versus_plain}{close_call}",
                        best.label(),
                        best_score
                    )
                }
            })
        })
        .collect()
}

/// What the plan ran, in one paragraph.
pub fn plan_summary(plan: &Plan) -> String {
    format!(
        "Keys `{}`, values `{}`; capacity 2^{}, {}; Go's cases run {} ms each and count calls \
         (a Range call visits 1024 entries). Median of {} runs after {} warm-up, maps \
         interleaved. \"vs fastest\" is the median of per-round ratios to the fastest map.",
        plan.key.name(),
        plan.value.name(),
        plan.size.capacity_log2,
        plan.size.budget,
        plan.size.go_run.as_millis(),
        plan.repetitions,
        plan.warmups
    )
}

/// `map`'s bytes per entry, if measured.
fn bytes_per_entry(memory: &[(MapKind, Footprint)], map: MapKind) -> String {
    memory.iter().find(|(m, _)| *m == map).map_or_else(
        || "–".to_owned(),
        |(_, f)| format!("{:.0}", f.bytes_per_entry),
    )
}

/// A Markdown table of every cell, with the machine and plan above it, the
/// memory table and the recommendations below: what BENCHMARKS.md records.
pub fn markdown(results: &Results, plan: &Plan, machine: &Machine) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{machine}\n");
    let _ = writeln!(out, "{}\n", plan_summary(plan));
    let _ = writeln!(
        out,
        "| workload | threads | map | Mops/s | ns/op | spread | vs fastest | B/entry |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|");
    for group in groups(&results.cells) {
        let fastest = group[0];
        for cell in &group {
            let median = cell.median();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} | {:.1} | {:.0} % | {:.2} | {} |",
                cell.workload,
                cell.threads,
                cell.map.label(),
                median / 1e6,
                cell.ns_per_op(),
                cell.spread() * 100.0,
                cell.paired_ratio(fastest),
                bytes_per_entry(&results.memory, cell.map),
            );
        }
    }
    out.push_str(&limit_table(results));
    if let Some(entries) = plan.growth_entries {
        out.push_str(&growth_table(results, entries));
    }
    if let Some(entries) = plan.memory_entries {
        let _ = writeln!(
            out,
            "\nMemory: {entries} entries inserted into an empty map, then all removed \
             (heap bytes, keys' and values' own included).\n"
        );
        let _ = writeln!(
            out,
            "| map | bytes per entry | bytes held after removing all |"
        );
        let _ = writeln!(out, "|---|---:|---:|");
        for (map, footprint) in &results.memory {
            let _ = writeln!(
                out,
                "| {} | {:.1} | {} |",
                map.label(),
                footprint.bytes_per_entry,
                footprint.bytes_after_removal
            );
        }
    }
    let advice = recommendations(&results.cells);
    if !advice.is_empty() {
        let _ = writeln!(out, "\nRecommendation:\n");
        for line in advice {
            let _ = writeln!(out, "- {line}");
        }
    }
    out
}

/// A latency in the unit that suits it: `850 ns`, `12.3 µs`, `221.8 ms`.
pub(crate) fn nanos(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns as f64 / 1e3),
        _ => format!("{:.1} ms", ns as f64 / 1e6),
    }
}

/// Each map's insert latencies while growing to `entries` entries.
fn growth_table(results: &Results, entries: usize) -> String {
    let mut out = format!(
        "\nInsert latency: {entries} fresh keys inserted one at a time into an empty \
         map by one thread, each timed alone (the clock reads add about 20-40 ns \
         to every figure).\n\n| map | p50 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|\n"
    );
    for (map, growth) in &results.growth {
        let figures: Vec<String> = growth.columns().into_iter().map(nanos).collect();
        let _ = writeln!(out, "| {} | {} |", map.label(), figures.join(" | "));
    }
    out
}

/// What the limit is, said above its table in each report.
pub(crate) const LIMIT_NOTE: &str = "The limit: std's HashMap with no synchronization at \
    all, driven by one thread in the same rounds as the maps' 1-thread runs. Each map's \
    share of it is the median of per-round ratios.";

/// Each map's 1-thread throughput as a share of the unsynchronized limit's
/// on the same workload.
pub(crate) struct LimitShares<'a> {
    /// The limit's cells, a workload each, in run order.
    pub limits: &'a [Cell],
    /// A row per map: its share of each of those workloads' limits, if it
    /// ran there at 1 thread.
    pub rows: Vec<(MapKind, Vec<Option<f64>>)>,
}

/// The maps' shares of the limit, or `None` if the limit did not run.
pub(crate) fn limit_shares(results: &Results) -> Option<LimitShares<'_>> {
    if results.limit.is_empty() {
        return None;
    }
    let mut maps: Vec<MapKind> = Vec::new();
    for cell in results.cells.iter().filter(|c| c.threads == 1) {
        if !maps.contains(&cell.map) {
            maps.push(cell.map);
        }
    }
    let rows = maps
        .into_iter()
        .map(|map| {
            let shares = results
                .limit
                .iter()
                .map(|limit| {
                    results
                        .cells
                        .iter()
                        .find(|c| c.map == map && c.threads == 1 && c.workload == limit.workload)
                        .map(|c| c.paired_ratio(limit))
                })
                .collect();
            (map, shares)
        })
        .collect();
    Some(LimitShares {
        limits: &results.limit,
        rows,
    })
}

/// A share of the limit as the reports print it: `67 %`, or `–`.
pub(crate) fn share(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0} %", 100.0 * s))
}

/// The limit's table (a row per map, a column per workload), or nothing
/// if the limit did not run.
fn limit_table(results: &Results) -> String {
    let mut out = String::new();
    let Some(table) = limit_shares(results) else {
        return out;
    };
    let _ = writeln!(out, "\n{LIMIT_NOTE}\n");
    let workloads: Vec<&str> = table.limits.iter().map(|c| c.workload.as_str()).collect();
    let _ = writeln!(out, "| 1 thread | {} |", workloads.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(workloads.len()));
    let limits: Vec<String> = table
        .limits
        .iter()
        .map(|c| format!("{:.2}", c.median() / 1e6))
        .collect();
    let _ = writeln!(out, "| the limit, Mops/s | {} |", limits.join(" | "));
    for (map, shares) in table.rows {
        let shares: Vec<String> = shares.into_iter().map(share).collect();
        let _ = writeln!(out, "| {} | {} |", map.label(), shares.join(" | "));
    }
    out
}

/// Every cell with its raw runs, the plan and the machine, for other tools.
pub fn json(results: &Results, plan: &Plan, machine: &Machine) -> serde_json::Value {
    let cells: Vec<serde_json::Value> = groups(&results.cells)
        .into_iter()
        .flat_map(|group| {
            let fastest = group[0];
            group.into_iter().map(move |cell| {
                let median = cell.median();
                serde_json::json!({
                    "workload": cell.workload,
                    "threads": cell.threads,
                    "map": cell.map.label(),
                    "ops_per_sec_runs": cell.ops_per_sec,
                    "ops_per_sec_median": median,
                    "ns_per_op_per_thread": cell.ns_per_op(),
                    "spread": cell.spread(),
                    "vs_fastest": cell.paired_ratio(fastest),
                })
            })
        })
        .collect();
    let memory: Vec<serde_json::Value> = results
        .memory
        .iter()
        .map(|(map, footprint)| serde_json::json!({ "map": map.label(), "footprint": footprint }))
        .collect();
    serde_json::json!({
        "machine": {
            "cpu": machine.cpu,
            "cores": machine.cores,
            "rustc": machine.rustc,
            "commit": machine.commit,
        },
        "plan": plan_summary(plan),
        "key": plan.key,
        "value": plan.value,
        "capacity_log2": plan.size.capacity_log2,
        "repetitions": plan.repetitions,
        "warmups": plan.warmups,
        "memory_entries": plan.memory_entries,
        "results": cells,
        "limit": results.limit.iter().map(|cell| serde_json::json!({
            "workload": cell.workload,
            "ops_per_sec_runs": cell.ops_per_sec,
            "ops_per_sec_median": cell.median(),
        })).collect::<Vec<_>>(),
        "growth": results.growth.iter().map(|(map, growth)| serde_json::json!({
            "map": map.label(),
            "entries": plan.growth_entries,
            "latency_ns": growth,
        })).collect::<Vec<_>>(),
        "memory": memory,
        "recommendations": recommendations(&results.cells),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(map: MapKind, threads: usize, ops: f64) -> Cell {
        Cell {
            workload: "exchange".to_owned(),
            threads,
            map,
            ops_per_sec: vec![ops, ops * 1.01, ops * 0.99],
        }
    }

    #[test]
    fn latencies_read_in_their_unit() {
        assert_eq!(nanos(850), "850 ns");
        assert_eq!(nanos(12_345), "12.3 µs");
        assert_eq!(nanos(221_773_823), "221.8 ms");
    }

    #[test]
    fn recommends_the_sharded_map_when_the_plain_lock_collapses() {
        let cells = [
            cell(MapKind::Sharded, 8, 10e6),
            cell(MapKind::Locked, 8, 6e6),
            cell(MapKind::StdRwLock, 8, 2.5e6),
        ];
        let advice = recommendations(&cells);
        assert_eq!(advice.len(), 1);
        assert!(
            advice[0].starts_with("exchange: use racefree::ShardedMap"),
            "{advice:?}"
        );
        assert!(advice[0].contains("4.0x `RwLock<HashMap>`"), "{advice:?}");
    }

    #[test]
    fn names_a_runner_up_that_comes_close() {
        let cells = [
            cell(MapKind::Sharded, 8, 10e6),
            cell(MapKind::ReadMostly, 8, 9.5e6),
            cell(MapKind::StdRwLock, 8, 2.5e6),
        ];
        let advice = recommendations(&cells);
        assert!(
            advice[0].starts_with("exchange: use racefree::ShardedMap"),
            "{advice:?}"
        );
        assert!(
            advice[0].ends_with(
                "racefree::ReadMostlyMap came within 5 %: measure both on your machine."
            ),
            "{advice:?}"
        );
        let clear_win = [
            cell(MapKind::Sharded, 8, 10e6),
            cell(MapKind::ReadMostly, 8, 5e6),
        ];
        assert!(!recommendations(&clear_win)[0].contains("came within"));
    }

    #[test]
    fn says_a_plain_lock_is_fine_when_it_keeps_up() {
        let cells = [
            cell(MapKind::Sharded, 1, 10e6),
            cell(MapKind::StdRwLock, 1, 9.8e6),
        ];
        let advice = recommendations(&cells);
        assert!(
            advice[0].contains("a plain `RwLock<HashMap>` is fine here"),
            "{advice:?}"
        );
        assert!(advice[0].contains("98 %"), "{advice:?}");
    }
}
