//! Validation and construction: [`super::Scenario`] → [`Problem`]. Every check lives here and names the field.

use super::schema::{ControlSpec, DataSpec};
use super::ScenarioFile;
use crate::control::{PiecewiseConstant, TimeGrid};
use crate::data::{self, Dataset};
use crate::field::family::SpecError;
use crate::field::VectorField;
use crate::integrate::{SaveAt, SchemeKind, Solver};
use crate::output::table::read_controls_csv;
use crate::problem::Problem;
use crate::{Error, Result};

/// Largest horizon T accepted: times stay finite and far from overflow in every formula that scales them.
pub const MAX_HORIZON: f64 = 1e12;

impl ScenarioFile {
    /// The time grid `[time]`, validated: 0 < T ≤ [`MAX_HORIZON`], K ≥ 1, s ≥ 1, and the step T/(K·s) a normal
    /// positive number, so that every time t_n = n·h on the grid is finite and distinct from its neighbours.
    pub fn grid(&self) -> Result<(TimeGrid, usize)> {
        let t = self
            .scenario
            .time
            .as_ref()
            .ok_or_else(|| self.error("time", "missing table [time]"))?;
        if !(t.horizon.is_finite() && t.horizon > 0.0 && t.horizon <= MAX_HORIZON) {
            return Err(self.error(
                "time.horizon",
                format!(
                    "expected a number > 0 and ≤ {MAX_HORIZON:e}, found {}",
                    crate::error::num(t.horizon)
                ),
            ));
        }
        if t.intervals == 0 {
            return Err(self.error("time.intervals", "expected an integer ≥ 1"));
        }
        if t.substeps == 0 {
            return Err(self.error("time.substeps", "expected an integer ≥ 1"));
        }
        let h = t.horizon / t.intervals as f64 / t.substeps as f64;
        if !(h.is_normal() && h > 0.0) {
            return Err(self.error(
                "time.intervals",
                format!(
                    "the step T/(K·s) = {} / ({} × {}) = {h:e} is not a normal positive number",
                    crate::error::num(t.horizon),
                    t.intervals,
                    t.substeps
                ),
            ));
        }
        Ok((
            TimeGrid {
                horizon: t.horizon,
                intervals: t.intervals,
            },
            t.substeps,
        ))
    }

