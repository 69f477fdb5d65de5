//! SVG → PDF (svg2pdf, text kept as text with the font subset embedded) and SVG → PNG (resvg), both through
//! usvg with a font database holding only the bundled DejaVu Sans — no system font or library is consulted.
//!
//! Sizes: usvg reads the SVG's `pt` size at 96 px per inch; the PDF page is written at 96 dpi, so 1 pt in the SVG
//! is 1 pt on the page (a `column` figure is a 3.5 in page); the PNG is rendered at the preset's resolution
//! (300 dpi for print presets, 1 px per unit for `screen`) and records it in a `pHYs` chunk.

use super::svg::to_svg;
use super::text::{FAMILY, FONT};
use super::{Figure, Format, Preset};
use crate::{Error, Result};
use resvg::usvg;
use std::sync::{Arc, OnceLock};

/// A figure rendered to every requested format, with the SVG text they were made from.
pub struct Rendered {
    pub svg: String,
    /// (format, file bytes) in the requested order.
    pub files: Vec<(Format, Vec<u8>)>,
}

fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_sans_serif_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

fn render_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::io(
        what,
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("cannot render figure: {e}")),
    )
}

fn tree(svg: &str) -> Result<usvg::Tree> {
    let opt = usvg::Options {
        fontdb: fontdb(),
        font_family: FAMILY.to_string(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opt).map_err(|e| render_error("svg", e))
}

/// The PDF of an SVG drawing: one page of the SVG's size, text embedded with its font subset.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>> {
    let t = tree(svg)?;
    let mut pdf = svg2pdf::to_pdf(
        &t,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 96.0 },
    )
    .map_err(|e| render_error("pdf", e))?;
    sort_resource_entries(&mut pdf);
    Ok(pdf)
}

/// svg2pdf lists the entries of resource dictionaries (`/gs3 10 0 R` lines) in hash-map order, which differs
/// between runs. Sorting each run of such consecutive, equally indented lines makes the bytes deterministic;
/// it keeps every byte offset (the run's bytes are permuted within its own span), so the xref table stays valid.
fn sort_resource_entries(pdf: &mut [u8]) {
    fn is_entry(line: &[u8]) -> bool {
        let t = line.trim_ascii_start();
        let indent = line.len() - t.len();
        let mut parts = t.split(|&b| b == b' ');
        let (Some(name), Some(num), Some(gen), Some(r), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        indent > 0
            && name.len() > 1
            && name[0] == b'/'
            && name[1..].iter().all(u8::is_ascii_alphanumeric)
            && !num.is_empty()
            && num.iter().all(u8::is_ascii_digit)
            && gen == b"0"
            && r == b"R"
    }
    let mut lines: Vec<(usize, usize)> = Vec::new(); // (start, end incl. newline)
    let mut start = 0;
    for (i, &b) in pdf.iter().enumerate() {
        if b == b'\n' {
            lines.push((start, i + 1));
            start = i + 1;
        }
    }
    let mut k = 0;
    while k < lines.len() {
        let (s0, e0) = lines[k];
        if !is_entry(&pdf[s0..e0 - 1]) {
            k += 1;
            continue;
        }
        let indent = pdf[s0..e0].iter().take_while(|&&b| b == b' ').count();
        let mut j = k + 1;
        while j < lines.len() {
            let (s, e) = lines[j];
            let ind = pdf[s..e].iter().take_while(|&&b| b == b' ').count();
            if ind != indent || !is_entry(&pdf[s..e - 1]) {
                break;
            }
            j += 1;
        }
        if j - k > 1 {
            let (a, b) = (lines[k].0, lines[j - 1].1);
            let mut run: Vec<Vec<u8>> = lines[k..j].iter().map(|&(s, e)| pdf[s..e].to_vec()).collect();
            run.sort();
            let joined: Vec<u8> = run.concat();
            pdf[a..b].copy_from_slice(&joined);
        }
        k = j;
    }
}

/// The PNG of an SVG drawing at `dpi` (on a white background; the resolution is stored in `pHYs`).
pub fn svg_to_png(svg: &str, dpi: f64) -> Result<Vec<u8>> {
    let t = tree(svg)?;
    let scale = (dpi / 96.0) as f32;
    let size = t.size();
    let (w, h) = (
        (size.width() * scale).round().max(1.0) as u32,
        (size.height() * scale).round().max(1.0) as u32,
    );
    let mut pix = resvg::tiny_skia::Pixmap::new(w, h).ok_or_else(|| render_error("png", "empty canvas"))?;
    pix.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &t,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pix.as_mut(),
    );
    // Opaque background: premultiplied RGBA equals straight RGBA; drop alpha.
    let rgb: Vec<u8> = pix.data().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        let ppm = (dpi / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut wr = enc.write_header().map_err(|e| render_error("png", e))?;
        wr.write_image_data(&rgb).map_err(|e| render_error("png", e))?;
    }
    Ok(bytes)
}

/// Lay `fig` out at `preset` and write the requested formats, all from the same SVG drawing.
pub fn render_figure(fig: &Figure, preset: Preset, formats: &[Format]) -> Result<Rendered> {
    let svg = to_svg(fig, preset);
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
