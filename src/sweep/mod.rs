//! Sweeps: any scenario over a grid of parameter values and seeds, split into units of work that run on one
//! machine or many (shards, SLURM job arrays), resume after a kill, and merge into one aggregated result.
//!
//! - [`spec`]: the `[sweep]` table (axes as dotted paths into the scenario, product or zip, statistics axis,
//!   figures, SLURM resources) and how a point's values are written into the scenario;
//! - [`Sweep`] (here): the expanded points, each a validated scenario, and the [`Unit`]s of work — one per point,
//!   or, for a study made of independent units ([`crate::study::Units`]), one per point and study unit;
//! - [`folder`]: the sweep folder (`units/<id>/`, one atomic run folder per unit), running a shard, resume;
//! - [`aggregate`]: the long table of every point's summary values, statistics over seeds (mean, standard
//!   deviation, Student-t 95 % interval), figures with fitted slopes, summary.json;
//! - [`merge`]: shard folders → one sweep folder with `aggregate/`, refusing incomplete or mixed sets;
//! - [`slurm`]: sbatch scripts for a job array of shards plus a merge job.
//!
//! Ids are derived from values only: a unit's id is the SHA-256 of the canonical JSON of its point's values (and
//! its study-unit id), so every machine computes the same ids and shard I of N runs the same units anywhere. The
//! aggregated outputs depend only on the unit results, read back from the unit folders in id order, so a single
//! machine, 3 shards or a SLURM array write byte-identical aggregated CSVs and summary.json (timings, hosts and
//! command lines live in the manifests only).

pub mod aggregate;
pub mod folder;
pub mod merge;
pub mod slurm;
pub mod spec;

pub use spec::{Combine, SweepSpec};

use crate::output::manifest::sha256_hex;
use crate::scenario::ScenarioFile;
use crate::study::{self, Plan, Study};
use crate::{Error, Result};
use serde_json::Value as Json;
use spec::{apply, error_at, segments};
use toml_edit::DocumentMut;

/// One point of a sweep: a value of every axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The value index of every axis.
    pub index: Vec<usize>,
    /// (axis path, canonical value), in axis order.
    pub values: Vec<(String, Json)>,
    /// Stable id from the values (16 hex digits).
    pub id: String,
    /// `seed=1 genericity.points=4`.
    pub label: String,
}

/// A unit of work: a point, or a point and one of its study's units.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Stable id (16 hex digits): the unit folder's name.
    pub id: String,
    /// Index of its point.
    pub point: usize,
    /// The study unit (index and id) when the study is made of units.
    pub inner: Option<(usize, String)>,
    /// Readable description.
    pub label: String,
    /// Relative cost ([`crate::study::Units::cost`]; 1 for a whole study run).
    pub cost: f64,
}

/// A scenario expanded over its `[sweep]` (or, without one, its single point).
pub struct Sweep<'f> {
    /// The scenario as written (with its `[sweep]`).
    pub file: &'f ScenarioFile,
    /// The `[sweep]` table, if any.
    pub spec: Option<SweepSpec>,
    /// Every point in canonical order.
    pub points: Vec<Point>,
    /// SHA-256 of the scenario text without `[sweep.plot]` and `[sweep.slurm]` (which change how results are
    /// shown and where they run, not the results): shards and units of one sweep carry it, merge compares it.
    pub hash: String,
    /// The study the scenario declares.
    pub study: &'static dyn Study,
    seed: Option<u64>,
}

/// 16 hex digits of the SHA-256 of `tag` and `canonical`.
fn short_id(tag: &str, canonical: &str) -> String {
    sha256_hex(format!("lieflow sweep {tag} v1\n{canonical}").as_bytes())[..16].to_string()
}

