//! The training objective (SPEC §3, 001 (SL₁), (SL*)):
//!
//!   J(u, ρ) = w_T · (1/N) Σ_i loss(r(X_i(T); ρ), y_i) + w_R · Σ_{n=1..S} h (1/N) Σ_i loss(r(X_i(t_n); ρ), y_i(t_n))
//!             + λ R(u)
//!
//! with readout r and its trainable parameters ρ ([`readout`]), losses ([`loss`]) and regularisers
//! ([`regularizer`]). The running cost is the training error along the trajectory, summed with the right-endpoint
//! rule over the S integrator steps (so a K-layer ResNet with running cost is reproduced exactly); its targets are
//! the data targets, or a time-dependent target table (S rows) when given. Everything here is per point and
//! allocation-free; [`crate::adjoint`] sums over points in a fixed order.

pub mod loss;
pub mod readout;
pub mod regularizer;
pub mod split;

pub use loss::{Loss, Target};
pub use readout::Readout;
pub use regularizer::Regularizer;

/// Per-point targets.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Regression targets, N × q row-major.
    Vectors { q: usize, data: Vec<f64> },
    /// Class labels.
    Classes(Vec<usize>),
}

/// A fully specified objective for an ensemble of N points in R^m.
#[derive(Clone, Debug)]
pub struct Objective {
    /// Loss on the readout.
    pub loss: Loss,
    /// Readout map.
    pub readout: Readout,
    /// Weight w_T of the terminal term.
    pub terminal_weight: f64,
    /// Weight w_R of the running cost.
    pub running_weight: f64,
    /// Control regulariser λR.
    pub regularizer: Option<Regularizer>,
    /// Per-point targets.
    pub targets: Targets,
    /// Optional time-dependent running targets: S rows × (N·q), row n−1 is the target at step n.
    pub running_targets: Option<Vec<f64>>,
    /// Number of points.
    pub n: usize,
    /// State dimension.
    pub m: usize,
}

impl Objective {
    /// Readout output dimension q.
    pub fn q(&self) -> usize {
        self.readout.out_dim(self.m)
    }

    /// Scratch length for [`Objective::terminal`] / [`Objective::running`].
    pub fn scratch_len(&self) -> usize {
        2 * self.q()
    }

    fn target(&self, i: usize) -> Target<'_> {
        match &self.targets {
            Targets::Vectors { q, data } => Target::Vector(&data[i * q..(i + 1) * q]),
            Targets::Classes(c) => Target::Class(c[i]),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn term(
        &self,
        w: f64,
        t: Target,
        x: &[f64],
        x0: &[f64],
        rho: &[f64],
        gx: &mut [f64],
        grho: &mut [f64],
        s: &mut [f64],
    ) -> f64 {
        let q = self.q();
        let (z, gz) = s.split_at_mut(q);
        self.readout.apply(x, x0, rho, z);
        let l = self.loss.eval_grad(z, t, &mut gz[..q]);
        let c = w / self.n as f64;
        gz[..q].iter_mut().for_each(|g| *g *= c);
        self.readout.backward(x, x0, rho, &gz[..q], gx, grho);
        c * l
    }

    /// Terminal contribution of point i: w_T/N · loss(r(x)); gx += its x-gradient, grho += its ρ-gradient.
    #[allow(clippy::too_many_arguments)]
    pub fn terminal(
        &self,
        i: usize,
        x: &[f64],
        x0: &[f64],
        rho: &[f64],
        gx: &mut [f64],
        grho: &mut [f64],
        s: &mut [f64],
    ) -> f64 {
        if self.terminal_weight == 0.0 {
            return 0.0;
        }
        self.term(self.terminal_weight, self.target(i), x, x0, rho, gx, grho, s)
    }

    /// Whether there is a running cost.
    pub fn has_running(&self) -> bool {
        self.running_weight != 0.0
    }

    /// Running contribution of point i at step n ≥ 1 (state x = X(t_n)), step length h: w_R h/N · loss; gradients
    /// added as for [`Objective::terminal`].
    #[allow(clippy::too_many_arguments)]
    pub fn running(
        &self,
        i: usize,
        n: usize,
        h: f64,
        x: &[f64],
        x0: &[f64],
        rho: &[f64],
        gx: &mut [f64],
        grho: &mut [f64],
        s: &mut [f64],
    ) -> f64 {
        if self.running_weight == 0.0 {
            return 0.0;
        }
        let t = match &self.running_targets {
            Some(rt) => {
                let q = self.q();
                let row = (n - 1) * self.n * q;
                Target::Vector(&rt[row + i * q..row + (i + 1) * q])
            }
            None => self.target(i),
        };
        self.term(self.running_weight * h, t, x, x0, rho, gx, grho, s)
    }

    /// λR(u) for the controls (K × d, interval length h), adding its gradient into `g`.
    pub fn regularizer_value_grad(&self, u: &[f64], d: usize, h: f64, g: &mut [f64]) -> f64 {
        self.regularizer
            .as_ref()
            .map(|r| r.value_grad(u, d, h, g))
            .unwrap_or(0.0)
    }
}
