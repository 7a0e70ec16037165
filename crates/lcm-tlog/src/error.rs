//! The one error type of `lcm-tlog`, with its nested kinds: [`FormatError`] for text that is
//! not what a C2SP format allows, [`VerifyError`] for well-formed input that does not verify,
//! and [`Refusal`] for a witness that will not cosign.

use lcm_crypto::Digest;

use crate::note::KeyId;

/// Everything that can go wrong in `lcm-tlog`.
///
/// A caller that maps errors to exit codes treats [`Error::Format`] (and [`Error::Crypto`] from
/// a key or tile computation) as malformed input, and [`Error::Verify`] and [`Error::Refused`]
/// as input that is well formed but does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from `lcm-crypto`: a public key that is not a valid Ed25519 point, or a Merkle
    /// computation asked for an impossible index or size.
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
    /// Text that the C2SP format does not allow.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A witness refused to cosign a checkpoint.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A well-formed note, checkpoint or proof that does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Text that a C2SP format (signed note, key, checkpoint, tlog-proof, tile path) does not
/// allow. Parsers are strict: they accept exactly the text that the formatters write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Bytes that are not standard, canonically padded base64.
    #[error("expected standard base64 for {what}, got {text:?}")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
        /// The text received.
        text: String,
    },
    /// A line of a checkpoint or proof that must not be empty was empty.
    #[error("expected a non-empty {what} line, got an empty line")]
    EmptyLine {
        /// Which line.
        what: &'static str,
    },
    /// An entry bundle that does not decode into length-prefixed entries.
    #[error(
        "expected an entry bundle of uint16 length-prefixed entries, it ends inside entry {index}"
    )]
    EntryBundle {
        /// The 0-based number of the truncated entry.
        index: usize,
    },
    /// A hash (root or proof hash) that is not 32 bytes.
    #[error("expected a {what} of 32 bytes, got {actual}")]
    HashLength {
        /// Which hash.
        what: &'static str,
        /// The number of bytes decoded.
        actual: usize,
    },
    /// A key that does not have the `+`-separated fields of its form.
    #[error("expected {expected}, got {actual} '+'-separated fields")]
    KeyFields {
        /// The form expected.
        expected: &'static str,
        /// The number of fields found.
        actual: usize,
    },
    /// A key id field that is not exactly 8 lowercase hex characters.
    #[error("expected a key id of 8 lowercase hex characters, got {text:?}")]
    KeyIdHex {
        /// The text received.
        text: String,
    },
    /// A key whose id field is not the id its name, type and public key give.
    #[error(
        "key id mismatch: the key's name, type and public key give {expected}, the key says {actual}"
    )]
    KeyIdMismatch {
        /// The id computed from the key.
        expected: KeyId,
        /// The id written in the key.
        actual: KeyId,
    },
    /// Key material of the wrong length for its signature type.
    #[error("expected {expected} bytes of key material, got {actual}")]
    KeyLength {
        /// The length the signature type needs.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// A key name that is empty or contains a Unicode space or `+`.
    #[error("expected a non-empty key name without spaces or '+', got {name:?}")]
    KeyName {
        /// The name received.
        name: String,
    },
    /// A line that is missing where the format needs one.
    #[error("expected {expected}, got the end of the input")]
    MissingLine {
        /// What was expected.
        expected: &'static str,
    },
    /// A note without the blank line that separates its text from its signatures.
    #[error("expected a blank line between the note text and its signatures, found none")]
    NoSignatureBlock,
    /// A note that contains an ASCII control character other than newline.
    #[error(
        "expected no control characters other than newline, got byte 0x{byte:02x} at index {index}"
    )]
    NoteControlCharacter {
        /// The byte offset.
        index: usize,
        /// The byte.
        byte: u8,
    },
    /// A note that is not valid UTF-8.
    #[error("expected a UTF-8 note, got invalid UTF-8 at index {index}")]
    NoteEncoding {
        /// The byte offset of the first invalid sequence.
        index: usize,
    },
    /// A note that does not end with a newline.
    #[error("expected the note to end with a newline")]
    NoteEnd,
    /// A note longer than [`MAX_NOTE_LEN`](crate::note::MAX_NOTE_LEN).
    #[error("expected a note of at most {max} bytes, got {actual}")]
    NoteTooLarge {
        /// The limit.
        max: usize,
        /// The length received.
        actual: usize,
    },
    /// A decimal number (tree size, index, old size, tile level or width, timestamp) that is
    /// not ASCII digits without leading zeros, or is out of range.
    #[error("expected {what} as a decimal number without leading zeros, got {text:?}")]
    Number {
        /// Which number.
        what: &'static str,
        /// The text received.
        text: String,
    },
    /// A signature too short for its key id and at least one byte, or of the wrong length for
    /// its type.
    #[error("expected a signature of {expected} bytes, got {actual}")]
    SignatureLength {
        /// The length required (a minimum of 5 for an unknown key).
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// A signature line that does not read `— <name> <base64>`.
    #[error("expected signature line {line} to read \"— <key name> <base64>\", got {text:?}")]
    SignatureLine {
        /// The 1-based number of the line within the signature block.
        line: usize,
        /// The line.
        text: String,
    },
    /// A signature type byte this crate does not implement.
    #[error("expected signature type 0x01 (Ed25519) or 0x04 (cosignature), got 0x{actual:02x}")]
    SignatureType {
        /// The type byte found.
        actual: u8,
    },
    /// A tile path that is not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    #[error("expected a tile path tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], got {path:?}")]
    TilePath {
        /// The path received.
        path: String,
    },
    /// A cosignature timestamp above `2^63 - 1`.
    #[error("expected a cosignature timestamp of at most 2^63 - 1, got {actual}")]
    Timestamp {
        /// The timestamp found.
        actual: u64,
    },
    /// More proof hashes than any tree of up to `2^64 - 1` leaves needs.
    #[error("expected at most {max} proof hashes, got {actual}")]
    TooManyHashes {
        /// The limit.
        max: usize,
        /// The number found.
        actual: usize,
    },
    /// More signatures than [`MAX_SIGNATURES`](crate::note::MAX_SIGNATURES).
    #[error("expected at most {max} signatures, got more")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A line that is not the one the format has at that place.
    #[error("expected {expected}, got {text:?}")]
    UnexpectedLine {
        /// What was expected.
        expected: &'static str,
        /// The line found.
        text: String,
    },
    /// A signer key of the wrong type for the operation.
    #[error("expected a key of signature type 0x{expected:02x}, got 0x{actual:02x}")]
    WrongKeyType {
        /// The type the operation needs.
        expected: u8,
        /// The type of the key given.
        actual: u8,
    },
}

