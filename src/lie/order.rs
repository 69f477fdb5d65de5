//! The m = 1 ordering obstruction (SPEC §5 item 11). Flows of ODEs on R are increasing homeomorphisms, so
//! x_i < x_j forces X_t(x_i) < X_t(x_j): a target whose order differs from the source order (or which merges two
//! points) can never be interpolated, whatever the fields and controls. The Lie-rank theory (m ≥ 2) does not
//! apply on the line.

use crate::{Error, Result};
use serde::Serialize;

/// Outcome of the order check.
#[derive(Clone, Debug, Serialize)]
pub struct OrderReport {
    /// True iff the target order equals the source order (interpolation is not ruled out).
    pub preserved: bool,
    /// Indices sorted by source value.
    pub source_order: Vec<usize>,
    /// Indices sorted by target value.
    pub target_order: Vec<usize>,
    /// Pairs (i, j) with x_i < x_j but y_i ≥ y_j (0-based), the first [`MAX_LISTED`] of them.
    pub violations: Vec<(usize, usize)>,
    /// How many such pairs there are in all.
    pub n_violations: usize,
    pub message: String,
}

/// At most this many violating pairs are listed (there can be N(N−1)/2 of them).
pub const MAX_LISTED: usize = 1000;

fn argsort(v: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].partial_cmp(&v[b]).unwrap().then(a.cmp(&b)));
    idx
}

/// Checks whether the targets `y` keep the order of the points `x` on the line.
pub fn check_order_1d(x: &[f64], y: &[f64]) -> Result<OrderReport> {
    if x.len() != y.len() {
        return Err(Error::input(
            "<lie>",
            "targets",
            format!("{} points but {} targets", x.len(), y.len()),
        ));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(Error::input("<lie>", "points", "non-finite point or target"));
    }
    let source_order = argsort(x);
    if let Some(w) = source_order.windows(2).find(|w| x[w[0]] == x[w[1]]) {
        let (i, j) = (w[0].min(w[1]), w[0].max(w[1]));
        return Err(Error::input(
            "<lie>",
            "points",
            format!("points {} and {} coincide (1-based)", i + 1, j + 1),
        ));
    }
    let mut violations = Vec::new();
    let mut n_violations = 0;
    for i in 0..x.len() {
        for j in 0..x.len() {
            if x[i] < x[j] && y[i] >= y[j] {
                n_violations += 1;
                if violations.len() < MAX_LISTED {
                    violations.push((i, j));
                }
            }
        }
    }
    let preserved = n_violations == 0;
    let message = if preserved {
        "target order equals source order: no ordering obstruction".to_string()
    } else {
        let (i, j) = violations[0];
        format!(
            "ordering obstruction (m = 1): x_{i} = {} < x_{j} = {} but y_{i} = {} >= y_{j} = {}; flows on the line \
             preserve order, so no controlled ODE maps these points to these targets ({} violating pairs)",
            x[i], x[j], y[i], y[j], n_violations
        )
    };
    Ok(OrderReport {
        preserved,
        source_order,
        target_order: argsort(y),
        violations,
        n_violations,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_swapped_order() {
        let r = check_order_1d(&[-1.0, 0.0, 1.0], &[0.0, 1.0, 2.0]).unwrap();
        assert!(r.preserved);
        let r = check_order_1d(&[-1.0, 0.0, 1.0], &[0.0, 2.0, 1.0]).unwrap();
        assert!(!r.preserved);
        assert_eq!(r.violations, vec![(1, 2)]);
        assert!(r.message.contains("ordering obstruction"));
        // merging two points is also impossible
        assert!(!check_order_1d(&[0.0, 1.0], &[3.0, 3.0]).unwrap().preserved);
        assert!(matches!(
            check_order_1d(&[0.0, 0.0], &[1.0, 2.0]),
            Err(crate::Error::Input { .. })
        ));
    }
}
