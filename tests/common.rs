//! Shared helpers for the CLI tests: run the real binary in a temporary folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lieflow::lie::poly::{Fp, PolyField, Rational};
use lieflow::lie::span::{fp_rank, Echelon, MonomialIndex};

/// Path of a bundled scenario.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Run `lieflow ARGS` with `cwd` as working directory.
pub fn lieflow(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lieflow"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("lieflow runs")
}

/// `lieflow run SCENARIO --out DIR/OUT_NAME --quiet EXTRA…` with `dir` as working directory: the process output
/// and the output folder.
pub fn run_study(dir: &Path, scenario: &Path, out_name: &str, extra: &[&str]) -> (Output, PathBuf) {
    let out = dir.join(out_name);
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    (lieflow(dir, &args), out)
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Read a JSON file.
pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Independent filtration L_{≤k} = L_{≤k−1} + Σ_{i+j=k} [B_i, B_j] (all pairs, not only generators on the
/// left), evaluated naively mod p at the points: exact rank per depth.
pub fn pairwise_filtration_ranks(fields: &[PolyField<Rational>], pts: &[Vec<f64>], max_depth: usize) -> Vec<usize> {
    let fp: Vec<PolyField<Fp>> = fields.iter().map(|f| f.to_fp().unwrap()).collect();
    let xs: Vec<Vec<Fp>> = pts
        .iter()
        .map(|p| p.iter().map(|&x| Fp::from_f64(x).unwrap()).collect())
        .collect();
    let mut idx = MonomialIndex::new();
    let mut ech = Echelon::new();
    let mut by_depth: Vec<Vec<PolyField<Fp>>> = vec![Vec::new()];
    let mut all: Vec<PolyField<Fp>> = Vec::new();
    let mut ranks = Vec::new();
    for k in 1..=max_depth {
        let cands: Vec<PolyField<Fp>> = if k == 1 {
            fp.clone()
        } else {
            let mut c = Vec::new();
            for i in 1..k {
                for a in &by_depth[i] {
                    for b in &by_depth[k - i] {
                        c.push(a.bracket(b));
                    }
                }
            }
            c
        };
        let mut new = Vec::new();
        for c in cands {
            if ech.insert(idx.coords(&c)) {
                new.push(c);
            }
        }
        all.extend(new.iter().cloned());
        by_depth.push(new);
        let cols: Vec<Vec<Fp>> = all
            .iter()
            .map(|f| xs.iter().flat_map(|x| f.eval_with(x)).collect())
            .collect();
        ranks.push(fp_rank(&cols));
    }
    ranks
}
