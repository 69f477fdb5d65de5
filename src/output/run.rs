//! Atomic outputs: a run folder that appears complete or not at all, and single files written via
//! a temporary file and a rename.
//!
//! Files are written into a hidden sibling folder `.<name>.tmp-<pid>-<nanos>`; [`RunDir::commit`]
//! renames it to the final name. A run that fails or panics drops its `RunDir`, which deletes the
//! temporary folder, so a half-written result never sits under the final name. A previous complete
//! result under the final name is renamed aside first and deleted only after the new one is in
//! place.

use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::plot::{render, Figure};
use super::table::Table;
use crate::{Error, Result};

/// A run folder under construction. See the module docs.
#[derive(Debug)]
pub struct RunDir {
    final_path: PathBuf,
    tmp: PathBuf,
    committed: bool,
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

impl RunDir {
    /// Start a run whose results will appear at `final_path` on [`commit`](Self::commit).
    /// Creates missing parent folders and the temporary folder.
    pub fn create(final_path: &Path) -> Result<Self> {
        create_parent(final_path)?;
        let tmp = sibling(final_path, "tmp")?;
        std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(RunDir {
            final_path: final_path.to_path_buf(),
            tmp,
            committed: false,
        })
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

    /// Move the finished folder to its final name and return that path.
    ///
    /// If the final folder exists it is renamed aside, the new folder renamed into place, and only
    /// then the old one deleted; if the second rename fails the old folder is put back.
    pub fn commit(mut self) -> Result<PathBuf> {
        let fin = self.final_path.clone();
        let old = if std::fs::symlink_metadata(&fin).is_ok() {
            let old = sibling(&fin, "old")?;
            std::fs::rename(&fin, &old).map_err(|e| Error::io(&fin, e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.tmp, &fin) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &fin);
            }
            return Err(Error::io(&fin, e));
        }
        self.committed = true;
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
        }
    }
}

/// Write `bytes` to `path` atomically: a temporary sibling file is written, flushed and renamed
/// over `path`, so readers see the old content or the new, never a partial file.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    create_parent(path)?;
    let tmp = sibling(path, "tmp")?;
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

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
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
