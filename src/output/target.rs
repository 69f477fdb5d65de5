//! Where a run may write: lieflow replaces only folders it wrote itself (ARCHITECTURE "Output that never
//! surprises").
//!
//! Every run folder carries a marker, [`MARKER`] (`.lieflow-run.json`), listing the files lieflow wrote into it and
//! whether the run completed or failed. `--out DIR` is then decided by [`plan`]:
//!
//! | DIR is … | without `--force` | with `--force` |
//! |---|---|---|
//! | missing, or an empty folder | written | written |
//! | a lieflow run folder (marker), holding only files the marker lists | replaced | replaced |
//! | a run folder of an older lieflow (a `manifest.json`, no marker) | refused | replaced |
//! | a lieflow run folder with files of yours added, any other non-empty folder, a file, a symbolic link | refused | refused |
//! | the current folder or one of its ancestors, the scenario's folder or one of its ancestors | refused | as above |
//! | `/` or the home folder | refused | refused |
//!
//! A failed run never replaces a complete result: when DIR holds one, the partial output (history, error.json)
//! goes to `DIR.failed/` beside it — itself a marked run folder, replaced only if it is one — else into DIR.
//! Refusals and unwritable paths are input errors (exit code 2) naming the path as the user gave it.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The marker file of a run folder.
pub const MARKER: &str = ".lieflow-run.json";

/// How a run ended, as its marker records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Still being written (only ever seen in a temporary folder).
    Running,
    /// The run succeeded.
    Complete,
    /// The run failed; the folder holds its partial output and error.json.
    Failed,
}

/// The contents of [`MARKER`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Always "lieflow run folder".
    pub lieflow: String,
    /// The lieflow version that wrote the folder.
    pub version: String,
    pub status: Status,
    /// The scenario's name.
    pub scenario_name: String,
    /// Every file lieflow wrote, relative to the folder.
    pub files: Vec<String>,
}

impl Marker {
    /// A marker for a run of `scenario_name`.
    pub fn new(status: Status, scenario_name: &str, files: Vec<String>) -> Self {
        Marker {
            lieflow: "lieflow run folder".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            status,
            scenario_name: scenario_name.into(),
            files,
        }
    }

    /// The marker of `dir`, if it has a readable one.
    pub fn read(dir: &Path) -> Option<Marker> {
        let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
        serde_json::from_str::<Marker>(&text)
            .ok()
            .filter(|m| m.lieflow == "lieflow run folder")
    }
}

/// What is at an output path now.
#[derive(Clone, Debug, PartialEq)]
pub enum Existing {
    /// Nothing.
    Missing,
    /// An empty folder.
    Empty,
    /// A lieflow run folder holding only files its marker lists.
    Run(Status),
    /// A run folder of an older lieflow: `manifest.json` with `lieflow_version`, no marker.
    Legacy,
    /// Something lieflow did not write (the reason, for the message).
    Foreign(String),
}

impl Existing {
    /// Holds a complete result that a failed run must not replace.
    pub fn holds_result(&self) -> bool {
        matches!(self, Existing::Run(Status::Complete) | Existing::Legacy)
    }
}

/// The first entry under `dir` (relative, depth first) that is neither a listed file nor a folder on the way to
/// one; `None` when every entry is accounted for.
fn first_unlisted(dir: &Path, rel: &Path, files: &BTreeSet<PathBuf>, dirs: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => return Some(rel.to_path_buf()),
    };
    for e in entries {
        let Ok(e) = e else { return Some(rel.to_path_buf()) };
        let r = rel.join(e.file_name());
        let Ok(ty) = e.file_type() else { return Some(r) };
        if ty.is_dir() && dirs.contains(&r) {
            if let Some(x) = first_unlisted(&e.path(), &r, files, dirs) {
                return Some(x);
            }
        } else if !(ty.is_file() && (files.contains(&r) || r.as_os_str() == MARKER)) {
            return Some(r);
        }
    }
    None
}

