//! Scenario files: TOML → typed [`schema::Scenario`] (unknown keys rejected, errors with file, line:column and the
//! field's path) → validated [`crate::problem::Problem`].

pub mod budget;
pub mod build;
pub mod families;
pub mod locate;
pub mod objective;
pub mod schema;
pub mod setup;
pub mod sizes;

pub use schema::Scenario;

use crate::{Error, Result};
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// A parsed scenario with the file it came from.
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    /// Path as given.
    pub path: PathBuf,
    /// The file's text (recorded verbatim in the manifest).
    pub text: String,
    /// Parsed contents.
    pub scenario: Scenario,
    /// `[model]` as read by its family ([`families`]), checked when the file is parsed.
    pub model: Option<std::sync::Arc<dyn crate::field::family::ModelDef>>,
}

impl ScenarioFile {
    /// Largest scenario file read (64 MiB): parsing holds several copies of it in memory; larger data belong in
    /// a CSV file (`[data] kind = "csv"`).
    pub const MAX_BYTES: u64 = 64 << 20;

    /// Read and parse `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let meta =
            std::fs::metadata(path).map_err(|e| Error::input(path, "", format!("cannot read scenario file: {e}")))?;
        if !meta.is_file() {
            return Err(Error::input(path, "", "cannot read scenario file: not a regular file"));
        }
        if meta.len() > Self::MAX_BYTES {
            return Err(Error::input(
                path,
                "",
                format!(
                    "the scenario file has {} bytes, more than the {} MiB lieflow reads; put large data in a CSV \
                     file ([data] kind = \"csv\")",
                    meta.len(),
                    Self::MAX_BYTES >> 20
                ),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, "", format!("cannot read scenario file: {e}")))?;
        Self::parse(path, text)
    }

