//! Merging shard folders into one sweep folder with its aggregated outputs (`aggregate/`).
//!
//! Every folder must be a sweep folder of the same scenario (SHA-256, [`super::Sweep::hash`]) and lieflow
//! version, and together they must hold a complete folder of every unit; otherwise the merge is refused (exit 2)
//! naming the folders or the missing unit ids. Units are copied into `OUT/units/` (each atomically; units already
//! complete there are kept, so `lieflow merge DIR --out DIR` aggregates a folder all shards wrote into), then
//! `OUT/aggregate/` is written — the same files a single-machine `lieflow run` writes.

use super::folder::{self, unit_dir, unit_state, SweepMarker, UnitState};
use super::{aggregate::aggregate, Sweep, Unit};
use crate::output::results::{write_results, RunInfo};
use crate::output::target::Marker;
use crate::output::{FigureOptions, RunDir};
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How the aggregate is written.
pub struct WriteSettings {
    pub threads: usize,
    pub figures: Option<crate::output::plot::Preset>,
    pub quiet: bool,
}

/// Write `dir/aggregate/` from the complete units in `dir` (atomically, replacing an earlier aggregate). Returns
/// its path and the number of files written.
pub fn finish(
    sweep: &Sweep,
    units: &[Unit],
    dir: &Path,
    s: &WriteSettings,
    extra: serde_json::Value,
) -> Result<(PathBuf, usize)> {
    let started = Instant::now();
    let missing = folder::incomplete(&[dir.to_path_buf()], units, &sweep.hash);
    if !missing.is_empty() {
        return Err(incomplete_error(&[dir.to_path_buf()], units.len(), &missing));
    }
    let figures: FigureOptions = sweep.file.figure_options(s.figures)?;
    let out = aggregate(sweep, units, dir)?;
    let target = dir.join("aggregate");
    let run = RunDir::create_named(&target, &target, &sweep.name())?;
    let info = RunInfo {
        scenario_path: sweep.file.path.display().to_string(),
        scenario_name: sweep.name(),
        scenario_text: &sweep.file.text,
        study: sweep.study.name(),
        seed: sweep.file.scenario.seed,
        threads: s.threads,
        extra,
        started,
        figures,
    };
    let n = write_results(&run, &out, info)?;
    Ok((run.commit()?, n))
}

/// The refusal for units not complete anywhere in `dirs`.
fn incomplete_error(dirs: &[PathBuf], total: usize, missing: &[(String, String)]) -> Error {
    const SHOWN: usize = 50;
    let list: Vec<String> = missing
        .iter()
        .take(SHOWN)
        .map(|(id, why)| format!("{id} {why}"))
        .collect();
    let more = if missing.len() > SHOWN {
        format!("\n  … and {} more", missing.len() - SHOWN)
    } else {
        String::new()
    };
    Error::arg(
        "lieflow merge",
        format!(
            "incomplete sweep: {} of {total} units are not complete in {}; missing unit ids:\n  {}{more}\n(run the \
             shards that own them again: `lieflow run SCENARIO --shard I/N --out DIR` skips finished units)",
            missing.len(),
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            list.join("\n  ")
        ),
    )
}

/// Copy the complete unit folder `src` to `dst` atomically (the files its marker lists).
fn copy_unit(src: &Path, dst: &Path, name: &str) -> Result<()> {
    let marker = Marker::read(src).ok_or_else(|| Error::input(src, "", "the unit folder has no marker"))?;
    let run = RunDir::create_named(dst, dst, name)?;
    for f in &marker.files {
        let p = src.join(f);
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        run.write_bytes(f, &bytes)?;
    }
    run.commit()?;
    Ok(())
}

/// `lieflow merge DIR… --out OUT [--scenario FILE]`. Returns the aggregate folder and the number of files.
pub fn merge(dirs: &[PathBuf], out: &Path, scenario: Option<&Path>, s: &WriteSettings) -> Result<(PathBuf, usize)> {
    let mut markers = Vec::new();
    for d in dirs {
        let m = SweepMarker::read(d).ok_or_else(|| {
            Error::arg(
                &d.display().to_string(),
                format!(
                    "is not a lieflow sweep folder (no readable {}); pass the --out folders of `lieflow run \
                     SCENARIO --shard I/N`",
                    folder::SWEEP_MARKER
                ),
            )
        })?;
        markers.push(m);
    }
    let first = &markers[0];
    if let Some((d, m)) = dirs
        .iter()
        .zip(&markers)
        .find(|(_, m)| m.scenario_sha256 != first.scenario_sha256 || m.version != first.version)
    {
        return Err(Error::arg(
            "lieflow merge",
            format!(
                "mixed set: {} holds a sweep of scenario `{}` (sha256 {}, lieflow {}) but {} one of `{}` (sha256 \
                 {}, lieflow {}); merge only the shards of one sweep",
                dirs[0].display(),
                first.scenario_name,
                first.scenario_sha256,
                first.version,
                d.display(),
                m.scenario_name,
                m.scenario_sha256,
                m.version
            ),
        ));
    }
    let file = match scenario {
        Some(p) => ScenarioFile::load(p)?,
        None => ScenarioFile::parse(Path::new(&first.scenario_path), first.scenario_text.clone())?,
    };
    let sweep = Sweep::new(&file, None)?;
    if sweep.hash != first.scenario_sha256 {
        return Err(Error::arg(
            "--scenario",
            format!(
                "{} is not the scenario these shards ran (sha256 {} here, {} in the shards; only [sweep.plot] and \
                 [sweep.slurm] may differ)",
                file.path.display(),
                sweep.hash,
                first.scenario_sha256
            ),
        ));
    }
    let units = sweep.units()?;
    let missing = folder::incomplete(dirs, &units, &sweep.hash);
    if !missing.is_empty() {
        return Err(incomplete_error(dirs, units.len(), &missing));
    }
    let out_dir = folder::open(out, &sweep, units.len())?;
    let progress = crate::output::Progress::new(units.len() as u64, "merging units", s.quiet);
    for u in &units {
        if unit_state(&out_dir, &u.id, &sweep.hash) != UnitState::Complete {
            let src = dirs
                .iter()
                .find(|d| unit_state(d, &u.id, &sweep.hash) == UnitState::Complete)
                .expect("checked complete");
            copy_unit(&unit_dir(src, &u.id), &unit_dir(&out_dir, &u.id), &sweep.name())?;
        }
        progress.inc(1);
    }
    progress.finish();
    let extra = serde_json::json!({
        "merged_from": dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
        "host": folder::hostname(),
    });
    finish(&sweep, &units, &out_dir, s, extra)
}
