//! Criterion benches of the generic hot loops (the scenario files are the inputs, so the numbers match
//! `lieflow bench`): forward RK4 simulation of the peer problem through the generic engine, the generic discrete
//! adjoint (nODE₂ with a running cost, which the fast kernel does not cover), one MLP neural-ODE training
//! gradient (seed 002 §22.6.1), and the Lie N-point rank for Cuchiero's five fields at N = 50.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lieflow::integrate::{simulate, SaveAt};
use lieflow::scenario::ScenarioFile;
use lieflow::study;
use std::path::Path;

fn scenario(name: &str) -> ScenarioFile {
    ScenarioFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)).expect("bundled scenario")
}

fn bench(c: &mut Criterion) {
    let fwd = scenario("bench-node-forward.toml");
    let p = fwd.problem().unwrap();
    c.bench_function("generic_rk4_forward_n2048_k100", |b| {
        b.iter(|| {
            simulate(
                p.field.as_ref(),
                &p.control,
                &p.solver,
                black_box(&p.data.x),
                &SaveAt::Final,
            )
            .unwrap()
        })
    });

    let mut node2 = scenario("quickstart.toml");
    node2.text = node2.text.replace("family = \"node\"", "family = \"node2\"");
    let node2 = ScenarioFile::parse(Path::new("quickstart-node2.toml"), node2.text).unwrap();
    let mut setup = node2.setup().unwrap();
    setup.objective.running_weight = 0.5;
    let gp = setup.grad_problem();
    let u = setup.problem.control.values().to_vec();
    c.bench_function("generic_adjoint_node2_running_n400_k20", |b| {
        b.iter(|| gp.loss_grad(black_box(&u), &[]).unwrap())
    });

    let fit = scenario("neural-ode-fit.toml").setup().unwrap();
    let fp = fit.grad_problem();
    let theta = fit.problem.control.values().to_vec();
    c.bench_function("mlp_200x200_euler100_loss_grad", |b| {
        b.iter(|| fp.loss_grad(black_box(&theta), &fit.rho).unwrap())
    });

    let lie = scenario("lie-cuchiero5-n50.toml");
    let (_, mut plan) = study::prepare(&lie).unwrap();
    let mut kernel = plan.bench_kernel().unwrap().unwrap();
    c.bench_function("lie_cuchiero5_n50_full_rank", |b| b.iter(|| kernel().unwrap()));
}

criterion_group! { name = benches; config = Criterion::default().sample_size(20); targets = bench }
criterion_main!(benches);
