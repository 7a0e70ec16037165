//! Lifecycle logic of `lcm`: the managers of the CIAF LCM specification, with real checks.
//!
//! Every manager takes a [`Context`] (policy, clock, randomness). Records are the plain types
//! of [`lcm_model`]; the managers create them, check them against what they already hold, and
//! compute their digests and roots.

mod context;
mod error;

pub use crate::context::Context;
pub use crate::error::Error;
