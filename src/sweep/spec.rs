//! The `[sweep]` table: axes (dotted paths into the scenario with lists of values), how they combine, which axis
//! statistics are taken over, the figures to draw and SLURM resources; and how one sweep point's values are written
//! into the scenario (by editing the parsed TOML, so the rest of the file stays as written).
//!
//! ```toml
//! [sweep]
//! combine = "product"          # or "zip" (all axes the same length, taken element by element)
//! over = "seed"                # statistics over this axis (default: `seed` when it is an axis)
//! [sweep.axes]                 # in file order; the first axis varies slowest
//! seed = [1, 2, 3]
//! "genericity.points" = [4, 6, 8]   # a dotted path (quoted, or as nested keys: genericity.points = [...])
//! [[sweep.plot]]               # a figure of a summary value against an axis
//! value = "probability_full_rank"
//! x = "genericity.points"
//! lines = "genericity.degree"  # optional: one line per value of a second axis (sequential colours)
//! log = true                   # log–log axes with a fitted slope and its 95 % interval
//! [sweep.slurm]                # defaults for `lieflow slurm` (flags override)
//! time = "00:10:00"
//! mem = "1G"
//! cpus_per_task = 1
//! partition = "debug"
//! ```

use crate::scenario::locate::line_col;
use crate::scenario::ScenarioFile;
use crate::{Error, Result};
use serde_json::Value as Json;
use toml_edit::{DocumentMut, ImDocument, Item, Value};

/// Largest number of sweep points (a product of long axes grows fast; each point is validated up front).
pub const MAX_POINTS: usize = 100_000;

/// How axes combine into points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Every combination; the first axis varies slowest.
    Product,
    /// Element k of every axis together (all axes the same length).
    Zip,
}

impl Combine {
    /// The scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            Combine::Product => "product",
            Combine::Zip => "zip",
        }
    }
}

/// One axis: a dotted path and its values, with where they are written in the scenario file.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The path as written (`time.horizon`, `lie.random_points.n`, `model.fields[1].a`).
    pub path: String,
    /// The values, without their formatting.
    pub values: Vec<Value>,
    /// Canonical JSON of each value (ids, tables, summary).
    pub canonical: Vec<Json>,
    /// Line and column of the axis' list and of each value.
    pub at: (usize, usize),
    pub value_at: Vec<(usize, usize)>,
}

/// `[[sweep.plot]]`: a summary value against an axis.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSpec {
    /// A summary value (nested keys joined by dots, as the columns of sweep.csv).
    pub value: String,
    /// The axis on the horizontal axis (numeric values).
    pub x: String,
    /// A second axis: one line per value.
    pub lines: Option<String>,
    /// Log–log axes.
    pub log: bool,
    /// Fit a line (log y against log x when `log`) and report its slope with the 95 % interval.
    pub fit: bool,
    /// Where `[[sweep.plot]]` entry is (for messages).
    pub at: (usize, usize),
}

/// `[sweep.slurm]`: job resources, each overridden by the flag of the same name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlurmSpec {
    pub time: Option<String>,
    pub mem: Option<String>,
    pub cpus_per_task: Option<u32>,
    pub partition: Option<String>,
}

/// A parsed `[sweep]` table.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    pub combine: Combine,
    pub axes: Vec<Axis>,
    /// The axis statistics are taken over.
    pub over: Option<String>,
    pub plots: Vec<PlotSpec>,
    pub slurm: SlurmSpec,
    /// Line and column of the `[sweep]` header.
    pub at: (usize, usize),
}

/// One step of a path into the scenario.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` → [a, b, 2, c]; a purely numeric key segment indexes an array (as in messages: `fields.1.a`).
pub(crate) fn segments(path: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return None;
        }
        if !key.is_empty() {
            match key.parse::<usize>() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(key.to_string())),
            }
        }
        let mut r = rest;
        while !r.is_empty() {
            let inner = r.strip_prefix('[')?;
            let close = inner.find(']')?;
            out.push(Seg::Index(inner[..close].trim().parse().ok()?));
            r = &inner[close + 1..];
        }
    }
    (!out.is_empty()).then_some(out)
}

/// What kind of TOML value `v` is, in words.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::InlineTable(_) => "a table",
    }
}

