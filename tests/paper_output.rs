//! Paper-ready output (issue 13): every figure as PDF + SVG + PNG at `--figures column`, no text below 7 pt at
//! 3.5 in, fonts embedded, the PDF renders with pdftoppm; one regression test per figure/table defect; comparisons
//! with source and verdict; manifest provenance.
//!
//! The fast scenarios run here; `LIEFLOW_ALL_SCENARIOS=1` (a step of `.ci/run`) runs every bundled scenario.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const FAST: [&str; 8] = [
    "convergence-orders.toml",
    "lie-cuchiero5.toml",
    "lie-order-1d.toml",
    "lie-random-features.toml",
    "simulate-annuli.toml",
    "interpolate.toml",
    "interpolate-order-obstruction.toml",
    "quickstart.toml",
];

fn run_column(tmp: &Path, name: &str) -> PathBuf {
    let (o, out) = run_study(
        tmp,
        &scenario(name),
        name.trim_end_matches(".toml"),
        &["--figures", "column"],
    );
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    out
}

/// (class, font size, text) of the SVG's text elements, and the factor from user units to pt.
fn svg_texts(svg: &str) -> (Vec<(String, f64, String)>, f64) {
    let attr = |t: &str, name: &str| -> String {
        let k = format!("{name}=\"");
        let i = t.find(&k).unwrap_or_else(|| panic!("no {name} in {t}")) + k.len();
        t[i..i + t[i..].find('"').unwrap()].to_string()
    };
    let head = &svg[..svg.find('>').unwrap()];
    let width: f64 = attr(head, "width").trim_end_matches("pt").parse().unwrap();
    let vb: f64 = attr(head, "viewBox").split(' ').nth(2).unwrap().parse().unwrap();
    let texts = svg
        .split("<text ")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            (
                attr(t, "class"),
                attr(t, "font-size").parse().unwrap(),
                body.to_string(),
            )
        })
        .collect();
    (texts, width / vb)
}

fn figure_stems(out: &Path) -> Vec<String> {
    let mut stems: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "svg").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    stems.sort();
    stems
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-v").output().is_ok()
}

/// The print checks on one run folder: PDF + SVG + PNG per figure, 3.5 in wide, no text below 7 pt, the font
/// embedded in the PDF, and the PDF rendering with pdftoppm (skipped with a note when poppler is absent).
fn check_print_figures(out: &Path) {
    let stems = figure_stems(out);
    assert!(!stems.is_empty(), "{}: no figures", out.display());
    for stem in &stems {
        for ext in ["pdf", "svg", "png"] {
            let p = out.join(format!("{stem}.{ext}"));
            assert!(
                p.metadata().map(|m| m.len() > 100).unwrap_or(false),
                "missing {}",
                p.display()
            );
        }
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("width=\"252.00pt\""),
            "{stem}: not 3.5 in wide"
        );
        let (texts, scale) = svg_texts(&svg);
        for (class, size, s) in &texts {
            let pt = size * scale;
            assert!(pt >= 7.0, "{stem}: `{s}` ({class}) is {pt:.2} pt < 7 pt at 3.5 in");
        }
        let pdf = std::fs::read(out.join(format!("{stem}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(
            pdf.windows(10).any(|w| w == b"/FontFile2"),
            "{stem}.pdf: font not embedded"
        );
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert_eq!(
            u32::from_be_bytes(png[16..20].try_into().unwrap()),
            1050,
            "{stem}.png: not 300 dpi"
        );
        if have("pdftoppm") {
            let prefix = out.join(format!(".{stem}-render"));
            let o = Command::new("pdftoppm")
                .args(["-r", "72", "-png", "-singlefile"])
                .arg(out.join(format!("{stem}.pdf")))
                .arg(&prefix)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{stem}.pdf does not render: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            // pdftoppm appends ".png" to the prefix (the stem itself may hold a dot: young-fbm-H0.6).
            let rendered = std::path::PathBuf::from(format!("{}.png", prefix.display()));
            assert!(rendered.metadata().unwrap().len() > 500, "{stem}.pdf rendered empty");
            std::fs::remove_file(rendered).unwrap();
        } else {
            eprintln!("pdftoppm not found (Debian: apt-get install poppler-utils): PDF rendering not checked");
        }
        if have("pdffonts") {
            let o = Command::new("pdffonts")
                .arg(out.join(format!("{stem}.pdf")))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            for line in text.lines().skip(2) {
                let cols: Vec<&str> = line.split_whitespace().collect();
                // name type encoding emb sub uni object ID: "emb" is the 5th column from the right.
                assert_eq!(cols[cols.len() - 5], "yes", "{stem}.pdf: font not embedded: {line}");
            }
        }
    }
}

#[test]
fn bundled_scenarios_write_pdf_svg_and_png_at_column_width() {
    let all = std::env::var("LIEFLOW_ALL_SCENARIOS").is_ok_and(|v| v == "1");
    let names: Vec<String> = if all {
        let mut v: Vec<String> = std::fs::read_dir(scenario(""))
            .unwrap()
            .filter_map(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                // The full depth-limit tables (L up to 2^15, 50–65 min on 2 cores) are run by hand, not in CI; the
                // small table is (its own step of .ci/run, and here).
                (n.ends_with(".toml") && n != "depth-limit-c10k.toml").then_some(n)
            })
            .collect();
        v.sort();
        v
    } else {
        eprintln!("fast scenarios only; LIEFLOW_ALL_SCENARIOS=1 runs every bundled scenario");
        FAST.iter().map(|s| s.to_string()).collect()
    };
    let tmp = tempfile::tempdir().unwrap();
    for name in &names {
        let out = run_column(tmp.path(), name);
        // A sweep scenario writes its unit folders and, in aggregate/, the sweep's own figures and manifest.
        let out = if out.join("aggregate").is_dir() {
            out.join("aggregate")
        } else {
            out
        };
        check_print_figures(&out);
        let m = json(&out.join("manifest.json"));
        assert_eq!(m["figures"]["preset"], "column", "{name}");
        if name == "neural-ode-fit.toml" {
            let s = json(&out.join("summary.json"));
            assert_eq!(s["seed_spread"]["seeds"].as_array().unwrap().len(), 3, "{s}");
            assert_comparisons(&s, name);
        }
    }
}

