//! The sizes of a `[model]`/`[time]`/`[data]` scenario read from its text alone — N, m, q, K, s, d, saved
//! states — and the memory terms they imply ([`super::budget`]), so that studies refuse what cannot fit before
//! building anything. Sizes are f64 (products never overflow; see the budget module).

use super::budget::{csv_shape, Budget, Estimate};
use super::schema::{ControlSpec, DataSpec};
use super::ScenarioFile;
use crate::field::family::PER_THREAD;
use crate::integrate::BLOCK;
use crate::problem::{Checkpoint, TAPE_BUDGET_BYTES};
use crate::Result;

/// Sizes of the problem a scenario describes.
#[derive(Clone, Debug, PartialEq)]
pub struct Sizes {
    /// Points N.
    pub n: f64,
    /// State dimension m (the data's; the model's is checked against it when built).
    pub m: f64,
    /// Regression target values per point q (0 without targets).
    pub q: f64,
    /// Classes (0 without labels).
    pub classes: f64,
    /// Control intervals K.
    pub k: f64,
    /// Sub-steps per interval s.
    pub s: f64,
    /// Control values per interval d.
    pub d: f64,
    /// States a simulation saves per point under `[solver]`.
    pub saved: f64,
    /// `saved` as factors naming their fields (`[solver] save = "steps"`: K + 1 intervals × s sub-steps, an
    /// over-estimate of K·s + 1).
    pub saved_factors: Vec<(&'static str, f64)>,
    /// Field the number of points comes from (`data.n`, `data.points`, `data.inputs`).
    pub n_field: &'static str,
    /// Field the control dimension comes from (`model.dim`, `model.widths`, `model.fields`).
    pub d_field: &'static str,
}

impl Sizes {
    /// Integrator steps S = K·s.
    pub fn steps(&self) -> f64 {
        self.k * self.s
    }
}

impl ScenarioFile {
    /// The sizes of the scenario's problem, from its text (and the shape of a data CSV file, counted without
    /// reading it whole). Missing tables are reported when the problem is built, not here.
    pub fn sizes(&self) -> Result<Sizes> {
        let sc = &self.scenario;
        let (mm, d, d_field) = self
            .model
            .as_ref()
            .map(|m| {
                let (d, key) = m.control_dim();
                (m.dim() as f64, d, key)
            })
            .unwrap_or((1.0, 1.0, "model"));
        let (k, s) = sc
            .time
            .as_ref()
            .map(|t| (t.intervals as f64, t.substeps as f64))
            .unwrap_or((1.0, 1.0));
        let (n, m, q, classes, n_field) = match &sc.data {
            None => (1.0, mm, 0.0, 0.0, "data"),
            Some(spec) => match spec {
                DataSpec::Annuli { n, .. } => (*n as f64, 2.0, 2.0, 2.0, "data.n"),
                DataSpec::Moons { n, .. } | DataSpec::Spirals { n, .. } | DataSpec::Checkerboard { n, .. } => {
                    (*n as f64, 2.0, 0.0, 2.0, "data.n")
                }
                DataSpec::Blobs { n, classes, dim, .. } => (*n as f64, *dim as f64, 0.0, *classes as f64, "data.n"),
                DataSpec::C10k { n, .. } => (*n as f64, 1.0, 1.0, 0.0, "data.n"),
                DataSpec::Points { points, targets } => (
                    points.len() as f64,
                    points.first().map_or(0.0, |p| p.len() as f64),
                    targets.as_ref().and_then(|t| t.first()).map_or(0.0, |t| t.len() as f64),
                    0.0,
                    "data.points",
                ),
                DataSpec::Csv { inputs, targets } => {
                    let base = self.base_dir();
                    let (rows, cols) = csv_shape(&base.join(inputs)).map_err(self.file_error("data.inputs"))?;
                    let q = match targets {
                        Some(t) => csv_shape(&base.join(t)).map_err(self.file_error("data.targets"))?.1,
                        None => 0.0,
                    };
                    (rows, cols, q, 0.0, "data.inputs")
                }
            },
        };
        let saved_factors = match (&sc.solver.save_times, sc.solver.save.as_str()) {
            (Some(ts), _) => vec![("solver.save_times", ts.len() as f64)],
            (None, "final") => vec![("solver.save", 1.0)],
            (None, "steps") => vec![("time.intervals", k + 1.0), ("time.substeps", s)],
            _ => vec![("time.intervals", k + 1.0)],
        };
        let saved = saved_factors.iter().map(|f| f.1).product();
        Ok(Sizes {
            n,
            m,
            q,
            classes,
            k,
            s,
            d: if self.model.is_some() { d } else { 0.0 },
            saved,
            saved_factors,
            n_field,
            d_field,
        })
    }

