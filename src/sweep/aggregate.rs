//! Aggregation of a sweep's unit results into its outputs:
//!
//! - `sweep.csv`: one row per point — its id, the axis values, and every numeric summary value of the point
//!   (nested keys joined by dots, booleans as 0/1; the union over points, sorted by name; empty where a point has
//!   none);
//! - `stats.csv` (when the sweep has a statistics axis, `over`, by default `seed`): for every combination of the
//!   other axes and every value, the count n, mean, sample standard deviation s (n − 1 in the denominator) and the
//!   95 % interval mean ± t₀.₉₇₅,ₙ₋₁ · s/√n (Student's t, [`crate::analysis::fit::t_quantile`]);
//! - a figure per `[[sweep.plot]]`: the mean of a value against an axis (points of every seed faint, 95 % interval
//!   bars), one line per value of a second axis in a sequential colour map, on log–log axes with the fitted slope
//!   (least squares of ln y on ln x over every unit value) and its 95 % interval where asked;
//! - `summary.json`: the axes, counts and the fits;
//! - `points/<point id>/…`: for a study made of units, each point's own outputs (its study's aggregate).
//!
//! Everything is computed from the unit results read back from disk, in canonical order, with sequential sums:
//! the same files for any shard layout or thread count.

use super::{Sweep, Unit};
use crate::analysis::fit::{self, t_quantile};
use crate::output::plot::{Color, ColorMap, Figure, Mark, Marker, Series, Stroke};
use crate::output::table::{Cell, LongTable};
use crate::output::StudyOutput;
use crate::{Error, Result};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;

/// Mean, sample standard deviation and Student-t 95 % interval of `xs` (NaN where undefined: s and the interval
/// need n ≥ 2).
pub fn mean_sd_ci(xs: &[f64]) -> (f64, f64, (f64, f64)) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, (f64::NAN, f64::NAN));
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN, (f64::NAN, f64::NAN));
    }
    let sd = (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt();
    let half = t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt();
    (mean, sd, (mean - half, mean + half))
}

/// The numeric scalars of a summary: numbers, booleans (0/1), nested objects with dotted keys.
pub fn flatten(prefix: &str, v: &Json, out: &mut BTreeMap<String, f64>) {
    match v {
        Json::Number(n) => {
            if let Some(x) = n.as_f64() {
                out.insert(prefix.to_string(), x);
            }
        }
        Json::Bool(b) => {
            out.insert(prefix.to_string(), if *b { 1.0 } else { 0.0 });
        }
        Json::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        _ => {}
    }
}

fn read_json(path: &Path) -> Result<Json> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not valid JSON: {e}")),
        )
    })
}

/// File-name-safe stem.
fn stem(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
        .collect()
}

fn axis_cell(v: &Json) -> Cell {
    match v.as_f64() {
        Some(x) if v.is_number() => Cell::Num(x),
        _ => Cell::Text(super::spec::display(v)),
    }
}

