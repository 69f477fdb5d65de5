//! What an N-point rank analysis costs ([`crate::scenario::budget`] terms), for the `lie` and `genericity` studies:
//! the rank matrices of mN rows and one column per kept bracket, the exact echelon forms, the polynomial span
//! (polynomial fields) or the jets (feature fields), and the fields and points themselves.
//!
//! Column counts: polynomial fields of degree ≤ g have brackets of depth k of degree ≤ 1 + k(g − 1), so the graded
//! span up to depth D has at most min(#Hall brackets, m·C(m + 1 + D(g − 1), m)) elements; feature fields use the
//! Hall basis up to the last depth D' whose size stays within `max_hall_columns` (the analysis stops there), with
//! jets of order D' − 1: C(m + D' − 1, m) coefficients, C(2m + D' − 1, 2m) products in the multiplication table.

use super::{FieldFamily, LieFields, LieSpec};
use crate::lie::RankConfig;
use crate::scenario::budget::{binomial, hall_total, poly_field_space, rank_matrix_terms, Budget, Estimate};
use crate::scenario::sizes::threads;
use crate::scenario::ScenarioFile;
use crate::Result;

/// The kind of fields analysed.
#[derive(Clone, Copy, Debug)]
pub enum FieldKind {
    /// Exact polynomial fields of degree ≤ `degree` (graded span); `field` is where the degree comes from.
    Poly { degree: f64, field: &'static str },
    /// σ(Cx + b) fields, brackets evaluated with jets.
    Features,
}

/// A rank analysis of `d` fields on R^m at N points up to `depth`, each factor with the field it comes from.
pub struct RankCost<'a> {
    pub m: (&'a str, f64),
    pub n: (&'a str, f64),
    pub d: (&'a str, f64),
    pub depth: (&'a str, usize),
    pub kind: FieldKind,
    /// Analyses running at once (genericity: one per thread).
    pub parallel: f64,
}

impl RankCost<'_> {
    /// Adds the analysis' terms to `est`.
    pub fn add_to(&self, est: &mut Estimate) {
        let (m, n, d) = (self.m, self.n, self.d);
        let depth = self.depth.1.max(1);
        let par = ("", self.parallel.max(1.0));
        match self.kind {
            FieldKind::Poly { degree, field } => {
                let top = 1.0 + depth as f64 * (degree - 1.0).max(0.0);
                let space = poly_field_space(m.1, top);
                let cols = hall_total(d.1, depth).min(space);
                let col = (self.depth.0, cols);
                rank_matrix_terms(est, m, n, col, 4.0 * par.1);
                est.add(
                    "powers of the point coordinates (Z_p, two point sets)",
                    &[m, n, (field, top + 1.0), par],
                    16.0,
                );
                // Each span element in three representations (Z_p, f64, exact rational), ≤ `space` terms each.
                est.add(
                    "graded-span polynomials",
                    &[col, (m.0, space), par],
                    3.0 * (4.0 * m.1 + 64.0),
                );
            }
            FieldKind::Features => {
                let max_cols = RankConfig::default().max_hall_columns as f64;
                let last = (1..=depth).take_while(|&k| hall_total(d.1, k) <= max_cols).last();
                let Some(last) = last else { return };
                let cols = hall_total(d.1, last);
                let col = (self.depth.0, cols);
                let order = (last - 1) as f64;
                let mons = binomial(m.1 + order, order);
                rank_matrix_terms(est, m, n, col, 4.0 * par.1);
                est.add(
                    "jet multiplication table",
                    &[m, (m.0, binomial(2.0 * m.1 + order, order))],
                    24.0,
                );
                est.add(
                    "Hall-bracket jets per thread",
                    &[col, m, (m.0, mons), ("", threads())],
                    8.0,
                );
            }
        }
    }
}

/// The fields of the `lie` study and the random numbers drawn to make them: Cuchiero's five fields on R^m
/// (two m × m linear fields, each term an exponent vector of m entries), or `count` random features (C, b).
pub fn cuchiero_terms(m: f64, est: &mut Estimate) {
    est.add(
        "Cuchiero's linear fields",
        &[("lie.dim", m), ("lie.dim", m)],
        2.0 * (4.0 * m + 112.0),
    );
}

/// `count` random features σ_i(C_i x + b_i) on R^m.
pub fn feature_terms(count: f64, m: f64, est: &mut Estimate) {
    let f = [("lie.fields.count", count), ("lie.dim", m), ("lie.dim", m + 1.0)];
    est.add("random features (C, b)", &f, 8.0);
    est.draws("random features", &f);
}

/// The memory and preparation work of the analysis `s` describes (the terms above), checked against the budget
/// before anything is built.
pub fn check(f: &ScenarioFile, s: &LieSpec) -> Result<()> {
    let mut est = Estimate::new();
    let (m, d, kind) = match &s.fields {
        LieFields::Named(_) => {
            let m = s.dim.unwrap_or(2) as f64;
            cuchiero_terms(m, &mut est);
            (
                m,
                5.0,
                FieldKind::Poly {
                    degree: 2.0,
                    field: "lie.max_depth",
                },
            )
        }
        LieFields::Polynomial(specs) => {
            let m = s.dim.map(|m| m as f64).unwrap_or_else(|| {
                specs
                    .iter()
                    .flat_map(|p| p.terms.first())
                    .map(|t| t.exponents.len() as f64)
                    .next()
                    .unwrap_or(1.0)
            });
            let degree = specs
                .iter()
                .flat_map(|p| &p.terms)
                .map(|t| t.exponents.iter().map(|&e| e as f64).sum::<f64>())
                .fold(0.0, f64::max);
            (
                m,
                specs.len() as f64,
                FieldKind::Poly {
                    degree,
                    field: "lie.fields",
                },
            )
        }
        LieFields::Family(FieldFamily::RandomFeatures { count, .. }) => {
            let m = s.dim.unwrap_or(1) as f64;
            feature_terms(*count as f64, m, &mut est);
            (m, *count as f64, FieldKind::Features)
        }
        LieFields::Family(FieldFamily::Node { w, b, .. }) => {
            let m = s
                .dim
                .map(|m| m as f64)
                .or(b.first().map(|b| b.len() as f64))
                .unwrap_or(1.0);
            (m, w.len() as f64, FieldKind::Features)
        }
    };
    let (n_field, n) = match (&s.points, &s.random_points) {
        (Some(p), _) => ("lie.points", p.len() as f64),
        (None, Some(r)) => {
            let n = r.n as f64;
            est.add("random points", &[("lie.random_points.n", n), ("lie.dim", m)], 8.0);
            est.draws("random points", &[("lie.random_points.n", n), ("lie.dim", m)]);
            ("lie.random_points.n", n)
        }
        (None, None) => ("lie.points", 0.0),
    };
    est.add(
        "distinctness check of the points",
        &[(n_field, n), ("lie.dim", m)],
        8.0 + 64.0 / m.max(1.0),
    );
    RankCost {
        m: ("lie.dim", m),
        n: (n_field, n),
        d: ("lie.fields", d),
        depth: ("lie.max_depth", s.max_depth),
        kind,
        parallel: 1.0,
    }
    .add_to(&mut est);
    let tables = [("lie.max_depth", s.max_depth as f64), ("lie.dim", m), (n_field, n)];
    est.table("singular_values.csv", &tables, ("", 4.0));
    est.check(f, &Budget::current()?)
}
