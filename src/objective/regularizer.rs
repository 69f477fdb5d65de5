//! Control regularisers λR(u) for piecewise-constant controls u_k on intervals of length h = T/K (SPEC §3):
//! - L²: R = ∫‖u‖² dt = Σ_k h ‖u_k‖²;
//! - H¹: R = ∫‖u‖² + ‖u̇‖² dt, with u̇ by finite differences across intervals: Σ_k h‖u_k‖² + Σ_{k≥1} ‖u_k − u_{k−1}‖²/h;
//! - L¹ with bound M: R = ∫‖u(t)‖ dt = Σ_k h ‖u_k‖ subject to ‖u_k‖ ≤ M. Non-smooth: training uses a proximal
//!   step (group soft-thresholding by λh·step, then projection onto the ball of radius M); its gradient (away from
//!   u_k = 0) is λ h u_k / ‖u_k‖, which is what gradient checks compare.

use serde::Deserialize;

/// A regulariser specification (`[objective.regularizer]`).
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Regularizer {
    /// λ ∫‖u‖² dt.
    L2 { lambda: f64 },
    /// λ ∫‖u‖² + ‖u̇‖² dt.
    H1 { lambda: f64 },
    /// λ ∫‖u‖ dt with ‖u(t)‖ ≤ bound.
    L1 { lambda: f64, bound: f64 },
}

impl Regularizer {
    /// λ.
    pub fn lambda(&self) -> f64 {
        match self {
            Regularizer::L2 { lambda } | Regularizer::H1 { lambda } | Regularizer::L1 { lambda, .. } => *lambda,
        }
    }

    /// Whether training must use a proximal step (L¹).
    pub fn is_proximal(&self) -> bool {
        matches!(self, Regularizer::L1 { .. })
    }

    /// λR(u) for K rows of d values on intervals of length h; adds λ∂R/∂u into `g` (L¹: where u_k ≠ 0).
    pub fn value_grad(&self, u: &[f64], d: usize, h: f64, g: &mut [f64]) -> f64 {
        let k = u.len() / d;
        let mut r = 0.0;
        match self {
            Regularizer::L2 { lambda } => {
                for (gi, ui) in g.iter_mut().zip(u) {
                    r += lambda * h * ui * ui;
                    *gi += 2.0 * lambda * h * ui;
                }
            }
            Regularizer::H1 { lambda } => {
                for (gi, ui) in g.iter_mut().zip(u) {
                    r += lambda * h * ui * ui;
                    *gi += 2.0 * lambda * h * ui;
                }
                for kk in 1..k {
                    for j in 0..d {
                        let diff = u[kk * d + j] - u[(kk - 1) * d + j];
                        r += lambda * diff * diff / h;
                        g[kk * d + j] += 2.0 * lambda * diff / h;
                        g[(kk - 1) * d + j] -= 2.0 * lambda * diff / h;
                    }
                }
            }
            Regularizer::L1 { lambda, .. } => {
                for (row, grow) in u.chunks(d).zip(g.chunks_mut(d)) {
                    let n = row.iter().map(|v| v * v).sum::<f64>().sqrt();
                    r += lambda * h * n;
                    if n > 0.0 {
                        for (gi, ui) in grow.iter_mut().zip(row) {
                            *gi += lambda * h * ui / n;
                        }
                    }
                }
            }
        }
        r
    }

    /// Proximal step of `step`·λR plus the constraint (L¹ only; identity otherwise): per interval,
    /// u_k ← max(0, 1 − step·λh/‖u_k‖) u_k, then u_k ← u_k · min(1, M/‖u_k‖).
    pub fn prox(&self, u: &mut [f64], d: usize, h: f64, step: f64) {
        if let Regularizer::L1 { lambda, bound } = self {
            for row in u.chunks_mut(d) {
                let n = row.iter().map(|v| v * v).sum::<f64>().sqrt();
                let shrink = if n > 0.0 {
                    (1.0 - step * lambda * h / n).max(0.0)
                } else {
                    0.0
                };
                let n2 = n * shrink;
                let scale = if n2 > *bound { shrink * bound / n2 } else { shrink };
                row.iter_mut().for_each(|v| *v *= scale);
            }
        }
    }

    /// Check λ ≥ 0 finite, bound > 0 finite.
    pub fn validate(&self) -> Result<(), String> {
        let l = self.lambda();
        if !(l.is_finite() && l >= 0.0) {
            return Err(format!("lambda must be a finite number ≥ 0, found {l}"));
        }
        if let Regularizer::L1 { bound, .. } = self {
            if !(bound.is_finite() && *bound > 0.0) {
                return Err(format!("bound must be a finite number > 0, found {bound}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_central_differences() {
        let u = [0.3, -0.2, 1.1, 0.4, -0.7, 0.25];
        for reg in [
            Regularizer::L2 { lambda: 0.3 },
            Regularizer::H1 { lambda: 0.2 },
            Regularizer::L1 {
                lambda: 0.5,
                bound: 2.0,
            },
        ] {
            let mut g = vec![0.0; 6];
            reg.value_grad(&u, 2, 0.25, &mut g);
            let mut tmp = vec![0.0; 6];
            for i in 0..6 {
                let h = 1e-6;
                let mut up = u;
                up[i] += h;
                let mut um = u;
                um[i] -= h;
                let fd = (reg.value_grad(&up, 2, 0.25, &mut tmp) - reg.value_grad(&um, 2, 0.25, &mut tmp)) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-8, "{reg:?} {i}: {fd} vs {}", g[i]);
            }
        }
    }

    #[test]
    fn l1_prox_shrinks_and_projects() {
        let reg = Regularizer::L1 {
            lambda: 1.0,
            bound: 1.0,
        };
        let mut u = [3.0, 4.0, 0.03, 0.04];
        reg.prox(&mut u, 2, 1.0, 0.1);
        // Row 1: ‖u‖ = 5 → shrunk to 4.9, then projected to 1.
        assert!(((u[0] * u[0] + u[1] * u[1]).sqrt() - 1.0).abs() < 1e-15);
        // Row 2: ‖u‖ = 0.05 < 0.1 → zero (bang-off).
        assert_eq!((u[2], u[3]), (0.0, 0.0));
        assert!(reg.validate().is_ok());
        assert!(Regularizer::L2 { lambda: f64::NAN }.validate().is_err());
    }
}
