//! Sweeps through the real binary: expansion and plan, shard + merge byte-equal to the unsharded run (and across
//! thread counts), resume after a kill, merge refusing incomplete and mixed sets, located errors, statistics, and
//! the SLURM scripts (the scheduler itself: tests/slurm.rs).

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A small seed × N genericity sweep (9 units, SVG figures only).
const SWEEP: &str = "name = \"sw\"\nstudy = \"genericity\"\nseed = 5\n[output]\nformats = [\"svg\"]\n\
[genericity]\nfamily = \"polynomial\"\nfields = 5\ndegree = 2\ndim = 2\npoints = 3\ndraws = 6\nmax_depth = 5\n\
[sweep]\n[sweep.axes]\nseed = [1, 2, 3]\n\"genericity.points\" = [2, 3, 4]\n\
[[sweep.plot]]\nvalue = \"mean_depth\"\nx = \"genericity.points\"\nlog = true\n";

/// A small seed × T training sweep: plain units (one whole training run each).
const TRAIN: &str = "name = \"tr\"\nstudy = \"train\"\nseed = 7\n[output]\nformats = [\"svg\"]\n\
[model]\nfamily = \"node\"\ndim = 2\n[time]\nhorizon = 1.0\nintervals = 4\n[solver]\nscheme = \"rk4\"\n\
[controls]\nsource = \"random\"\nscale = 0.5\n[data]\nkind = \"annuli\"\nn = 40\n[objective]\nloss = \"squared\"\n\
[train]\nmax_iters = 8\nlr = 0.05\n[train.optimizer]\nmethod = \"adam\"\n\
[sweep]\n[sweep.axes]\nseed = [1, 2, 3]\n\"time.horizon\" = [0.5, 1.0]\n\
[[sweep.plot]]\nvalue = \"final_loss\"\nx = \"time.horizon\"\nlog = true\n";

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), stderr(o));
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Every file under `dir` (relative path → bytes) except manifests and run-folder markers.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if name != "manifest.json" && name != ".lieflow-run.json" {
                    out.insert(p.strip_prefix(base).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_aggregate(a: &Path, b: &Path) {
    let (fa, fb) = (files(&a.join("aggregate")), files(&b.join("aggregate")));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "different file sets"
    );
    for (k, v) in &fa {
        assert!(
            v == &fb[k],
            "{} differs between {} and {}",
            k.display(),
            a.display(),
            b.display()
        );
    }
    assert!(fa.contains_key(Path::new("sweep.csv")) && fa.contains_key(Path::new("summary.json")));
}

fn plan_json(dir: &Path, scenario: &Path, tasks: usize) -> serde_json::Value {
    let o = lieflow(
        dir,
        &[
            "plan",
            scenario.to_str().unwrap(),
            "--tasks",
            &tasks.to_string(),
            "--json",
        ],
    );
    ok(&o);
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ids_of_shard(plan: &serde_json::Value, shard: u64) -> Vec<String> {
    plan["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["shard"] == shard)
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

fn run(dir: &Path, s: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    lieflow(dir, &args)
}

#[test]
fn plan_lists_units_with_stable_ids_and_shards() {
    let t = tempfile::tempdir().unwrap();
    let s = write(t.path(), "sw.toml", SWEEP);
    let p = plan_json(t.path(), &s, 3);
    let units = p["units"].as_array().unwrap();
    assert_eq!(units.len(), 9);
    assert_eq!(p["points"], 9);
    // genericity declares its units (blocks of draws): one block of the 6 draws per point.
    assert_eq!(units[0]["label"], "seed=1 genericity.points=2 / draws 0-5");
    assert_eq!(units[8]["label"], "seed=3 genericity.points=4 / draws 0-5");
    assert_eq!(ids_of_shard(&p, 1).len(), 3);
    // Ids depend on the values only: a reformatted file with another plot and other comments gives the same ids.
    let other = SWEEP
        .replace("seed = [1, 2, 3]", "seed = [ 1, 2, 3 ] # three seeds")
        .replace("log = true", "log = false");
    let s2 = write(t.path(), "sw2.toml", &other);
    let p2 = plan_json(t.path(), &s2, 3);
    let ids = |p: &serde_json::Value| -> Vec<String> {
        p["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&p), ids(&p2));
    let text = lieflow(t.path(), &["plan", s.to_str().unwrap(), "--tasks", "3"]);
    ok(&text);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("9 units"), "{out}");
    assert!(out.contains("seed (3) × genericity.points (3)"), "{out}");
    assert!(out.contains("shard 2/3: 3 units"), "{out}");
    // Zip pairs the axes.
    let z = write(
        t.path(),
        "z.toml",
        &SWEEP.replace("[sweep]\n", "[sweep]\ncombine = \"zip\"\n"),
    );
    let pz = plan_json(t.path(), &z, 1);
    assert_eq!(pz["units"].as_array().unwrap().len(), 3);
    assert_eq!(pz["units"][2]["label"], "seed=3 genericity.points=4 / draws 0-5");
}

#[test]
fn three_shards_merged_equal_the_unsharded_run_for_any_thread_count() {
    let t = tempfile::tempdir().unwrap();
    let s = write(t.path(), "sw.toml", SWEEP);
    let whole = t.path().join("whole");
    ok(&run(t.path(), &s, &whole, &["--threads", "1", "--quiet"]));
    let mut shards = Vec::new();
    for i in 0..3 {
        let d = t.path().join(format!("shard{i}"));
        ok(&run(
            t.path(),
            &s,
            &d,
            &["--shard", &format!("{i}/3"), "--threads", "2", "--quiet"],
        ));
        assert!(!d.join("aggregate").exists(), "a shard does not aggregate");
        shards.push(d);
    }
    let merged = t.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| d.to_str().unwrap()));
    args.extend(["--out", merged.to_str().unwrap(), "--quiet"]);
    ok(&lieflow(t.path(), &args));
    assert_same_aggregate(&whole, &merged);
    // Every unit is in the merged folder, and the unsharded run's with two threads is the same again.
    assert_eq!(std::fs::read_dir(merged.join("units")).unwrap().count(), 9);
    let whole2 = t.path().join("whole2");
    ok(&run(t.path(), &s, &whole2, &["--threads", "2", "--quiet"]));
    assert_same_aggregate(&whole, &whole2);

    // The aggregate: mean and interval columns over seeds, the fit in summary.json, the figure.
    let agg = whole.join("aggregate");
    let stats = std::fs::read_to_string(agg.join("stats.csv")).unwrap();
    let header = stats.lines().next().unwrap();
    assert_eq!(header, "genericity.points,value,n,mean,std,ci95_low,ci95_high");
    let sweep = std::fs::read_to_string(agg.join("sweep.csv")).unwrap();
    assert!(sweep
        .lines()
        .next()
        .unwrap()
        .starts_with("point,seed,genericity.points,"));
    assert_eq!(sweep.lines().count(), 10);
    let summary = json(&agg.join("summary.json"));
    let fit = &summary["fits"][0];
    assert_eq!(fit["value"], "mean_depth");
    assert!(
        fit["slope"].is_number() && fit["ci95"][0].is_number() && fit["ci95"][1].is_number(),
        "{fit}"
    );
    assert_eq!(fit["n"], 9);
    assert!(agg.join("sweep-mean_depth-vs-genericity-points.svg").is_file());
    let m = json(&agg.join("manifest.json"));
    assert!(m["extra"]["host"].is_string(), "hosts live in the manifest");
    assert!(!String::from_utf8_lossy(&std::fs::read(agg.join("summary.json")).unwrap()).contains("started"));

    // The statistics against values computed here from sweep.csv.
    let col = |line: &str, name: &str, header: &str| -> String {
        let i = header.split(',').position(|c| c == name).unwrap();
        line.split(',').nth(i).unwrap().to_string()
    };
    let sh = sweep.lines().next().unwrap();
    let depths: Vec<f64> = sweep
        .lines()
        .skip(1)
        .filter(|l| col(l, "genericity.points", sh) == "3")
        .map(|l| col(l, "mean_depth", sh).parse().unwrap())
        .collect();
    assert_eq!(depths.len(), 3);
    let mean = depths.iter().sum::<f64>() / 3.0;
    let sd = (depths.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = 4.302652729911275 * sd / 3f64.sqrt(); // t(0.975, 2)
    let row = stats.lines().find(|l| l.starts_with("3,mean_depth,")).unwrap();
    let v: Vec<f64> = row.split(',').skip(2).map(|x| x.parse().unwrap()).collect();
    assert_eq!(v[0], 3.0);
    assert!((v[1] - mean).abs() < 1e-12 && (v[2] - sd).abs() < 1e-12, "{row}");
    assert!(
        (v[3] - (mean - half)).abs() < 1e-9 && (v[4] - (mean + half)).abs() < 1e-9,
        "{row}"
    );
}

#[test]
fn a_killed_shard_resumes_skipping_finished_units_and_merges_equal() {
    let t = tempfile::tempdir().unwrap();
    let s = write(t.path(), "sw.toml", SWEEP);
    let whole = t.path().join("whole");
    ok(&run(t.path(), &s, &whole, &["--quiet"]));
    let d = t.path().join("d");
    ok(&run(t.path(), &s, &d, &["--shard", "0/1"]));
    // Simulate a kill in the middle of unit 4: its folder is gone, a temporary folder of a dead process is left.
    let plan = plan_json(t.path(), &s, 1);
    let victim = plan["units"][4]["id"].as_str().unwrap().to_string();
    let units = d.join("units");
    std::fs::remove_dir_all(units.join(&victim)).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let tmp = units.join(format!(".{victim}.tmp-{dead}-1"));
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(
        tmp.join(".lieflow-run.json"),
        r#"{"lieflow":"lieflow run folder","version":"0.1.0","status":"running","scenario_name":"sw","files":[]}"#,
    )
    .unwrap();
    std::fs::write(tmp.join("unit.json"), "{\"id\":").unwrap();
    // Merging now refuses, naming the missing unit.
    let m = lieflow(t.path(), &["merge", d.to_str().unwrap(), "--out", d.to_str().unwrap()]);
    assert_eq!(code(&m), 2, "{}", stderr(&m));
    assert!(stderr(&m).contains(&victim), "{}", stderr(&m));
    // The rerun runs only that unit and removes the leftover.
    let again = run(t.path(), &s, &d, &["--shard", "0/1"]);
    ok(&again);
    let e = stderr(&again);
    assert!(e.contains("1 run, 8 already complete (skipped)"), "{e}");
    assert!(!tmp.exists(), "the leftover of the killed run is removed");
    ok(&lieflow(
        t.path(),
        &["merge", d.to_str().unwrap(), "--out", d.to_str().unwrap(), "--quiet"],
    ));
    assert_same_aggregate(&whole, &d);
}

#[test]
fn merge_refuses_missing_units_and_mixed_scenarios_naming_them() {
    let t = tempfile::tempdir().unwrap();
    let s = write(t.path(), "sw.toml", SWEEP);
    let plan = plan_json(t.path(), &s, 3);
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    ok(&run(t.path(), &s, &a, &["--shard", "0/3", "--quiet"]));
    ok(&run(t.path(), &s, &b, &["--shard", "1/3", "--quiet"]));
    let out = t.path().join("out");
    let m = lieflow(
        t.path(),
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&m), 2, "{}", stderr(&m));
    let e = stderr(&m);
    assert!(e.contains("3 of 9 units are not complete"), "{e}");
    for id in ids_of_shard(&plan, 2) {
        assert!(e.contains(&id), "{id} not named: {e}");
    }
    assert!(!out.exists(), "a refused merge writes nothing");
    // A shard of another scenario (more draws) is a mixed set.
    let s2 = write(t.path(), "sw2.toml", &SWEEP.replace("draws = 6", "draws = 7"));
    let c = t.path().join("c");
    ok(&run(t.path(), &s2, &c, &["--shard", "2/3", "--quiet"]));
    let m = lieflow(
        t.path(),
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            c.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&m), 2, "{}", stderr(&m));
    assert!(stderr(&m).contains("mixed set"), "{}", stderr(&m));
    // A shard folder refuses another scenario's units.
    let r = run(t.path(), &s2, &a, &["--shard", "0/3", "--quiet"]);
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    assert!(stderr(&r).contains("another scenario"), "{}", stderr(&r));
}

#[test]
fn bad_sweep_paths_and_values_exit_2_at_the_sweep_line() {
    let t = tempfile::tempdir().unwrap();
    let line_of = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (from, to, needle) in [
        (
            "\"genericity.points\" = [2, 3, 4]",
            "\"genericity.pionts\" = [2, 3, 4]",
            "pionts",
        ),
        (
            "\"genericity.points\" = [2, 3, 4]",
            "\"genericty.points\" = [2, 3, 4]",
            "genericty",
        ),
        (
            "\"genericity.points\" = [2, 3, 4]",
            "\"genericity.points\" = [2, \"x\", 4]",
            "\"x\"",
        ),
        (
            "\"genericity.points\" = [2, 3, 4]",
            "\"genericity.points\" = [2, 0, 4]",
            "[2, 0, 4]",
        ),
        (
            "x = \"genericity.points\"",
            "x = \"genericity.dim\"",
            "[[sweep.plot]]", // figure settings are located at their [[sweep.plot]] entry
        ),
    ] {
        // The figure would be refused first (its `x` renamed away or not numeric): keep it only for its own case.
        let base = if needle != "[[sweep.plot]]" {
            SWEEP.split("[[sweep.plot]]").next().unwrap().to_string()
        } else {
            SWEEP.to_string()
        };
        let text = base.replace(from, to);
        let s = write(t.path(), "bad.toml", &text);
        let o = lieflow(t.path(), &["validate", s.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{to}: {}", stderr(&o));
        let want = format!("line {}:", line_of(&text, needle));
        assert!(stderr(&o).contains(&want), "{to}: expected {want} in {}", stderr(&o));
    }
    let s = write(t.path(), "good.toml", SWEEP);
    let o = lieflow(t.path(), &["validate", s.to_str().unwrap()]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("sweep of 9 points, 9 units"));
}

#[test]
fn slurm_writes_an_array_of_shards_and_a_merge_job_after_it() {
    let t = tempfile::tempdir().unwrap();
    let s = write(t.path(), "sw.toml", SWEEP);
    let d = t.path().join("sw");
    let o = lieflow(
        t.path(),
        &[
            "slurm",
            s.to_str().unwrap(),
            "--tasks",
            "3",
            "--out",
            d.to_str().unwrap(),
            "--time",
            "00:02:00",
            "--mem",
            "500M",
        ],
    );
    ok(&o);
    let array = std::fs::read_to_string(d.join("slurm/array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-2\n"), "{array}");
    assert!(
        array.contains("#SBATCH --time=00:02:00\n") && array.contains("#SBATCH --mem=500M\n"),
        "{array}"
    );
    assert!(array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/3\""), "{array}");
    let merge = std::fs::read_to_string(d.join("slurm/merge.sbatch")).unwrap();
    assert!(merge.contains(" merge ") && merge.contains("--out"), "{merge}");
    let submit = std::fs::read_to_string(d.join("slurm/submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:$array"), "{submit}");
    let bad = lieflow(
        t.path(),
        &["slurm", s.to_str().unwrap(), "--tasks", "3", "--mem", "1G\n#SBATCH x"],
    );
    assert_eq!(code(&bad), 2);
}

#[test]
fn a_training_sweep_in_two_shards_merges_equal_to_one_run() {
    let t = tempfile::tempdir().unwrap();
    let s = write(t.path(), "tr.toml", TRAIN);
    let whole = t.path().join("whole");
    ok(&run(t.path(), &s, &whole, &["--threads", "2", "--quiet"]));
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    ok(&run(t.path(), &s, &a, &["--shard", "0/2", "--threads", "1", "--quiet"]));
    ok(&run(t.path(), &s, &b, &["--shard", "1/2", "--threads", "1", "--quiet"]));
    let merged = t.path().join("m");
    ok(&lieflow(
        t.path(),
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
            "--quiet",
        ],
    ));
    assert_same_aggregate(&whole, &merged);
    // Each unit is a whole training run with its usual files; its scenario has the point's values written in.
    let plan = plan_json(t.path(), &s, 1);
    let id = plan["units"][1]["id"].as_str().unwrap();
    let unit = merged.join("units").join(id);
    for f in [
        "history.csv",
        "controls.csv",
        "summary.json",
        "unit.json",
        "manifest.json",
    ] {
        assert!(unit.join(f).is_file(), "{f} missing in {}", unit.display());
    }
    let m = json(&unit.join("manifest.json"));
    let text = m["scenario_text"].as_str().unwrap();
    assert!(
        text.contains("horizon = 1.0") && text.contains("seed = 1") && !text.contains("[sweep"),
        "{text}"
    );
    let stats = std::fs::read_to_string(whole.join("aggregate/stats.csv")).unwrap();
    assert!(stats.lines().any(|l| l.starts_with("0.5,final_loss,3,")), "{stats}");
}
