//! The module tree has no arrow back up (ARCHITECTURE data flow): the scenario layer parses and validates files
//! and builds problems; it never reaches into studies (which own their settings tables) or into the gradient
//! engine (which it must not pick).

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines of `src/<module>` that name `crate::<forbidden>` (comments excluded).
fn imports(module: &str, forbidden: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(module),
        &mut files,
    );
    let mut hits = Vec::new();
    for f in files {
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for m in forbidden {
                if code.contains(&format!("crate::{m}")) || code.contains(&format!("super::super::{m}")) {
                    hits.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    hits
}

#[test]
fn the_scenario_layer_imports_neither_studies_nor_the_adjoint() {
    let hits = imports("scenario", &["study", "adjoint"]);
    assert!(
        hits.is_empty(),
        "src/scenario reaches up the tree:\n{}",
        hits.join("\n")
    );
}

#[test]
fn numerics_do_no_output() {
    for module in [
        "field",
        "integrate",
        "adjoint",
        "control",
        "objective",
        "lie",
        "analysis",
    ] {
        let hits = imports(module, &["output", "study", "cli", "scenario"]);
        assert!(
            hits.is_empty(),
            "src/{module} reaches up the tree:\n{}",
            hits.join("\n")
        );
    }
}