/// A well-formed note, checkpoint, cosignature or proof that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signature from a known key (same name and key id) that does not verify: the whole
    /// note is rejected.
    #[error("invalid signature for key {name}+{key_id}")]
    BadSignature {
        /// The key name.
        name: String,
        /// The key id.
        key_id: KeyId,
    },
    /// An inclusion proof that does not bind the leaf hash to the checkpoint's root.
    #[error("inclusion proof does not verify: {0}")]
    Inclusion(#[source] lcm_crypto::Error),
    /// A note that verified with known keys, but not with the log's.
    #[error("expected a signature by the log key {name}+{key_id}, found none")]
    LogSignatureMissing {
        /// The log key's name.
        name: String,
        /// The log key's id.
        key_id: KeyId,
    },
    /// A note with no signature from any known key.
    #[error("expected a signature from a known key, found none")]
    NoKnownSignature,
    /// A newer checkpoint that does not extend an older one.
    #[error("checkpoint of size {new_size} does not extend the one of size {old_size}: {outcome}")]
    NotExtending {
        /// The older size.
        old_size: u64,
        /// The newer size.
        new_size: u64,
        /// Why: a fork or a rollback.
        outcome: crate::Consistency,
    },
    /// Checkpoints of two different logs.
    #[error("origin mismatch: expected {expected:?}, got {actual:?}")]
    OriginMismatch {
        /// The origin expected.
        expected: String,
        /// The origin found.
        actual: String,
    },
    /// Fewer verified witness cosignatures than the quorum.
    #[error("expected cosignatures of at least {required} known witnesses, got {actual}")]
    Quorum {
        /// The quorum K.
        required: usize,
        /// The number of distinct known witnesses whose cosignature verified.
        actual: usize,
    },
}

/// Why a witness refused to cosign a checkpoint (c2sp.org/tlog-witness `add-checkpoint`).
///
/// Each variant names the HTTP status the spec gives it, so a server can answer with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The checkpoint is not signed by the log key (403).
    #[error("refused: the checkpoint's log signature does not verify: {0}")]
    BadSignature(#[source] VerifyError),
    /// A checkpoint of size 0 whose root is not the empty tree's (422).
    #[error("refused: a checkpoint of size 0 must have the empty tree's root, got {actual}")]
    EmptyTreeRoot {
        /// The root found.
        actual: Digest,
    },
    /// Same size as the witness's latest checkpoint, different root: a fork (422).
    #[error("refused: fork at size {size}: the witness holds root {held}, got {submitted}")]
    Fork {
        /// The common size.
        size: u64,
        /// The root the witness holds.
        held: Digest,
        /// The root submitted.
        submitted: Digest,
    },
    /// A consistency proof that does not verify from the witness's checkpoint (422).
    #[error(
        "refused: consistency proof from size {old_size} to {new_size} does not verify: {source}"
    )]
    InvalidProof {
        /// The witness's size.
        old_size: u64,
        /// The submitted size.
        new_size: u64,
        /// What failed.
        source: lcm_crypto::Error,
    },
    /// A larger checkpoint without the consistency proof from the witness's size (422).
    #[error("refused: a consistency proof from size {old_size} to {new_size} is required")]
    MissingProof {
        /// The witness's size.
        old_size: u64,
        /// The submitted size.
        new_size: u64,
    },
    /// A request whose old size is not the size of the witness's latest checkpoint (409);
    /// the client should retry from `held`.
    #[error("refused: the request is from size {claimed}, the witness holds size {held}")]
    OldSizeMismatch {
        /// The size the witness holds (0 when it holds none).
        held: u64,
        /// The old size of the request.
        claimed: u64,
    },
    /// A checkpoint of another origin than the witness's state (404 for an unknown log).
    #[error("refused: the witness holds origin {held:?}, got {submitted:?}")]
    OriginMismatch {
        /// The origin of the witness's state.
        held: String,
        /// The origin submitted.
        submitted: String,
    },
    /// A smaller checkpoint than the witness's latest (400: old size above the checkpoint
    /// size).
    #[error("refused: rollback from size {held} to {submitted}")]
    Rollback {
        /// The witness's size.
        held: u64,
        /// The submitted size.
        submitted: u64,
    },
    /// A non-empty consistency proof from the empty tree (422).
    #[error("refused: a proof from size 0 must be empty, got {actual} hashes")]
    UnexpectedProof {
        /// The number of hashes sent.
        actual: usize,
    },
}
