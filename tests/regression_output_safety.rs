//! Issue 12, items 1–3, 8 and 9: `lieflow run` never deletes or replaces a file it did not write — not a user's
//! folder, not a regular file, not the scenario's folder, not a sibling reached through `name = "../x"`; a failed
//! run never replaces a good result; SIGINT/SIGTERM leave no temporary folder; unwritable targets are bad input
//! naming the path the user gave.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fast simulate scenario (a few milliseconds).
const SIM: &str = "name = \"sim\"\nstudy = \"simulate\"\n[model]\nfamily = \"node\"\ndim = 2\n[time]\nhorizon = 1.0\n\
                   intervals = 4\n[controls]\nsource = \"random\"\n[data]\nkind = \"annuli\"\nn = 20\n";

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    lieflow(dir, args)
}

fn tree(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_folder_of_user_files_is_refused_with_and_without_force() {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "s.toml", SIM);
    std::fs::create_dir(t.path().join("d")).unwrap();
    write(&t.path().join("d"), "thesis.tex", "my thesis");
    for force in [false, true] {
        let mut args = vec!["run", sc.to_str().unwrap(), "--out", "d", "--quiet"];
        if force {
            args.push("--force");
        }
        let o = run(t.path(), &args);
        assert_eq!(o.status.code(), Some(2), "force {force}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("--out d") && e.contains("thesis.tex") && e.contains("did not write"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(t.path().join("d/thesis.tex")).unwrap(),
            "my thesis"
        );
        assert_eq!(tree(&t.path().join("d")), ["thesis.tex"]);
    }
    assert_eq!(tree(t.path()), ["d", "s.toml"], "nothing else was created");
}

#[test]
fn a_regular_file_the_scenario_folder_and_the_current_folder_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "s.toml", SIM);
    write(t.path(), "notes.txt", "keep me");
    for out in ["notes.txt", ".", t.path().to_str().unwrap()] {
        for force in [false, true] {
            let mut args = vec!["run", "s.toml", "--out", out, "--quiet"];
            if force {
                args.push("--force");
            }
            let o = run(t.path(), &args);
            assert_eq!(o.status.code(), Some(2), "--out {out} (force {force}): {}", stderr(&o));
        }
    }
    assert_eq!(std::fs::read_to_string(t.path().join("notes.txt")).unwrap(), "keep me");
    assert_eq!(std::fs::read_to_string(&sc).unwrap(), SIM, "the scenario survived");
    assert_eq!(tree(t.path()), ["notes.txt", "s.toml"]);
}

#[test]
fn root_and_home_are_never_replaced() {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "s.toml", SIM);
    let home = t.path().join("home");
    std::fs::create_dir(&home).unwrap();
    for (out, why) in [("/", "root folder"), (home.to_str().unwrap(), "home folder")] {
        for force in [false, true] {
            let mut args = vec!["run", sc.to_str().unwrap(), "--out", out, "--quiet"];
            if force {
                args.push("--force");
            }
            let o = Command::new(env!("CARGO_BIN_EXE_lieflow"))
                .current_dir(t.path())
                .env("HOME", &home)
                .args(&args)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(2), "--out {out}: {}", stderr(&o));
            assert!(stderr(&o).contains(why), "{}", stderr(&o));
        }
    }
    assert!(tree(&home).is_empty());
}

#[test]
fn lieflow_run_folders_are_replaced_and_only_they() {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "s.toml", SIM);
    let s = sc.to_str().unwrap();
    assert!(run(t.path(), &["run", s, "--out", "r", "--quiet"]).status.success());
    assert!(
        t.path().join("r/.lieflow-run.json").is_file(),
        "a run folder carries its marker"
    );
    // Re-running replaces it without --force.
    let o = run(t.path(), &["run", s, "--out", "r", "--quiet", "--seed", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&t.path().join("r/manifest.json"))["seed"], 3);
    // A file of the user's inside it: refused, with or without --force.
    write(&t.path().join("r"), "my-notes.md", "mine");
    for force in [false, true] {
        let mut args = vec!["run", s, "--out", "r", "--quiet"];
        if force {
            args.push("--force");
        }
        let o = run(t.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("my-notes.md"), "{}", stderr(&o));
    }
    assert!(t.path().join("r/my-notes.md").exists());
    // A run folder of an older lieflow (manifest, no marker): only with --force.
    std::fs::create_dir(t.path().join("old")).unwrap();
    write(
        &t.path().join("old"),
        "manifest.json",
        "{\"lieflow_version\": \"0.0.1\"}",
    );
    assert_eq!(
        run(t.path(), &["run", s, "--out", "old", "--quiet"]).status.code(),
        Some(2)
    );
    assert!(run(t.path(), &["run", s, "--out", "old", "--quiet", "--force"])
        .status
        .success());
    assert!(t.path().join("old/.lieflow-run.json").is_file());
}

