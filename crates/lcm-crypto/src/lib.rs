//! The cryptographic core of `lcm`.
//!
//! This crate knows nothing about records or JSON. It provides:
//!
//! - [`Digest`], a full 32-byte hash value with constant-time equality and one strict
//!   lowercase-hex text form;
//! - [`HashAlgorithm`] (SHA-256 or BLAKE3), one-shot [`hash`], streaming [`Hasher`] and
//!   domain-separated hashing ([`hash_domain`]) whose encoding is injective;
//! - [`hex`], the strict hex codec used everywhere in `lcm`.
//!
//! # Features
//!
//! - `parallel` (default): build large Merkle trees on several threads with rayon. Results
//!   are identical with and without it.
//! - `serde`: `Serialize`/`Deserialize` for the public value types. Digests are hex strings in
//!   human-readable formats and raw bytes otherwise.

mod digest;
mod error;
mod hash;
pub mod hex;

pub use crate::digest::Digest;
pub use crate::error::Error;
pub use crate::hash::{DomainHasher, HashAlgorithm, Hasher, hash, hash_domain};
