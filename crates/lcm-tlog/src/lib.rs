//! C2SP transparency-log formats for `lcm`, pure and store-independent:
//!
//! - [`note`]: c2sp.org/signed-note — notes, key names and ids, verifier keys
//!   (`name+hex8(id)+base64(type||key)`), signer keys (`PRIVATE+KEY+...`), Ed25519 note
//!   signatures, and verification of notes with several signatures (unknown keys ignored, a
//!   failing known key rejects, at least one known key must verify), within size and count
//!   limits;
//! - [`Checkpoint`], [`SignedCheckpoint`] and [`Policy`]: c2sp.org/tlog-checkpoint, verified
//!   against a log key and a quorum of witnesses;
//! - [`cosignature`]: c2sp.org/tlog-cosignature, timestamped Ed25519 cosignatures (type
//!   0x04);
//! - [`consistency`]: whether one checkpoint extends another, through an RFC 6962/9162
//!   consistency proof checked by `lcm_crypto::merkle` ([`Consistency`]: extends, same, fork
//!   or rollback);
//! - [`witness`]: the c2sp.org/tlog-witness decision to cosign or refuse, as a function from
//!   the held state to the new one;
//! - [`proof`]: c2sp.org/tlog-proof files and their offline verification;
//! - [`tiles`]: c2sp.org/tlog-tiles paths and entry bundles, and roots and proofs computed
//!   from `O(log n)` stored hashes, so that a store keeps tiles and never rebuilds its tree.
//!
//! Nothing here touches a file, a clock or a database: the caller passes the time of a
//! cosignature and keeps the witness state.
//!
//! # Examples
//!
//! A log signs a checkpoint, a witness cosigns it, and a client verifies the checkpoint with
//! the log key and a quorum of one witness, then an inclusion proof into it:
//!
//! ```
//! use lcm_crypto::{Seed, SigningKey, merkle::MerkleTree};
//! use lcm_tlog::note::{KeyName, SignatureType, SignerKey};
//! use lcm_tlog::proof::TlogProof;
//! use lcm_tlog::{Checkpoint, Policy, witness};
//!
//! let log = SignerKey::new(KeyName::new("log.example/a")?, SignatureType::Ed25519,
//!     SigningKey::from_seed(&Seed::from_bytes([1; 32])));
//! let w1 = SignerKey::new(KeyName::new("witness.example/1")?, SignatureType::Cosignature,
//!     SigningKey::from_seed(&Seed::from_bytes([2; 32])));
//!
//! let tree = MerkleTree::from_leaves([b"r0", b"r1", b"r2"]);
//! let signed = Checkpoint::new("log.example/a", 3, tree.root())?.sign(&log)?;
//! let cosigned = witness::cosign(None, &signed, &log.verifier(), None, &w1, 1_700_000_000)?;
//!
//! let policy = Policy::new(log.verifier()).with_witnesses(vec![w1.verifier()], 1);
//! let verified = policy.verify(&cosigned)?;
//! assert_eq!(verified.witnesses()[0].timestamp, Some(1_700_000_000));
//!
//! let proof = TlogProof {
//!     extra: None,
//!     index: 1,
//!     path: tree.inclusion_proof(1)?.into_path(),
//!     checkpoint: cosigned,
//! };
//! let parsed = TlogProof::parse(proof.to_text().as_bytes())?;
//! parsed.verify(&tree.leaf_hash(1)?, &policy)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! One [`Error`] with nested kinds: [`FormatError`] (malformed text), [`VerifyError`] (well
//! formed, does not verify) and [`Refusal`] (a witness will not cosign).

#![forbid(unsafe_code)]

mod b64;
mod checkpoint;
mod error;

pub mod consistency;
pub mod cosignature;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod witness;

pub use crate::checkpoint::{Checkpoint, Policy, SignedCheckpoint, VerifiedCheckpoint};
pub use crate::consistency::{Consistency, ForkReason};
pub use crate::error::{Error, FormatError, Refusal, VerifyError};
