//! `convergence`: measures each fixed-step integrator's order on problems with exact solutions (SPEC §7,
//! [`crate::analysis::order`]). Writes `errors-<problem>.csv`, a log–log error-vs-step figure with the fitted slopes, and
//! `"orders": {scheme: p}` in summary.json — the smallest fitted order over the problems, so a scheme that loses
//! order on any problem shows it — plus `"orders_by_problem"` and the slopes' standard errors.

use super::{Context, Plan, Study, StudyOutput};
use crate::analysis::order::{measured_order, problem, PROBLEMS};
use crate::integrate::SchemeKind;
use crate::output::plot::{Figure, Mark, Series};
use crate::output::table::Table;
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
    SchemeKind::FIXED.to_vec()
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

impl Plan for ConvergenceSpec {
    fn run(&mut self, _ctx: &Context, out: &mut StudyOutput) -> Result<()> {
        let s = &*self;
        out.solver = json!({ "schemes": s.schemes, "steps": s.steps });
        let mut fig = Figure {
            title: "Integrator convergence: max error at T against step size".into(),
            x_label: "step size h".into(),
            y_label: "error at T".into(),
            log_x: true,
            log_y: true,
            ..Figure::default()
        };
        let mut orders: BTreeMap<&str, f64> = BTreeMap::new();
        let mut by_problem = serde_json::Map::new();
        let mut errors_json = serde_json::Map::new();
        for (pi, pname) in s.problems.iter().enumerate() {
            let p = problem(pname).expect("validated");
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
                let o = orders.entry(scheme.name()).or_insert(f64::INFINITY);
                *o = o.min(fit.slope);
                per.insert(
                    scheme.name().into(),
                    json!({ "order": fit.slope, "stderr": fit.slope_stderr }),
                );
                errors_json.insert(format!("{pname}/{}", scheme.name()), json!(errs));
                fig.series.push(Series {
                    label: Some(format!("{} / {pname}: slope {:.3}", scheme.name(), fit.slope)),
                    points: hs.iter().copied().zip(errs.iter().copied()).collect(),
                    mark: Mark::LinePoints,
                    color: Some(pi * s.schemes.len() + si),
                });
                columns.push(errs);
            }
            for (r, (k, h)) in s.steps.iter().zip(&hs).enumerate() {
                let mut row = vec![*k as f64, *h];
                row.extend(columns.iter().map(|c| c[r]));
                tab.push(row);
            }
            out.tables.push((format!("errors-{pname}.csv"), tab));
            by_problem.insert(pname.clone(), serde_json::Value::Object(per));
        }
        fig.annotations = orders.iter().map(|(k, v)| format!("{k}: order {v:.3}")).collect();
        out.set("orders", &orders);
        out.set("orders_by_problem", by_problem);
        out.set("errors", errors_json);
        out.set("steps", &s.steps);
        out.set("problems", &s.problems);
        out.figures.push(("convergence".into(), fig));
        Ok(())
    }
}
