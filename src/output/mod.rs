//! Output layer: everything lieflow writes to disk.
//!
//! Numerics and studies never do I/O; they return tables, figures and a summary, and this module
//! writes them (ARCHITECTURE data flow):
//!
//! - [`results`]: [`StudyOutput`], what a study returns, and how a run folder is filled from it;
//! - [`run`]: [`RunDir`], an atomic run folder (temp folder → rename), and [`write_file_atomic`]
//!   for single files such as trained controls;
//! - [`target`]: which `--out` paths a run may write to (only folders lieflow wrote are replaced), the
//!   run-folder marker, and where a failed run goes;
//! - [`guard`]: temporary outputs removed on SIGINT/SIGTERM;
//! - [`manifest`]: [`Manifest`], the `manifest.json` record (the only run-dependent content are
//!   its timings, start time and command line, so CSV outputs are byte-identical across runs);
//! - [`table`]: [`Table`] → CSV with exact shortest round-trip numbers, and [`read_matrix_csv`];
//! - [`plot`]: the declarative [`Figure`] model rendered to PNG and SVG with plotters;
//! - [`progress`]: [`Progress`], an indicatif bar that is hidden when quiet or not on a terminal.

pub mod guard;
pub mod manifest;
pub mod plot;
pub mod progress;
pub mod results;
pub mod run;
pub mod table;
pub mod target;

pub use manifest::Manifest;
pub use plot::{render, Figure, Mark, Region, Series};
pub use progress::Progress;
pub use results::StudyOutput;
pub use run::{write_file_atomic, RunDir};
pub use table::{read_matrix_csv, Table};
