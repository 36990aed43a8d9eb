//! The HTML report: one page with a chart and a table per workload, that
//! opens in a browser with no network (no scripts, styles inline, charts as
//! inline SVG).

use std::fmt::Write;

use crate::chart;
use crate::machine::Machine;
use crate::report::{self, groups};
use crate::suite::{Cell, Plan, Results};

/// Escapes text for HTML. Five replacements: not worth a dependency.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A file name for a workload's chart: `go:LoadMostlyHits` gives
/// `go-loadmostlyhits.svg`.
pub fn chart_file_name(workload: &str) -> String {
    let mut name = String::new();
    for c in workload.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    format!("{}.svg", name.trim_matches('-'))
}

/// The workloads of `cells`, in the order they ran, each with its cells.
pub fn by_workload(cells: &[Cell]) -> Vec<(&str, Vec<&Cell>)> {
    let mut out: Vec<(&str, Vec<&Cell>)> = Vec::new();
    for cell in cells {
        match out.iter_mut().find(|(name, _)| *name == cell.workload) {
            Some((_, of_workload)) => of_workload.push(cell),
            None => out.push((&cell.workload, vec![cell])),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#222}table{border-collapse:collapse;margin:1rem 0}\
td,th{border:1px solid #ccc;padding:.25rem .6rem}td.n{text-align:right}\
th{background:#f3f3f3}section{margin-top:2.5rem}svg{max-width:100%;height:auto}";

/// The report page, and each workload's chart as (file name, SVG).
pub fn page(
    results: &Results,
    plan: &Plan,
    machine: &Machine,
) -> Result<(String, Vec<(String, String)>), String> {
    let mut html = String::new();
    let mut charts = Vec::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>racefree-bench report</title><style>{STYLE}</style></head><body>\n\
         <h1>racefree-bench report</h1>\n<p>{}</p>\n<p>{}</p>\n",
        escape(&machine.to_string()),
        escape(&report::plan_summary(plan))
    );
    let advice = report::recommendations(&results.cells);
    if !advice.is_empty() {
        html.push_str("<h2>Recommendation</h2>\n<ul>\n");
        for line in advice {
            let _ = writeln!(html, "<li>{}</li>", escape(&line));
        }
        html.push_str("</ul>\n");
    }
    for (workload, cells) in by_workload(&results.cells) {
        let svg = chart::throughput(workload, &cells)?;
        let _ = writeln!(html, "<section><h2>{}</h2>", escape(workload));
        // Inline, without an XML declaration if there is one.
        html.push_str(&svg[svg.find("<svg").unwrap_or(0)..]);
        html.push_str(
            "\n<table><tr><th>threads</th><th>map</th><th>Mops/s</th><th>ns/op</th>\
             <th>spread</th><th>vs fastest</th></tr>\n",
        );
        for group in groups(cells.iter().copied()) {
            for cell in &group {
                let median = cell.median();
                let _ = writeln!(
                    html,
                    "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{:.2}</td>\
                     <td class=\"n\">{:.1}</td><td class=\"n\">{:.0} %</td><td class=\"n\">{:.2}</td></tr>",
                    cell.threads,
                    escape(cell.map.label()),
                    median / 1e6,
                    cell.ns_per_op(),
                    cell.spread() * 100.0,
                    cell.paired_ratio(group[0])
                );
            }
        }
        html.push_str("</table></section>\n");
        charts.push((chart_file_name(workload), svg));
    }
    if let Some(table) = report::limit_shares(results) {
        let _ = write!(
            html,
            "<section><h2>The single-thread limit</h2><p>{}</p>\n<table><tr><th>1 thread</th>",
            escape(report::LIMIT_NOTE)
        );
        for limit in table.limits {
            let _ = write!(html, "<th>{}</th>", escape(&limit.workload));
        }
        html.push_str("</tr>\n<tr><td>the limit, Mops/s</td>");
        for limit in table.limits {
            let _ = write!(html, "<td class=\"n\">{:.2}</td>", limit.median() / 1e6);
        }
        html.push_str("</tr>\n");
        for (map, shares) in table.rows {
            let _ = write!(html, "<tr><td>{}</td>", escape(map.label()));
            for share in shares {
                let _ = write!(html, "<td class=\"n\">{}</td>", report::share(share));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table></section>\n");
    }
    if let Some(entries) = plan.memory_entries {
        let _ = writeln!(
            html,
            "<section><h2>Memory</h2><p>{entries} entries inserted into an empty map, \
             then all removed (heap bytes, keys' and values' own included).</p>\n\
             <table><tr><th>map</th><th>bytes per entry</th><th>bytes held after removing all</th></tr>"
        );
        for (map, footprint) in &results.memory {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td></tr>",
                escape(map.label()),
                footprint.bytes_per_entry,
                footprint.bytes_after_removal
            );
        }
        html.push_str("</table></section>\n");
    }
    if let Some(entries) = plan.growth_entries {
        let _ = writeln!(
            html,
            "<section><h2>Insert latency while growing</h2><p>{entries} fresh keys \
             inserted one at a time into an empty map by one thread, each timed alone. \
             A map that copies its whole table when it grows shows it in the slowest \
             insert.</p>\n<table><tr><th>map</th><th>p50</th><th>p99</th><th>p99.9</th>\
             <th>max</th></tr>"
        );
        for (map, growth) in &results.growth {
            let _ = write!(html, "<tr><td>{}</td>", escape(map.label()));
            for ns in growth.columns() {
                let _ = write!(html, "<td class=\"n\">{}</td>", report::nanos(ns));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table></section>\n");
    }
    html.push_str("</body></html>\n");
    Ok((html, charts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_names_are_plain_file_names() {
        assert_eq!(
            chart_file_name("go:LoadMostlyHits"),
            "go-loadmostlyhits.svg"
        );
        assert_eq!(
            chart_file_name("read=90,insert=10 (1000 zipf:0.99 keys)"),
            "read-90-insert-10-1000-zipf-0-99-keys.svg"
        );
        assert_eq!(
            escape("RwLock<HashMap> & \"x\""),
            "RwLock&lt;HashMap&gt; &amp; &quot;x&quot;"
        );
    }
}
