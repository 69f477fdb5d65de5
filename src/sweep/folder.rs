//! The sweep folder and running a shard of it.
//!
//! ```text
//! DIR/.lieflow-sweep.json   the sweep marker: scenario name, its SHA-256 (see Sweep::hash) and text, lieflow version
//! DIR/units/<id>/           one run folder per unit (atomic: temporary folder → rename; marker status complete
//!                           or failed), holding unit.json and the unit's outputs (a study run: its usual files;
//!                           a study unit: result.json), with a manifest
//! DIR/aggregate/            the aggregated outputs ([`super::aggregate`]), written when every unit is complete
//! DIR/slurm/                sbatch scripts and job logs ([`super::slurm`])
//! ```
//!
//! The marker holds no time, host or process id, so shards started at once on many nodes write the same bytes.
//! A shard skips units whose folder is complete for the same scenario hash; a unit folder killed mid-write is a
//! hidden temporary folder that the next run beside it removes ([`crate::output::RunDir`]), and a failed unit is run
//! again.

use super::{Shard, Sweep, Unit};
use crate::output::results::{write_results, RunInfo};
use crate::output::run::write_file_atomic;
use crate::output::target::{self, Marker, Status};
use crate::output::{FigureOptions, RunDir, StudyOutput};
use crate::study::Context;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The sweep marker file.
pub const SWEEP_MARKER: &str = ".lieflow-sweep.json";

/// The contents of [`SWEEP_MARKER`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepMarker {
    /// Always "lieflow sweep folder".
    pub lieflow: String,
    pub version: String,
    pub scenario_name: String,
    pub scenario_sha256: String,
    /// The scenario file (absolute), so `lieflow merge` can re-read the data files it names.
    pub scenario_path: String,
    pub scenario_text: String,
    /// Number of units of the whole sweep.
    pub units: usize,
}

impl SweepMarker {
    /// The marker for `sweep` with `units` units.
    pub fn new(sweep: &Sweep, units: usize) -> Self {
        SweepMarker {
            lieflow: "lieflow sweep folder".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario_name: sweep.name(),
            scenario_sha256: sweep.hash.clone(),
            scenario_path: target::resolve(&sweep.file.path)
                .unwrap_or_else(|_| sweep.file.path.clone())
                .display()
                .to_string(),
            scenario_text: sweep.file.text.clone(),
            units,
        }
    }

    /// The marker of sweep folder `dir`, if it has a readable one.
    pub fn read(dir: &Path) -> Option<SweepMarker> {
        let text = std::fs::read_to_string(dir.join(SWEEP_MARKER)).ok()?;
        serde_json::from_str::<SweepMarker>(&text)
            .ok()
            .filter(|m| m.lieflow == "lieflow sweep folder")
    }
}

/// `unit.json` in every unit folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub id: String,
    pub label: String,
    pub point: String,
    /// The study unit's own id, if the study is made of units.
    pub study_unit: Option<String>,
    pub scenario_sha256: String,
    pub version: String,
}

/// The state of one unit's folder.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitState {
    Complete,
    /// Failed, or written by another scenario or lieflow version.
    Stale(String),
    Missing,
}

/// The folder of unit `id` in sweep folder `dir`.
pub fn unit_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join("units").join(id)
}

