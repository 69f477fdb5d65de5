//! Truncated multivariate Taylor arithmetic (jets) for brackets of non-polynomial fields at a point (SPEC §5).
//!
//! A bracket of depth k involves derivatives of order ≤ k − 1 of the generators. Around an evaluation point x0
//! each generator is replaced by its Taylor polynomial in h = x − x0 of total degree K = k − 1 (a [`JetField`]);
//! brackets are then polynomial operations on these truncated polynomials:
//!
//!   [V, W]_i = Σ_j (∂_j W_i) V_j − (∂_j V_i) W_j.
//!
//! A jet valid to order a (all coefficients of degree ≤ a exact) bracketed with one valid to order b is valid to
//! order min(a, b) − 1: one order is lost to the derivative. Coefficients above the valid order are zeroed.
//! A depth-j bracket built from order-K generators is valid to order K − j + 1, so its constant term — the value
//! `[..](x0)` — is exact (up to rounding) for j ≤ K + 1.
//!
//! Generators: random features / nODE fields V(x) = σ(Cx + b) with C ∈ R^{m×m}, b ∈ R^m, σ componentwise
//! ([`FeatureField`]). The jet of z = Cx + b is linear; σ(z) is the composition of σ's univariate Taylor series
//! at c = z(x0) with the jet δ = z − c (no constant term): σ(c + δ) = Σ_n a_n δ^n, n ≤ K. Taylor coefficients:
//! tanh via y' = 1 − y², i.e. (n+1) a_{n+1} = [n = 0] − Σ_{i+j=n} a_i a_j; sigmoid via y' = y(1 − y), i.e.
//! (n+1) a_{n+1} = a_n − Σ_{i+j=n} a_i a_j; polynomials by a Taylor shift; identity exactly; ReLU / leaky ReLU /
//! |·| as their local linear piece (right derivative at the kink).

use super::poly::{monomials, Exps, Poly, PolyField};
use crate::field::Activation;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Monomial bookkeeping for jets in m variables of total degree ≤ K.
#[derive(Clone, Debug)]
pub struct JetSpace {
    pub m: usize,
    pub order: usize,
    pub mons: Vec<Exps>,
    degs: Vec<usize>,
    /// (i, j, r): mons[i] · mons[j] = mons[r] with degree ≤ K.
    mul_table: Vec<(usize, usize, usize)>,
    /// deriv[l][i] = Some((e_l, r)): ∂_l mons[i] = e_l · mons[r].
    deriv: Vec<Vec<Option<(f64, usize)>>>,
}

impl JetSpace {
    pub fn new(m: usize, order: usize) -> JetSpace {
        let mons = monomials(m, order as u32);
        let index: HashMap<Exps, usize> = mons.iter().cloned().enumerate().map(|(i, e)| (e, i)).collect();
        let degs: Vec<usize> = mons.iter().map(|e| e.iter().sum::<u32>() as usize).collect();
        let mut mul_table = Vec::new();
        for (i, a) in mons.iter().enumerate() {
            for (j, b) in mons.iter().enumerate() {
                if degs[i] + degs[j] <= order {
                    let e: Exps = a.iter().zip(b).map(|(x, y)| x + y).collect();
                    mul_table.push((i, j, index[&e]));
                }
            }
        }
        let deriv = (0..m)
            .map(|l| {
                mons.iter()
                    .map(|e| {
                        (e[l] > 0).then(|| {
                            let mut e2 = e.clone();
                            e2[l] -= 1;
                            (e[l] as f64, index[&e2])
                        })
                    })
                    .collect()
            })
            .collect();
        JetSpace {
            m,
            order,
            mons,
            degs,
            mul_table,
            deriv,
        }
    }
    pub fn len(&self) -> usize {
        self.mons.len()
    }
    pub fn is_empty(&self) -> bool {
        self.mons.is_empty()
    }
    /// Truncated product.
    pub fn mul(&self, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut r = vec![0.0; self.len()];
        for &(i, j, k) in &self.mul_table {
            r[k] += a[i] * b[j];
        }
        r
    }
    /// ∂/∂h_l.
    pub fn deriv(&self, a: &[f64], l: usize) -> Vec<f64> {
        let mut r = vec![0.0; self.len()];
        for (i, d) in self.deriv[l].iter().enumerate() {
            if let Some((c, k)) = d {
                r[*k] += c * a[i];
            }
        }
        r
    }
    /// Zeroes the coefficients of degree > `valid`.
    pub fn truncate(&self, a: &mut [f64], valid: usize) {
        for (x, &d) in a.iter_mut().zip(&self.degs) {
            if d > valid {
                *x = 0.0;
            }
        }
    }
    /// Σ_n `coeffs[n]` δ^n for a jet δ without constant term.
    pub fn compose(&self, coeffs: &[f64], delta: &[f64]) -> Vec<f64> {
        let mut r = vec![0.0; self.len()];
        for a in coeffs.iter().rev() {
            r = self.mul(&r, delta);
            r[0] += a;
        }
        r
    }
}