/// Canonical JSON of a TOML value: integers as integers, floats as shortest round-trip numbers (non-finite as the
/// strings "nan", "inf", "-inf"), tables with sorted keys. Two values have the same canonical form iff they are the
/// same TOML value, so ids derived from it are stable across machines and formatting.
pub fn canonical(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::String(s.value().clone()),
        Value::Integer(i) => Json::from(*i.value()),
        Value::Float(f) => {
            let x = *f.value();
            if x.is_nan() {
                Json::String("nan".into())
            } else if x.is_infinite() {
                Json::String(if x > 0.0 { "inf" } else { "-inf" }.into())
            } else {
                serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
            }
        }
        Value::Boolean(b) => Json::Bool(*b.value()),
        Value::Datetime(d) => Json::String(d.value().to_string()),
        Value::Array(a) => Json::Array(a.iter().map(canonical).collect()),
        Value::InlineTable(t) => {
            let mut keys: Vec<(&str, &Value)> = t.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            let mut m = serde_json::Map::new();
            for (k, v) in keys {
                m.insert(k.to_string(), canonical(v));
            }
            Json::Object(m)
        }
    }
}

/// A canonical value as it reads in labels and CSV text cells (strings unquoted).
pub fn display(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `v` with its formatting (comments, spacing) removed, at any depth.
fn plain(v: &Value) -> Value {
    let mut v = v.clone();
    v.decor_mut().clear();
    match &mut v {
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = plain(x);
            }
            a.set_trailing("");
            a.set_trailing_comma(false);
        }
        Value::InlineTable(t) => t.fmt(),
        _ => {}
    }
    v
}

fn at(text: &str, span: Option<std::ops::Range<usize>>) -> (usize, usize) {
    span.map_or((0, 0), |s| line_col(text, s.start))
}

/// An input error at a line and column of `file` (0: not located).
pub(crate) fn error_at(file: &ScenarioFile, pos: (usize, usize), field: &str, msg: impl Into<String>) -> Error {
    Error::Input {
        file: file.path.clone(),
        line: (pos.0 > 0).then_some(pos.0),
        col: (pos.1 > 0).then_some(pos.1),
        field: field.to_string(),
        msg: msg.into(),
    }
}

