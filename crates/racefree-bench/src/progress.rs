//! The progress bar every long command shows.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` steps counted in `unit`, or a hidden one for `quiet`.
pub(crate) fn bar(total: usize, quiet: bool, unit: &str) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit}  {{msg}}"
        ))
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    bar
}
