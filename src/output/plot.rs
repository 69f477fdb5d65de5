//! A small declarative figure model and its renderer to PNG and SVG (plotters).
//!
//! Studies build [`Figure`] values (pure data, easy to test and to serialize later); [`render`]
//! turns one into `*.png` (900×650 bitmap) and `*.svg`. Axis ranges come from the data with 5 %
//! margins; non-finite points (and non-positive ones on log axes) are skipped and break lines.
//! Text uses the bundled DejaVu Sans, registered once as `sans-serif`, so rendering needs no
//! system font library.

use std::error::Error as StdError;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle, RGBColor};

use crate::{Error, Result};

/// Bitmap size in pixels (the SVG uses the same canvas).
pub const SIZE: (u32, u32) = (900, 650);

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Line,
    Points,
    LinePoints,
}

/// One data series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry; unlabeled series (e.g. hundreds of trajectories) get none.
    pub label: Option<String>,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    /// Index into the palette (taken modulo its length); `None` uses the series index.
    pub color: Option<usize>,
}

/// A filled axis-aligned rectangle in data coordinates, drawn in a light palette colour under the
/// series (decision regions, for instance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    /// Palette index of the light fill colour.
    pub class: usize,
}

/// A 2-D figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub regions: Vec<Region>,
    /// Text lines shown in the upper-left corner of the plot (fitted slopes, for instance).
    pub annotations: Vec<String>,
    /// Same data units per pixel on both axes (ignored when either axis is logarithmic).
    pub equal_aspect: bool,
}

impl Series {
    /// A labeled line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: Some(label.into()),
            points,
            mark: Mark::Line,
            color: None,
        }
    }
}

impl Figure {
    /// An empty figure with a title and axis labels.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Figure {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Figure::default()
        }
    }
}

/// Ten distinguishable colours (matplotlib's tab10).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Palette colour `i` (modulo the palette length).
pub fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A light version of palette colour `i`, for region fills.
pub fn light(i: usize) -> RGBColor {
    let RGBColor(r, g, b) = palette(i);
    let l = |c: u8| 255 - ((255 - c as u32) * 3 / 10) as u8;
    RGBColor(l(r), l(g), l(b))
}

const FONT: &str = "sans-serif";
const MARGIN: u32 = 15;
const X_LABEL_AREA: u32 = 50;
const Y_LABEL_AREA: u32 = 75;
/// Above this many series, lines are drawn 1 px wide (trajectory bundles).
const THIN_ABOVE: usize = 12;

fn ensure_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK
        .get_or_init(|| register_font(FONT, FontStyle::Normal, include_bytes!("../../assets/DejaVuSans.ttf")).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::io(
            "assets/DejaVuSans.ttf",
            std::io::Error::new(std::io::ErrorKind::InvalidData, "bundled font is invalid"),
        ))
    }
}

type Segments = Vec<Vec<(f64, f64)>>;

/// The drawable data of a figure: per-series runs of usable points, and the axis ranges.
struct Prepared {
    segments: Vec<Segments>,
    x: (f64, f64),
    y: (f64, f64),
    empty: bool,
}

fn usable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// Extend `[lo, hi]` by 5 % on each side (in log space for log axes); give degenerate or missing
/// ranges a sensible width.
fn pad(range: Option<(f64, f64)>, log: bool) -> (f64, f64) {
    match (range, log) {
        (None, false) => (0.0, 1.0),
        (None, true) => (1.0, 10.0),
        (Some((lo, hi)), false) => {
            if hi > lo {
                let m = 0.05 * (hi - lo);
                (lo - m, hi + m)
            } else {
                let w = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
                (lo - w, hi + w)
            }
        }
        (Some((lo, hi)), true) => {
            if hi > lo {
                let f = (hi / lo).powf(0.05);
                (lo / f, hi * f)
            } else {
                (lo / 2.0, hi * 2.0)
            }
        }
    }
}

fn include(r: &mut Option<(f64, f64)>, v: f64) {
    *r = Some(match *r {
        None => (v, v),
        Some((lo, hi)) => (lo.min(v), hi.max(v)),
    });
}

