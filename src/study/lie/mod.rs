//! `lie`: the N-point rank analysis of SPEC §5 ([`crate::lie`]). The fields and points are declared in the
//! scenario's `[lie]` table (not via `[model]`):
//!
//! * `fields = "cuchiero"` with `dim = m` — Cuchiero's five fields (SPEC §5 item 9, [`lie::cuchiero_fields`]);
//! * `[[lie.fields]]` tables with `terms = [{ component, exponents, coef }]` — explicit polynomial fields with exact
//!   rational coefficients (integers or strings such as `"3/2"`);
//! * `[lie.fields]` with `kind = "random_features"` (`count`, `activation`, `seed`, `scale`; omit `activation` for
//!   SPEC §5 item 10's random polynomial σ) or `kind = "node"` (frozen `w`, `b`, `activation`) — σ(Cx + b)
//!   fields, brackets evaluated at the points with jets.
//!
//! Points: `points = [[…], …]` or `random_points = { n, seed, low, high }` (uniform in [low, high)^m). Optional
//! `targets` (m = 1): the ordering obstruction of SPEC §5 item 11 is reported.
//!
//! Convention: `[V, W]` = DW·V − DV·W. Polynomial fields go through the exact graded span
//! ([`lie::analyze_polynomial`]): numerical rank (column-scaled SVD) and exact rank over Z_p at the given points
//! and at generic points; feature fields through the Hall basis and jets ([`lie::analyze_features`]), with an
//! exact cross-check when every σ is polynomial. Outputs: summary.json (`full_rank_depth`, `rank_by_depth`,
//! `exact_rank_by_depth`, `span_dim_by_depth`, `n_brackets_by_depth`, `min_singular_value`, tolerance rule,
//! disagreements, notes, `rank_to_trust`), `brackets.json`, `ranks.csv`, `singular_values.csv`, `points.csv`,
//! figures `singular-values` and `rank-vs-depth`.

pub mod cost;

use super::{BenchKernel, Context, Plan, Study, StudyOutput};
use crate::field::Activation;
use crate::lie::{self, FeatureField, HallBasis, PolyField, RankConfig, RankReport, Rational};
use crate::output::table::Table;
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};
use std::fmt;
use std::time::Instant;

/// `[lie]`: fields, points and options of the N-point rank analysis.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LieSpec {
    /// The vector fields V_1..V_d.
    pub fields: LieFields,
    /// State dimension m (required for `"cuchiero"` and random features; checked otherwise).
    pub dim: Option<usize>,
    /// Explicit points x_1..x_N (pairwise distinct).
    pub points: Option<Vec<Vec<f64>>>,
    /// Seeded random points.
    pub random_points: Option<RandomPoints>,
    /// Targets y_1..y_N (m = 1: ordering obstruction).
    pub targets: Option<Vec<Vec<f64>>>,
    /// Deepest bracket depth examined.
    #[serde(default = "five")]
    pub max_depth: usize,
    /// Relative SVD tolerance (default max(mN, cols)·ε).
    pub rel_tol: Option<f64>,
    /// Exact ranks over Z_p (polynomial fields).
    #[serde(default = "yes")]
    pub exact: bool,
    /// Stop at the first depth with full rank.
    #[serde(default = "yes")]
    pub stop_at_full_rank: bool,
}

fn five() -> usize {
    5
}
fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}
fn minus_one() -> f64 {
    -1.0
}

/// `random_points = { n, seed, low, high }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomPoints {
    pub n: usize,
    /// Defaults to the scenario seed.
    pub seed: Option<u64>,
    #[serde(default = "minus_one")]
    pub low: f64,
    #[serde(default = "one")]
    pub high: f64,
}

