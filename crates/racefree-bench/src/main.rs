//! `racefree-bench`: see `racefree_bench::cli::Cli` or `--help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = racefree_bench::cli::Cli::parse();
    let command_line = std::env::args()
        .skip(1)
        .fold("racefree-bench".to_owned(), |line, arg| line + " " + &arg);
    match racefree_bench::cli::run(&cli, &command_line) {
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