impl Prepared {
    fn new(fig: &Figure) -> Self {
        let (mut xr, mut yr) = (None, None);
        let ok = |&(x, y): &(f64, f64)| usable(x, fig.log_x) && usable(y, fig.log_y);
        let mut segments = Vec::with_capacity(fig.series.len());
        for s in &fig.series {
            let mut segs: Segments = Vec::new();
            let mut cur = Vec::new();
            for p in &s.points {
                if ok(p) {
                    include(&mut xr, p.0);
                    include(&mut yr, p.1);
                    cur.push(*p);
                } else if !cur.is_empty() {
                    segs.push(std::mem::take(&mut cur));
                }
            }
            if !cur.is_empty() {
                segs.push(cur);
            }
            segments.push(segs);
        }
        for r in fig.regions.iter().filter(|r| region_ok(r, fig)) {
            for (x, y) in [(r.x0, r.y0), (r.x1, r.y1)] {
                include(&mut xr, x);
                include(&mut yr, y);
            }
        }
        let empty = xr.is_none();
        Prepared {
            segments,
            x: pad(xr, fig.log_x),
            y: pad(yr, fig.log_y),
            empty,
        }
    }
}

fn region_ok(r: &Region, fig: &Figure) -> bool {
    usable(r.x0, fig.log_x) && usable(r.x1, fig.log_x) && usable(r.y0, fig.log_y) && usable(r.y1, fig.log_y)
}

/// Widen one linear range so that both axes have the same data units per pixel.
fn equalize(x: &mut (f64, f64), y: &mut (f64, f64), w: f64, h: f64) {
    let (sx, sy) = ((x.1 - x.0) / w, (y.1 - y.0) / h);
    let widen = |r: &mut (f64, f64), span: f64| {
        let c = 0.5 * (r.0 + r.1);
        *r = (c - 0.5 * span, c + 0.5 * span);
    };
    if sx < sy {
        widen(x, sy * w);
    } else {
        widen(y, sx * h);
    }
}

/// Tick label on a log axis: every tick when the axis spans less than a decade, otherwise only the 1-2-5
/// mantissas (plotters puts a tick at every integer mantissa, whose labels collide near the decade's end).
fn log_tick(v: f64, span_decades: f64) -> String {
    if span_decades >= 1.0 && v > 0.0 {
        let mantissa = v / 10f64.powf(v.log10().floor());
        if ![1.0, 2.0, 5.0].iter().any(|k| (mantissa - k).abs() < 1e-6 * k) {
            return String::new();
        }
    }
    format!("{v:.0e}")
}

