//! `manifest.json`: what was run, with which inputs and settings, and how long it took.
//!
//! Only `timings_s`, `wall_time_s`, `started_unix` and `command` depend on the particular run; the
//! CSV tables never contain timings, so they are byte-identical across runs with the same inputs.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

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
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["lieflow_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["timings_s"]["train"], 2.0);
        let back: Manifest = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }
}
