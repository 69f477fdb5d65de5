//! Layout and SVG text of a [`Figure`] at a [`Preset`]: the one drawing from which PDF and PNG are made.
//!
//! Text elements carry a `class` (`title`, `xtick`, `ytick`, `xlabel`, `ylabel`, `legend`, `note`) so tests and
//! tools can find them; sizes are in user units (pt for print presets).

use super::colors::{light, Color};
use super::legend::{legend_items, place, Occupancy};
use super::text::{self, FAMILY};
use super::ticks::{linear_axis, linear_range, log_axis, Axis};
use super::{ColorMap, Figure, Mark, Marker, Preset, Series, Stroke};
use std::fmt::Write;

/// Above this many automatically drawn unlabelled lines, lines are thin and translucent (trajectory bundles).
const THIN_ABOVE: usize = 12;

fn usable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

fn include(r: &mut Option<(f64, f64)>, v: f64) {
    *r = Some(match *r {
        None => (v, v),
        Some((lo, hi)) => (lo.min(v), hi.max(v)),
    });
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A rectangle in user units: (x0, y0, x1, y1), y downward.
pub(super) type Rect = (f64, f64, f64, f64);

/// The figure laid out at a preset: scales, margins and the resolved series colours.
struct Layout<'a> {
    fig: &'a Figure,
    preset: Preset,
    x: Axis,
    y: Axis,
    plot: Rect,
    width: f64,
    colors: Vec<Color>,
    segments: Vec<Vec<Vec<(f64, f64)>>>,
    empty: bool,
}

impl Layout<'_> {
    fn px(&self, x: f64) -> f64 {
        self.plot.0 + self.x.frac(x) * (self.plot.2 - self.plot.0)
    }
    fn py(&self, y: f64) -> f64 {
        self.plot.3 - self.y.frac(y) * (self.plot.3 - self.plot.1)
    }
    fn pt(&self, p: (f64, f64)) -> (f64, f64) {
        (self.px(p.0), self.py(p.1))
    }
}

/// Resolved colour of every series: explicit ones as given; automatic ones from the palette in order, or from the
/// sequential map when the figure asks for it or there are more of them than palette colours.
fn series_colors(fig: &Figure) -> Vec<Color> {
    let n_auto = fig.series.iter().filter(|s| s.color.is_none()).count();
    let seq = fig.colormap == ColorMap::Sequential || n_auto > super::PALETTE.len();
    let mut k = 0;
    fig.series
        .iter()
        .map(|s| {
            s.color.unwrap_or_else(|| {
                let c = if seq {
                    Color::Sequential(if n_auto > 1 {
                        k as f64 / (n_auto - 1) as f64
                    } else {
                        0.0
                    })
                } else {
                    Color::Palette(k)
                };
                k += 1;
                c
            })
        })
        .collect()
}

fn dash(stroke: Stroke, lw: f64) -> String {
    match stroke {
        Stroke::Solid => String::new(),
        Stroke::Dashed => format!(" stroke-dasharray=\"{:.2} {:.2}\"", 3.5 * lw, 2.0 * lw),
        Stroke::Dotted => format!(
            " stroke-dasharray=\"{:.2} {:.2}\" stroke-linecap=\"round\"",
            0.1 * lw,
            2.0 * lw
        ),
    }
}

fn path_d(pts: &[(f64, f64)]) -> String {
    let mut d = String::with_capacity(pts.len() * 16);
    for (i, (x, y)) in pts.iter().enumerate() {
        let _ = write!(d, "{}{x:.2},{y:.2}", if i == 0 { "M" } else { " L" });
    }
    d
}

