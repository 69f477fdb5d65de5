//! Controls given as a path U : [0, T] → R^d rather than a rate (SPEC §2 "Drivers"; seed 004 §2.1.1).
//!
//! Every driver is held as a **piecewise-linear path** through knots (t_i, U_{t_i}), 0 = t_0 < … < t_n = T
//! ([`LinearPath`]): data as given (the scenario layer reads the CSV and hands the numbers over), smooth formulas
//! ([`Formula`]) and fractional Brownian motion ([`crate::control::fbm`]) sampled on a fine uniform grid. A
//! [`PathControl`] is that path seen on a coarser [`TimeGrid`] of K intervals: per interval [t_k, t_{k+1}] the
//! increment ΔU_k, the rate ΔU_k / h (the slope of the linear interpolation, for schemes that read rates) and the
//! **Lévy area** of the path over the interval, computed exactly from the knots inside it:
//!
//! ```text
//!   A^{jl}_{s,t} = ½ ∫_s^t (U^j_r − U^j_s) dU^l_r − (U^l_r − U^l_s) dU^j_r
//!               = ½ Σ_i [(p^j_i − p^j_0) δ^l_i − (p^l_i − p^l_0) δ^j_i],      δ_i = p_{i+1} − p_i,
//! ```
//!
//! where p_0 = U_s, p_1, … are the knots strictly inside (s, t) and the last point is U_t: on a linear piece
//! ∫ (U^j − U^j_s) dU^l = (p^j_i − p^j_0 + ½ δ^j_i) δ^l_i, and the ½ δ^j_i δ^l_i terms cancel in the antisymmetric
//! combination. This is the Riemann–Stieltjes limit of SPEC §2 for the path the knots define; for fBm with H > ½ it
//! converges to the area of the fBm path as the knots refine. A is antisymmetric and satisfies Chen's relation
//! A_{s,u} = A_{s,t} + A_{t,u} + ½ (ΔU^j_{s,t} ΔU^l_{t,u} − ΔU^l_{s,t} ΔU^j_{t,u}).

use super::fbm::{Fbm, FbmError, FbmSampler};
use super::{Control, PathIncrement, Regularity, TimeGrid};

/// Largest number of knots a path may have (the scenario layer bounds its inputs below this).
pub const MAX_KNOTS: usize = 1 << 24;

/// What is wrong with a path's definition.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PathError {
    /// A parameter or value is out of range (`field` names it: `times`, `values`, `steps`, `horizon`, …).
    #[error("path: `{field}` {msg}")]
    Invalid { field: &'static str, msg: String },
    /// The fBm sampler refused (bad parameters, or a circulant embedding with a negative eigenvalue).
    #[error(transparent)]
    Fbm(#[from] FbmError),
}

fn invalid<T>(field: &'static str, msg: impl Into<String>) -> Result<T, PathError> {
    Err(PathError::Invalid { field, msg: msg.into() })
}

/// One smooth component U^j(t) given by a formula (scenario `[[young.smooth.components]]`).
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Formula {
    /// amplitude · sin(2π frequency t + phase).
    Sin {
        #[serde(default = "one")]
        amplitude: f64,
        #[serde(default = "one")]
        frequency: f64,
        #[serde(default)]
        phase: f64,
    },
    /// amplitude · cos(2π frequency t + phase).
    Cos {
        #[serde(default = "one")]
        amplitude: f64,
        #[serde(default = "one")]
        frequency: f64,
        #[serde(default)]
        phase: f64,
    },
    /// Σ_k `coeffs[k]` t^k.
    Polynomial { coeffs: Vec<f64> },
}

fn one() -> f64 {
    1.0
}

impl Formula {
    /// U(t).
    pub fn eval(&self, t: f64) -> f64 {
        use std::f64::consts::TAU;
        match self {
            Formula::Sin {
                amplitude,
                frequency,
                phase,
            } => amplitude * (TAU * frequency * t + phase).sin(),
            Formula::Cos {
                amplitude,
                frequency,
                phase,
            } => amplitude * (TAU * frequency * t + phase).cos(),
            Formula::Polynomial { coeffs } => coeffs.iter().rev().fold(0.0, |acc, c| acc * t + c),
        }
    }

    /// Every parameter finite.
    pub fn validate(&self) -> Result<(), String> {
        let ok = match self {
            Formula::Sin {
                amplitude,
                frequency,
                phase,
            }
            | Formula::Cos {
                amplitude,
                frequency,
                phase,
            } => [amplitude, frequency, phase].iter().all(|v| v.is_finite()),
            Formula::Polynomial { coeffs } => !coeffs.is_empty() && coeffs.iter().all(|c| c.is_finite()),
        };
        if ok {
            Ok(())
        } else {
            Err("every parameter must be a finite number (a polynomial needs at least one coefficient)".into())
        }
    }
}

/// The uniform times t_k = k T / n, k = 0..n (t_n = T exactly), computed as [`TimeGrid::t`] does so that a grid
/// whose interval count divides n hits the knots bit for bit.
fn uniform_times(horizon: f64, n: usize) -> Vec<f64> {
    let g = TimeGrid { horizon, intervals: n };
    (0..=n).map(|k| g.t(k)).collect()
}

/// A piecewise-linear path through knots (t_i, U_{t_i}) ∈ [0, T] × R^d (module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct LinearPath {
    d: usize,
    times: Vec<f64>,
    /// (n + 1) × d, row-major (knot-major).
    values: Vec<f64>,
}

