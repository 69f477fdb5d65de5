//! Fractional Brownian motion sampled exactly by circulant embedding (Davies–Harte), SPEC §2 "Drivers".
//!
//! B^H is the centred Gaussian process with B^H_0 = 0 and
//!
//! ```text
//!     E[B^H_s B^H_t] = ½ (s^{2H} + t^{2H} − |t − s|^{2H}),        H ∈ (0, 1).
//! ```
//!
//! On the grid t_k = k h, h = T/n, the increments X_k = B^H_{t_{k+1}} − B^H_{t_k} (fractional Gaussian noise) are
//! stationary with E[X_k X_{k+l}] = h^{2H} γ(l), where
//!
//! ```text
//!     γ(l) = ½ (|l+1|^{2H} − 2|l|^{2H} + |l−1|^{2H}).
//! ```
//!
//! **Embedding.** c_k = γ(min(k, m − k)), k = 0..m−1, m = 2n, is the first row of a symmetric circulant matrix C whose
//! leading n × n block is the Toeplitz covariance of (X_0, …, X_{n−1}). C = F Λ F*/m with the eigenvalues
//!
//! ```text
//!     λ_j = Σ_k c_k e^{−2πi jk/m}       (real: c_k = c_{m−k}),
//! ```
//!
//! non-negative for every H ∈ (0, 1) with this minimal embedding (for H ≥ ½ because γ is then decreasing and convex,
//! Dietrich & Newsam 1997; for H < ½ because γ(l) ≤ 0 for l ≥ 1, Craigmile 2003). The sampler checks that anyway: an eigenvalue below −τ, τ = 10⁻¹² m max_k |c_k|, is an error
//! ([`FbmError::NegativeEigenvalue`]) naming its index and value. Eigenvalues in [−τ, 0) are FFT rounding and are
//! used as 0; that changes every implied covariance entry by at most τ/m = 10⁻¹² γ(0).
//!
//! **Sampling** (Davies & Harte 1987; Wood & Chan 1994). With ξ_j = a_j + i b_j, a_j, b_j i.i.d. N(0, 1),
//!
//! ```text
//!     Y_k = h^H Σ_j √(λ_j/m) ξ_j e^{−2πi jk/m}            (one forward FFT of length m).
//! ```
//!
//! Cov(Re Y_k, Re Y_l) = Cov(Im Y_k, Im Y_l) = (h^{2H}/m) Σ_j λ_j cos(2πj(k−l)/m) = h^{2H} c_{k−l}, and
//! Cov(Re Y_k, Im Y_l) = (h^{2H}/m) Σ_j λ_j sin(2πj(l−k)/m) = 0 because λ_j = λ_{m−j}. So one FFT gives two
//! independent exact fGn sequences X_k = Re Y_k and Im Y_k, k < n, and B^H_{t_k} = Σ_{i<k} X_i (B^H_{t_0} = 0).
//! [`FbmSampler::map_pair_into`] is this linear map from the 2m normals to the two paths; the tests push unit
//! vectors through it and recover ½(s^{2H} + t^{2H} − |t−s|^{2H}) to 10⁻¹².
//!
//! **Seeding.** One `ChaCha8Rng::seed_from_u64(seed)` stream; component pair q (components 2q and 2q + 1) consumes
//! the normals a_0, b_0, a_1, b_1, …, a_{m−1}, b_{m−1} (`rand_distr::StandardNormal`) after pairs 0..q. Component c
//! therefore depends only on (seed, c), not on how many components are drawn, and never on the thread count. The FFT
//! is planned with `rustfft::FftPlannerScalar`, so no run-time SIMD dispatch changes the rounding between CPUs; the
//! remaining platform dependence is the libm behind `powf`, `sin`/`cos` (twiddles) and `ln`/`exp` (normals), as
//! everywhere else in the crate.
//!
//! **Accuracy of γ.** For l ≥ 8 the second difference is evaluated without cancellation from the binomial series
//! γ(l) = l^{2H} Σ_{j≥1} C(2H, 2j) l^{−2j} (all terms of one sign for 2H ∈ (0, 2)), so the relative error of γ(l) is
//! a few ulps at every lag, instead of ε·l² for the three-term formula.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlannerScalar};

