//! One training run of the thesis' ResNet (seed 004 (4.1), SPEC §6) on the block engine, and what is measured on
//! it.
//!
//! Model (d = 1, tanh): h_0 = U_in x, h_{k+1} = h_k + L^{−α} tanh(W_k h_k) for k = 0 … L−1, ŷ = U_out h_L, with
//! frozen scalars U_in, U_out. This is the engine's `resnet` field σ(Wx) with explicit Euler on K = L intervals of
//! [0, T] with T = L^{1−α} = L^β, so that the step h = T/K = L^{−α} = δ_L, one step per interval (control W_k
//! frozen inside interval k); the points start at U_in x_i and the readout is the fixed projection P = (U_out).
//! Objective: J(W) = (1/N) Σ_i (ŷ_i − 0.01)² over the training points (SPEC §6: the mean squared error without
//! the ½ the text writes). Its exact gradient is the discrete adjoint of [`crate::adjoint::discrete`]
//! (checkpoint `Auto`), i.e. ∂J/∂W_k = δ_L (p_{k+1} ⊙ σ'(W_k h_k)) h_k summed over the points, with
//! p_L = ∇J and p_k = (1 + δ_L σ'(W_k h_k) W_k) p_{k+1} (SPEC §6).
//!
//! Training: full-batch gradient descent W ← W − η ∇J(W) for T_L = ⌈Q ln L⌉ steps (Q = 5), η per Table 4.2.
//! There is deliberately no divergence rule: classes outside the theorem (C11) blow up, and that blow-up is the
//! published result. A non-finite loss or gradient is still an error.
//!
//! Measured: the rescaled weight path 𝒲_k = L^β W_k, k = 0 … L−1, its 1-variation Σ_k |𝒲_{k+1} − 𝒲_k|
//! ([`crate::analysis::pvar`] with p = 1) at t = 0 and after training, and the Theorem 3.3.3 invariants
//! max_k |W_k|·L^β and max_k |W_{k+1} − W_k|·L^{1/γ+β}, each the maximum over the training steps t = 0 … T_L.

use super::catalogue::{Class, Init};
use crate::analysis::pvar::pvar;
use crate::control::{PiecewiseConstant, TimeGrid};
use crate::data::{c10k, Dataset};
use crate::field::node::ResNetField;
use crate::field::Activation;
use crate::integrate::{SaveAt, SchemeKind, Solver};
use crate::objective::{Loss, Objective, Readout, Targets};
use crate::problem::{Checkpoint, Problem, Setup};
use crate::{Error, Result};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The frozen embeddings: fixed scalars, or drawn per seed uniformly on [−√φ, √φ] with φ = 1 (one input feature,
/// 004 (4.1)), the same for every depth and model of that seed (as in 004).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Embeddings {
    /// U_in, U_out ~ U[−1, 1] per seed.
    Random,
    /// Fixed values.
    Fixed { u_in: f64, u_out: f64 },
}

/// Settings shared by every run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Settings {
    /// T_L = ⌈Q ln L⌉.
    pub q: f64,
    /// Points of the C10k data set (train + test).
    pub n: usize,
    /// Fraction of the points trained on (the rest is the test set).
    pub train_fraction: f64,
    /// Master seed.
    pub master_seed: u64,
    /// Embeddings of the models covered by `fixed_for` (the others: [`Embeddings::Random`]).
    pub embeddings: Embeddings,
    /// Which models use `embeddings`.
    pub fixed_for: FixedFor,
}

/// Which models the fixed embeddings apply to (the rest draw theirs per seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedFor {
    /// Every model.
    All,
    /// Only the constant-initialisation models (SPEC §6: their result is set by the embeddings; the truncated
    /// columns are matched with random embeddings, the max over seeds picking the least-trained seed).
    Constant,
}

