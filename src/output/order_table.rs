//! Observed-order tables for papers: step h, error, the observed order between successive refinements
//! p_k = log(e_{k−1}/e_k) / log(h_{k−1}/h_k), and the least-squares order over all steps with its 95 % interval
//! ([`crate::analysis::fit`]), as a tidy CSV ([`orders_long`]), Markdown ([`orders_markdown`]) and a LaTeX booktabs
//! `tabular` ([`orders_latex`]). Any study that measures a rate against a step (or T, or L) can fill an
//! [`OrderTable`] and reuse the three writers.

use super::plot::ticks::sci;
use super::table::LongTable;
use crate::analysis::fit::{order, LineFit};

/// Errors of one scheme on one problem over a sequence of refinements.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTable {
    /// Short problem name (e.g. `linear`).
    pub problem: String,
    /// The problem's definition in words (e.g. "x′ = Ax, A = [[−0.5, 2], [−2, −0.5]], x(0) = (1, 0.5)").
    pub definition: String,
    /// Scheme name as printed (e.g. `Euler`).
    pub scheme: String,
    /// The error measured (e.g. "‖X_K − X(T)‖∞ at T = 1").
    pub norm: String,
    /// Steps K of each refinement.
    pub steps: Vec<usize>,
    /// Step sizes h = T/K.
    pub h: Vec<f64>,
    /// Errors at each refinement.
    pub errors: Vec<f64>,
    /// The theoretical order, if any.
    pub expected: Option<f64>,
}

impl OrderTable {
    /// Observed order between refinement k − 1 and k (NaN for the first row or non-positive errors).
    pub fn observed(&self) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.errors.len()];
        for (k, o) in out.iter_mut().enumerate().skip(1) {
            let (e0, e1) = (self.errors[k - 1], self.errors[k]);
            if e0 > 0.0 && e1 > 0.0 {
                *o = (e0 / e1).ln() / (self.h[k - 1] / self.h[k]).ln();
            }
        }
        out
    }

    /// Least-squares order over every refinement.
    pub fn fit(&self) -> Option<LineFit> {
        order(&self.h, &self.errors)
    }
}

/// The tidy CSV: one row per (problem, scheme, refinement) with the problem definition, the norm, the observed
/// order, and the fitted order with its 95 % interval and the expected order repeated on each row.
pub fn orders_long(tables: &[OrderTable]) -> LongTable {
    let mut t = LongTable::new([
        "problem",
        "definition",
        "scheme",
        "norm",
        "steps",
        "h",
        "error",
        "observed_order",
        "fitted_order",
        "ci95_low",
        "ci95_high",
        "expected_order",
    ]);
    for ot in tables {
        let fit = ot.fit();
        let (lo, hi) = fit.map(|f| f.slope_ci95()).unwrap_or((f64::NAN, f64::NAN));
        let p = fit.map(|f| f.slope).unwrap_or(f64::NAN);
        for (k, obs) in ot.observed().into_iter().enumerate() {
            t.push(vec![
                ot.problem.as_str().into(),
                ot.definition.as_str().into(),
                ot.scheme.as_str().into(),
                ot.norm.as_str().into(),
                ot.steps[k].into(),
                ot.h[k].into(),
                ot.errors[k].into(),
                obs.into(),
                p.into(),
                lo.into(),
                hi.into(),
                ot.expected.unwrap_or(f64::NAN).into(),
            ]);
        }
    }
    t
}

/// Tables grouped by problem, in first-seen order.
fn by_problem(tables: &[OrderTable]) -> Vec<Vec<&OrderTable>> {
    let mut groups: Vec<Vec<&OrderTable>> = Vec::new();
    for t in tables {
        match groups.iter_mut().find(|g| g[0].problem == t.problem) {
            Some(g) => g.push(t),
            None => groups.push(vec![t]),
        }
    }
    groups
}