/// Largest number of steps n accepted. The sampler holds m = 2n eigenvalues (16n bytes) and a workspace of m complex
/// values (32n bytes plus FFT scratch): about 0.8 GiB at this bound.
pub const MAX_STEPS: usize = 1 << 24;

/// Fractional Brownian motion B^H on [0, T] observed at t_k = k T / n, k = 0..n.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Fbm {
    /// Hurst index H ∈ (0, 1) (H = ½: Brownian motion).
    pub hurst: f64,
    /// Horizon T > 0.
    pub horizon: f64,
    /// Number of steps n, 1 ≤ n ≤ [`MAX_STEPS`].
    pub steps: usize,
}

/// What went wrong building or using a sampler.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FbmError {
    /// A parameter is out of range (`field` is `hurst`, `horizon` or `steps`).
    #[error("fbm: `{field}` {msg}")]
    Invalid { field: &'static str, msg: String },
    /// The circulant embedding has an eigenvalue below −tolerance, so it is not a covariance and sampling would not
    /// be exact.
    #[error(
        "fbm: circulant embedding (m = {m}) is not non-negative definite: eigenvalue λ_{index} = {value:e} is below \
         the rounding tolerance −{tolerance:e}; refusing to sample (the result would not have the target covariance)"
    )]
    NegativeEigenvalue {
        index: usize,
        value: f64,
        tolerance: f64,
        m: usize,
    },
    /// An output buffer whose length is not a multiple of the number of points n + 1.
    #[error("fbm: output buffer has {len} values, not a multiple of steps + 1 = {points}")]
    Layout { len: usize, points: usize },
}

impl Fbm {
    /// Check H ∈ (0, 1), finite T > 0 and 1 ≤ n ≤ [`MAX_STEPS`].
    pub fn validate(&self) -> Result<(), FbmError> {
        let bad = |field, msg: String| Err(FbmError::Invalid { field, msg });
        if !(self.hurst.is_finite() && self.hurst > 0.0 && self.hurst < 1.0) {
            return bad(
                "hurst",
                format!("must lie strictly between 0 and 1, found {}", self.hurst),
            );
        }
        if !(self.horizon.is_finite() && self.horizon > 0.0) {
            return bad("horizon", format!("must be finite and > 0, found {}", self.horizon));
        }
        if self.steps == 0 || self.steps > MAX_STEPS {
            return bad(
                "steps",
                format!("must be between 1 and {MAX_STEPS}, found {}", self.steps),
            );
        }
        Ok(())
    }

    /// Step h = T / n.
    pub fn h(&self) -> f64 {
        self.horizon / self.steps as f64
    }

    /// t_k = k T / n (t_n = T exactly).
    pub fn time(&self, k: usize) -> f64 {
        if k == self.steps {
            self.horizon
        } else {
            self.horizon * k as f64 / self.steps as f64
        }
    }

    /// Exact covariance E[B^H_s B^H_t] = ½ (s^{2H} + t^{2H} − |t − s|^{2H}) for s, t ≥ 0.
    pub fn covariance(&self, s: f64, t: f64) -> f64 {
        let a = 2.0 * self.hurst;
        0.5 * (s.powf(a) + t.powf(a) - (t - s).abs().powf(a))
    }
}

/// fGn autocovariance γ(l) = ½ (|l+1|^{2H} − 2|l|^{2H} + |l−1|^{2H}) at unit step (module docs: series for l ≥ 8).
pub fn fgn_autocovariance(hurst: f64, l: usize) -> f64 {
    let a = 2.0 * hurst;
    if l < 8 {
        let f = |k: f64| k.powf(a);
        let lf = l as f64;
        return 0.5 * (f(lf + 1.0) - 2.0 * f(lf) + f((lf - 1.0).abs()));
    }
    // ½[(1+x)^a + (1−x)^a − 2] = Σ_{j≥1} C(a, 2j) x^{2j}, x = 1/l ≤ 1/8; successive terms shrink by < x².
    let x2 = 1.0 / (l as f64 * l as f64);
    let mut coef = a * (a - 1.0) / 2.0; // C(a, 2)
    let mut pow = x2;
    let mut sum = 0.0;
    for j in 1..64usize {
        let term = coef * pow;
        sum += term;
        if term.abs() <= 0.25 * f64::EPSILON * sum.abs() {
            break;
        }
        let k = 2.0 * j as f64;
        coef *= (a - k) * (a - k - 1.0) / ((k + 1.0) * (k + 2.0));
        pow *= x2;
    }
    (l as f64).powf(a) * sum
}

