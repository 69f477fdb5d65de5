//! A term of the controlled ODE over one step (SPEC §1–§2, ARCHITECTURE habit 1): the field with its control
//! frozen over [t, t + h].
//!
//! A control is either a *rate* on the interval (the trainable piecewise-constant controls: f(x, u) is the
//! velocity, and the increment of the driving path is ΔU = u h), or a *path* U given directly (piecewise-linear
//! data, fractional Brownian motion): then u = ΔU / h is the slope of the path's linear interpolation over the
//! step, and for control-affine fields f(x, u) h = Σ_j V_j(x) ΔU^j exactly. Young-type schemes read ΔU and, when
//! the path is known on a finer grid, its Lévy area over the step ([`PathIncrement`]).

use crate::field::VectorField;

/// The increment of a driving path over one step, and its Lévy area when known.
#[derive(Clone, Copy, Debug)]
pub struct PathIncrement<'a> {
    /// ΔU^j = U^j(t + h) − U^j(t), d numbers.
    pub du: &'a [f64],
    /// A^{jl} = ½ ∫ (U^j − U^j_t) dU^l − (U^l − U^l_t) dU^j over the step, d × d row-major (SPEC §2); `None` when
    /// the path is only known at the step's end points.
    pub area: Option<&'a [f64]>,
}

/// The field f with the control frozen over one step of length h.
#[derive(Clone, Copy)]
pub struct Term<'a> {
    /// The vector field.
    pub field: &'a dyn VectorField,
    /// The frozen control value (rate) u: f(x, u) is the velocity over the step.
    pub u: &'a [f64],
    /// Step length h.
    pub h: f64,
    /// The driving path's increment over the step, for path-driven controls (`None`: a rate, ΔU = u h, A = 0).
    pub path: Option<PathIncrement<'a>>,
}

impl<'a> Term<'a> {
    /// A rate-driven term: u frozen over a step of length h.
    pub fn rate(field: &'a dyn VectorField, u: &'a [f64], h: f64) -> Self {
        Term {
            field,
            u,
            h,
            path: None,
        }
    }

    /// The same term over a step of another length (a partial step to a save time).
    pub fn with_h(&self, h: f64) -> Self {
        Term { h, path: None, ..*self }
    }

    /// ΔU^j over the step.
    #[inline]
    pub fn increment(&self, j: usize) -> f64 {
        match &self.path {
            Some(p) => p.du[j],
            None => self.u[j] * self.h,
        }
    }

    /// A^{jl} over the step (0 for a rate, or when unknown).
    #[inline]
    pub fn area(&self, j: usize, l: usize, d: usize) -> f64 {
        self.path.and_then(|p| p.area).map_or(0.0, |a| a[j * d + l])
    }
}
