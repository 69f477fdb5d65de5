//! Shared machinery of the large-T studies (`horizon-sweep`, `turnpike`, `geshkovski-figure`; SPEC §4, seed 001).
//!
//! **Time scaling** (SPEC §4; 001 slide "Scaling"): if the field scales with the control, f(x, αu) = α f(x, u)
//! for α > 0, then u¹(s) = T u^T(sT) gives X¹(s) = X^T(sT) and
//!
//! ```text
//!   min Φ(X^T(T)) + λ ∫_0^T ‖u^T‖² dt  =  min Φ(X¹(1)) + (λ/T) ∫_0^1 ‖u¹‖² ds.
//! ```
//!
//! The identity is exact for the discretised problem too: with K intervals, h f(x, u^T_k) = (T/K) f(x, u¹_k / T) =
//! (1/K) f(x, u¹_k) in every RK4 stage, and λ h Σ‖u^T_k‖² = (λ/T)(1/K) Σ‖u¹_k‖². Which fields scale
//! (`ModelDef::scales_with_control`): every control-affine field (nODE₂ Wσ(x) + b with any σ, the affine families), and nODE σ(Wx + b)
//! and the ResNet field σ(Wx) only with a positively homogeneous σ (ReLU, leaky ReLU, |·|); the MLP field never.
//!
//! Also here: the ±1 encoding of two-class labels for a one-output readout ([`Base::from_file`]), exact L² norms
//! and distances of piecewise-constant controls on different grids ([`l2_norm`], [`l2_distance`]), resampling
//! for warm starts across layer counts ([`resample`]), the terminal map's Jacobian by the discrete adjoint
//! ([`terminal_jacobian`]), L-BFGS on the exact discrete gradient ([`solve`]) and the exact-interpolation lower
//! bound of SPEC §4 item 5 ([`interpolation_lower_bound`]).

use crate::adjoint::{Checkpoint, GradProblem};
use crate::control::{Control, TimeGrid};
use crate::data::{Dataset, LabelEncoding};
use crate::field::VectorField;
use crate::integrate::Scheme;
use crate::objective::{Objective, Readout, Regularizer, Targets};
use crate::optim::{minimize_lbfgs, LbfgsConfig, RunReport};
use crate::scenario::ScenarioFile;
use crate::Result;
use nalgebra::DMatrix;

/// Most layers one horizon of a large-T study may use (each solve holds a few K·d vectors per start).
pub const MAX_LAYERS: usize = 200_000;

/// What every large-T study builds from a scenario: the field, the fixed-step scheme, the data, the objective
/// (λ and the horizon are set per solve) and the fixed readout.
pub struct Base {
    pub field: Box<dyn VectorField>,
    pub scheme: &'static dyn Scheme,
    pub substeps: usize,
    pub data: Dataset,
    pub objective: Objective,
    /// λ of the L² regulariser `[objective.regularizer] kind = "l2"`.
    pub lambda: f64,
    pub checkpoint: Checkpoint,
    /// The field scales with its control (`ModelDef::scales_with_control`) and why.
    pub scales: (bool, String),
    /// How two-class labels became targets, if they did.
    pub encoding: Option<String>,
    /// σ of an nODE/nODE₂/ResNet field (Lip σ enters the lower bound of SPEC §4 item 5).
    pub activation: Option<crate::field::Activation>,
}