impl LinearPath {
    /// From knot times (t_0 = 0, strictly increasing, finite) and values ((n + 1) × d row-major, finite).
    pub fn new(d: usize, times: Vec<f64>, values: Vec<f64>) -> Result<Self, PathError> {
        if d == 0 {
            return invalid("values", "a path needs at least one component");
        }
        if times.len() < 2 || times.len() > MAX_KNOTS {
            return invalid(
                "times",
                format!("a path needs between 2 and {MAX_KNOTS} knots, found {}", times.len()),
            );
        }
        if times[0] != 0.0 {
            return invalid("times", format!("the first time must be 0, found {}", times[0]));
        }
        if let Some(i) = (1..times.len()).find(|&i| !(times[i].is_finite() && times[i] > times[i - 1])) {
            return invalid(
                "times",
                format!(
                    "times must be finite and strictly increasing: t[{i}] = {} after t[{}] = {}",
                    times[i],
                    i - 1,
                    times[i - 1]
                ),
            );
        }
        if values.len() != times.len() * d {
            return invalid(
                "values",
                format!("expected {} × {d} values, found {}", times.len(), values.len()),
            );
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return invalid("values", format!("value {} of knot {} is not finite", i % d, i / d));
        }
        Ok(Self { d, times, values })
    }

    /// Knots at the uniform times k T / n, values (n + 1) × d row-major.
    pub fn uniform(horizon: f64, d: usize, values: Vec<f64>) -> Result<Self, PathError> {
        if !(horizon.is_finite() && horizon > 0.0) {
            return invalid("horizon", format!("must be finite and > 0, found {horizon}"));
        }
        let n = (values.len() / d.max(1)).saturating_sub(1);
        Self::new(d, uniform_times(horizon, n.max(1)), values)
    }

    /// d independent fBm components B^H at the n + 1 points of `fbm`, from one seeded stream (component c depends
    /// only on (seed, c), [`crate::control::fbm`]). Fails with [`FbmError::NegativeEigenvalue`] where the
    /// circulant embedding is not non-negative definite.
    pub fn fbm(fbm: &Fbm, d: usize, seed: u64) -> Result<Self, PathError> {
        let sampler = FbmSampler::new(fbm)?;
        Self::fbm_with(&sampler, d, seed)
    }

    /// [`LinearPath::fbm`] with a sampler built once (many paths of the same process).
    pub fn fbm_with(sampler: &FbmSampler, d: usize, seed: u64) -> Result<Self, PathError> {
        let f = *sampler.fbm();
        let points = f.steps + 1;
        let mut comp = vec![0.0; d * points];
        let mut ws = sampler.workspace();
        sampler.sample_into(seed, &mut ws, &mut comp)?;
        let mut values = vec![0.0; d * points];
        for (c, path) in comp.chunks_exact(points).enumerate() {
            for (k, v) in path.iter().enumerate() {
                values[k * d + c] = *v;
            }
        }
        Self::new(d, uniform_times(f.horizon, f.steps), values)
    }

    /// The formulas (one per component) sampled at the `steps` + 1 uniform times of [0, T].
    pub fn from_formulas(horizon: f64, steps: usize, formulas: &[Formula]) -> Result<Self, PathError> {
        if steps == 0 || steps >= MAX_KNOTS {
            return invalid(
                "steps",
                format!("must be between 1 and {}, found {steps}", MAX_KNOTS - 1),
            );
        }
        if !(horizon.is_finite() && horizon > 0.0) {
            return invalid("horizon", format!("must be finite and > 0, found {horizon}"));
        }
        let times = uniform_times(horizon, steps);
        let values = times
            .iter()
            .flat_map(|&t| formulas.iter().map(move |f| f.eval(t)))
            .collect();
        Self::new(formulas.len(), times, values)
    }

    /// Number of components d.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// Horizon T = t_n.
    pub fn horizon(&self) -> f64 {
        *self.times.last().expect("at least two knots")
    }
    /// Knot times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }
    /// Knot values, (n + 1) × d row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// Value at knot i.
    pub fn knot(&self, i: usize) -> &[f64] {
        &self.values[i * self.d..(i + 1) * self.d]
    }

    /// The segment [t_i, t_{i+1}] holding t (the last one for t ≥ T, the first for t ≤ 0).
    fn segment(&self, t: f64) -> usize {
        let n = self.times.len() - 1;
        self.times.partition_point(|&ti| ti <= t).saturating_sub(1).min(n - 1)
    }