/// The aggregated outputs of `sweep` from the complete unit folders in `dir` (`dir/units/<id>/`).
pub fn aggregate(sweep: &Sweep, units: &[Unit], dir: &Path) -> Result<StudyOutput> {
    let mut out = StudyOutput::default();
    let mut summaries: Vec<Json> = Vec::with_capacity(sweep.points.len());
    for (p, point) in sweep.points.iter().enumerate() {
        let mine: Vec<&Unit> = units.iter().filter(|u| u.point == p).collect();
        if let [u] = mine[..] {
            if u.inner.is_none() {
                summaries.push(read_json(&super::folder::unit_dir(dir, &u.id).join("summary.json"))?);
                continue;
            }
        }
        let results = mine
            .iter()
            .map(|u| read_json(&super::folder::unit_dir(dir, &u.id).join("result.json")))
            .collect::<Result<Vec<_>>>()?;
        let file = sweep.point_file(p)?;
        let plan = sweep.prepare(p, &file)?;
        let Some(study_units) = plan.units() else {
            return Err(Error::arg(
                "lieflow merge",
                format!("point {} has no units", point.label),
            ));
        };
        let mut pout = StudyOutput::default();
        study_units.aggregate(&results, &mut pout)?;
        let prefix = format!("points/{}", point.id);
        let mut summary = pout.summary.clone();
        if !pout.comparisons.is_empty() {
            summary.insert(
                "comparisons".into(),
                serde_json::to_value(&pout.comparisons).expect("comparisons serialise"),
            );
        }
        summaries.push(Json::Object(pout.summary));
        out.tables
            .extend(pout.tables.into_iter().map(|(n, t)| (format!("{prefix}/{n}"), t)));
        out.long_tables
            .extend(pout.long_tables.into_iter().map(|(n, t)| (format!("{prefix}/{n}"), t)));
        out.figures
            .extend(pout.figures.into_iter().map(|(n, f)| (format!("{prefix}/{n}"), f)));
        out.json
            .extend(pout.json.into_iter().map(|(n, v)| (format!("{prefix}/{n}"), v)));
        out.texts
            .extend(pout.texts.into_iter().map(|(n, t)| (format!("{prefix}/{n}"), t)));
        out.json.push((format!("{prefix}/summary.json"), Json::Object(summary)));
    }
    let values: Vec<BTreeMap<String, f64>> = summaries
        .iter()
        .map(|s| {
            let mut m = BTreeMap::new();
            flatten("", s, &mut m);
            m
        })
        .collect();
    let names: Vec<String> = {
        let mut all: Vec<String> = values.iter().flat_map(|m| m.keys().cloned()).collect();
        all.sort();
        all.dedup();
        all
    };
    let paths = sweep.spec.as_ref().map(|s| s.paths()).unwrap_or_default();

    // sweep.csv
    let mut cols = vec!["point".to_string()];
    cols.extend(paths.iter().cloned());
    cols.extend(names.iter().cloned());
    let mut table = LongTable::new(cols);
    for (point, vals) in sweep.points.iter().zip(&values) {
        let mut row = vec![Cell::Text(point.id.clone())];
        row.extend(point.values.iter().map(|(_, v)| axis_cell(v)));
        row.extend(
            names
                .iter()
                .map(|n| vals.get(n).map_or(Cell::Text(String::new()), |x| Cell::Num(*x))),
        );
        table.push(row);
    }
    out.long_tables.push(("sweep.csv".into(), table));

    // stats.csv
    let over = sweep.spec.as_ref().and_then(|s| s.over.clone());
    if let Some(over) = &over {
        let group_axes: Vec<usize> = (0..paths.len()).filter(|&j| &paths[j] != over).collect();
        let mut groups: Vec<(Vec<Json>, Vec<usize>)> = Vec::new();
        for (p, point) in sweep.points.iter().enumerate() {
            let key: Vec<Json> = group_axes.iter().map(|&j| point.values[j].1.clone()).collect();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(p),
                None => groups.push((key, vec![p])),
            }
        }
        let mut cols: Vec<String> = group_axes.iter().map(|&j| paths[j].clone()).collect();
        cols.extend(
            ["value", "n", "mean", "std", "ci95_low", "ci95_high"]
                .iter()
                .map(|s| s.to_string()),
        );
        let mut stats = LongTable::new(cols);
        for (key, members) in &groups {
            for name in &names {
                let xs: Vec<f64> = members
                    .iter()
                    .filter_map(|&p| values[p].get(name).copied())
                    .filter(|x| x.is_finite())
                    .collect();
                if xs.is_empty() {
                    continue;
                }
                let (mean, sd, (lo, hi)) = mean_sd_ci(&xs);
                let mut row: Vec<Cell> = key.iter().map(axis_cell).collect();
                row.push(Cell::Text(name.clone()));
                row.extend([xs.len() as f64, mean, sd, lo, hi].map(Cell::Num));
                stats.push(row);
            }
        }
        out.long_tables.push(("stats.csv".into(), stats));
    }

    // Figures and fits.
    let mut fits = Vec::new();
    if let Some(spec) = &sweep.spec {
        let mut stems: Vec<String> = Vec::new();
        for (pi, plot) in spec.plots.iter().enumerate() {
            if !values.iter().any(|m| m.contains_key(&plot.value)) {
                return Err(super::spec::error_at(
                    sweep.file,
                    plot.at,
                    &format!("sweep.plot[{pi}].value"),
                    format!(
                        "no point's summary has a numeric `{}`; the values are {:?}",
                        plot.value, names
                    ),
                ));
            }
            let (fig, f) = figure(sweep, plot, &values, over.as_deref());
            fits.extend(f);
            let mut s = format!("sweep-{}-vs-{}", stem(&plot.value), stem(&plot.x));
            if stems.contains(&s) {
                s = format!("{s}-{pi}");
            }
            stems.push(s.clone());
            out.figures.push((s, fig));
        }
    }

    let axes: Vec<Json> = sweep
        .spec
        .as_ref()
        .map(|s| {
            s.axes
                .iter()
                .map(|a| json!({ "path": a.path, "values": a.canonical }))
                .collect()
        })
        .unwrap_or_default();
    let mut summary = Map::new();
    summary.insert("scenario".into(), json!(sweep.name()));
    summary.insert("study".into(), json!(sweep.study.name()));
    summary.insert("scenario_sha256".into(), json!(sweep.hash));
    summary.insert("combine".into(), json!(sweep.spec.as_ref().map(|s| s.combine.name())));
    summary.insert("axes".into(), Json::Array(axes));
    summary.insert("over".into(), json!(over));
    summary.insert("points".into(), json!(sweep.points.len()));
    summary.insert("units".into(), json!(units.len()));
    summary.insert("values".into(), json!(names));
    summary.insert(
        "interval".into(),
        json!("mean ± t(0.975, n − 1) · s / √n over the `over` axis (Student's t, 95 %)"),
    );
    summary.insert("fits".into(), Json::Array(fits));
    out.summary = summary;
    Ok(out)
}

