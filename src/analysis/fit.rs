//! Least-squares fits on log–log data: the convergence order p in err ≈ C h^p, with its standard error and a
//! 95 % confidence interval from Student's t with n − 2 degrees of freedom (slope ± t₀.₉₇₅,ₙ₋₂ · SE; e.g. Montgomery &
//! Runger, *Applied Statistics and Probability for Engineers*, §11-5).

use serde::Serialize;

/// A fitted line y = intercept + slope · x with the slope's standard error.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct LineFit {
    /// Fitted slope.
    pub slope: f64,
    /// Fitted intercept.
    pub intercept: f64,
    /// Standard error of the slope (0 for two points).
    pub slope_stderr: f64,
    /// Number of points used.
    pub n: usize,
}

impl LineFit {
    /// 95 % confidence interval of the slope, slope ± t₀.₉₇₅(n − 2) · SE. Two points have no interval (NaN bounds).
    pub fn slope_ci95(&self) -> (f64, f64) {
        if self.n <= 2 {
            return (f64::NAN, f64::NAN);
        }
        let half = t_quantile(0.975, (self.n - 2) as f64) * self.slope_stderr;
        (self.slope - half, self.slope + half)
    }

    /// "p = 1.002 (95 % CI 0.991–1.013)", for figure legends and tables.
    pub fn slope_text(&self, symbol: &str) -> String {
        let (lo, hi) = self.slope_ci95();
        if lo.is_finite() {
            format!("{symbol} = {:.3} (95 % CI {lo:.3}–{hi:.3})", self.slope)
        } else {
            format!("{symbol} = {:.3}", self.slope)
        }
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; |error| < 1e-13 — Numerical Recipes 3rd ed. §6.1).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let a = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |a, (i, g)| a + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the regularised incomplete beta function (modified Lentz; Numerical Recipes §6.4).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = if d.abs() < tiny { tiny } else { d };
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Regularised incomplete beta function I_x(a, b).
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Student's t distribution function F(t; ν) = 1 − ½ I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0.
pub fn t_cdf(t: f64, dof: f64) -> f64 {
    let tail = 0.5 * inc_beta(0.5 * dof, 0.5, dof / (dof + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The p-quantile of Student's t with `dof` degrees of freedom (bisection on [`t_cdf`] to 1e-12), e.g.
/// t₀.₉₇₅(1) = 12.706, t₀.₉₇₅(3) = 3.182, t₀.₉₇₅(∞) = 1.960.
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && dof > 0.0) {
        return f64::NAN;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, dof);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_cdf(hi, dof) < p {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, dof) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Ordinary least squares through (x_i, y_i). Needs at least two distinct x.
pub fn line(xs: &[f64], ys: &[f64]) -> Option<LineFit> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let mx = xs[..n].iter().sum::<f64>() / n as f64;
    let my = ys[..n].iter().sum::<f64>() / n as f64;
    let sxx: f64 = xs[..n].iter().map(|x| (x - mx) * (x - mx)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = xs[..n].iter().zip(&ys[..n]).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let slope_stderr = if n > 2 {
        let rss: f64 = xs[..n]
            .iter()
            .zip(&ys[..n])
            .map(|(x, y)| (y - intercept - slope * x).powi(2))
            .sum();
        (rss / (n as f64 - 2.0) / sxx).sqrt()
    } else {
        0.0
    };
    Some(LineFit {
        slope,
        intercept,
        slope_stderr,
        n,
    })
}

/// The order p of err ≈ C h^p: slope of log err against log h, using only positive finite errors.
pub fn order(hs: &[f64], errs: &[f64]) -> Option<LineFit> {
    let (lx, ly): (Vec<f64>, Vec<f64>) = hs
        .iter()
        .zip(errs)
        .filter(|(h, e)| **h > 0.0 && **e > 0.0 && e.is_finite())
        .map(|(h, e)| (h.ln(), e.ln()))
        .unzip();
    line(&lx, &ly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_power_law() {
        let hs = [0.1, 0.05, 0.025, 0.0125];
        let errs: Vec<f64> = hs.iter().map(|h: &f64| 3.0 * h.powi(4)).collect();
        let f = order(&hs, &errs).unwrap();
        assert!((f.slope - 4.0).abs() < 1e-12);
        assert!(f.slope_stderr < 1e-10);
        assert!(((f.intercept).exp() - 3.0).abs() < 1e-10);
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95 % critical values of Student's t (any statistics table).
        for (dof, t) in [
            (1.0, 12.7062),
            (2.0, 4.3027),
            (3.0, 3.1824),
            (10.0, 2.2281),
            (30.0, 2.0423),
            (1e6, 1.9600),
        ] {
            let q = t_quantile(0.975, dof);
            assert!((q - t).abs() < 1e-3, "dof {dof}: {q} vs {t}");
        }
        assert!((t_cdf(0.0, 5.0) - 0.5).abs() < 1e-15);
        assert!((t_quantile(0.025, 4.0) + t_quantile(0.975, 4.0)).abs() < 1e-10);
    }

    #[test]
    fn ci_covers_the_slope_with_the_t_width() {
        let f = line(&[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 1.1, 1.9, 3.2, 3.9]).unwrap();
        let (lo, hi) = f.slope_ci95();
        let half = t_quantile(0.975, 3.0) * f.slope_stderr;
        assert!((hi - lo - 2.0 * half).abs() < 1e-12 && lo < f.slope && f.slope < hi);
        assert!(f.slope_text("p").contains("95 % CI"));
        let two = line(&[0.0, 1.0], &[0.0, 1.0]).unwrap();
        assert!(two.slope_ci95().0.is_nan() && !two.slope_text("p").contains("CI"));
    }

    #[test]
    fn noisy_data_has_a_positive_stderr() {
        let f = line(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.1, 1.9, 3.2]).unwrap();
        assert!(f.slope_stderr > 0.0);
        assert!(line(&[1.0, 1.0], &[0.0, 1.0]).is_none());
    }
}
