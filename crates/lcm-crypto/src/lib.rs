//! The cryptographic core of `lcm`.
//!
//! This crate knows nothing about records or JSON. It provides:
//!
//! - [`Digest`], a full 32-byte hash value with constant-time equality and one strict
//!   lowercase-hex text form;
//! - [`HashAlgorithm`] (SHA-256 or BLAKE3), one-shot [`hash`], streaming [`Hasher`] and
//!   domain-separated hashing ([`hash_domain`]) whose encoding is injective;
//! - [`hex`], the strict hex codec used everywhere in `lcm`;
//! - [`MacKey`] and [`MacTag`]: HMAC-SHA256 (keyed BLAKE3 under the BLAKE3 policy) on
//!   precomputed pad states, verified in constant time;
//! - [`MasterKey`], [`Pbkdf2Params`] and [`Salt`]: PBKDF2-HMAC-SHA256 from a master password
//!   (slow on purpose), then labelled sub-keys with HKDF-SHA256 expand;
//! - [`Committer`], [`Commitment`] and [`Opening`]: full 32-byte commitments (HMAC, salted,
//!   plaintext) that an auditor can open one record at a time;
//! - [`SigningKey`], [`VerifyingKey`], [`Signature`] and [`KeyId`]: Ed25519 (RFC 8032);
//! - [`RandomSource`] with [`OsRandom`] and the deterministic [`SeededRandom`], and the secret
//!   [`Seed`];
//! - [`merkle`], RFC 9162 Merkle trees, inclusion and consistency proofs and an append-only
//!   accumulator.
//!
//! # Features
//!
//! - `parallel` (default): build large Merkle trees on several threads with rayon. Results
//!   are identical with and without it.
//! - `serde`: `Serialize`/`Deserialize` for the public value types. Digests are hex strings in
//!   human-readable formats and raw bytes otherwise.

mod commit;
mod digest;
mod error;
mod hash;
mod kdf;
mod mac;
mod random;
mod sign;

pub mod hex;

pub mod merkle;

pub use crate::commit::{Commitment, CommitmentScheme, Committer, Opening, RevealedOpening};
pub use crate::digest::{Digest, with_thread_flag};
pub use crate::error::Error;
pub use crate::hash::{DomainHasher, HashAlgorithm, Hasher, hash, hash_domain};
pub use crate::kdf::{MasterKey, Pbkdf2Params, Salt};
pub use crate::mac::{MacKey, MacTag};
pub use crate::random::{OsRandom, RandomSource, Seed, SeededRandom, fill_random};
pub use crate::sign::{KeyId, Signature, SigningKey, VerifyingKey};

/// The SHA-256 initial chaining value (FIPS 180-4 §5.3.3), the state every SHA-256 hash here
/// starts from; public for the benches that time the raw compression function against it.
pub const SHA256_IV: [u32; 8] = mac::IV;
