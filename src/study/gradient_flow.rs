//! `gradient-flow`: training time t → ∞ for a deep bias-free classifier (SPEC §4 items 7–8, seed 000: Berlyand &
//! Jabin, Theorem 3 and Lemma 2.1; Lyu & Li 2020 for the sharp rates). The network ([`net`]: ReLU or |·| hidden
//! layers, linear logits, mean softmax cross-entropy L̄) is a parameter-space ODE, integrated here directly:
//! - the gradient flow α̇ = −∇L̄(α) with an adaptive embedded Dormand–Prince 5(4) (tight rtol/atol; the tableau
//!   of `ode_solvers`' Dopri5, written out here because a ReLU network's gradient jumps across kinks and, where
//!   the flow slides along one, `ode_solvers`' step control — which has no minimum step — stalls; here steps
//!   are floored at `min_step`·(1 + t) and the steps taken at the floor are counted), stopping exactly at each
//!   log-spaced save time up to t_max;
//! - plain gradient descent α ← α − η∇L̄ beside it (time t = nη).
//!
//! Both start from the same point of the good set A_η (every training point classified with margin ≥ η: seed 000,
//! Definition 2), reached by a warm-up of gradient descent from a seeded initialisation (its length is reported;
//! t = 0 is its end). Reported per depth: the fitted exponent of L̄(t) over the fit window (default the last two
//! decades), the exponent of L̄·t·(ln t)^{2−2/L} (flat for Lyu & Li's Θ(1/(t (ln t)^{2−2/L}))), max L̄·t and max
//! ‖α‖/ln t over the window relative to their value at its start (bounded by Theorem 3), the exponent p of
//! ‖α‖ ~ (ln t)^p beside Lyu & Li's 1/L, the drift of the layer-balance invariant ‖α^m‖² − ‖α^l‖² (exact for the
//! flow, Lemma 2.1; O(η) for gradient descent) and the margin along the way. Each depth is one unit
//! ([`super::Units`]). Writes `trajectory.csv` (tidy: hidden layers, method, t, L̄, ‖α‖, …), `fits.csv`, figures
//! `loss` (L̄ against t, log–log, fitted slopes with 95 % intervals, dashed slope −1), `scaled` (L̄·t and ‖α‖/ln t
//! relative to the window start), `norm` (‖α‖ against ln t, log–log, dashed slope 1/L), `balance` and `margin`.
//! A non-finite state, a failing step-size control or leaving A_η during warm-up stops with exit code 1 naming the
//! time.

pub mod net;

use super::{run_units, Context, Plan, Study, StudyOutput, Units};
use crate::analysis::fit;
use crate::output::plot::{Figure, Mark, Reference, Series, Stroke};
use crate::output::table::{Cell, LongTable};
use crate::output::{Comparison, Tolerance};
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use net::{Hidden, Net};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;
use serde_json::{json, Value};

/// `[gradient_flow]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Training inputs, one row per point.
    pub inputs: Vec<Vec<f64>>,
    /// Class label of each input (0-based).
    pub labels: Vec<usize>,
    /// Numbers of hidden layers to run (one unit each).
    pub hidden_layers: Vec<usize>,
    /// Hidden width.
    #[serde(default = "width")]
    pub width: usize,
    /// `relu` or `abs`.
    #[serde(default = "relu")]
    pub activation: Hidden,
    /// Initial weights N(0, init_scale² · 2/fan_in).
    #[serde(default = "one")]
    pub init_scale: f64,
    /// Margin η of the good set A_η the runs start in.
    #[serde(default = "eta")]
    pub margin: f64,
    /// Warm-up gradient-descent step and budget to reach A_η.
    #[serde(default = "warm_lr")]
    pub warmup_lr: f64,
    #[serde(default = "warm_iters")]
    pub warmup_max_iters: usize,
    /// Final training time.
    #[serde(default = "t_max")]
    pub t_max: f64,
    /// First save time after 0 (a power of ten keeps the decades on the save grid).
    #[serde(default = "t_first")]
    pub t_first: f64,
    /// Save times per decade.
    #[serde(default = "per_decade")]
    pub saves_per_decade: usize,
    /// Fit window [a, b] (default the last two decades [t_max/100, t_max]).
    pub fit_window: Option<[f64; 2]>,
    /// Dopri5 tolerances.
    #[serde(default = "rtol")]
    pub rtol: f64,
    #[serde(default = "atol")]
    pub atol: f64,
    /// Smallest flow step, relative: h ≥ min_step · (1 + t). A ReLU network's gradient jumps where a
    /// pre-activation crosses 0; where the flow slides along such a kink the error control would shrink the step
    /// without end, so steps at the floor are accepted and counted (`flow_floor_steps` in summary.json).
    #[serde(default = "min_step")]
    pub min_step: f64,
    /// Gradient-descent step η (0: no gradient-descent run).
    #[serde(default = "gd_lr")]
    pub gd_lr: f64,
}