/// Whether unit `id` of a sweep with scenario hash `hash` is complete in `dir`.
pub fn unit_state(dir: &Path, id: &str, hash: &str) -> UnitState {
    let d = unit_dir(dir, id);
    if std::fs::symlink_metadata(&d).is_err() {
        return UnitState::Missing;
    }
    let Some(m) = Marker::read(&d) else {
        return UnitState::Stale("no run-folder marker".into());
    };
    if m.status != Status::Complete {
        return UnitState::Stale(format!("{:?}", m.status).to_lowercase());
    }
    let rec = std::fs::read_to_string(d.join("unit.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<UnitRecord>(&t).ok());
    match rec {
        None => UnitState::Stale("no readable unit.json".into()),
        Some(r) if r.id != id => UnitState::Stale(format!("unit.json names unit {}", r.id)),
        Some(r) if r.scenario_sha256 != hash || r.version != env!("CARGO_PKG_VERSION") => UnitState::Stale(format!(
            "written for scenario sha256 {} by lieflow {}",
            &r.scenario_sha256[..r.scenario_sha256.len().min(12)],
            r.version
        )),
        Some(_) => UnitState::Complete,
    }
}

/// Whether `a` is `b` or one of its ancestors.
fn ancestor_or_self(a: &Path, b: &Path) -> bool {
    b.ancestors().any(|x| x == a)
}

/// Check that sweep folder `given` may be written for `sweep` and create it with its marker: a missing or empty
/// folder, or a sweep folder of the same scenario (resume). Anything else is refused (exit 2), as are `/`, the
/// home folder, the current folder or the scenario's folder (or their ancestors). Returns the resolved path.
pub fn open(given: &Path, sweep: &Sweep, units: usize) -> Result<PathBuf> {
    let refuse = |m: String| target::refuse(given, m);
    let path = target::resolve(given).map_err(|e| refuse(format!("cannot resolve the output path: {e}")))?;
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .and_then(|h| h.canonicalize().ok());
    let cwd = std::env::current_dir().ok().and_then(|c| c.canonicalize().ok());
    let scen = target::resolve(&sweep.file.path).ok();
    if path.parent().is_none() || home.as_deref() == Some(path.as_path()) {
        return Err(refuse(
            "is `/` or your home folder; lieflow never writes a sweep there".into(),
        ));
    }
    if cwd.as_deref().is_some_and(|c| ancestor_or_self(&path, c))
        || scen
            .as_deref()
            .and_then(Path::parent)
            .is_some_and(|s| ancestor_or_self(&path, s))
    {
        return Err(refuse(
            "is the current folder, the scenario's folder or one of their ancestors; choose a new folder for the \
             sweep"
                .into(),
        ));
    }
    let marker = SweepMarker::new(sweep, units);
    match std::fs::symlink_metadata(&path) {
        Err(_) => {}
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
            return Err(refuse("is a file or a symbolic link, not a folder".into()))
        }
        Ok(_) => match SweepMarker::read(&path) {
            Some(m) if m.scenario_sha256 == marker.scenario_sha256 && m.version == marker.version => return Ok(path),
            Some(m) => {
                return Err(refuse(format!(
                    "holds a sweep of another scenario or lieflow version (scenario sha256 {}…, lieflow {}; this \
                     one: {}…, lieflow {}); choose another folder",
                    &m.scenario_sha256[..m.scenario_sha256.len().min(12)],
                    m.version,
                    &marker.scenario_sha256[..12],
                    marker.version
                )))
            }
            None => {
                let nonempty = std::fs::read_dir(&path).map(|mut d| d.next().is_some()).unwrap_or(true);
                if nonempty {
                    return Err(refuse(format!(
                        "is a folder that is not a lieflow sweep folder (no {SWEEP_MARKER}); lieflow only writes \
                         sweeps into new or empty folders or sweep folders of the same scenario"
                    )));
                }
            }
        },
    }
    std::fs::create_dir_all(path.join("units")).map_err(|e| refuse(format!("cannot create the folder: {e}")))?;
    let mut bytes = serde_json::to_vec_pretty(&marker).expect("the marker serialises");
    bytes.push(b'\n');
    write_file_atomic(&path.join(SWEEP_MARKER), &bytes)?;
    Ok(path)
}

/// What a shard did.
#[derive(Debug, Default)]
pub struct ShardReport {
    /// Units this shard owns.
    pub owned: usize,
    /// Units run now.
    pub ran: Vec<String>,
    /// Units already complete (skipped).
    pub skipped: Vec<String>,
    /// Units that failed, with their errors.
    pub failed: Vec<(String, Error)>,
    /// Notes about leftovers of interrupted runs.
    pub notes: Vec<String>,
}

/// Settings of a shard run.
pub struct RunSettings<'a> {
    pub quiet: bool,
    pub threads: usize,
    pub threads_requested: Option<usize>,
    pub figures: FigureOptions,
    pub shard: Shard,
    /// Called after each unit (e.g. progress).
    pub on_unit: &'a (dyn Fn(&Unit, &str) + Sync),
}