    /// U_t by linear interpolation (exactly the knot value at a knot time; clamped to [0, T]).
    pub fn value_at(&self, t: f64, out: &mut [f64]) {
        let i = self.segment(t);
        let (t0, t1) = (self.times[i], self.times[i + 1]);
        if t <= t0 {
            out.copy_from_slice(self.knot(i));
        } else if t >= t1 {
            out.copy_from_slice(self.knot(i + 1));
        } else {
            let w = (t - t0) / (t1 - t0);
            let (a, b) = (self.knot(i), self.knot(i + 1));
            for ((o, a), b) in out.iter_mut().zip(a).zip(b) {
                *o = a + w * (b - a);
            }
        }
    }

    /// ΔU = U_t − U_s (`du`, d numbers) and the Lévy area A_{s,t} (`area`, d × d row-major) of the path over
    /// [s, t] (module docs), for 0 ≤ s ≤ t ≤ T. `scratch` holds 2d numbers.
    pub fn increment_and_area(&self, s: f64, t: f64, du: &mut [f64], area: &mut [f64], scratch: &mut [f64]) {
        let d = self.d;
        let (p0, cur) = scratch.split_at_mut(d);
        let cur = &mut cur[..d];
        self.value_at(s, p0);
        area.fill(0.0);
        // `du` holds the running offset p_i − p_0; `cur` the next point.
        du.fill(0.0);
        let add = |du: &mut [f64], next: &[f64], area: &mut [f64]| {
            for j in 0..d {
                for l in (j + 1)..d {
                    let dj = next[j] - p0[j] - du[j];
                    let dl = next[l] - p0[l] - du[l];
                    area[j * d + l] += 0.5 * (du[j] * dl - du[l] * dj);
                }
            }
            for j in 0..d {
                du[j] = next[j] - p0[j];
            }
        };
        let mut i = self.segment(s) + 1;
        while i < self.times.len() && self.times[i] < t {
            if self.times[i] > s {
                add(du, self.knot(i), area);
            }
            i += 1;
        }
        self.value_at(t, cur);
        add(du, cur, area);
        for j in 0..d {
            for l in (j + 1)..d {
                area[l * d + j] = -area[j * d + l];
            }
        }
    }
}

/// A path seen on a grid of K equal intervals of [0, T]: per interval its increment, rate and Lévy area (module
/// docs). Implements [`Control`], so it drives the same fields and schemes as a rate control; the Young schemes
/// read [`Control::path_increment`].
#[derive(Clone, Debug, PartialEq)]
pub struct PathControl {
    grid: TimeGrid,
    d: usize,
    regularity: Regularity,
    /// K × d rates ΔU_k / h.
    rates: Vec<f64>,
    /// K × d increments.
    du: Vec<f64>,
    /// K × d × d areas.
    area: Vec<f64>,
}

impl PathControl {
    /// `path` on `intervals` equal intervals of [0, T] (T = the path's horizon), with the regularity its
    /// generator guarantees (fBm with Hurst H: [`Regularity::Holder`]`(H)`; formulas: [`Regularity::Smooth`]).
    ///
    /// # Panics
    /// If `intervals` is 0 (callers validate input first).
    pub fn on_grid(path: &LinearPath, intervals: usize, regularity: Regularity) -> Self {
        assert!(intervals > 0, "a grid needs at least one interval");
        let d = path.dim();
        let grid = TimeGrid {
            horizon: path.horizon(),
            intervals,
        };
        let h = grid.h();
        let mut du = vec![0.0; intervals * d];
        let mut area = vec![0.0; intervals * d * d];
        let mut scratch = vec![0.0; 2 * d];
        for (k, (dk, ak)) in du.chunks_exact_mut(d).zip(area.chunks_exact_mut(d * d)).enumerate() {
            path.increment_and_area(grid.t(k), grid.t(k + 1), dk, ak, &mut scratch);
        }
        let rates = du.iter().map(|v| v / h).collect();
        Self {
            grid,
            d,
            regularity,
            rates,
            du,
            area,
        }
    }

    /// ΔU_k.
    pub fn du(&self, k: usize) -> &[f64] {
        &self.du[k * self.d..(k + 1) * self.d]
    }

    /// A_k, d × d row-major.
    pub fn area(&self, k: usize) -> &[f64] {
        &self.area[k * self.d * self.d..(k + 1) * self.d * self.d]
    }
}

impl Control for PathControl {
    fn dim(&self) -> usize {
        self.d
    }
    fn grid(&self) -> TimeGrid {
        self.grid
    }
    fn value(&self, k: usize) -> &[f64] {
        &self.rates[k * self.d..(k + 1) * self.d]
    }
    fn increment(&self, k: usize, out: &mut [f64]) {
        out.copy_from_slice(self.du(k));
    }
    fn path_increment(&self, k: usize) -> Option<PathIncrement<'_>> {
        Some(PathIncrement {
            du: self.du(k),
            area: Some(self.area(k)),
        })
    }
    fn regularity(&self) -> Regularity {
        self.regularity
    }
}