fn width() -> usize {
    8
}
fn relu() -> Hidden {
    Hidden::Relu
}
fn one() -> f64 {
    1.0
}
fn eta() -> f64 {
    0.1
}
fn warm_lr() -> f64 {
    0.05
}
fn warm_iters() -> usize {
    200_000
}
fn t_max() -> f64 {
    1e5
}
fn t_first() -> f64 {
    1e-2
}
fn per_decade() -> usize {
    10
}
fn rtol() -> f64 {
    1e-12
}
fn atol() -> f64 {
    1e-14
}
fn min_step() -> f64 {
    1e-6
}
fn gd_lr() -> f64 {
    0.1
}

/// Most parameters of one network, points, and gradient-descent iterations.
pub const MAX_PARAMS: usize = 1_000_000;
pub const MAX_POINTS: usize = 100_000;
pub const MAX_GD_ITERS: f64 = 1e8;

/// The study.
pub struct GradientFlow;

impl Study for GradientFlow {
    fn name(&self) -> &'static str {
        "gradient-flow"
    }
    fn about(&self) -> &'static str {
        "training time t → ∞ of a bias-free ReLU classifier: gradient flow (Dopri5) and GD, L̄ ~ 1/t, ‖α‖ ~ log t"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["gradient_flow"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(prepare(file)?))
    }
}

/// A prepared study.
pub struct FlowPlan {
    spec: FlowSpec,
    xs: Vec<f64>,
    classes: usize,
    seed: u64,
    saves: Vec<f64>,
    window: [f64; 2],
}

fn prepare(file: &ScenarioFile) -> Result<FlowPlan> {
    let s: FlowSpec = file.required_table("gradient_flow")?;
    let e = |k: &str, m: String| file.error(&format!("gradient_flow.{k}"), m);
    let n = s.inputs.len();
    if n == 0 || n > MAX_POINTS {
        return Err(e("inputs", format!("expected 1 to {MAX_POINTS} points")));
    }
    let dim = s.inputs[0].len();
    if dim == 0 {
        return Err(e("inputs", "expected points with at least one coordinate".into()));
    }
    if let Some(i) = s
        .inputs
        .iter()
        .position(|r| r.len() != dim || r.iter().any(|v| !v.is_finite()))
    {
        return Err(e(
            &format!("inputs[{i}]"),
            format!("expected {dim} finite numbers like the first point"),
        ));
    }
    if s.labels.len() != n {
        return Err(e(
            "labels",
            format!("expected {n} labels (one per input), found {}", s.labels.len()),
        ));
    }
    let classes = s.labels.iter().max().map_or(0, |m| m + 1);
    if classes < 2 || (0..classes).any(|c| !s.labels.contains(&c)) {
        return Err(e(
            "labels",
            "expected labels 0..C−1 with C ≥ 2, every class present".into(),
        ));
    }
    if s.hidden_layers.is_empty() || s.hidden_layers.iter().any(|&h| h == 0 || h > 20) {
        return Err(e("hidden_layers", "expected a list of depths between 1 and 20".into()));
    }
    if s.width == 0 {
        return Err(e("width", "expected an integer ≥ 1".into()));
    }
    for &h in &s.hidden_layers {
        let p = dim * s.width + (h - 1) * s.width * s.width + s.width * classes;
        if p > MAX_PARAMS {
            return Err(e(
                "width",
                format!("{p} parameters with {h} hidden layers: at most {MAX_PARAMS}"),
            ));
        }
    }
    for (k, v) in [
        ("init_scale", s.init_scale),
        ("margin", s.margin),
        ("warmup_lr", s.warmup_lr),
        ("t_max", s.t_max),
        ("t_first", s.t_first),
        ("rtol", s.rtol),
        ("atol", s.atol),
        ("min_step", s.min_step),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(e(
                k,
                format!("expected a finite number > 0, found {}", crate::error::num(v)),
            ));
        }
    }
    if !(s.gd_lr.is_finite() && s.gd_lr >= 0.0) {
        return Err(e(
            "gd_lr",
            "expected a finite step ≥ 0 (0: no gradient-descent run)".into(),
        ));
    }
    if s.gd_lr > 0.0 && s.t_max / s.gd_lr > MAX_GD_ITERS {
        return Err(e(
            "gd_lr",
            format!(
                "t_max/gd_lr = {:e} iterations: expected at most {MAX_GD_ITERS:e}",
                s.t_max / s.gd_lr
            ),
        ));
    }
    if s.t_first >= s.t_max {
        return Err(e("t_first", "expected t_first < t_max".into()));
    }
    if s.saves_per_decade == 0 || s.saves_per_decade > 1000 {
        return Err(e("saves_per_decade", "expected an integer between 1 and 1000".into()));
    }
    let window = s.fit_window.unwrap_or([s.t_max / 100.0, s.t_max]);
    if !(window[0] > 1.0 && window[0] < window[1] && window[1] <= s.t_max && window[0] >= s.t_first) {
        return Err(e(
            "fit_window",
            "expected [a, b] with 1 < a < b ≤ t_max and a ≥ t_first (ln t > 0 in the window)".into(),
        ));
    }
    // Log-spaced saves t_first·10^{j/spd} up to t_max, plus 0 and t_max.
    let mut saves = vec![0.0];
    let decades = (s.t_max / s.t_first).log10();
    let count = (decades * s.saves_per_decade as f64).floor() as usize;
    for j in 0..=count {
        saves.push(s.t_first * 10f64.powf(j as f64 / s.saves_per_decade as f64));
    }
    if (saves.last().expect("non-empty") / s.t_max - 1.0).abs() > 1e-9 {
        saves.push(s.t_max);
    } else {
        *saves.last_mut().expect("non-empty") = s.t_max;
    }
    Ok(FlowPlan {
        xs: s.inputs.iter().flatten().copied().collect(),
        classes,
        seed: file.scenario.seed,
        saves,
        window,
        spec: s,
    })
}

