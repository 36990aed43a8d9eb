//! racefree-bench: measures racefree's maps and their peers side by side on
//! the workloads of `WORKLOADS.md`, checking every result as it goes.
//!
//! The binary is a thin shell over [`cli::Cli`] and [`cli::run`], so tests
//! run exactly what users run.

pub mod adapter;
pub mod cli;
pub mod gocases;
pub mod machine;
pub mod mix;
pub mod report;
pub mod suite;
pub mod timing;
pub mod workload;
