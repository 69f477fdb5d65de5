//! Small multiples: several [`Figure`]s side by side (in rows of `columns`) under one title, as one SVG drawing
//! converted to PDF and PNG like a single figure. Each panel is laid out by the ordinary renderer on a canvas
//! 1/columns of the preset's width, with the preset's fonts (so text keeps its printed size), and placed with a
//! translation; the panels' clip paths get distinct ids.

use super::export::{svg_to_pdf, svg_to_png, Rendered};
use super::svg::{esc, to_svg_width};
use super::text::{self, FAMILY};
use super::{Figure, Format, Preset};
use crate::Result;
use std::fmt::Write;

/// A multi-panel figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panels {
    /// Title over all panels.
    pub title: String,
    pub panels: Vec<Figure>,
    /// Panels per row (≥ 1).
    pub columns: usize,
}

/// The (width, height) of an SVG drawing from its viewBox.
fn view_box(svg: &str) -> (f64, f64) {
    let Some(i) = svg.find("viewBox=\"") else {
        return (0.0, 0.0);
    };
    let rest = &svg[i + 9..];
    let vals: Vec<f64> = rest
        .split('"')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    (vals.get(2).copied().unwrap_or(0.0), vals.get(3).copied().unwrap_or(0.0))
}

/// The SVG text of the panels at `preset`.
pub fn panels_svg(p: &Panels, preset: Preset) -> String {
    let f = preset.fonts();
    let width = preset.width();
    // Panels narrower than 16 label heights cramp their axes: fewer per row then (a column-wide figure stacks).
    let cols = p
        .columns
        .max(1)
        .min(((width / (16.0 * f.label)).floor() as usize).max(1));
    let pw = width / cols as f64;
    let pad = 0.6 * f.label;
    let lines = if p.title.is_empty() {
        vec![]
    } else {
        text::wrap(&p.title, f.title, width - 2.0 * pad)
    };
    let mut body = String::new();
    for (k, l) in lines.iter().enumerate() {
        let y = pad + 0.9 * f.title + 1.25 * f.title * k as f64;
        let _ = writeln!(
            body,
            "<text class=\"title\" x=\"{:.2}\" y=\"{y:.2}\" font-size=\"{}\" text-anchor=\"middle\">{}</text>",
            0.5 * width,
            f.title,
            esc(l)
        );
    }
    let mut y = if lines.is_empty() {
        0.0
    } else {
        pad + 1.25 * f.title * lines.len() as f64
    };
    for (r, row) in p.panels.chunks(cols).enumerate() {
        let mut row_h: f64 = 0.0;
        for (c, fig) in row.iter().enumerate() {
            let idx = r * cols + c;
            let svg = to_svg_width(fig, preset, pw);
            let (_, h) = view_box(&svg);
            row_h = row_h.max(h);
            let inner_start = svg.find('\n').map_or(0, |i| i + 1);
            let inner_end = svg.rfind("</svg>").unwrap_or(svg.len());
            let inner = svg[inner_start..inner_end]
                .replace("id=\"plot\"", &format!("id=\"plot{idx}\""))
                .replace("url(#plot)", &format!("url(#plot{idx})"))
                .replace("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>", "");
            let _ = writeln!(body, "<g transform=\"translate({:.2} {y:.2})\">", c as f64 * pw);
            body.push_str(&inner);
            let _ = writeln!(body, "</g>");
        }
        y += row_h;
    }
    let height = if preset.in_points() { y } else { y.ceil() };
    let (w_attr, h_attr) = if preset.in_points() {
        (format!("{width:.2}pt"), format!("{height:.2}pt"))
    } else {
        (format!("{width:.0}"), format!("{height:.0}"))
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w_attr}\" height=\"{h_attr}\" viewBox=\"0 0 {width:.2} {height:.2}\" \
         font-family=\"{FAMILY}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{body}</svg>\n"
    )
}

/// Lay the panels out at `preset` and write the requested formats, all from the same SVG drawing.
pub fn render_panels(p: &Panels, preset: Preset, formats: &[Format]) -> Result<Rendered> {
    let svg = panels_svg(p, preset);
    let mut files = Vec::with_capacity(formats.len());
    for &fmt in formats {
        let bytes = match fmt {
            Format::Svg => svg.clone().into_bytes(),
            Format::Pdf => svg_to_pdf(&svg)?,
            Format::Png => svg_to_png(&svg, preset.png_dpi())?,
        };
        files.push((fmt, bytes));
    }
    Ok(Rendered { svg, files })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::plot::Series;

    #[test]
    fn three_panels_sit_side_by_side_with_distinct_clip_ids_and_render() {
        let fig = |t: &str| {
            let mut f = Figure::new(t, "x₁", "x₂");
            f.series.push(Series::line("a", vec![(0.0, 0.0), (1.0, 1.0)]));
            f.aspect = Some(1.0);
            f
        };
        let p = Panels {
            title: "three panels".into(),
            panels: vec![fig("T = 16"), fig("T = 36"), fig("T = 81")],
            columns: 3,
        };
        for preset in Preset::ALL {
            let svg = panels_svg(&p, preset);
            for k in 0..3 {
                assert!(
                    svg.contains(&format!("id=\"plot{k}\"")),
                    "{preset:?}: panel {k} clip id"
                );
                assert!(svg.contains(&format!("url(#plot{k})")));
            }
            assert!(!svg.contains("url(#plot)"), "an unrenamed clip reference");
            let third = preset.width() / 3.0;
            if preset == Preset::Column {
                assert!(
                    !svg.contains(&format!("translate({:.2} ", third)),
                    "column: panels stacked"
                );
            } else {
                assert!(
                    svg.contains(&format!("translate({:.2} ", 2.0 * third)),
                    "third panel offset"
                );
            }
            assert!(svg.contains("T = 81") && svg.contains("three panels"));
            let (w, h) = view_box(&svg);
            assert!((w - preset.width()).abs() < 0.01 && h > third * 0.9, "{w} × {h}");
            assert!(svg.contains(&format!(
                "width=\"{}",
                if preset.in_points() {
                    format!("{:.2}pt", preset.width())
                } else {
                    format!("{:.0}", preset.width())
                }
            )));
        }
        let r = render_panels(&p, Preset::Column, &[Format::Pdf, Format::Png]).unwrap();
        assert!(r.files[0].1.starts_with(b"%PDF") && r.files[1].1.starts_with(b"\x89PNG"));
    }
}
