//! A small declarative figure model and its renderer: one SVG drawing, converted to PDF and PNG.
//!
//! Studies build [`Figure`] values (pure data, easy to test); [`render_figure`] lays a figure out for a
//! [`Preset`] (`screen` 900 px wide, `column` 3.5 in, `page` 7 in, fonts 8–10 pt at the printed size) and writes
//! the requested [`Format`]s from one SVG text: the PDF (svg2pdf, fonts embedded as subsets) and the PNG (resvg,
//! 300 dpi for the print presets) are conversions of that SVG through usvg with the bundled DejaVu Sans, so the
//! three files show the same drawing and no system font or library is used.
//!
//! Conventions of the renderer (see [`ticks`]): log axes snap to whole decades and label them as 10ⁿ (every decade
//! when the labels fit, else every k-th with a tick at each); integer axes ([`Figure::x_integer`]) only get integer
//! ticks; linear ranges are the data's with a 4 % margin; the legend and the notes box are placed in an empty part
//! of the plot area (checked against every drawn data point) or, when none is free, below the plot. Series whose
//! colour is not given use the qualitative palette, or a sequential map (viridis) when the figure says the series
//! are ordered ([`ColorMap::Sequential`]) or when there are more automatically coloured series than palette
//! colours.

pub mod colors;
mod export;
mod legend;
pub mod panels;
mod svg;
mod text;
pub mod ticks;

#[cfg(test)]
mod tests;

pub use colors::{light, palette, Color, PALETTE};
pub use export::{render_figure, svg_to_pdf, svg_to_png, Rendered};
pub use panels::{render_panels, Panels};
pub use svg::to_svg;

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Figure size and font sizes. Print presets use points as SVG user units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// A screen preview, 900 px wide (the former fixed size).
    #[default]
    Screen,
    /// Single journal column: 3.5 in (252 pt) wide; fonts 8–9 pt.
    Column,
    /// Full page width: 7 in (504 pt); fonts 9–10 pt.
    Page,
}

/// Font sizes in SVG user units (pt for print presets, px for `screen`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fonts {
    pub tick: f64,
    pub label: f64,
    pub legend: f64,
    pub title: f64,
}

impl Preset {
    /// All presets, for listing and tests.
    pub const ALL: [Preset; 3] = [Preset::Screen, Preset::Column, Preset::Page];

    /// Scenario / CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Screen => "screen",
            Preset::Column => "column",
            Preset::Page => "page",
        }
    }

    /// Parse a scenario / CLI name.
    pub fn from_name(s: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Canvas width in user units.
    pub fn width(self) -> f64 {
        match self {
            Preset::Screen => 900.0,
            Preset::Column => 252.0,
            Preset::Page => 504.0,
        }
    }

    /// Default canvas height in user units (before a legend placed below the plot adds to it).
    pub fn height(self) -> f64 {
        match self {
            Preset::Screen => 650.0,
            Preset::Column => 189.0,
            Preset::Page => 315.0,
        }
    }

    /// True when user units are points (the SVG declares its size in pt).
    pub fn in_points(self) -> bool {
        !matches!(self, Preset::Screen)
    }

    /// Font sizes in user units: 8–10 pt on print presets (no text below 7 pt at the printed width).
    pub fn fonts(self) -> Fonts {
        match self {
            Preset::Screen => Fonts {
                tick: 14.0,
                label: 16.0,
                legend: 14.0,
                title: 18.0,
            },
            Preset::Column => Fonts {
                tick: 8.0,
                label: 9.0,
                legend: 8.0,
                title: 9.0,
            },
            Preset::Page => Fonts {
                tick: 9.0,
                label: 10.0,
                legend: 9.0,
                title: 10.0,
            },
        }
    }

    /// Data line width in user units.
    pub fn line_width(self) -> f64 {
        match self {
            Preset::Screen => 2.0,
            Preset::Column => 1.0,
            Preset::Page => 1.2,
        }
    }

    /// PNG resolution in dots per inch (the screen preset keeps 1 px per user unit, i.e. 96 dpi).
    pub fn png_dpi(self) -> f64 {
        match self {
            Preset::Screen => 96.0,
            Preset::Column | Preset::Page => 300.0,
        }
    }
}

