//! `racefree-bench`: see `racefree_bench::cli::Cli` or `--help`.

use clap::Parser;

fn main() {
    let cli = racefree_bench::cli::Cli::parse();
    print!("{}", racefree_bench::cli::run(&cli));
}
