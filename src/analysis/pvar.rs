//! p-variation and Hölder seminorm of a discrete path g_0, …, g_n in R^d with the Euclidean norm (SPEC §2; seed 004
//! Definition 2.1.3, (2.14), and (2.19)).
//!
//! ```text
//!     ‖g‖_{p-var} = ( max_{0 = s_0 < s_1 < … < s_r = n}  Σ_i ‖g_{s_{i+1}} − g_{s_i}‖^p )^{1/p},       p ≥ 1,
//!     ‖g‖_α       = max_{k < l} ‖g_l − g_k‖ / (t_l − t_k)^α,                                       α > 0.
//! ```
//!
//! Paths are flat row-major slices: point k is `path[k·d .. (k+1)·d]`.
//!
//! **The dynamic programme** ([`pvar_dp`], O(n²)): V_0 = 0 and V_j = max_{i<j} (V_i + ‖g_j − g_i‖^p) is the largest
//! sum over partitions of 0..j that end at j; ‖g‖_{p-var} = V_n^{1/p}, and the maximising i of every V_j, followed
//! back from n, is a maximising partition. V is non-decreasing (V_j ≥ V_{j−1} + ‖g_j − g_{j−1}‖^p).
//!
//! **The fast exact algorithm** ([`pvar`]) returns the same maximum. Every shortcut is a theorem, not a heuristic:
//! 1. p = 1: by the triangle inequality refining a partition never decreases Σ‖Δ‖, so the finest partition is
//!    optimal and the value is Σ_k ‖g_{k+1} − g_k‖.
//! 2. Repeated points: a partition point can move to any index holding the same value without changing the sum,
//!    and two partition points with equal values contribute a zero term, so only one index of each run of
//!    consecutive equal points is kept (the first; the last run is represented by n).
//! 3. d = 1, only turning points: between neighbours a < s < b of a partition, y ↦ |y − g_a|^p + |g_b − y|^p is
//!    convex (p ≥ 1), so where the path is monotone on a run of indices containing s its maximum over that run is at
//!    an end of the run (moving s there, or dropping s if the end is a or b). Repeating this moves every partition
//!    point to a turning point (a strict local extremum of the repeat-free sequence) or to 0 or n without decreasing
//!    the sum (the scalar reduction of the `pvar` R package, Butkus & Norvaiša 2018).
//! 4. Pruned DP over what is left: the candidates i of V_j are scanned from j − 1 down. A candidate i' ≤ i can
//!    beat the best value B found so far only if ‖g_j − g_{i'}‖^p > B − V_i, because V_{i'} ≤ V_i. For the aligned
//!    dyadic block of candidates ending at i, the distance from g_j to the farthest corner of the block's bounding
//!    box bounds ‖g_j − g_{i'}‖ for every i' in the block; if its p-th power is ≤ B − V_i the whole block is skipped.
//!    Larger aligned blocks ending at i contain the smaller ones, so the largest block that passes is taken (the
//!    dyadic index of Korepanov & Lyons 2018; here with boxes, which are exact for d = 1).
//!
//! Rules 1, 2 and 4 hold for every d; rule 3 only for d = 1 (for d > 1 a non-extremal point may still be needed).
//! The worst case stays O(n²); on random walks the skipped blocks make it much faster (benches/pvar.rs).
//! Floating point: the box bound is computed with the same operations in the same order as the distances, and
//! rounding is monotone, so a skipped candidate's computed cost never exceeds the computed bound; the two algorithms
//! agree to rounding (tests: relative 1e−12; ties may be resolved by different partitions of equal value).
//!
//! **Scaling.** Distances are computed on the path times 2^{−e}, with 2^e the power of two at or above the largest
//! per-component range, so that ‖Δ‖ ≤ √d and ‖Δ‖^p neither overflows nor underflows for paths given in very large or
//! very small units; the result is multiplied back by 2^e. Scaling by a power of two is exact.

/// p-variation of a discrete path and a partition attaining it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PVar {
    /// ‖g‖_{p-var} (the p-th root of the maximal sum).
    pub value: f64,
    /// Point indices 0 = s_0 < … < s_r = n of a maximising partition (just `[0]` for a one-point path).
    pub partition: Vec<usize>,
}

/// Hölder seminorm of a discrete path and a pair attaining it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Holder {
    /// ‖g‖_α = max_{k<l} ‖g_l − g_k‖ / (t_l − t_k)^α (0 for a one-point path).
    pub value: f64,
    /// (k, l), k < l, attaining the maximum ((0, 0) for a one-point path).
    pub pair: (usize, usize),
}