/// The figure of one `[[sweep.plot]]` and its fits (JSON).
fn figure(
    sweep: &Sweep,
    plot: &super::spec::PlotSpec,
    values: &[BTreeMap<String, f64>],
    over: Option<&str>,
) -> (Figure, Vec<Json>) {
    let spec = sweep.spec.as_ref().expect("plots belong to a sweep");
    let xi = spec.axes.iter().position(|a| a.path == plot.x).expect("checked");
    let li = plot
        .lines
        .as_ref()
        .and_then(|l| spec.axes.iter().position(|a| &a.path == l));
    let x_axis = &spec.axes[xi];
    let line_values: Vec<Option<&Json>> = match li {
        Some(j) => spec.axes[j].canonical.iter().map(Some).collect(),
        None => vec![None],
    };
    let mut fig = Figure::new(
        format!("{} against {}", plot.value, plot.x),
        plot.x.clone(),
        plot.value.clone(),
    );
    fig.log_x = plot.log;
    fig.log_y = plot.log;
    if li.is_some() {
        fig.colormap = ColorMap::Sequential;
    }
    if let Some(o) = over {
        fig.annotations.push(format!(
            "mean over {o} with Student-t 95 % intervals; faint points: each {o}"
        ));
    }
    let nl = line_values.len();
    let mut fits = Vec::new();
    for (l, lv) in line_values.iter().enumerate() {
        let color = match li {
            Some(_) if nl > 1 => Color::Sequential(l as f64 / (nl - 1) as f64),
            _ => Color::Palette(0),
        };
        let mut means = Vec::new();
        let mut raw = Vec::new();
        let mut bars = Vec::new();
        for xv in &x_axis.canonical {
            let x = xv.as_f64().expect("numeric axis (checked)");
            let ys: Vec<f64> = sweep
                .points
                .iter()
                .zip(values)
                .filter(|(pt, _)| &pt.values[xi].1 == xv && li.is_none_or(|j| Some(&pt.values[j].1) == *lv))
                .filter_map(|(_, m)| m.get(&plot.value).copied())
                .filter(|y| y.is_finite() && (!plot.log || *y > 0.0))
                .collect();
            if ys.is_empty() {
                continue;
            }
            let (mean, _, (lo, hi)) = mean_sd_ci(&ys);
            means.push((x, mean));
            raw.extend(ys.iter().map(|&y| (x, y)));
            if lo.is_finite() && (!plot.log || lo > 0.0) {
                bars.push(vec![(x, lo), (x, hi)]);
            }
        }
        if means.is_empty() {
            continue;
        }
        let mut label = match (&plot.lines, lv) {
            (Some(name), Some(v)) => format!("{name} = {}", super::spec::display(v)),
            _ => plot.value.clone(),
        };
        if plot.fit {
            let (xs, ys): (Vec<f64>, Vec<f64>) = raw.iter().copied().unzip();
            let f = if plot.log {
                fit::order(&xs, &ys)
            } else {
                fit::line(&xs, &ys)
            };
            if let Some(f) = f {
                let (lo, hi) = f.slope_ci95();
                label = format!("{label}: {}", f.slope_text("slope"));
                let (x0, x1) = (means[0].0, means[means.len() - 1].0);
                let eval = |x: f64| {
                    if plot.log {
                        (f.intercept + f.slope * x.ln()).exp()
                    } else {
                        f.intercept + f.slope * x
                    }
                };
                fig.series.push(
                    Series::unlabelled(vec![(x0, eval(x0)), (x1, eval(x1))], Mark::Line)
                        .color(color)
                        .stroke(Stroke::Dashed),
                );
                let finite = |v: f64| if v.is_finite() { json!(v) } else { Json::Null };
                fits.push(json!({
                    "value": plot.value,
                    "x": plot.x,
                    "lines": plot.lines,
                    "line_value": lv,
                    "log_log": plot.log,
                    "slope": f.slope,
                    "intercept": f.intercept,
                    "slope_stderr": f.slope_stderr,
                    "ci95": [finite(lo), finite(hi)],
                    "n": f.n,
                }));
            }
        }
        if over.is_some() && raw.len() > means.len() {
            fig.series.push(
                Series::unlabelled(raw, Mark::Points)
                    .color(color)
                    .marker(Marker::Circle, true)
                    .width(0.6),
            );
        }
        for b in bars {
            fig.series.push(Series::unlabelled(b, Mark::Line).color(color));
        }
        fig.series.push(
            Series::line(label, means)
                .mark(Mark::LinePoints)
                .marker(Marker::Circle, false)
                .color(color),
        );
    }
    (fig, fits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_hand_computed_values() {
        // xs = 1, 2, 3, 4: mean 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, t(0.975, 3) = 3.182446305284263.
        let (m, s, (lo, hi)) = mean_sd_ci(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        let half = 3.182446305284263 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert!(
            (lo - (2.5 - half)).abs() < 1e-9 && (hi - (2.5 + half)).abs() < 1e-9,
            "{lo} {hi}"
        );
        // Three seeds 0.5, 0.7, 0.6: mean 0.6, s = 0.1, t(0.975, 2) = 4.302652729911275.
        let (m, s, (lo, hi)) = mean_sd_ci(&[0.5, 0.7, 0.6]);
        assert!((m - 0.6).abs() < 1e-15 && (s - 0.1).abs() < 1e-15);
        let half = 4.302652729911275 * 0.1 / 3f64.sqrt();
        assert!((hi - lo - 2.0 * half).abs() < 1e-9);
        let (m, s, (lo, _)) = mean_sd_ci(&[7.0]);
        assert!(m == 7.0 && s.is_nan() && lo.is_nan());
    }

    #[test]
    fn summaries_flatten_to_dotted_numeric_columns() {
        let v = json!({"a": 1, "b": {"c": 2.5, "d": "text", "e": true}, "f": [1, 2]});
        let mut m = BTreeMap::new();
        flatten("", &v, &mut m);
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            [
                ("a".to_string(), 1.0),
                ("b.c".to_string(), 2.5),
                ("b.e".to_string(), 1.0)
            ]
        );
    }
}
