//! The scenario file format (TOML), parsed with serde. Every table rejects unknown keys. See `scenarios/*.toml`
//! for commented examples. Raw values here; the `ScenarioFile` methods in [`super::build`] check them and turn them into a
//! [`crate::problem::Problem`].

use crate::integrate::SchemeKind;
use serde::Deserialize;

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize)]
pub struct Scenario {
    /// Name of the study's output folder (default: the file stem).
    pub name: Option<String>,
    /// One line shown by `lieflow list`.
    #[serde(default)]
    pub description: String,
    /// Master seed (data, random controls, random fields); `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    /// Which study to run: `simulate`, `convergence`, …
    pub study: String,
    /// Vector-field family: `[model]` with `family = "…"` and that family's keys, read by the family's own
    /// specification type (see [`super::families`]); the parsed form is [`super::ScenarioFile::model`].
    pub model: Option<toml::Table>,
    /// Time horizon and layers.
    pub time: Option<TimeSpec>,
    /// Integrator settings.
    #[serde(default)]
    pub solver: SolverSpec,
    /// Initial controls.
    pub controls: Option<ControlSpec>,
    /// The data ensemble.
    pub data: Option<DataSpec>,
    /// The training objective (studies that differentiate: `train`, `grad`, `gradcheck`, `bench`).
    pub objective: Option<ObjectiveSpec>,
    /// How figures are written (`lieflow run --figures` overrides the preset).
    #[serde(default)]
    pub output: OutputSpec,
    /// Every other top-level entry: the study's own settings table(s), parsed by the study itself with
    /// [`super::ScenarioFile::table`]; anything its study does not read is rejected by
    /// [`super::ScenarioFile::check_tables`].
    #[serde(flatten)]
    pub tables: std::collections::BTreeMap<String, toml::Value>,
}

/// `[output]`: figure preset and formats, e.g. `figures = "column"`, `formats = ["pdf", "svg", "png"]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// `screen` (900 px wide, the default), `column` (3.5 in) or `page` (7 in).
    pub figures: Option<crate::output::plot::Preset>,
    /// Any of `pdf`, `svg`, `png` (default: all three).
    pub formats: Option<Vec<crate::output::plot::Format>>,
}

/// `[time]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// Horizon T > 0.
    pub horizon: f64,
    /// Number of control intervals (layers) K ≥ 1.
    pub intervals: usize,
    /// Integrator sub-steps per interval s ≥ 1.
    #[serde(default = "one_usize")]
    pub substeps: usize,
}

fn one() -> f64 {
    1.0
}

fn one_usize() -> usize {
    1
}

/// `[solver]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSpec {
    /// `euler`, `rk4` or `dopri5`.
    #[serde(default = "rk4")]
    pub scheme: SchemeKind,
    /// Relative tolerance (dopri5).
    #[serde(default = "rtol")]
    pub rtol: f64,
    /// Absolute tolerance (dopri5).
    #[serde(default = "atol")]
    pub atol: f64,
    /// `final`, `intervals` or `steps`.
    #[serde(default = "intervals")]
    pub save: String,
    /// Explicit save times (override `save`).
    pub save_times: Option<Vec<f64>>,
}

impl Default for SolverSpec {
    fn default() -> Self {
        Self {
            scheme: rk4(),
            rtol: rtol(),
            atol: atol(),
            save: intervals(),
            save_times: None,
        }
    }
}

fn rk4() -> SchemeKind {
    SchemeKind::Rk4
}
fn rtol() -> f64 {
    1e-9
}
fn atol() -> f64 {
    1e-12
}
fn intervals() -> String {
    "intervals".into()
}

/// `[controls]`: where the initial (or fixed) controls come from.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlSpec {
    /// The same d values on every interval.
    Constant { value: Vec<f64> },
    /// K rows of d values.
    Inline { values: Vec<Vec<f64>> },
    /// A CSV file of K rows × d columns (path relative to the scenario file); for nODE a row is W row-major then b.
    Csv { file: String },
    /// The field's own initialisation (MLP: PyTorch's nn.Linear default, U(±1/√fan_in)), the same on every
    /// interval; `seed` defaults to the scenario seed.
    Init { seed: Option<u64> },
    /// Independent N(0, scale²) entries; `seed` defaults to the scenario seed.
    Random {
        #[serde(default = "one")]
        scale: f64,
        seed: Option<u64>,
    },
}