impl Base {
    /// Builds the parts from the scenario's common tables. The regulariser must be L² (λ∫‖u‖², SPEC §4), the
    /// readout fixed (identity or projection: the studies train the controls only) and the scheme fixed-step.
    /// Two-class labels with the squared loss and a one-output readout become targets ±1 (class 0 → +1, class 1 →
    /// −1; with `checkerboard` and `cells = 2` that is y = sign(x₁x₂), the XOR labels of the issue).
    pub fn from_file(file: &ScenarioFile) -> Result<Base> {
        if file.scenario.controls.is_some() {
            return Err(file.error(
                "controls",
                "the large-T studies draw their own starting controls (seeded restarts); remove [controls]",
            ));
        }
        // problem() builds controls: zeros, unused.
        let mut with_controls = file.clone();
        let d = file.field()?.control_dim();
        with_controls.scenario.controls = Some(crate::scenario::schema::ControlSpec::Constant { value: vec![0.0; d] });
        let problem = with_controls.problem()?;
        let scheme = problem.solver.scheme.fixed().ok_or_else(|| {
            file.error(
                "solver.scheme",
                "the large-T studies need a fixed-step scheme (`euler` or `rk4`)",
            )
        })?;
        let spec = file.objective_spec()?;
        let lambda = match &spec.regularizer {
            Some(Regularizer::L2 { lambda }) if *lambda > 0.0 => *lambda,
            _ => {
                return Err(file.error(
                    "objective.regularizer",
                    "expected an L² regulariser with λ > 0 (`kind = \"l2\"`, `lambda = …`): the large-T results \
                     are about min Φ + λ∫‖u‖²",
                ))
            }
        };
        if spec.running_targets.is_some() {
            return Err(file.error(
                "objective.running_targets",
                "the large-T studies change the number of steps per horizon; time-dependent targets are not supported",
            ));
        }
        let mut data = problem.data;
        let mut encoding = None;
        let q = match &spec.readout {
            crate::scenario::schema::ReadoutSpec::Identity => data.m,
            crate::scenario::schema::ReadoutSpec::Projection { matrix } => matrix.len(),
            _ => return Err(file.error(
                "objective.readout",
                "expected a fixed readout (`identity` or `projection`): the large-T studies train the controls only",
            )),
        };
        if spec.loss == crate::objective::Loss::Squared && data.targets.is_none() && data.n_classes == 2 && q == 1 {
            data = data
                .with_regression_targets_from_labels(LabelEncoding::Sign { q: 1 })
                .map_err(|e| file.error("data", e))?;
            encoding = Some("two-class labels as targets ±1 (class 0 → +1, class 1 → −1)".to_string());
        }
        let steps = problem.control.grid().intervals * problem.solver.substeps;
        let (objective, _rho) = file.objective(&data, steps)?;
        let model = file.model.as_ref().expect("problem() checked [model]");
        let scales = model.scales_with_control();
        let activation = model.activation().cloned();
        Ok(Base {
            field: problem.field,
            scheme,
            substeps: problem.solver.substeps,
            data,
            objective,
            lambda,
            checkpoint: spec.checkpoint,
            scales,
            encoding,
            activation,
        })
    }

    /// The objective with regulariser λ' ∫‖u‖² (λ' = λ/T in the time-scaled problem).
    pub fn objective_with(&self, lambda: f64) -> Objective {
        let mut o = self.objective.clone();
        o.regularizer = Some(Regularizer::L2 { lambda });
        o
    }

    /// The discretised problem on `grid` with objective `obj`.
    pub fn grad_problem<'a>(&'a self, obj: &'a Objective, grid: TimeGrid) -> GradProblem<'a> {
        GradProblem {
            field: self.field.as_ref(),
            scheme: self.scheme,
            grid,
            substeps: self.substeps,
            x0: &self.data.x,
            objective: obj,
            checkpoint: self.checkpoint,
        }
    }

    /// The readout matrix P (q × m) of a fixed linear readout.
    pub fn readout_matrix(&self) -> DMatrix<f64> {
        match &self.objective.readout {
            Readout::Projection(p) => p.clone(),
            _ => DMatrix::identity(self.data.m, self.data.m),
        }
    }

    /// The targets, N × q row-major (regression targets only).
    pub fn targets(&self) -> Option<(usize, &[f64])> {
        match &self.objective.targets {
            Targets::Vectors { q, data } => Some((*q, data)),
            Targets::Classes(_) => None,
        }
    }
}

/// u^T on [0, T] from u¹ on [0, 1] with the same K: u^T_k = u¹_k / T (and u¹ = T u^T).
pub fn to_horizon(u1: &[f64], horizon: f64) -> Vec<f64> {
    u1.iter().map(|v| v / horizon).collect()
}

/// ‖u‖_{L²} = (h Σ_k ‖u_k‖²)^{1/2} of a piecewise-constant control with interval length h.
pub fn l2_norm(u: &[f64], h: f64) -> f64 {
    (h * u.iter().map(|v| v * v).sum::<f64>()).sqrt()
}

