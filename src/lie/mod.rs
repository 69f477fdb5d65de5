//! Lie-bracket tools for N-point controllability (SPEC §5, seed 003: Cuchiero, Larsson, Teichmann).
//!
//! # Bracket convention
//! `[V, W](x)` = DW(x)·V(x) − DV(x)·W(x). For linear fields V = Ax, W = Bx this is `[V, W](x)` = (BA − AB)x
//! (the seed's slide writes (AB − BA)x, which is wrong under its own definition). The convention is fixed by
//! the flow test ([`flow_commutator`]): flowing along V, W, −V, −W for time t each moves x by
//! t²`[V, W](x)` + O(t³).
//!
//! # Modules
//! * [`poly`] — exact polynomial vector fields over Q (`i128` rationals with overflow detection), Z_p
//!   (p = 2^61 − 1) and f64; bracket, derivative, Jacobian–vector product, evaluation; Cuchiero's five fields
//!   ([`poly::cuchiero_fields`]) and seeded random polynomial fields.
//! * [`hall`] — the (Marshall) Hall basis of the free Lie algebra up to a depth, with word labels; counts per
//!   depth follow Witt's formula.
//! * [`jet`] — truncated Taylor arithmetic to evaluate brackets of non-polynomial fields (random features,
//!   nODE fields σ(Wx + b)) at a point, exactly up to rounding.
//! * [`span`] — graded spans L_{≤1} ⊆ L_{≤2} ⊆ … via L_{≤k} = L_{≤k−1} + [V_i, new basis of depth k−1], with
//!   exact elimination over Z_p; each basis element keeps its right-nested word.
//! * [`rank`] — the N-point rank per depth: numerical (column-scaled SVD with a stated tolerance, singular
//!   values, gap, smallest kept singular value) and exact over Z_p (at generic points and at the given points).
//! * [`genericity`](mod@genericity) — probability of full rank over random draws, Wilson 95 % interval, depth histogram.
//! * [`order`] — the m = 1 ordering obstruction.
//! * [`flow`] — the flow commutator used for the sign test.
//!
//! # Entry points
//! [`analyze_polynomial`], [`analyze_polynomial_f64`], [`analyze_features`], [`graded_span`],
//! [`genericity::genericity`], [`order::check_order_1d`], [`flow_commutator`]. Reports are `serde::Serialize`;
//! [`rank::RankReport::summary`] gives the `summary.json` fields (`full_rank_depth`, `rank_by_depth`,
//! `exact_rank_by_depth`, `span_dim_by_depth`, `n_brackets_by_depth`, `min_singular_value`) and
//! [`rank::RankReport::brackets_json`] the `brackets.json` list.

pub mod flow;
pub mod genericity;
pub mod hall;
pub mod jet;
pub mod order;
pub mod poly;
pub mod rank;
pub mod span;

pub use flow::flow_commutator;
pub use genericity::{genericity, GenericityConfig, GenericityReport, RandomFamily};
pub use hall::{witt, HallBasis};
pub use jet::FeatureField;
pub use order::{check_order_1d, OrderReport};
pub use poly::{cuchiero_fields, random_poly_fields, Fp, PolyField, Rational};
pub use rank::{DepthReport, RankConfig, RankReport, RankSummary};
pub use span::GradedSpan;

use crate::Result;

/// N-point rank analysis of polynomial fields with exact rational coefficients: graded span, numerical and
/// exact ranks per depth (see [`rank`]).
pub fn analyze_polynomial(fields: &[PolyField<Rational>], points: &[Vec<f64>], cfg: &RankConfig) -> Result<RankReport> {
    rank::analyze_span_generators(rank::rational_generators(fields)?, points, cfg)
}

/// As [`analyze_polynomial`] for float coefficients; the exact ranks use their exact dyadic values mod p and
/// `brackets.json` carries float coefficients.
pub fn analyze_polynomial_f64(fields: &[PolyField<f64>], points: &[Vec<f64>], cfg: &RankConfig) -> Result<RankReport> {
    let cfg = RankConfig {
        keep_rational: false,
        ..cfg.clone()
    };
    rank::analyze_span_generators(rank::float_generators(fields)?, points, &cfg)
}

/// N-point rank analysis of random-feature / nODE fields σ(Cx + b): Hall brackets evaluated with jets,
/// numerical rank only. Fields with polynomial σ can be analysed exactly via
/// [`FeatureField::to_poly`] and [`analyze_polynomial_f64`].
pub fn analyze_features(fields: &[FeatureField], points: &[Vec<f64>], cfg: &RankConfig) -> Result<RankReport> {
    rank::analyze_feature_fields(fields, points, cfg)
}

/// The graded span of exact polynomial fields up to `depth`.
pub fn graded_span(fields: &[PolyField<Rational>], depth: usize, keep_rational: bool) -> Result<GradedSpan> {
    let mut s = GradedSpan::new(rank::rational_generators(fields)?, keep_rational);
    s.extend_to(depth);
    Ok(s)
}