/// `[data]`: the ensemble of initial points (and targets for training).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSpec {
    /// Two concentric annuli in R² (inner radius ∈ [0, 1], outer ∈ [2, 3]).
    Annuli {
        n: usize,
        #[serde(default)]
        noise: f64,
        seed: Option<u64>,
    },
    /// Two interleaving half circles.
    Moons {
        n: usize,
        #[serde(default)]
        noise: f64,
        seed: Option<u64>,
    },
    /// Two-arm spirals.
    Spirals {
        n: usize,
        #[serde(default = "turns")]
        turns: f64,
        #[serde(default)]
        noise: f64,
        seed: Option<u64>,
    },
    /// Gaussian blobs in R^dim.
    Blobs {
        n: usize,
        #[serde(default = "two")]
        classes: usize,
        #[serde(default = "two")]
        dim: usize,
        #[serde(default = "half")]
        std: f64,
        seed: Option<u64>,
    },
    /// 2-D checkerboard.
    Checkerboard {
        n: usize,
        #[serde(default = "four")]
        cells: usize,
        seed: Option<u64>,
    },
    /// C10k (SPEC §6): n scalars uniform on [−1, 1], target 0.01.
    C10k {
        #[serde(default = "ten_k")]
        n: usize,
        seed: Option<u64>,
    },
    /// Explicit points.
    Points {
        points: Vec<Vec<f64>>,
        targets: Option<Vec<Vec<f64>>>,
    },
    /// CSV files (paths relative to the scenario file).
    Csv { inputs: String, targets: Option<String> },
}

fn turns() -> f64 {
    1.5
}
fn four() -> usize {
    4
}
fn two() -> usize {
    2
}
fn half() -> f64 {
    0.5
}
fn ten_k() -> usize {
    10_000
}

/// `[objective]`: J = w_T Φ + w_R ∫ℓ + λR (SPEC §3).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveSpec {
    /// `squared`, `cross_entropy`, `logistic` or `{ smooth_l1 = { delta = … } }`.
    #[serde(default = "squared")]
    pub loss: crate::objective::Loss,
    /// `[objective.readout]` with `kind` = `identity` | `projection` | `affine` | `interpolation`.
    #[serde(default)]
    pub readout: ReadoutSpec,
    /// Weight of the terminal loss.
    #[serde(default = "one")]
    pub terminal_weight: f64,
    /// Weight of the running cost ∫ℓ(X(t)) dt.
    #[serde(default)]
    pub running_weight: f64,
    /// Optional CSV of time-dependent running targets: S rows (one per integrator step, t_1..t_S) × N·q columns.
    pub running_targets: Option<String>,
    /// `[objective.regularizer]` with `kind` = `l2` | `h1` | `l1` (+ `lambda`, and `bound` for l1).
    pub regularizer: Option<crate::objective::Regularizer>,
    /// Gradient storage: `auto` (default: all tapes when they fit the per-worker budget, else segments),
    /// `all`, or `sqrt` (√S checkpointing). Every mode gives the same bits.
    #[serde(default)]
    pub checkpoint: crate::problem::Checkpoint,
}

fn squared() -> crate::objective::Loss {
    crate::objective::Loss::Squared
}

/// The readout r(X_T).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReadoutSpec {
    /// z = x.
    #[default]
    Identity,
    /// z = P x with a fixed q × m matrix.
    Projection { matrix: Vec<Vec<f64>> },
    /// z = A x + c, trainable; initialised A = `init_scale`·N(0,1) (seeded), c = 0.
    Affine {
        outputs: usize,
        #[serde(default = "tenth")]
        init_scale: f64,
    },
    /// z = λ (X_T − x), trainable λ starting at `lambda`.
    Interpolation {
        #[serde(default = "one")]
        lambda: f64,
    },
}

fn tenth() -> f64 {
    0.1
}
