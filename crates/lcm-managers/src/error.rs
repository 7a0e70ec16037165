//! The one error type of `lcm-managers`.

/// Everything a lifecycle manager can refuse.
///
/// A broken link between records (a seal, a chain, a duplicate id, a value the records around it
/// rule out) is an [`Error::Model`], the same error the verifiers of [`lcm_model::verify`]
/// report for it, whichever path found it.
///
/// Every message names the record (by its id) and the field involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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

impl Error {
    /// An [`Error::UnknownReference`]: the `field` of the `kind` record `id` names `reference`,
    /// which this manager does not hold.
    pub(crate) fn unknown_reference(
        kind: &'static str,
        id: impl Into<String>,
        field: &'static str,
        reference: impl Into<String>,
    ) -> Self {
        Self::UnknownReference {
            kind,
            id: id.into(),
            field,
            reference: reference.into(),
        }
    }

    /// An [`lcm_model::Error::UnexpectedValue`]: the `field` of the `kind` record `id` holds
    /// `actual` where `expected` was required.
    pub(crate) fn unexpected(
        kind: &'static str,
        id: impl Into<String>,
        field: &'static str,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self::Model(lcm_model::Error::UnexpectedValue {
            kind,
            id: id.into(),
            field,
            expected: expected.into(),
            actual: actual.into(),
        })
    }
}
