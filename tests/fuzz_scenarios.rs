//! Mutation fuzzing of scenario input (issue 12): the bundled scenarios, and the saved cases of
//! `tests/fuzz-corpus/`, with numbers pushed to extremes (0, −1, 2^32, 2^63, 1e308, NaN, ±∞, …), strings cut
//! short and tables dropped, are fed to the real binary — one process per case, killed after 20 s, so panics
//! (exit 101), aborts (a signal, e.g. a failed allocation) and hangs are all caught.
//!
//! - `validate_never_crashes_on_mutated_scenarios`: a proptest with a fixed seed and case count (seconds):
//!   `lieflow validate` exits 0 or 2.
//! - `saved_corpus_never_crashes`: every file of `tests/fuzz-corpus/` (hand-made extremes of the issue and any
//!   crasher the fuzzer saved) through `validate` and, when valid, `run`.
//! - `mutation_fuzz`: random mutations for `LIEFLOW_FUZZ_SECONDS` seconds (default: 24 cases), `validate` and, when
//!   it passes, `run`. `validate` must exit 0 or 2 within 20 s; `run` must exit 0, 2, or 1 with a located error
//!   (a time and step, or the iteration and rule of a divergence). A `run` still computing after 20 s is stopped
//!   with SIGTERM and must exit 143 leaving no temporary folder (long but legitimate runs exist: e.g. 2^32
//!   sub-steps per interval). Crashing cases are saved to `tests/fuzz-corpus/` and the test fails; the counts are
//!   printed (`--nocapture`). `LIEFLOW_FUZZ_SEED` fixes the random seed (default: from the clock, printed).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use toml_edit::{ImDocument, Item, Value};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Replacement numbers: zeros, negatives, powers of two at integer-type edges, float extremes, non-finite values.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "1e308",
    "-1e308",
    "1e-308",
    "nan",
    "inf",
    "-inf",
    "0.5",
    "65536",
    "100000",
];

/// A scenario to mutate: its name and text.
#[derive(Clone, Debug)]
struct Seed {
    name: String,
    text: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    repo().join("tests/fuzz-corpus")
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "toml"));
    v.sort();
    v
}

/// The bundled scenarios and the saved corpus.
fn seeds() -> Vec<Seed> {
    toml_files(&repo().join("scenarios"))
        .into_iter()
        .chain(toml_files(&corpus_dir()))
        .map(|p| Seed {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            text: std::fs::read_to_string(&p).unwrap(),
        })
        .collect()
}

/// Byte spans of a text's mutation sites.
#[derive(Default, Debug)]
struct Sites {
    numbers: Vec<std::ops::Range<usize>>,
    strings: Vec<std::ops::Range<usize>>,
    /// Explicit tables: from the header to the next header.
    tables: Vec<std::ops::Range<usize>>,
}

fn walk_value(v: &Value, s: &mut Sites) {
    match v {
        Value::Integer(_) | Value::Float(_) => s.numbers.extend(v.span()),
        Value::String(_) => s.strings.extend(v.span()),
        Value::Array(a) => a.iter().for_each(|x| walk_value(x, s)),
        Value::InlineTable(t) => t.iter().for_each(|(_, x)| walk_value(x, s)),
        _ => {}
    }
}

fn walk_item(i: &Item, s: &mut Sites) {
    match i {
        Item::Value(v) => walk_value(v, s),
        Item::Table(t) => t.iter().for_each(|(_, x)| walk_item(x, s)),
        Item::ArrayOfTables(a) => a.iter().for_each(|t| t.iter().for_each(|(_, x)| walk_item(x, s))),
        Item::None => {}
    }
}

fn sites(text: &str) -> Sites {
    let mut s = Sites::default();
    if let Ok(doc) = ImDocument::parse(text) {
        walk_item(doc.as_item(), &mut s);
    }
    let mut starts: Vec<usize> = Vec::new();
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('[') {
            starts.push(off);
        }
        off += line.len();
    }
    for (i, &a) in starts.iter().enumerate() {
        s.tables.push(a..starts.get(i + 1).copied().unwrap_or(text.len()));
    }
    s
}

/// One mutation, as indices into the sites (taken modulo their count) and choices.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    Number { site: usize, value: usize },
    Truncate { site: usize, keep: usize },
    DropTable { site: usize },
}

