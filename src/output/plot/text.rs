//! Text metrics of the bundled DejaVu Sans (the font every figure uses), for layout: advance widths from the
//! font's own tables, so the measured width is the width usvg/resvg/svg2pdf draw (kerning ignored: < 1 %).

use std::sync::OnceLock;

/// The bundled font (also loaded into the font database of the SVG → PDF/PNG conversions).
pub const FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
/// The family name the SVG asks for.
pub const FAMILY: &str = "DejaVu Sans";

struct Metrics {
    face: ttf_parser::Face<'static>,
    per_em: f64,
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let face = ttf_parser::Face::parse(FONT, 0).expect("the bundled DejaVu Sans parses");
        let per_em = face.units_per_em() as f64;
        Metrics { face, per_em }
    })
}

/// Advance width of `s` at font size `size` (user units).
pub fn width(s: &str, size: f64) -> f64 {
    let m = metrics();
    let units: f64 = s
        .chars()
        .map(|c| {
            m.face
                .glyph_index(c)
                .and_then(|g| m.face.glyph_hor_advance(g))
                .unwrap_or((m.per_em * 0.6) as u16) as f64
        })
        .sum();
    units / m.per_em * size
}

/// True when every character of `s` has a glyph in the bundled font.
#[cfg_attr(not(test), allow(dead_code))]
pub fn covered(s: &str) -> bool {
    let m = metrics();
    s.chars().all(|c| c.is_whitespace() || m.face.glyph_index(c).is_some())
}

/// Greedy word wrap of `s` to lines no wider than `max` at `size` (a single over-long word stays on its line).
pub fn wrap(s: &str, size: f64, max: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let trial = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if width(&trial, size) <= max || cur.is_empty() {
            cur = trial;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
