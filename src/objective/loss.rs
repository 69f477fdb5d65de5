//! Per-point losses on a readout z ∈ R^q (SPEC §3), with their exact gradients ∂loss/∂z:
//! - squared error |z − y|², gradient 2(z − y);
//! - softmax cross-entropy −log softmax(z)_c for the class c, gradient softmax(z) − e_c (log-sum-exp stabilised);
//! - logistic log(1 + exp(−y·z)) for y ∈ {−1, +1}, q = 1, gradient −y·σ(−y·z) (001 prints log(1+e^{x·y}): a sign
//!   typo, corrected in SPEC §3);
//! - smoothed ℓ¹ Σ_j √(r_j² + δ²) − δ with r = z − y, gradient r_j / √(r_j² + δ²): a loss with a corner at 0 (as
//!   δ → 0), for which the L¹-regularised turnpike problem reaches Φ = 0 after the switching time (SPEC §4 item 4).
//!   In a scenario: `loss = { smooth_l1 = { delta = 1e-3 } }`.

use serde::Deserialize;

/// Which loss compares the readout with the target.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// |z − y|² (summed over components; the objective averages over points).
    Squared,
    /// Softmax cross-entropy against a class label.
    CrossEntropy,
    /// Binary logistic loss against a ±1 label.
    Logistic,
    /// Smoothed ℓ¹ Σ_j √((z_j − y_j)² + δ²) − δ against a vector target (δ > 0).
    SmoothL1 { delta: f64 },
}

/// The target of one point: a vector (squared error) or a class index (cross-entropy, logistic: class 1 ↦ +1,
/// class 0 ↦ −1).
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Regression target y ∈ R^q.
    Vector(&'a [f64]),
    /// Class index.
    Class(usize),
}

impl Loss {
    /// loss(z, target), writing ∂loss/∂z into `g`.
    pub fn eval_grad(self, z: &[f64], target: Target, g: &mut [f64]) -> f64 {
        match (self, target) {
            (Loss::Squared, Target::Vector(y)) => {
                let mut s = 0.0;
                for ((gi, zi), yi) in g.iter_mut().zip(z).zip(y) {
                    let r = zi - yi;
                    s += r * r;
                    *gi = 2.0 * r;
                }
                s
            }
            (Loss::SmoothL1 { delta }, Target::Vector(y)) => {
                let mut s = 0.0;
                for ((gi, zi), yi) in g.iter_mut().zip(z).zip(y) {
                    let r = zi - yi;
                    let root = r.hypot(delta);
                    // √(r² + δ²) − δ = r² / (√(r² + δ²) + δ): no cancellation for |r| ≪ δ.
                    s += r * r / (root + delta);
                    *gi = r / root;
                }
                s
            }
            (Loss::CrossEntropy, Target::Class(c)) => {
                let zmax = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for (gi, zi) in g.iter_mut().zip(z) {
                    *gi = (zi - zmax).exp();
                    sum += *gi;
                }
                for gi in g.iter_mut() {
                    *gi /= sum;
                }
                g[c] -= 1.0;
                sum.ln() + zmax - z[c]
            }
            (Loss::Logistic, Target::Class(c)) => {
                let y = if c == 1 { 1.0 } else { -1.0 };
                let a = -y * z[0];
                // softplus(a) = log(1 + e^a), stably; d/da = σ(a).
                let (sp, sig) = if a > 0.0 {
                    let e = (-a).exp();
                    (a + e.ln_1p(), 1.0 / (1.0 + e))
                } else {
                    let e = a.exp();
                    (e.ln_1p(), e / (1.0 + e))
                };
                g[0] = -y * sig;
                sp
            }
            (loss, _) => panic!("{loss:?}: target kind mismatch (validated when the objective is built)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd(loss: Loss, z: &[f64], t: Target) {
        let mut g = vec![0.0; z.len()];
        loss.eval_grad(z, t, &mut g);
        let mut scratch = vec![0.0; z.len()];
        for i in 0..z.len() {
            let h = 1e-6;
            let mut zp = z.to_vec();
            zp[i] += h;
            let mut zm = z.to_vec();
            zm[i] -= h;
            let d = (loss.eval_grad(&zp, t, &mut scratch) - loss.eval_grad(&zm, t, &mut scratch)) / (2.0 * h);
            assert!(
                (d - g[i]).abs() < 1e-8 * (1.0 + d.abs()),
                "{loss:?} comp {i}: fd {d} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn gradients_match_central_differences() {
        fd(Loss::Squared, &[0.3, -1.2], Target::Vector(&[1.0, 0.5]));
        fd(Loss::CrossEntropy, &[0.3, -1.2, 2.0], Target::Class(1));
        fd(Loss::Logistic, &[0.7], Target::Class(0));
        fd(Loss::Logistic, &[-3.0], Target::Class(1));
        fd(Loss::SmoothL1 { delta: 0.1 }, &[0.3, -1.2], Target::Vector(&[1.0, 0.5]));
        fd(
            Loss::SmoothL1 { delta: 0.5 },
            &[0.95, 0.45],
            Target::Vector(&[1.0, 0.5]),
        );
    }

    #[test]
    fn smooth_l1_is_quadratic_near_zero_and_absolute_far_away() {
        let mut g = [0.0];
        let l = Loss::SmoothL1 { delta: 1e-3 };
        let near = l.eval_grad(&[1e-6], Target::Vector(&[0.0]), &mut g);
        // √(r² + δ²) − δ = r²/(√(r² + δ²) + δ) ≈ r²/(2δ) − r⁴/(8δ³): computed without cancellation.
        let exact = 1e-12 / ((1e-12f64 + 1e-6).sqrt() + 1e-3);
        assert!((near - exact).abs() <= 4.0 * f64::EPSILON * exact, "{near} vs {exact}");
        assert!((near - 0.5e-12 / 1e-3).abs() < 2e-16, "{near}");
        let far = l.eval_grad(&[2.0], Target::Vector(&[0.0]), &mut g);
        assert!((far - (2.0 - 1e-3)).abs() < 1e-6 && (g[0] - 1.0).abs() < 1e-6);
        let s: Loss =
            toml::from_str::<std::collections::BTreeMap<String, Loss>>("loss = { smooth_l1 = { delta = 0.01 } }")
                .unwrap()["loss"];
        assert_eq!(s, Loss::SmoothL1 { delta: 0.01 });
    }

    #[test]
    fn known_values_and_stability() {
        let mut g = [0.0; 2];
        assert_eq!(
            Loss::Squared.eval_grad(&[1.0, 2.0], Target::Vector(&[0.0, 0.0]), &mut g),
            5.0
        );
        let ce = Loss::CrossEntropy.eval_grad(&[0.0, 0.0], Target::Class(0), &mut g);
        assert!((ce - 2f64.ln()).abs() < 1e-15);
        let mut g1 = [0.0];
        let big = Loss::Logistic.eval_grad(&[-800.0], Target::Class(1), &mut g1);
        assert!((big - 800.0).abs() < 1e-9 && (g1[0] + 1.0).abs() < 1e-12);
        let ce_big = Loss::CrossEntropy.eval_grad(&[1000.0, -1000.0], Target::Class(1), &mut g);
        assert!((ce_big - 2000.0).abs() < 1e-9);
    }
}
