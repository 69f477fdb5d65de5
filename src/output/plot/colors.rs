//! Colours: the qualitative palette (matplotlib's tab10), a sequential map (viridis, for ordered series) and
//! light tints for region fills.

/// An RGB colour, or a rule resolved when the figure is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Color {
    /// Palette colour i (modulo the palette length).
    Palette(usize),
    /// The sequential map at t ∈ [0, 1] (viridis, dark to light).
    Sequential(f64),
    /// A grey level (0 black … 255 white).
    Gray(u8),
    Rgb(u8, u8, u8),
}

impl From<usize> for Color {
    fn from(i: usize) -> Self {
        Color::Palette(i)
    }
}

impl Color {
    /// The colour as 8-bit RGB.
    pub fn rgb(self) -> (u8, u8, u8) {
        match self {
            Color::Palette(i) => palette(i),
            Color::Sequential(t) => sequential(t),
            Color::Gray(g) => (g, g, g),
            Color::Rgb(r, g, b) => (r, g, b),
        }
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let (r, g, b) = self.rgb();
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Ten distinguishable colours (matplotlib's tab10).
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Palette colour `i` (modulo the palette length).
pub fn palette(i: usize) -> (u8, u8, u8) {
    PALETTE[i % PALETTE.len()]
}

/// Viridis at nine evenly spaced stops (matplotlib's `viridis`, 0, 1/8, …, 1).
const VIRIDIS: [(f64, f64, f64); 9] = [
    (68.0, 1.0, 84.0),
    (71.0, 44.0, 122.0),
    (59.0, 81.0, 139.0),
    (44.0, 113.0, 142.0),
    (33.0, 144.0, 141.0),
    (39.0, 173.0, 129.0),
    (92.0, 200.0, 99.0),
    (170.0, 220.0, 50.0),
    (253.0, 231.0, 37.0),
];

/// The sequential map at t ∈ [0, 1], restricted to viridis' [0, 0.85] so the lightest colour stays visible on
/// white; piecewise-linear between the stops.
pub fn sequential(t: f64) -> (u8, u8, u8) {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * 0.85;
    let s = t * (VIRIDIS.len() - 1) as f64;
    let i = (s.floor() as usize).min(VIRIDIS.len() - 2);
    let f = s - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: f64, y: f64| (x + f * (y - x)).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A light version of palette colour `i` (30 % colour on white), for region fills.
pub fn light(i: usize) -> (u8, u8, u8) {
    let (r, g, b) = palette(i);
    let l = |c: u8| 255 - ((255 - c as u32) * 3 / 10) as u8;
    (l(r), l(g), l(b))
}
