//! Least-squares fits on log–log data: the convergence order p in err ≈ C h^p, with its standard error.

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
    fn noisy_data_has_a_positive_stderr() {
        let f = line(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.1, 1.9, 3.2]).unwrap();
        assert!(f.slope_stderr > 0.0);
        assert!(line(&[1.0, 1.0], &[0.0, 1.0]).is_none());
    }
}
