//! Graded spans of polynomial vector fields without the exponential blow-up (SPEC §5, "Computing the span
//! without the exponential blow-up").
//!
//! Right-nested brackets [V_{i1},[V_{i2},[…,V_{ik}]]] span the depth-k part of the free Lie algebra and the
//! bracket is bilinear, so with L_{≤k} the span of all brackets of depth ≤ k,
//!
//!   L_{≤1} = span{V_1..V_d},   L_{≤k} = L_{≤k−1} + span{ [V_i, B] : i = 1..d, B ∈ new basis of depth k−1 }.
//!
//! (If B ∈ L_{≤k−2} then [V_i, B] ∈ L_{≤k−1} already.) [`GradedSpan`] keeps one global echelon form over the
//! coefficient space (monomials (component, exponents) as coordinates) and brackets generators only against the
//! *new* basis elements of the previous depth, so the work grows with the span dimension, not like d^k/k.
//!
//! Exactness. Elimination runs over Z_p, p = 2^61 − 1, on the images of the exact rational brackets (reduction
//! mod p commutes with brackets). Vectors independent mod p are independent over Q, so every kept element is
//! genuinely new; a vector dependent mod p but independent over Q would need p to divide a nonzero minor, which
//! for a 61-bit prime is astronomically unlikely. Every basis element keeps its word (`"[1,[2,[3,4]]]"`), its
//! exact rational coefficients (while they fit in `i128`; `None` after an overflow), its Z_p image and an f64
//! copy for numerical evaluation.

use super::poly::{Coef, Exps, Fp, PolyField, Rational};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Row-echelon form over Z_p of dense vectors that may grow in length. Rows are normalised (pivot 1) and each row
/// is zero at the pivots of the rows inserted before it, so reduction is one pass in insertion order.
#[derive(Clone, Debug, Default)]
pub struct Echelon {
    rows: Vec<(usize, Vec<Fp>)>,
}

impl Echelon {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn rank(&self) -> usize {
        self.rows.len()
    }
    /// Reduces `v` in place against the rows; returns true if it is nonzero afterwards. `v` must be at least as
    /// long as every row (coordinates beyond a vector's length are zero); [`Echelon::insert`] pads it.
    pub fn reduce(&self, v: &mut [Fp]) -> bool {
        for (p, row) in &self.rows {
            debug_assert!(row.len() <= v.len());
            let c = v[*p];
            if c.0 == 0 {
                continue;
            }
            for (vi, ri) in v.iter_mut().zip(row) {
                if ri.0 != 0 {
                    *vi = vi.sub(&c.mul(ri));
                }
            }
        }
        v.iter().any(|x| x.0 != 0)
    }
    /// Inserts `v` if independent; returns whether it was.
    pub fn insert(&mut self, mut v: Vec<Fp>) -> bool {
        let longest = self.rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        if v.len() < longest {
            v.resize(longest, Fp(0));
        }
        if !self.reduce(&mut v) {
            return false;
        }
        let p = v.iter().position(|x| x.0 != 0).unwrap();
        let inv = v[p].inv().unwrap();
        for x in v.iter_mut() {
            *x = x.mul(&inv);
        }
        self.rows.push((p, v));
        true
    }
}

/// Rank over Z_p of a set of columns (each of the same length).
pub fn fp_rank(cols: &[Vec<Fp>]) -> usize {
    let mut e = Echelon::new();
    for c in cols {
        e.insert(c.clone());
    }
    e.rank()
}

/// Coordinates of polynomial fields as dense vectors, assigning a coordinate to each new monomial.
#[derive(Clone, Debug, Default)]
pub struct MonomialIndex {
    index: HashMap<(usize, Exps), usize>,
}

impl MonomialIndex {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn len(&self) -> usize {
        self.index.len()
    }
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    /// Dense coordinates of `f` (length = number of monomials seen so far, including f's).
    pub fn coords(&mut self, f: &PolyField<Fp>) -> Vec<Fp> {
        let ids: Vec<(usize, Fp)> = f
            .terms()
            .map(|(i, e, c)| {
                let n = self.index.len();
                (*self.index.entry((i, e.clone())).or_insert(n), *c)
            })
            .collect();
        let mut v = vec![Fp(0); self.index.len()];
        for (k, c) in ids {
            v[k] = c;
        }
        v
    }
}

/// Rank over Z_p of a set of polynomial fields viewed as coefficient vectors.
pub fn fp_field_rank(fields: &[PolyField<Fp>]) -> usize {
    let mut idx = MonomialIndex::new();
    let mut e = Echelon::new();
    for f in fields {
        e.insert(idx.coords(f));
    }
    e.rank()
}

