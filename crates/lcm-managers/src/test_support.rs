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

/// The `(index, expected, actual)` sequence numbers of the [`lcm_model::Error::ChainOrder`]
/// that `result` must be.
#[track_caller]
pub(crate) fn chain_order<T: Debug, E>(result: Result<T, E>) -> (u64, u64, u64)
where
    Error: From<E>,
{
    match result.map_err(Error::from) {
        Err(Error::Model(lcm_model::Error::ChainOrder {
            index,
            expected,
            actual,
            ..
        })) => (index, expected, actual),
        other => panic!("expected a chain out of order, got {other:?}"),
    }
}

/// The `(index, expected, actual)` sequence numbers of the [`lcm_model::Error::ChainGap`] that
/// `result` must be.
#[track_caller]
pub(crate) fn chain_gap<T: Debug, E>(result: Result<T, E>) -> (u64, u64, u64)
where
    Error: From<E>,
{
    match result.map_err(Error::from) {
        Err(Error::Model(lcm_model::Error::ChainGap {
            index,
            expected,
            actual,
            ..
        })) => (index, expected, actual),
        other => panic!("expected a gap in the chain, got {other:?}"),
    }
}
