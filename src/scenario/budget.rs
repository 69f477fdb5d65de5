//! What a run may cost, checked in validation before anything is allocated: every size a scenario can set (points,
//! intervals, sub-steps, widths, dimensions, counts, depths, draws, iterations) feeds an [`Estimate`] of the bytes
//! the run will hold at its peak, which must fit the machine's [`Budget`]; and the random numbers drawn while
//! preparing (what `lieflow validate` does) are bounded so that validation stays fast for any input.
//!
//! Rules (stated here once; every study adds its own terms in its `prepare`):
//! - **Memory limit**: `LIEFLOW_MEMORY_LIMIT` (bytes, or with a `k`/`M`/`G`/`T` suffix, powers of 1024) when set;
//!   otherwise `MemAvailable` of `/proc/meminfo`, lowered to the cgroup limit `/sys/fs/cgroup/memory.max` when
//!   that is smaller; otherwise (no `/proc`) a fixed [`FALLBACK_LIMIT`] of 8 GiB.
//! - **Estimate**: the sum of the large buffers of the run — data, controls, trajectories, gradients and optimiser
//!   state, Lie-bracket matrices — plus the tables and figures it writes (a CSV row costs [`ROW_BYTES`] plus
//!   [`CELL_BYTES`] per number: the in-memory row and its text). Products are formed in f64, so no size can
//!   overflow; estimates err on the high side.
//! - **Preparation work**: at most [`MAX_PREPARE_DRAWS`] random numbers drawn while preparing (data sets, random
//!   controls, random features, random points): about a second.
//!
//! A refused scenario is an input error (exit code 2) naming the field of the largest factor of the largest term,
//! the estimate, the limit and where the limit comes from.

use super::ScenarioFile;
use crate::{Error, Result};

/// Memory limit when neither `LIEFLOW_MEMORY_LIMIT` nor `/proc/meminfo` gives one.
pub const FALLBACK_LIMIT: f64 = 8.0 * GIB;

/// Random numbers `prepare` may draw (data, controls, features, points).
pub const MAX_PREPARE_DRAWS: f64 = 2e8;

/// Bytes of one CSV row held in memory before its numbers (the row vector and its allocation).
pub const ROW_BYTES: f64 = 48.0;

/// Bytes per number of a CSV table: 8 in memory plus up to 26 characters of shortest round-trip text.
pub const CELL_BYTES: f64 = 34.0;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// How much memory a run may use, and where that number comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Bytes.
    pub limit: f64,
    /// E.g. "MemAvailable in /proc/meminfo".
    pub source: String,
}

/// Parses `12345`, `512M`, `8G`, `1.5T` (powers of 1024).
fn parse_bytes(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mul) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1024.0),
        'm' | 'M' => (&s[..s.len() - 1], 1024.0 * 1024.0),
        'g' | 'G' => (&s[..s.len() - 1], GIB),
        't' | 'T' => (&s[..s.len() - 1], 1024.0 * GIB),
        _ => (s, 1.0),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v * mul)
}

/// `MemAvailable` from /proc/meminfo, in bytes.
fn mem_available() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// The cgroup v2 memory limit, when one is set.
fn cgroup_limit() -> Option<f64> {
    let text = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok()?;
    text.trim().parse::<f64>().ok().filter(|v| *v > 0.0)
}

impl Budget {
    /// The limit in force (see the module docs).
    pub fn current() -> Result<Budget> {
        if let Ok(v) = std::env::var("LIEFLOW_MEMORY_LIMIT") {
            let limit = parse_bytes(&v).ok_or_else(|| {
                Error::input(
                    "LIEFLOW_MEMORY_LIMIT",
                    "",
                    format!("expected a number of bytes such as 512M or 8G, found `{v}`"),
                )
            })?;
            return Ok(Budget {
                limit,
                source: "LIEFLOW_MEMORY_LIMIT".into(),
            });
        }
        Ok(match (mem_available(), cgroup_limit()) {
            (Some(a), Some(c)) if c < a => Budget {
                limit: c,
                source: "the cgroup limit /sys/fs/cgroup/memory.max".into(),
            },
            (Some(a), _) => Budget {
                limit: a,
                source: "MemAvailable in /proc/meminfo".into(),
            },
            (None, _) => Budget {
                limit: FALLBACK_LIMIT,
                source: "lieflow's fixed cap (no /proc/meminfo)".into(),
            },
        })
    }
}

