//! Piecewise-constant controls: K rows of d values (one row per interval / layer).

use super::{Control, TimeGrid};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// u(t) = u_k on [t_k, t_{k+1}), stored row-major (K × d).
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseConstant {
    grid: TimeGrid,
    d: usize,
    values: Vec<f64>,
}

impl PiecewiseConstant {
    /// From K × d row-major values. Panics on a length mismatch (callers validate input first).
    pub fn new(grid: TimeGrid, d: usize, values: Vec<f64>) -> Self {
        assert_eq!(values.len(), grid.intervals * d, "control values must be K × d");
        Self { grid, d, values }
    }
    /// The same value on every interval.
    pub fn constant(grid: TimeGrid, value: &[f64]) -> Self {
        let values = (0..grid.intervals).flat_map(|_| value.iter().copied()).collect();
        Self::new(grid, value.len(), values)
    }
    /// Independent N(0, scale²) entries from a seeded ChaCha8 stream (deterministic across platforms).
    pub fn random(grid: TimeGrid, d: usize, scale: f64, seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, 1.0).expect("unit normal");
        let values = (0..grid.intervals * d)
            .map(|_| scale * normal.sample(&mut rng))
            .collect();
        Self::new(grid, d, values)
    }
    /// All K × d values, row-major (the trainer's parameter vector).
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// Mutable access to the parameter vector.
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }
}

impl Control for PiecewiseConstant {
    fn dim(&self) -> usize {
        self.d
    }
    fn grid(&self) -> TimeGrid {
        self.grid
    }
    fn value(&self, k: usize) -> &[f64] {
        &self.values[k * self.d..(k + 1) * self.d]
    }
}

/// A borrowed K × d table of rates (the trainer's parameter vector seen as a control), without copying.
#[derive(Clone, Copy, Debug)]
pub struct PiecewiseView<'a> {
    grid: TimeGrid,
    d: usize,
    values: &'a [f64],
}

impl<'a> PiecewiseView<'a> {
    /// View K × d row-major `values` on `grid`. Panics on a length mismatch (callers validate input first).
    pub fn new(grid: TimeGrid, d: usize, values: &'a [f64]) -> Self {
        assert_eq!(values.len(), grid.intervals * d, "control values must be K × d");
        Self { grid, d, values }
    }
}

impl Control for PiecewiseView<'_> {
    fn dim(&self) -> usize {
        self.d
    }
    fn grid(&self) -> TimeGrid {
        self.grid
    }
    fn value(&self, k: usize) -> &[f64] {
        &self.values[k * self.d..(k + 1) * self.d]
    }
}

/// Mutable rows of a K × d table (per-interval gradient accumulators), so that no engine loop slices by hand.
#[derive(Debug)]
pub struct RowsMut<'a> {
    d: usize,
    values: &'a mut [f64],
}

impl<'a> RowsMut<'a> {
    /// Rows of `d` numbers of `values`.
    pub fn new(d: usize, values: &'a mut [f64]) -> Self {
        Self { d, values }
    }
    /// Row k.
    pub fn row(&mut self, k: usize) -> &mut [f64] {
        &mut self.values[k * self.d..(k + 1) * self.d]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_increments() {
        let g = TimeGrid {
            horizon: 2.0,
            intervals: 4,
        };
        let c = PiecewiseConstant::new(g, 2, (0..8).map(f64::from).collect());
        assert_eq!(c.value(2), &[4.0, 5.0]);
        let mut inc = [0.0; 2];
        c.increment(3, &mut inc);
        assert_eq!(inc, [3.0, 3.5]);
        assert_eq!(g.t(4), 2.0);
    }

    #[test]
    fn random_is_seeded() {
        let g = TimeGrid {
            horizon: 1.0,
            intervals: 3,
        };
        assert_eq!(
            PiecewiseConstant::random(g, 2, 1.0, 5),
            PiecewiseConstant::random(g, 2, 1.0, 5)
        );
        assert_ne!(
            PiecewiseConstant::random(g, 2, 1.0, 5),
            PiecewiseConstant::random(g, 2, 1.0, 6)
        );
    }
}
