//! Helpers shared by the unit tests of every manager.

use std::fmt::Debug;

use crate::Error;

/// The `(id, actual)` of the [`lcm_model::Error::UnexpectedValue`] in `field` that `result`
/// must be; panics with whatever came instead.
#[track_caller]
pub(crate) fn unexpected_value<T: Debug>(
    result: Result<T, Error>,
    field: &str,
) -> (String, String) {
    match result {
        Err(Error::Model(lcm_model::Error::UnexpectedValue {
            field: f,
            id,
            actual,
            ..
        })) if f == field => (id, actual),
        other => panic!("expected an unexpected {field}, got {other:?}"),
    }
}
