//! Tests of the figure model, ticks and renderer.
use super::svg::to_svg;
use super::ticks::{decade_label, linear_axis, log_axis, sci, superscript};
use super::*;

/// (class, font-size, text) of every `<text>` element of an SVG written by [`to_svg`].
pub(crate) fn texts(svg: &str) -> Vec<(String, f64, String)> {
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let attr = |name: &str| {
                let k = format!("{name}=\"");
                let i = t.find(&k).expect("attribute") + k.len();
                t[i..i + t[i..].find('"').unwrap()].to_string()
            };
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            (attr("class"), attr("font-size").parse().unwrap(), body.to_string())
        })
        .collect()
}

fn width_pt(svg: &str) -> f64 {
    let i = svg.find("width=\"").unwrap() + 7;
    svg[i..i + svg[i..].find("pt\"").unwrap()].parse().unwrap()
}

fn view_width(svg: &str) -> f64 {
    let i = svg.find("viewBox=\"0 0 ").unwrap() + 13;
    svg[i..].split(' ').next().unwrap().parse().unwrap()
}

fn loglog() -> Figure {
    let hs: Vec<f64> = (0..5).map(|k| 0.1 * 0.5f64.powi(k)).collect();
    let mut fig = Figure::new("errors", "step size h", "error");
    fig.log_x = true;
    fig.log_y = true;
    let e1: Vec<(f64, f64)> = hs.iter().map(|&h| (h, 0.3 * h)).collect();
    let e4: Vec<(f64, f64)> = hs.iter().map(|&h| (h, 0.02 * h.powi(4))).collect();
    fig.references
        .push(Reference::power_beside(1.0, &e1, 0.3, "reference h¹").unwrap());
    fig.references
        .push(Reference::power_beside(4.0, &e4, 0.3, "reference h⁴").unwrap());
    fig.series.push(Series::line("Euler", e1).mark(Mark::LinePoints));
    fig.series.push(Series::line("RK4", e4).mark(Mark::LinePoints));
    fig
}

#[test]
fn superscript_decade_and_scientific_labels() {
    assert_eq!(superscript(-12), "⁻¹²");
    assert_eq!(decade_label(-2), "10⁻²");
    assert_eq!(decade_label(0), "10⁰");
    assert_eq!(sci(2.93e-5, 3), "2.93×10⁻⁵");
    assert_eq!(sci(1e-6, 1), "10⁻⁶");
    assert_eq!(sci(1e-6, 2), "1.0×10⁻⁶");
    assert_eq!(sci(-0.25, 2), "−0.25");
    assert!(text::covered("10⁻² σ₁ σᵢ ‖·‖∞ h⁴ Xₕ ℤ_p x₁ x₂ − × ′ ² ≤ ≥ → ⁻⁵² ε"));
}

#[test]
fn every_decade_of_a_log_axis_is_labelled_and_no_label_reads_like_1e_2() {
    let ext = |s: &str| text::width(s, 8.0);
    let ax = log_axis(Some((3.1e-11, 2.9e-2)), 140.0, &|_| 9.6, 2.4);
    let labels: Vec<&str> = ax
        .ticks
        .iter()
        .map(|t| t.label.as_str())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(labels.first(), Some(&"10⁻¹¹"), "{labels:?}");
    assert_eq!(labels.len(), 11, "{labels:?}");
    assert!(ax.lo <= 3.1e-11 && ax.hi >= 2.9e-2);
    let ax = log_axis(Some((6.25e-3, 0.1)), 200.0, &ext, 6.4);
    let labels: Vec<&str> = ax
        .ticks
        .iter()
        .map(|t| t.label.as_str())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(labels, ["10⁻²", "10⁻¹"]);
    assert!(
        ax.lo > 1e-3,
        "x range must fit the data, not a whole empty decade: {}",
        ax.lo
    );
    for t in &ax.ticks {
        assert!(!t.label.contains('e'), "{}", t.label);
    }
}

