//! Hall basis of the free Lie algebra on d generators (SPEC §5, "Brackets are enumerated over a Hall basis").
//!
//! This is the classical (Marshall) Hall basis of *basic commutators*: the generators 1..d come first; the elements
//! are totally ordered by depth, then by creation order (their index in [`HallBasis::elems`]). A bracket [a, b] of
//! basis elements is a basis element iff a > b and, when a = [x, y], y ≤ b. The number of elements of depth n
//! is Witt's formula (1/n) Σ_{e | n} μ(e) d^{n/e} ([`witt`]).
//!
//! Every element keeps its tree (indices of its two halves) and a word label such as `"[[2,1],1]"` (1-based
//! generators), so brackets can be computed bottom-up with memoisation: element i = [left, right] only needs
//! the already computed values of `left` and `right`.

use serde::Serialize;

/// One element of the Hall basis.
#[derive(Clone, Debug, Serialize)]
pub struct HallElem {
    /// Depth (number of generators in the bracket).
    pub depth: usize,
    /// `Some(i)` (0-based) for a generator.
    pub generator: Option<usize>,
    /// Indices of the two halves [left, right] for a bracket.
    pub left: Option<usize>,
    pub right: Option<usize>,
    /// Word label, generators 1-based: "3", `"[2,1]"`, `"[[2,1],1]"`.
    pub word: String,
}

/// The Hall basis up to a depth.
#[derive(Clone, Debug, Serialize)]
pub struct HallBasis {
    pub d: usize,
    pub max_depth: usize,
    pub elems: Vec<HallElem>,
}

impl HallBasis {
    /// Hall basis of the free Lie algebra on `d` generators, depths 1..=max_depth.
    pub fn new(d: usize, max_depth: usize) -> HallBasis {
        let mut elems: Vec<HallElem> = (0..d)
            .map(|i| HallElem {
                depth: 1,
                generator: Some(i),
                left: None,
                right: None,
                word: (i + 1).to_string(),
            })
            .collect();
        if max_depth == 0 {
            elems.clear();
        }
        for n in 2..=max_depth {
            let existing = elems.len();
            let mut new = Vec::new();
            for a in 0..existing {
                let da = elems[a].depth;
                if da >= n {
                    continue;
                }
                let db = n - da;
                for b in 0..a {
                    if elems[b].depth != db {
                        continue;
                    }
                    if let Some(y) = elems[a].right {
                        if y > b {
                            continue;
                        }
                    }
                    new.push(HallElem {
                        depth: n,
                        generator: None,
                        left: Some(a),
                        right: Some(b),
                        word: format!("[{},{}]", elems[a].word, elems[b].word),
                    });
                }
            }
            elems.extend(new);
        }
        HallBasis { d, max_depth, elems }
    }

    /// Number of elements of each depth 1..=max_depth (index 0 = depth 1).
    pub fn counts_by_depth(&self) -> Vec<usize> {
        let mut c = vec![0; self.max_depth];
        for e in &self.elems {
            c[e.depth - 1] += 1;
        }
        c
    }

    /// Evaluate every element bottom-up given the generators' values and a bracket operation.
    pub fn evaluate<T: Clone>(&self, gens: &[T], bracket: impl Fn(&T, &T) -> T) -> Vec<T> {
        let mut out: Vec<T> = Vec::with_capacity(self.elems.len());
        for e in &self.elems {
            let v = match e.generator {
                Some(i) => gens[i].clone(),
                None => bracket(&out[e.left.unwrap()], &out[e.right.unwrap()]),
            };
            out.push(v);
        }
        out
    }
}

/// Möbius function μ(n).
pub fn mobius(mut n: usize) -> i64 {
    let mut res = 1;
    let mut p = 2;
    while p * p <= n {
        if n.is_multiple_of(p) {
            n /= p;
            if n.is_multiple_of(p) {
                return 0;
            }
            res = -res;
        }
        p += 1;
    }
    if n > 1 {
        res = -res;
    }
    res
}

/// Witt's formula: dimension of the degree-n part of the free Lie algebra on d generators,
/// (1/n) Σ_{e | n} μ(e) d^{n/e}.
pub fn witt(d: usize, n: usize) -> u128 {
    let mut s: i128 = 0;
    for e in 1..=n {
        if n.is_multiple_of(e) {
            s += mobius(e) as i128 * (d as i128).pow((n / e) as u32);
        }
    }
    (s / n as i128) as u128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn witt_values() {
        let w: Vec<u128> = (1..=6).map(|n| witt(2, n)).collect();
        assert_eq!(w, vec![2, 1, 2, 3, 6, 9]);
        assert_eq!(witt(5, 5), 624);
    }

    #[test]
    fn hall_counts_match_witt() {
        for (d, k) in [(2usize, 8usize), (3, 6), (5, 5)] {
            let h = HallBasis::new(d, k);
            let c = h.counts_by_depth();
            for n in 1..=k {
                assert_eq!(c[n - 1] as u128, witt(d, n), "d={d} n={n}");
            }
        }
        let h = HallBasis::new(5, 5);
        let total: u128 = (1..=5).map(|n| witt(5, n)).sum();
        assert_eq!(h.elems.len() as u128, total);
        assert_eq!(total, 5 + 10 + 40 + 150 + 624);
    }

    #[test]
    fn hall_words() {
        let h = HallBasis::new(2, 3);
        let w: Vec<&str> = h.elems.iter().map(|e| e.word.as_str()).collect();
        assert_eq!(w, vec!["1", "2", "[2,1]", "[[2,1],1]", "[[2,1],2]"]);
    }
}
