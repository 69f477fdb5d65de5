//! `lieflow grad` (loss and exact discrete gradient in the controls' own layout: one row per interval; for nODE
//! W row-major then b) and `lieflow gradcheck` (discrete adjoint vs central finite differences vs the continuous
//! adjoint, per parameter block; exit 1 when the discrete adjoint disagrees with FD beyond the tolerance).

use super::args::{GradArgs, GradcheckArgs};
use super::run::{load, pool};
use crate::adjoint::fdcheck::{fd_gradient, max_rel_err};
use crate::adjoint::pontryagin;
use crate::control::Control;
use crate::output::run::write_file_atomic;
use crate::output::table::{read_controls_csv, Table};
use crate::problem::Setup;
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use serde_json::json;
use std::path::Path;

/// Load a K × d controls file into the setup (shape checked against the scenario).
pub fn load_controls(setup: &mut Setup, path: &Path) -> Result<()> {
    let budget = crate::scenario::budget::Budget::current()?;
    if let Ok(m) = std::fs::metadata(path) {
        let need = crate::scenario::budget::csv_read_bytes(m.len() as f64);
        if need > budget.limit {
            return Err(Error::arg(
                "--controls",
                format!(
                    "reading {} needs about {}, more than the {} available ({})",
                    path.display(),
                    crate::scenario::budget::human_bytes(need),
                    crate::scenario::budget::human_bytes(budget.limit),
                    budget.source
                ),
            ));
        }
    }
    let (v, rows, cols) = read_controls_csv(path).map_err(|e| e.reading_input("--controls"))?;
    let k = setup.problem.control.grid().intervals;
    let d = setup.problem.control.dim();
    if rows != k || cols != d {
        return Err(Error::input(
            path,
            "--controls",
            format!("expected {k} rows (time.intervals) × {d} columns (control dimension), found {rows} × {cols}"),
        ));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::input(
            path,
            format!("row {}, column {}", i / d + 1, i % d + 1),
            "non-finite control value",
        ));
    }
    setup.problem.control.values_mut().copy_from_slice(&v);
    Ok(())
}

fn prepared(file: &ScenarioFile, controls: Option<&Path>) -> Result<Setup> {
    file.grid()?;
    file.check_budget(|z, est| file.gradient_terms(z, est))?;
    let mut setup = file.setup()?;
    if let Some(c) = controls {
        load_controls(&mut setup, c)?;
    }
    Ok(setup)
}

fn rows(g: &[f64], d: usize) -> Vec<Vec<f64>> {
    g.chunks(d).map(<[f64]>::to_vec).collect()
}

/// `lieflow grad`.
pub fn grad(a: &GradArgs) -> Result<()> {
    let file = load(&a.scenario, None)?;
    let setup = prepared(&file, a.controls.as_deref())?;
    let d = setup.problem.control.dim();
    let pool = pool(a.threads)?;
    let g = pool.install(|| crate::study::train::loss_grad(&setup, setup.problem.control.values(), &setup.rho))?;
    if let Some(out) = &a.out {
        crate::output::guard::install().map_err(|e| Error::io(out, e))?;
        let mut t = Table::new(setup.problem.field.control_names().iter().map(|n| format!("dJ/d{n}")));
        for r in rows(&g.controls, d) {
            t.push(r);
        }
        write_file_atomic(out, &t.to_csv_bytes())?;
    }
    let norm = g.controls.iter().chain(&g.readout).map(|v| v * v).sum::<f64>().sqrt();
    if a.json {
        outln!(
            "{}",
            json!({
                "loss": g.loss,
                "grad_norm": norm,
                "gradient": rows(&g.controls, d),
                "readout_gradient": g.readout,
                "layout": "one row per interval (nODE: W row-major, then b)",
            })
        );
    } else {
        outln!("loss = {}", g.loss);
        outln!("gradient norm = {norm}");
        out!(
            "{}",
            String::from_utf8_lossy(&{
                let mut t = Table::new((1..=d).map(|j| format!("g{j}")));
                for r in rows(&g.controls, d) {
                    t.push(r);
                }
                t.to_csv_bytes()
            })
        );
        if !g.readout.is_empty() {
            outln!("readout gradient = {:?}", g.readout);
        }
    }
    Ok(())
}

/// `lieflow gradcheck`.
pub fn gradcheck(a: &GradcheckArgs) -> Result<()> {
    if !(a.tol.is_finite() && a.tol > 0.0) {
        return Err(Error::arg(
            "--tol",
            format!("expected a finite tolerance > 0, found {}", a.tol),
        ));
    }
    let file = load(&a.scenario, None)?;
    let setup = prepared(&file, a.controls.as_deref())?;
    let pool = pool(a.threads)?;
    let report = pool.install(|| -> Result<serde_json::Value> {
        let p = setup.grad_problem();
        let u = setup.problem.control.values();
        let disc = p.loss_grad(u, &setup.rho)?;
        let (fu, fr) = fd_gradient(&p, u, &setup.rho, a.max_coords)?;
        let cont = match pontryagin::gradient(&p, u, &setup.rho) {
            Ok(c) => Some(c),
            Err(Error::Input { msg, .. }) => {
                eprintln!("continuous adjoint skipped: {msg}");
                None
            }
            Err(e) => return Err(e),
        };
        let e_u = max_rel_err(&disc.controls, &fu);
        let e_r = max_rel_err(&disc.readout, &fr);
        let c_u = cont.as_ref().map(|c| max_rel_err(&c.controls, &disc.controls));
        let c_r = cont.as_ref().map(|c| max_rel_err(&c.readout, &disc.readout));
        Ok(json!({
            "loss": disc.loss,
            "tolerance": a.tol,
            "fd_coordinates": fu.iter().chain(&fr).filter(|v| v.is_finite()).count(),
            "blocks": {
                "controls": { "n": disc.controls.len(), "discrete_vs_fd": e_u, "continuous_vs_discrete": c_u },
                "readout": { "n": disc.readout.len(), "discrete_vs_fd": e_r, "continuous_vs_discrete": c_r },
            },
            "pass": e_u <= a.tol && e_r <= a.tol,
        }))
    })?;
    outln!("{}", serde_json::to_string_pretty(&report).expect("json"));
    if report["pass"] == json!(true) {
        Ok(())
    } else {
        Err(Error::numerical(
            format!(
                "discrete adjoint disagrees with central finite differences beyond {:e}",
                a.tol
            ),
            0.0,
            0,
            None,
        ))
    }
}
