//! # lieflow — deep learning as control theory
//!
//! A neural network is a controlled ODE dX/dt = f(X, u(t)) acting on a whole data set at once (SPEC §1); a layer is
//! a time step, training is an optimal-control problem. Data flow (ARCHITECTURE):
//!
//! ```text
//! scenario.toml ──serde──▶ scenario::ScenarioFile ──validate/build──▶ problem::Problem
//!   (field × control + data ensemble + solver) ──▶ study::Study::run ──▶ StudyOutput ──▶ output::RunDir
//! ```
//!
//! - fields ([`field`]): control-affine Σ u_j V_j(x) (linear, constant, polynomial, random feature), nODE σ(Wx+b),
//!   nODE₂ Wσ(x)+b, depth-limit ResNet σ(Wx); activations tanh, ReLU, leaky ReLU, |·|, sigmoid, polynomial.
//! - controls ([`control`]): piecewise constant on K intervals; paths U : [0, T] → R^d (piecewise linear from data,
//!   formulas, fBm by Davies–Harte) with their increments and exact Lévy areas per interval.
//! - integrators ([`integrate`]): Euler (= Euler–Young with a path), RK4 (control frozen per interval), step-2 Young
//!   schemes with and without the Lévy area, adaptive Dopri5 reference.
//! - objectives ([`objective`]) and gradients ([`adjoint`]): exact discrete adjoint with √S checkpointing,
//!   Pontryagin adjoint, finite-difference checks, and a vectorised kernel for the tanh nODE.
//! - optimisers ([`optim`]): GD, momentum, RMSprop, Adam, proximal GD, L-BFGS in one loop with schedules, stopping
//!   rules and divergence detection.
//! - Lie brackets ([`lie`]): exact polynomial fields, Hall basis, jets, graded spans, N-point rank.
//! - studies ([`study`], one registry line each): `simulate`, `convergence`, `train`, `interpolate`, `lie`,
//!   `genericity`, `young-convergence`, `horizon-sweep`, `turnpike`, `geshkovski-figure`, `depth-limit`.
//! - sweeps ([`sweep`]): any scenario over a grid of values and seeds (`[sweep]`), split into units with stable ids,
//!   sharded (`--shard I/N`, SLURM job arrays), resumed, merged and aggregated (statistics over seeds, fitted slopes).
//!
//! Numerics never do I/O; studies return data; [`output`] writes it, replacing only folders lieflow wrote. Every
//! size a scenario sets is checked against the machine before anything is allocated ([`scenario::budget`]).

pub mod adjoint;
pub mod analysis;
pub mod cli;
pub mod control;
pub mod data;
pub mod error;
pub mod field;
pub mod integrate;
pub mod lie;
pub mod objective;
pub mod optim;
pub mod output;
pub mod problem;
pub mod scenario;
pub mod simd;
pub mod study;
pub mod sweep;

pub use error::{Error, Result};