impl Plan for FlowPlan {
    fn run(&mut self, ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        out.solver = json!({
            "flow": "embedded Dormand–Prince 5(4) with step floor min_step·(1 + t), stopping at each save time", "min_step": self.spec.min_step,
            "rtol": self.spec.rtol, "atol": self.spec.atol,
            "gd_lr": self.spec.gd_lr, "warmup_lr": self.spec.warmup_lr,
        });
        run_units(self, ctx, out)
    }
    fn units(&self) -> Option<&dyn Units> {
        Some(self)
    }
}

/// One saved state.
#[derive(Clone, Debug, serde::Serialize, Deserialize)]
struct Save {
    t: f64,
    loss: f64,
    norm: f64,
    /// max over layer pairs |B_ml(t) − B_ml(0)|, B_ml = ‖α^m‖² − ‖α^l‖².
    drift: f64,
    margin: f64,
}

#[derive(Clone, Debug, serde::Serialize, Deserialize)]
struct UnitResult {
    hidden: usize,
    params: usize,
    warmup_iters: usize,
    flow: Vec<Save>,
    gd: Vec<Save>,
    flow_steps: u64,
    flow_evals: u64,
    floor_steps: u64,
}

fn balance_drift(net: &Net, alpha: &[f64], b0: &[f64]) -> f64 {
    let b = net.layer_norms2(alpha);
    let mut worst: f64 = 0.0;
    for m in 0..b.len() {
        for l in m + 1..b.len() {
            worst = worst.max(((b[m] - b[l]) - (b0[m] - b0[l])).abs());
        }
    }
    worst
}

impl FlowPlan {
    fn net(&self, hidden: usize) -> Net {
        let mut dims = vec![self.spec.inputs[0].len()];
        dims.extend(std::iter::repeat_n(self.spec.width, hidden));
        dims.push(self.classes);
        Net {
            dims,
            hidden: self.spec.activation,
        }
    }

    fn record(&self, net: &Net, t: f64, alpha: &[f64], b0: &[f64], g: &mut [f64]) -> Save {
        let labels = &self.spec.labels;
        Save {
            t,
            loss: net.loss_grad(alpha, &self.xs, labels, g),
            norm: alpha.iter().map(|v| v * v).sum::<f64>().sqrt(),
            drift: balance_drift(net, alpha, b0),
            margin: net.margin(alpha, &self.xs, labels),
        }
    }

