//! Raw command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// lieflow — deep learning as control theory: simulate, train and analyse controlled-ODE ensembles.
#[derive(Debug, Parser)]
#[command(name = "lieflow", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the study a scenario declares and write its outputs.
    Run(RunArgs),
    /// Check a scenario (parse, validate, build the problem) without running it.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
    },
    /// Time the scenario's hot computation in-process: warm-up, then the median of N repetitions.
    Bench(BenchArgs),
    /// Loss and exact discrete gradient for the scenario's controls (or --controls FILE).
    Grad(GradArgs),
    /// Discrete adjoint vs central finite differences vs continuous adjoint, per parameter block.
    Gradcheck(GradcheckArgs),
    /// List the bundled scenarios, one line each.
    List {
        /// Folder to scan.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
}

/// Arguments of `lieflow run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder (default: output/<scenario name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Figure size preset: screen (900 px), column (3.5 in) or page (7 in); overrides `[output] figures`.
    #[arg(long, value_parser = ["screen", "column", "page"])]
    pub figures: Option<String>,
}

/// Arguments of `lieflow bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Timed repetitions (after one warm-up).
    #[arg(long, default_value_t = 21)]
    pub reps: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object (last line) with median_s, min_s, max_s, reps and the kernel's values.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `lieflow grad`.
#[derive(Debug, Args)]
pub struct GradArgs {
    /// Scenario file (TOML) with [model], [time], [controls], [data] and [objective].
    pub scenario: PathBuf,
    /// Controls CSV (K rows × d columns) replacing the scenario's.
    #[arg(long)]
    pub controls: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also write the gradient (K × d) to this CSV file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Arguments of `lieflow gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Controls CSV replacing the scenario's.
    #[arg(long)]
    pub controls: Option<PathBuf>,
    /// Max-norm relative tolerance for discrete adjoint vs finite differences.
    #[arg(long, default_value_t = 1e-6)]
    pub tol: f64,
    /// Difference at most this many evenly spread coordinates (default: all).
    #[arg(long)]
    pub max_coords: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}