fn apply(text: &str, m: Mutation) -> (String, String) {
    let s = sites(text);
    let splice = |r: &std::ops::Range<usize>, new: &str| format!("{}{new}{}", &text[..r.start], &text[r.end..]);
    match m {
        Mutation::Number { site, value } if !s.numbers.is_empty() => {
            let r = &s.numbers[site % s.numbers.len()];
            let v = NUMBERS[value % NUMBERS.len()];
            (splice(r, v), format!("number `{}` → {v}", &text[r.clone()]))
        }
        Mutation::Truncate { site, keep } if !s.strings.is_empty() => {
            let r = &s.strings[site % s.strings.len()];
            let inner = &text[r.start + 1..r.end - 1];
            let mut k = keep % (inner.len() + 1);
            while !inner.is_char_boundary(k) {
                k -= 1;
            }
            let new = format!("\"{}\"", inner[..k].replace('\\', ""));
            (splice(r, &new), format!("string {} → {new}", &text[r.clone()]))
        }
        Mutation::DropTable { site } if !s.tables.is_empty() => {
            let r = &s.tables[site % s.tables.len()];
            let head = text[r.clone()].lines().next().unwrap_or("").to_string();
            (splice(r, ""), format!("dropped {head}"))
        }
        _ => (text.to_string(), "unchanged".into()),
    }
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq)]
enum End {
    Code(i32, String),
    Signal(i32),
    Timeout(Option<i32>),
}

/// Runs `lieflow ARGS` in `dir`, killed after [`TIMEOUT`] (SIGTERM first, then SIGKILL).
fn lieflow(dir: &Path, args: &[&str]) -> End {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lieflow"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lieflow starts");
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = String::new();
        let _ = std::io::BufReader::new(stderr).take(1 << 20).read_to_string(&mut s);
        s
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if t0.elapsed() > TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    match status {
        Some(st) => {
            let err = reader.join().unwrap_or_default();
            match st.code() {
                Some(c) => End::Code(c, err),
                None => End::Signal(st.signal().unwrap_or(0)),
            }
        }
        None => {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let t1 = Instant::now();
            let code = loop {
                if let Some(st) = child.try_wait().unwrap() {
                    break st.code();
                }
                if t1.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            End::Timeout(code)
        }
    }
}

/// A work folder where relative data paths of the bundled scenarios resolve.
fn workdir() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("scenarios/data"), t.path().join("data")).unwrap();
    t
}

/// Tallies of a fuzz run.
#[derive(Default, Debug)]
struct Counts {
    cases: usize,
    validate_ok: usize,
    validate_refused: usize,
    runs: usize,
    run_ok: usize,
    run_refused: usize,
    run_numerical: usize,
    run_long_stopped: usize,
    /// What the long runs were (for the report).
    long: Vec<String>,
    failures: Vec<String>,
}

/// Whether a run's exit-1 message locates the failure (time and step, or iteration and rule).
fn located(err: &str) -> bool {
    (err.contains("numerical failure") && err.contains("at t = ") && err.contains("step "))
        || (err.contains("diverged at iteration") && err.contains("rule"))
}

/// Validates (and, if valid and `run`, runs) `text`; records the outcome; returns a failure description.
fn check_case(text: &str, what: &str, run: bool, c: &mut Counts) -> Option<String> {
    let dir = workdir();
    let p = dir.path().join("case.toml");
    std::fs::write(&p, text).unwrap();
    c.cases += 1;
    let fail = |kind: &str, detail: &str| Some(format!("{kind} in `validate` after {what}: {detail}"));
    match lieflow(dir.path(), &["validate", "case.toml"]) {
        End::Code(0, _) => c.validate_ok += 1,
        End::Code(2, _) => {
            c.validate_refused += 1;
            return None;
        }
        End::Code(101, e) => return fail("panic", &e),
        End::Code(code, e) => return fail(&format!("exit {code}"), &e),
        End::Signal(s) => return fail("abort", &format!("signal {s}")),
        End::Timeout(_) => return fail("timeout", "over 20 s"),
    }
    if !run {
        return None;
    }
    c.runs += 1;
    let fail = |kind: &str, detail: &str| Some(format!("{kind} in `run` after {what}: {detail}"));
    match lieflow(dir.path(), &["run", "case.toml", "--out", "out", "--quiet"]) {
        End::Code(0, _) => c.run_ok += 1,
        End::Code(2, _) => c.run_refused += 1,
        End::Code(1, e) if located(&e) => c.run_numerical += 1,
        End::Code(101, e) => return fail("panic", &e),
        End::Code(code, e) => return fail(&format!("exit {code} without a located error"), &e),
        End::Signal(s) => return fail("abort", &format!("signal {s}")),
        End::Timeout(code) => {
            let left: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp-"))
                .collect();
            if code != Some(143) || !left.is_empty() {
                return fail("unclean stop on SIGTERM", &format!("exit {code:?}, left {left:?}"));
            }
            c.run_long_stopped += 1;
            c.long.push(what.to_string());
        }
    }
    None
}

