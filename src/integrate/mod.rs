//! Time integration of the ensemble ODE dX_i/dt = f(X_i, u(t)) (SPEC §2).
//!
//! Fixed-step schemes implement [`Scheme`]: a step of a whole block of points with the control frozen (a
//! [`Term`]: field × control over the step), plus the step's exact reverse (vector–Jacobian) product from a
//! tape, so the discrete adjoint is generic over schemes (ARCHITECTURE habits 1, 3) and a new scheme is one file
//! plus one line in [`SchemeKind`]. The adaptive reference solver ([`mod@reference`]) wraps
//! `ode_solvers::Dopri5`, restarted at every control switch. [`simulate`] drives any of them over a whole ensemble,
//! in fixed-size blocks of points run in parallel with rayon, so results are bit-identical for any thread count.

pub mod block;
pub mod euler;
pub mod reference;
pub mod rk4;
mod simulate;
mod term;
pub mod young;

pub use simulate::{save_times, simulate, simulate_observed, SaveAt, Solver, Trajectory, BLOCK};
pub use term::{PathIncrement, Term};

use crate::control::Regularity;
use crate::field::VectorField;
use crate::simd::{GradAcc, Lanes};

/// Per-worker scratch memory for a scheme's per-point step, allocated once and reused for every step.
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

/// A one-step method x_{n+1} = Ψ(x_n; term): the term is the field with the control frozen over the step
/// ([`Term`]). Every scheme steps whole blocks of points ([`Scheme::step_block`]) and reverses a block step
/// exactly ([`Scheme::step_block_vjp`]) from the tape its forward step wrote, so the discrete adjoint is generic
/// over schemes and a new scheme is its file plus one line in [`SchemeKind`]. The per-point
/// [`Scheme::step`] serves the continuous adjoint, the Lie tools and tests.
pub trait Scheme: Send + Sync {
    /// Name used in scenarios and outputs.
    fn name(&self) -> &'static str;
    /// Name as printed in figures and tables (default: [`Scheme::name`]).
    fn label(&self) -> &'static str {
        self.name()
    }
    /// Strong order for a driver of the given regularity (smooth: the classical order); the convergence test
    /// checks every registered scheme against it.
    fn order(&self, driver: Regularity) -> f64;
    /// Field evaluations per step.
    fn stages(&self) -> usize;
    /// Numbers of per-point workspace the scheme needs for state dimension m.
    fn workspace_len(&self, m: usize) -> usize;
    /// x ← Ψ(x; term), one point.
    fn step(&self, term: &Term, x: &mut [f64], ws: &mut Workspace);
    /// Tape rows one block step writes for field `f`: every stage's input ξ_s (m rows) and the field's tape.
    /// The first m rows are the step's start x_n (the discrete adjoint reads them back).
    fn tape_rows(&self, f: &dyn VectorField) -> usize {
        self.stages() * (f.state_dim() + f.tape_rows())
    }
    /// Working rows of lanes a block step or its reverse needs for field `f` (field scratch included).
    fn block_work_rows(&self, f: &dyn VectorField) -> usize;
    /// x ← Ψ(x; term) for the first `lanes` points of a block (m rows); `tape` (length [`Scheme::tape_rows`])
    /// receives what [`Scheme::step_block_vjp`] needs.
    fn step_block(&self, term: &Term, lanes: usize, x: &mut [Lanes], tape: &mut [Lanes], work: &mut [Lanes]);
    /// Reverse of one block step. On entry `lam` = ∂J/∂x_{n+1}; on exit `lam` = (∂Ψ/∂x)ᵀ lam = ∂J/∂x_n, and
    /// `acc` += Σ_lanes (∂Ψ/∂u)ᵀ lam. Reads the tape of the forward step (no field re-evaluation).
    fn step_block_vjp(
        &self,
        term: &Term,
        lanes: usize,
        tape: &[Lanes],
        lam: &mut [Lanes],
        acc: &mut GradAcc,
        work: &mut [Lanes],
    );
}

/// Every fixed-step scheme a scenario can name, in the order they are listed and measured. Adding a scheme is its
/// file plus one line here.
pub static SCHEMES: &[&dyn Scheme] = &[&euler::Euler, &rk4::Rk4, &young::STEP2, &young::STEP2_SIMPLIFIED];

/// Name of the adaptive reference solver (not a fixed-step [`Scheme`]).
const DOPRI5: &str = "dopri5";

/// A scheme as a scenario names it: any registered fixed-step scheme ([`SCHEMES`]) or the adaptive `dopri5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SchemeKind(&'static str);

#[allow(non_upper_case_globals)]
impl SchemeKind {
    /// Explicit Euler (= ResNet), order 1.
    pub const Euler: SchemeKind = SchemeKind("euler");
    /// Classical Runge–Kutta 1/6, 2/6, 2/6, 1/6, order 4.
    pub const Rk4: SchemeKind = SchemeKind("rk4");
    /// Adaptive Dormand–Prince 5(4) reference solver (ode_solvers), restarted at control switches.
    pub const Dopri5: SchemeKind = SchemeKind(DOPRI5);

    /// Every registered fixed-step scheme (the ones with an exact discrete adjoint).
    pub fn fixed_all() -> Vec<SchemeKind> {
        SCHEMES.iter().map(|s| SchemeKind(s.name())).collect()
    }

    /// The kind named `name`, if registered.
    pub fn parse(name: &str) -> Option<SchemeKind> {
        if name == DOPRI5 {
            return Some(SchemeKind::Dopri5);
        }
        SCHEMES.iter().find(|s| s.name() == name).map(|s| SchemeKind(s.name()))
    }

    /// Every name a scenario may use.
    pub fn names() -> Vec<&'static str> {
        SCHEMES.iter().map(|s| s.name()).chain([DOPRI5]).collect()
    }

    /// The fixed-step implementation, or `None` for the adaptive reference solver.
    pub fn fixed(self) -> Option<&'static dyn Scheme> {
        SCHEMES.iter().copied().find(|s| s.name() == self.0)
    }

    /// Name as written in scenarios.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl serde::Serialize for SchemeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SchemeKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        SchemeKind::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown scheme `{name}`, expected one of {}",
                SchemeKind::names().join(", ")
            ))
        })
    }
}

#[inline]
pub(crate) fn axpy_into(out: &mut [f64], x: &[f64], a: f64, y: &[f64]) {
    for ((o, xi), yi) in out.iter_mut().zip(x).zip(y) {
        *o = xi + a * yi;
    }
}

/// Rows of `rows` split off the front of a buffer (`rows`, the rest).
#[inline]
pub(crate) fn take(buf: &mut [Lanes], rows: usize) -> (&mut [Lanes], &mut [Lanes]) {
    buf.split_at_mut(rows)
}