/// ‖a − b‖_{L²(0,1)} of two piecewise-constant controls on [0, 1] with `ka` and `kb` equal intervals (d values
/// each), exact: integrated over the common refinement of the two grids.
pub fn l2_distance(a: &[f64], ka: usize, b: &[f64], kb: usize, d: usize) -> f64 {
    // Breakpoints i/ka and j/kb merged in exact integer arithmetic: i/ka < j/kb ⇔ i·kb < j·ka.
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev = 0.0f64;
    let mut acc = 0.0;
    while i < ka && j < kb {
        let (ni, nj) = ((i + 1) * kb, (j + 1) * ka);
        let end_num = ni.min(nj);
        let end = end_num as f64 / (ka * kb) as f64;
        let w = end - prev;
        let s: f64 = (0..d).map(|c| (a[i * d + c] - b[j * d + c]).powi(2)).sum();
        acc += w * s;
        prev = end;
        if ni == end_num {
            i += 1;
        }
        if nj == end_num {
            j += 1;
        }
    }
    acc.sqrt()
}

/// A piecewise-constant control on K_from equal intervals of [0, 1] seen on K_to intervals: interval j takes the
/// value at its midpoint (an exact refinement when K_to is a multiple of K_from).
pub fn resample(u: &[f64], k_from: usize, k_to: usize, d: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(k_to * d);
    for j in 0..k_to {
        // Midpoint (j + ½)/k_to lies in interval ⌊(2j + 1) k_from / (2 k_to)⌋.
        let i = ((2 * j + 1) * k_from / (2 * k_to)).min(k_from - 1);
        out.extend_from_slice(&u[i * d..(i + 1) * d]);
    }
    out
}

/// The terminal map's Jacobian at u: row (i, c) = ∂(r(X_i(T)))_c / ∂u for the fixed linear readout r = P,
/// (N·q) × (K·d), by the discrete adjoint (one gradient per row: the squared loss of point i against a target
/// ½ below its output in component c has gradient exactly ∂z_c/∂u). Also returns the outputs z (N × q).
pub fn terminal_jacobian(base: &Base, grid: TimeGrid, u: &[f64]) -> Result<(DMatrix<f64>, Vec<f64>)> {
    let p = base.readout_matrix();
    let (q, m) = (p.nrows(), p.ncols());
    let n = base.data.n();
    let kd = u.len();
    let mut obj = base.objective.clone();
    obj.regularizer = None;
    obj.running_weight = 0.0;
    obj.terminal_weight = 1.0;
    obj.loss = crate::objective::Loss::Squared;
    obj.n = 1;
    let mut jac = DMatrix::zeros(n * q, kd);
    let mut z = vec![0.0; n * q];
    let field = base.field.as_ref();
    for i in 0..n {
        let x0 = &base.data.x[i * m..(i + 1) * m];
        // Outputs of point i: forward sweep with zero targets gives Σ z_c²; simulate instead for z itself.
        let traj = crate::integrate::simulate(
            field,
            &crate::control::PiecewiseView::new(grid, field.control_dim(), u),
            &crate::integrate::Solver::fixed(scheme_kind(base), base.substeps),
            x0,
            &crate::integrate::SaveAt::Final,
        )?;
        let xt = traj.final_states();
        for c in 0..q {
            z[i * q + c] = (0..m).map(|l| p[(c, l)] * xt[l]).sum();
        }
        for c in 0..q {
            let mut t = z[i * q..(i + 1) * q].to_vec();
            t[c] -= 0.5;
            obj.targets = Targets::Vectors { q, data: t.clone() };
            let gp = GradProblem {
                field,
                scheme: base.scheme,
                grid,
                substeps: base.substeps,
                x0,
                objective: &obj,
                checkpoint: base.checkpoint,
            };
            let lg = gp.loss_grad(u, &[])?;
            // ∂/∂u Σ_c' (z_c' − t_c')² = 2 Σ_c' (z_c' − t_c') ∂z_c'/∂u = 2 · ½ ∂z_c/∂u (the other residuals are 0).
            let r = 2.0 * (z[i * q + c] - t[c]);
            for (col, g) in lg.controls.iter().enumerate() {
                jac[(i * q + c, col)] = g / r;
            }
        }
    }
    Ok((jac, z))
}

