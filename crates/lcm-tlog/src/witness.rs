//! The witness role of c2sp.org/tlog-witness, as pure logic: given the latest checkpoint the
//! witness holds for an origin (or none), a submitted signed checkpoint, the log's key and a
//! consistency proof, decide to cosign or refuse, and return the new state. Keeping that
//! state (atomically, per origin) is the caller's job.
//!
//! # Examples
//!
//! ```
//! use lcm_crypto::{Seed, SigningKey, merkle::MerkleTree};
//! use lcm_tlog::note::{KeyName, SignatureType, SignerKey};
//! use lcm_tlog::{Checkpoint, witness};
//!
//! let log = SignerKey::new(KeyName::new("log.example")?, SignatureType::Ed25519,
//!     SigningKey::from_seed(&Seed::from_bytes([1; 32])));
//! let w = SignerKey::new(KeyName::new("witness.example")?, SignatureType::Cosignature,
//!     SigningKey::from_seed(&Seed::from_bytes([2; 32])));
//! let tree = MerkleTree::from_leaves([b"a", b"b", b"c"]);
//!
//! let first = Checkpoint::new("log.example", 2, tree.root_at(2)?)?.sign(&log)?;
//! let state = witness::cosign(None, &first, &log.verifier(), None, &w, 1_700_000_000)?;
//!
//! let second = Checkpoint::new("log.example", 3, tree.root())?.sign(&log)?;
//! let proof = tree.consistency_proof(2)?;
//! let state = witness::cosign(Some(&state), &second, &log.verifier(), Some(proof.path()), &w, 1_700_000_060)?;
//! assert_eq!(state.checkpoint().size(), 3);
//!
//! // The witness now refuses the older checkpoint.
//! assert!(witness::cosign(Some(&state), &first, &log.verifier(), None, &w, 1_700_000_120).is_err());
//! # Ok::<(), lcm_tlog::Error>(())
//! ```

use lcm_crypto::merkle::{empty_root, verify_consistency};
use lcm_crypto::{Digest, HashAlgorithm};

use crate::checkpoint::{Policy, SignedCheckpoint, parse_decimal, split_checkpoint};
use crate::consistency::{format_hash_lines, parse_hash_lines};
use crate::error::{Error, FormatError, Refusal};
use crate::note::{SignerKey, VerifierKey};

/// Decides whether the witness cosigns `submitted`, and returns the new state: `submitted`
/// with the witness's cosignature added (the checkpoint to store, and to return to the log).
///
/// The checks, in the order of the spec: the log key's signature (unknown signatures are
/// ignored); the origin matches the state's; a size-0 checkpoint has the empty tree's root; no
/// rollback below the held size; at the held size, the same root; above it, a consistency
/// proof from the held size that verifies (none from size 0, or with no state).
///
/// `state` is the witness's own record and is trusted as it is.
///
/// This does not panic.
///
/// # Errors
///
/// [`Refusal`] naming why (`BadSignature`, `OriginMismatch`, `EmptyTreeRoot`, `Rollback`,
/// `Fork`, `MissingProof`, `UnexpectedProof`, `InvalidProof`), or the errors of
/// [`SignedCheckpoint::cosign`] for a witness key that is not a cosignature key.
pub fn cosign(
    state: Option<&SignedCheckpoint>,
    submitted: &SignedCheckpoint,
    log_key: &VerifierKey,
    proof: Option<&[Digest]>,
    witness: &SignerKey,
    timestamp: u64,
) -> Result<SignedCheckpoint, Error> {
    check(state, submitted, log_key, proof)?;
    let mut cosigned = submitted.clone();
    cosigned.cosign(witness, timestamp)?;
    Ok(cosigned)
}