fn marker_svg(out: &mut String, m: Marker, open: bool, (x, y): (f64, f64), r: f64, color: &str, lw: f64) {
    let fill = if open || m == Marker::Cross { "#ffffff" } else { color };
    let fill = if m == Marker::Cross { "none" } else { fill };
    let sw = 0.8 * lw;
    let _ = match m {
        Marker::Circle => writeln!(
            out,
            "<circle cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"{r:.2}\" fill=\"{fill}\" stroke=\"{color}\" stroke-width=\"{sw:.2}\"/>"
        ),
        Marker::Square => {
            let a = 0.9 * r;
            writeln!(
                out,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{fill}\" stroke=\"{color}\" \
                 stroke-width=\"{sw:.2}\"/>",
                x - a,
                y - a,
                2.0 * a,
                2.0 * a
            )
        }
        Marker::Triangle => writeln!(
            out,
            "<path d=\"M{x:.2},{:.2} L{:.2},{:.2} L{:.2},{:.2} Z\" fill=\"{fill}\" stroke=\"{color}\" \
             stroke-width=\"{sw:.2}\"/>",
            y - 1.2 * r,
            x + 1.05 * r,
            y + 0.65 * r,
            x - 1.05 * r,
            y + 0.65 * r
        ),
        Marker::Diamond => writeln!(
            out,
            "<path d=\"M{x:.2},{:.2} L{:.2},{y:.2} L{x:.2},{:.2} L{:.2},{y:.2} Z\" fill=\"{fill}\" stroke=\"{color}\" \
             stroke-width=\"{sw:.2}\"/>",
            y - 1.25 * r,
            x + r,
            y + 1.25 * r,
            x - r
        ),
        Marker::Cross => {
            // A white halo under the cross keeps it visible on markers and lines of its own colour.
            let d = format!(
                "M{:.2},{:.2} L{:.2},{:.2} M{:.2},{:.2} L{:.2},{:.2}",
                x - 1.2 * r,
                y - 1.2 * r,
                x + 1.2 * r,
                y + 1.2 * r,
                x - 1.2 * r,
                y + 1.2 * r,
                x + 1.2 * r,
                y - 1.2 * r
            );
            writeln!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"#ffffff\" stroke-width=\"{:.2}\" stroke-linecap=\"round\"/>\n\
                 <path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{:.2}\" stroke-linecap=\"round\"/>",
                3.2 * lw,
                1.4 * lw
            )
        }
    };
}

#[allow(clippy::too_many_arguments)]
fn text_el(out: &mut String, class: &str, x: f64, y: f64, size: f64, anchor: &str, s: &str, extra: &str) {
    let _ = writeln!(
        out,
        "<text class=\"{class}\" x=\"{x:.2}\" y=\"{y:.2}\" font-size=\"{size}\" text-anchor=\"{anchor}\"{extra}>{}</text>",
        esc(s)
    );
}

