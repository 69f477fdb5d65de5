//! Controls u(t) ∈ R^d on [0, T] (SPEC §1).
//!
//! A [`Control`] is sampled per interval of a [`TimeGrid`]: the trainable controls are piecewise constant on K equal
//! intervals ("one layer per interval", SPEC §1), and an integrator freezes the control inside an interval — an RK4
//! stage at the right end of interval k still uses u_k. The trait also exposes the increment ΔU_k = ∫ u dt over an
//! interval and, for path-driven controls, the path's own increment and Lévy area ([`Control::path_increment`]),
//! which is what a Young/rough-path scheme consumes (SPEC §2): a path-driven control ([`path::PathControl`]: fBm,
//! smooth formulas, piecewise-linear data) implements them and slots in without touching the fixed-step engine. [`Control::regularity`] tells the order
//! a scheme can reach with it.

pub mod fbm;
pub mod path;
mod piecewise;

pub use path::{Formula, LinearPath, PathControl, PathError};
pub use piecewise::{PiecewiseConstant, PiecewiseView, RowsMut};

pub use crate::integrate::PathIncrement;

/// How regular a driving path is; the strong order of a scheme depends on it (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Regularity {
    /// Piecewise smooth (rates on intervals, smooth formulas): classical orders.
    Smooth,
    /// α-Hölder with α ∈ (0, 1] (fBm with Hurst H: α just below H).
    Holder(f64),
}

/// K equal intervals of [0, T].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TimeGrid {
    /// Horizon T > 0.
    pub horizon: f64,
    /// Number of intervals K ≥ 1.
    pub intervals: usize,
}

impl TimeGrid {
    /// Interval length T / K.
    pub fn h(&self) -> f64 {
        self.horizon / self.intervals as f64
    }
    /// Left end t_k = k T / K (t_K = T exactly).
    pub fn t(&self, k: usize) -> f64 {
        if k == self.intervals {
            self.horizon
        } else {
            self.horizon * k as f64 / self.intervals as f64
        }
    }
}

/// A control signal sampled on a time grid.
pub trait Control: Send + Sync {
    /// Number of control values d per interval.
    fn dim(&self) -> usize;
    /// The grid the control lives on.
    fn grid(&self) -> TimeGrid;
    /// The frozen value (rate) u_k used throughout interval k.
    fn value(&self, k: usize) -> &[f64];
    /// ΔU_k = ∫_{t_k}^{t_{k+1}} u dt (written into `out`); for a piecewise-constant control u_k · h.
    fn increment(&self, k: usize, out: &mut [f64]) {
        let h = self.grid().h();
        for (o, v) in out.iter_mut().zip(self.value(k)) {
            *o = v * h;
        }
    }
    /// For a path-driven control: the path's increment over interval k and its Lévy area when known (`None`
    /// for rates, whose increment is u_k h and whose area is 0).
    fn path_increment(&self, k: usize) -> Option<PathIncrement<'_>> {
        let _ = k;
        None
    }
    /// The regularity of the driving path.
    fn regularity(&self) -> Regularity {
        Regularity::Smooth
    }
}
