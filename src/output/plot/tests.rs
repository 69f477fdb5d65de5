//! Tests of the figure model, ticks and renderer.
use super::*;
