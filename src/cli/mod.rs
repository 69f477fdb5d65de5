//! The `lieflow` command line: a thin shell over the library (ARCHITECTURE habit 9: raw clap arguments here,
//! validated scenario in [`crate::scenario`]). Exit codes are chosen in `main.rs` from [`crate::Error::exit_code`].

/// `println!` to stdout that treats a closed reader (`lieflow grad … | head`) as the end of the output: the process
/// exits 0 quietly instead of panicking on EPIPE. Every line the CLI prints goes through it.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(::std::format_args!($($arg)*), true)
    };
}
/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(::std::format_args!($($arg)*), false)
    };
}

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

/// Write to stdout; a broken pipe ends the process with exit 0 (the reader has what it wanted), any other write
/// error is reported on stderr with exit 1.
#[doc(hidden)]
pub fn write_stdout(args: std::fmt::Arguments<'_>, newline: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let r = out
        .write_fmt(args)
        .and_then(|_| if newline { out.write_all(b"\n") } else { Ok(()) });
    match r.and_then(|_| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: writing to stdout: {e}");
            std::process::exit(1);
        }
    }
}
