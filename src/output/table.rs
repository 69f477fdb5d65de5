//! Numeric CSV tables: exact, deterministic output and a strict reader for matrices.
//!
//! Numbers are written with Rust's `{}` Display for `f64`, which prints the shortest decimal string
//! that parses back to the same bits. The output therefore depends only on the values (never on the
//! platform or the run), and `read_matrix_csv` recovers them exactly. Non-finite values are written
//! as `NaN`, `inf` and `-inf`, which `str::parse::<f64>` (and numpy / pandas) read back — except in columns
//! declared [optional](Table::optional), where NaN stands for "not computed" and is written as an empty field.

use std::path::Path;

use crate::{Error, Result};

/// A table of named numeric columns, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    /// Per column: NaN means "no value" and is written as an empty field.
    optional: Vec<bool>,
}

impl Table {
    /// An empty table with the given column names.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        Table {
            optional: vec![false; columns.len()],
            columns,
            rows: Vec::new(),
        }
    }

    /// Declares the columns `names` optional: a NaN there is written as an empty field (a value that was not
    /// computed, e.g. an exact rank for fields that have none), not as `NaN`.
    pub fn optional(mut self, names: &[&str]) -> Self {
        for (c, o) in self.columns.iter().zip(self.optional.iter_mut()) {
            *o |= names.contains(&c.as_str());
        }
        self
    }

    /// Append a row.
    ///
    /// # Panics
    /// If `row` does not have one value per column (a programming error, not an input error).
    pub fn push(&mut self, row: Vec<f64>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "Table::push: row has {} values but the table has {} columns",
            row.len(),
            self.columns.len()
        );
        self.rows.push(row);
    }

    /// Number of rows (excluding the header).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The CSV text: a header line, then one line per row, `\n` line endings.
    pub fn to_csv_bytes(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        // Writing into a Vec cannot fail.
        w.write_record(&self.columns).expect("CSV write to memory");
        let mut fields: Vec<String> = Vec::with_capacity(self.columns.len());
        for row in &self.rows {
            fields.clear();
            fields.extend(row.iter().zip(&self.optional).map(|(v, &opt)| {
                if opt && v.is_nan() {
                    String::new()
                } else {
                    format_f64(*v)
                }
            }));
            w.write_record(&fields).expect("CSV write to memory");
        }
        w.into_inner().expect("CSV flush to memory")
    }
}

/// One cell of a [`LongTable`]: a number (written exactly, as in [`Table`]) or text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(f64),
    Text(String),
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Num(v as f64)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

/// A tidy ("long") table: one observation per row, with text columns that carry the problem definition (problem,
/// scheme, norm, …) beside the numbers, so a row is readable without the rest of the run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct LongTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl LongTable {
    /// An empty table with the given column names.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        LongTable {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Append a row.
    ///
    /// # Panics
    /// If `row` does not have one cell per column (a programming error).
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(row.len(), self.columns.len(), "LongTable::push: wrong row length");
        self.rows.push(row);
    }

    /// CSV text (numbers as in [`format_f64`], text quoted where needed).
    pub fn to_csv_bytes(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&self.columns).expect("CSV write to memory");
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Num(v) => format_f64(*v),
                    Cell::Text(t) => t.clone(),
                })
                .collect();
            w.write_record(&fields).expect("CSV write to memory");
        }
        w.into_inner().expect("CSV flush to memory")
    }
}

