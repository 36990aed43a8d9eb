//! What the numbers were measured on.

use std::fmt;
use std::process::Command;
use std::thread;

/// The machine, toolchain and commit of a run.
#[derive(Clone, Debug)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo` where there is one.
    pub cpu: String,
    /// Cores available to this process.
    pub cores: usize,
    /// `rustc --version`.
    pub rustc: String,
    /// The git commit of the working tree, if any.
    pub commit: String,
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl Machine {
    /// Reads the current machine.
    pub fn detect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        Self {
            cpu,
            cores: thread::available_parallelism().map_or(1, |n| n.get()),
            rustc: command_output("rustc", &["--version"])
                .unwrap_or_else(|| "rustc (unknown)".into()),
            commit: command_output("git", &["rev-parse", "--short", "HEAD"])
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cores ({}), {}, commit {}",
            self.cores, self.cpu, self.rustc, self.commit
        )
    }
}
