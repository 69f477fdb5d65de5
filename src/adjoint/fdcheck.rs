//! Central finite differences of J for checking gradients (ARCHITECTURE habit 10): step
//! h_i = ε^{1/3} (1 + |θ_i|), error reported per parameter block as a max-norm relative error
//! max_i |g_i − fd_i| / max_i |fd_i|.

use super::discrete::GradProblem;
use crate::Result;

/// Central-difference gradient of J with respect to θ = (controls K × d, readout parameters); with `max_coords`
/// set, only that many evenly spread coordinates are differenced (the others are NaN).
pub fn fd_gradient(p: &GradProblem, u: &[f64], rho: &[f64], max_coords: Option<usize>) -> Result<(Vec<f64>, Vec<f64>)> {
    let eps3 = f64::EPSILON.cbrt();
    let nu = u.len();
    let total = nu + rho.len();
    let mut pick = vec![true; total];
    if let Some(mx) = max_coords.filter(|&mx| mx < total) {
        pick = vec![false; total];
        for j in 0..mx {
            pick[j * total / mx] = true;
        }
    }
    let mut theta: Vec<f64> = u.iter().chain(rho).copied().collect();
    let mut g = vec![f64::NAN; total];
    for i in (0..total).filter(|&i| pick[i]) {
        let base = theta[i];
        let h = eps3 * (1.0 + base.abs());
        theta[i] = base + h;
        let fp = p.loss(&theta[..nu], &theta[nu..])?;
        theta[i] = base - h;
        let fm = p.loss(&theta[..nu], &theta[nu..])?;
        theta[i] = base;
        g[i] = (fp - fm) / (2.0 * h);
    }
    let gr = g.split_off(nu);
    Ok((g, gr))
}

/// max_i |a_i − b_i| / max_i |b_i| over the entries where b is finite (NaN entries of b are skipped); 0 for an
/// empty block, and the absolute error when b vanishes.
pub fn max_rel_err(a: &[f64], b: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b).filter(|(_, y)| y.is_finite()) {
        num = num.max((x - y).abs());
        den = den.max(y.abs());
    }
    if den > 0.0 {
        num / den
    } else {
        num
    }
}
