//! Exact polynomial vector fields on R^m (SPEC §5).
//!
//! A [`PolyField`] V : R^m → R^m holds one sparse polynomial per component; each polynomial is a
//! `BTreeMap<exponent vector, coefficient>`, so the field as a whole is the sparse map
//! (component, exponent vector) ↦ coefficient (see [`PolyField::terms`]). The coefficient type is generic over
//! [`Coef`]:
//!
//! * [`Rational`] — exact rationals num/den in `i128`, always normalised (gcd 1, den > 0). Every operation is
//!   checked; an overflow turns the value into a *poisoned* rational (den = 0) that propagates, and
//!   [`PolyField::is_exact`] reports it, so callers fall back to the modular path instead of returning garbage.
//! * [`Fp`] — the prime field Z_p with p = 2^61 − 1 (Mersenne; products via `u128`). Reduction mod p is a ring
//!   homomorphism Z[1/den] → Z_p, so brackets computed over Z_p are the images of the exact rational brackets.
//!   Every finite `f64` is a dyadic rational, so [`Fp::from_f64`] is an *exact* image of a float point.
//! * `f64` — for numerical evaluation.
//!
//! Bracket convention (SPEC §5, seed 003): `[V, W](x)` = DW(x)·V(x) − DV(x)·W(x), i.e. componentwise
//! [V, W]_i = Σ_j (∂_j W_i) V_j − (∂_j V_i) W_j. For linear V = Ax, W = Bx this is (BA − AB)x.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fmt;

/// Coefficient ring of a polynomial.
pub trait Coef: Clone + PartialEq + fmt::Debug + Send + Sync + 'static {
    fn zero() -> Self;
    fn one() -> Self;
    fn from_i64(v: i64) -> Self;
    fn add(&self, o: &Self) -> Self;
    fn sub(&self, o: &Self) -> Self;
    fn mul(&self, o: &Self) -> Self;
    fn neg(&self) -> Self;
    fn is_zero(&self) -> bool;
    /// Text form for `brackets.json` ("3/2" for rationals).
    fn to_text(&self) -> String;
}

impl Coef for f64 {
    fn zero() -> Self {
        0.0
    }
    fn one() -> Self {
        1.0
    }
    fn from_i64(v: i64) -> Self {
        v as f64
    }
    fn add(&self, o: &Self) -> Self {
        self + o
    }
    fn sub(&self, o: &Self) -> Self {
        self - o
    }
    fn mul(&self, o: &Self) -> Self {
        self * o
    }
    fn neg(&self) -> Self {
        -self
    }
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
    fn to_text(&self) -> String {
        format!("{self:e}")
    }
}

/// The Mersenne prime 2^61 − 1.
pub const P61: u64 = (1u64 << 61) - 1;

/// An element of Z_p, p = 2^61 − 1, stored reduced in [0, p).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Fp(pub u64);

impl Fp {
    #[inline]
    fn reduce128(x: u128) -> u64 {
        // x < 2^122: fold twice with 2^61 ≡ 1.
        let lo = (x as u64) & P61;
        let hi = (x >> 61) as u64;
        let mut r = lo + (hi & P61) + (hi >> 61);
        while r >= P61 {
            r -= P61;
        }
        r
    }
    /// Reduce an arbitrary `u64`.
    #[inline]
    pub fn new(v: u64) -> Fp {
        Fp(Self::reduce128(v as u128))
    }
    /// Image of an `i128`.
    pub fn from_i128(v: i128) -> Fp {
        let r = v.rem_euclid(P61 as i128);
        Fp(r as u64)
    }
    /// a^e.
    pub fn pow(self, mut e: u64) -> Fp {
        let mut base = self;
        let mut acc = Fp(1);
        while e > 0 {
            if e & 1 == 1 {
                acc = acc.mul(&base);
            }
            base = base.mul(&base);
            e >>= 1;
        }
        acc
    }
    /// Multiplicative inverse (None for 0).
    pub fn inv(self) -> Option<Fp> {
        (self.0 != 0).then(|| self.pow(P61 - 2))
    }
    /// Exact image of a finite float: x = mant · 2^exp, mapped to mant · (2^−1)^(−exp) mod p.
    pub fn from_f64(x: f64) -> Option<Fp> {
        if !x.is_finite() {
            return None;
        }
        if x == 0.0 {
            return Some(Fp(0));
        }
        let bits = x.to_bits();
        let sign = bits >> 63;
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp - 1075)
        };
        let mut v = Fp::new(mant);
        let two = Fp(2);
        if e >= 0 {
            v = v.mul(&two.pow(e as u64));
        } else {
            v = v.mul(&two.inv().unwrap().pow((-e) as u64));
        }
        Some(if sign == 1 { v.neg() } else { v })
    }
}

