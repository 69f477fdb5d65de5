//! Data sets: the ensemble of initial points x_i ∈ R^m (SPEC §1) with class labels and/or regression targets.
//!
//! Seeded synthetic generators (ChaCha8Rng, deterministic: the same arguments give bit-identical data on every
//! platform). Class c of point i is i mod k (exactly balanced) except for [`checkerboard`], whose labels follow
//! the geometry. ε denotes N(0, noise²) noise added to each coordinate.
//! - [`annuli`]: ring c has radius r = √(U(r_lo², r_hi²)) (uniform in area) and angle θ ~ U(0, 2π); x = r(cos θ,
//!   sin θ) + ε. Default rings [0, 1] and [2, 3] ([`DEFAULT_RINGS`]). Regression targets (t_c, t_c) with
//!   t_c = 1 − 2c/(k − 1): inner → (1, 1), outer → (−1, −1) for two rings, as in the benchmark.
//! - [`moons`]: θ ~ U(0, π); class 0: (cos θ, sin θ), class 1: (1 − cos θ, 1/2 − sin θ); plus ε.
//! - [`spirals`]: s = √U(0, 1), angle φ = 2π·turns·s + πc, x = s(cos φ, sin φ) + ε (two arms, c ∈ {0, 1}).
//! - [`blobs`]: k centres μ_c ~ U([−4, 4]^m) drawn first, then x = μ_c + spread·N(0, I_m).
//! - [`checkerboard`]: x ~ U([−1, 1)²), class = (⌊(x₀+1)·cells/2⌋ + ⌊(x₁+1)·cells/2⌋) mod 2.
//! - [`c10k`]: SPEC §6 C10k: x ~ U(−1, 1) scalars (m = 1), constant regression target 0.01 ([`C10K_N`] points).
//!
//! CSV loading ([`from_csv`], [`from_csv_with`]): comma-separated numbers, optionally a first header line in which
//! no field is a number (skipped); blank lines are ignored; every row has the same number of columns. Rows and
//! columns in error messages are 1-based line and field numbers of the file (a header is row 1).

use crate::output::table::{read_csv, Csv};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;
use std::path::Path;

/// N points in R^m with optional class labels and regression targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// State dimension m.
    pub m: usize,
    /// N×m, row-major: point i is x[i·m .. (i+1)·m].
    pub x: Vec<f64>,
    /// Class of each point (length N), for classification.
    pub labels: Option<Vec<usize>>,
    /// Number of classes (0 without labels).
    pub n_classes: usize,
    /// (q, N×q row-major) regression targets.
    pub targets: Option<(usize, Vec<f64>)>,
}

/// Where a data set has a non-finite value (see [`Dataset::first_non_finite`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFinite {
    /// In the targets rather than the points.
    pub target: bool,
    /// 0-based point index.
    pub point: usize,
    /// 0-based coordinate.
    pub coordinate: usize,
    /// The value (NaN or ±∞).
    pub value: f64,
}

/// How class labels become regression targets in [`Dataset::with_regression_targets_from_labels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelEncoding {
    /// q = n_classes, target = e_c.
    OneHot,
    /// q = n_classes, target = 2e_c − 1 (+1 at the class, −1 elsewhere).
    PlusMinusOne,
    /// Two classes only: class 0 → (+1, …, +1), class 1 → (−1, …, −1) in R^q (q = 2 gives the annuli benchmark's
    /// ±(1, 1)).
    Sign { q: usize },
}

/// How the target file of [`from_csv_with`] is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Any number of columns → `targets`.
    Regression,
    /// One column of non-negative integers → `labels` (n_classes = max + 1).
    Classification,
}

impl Dataset {
    /// Number of points N.
    pub fn n(&self) -> usize {
        self.x.len().checked_div(self.m).unwrap_or(0)
    }

    /// Point i (length m).
    pub fn point(&self, i: usize) -> &[f64] {
        &self.x[i * self.m..(i + 1) * self.m]
    }

    /// Regression target of point i (length q), if any.
    pub fn target(&self, i: usize) -> Option<&[f64]> {
        self.targets.as_ref().map(|(q, t)| &t[i * q..(i + 1) * q])
    }