/// Bad input to the path functions; never a panic.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PathError {
    #[error("p must be a finite number ≥ 1, found {0}")]
    Exponent(f64),
    #[error("the Hölder exponent α must be a finite number > 0, found {0}")]
    HolderExponent(f64),
    #[error("the dimension d must be at least 1")]
    ZeroDimension,
    #[error("the path has no points")]
    Empty,
    #[error("the path has {len} values, not a whole number of points of dimension {dim}")]
    Ragged { len: usize, dim: usize },
    #[error("point {row} has {len} components, but point 0 has {expected}")]
    RaggedRow { row: usize, len: usize, expected: usize },
    #[error("point {point}, component {component}: expected a finite number, found {value}")]
    NonFinite { point: usize, component: usize, value: f64 },
    #[error("component {component}: the range max − min of the path overflows f64")]
    RangeOverflow { component: usize },
    #[error("expected one time per point ({points}), found {times}")]
    TimesLength { points: usize, times: usize },
    #[error("time {index}: expected a finite number, found {value}")]
    TimeNotFinite { index: usize, value: f64 },
    #[error("times must be strictly increasing: time {index} = {value} does not exceed time {} = {previous}", index - 1)]
    TimesNotIncreasing { index: usize, value: f64, previous: f64 },
    #[error("the {0} overflows f64")]
    Overflow(&'static str),
}

/// Flatten equal-length rows (one point each) into the row-major layout; `Err` names the first ragged row.
pub fn flatten_rows(rows: &[Vec<f64>]) -> Result<(Vec<f64>, usize), PathError> {
    let dim = rows.first().ok_or(PathError::Empty)?.len();
    if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != dim) {
        return Err(PathError::RaggedRow {
            row,
            len: r.len(),
            expected: dim,
        });
    }
    Ok((rows.concat(), dim))
}

/// A validated path with its scale and the cost c(Δ) = ‖2^{−e} Δ‖^p.
struct Metric<'a> {
    g: &'a [f64],
    dim: usize,
    points: usize,
    /// 2^{−e} (module docs, "Scaling").
    scale: f64,
    p: f64,
}

impl<'a> Metric<'a> {
    fn new(g: &'a [f64], dim: usize, p: f64) -> Result<Self, PathError> {
        if !(p.is_finite() && p >= 1.0) {
            return Err(PathError::Exponent(p));
        }
        if dim == 0 {
            return Err(PathError::ZeroDimension);
        }
        if g.is_empty() {
            return Err(PathError::Empty);
        }
        if !g.len().is_multiple_of(dim) {
            return Err(PathError::Ragged { len: g.len(), dim });
        }
        if let Some(i) = g.iter().position(|v| !v.is_finite()) {
            return Err(PathError::NonFinite {
                point: i / dim,
                component: i % dim,
                value: g[i],
            });
        }
        let points = g.len() / dim;
        let mut range: f64 = 0.0;
        for c in 0..dim {
            let (lo, hi) = g
                .iter()
                .skip(c)
                .step_by(dim)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            let r = hi - lo;
            if !r.is_finite() {
                return Err(PathError::RangeOverflow { component: c });
            }
            range = range.max(r);
        }
        let e = if range > 0.0 {
            (range.log2().ceil() as i64).clamp(-1022, 1022)
        } else {
            0
        };
        let scale = f64::from_bits(((1023 - e) as u64) << 52); // 2^{−e}, a normal number
        Ok(Metric {
            g,
            dim,
            points,
            scale,
            p,
        })
    }

    fn point(&self, k: usize) -> &'a [f64] {
        &self.g[k * self.dim..(k + 1) * self.dim]
    }

    /// ‖2^{−e}(g_i − g_j)‖², summed over components in order.
    fn sq(&self, i: usize, j: usize) -> f64 {
        let s = self.scale;
        let mut acc = 0.0;
        for (a, b) in self.point(i).iter().zip(self.point(j)) {
            let z = (a - b) * s;
            acc += z * z;
        }
        acc
    }

    /// c = (squared distance)^{p/2}: the same function for distances and for box bounds (monotone).
    fn pow(&self, sq: f64) -> f64 {
        if self.p == 2.0 {
            sq
        } else if self.p == 1.0 {
            sq.sqrt()
        } else {
            sq.powf(0.5 * self.p)
        }
    }

    fn cost(&self, i: usize, j: usize) -> f64 {
        self.pow(self.sq(i, j))
    }

    /// The p-variation from the maximal scaled sum.
    fn finish(&self, sum: f64, partition: Vec<usize>) -> Result<PVar, PathError> {
        let value = sum.powf(1.0 / self.p) / self.scale;
        if !value.is_finite() {
            return Err(PathError::Overflow("p-variation"));
        }
        Ok(PVar { value, partition })
    }
}

