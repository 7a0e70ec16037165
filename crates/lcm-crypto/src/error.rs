//! The one error type of `lcm-crypto`.

use crate::Digest;

/// Everything that can go wrong in `lcm-crypto`.
///
/// Variants carry the context a caller needs to say what was expected and what came
/// (`expected`, `actual`, `index`). Failures that involve secrets (MAC tags, commitment
/// openings) are opaque and carry no bytes; mismatches of public values (roots, digests)
/// carry both values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- encoding -----
    /// A digest in an input file that is not 64 lowercase hex characters, alone or after an
    /// algorithm prefix of [`crate::Digest::INPUT_PREFIXES`].
    #[error(
        "expected a digest: 64 lowercase hex characters, alone or after \"sha256:\" or \"blake3:\"; {reason}"
    )]
    InputDigest {
        /// What is wrong with the value given.
        reason: String,
    },
    /// A hex string had the wrong number of characters.
    #[error("expected {expected} hex characters, got {actual}")]
    HexLength {
        /// The number of characters required.
        expected: usize,
        /// The number of characters received.
        actual: usize,
    },
    /// A hex string had an odd number of characters (arbitrary-length decoding).
    #[error("expected an even number of hex characters, got {actual}")]
    HexOddLength {
        /// The number of characters received.
        actual: usize,
    },
    /// A character that is not lowercase hex (`0-9a-f`).
    #[error("expected a lowercase hex character at index {index}, got {character:?}")]
    HexCharacter {
        /// Byte offset of the offending character.
        index: usize,
        /// The character found there.
        character: char,
    },
    /// A byte string had the wrong length.
    #[error("expected {what} of {expected} bytes, got {actual}")]
    Length {
        /// What was being decoded.
        what: &'static str,
        /// The number of bytes required.
        expected: usize,
        /// The number of bytes received.
        actual: usize,
    },
    /// A name that does not denote a known algorithm or scheme.
    #[error("unknown {what} {name:?}, expected one of {expected}")]
    UnknownName {
        /// What kind of name was parsed (`"hash algorithm"`, `"commitment scheme"`, ...).
        what: &'static str,
        /// The name received.
        name: String,
        /// The accepted names, for the message.
        expected: &'static str,
    },

    // ----- Merkle trees -----
    /// An operation that needs at least one leaf was given an empty tree.
    #[error("expected a non-empty tree, got size 0")]
    EmptyTree,
    /// A leaf index is not inside the tree.
    #[error("expected a leaf index below the tree size {size}, got {index}")]
    IndexOutOfRange {
        /// The index received.
        index: u64,
        /// The size of the tree.
        size: u64,
    },
    /// Consistency proof sizes that do not describe an older and a newer tree.
    #[error("expected 0 < size1 <= size2, got size1 = {size1}, size2 = {size2}")]
    ConsistencySizes {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// A proof with the wrong number of hashes for its index and tree size.
    #[error("expected a proof of {expected} hashes, got {actual}")]
    ProofLength {
        /// The number of hashes the shape of the tree requires.
        expected: usize,
        /// The number of hashes received.
        actual: usize,
    },
    /// A tree would hold more leaves than the index type can count.
    #[error("tree size overflow: more than {max} leaves")]
    TreeTooLarge {
        /// The largest supported tree size.
        max: u64,
    },
    /// A root recomputed from a proof differs from the root it was checked against.
    #[error("root mismatch: expected {expected}, computed {actual}")]
    RootMismatch {
        /// The trusted root.
        expected: Digest,
        /// The root recomputed from the proof.
        actual: Digest,
    },
    /// A proof made for one tree size was checked against a root of another size.
    #[error("tree size mismatch: expected {expected}, got {actual}")]
    TreeSizeMismatch {
        /// The size of the trusted root.
        expected: u64,
        /// The size the proof was made for.
        actual: u64,
    },
    /// The two trees of a consistency check were built with different hash algorithms.
    #[error("hash algorithm mismatch: expected {expected}, got {actual}")]
    AlgorithmMismatch {
        /// The algorithm expected.
        expected: crate::HashAlgorithm,
        /// The algorithm found.
        actual: crate::HashAlgorithm,
    },

    // ----- MACs, KDF, commitments -----
    /// A MAC tag did not verify. Carries nothing, on purpose.
    #[error("MAC tag mismatch")]
    MacMismatch,
    /// A commitment did not open with the given opening. Carries nothing, on purpose.
    #[error("commitment does not match its opening")]
    CommitmentMismatch,
    /// An opening made for one commitment scheme was used with another.
    #[error("commitment scheme mismatch: expected {expected}, got {actual}")]
    SchemeMismatch {
        /// The scheme of the commitment.
        expected: &'static str,
        /// The scheme of the opening.
        actual: &'static str,
    },
    /// Key derivation parameters below the supported floor.
    #[error("expected at least {minimum} PBKDF2 iterations, got {actual}")]
    KdfIterations {
        /// The smallest accepted iteration count.
        minimum: u32,
        /// The iteration count received.
        actual: u32,
    },
    /// A password or secret that must not be empty was empty.
    #[error("expected a non-empty {what}")]
    EmptySecret {
        /// What was empty (`"password"`, `"key"`).
        what: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("operating system randomness unavailable")]
    Randomness,

    // ----- signatures -----
    /// Bytes that are not a valid Ed25519 public key.
    #[error("invalid Ed25519 public key")]
    PublicKey,
    /// A PEM key (PKCS#8 private key or SPKI public key, RFC 8410) that does not parse, or
    /// holds a key of another algorithm.
    #[error("expected an Ed25519 {expected} in PEM ({label}): {reason}")]
    KeyPem {
        /// `"private key"` or `"public key"`.
        expected: &'static str,
        /// The PEM label expected (`PRIVATE KEY` or `PUBLIC KEY`).
        label: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A signature that does not verify under the given key and message.
    #[error("signature verification failed")]
    Signature,
    /// A signature made by a key other than the one expected.
    #[error("key id mismatch: expected {expected}, got {actual}")]
    KeyIdMismatch {
        /// The key id of the trusted key.
        expected: crate::KeyId,
        /// The key id of the key that was checked.
        actual: crate::KeyId,
    },
}

/// `bytes` as an array of exactly `N` bytes.
///
/// # Errors
///
/// [`Error::Length`] naming `what` for any other length.
pub(crate) fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], Error> {
    <[u8; N]>::try_from(bytes).map_err(|_| Error::Length {
        what,
        expected: N,
        actual: bytes.len(),
    })
}