/// `1.5 GiB`, `12 MiB`, `3.2e+25 bytes`.
pub fn human_bytes(b: f64) -> String {
    if !b.is_finite() || b >= 1e6 * 1024.0 * GIB {
        return format!("{b:.2e} bytes");
    }
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// A size as a message shows it: exact below 10^15, else in exponent form.
fn count(v: f64) -> String {
    if v < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2e}")
    }
}

/// One buffer (or table) of the run: a product of named factors times bytes per element.
#[derive(Clone, Debug)]
struct Term {
    what: String,
    factors: Vec<(String, f64)>,
    bytes: f64,
}

impl Term {
    /// The field of the largest factor: the one the user most likely wants to lower.
    fn field(&self) -> &str {
        self.factors
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|f| f.0.as_str())
            .unwrap_or("")
    }
}

/// Π factors, 0 when a factor is 0 (an empty buffer, even if another factor is ∞), so never NaN.
fn product(factors: &[(&str, f64)]) -> f64 {
    if factors.iter().any(|f| f.1 == 0.0) {
        0.0
    } else {
        factors.iter().map(|f| f.1).product()
    }
}

/// The memory and preparation work of a run, term by term (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    terms: Vec<Term>,
    draws: Vec<Term>,
}

impl Estimate {
    /// An empty estimate.
    pub fn new() -> Self {
        Self::default()
    }

    /// A buffer of Π factors elements of `per` bytes each; every factor names the scenario field it comes from.
    pub fn add(&mut self, what: impl Into<String>, factors: &[(&str, f64)], per: f64) {
        self.terms.push(Term {
            what: what.into(),
            factors: factors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            bytes: product(factors) * per,
        });
    }

    /// A CSV table of Π row factors rows and `cols` numbers per row (held in memory, then as text).
    pub fn table(&mut self, name: &str, rows: &[(&str, f64)], cols: (&str, f64)) {
        let mut f = rows.to_vec();
        f.push((cols.0, ROW_BYTES / CELL_BYTES + cols.1));
        self.add(format!("{name} (rows × columns)"), &f, CELL_BYTES);
    }

    /// Π factors random numbers drawn while preparing.
    pub fn draws(&mut self, what: impl Into<String>, factors: &[(&str, f64)]) {
        self.draws.push(Term {
            what: what.into(),
            factors: factors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            bytes: product(factors),
        });
    }

    /// Estimated peak bytes.
    pub fn total(&self) -> f64 {
        self.terms.iter().map(|t| t.bytes).sum()
    }

    /// Errors (exit code 2, located at the responsible field of `file`) when the run would not fit `budget` or
    /// preparing it would draw more than [`MAX_PREPARE_DRAWS`] random numbers.
    pub fn check(&self, file: &ScenarioFile, budget: &Budget) -> Result<()> {
        let describe = |t: &Term| {
            let f: Vec<String> = t
                .factors
                .iter()
                .map(|(k, v)| {
                    if k.is_empty() {
                        count(*v)
                    } else {
                        format!("{} ({k})", count(*v))
                    }
                })
                .collect();
            format!("{}: {}", t.what, f.join(" × "))
        };
        let total = self.total();
        if total > budget.limit {
            let big = self
                .terms
                .iter()
                .max_by(|a, b| a.bytes.total_cmp(&b.bytes))
                .expect("a refused estimate has terms");
            return Err(file.error(
                big.field(),
                format!(
                    "the run needs about {} of memory, more than the {} available ({}); the largest part is {} = {}; \
                 lower `{}`",
                    human_bytes(total),
                    human_bytes(budget.limit),
                    budget.source,
                    describe(big),
                    human_bytes(big.bytes),
                    big.field()
                ),
            ));
        }
        let draws: f64 = self.draws.iter().map(|t| t.bytes).sum();
        if draws > MAX_PREPARE_DRAWS {
            let big = self
                .draws
                .iter()
                .max_by(|a, b| a.bytes.total_cmp(&b.bytes))
                .expect("non-empty");
            return Err(file.error(
                big.field(),
                format!(
                    "preparing this scenario would draw about {} random numbers ({}), more than the {:.0e} lieflow \
                     draws so that `lieflow validate` stays fast; lower `{}`",
                    count(draws),
                    describe(big),
                    MAX_PREPARE_DRAWS,
                    big.field()
                ),
            ));
        }
        Ok(())
    }
}