/// This machine's host name (manifests only).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// Run the units of `units` that `settings.shard` owns and that are not complete in `dir`, one at a time (each
/// parallel inside, in the caller's thread pool), each into its own atomic unit folder. A unit that fails is
/// recorded as failed (status failed, with error.json) and the shard goes on; an input error stops it.
pub fn run_shard(sweep: &Sweep, units: &[Unit], dir: &Path, s: &RunSettings) -> Result<ShardReport> {
    let mut report = ShardReport::default();
    let mine: Vec<usize> = (0..units.len()).filter(|&k| s.shard.owns(k)).collect();
    report.owned = mine.len();
    let mut todo: Vec<usize> = Vec::new();
    for &k in &mine {
        match unit_state(dir, &units[k].id, &sweep.hash) {
            UnitState::Complete => report.skipped.push(units[k].id.clone()),
            _ => todo.push(k),
        }
    }
    let mut k = 0;
    while k < todo.len() {
        let p = units[todo[k]].point;
        let file = sweep.point_file(p)?;
        let mut plan = sweep.prepare(p, &file)?;
        let ctx = Context {
            file: &file,
            quiet: true,
        };
        while k < todo.len() && units[todo[k]].point == p {
            let u = &units[todo[k]];
            k += 1;
            let started = Instant::now();
            let udir = unit_dir(dir, &u.id);
            let run = RunDir::create_named(&udir, &udir, &sweep.name())?;
            report.notes.extend(run.stale_notes().iter().cloned());
            let rec = UnitRecord {
                id: u.id.clone(),
                label: u.label.clone(),
                point: sweep.points[p].id.clone(),
                study_unit: u.inner.as_ref().map(|(_, i)| i.clone()),
                scenario_sha256: sweep.hash.clone(),
                version: env!("CARGO_PKG_VERSION").into(),
            };
            run.write_json("unit.json", &rec)?;
            let mut out = StudyOutput::default();
            let result = match &u.inner {
                None => plan.run(&ctx, &mut out),
                Some((j, _)) => {
                    let units = plan.units().expect("a study that declared units has them");
                    units
                        .run_unit(*j, &ctx)
                        .map(|v| out.json.push(("result.json".into(), v)))
                }
            };
            if let Err(e @ Error::Input { .. }) = result {
                return Err(e);
            }
            let info = RunInfo {
                scenario_path: file.path.display().to_string(),
                scenario_name: sweep.name(),
                scenario_text: &file.text,
                study: sweep.study.name(),
                seed: file.scenario.seed,
                threads: s.threads,
                extra: serde_json::json!({
                    "threads_requested": s.threads_requested,
                    "sweep_unit": u.id,
                    "sweep_label": u.label,
                    "shard": s.shard.to_string(),
                    "host": hostname(),
                }),
                started,
                figures: s.figures.clone(),
            };
            write_results(&run, &out, info)?;
            match result {
                Ok(()) => {
                    run.commit()?;
                    report.ran.push(u.id.clone());
                    (s.on_unit)(u, "done");
                }
                Err(e) => {
                    run.write_json("error.json", &e.to_json())?;
                    run.commit_to(&udir, Status::Failed)?;
                    (s.on_unit)(u, "failed");
                    report.failed.push((u.id.clone(), e));
                }
            }
        }
    }
    Ok(report)
}

/// Units of `units` that are not complete in any of `dirs`, with why.
pub fn incomplete(dirs: &[PathBuf], units: &[Unit], hash: &str) -> Vec<(String, String)> {
    units
        .iter()
        .filter_map(|u| {
            let states: Vec<UnitState> = dirs.iter().map(|d| unit_state(d, &u.id, hash)).collect();
            if states.contains(&UnitState::Complete) {
                return None;
            }
            let why = states
                .iter()
                .find_map(|s| match s {
                    UnitState::Stale(w) => Some(w.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "missing".into());
            Some((u.id.clone(), format!("{} ({why})", u.label)))
        })
        .collect()
}
