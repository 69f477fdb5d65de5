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
//! - [`LongTable`]: tidy tables with text columns, and [`order_table`]: observed-order tables as CSV,
//!   Markdown and LaTeX (booktabs);
//! - [`comparison`]: [`Comparison`], a published or theoretical number stated with source, tolerance and verdict;
//! - [`plot`]: the declarative [`Figure`] model rendered at a [`Preset`] to one SVG drawing, converted to PDF and
//!   PNG;
//! - [`progress`]: [`Progress`], an indicatif bar that is hidden when quiet or not on a terminal.

pub mod comparison;
pub mod guard;
pub mod manifest;
pub mod order_table;
pub mod plot;
pub mod progress;
pub mod results;
pub mod run;
pub mod table;
pub mod target;

pub use comparison::{Comparison, Tolerance, Verdict};
pub use manifest::Manifest;
pub use order_table::OrderTable;
pub use plot::{render, render_figure, Figure, FigureOptions, Format, Mark, Preset, Region, Series};
pub use progress::Progress;
pub use results::StudyOutput;
pub use run::{write_file_atomic, RunDir};
pub use table::{read_matrix_csv, Cell, LongTable, Table};
