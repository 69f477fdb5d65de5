//! Readouts z = r(X_T) from the final state to the loss's space (SPEC §1, §3):
//! identity; a fixed projection P (001: "fix P with P⁻¹({y_i}) ≠ ∅"); a trainable affine map z = A x + c; and the
//! interpolation readout z = λ (X_T − x) with a trainable scalar λ (003).

use nalgebra::DMatrix;

/// A readout map and its trainable parameters' layout.
#[derive(Clone, Debug, PartialEq)]
pub enum Readout {
    /// z = x.
    Identity,
    /// z = P x, P fixed (q × m).
    Projection(DMatrix<f64>),
    /// z = A x + c, trainable A (q × m, row-major) then c (q).
    Affine { q: usize },
    /// z = λ (x − x₀), trainable λ.
    Interpolation,
}

impl Readout {
    /// Output dimension q for state dimension m.
    pub fn out_dim(&self, m: usize) -> usize {
        match self {
            Readout::Identity | Readout::Interpolation => m,
            Readout::Projection(p) => p.nrows(),
            Readout::Affine { q } => *q,
        }
    }

    /// Number of trainable parameters.
    pub fn n_params(&self, m: usize) -> usize {
        match self {
            Readout::Affine { q } => q * m + q,
            Readout::Interpolation => 1,
            _ => 0,
        }
    }

    /// z = r(x; params), `x0` the point's initial state.
    pub fn apply(&self, x: &[f64], x0: &[f64], params: &[f64], z: &mut [f64]) {
        let m = x.len();
        match self {
            Readout::Identity => z.copy_from_slice(x),
            Readout::Projection(p) => {
                for (r, zr) in z.iter_mut().enumerate() {
                    *zr = (0..m).map(|c| p[(r, c)] * x[c]).sum();
                }
            }
            Readout::Affine { q } => {
                let (a, c) = params.split_at(q * m);
                for (r, zr) in z.iter_mut().enumerate() {
                    *zr = c[r] + a[r * m..(r + 1) * m].iter().zip(x).map(|(a, x)| a * x).sum::<f64>();
                }
            }
            Readout::Interpolation => {
                let l = params[0];
                for ((zr, xi), x0i) in z.iter_mut().zip(x).zip(x0) {
                    *zr = l * (xi - x0i);
                }
            }
        }
    }

    /// Given gz = ∂L/∂z: gx += (∂z/∂x)ᵀ gz, gparams += (∂z/∂params)ᵀ gz.
    pub fn backward(&self, x: &[f64], x0: &[f64], params: &[f64], gz: &[f64], gx: &mut [f64], gparams: &mut [f64]) {
        let m = x.len();
        match self {
            Readout::Identity => gx.iter_mut().zip(gz).for_each(|(g, z)| *g += z),
            Readout::Projection(p) => {
                for (r, gzr) in gz.iter().enumerate() {
                    for c in 0..m {
                        gx[c] += p[(r, c)] * gzr;
                    }
                }
            }
            Readout::Affine { q } => {
                let a = &params[..q * m];
                let (ga, gc) = gparams.split_at_mut(q * m);
                for (r, gzr) in gz.iter().enumerate() {
                    for c in 0..m {
                        gx[c] += a[r * m + c] * gzr;
                        ga[r * m + c] += gzr * x[c];
                    }
                    gc[r] += gzr;
                }
            }
            Readout::Interpolation => {
                let l = params[0];
                for c in 0..m {
                    gx[c] += l * gz[c];
                    gparams[0] += gz[c] * (x[c] - x0[c]);
                }
            }
        }
    }
}
