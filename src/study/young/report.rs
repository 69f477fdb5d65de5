//! Aggregation of the `young-convergence` units: per-path slopes → mean rate with a 95 % interval over paths,
//! tidy tables, one figure per driver, and the comparisons (issue 14's acceptance thresholds; SPEC §2's rates
//! measured by an independent implementation).

use super::{Unit, YoungPlan};
use crate::analysis::fit::{order, t_quantile};
use crate::integrate::SchemeKind;
use crate::output::plot::ticks::superscript;
use crate::output::plot::{Figure, Mark, Marker, Reference, Series};
use crate::output::table::{Cell, LongTable};
use crate::output::{Comparison, StudyOutput, Tolerance};
use crate::{Error, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A fitted rate over paths.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rate {
    pub(crate) rate: f64,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) sd: f64,
    pub(crate) paths: usize,
}

/// Mean of the per-path slopes with mean ± t₀.₉₇₅(n−1)·sd/√n; one path: its regression interval.
fn rate_over_paths(hs: &[f64], per_path: &[Vec<f64>]) -> Option<Rate> {
    let fits: Vec<_> = per_path.iter().map(|e| order(hs, e)).collect::<Option<Vec<_>>>()?;
    let n = fits.len();
    let slopes: Vec<f64> = fits.iter().map(|f| f.slope).collect();
    let mean = slopes.iter().sum::<f64>() / n as f64;
    if n == 1 {
        let (lo, hi) = fits[0].slope_ci95();
        return Some(Rate {
            rate: mean,
            lo,
            hi,
            sd: f64::NAN,
            paths: 1,
        });
    }
    let sd = (slopes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let half = t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt();
    Some(Rate {
        rate: mean,
        lo: mean - half,
        hi: mean + half,
        sd,
        paths: n,
    })
}

/// SPEC §2: rates measured by an independent implementation (V₁ = Ax, A = [[0, −1], [1, 0]], V₂ = (sin x₂,
/// cos x₁), 20 fBm paths, meshes 2⁵…2¹² against 2¹⁶): (scheme, H, low, high).
const SPEC_MEASURED: [(&str, f64, f64, f64); 9] = [
    ("euler", 0.6, 0.32, 0.35),
    ("euler", 0.75, 0.58, 0.59),
    ("euler", 0.9, 0.81, 0.88),
    ("young-step2-simplified", 0.6, 0.68, 0.74),
    ("young-step2-simplified", 0.75, 0.94, 0.98),
    ("young-step2-simplified", 0.9, 1.27, 1.30),
    ("young-step2", 0.6, 1.19, 1.23),
    ("young-step2", 0.75, 1.50, 1.54),
    ("young-step2", 0.9, 1.77, 1.80),
];
/// SPEC §2: smooth-driver orders measured by the same implementation (Euler, step-2).
const SPEC_SMOOTH: [(&str, f64); 2] = [("euler", 0.994), ("young-step2", 1.998)];
/// Slack added to the half-width of SPEC's measured ranges: our field differs (V₂ is a Taylor polynomial of
/// (sin x₂, cos x₁)) and SPEC does not give X₀, so only agreement within the spread of such choices is expected.
const SPEC_SLACK: f64 = 0.1;

fn pretty(s: SchemeKind) -> &'static str {
    match s.name() {
        "euler" => "Euler–Young",
        _ => s.fixed().map_or("?", |f| f.label()),
    }
}

fn bad(what: String) -> Error {
    Error::numerical(what, 0.0, 0, None)
}

/// The errors of scheme `name` of every path of a unit value.
/// One path's errors: (path index, seed for fBm, error per mesh).
type PathErrors = (usize, Option<u64>, Vec<f64>);

fn unit_errors(v: &Value, name: &str, meshes: usize) -> Result<Vec<PathErrors>> {
    let paths = v["paths"]
        .as_array()
        .ok_or_else(|| bad("young-convergence: unit without paths".into()))?;
    paths
        .iter()
        .map(|p| {
            let errs: Vec<f64> = p["errors"][name]
                .as_array()
                .map(|a| a.iter().map(|e| e.as_f64().unwrap_or(f64::NAN)).collect())
                .unwrap_or_default();
            if errs.len() != meshes {
                return Err(bad(format!("young-convergence: path without errors for {name}")));
            }
            Ok((p["path"].as_u64().unwrap_or(0) as usize, p["seed"].as_u64(), errs))
        })
        .collect()
}