fn assert_comparisons(s: &Value, name: &str) {
    let cs = s["comparisons"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no comparisons: {s}"));
    assert!(!cs.is_empty(), "{name}");
    for c in cs {
        for k in [
            "quantity",
            "expected",
            "source",
            "measured",
            "tolerance",
            "rule",
            "verdict",
        ] {
            assert!(c.get(k).is_some(), "{name}: comparison without {k}: {c}");
        }
        assert!(c["source"].as_str().unwrap().len() > 8, "{name}: {c}");
        assert_eq!(c["verdict"], "pass", "{name}: {c}");
    }
}

/// Defect: the convergence corner box mixed problems (Euler's order from one, RK4's from the other) and named
/// neither the norm nor T; there were no reference slopes.
#[test]
fn convergence_figures_name_one_problem_the_norm_and_show_reference_slopes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_column(tmp.path(), "convergence-orders.toml");
    for (problem, other) in [("linear", "logistic"), ("logistic", "linear")] {
        let svg = std::fs::read_to_string(out.join(format!("convergence-{problem}.svg"))).unwrap();
        let (texts, _) = svg_texts(&svg);
        let all: String = texts.iter().map(|t| t.2.as_str()).collect::<Vec<_>>().join(" ");
        assert!(all.contains(problem) && !all.contains(other), "{problem}: {all}");
        assert!(
            all.contains("‖∞") && all.contains("T = 1"),
            "norm and T not named: {all}"
        );
        assert_eq!(
            svg.matches("class=\"reference\"").count(),
            2,
            "{problem}: reference slopes h¹ and h⁴"
        );
        assert!(all.contains("reference h¹") && all.contains("reference h⁴"), "{all}");
        assert_eq!(all.matches("95 % CI").count(), 2, "fitted slopes with intervals: {all}");
        let ticks: Vec<&String> = texts.iter().filter(|t| t.0 == "ytick").map(|t| &t.2).collect();
        assert!(
            ticks.iter().all(|t| t.starts_with("10") && !t.contains('e')),
            "{ticks:?}"
        );
    }
    let s = json(&out.join("summary.json"));
    assert_comparisons(&s, "convergence-orders");
    assert!(s["orders_by_problem"]["linear"]["rk4"]["ci95"].is_array());
    let md = std::fs::read_to_string(out.join("orders.md")).unwrap();
    assert!(
        md.contains("| K | h | Euler error | Euler order | RK4 error | RK4 order |"),
        "{md}"
    );
    let tex = std::fs::read_to_string(out.join("orders.tex")).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule"));
    let csv = std::fs::read_to_string(out.join("orders.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("problem,definition,scheme,norm,steps,h,error,observed_order"));
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * 5);
}

/// Defects: integer ticks on the rank axis; singular values without the discarded ones, the tolerance or the gap;
/// a note in Rust syntax; ranks.csv's gap all NaN; `exact_rank` meaning two things.
#[test]
fn lie_figures_have_integer_rank_ticks_tolerance_gap_and_plain_notation() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_column(tmp.path(), "lie-cuchiero5.toml");
    let (rank, _) = svg_texts(&std::fs::read_to_string(out.join("rank-vs-depth.svg")).unwrap());
    for t in rank.iter().filter(|t| t.0 == "ytick" || t.0 == "xtick") {
        assert!(
            t.2.replace('−', "-").parse::<i64>().is_ok(),
            "non-integer tick `{}` on an integer axis",
            t.2
        );
    }
    let svg = std::fs::read_to_string(out.join("singular-values.svg")).unwrap();
    let (sv, _) = svg_texts(&svg);
    let all: String = sv.iter().map(|t| t.2.as_str()).collect::<Vec<_>>().join(" ");
    assert!(
        all.contains("tolerance at depth") && all.contains("gap at depth"),
        "{all}"
    );
    assert!(
        !all.contains("f64::") && !all.contains("sigma_max"),
        "Rust syntax in the figure: {all}"
    );
    assert!(svg.contains("class=\"band\""), "the gap is not drawn");
    let ranks = std::fs::read_to_string(out.join("ranks.csv")).unwrap();
    let header: Vec<&str> = ranks.lines().next().unwrap().split(',').collect();
    assert!(
        header.contains(&"exact_rank_at_points") && !header.contains(&"exact_rank"),
        "{header:?}"
    );
    let g = header.iter().position(|h| *h == "gap").unwrap();
    for line in ranks.lines().skip(1) {
        let v: f64 = line.split(',').nth(g).unwrap().parse().unwrap();
        assert!(v.is_finite() && v > 1.0, "gap {v} in {line}");
    }
    let s = json(&out.join("summary.json"));
    assert_comparisons(&s, "lie-cuchiero5");
    assert_eq!(s["comparisons"].as_array().unwrap().len(), 3);
    assert!(s["exact_generic_rank_by_depth"].is_array());
    // The ordering figure of lie-order-1d.
    let out = run_column(tmp.path(), "lie-order-1d.toml");
    assert!(out.join("order.pdf").exists());
    assert_comparisons(&json(&out.join("summary.json")), "lie-order-1d");
}

