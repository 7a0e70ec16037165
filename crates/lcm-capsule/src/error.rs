//! The error type of building, signing and parsing capsule documents.

/// Everything that can go wrong when a capsule header, capsule or bundle is built, signed or
/// parsed. Verification failures are not errors of this type: they are the failed checks of a
/// [`Report`](crate::Report), returned in a [`VerificationFailed`](crate::VerificationFailed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A document that does not parse: malformed JSON, an unknown or missing field, a value
    /// of the wrong shape. `path` is the JSON pointer (RFC 6901) of the offending value.
    #[error("{path}: {message}")]
    Parse {
        /// Where the problem is (`""` for the document as a whole).
        path: String,
        /// What serde reported.
        message: String,
    },
    /// A document of a version this library does not read.
    #[error("{path}: expected version {expected}, got {actual:?}")]
    Version {
        /// The version field.
        path: &'static str,
        /// The version this library reads.
        expected: &'static str,
        /// The version found.
        actual: String,
    },
    /// An item that cannot be materialized: an index past the end, a record whose digest is
    /// not the registered one.
    #[error("{what}: expected {expected}, got {actual}")]
    Materialize {
        /// What was asked for.
        what: &'static str,
        /// What was expected.
        expected: String,
        /// What came.
        actual: String,
    },
    /// Records that do not fit together while a header or bundle is assembled.
    #[error("{stage}: {field}: expected {expected}, got {actual}")]
    Inconsistent {
        /// The stage.
        stage: &'static str,
        /// The field.
        field: &'static str,
        /// What was expected.
        expected: String,
        /// What came.
        actual: String,
    },
    /// The storage behind an [`ItemLog`](crate::ItemLog) failed to give what was asked.
    #[error("reading {what}: {message}")]
    Read {
        /// What was read.
        what: &'static str,
        /// What the storage reported.
        message: String,
    },
    /// An error from the record layer (encoding, digests); boxed, as it is large.
    #[error(transparent)]
    Model(Box<lcm_model::Error>),
    /// An error from the cryptographic core.
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
}

/// `Ok` when the document's version field at `path` holds the `expected` version, else
/// [`Error::Version`].
pub(crate) fn version(
    path: &'static str,
    expected: &'static str,
    actual: &str,
) -> Result<(), Error> {
    crate::report::agree(expected, actual, |_, actual| Error::Version {
        path,
        expected,
        actual: crate::report::quoted_version(actual),
    })
}

impl From<lcm_model::Error> for Error {
    fn from(e: lcm_model::Error) -> Self {
        Self::Model(Box::new(e))
    }
}
