//! Unit tests of the MLP field: layout, reference evaluation, Jacobians against finite differences.
use super::*;
use crate::field::test_support::{away_from_kinks, check_field, normal_vec, EXACT_TOL};
use crate::field::{fd_jacobians, jacobian_u, jacobian_x};

/// Straightforward reference: (hidden pre-activations of every layer, f(x)).
fn reference(f: &Mlp, x: &[f64], u: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut a = x.to_vec();
    let mut pre = Vec::new();
    let mut off = 0;
    for l in 0..f.n_layers() {
        let (n_in, n_out) = f.layer_dims(l);
        let mut z = vec![0.0; n_out];
        for (r, zr) in z.iter_mut().enumerate() {
            *zr = (0..n_in).map(|k| u[off + r * n_in + k] * a[k]).sum::<f64>() + u[off + n_out * n_in + r];
        }
        off += n_out * (n_in + 1);
        if l + 1 < f.n_layers() {
            pre.extend_from_slice(&z);
            a = z.iter().map(|&v| f.act.eval(v)).collect();
        } else {
            a = z;
        }
    }
    (pre, a)
}

fn sample(f: &Mlp, rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
    loop {
        let x: Vec<f64> = (0..f.m).map(|_| rng.gen_range(-1.5..1.5)).collect();
        let u: Vec<f64> = normal_vec(rng, f.n_params()).iter().map(|z| 0.7 * z).collect();
        let (pre, _) = reference(f, &x, &u);
        // A wider margin than the harness default: the fd step in u moves pre-activations by up to ~1e-4·|x|.
        if away_from_kinks(&f.act, &pre) && pre.iter().all(|z| f.act.is_smooth() || z.abs() > 1e-2) {
            return (x, u);
        }
    }
}

#[test]
fn parameter_count_and_layout() {
    let f = Mlp::new(1, vec![200, 200], Activation::Relu);
    assert_eq!(f.control_dim(), 200 + 200 + 200 * 200 + 200 + 200 + 1);
    assert_eq!(f.control_dim(), 40_801);
    assert_eq!(
        Mlp::new(2, vec![5, 4], Activation::Tanh).control_dim(),
        5 * 3 + 4 * 6 + 2 * 5
    );
    assert_eq!(Mlp::new(3, vec![], Activation::Tanh).control_dim(), 12);
    // 1→2→1 identity: A1 = (1, 2)ᵀ, c1 = (0.5, −1), A2 = (3, 4), c2 = 10 → f(x) = 3(x + 0.5) + 4(2x − 1) + 10.
    let f = Mlp::new(1, vec![2], Activation::Identity);
    let u = [1.0, 2.0, 0.5, -1.0, 3.0, 4.0, 10.0];
    let mut out = [0.0];
    let mut s = vec![f64::NAN; f.scratch_len()];
    f.eval(&[2.0], &u, &mut out, &mut s);
    assert_eq!(out[0], 3.0 * 2.5 + 4.0 * 3.0 + 10.0);
    assert_eq!(f.describe(), "MLP 1→2→1, σ = identity, d = 7");
}

#[test]
fn eval_matches_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (m, widths) in [
        (1, vec![5, 4]),
        (2, vec![5, 4]),
        (3, vec![]),
        (2, vec![17]),
        (1, vec![9, 3, 11]),
    ] {
        for act in [Activation::Tanh, Activation::Relu, Activation::Sigmoid] {
            let f = Mlp::new(m, widths.clone(), act);
            let (x, u) = sample(&f, &mut rng);
            let mut out = vec![f64::NAN; m];
            let mut s = vec![f64::NAN; f.scratch_len()];
            f.eval(&x, &u, &mut out, &mut s);
            let (_, want) = reference(&f, &x, &u);
            for i in 0..m {
                assert!(
                    (out[i] - want[i]).abs() <= 1e-12 * (1.0 + want[i].abs()),
                    "{}",
                    f.describe()
                );
            }
        }
    }
}

#[test]
fn jacobians_match_finite_differences_tanh_and_relu() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for act in [Activation::Tanh, Activation::Relu] {
        for m in [1, 2] {
            for widths in [vec![5, 4], vec![], vec![3], vec![6, 2, 5]] {
                let f = Mlp::new(m, widths, act.clone());
                for _ in 0..3 {
                    let (x, u) = sample(&f, &mut rng);
                    check_field(&f, &x, &u, &mut rng);
                    let (fx, fu) = fd_jacobians(&f, &x, &u);
                    let (jx, ju) = (jacobian_x(&f, &x, &u), jacobian_u(&f, &x, &u));
                    assert!((&jx - &fx).amax() <= 1e-6 * jx.amax().max(1.0), "{}", f.describe());
                    assert!((&ju - &fu).amax() <= 1e-6 * ju.amax().max(1.0), "{}", f.describe());
                }
            }
        }
    }
}

