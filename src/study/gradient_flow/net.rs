//! The deep classifier of Berlyand & Jabin (seed 000, §1.1) without biases: X⁰ = s,
//! X^m = λ(α^m X^{m−1}) for the hidden layers m = 1..H (λ = ReLU or |·|, so λ'(ξ)ξ = λ(ξ)), linear logits
//! X^{H+1} = α^{H+1} X^H, and the mean softmax cross-entropy L̄(α) = (1/n) Σ_s −log p_{i(s)}(α, s). The network is
//! positively homogeneous of degree L = H + 1 in α and of degree 1 in each layer. Parameters are one flat vector,
//! layer after layer, each layer's matrix row-major (out × in). The gradient is exact (backpropagation), checked
//! against central differences in the tests.

/// Hidden-layer activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hidden {
    /// max(0, ξ).
    Relu,
    /// |ξ|.
    Abs,
}

impl Hidden {
    fn apply(self, z: f64) -> f64 {
        match self {
            Hidden::Relu => z.max(0.0),
            Hidden::Abs => z.abs(),
        }
    }
    fn slope(self, z: f64) -> f64 {
        match self {
            Hidden::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Hidden::Abs => {
                if z > 0.0 {
                    1.0
                } else if z < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// A bias-free fully connected classifier.
#[derive(Clone, Debug)]
pub struct Net {
    /// Layer widths [input, hidden…, classes].
    pub dims: Vec<usize>,
    /// Hidden activation.
    pub hidden: Hidden,
}

impl Net {
    /// Number of weight layers L (the degree of homogeneity).
    pub fn layers(&self) -> usize {
        self.dims.len() - 1
    }

    /// Total number of parameters.
    pub fn n_params(&self) -> usize {
        self.dims.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// Offsets of each layer's block in the flat parameter vector (L + 1 entries).
    pub fn offsets(&self) -> Vec<usize> {
        let mut o = vec![0];
        for w in self.dims.windows(2) {
            o.push(o.last().expect("non-empty") + w[0] * w[1]);
        }
        o
    }

    /// ‖α^m‖² for every layer m.
    pub fn layer_norms2(&self, alpha: &[f64]) -> Vec<f64> {
        let o = self.offsets();
        o.windows(2)
            .map(|w| alpha[w[0]..w[1]].iter().map(|v| v * v).sum())
            .collect()
    }

    /// Logits of input `x` into `out` (length = classes).
    pub fn logits(&self, alpha: &[f64], x: &[f64], out: &mut [f64]) {
        let mut a = x.to_vec();
        let mut off = 0;
        let l = self.layers();
        for (m, w) in self.dims.windows(2).enumerate() {
            let (nin, nout) = (w[0], w[1]);
            let mut z = vec![0.0; nout];
            for (r, zr) in z.iter_mut().enumerate() {
                let row = &alpha[off + r * nin..off + (r + 1) * nin];
                *zr = row.iter().zip(&a).map(|(p, q)| p * q).sum();
            }
            off += nin * nout;
            if m + 1 < l {
                z.iter_mut().for_each(|v| *v = self.hidden.apply(*v));
            }
            a = z;
        }
        out.copy_from_slice(&a);
    }

    /// Mean cross-entropy over the points (`xs` n × input, `labels` n) and its exact gradient into `grad`.
    pub fn loss_grad(&self, alpha: &[f64], xs: &[f64], labels: &[usize], grad: &mut [f64]) -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let n = labels.len();
        let l = self.layers();
        let nin0 = self.dims[0];
        let offs = self.offsets();
        let mut total = 0.0;
        // Pre-activations z^m and activations a^m (a^0 = x) per layer, for one point at a time (fixed order).
        let mut acts: Vec<Vec<f64>> = self.dims.iter().map(|&d| vec![0.0; d]).collect();
        let mut pre: Vec<Vec<f64>> = self.dims.iter().map(|&d| vec![0.0; d]).collect();
        let inv_n = 1.0 / n as f64;
        for (i, &c) in labels.iter().enumerate() {
            acts[0].copy_from_slice(&xs[i * nin0..(i + 1) * nin0]);
            for m in 0..l {
                let (nin, nout) = (self.dims[m], self.dims[m + 1]);
                let (lo, hi) = acts.split_at_mut(m + 1);
                let a_in = &lo[m];
                for r in 0..nout {
                    let row = &alpha[offs[m] + r * nin..offs[m] + (r + 1) * nin];
                    let z: f64 = row.iter().zip(a_in).map(|(p, q)| p * q).sum();
                    pre[m + 1][r] = z;
                    hi[0][r] = if m + 1 < l { self.hidden.apply(z) } else { z };
                }
            }
            // −log p_c = log(1 + Σ_{k≠c} e^{z_k − z_c}), accurate when the loss is tiny.
            let z = &acts[l];
            let zc = z[c];
            let zmax = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut delta = vec![0.0; z.len()];
            let loss = if zmax <= zc {
                let s: f64 = z
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != c)
                    .map(|(_, v)| (v - zc).exp())
                    .sum();
                for (k, dk) in delta.iter_mut().enumerate() {
                    if k != c {
                        *dk = (z[k] - zc).exp() / (1.0 + s);
                    }
                }
                delta[c] = -s / (1.0 + s);
                s.ln_1p()
            } else {
                let e: Vec<f64> = z.iter().map(|v| (v - zmax).exp()).collect();
                let s: f64 = e.iter().sum();
                for (k, dk) in delta.iter_mut().enumerate() {
                    *dk = e[k] / s;
                }
                delta[c] -= 1.0;
                s.ln() + zmax - zc
            };
            total += loss;
            // Backward: δ^L = softmax − e_c (scaled by 1/n), then through the layers.
            delta.iter_mut().for_each(|d| *d *= inv_n);
            for m in (0..l).rev() {
                let (nin, nout) = (self.dims[m], self.dims[m + 1]);
                let a_in = &acts[m];
                for r in 0..nout {
                    let g = &mut grad[offs[m] + r * nin..offs[m] + (r + 1) * nin];
                    for (gj, aj) in g.iter_mut().zip(a_in) {
                        *gj += delta[r] * aj;
                    }
                }
                if m > 0 {
                    let mut back = vec![0.0; nin];
                    for r in 0..nout {
                        let row = &alpha[offs[m] + r * nin..offs[m] + (r + 1) * nin];
                        for (bj, wj) in back.iter_mut().zip(row) {
                            *bj += delta[r] * wj;
                        }
                    }
                    for (j, bj) in back.iter_mut().enumerate() {
                        *bj *= self.hidden.slope(pre[m][j]);
                    }
                    delta = back;
                }
            }
        }
        total * inv_n
    }

    /// The margin min_s (X_{i(s)} − max_{k≠i(s)} X_k): α ∈ A_η iff it is ≥ η (seed 000, Definition 2).
    pub fn margin(&self, alpha: &[f64], xs: &[f64], labels: &[usize]) -> f64 {
        let nin0 = self.dims[0];
        let q = *self.dims.last().expect("dims ≥ 2");
        let mut z = vec![0.0; q];
        labels
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                self.logits(alpha, &xs[i * nin0..(i + 1) * nin0], &mut z);
                let other = z
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != c)
                    .map(|(_, v)| *v)
                    .fold(f64::NEG_INFINITY, f64::max);
                z[c] - other
            })
            .fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn setup(hidden: usize, act: Hidden) -> (Net, Vec<f64>, Vec<f64>, Vec<usize>) {
        let mut dims = vec![2];
        dims.extend(std::iter::repeat_n(5, hidden));
        dims.push(3);
        let net = Net { dims, hidden: act };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let alpha: Vec<f64> = (0..net.n_params()).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let xs: Vec<f64> = (0..12).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let labels = vec![0, 1, 2, 0, 1, 2];
        (net, alpha, xs, labels)
    }

    #[test]
    fn gradient_matches_central_differences() {
        for (hidden, act) in [
            (1, Hidden::Relu),
            (2, Hidden::Relu),
            (3, Hidden::Relu),
            (2, Hidden::Abs),
        ] {
            let (net, alpha, xs, labels) = setup(hidden, act);
            let mut g = vec![0.0; net.n_params()];
            net.loss_grad(&alpha, &xs, &labels, &mut g);
            let mut scratch = vec![0.0; net.n_params()];
            for i in 0..net.n_params() {
                let h = 1e-6;
                let (mut ap, mut am) = (alpha.clone(), alpha.clone());
                ap[i] += h;
                am[i] -= h;
                let fd = (net.loss_grad(&ap, &xs, &labels, &mut scratch)
                    - net.loss_grad(&am, &xs, &labels, &mut scratch))
                    / (2.0 * h);
                assert!(
                    (fd - g[i]).abs() < 1e-7 * (1.0 + fd.abs()),
                    "{hidden} {act:?} {i}: fd {fd} vs {}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn layer_balance_identity_holds_for_the_gradient() {
        // Lemma 2.1: ⟨α^m, ∂L̄/∂α^m⟩ is the same for every layer (homogeneous activation, no biases).
        for (hidden, act) in [(1, Hidden::Relu), (3, Hidden::Relu), (2, Hidden::Abs)] {
            let (net, alpha, xs, labels) = setup(hidden, act);
            let mut g = vec![0.0; net.n_params()];
            net.loss_grad(&alpha, &xs, &labels, &mut g);
            let o = net.offsets();
            let dots: Vec<f64> = o
                .windows(2)
                .map(|w| (w[0]..w[1]).map(|j| alpha[j] * g[j]).sum())
                .collect();
            for d in &dots {
                assert!((d - dots[0]).abs() < 1e-13, "{dots:?}");
            }
        }
    }

    #[test]
    fn tiny_losses_are_accurate_and_the_margin_is_homogeneous() {
        let (net, alpha, xs, labels) = setup(2, Hidden::Relu);
        let m1 = net.margin(&alpha, &xs, &labels);
        let scaled: Vec<f64> = alpha.iter().map(|v| 2.0 * v).collect();
        let m2 = net.margin(&scaled, &xs, &labels);
        assert!((m2 - 8.0 * m1).abs() < 1e-12 * m1.abs().max(1.0), "{m1} {m2}");
        // One point far into its class: the loss is e^{−gap} to relative 1e-12.
        let net1 = Net {
            dims: vec![1, 2],
            hidden: Hidden::Relu,
        };
        let mut g = vec![0.0; 2];
        let l = net1.loss_grad(&[40.0, 0.0], &[1.0], &[0], &mut g);
        assert!((l / (-40f64).exp() - 1.0).abs() < 1e-12, "{l}");
    }
}
