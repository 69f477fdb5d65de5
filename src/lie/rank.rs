//! N-point rank of the bracket evaluation matrix (SPEC §5: N-point lift, N-point Hörmander condition,
//! "Conditioning").
//!
//! The lift V^{⊕N} commutes with brackets, so every bracket is computed once on R^m and evaluated at the N
//! points x_1..x_N (pairwise distinct; coincident points are rejected naming the indices). For each depth
//! k = 1..max_depth the mN × (#columns) matrix M_k of all columns of depth ≤ k is formed — the graded-span
//! basis ([`super::span`]) for polynomial fields, the Hall basis evaluated with jets ([`super::jet`]) otherwise.
//!
//! * Numerical rank: each column is scaled to unit Euclidean norm (brackets of different degree differ in scale
//!   by orders of magnitude), singular values from nalgebra's SVD, rank = #{σ_i > tol} with
//!   tol = max(mN, cols) · ε · σ_max (ε = f64::EPSILON), or tol = rel_tol · σ_max when [`RankConfig::rel_tol`]
//!   is set. Reported: all singular values, tol, the gap σ_r / σ_{r+1} and the smallest kept singular value σ_r
//!   (a controllability margin).
//! * Exact rank (polynomial fields): Gaussian elimination over Z_p (p = 2^61 − 1) of the Z_p image of M_k,
//!   (a) at seeded random points of Z_p ("generic rank": the rank at almost every point configuration) and
//!   (b) at the given points, whose f64 coordinates are exact dyadic rationals mapped exactly to Z_p.
//!   Rank mod p ≤ rank over Q, with equality unless p divides every nonzero maximal minor (probability
//!   ≈ 0 for a 61-bit prime).
//!
//! Which to trust: the exact rank at the given points decides the algebraic rank condition at those points
//! (and the generic exact rank decides genericity); the numerical rank tells how well-conditioned it is. When
//! they differ the report flags it in [`DepthReport::disagreement`]. `full_rank_depth` is the smallest depth
//! whose exact rank at the given points equals mN (numerical rank when exact ranks are not available).

use super::hall::{witt, HallBasis};
use super::jet::{hall_values_at, FeatureField, JetSpace};
use super::poly::{Coef, Fp, PolyField, Rational};
use super::span::{BracketJson, Echelon, GradedSpan, SpanElem};
use crate::{Error, Result};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Options of the rank analysis.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankConfig {
    /// Deepest bracket depth examined.
    pub max_depth: usize,
    /// None: tol = max(mN, cols)·ε·σ_max. Some(r): tol = r·σ_max.
    pub rel_tol: Option<f64>,
    /// Exact rank over Z_p at seeded random points (polynomial fields only).
    pub exact_generic: bool,
    /// Exact rank over Z_p at the given points (polynomial fields only).
    pub exact_at_points: bool,
    /// Seed of the generic Z_p points.
    pub seed: u64,
    /// Stop at the first depth with full rank.
    pub stop_at_full_rank: bool,
    /// Keep exact rational coefficients of the brackets (for `brackets.json`).
    pub keep_rational: bool,
    /// Refuse Hall-basis analyses (non-polynomial fields) with more columns than this.
    pub max_hall_columns: usize,
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig {
            max_depth: 30,
            rel_tol: None,
            exact_generic: true,
            exact_at_points: true,
            seed: 0x11e_f10e,
            stop_at_full_rank: true,
            keep_rational: true,
            max_hall_columns: 50_000,
        }
    }
}

/// Results for the columns of depth ≤ `depth`.
#[derive(Clone, Debug, Serialize)]
pub struct DepthReport {
    pub depth: usize,
    /// Hall-basis elements of exactly this depth (Witt's formula).
    #[serde(serialize_with = "count_u128")]
    pub n_hall_brackets: u128,
    /// Span dimension added at this depth (polynomial fields).
    pub span_dim_added: Option<usize>,
    /// dim L_{≤depth} (polynomial fields).
    pub span_dim: Option<usize>,
    /// Columns of the evaluation matrix.
    pub n_columns: usize,
    /// Numerical rank.
    pub rank: usize,
    pub tol: f64,
    /// Singular values of the column-scaled matrix, descending.
    pub singular_values: Vec<f64>,
    /// σ_r / σ_{r+1} (None when r is the number of singular values or σ_{r+1} = 0).
    pub gap: Option<f64>,
    /// σ_r, the smallest kept singular value.
    pub min_kept_singular_value: Option<f64>,
    pub exact_generic_rank: Option<usize>,
    pub exact_rank_at_points: Option<usize>,
    /// Full rank mN by the primary rank (exact at the points if available, else numerical).
    pub full: bool,
    pub disagreement: Option<String>,
}

