//! `lieflow pvar PATH.csv --p P [--json]`: the exact p-variation ‖g‖_{p-var} of the path in a CSV file and a
//! maximising partition ([`crate::analysis::pvar`], SPEC §2, seed 004 (2.14)).
//!
//! Columns: a header row names them; a column named `t` is time and not part of the path; every other column is a
//! component of g_k ∈ R^d, one data row per point k = 0..n (a file without a header has no `t` column). With a `t`
//! column the output also reports the Hölder seminorm at α = 1/p (004 (2.19)) and the bound it implies,
//! ‖g‖_{p-var} ≤ ‖g‖_{1/p} (t_n − t_0)^{1/p} (from Σ ‖Δg‖^p ≤ ‖g‖_α^p Σ Δt when αp = 1); `t` must then increase
//! strictly. Partition indices count data rows from 0.

use super::args::PvarArgs;
use crate::analysis::pvar::{check_times, holder, pvar as exact_pvar, PathError};
use crate::output::table::read_csv;
use crate::{Error, Result};
use serde_json::json;
use std::path::Path;

/// Input error at data row `row` (0-based), file column `col` (0-based) named `name`.
fn at(file: &Path, lines: &[usize], row: usize, col: usize, name: &str, msg: String) -> Error {
    Error::Input {
        file: file.to_path_buf(),
        line: lines.get(row).copied(),
        col: Some(col + 1),
        field: name.to_string(),
        msg,
    }
}

/// `lieflow pvar`.
pub fn pvar(a: &PvarArgs) -> Result<()> {
    if !(a.p.is_finite() && a.p >= 1.0) {
        return Err(Error::input(
            "--p",
            "--p",
            format!("expected a finite number ≥ 1, found {}", a.p),
        ));
    }
    let file = a.path.as_path();
    let csv = read_csv(file).map_err(|e| e.reading_input("PATH"))?;
    let names: Vec<String> = match &csv.header {
        Some(h) if h.len() != csv.cols => {
            return Err(Error::input(
                file,
                "header",
                format!("names {} columns, but the data rows have {}", h.len(), csv.cols),
            ))
        }
        Some(h) => h.clone(),
        None => (1..=csv.cols).map(|c| format!("column {c}")).collect(),
    };
    let t_cols: Vec<usize> = (0..csv.cols).filter(|&c| names[c] == "t").collect();
    if t_cols.len() > 1 {
        return Err(Error::input(
            file,
            "header",
            format!(
                "columns {} are all named `t`; expected at most one time column",
                join(&t_cols, 1, ", ")
            ),
        ));
    }
    let t_col = t_cols.first().copied();
    let comps: Vec<usize> = (0..csv.cols).filter(|&c| Some(c) != t_col).collect();
    if comps.is_empty() {
        return Err(Error::input(
            file,
            "header",
            "no path columns: every column other than `t` is a component of the path, and there is none",
        ));
    }
    let value = |r: usize, c: usize| csv.values[r * csv.cols + c];
    if let Some(i) = csv.values.iter().position(|v| !v.is_finite()) {
        let (r, c) = (i / csv.cols, i % csv.cols);
        let msg = format!("expected a finite number, found {}", csv.values[i]);
        return Err(at(file, &csv.lines, r, c, &names[c], msg));
    }
    let dim = comps.len();
    let path: Vec<f64> = (0..csv.rows())
        .flat_map(|r| comps.iter().map(move |&c| value(r, c)))
        .collect();
    let times: Option<Vec<f64>> = t_col.map(|t| (0..csv.rows()).map(|r| value(r, t)).collect());

    let other = |e: PathError| Error::input(file, "", e.to_string());
    let pv = exact_pvar(&path, dim, a.p).map_err(other)?;
    let hol = match (&times, t_col) {
        (Some(t), Some(tc)) => {
            check_times(t, csv.rows()).map_err(|e| match e {
                PathError::TimesNotIncreasing { index, .. } | PathError::TimeNotFinite { index, .. } => {
                    at(file, &csv.lines, index, tc, "t", e.to_string())
                }
                e => other(e),
            })?;
            let alpha = 1.0 / a.p;
            let h = holder(&path, t, dim, alpha).map_err(other)?;
            let bound = h.value * (t[csv.rows() - 1] - t[0]).powf(alpha);
            Some((alpha, h, bound))
        }
        _ => None,
    };

    let columns: Vec<&str> = comps.iter().map(|&c| names[c].as_str()).collect();
    if a.json {
        let mut out = json!({
            "file": file.display().to_string(),
            "value": pv.value,
            "partition": pv.partition,
            "p": a.p,
            "points": csv.rows(),
            "dim": dim,
            "columns": columns,
        });
        if let Some((alpha, h, bound)) = &hol {
            out["holder"] = json!({ "alpha": alpha, "value": h.value, "pair": [h.pair.0, h.pair.1], "bound": bound });
        }
        outln!("{out}");
    } else {
        outln!(
            "{}: {} points in R^{dim} (columns: {})",
            file.display(),
            csv.rows(),
            columns.join(", ")
        );
        outln!("p-variation (p = {}): {}", a.p, pv.value);
        outln!(
            "maximising partition ({} points; data rows from 0): {}",
            pv.partition.len(),
            join(&pv.partition, 0, " ")
        );
        if let (Some((alpha, h, bound)), Some(t)) = (&hol, &times) {
            let (k, l) = h.pair;
            outln!(
                "Hölder seminorm (α = 1/p = {alpha}): {} between rows {k} and {l} (t = {} and {})",
                h.value,
                t[k],
                t[l]
            );
            outln!("bound ‖g‖_α (t_n − t_0)^α = {bound} ≥ p-variation");
        }
    }
    Ok(())
}

/// The indices shifted by `offset`, separated by `sep`.
fn join(v: &[usize], offset: usize, sep: &str) -> String {
    v.iter().map(|i| (i + offset).to_string()).collect::<Vec<_>>().join(sep)
}
