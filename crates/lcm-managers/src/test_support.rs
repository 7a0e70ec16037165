//! Helpers shared by the unit tests of every manager.

use std::fmt::Debug;

use crate::Error;

/// The `(id, actual)` of the [`lcm_model::Error::UnexpectedValue`] in `field` that `result`
/// must be (a manager's [`Error::Model`], or a verifier's own error); panics with whatever came
/// instead.
#[track_caller]
pub(crate) fn unexpected_value<T: Debug, E>(result: Result<T, E>, field: &str) -> (String, String)
where
    Error: From<E>,
{
    match result.map_err(Error::from) {
        Err(Error::Model(lcm_model::Error::UnexpectedValue {
            field: f,
            id,
            actual,
            ..
        })) if f == field => (id, actual),
        other => panic!("expected an unexpected {field}, got {other:?}"),
    }
}

/// Asserts that `result` is the [`lcm_model::Error::SealMismatch`] of a `kind` record.
#[track_caller]
pub(crate) fn seal_mismatch<T: Debug, E>(result: Result<T, E>, kind: &str)
where
    Error: From<E>,
{
    match result.map_err(Error::from) {
        Err(Error::Model(lcm_model::Error::SealMismatch { kind: k, .. })) if k == kind => {}
        other => panic!("expected a {kind} seal mismatch, got {other:?}"),
    }
}

/// Asserts that `result` is the [`Error::Empty`] of `field`.
#[track_caller]
pub(crate) fn empty_field<T: Debug>(result: Result<T, Error>, field: &str) {
    match result {
        Err(Error::Empty { field: f, .. }) if f == field => {}
        other => panic!("expected an empty {field}, got {other:?}"),
    }
}

/// The fault of a chain refused for its sequence numbers, `"order"` for an
/// [`lcm_model::Error::ChainOrder`] or `"gap"` for an [`lcm_model::Error::ChainGap`], with its
/// `index`, `expected` and `actual` numbers; panics on any other result.
#[track_caller]
pub(crate) fn chain_fault<T: Debug, E>(result: Result<T, E>) -> (&'static str, u64, u64, u64)
where
    Error: From<E>,
{
    match result.map_err(Error::from) {
        Err(Error::Model(lcm_model::Error::ChainOrder {
            index,
            expected,
            actual,
            ..
        })) => ("order", index, expected, actual),
        Err(Error::Model(lcm_model::Error::ChainGap {
            index,
            expected,
            actual,
            ..
        })) => ("gap", index, expected, actual),
        other => panic!("expected a chain out of order or with a gap, got {other:?}"),
    }
}

/// The `(id, reference)` of the [`Error::UnknownReference`] in `field` that `result` must be;
/// panics with whatever came instead.
#[track_caller]
pub(crate) fn unknown_reference<T: Debug>(
    result: Result<T, Error>,
    field: &str,
) -> (String, String) {
    match result {
        Err(Error::UnknownReference {
            field: f,
            id,
            reference,
            ..
        }) if f == field => (id, reference),
        other => panic!("expected an unknown {field} reference, got {other:?}"),
    }
}

/// The `[family, record, first split, second split]` of the [`Error::OverlappingSplits`] that
/// `result` must be; panics with whatever came instead.
#[track_caller]
pub(crate) fn overlap<T: Debug>(result: Result<T, Error>) -> [String; 4] {
    match result {
        Err(Error::OverlappingSplits {
            family,
            record,
            first,
            second,
        }) => [family, record, first, second],
        other => panic!("expected overlapping splits, got {other:?}"),
    }
}

/// Asserts that `result` is the [`lcm_model::Error::RootMismatch`] of `root`, as the
/// verifiers of `lcm_model` return it.
#[track_caller]
pub(crate) fn root_mismatch<T: Debug>(result: Result<T, lcm_model::Error>, root: &str) {
    match result {
        Err(lcm_model::Error::RootMismatch { root: r, .. }) if r == root => {}
        other => panic!("expected a {root} root mismatch, got {other:?}"),
    }
}

/// A policy at the KDF floor that allows only the record `domains`.
pub(crate) fn only(domains: &[lcm_model::DomainType]) -> lcm_model::Policy {
    lcm_model::Policy {
        kdf_iterations: 100_000,
        domains: domains.to_vec(),
        ..lcm_model::Policy::default()
    }
}

/// How a password check refused an anchor: `"wrong password"` ([`Error::WrongPassword`]) or
/// `"seal mismatch"` (an [`lcm_model::Error::SealMismatch`]); panics on any other result.
#[track_caller]
pub(crate) fn password_refusal<T: Debug>(result: Result<T, Error>) -> &'static str {
    match result {
        Err(Error::WrongPassword { .. }) => "wrong password",
        Err(Error::Model(lcm_model::Error::SealMismatch { .. })) => "seal mismatch",
        other => panic!("expected a refused password, got {other:?}"),
    }
}

/// An edit of a record, for tables of tamper cases.
pub(crate) type Tamper<T> = fn(&mut T);

/// Applies each case's tamper to a fresh copy of `record` and asserts that `check` of the
/// copy is the case's expected outcome.
#[track_caller]
pub(crate) fn check_tampers<R: Clone, O: PartialEq + Debug>(
    record: &R,
    cases: &[(Tamper<R>, O)],
    check: impl Fn(&R) -> O,
) {
    for (i, (tamper, expected)) in cases.iter().enumerate() {
        let mut t = record.clone();
        tamper(&mut t);
        assert_eq!(check(&t), *expected, "tamper case {i}");
    }
}
