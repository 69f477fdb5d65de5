//! `lieflow list`: the bundled scenarios with one line each.

use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use std::path::Path;

/// Print `name  study  description` for every scenario in `dir`.
pub fn list(dir: &Path) -> Result<()> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::input(dir, "", format!("cannot list scenarios: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        match ScenarioFile::load(&path) {
            Ok(f) => println!(
                "{:<34} {:<12} {}",
                path.display(),
                f.scenario.study,
                f.scenario.description
            ),
            Err(e) => println!("{:<34} {:<12} INVALID: {e}", path.display(), "?"),
        }
    }
    Ok(())
}
