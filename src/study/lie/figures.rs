//! Figures and comparisons of the `lie` study: the singular values of every depth (kept filled, discarded open)
//! with the tolerance line and the gap, the rank against depth on integer axes, and for m = 1 with targets the
//! ordering figure (SPEC §5 items 9–11).

use super::{Fields, Prepared};
use crate::lie::{DepthReport, RankReport};
use crate::output::plot::ticks::sci;
use crate::output::plot::{Band, Color, ColorMap, Figure, KeyEntry, KeyKind, Mark, Marker, RefLine, Series};
use crate::output::{Comparison, StudyOutput, Tolerance};

/// The gap below the smallest kept singular value σ_r: σ_r / σ_{r+1} with σ_{r+1} the largest discarded value, or
/// σ_r / tol when nothing is discarded (the matrix has no (r+1)-th singular value); NaN at rank 0.
pub fn gap(d: &DepthReport) -> f64 {
    match (d.min_kept_singular_value, d.singular_values.get(d.rank)) {
        (Some(s), Some(&next)) if next > 0.0 => s / next,
        (Some(s), _) => s / d.tol,
        (None, _) => f64::NAN,
    }
}

/// The tolerance rule in mathematical notation.
pub fn tolerance_rule(rel_tol: Option<f64>) -> String {
    match rel_tol {
        Some(r) => format!(
            "columns scaled to unit norm; σᵢ kept when σᵢ > tol = {} · σ₁",
            sci(r, 2)
        ),
        None => "columns scaled to unit norm; σᵢ kept when σᵢ > tol = max(mN, columns) · ε · σ₁, ε = 2⁻⁵²".into(),
    }
}

/// Push the singular-value, rank and (m = 1) ordering figures.
pub fn push(p: &Prepared, rep: &RankReport, exact_at: &[Option<usize>], out: &mut StudyOutput) {
    let (m, n) = (rep.m, rep.n_points);
    let nd = rep.depths.len();
    out.set("tolerance_rule", tolerance_rule(p.cfg.rel_tol));
    out.set(
        "gap_definition",
        "σ_r / σ_{r+1} (largest discarded value), or σ_r / tol when nothing is discarded",
    );
    let mut sv = Figure {
        title: format!(
            "Singular values of the column-scaled {} × columns bracket matrix (m = {m}, N = {n})",
            m * n
        ),
        x_label: "index i".into(),
        y_label: "singular value σᵢ".into(),
        log_y: true,
        x_integer: true,
        colormap: ColorMap::Sequential,
        annotations: vec![tolerance_rule(p.cfg.rel_tol)],
        ..Figure::default()
    };
    let mut zeros = 0;
    for (k, d) in rep.depths.iter().enumerate() {
        let c = Color::Sequential(if nd > 1 { k as f64 / (nd - 1) as f64 } else { 0.0 });
        let pts: Vec<(f64, f64)> = d
            .singular_values
            .iter()
            .enumerate()
            .map(|(i, s)| ((i + 1) as f64, *s))
            .collect();
        zeros += pts.iter().filter(|p| p.1 <= 0.0).count();
        let (kept, dropped): (Vec<_>, Vec<_>) = pts.iter().partition(|p| p.1 > d.tol);
        // Label only a few depths when there are many (first, last and about eight between).
        let every = nd.div_ceil(8).max(1);
        let label = (k % every == 0 || k + 1 == nd).then(|| format!("depth ≤ {} (rank {})", d.depth, d.rank));
        sv.series.push(Series {
            label,
            points: pts.clone(),
            mark: Mark::Line,
            color: Some(c),
            width: 0.8,
            ..Series::default()
        });
        // Kept values get markers while they are few enough to tell apart; discarded ones always do.
        if kept.len() <= 30 {
            sv.series.push(Series::unlabelled(kept, Mark::Points).color(c));
        }
        if !dropped.is_empty() {
            sv.series.push(
                Series::unlabelled(dropped, Mark::Points)
                    .color(c)
                    .marker(Marker::Circle, true),
            );
        }
    }
    if rep.depths.iter().any(|d| d.singular_values.iter().any(|s| *s <= d.tol)) {
        sv.key.push(KeyEntry {
            label: "discarded: σᵢ ≤ tol".into(),
            color: Color::Gray(60),
            kind: KeyKind::Marker(Marker::Circle, true),
        });
    }
    // The deciding depth: the first with full rank, else the deepest.
    if let Some(d) = rep
        .depths
        .iter()
        .find(|d| Some(d.depth) == rep.full_rank_depth)
        .or(rep.depths.last())
    {
        sv.hlines.push(RefLine::new(
            d.tol,
            format!("tolerance at depth {}: {}", d.depth, sci(d.tol, 2)),
        ));
        if let Some(s) = d.min_kept_singular_value {
            let next = d.singular_values.get(d.rank).copied().filter(|v| *v > 0.0);
            let what = if next.is_some() { "σ_r / σ_r+1" } else { "σ_r / tol" };
            sv.bands.push(Band {
                y0: next.unwrap_or(d.tol),
                y1: s,
                label: Some(format!("gap at depth {}: {what} = {}", d.depth, sci(gap(d), 2))),
                color: None,
            });
        }
    }
    if zeros > 0 {
        sv.annotations
            .push(format!("singular values exactly 0 (not on the log axis): {zeros}"));
    }
    let depths_done = rep.depths.last().map(|d| d.depth).unwrap_or(0);
    let mut rank = Figure {
        title: format!("N-point rank against bracket depth (m = {m}, N = {n})"),
        x_label: "bracket depth k".into(),
        y_label: "rank".into(),
        x_integer: true,
        y_integer: true,
        annotations: vec![match rep.full_rank_depth {
            Some(k) => format!("full rank mN = {} at depth {k}", rep.target_rank),
            None => format!("full rank mN = {} not reached by depth {depths_done}", rep.target_rank),
        }],
        ..Figure::default()
    };
    let ks: Vec<f64> = rep.depths.iter().map(|d| d.depth as f64).collect();
    rank.series.push(
        Series::line(
            "numerical rank (scaled SVD)",
            ks.iter().zip(&rep.depths).map(|(k, d)| (*k, d.rank as f64)).collect(),
        )
        .mark(Mark::LinePoints)
        .color(0usize),
    );
    if exact_at.iter().any(Option::is_some) {
        rank.series.push(
            Series::line(
                "exact rank at the points (ℤ_p)",
                ks.iter()
                    .zip(exact_at)
                    .map(|(k, e)| (*k, e.map(|v| v as f64).unwrap_or(f64::NAN)))
                    .collect(),
            )
            .mark(Mark::LinePoints)
            .marker(Marker::Square, true)
            .color(1usize)
            .stroke(crate::output::plot::Stroke::Dashed),
        );
    }
    rank.hlines.push(RefLine {
        value: rep.target_rank as f64,
        label: Some(format!("full rank mN = {}", rep.target_rank)),
        color: Some(Color::Palette(3)),
        stroke: crate::output::plot::Stroke::Dashed,
    });
    out.figures.push(("singular-values".into(), sv));
    out.figures.push(("rank-vs-depth".into(), rank));
    if let (1, Some(t)) = (m, &p.targets) {
        let x: Vec<f64> = p.points.iter().map(|v| v[0]).collect();
        let y: Vec<f64> = t.iter().map(|v| v[0]).collect();
        if let Ok(o) = crate::lie::check_order_1d(&x, &y) {
            if let Some(&pair) = o.violations.first() {
                let mut fig = Figure {
                    title: "Points and targets on the line (m = 1): the ordering obstruction".into(),
                    y_label: "position on the line".into(),
                    x_range: Some((-0.25, 1.25)),
                    ..Figure::default()
                };
                crate::study::interpolate::order_figure_series(&mut fig, &x, &y, pair);
                out.figures.push(("order".into(), fig));
            }
        }
    }
}