impl Settings {
    /// The embeddings of a model with initialisation `init`.
    pub fn embeddings_for(&self, init: Init) -> Embeddings {
        match (self.fixed_for, init) {
            (FixedFor::Constant, Init::TruncatedSigma | Init::TruncatedSqrt) => Embeddings::Random,
            _ => self.embeddings,
        }
    }
}

/// One unit: a model at a depth with a seed.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// Model name, e.g. `B12c`.
    pub model: String,
    pub class: Class,
    pub init: Init,
    /// Depth L.
    pub l: usize,
    /// Seed index.
    pub seed: u64,
    /// Keep the final rescaled weight path (for figures).
    pub keep_path: bool,
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    /// Rescaled 1-variation at t = 0.
    pub var0: f64,
    /// After T_L steps.
    pub var: f64,
    /// max_t max_k |W_k(t)|·L^β.
    pub max_w: f64,
    /// max_t max_k |W_{k+1}(t) − W_k(t)|·L^{1/γ+β}.
    pub max_dw: f64,
    /// Training loss J at t = 0 and after training; test loss after training (NaN without test points).
    pub loss0: f64,
    pub loss: f64,
    pub test_loss: f64,
    /// T_L and η.
    pub steps: usize,
    pub lr: f64,
    /// The embeddings used.
    pub u_in: f64,
    pub u_out: f64,
    /// The final rescaled path L^β W_k (only when asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<f64>>,
}

/// T_L = ⌈Q ln L⌉.
pub fn train_steps(q: f64, l: usize) -> usize {
    (q * (l as f64).ln()).ceil().max(0.0) as usize
}

