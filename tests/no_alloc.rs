//! The field methods used in step loops (eval, jvp_x, vjp_x, vjp_u_acc, basis_eval, basis_jvp) never allocate
//! (ARCHITECTURE habit 6). A counting global allocator records allocations made by the current thread.

use lieflow::field::affine::{AffineField, Basis, Monomial, RandomFeature};
use lieflow::field::mlp::Mlp;
use lieflow::field::node::{Node, Node2, ResNetField};
use lieflow::field::{Activation, VectorField};
use nalgebra::DMatrix;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(|c| c.get());
    f();
    ALLOCS.with(|c| c.get()) - before
}

fn exercise(f: &dyn VectorField) -> usize {
    let (m, d) = (f.state_dim(), f.control_dim());
    let x: Vec<f64> = (0..m).map(|i| 0.3 + 0.1 * i as f64).collect();
    let u: Vec<f64> = (0..d).map(|j| 0.2 - 0.05 * j as f64).collect();
    let (v, w) = (vec![0.5; m], vec![-0.25; m]);
    let (mut out, mut g, mut scratch) = (vec![0.0; m], vec![0.0; d], vec![0.0; f.scratch_len()]);
    allocations_during(|| {
        f.eval(&x, &u, &mut out, &mut scratch);
        f.jvp_x(&x, &u, &v, &mut out, &mut scratch);
        f.vjp_x(&x, &u, &w, &mut out, &mut scratch);
        f.vjp_u_acc(&x, &u, &w, &mut g, &mut scratch);
    })
}

#[test]
fn field_methods_do_not_allocate() {
    let m = 3;
    let act = Activation::Polynomial {
        coeffs: vec![0.0, 1.0, 0.5],
    };
    let affine = AffineField::new(
        m,
        vec![
            Basis::Linear {
                a: DMatrix::identity(m, m),
            },
            Basis::Constant { c: vec![1.0; m] },
            Basis::Polynomial {
                terms: vec![Monomial {
                    component: 1,
                    exponents: vec![1, 2, 0],
                    coef: 2.0,
                }],
            },
            RandomFeature::draw(m, act.clone(), 1, 1.0).into(),
        ],
    )
    .unwrap();
    let fields: Vec<Box<dyn VectorField>> = vec![
        Box::new(affine.clone()),
        Box::new(Node::new(m, act.clone())),
        Box::new(Node2::new(m, act.clone())),
        Box::new(ResNetField::new(m, act.clone())),
        Box::new(Mlp::new(m, vec![5, 4], act)),
        Box::new(Mlp::new(1, vec![200, 200], Activation::Relu)),
    ];
    for f in &fields {
        assert_eq!(exercise(f.as_ref()), 0, "{} allocates", f.describe());
    }
    let (x, v, mut out) = ([0.1, 0.2, 0.3], [1.0, 0.0, -1.0], [0.0; 3]);
    let n = allocations_during(|| {
        for j in 0..4 {
            affine.basis_eval(j, &x, &mut out);
            affine.basis_jvp(j, &x, &v, &mut out);
            affine.basis_vjp(j, &x, &v, &mut out);
        }
    });
    assert_eq!(n, 0);
    let mlp = Mlp::new(2, vec![6, 3], Activation::Tanh);
    let (xm, um, wm) = ([0.1, -0.4], mlp.init_params(3), [0.5, 1.0]);
    let (mut gx, mut gu, mut s) = ([0.0; 2], vec![0.0; mlp.n_params()], vec![0.0; mlp.scratch_len()]);
    assert_eq!(
        allocations_during(|| mlp.vjp_both(&xm, &um, &wm, &mut gx, &mut gu, &mut s)),
        0
    );
    // The counter works: a Vec allocation is seen.
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1.0f64; 8]))) > 0);
}