/// Follow the maximisers back from the last position; map positions to point indices through `idx`.
fn backtrack(back: &[usize], idx: impl Fn(usize) -> usize) -> Vec<usize> {
    let mut part = vec![idx(back.len() - 1)];
    let mut j = back.len() - 1;
    while j > 0 {
        j = back[j];
        part.push(idx(j));
    }
    part.reverse();
    part
}

/// Exact p-variation by the O(n²) dynamic programme V_j = max_{i<j} (V_i + ‖g_j − g_i‖^p) (module docs; 004
/// (2.14)). The reference for [`pvar`]. `path` holds `path.len() / dim` points of dimension `dim`.
pub fn pvar_dp(path: &[f64], dim: usize, p: f64) -> Result<PVar, PathError> {
    let m = Metric::new(path, dim, p)?;
    let n1 = m.points;
    let mut v = vec![0.0; n1];
    let mut back = vec![0usize; n1];
    for j in 1..n1 {
        let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
        for i in (0..j).rev() {
            let c = v[i] + m.cost(i, j);
            if c > best {
                best = c;
                arg = i;
            }
        }
        v[j] = best;
        back[j] = arg;
    }
    m.finish(v[n1 - 1], backtrack(&back, |k| k))
}

/// Exact p-variation, fast: rules 1–4 of the module docs, then the pruned dynamic programme. Same value as
/// [`pvar_dp`] (to rounding); the partition may differ where several attain the maximum.
pub fn pvar(path: &[f64], dim: usize, p: f64) -> Result<PVar, PathError> {
    let m = Metric::new(path, dim, p)?;
    let n = m.points - 1;
    if n == 0 {
        return m.finish(0.0, vec![0]);
    }
    if p == 1.0 {
        let sum: f64 = (0..n).map(|k| m.cost(k, k + 1)).sum();
        return m.finish(sum, (0..=n).collect());
    }
    let idx = candidates(&m);
    let (sum, back) = pruned_dp(&m, &idx);
    m.finish(sum, backtrack(&back, |k| idx[k]))
}

/// Rules 2 and 3: indices that can carry an optimal partition, 0 and n included, increasing.
fn candidates(m: &Metric) -> Vec<usize> {
    let n = m.points - 1;
    let mut idx = vec![0usize];
    for k in 1..=n {
        let last = idx[idx.len() - 1];
        if m.point(k) == m.point(last) {
            continue;
        }
        if m.dim == 1 && idx.len() >= 2 {
            let (a, b, c) = (m.g[idx[idx.len() - 2]], m.g[last], m.g[k]);
            if (b > a) == (c > b) {
                // `last` continues the monotone run from a to k: not a turning point.
                *idx.last_mut().expect("non-empty") = k;
                continue;
            }
        }
        idx.push(k);
    }
    let last = idx.len() - 1;
    if idx[last] != n {
        // Trailing repeats of the last kept value: represent that run by n.
        if last == 0 {
            idx.push(n);
        } else {
            idx[last] = n;
        }
    }
    idx
}

/// Bounding boxes of the aligned dyadic blocks of positions: level ℓ ≥ 1, block b covers b·2^ℓ .. (b+1)·2^ℓ − 1.
struct DyadicBoxes {
    dim: usize,
    /// Per level: (lo, hi), block-major, `dim` values per block.
    levels: Vec<(Vec<f64>, Vec<f64>)>,
}

impl DyadicBoxes {
    fn new(positions: usize, dim: usize) -> Self {
        let mut levels = Vec::new();
        let mut size = 2usize;
        while size <= positions {
            let blocks = positions.div_ceil(size);
            levels.push((vec![f64::INFINITY; blocks * dim], vec![f64::NEG_INFINITY; blocks * dim]));
            size = match size.checked_mul(2) {
                Some(s) => s,
                None => break,
            };
        }
        DyadicBoxes { dim, levels }
    }

    /// Number of levels L: blocks of 2^1 .. 2^L positions.
    fn depth(&self) -> usize {
        self.levels.len()
    }

    fn insert(&mut self, pos: usize, x: &[f64]) {
        for (l, (lo, hi)) in self.levels.iter_mut().enumerate() {
            let b = (pos >> (l + 1)) * self.dim;
            for (c, &v) in x.iter().enumerate() {
                lo[b + c] = lo[b + c].min(v);
                hi[b + c] = hi[b + c].max(v);
            }
        }
    }

