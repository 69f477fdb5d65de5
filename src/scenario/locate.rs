//! Where a field of a scenario lives in its TOML text, for error messages: the 1-based line and column of the
//! field's *value* (the thing that is wrong), found from the spans of a `toml_edit` parse of the text.
//!
//! A field is a dotted path as messages name it: `time.horizon`, `model.fields[1].a`, `lie.fields.0.terms.2`,
//! `lie.random_points.n` (inline tables), `data.points[3][1]` (array elements; numeric segments index arrays
//! and arrays of tables). A path that does not resolve to the end is located at its deepest resolvable prefix
//! (e.g. a missing key at its table); a path whose first segment is not in the file is not located at all.

use toml_edit::{ImDocument, Item};

/// One step of a field path.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[2].c.3` → [a, b, 2, c, 3].
fn segments(field: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in field.split('.').filter(|s| !s.is_empty()) {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            match key.parse::<usize>() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(key)),
            }
        }
        for idx in rest.split(['[', ']']).filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim().parse::<usize>() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}

/// 1-based line and column of byte `offset` in `text` (columns count characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// The span of an item: its value for `key = value`, its header for a `[table]`.
fn span_of(item: &Item) -> Option<std::ops::Range<usize>> {
    match item {
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.get(0).and_then(|t| t.span()).or_else(|| a.span()),
        Item::Value(v) => v.span(),
        Item::None => None,
    }
}

/// Line and column of `field`'s value in `text` (see the module docs), or `None` when the text does not parse
/// or the field's first segment is not in it.
pub fn locate(text: &str, field: &str) -> Option<(usize, usize)> {
    let doc = ImDocument::parse(text).ok()?;
    let mut item: &Item = doc.as_item();
    let mut best: Option<std::ops::Range<usize>> = None;
    for seg in segments(field) {
        let next = match seg {
            Seg::Key(k) => {
                // A key's own span is the fallback when its value has none (implicit tables).
                let key_span = match item {
                    Item::Table(t) => t.key(k).and_then(|k| k.span()),
                    Item::Value(toml_edit::Value::InlineTable(t)) => t.key(k).and_then(|k| k.span()),
                    _ => None,
                };
                item.get(k).map(|i| (i, key_span))
            }
            Seg::Index(i) => item.get(i).map(|x| (x, None)),
        };
        let Some((it, key_span)) = next else { break };
        item = it;
        if let Some(s) = span_of(item).or(key_span) {
            best = Some(s);
        }
    }
    best.map(|s| line_col(text, s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "seed = 1\n[time]\nhorizon =   -2.0\n[model]\nfamily = \"affine\"\ndim = 2\n\
                        [[model.fields]]\nkind = \"constant\"\nc = [1.0, 2.0]\n[[model.fields]]\nkind = \"linear\"\n\
                        a = [[1.0, 0.0], [0.0, nan]]\n[lie]\nrandom_points = { n = 6, seed = 2 }\n";

    #[test]
    fn values_are_located_at_their_first_character() {
        assert_eq!(locate(TEXT, "time.horizon"), Some((3, 13)));
        assert_eq!(locate(TEXT, "seed"), Some((1, 8)));
        assert_eq!(locate(TEXT, "model.dim"), Some((6, 7)));
    }

    #[test]
    fn arrays_of_tables_inline_tables_and_elements_are_indexed() {
        assert_eq!(locate(TEXT, "model.fields[1].a"), Some((12, 5)));
        assert_eq!(locate(TEXT, "model.fields.1.a[1][1]"), Some((12, 24)));
        assert_eq!(locate(TEXT, "model.fields[0].c"), Some((9, 5)));
        assert_eq!(locate(TEXT, "lie.random_points.n"), Some((14, 23)));
    }

    #[test]
    fn unresolved_paths_fall_back_to_their_deepest_prefix() {
        // `time.intervals` is missing: the [time] header.
        assert_eq!(locate(TEXT, "time.intervals"), Some((2, 1)));
        assert_eq!(locate(TEXT, "data"), None);
        assert_eq!(locate("not = = toml", "not"), None);
    }
}