/// The N-point rank analysis.
#[derive(Clone, Debug, Serialize)]
pub struct RankReport {
    pub m: usize,
    pub n_points: usize,
    pub n_fields: usize,
    /// mN.
    pub target_rank: usize,
    /// "graded_span" (polynomial fields) or "hall_jets".
    pub method: String,
    pub tolerance_rule: String,
    pub depths: Vec<DepthReport>,
    pub full_rank_depth: Option<usize>,
    pub numerical_full_rank_depth: Option<usize>,
    pub exact_generic_full_rank_depth: Option<usize>,
    pub exact_at_points_full_rank_depth: Option<usize>,
    /// Smallest kept singular value at `full_rank_depth` (else at the last depth).
    pub min_singular_value: Option<f64>,
    /// Remarks: early stops, closure of the Lie algebra, the m = 1 caveat.
    pub notes: Vec<String>,
    /// Graded-span basis elements (polynomial fields), for `brackets.json`.
    #[serde(skip)]
    pub brackets: Vec<BracketJson>,
}

/// The `summary.json` fields of a study.
#[derive(Clone, Debug, Serialize)]
pub struct RankSummary {
    pub full_rank_depth: Option<usize>,
    pub target_rank: usize,
    pub rank_by_depth: Vec<usize>,
    pub exact_rank_by_depth: Vec<Option<usize>>,
    pub exact_rank_at_points_by_depth: Vec<Option<usize>>,
    pub span_dim_by_depth: Vec<Option<usize>>,
    #[serde(serialize_with = "counts_u128")]
    pub n_brackets_by_depth: Vec<u128>,
    pub min_singular_value: Option<f64>,
    pub tolerance_rule: String,
    pub disagreements: Vec<String>,
    pub notes: Vec<String>,
}

impl RankReport {
    pub fn summary(&self) -> RankSummary {
        RankSummary {
            full_rank_depth: self.full_rank_depth,
            target_rank: self.target_rank,
            rank_by_depth: self.depths.iter().map(|d| d.rank).collect(),
            exact_rank_by_depth: self.depths.iter().map(|d| d.exact_generic_rank).collect(),
            exact_rank_at_points_by_depth: self.depths.iter().map(|d| d.exact_rank_at_points).collect(),
            span_dim_by_depth: self.depths.iter().map(|d| d.span_dim).collect(),
            n_brackets_by_depth: self.depths.iter().map(|d| d.n_hall_brackets).collect(),
            min_singular_value: self.min_singular_value,
            tolerance_rule: self.tolerance_rule.clone(),
            disagreements: self.depths.iter().filter_map(|d| d.disagreement.clone()).collect(),
            notes: self.notes.clone(),
        }
    }
    /// The `brackets.json` list.
    pub fn brackets_json(&self) -> &[BracketJson] {
        &self.brackets
    }
    /// Numerical rank at `depth`, if computed.
    pub fn rank_at(&self, depth: usize) -> Option<usize> {
        self.depths.iter().find(|d| d.depth == depth).map(|d| d.rank)
    }
}

/// A count as a JSON number when it fits 64 bits, else as its exact decimal string (Witt's numbers at depth 40
/// exceed 2^64; JSON readers lose integers past 2^53 anyway).
fn count_u128<S: serde::Serializer>(v: &u128, s: S) -> std::result::Result<S::Ok, S::Error> {
    match u64::try_from(*v) {
        Ok(x) => s.serialize_u64(x),
        Err(_) => s.serialize_str(&v.to_string()),
    }
}

