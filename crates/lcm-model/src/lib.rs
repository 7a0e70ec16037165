//! Record and anchor types of `lcm`, their canonical JSON encoding and their digests.
//!
//! - [`canonical`]: the canonical JSON every digest is taken over.
//! - [`Policy`]: the cryptographic choices of a lifecycle, honoured by every digest.
//! - [`Record`], [`Sealed`], [`Claimed`]: a record kind's digest under its domain tag; a record
//!   checked against its digest, and one whose digest a document only claims.
//! - [`Timestamp`], [`Clock`]: RFC 3339 UTC time, injectable for reproducible runs.
//! - [`verify`]: pure recomputation of roots, chains and bindings from records and a policy,
//!   for offline verifiers.
//!
//! Records are plain structs with public fields; parsing rejects unknown fields.

#[cfg(test)]
#[macro_use]
mod assert_matches;

pub mod canonical;
mod error;
pub mod policy;
mod record;
pub mod records;
#[cfg(feature = "schema")]
pub mod schema;
pub mod strict;
mod time;
pub mod verify;

#[cfg(test)]
mod test_support;

pub use crate::canonical::Finite;
pub use crate::error::Error;
pub use crate::policy::{Canonicalization, DomainType, MerkleConstruction, Policy};
pub use crate::record::{Claimed, Record, Seal, Sealed, record_digest};
pub use crate::time::{Clock, FixedClock, SystemClock, Timestamp};

/// Runs `f` (a parse of an input file: a lifecycle or stage file) with the input notations
/// accepted on this thread: any RFC 3339 timestamp ([`Timestamp::accepting_rfc3339`]), and a
/// digest as 64 lowercase hex characters alone or after `sha256:` or `blake3:`
/// ([`lcm_crypto::Digest::accepting_input`]; a bare `artifact_digest` reads as `sha256:`).
/// Records keep their one canonical spelling, and everywhere else only it is read.
///
/// # Examples
///
/// ```
/// use lcm_crypto::Digest;
///
/// let hex = "ab".repeat(32);
/// let prefixed = format!("\"sha256:{hex}\"");
/// assert!(serde_json::from_str::<Digest>(&prefixed).is_err());
/// let d: Digest = lcm_model::reading_input(|| serde_json::from_str(&prefixed))?;
/// assert_eq!(d.to_hex(), hex);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn reading_input<R>(f: impl FnOnce() -> R) -> R {
    Timestamp::accepting_rfc3339(|| lcm_crypto::Digest::accepting_input(f))
}
