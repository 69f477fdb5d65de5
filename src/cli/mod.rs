//! The `lieflow` command line: a thin shell over the library (ARCHITECTURE habit 9: raw clap arguments here,
//! validated scenario in [`crate::scenario`]). Exit codes are chosen in `main.rs` from [`crate::Error::exit_code`].

mod args;
mod bench;
pub mod grad;
mod list;
mod pvar;
mod run;
mod sweep;

pub use args::{Cli, Command};

use crate::Result;

/// Execute a parsed command line.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(a) => run::run(&a),
        Command::Validate { scenario } => run::validate(&scenario),
        Command::Bench(a) => bench::bench(&a),
        Command::Grad(a) => grad::grad(&a),
        Command::Gradcheck(a) => grad::gradcheck(&a),
        Command::Pvar(a) => pvar::pvar(&a),
        Command::Plan(a) => sweep::plan(&a),
        Command::Merge(a) => sweep::merge(&a),
        Command::Slurm(a) => sweep::slurm(&a),
        Command::List { dir } => list::list(dir.as_deref()),
    }
}