/// Saves a crashing case to the corpus.
fn save_crasher(text: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    std::fs::create_dir_all(corpus_dir()).unwrap();
    let p = corpus_dir().join(format!("crash-{:016x}.toml", h.finish()));
    std::fs::write(&p, text).unwrap();
    p
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>()).prop_map(|(site, value)| Mutation::Number { site, value }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(site, keep)| Mutation::Truncate { site, keep }),
        1 => any::<usize>().prop_map(|site| Mutation::DropTable { site }),
    ]
}

#[test]
fn validate_never_crashes_on_mutated_scenarios() {
    let seeds = seeds();
    let config = Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[12; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 1..3));
    runner
        .run(&strategy, |(i, muts)| {
            let mut text = seeds[i].text.clone();
            let mut what = seeds[i].name.clone();
            for m in muts {
                let (t, w) = apply(&text, m);
                text = t;
                what = format!("{what}; {w}");
            }
            let mut c = Counts::default();
            let failure = check_case(&text, &what, false, &mut c);
            prop_assert!(failure.is_none(), "{}", failure.unwrap_or_default());
            Ok(())
        })
        .unwrap();
}

#[test]
fn saved_corpus_never_crashes() {
    let files = toml_files(&corpus_dir());
    assert!(files.len() >= 10, "the corpus holds the issue's extremes: {files:?}");
    let mut c = Counts::default();
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        if let Some(f) = check_case(&text, &p.display().to_string(), true, &mut c) {
            panic!("{f}");
        }
    }
    assert!(c.validate_refused > 0, "{c:?}");
}

#[test]
fn mutation_fuzz() {
    let seconds: Option<u64> = std::env::var("LIEFLOW_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok());
    let seed: u64 = std::env::var("LIEFLOW_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            if seconds.is_some() {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            } else {
                12
            }
        });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let seeds = seeds();
    let t0 = Instant::now();
    let mut c = Counts::default();
    let mut n = 0usize;
    loop {
        match seconds {
            Some(s) if t0.elapsed() >= Duration::from_secs(s) => break,
            None if n >= 24 => break,
            _ => {}
        }
        n += 1;
        let sd = &seeds[rng.gen_range(0..seeds.len())];
        let mut text = sd.text.clone();
        let mut what = sd.name.clone();
        for _ in 0..rng.gen_range(1..=3) {
            let m = match rng.gen_range(0..6) {
                0..=3 => Mutation::Number {
                    site: rng.gen(),
                    value: rng.gen(),
                },
                4 => Mutation::Truncate {
                    site: rng.gen(),
                    keep: rng.gen(),
                },
                _ => Mutation::DropTable { site: rng.gen() },
            };
            let (t, w) = apply(&text, m);
            text = t;
            what = format!("{what}; {w}");
        }
        if let Some(f) = check_case(&text, &what, true, &mut c) {
            let p = save_crasher(&text);
            c.failures.push(format!("{f} (saved as {})", p.display()));
        }
    }
    println!(
        "mutation fuzz (seed {seed}, {:.0} s): {} cases; validate: {} ok, {} refused (exit 2); run: {} runs, {} ok, \
         {} refused, {} located numerical failures, {} long runs stopped cleanly by SIGTERM after 20 s; {} failures \
         (panics, aborts, validate timeouts, unlocated errors)",
        t0.elapsed().as_secs_f64(),
        c.cases,
        c.validate_ok,
        c.validate_refused,
        c.runs,
        c.run_ok,
        c.run_refused,
        c.run_numerical,
        c.run_long_stopped,
        c.failures.len()
    );
    for l in &c.long {
        println!("  long run: {l}");
    }
    assert!(c.failures.is_empty(), "{:#?}", c.failures);
}

#[test]
fn mutations_hit_numbers_strings_and_tables() {
    let text = "name = \"abc\"\nseed = 3\n[time]\nhorizon = 1.5\n[data]\npoints = [[1, 2]]\n";
    let s = sites(text);
    assert_eq!((s.numbers.len(), s.strings.len(), s.tables.len()), (4, 1, 2));
    let (t, _) = apply(text, Mutation::Number { site: 1, value: 9 });
    assert!(t.contains("horizon = nan"), "{t}");
    let (t, _) = apply(text, Mutation::Truncate { site: 0, keep: 1 });
    assert!(t.starts_with("name = \"a\"\n"), "{t}");
    let (t, _) = apply(text, Mutation::DropTable { site: 0 });
    assert!(!t.contains("horizon"), "{t}");
}
