//! The HTML report opens in a real browser with no network: headless
//! Chromium loads it, and every chart parses as SVG.
//!
//! Needs Chromium (`/usr/bin/chromium`, Debian's `chromium` package, or
//! the path in `RACEFREE_CHROMIUM`); `.ci/run` installs it. Outside CI a
//! machine without it skips this test with a message; in CI (`CI` set) a
//! missing browser fails it.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use racefree_bench::cli::{Cli, run};
use tempfile::TempDir;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("RACEFREE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.exists().then_some(path)
}

/// Runs headless Chromium on `page` with `mode` (`--dump-dom` or
/// `--screenshot=...`), with no network and a fresh profile; returns what
/// it printed.
fn headless(browser: &Path, mode: &str, page: &Path) -> String {
    let profile = TempDir::new().unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(mode)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium starts");
    assert!(
        output.status.success(),
        "Chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium: .ci/run installs Debian's chromium package"
        );
        eprintln!(
            "SKIPPED: no Chromium at /usr/bin/chromium or RACEFREE_CHROMIUM; `apt install chromium` to run this test"
        );
        return;
    };
    let report = TempDir::new().unwrap();
    let cli = Cli::try_parse_from(
        format!(
            "racefree-bench --quiet --report {} --workloads exchange --go-cases range \
             --capacity-log2 8 --ops 2000 --go-millis 2 --reps 1 --warmups 0 --threads 1,2 \
             --memory-entries 1000 --growth-entries 1000",
            report.path().display()
        )
        .split_whitespace(),
    )
    .unwrap();
    run(&cli, "racefree-bench (test)").unwrap();

    let index = report.path().join("index.html");
    let dom = headless(&browser, "--dump-dom", &index);
    assert_eq!(
        dom.matches("<svg").count(),
        2,
        "one chart per workload:\n{dom}"
    );
    assert!(dom.contains("<h2>go:Range</h2>"), "{dom}");
    // The legend and the table name every map, escaped where needed.
    assert!(dom.matches("racefree::ShardedMap").count() >= 4, "{dom}");
    assert!(dom.contains("std RwLock&lt;HashMap&gt;"), "{dom}");
    assert!(dom.contains("<h2>Memory</h2>"), "{dom}");

    let shot = report.path().join("shot.png");
    headless(
        &browser,
        &format!("--screenshot={}", shot.display()),
        &index,
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a drawn page, {} bytes",
        png.len()
    );

    for chart in ["exchange.svg", "go-range.svg"] {
        let dom = headless(&browser, "--dump-dom", &report.path().join(chart));
        assert!(dom.contains("<svg"), "{chart}: {dom}");
        assert!(
            !dom.contains("parsererror")
                && !dom.contains("This page contains the following errors"),
            "{chart} is not well-formed SVG: {dom}"
        );
    }
}