    /// What building the problem holds: the data (points, labels, targets, and a CSV file's text while it is
    /// read), the controls (K × d, twice while they are generated), the field's own parameters, and the random
    /// numbers drawn to make them.
    pub fn problem_terms(&self, z: &Sizes, est: &mut Estimate) {
        let n = (z.n_field, z.n);
        est.add("data points", &[n, ("model.dim", z.m.max(1.0))], 8.0);
        est.add("data labels", &[n], 8.0);
        let given = matches!(
            self.scenario.data,
            Some(DataSpec::Points { .. }) | Some(DataSpec::Csv { .. })
        );
        est.add(
            "data targets",
            &[n, (if given { "data.targets" } else { "" }, z.q.max(1.0))],
            8.0,
        );
        if let Some(DataSpec::Csv { inputs, .. }) = &self.scenario.data {
            let bytes = std::fs::metadata(self.base_dir().join(inputs)).map_or(0.0, |m| m.len() as f64);
            est.add("the data file's text while it is read", &[("data.inputs", bytes)], 1.0);
            if let Some(DataSpec::Csv { targets: Some(t), .. }) = &self.scenario.data {
                let tb = std::fs::metadata(self.base_dir().join(t)).map_or(0.0, |m| m.len() as f64);
                est.add(
                    "the targets file while it is read",
                    &[("data.targets", super::budget::csv_read_bytes(tb))],
                    1.0,
                );
            }
        }
        if let Some(DataSpec::Blobs { .. }) = &self.scenario.data {
            est.add("blob centres", &[("data.classes", z.classes), ("data.dim", z.m)], 8.0);
        }
        let per_point = match &self.scenario.data {
            Some(DataSpec::Annuli { .. }) | Some(DataSpec::Moons { .. }) | Some(DataSpec::Spirals { .. }) => 4.0,
            Some(DataSpec::Blobs { .. }) => z.m,
            Some(DataSpec::Checkerboard { .. }) => 2.0,
            Some(DataSpec::C10k { .. }) => 1.0,
            _ => 0.0,
        };
        if per_point > 0.0 {
            est.draws("data generation, per point", &[n, ("", per_point)]);
        }
        let kd = [("time.intervals", z.k), (z.d_field, z.d.max(1.0))];
        est.add("controls (twice while generated)", &kd, 16.0);
        if matches!(
            self.scenario.controls,
            Some(ControlSpec::Random { .. }) | Some(ControlSpec::Init { .. })
        ) {
            est.draws("random controls", &kd);
        }
        if let Some(model) = &self.model {
            for t in model.memory() {
                let factors: Vec<(&str, f64)> = t
                    .factors
                    .iter()
                    .map(|&(key, v)| {
                        if key == PER_THREAD {
                            ("", v * threads())
                        } else {
                            (key, v)
                        }
                    })
                    .collect();
                est.add(t.what, &factors, t.bytes);
                if t.drawn {
                    est.draws(t.what, &factors);
                }
            }
        }
    }

    /// Computes the sizes, adds the problem's terms and `extra` (the study's own), and checks the estimate
    /// against the memory limit in force. Returns the sizes.
    pub fn check_budget(&self, extra: impl FnOnce(&Sizes, &mut Estimate)) -> Result<Sizes> {
        let z = self.sizes()?;
        let mut est = Estimate::new();
        self.problem_terms(&z, &mut est);
        extra(&z, &mut est);
        est.check(self, &Budget::current()?)?;
        Ok(z)
    }

    /// A forward simulation of `points` points saving the `[solver]` states (the trajectory buffer).
    pub fn trajectory_terms(&self, z: &Sizes, points: (&str, f64), est: &mut Estimate) {
        let mut f = vec![points];
        f.extend(z.saved_factors.iter().copied());
        f.push(("model.dim", z.m));
        est.add("saved states", &f, 8.0);
    }

