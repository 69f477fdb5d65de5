//! Temporary outputs that must not outlive an interrupted run: a registry of the temporary folders and files a
//! run is writing, removed when the process is stopped by SIGINT, SIGTERM or SIGHUP (ARCHITECTURE "Output that
//! never surprises").
//!
//! [`install`] starts one thread that waits for those signals (`signal-hook`'s self-pipe iterator, so the
//! clean-up runs in an ordinary thread, not in a signal handler); on a signal it takes the registry lock, removes
//! every registered path, says so on stderr and exits with 128 + the signal number, as a shell reports a killed
//! process. [`RunDir`](super::run::RunDir) registers its temporary folder while it exists and holds the lock while
//! it renames folders into place ([`hold`]), so a signal never lands between two renames. A run killed with
//! SIGKILL cannot clean up: the next run into the same parent folder finds and reports its leftovers
//! ([`super::run::RunDir::stale_notes`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

fn registry() -> &'static Mutex<Vec<PathBuf>> {
    static R: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Vec::new()))
}

/// The registry, even if a thread panicked while holding it.
fn lock() -> MutexGuard<'static, Vec<PathBuf>> {
    registry().lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes `p` whether it is a folder or a file; errors are ignored (the path may already be gone).
fn remove(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Starts the signal thread (once per process; later calls do nothing). Without it, signals keep their default
/// action. Fails only if the signal handlers cannot be registered.
pub fn install() -> std::io::Result<()> {
    static STARTED: OnceLock<()> = OnceLock::new();
    if STARTED.get().is_some() {
        return Ok(());
    }
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    STARTED.get_or_init(|| ());
    std::thread::Builder::new()
        .name("lieflow-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let paths = lock();
                for p in paths.iter() {
                    remove(p);
                    eprintln!("interrupted: removed the temporary output {}", p.display());
                }
                let name = match sig {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                eprintln!("interrupted by {name}: no result was written");
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// Registers a temporary path for removal on a signal.
pub fn register(p: &Path) {
    lock().push(p.to_path_buf());
}

/// Forgets a temporary path (it was renamed into place or removed).
pub fn unregister(p: &Path) {
    lock().retain(|q| q != p);
}

/// Holds the registry lock: while the guard lives, a signal's clean-up waits (renames stay atomic as a group).
pub fn hold() -> MutexGuard<'static, Vec<PathBuf>> {
    lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_paths_are_tracked_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".x.tmp-1-2");
        register(&p);
        assert!(hold().contains(&p));
        unregister(&p);
        assert!(!hold().contains(&p));
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("f"), b"x").unwrap();
        remove(&p);
        assert!(!p.exists());
    }
}
