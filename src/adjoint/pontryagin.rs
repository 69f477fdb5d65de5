//! Continuous (Pontryagin) adjoint (SPEC §3): the costate
//!
//!   p(T) = ∇_x Φ(X(T)),   ṗ = −(∂_x f)ᵀ p − w_R ∇_x ℓ(X),   ∂J/∂u_k = ∫_{t_k}^{t_{k+1}} (∂_u f)ᵀ p dt + λ ∂R/∂u_k,
//!
//! solved backward with classical RK4 (step h = T/(K s), the control frozen on each interval) against a forward
//! trajectory computed with RK4 at step h/2, so every RK4 stage time of the backward sweep has a stored state. The
//! quadrature of (∂_u f)ᵀ p rides along as an extra component of the backward RK4 system. The result approximates
//! the gradient of the *continuous* objective to O(h⁴); it differs from the exact discrete gradient by the
//! discretisation's own error, O(h^order) — a diagnostic, not a bug (SPEC §3). Readout parameters get the terminal
//! gradient at the fine X(T), and Simpson's rule for any running cost.

use super::discrete::{GradProblem, LossGrad};
use crate::integrate::rk4::Rk4;
use crate::integrate::Term;
use crate::integrate::{Scheme, Workspace, BLOCK};
use crate::{Error, Result};
use rayon::prelude::*;

/// The continuous-adjoint gradient of the problem's objective at (u, ρ).
pub fn gradient(prob: &GradProblem, u: &[f64], rho: &[f64]) -> Result<LossGrad> {
    let obj = prob.objective;
    if obj.has_running() && obj.running_targets.is_some() {
        return Err(Error::input(
            "",
            "objective.running_targets",
            "the continuous adjoint needs targets defined at all times; a target table only defines them at steps",
        ));
    }
    let m = prob.field.state_dim();
    let parts: Vec<Result<LossGrad>> = prob
        .x0
        .par_chunks(BLOCK * m)
        .enumerate()
        .map(|(b, xs)| block(prob, b * BLOCK, xs, u, rho))
        .collect();
    let mut total = LossGrad::sum_blocks(parts, u.len(), rho.len())?;
    let d = prob.field.control_dim();
    total.loss += obj.regularizer_value_grad(u, d, prob.grid.h(), &mut total.controls);
    Ok(total)
}

fn block(prob: &GradProblem, first: usize, xs: &[f64], u: &[f64], rho: &[f64]) -> Result<LossGrad> {
    let f = prob.field;
    let obj = prob.objective;
    let (m, d) = (f.state_dim(), f.control_dim());
    let steps = prob.steps();
    let h = prob.h();
    let s = prob.substeps;
    let mut ws = Workspace::new(&Rk4, f);
    let mut traj = vec![0.0; (2 * steps + 1) * m];
    let mut os = vec![0.0; obj.scratch_len()];
    let mut p = vec![0.0; m];
    let mut stage = vec![0.0; m];
    let mut a = vec![vec![0.0; m]; 4];
    let mut r = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut scratch = vec![0.0; f.scratch_len()];
    let mut out = LossGrad {
        loss: 0.0,
        controls: vec![0.0; u.len()],
        readout: vec![0.0; rho.len()],
    };
    for (pi, x0) in xs.chunks(m).enumerate() {
        let i = first + pi;
        // Fine forward trajectory: RK4 at h/2, states at every half step.
        traj[..m].copy_from_slice(x0);
        for j in 0..2 * steps {
            let k = j / (2 * s);
            let (prev, next) = traj.split_at_mut((j + 1) * m);
            next[..m].copy_from_slice(&prev[j * m..]);
            Rk4.step(&Term::rate(f, &u[k * d..(k + 1) * d], 0.5 * h), &mut next[..m], &mut ws);
            if let Some(c) = next[..m].iter().position(|v| !v.is_finite()) {
                return Err(Error::numerical(
                    format!("non-finite state (component {c}) in the adjoint's forward sweep"),
                    0.5 * h * (j + 1) as f64,
                    j + 1,
                    Some(i),
                ));
            }
        }
        let xt = &traj[2 * steps * m..];
        p.iter_mut().for_each(|v| *v = 0.0);
        out.loss += obj.terminal(i, xt, x0, rho, &mut p, &mut out.readout, &mut os);
        // Running-cost density ∇ℓ at half-step index j (h = 1 in `running` gives the density).
        let mut run_grad = |j: usize, r: &mut [f64], grho: &mut [f64], wgt: f64| -> f64 {
            r.iter_mut().for_each(|v| *v = 0.0);
            if !obj.has_running() {
                return 0.0;
            }
            let x = &traj[j * m..(j + 1) * m];
            let mut tmp = vec![0.0; grho.len()];
            let l = obj.running(i, 1, 1.0, x, x0, rho, r, &mut tmp, &mut os);
            grho.iter_mut().zip(&tmp).for_each(|(g, t)| *g += wgt * t);
            l
        };
        for n in (1..=steps).rev() {
            let k = (n - 1) / s;
            let uk = &u[k * d..(k + 1) * d];
            let g = &mut out.controls[k * d..(k + 1) * d];
            // Stage times t_n, t_n − h/2, t_n − h/2, t_{n−1} ↔ half-step indices 2n, 2n−1, 2n−1, 2n−2.
            let js = [2 * n, 2 * n - 1, 2 * n - 1, 2 * n - 2];
            let coef = [0.0, 0.5 * h, 0.5 * h, h];
            let quad = [h / 6.0, h / 3.0, h / 3.0, h / 6.0];
            for st in 0..4 {
                for c in 0..m {
                    stage[c] = p[c] + if st == 0 { 0.0 } else { coef[st] * a[st - 1][c] };
                }
                let x = &traj[js[st] * m..(js[st] + 1) * m];
                // F = J_xᵀ stage + ∇ℓ(x).
                let simpson = [h / 6.0, 2.0 * h / 6.0, 2.0 * h / 6.0, h / 6.0][st];
                let lval = run_grad(js[st], &mut r, &mut out.readout, simpson);
                out.loss += simpson * lval;
                f.vjp_x(x, uk, &stage, &mut a[st], &mut scratch);
                for c in 0..m {
                    a[st][c] += r[c];
                    w[c] = quad[st] * stage[c];
                }
                f.vjp_u_acc(x, uk, &w, g, &mut scratch);
            }
            for c in 0..m {
                p[c] += h / 6.0 * (a[0][c] + 2.0 * a[1][c] + 2.0 * a[2][c] + a[3][c]);
            }
        }
    }
    Ok(out)
}
