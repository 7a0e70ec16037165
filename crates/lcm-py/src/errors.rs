//! The Python exceptions and the mapping of the crates' errors onto them.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    lcm,
    Error,
    PyException,
    "The base of every error lcm raises."
);
create_exception!(
    lcm,
    VerificationError,
    Error,
    "A check failed: a signature, digest, link, proof or requirement does not hold. \
     `.report` holds every check that ran (None when the failure is not a verifier's report)."
);
create_exception!(
    lcm,
    InputError,
    Error,
    "Malformed input: a document, request, argument or file that lcm cannot use as given."
);
create_exception!(
    lcm,
    StoreError,
    Error,
    "The store's backend failed, or the store holds something this build cannot read."
);

/// An [`InputError`] with `message`.
pub(crate) fn input(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// The exception for a store error: a failed verification of stored records is a
/// [`VerificationError`], a backend failure a [`StoreError`], anything else an [`InputError`].
pub(crate) fn store_err(e: lcm_store::Error) -> PyErr {
    let message = e.to_string();
    if e.is_verification_failure() {
        return VerificationError::new_err(message);
    }
    let mut cause = &e;
    while let lcm_store::Error::Interrupted { source, .. } = cause {
        cause = source;
    }
    match cause {
        lcm_store::Error::Sqlite(_)
        | lcm_store::Error::Corrupt { .. }
        | lcm_store::Error::TooNew { .. }
        | lcm_store::Error::Crypto(_)
        | lcm_store::Error::NotUtf8
        | lcm_store::Error::Parse { .. } => StoreError::new_err(message),
        _ => InputError::new_err(message),
    }
}

/// The exception for a failed integrity check of a store.
pub(crate) fn check_err(e: lcm_store::check::Failure) -> PyErr {
    match e {
        lcm_store::check::Failure::Database(inner) => {
            StoreError::new_err(format!("stage database: {inner}"))
        }
        other => VerificationError::new_err(other.to_string()),
    }
}

/// The exception for a fingerprint error: unreadable files are input errors.
pub(crate) fn fingerprint_err(e: lcm_store::fingerprint::Error) -> PyErr {
    input(e.to_string())
}