#[test]
fn integer_axes_only_get_integer_ticks() {
    let ext = |s: &str| text::width(s, 8.0);
    // The rank axis of rank-vs-depth (ranks 5 … 12) and a depth axis 1 … 5, short as in a column figure.
    for (lo, hi, len) in [(4.7, 12.3, 120.0), (0.84, 5.16, 200.0), (0.4, 3.6, 60.0)] {
        let ax = linear_axis(lo, hi, true, len, &ext, 6.0);
        assert!(!ax.ticks.is_empty());
        for t in &ax.ticks {
            assert_eq!(t.value.fract(), 0.0, "{lo}..{hi}: tick {}", t.value);
            assert!(!t.label.contains('.'), "{}", t.label);
        }
    }
    // Without the flag the same range may take fractional steps, and labels never read "50.0".
    let ax = linear_axis(0.0, 400.0, false, 200.0, &ext, 6.0);
    assert!(ax.ticks.iter().all(|t| !t.label.ends_with(".0")), "{:?}", ax.ticks);
    let ax = linear_axis(-1.0, 1.0, false, 200.0, &ext, 6.0);
    assert!(
        ax.ticks.iter().any(|t| t.label.starts_with('−')),
        "Unicode minus: {:?}",
        ax.ticks
    );
}

#[test]
fn more_series_than_palette_colours_get_a_sequential_map() {
    let mut fig = Figure::new("t", "x", "y");
    for k in 0..13 {
        fig.series.push(Series::line(
            format!("depth {k}"),
            vec![(0.0, k as f64), (1.0, k as f64)],
        ));
    }
    let svg = to_svg(&fig, Preset::Column);
    let mut strokes: Vec<&str> = svg
        .split("stroke=\"#")
        .skip(1)
        .map(|s| &s[..6])
        .filter(|c| *c != "000000" && *c != "999999")
        .collect();
    strokes.sort_unstable();
    strokes.dedup();
    assert!(
        strokes.len() >= 13,
        "13 series need 13 colours, found {}: {strokes:?}",
        strokes.len()
    );
}

#[test]
fn the_legend_is_placed_off_the_data() {
    // Data fill the upper right and the lower left: the legend must go to another corner or below the plot.
    let mut fig = Figure::new("t", "x", "y");
    let pts: Vec<(f64, f64)> = (0..=50).map(|i| (i as f64 / 50.0, i as f64 / 50.0)).collect();
    fig.series.push(Series::line("diagonal", pts.clone()));
    fig.series.push(Series::points(
        "upper right",
        vec![(0.9, 0.95), (0.95, 0.9), (0.85, 0.97)],
    ));
    let svg = to_svg(&fig, Preset::Column);
    let legend_y = texts(&svg)
        .into_iter()
        .filter(|t| t.0 == "legend")
        .map(|t| t.2)
        .collect::<Vec<_>>();
    assert_eq!(legend_y, ["diagonal", "upper right"]);
    // Upper left is free of data: the legend box starts near the plot's left edge.
    let i = svg.find("<text class=\"legend\" x=\"").unwrap() + 25;
    let x: f64 = svg[i..i + svg[i..].find('"').unwrap()].parse().unwrap();
    assert!(
        x < 0.5 * 252.0,
        "legend at x = {x}: expected the empty upper-left corner"
    );
}

#[test]
fn column_figures_have_no_text_below_seven_points_and_are_3_5_in_wide() {
    let mut fig = loglog();
    fig.annotations = vec!["a note".into()];
    for preset in [Preset::Column, Preset::Page] {
        let svg = to_svg(&fig, preset);
        let w = width_pt(&svg);
        assert_eq!(w, preset.width());
        let scale = w / view_width(&svg);
        let t = texts(&svg);
        assert!(t.iter().any(|x| x.0 == "xtick") && t.iter().any(|x| x.0 == "note"));
        for (class, size, s) in t {
            let pt = size * scale;
            assert!((7.0..=10.0).contains(&pt), "{preset:?}: `{s}` ({class}) at {pt} pt");
        }
    }
    assert_eq!(Preset::Column.width() / 72.0, 3.5);
    assert_eq!(Preset::Page.width() / 72.0, 7.0);
}

