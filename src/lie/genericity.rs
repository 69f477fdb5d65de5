//! Genericity of the N-point rank condition (SPEC §5 item 10): d ≥ 5 random polynomial fields of degree ≤ k ≥ 2,
//! or d = 7 random features σ_i(C_i x + b_i) with polynomial σ_i (linear for i = 1..3, quadratic for
//! i = 4..7), reach full rank mN with probability one. Each draw (fields and N points uniform in [−1, 1]^m) is
//! seeded from (seed, draw index) alone, so results do not depend on the number of rayon threads. Full rank is
//! decided by the exact rank over Z_p at the drawn points (float points and Gaussian coefficients are exact
//! dyadic rationals). The empirical probability comes with a Wilson 95 % interval.

use super::jet::FeatureField;
use super::poly::{monomials, PolyField, Rational};
use super::rank::{analyze_span_generators, float_generators, rational_generators, RankConfig};
use crate::field::Activation;
use crate::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which random fields to draw.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RandomFamily {
    /// d polynomial fields of degree ≤ `degree`; integer coefficients uniform in [−range, range] when
    /// `range` is Some, standard Gaussian coefficients otherwise.
    Polynomial { d: usize, degree: u32, range: Option<i64> },
    /// d = 7 random features with polynomial σ (linear for i = 1..3, quadratic for 4..7), Gaussian C, b and
    /// σ coefficients.
    Features7,
}

/// Options of a genericity experiment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenericityConfig {
    pub m: usize,
    pub n_points: usize,
    pub draws: usize,
    pub max_depth: usize,
    pub seed: u64,
    pub family: RandomFamily,
}

/// Outcome of a genericity experiment.
#[derive(Clone, Debug, Serialize)]
pub struct GenericityReport {
    pub draws: usize,
    pub successes: usize,
    pub probability: f64,
    pub wilson_low: f64,
    pub wilson_high: f64,
    /// Depth needed for full rank → number of draws.
    pub depth_histogram: BTreeMap<usize, usize>,
    /// Draw indices that did not reach full rank within max_depth.
    pub failed_draws: Vec<usize>,
}

/// Wilson score interval at 95 % for `s` successes in `n` trials.
pub fn wilson95(s: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (nf, p) = (n as f64, s as f64 / n as f64);
    let denom = 1.0 + z * z / nf;
    let center = (p + z * z / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / denom;
    // At s = 0 or s = n the exact bound is p itself (0 or 1); rounding may land a hair inside it.
    let lo = if s == 0 { 0.0 } else { (center - half).max(0.0) };
    let hi = if s == n { 1.0 } else { (center + half).min(1.0) };
    (lo, hi)
}

fn draw_seed(seed: u64, i: usize) -> u64 {
    // splitmix64 of (seed, i)
    let mut z = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// The seven random features of SPEC §5 item 10.
pub fn random_features7(m: usize, rng: &mut ChaCha8Rng) -> Vec<FeatureField> {
    (0..7)
        .map(|i| {
            let deg = if i < 3 { 1 } else { 2 };
            FeatureField {
                c: (0..m).map(|_| (0..m).map(|_| gauss(rng)).collect()).collect(),
                b: (0..m).map(|_| gauss(rng)).collect(),
                sigma: Activation::Polynomial {
                    coeffs: (0..=deg).map(|_| gauss(rng)).collect(),
                },
            }
        })
        .collect()
}

/// One draw: Some(depth of full rank) or None.
fn one_draw(cfg: &GenericityConfig, i: usize) -> Result<Option<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(draw_seed(cfg.seed, i));
    let m = cfg.m;
    let gens = match &cfg.family {
        RandomFamily::Polynomial { d, degree, range } => {
            let mons = monomials(m, *degree);
            match range {
                Some(r) => {
                    let fs: Vec<PolyField<Rational>> = (0..*d)
                        .map(|_| {
                            let mut f = PolyField::zero(m);
                            for c in 0..m {
                                for e in &mons {
                                    f.add_term(c, e.clone(), Rational::integer(rng.gen_range(-*r..=*r) as i128));
                                }
                            }
                            f
                        })
                        .collect();
                    rational_generators(&fs)?
                }
                None => {
                    let fs: Vec<PolyField<f64>> = (0..*d)
                        .map(|_| {
                            let mut f = PolyField::zero(m);
                            for c in 0..m {
                                for e in &mons {
                                    f.add_term(c, e.clone(), gauss(&mut rng));
                                }
                            }
                            f
                        })
                        .collect();
                    float_generators(&fs)?
                }
            }
        }
        RandomFamily::Features7 => {
            let fs: Vec<PolyField<f64>> = random_features7(m, &mut rng)
                .iter()
                .map(|f| f.to_poly().expect("polynomial σ"))
                .collect();
            float_generators(&fs)?
        }
    };
    let points: Vec<Vec<f64>> = (0..cfg.n_points)
        .map(|_| (0..m).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect();
    let rc = RankConfig {
        max_depth: cfg.max_depth,
        exact_generic: false,
        exact_at_points: true,
        keep_rational: false,
        seed: draw_seed(cfg.seed ^ 0xABCD, i),
        ..RankConfig::default()
    };
    let rep = analyze_span_generators(gens, &points, &rc)?;
    Ok(rep.full_rank_depth)
}

/// Runs the draws in parallel (deterministic: each draw has its own seed).
pub fn genericity(cfg: &GenericityConfig) -> Result<GenericityReport> {
    Ok(report(&draws(cfg, 0..cfg.draws)?))
}

/// The depth at which each draw of `range` reaches full rank (`None`: not by `max_depth`), in parallel over the
/// draws; draw i depends on (seed, i) only, so any split of the draws into ranges gives the same values.
pub fn draws(cfg: &GenericityConfig, range: std::ops::Range<usize>) -> Result<Vec<Option<usize>>> {
    range.into_par_iter().map(|i| one_draw(cfg, i)).collect()
}

/// The report of the draws `res` (draw i at index i).
pub fn report(res: &[Option<usize>]) -> GenericityReport {
    let n = res.len();
    let mut hist = BTreeMap::new();
    let mut failed = Vec::new();
    for (i, r) in res.iter().enumerate() {
        match r {
            Some(k) => *hist.entry(*k).or_insert(0) += 1,
            None => failed.push(i),
        }
    }
    let s = n - failed.len();
    let (lo, hi) = wilson95(s, n);
    GenericityReport {
        draws: n,
        successes: s,
        probability: if n > 0 { s as f64 / n as f64 } else { 0.0 },
        wilson_low: lo,
        wilson_high: hi,
        depth_histogram: hist,
        failed_draws: failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval() {
        let (lo, hi) = wilson95(50, 100);
        assert!((lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3);
        let (lo, hi) = wilson95(200, 200);
        assert!(lo > 0.98 && hi == 1.0);
    }
}