/// Bytes reading a numeric CSV file of `len` bytes may hold: its text plus up to one f64 per two bytes ("1,").
pub fn csv_read_bytes(len: f64) -> f64 {
    len * 5.0
}

impl ScenarioFile {
    /// Refuses (at `field`) a CSV file the scenario names whose reading would not fit the memory limit, before
    /// reading it. A file that cannot be inspected is left to the reader's own error.
    pub fn check_csv_size(&self, field: &str, path: &std::path::Path) -> Result<()> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(());
        };
        let mut est = Estimate::new();
        est.add(
            format!("reading {}", path.display()),
            &[(field, csv_read_bytes(meta.len() as f64))],
            1.0,
        );
        est.check(self, &Budget::current()?)
    }
}

/// Binomial coefficient C(n, k) in f64 (∞ past 1e300; each factor of the product is ≥ 2, so at most ~1000 steps).
pub fn binomial(n: f64, k: f64) -> f64 {
    if !(k >= 0.0 && n >= k) {
        return 0.0;
    }
    let k = k.min(n - k);
    let mut c = 1.0f64;
    let mut i = 1.0;
    while i <= k {
        c *= (n - k + i) / i;
        if c > 1e300 {
            return f64::INFINITY;
        }
        i += 1.0;
    }
    c
}

/// Σ_{j ≤ depth} witt(d, j): the Hall basis size up to `depth`, in f64 (Witt's formula with ∞ for huge counts).
pub fn hall_total(d: f64, depth: usize) -> f64 {
    (1..=depth)
        .map(|n| {
            let s: f64 = (1..=n)
                .filter(|e| n % e == 0)
                .map(|e| crate::lie::hall::mobius(e) as f64 * d.powi((n / e) as i32))
                .sum();
            (s / n as f64).max(0.0)
        })
        .sum()
}

/// Dimension of the polynomial vector fields on R^m of degree ≤ `degree`: m · C(m + degree, m).
pub fn poly_field_space(m: f64, degree: f64) -> f64 {
    m * binomial(m + degree, degree)
}

/// Terms of an N-point rank analysis (SPEC §5; [`crate::lie::rank`]): `rows` = mN, at most `cols` columns,
/// `copies` matrices of that size alive at once (columns, the SVD input and its factors), and the two Z_p
/// echelon forms of up to mN vectors of length mN.
pub fn rank_matrix_terms(est: &mut Estimate, m: (&str, f64), n: (&str, f64), cols: (&str, f64), copies: f64) {
    est.add(
        "bracket evaluation matrices (mN × columns)",
        &[m, n, cols],
        8.0 * copies,
    );
    est.add(
        "exact echelon forms over Z_p (mN × mN, two of them)",
        &[m, n, m, n],
        16.0,
    );
}