    /// Number of points in each class (empty without labels).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes];
        for &c in self.labels.iter().flatten() {
            counts[c] += 1;
        }
        counts
    }

    /// The first NaN or ±∞ in the points, then in the targets (0-based indices).
    pub fn first_non_finite(&self) -> Option<NonFinite> {
        let find = |v: &[f64], width: usize, target: bool| {
            v.iter().position(|z| !z.is_finite()).map(|i| NonFinite {
                target,
                point: i / width,
                coordinate: i % width,
                value: v[i],
            })
        };
        find(&self.x, self.m.max(1), false)
            .or_else(|| self.targets.as_ref().and_then(|(q, t)| find(t, (*q).max(1), true)))
    }

    /// Error (naming `file`, the 1-based data row and column) at the first NaN or ±∞ in the points, then in the
    /// targets.
    pub fn check_finite(&self, file: &Path) -> Result<()> {
        match self.first_non_finite() {
            None => Ok(()),
            Some(b) => Err(Error::input(
                file,
                format!(
                    "{}row {}, column {}",
                    if b.target { "target " } else { "" },
                    b.point + 1,
                    b.coordinate + 1
                ),
                format!("expected a finite number, found {}", b.value),
            )),
        }
    }

    /// Adds regression targets derived from the labels (replacing any existing targets). Errors without labels, or
    /// for [`LabelEncoding::Sign`] unless there are exactly two classes.
    pub fn with_regression_targets_from_labels(mut self, enc: LabelEncoding) -> std::result::Result<Self, String> {
        let labels = self.labels.as_ref().ok_or("the data set has no labels")?;
        let k = self.n_classes;
        let (q, t) = match enc {
            LabelEncoding::OneHot | LabelEncoding::PlusMinusOne => {
                let off = if enc == LabelEncoding::OneHot { 0.0 } else { -1.0 };
                let mut t = vec![off; labels.len() * k];
                for (i, &c) in labels.iter().enumerate() {
                    t[i * k + c] = 1.0;
                }
                (k, t)
            }
            LabelEncoding::Sign { q } => {
                if k != 2 {
                    return Err(format!("the sign encoding needs exactly 2 classes, found {k}"));
                }
                let t = labels
                    .iter()
                    .flat_map(|&c| std::iter::repeat_n(1.0 - 2.0 * c as f64, q))
                    .collect();
                (q, t)
            }
        };
        self.targets = Some((q, t));
        Ok(self)
    }

    /// The points `idx` (in that order), with their labels and targets.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        Dataset {
            m: self.m,
            x: idx.iter().flat_map(|&i| self.point(i).iter().copied()).collect(),
            labels: self.labels.as_ref().map(|l| idx.iter().map(|&i| l[i]).collect()),
            n_classes: self.n_classes,
            targets: self.targets.as_ref().map(|(q, t)| {
                (
                    *q,
                    idx.iter()
                        .flat_map(|&i| t[i * q..(i + 1) * q].iter().copied())
                        .collect(),
                )
            }),
        }
    }

    /// Seeded random split into (train, test) with ⌊train_fraction · N⌉ training points (SPEC §6: 90/10).
    pub fn split(&self, train_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        let n = self.n();
        let n_train = ((train_fraction.clamp(0.0, 1.0) * n as f64).round() as usize).min(n);
        let mut idx: Vec<usize> = (0..n).collect();
        idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        (self.subset(&idx[..n_train]), self.subset(&idx[n_train..]))
    }
}

#[inline]
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

fn labelled(m: usize, x: Vec<f64>, labels: Vec<usize>, n_classes: usize) -> Dataset {
    Dataset {
        m,
        x,
        labels: Some(labels),
        n_classes,
        targets: None,
    }
}

/// Inner ring [0, 1] and outer ring [2, 3].
pub const DEFAULT_RINGS: [(f64, f64); 2] = [(0.0, 1.0), (2.0, 3.0)];

