//! Axis ranges, tick positions and tick labels.
//!
//! - Linear axes: the data range with a 4 % margin; ticks at multiples of 1, 2 or 5 × 10ᵏ, the finest step whose
//!   labels do not collide; integer axes never get a fractional tick. Labels use the fewest decimals that show
//!   every tick exactly and the Unicode minus sign (−).
//! - Log axes: the data range with a 4 % margin in log space, an end within 0.3 decade of a decade snapped out to
//!   it; every decade on the axis is labelled 10ⁿ with Unicode superscripts (when the labels would collide, every
//!   k-th, the others keeping a tick); an axis with fewer than two decades also labels 2 and 5 × 10ⁿ.
//!   Data within a factor 3 are shown on an unsnapped range with ticks at 1…9 × 10ⁿ.

/// One tick: its data value and label (empty: a tick without label).
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub label: String,
}

/// A laid-out axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Vec<Tick>,
    /// Short ticks without label (2…9 × 10ⁿ on log axes).
    pub minor: Vec<f64>,
}

impl Axis {
    /// Position of `v` in [0, 1] along the axis (log axes in log space).
    pub fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

/// `n` in Unicode superscript digits (with ⁻ for negatives).
pub fn superscript(n: i64) -> String {
    const D: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if n < 0 {
        s.push('⁻');
    }
    for c in n.unsigned_abs().to_string().chars() {
        s.push(D[c.to_digit(10).expect("digit") as usize]);
    }
    s
}

/// `10ⁿ`.
pub fn decade_label(e: i64) -> String {
    format!("10{}", superscript(e))
}

/// Replace the ASCII hyphen-minus of a number by the minus sign U+2212.
fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

/// `v` with `digits` significant digits as m×10ⁿ (plain decimals for 10⁻³ ≤ |v| < 10⁴), e.g. 2.93×10⁻⁵, for
/// numbers printed inside figures.
pub fn sci(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let e = v.abs().log10().floor() as i64;
    if (-3..4).contains(&e) {
        let dec = (digits as i64 - 1 - e).max(0) as usize;
        return minus(format!("{v:.dec$}"));
    }
    let m = v / 10f64.powi(e as i32);
    // Rounding may carry the mantissa to 10.
    let (m, e) = if (m.abs() * 10f64.powi(digits as i32 - 1)).round() >= 10f64.powi(digits as i32) {
        (m / 10.0, e + 1)
    } else {
        (m, e)
    };
    let dec = digits - 1;
    let ms = format!("{m:.dec$}");
    if ms == "1" || ms == "-1" {
        minus(format!("{}10{}", if m < 0.0 { "-" } else { "" }, superscript(e)))
    } else {
        minus(format!("{ms}×10{}", superscript(e)))
    }
}

/// The fewest decimals (≤ 12) that print every multiple of `step` exactly.
fn decimals(step: f64) -> usize {
    (0..=12)
        .find(|&d| {
            let s = step * 10f64.powi(d as i32);
            (s - s.round()).abs() <= 1e-6 * s.abs().max(1.0)
        })
        .unwrap_or(12)
}

/// Label of a linear tick at `v` with tick spacing `step`.
pub fn linear_label(v: f64, step: f64) -> String {
    let big = v.abs().max(step);
    if v != 0.0 && !(1e-3..1e5).contains(&big) {
        return sci(v, 1 + decimals(step / 10f64.powi(big.log10().floor() as i32)));
    }
    let d = decimals(step);
    let v = if v.abs() < 1e-9 * step { 0.0 } else { v };
    minus(format!("{v:.d$}"))
}

/// Steps 1, 2, 5 × 10ᵏ from the first at or above `min` upward.
fn nice_steps(min: f64) -> impl Iterator<Item = f64> {
    let e = min.log10().floor() as i32 - 1;
    (e..e + 40)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .filter(move |s| *s >= min * (1.0 - 1e-9))
}

/// The range shown for data `[lo, hi]` on a linear axis: a 4 % margin, a unit width for a single value.
pub fn linear_range(data: Option<(f64, f64)>) -> (f64, f64) {
    match data {
        None => (0.0, 1.0),
        Some((lo, hi)) if hi > lo => {
            let m = 0.04 * (hi - lo);
            (lo - m, hi + m)
        }
        Some((lo, hi)) => {
            let w = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
            (lo - w, hi + w)
        }
    }
}

/// Ticks of a linear axis over `[lo, hi]` of `length` user units. `extent(label)` is the space a label takes
/// along the axis (its width on x, the line height on y); labels keep a gap of `gap` between them.
pub fn linear_axis(lo: f64, hi: f64, integer: bool, length: f64, extent: &dyn Fn(&str) -> f64, gap: f64) -> Axis {
    let span = hi - lo;
    let min_step = if integer { (span / 12.0).max(1.0) } else { span / 12.0 };
    let mut chosen = None;
    for step in nice_steps(min_step.max(f64::MIN_POSITIVE)) {
        if integer && step.fract() != 0.0 {
            continue;
        }
        let k0 = (lo / step - 1e-9).ceil() as i64;
        let k1 = (hi / step + 1e-9).floor() as i64;
        if k1 - k0 > 60 {
            continue;
        }
        let ticks: Vec<Tick> = (k0..=k1)
            .map(|k| {
                let v = k as f64 * step;
                Tick {
                    value: v,
                    label: linear_label(v, step),
                }
            })
            .collect();
        let spacing = length * step / span;
        let widest = ticks.iter().map(|t| extent(&t.label)).fold(0.0, f64::max);
        chosen = Some(ticks);
        if widest + gap <= spacing {
            break;
        }
    }
    Axis {
        lo,
        hi,
        log: false,
        ticks: chosen.unwrap_or_default(),
        minor: vec![],
    }
}

/// A log axis for positive data `[lo, hi]` of `length` user units (see the module docs). `extent` and `gap` as in
/// [`linear_axis`].
pub fn log_axis(data: Option<(f64, f64)>, length: f64, extent: &dyn Fn(&str) -> f64, gap: f64) -> Axis {
    let (lo, hi) = data.unwrap_or((1.0, 10.0));
    if hi / lo < 3.0 {
        return narrow_log_axis(lo, hi);
    }
    // A 4 % margin in log space; an end within 0.3 decade of a decade snaps out to it.
    let (l0, l1) = (lo.log10(), hi.log10());
    let pad = 0.04 * (l1 - l0);
    let (mut a, mut b) = (l0 - pad, l1 + pad);
    if a - a.floor() < 0.3 {
        a = a.floor();
    }
    if b.ceil() - b < 0.3 {
        b = b.ceil();
    }
    let (e0, e1) = (a.ceil() as i64, b.floor() as i64);
    let span = b - a;
    let decades: Vec<i64> = (e0..=e1).collect();
    let mut k = 1i64;
    let labelled = loop {
        let spacing = length * k as f64 / span;
        let widest = decades.iter().map(|&e| extent(&decade_label(e))).fold(0.0, f64::max);
        if widest + gap <= spacing || k as usize >= decades.len().max(1) {
            break k;
        }
        k += 1;
    };
    let mut ticks: Vec<Tick> = decades
        .iter()
        .map(|&e| Tick {
            value: 10f64.powi(e as i32),
            label: if (e - e0) % labelled == 0 {
                decade_label(e)
            } else {
                String::new()
            },
        })
        .collect();
    let per_decade = length / span;
    let (vlo, vhi) = (10f64.powf(a), 10f64.powf(b));
    let inside = |v: f64| v >= vlo * (1.0 - 1e-12) && v <= vhi * (1.0 + 1e-12);
    // Fewer than two labelled decades: label 2 and 5 × 10ⁿ as well.
    if decades.len() < 2 {
        for e in (a.floor() as i64)..=(b.ceil() as i64) {
            for m in [2.0, 5.0] {
                let v = m * 10f64.powi(e as i32);
                if inside(v) {
                    ticks.push(Tick {
                        value: v,
                        label: sci(v, 1),
                    });
                }
            }
        }
        ticks.sort_by(|p, q| p.value.total_cmp(&q.value));
    }
    let minor = if labelled == 1 && per_decade >= 4.0 * gap.max(1.0) {
        ((a.floor() as i64)..=(b.ceil() as i64))
            .flat_map(|e| (2..10).map(move |m| m as f64 * 10f64.powi(e as i32)))
            .filter(|v| inside(*v) && !ticks.iter().any(|t| (t.value / v - 1.0).abs() < 1e-9))
            .collect()
    } else {
        vec![]
    };
    Axis {
        lo: vlo,
        hi: vhi,
        log: true,
        ticks,
        minor,
    }
}

/// A 1…9 × 10ⁿ tick value with its one significant digit: plain decimals for 10⁻³ ≤ v < 10⁴, else m×10ⁿ.
fn plain(v: f64) -> String {
    let e = v.log10().floor() as i32;
    if (-3..4).contains(&e) {
        let d = (-e).max(0) as usize;
        format!("{v:.d$}")
    } else {
        sci(v, 1)
    }
}

/// Data within a factor 3: a padded range with ticks at 1…9 × 10ⁿ (labels m×10ⁿ, thinned to every other when
/// more than six).
fn narrow_log_axis(lo: f64, hi: f64) -> Axis {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, hi * 2.0) };
    let f = (hi / lo).powf(0.04);
    let (lo, hi) = (lo / f, hi * f);
    let e0 = lo.log10().floor() as i32;
    let mut vals: Vec<f64> = (e0..=hi.log10().ceil() as i32)
        .flat_map(|e| (1..10).map(move |m| m as f64 * 10f64.powi(e)))
        .filter(|v| *v >= lo && *v <= hi)
        .collect();
    if vals.len() < 2 {
        vals = vec![lo, hi];
    }
    let thin = vals.len() > 6;
    let ticks = vals
        .iter()
        .enumerate()
        .map(|(i, &v)| Tick {
            value: v,
            label: if thin && i % 2 == 1 { String::new() } else { plain(v) },
        })
        .collect();
    Axis {
        lo,
        hi,
        log: true,
        ticks,
        minor: vec![],
    }
}