/// Rows and columns of a numeric CSV file without reading it whole (a fixed buffer): the data rows (non-blank
/// lines, less a first line without numbers) and the fields of the first line. Errors as [`Error::Io`].
pub fn csv_shape(path: &std::path::Path) -> Result<(f64, f64)> {
    use std::io::{BufRead, Read};
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = std::io::BufReader::with_capacity(1 << 16, f);
    let mut first = Vec::new();
    // The first line, at most 1 MiB of it (a longer one is counted as 1 MiB of single-digit fields).
    let mut limited = (&mut r).take(1 << 20);
    limited.read_until(b'\n', &mut first).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&first);
    let cols = text.split(',').count() as f64;
    let header = text
        .split(',')
        .all(|f| f.trim().trim_start_matches('\u{feff}').parse::<f64>().is_err());
    let mut rows = if header || text.trim().is_empty() { 0.0 } else { 1.0 };
    let mut buf = [0u8; 1 << 16];
    let mut blank = true;
    let mut last = b'\n';
    loop {
        let k = r.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if k == 0 {
            break;
        }
        for &b in &buf[..k] {
            if b == b'\n' {
                if !blank {
                    rows += 1.0;
                }
                blank = true;
            } else if !matches!(b, b'\r' | b' ' | b'\t') {
                blank = false;
            }
            last = b;
        }
    }
    if !blank && last != b'\n' {
        rows += 1.0;
    }
    Ok((rows, cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_parse_and_print() {
        assert_eq!(parse_bytes("512M"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(parse_bytes("2G"), Some(2.0 * GIB));
        assert_eq!(parse_bytes("1000"), Some(1000.0));
        assert_eq!(parse_bytes("-1G"), None);
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(human_bytes(1536.0), "1.5 KiB");
        assert_eq!(human_bytes(3.0 * GIB), "3.0 GiB");
        assert!(human_bytes(f64::INFINITY).contains("inf"));
    }

    #[test]
    fn combinatorics_match_small_cases() {
        assert_eq!(binomial(5.0, 2.0), 10.0);
        assert_eq!(binomial(43.0, 41.0), 903.0);
        assert_eq!(binomial(3.0, 5.0), 0.0);
        assert!(binomial(1e9, 1e6).is_infinite());
        // Witt: d = 2 gives 2, 1, 2, 3, 6, 9 brackets at depths 1..6.
        assert_eq!(hall_total(2.0, 6), 23.0);
        assert_eq!(hall_total(5.0, 3), 5.0 + 10.0 + 40.0);
        assert!(hall_total(1e18, 40).is_infinite() || hall_total(1e18, 40) > 1e300);
        assert_eq!(poly_field_space(2.0, 41.0), 2.0 * 903.0);
    }

    fn file() -> ScenarioFile {
        let text = "study = \"simulate\"\n[data]\nkind = \"annuli\"\nn = 10\n".to_string();
        ScenarioFile::parse(std::path::Path::new("s.toml"), text).unwrap()
    }

    #[test]
    fn a_refused_estimate_names_the_field_the_estimate_and_the_limit() {
        let budget = Budget {
            limit: GIB,
            source: "a test".into(),
        };
        let mut est = Estimate::new();
        est.add("small", &[("time.intervals", 10.0)], 8.0);
        assert!(est.check(&file(), &budget).is_ok());
        est.add("points", &[("data.n", 1e12), ("model.dim", 2.0)], 8.0);
        let e = est.check(&file(), &budget).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        for want in [
            "data.n",
            "line 4",
            "14.6 TiB",
            "1.0 GiB",
            "a test",
            "1000000000000 (data.n)",
        ] {
            assert!(msg.contains(want), "`{want}` missing in: {msg}");
        }
        let mut est = Estimate::new();
        est.draws("random features", &[("lie.fields.count", 1e9)]);
        let msg = est.check(&file(), &budget).unwrap_err().to_string();
        assert!(msg.contains("lie.fields.count") && msg.contains("validate"), "{msg}");
        // Overflowing sizes are refused, not wrapped.
        let mut est = Estimate::new();
        est.add("huge", &[("data.n", f64::INFINITY)], 8.0);
        assert!(est.check(&file(), &budget).is_err());
    }

    #[test]
    fn csv_shape_counts_data_rows_and_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "a,b,c\n1,2,3\n\n4,5,6\n7,8,9").unwrap();
        assert_eq!(csv_shape(&p).unwrap(), (3.0, 3.0));
        std::fs::write(&p, "1,2\n3,4\n").unwrap();
        assert_eq!(csv_shape(&p).unwrap(), (2.0, 2.0));
    }
}