/// Concentric annuli in R² (see the module docs). Panics unless 0 ≤ r_lo ≤ r_hi for every ring, rings is
/// non-empty and noise ≥ 0.
pub fn annuli(n: usize, seed: u64, rings: &[(f64, f64)], noise: f64) -> Dataset {
    assert!(!rings.is_empty(), "annuli: no rings");
    assert!(
        rings.iter().all(|&(lo, hi)| 0.0 <= lo && lo <= hi),
        "annuli: need 0 ≤ r_lo ≤ r_hi"
    );
    assert!(noise >= 0.0, "annuli: negative noise");
    let k = rings.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut labels, mut t) = (
        Vec::with_capacity(2 * n),
        Vec::with_capacity(n),
        Vec::with_capacity(2 * n),
    );
    for i in 0..n {
        let c = i % k;
        let (lo, hi) = rings[c];
        let r = rng.gen_range(lo * lo..=hi * hi).sqrt();
        let th = rng.gen_range(0.0..2.0 * PI);
        x.push(r * th.cos() + noise * normal(&mut rng));
        x.push(r * th.sin() + noise * normal(&mut rng));
        labels.push(c);
        let tc = if k == 1 {
            1.0
        } else {
            1.0 - 2.0 * c as f64 / (k - 1) as f64
        };
        t.extend([tc, tc]);
    }
    Dataset {
        targets: Some((2, t)),
        ..labelled(2, x, labels, k)
    }
}

/// Two interleaving half circles in R² (see the module docs).
pub fn moons(n: usize, seed: u64, noise: f64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut labels) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for i in 0..n {
        let c = i % 2;
        let th = rng.gen_range(0.0..=PI);
        let (a, b) = if c == 0 {
            (th.cos(), th.sin())
        } else {
            (1.0 - th.cos(), 0.5 - th.sin())
        };
        x.push(a + noise * normal(&mut rng));
        x.push(b + noise * normal(&mut rng));
        labels.push(c);
    }
    labelled(2, x, labels, 2)
}

/// Two-arm spiral in R² with `turns` revolutions per arm (see the module docs).
pub fn spirals(n: usize, seed: u64, turns: f64, noise: f64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut labels) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for i in 0..n {
        let c = i % 2;
        let s = rng.gen_range(0.0..1.0f64).sqrt();
        let phi = 2.0 * PI * turns * s + PI * c as f64;
        x.push(s * phi.cos() + noise * normal(&mut rng));
        x.push(s * phi.sin() + noise * normal(&mut rng));
        labels.push(c);
    }
    labelled(2, x, labels, 2)
}

/// k Gaussian blobs in R^m with standard deviation `spread` around centres uniform on [−4, 4]^m.
pub fn blobs(n: usize, seed: u64, m: usize, k: usize, spread: f64) -> Dataset {
    assert!(k >= 1 && m >= 1, "blobs: need k ≥ 1 and m ≥ 1");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<f64> = (0..k * m).map(|_| rng.gen_range(-4.0..4.0)).collect();
    let (mut x, mut labels) = (Vec::with_capacity(m * n), Vec::with_capacity(n));
    for i in 0..n {
        let c = i % k;
        for j in 0..m {
            x.push(centres[c * m + j] + spread * normal(&mut rng));
        }
        labels.push(c);
    }
    labelled(m, x, labels, k)
}

/// Checkerboard on [−1, 1)² with `cells` × `cells` squares; class = parity of the cell (see the module docs).
pub fn checkerboard(n: usize, seed: u64, cells: usize) -> Dataset {
    assert!(cells >= 1, "checkerboard: need at least one cell");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut labels) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    let cell = |z: f64| (((z + 1.0) * cells as f64 / 2.0).floor() as usize).min(cells - 1);
    for _ in 0..n {
        let (a, b) = (rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
        x.extend([a, b]);
        labels.push((cell(a) + cell(b)) % 2);
    }
    labelled(2, x, labels, 2)
}

/// Number of points of the C10k data set (SPEC §6).
pub const C10K_N: usize = 10_000;

/// SPEC §6 C10k: n scalars uniform on [−1, 1], m = 1, constant regression target 0.01 (q = 1), no labels.
pub fn c10k(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = (0..n).map(|_| rng.gen_range(-1.0..=1.0)).collect();
    Dataset {
        m: 1,
        x,
        labels: None,
        n_classes: 0,
        targets: Some((1, vec![0.01; n])),
    }
}