impl Coef for Fp {
    fn zero() -> Self {
        Fp(0)
    }
    fn one() -> Self {
        Fp(1)
    }
    fn from_i64(v: i64) -> Self {
        Fp::from_i128(v as i128)
    }
    #[inline]
    fn add(&self, o: &Self) -> Self {
        let s = self.0 + o.0;
        Fp(if s >= P61 { s - P61 } else { s })
    }
    #[inline]
    fn sub(&self, o: &Self) -> Self {
        Fp(if self.0 >= o.0 {
            self.0 - o.0
        } else {
            self.0 + P61 - o.0
        })
    }
    #[inline]
    fn mul(&self, o: &Self) -> Self {
        Fp(Self::reduce128(self.0 as u128 * o.0 as u128))
    }
    #[inline]
    fn neg(&self) -> Self {
        Fp(if self.0 == 0 { 0 } else { P61 - self.0 })
    }
    fn is_zero(&self) -> bool {
        self.0 == 0
    }
    fn to_text(&self) -> String {
        self.0.to_string()
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// Exact rational num/den in `i128`, normalised (gcd(num, den) = 1, den > 0). den = 0 marks an overflow
/// ("poisoned"); poison propagates through every operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rational {
    num: i128,
    den: i128,
}

impl Rational {
    /// The poisoned value produced by an overflow.
    pub const OVERFLOW: Rational = Rational { num: 0, den: 0 };