    /// Trainable readout parameters |ρ| of `[objective.readout]` (affine: outputs·(m + 1); interpolation: 1).
    pub fn readout_params(&self, z: &Sizes) -> f64 {
        use super::schema::ReadoutSpec;
        match self.scenario.objective.as_ref().map(|o| &o.readout) {
            Some(ReadoutSpec::Affine { outputs, .. }) => *outputs as f64 * (z.m + 1.0),
            Some(ReadoutSpec::Interpolation { .. }) => 1.0,
            _ => 0.0,
        }
    }

    /// Values per point of the readout: outputs (affine), the projection's rows, else m.
    pub fn readout_outputs(&self, z: &Sizes) -> f64 {
        use super::schema::ReadoutSpec;
        match self.scenario.objective.as_ref().map(|o| &o.readout) {
            Some(ReadoutSpec::Affine { outputs, .. }) => *outputs as f64,
            Some(ReadoutSpec::Projection { matrix }) => matrix.len() as f64,
            _ => z.m,
        }
    }

    /// The gradient storage strategy of `[objective]` (√S checkpointing by default).
    pub fn checkpoint(&self) -> Checkpoint {
        self.scenario
            .objective
            .as_ref()
            .map_or(Checkpoint::Sqrt, |o| o.checkpoint)
    }

    /// One loss + gradient evaluation (the discrete adjoint, [`crate::adjoint`]): per-block partial gradients of
    /// the P = K·d + `readout` parameters, kept until they are summed in block order, and per thread the stored
    /// states of √S checkpointing (or all S + 1 with `checkpoint = "all"`) for a block of points.
    pub fn gradient_terms(&self, z: &Sizes, est: &mut Estimate) {
        let (readout, checkpoint) = (self.readout_params(z), self.checkpoint());
        if self
            .scenario
            .objective
            .as_ref()
            .is_some_and(|o| o.running_targets.is_some())
        {
            est.add(
                "running targets (S × N·q)",
                &[
                    ("time.intervals", z.k),
                    ("time.substeps", z.s),
                    (z.n_field, z.n),
                    ("", z.q.max(1.0)),
                ],
                8.0,
            );
        }
        let blocks = (z.n / BLOCK as f64).ceil().max(1.0);
        let p = z.k * z.d + readout;
        est.add(
            "per-block partial gradients",
            &[
                (z.n_field, blocks),
                ("time.intervals", z.k),
                (z.d_field, (p / z.k).max(1.0)),
            ],
            16.0,
        );
        let steps = z.steps();
        // Tapes: about 5 rows of lanes per state component per step (stage inputs and values); `auto` keeps them
        // all only up to the per-worker budget, then segments.
        let per_step_bytes = z.m * BLOCK as f64 * 5.0 * 8.0;
        let stored = match checkpoint {
            Checkpoint::All => steps + 1.0,
            Checkpoint::Sqrt => 2.0 * steps.sqrt().ceil() + 3.0,
            Checkpoint::Auto => {
                (steps + 1.0).min((TAPE_BUDGET_BYTES as f64 / per_step_bytes).max(2.0 * steps.sqrt().ceil() + 3.0))
            }
        };
        let field = if checkpoint != Checkpoint::Sqrt {
            "objective.checkpoint"
        } else {
            "time.intervals"
        };
        est.add(
            "stored states per thread (one block of points, with stage values)",
            &[
                (field, stored),
                ("model.dim", z.m),
                ("", BLOCK as f64 * 5.0),
                ("", threads()),
            ],
            8.0,
        );
    }
}

/// Worker threads the run will use.
pub fn threads() -> f64 {
    rayon::current_num_threads() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn sizes_come_from_the_text_without_allocating() {
        let text = "study = \"simulate\"\n[model]\nfamily = \"mlp\"\ndim = 2\nwidths = [4611686018427387904, 200]\n\
                    [time]\nhorizon = 1.0\nintervals = 1000000000000\n[data]\nkind = \"annuli\"\n\
                    n = 9223372036854775807\n"
            .to_string();
        let f = ScenarioFile::parse(Path::new("s.toml"), text).unwrap();
        let z = f.sizes().unwrap();
        assert_eq!((z.m, z.q, z.k, z.saved), (2.0, 2.0, 1e12, 1e12 + 1.0));
        assert_eq!(z.saved_factors, [("time.intervals", 1e12 + 1.0)]);
        assert_eq!(z.n, 9223372036854775807usize as f64);
        assert!(z.d > 4e18 * 200.0, "{}", z.d);
        assert_eq!(z.d_field, "model.widths");
    }
}
