//! The one error type of `lcm-managers`.

/// Everything a lifecycle manager can refuse.
///
/// Every message names the record (by its id) and the field involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record id that is already taken.
    #[error("{kind} {id:?} already exists")]
    DuplicateId {
        /// The record kind.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A reference to a record this manager does not know.
    #[error("{kind} {id:?}: unknown {field} reference {reference:?}")]
    UnknownReference {
        /// The kind of the referring record.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The referring field.
        field: &'static str,
        /// The reference that could not be resolved.
        reference: String,
    },
    /// A reference to a known record that is not authorized here.
    #[error("{kind} {id:?}: {field} reference {reference:?} is not authorized")]
    Unauthorized {
        /// The kind of the referring record.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The referring field.
        field: &'static str,
        /// The reference.
        reference: String,
    },
    /// A required string is empty.
    #[error("{kind} {id:?}: {field} must not be empty")]
    Empty {
        /// The record kind.
        kind: &'static str,
        /// Its id (may itself be the empty field).
        id: String,
        /// The field.
        field: &'static str,
    },
    /// A value outside what the lifecycle allows (a non-increasing checkpoint step, a NaN
    /// metric, a second completion, ...).
    #[error("{kind} {id:?}: {field}: expected {expected}, got {actual}")]
    Invalid {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The field.
        field: &'static str,
        /// What is allowed.
        expected: String,
        /// What was found.
        actual: String,
    },
    /// The same record appears in two dataset splits (train/test leakage).
    #[error(
        "dataset family {family:?}: record {record:?} is in both the {first} and {second} splits"
    )]
    OverlappingSplits {
        /// The dataset family.
        family: String,
        /// A record id present in both splits.
        record: String,
        /// One split.
        first: String,
        /// The other split.
        second: String,
    },
    /// An operation on an empty collection that needs at least one element.
    #[error("{kind} {id:?}: {field} is empty")]
    EmptyCollection {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The empty collection.
        field: &'static str,
    },
    /// A master password that does not reproduce the stored anchor.
    #[error("{kind} {id:?}: wrong master password")]
    WrongPassword {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The policy forbids this record kind.
    #[error("the policy does not allow {domain} records")]
    DomainNotAllowed {
        /// The record domain.
        domain: &'static str,
    },
    /// A stored digest that does not match the digest recomputed from the record.
    #[error("{kind} {id:?}: digest mismatch: stored {stored}, recomputed {recomputed}")]
    DigestMismatch {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The digest the record carried.
        stored: lcm_crypto::Digest,
        /// The digest recomputed from its content.
        recomputed: lcm_crypto::Digest,
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
        expected: Option<lcm_crypto::Digest>,
        /// The link the record carries.
        actual: Option<lcm_crypto::Digest>,
    },
    /// A chained record whose sequence number is not greater than its predecessor's (reordered
    /// or repeated records).
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
    /// A record id listed twice within one dataset split.
    #[error("dataset family {family:?}: record {record:?} appears twice in the {split} split")]
    DuplicateRecord {
        /// The dataset family.
        family: String,
        /// The split.
        split: String,
        /// The repeated record id.
        record: String,
    },
    /// A NaN or infinite metric value.
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
    /// A record that may be completed only once was completed again, or changed after it.
    #[error("{kind} {id:?} is already completed")]
    AlreadyCompleted {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// An operation that needs a completed record (for example a training session root).
    #[error("{kind} {id:?} is not completed yet")]
    NotCompleted {
        /// The record kind.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// A lookup by id that found nothing.
    #[error("{kind} {id:?} not found")]
    NotFound {
        /// The record kind.
        kind: &'static str,
        /// The id looked up.
        id: String,
    },
    /// An error from the record layer.
    #[error(transparent)]
    Model(#[from] lcm_model::Error),
    /// An error from the cryptographic core.
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
}

/// A chain link for messages: the digest, or `none (start of chain)`.
fn show_link(link: &Option<lcm_crypto::Digest>) -> String {
    match link {
        Some(d) => d.to_string(),
        None => "none (start of chain)".to_owned(),
    }
}