/// Drawn points of a series: usable runs, with steps expanded.
fn segments(s: &Series, log_x: bool, log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut segs = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for &(x, y) in &s.points {
        if usable(x, log_x) && usable(y, log_y) {
            if s.mark == Mark::Step {
                if let Some(&(_, py)) = cur.last() {
                    cur.push((x, py));
                }
            }
            cur.push((x, y));
        } else if !cur.is_empty() {
            segs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        segs.push(cur);
    }
    segs
}

/// The SVG text of `fig` laid out at `preset`.
pub fn to_svg(fig: &Figure, preset: Preset) -> String {
    to_svg_width(fig, preset, preset.width())
}

/// [`to_svg`] on a canvas `width` user units wide (the preset's fonts and line widths; a panel of a
/// [`super::panels::Panels`] figure).
pub fn to_svg_width(fig: &Figure, preset: Preset, width: f64) -> String {
    let f = preset.fonts();
    let pad = 0.6 * f.label;
    let tick_len = 0.45 * f.tick;
    let gap = 0.35 * f.tick;

    // Data ranges.
    let segs: Vec<_> = fig.series.iter().map(|s| segments(s, fig.log_x, fig.log_y)).collect();
    let (mut xr, mut yr) = (None, None);
    for p in segs.iter().flatten().flatten() {
        include(&mut xr, p.0);
        include(&mut yr, p.1);
    }
    let empty = xr.is_none();
    for r in &fig.regions {
        if usable(r.x0, fig.log_x) && usable(r.x1, fig.log_x) && usable(r.y0, fig.log_y) && usable(r.y1, fig.log_y) {
            include(&mut xr, r.x0);
            include(&mut xr, r.x1);
            include(&mut yr, r.y0);
            include(&mut yr, r.y1);
        }
    }
    for l in &fig.hlines {
        if usable(l.value, fig.log_y) {
            include(&mut yr, l.value);
        }
    }
    for l in &fig.vlines {
        if usable(l.value, fig.log_x) {
            include(&mut xr, l.value);
        }
    }
    for b in &fig.bands {
        for v in [b.y0, b.y1] {
            if usable(v, fig.log_y) {
                include(&mut yr, v);
            }
        }
    }
    let xr = fig.x_range.or(xr);
    let yr = fig.y_range.or(yr);
    let (mut xlin, mut ylin) = (
        if fig.x_range.is_some() {
            xr.unwrap()
        } else {
            linear_range(xr)
        },
        if fig.y_range.is_some() {
            yr.unwrap()
        } else {
            linear_range(yr)
        },
    );

    // Title.
    let title_lines = if fig.title.is_empty() {
        vec![]
    } else {
        text::wrap(&fig.title, f.title, width - 2.0 * pad)
    };
    let top = pad
        + title_lines.len() as f64 * 1.25 * f.title
        + if title_lines.is_empty() {
            0.3 * f.tick
        } else {
            0.4 * f.title
        };
    let bottom = tick_len
        + gap
        + 1.2 * f.tick
        + if fig.x_label.is_empty() {
            0.0
        } else {
            gap + 1.25 * f.label
        }
        + pad;
    let ylabel_w = if fig.y_label.is_empty() {
        0.0
    } else {
        1.25 * f.label + gap
    };
    let right = pad + 0.5 * f.tick * 2.0;
    let x_extent = |s: &str| text::width(s, f.tick);
    let y_extent = |_: &str| 1.2 * f.tick;

    let equal = fig.equal_aspect && !fig.log_x && !fig.log_y;
    // Iterate: the y tick labels set the left margin, which sets the plot width and (with a fixed aspect) height.
    let mut left = pad + ylabel_w + tick_len + gap + 3.0 * f.tick;
    let mut ph = 0.0;
    let mut pw = 0.0;
    let mut yaxis = None;
    for _ in 0..3 {
        pw = (width - left - right).max(10.0);
        ph = if equal {
            let ratio = (ylin.1 - ylin.0) / (xlin.1 - xlin.0);
            pw * ratio.clamp(0.45, 1.25)
        } else if let Some(a) = fig.aspect {
            pw * a
        } else {
            (preset.height() - top - bottom).max(10.0)
        };
        let ya = if fig.log_y {
            let data = yr.filter(|(lo, hi)| *lo > 0.0 && *hi > 0.0);
            log_axis(data, ph, &y_extent, 0.3 * f.tick)
        } else {
            linear_axis(ylin.0, ylin.1, fig.y_integer, ph, &y_extent, 0.4 * f.tick)
        };
        let widest = ya
            .ticks
            .iter()
            .map(|t| text::width(&t.label, f.tick))
            .fold(0.0, f64::max);
        left = pad + ylabel_w + tick_len + gap + widest;
        yaxis = Some(ya);
    }
    if equal {
        // Same data units per length on both axes: widen the range that is too short for its side.
        let (sx, sy) = ((xlin.1 - xlin.0) / pw, (ylin.1 - ylin.0) / ph);
        let widen = |r: &mut (f64, f64), span: f64| {
            let c = 0.5 * (r.0 + r.1);
            *r = (c - 0.5 * span, c + 0.5 * span);
        };
        if sx < sy {
            widen(&mut xlin, sy * pw);
        } else {
            widen(&mut ylin, sx * ph);
        }
        yaxis = Some(linear_axis(ylin.0, ylin.1, fig.y_integer, ph, &y_extent, 0.4 * f.tick));
    }
    let yaxis = yaxis.expect("computed");
    let xaxis = if fig.log_x {
        let data = xr.filter(|(lo, hi)| *lo > 0.0 && *hi > 0.0);
        log_axis(data, pw, &x_extent, 0.8 * f.tick)
    } else {
        linear_axis(xlin.0, xlin.1, fig.x_integer, pw, &x_extent, 0.8 * f.tick)
    };
    let plot = (left, top, left + pw, top + ph);
    let colors = series_colors(fig);
    let lay = Layout {
        fig,
        preset,
        x: xaxis,
        y: yaxis,
        plot,
        width,
        colors,
        segments: segs,
        empty,
    };
    draw(&lay, &title_lines, bottom, pad, tick_len, gap)
}

fn draw(lay: &Layout, title_lines: &[String], bottom: f64, pad: f64, tick_len: f64, gap: f64) -> String {
    let fig = lay.fig;
    let f = lay.preset.fonts();
    let lw = lay.preset.line_width();
    let plot = lay.plot;
    let (pw, ph) = (plot.2 - plot.0, plot.3 - plot.1);
    let n_thin = fig
        .series
        .iter()
        .filter(|s| s.label.is_none() && matches!(s.mark, Mark::Line | Mark::Step))
        .count();
    let thin = n_thin > THIN_ABOVE;
    let marker_r = 0.3 * f.tick * if thin { 0.6 } else { 1.0 };

    let mut body = String::new();
    // Regions: rows of merged same-class cells, slightly overlapping so no seams show.
    let mut cells: Vec<(f64, f64, f64, f64, usize)> = fig
        .regions
        .iter()
        .filter(|r| {
            usable(r.x0, fig.log_x) && usable(r.x1, fig.log_x) && usable(r.y0, fig.log_y) && usable(r.y1, fig.log_y)
        })
        .map(|r| {
            let (a, b) = (lay.px(r.x0.min(r.x1)), lay.px(r.x0.max(r.x1)));
            let (c, d) = (lay.py(r.y0.max(r.y1)), lay.py(r.y0.min(r.y1)));
            (c, d, a, b, r.class)
        })
        .collect();
    cells.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.2.total_cmp(&q.2)));
    let mut i = 0;
    let _ = writeln!(body, "<g clip-path=\"url(#plot)\" shape-rendering=\"crispEdges\">");
    while i < cells.len() {
        let (y0, y1, x0, mut x1, class) = cells[i];
        let mut j = i + 1;
        while j < cells.len()
            && (cells[j].0 - y0).abs() < 1e-6
            && cells[j].4 == class
            && (cells[j].2 - x1).abs() < 1e-6 * pw.max(1.0)
        {
            x1 = cells[j].3;
            j += 1;
        }
        let (r, g, b) = light(class);
        let e = 0.15;
        let _ = writeln!(
            body,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"#{r:02x}{g:02x}{b:02x}\"/>",
            x0 - e,
            y0 - e,
            x1 - x0 + 2.0 * e,
            y1 - y0 + 2.0 * e
        );
        i = j;
    }
    let _ = writeln!(body, "</g>");
    for b in &fig.bands {
        if usable(b.y0, fig.log_y) && usable(b.y1, fig.log_y) {
            let (t, u) = (lay.py(b.y0.max(b.y1)), lay.py(b.y0.min(b.y1)));
            let (t, u) = (t.max(plot.1), u.min(plot.3));
            if u > t {
                let _ = writeln!(
                    body,
                    "<rect class=\"band\" x=\"{:.2}\" y=\"{t:.2}\" width=\"{pw:.2}\" height=\"{:.2}\" fill=\"{}\"/>",
                    plot.0,
                    u - t,
                    b.color.unwrap_or(Color::Gray(225)).hex()
                );
            }
        }
    }
    // Grid at major ticks.
    let grid = format!(
        "stroke=\"#000000\" stroke-opacity=\"0.1\" stroke-width=\"{:.2}\"",
        0.4 * lw
    );
    for t in &lay.x.ticks {
        let x = lay.px(t.value);
        let _ = writeln!(body, "<path d=\"M{x:.2},{:.2} V{:.2}\" {grid}/>", plot.1, plot.3);
    }
    for t in &lay.y.ticks {
        let y = lay.py(t.value);
        let _ = writeln!(body, "<path d=\"M{:.2},{y:.2} H{:.2}\" {grid}/>", plot.0, plot.2);
    }

    let mut occ = Occupancy::new(plot, 0.5 * f.tick);
    let _ = writeln!(body, "<g clip-path=\"url(#plot)\" stroke-linejoin=\"round\">");
    // Reference lines and theoretical slopes under the data.
    for l in &fig.hlines {
        if usable(l.value, fig.log_y) {
            let y = lay.py(l.value);
            let c = l.color.unwrap_or(Color::Gray(90)).hex();
            let _ = writeln!(
                body,
                "<path d=\"M{:.2},{y:.2} H{:.2}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"{:.2}\"{}/>",
                plot.0,
                plot.2,
                0.8 * lw,
                dash(l.stroke, lw)
            );
            occ.segment((plot.0, y), (plot.2, y), 0.5 * lw);
        }
    }
    for l in &fig.vlines {
        if usable(l.value, fig.log_x) {
            let x = lay.px(l.value);
            let c = l.color.unwrap_or(Color::Gray(90)).hex();
            let _ = writeln!(
                body,
                "<path d=\"M{x:.2},{:.2} V{:.2}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"{:.2}\"{}/>",
                plot.1,
                plot.3,
                0.8 * lw,
                dash(l.stroke, lw)
            );
            occ.segment((x, plot.1), (x, plot.3), 0.5 * lw);
        }
    }
    let data_x = lay
        .segments
        .iter()
        .flatten()
        .flatten()
        .map(|p| p.0)
        .fold(None, |r: Option<(f64, f64)>, v| {
            Some(r.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
        });
    for r in &fig.references {
        let Some((a, b)) = r.x_span.or(data_x) else { continue };
        let pts: Vec<(f64, f64)> = (0..=64)
            .map(|k| {
                let t = k as f64 / 64.0;
                let x = if lay.x.log {
                    a * (b / a).powf(t)
                } else {
                    a + t * (b - a)
                };
                (x, r.eval(x))
            })
            .filter(|p| usable(p.0, fig.log_x) && usable(p.1, fig.log_y))
            .map(|p| lay.pt(p))
            .collect();
        if pts.len() < 2 {
            continue;
        }
        let c = r.color.unwrap_or(Color::Gray(70)).hex();
        let _ = writeln!(
            body,
            "<path class=\"reference\" d=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"{:.2}\"{}/>",
            path_d(&pts),
            0.9 * lw,
            dash(Stroke::Dashed, lw)
        );
        for w in pts.windows(2) {
            occ.segment(w[0], w[1], 0.5 * lw);
        }
    }
    // Series.
    for ((s, segs), c) in fig.series.iter().zip(&lay.segments).zip(&lay.colors) {
        let hex = c.hex();
        let factor = if s.width > 0.0 { s.width } else { 1.0 };
        let (w, opacity) = if thin && s.label.is_none() {
            (0.5 * lw * factor, " stroke-opacity=\"0.55\"")
        } else {
            (lw * factor, "")
        };
        if matches!(s.mark, Mark::Line | Mark::LinePoints | Mark::Step) {
            for seg in segs.iter().filter(|seg| seg.len() > 1) {
                let pts: Vec<(f64, f64)> = seg.iter().map(|&p| lay.pt(p)).collect();
                let _ = writeln!(
                    body,
                    "<path d=\"{}\" fill=\"none\" stroke=\"{hex}\" stroke-width=\"{w:.2}\"{opacity}{}/>",
                    path_d(&pts),
                    dash(s.stroke, lw)
                );
                for wdw in pts.windows(2) {
                    occ.segment(wdw[0], wdw[1], 0.5 * w);
                }
            }
        }
        if matches!(s.mark, Mark::Points | Mark::LinePoints) {
            for &p in segs.iter().flatten() {
                let q = lay.pt(p);
                marker_svg(&mut body, s.marker, s.open, q, marker_r, &hex, lw);
                occ.mark(q.0, q.1, marker_r);
            }
        }
    }
    let _ = writeln!(body, "</g>");

    // Frame, ticks, labels.
    let _ = writeln!(
        body,
        "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{pw:.2}\" height=\"{ph:.2}\" fill=\"none\" stroke=\"#000000\" \
         stroke-width=\"{:.2}\"/>",
        plot.0,
        plot.1,
        0.6 * lw
    );
    let tick_style = format!("stroke=\"#000000\" stroke-width=\"{:.2}\"", 0.6 * lw);
    for t in &lay.x.ticks {
        let x = lay.px(t.value);
        let len = if t.label.is_empty() { 0.6 * tick_len } else { tick_len };
        let _ = writeln!(body, "<path d=\"M{x:.2},{:.2} v{len:.2}\" {tick_style}/>", plot.3);
        if !t.label.is_empty() {
            text_el(
                &mut body,
                "xtick",
                x,
                plot.3 + tick_len + gap + 0.8 * f.tick,
                f.tick,
                "middle",
                &t.label,
                "",
            );
        }
    }
    for &v in &lay.x.minor {
        let x = lay.px(v);
        let _ = writeln!(
            body,
            "<path d=\"M{x:.2},{:.2} v{:.2}\" {tick_style}/>",
            plot.3,
            0.5 * tick_len
        );
    }
    for t in &lay.y.ticks {
        let y = lay.py(t.value);
        let len = if t.label.is_empty() { 0.6 * tick_len } else { tick_len };
        let _ = writeln!(body, "<path d=\"M{:.2},{y:.2} h{:.2}\" {tick_style}/>", plot.0, -len);
        if !t.label.is_empty() {
            text_el(
                &mut body,
                "ytick",
                plot.0 - tick_len - gap,
                y + 0.35 * f.tick,
                f.tick,
                "end",
                &t.label,
                "",
            );
        }
    }
    for &v in &lay.y.minor {
        let y = lay.py(v);
        let _ = writeln!(
            body,
            "<path d=\"M{:.2},{y:.2} h{:.2}\" {tick_style}/>",
            plot.0,
            -0.5 * tick_len
        );
    }
    if !fig.x_label.is_empty() {
        let y = plot.3 + tick_len + gap + 1.2 * f.tick + gap + 0.9 * f.label;
        text_el(
            &mut body,
            "xlabel",
            plot.0 + 0.5 * pw,
            y,
            f.label,
            "middle",
            &fig.x_label,
            "",
        );
    }
    if !fig.y_label.is_empty() {
        let (x, y) = (pad + 0.85 * f.label, plot.1 + 0.5 * ph);
        let rot = format!(" transform=\"rotate(-90 {x:.2} {y:.2})\"");
        text_el(&mut body, "ylabel", x, y, f.label, "middle", &fig.y_label, &rot);
    }
    for (k, line) in title_lines.iter().enumerate() {
        let y = pad + 0.9 * f.title + 1.25 * f.title * k as f64;
        text_el(&mut body, "title", 0.5 * lay.width, y, f.title, "middle", line, "");
    }
    if lay.empty {
        text_el(
            &mut body,
            "note",
            plot.0 + 0.5 * pw,
            plot.1 + 0.5 * ph,
            f.legend,
            "middle",
            "no finite data to plot",
            "",
        );
    }

    // Legend and notes: inside an empty part of the plot when one is free, else stacked below it.
    let mut below = plot.3 + bottom;
    let items = legend_items(fig, &lay.colors);
    let row = 1.3 * f.legend;
    let inset = 0.4 * f.legend;
    let swatch = 2.2 * f.legend;
    if !items.is_empty() {
        let text_w = items
            .iter()
            .map(|it| text::width(&it.label, f.legend))
            .fold(0.0, f64::max);
        let item_w = swatch + 0.5 * f.legend + text_w;
        let (bw, bh) = (item_w + 2.0 * inset, items.len() as f64 * row + 1.2 * inset);
        let spot = place(&occ, plot, bw, bh, inset);
        let (origin, cols) = match spot {
            Some(r) => {
                occ.fill(r);
                ((r.0, r.1), 1)
            }
            None => {
                let cols = (((lay.width - 2.0 * pad) / (item_w + f.legend)).floor() as usize).clamp(1, items.len());
                let rows = items.len().div_ceil(cols);
                let o = (pad, below);
                below += rows as f64 * row + 1.2 * inset + 0.3 * pad;
                (o, cols)
            }
        };
        if spot.is_some() {
            let _ = writeln!(
                body,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{bw:.2}\" height=\"{bh:.2}\" fill=\"#ffffff\" \
                 fill-opacity=\"0.9\" stroke=\"#999999\" stroke-width=\"{:.2}\"/>",
                origin.0,
                origin.1,
                0.5 * lw
            );
        }
        let col_w = item_w + f.legend;
        for (k, it) in items.iter().enumerate() {
            let (c, r) = (k % cols, k / cols);
            let x = origin.0 + inset + c as f64 * col_w;
            let yc = origin.1 + 0.6 * inset + (r as f64 + 0.5) * row;
            let hex = it.color.hex();
            if it.patch {
                let fill = match it.color {
                    Color::Palette(i) => {
                        let (r, g, b) = light(i);
                        format!("#{r:02x}{g:02x}{b:02x}")
                    }
                    other => other.hex(),
                };
                let _ = writeln!(
                    body,
                    "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{fill}\" stroke=\"#999999\" \
                     stroke-width=\"{:.2}\"/>",
                    x + 0.3 * swatch,
                    yc - 0.35 * f.legend,
                    0.4 * swatch,
                    0.7 * f.legend,
                    0.3 * lw
                );
            }
            if let Some(st) = it.line {
                let _ = writeln!(
                    body,
                    "<path d=\"M{x:.2},{yc:.2} h{swatch:.2}\" fill=\"none\" stroke=\"{hex}\" stroke-width=\"{lw:.2}\"{}/>",
                    dash(st, lw)
                );
            }
            if let Some((m, open)) = it.marker {
                marker_svg(&mut body, m, open, (x + 0.5 * swatch, yc), 0.3 * f.tick, &hex, lw);
            }
            text_el(
                &mut body,
                "legend",
                x + swatch + 0.5 * f.legend,
                yc + 0.35 * f.legend,
                f.legend,
                "start",
                &it.label,
                "",
            );
        }
    }
    if !fig.annotations.is_empty() {
        let lines: Vec<String> = fig
            .annotations
            .iter()
            .flat_map(|a| {
                text::wrap(
                    a,
                    f.legend,
                    (0.95 * pw).max(lay.width - 2.0 * pad - 2.0 * inset).min(0.95 * pw),
                )
            })
            .collect();
        let tw = lines.iter().map(|l| text::width(l, f.legend)).fold(0.0, f64::max);
        let (bw, bh) = (tw + 2.0 * inset, lines.len() as f64 * row + 1.2 * inset);
        let (origin, boxed) = match place(&occ, plot, bw, bh, inset) {
            Some(r) => ((r.0, r.1), true),
            None => {
                let o = (plot.0 - inset, below);
                below += bh + 0.3 * pad;
                (o, false)
            }
        };
        if boxed {
            let _ = writeln!(
                body,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{bw:.2}\" height=\"{bh:.2}\" fill=\"#ffffff\" \
                 fill-opacity=\"0.9\" stroke=\"#999999\" stroke-width=\"{:.2}\"/>",
                origin.0,
                origin.1,
                0.5 * lw
            );
        }
        for (k, l) in lines.iter().enumerate() {
            let y = origin.1 + 0.6 * inset + (k as f64 + 0.5) * row + 0.35 * f.legend;
            text_el(&mut body, "note", origin.0 + inset, y, f.legend, "start", l, "");
        }
    }
    let height = below;
    let (w_attr, h_attr) = if lay.preset.in_points() {
        (format!("{:.2}pt", lay.width), format!("{height:.2}pt"))
    } else {
        (format!("{:.0}", lay.width), format!("{:.0}", height.ceil()))
    };
    let height = if lay.preset.in_points() { height } else { height.ceil() };
    let mut out = String::with_capacity(body.len() + 512);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w_attr}\" height=\"{h_attr}\" viewBox=\"0 0 {:.2} {height:.2}\" \
         font-family=\"{FAMILY}\">",
        lay.width
    );
    let _ = writeln!(
        out,
        "<defs><clipPath id=\"plot\"><rect x=\"{:.2}\" y=\"{:.2}\" width=\"{pw:.2}\" height=\"{ph:.2}\"/></clipPath></defs>",
        plot.0, plot.1
    );
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}