impl SweepSpec {
    /// The `[sweep]` table of `file`, or `None` when it has none.
    pub fn parse(file: &ScenarioFile) -> Result<Option<SweepSpec>> {
        let text = &file.text;
        let doc = ImDocument::parse(text.as_str())
            .map_err(|e| file.error("", format!("the scenario is not valid TOML: {e}")))?;
        let Some(sweep) = doc.as_table().get("sweep") else {
            return Ok(None);
        };
        let header = at(text, sweep.as_table_like().and_then(|_| span_of(sweep)));
        let err = |pos, field: &str, msg: String| error_at(file, pos, field, msg);
        let Some(table) = sweep.as_table_like() else {
            return Err(err(header, "sweep", "expected a table [sweep]".into()));
        };
        let mut spec = SweepSpec {
            combine: Combine::Product,
            axes: Vec::new(),
            over: None,
            plots: Vec::new(),
            slurm: SlurmSpec::default(),
            at: header,
        };
        let mut over_at = header;
        for (k, item) in table.iter() {
            let pos = at(text, span_of(item));
            match k {
                "combine" => match item.as_str() {
                    Some("product") => spec.combine = Combine::Product,
                    Some("zip") => spec.combine = Combine::Zip,
                    _ => return Err(err(pos, "sweep.combine", "expected \"product\" or \"zip\"".into())),
                },
                "over" => {
                    over_at = pos;
                    spec.over = Some(
                        item.as_str()
                            .ok_or_else(|| err(pos, "sweep.over", "expected the path of an axis".into()))?
                            .to_string(),
                    )
                }
                "axes" => {
                    let Some(t) = item.as_table_like() else {
                        return Err(err(
                            pos,
                            "sweep.axes",
                            "expected a table of axes: path = [values…]".into(),
                        ));
                    };
                    collect_axes(file, t, "", &mut spec.axes)?;
                }
                "plot" => spec.plots = parse_plots(file, item)?,
                "slurm" => spec.slurm = parse_slurm(file, item)?,
                other => {
                    return Err(err(
                        pos,
                        &format!("sweep.{other}"),
                        format!(
                            "unknown key `{other}` in [sweep]: expected combine, over, [sweep.axes], \
                             [[sweep.plot]] or [sweep.slurm]"
                        ),
                    ))
                }
            }
        }
        if spec.axes.is_empty() {
            return Err(err(
                header,
                "sweep.axes",
                "a sweep needs at least one axis: [sweep.axes] with path = [values…]".into(),
            ));
        }
        for (i, a) in spec.axes.iter().enumerate() {
            if spec.axes[..i].iter().any(|b| b.path == a.path) {
                return Err(err(
                    a.at,
                    &format!("sweep.axes.{}", a.path),
                    "this axis is given twice".into(),
                ));
            }
        }
        if spec.combine == Combine::Zip {
            let n = spec.axes[0].values.len();
            if let Some(a) = spec.axes.iter().find(|a| a.values.len() != n) {
                return Err(err(
                    a.at,
                    &format!("sweep.axes.{}", a.path),
                    format!(
                        "combine = \"zip\" takes the axes element by element: `{}` has {} values, `{}` has {}",
                        spec.axes[0].path,
                        n,
                        a.path,
                        a.values.len()
                    ),
                ));
            }
        }
        let points = spec.point_count();
        if points.is_none_or(|n| n > MAX_POINTS) {
            return Err(err(
                header,
                "sweep.axes",
                format!(
                    "the sweep has {} points, more than the {MAX_POINTS} lieflow runs as one sweep; split it",
                    points.map_or("too many".to_string(), |n| n.to_string())
                ),
            ));
        }
        match &spec.over {
            Some(o) if !spec.axes.iter().any(|a| &a.path == o) => {
                return Err(err(
                    over_at,
                    "sweep.over",
                    format!("`{o}` is not an axis; expected one of {:?}", spec.paths()),
                ))
            }
            Some(_) => {}
            None => spec.over = spec.axes.iter().any(|a| a.path == "seed").then(|| "seed".to_string()),
        }
        let axes = spec.paths();
        for (i, p) in spec.plots.iter().enumerate() {
            let field = format!("sweep.plot[{i}]");
            let check = |name: &str, role: &str| -> Result<()> {
                if !axes.contains(&name.to_string()) {
                    return Err(err(
                        p.at,
                        &format!("{field}.{role}"),
                        format!("`{name}` is not an axis; expected one of {axes:?}"),
                    ));
                }
                Ok(())
            };
            check(&p.x, "x")?;
            if let Some(l) = &p.lines {
                check(l, "lines")?;
                if l == &p.x {
                    return Err(err(
                        p.at,
                        &format!("{field}.lines"),
                        "`lines` must differ from `x`".into(),
                    ));
                }
            }
            let x = spec.axis(&p.x).expect("checked");
            if let Some(bad) = x.canonical.iter().find(|v| !v.is_number()) {
                return Err(err(
                    p.at,
                    &format!("{field}.x"),
                    format!(
                        "the axis `{}` has the non-numeric value {bad}; a figure needs numbers",
                        p.x
                    ),
                ));
            }
            if p.log {
                if let Some(bad) = x.canonical.iter().find(|v| v.as_f64().is_some_and(|x| x <= 0.0)) {
                    return Err(err(
                        p.at,
                        &format!("{field}.log"),
                        format!("log axes need positive values; `{}` has {bad}", p.x),
                    ));
                }
            }
            if spec.combine == Combine::Product {
                let used = [Some(&p.x), p.lines.as_ref(), spec.over.as_ref()];
                if let Some(a) = spec
                    .axes
                    .iter()
                    .find(|a| a.values.len() > 1 && !used.contains(&Some(&a.path)))
                {
                    return Err(err(
                        p.at,
                        &field,
                        format!(
                            "the axis `{}` has {} values but is neither `x`, `lines` nor `over`: a line would mix \
                             them; name it as `lines` (or draw one figure per value in separate sweeps)",
                            a.path,
                            a.values.len()
                        ),
                    ));
                }
            }
        }
        Ok(Some(spec))
    }