fn comparisons(key: &Unit, rates: &BTreeMap<&str, Rate>, out: &mut StudyOutput) {
    let ci = |r: &Rate| format!("mean over {} paths, 95 % CI [{:.3}, {:.3}]", r.paths, r.lo, r.hi);
    let issue = "issue 14 acceptance (SPEC §2 rates h^{2H−1}, h^{3H−1})";
    match key.hurst() {
        Some(h) => {
            if let Some(r) = rates.get("euler") {
                out.comparisons.push(
                    Comparison::new(
                        format!("Euler–Young strong rate, fBm H = {h}: at least 2H − 1 − 0.1"),
                        2.0 * h - 1.1,
                        r.rate,
                        Tolerance::AtLeast,
                        issue,
                    )
                    .note(ci(r)),
                );
            }
            if let Some(r) = rates.get("young-step2") {
                out.comparisons.push(
                    Comparison::new(
                        format!("step-2 (with area) strong rate, fBm H = {h}: at least 3H − 1 − 0.15"),
                        3.0 * h - 1.15,
                        r.rate,
                        Tolerance::AtLeast,
                        issue,
                    )
                    .note(ci(r)),
                );
            }
            if let (Some(e), Some(s), Some(a)) = (
                rates.get("euler"),
                rates.get("young-step2-simplified"),
                rates.get("young-step2"),
            ) {
                out.comparisons.push(
                    Comparison::new(
                        format!("simplified step-2 rate, fBm H = {h}: at least the Euler–Young rate + 0.25"),
                        e.rate + 0.25,
                        s.rate,
                        Tolerance::AtLeast,
                        issue,
                    )
                    .note(format!("Euler–Young {:.3}; simplified {}", e.rate, ci(s))),
                );
                out.comparisons.push(
                    Comparison::new(
                        format!("simplified step-2 rate, fBm H = {h}: at most the step-2 (with area) rate"),
                        a.rate,
                        s.rate,
                        Tolerance::AtMost,
                        issue,
                    )
                    .note(format!("step-2 with area {:.3}; simplified {}", a.rate, ci(s))),
                );
            }
            for (name, hh, lo, hi) in SPEC_MEASURED {
                if (hh - h).abs() > 1e-12 {
                    continue;
                }
                if let Some(r) = rates.get(name) {
                    out.comparisons.push(
                        Comparison::new(
                            format!("{name} strong rate, fBm H = {h}, against the independent implementation"),
                            0.5 * (lo + hi),
                            r.rate,
                            Tolerance::Absolute {
                                value: 0.5 * (hi - lo) + SPEC_SLACK,
                            },
                            format!("SPEC §2 (independent implementation measured {lo}–{hi}; its field V₂ = (sin x₂, cos x₁))"),
                        )
                        .note(format!(
                            "{}; tolerance: half the published range + {SPEC_SLACK} (different V₂ and X₀)",
                            ci(r)
                        )),
                    );
                }
            }
        }
        None if key.driver() == "smooth" => {
            for (name, r) in rates {
                let expected = if *name == "euler" { 1.0 } else { 2.0 };
                out.comparisons.push(
                    Comparison::new(
                        format!("{name} order with a smooth driver"),
                        expected,
                        r.rate,
                        Tolerance::Absolute { value: 0.03 },
                        "issue 14 acceptance (smooth driver orders 1 ± 0.03 and 2 ± 0.03)",
                    )
                    .note(format!("95 % CI [{:.4}, {:.4}]", r.lo, r.hi)),
                );
                if let Some((_, spec)) = SPEC_SMOOTH.iter().find(|(n, _)| n == name) {
                    out.comparisons.push(
                        Comparison::new(
                            format!("{name} order with a smooth driver, against the independent implementation"),
                            *spec,
                            r.rate,
                            Tolerance::Absolute { value: 0.03 },
                            "SPEC §2 (measured 0.994 for Euler and 1.998 for step-2)",
                        )
                        .note("different smooth path and field: agreement within the acceptance tolerance 0.03"),
                    );
                }
            }
        }
        None => {}
    }
}

