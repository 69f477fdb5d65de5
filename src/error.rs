//! The library error type. Input errors (exit code 2) name the file and the field; numerical errors
//! (exit code 1) say which point, at what time, and what went wrong (ARCHITECTURE habit 8); a diverging
//! optimisation (exit code 1) says at which iteration and which divergence rule fired.
//!
//! Indices in messages are 1-based ordinals ("point 2" is the second point x_2, as CSV rows are file lines);
//! the `point` field itself stays a 0-based index for code.

use std::path::PathBuf;

/// Every failure lieflow reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input: a scenario, a CSV file or a command-line value.
    #[error("{}{}{}", located_file(file), location(*line, *col, field), msg)]
    Input {
        file: PathBuf,
        line: Option<usize>,
        col: Option<usize>,
        field: String,
        msg: String,
    },
    /// The computation itself failed: NaN/inf, overflow, step-size collapse. `point` is a 0-based index,
    /// shown 1-based.
    #[error("numerical failure: {what} at t = {t} (step {step}{})", point.map(|p| format!(", point {}", p + 1)).unwrap_or_default())]
    Numerical {
        what: String,
        t: f64,
        step: usize,
        point: Option<usize>,
    },
    /// An optimiser diverged: `rule` says which divergence rule fired ([`crate::optim::Divergence`]).
    #[error("optimisation diverged at iteration {iteration} (loss {loss:.6e}): {rule}")]
    Diverged { rule: String, iteration: usize, loss: f64 },
    /// File-system or I/O failure.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `file: ` (nothing when the error has no file, e.g. a library check without a scenario behind it).
fn located_file(file: &std::path::Path) -> String {
    if file.as_os_str().is_empty() {
        String::new()
    } else {
        format!("{}: ", file.display())
    }
}

fn location(line: Option<usize>, col: Option<usize>, field: &str) -> String {
    let mut s = String::new();
    if let Some(l) = line {
        s.push_str(&format!("line {l}"));
        if let Some(c) = col {
            s.push_str(&format!(":{c}"));
        }
        s.push_str(": ");
    }
    if !field.is_empty() {
        s.push_str(&format!("field `{field}`: "));
    }
    s
}

impl Error {
    /// An input error without a known line.
    pub fn input(file: impl Into<PathBuf>, field: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Input {
            file: file.into(),
            line: None,
            col: None,
            field: field.into(),
            msg: msg.into(),
        }
    }

    /// Bad command-line value for `flag` (e.g. `--threads`): the message names the flag once.
    pub fn arg(flag: &str, msg: impl Into<String>) -> Self {
        Error::input(flag, "", msg)
    }

    /// A numerical failure at time `t`, step `step`, optionally at data point `point`.
    pub fn numerical(what: impl Into<String>, t: f64, step: usize, point: Option<usize>) -> Self {
        Error::Numerical {
            what: what.into(),
            t,
            step,
            point,
        }
    }

    /// I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// For a file the user named (a data or controls file): a failure to read it is bad input naming `field`
    /// (exit code 2), not a runtime failure. Other errors pass through.
    pub fn reading_input(self, field: &str) -> Self {
        match self {
            Error::Io { path, source } => Error::Input {
                file: path,
                line: None,
                col: None,
                field: field.to_string(),
                msg: format!("cannot read the file: {source}"),
            },
            e => e,
        }
    }

    /// Process exit code: 2 for bad input, 1 for numerical or runtime failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } => 2,
            Error::Numerical { .. } | Error::Diverged { .. } | Error::Io { .. } => 1,
        }
    }

    /// The error as a JSON object for `error.json`: the message plus its parts (kind, and where and when).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let finite = |v: f64| if v.is_finite() { json!(v) } else { json!(v.to_string()) };
        let mut v = match self {
            Error::Input {
                file,
                line,
                col,
                field,
                msg,
            } => json!({
                "kind": "input", "file": file.display().to_string(), "line": line, "column": col,
                "field": field, "message": msg,
            }),
            Error::Numerical { what, t, step, point } => json!({
                "kind": "numerical", "what": what, "t": finite(*t), "step": step,
                "point": point.map(|p| p + 1),
            }),
            Error::Diverged { rule, iteration, loss } => json!({
                "kind": "diverged", "rule": rule, "iteration": iteration, "loss": finite(*loss),
            }),
            Error::Io { path, source } => json!({
                "kind": "io", "path": path.display().to_string(), "message": source.to_string(),
            }),
        };
        v["error"] = json!(self.to_string());
        v
    }
}

/// A number as messages show it: plain for ordinary magnitudes, in exponent form beyond (so `1e308` is not
/// printed with 300 zeros).
pub fn num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-5..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Library result type.
pub type Result<T> = std::result::Result<T, Error>;