fn fit_text(f: Option<LineFit>, latex: bool) -> String {
    match f {
        None => "—".into(),
        Some(f) => {
            let (lo, hi) = f.slope_ci95();
            match (lo.is_finite(), latex) {
                (true, true) => format!("${:.3}$ [${lo:.3}$, ${hi:.3}$]", f.slope),
                (true, false) => format!("{:.3} [{lo:.3}, {hi:.3}]", f.slope),
                (false, true) => format!("${:.3}$", f.slope),
                (false, false) => format!("{:.3}", f.slope),
            }
        }
    }
}

/// Markdown: one table per problem (rows = refinements, two columns per scheme: error and observed order), the
/// last row the fitted order [95 % CI], and a line naming the problem, the norm and the expected orders.
pub fn orders_markdown(tables: &[OrderTable]) -> String {
    let mut s = String::new();
    for g in by_problem(tables) {
        let first = g[0];
        s.push_str(&format!(
            "**{}**: {}. Error: {}.",
            first.problem, first.definition, first.norm
        ));
        let exp: Vec<String> = g
            .iter()
            .filter_map(|t| t.expected.map(|p| format!("{} {p}", t.scheme)))
            .collect();
        if !exp.is_empty() {
            s.push_str(&format!(" Expected order: {}.", exp.join(", ")));
        }
        s.push_str("\n\n| K | h |");
        for t in &g {
            s.push_str(&format!(" {} error | {} order |", t.scheme, t.scheme));
        }
        s.push_str("\n|---:|---:|");
        s.push_str(&"---:|---:|".repeat(g.len()));
        s.push('\n');
        let obs: Vec<Vec<f64>> = g.iter().map(|t| t.observed()).collect();
        for k in 0..first.steps.len() {
            s.push_str(&format!("| {} | {} |", first.steps[k], sci(first.h[k], 3)));
            for (t, o) in g.iter().zip(&obs) {
                let ok = if o[k].is_finite() {
                    format!("{:.3}", o[k])
                } else {
                    "—".into()
                };
                s.push_str(&format!(" {} | {ok} |", sci(t.errors[k], 3)));
            }
            s.push('\n');
        }
        s.push_str("| fitted order [95 % CI] | |");
        for t in &g {
            s.push_str(&format!(" | {} |", fit_text(t.fit(), false)));
        }
        s.push_str("\n\n");
    }
    s
}

/// A number as LaTeX maths, m\times10^{n} with three significant digits.
fn latex_num(v: f64) -> String {
    if !v.is_finite() {
        return "--".into();
    }
    if v == 0.0 {
        return "$0$".into();
    }
    let e = v.abs().log10().floor() as i32;
    let m = v / 10f64.powi(e);
    let (m, e) = if (m.abs() * 100.0).round() >= 1000.0 {
        (m / 10.0, e + 1)
    } else {
        (m, e)
    };
    if e == 0 {
        format!("${m:.2}$")
    } else {
        format!("${m:.2}\\times10^{{{e}}}$")
    }
}

fn latex_escape(s: &str) -> String {
    s.replace('\\', "\\textbackslash{}")
        .replace('&', "\\&")
        .replace('%', "\\%")
        .replace('_', "\\_")
        .replace('#', "\\#")
}