/// Inspects `path` (see [`Existing`]). Symbolic links are never followed.
pub fn inspect(path: &Path) -> Existing {
    let meta = match std::fs::symlink_metadata(path) {
        Err(_) => return Existing::Missing,
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        return Existing::Foreign("a symbolic link".into());
    }
    if !meta.is_dir() {
        return Existing::Foreign("a file, not a folder".into());
    }
    let mut entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => return Existing::Foreign(format!("a folder lieflow cannot read ({e})")),
    };
    let Some(first) = entries.next() else {
        return Existing::Empty;
    };
    let first = first
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .unwrap_or_default();
    match Marker::read(path) {
        Some(m) => {
            let files: BTreeSet<PathBuf> = m.files.iter().map(PathBuf::from).collect();
            let dirs: BTreeSet<PathBuf> = files
                .iter()
                .flat_map(|f| f.ancestors().skip(1).map(Path::to_path_buf).collect::<Vec<_>>())
                .filter(|d| !d.as_os_str().is_empty())
                .collect();
            match first_unlisted(path, Path::new(""), &files, &dirs) {
                None => Existing::Run(m.status),
                Some(x) => Existing::Foreign(format!(
                    "a lieflow run folder to which `{}` was added (lieflow did not write it)",
                    x.display()
                )),
            }
        }
        None => {
            let legacy = std::fs::read_to_string(path.join("manifest.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|v| v.get("lieflow_version").is_some());
            if legacy {
                Existing::Legacy
            } else {
                Existing::Foreign(format!(
                    "a folder lieflow did not write (no {MARKER}; it holds `{first}`)"
                ))
            }
        }
    }
}

/// `path` made absolute with symbolic links resolved as far as it exists, and `.`/`..` resolved lexically
/// beyond (a path that does not exist yet cannot contain links).
pub fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    // The longest prefix that exists, canonicalised; the rest appended component by component.
    let comps: Vec<Component> = abs.components().collect();
    let mut split = comps.len();
    let mut base = None;
    while split > 0 {
        let prefix: PathBuf = comps[..split].iter().collect();
        if let Ok(c) = prefix.canonicalize() {
            base = Some(c);
            break;
        }
        split -= 1;
    }
    let mut out = base.unwrap_or_else(|| PathBuf::from("/"));
    for c in &comps[split..] {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

/// Where a run will write, decided before it starts.
#[derive(Clone, Debug)]
pub struct OutPlan {
    /// The path as the user gave it (for messages).
    pub given: PathBuf,
    /// The resolved output folder.
    pub path: PathBuf,
    /// What is there now.
    pub existing: Existing,
    /// `DIR.failed` beside it (resolved), where a failed run writes when `existing` holds a result.
    pub failed: PathBuf,
}

impl OutPlan {
    /// Where a failed run writes its partial output.
    pub fn failure_target(&self) -> &Path {
        if self.existing.holds_result() {
            &self.failed
        } else {
            &self.path
        }
    }
}

/// The refusal error for `given` (exit code 2): "--out DIR: …".
pub fn refuse(given: &Path, msg: String) -> Error {
    Error::arg(&format!("--out {}", given.display()), msg)
}

/// Whether `a` is `b` or one of its ancestors.
fn is_ancestor_or_self(a: &Path, b: &Path) -> bool {
    b.ancestors().any(|x| x == a)
}

/// Decides whether a run may write to `given` (see the module docs). `scenario` is the scenario file; `force`
/// is `--force`.
pub fn plan(given: &Path, scenario: &Path, force: bool) -> Result<OutPlan> {
    let cannot = |e: std::io::Error| refuse(given, format!("cannot resolve the output path: {e}"));
    let path = resolve(given).map_err(cannot)?;
    let Some(name) = path.file_name().map(|n| n.to_os_string()) else {
        return Err(refuse(
            given,
            "is the root folder `/`; lieflow never writes a run there".into(),
        ));
    };
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .and_then(|h| h.canonicalize().ok());
    if home.as_deref() == Some(path.as_path()) {
        return Err(refuse(given, "is your home folder; lieflow never replaces it".into()));
    }
    let cwd = std::env::current_dir()
        .map_err(cannot)?
        .canonicalize()
        .map_err(cannot)?;
    let scen = resolve(scenario).map_err(cannot)?;
    let existing = inspect(&path);
    let protected = if is_ancestor_or_self(&path, &cwd) {
        Some("the current folder or one of its ancestors")
    } else if is_ancestor_or_self(&path, scen.parent().unwrap_or(&scen)) {
        Some("the scenario's folder or one of its ancestors")
    } else {
        None
    };
    let keep = "choose a new or empty folder, or a lieflow run folder";
    match &existing {
        Existing::Missing | Existing::Empty | Existing::Run(_) | Existing::Legacy if protected.is_some() && !force => {
            return Err(refuse(
                given,
                format!(
                    "is {}; lieflow would replace it: {keep} (or pass --force if it really is a lieflow run folder \
                     to replace)",
                    protected.unwrap_or_default()
                ),
            ));
        }
        Existing::Legacy if !force => {
            return Err(refuse(
                given,
                format!(
                    "looks like a run folder of an older lieflow (manifest.json, no {MARKER}), so lieflow cannot \
                     check that it wrote every file in it; pass --force to replace it"
                ),
            ));
        }
        Existing::Foreign(why) => {
            return Err(refuse(
                given,
                format!(
                    "is {why}; lieflow only replaces folders it wrote, with or without --force: {keep}, or move \
                     the files away yourself"
                ),
            ));
        }
        _ => {}
    }
    let mut failed_name = name;
    failed_name.push(".failed");
    let failed = path.with_file_name(failed_name);
    if existing.holds_result() {
        match inspect(&failed) {
            Existing::Missing | Existing::Empty | Existing::Run(_) => {}
            Existing::Legacy | Existing::Foreign(_) => {
                return Err(refuse(
                    given,
                    format!(
                        "a failed run would write its partial output to {}, which lieflow did not write; move it \
                         away first",
                        failed.display()
                    ),
                ))
            }
        }
    }
    Ok(OutPlan {
        given: given.to_path_buf(),
        path,
        existing,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(dir: &Path, files: &[&str], status: Status) {
        std::fs::create_dir_all(dir).unwrap();
        for f in files {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let m = Marker::new(status, "s", files.iter().map(|f| f.to_string()).collect());
        std::fs::write(dir.join(MARKER), serde_json::to_vec(&m).unwrap()).unwrap();
    }

    #[test]
    fn inspection_tells_run_folders_from_everything_else() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        assert_eq!(inspect(&p.join("none")), Existing::Missing);
        std::fs::create_dir(p.join("empty")).unwrap();
        assert_eq!(inspect(&p.join("empty")), Existing::Empty);
        marked(&p.join("run"), &["a.csv", "figs/b.png"], Status::Complete);
        assert_eq!(inspect(&p.join("run")), Existing::Run(Status::Complete));
        std::fs::write(p.join("run/figs/notes.txt"), b"mine").unwrap();
        assert!(matches!(inspect(&p.join("run")), Existing::Foreign(w) if w.contains("notes.txt")));
        std::fs::create_dir(p.join("user")).unwrap();
        std::fs::write(p.join("user/thesis.tex"), b"x").unwrap();
        assert!(matches!(inspect(&p.join("user")), Existing::Foreign(w) if w.contains("thesis.tex")));
        std::fs::write(p.join("file"), b"x").unwrap();
        assert!(matches!(inspect(&p.join("file")), Existing::Foreign(w) if w.contains("file")));
        std::os::unix::fs::symlink(p.join("run"), p.join("link")).unwrap();
        assert!(matches!(inspect(&p.join("link")), Existing::Foreign(w) if w.contains("symbolic")));
        std::fs::create_dir(p.join("old")).unwrap();
        std::fs::write(p.join("old/manifest.json"), br#"{"lieflow_version": "0.0.9"}"#).unwrap();
        assert_eq!(inspect(&p.join("old")), Existing::Legacy);
    }

    #[test]
    fn resolve_handles_missing_tails_and_dots() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        assert_eq!(resolve(&t.path().join("a/./b/../c")).unwrap(), base.join("a/c"));
        assert_eq!(resolve(&t.path().join(".")).unwrap(), base);
    }

    #[test]
    fn plans_refuse_protected_and_foreign_targets() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        let scen = p.join("sc/s.toml");
        std::fs::create_dir_all(scen.parent().unwrap()).unwrap();
        std::fs::write(&scen, b"").unwrap();
        // The scenario's folder and its ancestors.
        for out in [p.join("sc"), p.to_path_buf()] {
            let e = plan(&out, &scen, false).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().contains("scenario's folder") || e.to_string().contains("did not write"),
                "{e}"
            );
            assert!(
                plan(&out, &scen, true).is_err(),
                "the scenario is not lieflow's: never replaced"
            );
        }
        assert!(plan(Path::new("/"), &scen, true).is_err());
        // A complete result: a failure goes beside it.
        marked(&p.join("out"), &["summary.json"], Status::Complete);
        let pl = plan(&p.join("out"), &scen, false).unwrap();
        assert!(pl.failure_target().ends_with("out.failed"));
        marked(&p.join("fail"), &["error.json"], Status::Failed);
        assert!(plan(&p.join("fail"), &scen, false)
            .unwrap()
            .failure_target()
            .ends_with("fail"));
        // A foreign DIR.failed is refused up front when it would be needed.
        std::fs::create_dir(p.join("out.failed")).unwrap();
        std::fs::write(p.join("out.failed/mine"), b"x").unwrap();
        assert!(plan(&p.join("out"), &scen, false).is_err());
    }
}