/// A vector field as m jets, valid to order `valid`.
#[derive(Clone, Debug, PartialEq)]
pub struct JetField {
    pub comps: Vec<Vec<f64>>,
    pub valid: usize,
}

impl JetField {
    /// The value at the expansion point (constant terms).
    pub fn value(&self) -> Vec<f64> {
        self.comps.iter().map(|c| c[0]).collect()
    }
    /// [self, w] = Dw·self − D(self)·w, valid to min(a, b) − 1. Panics if either is valid only to order 0.
    pub fn bracket(&self, w: &JetField, js: &JetSpace) -> JetField {
        let valid = self
            .valid
            .min(w.valid)
            .checked_sub(1)
            .expect("jet order exhausted: raise the jet order");
        let m = js.m;
        let mut comps = vec![vec![0.0; js.len()]; m];
        for (i, out) in comps.iter_mut().enumerate() {
            for j in 0..m {
                let dw = js.deriv(&w.comps[i], j);
                let p = js.mul(&dw, &self.comps[j]);
                let dv = js.deriv(&self.comps[i], j);
                let q = js.mul(&dv, &w.comps[j]);
                for ((o, a), b) in out.iter_mut().zip(&p).zip(&q) {
                    *o += a - b;
                }
            }
            js.truncate(out, valid);
        }
        JetField { comps, valid }
    }
}

/// Taylor coefficients a_0..a_K of σ at c: σ(c + s) = Σ a_n s^n + O(s^{K+1}).
pub fn taylor_coeffs(sigma: &Activation, c: f64, k: usize) -> Vec<f64> {
    let mut a = vec![0.0; k + 1];
    match sigma {
        Activation::Tanh | Activation::Sigmoid => {
            a[0] = sigma.eval(c);
            for n in 0..k {
                let conv: f64 = (0..=n).map(|i| a[i] * a[n - i]).sum();
                let rhs = match sigma {
                    Activation::Tanh => f64::from(n == 0) - conv,
                    _ => a[n] - conv,
                };
                a[n + 1] = rhs / (n as f64 + 1.0);
            }
        }
        Activation::Polynomial { coeffs } => {
            // a_n = Σ_j p_j C(j, n) c^{j−n}.
            for (n, an) in a.iter_mut().enumerate() {
                let mut s = 0.0;
                for (j, p) in coeffs.iter().enumerate().skip(n) {
                    s += p * binom(j, n) * c.powi((j - n) as i32);
                }
                *an = s;
            }
        }
        _ => {
            a[0] = sigma.eval(c);
            if k >= 1 {
                a[1] = sigma.deriv(c);
            }
        }
    }
    a
}

fn binom(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// V(x) = σ(Cx + b), σ componentwise: a random feature (SPEC §5 item 10) or an nODE field with frozen W = C, b.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureField {
    /// m × m, row-major rows.
    pub c: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub sigma: Activation,
}

impl FeatureField {
    /// The nODE field σ(Wx + b) with frozen W, b.
    pub fn node(w: Vec<Vec<f64>>, b: Vec<f64>, sigma: Activation) -> FeatureField {
        FeatureField { c: w, b, sigma }
    }
    pub fn m(&self) -> usize {
        self.b.len()
    }
    /// V(x).
    pub fn eval(&self, x: &[f64]) -> Vec<f64> {
        self.c
            .iter()
            .zip(&self.b)
            .map(|(row, bi)| self.sigma.eval(row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + bi))
            .collect()
    }
    /// Taylor jet of V at x0 in `js` (valid to js.order).
    pub fn jet(&self, x0: &[f64], js: &JetSpace) -> JetField {
        let m = self.m();
        let comps = (0..m)
            .map(|i| {
                let c0: f64 = self.c[i].iter().zip(x0).map(|(a, b)| a * b).sum::<f64>() + self.b[i];
                let mut delta = vec![0.0; js.len()];
                for j in 0..m {
                    // The degree-1 monomial h_j (absent for jets of order 0).
                    if let Some(idx) = js.mons.iter().position(|e| e.iter().sum::<u32>() == 1 && e[j] == 1) {
                        delta[idx] = self.c[i][j];
                    }
                }
                js.compose(&taylor_coeffs(&self.sigma, c0, js.order), &delta)
            })
            .collect();
        JetField { comps, valid: js.order }
    }
    /// The field as an exact f64 polynomial when σ is polynomial or the identity.
    pub fn to_poly(&self) -> Option<PolyField<f64>> {
        let coeffs = match &self.sigma {
            Activation::Polynomial { coeffs } => coeffs.clone(),
            Activation::Identity => vec![0.0, 1.0],
            _ => return None,
        };
        let m = self.m();
        let comps = (0..m)
            .map(|i| {
                let mut z = Poly::constant(m, self.b[i]);
                for j in 0..m {
                    z = z.add(&Poly::var(m, j).scale(&self.c[i][j]));
                }
                z.compose_univariate(&coeffs)
            })
            .collect();
        Some(PolyField::from_comps(comps))
    }
}

