//! A helper shared by these integration tests and the SQLite backend's unit tests, which
//! include this file with `#[path]`: both import `Store` and `StoredReceipt`.

use super::{Store, StoredReceipt};

/// The receipts of `deployment`'s chain from sequence `from` to `to` (or to its end), in
/// order, as [`Store::scan_receipts`] visits them.
pub(crate) fn scanned(
    store: &dyn Store,
    deployment: &str,
    from: u64,
    to: Option<u64>,
) -> Vec<StoredReceipt> {
    let mut seen = Vec::new();
    store
        .scan_receipts(deployment, from, to, &mut |r| {
            seen.push(r);
            Ok(())
        })
        .expect("scan the chain");
    seen
}
