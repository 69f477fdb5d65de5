//! Criterion bench: node-grad loss + gradient (N = 2048, K = 100, m = 2, RK4) and the forward-only loss.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lieflow::adjoint::node_fast::{loss, loss_grad, FastScheme, NodeTanh};

fn read_csv(name: &str) -> Vec<f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/data/node_n2048_k100")
        .join(name);
    lieflow::output::table::read_matrix_csv(&path)
        .expect("bundled benchmark data")
        .0
}

fn bench(c: &mut Criterion) {
    let (x0, y, u) = (read_csv("x0.csv"), read_csv("y.csv"), read_csv("controls.csv"));
    let p = NodeTanh {
        m: 2,
        x0: &x0,
        y: &y,
        controls: &u,
        intervals: 100,
        horizon: 1.0,
        substeps: 1,
        scheme: FastScheme::Rk4,
    };
    let mut g = vec![0.0; p.grad_len()];
    c.bench_function("node_grad_loss_grad_n2048_k100", |b| {
        b.iter(|| loss_grad(black_box(&p), &mut g))
    });
    c.bench_function("node_grad_loss_n2048_k100", |b| b.iter(|| loss(black_box(&p))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