    /// Axis paths in order.
    pub fn paths(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.path.clone()).collect()
    }

    /// The axis named `path`.
    pub fn axis(&self, path: &str) -> Option<&Axis> {
        self.axes.iter().find(|a| a.path == path)
    }

    /// Number of points (`None` on overflow).
    pub fn point_count(&self) -> Option<usize> {
        match self.combine {
            Combine::Zip => Some(self.axes.first().map_or(1, |a| a.values.len())),
            Combine::Product => self.axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len())),
        }
    }

    /// The value index of every axis at each point, in canonical order (product: first axis slowest).
    pub fn combinations(&self) -> Vec<Vec<usize>> {
        let n = self.point_count().unwrap_or(0);
        (0..n)
            .map(|mut k| match self.combine {
                Combine::Zip => vec![k; self.axes.len()],
                Combine::Product => {
                    let mut idx = vec![0; self.axes.len()];
                    for (j, a) in self.axes.iter().enumerate().rev() {
                        idx[j] = k % a.values.len();
                        k /= a.values.len();
                    }
                    idx
                }
            })
            .collect()
    }
}

/// The span of an item (a value, or a table's header).
fn span_of(item: &Item) -> Option<std::ops::Range<usize>> {
    match item {
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.get(0).and_then(|t| t.span()).or_else(|| a.span()),
        Item::Value(v) => v.span(),
        Item::None => None,
    }
}

/// The axes of `[sweep.axes]`: every list leaf, nested keys joined by dots.
fn collect_axes(file: &ScenarioFile, t: &dyn toml_edit::TableLike, prefix: &str, out: &mut Vec<Axis>) -> Result<()> {
    for (k, item) in t.iter() {
        let path = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        let pos = at(&file.text, span_of(item));
        let field = format!("sweep.axes.{path}");
        if let Some(sub) = item.as_table_like() {
            collect_axes(file, sub, &path, out)?;
            continue;
        }
        let Some(arr) = item.as_array() else {
            return Err(error_at(
                file,
                pos,
                &field,
                format!("expected a list of values for the axis `{path}`, e.g. [1, 2, 3]"),
            ));
        };
        if arr.is_empty() {
            return Err(error_at(file, pos, &field, "an axis needs at least one value"));
        }
        if segments(&path).is_none() {
            return Err(error_at(
                file,
                pos,
                &field,
                format!("`{path}` is not a path into the scenario (keys joined by dots, [i] for list elements)"),
            ));
        }
        let values: Vec<Value> = arr.iter().map(plain).collect();
        let canonical: Vec<Json> = values.iter().map(canonical).collect();
        let value_at: Vec<(usize, usize)> = arr.iter().map(|v| at(&file.text, v.span())).collect();
        for (i, c) in canonical.iter().enumerate() {
            if canonical[..i].contains(c) {
                return Err(error_at(
                    file,
                    value_at[i],
                    &format!("{field}[{i}]"),
                    format!("the value {c} is given twice in the axis `{path}`"),
                ));
            }
        }
        out.push(Axis {
            path,
            values,
            canonical,
            at: pos,
            value_at,
        });
    }
    Ok(())
}