/// A bracket kept in a graded span: its word and its coefficients in three rings.
#[derive(Clone, Debug)]
pub struct SpanElem {
    /// Right-nested word, generators 1-based: "3", `"[1,[2,3]]"`.
    pub word: String,
    pub depth: usize,
    /// Exact coefficients; `None` if unavailable (float input) or after an `i128` overflow.
    pub rat: Option<PolyField<Rational>>,
    pub fp: PolyField<Fp>,
    pub fl: PolyField<f64>,
}

impl SpanElem {
    /// Generator `i` (0-based) from exact rational coefficients.
    pub fn from_rational(i: usize, f: &PolyField<Rational>) -> Option<SpanElem> {
        Some(SpanElem {
            word: (i + 1).to_string(),
            depth: 1,
            fp: f.to_fp()?,
            fl: f.to_f64(),
            rat: f.is_exact().then(|| f.clone()),
        })
    }
    /// Generator `i` from float coefficients (their exact dyadic values are used mod p).
    pub fn from_f64(i: usize, f: &PolyField<f64>) -> Option<SpanElem> {
        Some(SpanElem {
            word: (i + 1).to_string(),
            depth: 1,
            fp: PolyField::<Fp>::from_f64_field(f)?,
            fl: f.clone(),
            rat: None,
        })
    }
    /// `[self, other]` in all rings, with word `"[self,other]"`.
    pub fn bracket(&self, o: &SpanElem, keep_rational: bool) -> SpanElem {
        let rat = if keep_rational {
            match (&self.rat, &o.rat) {
                (Some(a), Some(b)) => Some(a.bracket(b)).filter(|r| r.is_exact()),
                _ => None,
            }
        } else {
            None
        };
        SpanElem {
            word: format!("[{},{}]", self.word, o.word),
            depth: self.depth + o.depth,
            rat,
            fp: self.fp.bracket(&o.fp),
            fl: self.fl.bracket(&o.fl),
        }
    }
}

/// Per-depth statistics of a graded span.
#[derive(Clone, Debug, Serialize)]
pub struct SpanDepthStats {
    pub depth: usize,
    /// Candidates bracketed at this depth (d × new elements of the previous depth).
    pub candidates: usize,
    /// Dimension added at this depth.
    pub added: usize,
    /// dim L_{≤depth}.
    pub cumulative: usize,
}

/// The graded span L_{≤1} ⊆ L_{≤2} ⊆ … of a family of polynomial fields.
#[derive(Clone, Debug)]
pub struct GradedSpan {
    pub m: usize,
    pub gens: Vec<SpanElem>,
    /// Basis elements in order of depth (generators that are independent come first).
    pub basis: Vec<SpanElem>,
    pub stats: Vec<SpanDepthStats>,
    keep_rational: bool,
    index: MonomialIndex,
    echelon: Echelon,
}

impl GradedSpan {
    /// Starts with depth 1 (the independent generators). `keep_rational` carries exact rational coefficients
    /// along (needed for `brackets.json`; costs a little time).
    pub fn new(gens: Vec<SpanElem>, keep_rational: bool) -> GradedSpan {
        let m = gens.first().map(|g| g.fl.m).unwrap_or(0);
        let mut s = GradedSpan {
            m,
            gens: gens.clone(),
            basis: Vec::new(),
            stats: Vec::new(),
            keep_rational,
            index: MonomialIndex::new(),
            echelon: Echelon::new(),
        };
        let n = gens.len();
        let added = s.absorb(gens);
        s.stats.push(SpanDepthStats {
            depth: 1,
            candidates: n,
            added,
            cumulative: s.basis.len(),
        });
        s
    }

    fn absorb(&mut self, cands: Vec<SpanElem>) -> usize {
        let mut added = 0;
        for c in cands {
            let v = self.index.coords(&c.fp);
            if self.echelon.insert(v) {
                self.basis.push(c);
                added += 1;
            }
        }
        added
    }

    /// Deepest depth computed so far.
    pub fn depth(&self) -> usize {
        self.stats.len()
    }
    pub fn dim(&self) -> usize {
        self.basis.len()
    }
    /// Basis elements of depth ≤ k.
    pub fn basis_upto(&self, k: usize) -> impl Iterator<Item = &SpanElem> {
        self.basis.iter().filter(move |b| b.depth <= k)
    }

