//! The one error type of `lcm-model`.

use lcm_crypto::Digest;

/// Everything that can go wrong when building, encoding, parsing or digesting a record.
///
/// Messages name the record and the field involved, so that a failure deep inside a lifecycle
/// says exactly what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// JSON that could not be produced or parsed (malformed input, an unknown field, a wrong
    /// type).
    #[error("json: {0}")]
    Json(#[source] serde_json::Error),
    /// A NaN or infinite number, which has no JSON form.
    #[error("expected a finite number, got {value}")]
    NonFinite {
        /// The offending value as text.
        value: String,
    },
    /// A number field holds a non-finite value.
    #[error("{record}.{field}: expected a finite number, got {value}")]
    NonFiniteField {
        /// The record kind.
        record: &'static str,
        /// The field (a path such as `metrics.loss[3]` where useful).
        field: String,
        /// The offending value as text.
        value: String,
    },
    /// A timestamp that is not `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    #[error("expected an RFC 3339 UTC timestamp like 2026-01-02T03:04:05.678901Z, got {input:?}")]
    Timestamp {
        /// The text received (at most 64 characters of it).
        input: String,
    },
    /// A required string field is empty.
    #[error("{record}.{field}: expected a non-empty string")]
    EmptyField {
        /// The record kind.
        record: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field value outside what the schema allows.
    #[error("{record}.{field}: expected {expected}, got {actual}")]
    InvalidField {
        /// The record kind.
        record: &'static str,
        /// The field.
        field: &'static str,
        /// What the schema allows.
        expected: &'static str,
        /// What was found.
        actual: String,
    },
    /// A stored digest that does not match the digest recomputed from the record.
    #[error("{record}: digest mismatch: stored {stored}, recomputed {recomputed}")]
    DigestMismatch {
        /// The record kind.
        record: &'static str,
        /// The digest the record carried.
        stored: Digest,
        /// The digest recomputed from its content.
        recomputed: Digest,
    },
    /// A policy that cannot be used (for example a KDF cost below the floor).
    #[error("policy.{field}: expected {expected}, got {actual}")]
    Policy {
        /// The policy field.
        field: &'static str,
        /// What is accepted.
        expected: String,
        /// What was found.
        actual: String,
    },
    /// An error from the cryptographic core.
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
    /// A bug: an internal invariant did not hold.
    #[error("internal error: {0}")]
    Unreachable(&'static str),
}
