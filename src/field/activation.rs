//! Scalar activations σ with exact derivatives (SPEC §1): tanh, ReLU, leaky ReLU, |·|, sigmoid, polynomial.
//! ReLU, leaky ReLU and |·| are positively homogeneous (σ(λz) = λσ(z), λ > 0), which the time-scaling results of
//! SPEC §4 need; [`Activation::is_positively_homogeneous`] says which.

use crate::simd::{sigmoid_k, tanh_k, Arith, Lanes};
use serde::{Deserialize, Serialize};

/// An activation function, applied componentwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Activation {
    Tanh,
    Relu,
    /// max(z, slope·z) with 0 ≤ slope < 1.
    LeakyRelu {
        slope: f64,
    },
    Abs,
    Sigmoid,
    /// Σ_k `coeffs[k]` z^k.
    Polynomial {
        coeffs: Vec<f64>,
    },
    /// The identity z ↦ z.
    Identity,
}

/// tanh, the default activation of every family.
impl Default for Activation {
    fn default() -> Self {
        Activation::Tanh
    }
}

impl Activation {
    /// σ(z).
    #[inline]
    pub fn eval(&self, z: f64) -> f64 {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(0.0),
            Activation::LeakyRelu { slope } => {
                if z > 0.0 {
                    z
                } else {
                    slope * z
                }
            }
            Activation::Abs => z.abs(),
            Activation::Sigmoid => sigmoid(z),
            Activation::Polynomial { coeffs } => coeffs.iter().rev().fold(0.0, |acc, c| acc * z + c),
            Activation::Identity => z,
        }
    }

    /// σ'(z). At the kink of ReLU / leaky ReLU / |·| (z = 0) the right derivative is used.
    #[inline]
    pub fn deriv(&self, z: f64) -> f64 {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                1.0 - t * t
            }
            Activation::Relu => {
                if z >= 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu { slope } => {
                if z >= 0.0 {
                    1.0
                } else {
                    *slope
                }
            }
            Activation::Abs => {
                if z >= 0.0 {
                    1.0
                } else {
                    -1.0
                }
            }
            Activation::Sigmoid => {
                let s = sigmoid(z);
                s * (1.0 - s)
            }
            Activation::Polynomial { coeffs } => coeffs
                .iter()
                .enumerate()
                .skip(1)
                .rev()
                .fold(0.0, |acc, (k, c)| acc * z + k as f64 * c),
            Activation::Identity => 1.0,
        }
    }

    /// (σ(z), σ'(z)) in one call (tanh and sigmoid share the transcendental).
    #[inline]
    pub fn eval_deriv(&self, z: f64) -> (f64, f64) {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                (t, 1.0 - t * t)
            }
            Activation::Sigmoid => {
                let s = sigmoid(z);
                (s, s * (1.0 - s))
            }
            _ => (self.eval(z), self.deriv(z)),
        }
    }

    /// val = σ(z) and der = σ'(z) over the first `n` lanes, branch-free and vectorised (the kernels of
    /// [`crate::simd`]: tanh and sigmoid within 2 ulp; the kinks of ReLU / leaky ReLU / |·| take the right
    /// derivative, as [`Activation::deriv`]). `val` may not alias `z`.
    #[inline(always)]
    pub fn eval_deriv_lanes<A: Arith>(&self, n: usize, z: &Lanes, val: &mut Lanes, der: &mut Lanes) {
        self.eval_deriv_slice::<A>(&z[..n], &mut val[..n], &mut der[..n])
    }

    /// [`Activation::eval_deriv_lanes`] over flat slices of any (equal) length — several rows at once, so one
    /// loop (and one set of broadcast constants) covers a whole block.
    #[inline(always)]
    pub fn eval_deriv_slice<A: Arith>(&self, z: &[f64], val: &mut [f64], der: &mut [f64]) {
        struct Slices<'a, A> {
            z: &'a [f64],
            val: &'a mut [f64],
            der: &'a mut [f64],
            arith: std::marker::PhantomData<A>,
        }
        impl<A: Arith> ActVisitor for Slices<'_, A> {
            type Out = ();
            #[inline(always)]
            fn visit<F: ActFn>(self, f: F) {
                for ((v, d), &zi) in self.val.iter_mut().zip(self.der.iter_mut()).zip(self.z) {
                    (*v, *d) = f.ed::<A>(zi);
                }
            }
        }
        self.visit(Slices::<A> {
            z,
            val,
            der,
            arith: std::marker::PhantomData,
        })
    }

    /// Whether σ is smooth (C^∞), so that Lie brackets and order tests apply.
    pub fn is_smooth(&self) -> bool {
        matches!(
            self,
            Activation::Tanh | Activation::Sigmoid | Activation::Polynomial { .. } | Activation::Identity
        )
    }

    /// σ(λz) = λσ(z) for λ > 0 (SPEC §1, §4 time scaling).
    pub fn is_positively_homogeneous(&self) -> bool {
        matches!(
            self,
            Activation::Relu | Activation::LeakyRelu { .. } | Activation::Abs | Activation::Identity
        )
    }

    /// Lipschitz constant of σ on R (∞ for a nonlinear polynomial).
    pub fn lipschitz(&self) -> f64 {
        match self {
            Activation::Tanh | Activation::Relu | Activation::Abs | Activation::Identity => 1.0,
            Activation::LeakyRelu { slope } => slope.abs().max(1.0),
            Activation::Sigmoid => 0.25,
            Activation::Polynomial { coeffs } => {
                if coeffs.len() <= 2 {
                    coeffs.get(1).copied().unwrap_or(0.0).abs()
                } else {
                    f64::INFINITY
                }
            }
        }
    }

    /// Name used in scenario files and manifests.
    pub fn name(&self) -> String {
        match self {
            Activation::Tanh => "tanh".into(),
            Activation::Relu => "relu".into(),
            Activation::LeakyRelu { slope } => format!("leaky_relu({slope})"),
            Activation::Abs => "abs".into(),
            Activation::Sigmoid => "sigmoid".into(),
            Activation::Polynomial { coeffs } => format!("polynomial{coeffs:?}"),
            Activation::Identity => "identity".into(),
        }
    }
}

