//! The files a run writes: the HTML report with its charts, and on request
//! JSON and Markdown. Every path is checked before measuring starts, so a
//! typo fails at once rather than after a long run.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::RunArgs;
use crate::machine::Machine;
use crate::suite::{Plan, Results};
use crate::{html, report};

/// Where the generated part of a Markdown file starts and ends.
const BEGIN: &str = "<!-- racefree-bench:begin -->";
const END: &str = "<!-- racefree-bench:end -->";

/// The output files of a run, checked writable.
#[derive(Debug)]
pub(crate) struct Outputs {
    report: PathBuf,
    json: Option<PathBuf>,
    markdown: Option<PathBuf>,
}

fn cannot(what: &str, path: &Path, error: std::io::Error) -> String {
    format!("cannot write {what} to {}: {error}", path.display())
}

/// Checks that `path` can be written without changing what it holds.
pub(crate) fn check_writable(what: &str, path: &Path) -> Result<(), String> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(drop)
        .map_err(|e| cannot(what, path, e))
}

impl Outputs {
    /// Checks every output path of `args`.
    pub(crate) fn open(args: &RunArgs) -> Result<Self, String> {
        let what = "the HTML report";
        fs::create_dir_all(&args.report).map_err(|e| cannot(what, &args.report, e))?;
        check_writable(what, &args.report.join("index.html"))?;
        if let Some(path) = &args.json {
            check_writable("the JSON report", path)?;
        }
        if let Some(path) = &args.markdown {
            check_writable("the Markdown report", path)?;
        }
        Ok(Self {
            report: args.report.clone(),
            json: args.json.clone(),
            markdown: args.markdown.clone(),
        })
    }

    /// Writes every output; says on standard error where the report is.
    pub(crate) fn write(
        &self,
        results: &Results,
        plan: &Plan,
        machine: &Machine,
        command_line: &str,
    ) -> Result<(), String> {
        let (page, charts) = html::page(results, plan, machine)?;
        let index = self.report.join("index.html");
        fs::write(&index, page).map_err(|e| cannot("the HTML report", &index, e))?;
        for (name, svg) in charts {
            let path = self.report.join(name);
            fs::write(&path, svg).map_err(|e| cannot("a chart", &path, e))?;
        }
        eprintln!("racefree-bench: report written to {}", index.display());
        if let Some(path) = &self.json {
            let json = serde_json::to_string_pretty(&report::json(results, plan, machine))
                .expect("a JSON value always serialises");
            File::create(path)
                .and_then(|mut file| file.write_all(json.as_bytes()))
                .map_err(|e| cannot("the JSON report", path, e))?;
        }
        if let Some(path) = &self.markdown {
            let generated = format!(
                "{BEGIN}\n\nMade by `{command_line}`.\n\n{}\n{END}",
                report::markdown(results, plan, machine)
            );
            replace_generated(path, &generated, BEGIN, END)?;
        }
        Ok(())
    }
}

/// Replaces the part of the Markdown file at `path` between `begin` and
/// `end` (markers included in `generated`), or writes `generated` alone to
/// a file without them.
pub(crate) fn replace_generated(
    path: &Path,
    generated: &str,
    begin: &str,
    end: &str,
) -> Result<(), String> {
    let old = fs::read_to_string(path).unwrap_or_default();
    fs::write(path, splice(&old, generated, begin, end))
        .map_err(|e| cannot("the Markdown report", path, e))
}

/// `old` with its generated part replaced by `generated`, or just
/// `generated` if `old` has no generated part.
fn splice(old: &str, generated: &str, begin_marker: &str, end_marker: &str) -> String {
    match (old.find(begin_marker), old.find(end_marker)) {
        (Some(begin), Some(end)) if begin < end => {
            format!(
                "{}{generated}{}",
                &old[..begin],
                &old[end + end_marker.len()..]
            )
        }
        _ => format!("{generated}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_generated_part_is_replaced() {
        let old = format!("# Title\n\nProse.\n\n{BEGIN}\nold table\n{END}\n\nMore prose.\n");
        let new = splice(&old, &format!("{BEGIN}\nnew table\n{END}"), BEGIN, END);
        assert_eq!(
            new,
            format!("# Title\n\nProse.\n\n{BEGIN}\nnew table\n{END}\n\nMore prose.\n")
        );
        assert_eq!(splice("", "generated", BEGIN, END), "generated\n");
    }
}