    /// Parse `text` (attributed to `path` in errors).
    pub fn parse(path: &Path, text: String) -> Result<Self> {
        let de = toml::Deserializer::new(&text);
        let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| de_error(path, &text, e))?;
        let mut file = Self {
            path: path.to_path_buf(),
            text,
            scenario,
            model: None,
        };
        file.model = families::parse(&file)?;
        Ok(file)
    }

    /// The top-level table `[name]` parsed as `T` (a study's own settings, registered with the study), or `None`
    /// when the scenario has no such table. Errors carry the line, column and dotted field inside the table.
    pub fn table<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let de = toml::Deserializer::new(&self.text);
        let mut track = serde_path_to_error::Track::new();
        let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
        PickTable {
            name,
            seed: PhantomData::<T>,
        }
        .deserialize(tracked)
        .map_err(|e| de_error(&self.path, &self.text, serde_path_to_error::Error::new(track.path(), e)))
    }

    /// Like [`ScenarioFile::table`], with the key `skip` of the table ignored (the `family` key of `[model]`,
    /// which chose the type `T`).
    pub fn table_without<T: DeserializeOwned>(&self, name: &str, skip: &str) -> Result<Option<T>> {
        let de = toml::Deserializer::new(&self.text);
        let mut track = serde_path_to_error::Track::new();
        let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
        PickTable {
            name,
            seed: WithoutKey::<T> {
                key: skip,
                marker: PhantomData,
            },
        }
        .deserialize(tracked)
        .map_err(|e| {
            // Read through a plain map, an unknown key is reported at its table; point at the key itself.
            let tracked = track.path();
            let path = tracked.to_string();
            let unknown = e
                .to_string()
                .split_once("unknown field `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(key, _)| key.to_string());
            match unknown {
                Some(key) if locate::locate(&self.text, &format!("{path}.{key}")).is_some() => {
                    let inner = e.message().to_string();
                    self.error_at(&path, &format!("{path}.{key}"), plain_types(inner.trim()))
                }
                _ => de_error(&self.path, &self.text, serde_path_to_error::Error::new(tracked, e)),
            }
        })
    }

    /// Like [`ScenarioFile::table`] for a table the study cannot run without.
    pub fn required_table<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        self.table(name)?
            .ok_or_else(|| self.error(name, format!("missing table [{name}]")))
    }

    /// Reject top-level tables that are neither common (`[model]`, `[time]`, …) nor among `allowed` (the
    /// tables the scenario's study reads).
    pub fn check_tables(&self, allowed: &[&str]) -> Result<()> {
        match self.scenario.tables.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(self.error(
                k,
                format!(
                    "unknown table or key `{k}`: study `{}` reads {}, besides the common name, description, seed, \
                     study, [model], [time], [solver], [controls], [data], [objective] and [output]",
                    self.scenario.study,
                    if allowed.is_empty() {
                        "no table of its own".to_string()
                    } else {
                        allowed.iter().map(|t| format!("[{t}]")).collect::<Vec<_>>().join(", ")
                    }
                ),
            )),
        }
    }

    /// Checks that the output folder name is a plain file-name component: `name` uses only letters, digits,
    /// `-`, `_` and `.` and is not `.` or `..` (so `output/<name>` can never point elsewhere); without `name`, the
    /// file stem must at least be a single safe component.
    pub fn check_name(&self) -> Result<()> {
        let bad = |n: &str| n.is_empty() || n == "." || n == "..";
        match &self.scenario.name {
            Some(n) => {
                let plain = n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if bad(n) || !plain {
                    return Err(self.error(
                        "name",
                        format!(
                            "`{n}` cannot name an output folder: expected a plain file name of letters, digits, \
                             `-`, `_` and `.` (not empty, `.` or `..`, no `/`)"
                        ),
                    ));
                }
            }
            None => {
                let stem = self.name();
                if bad(&stem) || stem.contains(['/', '\\', '\0']) {
                    return Err(self.error(
                        "name",
                        format!("the file name gives no usable output folder name (`{stem}`): set `name`"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Figure preset and formats: `[output]`, with the preset replaced by `preset` (the `--figures` flag) when given.
    pub fn figure_options(
        &self,
        preset: Option<crate::output::plot::Preset>,
    ) -> Result<crate::output::plot::FigureOptions> {
        let o = &self.scenario.output;
        let mut formats = o
            .formats
            .clone()
            .unwrap_or_else(|| crate::output::plot::Format::ALL.to_vec());
        if formats.is_empty() {
            return Err(self.error("output.formats", "expected at least one of \"pdf\", \"svg\", \"png\""));
        }
        formats.sort();
        formats.dedup();
        Ok(crate::output::plot::FigureOptions {
            preset: preset.or(o.figures).unwrap_or_default(),
            formats,
        })
    }

    /// The study's name: `name` or the file stem.
    pub fn name(&self) -> String {
        self.scenario.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into())
        })
    }

    /// Directory relative paths inside the scenario are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// Errors from reading a file the scenario names at `field`: an unreadable file becomes an input error
    /// naming this scenario, the field and the file; an error inside the file (which names the file, its row and
    /// column) is located at `field` in this scenario too, so the message names both places.
    pub fn file_error(&self, field: &str) -> impl Fn(Error) -> Error + '_ {
        let field = field.to_string();
        move |e| self.wrap_file_error(&field, e)
    }

    /// See [`ScenarioFile::file_error`].
    pub fn wrap_file_error(&self, field: &str, e: Error) -> Error {
        match e {
            Error::Io { path, source } => self.error(field, format!("cannot read {}: {source}", path.display())),
            Error::Input {
                file,
                field: inner,
                msg,
                ..
            } if file != self.path => {
                let at = if inner.is_empty() {
                    String::new()
                } else {
                    format!(", {inner}")
                };
                self.error(field, format!("{}{at}: {msg}", file.display()))
            }
            e => e,
        }
    }

    /// An input error about `field` (a dotted path such as `time.horizon`), located in the file where possible.
    pub fn error(&self, field: &str, msg: impl Into<String>) -> Error {
        self.error_at(field, field, msg)
    }

    /// An input error naming `field`, located at the more precise path `at` (e.g. the element `data.points[1][0]`
    /// of `data.points`, whose message counts points from 1).
    pub fn error_at(&self, field: &str, at: &str, msg: impl Into<String>) -> Error {
        let (line, col) = match locate::locate(&self.text, at) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        Error::Input {
            file: self.path.clone(),
            line,
            col,
            field: field.to_string(),
            msg: msg.into(),
        }
    }
}

/// A deserialisation error from the TOML text as an input error with line, column and dotted field path.
fn de_error(path: &Path, text: &str, e: serde_path_to_error::Error<toml::de::Error>) -> Error {
    let field = e.path().to_string();
    let inner = e.inner();
    let (line, col) = match inner.span() {
        Some(span) => {
            let (l, c) = locate::line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    Error::Input {
        file: path.to_path_buf(),
        line,
        col,
        field: if field == "." { String::new() } else { field },
        msg: plain_types(inner.message().trim()),
    }
}

/// serde's type names in messages ("expected usize") in the words of the scenario format.
fn plain_types(msg: &str) -> String {
    [
        ("expected usize", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer (at most 2^64 − 1)"),
        ("expected u32", "expected a non-negative integer below 2^32"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
    ]
    .iter()
    .fold(msg.to_string(), |m, (from, to)| m.replace(from, to))
}

/// Deserialises one top-level table of a document with `seed`, skipping the others.
struct PickTable<'n, S> {
    name: &'n str,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for PickTable<'_, S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for PickTable<'_, S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a scenario document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut seed = Some(self.seed);
        let mut out = None;
        while let Some(key) = map.next_key::<String>()? {
            match seed.take() {
                Some(s) if key == self.name => out = Some(map.next_value_seed(s)?),
                other => {
                    seed = other;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// Deserialises a table as `T` with one key left out (the key that chose `T`). Values still come from the
/// document's own deserialiser, so errors keep their spans and paths.
struct WithoutKey<'k, T> {
    key: &'k str,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for WithoutKey<'_, T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for WithoutKey<'_, T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a table")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<T, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(Filtered {
            inner: map,
            key: self.key,
        }))
    }
}

/// A map with the entries of one key skipped.
struct Filtered<'k, A> {
    inner: A,
    key: &'k str,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Filtered<'_, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> std::result::Result<Option<K::Value>, A::Error> {
        loop {
            match self.inner.next_key::<String>()? {
                None => return Ok(None),
                Some(k) if k == self.key => {
                    self.inner.next_value::<IgnoredAny>()?;
                }
                Some(k) => {
                    return seed
                        .deserialize(serde::de::value::StringDeserializer::<A::Error>::new(k))
                        .map(Some)
                }
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> std::result::Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line_and_field() {
        let text = "study = \"simulate\"\n[time]\nhorizon = 1.0\nintervals = 4\nbogus = 3\n".to_string();
        let err = ScenarioFile::parse(Path::new("s.toml"), text).unwrap_err().to_string();
        assert!(err.contains("s.toml"), "{err}");
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let text = "study = \"simulate\"\n[time]\nhorizon = \"long\"\nintervals = 4\n".to_string();
        let err = ScenarioFile::parse(Path::new("s.toml"), text).unwrap_err().to_string();
        assert!(err.contains("time.horizon"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }
}