impl<'f> Sweep<'f> {
    /// Expand `file` (its `[sweep]`, or one point without it). `seed`: the `--seed` override, written into every
    /// point (refused when `seed` is an axis).
    pub fn new(file: &'f ScenarioFile, seed: Option<u64>) -> Result<Self> {
        let spec = SweepSpec::parse(file)?;
        let study = study::registry::lookup(&file.scenario.study).ok_or_else(|| {
            file.error(
                "study",
                format!(
                    "unknown study `{}`; expected one of {:?}",
                    file.scenario.study,
                    study::registry::names()
                ),
            )
        })?;
        if let (Some(s), Some(_)) = (&spec, seed) {
            if let Some(a) = s.axis("seed") {
                return Err(error_at(
                    file,
                    a.at,
                    "sweep.axes.seed",
                    "--seed conflicts with the sweep's `seed` axis; drop one of them",
                ));
            }
        }
        let points = match &spec {
            None => vec![Point {
                index: Vec::new(),
                values: Vec::new(),
                id: short_id("point", "[]"),
                label: "(single point)".into(),
            }],
            Some(s) => s
                .combinations()
                .into_iter()
                .map(|index| {
                    let values: Vec<(String, Json)> = s
                        .axes
                        .iter()
                        .zip(&index)
                        .map(|(a, &i)| (a.path.clone(), a.canonical[i].clone()))
                        .collect();
                    let canon = Json::Array(
                        values
                            .iter()
                            .map(|(p, v)| Json::Array(vec![Json::String(p.clone()), v.clone()]))
                            .collect(),
                    )
                    .to_string();
                    let label = values
                        .iter()
                        .map(|(p, v)| format!("{p}={}", spec::display(v)))
                        .collect::<Vec<_>>()
                        .join(" ");
                    Point {
                        index,
                        values,
                        id: short_id("point", &canon),
                        label,
                    }
                })
                .collect(),
        };
        let mut doc: DocumentMut = file
            .text
            .parse()
            .map_err(|e| file.error("", format!("the scenario is not valid TOML: {e}")))?;
        if let Some(t) = doc.get_mut("sweep").and_then(|s| s.as_table_like_mut()) {
            t.remove("plot");
            t.remove("slurm");
        }
        let hash = sha256_hex(doc.to_string().as_bytes());
        Ok(Sweep {
            file,
            spec,
            points,
            hash,
            study,
            seed,
        })
    }

    /// The scenario name (output folder name).
    pub fn name(&self) -> String {
        self.file.name()
    }

    /// The scenario of point `p`: the file's text without `[sweep]`, with the point's values written in, parsed.
    /// A path that is not in the scenario or a value of the wrong kind is an input error at the axis' value.
    pub fn point_file(&self, p: usize) -> Result<ScenarioFile> {
        let mut doc: DocumentMut = self
            .file
            .text
            .parse()
            .map_err(|e| self.file.error("", format!("the scenario is not valid TOML: {e}")))?;
        doc.remove("sweep");
        if let Some(s) = self.seed {
            doc.insert("seed", toml_edit::value(s as i64));
        }
        if let Some(spec) = &self.spec {
            for (a, &i) in spec.axes.iter().zip(&self.points[p].index) {
                let segs = segments(&a.path).expect("checked when parsed");
                apply(&mut doc, &segs, &a.values[i]).map_err(|e| {
                    error_at(
                        self.file,
                        a.value_at[i],
                        &format!("sweep.axes.{}[{i}]", a.path),
                        e.message(&a.path),
                    )
                })?;
            }
        }
        if self.seed.is_some() && doc.get("seed").and_then(|s| s.as_integer()).is_none() {
            // u64 seeds beyond i64 cannot be TOML integers.
            return Err(Error::arg(
                "--seed",
                "seeds above 2^63 − 1 cannot be written into a sweep's scenarios",
            ));
        }
        ScenarioFile::parse(&self.file.path, doc.to_string()).map_err(|e| self.locate(p, e))
    }