#[test]
fn pdf_svg_and_png_come_from_one_drawing_with_the_font_embedded() {
    let r = render_figure(&loglog(), Preset::Column, &Format::ALL).unwrap();
    let get = |f: Format| &r.files.iter().find(|x| x.0 == f).unwrap().1;
    let pdf = get(Format::Pdf);
    assert!(pdf.starts_with(b"%PDF"));
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"/FontFile2"), "no embedded TrueType font program");
    assert!(has(b"DejaVuSans"), "font not named DejaVu Sans");
    // Page size 252 pt wide.
    let mb = pdf.windows(9).position(|w| w == b"/MediaBox").unwrap();
    let mbox = String::from_utf8_lossy(&pdf[mb..mb + 60]);
    let nums: Vec<f64> = mbox
        .trim_start_matches("/MediaBox")
        .trim_start()
        .trim_start_matches('[')
        .split(|c: char| c.is_whitespace() || c == ']')
        .filter_map(|x| x.parse().ok())
        .collect();
    assert!((nums[2] - nums[0] - 252.0).abs() < 0.01, "{mbox}");
    let png = get(Format::Png);
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(w, 1050, "3.5 in at 300 dpi");
    let phys = png.windows(4).position(|x| x == b"pHYs").unwrap();
    let ppm = u32::from_be_bytes(png[phys + 4..phys + 8].try_into().unwrap());
    assert_eq!(ppm, 11811, "300 dpi = 11811 px/m");
    assert_eq!(get(Format::Svg).as_slice(), r.svg.as_bytes());
    // Deterministic bytes.
    let again = render_figure(&loglog(), Preset::Column, &Format::ALL).unwrap();
    for ((f, a), (_, b)) in again.files.iter().zip(&r.files) {
        assert!(a == b, "{f:?} bytes differ between two renderings");
    }
}

#[test]
fn screen_preset_keeps_the_900_by_650_canvas() {
    let r = render_figure(&loglog(), Preset::Screen, &[Format::Png]).unwrap();
    let png = &r.files[0].1;
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!(w, 900);
    assert!(h >= 650, "{h}");
}

#[test]
fn references_are_dashed_and_in_the_legend() {
    let svg = to_svg(&loglog(), Preset::Column);
    assert_eq!(svg.matches("class=\"reference\"").count(), 2);
    let legend: Vec<String> = texts(&svg)
        .into_iter()
        .filter(|t| t.0 == "legend")
        .map(|t| t.2)
        .collect();
    assert!(legend.contains(&"reference h¹".to_string()) && legend.contains(&"reference h⁴".to_string()));
    let r = Reference::exponential(-2.0, (0.0, 1.0), "e^{−μt}");
    assert!((r.eval(1.0) - (-2f64).exp()).abs() < 1e-15);
    let r = Reference::power(-1.0, (10.0, 0.1), "1/T");
    assert!((r.eval(100.0) - 0.01).abs() < 1e-15);
}

#[test]
fn empty_figure_renders_axes_and_a_note() {
    let mut fig = Figure::new("Nothing here", "x", "y");
    fig.series
        .push(Series::line("nan", vec![(f64::NAN, 1.0), (0.0, f64::INFINITY)]));
    let svg = to_svg(&fig, Preset::Screen);
    assert!(svg.contains("no finite data to plot"));
    fig.log_y = true;
    fig.series = vec![Series::line("zero", vec![(1.0, 0.0)])];
    render_figure(&fig, Preset::Column, &Format::ALL).unwrap();
}

#[test]
fn regions_are_merged_into_rows_and_drawn_under_the_data() {
    let mut fig = Figure::new("regions", "x₁", "x₂");
    let g = 100;
    for j in 0..g * g {
        let (x, y) = ((j % g) as f64 / g as f64, (j / g) as f64 / g as f64);
        fig.regions.push(Region {
            x0: x,
            x1: x + 0.01,
            y0: y,
            y1: y + 0.01,
            class: usize::from(x > 0.5),
        });
    }
    fig.series.push(Series::line("a", vec![(0.0, 0.0), (1.0, 1.0)]));
    let svg = to_svg(&fig, Preset::Column);
    let rects = svg.matches("<rect x=").count();
    assert!(rects < 3 * g, "{rects} rectangles: rows of equal class must merge");
    assert!(svg.find("fill=\"#").unwrap() < svg.find("stroke=\"#1f77b4\"").unwrap());
}
