//! Shared unit-test harness for field families (ARCHITECTURE habit 10): every derivative method is compared with
//! central differences ([`fd_jacobians`]) and with the other methods, with poisoned scratch and output buffers.
//!
//! Tolerances: analytic vs finite-difference Jacobians ≤ [`FD_TOL`] relative to max(1, ‖J‖_max); analytic vs analytic
//! (e.g. vjp_x against Jᵀw assembled from jvp_x) ≤ [`EXACT_TOL`]. Central differences with h = ε^{1/3}(1 + |z|) are
//! accurate to ~1e-10 on the smooth test problems, so a wrong derivative (even by a relative 1e-5) fails.

use super::{fd_jacobians, jacobian_u, jacobian_x, Activation, VectorField};
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Analytic vs finite-difference tolerance (relative to max(1, ‖J‖_max)).
pub const FD_TOL: f64 = 1e-6;
/// Analytic vs analytic tolerance (round-off only).
pub const EXACT_TOL: f64 = 1e-12;
/// Preactivations closer than this to a kink are resampled for nonsmooth activations.
pub const KINK_MARGIN: f64 = 1e-3;

/// Every activation family, with non-trivial parameters.
pub fn all_activations() -> Vec<Activation> {
    vec![
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.1 },
        Activation::Abs,
        Activation::Sigmoid,
        Activation::Polynomial {
            coeffs: vec![0.5, -1.0, 0.25, 0.1],
        },
        Activation::Identity,
    ]
}

/// Standard normal vector.
pub fn normal_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.sample::<f64, _>(StandardNormal)).collect()
}

/// Whether every preactivation is at least [`KINK_MARGIN`] away from the kink at 0 (always true for smooth σ).
pub fn away_from_kinks(act: &Activation, pre: &[f64]) -> bool {
    act.is_smooth() || pre.iter().all(|z| z.abs() >= KINK_MARGIN)
}

/// max |a − b| / max(1, ‖a‖_max).
pub fn rel_err(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).amax() / a.amax().max(1.0)
}

/// Checks eval, jvp_x, vjp_x and vjp_u_acc of `f` at (x, u) against central differences and against each other.
/// Panics with a description on failure; returns (‖∂f/∂x‖_max, ‖∂f/∂u‖_max) so callers can assert non-triviality.
pub fn check_field(f: &dyn VectorField, x: &[f64], u: &[f64], rng: &mut ChaCha8Rng) -> (f64, f64) {
    let (m, d) = (f.state_dim(), f.control_dim());
    assert_eq!((x.len(), u.len()), (m, d));
    let name = f.describe();
    let jx = jacobian_x(f, x, u);
    let ju = jacobian_u(f, x, u);
    let (fx, fu) = fd_jacobians(f, x, u);
    let ex = rel_err(&jx, &fx);
    let eu = rel_err(&ju, &fu);
    assert!(
        ex <= FD_TOL,
        "{name}: ∂f/∂x vs central differences: rel err {ex:e}\n{jx}{fx}"
    );
    assert!(
        eu <= FD_TOL,
        "{name}: ∂f/∂u vs central differences: rel err {eu:e}\n{ju}{fu}"
    );

    // Poisoned buffers: every method must overwrite `out` (except vjp_u_acc) and never read unwritten scratch.
    let mut scratch = vec![f64::NAN; f.scratch_len()];
    let v = normal_vec(rng, m);
    let w = normal_vec(rng, m);

    let mut val = vec![f64::NAN; m];
    f.eval(x, u, &mut val, &mut scratch);
    assert!(val.iter().all(|z| z.is_finite()), "{name}: eval not finite {val:?}");

    let mut jv = vec![f64::NAN; m];
    scratch.fill(f64::NAN);
    f.jvp_x(x, u, &v, &mut jv, &mut scratch);
    let jv_exact = &jx * DVector::from_column_slice(&v);
    let jv_fd = &fx * DVector::from_column_slice(&v);
    let scale = 1f64.max(jx.amax() * v.iter().map(|z| z.abs()).sum::<f64>());
    let e1 = (DVector::from_column_slice(&jv) - &jv_exact).amax() / scale;
    let e2 = (DVector::from_column_slice(&jv) - &jv_fd).amax() / scale;
    assert!(e1 <= EXACT_TOL, "{name}: jvp_x(v) vs J v: {e1:e}");
    assert!(e2 <= FD_TOL, "{name}: jvp_x(v) vs J_fd v: {e2:e}");

    let mut jtw = vec![f64::NAN; m];
    scratch.fill(f64::NAN);
    f.vjp_x(x, u, &w, &mut jtw, &mut scratch);
    let jtw_exact = jx.transpose() * DVector::from_column_slice(&w);
    let scale = 1f64.max(jx.amax() * w.iter().map(|z| z.abs()).sum::<f64>());
    let e3 = (DVector::from_column_slice(&jtw) - &jtw_exact).amax() / scale;
    assert!(e3 <= EXACT_TOL, "{name}: vjp_x(w) vs Jᵀ w: {e3:e}");

    // vjp_u_acc accumulates onto what is already there.
    let base = normal_vec(rng, d);
    let mut acc = base.clone();
    scratch.fill(f64::NAN);
    f.vjp_u_acc(x, u, &w, &mut acc, &mut scratch);
    let jutw = fu.transpose() * DVector::from_column_slice(&w);
    let scale = 1f64.max(fu.amax() * w.iter().map(|z| z.abs()).sum::<f64>());
    for c in 0..d {
        let e = (acc[c] - base[c] - jutw[c]).abs() / scale;
        assert!(
            e <= FD_TOL,
            "{name}: vjp_u_acc component {c}: {} vs {} ({e:e})",
            acc[c] - base[c],
            jutw[c]
        );
    }
    (jx.amax(), ju.amax())
}