    /// Parse and prepare point `p` (every check of its study), with errors located in the scenario file.
    pub fn prepare<'a>(&self, p: usize, file: &'a ScenarioFile) -> Result<Box<dyn Plan + 'a>> {
        file.check_tables(self.study.tables())
            .and_then(|_| file.check_name())
            .and_then(|_| self.study.prepare(file))
            .map_err(|e| self.locate(p, e))
    }

    /// An input error of point `p`'s scenario, located in the scenario file: at the value of the axis it concerns
    /// (the error's field is the axis path or inside it), else at the `[sweep]` header naming the point.
    fn locate(&self, p: usize, e: Error) -> Error {
        let Some(spec) = &self.spec else { return e };
        let Error::Input {
            file,
            line,
            col,
            field,
            msg,
        } = e
        else {
            return e;
        };
        if file != self.file.path {
            return Error::Input {
                file,
                line,
                col,
                field,
                msg,
            };
        }
        let point = &self.points[p];
        let within = |a: &str| {
            !field.is_empty()
                && (field == a
                    || field.starts_with(&format!("{a}."))
                    || field.starts_with(&format!("{a}["))
                    || a.starts_with(&format!("{field}.")))
        };
        match spec.axes.iter().zip(&point.index).find(|(a, _)| within(&a.path)) {
            Some((a, &i)) => error_at(
                self.file,
                a.value_at[i],
                &format!("sweep.axes.{}[{i}]", a.path),
                format!(
                    "with {} = {} (sweep point {}): field `{field}`: {msg}",
                    a.path,
                    spec::display(&a.canonical[i]),
                    point.label
                ),
            ),
            None => {
                // The rest of the file is unchanged, so the error's own line is right unless it names nothing.
                let (l, c) = match line {
                    Some(l) => (l, col.unwrap_or(0)),
                    None => spec.at,
                };
                error_at(
                    self.file,
                    (l, c),
                    &field,
                    format!("in sweep point {}: {msg}", point.label),
                )
            }
        }
    }

    /// Every unit in canonical order (points in order; a point's study units in the study's order), with its
    /// cost. Prepares every point (so every value is validated before anything runs).
    pub fn units(&self) -> Result<Vec<Unit>> {
        let mut out = Vec::new();
        for (p, point) in self.points.iter().enumerate() {
            let f = self.point_file(p)?;
            let plan = self.prepare(p, &f)?;
            out.extend(self.units_of(p, point, plan.as_ref()));
        }
        let mut ids: Vec<&str> = out.iter().map(|u| u.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(self.file.error(
                "sweep",
                format!(
                    "two units share the id {} (a study declared the same unit id twice)",
                    w[0]
                ),
            ));
        }
        Ok(out)
    }

    /// The units of point `p` whose plan is `plan`.
    pub fn units_of(&self, p: usize, point: &Point, plan: &dyn Plan) -> Vec<Unit> {
        let canon = Json::Array(
            point
                .values
                .iter()
                .map(|(p, v)| Json::Array(vec![Json::String(p.clone()), v.clone()]))
                .collect(),
        )
        .to_string();
        match plan.units() {
            None => vec![Unit {
                id: short_id("unit", &canon),
                point: p,
                inner: None,
                label: point.label.clone(),
                cost: 1.0,
            }],
            Some(u) => u
                .ids()
                .into_iter()
                .enumerate()
                .map(|(j, inner)| Unit {
                    id: short_id("unit", &format!("{canon}\n{inner}")),
                    point: p,
                    label: if self.spec.is_some() {
                        format!("{} / {inner}", point.label)
                    } else {
                        inner.clone()
                    },
                    inner: Some((j, inner)),
                    cost: u.cost(j),
                })
                .collect(),
        }
    }
}