fn scheme_kind(base: &Base) -> crate::integrate::SchemeKind {
    crate::integrate::SchemeKind::parse(base.scheme.name()).expect("a registered scheme")
}

/// Singular values of `j`, descending.
pub fn singular_values(j: &DMatrix<f64>) -> Vec<f64> {
    let mut s: Vec<f64> = j.clone().svd(false, false).singular_values.iter().copied().collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

/// Minimises the discretised objective of `gp` over the controls `u` (in place) by L-BFGS on the exact discrete
/// gradient ([`crate::optim::lbfgs`]); the readout has no parameters.
pub fn solve(gp: &GradProblem, u: &mut [f64], cfg: &LbfgsConfig) -> Result<RunReport> {
    let mut f = |th: &[f64], g: &mut [f64]| -> Result<f64> {
        let lg = gp.loss_grad(th, &[])?;
        g.copy_from_slice(&lg.controls);
        Ok(lg.loss)
    };
    minimize_lbfgs(&mut f, u, cfg, &mut |_| true)
}

/// L-BFGS from each of `starts` (named initial controls, run in parallel; each run is deterministic), keeping
/// the lowest objective (the first on ties, in the order given). A start whose run blows up (non-finite state,
/// divergence) is reported and skipped. Returns (controls, objective, start name, JSON of every start's run); `t`
/// names the horizon in the error when every start fails.
pub fn best_of(
    gp: &GradProblem,
    starts: &[(String, Vec<f64>)],
    cfg: &LbfgsConfig,
    t: f64,
) -> Result<(Vec<f64>, f64, String, serde_json::Value)> {
    use rayon::prelude::*;
    use serde_json::json;
    let results: Vec<Result<(Vec<f64>, f64, serde_json::Value)>> = starts
        .par_iter()
        .map(|(_, u0)| {
            let mut u = u0.clone();
            match solve(gp, &mut u, cfg) {
                Ok(rep) => {
                    let j = gp.loss(&u, &[])?;
                    Ok((
                        u,
                        j,
                        json!({"iterations": rep.iterations, "evaluations": rep.evaluations,
                               "grad_norm": rep.final_grad_norm, "stop": format!("{:?}", rep.stop)}),
                    ))
                }
                Err(e @ (crate::Error::Numerical { .. } | crate::Error::Diverged { .. })) => {
                    Ok((u0.clone(), f64::INFINITY, json!({"error": e.to_string()})))
                }
                Err(e) => Err(e),
            }
        })
        .collect();
    let mut best: Option<(Vec<f64>, f64, String, serde_json::Value)> = None;
    let mut all = Vec::new();
    for ((name, _), r) in starts.iter().zip(results) {
        let (u, j, rep) = r?;
        all.push(json!({"start": name, "objective": j, "report": rep}));
        if j.is_finite() && best.as_ref().is_none_or(|b| j < b.1) {
            best = Some((u, j, name.clone(), rep));
        }
    }
    let (u, j, name, rep) =
        best.ok_or_else(|| crate::Error::numerical(format!("every start diverged at T = {t}"), t, 0, None))?;
    Ok((u, j, name, json!({"best": rep, "starts": all})))
}

/// The terminal error Φ(X(T)) = (1/N) Σ loss(r(X_i(T)), y_i) of `gp` at u (objective without running cost or
/// regulariser).
pub fn terminal_error(base: &Base, grid: TimeGrid, u: &[f64]) -> Result<f64> {
    let mut obj = base.objective.clone();
    obj.regularizer = None;
    obj.running_weight = 0.0;
    obj.terminal_weight = 1.0;
    base.grad_problem(&obj, grid).loss(u, &[])
}

/// SPEC §4 item 5 (001 slide "A lower bound", by Grönwall): if P X_i(T) = y_i for all i, then
/// ∫_0^T ‖W(t)‖ dt ≥ (1/Lip σ) max_{i≠j} log(min ‖x_i¹ − x_j¹‖ / ‖x_i⁰ − x_j⁰‖) over x_i¹ ∈ P⁻¹(y_i), where the
/// smallest distance between the two affine preimages is ‖P⁺(y_i − y_j)‖. Returns (bound, i, j) over the pairs
/// with distinct targets, or `None` when no pair has distinct targets. `y` is N × q.
pub fn interpolation_lower_bound(
    x0: &[f64],
    m: usize,
    y: &[f64],
    p: &DMatrix<f64>,
    lip: f64,
) -> Option<(f64, usize, usize)> {
    let q = p.nrows();
    let n = x0.len() / m;
    let pinv = p.clone().pseudo_inverse(1e-12).ok()?;
    let mut best: Option<(f64, usize, usize)> = None;
    for i in 0..n {
        for j in (i + 1)..n {
            let dy = nalgebra::DVector::from_iterator(q, (0..q).map(|c| y[i * q + c] - y[j * q + c]));
            let num = (&pinv * dy).norm();
            let den: f64 = (0..m)
                .map(|c| (x0[i * m + c] - x0[j * m + c]).powi(2))
                .sum::<f64>()
                .sqrt();
            if num <= 0.0 || den <= 0.0 {
                continue;
            }
            let b = (num / den).ln() / lip;
            if best.is_none_or(|(v, _, _)| b > v) {
                best = Some((b, i, j));
            }
        }
    }
    best
}

/// ∫ ‖W(t)‖₂ dt for nODE/nODE₂ controls u_k = (W_k row-major, b_k): Σ_k h ‖W_k‖₂ (spectral norm). Invariant
/// under time scaling (∫_0^T ‖W^T‖ dt = ∫_0^1 ‖W¹‖ ds).
pub fn weight_l1_spectral(u: &[f64], m: usize, d: usize, h: f64) -> f64 {
    u.chunks(d)
        .map(|row| {
            let w = DMatrix::from_row_slice(m, m, &row[..m * m]);
            h * w.svd(false, false).singular_values.max()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_distance_is_exact_on_unequal_grids() {
        // a = 1 on [0, ½), 3 on [½, 1); b = 2 on [0, ⅓), 0 on [⅓, ⅔), 1 on [⅔, 1) (d = 1).
        let a = [1.0, 3.0];
        let b = [2.0, 0.0, 1.0];
        // Pieces: [0,⅓): 1; [⅓,½): 1; [½,⅔): 9; [⅔,1): 4 → ⅓·1 + ⅙·1 + ⅙·9 + ⅓·4 = 20/6.
        let want = (20.0f64 / 6.0).sqrt();
        assert!((l2_distance(&a, 2, &b, 3, 1) - want).abs() < 1e-14);
        assert!((l2_distance(&b, 3, &a, 2, 1) - want).abs() < 1e-14);
        assert_eq!(l2_distance(&a, 2, &resample(&a, 2, 6, 1), 6, 1), 0.0);
        assert!((l2_norm(&a, 0.5) - 5f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn resample_refines_exactly_and_coarsens_by_midpoints() {
        let u = [1.0, 10.0, 2.0, 20.0];
        assert_eq!(resample(&u, 2, 4, 2), vec![1.0, 10.0, 1.0, 10.0, 2.0, 20.0, 2.0, 20.0]);
        assert_eq!(resample(&[1.0, 2.0, 3.0, 4.0], 4, 2, 1), vec![2.0, 4.0]);
    }

    #[test]
    fn lower_bound_uses_the_preimage_distance() {
        // P = e₂: preimages of y = ±1 are the lines x₂ = ±1, 2 apart; points 0.5 apart → log 4.
        let p = DMatrix::from_row_slice(1, 2, &[0.0, 1.0]);
        let (b, i, j) =
            interpolation_lower_bound(&[0.0, 0.0, 0.3, 0.4, 5.0, 5.0], 2, &[1.0, -1.0, 1.0], &p, 1.0).unwrap();
        assert!((b - 4f64.ln()).abs() < 1e-14, "{b}");
        assert_eq!((i, j), (0, 1));
    }
}