/// LaTeX (booktabs): one `tabular` per problem with a `%` comment naming the problem, norm and expected orders;
/// needs `\usepackage{booktabs}`.
pub fn orders_latex(tables: &[OrderTable]) -> String {
    let mut s = String::from("% Observed orders written by lieflow; needs \\usepackage{booktabs}.\n");
    for g in by_problem(tables) {
        let first = g[0];
        s.push_str(&format!(
            "% {}: {}. Error: {}.\n",
            latex_escape(&first.problem),
            first.definition,
            first.norm
        ));
        s.push_str(&format!(
            "\\begin{{tabular}}{{rr{}}}\n\\toprule\n",
            "rr".repeat(g.len())
        ));
        s.push_str("$K$ & $h$");
        for t in &g {
            s.push_str(&format!(" & \\multicolumn{{2}}{{c}}{{{}}}", latex_escape(&t.scheme)));
        }
        s.push_str(" \\\\\n");
        for i in 0..g.len() {
            s.push_str(&format!("\\cmidrule(lr){{{}-{}}}", 3 + 2 * i, 4 + 2 * i));
        }
        s.push_str("\n & ");
        for _ in &g {
            s.push_str(" & error & order");
        }
        s.push_str(" \\\\\n\\midrule\n");
        let obs: Vec<Vec<f64>> = g.iter().map(|t| t.observed()).collect();
        for k in 0..first.steps.len() {
            s.push_str(&format!("{} & {}", first.steps[k], latex_num(first.h[k])));
            for (t, o) in g.iter().zip(&obs) {
                let ok = if o[k].is_finite() {
                    format!("${:.3}$", o[k])
                } else {
                    "--".into()
                };
                s.push_str(&format!(" & {} & {ok}", latex_num(t.errors[k])));
            }
            s.push_str(" \\\\\n");
        }
        s.push_str("\\midrule\n\\multicolumn{2}{l}{fitted order [95\\,\\% CI]}");
        for t in &g {
            s.push_str(&format!(" & \\multicolumn{{2}}{{r}}{{{}}}", fit_text(t.fit(), true)));
        }
        s.push_str(" \\\\\n");
        let exp: Vec<String> = g
            .iter()
            .map(|t| t.expected.map(|p| format!("${p}$")).unwrap_or_else(|| "--".into()))
            .collect();
        s.push_str("\\multicolumn{2}{l}{expected order}");
        for e in exp {
            s.push_str(&format!(" & \\multicolumn{{2}}{{r}}{{{e}}}"));
        }
        s.push_str(" \\\\\n\\bottomrule\n\\end{tabular}\n\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<OrderTable> {
        let steps = vec![10, 20, 40, 80];
        let h: Vec<f64> = steps.iter().map(|&k| 1.0 / k as f64).collect();
        let mk = |scheme: &str, p: f64, c: f64| OrderTable {
            problem: "logistic".into(),
            definition: "u′ = −u − u², u(0) = 1".into(),
            scheme: scheme.into(),
            norm: "|u_K − u(1)|".into(),
            steps: steps.clone(),
            h: h.clone(),
            errors: h.iter().map(|h| c * h.powf(p)).collect(),
            expected: Some(p),
        };
        vec![mk("Euler", 1.0, 0.3), mk("RK4", 4.0, 0.02)]
    }

    #[test]
    fn observed_orders_are_log_ratios() {
        let t = &sample()[1];
        let o = t.observed();
        assert!(o[0].is_nan());
        assert!(o[1..].iter().all(|p| (p - 4.0).abs() < 1e-12), "{o:?}");
        assert!((t.fit().unwrap().slope - 4.0).abs() < 1e-12);
    }

    #[test]
    fn csv_markdown_and_latex_carry_every_row_and_the_fit() {
        let ts = sample();
        let csv = String::from_utf8(orders_long(&ts).to_csv_bytes()).unwrap();
        assert_eq!(csv.lines().count(), 1 + 8, "{csv}");
        assert!(csv.starts_with("problem,definition,scheme,norm,steps,h,error,observed_order,fitted_order"));
        assert!(csv.contains("logistic,\"u′ = −u − u², u(0) = 1\",RK4"), "{csv}");
        let md = orders_markdown(&ts);
        assert!(
            md.contains("| K | h | Euler error | Euler order | RK4 error | RK4 order |"),
            "{md}"
        );
        assert!(md.contains("| 20 | 0.0500 |"), "{md}");
        assert!(md.contains("fitted order [95 % CI]") && md.contains("4.000"), "{md}");
        let tex = orders_latex(&ts);
        for k in [
            "\\toprule",
            "\\midrule",
            "\\bottomrule",
            "\\cmidrule(lr){3-4}",
            "$3.00\\times10^{-2}$",
        ] {
            assert!(tex.contains(k), "missing {k} in\n{tex}");
        }
        assert_eq!(tex.matches("\\begin{tabular}").count(), 1);
    }
}