/// Shortest round-trip decimal for `v` (`NaN`, `inf`, `-inf` for non-finite values).
pub fn format_f64(v: f64) -> String {
    // Display already yields "NaN", "inf" and "-inf"; spelled out so the contract is visible.
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if v != 0.0 && !(1e-5..1e16).contains(&v.abs()) {
        // Shortest round-trip digits in exponent form: exact, and short for tiny or huge values.
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A numeric CSV file: optional header, row-major values and the file line of every data row.
#[derive(Clone, Debug, PartialEq)]
pub struct Csv {
    /// The header fields, when the first line has no number in it.
    pub header: Option<Vec<String>>,
    /// Columns per row.
    pub cols: usize,
    /// Row-major values.
    pub values: Vec<f64>,
    /// 1-based file line of each data row (for messages).
    pub lines: Vec<usize>,
}

impl Csv {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }
}

/// Read a numeric CSV file — the one reader for every CSV lieflow reads (data, controls, targets, paths).
///
/// A first line in which no field is a number is the header. Blank lines are ignored, fields are trimmed and a
/// UTF-8 byte-order mark (spreadsheet exports) is skipped. Every data row must have as many fields as the first
/// one, and every field must parse as an `f64` (`NaN`, `inf`, `-inf` included: callers that need finite values
/// check them). Rows and columns in error messages are 1-based line and field numbers of the file.
pub fn read_csv(path: &Path) -> Result<Csv> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);

    let mut out = Csv {
        header: None,
        cols: 0,
        values: Vec::new(),
        lines: Vec::new(),
    };
    let mut first = true;
    let mut record = csv::StringRecord::new();
    let (mut line_no, mut scanned) = (1usize, 0usize);
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::input(path, format!("row {line}"), format!("malformed CSV: {e}"))
        })?;
        if !more {
            break;
        }
        // The file line from the byte offset (the reader's own line count skips blank lines).
        let mut byte = record
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(0)
            .min(body.len());
        while byte < body.len() && matches!(body[byte], b'\n' | b'\r') {
            byte += 1; // the reported start includes the blank lines skipped before the record
        }
        line_no += body[scanned..byte].iter().filter(|&&b| b == b'\n').count();
        scanned = byte;
        let line = line_no;
        if record.len() == 1 && record[0].is_empty() {
            continue; // blank line
        }
        if first {
            first = false;
            if record.iter().all(|f| f.parse::<f64>().is_err()) {
                out.header = Some(record.iter().map(str::to_string).collect());
                continue;
            }
        }
        if out.lines.is_empty() {
            out.cols = record.len();
        } else if record.len() != out.cols {
            let c = out.cols.min(record.len()) + 1;
            return Err(Error::input(
                path,
                format!("row {line}, column {c}"),
                format!(
                    "expected {} columns (as in row {}), found {}",
                    out.cols,
                    out.lines[0],
                    record.len()
                ),
            ));
        }
        for (j, field) in record.iter().enumerate() {
            let v = field.parse::<f64>().map_err(|_| {
                Error::input(
                    path,
                    format!("row {line}, column {}", j + 1),
                    format!("expected a number, found `{field}`"),
                )
            })?;
            out.values.push(v);
        }
        out.lines.push(line);
    }
    if out.lines.is_empty() {
        return Err(Error::input(
            path,
            "",
            "no data rows (the file is empty or has only a header)",
        ));
    }
    Ok(out)
}

/// [`read_csv`] as a row-major matrix: `(values, rows, cols)`.
pub fn read_matrix_csv(path: &Path) -> Result<(Vec<f64>, usize, usize)> {
    let c = read_csv(path)?;
    let rows = c.rows();
    Ok((c.values, rows, c.cols))
}