/// An output format of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pdf,
    Svg,
    Png,
}

impl Format {
    /// All formats (the default set).
    pub const ALL: [Format; 3] = [Format::Pdf, Format::Svg, Format::Png];

    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// How figures of a run are written: the `[output]` table of a scenario, overridden by `--figures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureOptions {
    pub preset: Preset,
    pub formats: Vec<Format>,
}

impl Default for FigureOptions {
    fn default() -> Self {
        FigureOptions {
            preset: Preset::Screen,
            formats: Format::ALL.to_vec(),
        }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    #[default]
    Line,
    Points,
    LinePoints,
    /// Piecewise-constant ("post" steps): the value of point k holds until the x of point k + 1; give the right
    /// end of the last interval as a final point repeating the last value.
    Step,
}

/// Marker shape for `Points` / `LinePoints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marker {
    #[default]
    Circle,
    Square,
    Triangle,
    Diamond,
    /// ×, always unfilled.
    Cross,
}

/// Line pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stroke {
    #[default]
    Solid,
    Dashed,
    Dotted,
}

/// One data series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend entry; unlabelled series (e.g. hundreds of trajectories) get none.
    pub label: Option<String>,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    /// `None`: automatic (palette or sequential map, in series order).
    pub color: Option<Color>,
    pub marker: Marker,
    /// Open markers when false.
    pub open: bool,
    pub stroke: Stroke,
    /// Line-width factor (1 = the preset's width; 0 means 1).
    pub width: f64,
}

impl Series {
    /// A labelled line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: Some(label.into()),
            points,
            ..Series::default()
        }
    }
    /// Labelled points.
    pub fn points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: Some(label.into()),
            points,
            mark: Mark::Points,
            ..Series::default()
        }
    }
    /// An unlabelled series.
    pub fn unlabelled(points: Vec<(f64, f64)>, mark: Mark) -> Self {
        Series {
            points,
            mark,
            ..Series::default()
        }
    }
    /// With a colour.
    pub fn color(mut self, c: impl Into<Color>) -> Self {
        self.color = Some(c.into());
        self
    }
    /// With a mark.
    pub fn mark(mut self, m: Mark) -> Self {
        self.mark = m;
        self
    }
    /// With a marker shape (`open`: unfilled).
    pub fn marker(mut self, m: Marker, open: bool) -> Self {
        self.marker = m;
        self.open = open;
        self
    }
    /// With a line pattern.
    pub fn stroke(mut self, s: Stroke) -> Self {
        self.stroke = s;
        self
    }
    /// With a line-width factor.
    pub fn width(mut self, w: f64) -> Self {
        self.width = w;
        self
    }
}

/// A filled axis-aligned rectangle in data coordinates, drawn in the light version of its class colour under the
/// series (decision regions). Adjacent cells of a row with the same class are merged when drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    /// Palette index of the light fill colour.
    pub class: usize,
}

/// A theoretical reference drawn as a dashed line through `anchor` over the data's x range (or `x_span`):
/// a power law y = y₀ (x/x₀)^p (straight on log–log axes: orders h¹, h⁴, rates 2H − 1, 1/T) or an exponential
/// y = y₀ e^{r (x − x₀)} (straight on a log-y axis: e^{−μt}).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub kind: RefKind,
    pub anchor: (f64, f64),
    /// Legend entry, e.g. "reference h⁴".
    pub label: String,
    pub color: Option<Color>,
    pub x_span: Option<(f64, f64)>,
}

/// The shape of a [`Reference`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefKind {
    /// y ∝ x^p.
    Power(f64),
    /// y ∝ e^{r x}.
    Exponential(f64),
}

