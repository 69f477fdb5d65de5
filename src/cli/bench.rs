//! `lieflow bench SCENARIO`: time the study's hot computation in-process (one warm-up, then the median of
//! `--reps` runs) in a pool of `--threads` workers. With `--json` the last line is one JSON object with
//! `median_s`, `min_s`, `max_s`, `reps`, `threads` and the kernel's values (e.g. `loss`), which is what
//! the peer comparison script reads.

use super::args::BenchArgs;
use super::run::{load, pool};
use crate::study;
use crate::Result;
use std::time::Instant;

/// Run the benchmark.
pub fn bench(a: &BenchArgs) -> Result<()> {
    let file = load(&a.scenario, None)?;
    let pool = pool(a.threads)?;
    pool.install(|| {
        let (study, mut plan) = study::prepare(&file)?;
        let mut kernel = plan
            .bench_kernel()?
            .ok_or_else(|| file.error("study", format!("study `{}` has no benchmark kernel", study.name())))?;
        let mut values = kernel()?; // warm-up
        let mut times = Vec::with_capacity(a.reps);
        for _ in 0..a.reps {
            let t = Instant::now();
            values = kernel()?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = if times.len() % 2 == 1 {
            times[times.len() / 2]
        } else {
            0.5 * (times[times.len() / 2 - 1] + times[times.len() / 2])
        };
        let mut obj = serde_json::json!({
            "scenario": a.scenario.display().to_string(),
            "study": study.name(),
            "median_s": median,
            "min_s": times[0],
            "max_s": times[times.len() - 1],
            "reps": a.reps,
            "threads": rayon::current_num_threads(),
        });
        if let (Some(o), serde_json::Value::Object(v)) = (obj.as_object_mut(), values) {
            for (k, x) in v {
                o.insert(k, x);
            }
        }
        if a.json {
            outln!("{obj}");
        } else {
            outln!(
                "{}: median {:.3} ms (min {:.3}, max {:.3}) over {} reps on {} threads",
                a.scenario.display(),
                median * 1e3,
                times[0] * 1e3,
                times[times.len() - 1] * 1e3,
                a.reps,
                rayon::current_num_threads()
            );
        }
        Ok(())
    })
}
