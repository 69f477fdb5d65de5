//! `convergence`: measures each fixed-step integrator's order on problems with exact solutions (SPEC §7,
//! [`crate::analysis::order`]). Writes `errors-<problem>.csv`, the observed-order tables `orders.csv` (tidy, with
//! the problem definition), `orders.md` and `orders.tex` (booktabs), one log–log error-vs-step figure per problem
//! (`convergence-<problem>`: fitted slopes with 95 % intervals, dashed reference slopes h¹ and h⁴, the problem and
//! the norm named), and `"orders": {scheme: p}` in summary.json — the smallest fitted order over the problems, so a
//! scheme that loses order on any problem shows it — plus `"orders_by_problem"` (slope, standard error, 95 % CI) and
//! `comparisons`: each fitted order against its classical order (±0.1) and the `logistic` errors against SPEC §7.

use super::{Context, Plan, Study, StudyOutput};
use crate::analysis::order::{measured_order, problem, PROBLEMS};
use crate::integrate::SchemeKind;
use crate::output::order_table::{orders_latex, orders_long, orders_markdown, OrderTable};
use crate::output::plot::ticks::superscript;
use crate::output::plot::{Figure, Mark, Marker, Reference, Series};
use crate::output::table::Table;
use crate::output::{Comparison, Tolerance};
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// `[convergence]`: integrator order measurement on problems with exact solutions (SPEC §7).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceSpec {
    /// Step counts over [0, T] (at least 3, increasing).
    pub steps: Vec<usize>,
    /// Schemes to measure (fixed-step).
    #[serde(default = "fixed_schemes")]
    pub schemes: Vec<SchemeKind>,
    /// Test problems: `linear` (X(T) = exp(TA) x) and `logistic` (u' = −u − u², u(0) = 1, T = 1).
    #[serde(default = "problems")]
    pub problems: Vec<String>,
}

fn fixed_schemes() -> Vec<SchemeKind> {
    SchemeKind::fixed_all()
}
fn problems() -> Vec<String> {
    vec!["linear".into(), "logistic".into()]
}

/// Integrator order study.
pub struct Convergence;

/// Most integrator steps of one solve in an order measurement.
pub const MAX_STEPS: usize = 10_000_000;

fn spec(f: &ScenarioFile) -> Result<ConvergenceSpec> {
    let s: ConvergenceSpec = f.required_table("convergence")?;
    if s.steps.len() < 3 || s.steps.windows(2).any(|w| w[1] <= w[0]) || s.steps[0] == 0 {
        return Err(f.error("convergence.steps", "expected at least 3 increasing step counts ≥ 1"));
    }
    if let Some(i) = s.steps.iter().position(|&k| k > MAX_STEPS) {
        return Err(f.error(
            &format!("convergence.steps[{i}]"),
            format!(
                "{} steps: expected at most {MAX_STEPS} per solve (orders are fitted on 10 to 10^4 steps; 10^7 keeps \
                 the study to seconds)",
                s.steps[i]
            ),
        ));
    }
    if let Some(p) = s.problems.iter().find(|p| problem(p).is_none()) {
        return Err(f.error(
            "convergence.problems",
            format!("unknown problem `{p}`; expected one of {PROBLEMS:?}"),
        ));
    }
    if s.schemes.contains(&SchemeKind::Dopri5) {
        return Err(f.error(
            "convergence.schemes",
            "orders are measured for fixed-step schemes (euler, rk4)",
        ));
    }
    Ok(s)
}

impl Study for Convergence {
    fn name(&self) -> &'static str {
        "convergence"
    }
    fn about(&self) -> &'static str {
        "measured convergence order of each integrator against exact solutions (log-log fit)"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["convergence"]
    }
    fn prepare<'a>(&self, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        Ok(Box::new(spec(file)?))
    }
}

/// The problem's definition as printed in tables and figures (SPEC §7).
fn definition(name: &str) -> &'static str {
    match name {
        "linear" => "x′ = Ax, A = [[−0.5, 2], [−2, −0.5]], x(0) = (1, 0.5), exact X(T) = exp(TA)x(0), T = 1",
        _ => "u′ = −u − u², u(0) = 1, exact u(t) = 1/(2eᵗ − 1), T = 1 (seed 002 §22.6.1)",
    }
}

/// Printed scheme name.
fn pretty(s: SchemeKind) -> &'static str {
    s.fixed().map_or("Dopri5", |f| f.label())
}

/// SPEC §7's published errors of the `logistic` problem at 10, 20, 40, 80 steps (seed 002 §22.6.1 quoted there).
const LOGISTIC_PUBLISHED: [(SchemeKind, [f64; 4]); 2] = [
    (SchemeKind::Euler, [2.88e-2, 1.40e-2, 6.9e-3, 3.4e-3]),
    (SchemeKind::Rk4, [2.2e-6, 1.3e-7, 8.2e-9, 5.1e-10]),
];

/// Tolerance on a fitted order: ±0.1 (ARCHITECTURE habit 2).
const ORDER_TOL: f64 = 0.1;