/// The optimiser executors allocate their buffers once: a longer run makes no more allocations than a short one.
#[test]
fn optimiser_loops_allocate_only_at_setup() {
    use lieflow::optim::{minimize, minimize_lbfgs, Adam, LbfgsConfig, Objective, RunConfig};
    // ½ Σ λ_i θ_i² − Σ θ_i with λ_i = 1 … 100 (no allocation inside f).
    let mut f = |t: &[f64], g: &mut [f64]| {
        let mut j = 0.0;
        for (i, (ti, gi)) in t.iter().zip(g.iter_mut()).enumerate() {
            let l = 1.0 + 99.0 * i as f64 / 7.0;
            *gi = l * ti - 1.0;
            j += 0.5 * l * ti * ti - ti;
        }
        Ok(j)
    };
    let lbfgs = |f: &mut Objective<'_>, iters: usize| {
        let mut theta = vec![0.3; 8];
        let cfg = LbfgsConfig {
            max_iters: iters,
            tol_grad: 0.0,
            ..LbfgsConfig::default()
        };
        allocations_during(|| {
            minimize_lbfgs(f, &mut theta, &cfg, &mut |_| true).unwrap();
        })
    };
    assert_eq!(lbfgs(&mut f, 3), lbfgs(&mut f, 15));
    let adam = |f: &mut Objective<'_>, iters: usize| {
        let mut theta = vec![0.3; 8];
        let mut opt = Adam::new(8, 0.9, 0.999, 1e-8);
        let cfg = RunConfig::new(iters, 0.01);
        allocations_during(|| {
            minimize(f, &mut theta, &mut opt, &cfg, &mut |_| true).unwrap();
        })
    };
    assert_eq!(adam(&mut f, 3), adam(&mut f, 300));
}

/// The block methods of every family (the engine's step loops) never allocate, the MLP's GEMMs included.
#[test]
fn block_methods_do_not_allocate() {
    use lieflow::field::{EvalArgs, VjpArgs};
    use lieflow::simd::LANES;
    let m = 2;
    let act = Activation::Tanh;
    let fields: Vec<Box<dyn VectorField>> = vec![
        Box::new(
            AffineField::new(
                m,
                vec![
                    Basis::Linear {
                        a: DMatrix::identity(m, m),
                    },
                    Basis::Polynomial {
                        terms: vec![Monomial {
                            component: 1,
                            exponents: vec![3, 1],
                            coef: 2.0,
                        }],
                    },
                    RandomFeature::draw(m, act.clone(), 1, 1.0).into(),
                ],
            )
            .unwrap(),
        ),
        Box::new(Node::new(m, act.clone())),
        Box::new(Node::new(20, act.clone())),
        Box::new(Node2::new(m, Activation::Relu)),
        Box::new(ResNetField::new(m, act.clone())),
        Box::new(Mlp::new(m, vec![32, 32], act)),
    ];
    for f in &fields {
        let (m, d) = (f.state_dim(), f.control_dim());
        let rows = |k: usize| vec![[0.25; LANES]; k];
        let (x, w) = (rows(m), rows(m));
        let (mut out, mut tape, mut scratch) = (rows(m), rows(f.tape_rows()), rows(f.block_scratch_rows()));
        let (mut acc, mut acc_lanes) = (vec![0.0; d], rows(f.acc_lane_rows()));
        let u = vec![0.1; d];
        for lanes in [LANES, 13] {
            let n = allocations_during(|| {
                f.eval_block(&mut EvalArgs {
                    lanes,
                    u: &u,
                    x: &x,
                    out: &mut out,
                    tape: &mut tape,
                    scratch: &mut scratch,
                });
                f.vjp_block(&mut VjpArgs {
                    lanes,
                    u: &u,
                    x: &x,
                    tape: &tape,
                    w: &w,
                    out_x: &mut out,
                    acc_u: &mut acc,
                    acc_lanes: &mut acc_lanes,
                    scratch: &mut scratch,
                });
            });
            assert_eq!(n, 0, "{} allocates in its block methods ({lanes} lanes)", f.describe());
        }
    }
}