    /// num/den, normalised; den = 0 or an overflow gives [`Rational::OVERFLOW`].
    pub fn new(num: i128, den: i128) -> Rational {
        if den == 0 || num == i128::MIN || den == i128::MIN {
            return Self::OVERFLOW;
        }
        let g = gcd(num, den).max(1);
        let (mut n, mut d) = (num / g, den / g);
        if d < 0 {
            n = -n;
            d = -d;
        }
        Rational { num: n, den: d }
    }
    pub fn integer(v: i128) -> Rational {
        Rational::new(v, 1)
    }
    pub fn num(&self) -> i128 {
        self.num
    }
    pub fn den(&self) -> i128 {
        self.den
    }
    /// False after an overflow.
    pub fn is_valid(&self) -> bool {
        self.den != 0
    }
    pub fn to_f64(&self) -> f64 {
        if self.den == 0 {
            f64::NAN
        } else {
            self.num as f64 / self.den as f64
        }
    }
    /// Image in Z_p (None if poisoned or p | den).
    pub fn to_fp(&self) -> Option<Fp> {
        if self.den == 0 {
            return None;
        }
        Fp::from_i128(self.den).inv().map(|i| Fp::from_i128(self.num).mul(&i))
    }
    /// Exact rational value of a float whose value fits (|mantissa·2^e| with small exponent); None otherwise.
    pub fn from_f64(x: f64) -> Option<Rational> {
        if !x.is_finite() {
            return None;
        }
        if x == 0.0 {
            return Some(Rational::integer(0));
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64;
        let frac = (bits & ((1u64 << 52) - 1)) as i128;
        let (mant, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1i128 << 52), exp - 1075)
        };
        let mant = if x < 0.0 { -mant } else { mant };
        if e >= 0 {
            if e > 70 {
                return None;
            }
            mant.checked_mul(1i128 << e).map(Rational::integer)
        } else {
            let tz = mant.trailing_zeros() as i64;
            let sh = (-e).min(tz);
            let (m2, e2) = (mant >> sh, -e - sh);
            if e2 > 125 {
                return None;
            }
            Some(Rational::new(m2, 1i128 << e2))
        }
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 0 {
            write!(f, "overflow")
        } else if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl Coef for Rational {
    fn zero() -> Self {
        Rational { num: 0, den: 1 }
    }
    fn one() -> Self {
        Rational { num: 1, den: 1 }
    }
    fn from_i64(v: i64) -> Self {
        Rational::integer(v as i128)
    }
    fn add(&self, o: &Self) -> Self {
        if self.den == 0 || o.den == 0 {
            return Self::OVERFLOW;
        }
        let g = gcd(self.den, o.den);
        let r = (|| {
            let a = self.num.checked_mul(o.den / g)?;
            let b = o.num.checked_mul(self.den / g)?;
            let n = a.checked_add(b)?;
            let d = (self.den / g).checked_mul(o.den)?;
            Some(Rational::new(n, d))
        })();
        r.unwrap_or(Self::OVERFLOW)
    }
    fn sub(&self, o: &Self) -> Self {
        self.add(&o.neg())
    }
    fn mul(&self, o: &Self) -> Self {
        if self.den == 0 || o.den == 0 {
            return Self::OVERFLOW;
        }
        let g1 = gcd(self.num, o.den).max(1);
        let g2 = gcd(o.num, self.den).max(1);
        let r = (|| {
            let n = (self.num / g1).checked_mul(o.num / g2)?;
            let d = (self.den / g2).checked_mul(o.den / g1)?;
            Some(Rational::new(n, d))
        })();
        r.unwrap_or(Self::OVERFLOW)
    }
    fn neg(&self) -> Self {
        if self.den == 0 || self.num == i128::MIN {
            return Self::OVERFLOW;
        }
        Rational {
            num: -self.num,
            den: self.den,
        }
    }
    fn is_zero(&self) -> bool {
        self.num == 0 && self.den != 0
    }
    fn to_text(&self) -> String {
        self.to_string()
    }
}

/// Exponent vector of a monomial x^e = Π x_j^{e_j}.
pub type Exps = Vec<u32>;

/// A sparse scalar polynomial on R^m.
#[derive(Clone, Debug, PartialEq)]
pub struct Poly<C: Coef> {
    pub m: usize,
    pub terms: BTreeMap<Exps, C>,
}

impl<C: Coef> Poly<C> {
    pub fn zero(m: usize) -> Self {
        Poly {
            m,
            terms: BTreeMap::new(),
        }
    }
    pub fn constant(m: usize, c: C) -> Self {
        let mut p = Self::zero(m);
        p.add_term(vec![0; m], c);
        p
    }
    /// The coordinate x_j (0-based).
    pub fn var(m: usize, j: usize) -> Self {
        let mut e = vec![0; m];
        e[j] = 1;
        let mut p = Self::zero(m);
        p.add_term(e, C::one());
        p
    }
    /// Adds c·x^e, dropping a resulting zero.
    pub fn add_term(&mut self, e: Exps, c: C) {
        if c.is_zero() {
            return;
        }
        match self.terms.entry(e) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(c);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let s = o.get().add(&c);
                if s.is_zero() {
                    o.remove();
                } else {
                    *o.get_mut() = s;
                }
            }
        }
    }
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }
    pub fn degree(&self) -> u32 {
        self.terms.keys().map(|e| e.iter().sum()).max().unwrap_or(0)
    }
    pub fn add(&self, o: &Self) -> Self {
        let mut r = self.clone();
        for (e, c) in &o.terms {
            r.add_term(e.clone(), c.clone());
        }
        r
    }
    pub fn scale(&self, s: &C) -> Self {
        let mut r = Self::zero(self.m);
        for (e, c) in &self.terms {
            r.add_term(e.clone(), c.mul(s));
        }
        r
    }
    pub fn mul(&self, o: &Self) -> Self {
        let mut r = Self::zero(self.m);
        for (e1, c1) in &self.terms {
            for (e2, c2) in &o.terms {
                let e: Exps = e1.iter().zip(e2).map(|(a, b)| a + b).collect();
                r.add_term(e, c1.mul(c2));
            }
        }
        r
    }
    /// ∂/∂x_j.
    pub fn deriv(&self, j: usize) -> Self {
        let mut r = Self::zero(self.m);
        for (e, c) in &self.terms {
            if e[j] > 0 {
                let mut e2 = e.clone();
                e2[j] -= 1;
                r.add_term(e2, c.mul(&C::from_i64(e[j] as i64)));
            }
        }
        r
    }
    /// Σ_k a_k p^k (Horner).
    pub fn compose_univariate(&self, coeffs: &[C]) -> Self {
        let mut r = Self::zero(self.m);
        for a in coeffs.iter().rev() {
            r = r.mul(self);
            r.add_term(vec![0; self.m], a.clone());
        }
        r
    }
    pub fn map<D: Coef>(&self, f: impl Fn(&C) -> Option<D>) -> Option<Poly<D>> {
        let mut r = Poly::zero(self.m);
        for (e, c) in &self.terms {
            r.add_term(e.clone(), f(c)?);
        }
        Some(r)
    }
    /// Generic evaluation with a supplied ring (used for f64 and Z_p).
    pub fn eval_with(&self, x: &[C]) -> C {
        let mut s = C::zero();
        for (e, c) in &self.terms {
            let mut t = c.clone();
            for (j, &k) in e.iter().enumerate() {
                for _ in 0..k {
                    t = t.mul(&x[j]);
                }
            }
            s = s.add(&t);
        }
        s
    }
}