impl Plan for ConvergenceSpec {
    fn run(&mut self, _ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let s = &*self;
        out.solver = json!({ "schemes": s.schemes, "steps": s.steps });
        let norm = "max-norm error ‖Xₕ(T) − X(T)‖∞ at T = 1 (Xₕ: K steps of size h = T/K)";
        let mut orders: BTreeMap<&str, f64> = BTreeMap::new();
        let mut by_problem = serde_json::Map::new();
        let mut errors_json = serde_json::Map::new();
        let mut order_tables = Vec::new();
        for pname in &s.problems {
            let p = problem(pname).expect("validated");
            let mut fig = Figure {
                title: format!("{pname}: error at T = {} against step h", p.horizon),
                x_label: "step size h".into(),
                y_label: "error ‖Xₕ(T) − X(T)‖∞".into(),
                log_x: true,
                log_y: true,
                annotations: vec![format!("{pname}: {}", definition(pname))],
                ..Figure::default()
            };
            let mut per = serde_json::Map::new();
            let mut cols = vec!["steps".to_string(), "h".into()];
            cols.extend(s.schemes.iter().map(|sc| format!("error_{}", sc.name())));
            let mut tab = Table::new(cols);
            let hs: Vec<f64> = s.steps.iter().map(|&k| p.horizon / k as f64).collect();
            let mut columns = Vec::new();
            for (si, &scheme) in s.schemes.iter().enumerate() {
                let (errs, fit) = measured_order(&p, scheme, &s.steps)?;
                let fit = fit.ok_or_else(|| {
                    Error::numerical(
                        format!("{} on {pname}: errors too small to fit an order", scheme.name()),
                        p.horizon,
                        0,
                        None,
                    )
                })?;
                let expected = scheme
                    .fixed()
                    .map(|f| f.order(crate::control::Regularity::Smooth))
                    .unwrap_or(f64::NAN);
                let o = orders.entry(scheme.name()).or_insert(f64::INFINITY);
                *o = o.min(fit.slope);
                let (lo, hi) = fit.slope_ci95();
                per.insert(
                    scheme.name().into(),
                    json!({ "order": fit.slope, "stderr": fit.slope_stderr, "ci95": [lo, hi], "expected": expected }),
                );
                errors_json.insert(format!("{pname}/{}", scheme.name()), json!(errs));
                let pts: Vec<(f64, f64)> = hs.iter().copied().zip(errs.iter().copied()).collect();
                let marker = [Marker::Circle, Marker::Square, Marker::Triangle][si % 3];
                fig.series.push(
                    Series::line(format!("{}: {}", pretty(scheme), fit.slope_text("p")), pts.clone())
                        .mark(Mark::LinePoints)
                        .marker(marker, false)
                        .color(si),
                );
                if let Some(r) = Reference::power_beside(
                    expected,
                    &pts,
                    0.25,
                    format!("reference h{}", superscript(expected as i64)),
                ) {
                    fig.references.push(r.color(si));
                }
                out.comparisons.push(
                    Comparison::new(
                        format!(
                            "{} order on `{pname}` (fitted slope of log error against log h)",
                            pretty(scheme)
                        ),
                        expected,
                        fit.slope,
                        Tolerance::Absolute { value: ORDER_TOL },
                        "SPEC §2 integrator table (classical order); tolerance ±0.1 of ARCHITECTURE habit 2",
                    )
                    .note(format!("95 % CI [{lo:.4}, {hi:.4}] over steps {:?}", s.steps)),
                );
                if pname == "logistic" {
                    if let Some((_, published)) = LOGISTIC_PUBLISHED.iter().find(|(k, _)| *k == scheme) {
                        for (k, &e) in [10usize, 20, 40, 80].iter().zip(published) {
                            if let Some(i) = s.steps.iter().position(|&st| st == *k) {
                                out.comparisons.push(
                                    Comparison::new(
                                        format!("{} error |u_K − u(1)| on `logistic` with K = {k}", pretty(scheme)),
                                        e,
                                        errs[i],
                                        Tolerance::Relative { value: 0.05 },
                                        "SPEC §7 (seed 002 §22.6.1: u′ = −u − u², u(1) = 0.2254003)",
                                    )
                                    .note("published to 2–3 significant digits: 5 % relative tolerance"),
                                );
                            }
                        }
                    }
                }
                order_tables.push(OrderTable {
                    problem: pname.clone(),
                    definition: definition(pname).into(),
                    scheme: pretty(scheme).into(),
                    norm: norm.into(),
                    steps: s.steps.clone(),
                    h: hs.clone(),
                    errors: errs.clone(),
                    expected: Some(expected),
                });
                columns.push(errs);
            }
            for (r, (k, h)) in s.steps.iter().zip(&hs).enumerate() {
                let mut row = vec![*k as f64, *h];
                row.extend(columns.iter().map(|c| c[r]));
                tab.push(row);
            }
            out.tables.push((format!("errors-{pname}.csv"), tab));
            out.figures.push((format!("convergence-{pname}"), fig));
            by_problem.insert(pname.clone(), serde_json::Value::Object(per));
        }
        out.long_tables.push(("orders.csv".into(), orders_long(&order_tables)));
        out.texts.push(("orders.md".into(), orders_markdown(&order_tables)));
        out.texts.push(("orders.tex".into(), orders_latex(&order_tables)));
        out.set("orders", &orders);
        out.set("orders_by_problem", by_problem);
        out.set("errors", errors_json);
        out.set("error_norm", norm);
        out.set("steps", &s.steps);
        out.set("problems", &s.problems);
        Ok(())
    }
}