/// One activation as a function object, so that kernels are instantiated per activation with the match on
/// [`Activation`] hoisted out of their lane loops ([`Activation::visit`]).
pub trait ActFn: Copy {
    /// (σ(z), σ'(z)), branch-free (the kinks take the right derivative, as [`Activation::deriv`]).
    fn ed<A: Arith>(self, z: f64) -> (f64, f64);
}

/// A computation generic over the activation function ([`Activation::visit`]).
pub trait ActVisitor {
    /// What it returns.
    type Out;
    /// Run with activation `f`.
    fn visit<F: ActFn>(self, f: F) -> Self::Out;
}

/// tanh as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct TanhF;
/// The logistic sigmoid as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct SigmoidF;
/// ReLU as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct ReluF;
/// Leaky ReLU (slope) as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct LeakyF(pub f64);
/// |·| as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct AbsF;
/// A polynomial Σ c_k z^k as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct PolyF<'a>(pub &'a [f64]);
/// The identity as an [`ActFn`].
#[derive(Clone, Copy)]
pub struct IdentityF;

impl ActFn for TanhF {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        let t = tanh_k::<A>(z);
        (t, A::madd(-t, t, 1.0))
    }
}
impl ActFn for SigmoidF {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        sigmoid_k::<A>(z)
    }
}
impl ActFn for ReluF {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        (z.max(0.0), if z >= 0.0 { 1.0 } else { 0.0 })
    }
}
impl ActFn for LeakyF {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        (
            if z > 0.0 { z } else { self.0 * z },
            if z >= 0.0 { 1.0 } else { self.0 },
        )
    }
}
impl ActFn for AbsF {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        (z.abs(), if z >= 0.0 { 1.0 } else { -1.0 })
    }
}
impl ActFn for PolyF<'_> {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        let (mut v, mut d) = (0.0, 0.0);
        for &c in self.0.iter().rev() {
            d = A::madd(d, z, v);
            v = A::madd(v, z, c);
        }
        (v, d)
    }
}
impl ActFn for IdentityF {
    #[inline(always)]
    fn ed<A: Arith>(self, z: f64) -> (f64, f64) {
        (z, 1.0)
    }
}

impl Activation {
    /// Run `v` with this activation as an [`ActFn`] (one instantiation per activation family).
    #[inline(always)]
    pub fn visit<V: ActVisitor>(&self, v: V) -> V::Out {
        match self {
            Activation::Tanh => v.visit(TanhF),
            Activation::Sigmoid => v.visit(SigmoidF),
            Activation::Relu => v.visit(ReluF),
            Activation::LeakyRelu { slope } => v.visit(LeakyF(*slope)),
            Activation::Abs => v.visit(AbsF),
            Activation::Polynomial { coeffs } => v.visit(PolyF(coeffs)),
            Activation::Identity => v.visit(IdentityF),
        }
    }
}

#[inline]
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Activation> {
        vec![
            Activation::Tanh,
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.1 },
            Activation::Abs,
            Activation::Sigmoid,
            Activation::Polynomial {
                coeffs: vec![0.5, -1.0, 0.25, 0.1],
            },
            Activation::Identity,
        ]
    }

    #[test]
    fn derivative_matches_central_differences_away_from_kinks() {
        for a in all() {
            for &z in &[-2.3, -0.7, 0.31, 1.9] {
                let h = 1e-6;
                let fd = (a.eval(z + h) - a.eval(z - h)) / (2.0 * h);
                let d = a.deriv(z);
                assert!((fd - d).abs() <= 1e-8 * (1.0 + d.abs()), "{a:?} at {z}: {fd} vs {d}");
                assert_eq!(a.eval_deriv(z), (a.eval(z), a.deriv(z)));
            }
        }
    }

    #[test]
    fn homogeneous_activations_scale() {
        for a in all().into_iter().filter(|a| a.is_positively_homogeneous()) {
            for &z in &[-1.5, 0.2, 3.0] {
                assert!((a.eval(2.5 * z) - 2.5 * a.eval(z)).abs() < 1e-14, "{a:?}");
            }
        }
        assert!(!Activation::Tanh.is_positively_homogeneous());
    }
}
