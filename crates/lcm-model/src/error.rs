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
    /// A timestamp in an input file that is not RFC 3339 (`Timestamp::parse_rfc3339`).
    #[error(
        "expected an RFC 3339 timestamp: YYYY-MM-DDTHH:MM:SS, optionally a fraction of 1 to 9 \
         digits, then Z or an offset +HH:MM or -HH:MM (for example 2026-12-06T18:30:00Z), got \
         {input:?}"
    )]
    Rfc3339 {
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
    /// A chained record whose sequence number skips ahead (records missing before it).
    #[error(
        "{kind} {id:?} at position {index}: records missing: expected sequence {expected}, got {actual}"
    )]
    ChainGap {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Its position in the list checked.
        index: u64,
        /// The sequence number that should come here.
        expected: u64,
        /// The sequence number found.
        actual: u64,
    },
    /// A chained record whose link to the previous record is not that record's digest.
    #[error(
        "{kind} {id:?} at position {index}: expected previous digest {}, got {}",
        show_link(.expected),
        show_link(.actual)
    )]
    ChainLink {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Its position in the list checked.
        index: u64,
        /// The previous record's digest (`None`: the start of a chain).
        expected: Option<Digest>,
        /// The link the record carries.
        actual: Option<Digest>,
    },
    /// A chained record whose sequence number is not greater than its predecessor's (reordered
    /// or repeated records), or a checkpoint whose index is not its position.
    #[error(
        "{kind} {id:?} at position {index}: out of order: expected sequence {expected}, got {actual}"
    )]
    ChainOrder {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Its position in the list checked.
        index: u64,
        /// The sequence number that should come here.
        expected: u64,
        /// The sequence number found.
        actual: u64,
    },
    /// A record that appears twice in a list that must hold each record once (the same receipt
    /// digest twice in a chain).
    #[error("{kind} {id:?} already exists")]
    DuplicateId {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// A list that must hold at least one element is empty (a receipt chain, a status history,
    /// a batch).
    #[error("{kind} {id:?}: {field} is empty")]
    EmptyCollection {
        /// The record kind.
        kind: &'static str,
        /// Its id (empty when the list has no owner, as for a bare receipt chain).
        id: String,
        /// The empty collection.
        field: &'static str,
    },
    /// A NaN or infinite metric value in a record that is being verified.
    #[error("{kind} {id:?}: metric {metric:?}: expected a finite number, got {value}")]
    NonFiniteMetric {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The metric's name.
        metric: String,
        /// The offending value as text.
        value: String,
    },
    /// A stored root or aggregate digest (a release root, a split's records root, contents
    /// root or assignment digest) that is not the one recomputed from what it covers.
    #[error("{root} {id:?}: digest mismatch: stored {stored}, recomputed {recomputed}")]
    RootMismatch {
        /// The root, named by its record and field: `release root`, `split records_root`,
        /// `split contents_root` or `split assignment_digest`.
        root: &'static str,
        /// The id of the record holding the root.
        id: String,
        /// The root the record carries.
        stored: Digest,
        /// The root recomputed from the covered values.
        recomputed: Digest,
    },
    /// A sealed record whose stored digest is not the digest of its content (an edited
    /// record), named by kind and id.
    #[error("{kind} {id:?}: digest mismatch: stored {stored}, recomputed {recomputed}")]
    SealMismatch {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The digest the record carried.
        stored: Digest,
        /// The digest recomputed from its content.
        recomputed: Digest,
    },
    /// A field of a record that is being verified holds a value the records around it rule
    /// out: a digest binding to the wrong record (a checkpoint's or snapshot's `session`, a
    /// snapshot's `checkpoint_head` or `metrics_digest`, an event's `deployment`), a
    /// non-increasing checkpoint step, a snapshot count that is not the number of
    /// checkpoints, a first status event that is not `deployed`, ...
    #[error("{kind} {id:?}: {field}: expected {expected}, got {actual}")]
    UnexpectedValue {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The field.
        field: &'static str,
        /// What the other records require.
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

/// A chain link for messages: the digest, or `none (start of chain)`.
fn show_link(link: &Option<Digest>) -> String {
    match link {
        Some(d) => d.to_string(),
        None => "none (start of chain)".to_owned(),
    }
}
