//! Whether one checkpoint extends another: RFC 9162 consistency proofs (through
//! `lcm_crypto::merkle`), classified as extends / same / fork / rollback, and the text form of
//! a consistency proof (one base64 hash per line, as in c2sp.org/tlog-witness).

use std::fmt;

use lcm_crypto::Digest;
use lcm_crypto::merkle::{MAX_CONSISTENCY_PROOF_LEN, empty_root, verify_consistency};

use crate::b64;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, FormatError, VerifyError};

/// How a newer checkpoint relates to an older one of the same origin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Consistency {
    /// The newer tree is larger and the proof shows that the older one is its prefix.
    Extends,
    /// Two trees that cannot both be states of one append-only log.
    Fork(ForkReason),
    /// The newer checkpoint is smaller than the older one.
    Rollback {
        /// The older checkpoint's size.
        old_size: u64,
        /// The newer checkpoint's (smaller) size.
        new_size: u64,
    },
    /// The same size and the same root.
    Same,
}

impl Consistency {
    /// Whether the newer checkpoint is the same tree or extends the older one.
    pub fn is_consistent(&self) -> bool {
        matches!(self, Self::Extends | Self::Same)
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Extends => f.write_str("extends"),
            Self::Fork(reason) => write!(f, "fork: {reason}"),
            Self::Rollback { old_size, new_size } => {
                write!(f, "rollback from size {old_size} to {new_size}")
            }
            Self::Same => f.write_str("same"),
        }
    }
}

/// Why two checkpoints are a fork.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForkReason {
    /// Same size, different roots.
    DifferentRoots {
        /// The older checkpoint's root.
        old: Digest,
        /// The newer checkpoint's root.
        new: Digest,
    },
    /// An older checkpoint of size 0 whose root is not the empty tree's.
    EmptyTreeRoot {
        /// The root it claims.
        actual: Digest,
    },
    /// A proof that does not verify (wrong length or a root that does not come out).
    InvalidProof(lcm_crypto::Error),
    /// Sizes that differ, and no proof to show that one extends the other.
    MissingProof,
}

impl fmt::Display for ForkReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DifferentRoots { old, new } => {
                write!(f, "same size, different roots {old} and {new}")
            }
            Self::EmptyTreeRoot { actual } => {
                write!(
                    f,
                    "a size-0 checkpoint with root {actual}, not the empty tree's"
                )
            }
            Self::InvalidProof(e) => write!(f, "the consistency proof does not verify: {e}"),
            Self::MissingProof => f.write_str("no consistency proof"),
        }
    }
}

/// Classifies `new` against `old` given a consistency proof from `old.size()` to
/// `new.size()`.
///
/// - a smaller `new` is a [`Consistency::Rollback`];
/// - equal sizes are [`Consistency::Same`] with equal roots and a fork otherwise (the proof is
///   not used);
/// - a larger `new` [`Consistency::Extends`] `old` only when the proof verifies. From size 0
///   no proof is needed (the empty tree is a prefix of every tree), but the old root must be
///   the empty tree's.
///
/// This does not panic.
///
/// # Errors
///
/// [`VerifyError::OriginMismatch`] for checkpoints of two different logs: they are neither
/// consistent nor a fork.
pub fn classify(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: Option<&[Digest]>,
) -> Result<Consistency, Error> {
    if old.origin() != new.origin() {
        return Err(VerifyError::OriginMismatch {
            expected: old.origin().to_owned(),
            actual: new.origin().to_owned(),
        }
        .into());
    }
    let (old_size, new_size) = (old.size(), new.size());
    if old_size == 0 && *old.root() != empty_root(lcm_crypto::HashAlgorithm::Sha256) {
        return Ok(Consistency::Fork(ForkReason::EmptyTreeRoot {
            actual: *old.root(),
        }));
    }
    Ok(if new_size < old_size {
        Consistency::Rollback { old_size, new_size }
    } else if new_size == old_size {
        if old.root() == new.root() {
            Consistency::Same
        } else {
            Consistency::Fork(ForkReason::DifferentRoots {
                old: *old.root(),
                new: *new.root(),
            })
        }
    } else if old_size == 0 {
        Consistency::Extends
    } else {
        match proof {
            None => Consistency::Fork(ForkReason::MissingProof),
            Some(path) => {
                match verify_consistency(old_size, new_size, path, old.root(), new.root()) {
                    Ok(()) => Consistency::Extends,
                    Err(e) => Consistency::Fork(ForkReason::InvalidProof(e)),
                }
            }
        }
    })
}

/// [`classify`], accepting only [`Consistency::Extends`] and [`Consistency::Same`].
///
/// This does not panic.
///
/// # Errors
///
/// [`VerifyError::OriginMismatch`], or [`VerifyError::NotExtending`] naming the fork or
/// rollback.
pub fn check_extends(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: Option<&[Digest]>,
) -> Result<Consistency, Error> {
    let outcome = classify(old, new, proof)?;
    if outcome.is_consistent() {
        Ok(outcome)
    } else {
        Err(VerifyError::NotExtending {
            old_size: old.size(),
            new_size: new.size(),
            outcome,
        }
        .into())
    }
}

/// Parses hash lines: each line one base64 SHA-256 hash, ending in a newline (the proof lines
/// of c2sp.org/tlog-witness and c2sp.org/tlog-proof). An empty text is the empty proof.
///
/// # Errors
///
/// [`FormatError::MissingLine`] without the final newline, [`FormatError::TooManyHashes`] above
/// [`MAX_CONSISTENCY_PROOF_LEN`], [`FormatError::Base64`] or [`FormatError::HashLength`].
pub fn parse_hash_lines(text: &str) -> Result<Vec<Digest>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if !text.ends_with('\n') {
        return Err(FormatError::MissingLine {
            expected: "a newline after the last proof hash",
        }
        .into());
    }
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    if lines.len() > MAX_CONSISTENCY_PROOF_LEN {
        return Err(FormatError::TooManyHashes {
            max: MAX_CONSISTENCY_PROOF_LEN,
            actual: lines.len(),
        }
        .into());
    }
    lines
        .into_iter()
        .map(|line| b64::decode_hash("proof hash", line))
        .collect()
}

/// Formats hashes as base64 lines, each ending in a newline.
pub fn format_hash_lines(hashes: &[Digest]) -> String {
    hashes
        .iter()
        .map(|h| format!("{}\n", b64::encode_hash(h)))
        .collect()
}