fn parse_plots(file: &ScenarioFile, item: &Item) -> Result<Vec<PlotSpec>> {
    let pos = at(&file.text, span_of(item));
    let tables: Vec<(&dyn toml_edit::TableLike, (usize, usize))> = match item {
        Item::ArrayOfTables(a) => a
            .iter()
            .map(|t| (t as &dyn toml_edit::TableLike, at(&file.text, t.span())))
            .collect(),
        Item::Table(t) => vec![(t as &dyn toml_edit::TableLike, pos)],
        Item::Value(Value::Array(a)) => a
            .iter()
            .map(|v| match v.as_inline_table() {
                Some(t) => Ok((t as &dyn toml_edit::TableLike, at(&file.text, v.span()))),
                None => Err(error_at(file, pos, "sweep.plot", "expected [[sweep.plot]] tables")),
            })
            .collect::<Result<_>>()?,
        Item::Value(Value::InlineTable(t)) => vec![(t as &dyn toml_edit::TableLike, pos)],
        _ => return Err(error_at(file, pos, "sweep.plot", "expected [[sweep.plot]] tables")),
    };
    let mut out = Vec::new();
    for (i, (t, pos)) in tables.into_iter().enumerate() {
        let field = |k: &str| format!("sweep.plot[{i}].{k}");
        let mut p = PlotSpec {
            value: String::new(),
            x: String::new(),
            lines: None,
            log: false,
            fit: false,
            at: pos,
        };
        let mut fit = None;
        for (k, v) in t.iter() {
            let vpos = at(&file.text, span_of(v));
            let string = || {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| error_at(file, vpos, &field(k), "expected a string"))
            };
            let boolean = || {
                v.as_bool()
                    .ok_or_else(|| error_at(file, vpos, &field(k), "expected true or false"))
            };
            match k {
                "value" => p.value = string()?,
                "x" => p.x = string()?,
                "lines" => p.lines = Some(string()?),
                "log" => p.log = boolean()?,
                "fit" => fit = Some(boolean()?),
                other => {
                    return Err(error_at(
                        file,
                        vpos,
                        &field(other),
                        format!("unknown key `{other}`: expected value, x, lines, log or fit"),
                    ))
                }
            }
        }
        for (k, v) in [("value", &p.value), ("x", &p.x)] {
            if v.is_empty() {
                return Err(error_at(file, pos, &field(k), format!("missing `{k}`")));
            }
        }
        p.fit = fit.unwrap_or(p.log);
        out.push(p);
    }
    Ok(out)
}

fn parse_slurm(file: &ScenarioFile, item: &Item) -> Result<SlurmSpec> {
    let pos = at(&file.text, span_of(item));
    let Some(t) = item.as_table_like() else {
        return Err(error_at(file, pos, "sweep.slurm", "expected a table [sweep.slurm]"));
    };
    let mut s = SlurmSpec::default();
    for (k, v) in t.iter() {
        let vpos = at(&file.text, span_of(v));
        let field = format!("sweep.slurm.{k}");
        let string = || {
            v.as_str()
                .filter(|s| super::slurm::plain_option(s))
                .map(str::to_string)
                .ok_or_else(|| {
                    error_at(
                        file,
                        vpos,
                        &field,
                        "expected a string of letters, digits and : - _ . (e.g. \"01:00:00\", \"4G\")",
                    )
                })
        };
        match k {
            "time" => s.time = Some(string()?),
            "mem" => s.mem = Some(string()?),
            "partition" => s.partition = Some(string()?),
            "cpus_per_task" => {
                s.cpus_per_task = Some(
                    v.as_integer()
                        .filter(|n| (1..=4096).contains(n))
                        .ok_or_else(|| error_at(file, vpos, &field, "expected a whole number from 1 to 4096"))?
                        as u32,
                )
            }
            other => {
                return Err(error_at(
                    file,
                    vpos,
                    &field,
                    format!("unknown key `{other}`: expected time, mem, cpus_per_task or partition"),
                ))
            }
        }
    }
    Ok(s)
}

/// Why a value cannot go where a path points.
pub(crate) enum ApplyError {
    /// The path leaves the scenario at `prefix`.
    Missing { prefix: String },
    /// The scenario's value there is of another kind.
    Kind {
        expected: &'static str,
        found: &'static str,
    },
}

/// The kind of the item at a path, for type checks: a value, or a table / list of tables.
fn item_kind(item: &Item) -> Option<&'static str> {
    match item {
        Item::Value(v) => Some(kind(v)),
        Item::Table(_) => Some("a table"),
        Item::ArrayOfTables(_) => Some("a list"),
        Item::None => None,
    }
}