pub(crate) fn aggregate(plan: &YoungPlan, results: &[Value], out: &mut StudyOutput) -> Result<()> {
    let mut errors_csv = LongTable::new(["driver", "H", "path", "seed", "scheme", "mesh", "h", "error"]);
    let mut rates_csv = LongTable::new([
        "scheme", "driver", "H", "rate", "ci95_lo", "ci95_hi", "sd", "paths", "theory",
    ]);
    let mut rates_json: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for (u, v) in plan.units.iter().zip(results) {
        let hs: Vec<f64> = u.meshes.iter().map(|&k| plan.horizon / k as f64).collect();
        let key = u.key();
        let title = match u.hurst() {
            Some(h) => format!("fBm driver, H = {h}: strong error against step h ({} paths)", u.paths),
            None => format!("{} driver: strong error against step h", u.driver()),
        };
        let mut fig = Figure {
            title,
            x_label: "coarse step h".into(),
            y_label: "sup-grid error max_k ‖X_h(t_k) − X_ref(t_k)‖∞ (geometric mean over paths)".into(),
            log_x: true,
            log_y: true,
            annotations: vec![
                format!("field: {}", plan.field.describe()),
                format!(
                    "reference: RK4, one step per fine interval ({} steps); dashed: theoretical slopes",
                    u.fine_steps
                ),
            ],
            ..Figure::default()
        };
        let mut unit_rates = BTreeMap::new();
        for (si, &scheme) in plan.schemes.iter().enumerate() {
            let per = unit_errors(v, scheme.name(), u.meshes.len())?;
            for (p, seed, errs) in &per {
                for ((k, h), e) in u.meshes.iter().zip(&hs).zip(errs) {
                    errors_csv.push(vec![
                        Cell::from(u.driver()),
                        u.hurst().map_or(Cell::from(""), Cell::from),
                        Cell::from(*p),
                        seed.map_or(Cell::from(""), |s| Cell::from(s.to_string())),
                        Cell::from(scheme.name()),
                        Cell::from(*k),
                        Cell::from(*h),
                        Cell::from(*e),
                    ]);
                }
            }
            let errs: Vec<Vec<f64>> = per.into_iter().map(|(_, _, e)| e).collect();
            let rate = rate_over_paths(&hs, &errs).ok_or_else(|| {
                bad(format!(
                    "young-convergence: {} on the {key} driver: errors too small (or not finite) to fit a rate",
                    scheme.name()
                ))
            })?;
            let theory = u
                .regularity()
                .and_then(|r| scheme.fixed().map(|s| s.order(r)))
                .unwrap_or(f64::NAN);
            rates_csv.push(vec![
                Cell::from(scheme.name()),
                Cell::from(u.driver()),
                Cell::from(key.as_str()),
                Cell::from(rate.rate),
                Cell::from(rate.lo),
                Cell::from(rate.hi),
                Cell::from(rate.sd),
                Cell::from(rate.paths),
                Cell::from(theory),
            ]);
            rates_json.entry(scheme.name()).or_default().insert(
                key.clone(),
                json!({
                    "rate": rate.rate,
                    "ci95": [rate.lo, rate.hi],
                    "theory": if theory.is_finite() { json!(theory) } else { Value::Null },
                    "paths": rate.paths,
                    "sd": if rate.sd.is_finite() { json!(rate.sd) } else { Value::Null },
                }),
            );
            // Geometric mean error per mesh: its log–log slope is the mean of the per-path slopes.
            let pts: Vec<(f64, f64)> = hs
                .iter()
                .enumerate()
                .map(|(i, &h)| {
                    let ml = errs.iter().map(|e| e[i].ln()).sum::<f64>() / errs.len() as f64;
                    (h, ml.exp())
                })
                .collect();
            let label = if rate.lo.is_finite() {
                format!(
                    "{}: rate {:.3} (95 % CI {:.3}–{:.3})",
                    pretty(scheme),
                    rate.rate,
                    rate.lo,
                    rate.hi
                )
            } else {
                format!("{}: rate {:.3}", pretty(scheme), rate.rate)
            };
            let marker = [Marker::Circle, Marker::Square, Marker::Triangle][si % 3];
            fig.series.push(
                Series::line(label, pts.clone())
                    .mark(Mark::LinePoints)
                    .marker(marker, false)
                    .color(si),
            );
            if theory.is_finite() {
                let text = if theory.fract() == 0.0 {
                    format!("theory h{}", superscript(theory as i64))
                } else {
                    format!("theory slope {theory:.2}")
                };
                if let Some(r) = Reference::power_beside(theory, &pts, 0.25, text) {
                    fig.references.push(r.color(si));
                }
            }
            unit_rates.insert(scheme.name(), rate);
        }
        comparisons(u, &unit_rates, out);
        let stem = match u.hurst() {
            Some(h) => format!("young-fbm-H{h}"),
            None => format!("young-{}", u.driver()),
        };
        out.figures.push((stem, fig));
    }
    out.long_tables.push(("errors.csv".into(), errors_csv));
    out.long_tables.push(("rates.csv".into(), rates_csv));
    out.solver = json!({
        "schemes": plan.schemes,
        "reference": "rk4, one step per fine interval of the piecewise-linear path",
    });
    out.set("rates", &rates_json);
    out.set("field", plan.field.describe());
    out.set("x0", &plan.x0);
    out.set("horizon", plan.horizon);
    out.set(
        "drivers",
        plan.units
            .iter()
            .map(|u| {
                json!({ "driver": u.driver(), "key": u.key(), "paths": u.paths, "fine_steps": u.fine_steps,
                        "meshes": u.meshes })
            })
            .collect::<Vec<_>>(),
    );
    out.set(
        "error_norm",
        "max over the coarse grid t_k of ‖X_h(t_k) − X_ref(t_k)‖∞; rate = mean over paths of the log–log slope",
    );
    Ok(())
}