impl Poly<f64> {
    /// p(x) in floating point.
    pub fn eval(&self, x: &[f64]) -> f64 {
        self.terms
            .iter()
            .map(|(e, c)| c * e.iter().zip(x).map(|(&k, &xi)| xi.powi(k as i32)).product::<f64>())
            .sum()
    }
}

/// A polynomial vector field V : R^m → R^m, one [`Poly`] per component.
#[derive(Clone, Debug, PartialEq)]
pub struct PolyField<C: Coef> {
    pub m: usize,
    pub comps: Vec<Poly<C>>,
}

impl<C: Coef> PolyField<C> {
    pub fn zero(m: usize) -> Self {
        PolyField {
            m,
            comps: vec![Poly::zero(m); m],
        }
    }
    pub fn from_comps(comps: Vec<Poly<C>>) -> Self {
        PolyField { m: comps.len(), comps }
    }
    /// Adds c·x^e to component `i`.
    pub fn add_term(&mut self, i: usize, e: Exps, c: C) {
        self.comps[i].add_term(e, c);
    }
    /// The sparse map view: (component, exponents, coefficient), sorted.
    pub fn terms(&self) -> impl Iterator<Item = (usize, &Exps, &C)> {
        self.comps
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.terms.iter().map(move |(e, c)| (i, e, c)))
    }
    pub fn n_terms(&self) -> usize {
        self.comps.iter().map(|p| p.terms.len()).sum()
    }
    pub fn is_zero(&self) -> bool {
        self.comps.iter().all(|p| p.is_zero())
    }
    pub fn degree(&self) -> u32 {
        self.comps.iter().map(|p| p.degree()).max().unwrap_or(0)
    }
    pub fn add(&self, o: &Self) -> Self {
        Self::from_comps(self.comps.iter().zip(&o.comps).map(|(a, b)| a.add(b)).collect())
    }
    pub fn sub(&self, o: &Self) -> Self {
        self.add(&o.scale(&C::one().neg()))
    }
    pub fn scale(&self, s: &C) -> Self {
        Self::from_comps(self.comps.iter().map(|p| p.scale(s)).collect())
    }
    /// ∂V/∂x_j, componentwise.
    pub fn deriv(&self, j: usize) -> Self {
        Self::from_comps(self.comps.iter().map(|p| p.deriv(j)).collect())
    }
    /// (DW·V)_i = Σ_j (∂_j W_i) V_j, symbolically (`self` = W).
    pub fn jvp(&self, v: &Self) -> Self {
        let mut out = Self::zero(self.m);
        for (i, wi) in self.comps.iter().enumerate() {
            for (j, vj) in v.comps.iter().enumerate() {
                if vj.is_zero() {
                    continue;
                }
                let d = wi.deriv(j);
                if d.is_zero() {
                    continue;
                }
                for (e1, c1) in &d.terms {
                    for (e2, c2) in &vj.terms {
                        let e: Exps = e1.iter().zip(e2).map(|(a, b)| a + b).collect();
                        out.comps[i].add_term(e, c1.mul(c2));
                    }
                }
            }
        }
        out
    }
    /// [self, w] = Dw·self − D(self)·w.
    pub fn bracket(&self, w: &Self) -> Self {
        w.jvp(self).sub(&self.jvp(w))
    }
    pub fn map<D: Coef>(&self, f: impl Fn(&C) -> Option<D> + Copy) -> Option<PolyField<D>> {
        Some(PolyField::from_comps(
            self.comps.iter().map(|p| p.map(f)).collect::<Option<Vec<_>>>()?,
        ))
    }
    /// Evaluation in the coefficient ring.
    pub fn eval_with(&self, x: &[C]) -> Vec<C> {
        self.comps.iter().map(|p| p.eval_with(x)).collect()
    }
}