/// Write `v` at `path` in `doc`. The path's parent must exist (a table, inline table, list or list of tables); the
/// key itself may be new (the study then judges it). An existing value must be of the same kind, except that an
/// integer may replace a number (it is written as a float).
pub(crate) fn apply(doc: &mut DocumentMut, path: &[Seg], v: &Value) -> std::result::Result<(), ApplyError> {
    let mut item: &mut Item = doc.as_item_mut();
    let mut walked = String::new();
    let (last, parents) = path.split_last().expect("a path has a segment");
    for s in parents {
        let next = match s {
            Seg::Key(k) => item.get_mut(k.as_str()),
            Seg::Index(i) => item.get_mut(*i),
        };
        walked.push_str(&match s {
            Seg::Key(k) if walked.is_empty() => k.clone(),
            Seg::Key(k) => format!(".{k}"),
            Seg::Index(i) => format!("[{i}]"),
        });
        match next {
            Some(n) if !n.is_none() => item = n,
            _ => return Err(ApplyError::Missing { prefix: walked }),
        }
    }
    let check = |existing: Option<&Item>| -> std::result::Result<Value, ApplyError> {
        let Some(e) = existing.filter(|e| !e.is_none()) else {
            return Ok(v.clone());
        };
        let expected = item_kind(e).unwrap_or("a value");
        let found = kind(v);
        match (e, v) {
            (Item::Value(Value::Float(_)), Value::Integer(i)) => Ok(Value::from(*i.value() as f64)),
            _ if expected == found => Ok(v.clone()),
            _ => Err(ApplyError::Kind { expected, found }),
        }
    };
    match last {
        Seg::Key(k) => {
            let Some(t) = item.as_table_like_mut() else {
                return Err(ApplyError::Missing { prefix: walked });
            };
            let new = check(t.get(k))?;
            t.insert(k, Item::Value(new));
        }
        Seg::Index(i) => {
            let Some(slot) = item.get_mut(*i) else {
                return Err(ApplyError::Missing {
                    prefix: format!("{walked}[{i}]"),
                });
            };
            let new = check(Some(slot))?;
            *slot = Item::Value(new);
        }
    }
    Ok(())
}

impl ApplyError {
    /// The message for axis `path`.
    pub(crate) fn message(&self, path: &str) -> String {
        match self {
            ApplyError::Missing { prefix } => format!(
                "`{path}` is not in the scenario: `{prefix}` does not exist or holds no keys (a sweep sets keys of \
                 tables the scenario has)"
            ),
            ApplyError::Kind { expected, found } => {
                format!("the scenario's `{path}` is {expected}, this value is {found}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            segments("model.fields[1].a"),
            Some(vec![
                Seg::Key("model".into()),
                Seg::Key("fields".into()),
                Seg::Index(1),
                Seg::Key("a".into())
            ])
        );
        assert_eq!(segments("lie.fields.0.terms"), segments("lie.fields[0].terms"));
        assert_eq!(segments("a..b"), None);
        assert_eq!(segments("a[x]"), None);
    }

    #[test]
    fn canonical_values_distinguish_integers_from_floats_and_sort_tables() {
        let v = |s: &str| s.parse::<Value>().unwrap();
        assert_eq!(canonical(&v("1")).to_string(), "1");
        assert_eq!(canonical(&v("1.0")).to_string(), "1.0");
        assert_eq!(canonical(&v("0.1")).to_string(), "0.1");
        assert_eq!(canonical(&v("{ b = 1, a = 'x' }")).to_string(), r#"{"a":"x","b":1}"#);
        assert_eq!(canonical(&v("nan")), Json::String("nan".into()));
    }

    #[test]
    fn apply_sets_values_and_checks_kinds() {
        let mut doc: DocumentMut = "seed = 1\n[time]\nhorizon = 1.0 # T\n[lie]\nrandom_points = { n = 6, seed = 2 }\n"
            .parse()
            .unwrap();
        let v = |s: &str| s.parse::<Value>().unwrap();
        apply(&mut doc, &segments("time.horizon").unwrap(), &v("2"))
            .ok()
            .unwrap();
        apply(&mut doc, &segments("lie.random_points.n").unwrap(), &v("9"))
            .ok()
            .unwrap();
        apply(&mut doc, &segments("seed").unwrap(), &v("4")).ok().unwrap();
        let text = doc.to_string();
        assert!(text.contains("horizon = 2.0"), "{text}");
        assert!(text.contains("n = 9"), "{text}");
        assert!(text.contains("seed = 4"), "{text}");
        assert!(matches!(
            apply(&mut doc, &segments("time.horizon").unwrap(), &v("'long'")),
            Err(ApplyError::Kind { .. })
        ));
        assert!(matches!(
            apply(&mut doc, &segments("timee.horizon").unwrap(), &v("1.0")),
            Err(ApplyError::Missing { .. })
        ));
    }
}