/// The checks of [`cosign`] without signing.
///
/// This does not panic.
///
/// # Errors
///
/// As [`cosign`].
pub fn check(
    state: Option<&SignedCheckpoint>,
    submitted: &SignedCheckpoint,
    log_key: &VerifierKey,
    proof: Option<&[Digest]>,
) -> Result<(), Refusal> {
    Policy::new(log_key.clone())
        .verify(submitted)
        .map_err(Refusal::BadSignature)?;
    let new = submitted.checkpoint();
    if new.size() == 0 && *new.root() != empty_root(HashAlgorithm::Sha256) {
        return Err(Refusal::EmptyTreeRoot {
            actual: *new.root(),
        });
    }
    let proof = proof.unwrap_or(&[]);
    let Some(held) = state.map(SignedCheckpoint::checkpoint) else {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Refusal::UnexpectedProof {
                actual: proof.len(),
            })
        };
    };
    if held.origin() != new.origin() {
        return Err(Refusal::OriginMismatch {
            held: held.origin().to_owned(),
            submitted: new.origin().to_owned(),
        });
    }
    let (old_size, new_size) = (held.size(), new.size());
    if new_size < old_size {
        return Err(Refusal::Rollback {
            held: old_size,
            submitted: new_size,
        });
    }
    if old_size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Refusal::UnexpectedProof {
                actual: proof.len(),
            })
        };
    }
    if new_size == old_size {
        return if held.root() == new.root() {
            Ok(())
        } else {
            Err(Refusal::Fork {
                size: new_size,
                held: *held.root(),
                submitted: *new.root(),
            })
        };
    }
    if proof.is_empty() {
        return Err(Refusal::MissingProof { old_size, new_size });
    }
    verify_consistency(old_size, new_size, proof, held.root(), new.root()).map_err(|source| {
        Refusal::InvalidProof {
            old_size,
            new_size,
            source,
        }
    })
}

/// An `add-checkpoint` request body (c2sp.org/tlog-witness): `old <size>`, zero or more
/// base64 consistency proof lines, an empty line, and the signed checkpoint.
///
/// It is also a convenient file form for "this checkpoint, and the proof that it extends the
/// one of size `old_size`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the proof starts from.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Digest>,
    /// The signed checkpoint.
    pub checkpoint: SignedCheckpoint,
}

/// The most proof lines a request may carry (the spec: "MUST NOT send more than 63").
pub const MAX_REQUEST_PROOF_LINES: usize = 63;

impl AddCheckpoint {
    /// Parses a request body.
    ///
    /// # Errors
    ///
    /// [`FormatError::UnexpectedLine`] or [`FormatError::Number`] for the `old` line,
    /// [`FormatError::MissingLine`] without the empty line, [`FormatError::TooManyHashes`]
    /// above 63 proof lines, the errors of base64 hashes, and those of
    /// [`SignedCheckpoint::parse`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let (head, checkpoint) = split_checkpoint(bytes)?;
        let (old, proof) = head.split_once('\n').unwrap_or((head, ""));
        let size = old
            .strip_prefix("old ")
            .ok_or_else(|| FormatError::UnexpectedLine {
                expected: "old <size>",
                text: old.chars().take(100).collect(),
            })?;
        let old_size = parse_decimal("an old size", size)?;
        let proof = if proof.is_empty() {
            Vec::new()
        } else {
            let lines = proof.split('\n').count();
            if lines > MAX_REQUEST_PROOF_LINES {
                return Err(FormatError::TooManyHashes {
                    max: MAX_REQUEST_PROOF_LINES,
                    actual: lines,
                }
                .into());
            }
            parse_hash_lines(&format!("{proof}\n"))?
        };
        let checkpoint = SignedCheckpoint::parse(checkpoint.as_bytes())?;
        Ok(Self {
            old_size,
            proof,
            checkpoint,
        })
    }

    /// The request body.
    pub fn to_text(&self) -> String {
        format!(
            "old {}\n{}\n{}",
            self.old_size,
            format_hash_lines(&self.proof),
            self.checkpoint
        )
    }

    /// Handles the request as a witness: the old size must be the size of the held
    /// checkpoint (0 with none), then as [`cosign`].
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Refusal::OldSizeMismatch`] (409, with the held size) or
    /// [`Refusal::UnexpectedProof`] for a proof from size 0, and the errors of [`cosign`].
    pub fn cosign(
        &self,
        state: Option<&SignedCheckpoint>,
        log_key: &VerifierKey,
        witness: &SignerKey,
        timestamp: u64,
    ) -> Result<SignedCheckpoint, Error> {
        let held = state.map_or(0, |s| s.checkpoint().size());
        if self.old_size != held {
            return Err(Refusal::OldSizeMismatch {
                held,
                claimed: self.old_size,
            }
            .into());
        }
        cosign(
            state,
            &self.checkpoint,
            log_key,
            Some(&self.proof),
            witness,
            timestamp,
        )
    }
}