impl PolyField<f64> {
    /// V(x) in floating point.
    pub fn eval(&self, x: &[f64]) -> Vec<f64> {
        self.comps.iter().map(|p| p.eval(x)).collect()
    }
}

impl PolyField<Fp> {
    /// V(x) mod p.
    pub fn eval_fp(&self, x: &[Fp]) -> Vec<Fp> {
        self.eval_with(x)
    }
    /// Exact image of a float field (every coefficient is a dyadic rational).
    pub fn from_f64_field(f: &PolyField<f64>) -> Option<Self> {
        f.map(|c| Fp::from_f64(*c))
    }
}

impl PolyField<Rational> {
    /// False if some coefficient overflowed `i128`.
    pub fn is_exact(&self) -> bool {
        self.terms().all(|(_, _, c)| c.is_valid())
    }
    pub fn to_f64(&self) -> PolyField<f64> {
        self.map(|c| Some(c.to_f64())).expect("f64 conversion is total")
    }
    /// Image in Z_p (None on overflow or p | denominator).
    pub fn to_fp(&self) -> Option<PolyField<Fp>> {
        self.map(|c| c.to_fp())
    }
    /// Linear field x ↦ A x with integer A (row-major, m × m).
    pub fn linear(a: &[Vec<i64>]) -> Self {
        let m = a.len();
        let mut f = Self::zero(m);
        for (i, row) in a.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let mut e = vec![0; m];
                e[j] = 1;
                f.add_term(i, e, Rational::integer(v as i128));
            }
        }
        f
    }
}

/// The matrices A, B of Cuchiero's first result (SPEC §5 item 9). For m = 2 the reference instance
/// `A = [[1,0],[0,−1]]`, `B = [[0,1],[1,0]]`; for general m, A = diag(m−1, m−3, …, −(m−1)) (traceless, distinct
/// eigenvalues) and B the symmetric tridiagonal matrix with ones next to the diagonal (traceless, [A, B] ≠ 0).
pub fn cuchiero_matrices(m: usize) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let a = (0..m)
        .map(|i| {
            (0..m)
                .map(|j| if i == j { m as i64 - 1 - 2 * i as i64 } else { 0 })
                .collect()
        })
        .collect();
    let b = (0..m)
        .map(|i| (0..m).map(|j| i64::from(i.abs_diff(j) == 1)).collect())
        .collect();
    (a, b)
}

/// Cuchiero's five fields on R^m (m ≥ 2): V1 = Ax, V2 = Bx ([`cuchiero_matrices`]), V3 = e_m,
/// V4 = x_m² e_1, V5 = x_m · x.
pub fn cuchiero_fields(m: usize) -> Vec<PolyField<Rational>> {
    let (a, b) = cuchiero_matrices(m);
    let one = Rational::integer(1);
    let unit = |j: usize, k: u32| {
        let mut e = vec![0; m];
        e[j] = k;
        e
    };
    let mut v3 = PolyField::zero(m);
    v3.add_term(m - 1, vec![0; m], one);
    let mut v4 = PolyField::zero(m);
    v4.add_term(0, unit(m - 1, 2), one);
    let mut v5 = PolyField::zero(m);
    for i in 0..m {
        let mut e = unit(m - 1, 1);
        e[i] += 1;
        v5.add_term(i, e, one);
    }
    vec![PolyField::linear(&a), PolyField::linear(&b), v3, v4, v5]
}

/// All exponent vectors on m variables of total degree ≤ k (graded, then lexicographic).
pub fn monomials(m: usize, k: u32) -> Vec<Exps> {
    let mut out = Vec::new();
    for deg in 0..=k {
        let mut cur = vec![0u32; m];
        fn rec(j: usize, left: u32, cur: &mut Exps, out: &mut Vec<Exps>) {
            if j + 1 == cur.len() {
                cur[j] = left;
                out.push(cur.clone());
                return;
            }
            for a in (0..=left).rev() {
                cur[j] = a;
                rec(j + 1, left - a, cur, out);
            }
        }
        if m > 0 {
            rec(0, deg, &mut cur, &mut out);
        }
    }
    out
}

