//! Integration tests of `lcm-managers`: one binary, one module per area.

// The helpers return the managers' `Result<_, Error>` as the managers do; boxing it here would
// only hide the error being matched.
#![allow(clippy::result_large_err)]

// Rebuilding managers from stored records: round trips against an uninterrupted run, and one
// tamper twin per check of every `restore_*` method.
mod restore;
