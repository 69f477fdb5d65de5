//! A real scheduler: a seed × N sweep submitted with `lieflow slurm --tasks 3 --submit` (a 3-task job array plus
//! a merge job after it) equals the unsharded run byte for byte.
//!
//! Opt-in: set LIEFLOW_SLURM=1 with a running SLURM (`scripts/slurm-local.sh start` starts a single-node one;
//! SLURM_CONF defaults to its configuration). Without it the test says it was skipped and passes.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SWEEP: &str = "name = \"slurm-sw\"\nstudy = \"genericity\"\nseed = 5\n[output]\nformats = [\"svg\"]\n\
[genericity]\nfamily = \"polynomial\"\nfields = 5\ndegree = 2\ndim = 2\npoints = 3\ndraws = 8\nmax_depth = 5\n\
[sweep]\n[sweep.axes]\nseed = [1, 2, 3]\n\"genericity.points\" = [2, 4, 8]\n\
[[sweep.plot]]\nvalue = \"mean_depth\"\nx = \"genericity.points\"\nlog = true\n\
[sweep.slurm]\ntime = \"00:10:00\"\ncpus_per_task = 1\n";

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name != "manifest.json" && name != ".lieflow-run.json" {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_three_task_slurm_array_and_merge_equal_the_unsharded_run() {
    if std::env::var("LIEFLOW_SLURM").ok().as_deref() != Some("1") {
        eprintln!("skipped: set LIEFLOW_SLURM=1 with a running SLURM (scripts/slurm-local.sh start) to run it");
        return;
    }
    if std::env::var_os("SLURM_CONF").is_none() {
        let dir = std::env::var("LIEFLOW_SLURM_DIR").unwrap_or_else(|_| "/tmp/lieflow-slurm".into());
        std::env::set_var("SLURM_CONF", Path::new(&dir).join("slurm.conf"));
    }
    // The scheduler's nodes must see the folder: a fresh one under the working directory's /tmp.
    let t = tempfile::Builder::new().prefix("lieflow-slurm-test").tempdir().unwrap();
    let s = write(t.path(), "sw.toml", SWEEP);
    let shared = t.path().join("shared");
    let o = lieflow(
        t.path(),
        &[
            "slurm",
            s.to_str().unwrap(),
            "--tasks",
            "3",
            "--out",
            shared.to_str().unwrap(),
            "--submit",
        ],
    );
    assert!(o.status.success(), "lieflow slurm --submit: {}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!("{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("submitted array job"))
        .expect("job ids printed");
    let words: Vec<&str> = line.split_whitespace().collect();
    let (array, merge) = (words[3].to_string(), words[9].to_string());
    assert!(array.parse::<u64>().is_ok() && merge.parse::<u64>().is_ok(), "{line}");
    assert!(line.contains(&format!("afterok:{array}")), "{line}");

    // Wait until both jobs have left the queue (at most 10 minutes), then for the aggregate.
    let start = Instant::now();
    loop {
        let q = std::process::Command::new("squeue")
            .args(["-h", "-o", "%i %T", "-j", &format!("{array},{merge}")])
            .output()
            .expect("squeue runs");
        let text = String::from_utf8_lossy(&q.stdout).into_owned();
        if text.trim().is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "jobs still queued after 10 min:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let agg = shared.join("aggregate");
    let logs = || {
        std::fs::read_dir(shared.join("slurm/logs"))
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        format!(
                            "{}:\n{}",
                            e.path().display(),
                            std::fs::read_to_string(e.path()).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    assert!(
        agg.join("summary.json").is_file(),
        "no aggregate; job logs:\n{}",
        logs()
    );
    // Three shard logs: every array task ran.
    for i in 0..3 {
        assert!(shared.join(format!("slurm/logs/shard-{i}.out")).is_file(), "{}", logs());
    }

    let whole = t.path().join("whole");
    let o = lieflow(
        t.path(),
        &["run", s.to_str().unwrap(), "--out", whole.to_str().unwrap(), "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (files(&agg), files(&whole.join("aggregate")));
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    for ((p, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{} differs between the SLURM run and the unsharded run",
            p.display()
        );
    }
    eprintln!(
        "SLURM array {array} (3 tasks) + merge {merge}: {} aggregated files byte-identical to the unsharded run",
        a.len()
    );
}
