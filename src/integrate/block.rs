//! The block engine's moving parts, shared by forward simulation and the discrete adjoint: a [`Stepper`] (field
//! × scheme × control × sub-steps: the term of every step), and blocks of points in structure-of-arrays layout
//! ([`Block`]: load, finiteness check, gather).
//!
//! Points are cut into fixed blocks of [`LANES`] (never derived from the thread count), so every point's
//! arithmetic and every reduction order is the same for any `--threads`.

use super::{Scheme, Term};
use crate::control::Control;
use crate::field::VectorField;
use crate::simd::{Lanes, LANES};
use crate::Error;

/// Field × scheme × control × sub-steps: what every step of a sweep integrates.
#[derive(Clone, Copy)]
pub struct Stepper<'a> {
    /// The vector field.
    pub field: &'a dyn VectorField,
    /// The fixed-step scheme.
    pub scheme: &'a dyn Scheme,
    /// The control (rates per interval, or a path).
    pub control: &'a dyn Control,
    /// Steps per control interval (≥ 1).
    pub substeps: usize,
}

impl<'a> Stepper<'a> {
    /// Total steps S = K·s.
    pub fn steps(&self) -> usize {
        self.control.grid().intervals * self.substeps
    }
    /// Step length h = T / S.
    pub fn h(&self) -> f64 {
        self.control.grid().h() / self.substeps as f64
    }
    /// Control interval of step n.
    pub fn interval(&self, n: usize) -> usize {
        (n / self.substeps).min(self.control.grid().intervals - 1)
    }
    /// Time at the end of step n (t_{n+1}).
    pub fn time_after(&self, n: usize) -> f64 {
        if n + 1 == self.steps() {
            self.control.grid().horizon
        } else {
            self.h() * (n + 1) as f64
        }
    }
    /// The term of step n: the control of its interval, frozen. A path control's increment is used when the
    /// interval is one step (s = 1); with sub-steps the path is followed by its linear interpolation (the rate).
    pub fn term(&self, n: usize) -> Term<'a> {
        let k = self.interval(n);
        let mut t = Term::rate(self.field, self.control.value(k), self.h());
        if self.substeps == 1 {
            t.path = self.control.path_increment(k);
        }
        t
    }
    /// Tape rows of one step.
    pub fn tape_rows(&self) -> usize {
        self.scheme.tape_rows(self.field)
    }
    /// Working rows of a block step.
    pub fn work_rows(&self) -> usize {
        self.scheme.block_work_rows(self.field)
    }
}

/// A block of up to [`LANES`] points, m rows of lanes.
pub struct Block {
    /// Index of the block's first point in the ensemble.
    pub first: usize,
    /// Number of points in the block.
    pub lanes: usize,
    /// The state, m rows.
    pub x: Vec<Lanes>,
}

impl Block {
    /// A zero block for state dimension m.
    pub fn new(m: usize) -> Self {
        Block {
            first: 0,
            lanes: 0,
            x: vec![[0.0; LANES]; m],
        }
    }

    /// Load the points `xs` (row-major, ≤ LANES points of dimension m) starting at ensemble index `first`;
    /// lanes beyond are zero (they evolve harmlessly and never reach a result).
    pub fn load(&mut self, first: usize, xs: &[f64]) {
        let m = self.x.len();
        self.first = first;
        self.lanes = xs.len() / m;
        debug_assert!(self.lanes <= LANES);
        for (c, row) in self.x.iter_mut().enumerate() {
            row.fill(0.0);
            for (p, v) in row[..self.lanes].iter_mut().enumerate() {
                *v = xs[p * m + c];
            }
        }
    }

    /// Point p of the block (m numbers).
    pub fn gather(&self, p: usize, out: &mut [f64]) {
        crate::field::gather(&self.x, p, out)
    }

    /// The first point (lane) and component that is not finite, if any.
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        first_non_finite(&self.x, self.lanes)
    }

    /// A located numerical error for a non-finite state after step n (time t).
    pub fn non_finite_error(&self, what: &str, t: f64, step: usize) -> Option<Error> {
        let (p, c) = self.first_non_finite()?;
        let kind = if self.x[c][p].is_nan() {
            "NaN in the state"
        } else {
            "overflow (infinite state)"
        };
        Some(Error::numerical(
            format!("{kind}, component {c}{what}"),
            t,
            step,
            Some(self.first + p),
        ))
    }
}

/// The first lane (< `lanes`) and row whose value is not finite. Vectorised fast path: an OR over lanes of
/// "exponent field all ones" (NaN or ±∞), integer operations only.
pub fn first_non_finite(rows: &[Lanes], lanes: usize) -> Option<(usize, usize)> {
    const EXP: u64 = 0x7ff0_0000_0000_0000;
    let mut bad = 0u64;
    for r in rows {
        for &v in &r[..lanes] {
            bad |= u64::from(v.to_bits() & EXP == EXP);
        }
    }
    if bad == 0 {
        return None;
    }
    (0..lanes).find_map(|p| rows.iter().position(|r| !r[p].is_finite()).map(|c| (p, c)))
}
