//! `manifest.json`: what was run, with which inputs and settings, and how long it took.
//!
//! Only `timings_s`, `wall_time_s`, `started_unix` and `command` depend on the particular run; the
//! CSV tables never contain timings, so they are byte-identical across runs with the same inputs.
//!
//! Provenance: the build (git commit of the checkout when built from one, else "unknown"; rustc version; target
//! triple; profile — recorded by `build.rs`), the SIMD kernel chosen at run time, the SHA-256 of the scenario and
//! of every data file it names, and the SHA-256 of every output file written before the manifest.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// How this lieflow was built (from `build.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    /// `git rev-parse HEAD` of the checkout it was built from, or "unknown".
    pub git_commit: String,
    /// "true" when tracked files differed from the commit at build time, "false", or "unknown".
    pub git_dirty: String,
    /// `rustc --version`.
    pub rustc: String,
    /// Target triple.
    pub target: String,
    /// Cargo profile (`release`, `debug`).
    pub profile: String,
}

impl Build {
    /// The values recorded at build time.
    pub fn current() -> Self {
        Build {
            git_commit: env!("LIEFLOW_GIT_COMMIT").to_string(),
            git_dirty: env!("LIEFLOW_GIT_DIRTY").to_string(),
            rustc: env!("LIEFLOW_RUSTC").to_string(),
            target: env!("LIEFLOW_TARGET").to_string(),
            profile: env!("LIEFLOW_PROFILE").to_string(),
        }
    }
}

impl Default for Build {
    fn default() -> Self {
        Build::current()
    }
}

/// An input file and its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// Path as the scenario names it (the scenario file: as given on the command line).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The scenario file and every file it names: each string value of the scenario (at any depth) that is the path
/// of an existing file relative to the scenario's folder (data inputs and targets, controls, running targets).
pub fn input_files(scenario_path: &Path, scenario_text: &str) -> Vec<InputFile> {
    fn strings(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::String(s) => out.push(s.clone()),
            toml::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            toml::Value::Table(t) => t.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut files = Vec::new();
    let mut add = |shown: String, path: &Path| {
        if let Ok(bytes) = std::fs::read(path) {
            if !files.iter().any(|f: &InputFile| f.path == shown) {
                files.push(InputFile {
                    path: shown,
                    bytes: bytes.len() as u64,
                    sha256: sha256_hex(&bytes),
                });
            }
        }
    };
    add(scenario_path.display().to_string(), scenario_path);
    let base = scenario_path.parent().unwrap_or(Path::new(""));
    let mut names = Vec::new();
    if let Ok(v) = scenario_text.parse::<toml::Value>() {
        strings(&v, &mut names);
    }
    for n in names {
        let p = base.join(&n);
        if !n.is_empty() && p.is_file() {
            add(n, &p);
        }
    }
    files
}

/// The record written to `manifest.json` in every run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `CARGO_PKG_VERSION` of the lieflow that produced the run.
    pub lieflow_version: String,
    /// The scenario file as given on the command line.
    pub scenario_path: String,
    /// The scenario's `name`.
    pub scenario_name: String,
    /// The full scenario text, so a run folder is self-describing.
    pub scenario_text: String,
    /// The study kind.
    pub study: String,
    pub seed: u64,
    pub threads: usize,
    /// Scheme, step counts, tolerances: whatever the study reports about its solver.
    pub solver: serde_json::Value,
    /// Named phase durations in seconds (e.g. `train`, `evaluate`, `write`).
    pub timings_s: BTreeMap<String, f64>,
    pub wall_time_s: f64,
    /// Start time, seconds since the Unix epoch.
    pub started_unix: u64,
    /// The command line (`std::env::args`).
    pub command: Vec<String>,
    /// Study-specific facts: stop reason, evaluation counts, fitted rates, ...
    pub extra: serde_json::Value,
    /// How this lieflow was built.
    #[serde(default)]
    pub build: Build,
    /// The SIMD kernel the CPU selected at run time for the blocked nODE engine (`avx512`, `avx2+fma`,
    /// `baseline`).
    #[serde(default)]
    pub simd_kernel: String,
    /// Figure preset and formats.
    #[serde(default)]
    pub figures: crate::output::plot::FigureOptions,
    /// The scenario file and the data files it names, with SHA-256.
    #[serde(default)]
    pub inputs: Vec<InputFile>,
    /// SHA-256 of every other file of the run folder (file name → hex digest).
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
}

impl Manifest {
    /// A manifest with the version, start time and command line filled in, and empty solver,
    /// timings and extra sections.
    pub fn new(
        scenario_path: impl Into<String>,
        scenario_name: impl Into<String>,
        scenario_text: impl Into<String>,
        study: impl Into<String>,
    ) -> Self {
        Manifest {
            lieflow_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_path: scenario_path.into(),
            scenario_name: scenario_name.into(),
            scenario_text: scenario_text.into(),
            study: study.into(),
            seed: 0,
            threads: 1,
            solver: serde_json::Value::Null,
            timings_s: BTreeMap::new(),
            wall_time_s: 0.0,
            started_unix: unix_now(),
            command: std::env::args().collect(),
            extra: serde_json::Value::Null,
            build: Build::current(),
            simd_kernel: crate::simd::active_isa().name().to_string(),
            figures: Default::default(),
            inputs: Vec::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// Record (or add to) the duration of phase `name`.
    pub fn add_timing(&mut self, name: &str, seconds: f64) {
        *self.timings_s.entry(name.to_string()).or_insert(0.0) += seconds;
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_serializes_all_fields_and_round_trips() {
        let mut m = Manifest::new("s.toml", "demo", "name = \"demo\"\n", "convergence");
        m.seed = 7;
        m.solver = serde_json::json!({"scheme": "rk4", "steps": 64});
        m.add_timing("train", 1.5);
        m.add_timing("train", 0.5);
        let v = serde_json::to_value(&m).unwrap();
        for key in [
            "lieflow_version",
            "scenario_path",
            "scenario_name",
            "scenario_text",
            "study",
            "seed",
            "threads",
            "solver",
            "timings_s",
            "wall_time_s",
            "started_unix",
            "command",
            "extra",
            "build",
            "simd_kernel",
            "figures",
            "inputs",
            "outputs",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["lieflow_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["timings_s"]["train"], 2.0);
        assert!(!v["build"]["git_commit"].as_str().unwrap().is_empty());
        assert!(v["build"]["rustc"].as_str().unwrap().starts_with("rustc"));
        let back: Manifest = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn sha256_of_known_strings() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn input_files_are_the_scenario_and_the_files_it_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/x.csv"), "1,2\n").unwrap();
        let text = "study = \"simulate\"\n[data]\nkind = \"csv\"\ninputs = \"data/x.csv\"\n";
        let sc = dir.path().join("s.toml");
        std::fs::write(&sc, text).unwrap();
        let files = input_files(&sc, text);
        assert_eq!(files.len(), 2, "{files:?}");
        assert_eq!(files[1].path, "data/x.csv");
        assert_eq!(files[1].sha256, sha256_hex(b"1,2\n"));
        assert_eq!(files[1].bytes, 4);
    }
}
