//! Atomic outputs: a run folder that appears complete or not at all, and single files written via
//! a temporary file and a rename.
//!
//! Files are written into a hidden sibling folder `.<name>.tmp-<pid>-<nanos>`, which carries the run-folder
//! marker ([`super::target::MARKER`]) from the start; [`RunDir::commit`] records every file written in the
//! marker and renames the folder to its final name. A run that fails or panics drops its `RunDir`, which deletes
//! the temporary folder, so a half-written result never sits under the final name; SIGINT/SIGTERM remove it too
//! ([`super::guard`]). A previous result under the final name is renamed aside first and deleted only after the
//! new one is in place — and only if it is still a lieflow run folder holding nothing but lieflow's files
//! ([`super::target::inspect`]); otherwise the new folder is put beside it under a fresh name.
//!
//! A run killed by SIGKILL leaves its temporary folder behind: the next [`RunDir::create`] in the same parent
//! removes such a folder when its process is gone (and restores a previous result a killed commit had renamed
//! aside), or reports it when that process may still be running ([`RunDir::stale_notes`]).

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::guard;
use super::plot::{render, Figure};
use super::table::Table;
use super::target::{inspect, Existing, Marker, Status, MARKER};
use crate::{Error, Result};

/// A run folder under construction. See the module docs.
#[derive(Debug)]
pub struct RunDir {
    final_path: PathBuf,
    /// The path as the user gave it, for messages.
    shown: PathBuf,
    tmp: PathBuf,
    committed: bool,
    scenario_name: String,
    files: Mutex<Vec<String>>,
    notes: Vec<String>,
}

/// `.<name>.<tag>-<pid>-<nanos>` next to `path`: unique per process and moment, hidden, and on the
/// same file system (so renames are atomic).
fn sibling(path: &Path, tag: &str) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::input(path, "", "output path has no final component"))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut s = std::ffi::OsString::from(".");
    s.push(name);
    s.push(format!(".{tag}-{}-{nanos}", std::process::id()));
    Ok(path.with_file_name(s))
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => std::fs::create_dir_all(p).map_err(|e| Error::io(p, e)),
        _ => Ok(()),
    }
}

/// Why `path` cannot be created, in words naming the user's path: a file standing where a folder must be, or
/// the system's reason.
fn unwritable(shown: &Path, path: &Path, e: &std::io::Error) -> Error {
    let blocker = path
        .ancestors()
        .skip(1)
        .find(|a| std::fs::symlink_metadata(a).is_ok_and(|m| !m.is_dir()));
    let msg = match blocker {
        Some(b) => format!(
            "cannot create the output folder: {} is a file, not a folder",
            b.display()
        ),
        None => format!("cannot create the output folder: {e}"),
    };
    super::target::refuse(shown, msg)
}

/// Whether process `pid` may be running (`None`: cannot tell, no /proc).
fn pid_alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    Some(Path::new(&format!("/proc/{pid}")).exists())
}

/// Leftovers of killed runs next to `final_path` (`.<name>.tmp-<pid>-…` and `.<name>.old-<pid>-…`): removed
/// when their process is gone and they are lieflow's (marked or empty), a renamed-aside result restored when its
/// final folder is missing; otherwise reported. Returns the notes for the user.
fn clean_stale(final_path: &Path) -> Vec<String> {
    let (Some(parent), Some(name)) = (final_path.parent(), final_path.file_name()) else {
        return Vec::new();
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    let name = name.to_string_lossy();
    for e in entries.flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        let (tag, rest) = if let Some(r) = f.strip_prefix(&format!(".{name}.tmp-")) {
            ("tmp", r)
        } else if let Some(r) = f.strip_prefix(&format!(".{name}.old-")) {
            ("old", r)
        } else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let p = e.path();
        if pid == std::process::id() {
            continue;
        }
        let ours = Marker::read(&p).is_some() || std::fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none());
        match pid_alive(pid) {
            Some(false) if ours && tag == "old" && std::fs::symlink_metadata(final_path).is_err() => {
                if std::fs::rename(&p, final_path).is_ok() {
                    notes.push(format!(
                        "restored {} from {}, where an interrupted run (pid {pid}) had moved it",
                        final_path.display(),
                        p.display()
                    ));
                }
            }
            Some(false) if ours => {
                if std::fs::remove_dir_all(&p).is_ok() {
                    notes.push(format!(
                        "removed {}, left behind by an interrupted run (pid {pid})",
                        p.display()
                    ));
                }
            }
            Some(true) => notes.push(format!(
                "{} belongs to a run that may still be going (pid {pid}); left alone",
                p.display()
            )),
            _ => notes.push(format!(
                "{} looks like the leftover of an interrupted run (pid {pid}); lieflow left it alone, remove it \
                 yourself if no run is going",
                p.display()
            )),
        }
    }
    notes
}