    /// The vector field `[model]`, built by its family (see [`super::families`]).
    pub fn field(&self) -> Result<Box<dyn VectorField>> {
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| self.error("model", "missing table [model]"))?;
        model.build().map_err(|e| self.spec_error(e))
    }

    /// A family's [`SpecError`] as a located input error.
    pub fn spec_error(&self, e: SpecError) -> Error {
        self.error(&e.key, e.msg)
    }

    /// The solver `[solver]` + `[time].substeps`, validated.
    pub fn solver(&self) -> Result<(Solver, SaveAt)> {
        let (_, substeps) = self.grid()?;
        let s = &self.scenario.solver;
        for (key, v) in [("solver.rtol", s.rtol), ("solver.atol", s.atol)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(self.error(
                    key,
                    format!("expected a finite number > 0, found {}", crate::error::num(v)),
                ));
            }
        }
        let save = match (&s.save_times, s.save.as_str()) {
            (Some(ts), _) => SaveAt::Times(ts.clone()),
            (None, "final") => SaveAt::Final,
            (None, "intervals") => SaveAt::Intervals,
            (None, "steps") => SaveAt::Steps,
            (None, other) => {
                return Err(self.error(
                    "solver.save",
                    format!("expected `final`, `intervals` or `steps`, found `{other}`"),
                ))
            }
        };
        if let SaveAt::Times(ts) = &save {
            let (grid, _) = self.grid()?;
            if ts.is_empty()
                || ts.windows(2).any(|w| w[1] < w[0])
                || ts.iter().any(|t| !(0.0..=grid.horizon).contains(t))
            {
                return Err(self.error(
                    "solver.save_times",
                    format!("expected ascending times in [0, {}]", grid.horizon),
                ));
            }
        }
        Ok((
            Solver {
                scheme: s.scheme,
                substeps,
                rtol: s.rtol,
                atol: s.atol,
            },
            save,
        ))
    }

    /// The controls `[controls]` for `d` values per interval.
    pub fn controls(&self, d: usize) -> Result<PiecewiseConstant> {
        let (grid, _) = self.grid()?;
        let k = grid.intervals;
        let spec = self
            .scenario
            .controls
            .as_ref()
            .ok_or_else(|| self.error("controls", "missing table [controls]"))?;
        let c = match spec {
            ControlSpec::Constant { value } => {
                if value.len() != d {
                    return Err(self.error(
                        "controls.value",
                        format!(
                            "expected {d} numbers (the model's control dimension), found {}",
                            value.len()
                        ),
                    ));
                }
                PiecewiseConstant::constant(grid, value)
            }
            ControlSpec::Inline { values } => {
                if values.len() != k || values.iter().any(|r| r.len() != d) {
                    return Err(self.error(
                        "controls.values",
                        format!("expected {k} rows (time.intervals) of {d} numbers (control dimension)"),
                    ));
                }
                PiecewiseConstant::new(grid, d, values.concat())
            }
            ControlSpec::Csv { file } => {
                let path = self.base_dir().join(file);
                self.check_csv_size("controls.file", &path)?;
                let (v, rows, cols) = read_controls_csv(&path).map_err(self.file_error("controls.file"))?;
                if rows != k || cols != d {
                    return Err(Error::input(
                        &path,
                        "controls.file",
                        format!(
                        "expected {k} rows (time.intervals) × {d} columns (control dimension), found {rows} × {cols}"
                    ),
                    ));
                }
                PiecewiseConstant::new(grid, d, v)
            }
            ControlSpec::Init { seed } => {
                match self
                    .model
                    .as_ref()
                    .and_then(|m| m.init_params(seed.unwrap_or(self.scenario.seed)))
                {
                    Some(row) => PiecewiseConstant::constant(grid, &row),
                    None => {
                        return Err(self.error(
                            "controls.source",
                            "`init` is available for the mlp family; use `random`",
                        ))
                    }
                }
            }
            ControlSpec::Random { scale, seed } => {
                if !(scale.is_finite() && *scale >= 0.0) {
                    return Err(self.error("controls.scale", "expected a finite number ≥ 0"));
                }
                PiecewiseConstant::random(grid, d, *scale, seed.unwrap_or(self.scenario.seed ^ 0xC0_47_01))
            }
        };
        if let Some(i) = c.values().iter().position(|v| !v.is_finite()) {
            let (k, j) = (i / d, i % d);
            let (field, at) = match spec {
                ControlSpec::Constant { .. } => ("controls.value", format!("controls.value[{j}]")),
                ControlSpec::Inline { .. } => ("controls.values", format!("controls.values[{k}][{j}]")),
                ControlSpec::Csv { .. } => ("controls.file", "controls.file".into()),
                ControlSpec::Random { .. } => ("controls.scale", "controls.scale".into()),
                ControlSpec::Init { .. } => ("controls", "controls".into()),
            };
            return Err(self.error_at(
                field,
                &at,
                format!(
                    "control value {} at interval {}, entry {} is not finite (1-based)",
                    c.values()[i],
                    k + 1,
                    j + 1
                ),
            ));
        }
        Ok(c)
    }

    /// The data ensemble `[data]`, checked for finiteness.
    pub fn data(&self) -> Result<Dataset> {
        let spec = self
            .scenario
            .data
            .as_ref()
            .ok_or_else(|| self.error("data", "missing table [data]"))?;
        let seed = |s: &Option<u64>| s.unwrap_or(self.scenario.seed);
        let nonzero = |n: usize| {
            if n == 0 {
                Err(self.error("data.n", "expected an integer ≥ 1"))
            } else {
                Ok(n)
            }
        };
        let noise = match spec {
            DataSpec::Annuli { noise, .. } | DataSpec::Moons { noise, .. } | DataSpec::Spirals { noise, .. } => *noise,
            _ => 0.0,
        };
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(self.error(
                "data.noise",
                format!("expected a finite number ≥ 0, found {}", crate::error::num(noise)),
            ));
        }
        let ds = match spec {
            DataSpec::Annuli { n, noise, seed: s } => data::annuli(nonzero(*n)?, seed(s), &data::DEFAULT_RINGS, *noise),
            DataSpec::Moons { n, noise, seed: s } => data::moons(nonzero(*n)?, seed(s), *noise),
            DataSpec::Spirals {
                n,
                turns,
                noise,
                seed: s,
            } => data::spirals(nonzero(*n)?, seed(s), *turns, *noise),
            DataSpec::Blobs {
                n,
                classes,
                dim,
                std,
                seed: s,
            } => {
                if *classes == 0 || *dim == 0 || !(std.is_finite() && *std >= 0.0) {
                    return Err(self.error("data", "blobs need classes ≥ 1, dim ≥ 1 and a finite std ≥ 0"));
                }
                data::blobs(nonzero(*n)?, seed(s), *dim, *classes, *std)
            }
            DataSpec::Checkerboard { n, cells, seed: s } => {
                if *cells == 0 {
                    return Err(self.error("data.cells", "expected an integer ≥ 1"));
                }
                data::checkerboard(nonzero(*n)?, seed(s), *cells)
            }
            DataSpec::C10k { n, seed: s } => data::c10k(nonzero(*n)?, seed(s)),
            DataSpec::Points { points, targets } => {
                let m = points.first().map(Vec::len).unwrap_or(0);
                if m == 0 || points.iter().any(|p| p.len() != m) {
                    return Err(self.error("data.points", "expected a non-empty list of points of equal dimension"));
                }
                let mut ds = Dataset {
                    m,
                    x: points.concat(),
                    labels: None,
                    n_classes: 0,
                    targets: None,
                };
                if let Some(t) = targets {
                    let q = t.first().map(Vec::len).unwrap_or(0);
                    if t.len() != points.len() || q == 0 || t.iter().any(|r| r.len() != q) {
                        return Err(self.error(
                            "data.targets",
                            format!("expected {} rows of equal length", points.len()),
                        ));
                    }
                    ds.targets = Some((q, t.concat()));
                }
                ds
            }
            DataSpec::Csv { inputs, targets } => {
                let base = self.base_dir();
                let tpath = targets.as_ref().map(|t| base.join(t));
                data::from_csv(&base.join(inputs), tpath.as_deref()).map_err(|e| {
                    let in_targets = match &e {
                        Error::Io { path, .. } | Error::Input { file: path, .. } => Some(path) == tpath.as_ref(),
                        _ => false,
                    };
                    self.wrap_file_error(if in_targets { "data.targets" } else { "data.inputs" }, e)
                })?
            }
        };
        if let Some(bad) = ds.first_non_finite() {
            let (i, j) = (bad.point, bad.coordinate);
            let what = if bad.target { "target" } else { "point" };
            let (field, hint) = match spec {
                DataSpec::Points { .. } if bad.target => ("data.targets", ""),
                DataSpec::Points { .. } => ("data.points", ""),
                DataSpec::Blobs { .. } => ("data.std", " (lower data.std)"),
                DataSpec::Spirals { .. } => ("data.turns", " (lower data.turns or data.noise)"),
                _ => ("data.noise", " (lower data.noise)"),
            };
            return Err(self.error_at(
                field,
                &format!("{field}[{i}][{j}]"),
                format!(
                    "{what} {}, coordinate {} (1-based) is {}: expected a finite number{hint}",
                    i + 1,
                    j + 1,
                    bad.value
                ),
            ));
        }
        Ok(ds)
    }

    /// Build the full problem and check that its parts fit together (data dimension = model dimension, …).
    pub fn problem(&self) -> Result<Problem> {
        // Sizes first: nothing below allocates more than the budget allows.
        self.grid()?;
        self.check_budget(|_, _| ())?;
        let field = self.field()?;
        let data = self.data()?;
        if data.m != field.state_dim() {
            return Err(self.error(
                "model.dim",
                format!(
                    "the model acts on R^{} but the data points are in R^{}",
                    field.state_dim(),
                    data.m
                ),
            ));
        }
        let control = self.controls(field.control_dim())?;
        let (solver, save) = self.solver()?;
        if solver.scheme == SchemeKind::Dopri5 && !matches!(save, SaveAt::Final | SaveAt::Intervals | SaveAt::Times(_))
        {
            return Err(self.error(
                "solver.save",
                "dopri5 saves at `final`, `intervals` or explicit save_times",
            ));
        }
        Ok(Problem {
            field,
            control,
            solver,
            save,
            data,
        })
    }
}