/// A controls file (K rows × d values, one row per interval): [`read_matrix_csv`], dropping the leading
/// `interval` and `t_k` columns that lieflow's own `controls.csv` carries (named by its header).
pub fn read_controls_csv(path: &Path) -> Result<(Vec<f64>, usize, usize)> {
    let c = read_csv(path)?;
    let rows = c.rows();
    let skip = match &c.header {
        Some(h) if h.len() >= 2 && h[0] == "interval" && h[1] == "t_k" => 2,
        _ => 0,
    };
    if skip == 0 {
        return Ok((c.values, rows, c.cols));
    }
    let cols = c.cols - skip;
    let values = c
        .values
        .chunks(c.cols)
        .flat_map(|r| r[skip..].iter().copied())
        .collect();
    Ok((values, rows, cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_round_trip_is_bit_exact_for_awkward_values() {
        let awkward = [
            1e-300,
            -0.0,
            0.1 + 0.2,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            -1.0 / 3.0,
            1.0,
            123456789.125,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut t = Table::new(["a", "b"]);
        for pair in awkward.chunks(2) {
            t.push(pair.to_vec());
        }
        let bytes = t.to_csv_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("a,b\n"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "1e-300,-0", "{text}");
        assert_eq!(lines[2], "0.30000000000000004,5e-324", "{text}");
        assert_eq!(lines[4], "-0.3333333333333333,1");
        assert_eq!(lines[5], "123456789.125,NaN");
        assert_eq!(lines[6], "inf,-inf");
        // Deterministic: the same table gives the same bytes.
        assert_eq!(bytes, t.to_csv_bytes());

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, &bytes).unwrap();
        let (vals, rows, cols) = read_matrix_csv(&p).unwrap();
        assert_eq!((rows, cols), (6, 2));
        for (a, b) in awkward.iter().zip(&vals) {
            if a.is_nan() {
                assert!(b.is_nan());
            } else {
                assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn optional_columns_write_nan_as_an_empty_field() {
        let mut t = Table::new(["a", "gap", "b"]).optional(&["gap"]);
        t.push(vec![1.0, f64::NAN, f64::NAN]);
        t.push(vec![2.0, 0.5, 3.0]);
        assert_eq!(
            String::from_utf8(t.to_csv_bytes()).unwrap(),
            "a,gap,b\n1,,NaN\n2,0.5,3\n"
        );
    }

    #[test]
    #[should_panic(expected = "row has 1 values but the table has 2 columns")]
    fn push_rejects_wrong_row_length() {
        Table::new(["a", "b"]).push(vec![1.0]);
    }

    #[test]
    fn header_is_optional_and_blank_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "h.csv", "x, y\n1, 2\n\n3,4\n");
        assert_eq!(read_matrix_csv(&p).unwrap(), (vec![1.0, 2.0, 3.0, 4.0], 2, 2));
        let p = write(&dir, "n.csv", "1,2,3\n4,5,6\n");
        assert_eq!(read_matrix_csv(&p).unwrap(), (vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3));
    }

    #[test]
    fn csv_error_names_row_and_column_of_a_non_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "bad.csv", "x,y\n1,2\n3,abc\n");
        let msg = read_matrix_csv(&p).unwrap_err().to_string();
        assert!(msg.contains("row 3, column 2"), "{msg}");
        assert!(msg.contains("expected a number, found `abc`"), "{msg}");
        assert!(msg.contains("bad.csv"), "{msg}");
    }

    #[test]
    fn csv_error_names_row_and_column_of_a_ragged_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "ragged.csv", "1,2,3\n4,5\n");
        let err = read_matrix_csv(&p).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("row 2, column 3"), "{msg}");
        assert!(msg.contains("expected 3 columns (as in row 1), found 2"), "{msg}");
    }

    #[test]
    fn reader_returns_header_and_file_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "n.csv", "t, x\n\n0, 1\n1,2\n\n2,3\n");
        let m = read_csv(&p).unwrap();
        assert_eq!(m.header, Some(vec!["t".to_string(), "x".to_string()]));
        assert_eq!((m.rows(), m.cols, m.lines.clone()), (3, 2, vec![3, 4, 6]));
        assert_eq!(m.values, vec![0.0, 1.0, 1.0, 2.0, 2.0, 3.0]);
        let p = write(&dir, "h.csv", "1,2\n");
        assert_eq!(read_csv(&p).unwrap().header, None);
        // Error positions count blank lines too (line 5 below), with \n and \r\n endings.
        for text in ["x\n1\n\n\nabc\n", "x\r\n1\r\n\r\n\r\nabc\r\n"] {
            let p = write(&dir, "b.csv", text);
            let msg = read_matrix_csv(&p).unwrap_err().to_string();
            assert!(msg.contains("row 5, column 1"), "{text:?}: {msg}");
        }
    }

    #[test]
    fn controls_files_drop_their_interval_and_time_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "c.csv", "interval,t_k,W11,b1\n0,0,1.5,2\n1,0.5,3,4\n");
        assert_eq!(read_controls_csv(&p).unwrap(), (vec![1.5, 2.0, 3.0, 4.0], 2, 2));
        let p = write(&dir, "raw.csv", "1,2\n3,4\n");
        assert_eq!(read_controls_csv(&p).unwrap(), (vec![1.0, 2.0, 3.0, 4.0], 2, 2));
    }

    #[test]
    fn empty_or_header_only_file_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("e.csv", ""), ("h.csv", "a,b\n")] {
            let p = write(&dir, name, text);
            let err = read_matrix_csv(&p).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
        }
        let err = read_matrix_csv(&dir.path().join("missing.csv")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
    }
}