/// The right-hand corner (upper or lower) with fewer data points under it: the legend covers less data there
/// (the annotations box sits upper left).
fn legend_corner(fig: &Figure, prep: &Prepared) -> SeriesLabelPosition {
    let norm = |v: f64, (lo, hi): (f64, f64), log: bool| {
        if log {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let (mut upper, mut lower) = (0usize, 0usize);
    for seg in prep.segments.iter().flatten().flatten() {
        let (u, w) = (norm(seg.0, prep.x, fig.log_x), norm(seg.1, prep.y, fig.log_y));
        if u > 0.55 {
            if w > 0.6 {
                upper += 1;
            } else if w < 0.4 {
                lower += 1;
            }
        }
    }
    if lower < upper {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

fn decades(r: &std::ops::Range<f64>) -> f64 {
    if r.start > 0.0 && r.end > 0.0 {
        (r.end / r.start).log10().abs()
    } else {
        0.0
    }
}

type DrawResult = std::result::Result<(), Box<dyn StdError>>;

/// Render `fig` to a PNG file and an SVG file.
pub fn render(fig: &Figure, png: &Path, svg: &Path) -> Result<()> {
    ensure_font()?;
    let prep = Prepared::new(fig);
    let plot_err = |path: &Path, e: Box<dyn StdError>| {
        Error::io(path, std::io::Error::other(format!("cannot render figure: {e}")))
    };
    {
        let root = BitMapBackend::new(png, SIZE).into_drawing_area();
        draw(&root, fig, &prep).map_err(|e| plot_err(png, e))?;
        root.present().map_err(|e| plot_err(png, Box::new(e)))?;
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, fig, &prep).map_err(|e| plot_err(svg, e))?;
        root.present().map_err(|e| plot_err(svg, Box::new(e)))?;
    }
    std::fs::write(svg, text).map_err(|e| Error::io(svg, e))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure, prep: &Prepared) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let area = root.titled(&fig.title, (FONT, 24))?;
    let (mut x, mut y) = (prep.x, prep.y);
    if fig.equal_aspect && !fig.log_x && !fig.log_y {
        let (w, h) = area.dim_in_pixel();
        let pw = w.saturating_sub(2 * MARGIN + Y_LABEL_AREA).max(1);
        let ph = h.saturating_sub(2 * MARGIN + X_LABEL_AREA).max(1);
        equalize(&mut x, &mut y, pw as f64, ph as f64);
    }
    match (fig.log_x, fig.log_y) {
        (false, false) => chart(&area, fig, prep, x.0..x.1, y.0..y.1),
        (true, false) => chart(&area, fig, prep, (x.0..x.1).log_scale(), y.0..y.1),
        (false, true) => chart(&area, fig, prep, x.0..x.1, (y.0..y.1).log_scale()),
        (true, true) => chart(&area, fig, prep, (x.0..x.1).log_scale(), (y.0..y.1).log_scale()),
    }
}

fn chart<DB, X, Y>(area: &DrawingArea<DB, Shift>, fig: &Figure, prep: &Prepared, xs: X, ys: Y) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(xs, ys)?;
    let (dx, dy) = (decades(&chart.x_range()), decades(&chart.y_range()));
    {
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(fig.x_label.as_str())
            .y_desc(fig.y_label.as_str())
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12));
        let (fx, fy) = (move |v: &f64| log_tick(*v, dx), move |v: &f64| log_tick(*v, dy));
        if fig.log_x {
            mesh.x_label_formatter(&fx);
        }
        if fig.log_y {
            mesh.y_label_formatter(&fy);
        }
        mesh.draw()?;
    }

    chart.draw_series(
        fig.regions
            .iter()
            .filter(|r| region_ok(r, fig))
            .map(|r| Rectangle::new([(r.x0, r.y0), (r.x1, r.y1)], light(r.class).filled())),
    )?;

    let width = if fig.series.len() > THIN_ABOVE { 1 } else { 2 };
    let mut labeled = false;
    for (i, (s, segs)) in fig.series.iter().zip(&prep.segments).enumerate() {
        let color = palette(s.color.unwrap_or(i));
        // Bundles of thin lines are slightly transparent so their density shows.
        let line_style = if width == 1 {
            color.mix(0.6).stroke_width(1)
        } else {
            color.stroke_width(width)
        };
        if matches!(s.mark, Mark::Line | Mark::LinePoints) {
            let anno = chart.draw_series(
                segs.iter()
                    .filter(|seg| seg.len() > 1)
                    .map(|seg| PathElement::new(seg.clone(), line_style)),
            )?;
            if let Some(label) = &s.label {
                labeled = true;
                anno.label(label.as_str())
                    .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], line_style));
            }
        }
        if matches!(s.mark, Mark::Points | Mark::LinePoints) {
            let r = if width == 1 { 2 } else { 3 };
            let anno = chart.draw_series(segs.iter().flatten().map(|&p| Circle::new(p, r, color.filled())))?;
            if let (Mark::Points, Some(label)) = (s.mark, &s.label) {
                labeled = true;
                anno.label(label.as_str())
                    .legend(move |(px, py)| Circle::new((px + 10, py), 4, color.filled()));
            }
        }
    }
    if labeled {
        chart
            .configure_series_labels()
            .position(legend_corner(fig, prep))
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
    }

    let plot = chart.plotting_area().strip_coord_spec();
    let text_style: TextStyle = (FONT, 15).into_text_style(&plot);
    if prep.empty {
        let (w, h) = plot.dim_in_pixel();
        let note = "no finite data to plot";
        let (tw, th) = plot.estimate_text_size(note, &text_style)?;
        let pos = ((w as i32 - tw as i32) / 2, (h as i32 - th as i32) / 2);
        plot.draw(&Text::new(note, pos, text_style.clone()))?;
    }
    if !fig.annotations.is_empty() {
        let mut tw = 0;
        let mut lh = 0;
        for line in &fig.annotations {
            let (w, h) = plot.estimate_text_size(line, &text_style)?;
            tw = tw.max(w as i32);
            lh = lh.max(h as i32);
        }
        lh += 4;
        let (x0, y0) = (8, 8);
        let box_h = lh * fig.annotations.len() as i32 + 8;
        plot.draw(&Rectangle::new(
            [(x0, y0), (x0 + tw + 12, y0 + box_h)],
            WHITE.mix(0.85).filled(),
        ))?;
        plot.draw(&Rectangle::new([(x0, y0), (x0 + tw + 12, y0 + box_h)], BLACK.mix(0.4)))?;
        for (k, line) in fig.annotations.iter().enumerate() {
            let pos = (x0 + 6, y0 + 6 + lh * k as i32);
            plot.draw(&Text::new(line.as_str(), pos, text_style.clone()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_outputs(dir: &Path, stem: &str, title: &str) {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        assert!(png.len() > 1000, "PNG too small: {} bytes", png.len());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"));
        assert!(svg.contains(title), "title missing from SVG");
    }

    fn render_in(dir: &Path, stem: &str, fig: &Figure) {
        render(fig, &dir.join(format!("{stem}.png")), &dir.join(format!("{stem}.svg"))).unwrap();
        check_outputs(dir, stem, &fig.title);
    }

    #[test]
    fn log_log_figure_with_annotations_renders() {
        let dir = tempfile::tempdir().unwrap();
        let mut fig = Figure::new("Euler error vs step", "h", "error");
        fig.log_x = true;
        fig.log_y = true;
        let hs: Vec<f64> = (0..8).map(|k| 0.5f64.powi(k)).collect();
        fig.series.push(Series {
            label: Some("euler".into()),
            points: hs.iter().map(|&h| (h, 0.3 * h)).collect(),
            mark: Mark::LinePoints,
            color: None,
        });
        fig.series.push(Series {
            label: Some("rk4".into()),
            // Zero, negative and NaN values are skipped on log axes.
            points: hs
                .iter()
                .map(|&h| (h, h.powi(4)))
                .chain([(0.01, 0.0), (0.02, -1.0), (f64::NAN, 1.0)])
                .collect(),
            mark: Mark::Points,
            color: Some(3),
        });
        fig.annotations = vec!["slope euler = 1.00 ± 0.01".into(), "slope rk4 = 4.00".into()];
        render_in(dir.path(), "loglog", &fig);
    }

    #[test]
    fn phase_plane_with_300_trajectories_and_regions_renders() {
        let dir = tempfile::tempdir().unwrap();
        let mut fig = Figure::new("Phase plane", "x1", "x2");
        fig.equal_aspect = true;
        let n = 40;
        for i in 0..n {
            for j in 0..n {
                let (x0, y0) = (-2.0 + 4.0 * i as f64 / n as f64, -1.0 + 2.0 * j as f64 / n as f64);
                fig.regions.push(Region {
                    x0,
                    x1: x0 + 4.0 / n as f64,
                    y0,
                    y1: y0 + 2.0 / n as f64,
                    class: usize::from(x0 * y0 > 0.0),
                });
            }
        }
        for k in 0..300 {
            let a = k as f64 * 0.021;
            let points = (0..100)
                .map(|s| {
                    let t = s as f64 * 0.03;
                    let r = (-0.3 * t).exp();
                    (r * (a + t).cos(), 0.5 * r * (a + t).sin())
                })
                .collect();
            fig.series.push(Series {
                label: None,
                points,
                mark: Mark::Line,
                color: Some(k % 2),
            });
        }
        fig.series.push(Series {
            label: Some("targets".into()),
            points: vec![(1.0, 0.5), (-1.0, -0.5)],
            mark: Mark::Points,
            color: Some(3),
        });
        let start = std::time::Instant::now();
        render_in(dir.path(), "phase", &fig);
        assert!(start.elapsed().as_secs_f64() < 30.0, "rendering too slow");
    }

    #[test]
    fn empty_figure_renders_axes_and_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let mut fig = Figure::new("Nothing here", "x", "y");
        fig.series
            .push(Series::line("nan", vec![(f64::NAN, 1.0), (0.0, f64::INFINITY)]));
        render_in(dir.path(), "empty", &fig);
        let svg = std::fs::read_to_string(dir.path().join("empty.svg")).unwrap();
        assert!(svg.contains("no finite data to plot"));
        // Log axes with nothing positive also render.
        fig.log_y = true;
        fig.series = vec![Series::line("zero", vec![(1.0, 0.0)])];
        render_in(dir.path(), "empty_log", &fig);
    }

    #[test]
    fn ranges_have_margins_and_equal_aspect_widens_one_axis() {
        assert_eq!(pad(Some((0.0, 10.0)), false), (-0.5, 10.5));
        assert_eq!(pad(None, true), (1.0, 10.0));
        let (lo, hi) = pad(Some((1e-4, 1.0)), true);
        assert!((lo.log10() + 4.2).abs() < 1e-12 && (hi.log10() - 0.2).abs() < 1e-12);
        let (lo, hi) = pad(Some((3.0, 3.0)), false);
        assert!(lo < 3.0 && hi > 3.0);
        let (mut x, mut y) = ((0.0, 1.0), (0.0, 4.0));
        equalize(&mut x, &mut y, 200.0, 100.0);
        assert_eq!(y, (0.0, 4.0));
        assert_eq!(x, (-3.5, 4.5));
    }
}
