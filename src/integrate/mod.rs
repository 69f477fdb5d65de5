//! Time integration of the ensemble ODE dX_i/dt = f(X_i, u(t)) (SPEC §2).
//!
//! Fixed-step schemes implement [`Scheme`]: one step of one point with the control frozen, plus the step's exact
//! reverse (vector–Jacobian) product, so the discrete adjoint is generic over schemes (ARCHITECTURE habit 3) and a
//! new scheme is one file plus one line in [`SchemeKind`]. The adaptive reference solver ([`mod@reference`]) wraps
//! `ode_solvers::Dopri5`, restarted at every control switch. [`simulate`] drives any of them over a whole ensemble,
//! in fixed-size blocks of points run in parallel with rayon, so results are bit-identical for any thread count.

pub mod euler;
pub mod reference;
pub mod rk4;
mod simulate;

pub use simulate::{save_times, simulate, simulate_observed, SaveAt, Solver, Trajectory, BLOCK};

use crate::field::VectorField;

/// Per-worker scratch memory for a scheme, allocated once and reused for every step.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Stage storage for the scheme (length [`Scheme::workspace_len`]).
    pub buf: Vec<f64>,
    /// Scratch for the vector field (length [`VectorField::scratch_len`]).
    pub field: Vec<f64>,
}

impl Workspace {
    /// Workspace for `scheme` stepping `f`.
    pub fn new(scheme: &dyn Scheme, f: &dyn VectorField) -> Self {
        Self {
            buf: vec![0.0; scheme.workspace_len(f.state_dim())],
            field: vec![0.0; f.scratch_len()],
        }
    }
}

/// A one-step method x_{n+1} = Ψ_h(x_n; u) with the control u frozen over the step.
pub trait Scheme: Send + Sync {
    /// Name used in scenarios and outputs.
    fn name(&self) -> &'static str;
    /// Classical order for smooth fields (the convergence test checks it).
    fn order(&self) -> u32;
    /// Numbers of workspace the scheme needs for state dimension m.
    fn workspace_len(&self, m: usize) -> usize;
    /// x ← Ψ_h(x; u).
    fn step(&self, f: &dyn VectorField, u: &[f64], h: f64, x: &mut [f64], ws: &mut Workspace);
    /// Reverse of one step. On entry `lam` = ∂J/∂x_{n+1}; on exit `lam` = ∂J/∂x_n = (∂Ψ/∂x)ᵀ lam, and
    /// `gu` += (∂Ψ/∂u)ᵀ lam. `x` is x_n (the state before the step); stages are recomputed from it.
    #[allow(clippy::too_many_arguments)]
    fn step_vjp(
        &self,
        f: &dyn VectorField,
        u: &[f64],
        h: f64,
        x: &[f64],
        lam: &mut [f64],
        gu: &mut [f64],
        ws: &mut Workspace,
    );
}

/// The registry of integrators a scenario can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemeKind {
    /// Explicit Euler (= ResNet), order 1.
    Euler,
    /// Classical Runge–Kutta 1/6, 2/6, 2/6, 1/6, order 4.
    Rk4,
    /// Adaptive Dormand–Prince 5(4) reference solver (ode_solvers), restarted at control switches.
    Dopri5,
}

impl SchemeKind {
    /// All fixed-step schemes (the ones with an exact discrete adjoint).
    pub const FIXED: [SchemeKind; 2] = [SchemeKind::Euler, SchemeKind::Rk4];

    /// The fixed-step implementation, or `None` for the adaptive reference solver.
    pub fn fixed(self) -> Option<&'static dyn Scheme> {
        match self {
            SchemeKind::Euler => Some(&euler::Euler),
            SchemeKind::Rk4 => Some(&rk4::Rk4),
            SchemeKind::Dopri5 => None,
        }
    }

    /// Name as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::Euler => "euler",
            SchemeKind::Rk4 => "rk4",
            SchemeKind::Dopri5 => "dopri5",
        }
    }
}

#[inline]
pub(crate) fn axpy_into(out: &mut [f64], x: &[f64], a: f64, y: &[f64]) {
    for ((o, xi), yi) in out.iter_mut().zip(x).zip(y) {
        *o = xi + a * yi;
    }
}
