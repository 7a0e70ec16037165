#![doc = include_str!("../README.md")]
//!
//! # This crate
//!
//! The facade re-exports the member crates: [`crypto`] (`lcm-crypto`), [`model`]
//! (`lcm-model`), [`managers`] (`lcm-managers`) and [`capsule`] (`lcm-capsule`).

pub mod framework;

pub use lcm_capsule as capsule;
pub use lcm_crypto as crypto;
pub use lcm_managers as managers;
pub use lcm_model as model;
