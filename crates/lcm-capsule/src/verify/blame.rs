//! Which record and field a failure names: the blame of a digest mismatch, and record-layer
//! errors as check errors.

use super::*;

/// Which part of a sealed record to blame for a digest mismatch.
pub(super) fn blame(
    path: &str,
    stored: Digest,
    recomputed: Digest,
    refs: &[Option<Digest>],
) -> String {
    let seen = |d: Digest| refs.iter().flatten().any(|r| *r == d);
    if seen(stored) {
        format!("{path}/record")
    } else if seen(recomputed) {
        format!("{path}/digest")
    } else {
        path.to_owned()
    }
}

/// A record-layer verification error as a check error.
pub(super) fn check_error(e: &lcm_model::Error) -> CheckError {
    use lcm_model::Error as M;
    match e {
        M::ChainOrder {
            index,
            expected,
            actual,
            ..
        } => CheckError::ChainOrder {
            index: *index,
            expected: *expected,
            actual: *actual,
        },
        M::ChainGap {
            index,
            expected,
            actual,
            ..
        } => CheckError::ChainGap {
            index: *index,
            expected: *expected,
            actual: *actual,
        },
        M::ChainLink {
            index,
            expected,
            actual,
            ..
        } => CheckError::ChainLink {
            index: *index,
            expected: *expected,
            actual: *actual,
        },
        M::SealMismatch {
            stored, recomputed, ..
        }
        | M::RootMismatch {
            stored, recomputed, ..
        }
        | M::DigestMismatch {
            stored, recomputed, ..
        } => CheckError::DigestMismatch {
            expected: *recomputed,
            actual: *stored,
        },
        M::UnexpectedValue {
            expected, actual, ..
        } => CheckError::ValueMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
        },
        M::EmptyCollection { .. } => CheckError::Missing {
            what: "records in a list that must not be empty",
        },
        other => CheckError::Record(other.to_string()),
    }
}

/// The field an error of a record-layer verifier names, if any.
pub(super) fn error_field(e: &lcm_model::Error) -> Option<&'static str> {
    use lcm_model::Error as M;
    match e {
        M::UnexpectedValue { field, .. } => Some(field),
        M::RootMismatch { root, .. } => Some(root),
        _ => None,
    }
}

/// The position an error of a chain verifier names, if any.
pub(super) fn error_index(e: &lcm_model::Error) -> Option<usize> {
    use lcm_model::Error as M;
    match e {
        M::ChainOrder { index, .. } | M::ChainGap { index, .. } | M::ChainLink { index, .. } => {
            usize::try_from(*index).ok()
        }
        _ => None,
    }
}