/// `d` random polynomial fields on R^m of degree ≤ `degree`, every coefficient an integer uniform in
/// [−range, range] (so the exact path applies), from `seed`.
pub fn random_poly_fields(m: usize, d: usize, degree: u32, range: i64, seed: u64) -> Vec<PolyField<Rational>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mons = monomials(m, degree);
    (0..d)
        .map(|_| {
            let mut f = PolyField::zero(m);
            for i in 0..m {
                for e in &mons {
                    f.add_term(i, e.clone(), Rational::integer(rng.gen_range(-range..=range) as i128));
                }
            }
            f
        })
        .collect()
}

/// As [`random_poly_fields`] with rational coefficients num/den, num uniform in [−range, range] and den uniform
/// in [1, max_den].
pub fn random_poly_fields_rational(
    m: usize,
    d: usize,
    degree: u32,
    range: i64,
    max_den: i64,
    seed: u64,
) -> Vec<PolyField<Rational>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mons = monomials(m, degree);
    (0..d)
        .map(|_| {
            let mut f = PolyField::zero(m);
            for i in 0..m {
                for e in &mons {
                    let num = rng.gen_range(-range..=range) as i128;
                    let den = rng.gen_range(1..=max_den.max(1)) as i128;
                    f.add_term(i, e.clone(), Rational::new(num, den));
                }
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rational_arithmetic_and_overflow() {
        let a = Rational::new(6, -4);
        assert_eq!(a.to_string(), "-3/2");
        assert_eq!(a.add(&Rational::new(1, 2)).to_string(), "-1");
        let big = Rational::integer(i128::MAX / 2);
        let o = big.mul(&Rational::integer(4));
        assert!(!o.is_valid());
        assert!(!o.add(&Rational::one()).is_valid());
        assert_eq!(Rational::from_f64(0.375).unwrap().to_string(), "3/8");
        assert_eq!(Rational::from_f64(-3.0).unwrap().to_string(), "-3");
    }

    #[test]
    fn fp_field_ops() {
        let a = Fp::from_i64(-5);
        assert_eq!(a.add(&Fp(5)), Fp(0));
        let i = Fp(12345).inv().unwrap();
        assert_eq!(i.mul(&Fp(12345)), Fp(1));
        let h = Fp::from_f64(0.375).unwrap();
        assert_eq!(h.mul(&Fp(8)), Fp(3));
        assert_eq!(Rational::new(3, 8).to_fp().unwrap(), h);
    }

    #[test]
    fn linear_bracket_is_ba_minus_ab() {
        let (a, b) = cuchiero_matrices(2);
        let va = PolyField::linear(&a);
        let vb = PolyField::linear(&b);
        // BA − AB for A = diag(1,−1), B = [[0,1],[1,0]] is [[0,−2],[2,0]].
        let expect = PolyField::linear(&[vec![0, -2], vec![2, 0]]);
        assert_eq!(va.bracket(&vb), expect);
    }

    #[test]
    fn rational_fields_map_consistently() {
        let fs = random_poly_fields_rational(2, 2, 2, 3, 4, 9);
        let b = fs[0].bracket(&fs[1]);
        assert!(b.is_exact());
        let x = [Rational::new(1, 3), Rational::new(-2, 5)];
        let xf: Vec<Fp> = x.iter().map(|r| r.to_fp().unwrap()).collect();
        let exact = b.eval_with(&x);
        let modp = fs[0].to_fp().unwrap().bracket(&fs[1].to_fp().unwrap()).eval_fp(&xf);
        for (e, p) in exact.iter().zip(&modp) {
            assert_eq!(e.to_fp().unwrap(), *p, "reduction mod p commutes with brackets");
        }
        let xf64: Vec<f64> = x.iter().map(|r| r.to_f64()).collect();
        for (e, v) in exact.iter().zip(b.to_f64().eval(&xf64)) {
            assert!((e.to_f64() - v).abs() < 1e-12);
        }
        assert_eq!(b.deriv(0).comps[0], b.comps[0].deriv(0));
    }

    #[test]
    fn monomial_count() {
        assert_eq!(monomials(2, 3).len(), 10);
        assert_eq!(monomials(3, 2).len(), 10);
    }
}