/// Values at x0 of all elements of a Hall basis of the given generators, computed with jets of order
/// max_depth − 1.
pub fn hall_values_at(
    gens: &[FeatureField],
    hall: &super::hall::HallBasis,
    x0: &[f64],
    js: &JetSpace,
) -> Vec<Vec<f64>> {
    let jets: Vec<JetField> = gens.iter().map(|g| g.jet(x0, js)).collect();
    hall.evaluate(&jets, |a, b| a.bracket(b, js))
        .iter()
        .map(|j| j.value())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::hall::HallBasis;
    use super::super::poly::Rational;
    use super::*;

    #[test]
    fn tanh_taylor_matches_known_series() {
        // tanh(s) = s − s³/3 + 2 s⁵/15 − …
        let a = taylor_coeffs(&Activation::Tanh, 0.0, 5);
        let expect = [0.0, 1.0, 0.0, -1.0 / 3.0, 0.0, 2.0 / 15.0];
        for (x, y) in a.iter().zip(expect) {
            assert!((x - y).abs() < 1e-15);
        }
        // sigmoid'(0) = 1/4, sigmoid'''(0)/6 = −1/48.
        let s = taylor_coeffs(&Activation::Sigmoid, 0.0, 3);
        assert!((s[1] - 0.25).abs() < 1e-15 && (s[3] + 1.0 / 48.0).abs() < 1e-15);
    }

    fn poly_features() -> Vec<FeatureField> {
        let p = |c: Vec<f64>| Activation::Polynomial { coeffs: c };
        vec![
            FeatureField {
                c: vec![vec![1.0, -2.0], vec![0.5, 1.0]],
                b: vec![0.25, -1.0],
                sigma: p(vec![0.0, 1.0, 0.5]),
            },
            FeatureField {
                c: vec![vec![0.0, 1.0], vec![-1.0, 0.0]],
                b: vec![0.5, 0.0],
                sigma: Activation::Identity,
            },
            FeatureField {
                c: vec![vec![2.0, 1.0], vec![1.0, -1.0]],
                b: vec![0.0, 0.75],
                sigma: p(vec![1.0, -1.0, 0.0, 0.5]),
            },
        ]
    }

    /// For polynomial σ the jet path agrees with the exact rational polynomial path.
    #[test]
    fn jets_agree_with_exact_polynomials() {
        let gens = poly_features();
        let depth = 5;
        let hall = HallBasis::new(3, depth);
        let js = JetSpace::new(2, depth - 1);
        let x0 = [0.375, -0.625];
        let jv = hall_values_at(&gens, &hall, &x0, &js);
        let exact: Vec<PolyField<Rational>> = gens
            .iter()
            .map(|g| g.to_poly().unwrap().map(|c| Rational::from_f64(*c)).unwrap())
            .collect();
        let ev = hall.evaluate(&exact, |a, b| a.bracket(b));
        let xr: Vec<Rational> = x0.iter().map(|&x| Rational::from_f64(x).unwrap()).collect();
        for (j, e) in jv.iter().zip(&ev) {
            assert!(e.is_exact());
            let ex: Vec<f64> = e.eval_with(&xr).iter().map(|r| r.to_f64()).collect();
            let scale = ex.iter().map(|v| v.abs()).fold(1.0, f64::max);
            for (a, b) in j.iter().zip(&ex) {
                assert!((a - b).abs() <= 1e-12 * scale, "{a} vs {b}");
            }
        }
    }

    /// tanh features at depth 2 against nested central finite differences.
    #[test]
    fn tanh_depth2_matches_finite_differences() {
        let v = FeatureField {
            c: vec![vec![0.7, -1.1], vec![0.3, 0.9]],
            b: vec![0.1, -0.4],
            sigma: Activation::Tanh,
        };
        let w = FeatureField {
            c: vec![vec![-0.5, 0.8], vec![1.2, 0.4]],
            b: vec![0.3, 0.2],
            sigma: Activation::Sigmoid,
        };
        let x0 = [0.2, -0.3];
        let js = JetSpace::new(2, 1);
        let br = v.jet(&x0, &js).bracket(&w.jet(&x0, &js), &js).value();
        let h = 1e-5;
        let jvp = |f: &FeatureField, dir: &[f64]| -> Vec<f64> {
            let xp: Vec<f64> = x0.iter().zip(dir).map(|(a, d)| a + h * d).collect();
            let xm: Vec<f64> = x0.iter().zip(dir).map(|(a, d)| a - h * d).collect();
            f.eval(&xp)
                .iter()
                .zip(f.eval(&xm))
                .map(|(p, q)| (p - q) / (2.0 * h))
                .collect()
        };
        let fd: Vec<f64> = jvp(&w, &v.eval(&x0))
            .iter()
            .zip(jvp(&v, &w.eval(&x0)))
            .map(|(a, b)| a - b)
            .collect();
        for (a, b) in br.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
