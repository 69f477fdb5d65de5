//! `[objective]` → [`Objective`] + initial readout parameters, checked against the data (does the loss fit the
//! targets, does the readout produce the right number of values).

use super::schema::{ObjectiveSpec, ReadoutSpec};
use super::ScenarioFile;
use crate::data::{Dataset, LabelEncoding};
use crate::objective::{Loss, Objective, Readout, Targets};
use crate::output::table::read_matrix_csv;
use crate::{Error, Result};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

impl ScenarioFile {
    /// The `[objective]` table (or the error naming it).
    pub fn objective_spec(&self) -> Result<&ObjectiveSpec> {
        self.scenario
            .objective
            .as_ref()
            .ok_or_else(|| self.error("objective", "missing table [objective]"))
    }

    /// Build the objective for `data` (state dimension m, S integrator steps) and the initial readout parameters.
    pub fn objective(&self, data: &Dataset, steps: usize) -> Result<(Objective, Vec<f64>)> {
        let spec = self.objective_spec()?;
        let m = data.m;
        let n = data.n();
        for (key, v) in [
            ("objective.terminal_weight", spec.terminal_weight),
            ("objective.running_weight", spec.running_weight),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(self.error(
                    key,
                    format!("expected a finite number ≥ 0, found {}", crate::error::num(v)),
                ));
            }
        }
        if let Some(r) = &spec.regularizer {
            r.validate().map_err(|e| self.error("objective.regularizer", e))?;
        }
        let (readout, rho) = match &spec.readout {
            ReadoutSpec::Identity => (Readout::Identity, vec![]),
            ReadoutSpec::Projection { matrix } => {
                let q = matrix.len();
                if q == 0 || matrix.iter().any(|r| r.len() != m) {
                    return Err(self.error(
                        "objective.readout.matrix",
                        format!("expected q ≥ 1 rows of {m} numbers (the state dimension)"),
                    ));
                }
                (Readout::Projection(DMatrix::from_fn(q, m, |r, c| matrix[r][c])), vec![])
            }
            ReadoutSpec::Affine { outputs, init_scale } => {
                if *outputs == 0 || !init_scale.is_finite() {
                    return Err(self.error(
                        "objective.readout.outputs",
                        "expected outputs ≥ 1 and a finite init_scale",
                    ));
                }
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.scenario.seed ^ 0x5EAD0_u64);
                let mut rho: Vec<f64> = (0..outputs * m)
                    .map(|_| init_scale * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
                    .collect();
                rho.extend(std::iter::repeat_n(0.0, *outputs));
                (Readout::Affine { q: *outputs }, rho)
            }
            ReadoutSpec::Interpolation { lambda } => {
                if !lambda.is_finite() {
                    return Err(self.error("objective.readout.lambda", "expected a finite number"));
                }
                (Readout::Interpolation, vec![*lambda])
            }
        };
        let q = readout.out_dim(m);
        if let Loss::SmoothL1 { delta } = spec.loss {
            if !(delta.is_finite() && delta > 0.0) {
                return Err(self.error(
                    "objective.loss",
                    format!(
                        "smooth_l1: expected a finite delta > 0, found {}",
                        crate::error::num(delta)
                    ),
                ));
            }
        }
        let targets = match spec.loss {
            Loss::Squared | Loss::SmoothL1 { .. } => match (&data.targets, &data.labels) {
                (Some((tq, t)), _) => {
                    if *tq != q {
                        return Err(self.error("objective.readout", format!(
                            "the readout gives {q} values per point but the data targets have {tq} (squared loss compares them)"
                        )));
                    }
                    Targets::Vectors { q, data: t.clone() }
                }
                (None, Some(_)) => {
                    if data.n_classes != q {
                        return Err(self.error(
                            "objective.readout",
                            format!(
                                "squared loss on one-hot labels needs {} readout values, the readout gives {q}",
                                data.n_classes
                            ),
                        ));
                    }
                    let encoded = data
                        .clone()
                        .with_regression_targets_from_labels(LabelEncoding::OneHot)
                        .map_err(|e| self.error("data", e))?;
                    let (_, t) = encoded.targets.expect("one-hot targets were just set");
                    Targets::Vectors { q, data: t }
                }
                (None, None) => return Err(self.error("objective.loss", "squared loss needs targets in [data]")),
            },
            Loss::CrossEntropy | Loss::Logistic => {
                let labels = data.labels.as_ref().ok_or_else(|| {
                    self.error(
                        "objective.loss",
                        "cross-entropy and logistic losses need class labels in [data]",
                    )
                })?;
                if spec.loss == Loss::CrossEntropy && data.n_classes > q {
                    return Err(self.error(
                        "objective.readout",
                        format!(
                            "cross-entropy over {} classes needs at least {} readout values, the readout gives {q}",
                            data.n_classes, data.n_classes
                        ),
                    ));
                }
                if spec.loss == Loss::Logistic && (q != 1 || data.n_classes > 2) {
                    return Err(self.error("objective.readout", format!(
                        "the logistic loss needs one readout value and two classes (readout gives {q}, data has {} classes)",
                        data.n_classes
                    )));
                }
                Targets::Classes(labels.clone())
            }
        };
        let running_targets = match &spec.running_targets {
            None => None,
            Some(file) => {
                let path = self.base_dir().join(file);
                self.check_csv_size("objective.running_targets", &path)?;
                let (v, rows, cols) = read_matrix_csv(&path).map_err(self.file_error("objective.running_targets"))?;
                if rows != steps || cols != n * q {
                    return Err(Error::input(
                        &path,
                        "objective.running_targets",
                        format!(
                            "expected {steps} rows (one per integrator step) × {} columns (N·q), found {rows} × {cols}",
                            n * q
                        ),
                    ));
                }
                if !matches!(spec.loss, Loss::Squared | Loss::SmoothL1 { .. }) {
                    return Err(self.error(
                        "objective.running_targets",
                        "time-dependent targets need a vector loss (squared or smooth_l1)",
                    ));
                }
                Some(v)
            }
        };
        Ok((
            Objective {
                loss: spec.loss,
                readout,
                terminal_weight: spec.terminal_weight,
                running_weight: spec.running_weight,
                regularizer: spec.regularizer.clone(),
                targets,
                running_targets,
                n,
                m,
            },
            rho,
        ))
    }
}
