//! The engine allocates per evaluation, never per step: a loss + gradient over 400 steps makes exactly as many
//! allocations as one over 20 (a global counting allocator; this file holds a single test, so nothing else runs
//! in the process while it counts).

use lieflow::adjoint::{Checkpoint, GradProblem};
use lieflow::control::TimeGrid;
use lieflow::field::node::Node;
use lieflow::field::Activation;
use lieflow::integrate::SchemeKind;
use lieflow::objective::{Loss, Objective, Readout, Targets};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn allocations_do_not_grow_with_the_number_of_steps() {
    let n = 150; // two full blocks and a partial one
    let x0: Vec<f64> = (0..2 * n).map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0).collect();
    let obj = Objective {
        loss: Loss::Squared,
        readout: Readout::Identity,
        terminal_weight: 1.0,
        running_weight: 0.5,
        regularizer: None,
        targets: Targets::Vectors {
            q: 2,
            data: vec![0.5; 2 * n],
        },
        running_targets: None,
        n,
        m: 2,
    };
    let f = Node::new(2, Activation::Tanh);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let count = |k: usize, scheme: SchemeKind, checkpoint: Checkpoint| -> usize {
        let p = GradProblem {
            field: &f,
            scheme: scheme.fixed().unwrap(),
            grid: TimeGrid {
                horizon: 1.0,
                intervals: k,
            },
            substeps: 2,
            x0: &x0,
            objective: &obj,
            checkpoint,
        };
        let u = vec![0.1; k * 6];
        pool.install(|| {
            // Warm the per-thread buffer pools, then count one evaluation.
            p.loss_grad(&u, &[]).unwrap();
            let before = ALLOCS.load(Ordering::SeqCst);
            p.loss_grad(&u, &[]).unwrap();
            ALLOCS.load(Ordering::SeqCst) - before
        })
    };
    for scheme in SchemeKind::fixed_all() {
        for ck in [Checkpoint::All, Checkpoint::Sqrt] {
            let (short, long) = (count(10, scheme, ck), count(200, scheme, ck));
            // The per-evaluation allocations (block partial gradients of K × d numbers, rayon bookkeeping) do not
            // depend on the step count; allow a handful for rayon's scheduling, which varies run to run.
            assert!(
                long <= short + 8,
                "{} / {ck:?}: {short} allocations for 20 steps, {long} for 400",
                scheme.name()
            );
        }
    }
}
