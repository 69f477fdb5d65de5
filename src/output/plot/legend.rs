//! Legend entries, and the placement of the legend and notes boxes off the data: an occupancy grid of the plot
//! area marks every drawn point and line sample; a box goes to the first free candidate spot (corners, edge
//! middles) or, when none is free, below the plot.

use super::colors::Color;
use super::svg::Rect;
use super::{Figure, KeyKind, Mark, Marker, Stroke};

/// One legend row.
pub(super) struct Item {
    pub(super) label: String,
    pub(super) color: Color,
    pub(super) line: Option<Stroke>,
    pub(super) marker: Option<(Marker, bool)>,
    pub(super) patch: bool,
}

/// Cells of the plot area covered by drawn data, for placing the legend and notes off the data.
pub(super) struct Occupancy {
    cell: f64,
    nx: usize,
    ny: usize,
    full: Vec<bool>,
    origin: (f64, f64),
}

impl Occupancy {
    pub(super) fn new(plot: Rect, cell: f64) -> Self {
        let nx = ((plot.2 - plot.0) / cell).ceil().max(1.0) as usize;
        let ny = ((plot.3 - plot.1) / cell).ceil().max(1.0) as usize;
        Occupancy {
            cell,
            nx,
            ny,
            full: vec![false; nx * ny],
            origin: (plot.0, plot.1),
        }
    }
    pub(super) fn mark(&mut self, x: f64, y: f64, r: f64) {
        let c = self.cell;
        let (i0, i1) = (
            ((x - r - self.origin.0) / c).floor(),
            ((x + r - self.origin.0) / c).floor(),
        );
        let (j0, j1) = (
            ((y - r - self.origin.1) / c).floor(),
            ((y + r - self.origin.1) / c).floor(),
        );
        if !(i1 >= 0.0 && j1 >= 0.0 && i0 < self.nx as f64 && j0 < self.ny as f64) {
            return;
        }
        let (i0, i1) = (i0.max(0.0) as usize, (i1 as usize).min(self.nx - 1));
        let (j0, j1) = (j0.max(0.0) as usize, (j1 as usize).min(self.ny - 1));
        for j in j0..=j1 {
            for i in i0..=i1 {
                self.full[j * self.nx + i] = true;
            }
        }
    }
    pub(super) fn segment(&mut self, a: (f64, f64), b: (f64, f64), r: f64) {
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let n = (len / (0.5 * self.cell)).ceil().clamp(1.0, 4000.0) as usize;
        for k in 0..=n {
            let t = k as f64 / n as f64;
            self.mark(a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1), r);
        }
    }
    pub(super) fn free(&self, r: Rect) -> bool {
        let c = self.cell;
        let i0 = ((r.0 - self.origin.0) / c).floor().max(0.0) as usize;
        let i1 = (((r.2 - self.origin.0) / c).ceil() as usize).min(self.nx);
        let j0 = ((r.1 - self.origin.1) / c).floor().max(0.0) as usize;
        let j1 = (((r.3 - self.origin.1) / c).ceil() as usize).min(self.ny);
        (j0..j1).all(|j| (i0..i1).all(|i| !self.full[j * self.nx + i]))
    }
    pub(super) fn fill(&mut self, r: Rect) {
        let c = self.cell;
        let (x, y) = (r.0, r.1);
        let mut yy = y;
        while yy <= r.3 {
            let mut xx = x;
            while xx <= r.2 {
                self.mark(xx, yy, 0.0);
                xx += 0.5 * c;
            }
            yy += 0.5 * c;
        }
    }
}

pub(super) fn legend_items(fig: &Figure, colors: &[Color]) -> Vec<Item> {
    let mut items = Vec::new();
    for (s, c) in fig.series.iter().zip(colors) {
        if let Some(l) = &s.label {
            let line = matches!(s.mark, Mark::Line | Mark::LinePoints | Mark::Step).then_some(s.stroke);
            let marker = matches!(s.mark, Mark::Points | Mark::LinePoints).then_some((s.marker, s.open));
            items.push(Item {
                label: l.clone(),
                color: *c,
                line,
                marker,
                patch: false,
            });
        }
    }
    for r in &fig.references {
        items.push(Item {
            label: r.label.clone(),
            color: r.color.unwrap_or(Color::Gray(70)),
            line: Some(Stroke::Dashed),
            marker: None,
            patch: false,
        });
    }
    for l in fig.hlines.iter().chain(&fig.vlines) {
        if let Some(lab) = &l.label {
            items.push(Item {
                label: lab.clone(),
                color: l.color.unwrap_or(Color::Gray(90)),
                line: Some(l.stroke),
                marker: None,
                patch: false,
            });
        }
    }
    for b in &fig.bands {
        if let Some(lab) = &b.label {
            items.push(Item {
                label: lab.clone(),
                color: b.color.unwrap_or(Color::Gray(215)),
                line: None,
                marker: None,
                patch: true,
            });
        }
    }
    for k in &fig.key {
        items.push(Item {
            label: k.label.clone(),
            color: k.color,
            line: matches!(k.kind, KeyKind::Line).then_some(Stroke::Solid),
            marker: match k.kind {
                KeyKind::Marker(m, open) => Some((m, open)),
                _ => None,
            },
            patch: matches!(k.kind, KeyKind::Patch),
        });
    }
    items
}

/// A free spot of `w` × `h` inside the plot (inset from the frame), in the order upper right, upper left, lower
/// right, lower left, upper centre, lower centre, right middle, left middle.
pub(super) fn place(occ: &Occupancy, plot: Rect, w: f64, h: f64, inset: f64) -> Option<Rect> {
    let (x0, y0, x1, y1) = (plot.0 + inset, plot.1 + inset, plot.2 - inset, plot.3 - inset);
    if w > x1 - x0 || h > y1 - y0 {
        return None;
    }
    let (xm, ym) = (0.5 * (x0 + x1 - w), 0.5 * (y0 + y1 - h));
    let spots = [
        (x1 - w, y0),
        (x0, y0),
        (x1 - w, y1 - h),
        (x0, y1 - h),
        (xm, y0),
        (xm, y1 - h),
        (x1 - w, ym),
        (x0, ym),
    ];
    spots.iter().map(|&(x, y)| (x, y, x + w, y + h)).find(|r| occ.free(*r))
}
