#![doc = include_str!("../README.md")]
//!
//! # This crate
//!
//! The facade re-exports the member crates: [`crypto`] (`lcm-crypto`), [`model`]
//! (`lcm-model`), [`managers`] (`lcm-managers`) and [`capsule`] (`lcm-capsule`), and has one
//! entry point of its own, [`framework`]: a project's managers behind one value
//! ([`framework::Project`], the seed's `CIAFFramework`), the export of a model's complete
//! audit trail as a signed bundle, and the deterministic demo lifecycle
//! ([`framework::simulate_ai_lifecycle`]).

pub mod compat;
pub mod framework;

pub use lcm_capsule as capsule;
pub use lcm_crypto as crypto;
pub use lcm_managers as managers;
pub use lcm_model as model;