fn counts_u128<S: serde::Serializer>(v: &[u128], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    struct C(u128);
    impl Serialize for C {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            count_u128(&self.0, s)
        }
    }
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&C(*x))?;
    }
    seq.end()
}

/// Checks dimensions, finiteness and pairwise distinctness of the points (distinctness by hashing the exact
/// coordinates, −0 = +0, so N points cost O(N·m)).
pub fn validate_points(points: &[Vec<f64>], m: usize) -> Result<()> {
    for (i, p) in points.iter().enumerate() {
        if p.len() != m {
            return Err(Error::input(
                "<lie>",
                "points",
                format!("point {} (1-based) has dimension {}, expected {m}", i + 1, p.len()),
            ));
        }
        if p.iter().any(|v| !v.is_finite()) {
            return Err(Error::input(
                "<lie>",
                "points",
                format!("point {} (1-based) is not finite", i + 1),
            ));
        }
    }
    let mut seen: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::with_capacity(points.len());
    for (j, p) in points.iter().enumerate() {
        let key: Vec<u64> = p.iter().map(|&v| if v == 0.0 { 0 } else { v.to_bits() }).collect();
        if let Some(i) = seen.insert(key, j) {
            return Err(Error::input(
                "<lie>",
                "points",
                format!(
                    "points {} and {} coincide (1-based); the N-point lift needs pairwise distinct points",
                    i + 1,
                    j + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Fails with a numerical error naming the depth and point if a bracket value is not finite.
fn check_finite(cols: &[Vec<f64>], m: usize, depth: usize) -> Result<()> {
    for c in cols {
        if let Some(r) = c.iter().position(|v| !v.is_finite()) {
            return Err(Error::numerical(
                format!("non-finite bracket value at depth {depth} (points too large for this depth?)"),
                0.0,
                depth,
                Some(r / m.max(1)),
            ));
        }
    }
    Ok(())
}

/// Numerical rank of column-scaled columns (each of length `rows`).
pub struct NumRank {
    pub rank: usize,
    pub tol: f64,
    pub singular_values: Vec<f64>,
    pub gap: Option<f64>,
    pub min_kept: Option<f64>,
}

/// SVD rank with tol = max(rows, cols)·ε·σ_max (or rel_tol·σ_max) after scaling columns to unit norm.
pub fn numerical_rank(cols: &[Vec<f64>], rows: usize, rel_tol: Option<f64>) -> NumRank {
    let nc = cols.len();
    if nc == 0 || rows == 0 {
        return NumRank {
            rank: 0,
            tol: 0.0,
            singular_values: vec![],
            gap: None,
            min_kept: None,
        };
    }
    let norms: Vec<f64> = cols
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let mat = DMatrix::from_fn(
        rows,
        nc,
        |r, c| {
            if norms[c] > 0.0 {
                cols[c][r] / norms[c]
            } else {
                0.0
            }
        },
    );
    let mut sv: Vec<f64> = mat.svd(false, false).singular_values.iter().copied().collect();
    sv.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
    let smax = sv.first().copied().unwrap_or(0.0);
    let tol = match rel_tol {
        Some(r) => r * smax,
        None => rows.max(nc) as f64 * f64::EPSILON * smax,
    };
    let rank = sv.iter().filter(|&&s| s > tol).count();
    let min_kept = (rank > 0).then(|| sv[rank - 1]);
    let gap = (rank > 0 && rank < sv.len() && sv[rank] > 0.0).then(|| sv[rank - 1] / sv[rank]);
    NumRank {
        rank,
        tol,
        singular_values: sv,
        gap,
        min_kept,
    }
}

fn tolerance_rule(cfg: &RankConfig) -> String {
    match cfg.rel_tol {
        Some(r) => format!("columns scaled to unit norm; tol = {r:e} * sigma_max"),
        None => "columns scaled to unit norm; tol = max(mN, cols) * f64::EPSILON * sigma_max".into(),
    }
}

/// Evaluation of a Z_p field with precomputed powers pows[j][e] = x_j^e.
fn eval_fp_pows(f: &PolyField<Fp>, pows: &[Vec<Fp>], out: &mut Vec<Fp>) {
    for p in &f.comps {
        let mut s = Fp(0);
        for (e, c) in &p.terms {
            let mut t = *c;
            for (j, &k) in e.iter().enumerate() {
                if k > 0 {
                    t = t.mul(&pows[j][k as usize]);
                }
            }
            s = s.add(&t);
        }
        out.push(s);
    }
}

fn powers(points: &[Vec<Fp>], deg: usize) -> Vec<Vec<Vec<Fp>>> {
    points
        .iter()
        .map(|p| {
            p.iter()
                .map(|&x| {
                    let mut v = vec![Fp(1); deg + 1];
                    for e in 1..=deg {
                        v[e] = v[e - 1].mul(&x);
                    }
                    v
                })
                .collect()
        })
        .collect()
}

/// Column of a Z_p field at all points (stacked).
fn fp_column(f: &PolyField<Fp>, pows: &[Vec<Vec<Fp>>]) -> Vec<Fp> {
    let mut out = Vec::with_capacity(pows.len() * f.m);
    for pw in pows {
        eval_fp_pows(f, pw, &mut out);
    }
    out
}

/// Random points of Z_p^m.
pub fn generic_fp_points(n: usize, m: usize, seed: u64) -> Vec<Vec<Fp>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..m).map(|_| Fp::new(rng.gen::<u64>())).collect())
        .collect()
}

/// Exact images of float points in Z_p.
pub fn fp_points(points: &[Vec<f64>]) -> Vec<Vec<Fp>> {
    points
        .iter()
        .map(|p| p.iter().map(|&x| Fp::from_f64(x).expect("finite")).collect())
        .collect()
}

/// Rank analysis of polynomial fields given by their span generators (see [`super::analyze_polynomial`]).
pub fn analyze_span_generators(gens: Vec<SpanElem>, points: &[Vec<f64>], cfg: &RankConfig) -> Result<RankReport> {
    let d = gens.len();
    if d == 0 {
        return Err(Error::input("<lie>", "fields", "no vector fields given"));
    }
    let m = gens[0].fl.m;
    if gens.iter().any(|g| g.fl.m != m) {
        return Err(Error::input(
            "<lie>",
            "fields",
            "fields have different state dimensions",
        ));
    }
    validate_points(points, m)?;
    let n = points.len();
    let rows = m * n;
    let gen_pts = generic_fp_points(n, m, cfg.seed);
    let given_pts = fp_points(points);
    let mut span = GradedSpan::new(gens, cfg.keep_rational);
    let mut ech_gen = Echelon::new();
    let mut ech_pts = Echelon::new();
    let mut fl_cols: Vec<Vec<f64>> = Vec::new();
    let mut done = 0usize; // basis elements already turned into columns
    let mut depths = Vec::new();
    let mut closed = None;
    for k in 1..=cfg.max_depth.max(1) {
        if k > 1 {
            span.grow();
        }
        let new: Vec<&SpanElem> = span.basis[done..].iter().collect();
        done = span.basis.len();
        let maxdeg = new.iter().map(|b| b.fp.degree() as usize).max().unwrap_or(0);
        let new_fl: Vec<Vec<f64>> = new
            .par_iter()
            .map(|b| points.iter().flat_map(|p| b.fl.eval(p)).collect())
            .collect();
        check_finite(&new_fl, m, k)?;
        fl_cols.extend(new_fl);
        let exact_generic_rank = cfg.exact_generic.then(|| {
            let pw = powers(&gen_pts, maxdeg);
            let cols: Vec<Vec<Fp>> = new.par_iter().map(|b| fp_column(&b.fp, &pw)).collect();
            for c in cols {
                if ech_gen.rank() < rows {
                    ech_gen.insert(c);
                }
            }
            ech_gen.rank()
        });
        let exact_rank_at_points = cfg.exact_at_points.then(|| {
            let pw = powers(&given_pts, maxdeg);
            let cols: Vec<Vec<Fp>> = new.par_iter().map(|b| fp_column(&b.fp, &pw)).collect();
            for c in cols {
                if ech_pts.rank() < rows {
                    ech_pts.insert(c);
                }
            }
            ech_pts.rank()
        });
        let nr = numerical_rank(&fl_cols, rows, cfg.rel_tol);
        let st = &span.stats[k - 1];
        depths.push(depth_report(
            k,
            d,
            Some((st.added, st.cumulative)),
            fl_cols.len(),
            nr,
            exact_generic_rank,
            exact_rank_at_points,
            rows,
        ));
        if cfg.stop_at_full_rank && depths.last().unwrap().full {
            break;
        }
        if k >= 2 && st.added == 0 {
            closed = Some((k, st.cumulative));
            break;
        }
    }
    let brackets = span.basis.iter().map(|b| b.to_json()).collect();
    let mut rep = finish(m, n, d, "graded_span", cfg, depths, brackets);
    if let Some((k, dim)) = closed {
        rep.notes.push(format!(
            "depth {k} adds nothing: the Lie algebra generated by the fields is finite-dimensional (dim {dim}), \
             so deeper brackets cannot raise the rank; stopped"
        ));
    }
    Ok(rep)
}

#[allow(clippy::too_many_arguments)]
fn depth_report(
    k: usize,
    d: usize,
    span: Option<(usize, usize)>,
    n_columns: usize,
    nr: NumRank,
    exact_generic_rank: Option<usize>,
    exact_rank_at_points: Option<usize>,
    rows: usize,
) -> DepthReport {
    let primary = exact_rank_at_points.unwrap_or(nr.rank);
    let mut notes = Vec::new();
    if let Some(e) = exact_rank_at_points {
        if e != nr.rank {
            notes.push(format!(
                "depth {k}: numerical rank {} != exact rank {e} at the given points (tol {:.3e}, smallest kept \
                 singular value {:?}); trust the exact rank for the rank condition, the numerical one as a \
                 conditioning measure",
                nr.rank, nr.tol, nr.min_kept
            ));
        }
    }
    if let (Some(g), Some(e)) = (exact_generic_rank, exact_rank_at_points) {
        if g != e {
            notes.push(format!(
                "depth {k}: exact rank {e} at the given points differs from the generic exact rank {g}: the points \
                 are special for these brackets"
            ));
        }
    }
    DepthReport {
        depth: k,
        n_hall_brackets: witt(d, k),
        span_dim_added: span.map(|s| s.0),
        span_dim: span.map(|s| s.1),
        n_columns,
        rank: nr.rank,
        tol: nr.tol,
        singular_values: nr.singular_values,
        gap: nr.gap,
        min_kept_singular_value: nr.min_kept,
        exact_generic_rank,
        exact_rank_at_points,
        full: primary == rows,
        disagreement: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

fn finish(
    m: usize,
    n: usize,
    d: usize,
    method: &str,
    cfg: &RankConfig,
    depths: Vec<DepthReport>,
    brackets: Vec<BracketJson>,
) -> RankReport {
    let rows = m * n;
    let first = |f: &dyn Fn(&DepthReport) -> Option<usize>| depths.iter().find(|r| f(r) == Some(rows)).map(|r| r.depth);
    let full_rank_depth = depths.iter().find(|r| r.full).map(|r| r.depth);
    let min_singular_value = full_rank_depth
        .and_then(|k| depths.iter().find(|r| r.depth == k))
        .or(depths.last())
        .and_then(|r| r.min_kept_singular_value);
    RankReport {
        m,
        n_points: n,
        n_fields: d,
        target_rank: rows,
        method: method.into(),
        tolerance_rule: tolerance_rule(cfg),
        numerical_full_rank_depth: first(&|r| Some(r.rank)),
        exact_generic_full_rank_depth: first(&|r| r.exact_generic_rank),
        exact_at_points_full_rank_depth: first(&|r| r.exact_rank_at_points),
        full_rank_depth,
        min_singular_value,
        depths,
        notes: if m == 1 {
            vec![
                "m = 1: the rank condition gives local controllability only; flows on the line preserve the \
                  order of the points, so reordered targets are unreachable (see lie::order::check_order_1d)"
                    .to_string(),
            ]
        } else {
            Vec::new()
        },
        brackets,
    }
}

/// Rank analysis of non-polynomial fields: Hall brackets evaluated with jets (numerical rank only).
pub fn analyze_feature_fields(fields: &[FeatureField], points: &[Vec<f64>], cfg: &RankConfig) -> Result<RankReport> {
    let d = fields.len();
    if d == 0 {
        return Err(Error::input("<lie>", "fields", "no vector fields given"));
    }
    let m = fields[0].m();
    for (i, f) in fields.iter().enumerate() {
        if f.m() != m || f.c.len() != m || f.c.iter().any(|r| r.len() != m) {
            return Err(Error::input(
                "<lie>",
                "fields",
                format!("field {i}: C must be {m}×{m} and b of length {m}"),
            ));
        }
    }
    validate_points(points, m)?;
    let kmax = cfg.max_depth.max(1);
    let n = points.len();
    let rows = m * n;
    let mut depths = Vec::new();
    let mut notes = Vec::new();
    // Iterative deepening: depth k uses jets of order k − 1 and the Hall basis up to k (the Hall basis up to
    // k − 1 is a prefix of it); the work is dominated by the last depth.
    for k in 1..=kmax {
        let total: u128 = (1..=k).map(|j| witt(d, j)).sum();
        if total > cfg.max_hall_columns as u128 {
            notes.push(format!(
                "stopped before depth {k}: {total} Hall brackets would exceed max_hall_columns = {}",
                cfg.max_hall_columns
            ));
            break;
        }
        let hall = HallBasis::new(d, k);
        let js = JetSpace::new(m, k - 1);
        let vals: Vec<Vec<Vec<f64>>> = points
            .par_iter()
            .map(|p| hall_values_at(fields, &hall, p, &js))
            .collect();
        let cols: Vec<Vec<f64>> = (0..hall.elems.len())
            .map(|idx| vals.iter().flat_map(|v| v[idx].iter().copied()).collect())
            .collect();
        check_finite(&cols, m, k)?;
        let nr = numerical_rank(&cols, rows, cfg.rel_tol);
        depths.push(depth_report(k, d, None, cols.len(), nr, None, None, rows));
        if cfg.stop_at_full_rank && depths.last().unwrap().full {
            break;
        }
    }
    let mut rep = finish(m, n, d, "hall_jets", cfg, depths, Vec::new());
    rep.notes.extend(notes);
    Ok(rep)
}

/// Generators of a graded span from exact rational fields.
pub fn rational_generators(fields: &[PolyField<Rational>]) -> Result<Vec<SpanElem>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            SpanElem::from_rational(i, f).ok_or_else(|| {
                Error::input(
                    "<lie>",
                    "fields",
                    format!("field {i}: coefficient overflow or denominator divisible by p"),
                )
            })
        })
        .collect()
}

/// Generators of a graded span from float polynomial fields (exact dyadic values mod p).
pub fn float_generators(fields: &[PolyField<f64>]) -> Result<Vec<SpanElem>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            SpanElem::from_f64(i, f)
                .ok_or_else(|| Error::input("<lie>", "fields", format!("field {i}: non-finite coefficient")))
        })
        .collect()
}

/// Exact rank over Z_p of the Hall-bracket evaluation matrix up to `depth` at the given (float, exact dyadic)
/// points, WITHOUT the graded-span shortcut: an independent check of [`analyze_span_generators`].
pub fn hall_exact_rank_at_points(fields: &[PolyField<Rational>], points: &[Vec<f64>], depth: usize) -> Option<usize> {
    let fp: Vec<PolyField<Fp>> = fields.iter().map(|f| f.to_fp()).collect::<Option<_>>()?;
    let hall = HallBasis::new(fields.len(), depth);
    let vals = hall.evaluate(&fp, |a, b| a.bracket(b));
    let maxdeg = vals.iter().map(|v| v.degree() as usize).max().unwrap_or(0);
    let pw = powers(&fp_points(points), maxdeg);
    let cols: Vec<Vec<Fp>> = vals.par_iter().map(|v| fp_column(v, &pw)).collect();
    Some(super::span::fp_rank(&cols))
}