/// Davies–Harte sampler for one [`Fbm`]: the scaled square roots of the circulant eigenvalues and the FFT plan,
/// computed once (module docs).
pub struct FbmSampler {
    fbm: Fbm,
    /// Embedding length m = 2n.
    m: usize,
    /// h^H √(max(λ_j, 0)/m), j = 0..m.
    scale: Vec<f64>,
    /// (j, λ_j) of the smallest eigenvalue, before clamping.
    min_eigenvalue: (usize, f64),
    fft: Arc<dyn Fft<f64>>,
}

/// Reusable buffers for [`FbmSampler::sample_into`] and [`FbmSampler::map_pair_into`] (no allocation per path).
pub struct FbmWorkspace {
    buf: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for FbmSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FbmSampler")
            .field("fbm", &self.fbm)
            .field("m", &self.m)
            .field("min_eigenvalue", &self.min_eigenvalue)
            .finish_non_exhaustive()
    }
}

impl FbmSampler {
    /// Validate `fbm`, compute the eigenvalues of its circulant embedding and check them (module docs).
    pub fn new(fbm: &Fbm) -> Result<Self, FbmError> {
        fbm.validate()?;
        let gamma: Vec<f64> = (0..=fbm.steps).map(|l| fgn_autocovariance(fbm.hurst, l)).collect();
        Self::from_autocovariance(*fbm, &gamma)
    }