impl Reference {
    /// y = anchor.y · (x / anchor.x)^p.
    pub fn power(p: f64, anchor: (f64, f64), label: impl Into<String>) -> Self {
        Reference {
            kind: RefKind::Power(p),
            anchor,
            label: label.into(),
            color: None,
            x_span: None,
        }
    }
    /// y = anchor.y · e^{r (x − anchor.x)} (e.g. r = −μ).
    pub fn exponential(r: f64, anchor: (f64, f64), label: impl Into<String>) -> Self {
        Reference {
            kind: RefKind::Exponential(r),
            anchor,
            label: label.into(),
            color: None,
            x_span: None,
        }
    }
    /// A power law of exponent `p` that runs a factor `offset` (e.g. 0.3: below) off the data point of largest
    /// x, so the reference sits beside the data instead of on it. `None` without a positive finite point.
    pub fn power_beside(p: f64, data: &[(f64, f64)], offset: f64, label: impl Into<String>) -> Option<Self> {
        let &(x, y) = data
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        Some(Reference::power(p, (x, y * offset), label))
    }
    /// With a colour.
    pub fn color(mut self, c: impl Into<Color>) -> Self {
        self.color = Some(c.into());
        self
    }
    /// The reference's value at x.
    pub fn eval(&self, x: f64) -> f64 {
        let (x0, y0) = self.anchor;
        match self.kind {
            RefKind::Power(p) => y0 * (x / x0).powf(p),
            RefKind::Exponential(r) => y0 * (r * (x - x0)).exp(),
        }
    }
}

/// A horizontal (`Figure::hlines`) or vertical (`Figure::vlines`) line at a data value, e.g. a tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct RefLine {
    pub value: f64,
    pub label: Option<String>,
    pub color: Option<Color>,
    pub stroke: Stroke,
}

impl RefLine {
    /// A dashed grey line with a legend entry.
    pub fn new(value: f64, label: impl Into<String>) -> Self {
        RefLine {
            value,
            label: Some(label.into()),
            color: None,
            stroke: Stroke::Dashed,
        }
    }
}

/// A shaded horizontal band between two y values (e.g. the gap between kept and discarded singular values).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub y0: f64,
    pub y1: f64,
    pub label: Option<String>,
    pub color: Option<Color>,
}

/// How automatically coloured series are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMap {
    /// The qualitative palette, or the sequential map when there are more series than palette colours.
    #[default]
    Auto,
    /// A sequential map in series order (the series are ordered: depth, T, L, …).
    Sequential,
}

/// A legend-only entry (e.g. the colour of a decision-region class, or the meaning of a marker).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyEntry {
    pub label: String,
    pub color: Color,
    pub kind: KeyKind,
}

/// What a [`KeyEntry`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A filled light square (region classes).
    Patch,
    /// A marker of this shape (`open`: unfilled).
    Marker(Marker, bool),
    /// A short line.
    Line,
}

/// A 2-D figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    /// Integer quantity on x (depth, rank, iteration): ticks only at integers.
    pub x_integer: bool,
    /// Integer quantity on y.
    pub y_integer: bool,
    /// Fixed axis ranges (otherwise fitted to the data).
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    pub regions: Vec<Region>,
    pub references: Vec<Reference>,
    pub hlines: Vec<RefLine>,
    pub vlines: Vec<RefLine>,
    pub bands: Vec<Band>,
    /// Legend-only entries, after the series' entries.
    pub key: Vec<KeyEntry>,
    /// Text lines in a notes box (fitted slopes, settings), placed like the legend.
    pub annotations: Vec<String>,
    /// Same data units per length on both axes (the plot's height follows the data; ignored on log axes).
    pub equal_aspect: bool,
    pub colormap: ColorMap,
    /// Plot-area height / width (default: from the preset's canvas).
    pub aspect: Option<f64>,
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

/// Render `fig` at the `screen` preset to a PNG file and an SVG file (kept for callers that write single
/// figures; runs write every format through [`render_figure`]).
pub fn render(fig: &Figure, png: &Path, svg: &Path) -> crate::Result<()> {
    let r = render_figure(fig, Preset::Screen, &[Format::Svg, Format::Png])?;
    for (fmt, bytes) in r.files {
        let path = if fmt == Format::Png { png } else { svg };
        std::fs::write(path, bytes).map_err(|e| crate::Error::io(path, e))?;
    }
    Ok(())
}
