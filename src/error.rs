//! The library error type. Input errors (exit code 2) name the file and the field; numerical errors
//! (exit code 1) say which point, at what time, and what went wrong (ARCHITECTURE habit 8).

use std::path::PathBuf;

/// Every failure lieflow reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input: a scenario, a CSV file or a command-line value.
    #[error("{}: {}{}", file.display(), location(*line, *col, field), msg)]
    Input {
        file: PathBuf,
        line: Option<usize>,
        col: Option<usize>,
        field: String,
        msg: String,
    },
    /// The computation itself failed: NaN/inf, overflow, step-size collapse, divergence.
    #[error("numerical failure: {what} at t = {t} (step {step}{})", point.map(|p| format!(", point {p}")).unwrap_or_default())]
    Numerical {
        what: String,
        t: f64,
        step: usize,
        point: Option<usize>,
    },
    /// File-system or I/O failure.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
            Error::Numerical { .. } | Error::Io { .. } => 1,
        }
    }
}

/// Library result type.
pub type Result<T> = std::result::Result<T, Error>;