/// Defects: start dots coloured unlike their lines; the regions note without regions; no class key; start and end
/// indistinguishable. Also: interpolate reports the discrete and the continuous error and says which it judges.
#[test]
fn trajectory_figures_mark_start_end_and_targets_and_notes_match_the_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_column(tmp.path(), "interpolate.toml");
    let svg = std::fs::read_to_string(out.join("trajectories.svg")).unwrap();
    let (t, _) = svg_texts(&svg);
    let all: String = t.iter().map(|x| x.2.as_str()).collect::<Vec<_>>().join(" ");
    assert!(
        !all.contains("regions") && !all.contains("shading"),
        "a regions note without regions: {all}"
    );
    assert!(
        all.contains("start x(0)") && all.contains("end X(T)") && all.contains("target"),
        "{all}"
    );
    assert!(
        svg.contains("fill=\"#ffffff\" stroke=\"#1f77b4\""),
        "open start marker in the line's colour"
    );
    let s = json(&out.join("summary.json"));
    let (d, c) = (
        s["max_error_discrete"].as_f64().unwrap(),
        s["max_error_continuous"].as_f64().unwrap(),
    );
    assert!(d <= 1e-6 && c <= 1e-6, "discrete {d:e}, continuous {c:e}");
    assert_eq!(s["verdict_uses"], "continuous");
    assert_eq!(s["max_error"].as_f64().unwrap(), c);
    assert!(s["interpolated_system"]["continuous"]
        .as_str()
        .unwrap()
        .contains("dopri5"));
    assert_comparisons(&s, "interpolate");
    let note = s["comparisons"][0]["note"].as_str().unwrap();
    assert!(note.contains("discrete system"), "{note}");

    let out = run_column(tmp.path(), "quickstart.toml");
    let (t, _) = svg_texts(&std::fs::read_to_string(out.join("trajectories.svg")).unwrap());
    let all: String = t.iter().map(|x| x.2.as_str()).collect::<Vec<_>>().join(" ");
    assert!(
        all.contains("shading") && all.contains("class 0") && all.contains("class 1"),
        "{all}"
    );
    // Tables: controls with interval, t_k and named columns; final with index, start, target, label; history with
    // the split of J and the error measure.
    let controls = std::fs::read_to_string(out.join("controls.csv")).unwrap();
    assert!(
        controls.starts_with("interval,t_k,W11,W12,W21,W22,b1,b2\n0,0,"),
        "{controls}"
    );
    let fin = std::fs::read_to_string(out.join("final.csv")).unwrap();
    assert!(fin.starts_with("point,label,start_x1,start_x2,end_x1,end_x2,target_1,target_2,readout_1,readout_2\n"));
    let hist = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert!(
        hist.starts_with("iteration,J,terminal,running,regularizer,error_rate,grad_norm,lr\n"),
        "{hist}"
    );
    let row: Vec<f64> = hist
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        (row[2] + row[3] + row[4] - row[1]).abs() <= 1e-12 * row[1],
        "split does not add up to J: {row:?}"
    );
    assert!(out.join("controls.pdf").exists(), "controls u(t) step plot");
}

