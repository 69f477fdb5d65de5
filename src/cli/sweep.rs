//! `lieflow run` of a sweep (or of one shard), `lieflow plan`, `lieflow merge` and `lieflow slurm`
//! ([`crate::sweep`]).

use super::args::{MergeArgs, PlanArgs, RunArgs, SlurmArgs};
use super::run::{load, pool};
use crate::output::guard;
use crate::output::plot::Preset;
use crate::scenario::ScenarioFile;
use crate::sweep::folder::{self, RunSettings, UnitState};
use crate::sweep::merge::{self, WriteSettings};
use crate::sweep::{slurm, spec::SlurmSpec, Shard, Sweep, Unit};
use crate::{Error, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

fn preset(f: &Option<String>) -> Option<Preset> {
    f.as_deref().and_then(Preset::from_name)
}

/// `lieflow validate` of a scenario with `[sweep]`: every point prepared.
pub fn validate(file: &ScenarioFile) -> Result<()> {
    let sweep = Sweep::new(file, None)?;
    let units = sweep.units()?;
    file.figure_options(None)?;
    outln!(
        "{}: ok ({} study `{}`, sweep of {} points, {} units)",
        file.path.display(),
        sweep.study.name(),
        file.name(),
        sweep.points.len(),
        units.len()
    );
    Ok(())
}

/// `lieflow run SCENARIO [--shard I/N] --out DIR` for a sweep or a shard: the units (of this shard) into
/// `DIR/units/`, skipping complete ones; without `--shard`, then the aggregate into `DIR/aggregate/`.
pub fn run(a: &RunArgs, file: &ScenarioFile) -> Result<()> {
    let pool = pool(a.threads)?;
    let sweep = Sweep::new(file, a.seed)?;
    let figures = file.figure_options(preset(&a.figures))?;
    let units = pool.install(|| sweep.units())?;
    let given = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(file.name()));
    let dir = folder::open(&given, &sweep, units.len())?;
    guard::install().map_err(|e| Error::io(&given, e))?;
    let shard = a.shard.unwrap_or(Shard { index: 0, count: 1 });
    let quiet = a.quiet;
    let owned = (0..units.len()).filter(|&k| shard.owns(k)).count();
    let progress = crate::output::Progress::new(owned as u64, "units", quiet);
    let log = !quiet && progress.is_hidden();
    let on_unit = |u: &Unit, what: &str| {
        progress.inc(1);
        progress.set_message(u.label.clone());
        if log {
            eprintln!("unit {} ({}): {what}", u.id, u.label);
        }
    };
    let settings = RunSettings {
        quiet,
        threads: pool.current_num_threads(),
        threads_requested: a.threads,
        figures,
        shard,
        on_unit: &on_unit,
    };
    let report = pool.install(|| folder::run_shard(&sweep, &units, &dir, &settings))?;
    progress.finish();
    for n in &report.notes {
        eprintln!("note: {n}");
    }
    if !quiet {
        eprintln!(
            "shard {shard}: {} units — {} run, {} already complete (skipped), {} failed; in {}",
            report.owned,
            report.ran.len(),
            report.skipped.len(),
            report.failed.len(),
            given.display()
        );
    }
    if let Some((id, e)) = report.failed.into_iter().next() {
        eprintln!("unit {id} failed (its folder keeps the partial output and error.json); rerun to retry it");
        return Err(e);
    }
    if a.shard.is_some() {
        if !quiet {
            let done = units
                .iter()
                .filter(|u| folder::unit_state(&dir, &u.id, &sweep.hash) == UnitState::Complete)
                .count();
            eprintln!(
                "{done} of {} units of the sweep are complete in {}; when all are: lieflow merge {} --out {}",
                units.len(),
                given.display(),
                given.display(),
                given.display()
            );
        }
        return Ok(());
    }
    let w = WriteSettings {
        threads: pool.current_num_threads(),
        figures: preset(&a.figures),
        quiet,
    };
    let extra = json!({ "threads_requested": a.threads, "host": folder::hostname() });
    let (agg, n) = pool.install(|| merge::finish(&sweep, &units, &dir, &w, extra))?;
    if !quiet {
        eprintln!("wrote {n} files to {}", agg.display());
    }
    Ok(())
}