    fn solve(&self, i: usize) -> Result<UnitResult> {
        let s = &self.spec;
        let hidden = s.hidden_layers[i];
        let net = self.net(hidden);
        let labels = &s.labels;
        let np = net.n_params();
        // Seeded He-type initialisation, one stream per depth.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed ^ (0x6F_10A7 + hidden as u64));
        let mut alpha = Vec::with_capacity(np);
        for w in net.dims.windows(2) {
            let sd = s.init_scale * (2.0 / w[0] as f64).sqrt();
            for _ in 0..w[0] * w[1] {
                alpha.push(sd * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng));
            }
        }
        // Warm-up into A_η.
        let mut g = vec![0.0; np];
        let mut warm = 0;
        while net.margin(&alpha, &self.xs, labels) < s.margin {
            if warm == s.warmup_max_iters {
                return Err(Error::numerical(
                    format!(
                        "gradient-flow, {hidden} hidden layers: warm-up gradient descent did not reach the good set \
                         A_η (margin {} < η = {}) in {warm} iterations (raise warmup_max_iters or lower margin)",
                        net.margin(&alpha, &self.xs, labels),
                        s.margin
                    ),
                    warm as f64 * s.warmup_lr,
                    warm,
                    None,
                ));
            }
            let l = net.loss_grad(&alpha, &self.xs, labels, &mut g);
            if !l.is_finite() || g.iter().any(|v| !v.is_finite()) {
                return Err(Error::numerical(
                    format!("gradient-flow, {hidden} hidden layers: warm-up diverged (non-finite loss)"),
                    warm as f64 * s.warmup_lr,
                    warm,
                    None,
                ));
            }
            alpha.iter_mut().zip(&g).for_each(|(a, gi)| *a -= s.warmup_lr * gi);
            warm += 1;
        }
        let b0 = net.layer_norms2(&alpha);
        // The flow, save time to save time.
        let mut flow = vec![self.record(&net, 0.0, &alpha, &b0, &mut g)];
        let (mut steps, mut evals) = (0u64, 0u64);
        let mut a = alpha.clone();
        let mut h = 1e-3 * self.saves[1];
        let mut floor_steps = 0u64;
        for w in self.saves.windows(2) {
            let (t0, t1) = (w[0], w[1]);
            let seg = dopri5_floor(
                &net,
                &self.xs,
                labels,
                &mut a,
                t0,
                t1,
                &mut h,
                (s.rtol, s.atol, s.min_step),
            )
            .map_err(|(what, at)| {
                Error::numerical(
                    format!("gradient-flow, {hidden} hidden layers: {what}"),
                    at,
                    steps as usize,
                    None,
                )
            })?;
            steps += seg.0;
            evals += seg.1;
            floor_steps += seg.2;
            flow.push(self.record(&net, t1, &a, &b0, &mut g));
        }
        // Gradient descent beside it, recorded at the first iteration with nη ≥ each save time.
        let mut gd = Vec::new();
        if s.gd_lr > 0.0 {
            let mut a = alpha.clone();
            let mut n: u64 = 0;
            let eta = s.gd_lr;
            for &ts in &self.saves {
                while (n as f64) * eta < ts * (1.0 - 1e-12) {
                    net.loss_grad(&a, &self.xs, labels, &mut g);
                    a.iter_mut().zip(&g).for_each(|(ai, gi)| *ai -= eta * gi);
                    n += 1;
                }
                let rec = self.record(&net, n as f64 * eta, &a, &b0, &mut g);
                if !(rec.loss.is_finite() && rec.norm.is_finite()) {
                    return Err(Error::numerical(
                        format!("gradient-flow, {hidden} hidden layers: gradient descent blew up (non-finite loss)"),
                        n as f64 * eta,
                        n as usize,
                        None,
                    ));
                }
                if gd.last().is_none_or(|p: &Save| p.t < rec.t) {
                    gd.push(rec);
                }
            }
        }
        Ok(UnitResult {
            hidden,
            params: np,
            warmup_iters: warm,
            flow,
            gd,
            flow_steps: steps,
            flow_evals: evals,
            floor_steps,
        })
    }
}