#[test]
fn manifest_records_build_kernel_and_sha256_of_inputs_and_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, out) = run_study(tmp.path(), &scenario("bench-node-forward.toml"), "b", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = json(&out.join("manifest.json"));
    let commit = m["build"]["git_commit"].as_str().unwrap();
    assert!(commit == "unknown" || commit.len() == 40, "{commit}");
    assert!(m["build"]["rustc"].as_str().unwrap().starts_with("rustc "));
    assert!(!m["build"]["target"].as_str().unwrap().is_empty());
    assert!(["avx512", "avx2+fma", "baseline"].contains(&m["simd_kernel"].as_str().unwrap()));
    let inputs: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    for f in [
        "data/node_n2048_k100/controls.csv",
        "data/node_n2048_k100/x0.csv",
        "data/node_n2048_k100/y.csv",
    ] {
        assert!(inputs.contains(&f), "{f} not hashed: {inputs:?}");
    }
    let outputs = m["outputs"].as_object().unwrap();
    assert!(outputs.contains_key("summary.json") && outputs.contains_key("final.csv"));
    for (name, hash) in outputs {
        let bytes = std::fs::read(out.join(name)).unwrap();
        assert_eq!(
            hash.as_str().unwrap(),
            lieflow::output::manifest::sha256_hex(&bytes),
            "{name}"
        );
    }
}

#[test]
fn output_table_sets_preset_and_formats_and_the_flag_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario("lie-order-1d.toml")).unwrap()
        + "\n[output]\nfigures = \"page\"\nformats = [\"svg\"]\n";
    let p = write(tmp.path(), "s.toml", &text);
    let (o, out) = run_study(tmp.path(), &p, "a", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("order.svg").exists() && !out.join("order.pdf").exists() && !out.join("order.png").exists());
    let svg = std::fs::read_to_string(out.join("order.svg")).unwrap();
    assert!(svg.contains("width=\"504.00pt\""), "page = 7 in");
    let (o, out) = run_study(tmp.path(), &p, "b", &["--figures", "column"]);
    assert!(o.status.success());
    assert!(std::fs::read_to_string(out.join("order.svg"))
        .unwrap()
        .contains("width=\"252.00pt\""));
    let bad = write(
        tmp.path(),
        "bad.toml",
        &(text.clone() + "").replace("\"page\"", "\"poster\""),
    );
    let o = lieflow(tmp.path(), &["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("output.figures"), "{}", stderr(&o));
}