/// [`read_csv`] with every value finite.
fn read_table(path: &Path) -> Result<Csv> {
    let t = read_csv(path)?;
    if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
        return Err(Error::input(
            path,
            format!("row {}, column {}", t.lines[i / t.cols], i % t.cols + 1),
            format!("expected a finite number, found {}", t.values[i]),
        ));
    }
    Ok(t)
}

/// Loads points from `inputs` and, if given, regression targets from `targets` (same number of data rows).
/// Equivalent to [`from_csv_with`] with [`TargetKind::Regression`].
pub fn from_csv(inputs: &Path, targets: Option<&Path>) -> Result<Dataset> {
    from_csv_with(inputs, targets, TargetKind::Regression)
}

/// Loads points from `inputs` and targets read as `kind`: regression targets (any number of columns), or class
/// labels (a single column of non-negative integers; n_classes = largest label + 1).
pub fn from_csv_with(inputs: &Path, targets: Option<&Path>, kind: TargetKind) -> Result<Dataset> {
    let t = read_table(inputs)?;
    let mut data = Dataset {
        m: t.cols,
        x: t.values,
        labels: None,
        n_classes: 0,
        targets: None,
    };
    let Some(tpath) = targets else { return Ok(data) };
    let tt = read_table(tpath)?;
    if tt.rows() != data.n() {
        return Err(Error::input(
            tpath,
            "",
            format!("{} data rows, but {} has {}", tt.rows(), inputs.display(), data.n()),
        ));
    }
    match kind {
        TargetKind::Regression => data.targets = Some((tt.cols, tt.values)),
        TargetKind::Classification => {
            if tt.cols != 1 {
                return Err(Error::input(
                    tpath,
                    format!("row {}", tt.lines[0]),
                    format!("class labels need a single column, found {}", tt.cols),
                ));
            }
            let mut labels = Vec::with_capacity(tt.values.len());
            for (&v, &row) in tt.values.iter().zip(&tt.lines) {
                if v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f64 {
                    return Err(Error::input(
                        tpath,
                        format!("row {row}, column 1"),
                        format!("expected a non-negative integer class label, found {v}"),
                    ));
                }
                labels.push(v as usize);
            }
            data.n_classes = labels.iter().max().map_or(0, |&c| c + 1);
            data.labels = Some(labels);
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn bits(d: &Dataset) -> Vec<u64> {
        let mut v: Vec<u64> = d.x.iter().map(|z| z.to_bits()).collect();
        v.extend(d.targets.iter().flat_map(|(_, t)| t.iter().map(|z| z.to_bits())));
        v.extend(d.labels.iter().flatten().map(|&c| c as u64));
        v
    }

    fn all(n: usize, seed: u64) -> Vec<(&'static str, Dataset)> {
        vec![
            ("annuli", annuli(n, seed, &DEFAULT_RINGS, 0.05)),
            ("moons", moons(n, seed, 0.1)),
            ("spirals", spirals(n, seed, 1.5, 0.02)),
            ("blobs", blobs(n, seed, 3, 4, 0.5)),
            ("checkerboard", checkerboard(n, seed, 4)),
            ("c10k", c10k(n, seed)),
        ]
    }

    #[test]
    fn generators_are_deterministic_and_seed_dependent() {
        for ((name, a), ((_, b), (_, c))) in all(200, 5).into_iter().zip(all(200, 5).into_iter().zip(all(200, 6))) {
            assert_eq!(bits(&a), bits(&b), "{name}: same seed differs");
            assert_ne!(a.x, c.x, "{name}: different seeds agree");
        }
    }

    #[test]
    fn generators_have_consistent_shapes_and_balanced_classes() {
        let n = 2001;
        for (name, d) in all(n, 1) {
            assert_eq!(d.n(), n, "{name}");
            assert_eq!(d.x.len(), n * d.m, "{name}");
            assert!(d.x.iter().all(|z| z.is_finite()), "{name}");
            d.check_finite(Path::new(name)).unwrap();
            if let Some((q, t)) = &d.targets {
                assert_eq!(t.len(), n * q, "{name}");
            }
            if let Some(l) = &d.labels {
                assert_eq!(l.len(), n, "{name}");
                let counts = d.class_counts();
                let (lo, hi) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
                let slack = if name == "checkerboard" { n / 10 } else { 1 };
                assert!(hi - lo <= slack, "{name}: unbalanced {counts:?}");
                assert!(lo > 0, "{name}: empty class");
            }
        }
        assert_eq!((blobs(10, 0, 5, 3, 1.0).m, blobs(10, 0, 5, 3, 1.0).n_classes), (5, 3));
    }

    #[test]
    fn annuli_rings_and_targets() {
        let d = annuli(1000, 3, &DEFAULT_RINGS, 0.0);
        for i in 0..d.n() {
            let r = d.point(i).iter().map(|z| z * z).sum::<f64>().sqrt();
            let c = d.labels.as_ref().unwrap()[i];
            let (lo, hi) = DEFAULT_RINGS[c];
            assert!(lo - 1e-12 <= r && r <= hi + 1e-12, "point {i} radius {r} class {c}");
            let s = if c == 0 { 1.0 } else { -1.0 };
            assert_eq!(d.target(i).unwrap(), &[s, s]);
        }
        let three = annuli(9, 3, &[(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)], 0.0);
        assert_eq!(three.n_classes, 3);
        assert_eq!(three.target(1).unwrap(), &[0.0, 0.0]);
        // The encoding helper reproduces the benchmark targets.
        let mut plain = d.clone();
        plain.targets = None;
        assert_eq!(
            plain
                .with_regression_targets_from_labels(LabelEncoding::Sign { q: 2 })
                .unwrap(),
            d
        );
    }

    #[test]
    fn checkerboard_labels_follow_cell_parity_and_moons_lie_on_circles() {
        let d = checkerboard(500, 8, 2);
        for i in 0..d.n() {
            let p = d.point(i);
            let same_sign = (p[0] >= 0.0) == (p[1] >= 0.0);
            assert_eq!(d.labels.as_ref().unwrap()[i], if same_sign { 0 } else { 1 }, "{p:?}");
        }
        let moon = moons(200, 2, 0.0);
        for i in 0..moon.n() {
            let p = moon.point(i);
            let (cx, cy) = if i % 2 == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            assert!(((p[0] - cx).powi(2) + (p[1] - cy).powi(2) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn c10k_matches_spec() {
        let d = c10k(C10K_N, 0);
        assert_eq!((d.m, d.n(), d.labels.is_none()), (1, 10_000, true));
        assert!(d.x.iter().all(|&z| (-1.0..=1.0).contains(&z)));
        let mean = d.x.iter().sum::<f64>() / d.n() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!(d.targets.as_ref().unwrap().1.iter().all(|&t| t == 0.01));
        let (train, test) = d.split(0.9, 1);
        assert_eq!((train.n(), test.n()), (9000, 1000));
        let mut all: Vec<u64> = train.x.iter().chain(&test.x).map(|z| z.to_bits()).collect();
        let mut orig: Vec<u64> = d.x.iter().map(|z| z.to_bits()).collect();
        all.sort();
        orig.sort();
        assert_eq!(all, orig);
    }

    #[test]
    fn label_encodings() {
        let d = labelled(1, vec![0.0, 1.0, 2.0], vec![0, 2, 1], 3);
        let oh = d
            .clone()
            .with_regression_targets_from_labels(LabelEncoding::OneHot)
            .unwrap();
        assert_eq!(oh.targets.unwrap(), (3, vec![1., 0., 0., 0., 0., 1., 0., 1., 0.]));
        let pm = d
            .clone()
            .with_regression_targets_from_labels(LabelEncoding::PlusMinusOne)
            .unwrap();
        assert_eq!(pm.targets.unwrap(), (3, vec![1., -1., -1., -1., -1., 1., -1., 1., -1.]));
        assert!(d
            .with_regression_targets_from_labels(LabelEncoding::Sign { q: 1 })
            .is_err());
        assert!(c10k(3, 0)
            .with_regression_targets_from_labels(LabelEncoding::OneHot)
            .is_err());
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().write_all(text.as_bytes()).unwrap();
        p
    }

    fn to_csv(m: usize, v: &[f64], header: bool) -> String {
        let mut s = if header {
            (1..=m).map(|j| format!("x{j}")).collect::<Vec<_>>().join(",") + "\n"
        } else {
            String::new()
        };
        for row in v.chunks(m) {
            s += &row.iter().map(|z| z.to_string()).collect::<Vec<_>>().join(",");
            s += "\n";
        }
        s
    }

    #[test]
    fn csv_round_trip_with_and_without_header() {
        let dir = tempfile::tempdir().unwrap();
        let d = annuli(50, 4, &DEFAULT_RINGS, 0.1);
        let (q, t) = d.targets.clone().unwrap();
        let xp = write(&dir, "x.csv", &to_csv(2, &d.x, true));
        let tp = write(&dir, "t.csv", &to_csv(q, &t, false));
        let back = from_csv(&xp, Some(&tp)).unwrap();
        assert_eq!(back.m, 2);
        assert_eq!(
            bits(&Dataset {
                labels: None,
                n_classes: 0,
                ..d.clone()
            }),
            bits(&back)
        );
        let labels: Vec<f64> = d.labels.as_ref().unwrap().iter().map(|&c| c as f64).collect();
        let lp = write(&dir, "l.csv", &format!("class\n{}", to_csv(1, &labels, false)));
        let cls = from_csv_with(&xp, Some(&lp), TargetKind::Classification).unwrap();
        assert_eq!(
            (cls.labels.as_ref(), cls.n_classes, cls.targets.is_none()),
            (d.labels.as_ref(), 2, true)
        );
        let no_targets = from_csv(&xp, None).unwrap();
        assert_eq!(no_targets.x, back.x);
    }

    fn err(r: Result<Dataset>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    }

    #[test]
    fn csv_errors_name_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "a.csv", "a,b\n1,2\n3,abc\n");
        let e = err(from_csv(&p, None));
        assert!(
            e.contains("a.csv") && e.contains("row 3, column 2") && e.contains("`abc`"),
            "{e}"
        );
        let p = write(&dir, "b.csv", "1,2\n\n3,4,5\n");
        let e = err(from_csv(&p, None));
        assert!(
            e.contains("row 3") && e.contains("expected 2 columns") && e.contains("found 3"),
            "{e}"
        );
        let p = write(&dir, "c.csv", "1,2\n3,NaN\n");
        let e = err(from_csv(&p, None));
        assert!(e.contains("row 2, column 2") && e.contains("finite"), "{e}");
        let p = write(&dir, "bom.csv", "\u{feff}1,2\r\n3,4\r\n");
        assert_eq!(from_csv(&p, None).unwrap().x, vec![1.0, 2.0, 3.0, 4.0]);
        let p = write(&dir, "d.csv", "x,y\n");
        assert!(err(from_csv(&p, None)).contains("no data rows"));
        let x = write(&dir, "x.csv", "1,2\n3,4\n");
        let t = write(&dir, "t.csv", "1\n");
        assert!(err(from_csv(&x, Some(&t))).contains("1 data rows"));
        let t = write(&dir, "t2.csv", "0\n1.5\n");
        let e = err(from_csv_with(&x, Some(&t), TargetKind::Classification));
        assert!(e.contains("row 2, column 1") && e.contains("integer"), "{e}");
        let missing = from_csv(&dir.path().join("nope.csv"), None).unwrap_err();
        assert_eq!(missing.exit_code(), 1);
    }

    #[test]
    fn check_finite_reports_first_bad_entry() {
        let mut d = blobs(5, 1, 3, 2, 1.0);
        d.check_finite(Path::new("f.csv")).unwrap();
        d.x[7] = f64::INFINITY;
        d.x[9] = f64::NAN;
        let e = d.check_finite(Path::new("f.csv")).unwrap_err().to_string();
        assert!(
            e.contains("f.csv") && e.contains("row 3, column 2") && e.contains("inf"),
            "{e}"
        );
        let mut c = c10k(4, 0);
        c.targets.as_mut().unwrap().1[2] = f64::NAN;
        let e = c.check_finite(Path::new("t.csv")).unwrap_err().to_string();
        assert!(e.contains("target row 3, column 1") && e.contains("NaN"), "{e}");
    }
}
