//! Unit tests of the node_fast kernels: tanh accuracy, paths, thread invariance.
use super::*;

fn ulp_diff(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.signum() != b.signum() {
        return u64::MAX;
    }
    a.to_bits().abs_diff(b.to_bits())
}

fn sweep() -> Vec<f64> {
    let mut v = Vec::new();
    // dense linear sweeps over the interesting ranges
    for k in 0..2_000_000 {
        v.push(-25.0 + 50.0 * k as f64 / 2_000_000.0);
    }
    for k in 0..200_000 {
        v.push(2.0 * k as f64 / 200_000.0);
        v.push(0.9 + 0.2 * k as f64 / 200_000.0); // around the formula switch at |z| = 1
    }
    // logarithmic sweep: tiny to huge
    let mut z = 1e-320;
    while z < 1e300 {
        v.push(z);
        v.push(-z);
        z *= 1.0007;
    }
    v
}

fn max_ulp(f: impl Fn(f64) -> f64) -> (u64, f64) {
    let mut worst = (0, 0.0);
    for z in sweep() {
        let e = ulp_diff(f(z), z.tanh());
        if e > worst.0 {
            worst = (e, z);
        }
    }
    worst
}

#[test]
fn tanh_kernel_ulp_baseline() {
    let (e, z) = max_ulp(tanh_kernel);
    eprintln!("baseline tanh: max {e} ulp vs f64::tanh at z = {z:e}");
    assert!(e <= 3, "max ulp {e} at {z}");
}

#[test]
fn tanh_kernel_ulp_fma() {
    if tanh_kernel_fma(0.5).is_none() {
        return;
    }
    let (e, z) = max_ulp(|z| tanh_kernel_fma(z).unwrap());
    eprintln!("fma tanh: max {e} ulp vs f64::tanh at z = {z:e}");
    assert!(e <= 3, "max ulp {e} at {z}");
}

#[test]
fn tanh_kernel_special_values() {
    let fns: Vec<Box<dyn Fn(f64) -> f64>> = if tanh_kernel_fma(0.0).is_some() {
        vec![Box::new(tanh_kernel), Box::new(|z| tanh_kernel_fma(z).unwrap())]
    } else {
        vec![Box::new(tanh_kernel)]
    };
    for f in fns {
        assert_eq!(f(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(f(-0.0).to_bits(), (-0.0f64).to_bits());
        assert!(f(f64::NAN).is_nan());
        assert_eq!(f(f64::INFINITY), 1.0);
        assert_eq!(f(f64::NEG_INFINITY), -1.0);
        assert_eq!(f(1e308), 1.0);
        assert_eq!(f(-1e308), -1.0);
        assert_eq!(f(f64::MIN_POSITIVE), f64::MIN_POSITIVE);
        assert_eq!(f(5e-324), 5e-324);
        assert_eq!(f(-5e-324), -5e-324);
        assert_eq!(f(1e-200), 1e-200);
        for z in [19.0, 19.5, 20.0, 21.0, 22.0, 40.0] {
            assert_eq!(f(z), z.tanh(), "z = {z}");
        }
    }
}

#[test]
fn validation_errors() {
    let x0 = [0.0; 4];
    let y = [0.0; 4];
    let u = [0.0; 12];
    let ok = NodeTanh {
        m: 2,
        x0: &x0,
        y: &y,
        controls: &u,
        intervals: 2,
        horizon: 1.0,
        substeps: 1,
        scheme: FastScheme::Rk4,
    };
    assert!(ok.validate().is_ok());
    let mut g = [0.0; 12];
    assert!(try_loss_grad(&ok, &mut g).is_ok());
    assert!(try_loss_grad(&ok, &mut g[..11]).is_err());
    assert!(try_loss(&NodeTanh { m: 3, ..ok }).is_err());
    assert!(try_loss(&NodeTanh { m: 0, ..ok }).is_err());
    assert!(try_loss(&NodeTanh { y: &y[..2], ..ok }).is_err());
    assert!(try_loss(&NodeTanh {
        x0: &x0[..0],
        y: &y[..0],
        ..ok
    })
    .is_err());
    assert!(try_loss(&NodeTanh { intervals: 3, ..ok }).is_err());
    assert!(try_loss(&NodeTanh { substeps: 0, ..ok }).is_err());
    assert!(try_loss(&NodeTanh {
        horizon: f64::NAN,
        ..ok
    })
    .is_err());
}