/// A 64-bit seed from the master seed and a list of words (SplitMix64 over the words): independent streams per
/// (seed, depth, purpose), the same for any thread count and order of runs.
pub fn stream_seed(master: u64, words: &[u64]) -> u64 {
    let mut z = master ^ 0x9E37_79B9_7F4A_7C15;
    for &w in words {
        z = z.wrapping_add(w).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

const TAG_DATA: u64 = 1;
const TAG_EMBED: u64 = 2;
const TAG_INIT: u64 = 3;

/// One draw of N(0, 1) conditioned on |z| ≤ a, exactly, by rejection: from N(0, 1) when a ≥ 1 (acceptance
/// ≥ 68 %), else uniform on [−a, a] accepted with probability e^{−z²/2} (acceptance ≥ e^{−1/2}).
pub fn truncated_standard_normal(rng: &mut ChaCha8Rng, a: f64) -> f64 {
    loop {
        if a >= 1.0 {
            let z: f64 = rng.sample(StandardNormal);
            if z.abs() <= a {
                return z;
            }
        } else {
            let z = rng.gen_range(-a..=a);
            let u: f64 = rng.gen();
            if u <= (-0.5 * z * z).exp() {
                return z;
            }
        }
    }
}

/// The initial weights W_0 … W_{L−1} of a run (seeded by master seed, seed index, depth and reading: every
/// model of one γ shares the same standardised draws at a given (seed, L)).
pub fn initial_weights(class: &Class, init: Init, l: usize, master: u64, seed: u64) -> Vec<f64> {
    let m = class.m_l(l as f64);
    let tag = match init {
        Init::Constant => return vec![m; l],
        Init::TruncatedSigma => 0,
        Init::TruncatedSqrt => 1,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(master, &[TAG_INIT, seed, l as u64, tag]));
    match init {
        // σ = m_L, truncated at ±1σ.
        Init::TruncatedSigma => (0..l).map(|_| m * truncated_standard_normal(&mut rng, 1.0)).collect(),
        // σ = √m_L, truncated at ±m_L = ±√m_L·σ.
        _ => {
            let s = m.sqrt();
            (0..l).map(|_| s * truncated_standard_normal(&mut rng, s)).collect()
        }
    }
}

/// The embeddings of seed index `seed`.
pub fn embeddings(e: Embeddings, master: u64, seed: u64) -> (f64, f64) {
    match e {
        Embeddings::Fixed { u_in, u_out } => (u_in, u_out),
        Embeddings::Random => {
            let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(master, &[TAG_EMBED, seed]));
            (rng.gen_range(-1.0..=1.0), rng.gen_range(-1.0..=1.0))
        }
    }
}

/// The C10k points of seed index `seed`, split into (train, test) inputs.
pub fn data(s: &Settings, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let d = c10k(s.n, stream_seed(s.master_seed, &[TAG_DATA, seed]));
    let n_train = n_train(s.n, s.train_fraction);
    let (a, b) = d.x.split_at(n_train);
    (a.to_vec(), b.to_vec())
}

/// Training points ⌊fraction · n⌋ (at least 1).
pub fn n_train(n: usize, fraction: f64) -> usize {
    ((fraction * n as f64).floor() as usize).clamp(1, n)
}

/// The differentiable problem of one depth: resnet field, Euler with h = L^{−α} on K = L intervals of [0, L^β],
/// points U_in·x, readout P = (U_out), J = mean (ŷ − 0.01)².
pub fn setup(class: &Class, l: usize, x: &[f64], u_in: f64, u_out: f64) -> Setup {
    let n = x.len();
    let grid = TimeGrid {
        horizon: (l as f64).powf(class.beta()),
        intervals: l,
    };
    let data = Dataset {
        m: 1,
        x: x.iter().map(|v| u_in * v).collect(),
        labels: None,
        n_classes: 0,
        targets: Some((1, vec![0.01; n])),
    };
    let objective = Objective {
        loss: Loss::Squared,
        readout: Readout::Projection(DMatrix::from_element(1, 1, u_out)),
        terminal_weight: 1.0,
        running_weight: 0.0,
        regularizer: None,
        targets: Targets::Vectors {
            q: 1,
            data: vec![0.01; n],
        },
        running_targets: None,
        n,
        m: 1,
    };
    Setup {
        problem: Problem {
            field: Box::new(ResNetField::new(1, Activation::Tanh)),
            control: PiecewiseConstant::constant(grid, &[0.0]),
            solver: Solver::fixed(SchemeKind::Euler, 1),
            save: SaveAt::Final,
            data,
        },
        objective,
        rho: Vec::new(),
        checkpoint: Checkpoint::Auto,
    }
}

/// (max_k |W_k|·L^β, max_k |W_{k+1} − W_k|·L^{1/γ+β}).
fn invariants(w: &[f64], class: &Class, l: f64) -> (f64, f64) {
    let beta = class.beta();
    let mw = w.iter().fold(0.0f64, |a, v| a.max(v.abs())) * l.powf(beta);
    let md = w.windows(2).fold(0.0f64, |a, p| a.max((p[1] - p[0]).abs())) * l.powf(1.0 / class.gamma + beta);
    (mw, md)
}

/// The 1-variation of the rescaled path L^β W_k, k = 0 … L−1 (p = 1: the sum of the increments).
pub fn rescaled_variation(w: &[f64], beta: f64) -> f64 {
    let s = (w.len() as f64).powf(beta);
    let path: Vec<f64> = w.iter().map(|v| s * v).collect();
    pvar(&path, 1, 1.0).map(|p| p.value).unwrap_or(f64::NAN)
}

/// Train one model at one depth with one seed and measure it.
pub fn run(s: &Settings, r: &RunSpec) -> Result<RunResult> {
    let (train, test) = data(s, r.seed);
    let (u_in, u_out) = embeddings(s.embeddings_for(r.init), s.master_seed, r.seed);
    let l = r.l as f64;
    let mut w = initial_weights(&r.class, r.init, r.l, s.master_seed, r.seed);
    let var0 = rescaled_variation(&w, r.class.beta());
    let (mut max_w, mut max_dw) = invariants(&w, &r.class, l);
    let st = setup(&r.class, r.l, &train, u_in, u_out);
    let steps = train_steps(s.q, r.l);
    let lr = r.class.lr(l);
    let mut loss0 = f64::NAN;
    for t in 0..steps {
        let g = st.loss_grad(&w, &[]).map_err(|e| at(e, r, t))?;
        if t == 0 {
            loss0 = g.loss;
        }
        if let Some(k) = g.controls.iter().position(|v| !v.is_finite()) {
            return Err(Error::numerical(
                format!("{} at L = {}, seed {}: ∂J/∂W_{k} is not finite", r.model, r.l, r.seed),
                t as f64,
                t,
                None,
            ));
        }
        w.iter_mut().zip(&g.controls).for_each(|(wk, gk)| *wk -= lr * gk);
        let (a, b) = invariants(&w, &r.class, l);
        max_w = max_w.max(a);
        max_dw = max_dw.max(b);
    }
    let gp = st.grad_problem();
    let loss = gp.loss(&w, &[]).map_err(|e| at(e, r, steps))?;
    if steps == 0 {
        loss0 = loss;
    }
    let test_loss = if test.is_empty() {
        f64::NAN
    } else {
        setup(&r.class, r.l, &test, u_in, u_out)
            .grad_problem()
            .loss(&w, &[])
            .map_err(|e| at(e, r, steps))?
    };
    let var = rescaled_variation(&w, r.class.beta());
    let path = r.keep_path.then(|| {
        let sc = l.powf(r.class.beta());
        w.iter().map(|v| sc * v).collect()
    });
    Ok(RunResult {
        var0,
        var,
        max_w,
        max_dw,
        loss0,
        loss,
        test_loss,
        steps,
        lr,
        u_in,
        u_out,
        path,
    })
}

/// A numerical error of the engine, naming the run and the training step.
fn at(e: Error, r: &RunSpec, t: usize) -> Error {
    match e {
        Error::Numerical { .. } => Error::numerical(
            format!(
                "{} at L = {}, seed {}, gradient-descent step {t}: {e}",
                r.model, r.l, r.seed
            ),
            t as f64,
            t,
            None,
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::depth_limit::catalogue::class_named;

    #[test]
    fn truncated_draws_stay_in_range_and_have_the_truncated_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let n = 200_000;
        for a in [1.0, 0.05] {
            let z: Vec<f64> = (0..n).map(|_| truncated_standard_normal(&mut rng, a)).collect();
            assert!(z.iter().all(|v| v.abs() <= a));
            let var = z.iter().map(|v| v * v).sum::<f64>() / n as f64;
            // Var of N(0,1) | |z| ≤ a = 1 − 2aφ(a)/(2Φ(a) − 1): 0.29112 at a = 1; ≈ a²/3 for small a.
            let expected = if a == 1.0 {
                0.291125
            } else {
                a * a / 3.0 * (1.0 - a * a / 5.0)
            };
            assert!((var / expected - 1.0).abs() < 0.01, "a = {a}: {var} vs {expected}");
        }
    }

    #[test]
    fn the_forward_pass_is_the_thesis_resnet() {
        let c = class_named("B21").unwrap();
        let l = 16;
        let x = [0.3, -0.7, 1.0];
        let w: Vec<f64> = (0..l).map(|k| 0.1 * (k as f64).sin()).collect();
        let (u_in, u_out) = (0.95, 0.77);
        let st = setup(c, l, &x, u_in, u_out);
        let j = st.grad_problem().loss(&w, &[]).unwrap();
        let delta = (l as f64).powf(-c.alpha);
        let mut want = 0.0;
        for &xi in &x {
            let mut h = u_in * xi;
            for wk in &w {
                h += delta * (wk * h).tanh();
            }
            want += (u_out * h - 0.01).powi(2);
        }
        want /= x.len() as f64;
        assert!((j - want).abs() < 1e-14 * want.max(1.0), "{j} vs {want}");
    }
}
