//! Learning-rate schedules η_k = schedule(η₀, k), k = 0, 1, … the iteration (SPEC §3).
//!
//! ```text
//! constant:     η_k = η₀
//! piecewise:    η_k = values[i] for boundaries[i−1] ≤ k < boundaries[i]   (absolute values; η₀ unused)
//! exponential:  η_k = η₀ γ^k
//! cosine:       η_k = η_min + (η₀ − η_min)(1 + cos(π (k mod P)/P))/2      (SGDR warm restarts every P iterations)
//! ```
//! The neural-ODE book schedule is `piecewise` with boundaries [1000, 2000, 3000, 4000, 5000] and values
//! [0.01, 0.005, 0.0025, 0.001, 0.0005, 0.0001].

use serde::{Deserialize, Serialize};

/// A learning-rate schedule, tagged by `kind` in scenario files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// η_k = η₀.
    #[default]
    Constant,
    /// `values[i]` on `[boundaries[i−1], boundaries[i])`; boundaries strictly increasing, values.len() =
    /// boundaries.len() + 1.
    Piecewise { boundaries: Vec<usize>, values: Vec<f64> },
    /// η₀ γ^k, 0 < γ ≤ 1.
    Exponential { gamma: f64 },
    /// Cosine annealing from η₀ to `min_lr` over `period` iterations, restarting every `period`.
    Cosine { min_lr: f64, period: usize },
}

impl Schedule {
    /// The learning rate at iteration `iter` for base rate `base`.
    pub fn lr(&self, base: f64, iter: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Piecewise { boundaries, values } => {
                let i = boundaries.partition_point(|&b| b <= iter);
                values[i.min(values.len() - 1)]
            }
            Schedule::Exponential { gamma } => base * gamma.powf(iter as f64),
            Schedule::Cosine { min_lr, period } => {
                let p = (*period).max(1);
                let frac = (iter % p) as f64 / p as f64;
                min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos())
            }
        }
    }

    /// Checks the schedule's own numbers: finite and positive rates (min_lr may be 0), 0 < γ ≤ 1, period ≥ 1,
    /// strictly increasing boundaries and values.len() = boundaries.len() + 1.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Schedule::Constant => Ok(()),
            Schedule::Piecewise { boundaries, values } => {
                if values.len() != boundaries.len() + 1 {
                    return Err(format!(
                        "piecewise schedule needs values.len() = boundaries.len() + 1, got {} values and {} boundaries",
                        values.len(),
                        boundaries.len()
                    ));
                }
                if let Some(w) = boundaries.windows(2).find(|w| w[0] >= w[1]) {
                    return Err(format!(
                        "piecewise boundaries must be strictly increasing ({} then {})",
                        w[0], w[1]
                    ));
                }
                if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                    return Err(format!("piecewise learning rates must be finite and positive, got {v}"));
                }
                Ok(())
            }
            Schedule::Exponential { gamma } => {
                if gamma.is_finite() && *gamma > 0.0 && *gamma <= 1.0 {
                    Ok(())
                } else {
                    Err(format!("exponential gamma must be in (0, 1], got {gamma}"))
                }
            }
            Schedule::Cosine { min_lr, period } => {
                if !(min_lr.is_finite() && *min_lr >= 0.0) {
                    Err(format!("cosine min_lr must be finite and non-negative, got {min_lr}"))
                } else if *period == 0 {
                    Err("cosine period must be at least 1".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Checks a base learning rate: finite and positive.
pub fn validate_lr(lr: f64) -> Result<(), String> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(format!("learning rate must be finite and positive, got {lr}"))
    }
}
