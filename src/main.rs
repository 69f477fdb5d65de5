//! `lieflow` binary: parse arguments, run, map errors to exit codes (0 ok, 1 numerical/runtime, 2 bad input).

use clap::Parser;

fn main() {
    let cli = lieflow::cli::Cli::parse();
    if let Err(e) = lieflow::cli::execute(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