    /// Computes the next depth; returns the dimension added.
    pub fn grow(&mut self) -> usize {
        let k = self.depth() + 1;
        let prev: Vec<&SpanElem> = self.basis.iter().filter(|b| b.depth == k - 1).collect();
        let pairs: Vec<(usize, usize)> = (0..self.gens.len())
            .flat_map(|i| (0..prev.len()).map(move |j| (i, j)))
            .collect();
        let keep = self.keep_rational;
        let cands: Vec<SpanElem> = pairs
            .par_iter()
            .map(|&(i, j)| {
                let mut b = self.gens[i].bracket(prev[j], keep);
                b.depth = k;
                b
            })
            .filter(|b| !b.fp.is_zero())
            .collect();
        let n = pairs.len();
        let added = self.absorb(cands);
        self.stats.push(SpanDepthStats {
            depth: k,
            candidates: n,
            added,
            cumulative: self.basis.len(),
        });
        added
    }

    /// Grows until depth `k`.
    pub fn extend_to(&mut self, k: usize) {
        while self.depth() < k {
            self.grow();
        }
    }
}

/// One coefficient of a bracket in `brackets.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CoefJson {
    pub component: usize,
    pub exponents: Vec<u32>,
    /// Exact rational as text ("3/2"), or a float in scientific notation when the exact value is unavailable.
    pub value: String,
}

/// One entry of `brackets.json`.
#[derive(Clone, Debug, Serialize)]
pub struct BracketJson {
    pub word: String,
    pub depth: usize,
    pub exact: bool,
    pub coefficients: Vec<CoefJson>,
}

impl SpanElem {
    /// The `brackets.json` record of this element.
    pub fn to_json(&self) -> BracketJson {
        let coefficients = match &self.rat {
            Some(r) => r
                .terms()
                .map(|(i, e, c)| CoefJson {
                    component: i,
                    exponents: e.clone(),
                    value: c.to_text(),
                })
                .collect(),
            None => self
                .fl
                .terms()
                .map(|(i, e, c)| CoefJson {
                    component: i,
                    exponents: e.clone(),
                    value: c.to_text(),
                })
                .collect(),
        };
        BracketJson {
            word: self.word.clone(),
            depth: self.depth,
            exact: self.rat.is_some(),
            coefficients,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::hall::HallBasis;
    use super::super::poly::{cuchiero_fields, random_poly_fields};
    use super::*;

    fn gens(fs: &[PolyField<Rational>]) -> Vec<SpanElem> {
        fs.iter()
            .enumerate()
            .map(|(i, f)| SpanElem::from_rational(i, f).unwrap())
            .collect()
    }

    #[test]
    fn cuchiero_depth2_span_is_11() {
        let mut s = GradedSpan::new(gens(&cuchiero_fields(2)), true);
        s.extend_to(2);
        assert_eq!(s.stats[0].cumulative, 5);
        assert_eq!(s.stats[1].cumulative, 11);
        assert!(s.basis.iter().all(|b| b.rat.is_some()));
    }

    /// Graded span ⊆ Hall span and equal to it (d = 3, m = 2, depth ≤ 4), on several random families.
    #[test]
    fn graded_span_equals_hall_span_small() {
        for seed in 0..6u64 {
            let fs = random_poly_fields(2, 3, 2, 2, seed);
            let mut s = GradedSpan::new(gens(&fs), false);
            s.extend_to(4);
            let hall = HallBasis::new(3, 4);
            let fp: Vec<PolyField<Fp>> = fs.iter().map(|f| f.to_fp().unwrap()).collect();
            let hv = hall.evaluate(&fp, |a, b| a.bracket(b));
            for k in 1..=4 {
                let h: Vec<PolyField<Fp>> = hall
                    .elems
                    .iter()
                    .zip(&hv)
                    .filter(|(e, _)| e.depth <= k)
                    .map(|(_, v)| v.clone())
                    .collect();
                let g: Vec<PolyField<Fp>> = s.basis_upto(k).map(|b| b.fp.clone()).collect();
                let rh = fp_field_rank(&h);
                let rg = fp_field_rank(&g);
                let both: Vec<PolyField<Fp>> = h.iter().chain(&g).cloned().collect();
                assert_eq!(rg, g.len(), "graded basis must be independent");
                assert_eq!(fp_field_rank(&both), rh, "graded ⊆ Hall (seed {seed}, depth {k})");
                assert_eq!(rg, rh, "graded = Hall (seed {seed}, depth {k})");
            }
        }
    }
}