/// `--shard I/N`: shard I (0 ≤ I < N) runs units I, I + N, I + 2N, … of the canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether unit `k` (its position in the canonical order) belongs to this shard.
    pub fn owns(&self, k: usize) -> bool {
        k % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("expected I/N with 0 ≤ I < N ≤ 100000 (e.g. 0/3, the first of 3 shards), found `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || count > 100_000 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const BASE: &str = "name = \"g\"\nstudy = \"genericity\"\nseed = 5\n[genericity]\nfamily = \"polynomial\"\n\
                        dim = 2\npoints = 3\ndraws = 4\nmax_depth = 4\n";

    fn file(sweep: &str) -> ScenarioFile {
        ScenarioFile::parse(Path::new("s.toml"), format!("{BASE}{sweep}")).unwrap()
    }

    #[test]
    fn product_and_zip_expand_in_order_with_stable_ids() {
        let f = file("[sweep]\n[sweep.axes]\nseed = [1, 2]\n\"genericity.points\" = [3, 4, 5]\n");
        let s = Sweep::new(&f, None).unwrap();
        let labels: Vec<&str> = s.points.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "seed=1 genericity.points=3",
                "seed=1 genericity.points=4",
                "seed=1 genericity.points=5",
                "seed=2 genericity.points=3",
                "seed=2 genericity.points=4",
                "seed=2 genericity.points=5"
            ]
        );
        // Nested keys are the same axis, and formatting does not change ids.
        let g = file("[sweep]\n[sweep.axes]\nseed = [ 1,2 ] # seeds\ngenericity.points = [3, 4, 5]\n");
        let t = Sweep::new(&g, None).unwrap();
        assert_eq!(
            s.points.iter().map(|p| &p.id).collect::<Vec<_>>(),
            t.points.iter().map(|p| &p.id).collect::<Vec<_>>()
        );
        let z = file("[sweep]\ncombine = \"zip\"\n[sweep.axes]\nseed = [1, 2]\n\"genericity.points\" = [3, 4]\n");
        let z = Sweep::new(&z, None).unwrap();
        assert_eq!(z.points.len(), 2);
        assert_eq!(z.points[1].label, "seed=2 genericity.points=4");
        assert_eq!(z.points[1].id, s.points[4].id, "the same values give the same id");
        let pf = s.point_file(4).unwrap();
        assert_eq!(pf.scenario.seed, 2);
        assert!(
            pf.text.contains("points = 4") && !pf.text.contains("[sweep"),
            "{}",
            pf.text
        );
    }

    #[test]
    fn bad_paths_and_values_are_located_at_the_sweep_line() {
        let cases = [
            (
                "[sweep]\n[sweep.axes]\n\"genericity.pionts\" = [3, 4]\n",
                "sweep.axes.genericity.pionts",
                12,
            ),
            (
                "[sweep]\n[sweep.axes]\n\"timee.horizon\" = [1.0]\n",
                "sweep.axes.timee.horizon",
                12,
            ),
            (
                "[sweep]\n[sweep.axes]\n\"genericity.points\" = [3, \"many\"]\n",
                "sweep.axes.genericity.points",
                12,
            ),
            (
                "[sweep]\n[sweep.axes]\n\"genericity.points\" = [3, 0]\n",
                "sweep.axes.genericity.points",
                12,
            ),
        ];
        for (sweep, field, line) in cases {
            let f = file(sweep);
            let err = Sweep::new(&f, None).and_then(|s| s.units()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
            let Error::Input { line: l, field: fd, .. } = &err else {
                panic!()
            };
            assert_eq!(*l, Some(line), "{err}");
            assert!(fd.starts_with(field), "{err}");
        }
        let zip = file("[sweep]\ncombine = \"zip\"\n[sweep.axes]\nseed = [1, 2]\n\"genericity.points\" = [3]\n");
        let err = Sweep::new(&zip, None).err().unwrap().to_string();
        assert!(err.contains("line 14") && err.contains("zip"), "{err}");
        let dup = file("[sweep]\n[sweep.axes]\nseed = [1, 1]\n");
        assert!(Sweep::new(&dup, None).err().unwrap().to_string().contains("twice"));
    }

    #[test]
    fn shards_parse_and_partition() {
        let s: Shard = "1/3".parse().unwrap();
        assert_eq!((s.index, s.count), (1, 3));
        assert!((0..9).filter(|&k| s.owns(k)).eq([1, 4, 7]));
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
