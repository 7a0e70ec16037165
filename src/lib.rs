#![doc = include_str!("../README.md")]
//!
//! # This crate
//!
//! The facade re-exports the member crates: [`crypto`] (`lcm-crypto`), [`model`]
//! (`lcm-model`), [`managers`] (`lcm-managers`), [`capsule`] (`lcm-capsule`), [`store`]
//! (`lcm-store`) and [`tlog`] (`lcm-tlog`), and the
//! quarantined compatibility crate `lcm-pyciaf` at [`compat::pyciaf`]. It has two entry points
//! of its own: [`framework`], a project's managers behind one value ([`framework::Project`],
//! the seed's `CIAFFramework`), the export of a model's complete audit trail as a signed
//! bundle, and the deterministic demo lifecycle ([`framework::simulate_ai_lifecycle`]); and
//! the specification's process-wide default policy ([`get_default_policy`],
//! [`set_default_policy`]), which the library crates never read.

pub mod compat;
pub mod framework;
mod policy;

pub use lcm_capsule as capsule;
pub use lcm_crypto as crypto;
pub use lcm_managers as managers;
pub use lcm_model as model;
pub use lcm_store as store;
pub use lcm_tlog as tlog;

pub use crate::policy::{default_policy, get_default_policy, set_default_policy};