/// The `fields` of `[lie]`: a named family (string), explicit polynomial fields (array of tables) or a field
/// family (table with `kind`).
#[derive(Clone, Debug)]
pub enum LieFields {
    /// `"cuchiero"`.
    Named(String),
    /// `[[lie.fields]]` with `terms`.
    Polynomial(Vec<PolyFieldSpec>),
    /// `[lie.fields]` with `kind`.
    Family(FieldFamily),
}

impl<'de> Deserialize<'de> for LieFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LieFields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "\"cuchiero\", an array of polynomial fields ([[lie.fields]] with terms) or a table with `kind`",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<LieFields, E> {
                match s {
                    "cuchiero" => Ok(LieFields::Named(s.to_string())),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &"\"cuchiero\"")),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<LieFields, A::Error> {
                Vec::<PolyFieldSpec>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(LieFields::Polynomial)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<LieFields, A::Error> {
                FieldFamily::deserialize(de::value::MapAccessDeserializer::new(map)).map(LieFields::Family)
            }
        }
        d.deserialize_any(V)
    }
}

/// One explicit polynomial field: V(x)_component = Σ coef · Π x_i^{exponents_i}.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolyFieldSpec {
    pub terms: Vec<TermSpec>,
}

/// One monomial with an exact coefficient.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermSpec {
    /// Output component (0-based).
    pub component: usize,
    /// Exponent of each coordinate (length m).
    pub exponents: Vec<u32>,
    /// Exact rational: an integer, or a string "p/q" / "p".
    pub coef: ExactCoef,
}

/// An exact rational coefficient read from an integer or a `"p/q"` string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactCoef(pub Rational);

/// Parses `"p/q"`, `"p"` (whitespace allowed) into a normalised rational.
pub fn parse_rational(s: &str) -> std::result::Result<Rational, String> {
    let bad = || format!("invalid rational `{s}`: expected an integer or \"p/q\" with integers p, q ≠ 0");
    let (p, q) = match s.split_once('/') {
        Some((p, q)) => (p.trim(), q.trim()),
        None => (s.trim(), "1"),
    };
    let p: i128 = p.parse().map_err(|_| bad())?;
    let q: i128 = q.parse().map_err(|_| bad())?;
    if q == 0 {
        return Err(format!("invalid rational `{s}`: zero denominator"));
    }
    let r = Rational::new(p, q);
    if r.is_valid() {
        Ok(r)
    } else {
        Err(bad())
    }
}

