//! Helpers shared by the unit tests of every module.

use std::fmt::Debug;

use crate::Error;

/// The fault of a chain refused for its sequence numbers, `"order"` for an
/// [`Error::ChainOrder`] or `"gap"` for an [`Error::ChainGap`], with its `index`, `expected`
/// and `actual` numbers; panics on any other result.
#[track_caller]
pub(crate) fn chain_fault<T: Debug>(result: Result<T, Error>) -> (&'static str, u64, u64, u64) {
    match result {
        Err(Error::ChainOrder {
            index,
            expected,
            actual,
            ..
        }) => ("order", index, expected, actual),
        Err(Error::ChainGap {
            index,
            expected,
            actual,
            ..
        }) => ("gap", index, expected, actual),
        other => panic!("expected a chain out of order or with a gap, got {other:?}"),
    }
}