impl RunDir {
    /// Start a run whose results will appear at `final_path` on [`commit`](Self::commit).
    /// Creates missing parent folders and the temporary folder (with its marker).
    pub fn create(final_path: &Path) -> Result<Self> {
        Self::create_named(final_path, final_path, "")
    }

    /// [`RunDir::create`] for the run of `scenario_name`, naming the output `shown` (the path as the user gave
    /// it) in errors: a folder that cannot be created is an input error (exit code 2).
    pub fn create_named(final_path: &Path, shown: &Path, scenario_name: &str) -> Result<Self> {
        create_parent(final_path).map_err(|e| match e {
            Error::Io { source, .. } => unwritable(shown, final_path, &source),
            e => e,
        })?;
        let notes = clean_stale(final_path);
        let tmp = sibling(final_path, "tmp")?;
        std::fs::create_dir(&tmp).map_err(|e| unwritable(shown, final_path, &e))?;
        guard::register(&tmp);
        let dir = RunDir {
            final_path: final_path.to_path_buf(),
            shown: shown.to_path_buf(),
            tmp,
            committed: false,
            scenario_name: scenario_name.to_string(),
            files: Mutex::new(Vec::new()),
            notes,
        };
        dir.write_marker(Status::Running)
            .map_err(|_| super::target::refuse(shown, "cannot write into the output folder's parent".into()))?;
        Ok(dir)
    }

    /// What [`RunDir::create`] found and did about leftovers of interrupted runs (for stderr).
    pub fn stale_notes(&self) -> &[String] {
        &self.notes
    }

    fn write_marker(&self, status: Status) -> Result<()> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let m = Marker::new(status, &self.scenario_name, files);
        let mut bytes = serde_json::to_vec_pretty(&m).unwrap_or_default();
        bytes.push(b'\n');
        let p = self.tmp.join(MARKER);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))
    }

    /// The temporary folder where files are written until commit.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Where the folder will appear on commit.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Path of `name` inside the temporary folder. `name` must be relative and stay inside the
    /// folder (sub-folders are created as needed).
    fn file(&self, name: &str) -> Result<PathBuf> {
        let rel = Path::new(name);
        let ok = !name.is_empty()
            && rel
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !ok {
            return Err(Error::input(
                &self.final_path,
                "",
                format!("output file name `{name}` must be a relative path inside the run folder"),
            ));
        }
        let p = self.tmp.join(rel);
        create_parent(&p)?;
        let rel: PathBuf = rel.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let rel = rel.to_string_lossy().into_owned();
        if !files.contains(&rel) {
            files.push(rel);
        }
        Ok(p)
    }

    /// Write raw bytes to `name`.
    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let p = self.file(name)?;
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))
    }

    /// Write `v` as pretty JSON with a trailing newline.
    pub fn write_json<T: Serialize + ?Sized>(&self, name: &str, v: &T) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(v).map_err(|e| {
            Error::io(
                self.tmp.join(name),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        bytes.push(b'\n');
        self.write_bytes(name, &bytes)
    }

    /// Write a table as CSV.
    pub fn write_table(&self, name: &str, t: &Table) -> Result<()> {
        self.write_bytes(name, &t.to_csv_bytes())
    }

    /// Render a figure to `<stem>.png` and `<stem>.svg`.
    pub fn write_figure(&self, stem: &str, fig: &Figure) -> Result<()> {
        let png = self.file(&format!("{stem}.png"))?;
        let svg = self.file(&format!("{stem}.svg"))?;
        render(fig, &png, &svg)
    }

    /// Move the finished folder to its final name and return that path (a complete run).
    pub fn commit(self) -> Result<PathBuf> {
        let fin = self.final_path.clone();
        self.commit_to(&fin, Status::Complete)
    }

    /// Record `status` and every file written in the marker, then move the folder to `target` (the final path,
    /// or `DIR.failed` for a failed run) and return where it went.
    ///
    /// If `target` exists it is renamed aside, the new folder renamed into place, and only then the old one
    /// deleted; if the second rename fails the old folder is put back. `target` is replaced only if it is still
    /// missing, empty or a lieflow run folder holding only lieflow's files (or a legacy run folder the caller
    /// accepted); if anything else appeared there during the run, the folder goes to a fresh sibling instead.
    pub fn commit_to(mut self, target: &Path, status: Status) -> Result<PathBuf> {
        self.write_marker(status)?;
        let _hold = guard::hold(); // a signal's clean-up waits until the renames are done
        let existing = inspect(target);
        let fin = match existing {
            Existing::Missing | Existing::Empty | Existing::Run(_) | Existing::Legacy => target.to_path_buf(),
            Existing::Foreign(_) => {
                let mut n = target.file_name().unwrap_or_default().to_os_string();
                n.push(format!(".lieflow-{}", std::process::id()));
                target.with_file_name(n)
            }
        };
        let old = if std::fs::symlink_metadata(&fin).is_ok() {
            let old = sibling(&fin, "old")?;
            std::fs::rename(&fin, &old).map_err(|e| Error::io(&self.shown, e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.tmp, &fin) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &fin);
            }
            return Err(Error::io(&self.shown, e));
        }
        self.committed = true;
        drop(_hold);
        guard::unregister(&self.tmp);
        if let Some(old) = old {
            let res = if old.is_dir() {
                std::fs::remove_dir_all(&old)
            } else {
                std::fs::remove_file(&old)
            };
            res.map_err(|e| Error::io(&old, e))?;
        }
        Ok(fin)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
            guard::unregister(&self.tmp);
        }
    }
}