/// `lieflow plan SCENARIO [--tasks N] [--json]`.
pub fn plan(a: &PlanArgs) -> Result<()> {
    let file = load(&a.scenario, None)?;
    let sweep = Sweep::new(&file, None)?;
    let units = sweep.units()?;
    let shard_of = |k: usize| a.tasks.map(|n| k % n);
    let total: f64 = units.iter().map(|u| u.cost).sum();
    if a.json {
        let list: Vec<_> = units
            .iter()
            .enumerate()
            .map(|(k, u)| {
                json!({ "id": u.id, "label": u.label, "point": sweep.points[u.point].id, "cost": u.cost,
                        "shard": shard_of(k) })
            })
            .collect();
        let v = json!({
            "scenario": sweep.name(), "study": sweep.study.name(), "scenario_sha256": sweep.hash,
            "points": sweep.points.len(), "units": list, "total_cost": total, "tasks": a.tasks,
        });
        outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        return Ok(());
    }
    outln!(
        "{}: {} study `{}`, scenario sha256 {}",
        file.path.display(),
        sweep.study.name(),
        sweep.name(),
        &sweep.hash[..16]
    );
    match &sweep.spec {
        Some(s) => outln!(
            "sweep: {} of {} ({} points){}",
            s.combine.name(),
            s.axes
                .iter()
                .map(|x| format!("{} ({})", x.path, x.values.len()))
                .collect::<Vec<_>>()
                .join(" × "),
            sweep.points.len(),
            s.over
                .as_ref()
                .map(|o| format!(", statistics over {o}"))
                .unwrap_or_default()
        ),
        None => outln!("no [sweep]: one point"),
    }
    outln!(
        "{} units, estimated cost {} (relative: the study's unit cost, 1 per whole study run)",
        units.len(),
        crate::output::table::format_f64(total)
    );
    let shard_col = a.tasks.is_some();
    outln!(
        "{:>6}  {:<16}  {:>10}{}  label",
        "#",
        "id",
        "cost",
        if shard_col { "   shard" } else { "" }
    );
    for (k, u) in units.iter().enumerate() {
        outln!(
            "{:>6}  {:<16}  {:>10}{}  {}",
            k,
            u.id,
            crate::output::table::format_f64(u.cost),
            shard_of(k).map(|s| format!("  {s:>6}")).unwrap_or_default(),
            u.label
        );
    }
    if let Some(n) = a.tasks {
        for s in 0..n {
            let (count, cost) = units
                .iter()
                .enumerate()
                .filter(|(k, _)| k % n == s)
                .fold((0, 0.0), |(c, x), (_, u)| (c + 1, x + u.cost));
            outln!(
                "shard {s}/{n}: {count} units, cost {}",
                crate::output::table::format_f64(cost)
            );
        }
    }
    Ok(())
}

/// `lieflow merge DIR… --out OUT`.
pub fn merge(a: &MergeArgs) -> Result<()> {
    let pool = pool(a.threads)?;
    guard::install().map_err(|e| Error::io(&a.out, e))?;
    let w = WriteSettings {
        threads: pool.current_num_threads(),
        figures: preset(&a.figures),
        quiet: a.quiet,
    };
    let (agg, n) = pool.install(|| merge::merge(&a.dirs, &a.out, a.scenario.as_deref(), &w))?;
    if !a.quiet {
        eprintln!("merged {} folders; wrote {n} files to {}", a.dirs.len(), agg.display());
    }
    Ok(())
}

fn absolute(p: &Path) -> PathBuf {
    crate::output::target::resolve(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `lieflow slurm SCENARIO --tasks N [--submit]`.
pub fn slurm(a: &SlurmArgs) -> Result<()> {
    let file = load(&a.scenario, None)?;
    let sweep = Sweep::new(&file, None)?;
    let units = sweep.units()?;
    file.figure_options(preset(&a.figures))?;
    let given = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(file.name()));
    let dir = folder::open(&given, &sweep, units.len())?;
    let flags = SlurmSpec {
        time: a.time.clone(),
        mem: a.mem.clone(),
        cpus_per_task: a.cpus_per_task,
        partition: a.partition.clone(),
    };
    let res = slurm::Resources::new(&flags, sweep.spec.as_ref().map(|s| &s.slurm));
    let exe = std::env::current_exe().map_err(|e| Error::io("lieflow", e))?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let scenario = absolute(&a.scenario);
    let job = slurm::Job {
        exe: &exe,
        scenario: &scenario,
        out: &dir,
        name: &sweep.name(),
        tasks: a.tasks,
        units: units.len(),
        figures: a.figures.as_deref(),
    };
    let scripts = slurm::scripts(&job, &res);
    let (array, merge) = slurm::write(&dir, &scripts)?;
    if a.tasks > units.len() {
        eprintln!(
            "note: {} tasks for {} units: {} tasks will find nothing to do",
            a.tasks,
            units.len(),
            a.tasks - units.len()
        );
    }
    outln!("wrote {} and {}", array.display(), merge.display());
    if a.submit {
        let (aj, mj) = slurm::submit(&array, &merge)?;
        outln!(
            "submitted array job {aj} ({} tasks) and merge job {mj} (afterok:{aj})",
            a.tasks
        );
        outln!("results: {}", dir.join("aggregate").display());
    } else {
        outln!("submit with: {}", dir.join("slurm").join("submit.sh").display());
    }
    Ok(())
}
