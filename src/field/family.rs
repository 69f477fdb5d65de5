//! What a `[model]` table describes, family by family: a validated specification that knows its sizes (for the
//! memory budget, before anything is allocated) and builds the field.
//!
//! Each family's module holds its field and its specification (a serde struct implementing [`ModelDef`]); the
//! scenario layer lists the families in one registry (`scenario::families::FAMILIES`), so adding a family is its
//! file plus one registry line. Nothing here reads files: the scenario layer deserialises the table (with file,
//! line and field in its errors) and turns a [`SpecError`] — which names the scenario key — into a located input
//! error.

use super::{Activation, VectorField};

/// A family's checked description of one model.
pub trait ModelDef: Send + Sync + std::fmt::Debug {
    /// State dimension m (`model.dim`; the scenario layer rejects 0).
    fn dim(&self) -> usize;

    /// Control values per interval d, in f64 so that absurd sizes cannot overflow before the budget check, and
    /// the scenario key that drives it (`model.dim`, `model.widths`, …; named in a too-large error).
    fn control_dim(&self) -> (f64, &'static str);

    /// Memory the built field holds besides the controls (random features, matrices, per-thread scratch).
    fn memory(&self) -> Vec<MemoryTerm> {
        Vec::new()
    }

    /// Build the field. Called only after the memory budget accepted [`ModelDef::memory`].
    fn build(&self) -> Result<Box<dyn VectorField>, SpecError>;

    /// The family's standard initial parameters for `controls.source = "init"` (one row, d values), when it has
    /// one (the MLP: PyTorch's default initialisation).
    fn init_params(&self, _seed: u64) -> Option<Vec<f64>> {
        None
    }

    /// Whether the field scales with its control, f(x, αu) = α f(x, u) for α > 0 (what the time-scaling identity
    /// of SPEC §4 needs), and why — the reason is written into the outputs that rely on it.
    fn scales_with_control(&self) -> (bool, String) {
        (false, "this family does not scale with its control".into())
    }

    /// The activation σ of the one-layer families σ(Wx + b), Wσ(x) + b, σ(Wx) (Lip σ enters bounds such as
    /// SPEC §4 item 5); `None` for the others.
    fn activation(&self) -> Option<&Activation> {
        None
    }
}

/// A term of a memory estimate: `bytes` per element × the product of the factors, each a size with the scenario
/// key it comes from (`model.dim`, …; `""` for a factor that is not a scenario value, [`PER_THREAD`] for one per
/// worker thread).
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryTerm {
    /// What is held (shown in a too-large error).
    pub what: &'static str,
    /// (key, size) factors.
    pub factors: Vec<(&'static str, f64)>,
    /// Bytes per element.
    pub bytes: f64,
    /// Whether the elements are random draws (counted against the draw budget as well).
    pub drawn: bool,
}

/// Factor key meaning "one per worker thread" (the scenario layer substitutes the thread count).
pub const PER_THREAD: &str = "<threads>";

/// An invalid value inside `[model]`: the scenario key (e.g. `model.widths`, `model.fields[2].a`) and what was
/// expected.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecError {
    /// Scenario key.
    pub key: String,
    /// What was expected.
    pub msg: String,
}

impl SpecError {
    /// An error at `key`.
    pub fn new(key: impl Into<String>, msg: impl Into<String>) -> Self {
        SpecError {
            key: key.into(),
            msg: msg.into(),
        }
    }
}