/// Unregisters a temporary path when dropped.
struct Forget<'a>(&'a Path);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        guard::unregister(self.0);
    }
}

/// Write `bytes` to `path` atomically: a temporary sibling file is written, flushed and renamed
/// over `path`, so readers see the old content or the new, never a partial file.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    create_parent(path)?;
    let tmp = sibling(path, "tmp")?;
    guard::register(&tmp);
    let _forget = Forget(&tmp);
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries of `dir` other than the run-folder marker.
    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != MARKER)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_moves_files_and_removes_tmp() {
        let base = tempfile::tempdir().unwrap();
        let fin = base.path().join("nested/run1");
        let run = RunDir::create(&fin).unwrap();
        let tmp = run.path().to_path_buf();
        assert!(tmp.is_dir());
        assert!(!fin.exists(), "final folder must not exist before commit");
        run.write_bytes("a.txt", b"hello").unwrap();
        run.write_json("m.json", &serde_json::json!({"k": 1})).unwrap();
        let mut t = Table::new(["x"]);
        t.push(vec![0.5]);
        run.write_table("t.csv", &t).unwrap();
        run.write_bytes("sub/b.txt", b"b").unwrap();
        assert_eq!(run.commit().unwrap(), fin);
        assert!(!tmp.exists());
        assert_eq!(entries(&fin), ["a.txt", "m.json", "sub", "t.csv"]);
        assert_eq!(std::fs::read(fin.join("a.txt")).unwrap(), b"hello");
        assert_eq!(std::fs::read_to_string(fin.join("t.csv")).unwrap(), "x\n0.5\n");
        let json = std::fs::read_to_string(fin.join("m.json")).unwrap();
        assert_eq!(json, "{\n  \"k\": 1\n}\n");
        assert_eq!(entries(&base.path().join("nested")), ["run1"]);
    }

    #[test]
    fn dropping_without_commit_leaves_nothing() {
        let base = tempfile::tempdir().unwrap();
        let fin = base.path().join("run");
        {
            let run = RunDir::create(&fin).unwrap();
            run.write_bytes("a.txt", b"x").unwrap();
        }
        assert!(entries(base.path()).is_empty());
    }

    #[test]
    fn commit_over_existing_folder_replaces_it() {
        let base = tempfile::tempdir().unwrap();
        let fin = base.path().join("run");
        let run = RunDir::create(&fin).unwrap();
        run.write_bytes("old.txt", b"old").unwrap();
        run.write_bytes("same.txt", b"1").unwrap();
        run.commit().unwrap();

        let run = RunDir::create(&fin).unwrap();
        run.write_bytes("new.txt", b"new").unwrap();
        run.write_bytes("same.txt", b"2").unwrap();
        // The old complete result is untouched until commit.
        assert_eq!(entries(&fin), ["old.txt", "same.txt"]);
        run.commit().unwrap();
        assert_eq!(entries(&fin), ["new.txt", "same.txt"]);
        assert_eq!(std::fs::read(fin.join("same.txt")).unwrap(), b"2");
        assert_eq!(entries(base.path()), ["run"], "no temp or old folders left");
    }

    #[test]
    fn the_marker_lists_every_file_and_the_status() {
        let base = tempfile::tempdir().unwrap();
        let run = RunDir::create_named(&base.path().join("run"), Path::new("run"), "demo").unwrap();
        assert_eq!(Marker::read(run.path()).unwrap().status, Status::Running);
        run.write_bytes("a.csv", b"1").unwrap();
        run.write_bytes("figs/b.svg", b"2").unwrap();
        let fin = run.commit_to(&base.path().join("run.failed"), Status::Failed).unwrap();
        let m = Marker::read(&fin).unwrap();
        assert_eq!((m.status, m.scenario_name.as_str()), (Status::Failed, "demo"));
        assert_eq!(m.files, ["a.csv", "figs/b.svg"]);
        assert_eq!(inspect(&fin), Existing::Run(Status::Failed));
    }

    #[test]
    fn commit_never_replaces_what_appeared_during_the_run() {
        let base = tempfile::tempdir().unwrap();
        let fin = base.path().join("run");
        let run = RunDir::create(&fin).unwrap();
        std::fs::create_dir(&fin).unwrap();
        std::fs::write(fin.join("mine.txt"), b"keep").unwrap();
        let went = run.commit().unwrap();
        assert_ne!(went, fin);
        assert_eq!(std::fs::read(fin.join("mine.txt")).unwrap(), b"keep");
        assert_eq!(Marker::read(&went).unwrap().status, Status::Complete);
    }

    #[test]
    fn stale_temporary_folders_of_dead_runs_are_removed_and_live_ones_reported() {
        let base = tempfile::tempdir().unwrap();
        let fin = base.path().join("run");
        // A process that has exited: its pid is (almost certainly) free.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = base.path().join(format!(".run.tmp-{dead}-1"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(
            stale.join(MARKER),
            serde_json::to_vec(&Marker::new(Status::Running, "s", vec![])).unwrap(),
        )
        .unwrap();
        // The parent process (the test runner) is alive.
        let live = base
            .path()
            .join(format!(".run.tmp-{}-2", std::os::unix::process::parent_id()));
        std::fs::create_dir(&live).unwrap();
        let run = RunDir::create(&fin).unwrap();
        assert!(!stale.exists(), "{:?}", run.stale_notes());
        assert!(run
            .stale_notes()
            .iter()
            .any(|n| n.contains("removed") && n.contains(&dead.to_string())));
        assert!(live.exists());
        assert!(run.stale_notes().iter().any(|n| n.contains("may still be going")));
    }

    #[test]
    fn file_names_must_stay_inside_the_run_folder() {
        let base = tempfile::tempdir().unwrap();
        let run = RunDir::create(&base.path().join("run")).unwrap();
        for bad in ["../x", "/etc/x", ""] {
            let err = run.write_bytes(bad, b"x").unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}: {err}");
        }
    }

    #[test]
    fn write_figure_writes_png_and_svg() {
        let base = tempfile::tempdir().unwrap();
        let run = RunDir::create(&base.path().join("run")).unwrap();
        let mut fig = Figure::new("loss", "epoch", "loss");
        fig.series
            .push(super::super::plot::Series::line("train", vec![(0.0, 1.0), (1.0, 0.5)]));
        run.write_figure("figs/loss", &fig).unwrap();
        let fin = run.commit().unwrap();
        assert_eq!(entries(&fin.join("figs")), ["loss.png", "loss.svg"]);
    }

    #[test]
    fn write_file_atomic_creates_and_replaces() {
        let base = tempfile::tempdir().unwrap();
        let p = base.path().join("d/controls.json");
        write_file_atomic(&p, b"one").unwrap();
        write_file_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(entries(&base.path().join("d")), ["controls.json"]);
    }
}
