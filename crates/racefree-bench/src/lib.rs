//! racefree-bench: measures racefree's maps and their peers side by side on
//! the workloads of `WORKLOADS.md`, checking every result as it goes.
//!
//! The binary is a thin shell over [`cli::Cli`] and [`cli::run`], so tests
//! run exactly what users run.

pub mod adapter;
pub mod cache_command;
pub mod cache_speed;
pub mod caches;
pub mod chart;
pub mod cli;
pub mod datum;
pub mod distribution;
mod fresh_keys;
pub mod gocases;
pub mod hit_chart;
pub mod hit_ratio;
pub mod html;
pub mod latency;
mod limit;
#[cfg(test)]
mod lossy_map;
pub mod machine;
pub mod memory;
pub mod mix;
mod output;
mod progress;
pub mod report;
mod shared_keys;
pub mod suite;
pub mod timing;
pub mod trace;
pub mod workload;