/// Checks the block methods of `f` against its per-point methods at the points `xs` (one per lane, at most
/// [`crate::simd::LANES`]) with control u: eval_block = eval lane by lane, vjp_block = (vjp_x per lane, Σ_lanes
/// vjp_u_acc), relative to max(1, |value|), with poisoned outputs, tape and scratch (a block method must write
/// everything it later reads). Also checks that lanes beyond `xs.len()` are left untouched. The tolerance allows
/// the block kernels' own rounding (fused multiply–adds, the vectorised transcendentals).
pub fn check_block(f: &dyn VectorField, xs: &[Vec<f64>], u: &[f64], rng: &mut ChaCha8Rng) {
    use crate::simd::{EvalArgs, Lanes, VjpArgs, LANES};
    const TOL: f64 = 1e-12;
    let (m, d) = (f.state_dim(), f.control_dim());
    let n = xs.len();
    assert!((1..=LANES).contains(&n));
    let name = f.describe();
    let rows = |k: usize, v: f64| vec![[v; LANES]; k];
    let mut x = rows(m, 0.0);
    let mut w = rows(m, 0.0);
    let ws: Vec<Vec<f64>> = (0..n).map(|_| normal_vec(rng, m)).collect();
    for p in 0..n {
        super::scatter(&xs[p], &mut x, p);
        super::scatter(&ws[p], &mut w, p);
    }
    let sentinel = 12345.5;
    let mut out = rows(m, f64::NAN);
    for r in out.iter_mut() {
        r[n..].iter_mut().for_each(|v| *v = sentinel);
    }
    let mut tape = rows(f.tape_rows(), f64::NAN);
    let mut scratch = rows(f.block_scratch_rows(), f64::NAN);
    f.eval_block(&mut EvalArgs {
        lanes: n,
        u,
        x: &x,
        out: &mut out,
        tape: &mut tape,
        scratch: &mut scratch,
    });
    let mut s = vec![f64::NAN; f.scratch_len()];
    let close = |a: f64, b: f64| (a - b).abs() <= TOL * b.abs().max(1.0);
    let mut want = vec![0.0; m];
    for p in 0..n {
        f.eval(&xs[p], u, &mut want, &mut s);
        for c in 0..m {
            assert!(
                close(out[c][p], want[c]),
                "{name}: eval_block lane {p} comp {c}: {} vs {}",
                out[c][p],
                want[c]
            );
        }
    }
    let n8 = n.div_ceil(8) * 8;
    assert!(
        out.iter().all(|r: &Lanes| r[n8..].iter().all(|&v| v == sentinel)),
        "{name}: eval_block wrote beyond the lanes' 8-lane vectors"
    );
    let mut out_x = rows(m, f64::NAN);
    let mut acc = vec![0.0; d];
    let mut acc_lanes = rows(f.acc_lane_rows(), 0.0);
    let mut scratch = rows(f.block_scratch_rows(), f64::NAN);
    f.vjp_block(&mut VjpArgs {
        lanes: n,
        u,
        x: &x,
        tape: &tape,
        w: &w,
        out_x: &mut out_x,
        acc_u: &mut acc,
        acc_lanes: &mut acc_lanes,
        scratch: &mut scratch,
    });
    crate::simd::GradAcc {
        lanes: &mut acc_lanes,
        reduced: &mut acc,
    }
    .flush();
    let mut want_u = vec![0.0; d];
    for p in 0..n {
        f.vjp_x(&xs[p], u, &ws[p], &mut want, &mut s);
        for c in 0..m {
            assert!(
                close(out_x[c][p], want[c]),
                "{name}: vjp_block x lane {p} comp {c}: {} vs {}",
                out_x[c][p],
                want[c]
            );
        }
        f.vjp_u_acc(&xs[p], u, &ws[p], &mut want_u, &mut s);
    }
    let scale = want_u.iter().fold(1.0f64, |a, v| a.max(v.abs()));
    for j in 0..d {
        assert!(
            (acc[j] - want_u[j]).abs() <= 1e-11 * scale,
            "{name}: vjp_block u[{j}]: {} vs {}",
            acc[j],
            want_u[j]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::node::Node;
    use rand::SeedableRng;

    /// Which derivative a [`Mutant`] gets wrong, and by how much.
    #[derive(Clone, Copy, Debug)]
    enum Bug {
        JvpScale(f64),
        VjpXScale(f64),
        VjpUScale(f64),
        VjpUOverwrites,
        JvpReadsOut,
    }

    /// A correct field with one deliberately wrong method: the harness must notice.
    struct Mutant {
        inner: Node,
        bug: Bug,
    }

    impl VectorField for Mutant {
        fn state_dim(&self) -> usize {
            self.inner.state_dim()
        }
        fn control_dim(&self) -> usize {
            self.inner.control_dim()
        }
        fn eval(&self, x: &[f64], u: &[f64], out: &mut [f64], s: &mut [f64]) {
            self.inner.eval(x, u, out, s)
        }
        fn jvp_x(&self, x: &[f64], u: &[f64], v: &[f64], out: &mut [f64], s: &mut [f64]) {
            let before = out[0];
            self.inner.jvp_x(x, u, v, out, s);
            match self.bug {
                Bug::JvpScale(k) => out.iter_mut().for_each(|o| *o *= k),
                Bug::JvpReadsOut => out[0] += before,
                _ => {}
            }
        }
        fn vjp_x(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], s: &mut [f64]) {
            self.inner.vjp_x(x, u, w, out, s);
            if let Bug::VjpXScale(k) = self.bug {
                out.iter_mut().for_each(|o| *o *= k);
            }
        }
        fn vjp_u_acc(&self, x: &[f64], u: &[f64], w: &[f64], out: &mut [f64], s: &mut [f64]) {
            match self.bug {
                Bug::VjpUScale(k) => {
                    let mut tmp = vec![0.0; out.len()];
                    self.inner.vjp_u_acc(x, u, w, &mut tmp, s);
                    out.iter_mut().zip(&tmp).for_each(|(o, t)| *o += k * t);
                }
                Bug::VjpUOverwrites => {
                    out.fill(0.0);
                    self.inner.vjp_u_acc(x, u, w, out, s);
                }
                _ => self.inner.vjp_u_acc(x, u, w, out, s),
            }
        }
        fn describe(&self) -> String {
            format!("mutant {:?}", self.bug)
        }
    }

    #[test]
    fn harness_passes_correct_field_and_catches_small_derivative_errors() {
        let x = [0.3, -0.8, 0.5];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let u = normal_vec(&mut rng, 12);
        let inner = Node::new(3, Activation::Tanh);
        check_field(&inner, &x, &u, &mut rng);
        // A relative error of 1e-5 in any derivative, or a broken accumulate/overwrite contract, must be caught.
        for bug in [
            Bug::JvpScale(1.0 + 1e-5),
            Bug::VjpXScale(1.0 + 1e-9),
            Bug::VjpUScale(1.0 + 1e-5),
            Bug::VjpUOverwrites,
            Bug::JvpReadsOut,
        ] {
            let f = Mutant {
                inner: inner.clone(),
                bug,
            };
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check_field(&f, &x, &u, &mut ChaCha8Rng::seed_from_u64(2))
            }))
            .is_err();
            assert!(caught, "harness missed {bug:?}");
        }
    }
}
