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
    /// Exact p-variation of a path read from CSV (columns = components; a `t` column is time), and a maximising
    /// partition.
    Pvar(PvarArgs),
    /// List the units of work of a scenario (its `[sweep]` points, or its study's units): count, ids, estimated
    /// cost, and with --tasks N the share of every shard.
    Plan(PlanArgs),
    /// Combine sweep folders written by `lieflow run SCENARIO --shard I/N --out DIR` into one sweep folder with the
    /// aggregated outputs (OUT/aggregate/), exactly as a single-machine run writes them.
    Merge(MergeArgs),
    /// Write sbatch scripts for a sweep: a job array of N shard tasks plus a merge job after it (afterok);
    /// --submit submits them.
    Slurm(SlurmArgs),
    /// List the bundled scenarios, one line each.
    List {
        /// Folder to scan (default: the scenarios bundled with this lieflow, found from any folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// The largest `--threads`: 8 × the cores of this machine (more threads only add scheduling overhead — results
/// never depend on the count — and thousands of threads take seconds to start).
pub fn max_threads() -> usize {
    8 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--threads N`: an integer 1 ≤ N ≤ [`max_threads`].
fn parse_threads(s: &str) -> Result<usize, String> {
    let max = max_threads();
    let cores = max / 8;
    let bad = || {
        format!(
            "expected a whole number of worker threads from 1 to {max} (8 × the {cores} cores of this machine), \
             found `{s}`"
        )
    };
    match s.trim().parse::<usize>() {
        Ok(t) if (1..=max).contains(&t) => Ok(t),
        _ => Err(bad()),
    }
}

/// `--reps N`: 1 ≤ N ≤ 100000.
fn parse_reps(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(r) if (1..=100_000).contains(&r) => Ok(r),
        _ => Err(format!(
            "expected a whole number of repetitions from 1 to 100000, found `{s}`"
        )),
    }
}

/// `--seed N`: seeds are integers 0 ≤ N ≤ 2^64 − 1.
fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("seeds are whole numbers from 0 to 18446744073709551615 (2^64 − 1), found `{s}`"))
}

/// Arguments of `lieflow run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder (default: output/<scenario name>/). Only a folder lieflow wrote is ever replaced.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also replace a lieflow run folder that is the current folder, the scenario's folder (or an ancestor of
    /// either), or one written by an older lieflow without a marker. Never replaces anything lieflow did not write.
    #[arg(long)]
    pub force: bool,
    /// Override the scenario's seed (0 to 2^64 − 1).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores; at most 8 × the cores). Results do not depend on it.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Figure size preset: screen (900 px), column (3.5 in) or page (7 in); overrides `[output] figures`.
    #[arg(long, value_parser = ["screen", "column", "page"])]
    pub figures: Option<String>,
    /// Run only shard I of N (0 ≤ I < N) of the scenario's units — units I, I + N, … — into the sweep folder
    /// --out, skipping units already complete there; `lieflow merge` aggregates.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<crate::sweep::Shard>,
}

/// `--shard I/N`.
fn parse_shard(s: &str) -> Result<crate::sweep::Shard, String> {
    s.parse()
}

/// `--tasks N`: 1 ≤ N ≤ 100000.
fn parse_tasks(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number of tasks from 1 to 100000, found `{s}`"
        )),
    }
}

/// A SLURM resource value (`--time 01:00:00`, `--mem 4G`, `--partition short`).
fn parse_slurm_value(s: &str) -> Result<String, String> {
    if crate::sweep::slurm::plain_option(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "expected letters, digits and : - _ . (e.g. 01:00:00, 4G), found `{s}`"
        ))
    }
}

/// `--cpus-per-task N`: 1 ≤ N ≤ 4096.
fn parse_cpus(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=4096).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number of CPUs from 1 to 4096, found `{s}`")),
    }
}

/// Arguments of `lieflow plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Also show which of N shards runs each unit, and every shard's total cost.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_tasks)]
    pub tasks: Option<usize>,
    /// Print one JSON object: scenario, study, scenario_sha256, points, units [{id, label, point, cost, shard}].
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `lieflow merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Sweep folders (the --out folders of the shards; one folder when every shard wrote into it).
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// The merged sweep folder (may be one of the DIRs).
    #[arg(long)]
    pub out: PathBuf,
    /// Read the scenario from this file instead of the copy in the shard folders (it must be the same scenario;
    /// only [sweep.plot] and [sweep.slurm] may differ).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Worker threads (default: all cores; at most 8 × the cores).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
    /// Figure size preset (as for `lieflow run`).
    #[arg(long, value_parser = ["screen", "column", "page"])]
    pub figures: Option<String>,
}

/// Arguments of `lieflow slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Number of array tasks (shards).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_tasks)]
    pub tasks: usize,
    /// The shared sweep folder every task writes into (default: output/<scenario name>/); it must be on a file
    /// system all nodes see.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Wall-time limit per task (SLURM --time, e.g. 01:00:00); default: [sweep.slurm] time.
    #[arg(long, value_parser = parse_slurm_value)]
    pub time: Option<String>,
    /// Memory per task (SLURM --mem, e.g. 4G); default: [sweep.slurm] mem.
    #[arg(long, value_parser = parse_slurm_value)]
    pub mem: Option<String>,
    /// CPUs per task (SLURM --cpus-per-task; lieflow uses as many threads); default: [sweep.slurm] cpus_per_task, 1.
    #[arg(long, value_parser = parse_cpus)]
    pub cpus_per_task: Option<u32>,
    /// Partition (SLURM --partition); default: [sweep.slurm] partition, else the cluster's default.
    #[arg(long, value_parser = parse_slurm_value)]
    pub partition: Option<String>,
    /// Submit with sbatch (the array, then the merge job with --dependency=afterok) and print the job ids.
    #[arg(long)]
    pub submit: bool,
    /// Figure size preset passed to the tasks and the merge.
    #[arg(long, value_parser = ["screen", "column", "page"])]
    pub figures: Option<String>,
}

/// Arguments of `lieflow bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Timed repetitions (after one warm-up), 1 to 100000.
    #[arg(long, default_value_t = 21, allow_hyphen_values = true, value_parser = parse_reps)]
    pub reps: usize,
    /// Worker threads (default: all cores; at most 8 × the cores).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_threads)]
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
    /// Worker threads (default: all cores; at most 8 × the cores).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_threads)]
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
    /// Worker threads (default: all cores; at most 8 × the cores).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// Arguments of `lieflow pvar`.
#[derive(Debug, Args)]
pub struct PvarArgs {
    /// CSV file: a header row names the columns; `t` (optional) is time, every other column a path component.
    pub path: PathBuf,
    /// Exponent p ≥ 1.
    #[arg(long, allow_negative_numbers = true)]
    pub p: f64,
    /// Print one JSON object: value, partition, p, points, dim, columns (and holder when there is a `t` column).
    #[arg(long)]
    pub json: bool,
}