#[test]
fn a_scenario_name_that_is_not_a_plain_file_name_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    std::fs::create_dir_all(work.join("x")).unwrap();
    write(&work.join("x"), "precious.txt", "keep");
    let abs = t.path().join("abs");
    std::fs::create_dir(&abs).unwrap();
    write(&abs, "precious.txt", "keep");
    for name in ["../x", "x/..", "..", ".", "", abs.to_str().unwrap(), "a b", "out/sub"] {
        let text = SIM.replace("name = \"sim\"", &format!("name = \"{name}\""));
        let sc = write(&work, "n.toml", &text);
        let o = run(&work, &["run", sc.to_str().unwrap(), "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "name {name:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("field `name`") && e.contains("line 1"), "{e}");
        assert_eq!(o.status.code(), Some(2));
        let v = run(&work, &["validate", sc.to_str().unwrap()]);
        assert_eq!(v.status.code(), Some(2), "validate checks the name too");
    }
    assert_eq!(tree(&work.join("x")), ["precious.txt"]);
    assert_eq!(tree(&abs), ["precious.txt"]);
    assert!(!work.join("output").exists());
}

/// A small training run, and the same one diverging (Adam with lr = 1e6).
const TRAIN: &str = "name = \"tr\"\nstudy = \"train\"\nseed = 7\n[model]\nfamily = \"node\"\ndim = 2\n[time]\n\
                     horizon = 3.0\nintervals = 6\n[controls]\nsource = \"random\"\nscale = 0.5\n[data]\n\
                     kind = \"annuli\"\nn = 40\n[objective]\nloss = \"squared\"\n[objective.regularizer]\n\
                     kind = \"l2\"\nlambda = 1e-4\n[train]\nmax_iters = 30\nlr = 0.05\n[train.optimizer]\n\
                     method = \"adam\"\n";

#[test]
fn a_failed_run_never_replaces_a_good_result() {
    let t = tempfile::tempdir().unwrap();
    let good = write(t.path(), "good.toml", TRAIN);
    let bad = write(t.path(), "bad.toml", &TRAIN.replace("lr = 0.05", "lr = 1e6"));
    let o = run(t.path(), &["run", good.to_str().unwrap(), "--out", "res", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = std::fs::read(t.path().join("res/summary.json")).unwrap();
    let o = run(t.path(), &["run", bad.to_str().unwrap(), "--out", "res", "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("res.failed"), "{}", stderr(&o));
    // The good result is untouched; the failure sits beside it, marked as lieflow's.
    assert_eq!(std::fs::read(t.path().join("res/summary.json")).unwrap(), summary);
    assert!(!t.path().join("res/error.json").exists());
    let failed = t.path().join("res.failed");
    for f in ["history.csv", "error.json", "summary.json", ".lieflow-run.json"] {
        assert!(failed.join(f).is_file(), "{f} missing in res.failed");
    }
    assert_eq!(json(&failed.join(".lieflow-run.json"))["status"], "failed");
    assert_eq!(json(&failed.join("error.json"))["kind"], "diverged");
    // Failing again replaces the failure, not the result.
    assert_eq!(
        run(t.path(), &["run", bad.to_str().unwrap(), "--out", "res", "--quiet"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(std::fs::read(t.path().join("res/summary.json")).unwrap(), summary);
    // A success replaces the result and clears the stale failure.
    assert!(
        run(t.path(), &["run", good.to_str().unwrap(), "--out", "res", "--quiet"])
            .status
            .success()
    );
    assert!(!failed.exists());
    // With no result there, a failure goes into the folder itself (and a later success replaces it).
    assert_eq!(
        run(t.path(), &["run", bad.to_str().unwrap(), "--out", "fresh", "--quiet"])
            .status
            .code(),
        Some(1)
    );
    assert!(t.path().join("fresh/error.json").is_file() && !t.path().join("fresh.failed").exists());
    assert!(
        run(t.path(), &["run", good.to_str().unwrap(), "--out", "fresh", "--quiet"])
            .status
            .success()
    );
    assert!(!t.path().join("fresh/error.json").exists());
    let left: Vec<String> = tree(t.path())
        .into_iter()
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn unwritable_targets_are_bad_input_naming_the_given_path() {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "s.toml", SIM);
    write(t.path(), "f", "a file");
    for (out, want) in [("/proc/1/x", "/proc/1/x"), ("f/x", "f is a file")] {
        let o = run(t.path(), &["run", sc.to_str().unwrap(), "--out", out, "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "--out {out}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(&format!("--out {out}")) && e.contains(want), "{e}");
        assert!(!e.contains(".tmp-"), "names the internal temporary path: {e}");
    }
}

/// A simulation that runs for seconds (N = 200 000 points, K = 3000 RK4 steps, only the final state saved).
const SLOW: &str = "name = \"slow\"\nstudy = \"simulate\"\n[model]\nfamily = \"affine\"\ndim = 2\n\
                    [[model.fields]]\nkind = \"linear\"\na = [[0.0, 1.0], [-1.0, 0.0]]\n[time]\nhorizon = 1.0\n\
                    intervals = 3000\n[solver]\nsave = \"final\"\n[controls]\nsource = \"constant\"\nvalue = [1.0]\n\
                    [data]\nkind = \"moons\"\nn = 200000\n";

fn interrupted_run_leaves_nothing(signal: &str, code: i32) {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "slow.toml", SLOW);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lieflow"))
        .current_dir(t.path())
        .args(["run", sc.to_str().unwrap(), "--out", "o", "--quiet"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !tree(t.path()).iter().any(|n| n.starts_with(".o.tmp-")) {
        assert!(t0.elapsed() < Duration::from_secs(20), "no temporary folder appeared");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be interrupted"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert!(Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("removed the temporary output"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(t.path()), ["slow.toml"], "temporary folder left behind");
}

#[test]
fn sigterm_removes_the_temporary_folder() {
    interrupted_run_leaves_nothing("-TERM", 143);
}

#[test]
fn sigint_removes_the_temporary_folder() {
    interrupted_run_leaves_nothing("-INT", 130);
}

#[test]
fn a_killed_runs_leftover_is_cleaned_by_the_next_run() {
    let t = tempfile::tempdir().unwrap();
    let sc = write(t.path(), "s.toml", SIM);
    // What SIGKILL leaves: a marked temporary folder of a process that is gone.
    let mut c = Command::new("true").spawn().unwrap();
    let dead = c.id();
    c.wait().unwrap();
    let stale = t.path().join(format!(".o.tmp-{dead}-12345"));
    std::fs::create_dir(&stale).unwrap();
    write(&stale, ".lieflow-run.json", "{\"lieflow\": \"lieflow run folder\", \"version\": \"0.1.0\", \"status\": \"running\", \"scenario_name\": \"sim\", \"files\": []}");
    write(&stale, "trajectories.csv", "point\n");
    let o = run(t.path(), &["run", sc.to_str().unwrap(), "--out", "o"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("removed") && stderr(&o).contains(&format!("pid {dead}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(t.path()), ["o", "s.toml"]);
    // One that is not lieflow's (no marker, not empty) is only reported.
    let foreign = t.path().join(format!(".o.tmp-{dead}-999"));
    std::fs::create_dir(&foreign).unwrap();
    write(&foreign, "mine.txt", "x");
    let o = run(t.path(), &["run", sc.to_str().unwrap(), "--out", "o"]);
    assert!(o.status.success());
    assert!(foreign.join("mine.txt").exists());
}