#[test]
fn fused_vjp_agrees_with_trait_methods_and_jvp() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    for act in [Activation::Tanh, Activation::Relu] {
        for (m, widths) in [(1, vec![5, 4]), (2, vec![5, 4]), (2, vec![]), (3, vec![8, 8, 8])] {
            let f = Mlp::new(m, widths, act.clone());
            let d = f.n_params();
            let (x, u) = sample(&f, &mut rng);
            let (v, w) = (normal_vec(&mut rng, m), normal_vec(&mut rng, m));
            let base = normal_vec(&mut rng, d);
            let mut s = vec![f64::NAN; f.scratch_len()];
            let (mut gx1, mut gx2) = (vec![f64::NAN; m], vec![f64::NAN; m]);
            let (mut gu1, mut gu2) = (base.clone(), base.clone());
            f.vjp_both(&x, &u, &w, &mut gx1, &mut gu1, &mut s);
            s.fill(f64::NAN);
            f.vjp_x(&x, &u, &w, &mut gx2, &mut s);
            s.fill(f64::NAN);
            f.vjp_u_acc(&x, &u, &w, &mut gu2, &mut s);
            assert_eq!(gx1, gx2);
            assert_eq!(gu1, gu2);
            // ⟨w, J v⟩ = ⟨Jᵀ w, v⟩
            let mut jv = vec![0.0; m];
            f.jvp_x(&x, &u, &v, &mut jv, &mut s);
            let lhs: f64 = w.iter().zip(&jv).map(|(a, b)| a * b).sum();
            let rhs: f64 = gx1.iter().zip(&v).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() <= EXACT_TOL * (1.0 + lhs.abs()), "{lhs} vs {rhs}");
        }
    }
}

#[test]
fn init_is_deterministic_and_within_pytorch_bounds() {
    let f = Mlp::new(2, vec![5, 4], Activation::Tanh);
    let a = f.init_params(42);
    assert_eq!(a, f.init_params(42));
    assert_ne!(a, f.init_params(43));
    assert_eq!(a.len(), f.n_params());
    let mut off = 0;
    for l in 0..f.n_layers() {
        let (n_in, n_out) = f.layer_dims(l);
        let bound = 1.0 / (n_in as f64).sqrt();
        let layer = &a[off..off + n_out * (n_in + 1)];
        assert!(layer.iter().all(|t| t.abs() < bound), "layer {l}");
        // Not degenerate: spread over the interval.
        let max = layer.iter().fold(0.0f64, |acc, t| acc.max(t.abs()));
        assert!(max > 0.5 * bound, "layer {l}");
        off += layer.len();
    }
    let big = Mlp::new(1, vec![200, 200], Activation::Relu).init_params(0);
    let hidden = &big[400..400 + 40_000];
    let mean = hidden.iter().sum::<f64>() / hidden.len() as f64;
    let var = hidden.iter().map(|t| t * t).sum::<f64>() / hidden.len() as f64;
    // U(−b, b) with b = 1/√200: mean 0, variance b²/3.
    assert!(mean.abs() < 1e-3 && (var - 1.0 / 600.0).abs() < 5e-5, "{mean} {var}");
}

#[test]
fn wide_relu_mlp_runs_the_training_loop_shape() {
    // 1→200→200→1 ReLU at PyTorch init: 100 Euler steps forward, 100 fused backward products.
    let f = Mlp::new(1, vec![200, 200], Activation::Relu);
    let u = f.init_params(1);
    let mut s = vec![0.0; f.scratch_len()];
    let h = 0.01;
    let mut xs = vec![0.7];
    let mut out = [0.0];
    for _ in 0..100 {
        let x = *xs.last().unwrap();
        f.eval(&[x], &u, &mut out, &mut s);
        xs.push(x + h * out[0]);
    }
    let mut p = [1.0];
    let mut g = vec![0.0; f.n_params()];
    let mut gx = [0.0];
    for k in (0..100).rev() {
        f.vjp_both(&[xs[k]], &u, &p, &mut gx, &mut g, &mut s);
        p[0] += h * gx[0];
        // gradient of x_K w.r.t. θ: h Σ_k (∂f/∂θ)ᵀ p_{k+1}, accumulated unscaled here
    }
    assert!(xs.iter().all(|x| x.is_finite()) && p[0].is_finite());
    assert!(g.iter().any(|&t| t != 0.0));
    let dead = g[400..40_400].iter().filter(|&&t| t == 0.0).count();
    assert!(dead < 40_000);
}

#[test]
fn block_methods_match_per_point_methods() {
    use crate::field::test_support::check_block;
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for (m, widths) in [
        (1, vec![5, 4]),
        (2, vec![32, 32]),
        (3, vec![]),
        (2, vec![17]),
        (1, vec![9, 3, 11]),
    ] {
        for act in [Activation::Tanh, Activation::Relu, Activation::Sigmoid] {
            let f = Mlp::new(m, widths.clone(), act);
            for lanes in [crate::simd::LANES, 5, 1] {
                let xs: Vec<Vec<f64>> = (0..lanes).map(|_| normal_vec(&mut rng, m)).collect();
                let u = f.init_params(lanes as u64);
                check_block(&f, &xs, &u, &mut rng);
            }
        }
    }
}