    /// Squared distance from x to the farthest corner of block `block` of level `level` (≥ 1), scaled like
    /// [`Metric::sq`] and summed in the same order: ≥ the computed squared distance to every point of the block.
    fn farthest_sq(&self, level: usize, block: usize, x: &[f64], scale: f64) -> f64 {
        let (lo, hi) = &self.levels[level - 1];
        let b = block * self.dim;
        let mut acc = 0.0;
        for (c, &v) in x.iter().enumerate() {
            let a = (v - lo[b + c]) * scale;
            let z = (v - hi[b + c]) * scale;
            acc += (a * a).max(z * z);
        }
        acc
    }
}

/// Rule 4 over the candidate indices `idx`: the maximal scaled sum and each position's maximiser.
fn pruned_dp(m: &Metric, idx: &[usize]) -> (f64, Vec<usize>) {
    let len = idx.len();
    let mut v = vec![0.0; len];
    let mut back = vec![0usize; len];
    let mut boxes = DyadicBoxes::new(len, m.dim);
    boxes.insert(0, m.point(idx[0]));
    for j in 1..len {
        let x = m.point(idx[j]);
        let mut best = v[j - 1] + m.cost(idx[j - 1], idx[j]);
        let mut arg = j - 1;
        // Candidates 0..top remain; i = top − 1 is the latest of them.
        let mut top = j - 1;
        while top > 0 {
            let i = top - 1;
            let threshold = best - v[i];
            let mut level = 0;
            while level < boxes.depth() {
                let size = 1usize << (level + 1);
                if !top.is_multiple_of(size) {
                    break;
                }
                let bound = m.pow(boxes.farthest_sq(level + 1, top / size - 1, x, m.scale));
                if bound > threshold {
                    break;
                }
                level += 1;
            }
            if level == 0 {
                let c = v[i] + m.cost(idx[i], idx[j]);
                if c > best {
                    best = c;
                    arg = i;
                }
                top -= 1;
            } else {
                top -= 1 << level;
            }
        }
        v[j] = best;
        back[j] = arg;
        boxes.insert(j, x);
    }
    (v[len - 1], back)
}

/// Hölder seminorm ‖g‖_α = max_{k<l} ‖g_l − g_k‖ / (t_l − t_k)^α (004 (2.19)) with strictly increasing `times`
/// (one per point), exact. Candidates k of each l are scanned from l − 1 down and an aligned dyadic block ending at
/// b is skipped when (farthest-corner distance) / (t_l − t_b)^α cannot beat the best quotient so far (sound: for
/// k ≤ b, t_l − t_k ≥ t_l − t_b).
pub fn holder(path: &[f64], times: &[f64], dim: usize, alpha: f64) -> Result<Holder, PathError> {
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(PathError::HolderExponent(alpha));
    }
    let m = Metric::new(path, dim, 1.0)?;
    check_times(times, m.points)?;
    let n1 = m.points;
    let (mut best, mut pair) = (0.0f64, (0usize, 0usize));
    let mut boxes = DyadicBoxes::new(n1, dim);
    boxes.insert(0, m.point(0));
    for l in 1..n1 {
        let x = m.point(l);
        let mut top = l;
        while top > 0 {
            let b = top - 1;
            let denom = (times[l] - times[b]).powf(alpha);
            let mut level = 0;
            while level < boxes.depth() {
                let size = 1usize << (level + 1);
                if !top.is_multiple_of(size) {
                    break;
                }
                let bound = boxes.farthest_sq(level + 1, top / size - 1, x, m.scale).sqrt() / denom;
                if bound > best {
                    break;
                }
                level += 1;
            }
            if level == 0 {
                let q = m.sq(b, l).sqrt() / denom;
                if q > best {
                    best = q;
                    pair = (b, l);
                }
                top -= 1;
            } else {
                top -= 1 << level;
            }
        }
        boxes.insert(l, x);
    }
    let value = best / m.scale;
    if !value.is_finite() {
        return Err(PathError::Overflow("Hölder quotient"));
    }
    Ok(Holder { value, pair })
}

/// One finite time per point, strictly increasing.
pub fn check_times(times: &[f64], points: usize) -> Result<(), PathError> {
    if times.len() != points {
        return Err(PathError::TimesLength {
            points,
            times: times.len(),
        });
    }
    for (k, &t) in times.iter().enumerate() {
        if !t.is_finite() {
            return Err(PathError::TimeNotFinite { index: k, value: t });
        }
        if k > 0 && t <= times[k - 1] {
            return Err(PathError::TimesNotIncreasing {
                index: k,
                value: t,
                previous: times[k - 1],
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "pvar_tests.rs"]
mod tests;