impl<'de> Deserialize<'de> for ExactCoef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ExactCoef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or an exact rational string such as \"3/2\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<ExactCoef, E> {
                Ok(ExactCoef(Rational::integer(v as i128)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<ExactCoef, E> {
                Ok(ExactCoef(Rational::integer(v as i128)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<ExactCoef, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e18 {
                    Ok(ExactCoef(Rational::integer(v as i128)))
                } else {
                    Err(E::custom(format!(
                        "coefficient {v} is not an integer; give exact rationals as strings, e.g. \"3/2\""
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<ExactCoef, E> {
                parse_rational(s).map(ExactCoef).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Non-polynomial field families σ(C x + b) (brackets evaluated with jets).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldFamily {
    /// `count` fields σ_i(C_i x + b_i), C_i and b_i with N(0, scale²) entries from `seed` (default: the scenario
    /// seed). Without `activation`: SPEC §5 item 10's random polynomial σ_i (linear for i ≤ 3, quadratic after,
    /// standard Gaussian coefficients).
    RandomFeatures {
        count: usize,
        activation: Option<Activation>,
        seed: Option<u64>,
        #[serde(default = "one")]
        scale: f64,
    },
    /// nODE fields σ(W_i x + b_i) with frozen W_i (m × m) and b_i (m).
    Node {
        activation: Activation,
        w: Vec<Vec<Vec<f64>>>,
        b: Vec<Vec<f64>>,
    },
}

/// The fields after validation.
#[derive(Clone, Debug)]
pub enum Fields {
    Poly(Vec<PolyField<Rational>>),
    Features(Vec<FeatureField>),
}

/// Everything the analysis needs, validated.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub m: usize,
    pub fields: Fields,
    pub points: Vec<Vec<f64>>,
    pub targets: Option<Vec<Vec<f64>>>,
    pub cfg: RankConfig,
    /// `lie.points` or `lie.random_points` (for error messages).
    points_field: &'static str,
}

fn spec(f: &ScenarioFile) -> Result<LieSpec> {
    f.required_table("lie")
}

/// Replaces the library's stand-in file name `"<lie>"` by the scenario file and maps its field names to
/// `lie.*` paths.
fn map_err(f: &ScenarioFile, points_field: &str, e: Error) -> Error {
    match e {
        Error::Input { file, field, msg, .. } if file.as_os_str() == "<lie>" => {
            let path = match field.as_str() {
                "points" => points_field.to_string(),
                "" => "lie".to_string(),
                other => format!("lie.{other}"),
            };
            f.error(&path, msg)
        }
        e => e,
    }
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

fn check_matrix(f: &ScenarioFile, field: &str, a: &[Vec<f64>], rows: usize, cols: usize) -> Result<()> {
    if a.len() != rows || a.iter().any(|r| r.len() != cols) {
        return Err(f.error(field, format!("expected {rows} rows of {cols} numbers")));
    }
    if a.iter().flatten().any(|v| !v.is_finite()) {
        return Err(f.error(field, "non-finite value"));
    }
    Ok(())
}

/// Validates `[lie]` and builds fields, points and the rank configuration.
pub fn prepare(f: &ScenarioFile) -> Result<Prepared> {
    let s = spec(f)?;
    if s.max_depth == 0 || s.max_depth > 40 {
        return Err(f.error("lie.max_depth", "expected a depth between 1 and 40"));
    }
    if let Some(r) = s.rel_tol {
        if !(r > 0.0 && r < 1.0) {
            return Err(f.error("lie.rel_tol", "expected 0 < rel_tol < 1"));
        }
    }
    if s.dim == Some(0) {
        return Err(f.error("lie.dim", "expected dim ≥ 1"));
    }
    cost::check(f, &s)?;
    let need_dim = |what: &str| {
        s.dim
            .ok_or_else(|| f.error("lie.dim", format!("`dim` is required with {what}")))
    };
    let (m, fields) = match &s.fields {
        LieFields::Named(_) => {
            let m = need_dim("fields = \"cuchiero\"")?;
            if m < 2 {
                return Err(f.error(
                    "lie.dim",
                    "Cuchiero's five fields need m ≥ 2 (on the line, use explicit fields; SPEC §5 item 11)",
                ));
            }
            (m, Fields::Poly(lie::cuchiero_fields(m)))
        }
        LieFields::Polynomial(specs) => {
            if specs.is_empty() {
                return Err(f.error("lie.fields", "no fields given"));
            }
            let m = match s.dim {
                Some(m) => m,
                None => specs
                    .iter()
                    .flat_map(|p| p.terms.first())
                    .map(|t| t.exponents.len())
                    .next()
                    .ok_or_else(|| f.error("lie.fields", "every field is zero; give `dim` or terms"))?,
            };
            let mut out = Vec::with_capacity(specs.len());
            for (i, p) in specs.iter().enumerate() {
                let mut fld = PolyField::zero(m);
                for (j, t) in p.terms.iter().enumerate() {
                    let path = format!("lie.fields.{i}.terms.{j}");
                    if t.exponents.len() != m {
                        return Err(f.error(
                            &format!("{path}.exponents"),
                            format!(
                                "field {} term {}: {} exponents but the state dimension is {m}",
                                i + 1,
                                j + 1,
                                t.exponents.len()
                            ),
                        ));
                    }
                    if t.component >= m {
                        return Err(f.error(
                            &format!("{path}.component"),
                            format!("component {} out of range 0..{m}", t.component),
                        ));
                    }
                    fld.add_term(t.component, t.exponents.clone(), t.coef.0);
                }
                out.push(fld);
            }
            (m, Fields::Poly(out))
        }
        LieFields::Family(FieldFamily::RandomFeatures {
            count,
            activation,
            seed,
            scale,
        }) => {
            let m = need_dim("random features")?;
            if *count == 0 {
                return Err(f.error("lie.fields.count", "expected count ≥ 1"));
            }
            if !(scale.is_finite() && *scale > 0.0) {
                return Err(f.error("lie.fields.scale", "expected scale > 0"));
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed.unwrap_or(f.scenario.seed));
            let fs = (0..*count)
                .map(|i| {
                    let c = (0..m)
                        .map(|_| (0..m).map(|_| scale * gauss(&mut rng)).collect())
                        .collect();
                    let b = (0..m).map(|_| scale * gauss(&mut rng)).collect();
                    let sigma = match activation {
                        Some(a) => a.clone(),
                        None => Activation::Polynomial {
                            coeffs: (0..=if i < 3 { 1 } else { 2 }).map(|_| gauss(&mut rng)).collect(),
                        },
                    };
                    FeatureField { c, b, sigma }
                })
                .collect();
            (m, Fields::Features(fs))
        }
        LieFields::Family(FieldFamily::Node { activation, w, b }) => {
            if w.is_empty() || w.len() != b.len() {
                return Err(f.error(
                    "lie.fields.w",
                    format!("expected one W per field and as many b: {} W, {} b", w.len(), b.len()),
                ));
            }
            let m = s.dim.unwrap_or(b[0].len());
            if m == 0 {
                return Err(f.error("lie.fields.b", "empty bias vector"));
            }
            let mut fs = Vec::with_capacity(w.len());
            for (wi, bi) in w.iter().zip(b) {
                check_matrix(f, "lie.fields.w", wi, m, m)?;
                check_matrix(f, "lie.fields.b", std::slice::from_ref(bi), 1, m)?;
                fs.push(FeatureField::node(wi.clone(), bi.clone(), activation.clone()));
            }
            (m, Fields::Features(fs))
        }
    };
    if let Some(d) = s.dim {
        if d != m {
            return Err(f.error("lie.dim", format!("dim = {d} but the fields act on R^{m}")));
        }
    }
    let (points, points_field) = match (&s.points, &s.random_points) {
        (Some(p), None) => (p.clone(), "lie.points"),
        (None, Some(r)) => {
            if r.n == 0 {
                return Err(f.error("lie.random_points", "expected n ≥ 1"));
            }
            if !(r.low.is_finite() && r.high.is_finite() && r.low < r.high && (r.high - r.low).is_finite()) {
                return Err(f.error(
                    "lie.random_points",
                    format!(
                        "expected finite low < high with a finite width high − low, found low = {}, high = {}",
                        r.low, r.high
                    ),
                ));
            }
            let mut rng = ChaCha8Rng::seed_from_u64(r.seed.unwrap_or(f.scenario.seed));
            let pts = (0..r.n)
                .map(|_| (0..m).map(|_| rng.gen_range(r.low..r.high)).collect())
                .collect();
            (pts, "lie.random_points")
        }
        _ => return Err(f.error("lie", "give exactly one of `points` and `random_points`")),
    };
    if points.is_empty() {
        return Err(f.error(points_field, "no points given"));
    }
    lie::rank::validate_points(&points, m).map_err(|e| map_err(f, points_field, e))?;
    if let Some(t) = &s.targets {
        if t.len() != points.len() || t.iter().any(|y| y.len() != m || y.iter().any(|v| !v.is_finite())) {
            return Err(f.error(
                "lie.targets",
                format!("expected {} finite targets in R^{m}, one per point", points.len()),
            ));
        }
    }
    if let Fields::Poly(fs) = &fields {
        // Coefficient overflow or a denominator divisible by p is an input error.
        lie::rank::rational_generators(fs).map_err(|e| map_err(f, points_field, e))?;
    }
    let cfg = RankConfig {
        max_depth: s.max_depth,
        rel_tol: s.rel_tol,
        exact_generic: s.exact,
        exact_at_points: s.exact,
        seed: f.scenario.seed ^ 0x11e_f10e,
        stop_at_full_rank: s.stop_at_full_rank,
        keep_rational: true,
        ..RankConfig::default()
    };
    Ok(Prepared {
        m,
        fields,
        points,
        targets: s.targets.clone(),
        cfg,
        points_field,
    })
}

/// Exact ranks of feature fields with polynomial σ, via their exact polynomial form.
pub struct ExactCheck {
    pub report: RankReport,
}

/// Runs the rank analysis (and, for polynomial-σ features with `exact`, the exact cross-check).
pub fn analyze(p: &Prepared, f: &ScenarioFile) -> Result<(RankReport, Option<ExactCheck>)> {
    let map = |e| map_err(f, p.points_field, e);
    match &p.fields {
        Fields::Poly(fs) => Ok((lie::analyze_polynomial(fs, &p.points, &p.cfg).map_err(map)?, None)),
        Fields::Features(fs) => {
            let rep = lie::analyze_features(fs, &p.points, &p.cfg).map_err(map)?;
            let polys: Option<Vec<PolyField<f64>>> = fs.iter().map(|x| x.to_poly()).collect();
            let check = match polys {
                Some(ps) if p.cfg.exact_at_points => {
                    let last = rep.depths.last().map(|d| d.depth).unwrap_or(1);
                    let cfg = RankConfig {
                        max_depth: last,
                        stop_at_full_rank: false,
                        ..p.cfg.clone()
                    };
                    Some(ExactCheck {
                        report: lie::analyze_polynomial_f64(&ps, &p.points, &cfg).map_err(map)?,
                    })
                }
                _ => None,
            };
            Ok((rep, check))
        }
    }
}

/// N-point rank study.
pub struct Lie;

fn opt(v: Option<usize>) -> f64 {
    v.map(|x| x as f64).unwrap_or(f64::NAN)
}

impl Study for Lie {
    fn name(&self) -> &'static str {
        "lie"
    }
    fn about(&self) -> &'static str {
        "N-point Lie-bracket rank (Hörmander) per depth: numerical and exact ranks, singular values, brackets"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["lie"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(LiePlan {
            file,
            p: prepare(file)?,
        }))
    }
}

struct LiePlan<'a> {
    file: &'a ScenarioFile,
    p: Prepared,
}

impl Plan for LiePlan<'_> {
    fn bench_kernel(&mut self) -> Result<Option<BenchKernel<'_>>> {
        let (p, file) = (&self.p, self.file);
        Ok(Some(Box::new(move || {
            let (rep, _) = analyze(p, file)?;
            let last = rep.depths.last();
            Ok(json!({
                "full_rank_depth": rep.full_rank_depth,
                "rank": last.map(|d| d.rank),
                "exact_rank": last.and_then(|d| d.exact_rank_at_points),
                "depth": last.map(|d| d.depth),
                "points": rep.n_points,
            }))
        })))
    }
    fn run(&mut self, _ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let (p, file) = (&self.p, self.file);
        out.solver = json!({
            "max_depth": p.cfg.max_depth,
            "rel_tol": p.cfg.rel_tol,
            "exact": p.cfg.exact_at_points,
            "stop_at_full_rank": p.cfg.stop_at_full_rank,
            "exact_generic_seed": p.cfg.seed,
        });
        let t0 = Instant::now();
        let (rep, check) = analyze(p, file)?;
        out.timings.insert("rank_analysis".into(), t0.elapsed().as_secs_f64());
        let (m, n) = (rep.m, rep.n_points);

        // summary.json
        if let Value::Object(s) = crate::output::results::json_value(&rep.summary()) {
            out.summary.extend(s);
        }
        out.set(
            "convention",
            "[V, W] = DW·V − DV·W (linear fields: [Ax, Bx] = (BA − AB)x)",
        );
        out.set("method", &rep.method);
        out.set("m", m);
        out.set("n_points", n);
        out.set("n_fields", rep.n_fields);
        out.set("numerical_full_rank_depth", rep.numerical_full_rank_depth);
        out.set("exact_generic_full_rank_depth", rep.exact_generic_full_rank_depth);
        out.set("exact_at_points_full_rank_depth", rep.exact_at_points_full_rank_depth);
        let depths_done = rep.depths.last().map(|d| d.depth).unwrap_or(0);
        out.set("depths_examined", depths_done);
        let exact_at: Vec<Option<usize>> = match &check {
            None => rep.depths.iter().map(|d| d.exact_rank_at_points).collect(),
            Some(c) => rep
                .depths
                .iter()
                .map(|d| {
                    c.report
                        .depths
                        .iter()
                        .find(|e| e.depth == d.depth)
                        .and_then(|e| e.exact_rank_at_points)
                })
                .collect(),
        };
        let trust = if rep.method == "graded_span" && p.cfg.exact_at_points {
            "exact_rank_at_points_by_depth: the exact rank over Z_p at the given points decides the rank condition \
             (full_rank_depth uses it); exact_rank_by_depth is the generic exact rank (almost every point \
             configuration); rank_by_depth (column-scaled SVD) measures conditioning and may under-report at \
             high depth"
        } else if check.is_some() {
            "rank_by_depth comes from jets (numerical, full_rank_depth uses it); exact_rank_by_depth and \
             exact_rank_at_points_by_depth come from the exact polynomial form of the polynomial σ (exact_check) \
             and decide the rank condition where they differ"
        } else {
            "rank_by_depth (column-scaled SVD) is the only rank available: trust it to the extent of the gap and the \
             smallest kept singular value"
        };
        out.set("rank_to_trust", trust);
        // The generic exact rank under an unambiguous name (exact_rank_by_depth is kept for compatibility).
        if let Some(v) = out.summary.get("exact_rank_by_depth").cloned() {
            out.summary.insert("exact_generic_rank_by_depth".into(), v);
        }
        if let Some(c) = &check {
            let cs = c.report.summary();
            out.set("exact_rank_by_depth", &cs.exact_rank_by_depth);
            out.set("exact_rank_at_points_by_depth", &exact_at);
            out.set(
                "exact_check",
                json!({
                    "method": "exact polynomial form of the polynomial-σ features (graded span, Z_p)",
                    "full_rank_depth": c.report.full_rank_depth,
                    "exact_rank_at_points_by_depth": cs.exact_rank_at_points_by_depth,
                    "exact_generic_rank_by_depth": cs.exact_rank_by_depth,
                    "span_dim_by_depth": cs.span_dim_by_depth,
                    "agrees_with_jets": c.report.full_rank_depth == rep.full_rank_depth,
                }),
            );
        }
        if m == 1 {
            if let Some(t) = &p.targets {
                let x: Vec<f64> = p.points.iter().map(|v| v[0]).collect();
                let y: Vec<f64> = t.iter().map(|v| v[0]).collect();
                let o = lie::check_order_1d(&x, &y).map_err(|e| map_err(file, p.points_field, e))?;
                out.set("order_obstruction", !o.preserved);
                out.set("offending_pair", o.violations.first());
                out.set("order_violations", &o.violations);
                out.set("order_violations_total", o.n_violations);
                out.set("order_message", &o.message);
                out.set("source_order", &o.source_order);
                out.set("target_order", &o.target_order);
            }
        } else if p.targets.is_some() {
            out.set("order_obstruction", false);
            out.set(
                "order_message",
                "m ≥ 2: no ordering obstruction; when the rank condition holds, the targets are reachable from \
                 nearby configurations (Chow–Rashevskii)",
            );
        }

        // Tables.
        let mut ranks = Table::new([
            "depth",
            "n_brackets",
            "span_dim",
            "numerical_rank",
            "exact_rank_at_points",
            "min_kept_sv",
            "gap",
            "tol_margin",
            "exact_generic_rank",
            "n_columns",
            "tol",
            "target_rank",
        ])
        // Not computed for this kind of field (or depth): an empty cell (no NaN in the CSV).
        .optional(&[
            "span_dim",
            "exact_rank_at_points",
            "min_kept_sv",
            "gap",
            "tol_margin",
            "exact_generic_rank",
        ]);
        let mut svs = Table::new(["depth", "index", "singular_value", "kept"]);
        for (d, ex) in rep.depths.iter().zip(&exact_at) {
            let generic = match &check {
                Some(c) => c
                    .report
                    .depths
                    .iter()
                    .find(|e| e.depth == d.depth)
                    .and_then(|e| e.exact_generic_rank),
                None => d.exact_generic_rank,
            };
            let span = match &check {
                Some(c) => c
                    .report
                    .depths
                    .iter()
                    .find(|e| e.depth == d.depth)
                    .and_then(|e| e.span_dim),
                None => d.span_dim,
            };
            ranks.push(vec![
                d.depth as f64,
                d.n_hall_brackets as f64,
                opt(span),
                d.rank as f64,
                opt(*ex),
                d.min_kept_singular_value.unwrap_or(f64::NAN),
                figures::gap(d),
                d.min_kept_singular_value.map(|s| s / d.tol).unwrap_or(f64::NAN),
                opt(generic),
                d.n_columns as f64,
                d.tol,
                rep.target_rank as f64,
            ]);
            for (i, s) in d.singular_values.iter().enumerate() {
                svs.push(vec![
                    d.depth as f64,
                    (i + 1) as f64,
                    *s,
                    f64::from(u8::from(*s > d.tol)),
                ]);
            }
        }
        let mut pts = Table::new(
            std::iter::once("point".to_string())
                .chain((1..=m).map(|c| format!("x{c}")))
                .chain(p.targets.iter().flat_map(|_| (1..=m).map(|c| format!("y{c}")))),
        );
        for (i, x) in p.points.iter().enumerate() {
            let mut row = vec![i as f64];
            row.extend_from_slice(x);
            if let Some(t) = &p.targets {
                row.extend_from_slice(&t[i]);
            }
            pts.push(row);
        }
        out.tables.push(("ranks.csv".into(), ranks));
        out.tables.push(("singular_values.csv".into(), svs));
        out.tables.push(("points.csv".into(), pts));

        // brackets.json
        let brackets = match &p.fields {
            Fields::Poly(_) => crate::output::results::json_value(rep.brackets_json()),
            Fields::Features(_) => {
                let hall = HallBasis::new(rep.n_fields, depths_done.max(1));
                Value::Array(
                    hall.elems
                        .iter()
                        .map(|e| json!({ "word": e.word, "depth": e.depth }))
                        .collect(),
                )
            }
        };
        let basis_kind = match &p.fields {
            Fields::Poly(_) => {
                "basis of the graded span L_{≤k} (right-nested words; exact coefficients per (component, exponents))"
            }
            Fields::Features(_) => "Hall basis evaluated at the points with jets (no closed-form coefficients)",
        };
        out.json.push((
            "brackets.json".into(),
            json!({
                "convention": "[V, W] = DW·V − DV·W; words are 1-based generator indices",
                "basis": basis_kind,
                "brackets": brackets,
            }),
        ));

        // Figures and comparisons.
        figures::push(p, &rep, &exact_at, out);
        figures::comparisons(p, &rep, &exact_at, out);
        Ok(())
    }
}

mod figures;
#[cfg(test)]
mod tests;
