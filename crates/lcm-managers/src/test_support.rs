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