/// Dormand–Prince 5(4) with local extrapolation and a step floor (h ≥ floor·(1 + t)), from t0 to t1 in place.
/// Returns (accepted steps, gradient evaluations, steps accepted at the floor with a local error above tolerance),
/// or what failed and when (non-finite state, more than 10⁸ steps).
#[allow(clippy::too_many_arguments)]
fn dopri5_floor(
    net: &Net,
    xs: &[f64],
    labels: &[usize],
    y: &mut [f64],
    t0: f64,
    t1: f64,
    h: &mut f64,
    (rtol, atol, floor): (f64, f64, f64),
) -> std::result::Result<(u64, u64, u64), (String, f64)> {
    const A: [[f64; 6]; 7] = [
        [0.0; 6],
        [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
        [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
        [
            19372.0 / 6561.0,
            -25360.0 / 2187.0,
            64448.0 / 6561.0,
            -212.0 / 729.0,
            0.0,
            0.0,
        ],
        [
            9017.0 / 3168.0,
            -355.0 / 33.0,
            46732.0 / 5247.0,
            49.0 / 176.0,
            -5103.0 / 18656.0,
            0.0,
        ],
        [
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
    ];
    // b (5th order) = A[6] plus 0 for stage 7; error weights b − b*.
    const E: [f64; 7] = [
        35.0 / 384.0 - 5179.0 / 57600.0,
        0.0,
        500.0 / 1113.0 - 7571.0 / 16695.0,
        125.0 / 192.0 - 393.0 / 640.0,
        -2187.0 / 6784.0 + 92097.0 / 339200.0,
        11.0 / 84.0 - 187.0 / 2100.0,
        -1.0 / 40.0,
    ];
    let n = y.len();
    let mut k = vec![vec![0.0; n]; 7];
    let mut tmp = vec![0.0; n];
    let grad = |a: &[f64], out: &mut [f64]| {
        net.loss_grad(a, xs, labels, out);
        out.iter_mut().for_each(|v| *v = -*v);
    };
    let (mut steps, mut evals, mut at_floor) = (0u64, 0u64, 0u64);
    let mut t = t0;
    grad(y, &mut k[0]);
    evals += 1;
    while t < t1 {
        let hmin = floor * (1.0 + t);
        let mut hh = h.max(hmin);
        let last = t + hh >= t1 * (1.0 - 1e-15);
        if last {
            hh = t1 - t;
        }
        for st in 1..7 {
            for i in 0..n {
                let mut acc = 0.0;
                for (j, kj) in k.iter().enumerate().take(st) {
                    acc += A[st][j] * kj[i];
                }
                tmp[i] = y[i] + hh * acc;
            }
            grad(&tmp, &mut k[st]);
            evals += 1;
        }
        // tmp now holds the 5th-order solution (stage 7 is evaluated at it: FSAL).
        let mut err = 0.0;
        for i in 0..n {
            let e: f64 = (0..7).map(|j| E[j] * k[j][i]).sum::<f64>() * hh;
            let sc = atol + rtol * y[i].abs().max(tmp[i].abs());
            err += (e / sc) * (e / sc);
        }
        let err = (err / n as f64).sqrt();
        if !err.is_finite() || tmp.iter().any(|v| !v.is_finite()) {
            return Err(("blow-up: non-finite parameters or error estimate".into(), t));
        }
        let factor = if err == 0.0 {
            5.0
        } else {
            (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
        };
        if err <= 1.0 || hh <= hmin * (1.0 + 1e-12) {
            if err > 1.0 {
                at_floor += 1;
            }
            y.copy_from_slice(&tmp);
            let k6 = k[6].clone();
            k[0].copy_from_slice(&k6);
            t = if last { t1 } else { t + hh };
            steps += 1;
            if !last {
                *h = (hh * factor).max(hmin);
            }
            if steps > 100_000_000 {
                return Err(("more than 10⁸ steps in one save interval".into(), t));
            }
        } else {
            *h = (hh * factor).max(hmin);
        }
    }
    Ok((steps, evals, at_floor))
}

/// Fitted slope of ln y against ln x over the saves with x in `[a, b]`.
fn loglog(points: &[(f64, f64)], a: f64, b: f64) -> Option<fit::LineFit> {
    let sel: Vec<&(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x >= a * (1.0 - 1e-12) && *x <= b * (1.0 + 1e-12) && *y > 0.0)
        .collect();
    let lx: Vec<f64> = sel.iter().map(|p| p.0.ln()).collect();
    let ly: Vec<f64> = sel.iter().map(|p| p.1.ln()).collect();
    fit::line(&lx, &ly)
}

/// Window statistics of one run.
struct WindowStats {
    loss_fit: Option<fit::LineFit>,
    lyu_li_fit: Option<fit::LineFit>,
    norm_fit: Option<fit::LineFit>,
    loss_t_ratio: f64,
    norm_log_ratio: f64,
    drift_rel: f64,
    drift_abs: f64,
    min_margin: f64,
}

fn window_stats(saves: &[Save], layers: usize, w: [f64; 2]) -> WindowStats {
    let ll = 2.0 - 2.0 / layers as f64;
    let loss: Vec<(f64, f64)> = saves.iter().map(|s| (s.t, s.loss)).collect();
    let lyu: Vec<(f64, f64)> = saves
        .iter()
        .filter(|s| s.t > 1.0)
        .map(|s| (s.t, s.loss * s.t * s.t.ln().powf(ll)))
        .collect();
    let norm: Vec<(f64, f64)> = saves.iter().filter(|s| s.t > 1.0).map(|s| (s.t.ln(), s.norm)).collect();
    let inw: Vec<&Save> = saves
        .iter()
        .filter(|s| s.t >= w[0] * (1.0 - 1e-12) && s.t <= w[1] * (1.0 + 1e-12))
        .collect();
    let (lt0, nl0) = inw
        .first()
        .map_or((f64::NAN, f64::NAN), |s| (s.loss * s.t, s.norm / s.t.ln()));
    WindowStats {
        loss_fit: loglog(&loss, w[0], w[1]),
        lyu_li_fit: loglog(&lyu, w[0], w[1]),
        norm_fit: loglog(&norm, w[0].ln(), w[1].ln()),
        loss_t_ratio: inw.iter().map(|s| s.loss * s.t / lt0).fold(f64::NEG_INFINITY, f64::max),
        norm_log_ratio: inw
            .iter()
            .map(|s| s.norm / s.t.ln() / nl0)
            .fold(f64::NEG_INFINITY, f64::max),
        drift_rel: saves.iter().map(|s| s.drift / (s.norm * s.norm)).fold(0.0, f64::max),
        drift_abs: saves.iter().map(|s| s.drift).fold(0.0, f64::max),
        min_margin: saves.iter().map(|s| s.margin).fold(f64::INFINITY, f64::min),
    }
}

fn fit_json(f: &Option<fit::LineFit>) -> Value {
    match f {
        Some(f) => {
            let (lo, hi) = f.slope_ci95();
            json!({"slope": f.slope, "stderr": f.slope_stderr, "ci95": [lo, hi], "points": f.n})
        }
        None => Value::Null,
    }
}

impl Units for FlowPlan {
    fn ids(&self) -> Vec<String> {
        self.spec.hidden_layers.iter().map(|h| format!("hidden={h}")).collect()
    }
    fn cost(&self, i: usize) -> f64 {
        let n = self.net(self.spec.hidden_layers[i]).n_params() as f64;
        n * (1.0
            + if self.spec.gd_lr > 0.0 {
                self.spec.t_max / self.spec.gd_lr / 1e3
            } else {
                0.0
            })
    }
    fn run_unit(&self, i: usize, _ctx: &Context) -> Result<Value> {
        Ok(crate::output::results::json_value(&self.solve(i)?))
    }
    fn aggregate(&self, results: &[Value], out: &mut StudyOutput) -> Result<()> {
        let rs: Vec<UnitResult> = results
            .iter()
            .map(|v| serde_json::from_value(v.clone()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::numerical(format!("gradient-flow: unreadable unit result: {e}"), f64::NAN, 0, None))?;
        let w = self.window;
        let wtxt = format!("t ∈ [{:e}, {:e}]", w[0], w[1]);
        let src_thm = "seed 000 (Berlyand & Jabin), Theorem 3: L̄ ≤ C/t, ‖α‖ ≤ C log t on A_η; SPEC §4 item 7";
        let src_ll = "SPEC §4 item 7 (Lyu & Li 2020): L̄ = Θ(1/(t (ln t)^{2−2/L})), ‖α‖ = Θ((ln t)^{1/L})";
        let mut traj = LongTable::new([
            "hidden_layers",
            "method",
            "t",
            "loss",
            "norm",
            "loss_times_t",
            "norm_over_ln_t",
            "balance_drift",
            "margin",
            "normalized_margin",
        ]);
        let mut fits = LongTable::new([
            "hidden_layers",
            "L",
            "method",
            "loss_exponent",
            "loss_exponent_ci_lo",
            "loss_exponent_ci_hi",
            "lyu_li_exponent",
            "norm_log_exponent_p",
            "one_over_L",
            "max_loss_t_ratio",
            "max_norm_ln_t_ratio",
            "balance_drift_abs",
            "balance_drift_rel",
            "min_margin",
            "warmup_iters",
        ]);
        let mut loss_fig = Figure {
            title: format!("cross-entropy L̄(t) along the gradient flow and gradient descent (fit {wtxt})"),
            x_label: "training time t".into(),
            y_label: "L̄(α(t))".into(),
            log_x: true,
            log_y: true,
            ..Figure::default()
        };
        let mut scaled = Figure {
            title: format!(
                "L̄(t)·t and ‖α(t)‖/ln t relative to their value at t = {:e} (gradient flow)",
                w[0]
            ),
            x_label: "training time t".into(),
            y_label: "relative value".into(),
            log_x: true,
            ..Figure::default()
        };
        let mut norm_fig = Figure {
            title: "‖α(t)‖ against ln t (gradient flow): fitted exponent p, dashed Lyu & Li's 1/L".into(),
            x_label: "ln t".into(),
            y_label: "‖α(t)‖".into(),
            log_x: true,
            log_y: true,
            ..Figure::default()
        };
        let mut bal = Figure {
            title: "drift of the layer balance ‖α^m‖² − ‖α^l‖² (max over layer pairs)".into(),
            x_label: "training time t".into(),
            y_label: "|drift|".into(),
            log_x: true,
            log_y: true,
            ..Figure::default()
        };
        let mut marg = Figure {
            title: "margin min_s (X_{i(s)} − max_{k≠i(s)} X_k) along the gradient flow".into(),
            x_label: "training time t".into(),
            y_label: "margin".into(),
            log_x: true,
            log_y: true,
            ..Figure::default()
        };
        let mut by_depth = serde_json::Map::new();
        for (c, r) in rs.iter().enumerate() {
            let layers = r.hidden + 1;
            let name = format!("{} hidden", r.hidden);
            let mut depth = serde_json::Map::new();
            for (method, saves) in [("flow", &r.flow), ("gd", &r.gd)] {
                if saves.is_empty() {
                    continue;
                }
                let st = window_stats(saves, layers, w);
                for sv in saves.iter() {
                    traj.push(vec![
                        (r.hidden as f64).into(),
                        Cell::Text(method.into()),
                        sv.t.into(),
                        sv.loss.into(),
                        sv.norm.into(),
                        (sv.loss * sv.t).into(),
                        (if sv.t > 1.0 { sv.norm / sv.t.ln() } else { f64::NAN }).into(),
                        sv.drift.into(),
                        sv.margin.into(),
                        (sv.margin / sv.norm.powi(layers as i32)).into(),
                    ]);
                }
                let (lo, hi) = st.loss_fit.map_or((f64::NAN, f64::NAN), |f| f.slope_ci95());
                let slope = |f: &Option<fit::LineFit>| f.map_or(f64::NAN, |f| f.slope);
                fits.push(vec![
                    (r.hidden as f64).into(),
                    (layers as f64).into(),
                    Cell::Text(method.into()),
                    slope(&st.loss_fit).into(),
                    lo.into(),
                    hi.into(),
                    slope(&st.lyu_li_fit).into(),
                    slope(&st.norm_fit).into(),
                    (1.0 / layers as f64).into(),
                    st.loss_t_ratio.into(),
                    st.norm_log_ratio.into(),
                    st.drift_abs.into(),
                    st.drift_rel.into(),
                    st.min_margin.into(),
                    (r.warmup_iters as f64).into(),
                ]);
                let pts: Vec<(f64, f64)> = saves.iter().filter(|s| s.t > 0.0).map(|s| (s.t, s.loss)).collect();
                let label = st.loss_fit.map_or("no fit".into(), |f| f.slope_text("slope"));
                let mut ser = Series::line(format!("{name}, {method}: {label}"), pts.clone()).color(c);
                if method == "gd" {
                    ser = ser.stroke(Stroke::Dotted);
                } else {
                    if let Some(rf) = Reference::power_beside(-1.0, &pts, 0.3, format!("{name}: slope −1 (Theorem 3)"))
                    {
                        loss_fig.references.push(rf.color(c));
                    }
                    let at = |f: &dyn Fn(&Save) -> f64| -> Vec<(f64, f64)> {
                        let base = saves
                            .iter()
                            .find(|s| s.t >= w[0] * (1.0 - 1e-12))
                            .map(f)
                            .unwrap_or(f64::NAN);
                        saves.iter().filter(|s| s.t > 1.0).map(|s| (s.t, f(s) / base)).collect()
                    };
                    scaled
                        .series
                        .push(Series::line(format!("{name}: L̄·t"), at(&|s| s.loss * s.t)).color(c));
                    scaled.series.push(
                        Series::line(format!("{name}: ‖α‖/ln t"), at(&|s| s.norm / s.t.ln()))
                            .color(c)
                            .stroke(Stroke::Dotted),
                    );
                    let npts: Vec<(f64, f64)> = saves
                        .iter()
                        .filter(|s| s.t > std::f64::consts::E)
                        .map(|s| (s.t.ln(), s.norm))
                        .collect();
                    norm_fig.series.push(
                        Series::line(
                            format!("{name}: {}", st.norm_fit.map_or("no fit".into(), |f| f.slope_text("p"))),
                            npts.clone(),
                        )
                        .color(c),
                    );
                    if let Some(rf) =
                        Reference::power_beside(1.0 / layers as f64, &npts, 0.8, format!("{name}: 1/L = 1/{layers}"))
                    {
                        norm_fig.references.push(rf.color(c));
                    }
                    marg.series.push(
                        Series::line(
                            name.clone(),
                            saves
                                .iter()
                                .filter(|s| s.t > 0.0 && s.margin > 0.0)
                                .map(|s| (s.t, s.margin))
                                .collect(),
                        )
                        .color(c),
                    );
                }
                loss_fig.series.push(ser);
                bal.series.push(
                    Series::line(
                        format!("{name}, {method}"),
                        saves
                            .iter()
                            .filter(|s| s.t > 0.0 && s.drift > 0.0)
                            .map(|s| (s.t, s.drift))
                            .collect(),
                    )
                    .color(c)
                    .stroke(if method == "gd" { Stroke::Dotted } else { Stroke::Solid }),
                );
                let l0 = saves[0].loss;
                // Comparisons.
                let q = |what: &str| format!("{name}, {method}: {what}");
                let note = format!(
                    "{} parameters, L = {layers}, warm-up {} GD iterations into A_η (η = {}); flow: {} Dormand–Prince steps ({} at the step floor)",
                    r.params, r.warmup_iters, self.spec.margin, r.flow_steps, r.floor_steps
                );
                if let Some(f) = st.loss_fit {
                    out.comparisons.push(
                        Comparison::new(
                            q(&format!("fitted exponent of L̄(t) over {wtxt}")),
                            -1.1,
                            f.slope,
                            Tolerance::Absolute { value: 0.15 },
                            format!("{src_thm}; {src_ll} (the log factor steepens the local slope below −1)"),
                        )
                        .note(format!(
                            "acceptance band [−1.25, −0.95]; 95 % CI [{lo:.4}, {hi:.4}]; {note}"
                        )),
                    );
                }
                if method == "flow" {
                    if let Some(f) = st.lyu_li_fit {
                        out.comparisons.push(Comparison::new(
                            q(&format!("exponent of L̄·t·(ln t)^(2−2/L) over {wtxt}")),
                            0.0,
                            f.slope,
                            Tolerance::Absolute { value: 0.05 },
                            src_ll,
                        ));
                    }
                    out.comparisons.push(Comparison::new(
                        q(&format!(
                            "max L̄(t)·t over {wtxt} relative to its value at t = {:e}",
                            w[0]
                        )),
                        1.2,
                        st.loss_t_ratio,
                        Tolerance::AtMost,
                        src_thm,
                    ));
                    out.comparisons.push(Comparison::new(
                        q(&format!(
                            "max ‖α(t)‖/ln t over {wtxt} relative to its value at t = {:e}",
                            w[0]
                        )),
                        1.2,
                        st.norm_log_ratio,
                        Tolerance::AtMost,
                        src_thm,
                    ));
                    if let Some(f) = st.norm_fit {
                        out.comparisons.push(
                            Comparison::new(
                                q("exponent p of ‖α(t)‖ ~ (ln t)^p (Theorem 3: p ≤ 1)"),
                                1.0,
                                f.slope,
                                Tolerance::AtMost,
                                src_thm,
                            )
                            .note(format!(
                                "Lyu & Li's asymptotic exponent 1/L = {:.4}; fitted over {wtxt}",
                                1.0 / layers as f64
                            )),
                        );
                    }
                    out.comparisons.push(Comparison::new(
                        q("layer-balance drift max |Δ(‖α^m‖² − ‖α^l‖²)| / ‖α‖² (conserved by the flow)"),
                        1e-8,
                        st.drift_rel,
                        Tolerance::AtMost,
                        "seed 000, Lemma 2.1 / Remark 3; SPEC §4 item 8",
                    ));
                    out.comparisons.push(Comparison::new(
                        q("smallest margin along the flow (stays in A_η)"),
                        self.spec.margin,
                        st.min_margin,
                        Tolerance::AtLeast,
                        "seed 000, Theorem 3 assumes α(t) ∈ A_η for all t",
                    ));
                } else {
                    out.comparisons.push(
                        Comparison::new(
                            q("layer-balance drift max |Δ(‖α^m‖² − ‖α^l‖²)| against η·L̄(0)"),
                            self.spec.gd_lr * l0,
                            st.drift_abs,
                            Tolerance::AtMost,
                            "SPEC §4 item 8: conserved to O(step) by gradient descent (drift = η² Σ_n (‖g^m‖² − ‖g^l‖²) ≤ η (L̄(0) − L̄(t)))",
                        )
                        .note(format!("η = {}, L̄(0) = {l0:.6e}", self.spec.gd_lr)),
                    );
                }
                depth.insert(
                    method.into(),
                    json!({
                        "loss_exponent": fit_json(&st.loss_fit),
                        "lyu_li_exponent": fit_json(&st.lyu_li_fit),
                        "norm_log_exponent_p": fit_json(&st.norm_fit),
                        "one_over_L": 1.0 / layers as f64,
                        "max_loss_t_ratio": st.loss_t_ratio,
                        "max_norm_ln_t_ratio": st.norm_log_ratio,
                        "balance_drift_abs": st.drift_abs,
                        "balance_drift_rel": st.drift_rel,
                        "min_margin": st.min_margin,
                        "loss_final": saves.last().map(|s| s.loss),
                        "norm_final": saves.last().map(|s| s.norm),
                        "loss_initial": l0,
                    }),
                );
            }
            depth.insert("parameters".into(), json!(r.params));
            depth.insert("layers_L".into(), json!(layers));
            depth.insert("warmup_iters".into(), json!(r.warmup_iters));
            depth.insert("flow_steps".into(), json!(r.flow_steps));
            depth.insert("flow_rhs_evals".into(), json!(r.flow_evals));
            depth.insert("flow_floor_steps".into(), json!(r.floor_steps));
            by_depth.insert(format!("hidden={}", r.hidden), Value::Object(depth));
        }
        for f in [&mut loss_fig, &mut scaled, &mut bal] {
            f.annotations
                .push("solid: gradient flow (Dopri5); dotted: gradient descent".into());
        }
        loss_fig.series.iter_mut().for_each(|s| {
            if s.mark == Mark::Points {
                s.mark = Mark::Line;
            }
        });
        out.figures.push(("loss".into(), loss_fig));
        out.figures.push(("scaled".into(), scaled));
        out.figures.push(("norm".into(), norm_fig));
        out.figures.push(("balance".into(), bal));
        out.figures.push(("margin".into(), marg));
        out.long_tables.push(("trajectory.csv".into(), traj));
        out.long_tables.push(("fits.csv".into(), fits));
        out.set("by_depth", by_depth);
        out.set("fit_window", w);
        out.set("margin_eta", self.spec.margin);
        out.set("points", self.spec.labels.len());
        out.set("classes", self.classes);
        Ok(())
    }
}