/// The published / theoretical numbers a `lie` scenario reproduces.
pub fn comparisons(p: &Prepared, rep: &RankReport, exact_at: &[Option<usize>], out: &mut StudyOutput) {
    let rank_at = |depth: usize| -> Option<f64> {
        let i = rep.depths.iter().position(|d| d.depth == depth)?;
        exact_at[i].or(Some(rep.depths[i].rank)).map(|r| r as f64)
    };
    let cuchiero = rep.m >= 2 && matches!(&p.fields, Fields::Poly(fs) if *fs == crate::lie::cuchiero_fields(rep.m));
    if cuchiero && rep.m == 2 && rep.n_points == 6 {
        let src =
            "SPEC §5 item 9 (seed 003 'First result'; reference instance A = [[1, 0], [0, −1]], B = [[0, 1], [1, 0]])";
        for (depth, expected) in [(2usize, 11.0), (3, 12.0)] {
            if let Some(r) = rank_at(depth) {
                out.comparisons.push(Comparison::new(
                    format!("N-point rank at depth ≤ {depth} (exact over ℤ_p at the points), N = 6"),
                    expected,
                    r,
                    Tolerance::Exact,
                    src,
                ));
            }
        }
        out.comparisons.push(Comparison::new(
            "smallest depth with full rank mN = 12, N = 6",
            3.0,
            rep.full_rank_depth.map(|d| d as f64).unwrap_or(f64::NAN),
            Tolerance::Exact,
            src,
        ));
    } else if cuchiero {
        out.comparisons.push(
            Comparison::new(
                format!(
                    "full rank mN = {} reached (1 = yes) at N = {}",
                    rep.target_rank, rep.n_points
                ),
                1.0,
                f64::from(u8::from(rep.full_rank_depth.is_some())),
                Tolerance::Exact,
                "SPEC §5 item 9: Lie(V1..V5) holds the N-point rank condition for every N",
            )
            .note(format!("depth needed: {:?}", rep.full_rank_depth)),
        );
    }
    if let Fields::Features(_) = &p.fields {
        out.comparisons.push(Comparison::new(
            format!(
                "full rank mN = {} reached by random features (1 = yes)",
                rep.target_rank
            ),
            1.0,
            f64::from(u8::from(rep.full_rank_depth.is_some())),
            Tolerance::Exact,
            "SPEC §5 item 10: seven random features σ_i(C_i x + b_i) with polynomial σ_i satisfy the condition with \
             probability one",
        ));
    }
    if let (1, Some(t)) = (rep.m, &p.targets) {
        let x: Vec<f64> = p.points.iter().map(|v| v[0]).collect();
        let y: Vec<f64> = t.iter().map(|v| v[0]).collect();
        if let Ok(o) = crate::lie::check_order_1d(&x, &y) {
            // Independently of the library check: some pair with x_i < x_j but y_i ≥ y_j.
            let reordered = (0..x.len()).any(|i| (0..x.len()).any(|j| x[i] < x[j] && y[i] >= y[j]));
            let expected = f64::from(u8::from(reordered));
            out.comparisons.push(
                Comparison::new(
                    "ordering obstruction detected (1 = yes) for targets in another order",
                    expected,
                    f64::from(u8::from(!o.preserved)),
                    Tolerance::Exact,
                    "SPEC §5 item 11: on the line flows preserve order, so reordered targets are unreachable",
                )
                .note(format!(
                    "source order {:?}, target order {:?}",
                    o.source_order, o.target_order
                )),
            );
        }
    }
}