    /// Circulant embedding of an arbitrary unit-step autocovariance γ(0..=n) (scaled by h^{2H} of `fbm`). Private:
    /// exists so the eigenvalue check can be tested on a sequence whose embedding is not non-negative definite.
    fn from_autocovariance(fbm: Fbm, gamma: &[f64]) -> Result<Self, FbmError> {
        let n = fbm.steps;
        debug_assert_eq!(gamma.len(), n + 1);
        let m = n.checked_mul(2).ok_or_else(|| FbmError::Invalid {
            field: "steps",
            msg: format!("2 × {n} overflows"),
        })?;
        let fft = FftPlannerScalar::new().plan_fft_forward(m);
        let mut buf: Vec<Complex<f64>> = (0..m).map(|k| Complex::new(gamma[k.min(m - k)], 0.0)).collect();
        let cmax = gamma.iter().fold(0.0f64, |a, g| a.max(g.abs()));
        let mut scratch = vec![Complex::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        fft.process_with_scratch(&mut buf, &mut scratch);
        let tolerance = 1e-12 * m as f64 * cmax;
        let mut min_eigenvalue = (0, f64::INFINITY);
        for (j, z) in buf.iter().enumerate() {
            if z.re < min_eigenvalue.1 || z.re.is_nan() {
                min_eigenvalue = (j, z.re);
            }
        }
        let (index, value) = min_eigenvalue;
        if value.is_nan() || value < -tolerance {
            return Err(FbmError::NegativeEigenvalue {
                index,
                value,
                tolerance,
                m,
            });
        }
        let hh = fbm.h().powf(fbm.hurst);
        let scale = buf.iter().map(|z| hh * (z.re.max(0.0) / m as f64).sqrt()).collect();
        Ok(FbmSampler {
            fbm,
            m,
            scale,
            min_eigenvalue,
            fft,
        })
    }

    /// The process being sampled.
    pub fn fbm(&self) -> &Fbm {
        &self.fbm
    }

    /// Embedding length m = 2n.
    pub fn embedding_len(&self) -> usize {
        self.m
    }

    /// (j, λ_j) of the smallest circulant eigenvalue as computed, before rounding negatives to 0.
    pub fn min_eigenvalue(&self) -> (usize, f64) {
        self.min_eigenvalue
    }

    /// Standard normals consumed per pair of components: 2m.
    pub fn normals_per_pair(&self) -> usize {
        2 * self.m
    }

    /// Buffers for the allocation-free entry points.
    pub fn workspace(&self) -> FbmWorkspace {
        FbmWorkspace {
            buf: vec![Complex::new(0.0, 0.0); self.m],
            scratch: vec![Complex::new(0.0, 0.0); self.fft.get_inplace_scratch_len()],
        }
    }

    /// The exact linear map of the sampler: `normals` = (a_0, b_0, …, a_{m−1}, b_{m−1}) ↦ the two paths
    /// `re` = (B_{t_0}, …, B_{t_n}) from Re Y and `im` from Im Y (module docs). [`Self::sample_into`] applies exactly
    /// this arithmetic to normals drawn from the seeded stream.
    ///
    /// # Panics
    /// If `normals.len() != 2m` or `re`/`im` do not have n + 1 values (programming errors).
    pub fn map_pair_into(&self, normals: &[f64], ws: &mut FbmWorkspace, re: &mut [f64], im: &mut [f64]) {
        assert_eq!(normals.len(), 2 * self.m, "map_pair_into: need 2m normals");
        for ((z, s), ab) in ws.buf.iter_mut().zip(&self.scale).zip(normals.chunks_exact(2)) {
            *z = Complex::new(s * ab[0], s * ab[1]);
        }
        self.transform(ws, re, Some(im));
    }

    /// FFT of `ws.buf` in place, then the cumulative sums of its first n real (and imaginary) parts.
    fn transform(&self, ws: &mut FbmWorkspace, re: &mut [f64], im: Option<&mut [f64]>) {
        let n = self.fbm.steps;
        assert_eq!(re.len(), n + 1, "fbm: a path has steps + 1 values");
        self.fft.process_with_scratch(&mut ws.buf, &mut ws.scratch);
        re[0] = 0.0;
        for k in 0..n {
            re[k + 1] = re[k] + ws.buf[k].re;
        }
        if let Some(im) = im {
            assert_eq!(im.len(), n + 1, "fbm: a path has steps + 1 values");
            im[0] = 0.0;
            for k in 0..n {
                im[k + 1] = im[k] + ws.buf[k].im;
            }
        }
    }

    /// Fill `out` with independent paths, component-major: component c is `out[c(n+1) .. (c+1)(n+1)]`, value k at
    /// t_k = kT/n, starting at 0. The number of components is `out.len() / (n + 1)`. Deterministic in `seed` (module
    /// docs); no allocation.
    pub fn sample_into(&self, seed: u64, ws: &mut FbmWorkspace, out: &mut [f64]) -> Result<(), FbmError> {
        let points = self.fbm.steps + 1;
        if !out.len().is_multiple_of(points) {
            return Err(FbmError::Layout { len: out.len(), points });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pairs = out.chunks_mut(2 * points);
        for pair in pairs.by_ref() {
            for (z, s) in ws.buf.iter_mut().zip(&self.scale) {
                let a: f64 = rng.sample(StandardNormal);
                let b: f64 = rng.sample(StandardNormal);
                *z = Complex::new(s * a, s * b);
            }
            let (re, im) = pair.split_at_mut(points);
            self.transform(ws, re, (!im.is_empty()).then_some(im));
        }
        Ok(())
    }

    /// `components` independent paths B^H_{t_0..t_n} (allocating wrapper of [`Self::sample_into`]).
    ///
    /// # Panics
    /// If components × (n + 1) overflows `usize`.
    pub fn sample(&self, seed: u64, components: usize) -> Vec<Vec<f64>> {
        let points = self.fbm.steps + 1;
        let len = components
            .checked_mul(points)
            .expect("fbm: components × (steps + 1) overflows usize");
        let mut flat = vec![0.0; len];
        let mut ws = self.workspace();
        self.sample_into(seed, &mut ws, &mut flat)
            .expect("the buffer is a multiple of n + 1 by construction");
        flat.chunks_exact(points).map(<[f64]>::to_vec).collect()
    }
}

#[cfg(test)]
#[path = "fbm_tests.rs"]
mod tests;
