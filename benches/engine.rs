//! Criterion benches of the block engine: one loss + exact gradient of the peer benchmark problem for every
//! model family (the bundled `scenarios/bench/*.toml`, so the numbers match `lieflow bench`), and the forward
//! pass of the tanh nODE.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lieflow::integrate::SaveAt;
use lieflow::scenario::ScenarioFile;
use std::path::Path;

fn scenario(name: &str) -> ScenarioFile {
    ScenarioFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)).expect("bundled scenario")
}

fn bench(c: &mut Criterion) {
    for name in [
        "node-tanh",
        "node-relu",
        "node-sigmoid",
        "node2-tanh",
        "node2-relu",
        "resnet-tanh",
        "mlp-tanh",
    ] {
        let setup = scenario(&format!("bench/{name}.toml")).setup().unwrap();
        let u = setup.problem.control.values().to_vec();
        c.bench_function(&format!("loss_grad_{name}_n2048"), |b| {
            b.iter(|| setup.loss_grad(black_box(&u), &setup.rho).unwrap())
        });
    }
    let fwd = scenario("bench-node-forward.toml").problem().unwrap();
    c.bench_function("forward_node_tanh_n2048_k100", |b| {
        b.iter(|| fwd.simulate(black_box(&fwd.data.x), &SaveAt::Final).unwrap())
    });
}

criterion_group! { name = benches; config = Criterion::default().sample_size(20); targets = bench }
criterion_main!(benches);
