//! `lieflow list`: the bundled scenarios with one line each, from any working folder.
//!
//! Without `--dir` the bundled `scenarios/` folder is found (1) beside the executable or one of the folders
//! above it (`target/release/lieflow` → the repository's `scenarios/`), else (2) in the crate folder recorded
//! when lieflow was built. Paths are printed relative to the working folder when they lie inside it (so
//! they can be pasted into `lieflow run`), absolute otherwise.

use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A folder that holds lieflow's bundled scenarios.
fn is_bundle(dir: &Path) -> bool {
    dir.join("quickstart.toml").is_file()
}

/// The bundled scenarios folder (see the module docs).
pub fn bundled_dir() -> Option<PathBuf> {
    let from_exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.canonicalize().ok())
        .and_then(|e| {
            e.ancestors()
                .skip(1)
                .map(|a| a.join("scenarios"))
                .find(|d| is_bundle(d))
        });
    from_exe.or_else(|| {
        let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        is_bundle(&d).then_some(d)
    })
}

/// `path` relative to the working folder when inside it.
fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok())
        .and_then(|c| path.strip_prefix(&c).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// Print `name  study  description` for every scenario in `dir` (default: the bundled ones).
pub fn list(dir: Option<&Path>) -> Result<()> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => bundled_dir().ok_or_else(|| {
            Error::arg(
                "lieflow list",
                "cannot find the bundled scenarios (neither beside the executable nor in the folder lieflow was \
                 built from); pass --dir FOLDER",
            )
        })?,
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| Error::input(&dir, "--dir", format!("cannot list scenarios: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let shown = display_path(&path.canonicalize().unwrap_or_else(|_| path.clone()));
        match ScenarioFile::load(&path) {
            Ok(f) => outln!(
                "{:<34} {:<12} {}",
                shown.display(),
                f.scenario.study,
                f.scenario.description
            ),
            Err(e) => outln!("{:<34} {:<12} INVALID: {e}", shown.display(), "?"),
        }
    }
    Ok(())
}
