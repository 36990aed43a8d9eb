//! `racefree-bench`: see `racefree_bench::cli::Cli` or `--help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = racefree_bench::cli::Cli::parse();
    match racefree_bench::cli::run(&cli) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("racefree-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
