//! The demo lifecycle (`lcm demo`): the built-in example lifecycle, marked synthetic,
//! recorded into a store with a number of demo receipts sealed in batches. The caller
//! exports, verifies and prints it.

use std::path::Path;

use lcm_capsule::SYNTHETIC_DEMO;
use lcm_crypto::SigningKey;
use lcm_model::Record as _;
use lcm_model::records::DatasetFamilyAnchor;

use super::{EXAMPLE, LifecycleInput, Passwords, record_synthetic_into};
use crate::files::{FileError, read_signing_key, write_key_pair};
use crate::pipeline::{make_demo_receipts, seal_next_batch};
use crate::{ChainHead, Error, Store, StoredRecord};

/// The demo's master passwords: demonstration only, printed in docs/CLI.md.
pub const PASSWORDS: Passwords<'static> = Passwords {
    dataset: "demo-family-password",
    model: "demo-model-password",
};

/// How many windows the demo's receipts are appended and sealed in.
pub const WINDOWS: u64 = 4;

/// What [`record_demo`] recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Demo {
    /// The lifecycle's records, as stored.
    pub records: Vec<StoredRecord>,
    /// The deployment whose chain holds the receipts.
    pub deployment: String,
    /// The receipts appended.
    pub receipts: u64,
    /// The batches sealed.
    pub batches: u64,
    /// The chain's head after the last receipt (none when no receipt was asked for).
    pub head: Option<ChainHead>,
}

/// The example lifecycle the demo records.
fn example() -> Result<LifecycleInput, Error> {
    Ok(serde_json::from_str(EXAMPLE)?)
}

/// Whether `store` already holds the demo's lifecycle (its dataset family).
///
/// # Errors
///
/// The store's failures.
pub fn holds_demo(store: &dyn Store) -> Result<bool, Error> {
    let family = example()?.dataset.family_id;
    Ok(store.record(DatasetFamilyAnchor::KIND, &family)?.is_some())
}

/// Records the example lifecycle into `store`, marked synthetic ([`SYNTHETIC_DEMO`]), then
/// appends `receipts` demo receipts in [`WINDOWS`] windows, sealing a batch after each;
/// `on_progress` hears the receipts appended so far.
///
/// # Errors
///
/// The refusals of [`record_synthetic_into`] (a store that already holds the demo's
/// lifecycle among them: see [`holds_demo`]), [`make_demo_receipts`] and
/// [`seal_next_batch`].
///
/// # Examples
///
/// ```
/// use lcm_store::lifecycle::demo;
///
/// let dir = std::env::temp_dir().join(format!("lcm-demo-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// # let _ = std::fs::remove_file(dir.join("lcm.db"));
/// let (mut store, _) = lcm_store::init(&dir.join("lcm.db"), &Default::default())?;
/// let run = demo::record_demo(&mut *store, 10, &mut |_| {})?;
/// assert_eq!((run.receipts, run.batches), (10, 4));
/// assert_eq!(run.head.map(|h| h.sequence), Some(9));
/// assert!(demo::holds_demo(&*store)?);
/// # drop(store);
/// # let _ = std::fs::remove_dir_all(&dir);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn record_demo(
    store: &mut dyn Store,
    receipts: u64,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Demo, Error> {
    let input = example()?;
    let model = format!("{}@{}", input.model.model_name, input.model.version);
    let deployment = input.deployment.deployment_id.clone();
    let records = record_synthetic_into(store, input, &PASSWORDS, SYNTHETIC_DEMO)?;
    let per_window = receipts.div_ceil(WINDOWS).max(1);
    let (mut done, mut batches) = (0u64, 0u64);
    while done < receipts {
        let n = per_window.min(receipts - done);
        make_demo_receipts(store, &model, &deployment, done, n)?;
        done += n;
        on_progress(done);
        if seal_next_batch(store, &deployment, None, None, None)?.is_some() {
            batches += 1;
        }
    }
    let head = store.head(&deployment)?;
    Ok(Demo {
        records,
        deployment,
        receipts,
        batches,
        head,
    })
}

/// The signing key in `path`, made (with its public key beside it) when there is none yet.
///
/// # Errors
///
/// The failures of reading or writing the key files.
pub fn signing_key(path: &Path) -> Result<SigningKey, FileError> {
    if !path.exists() {
        let key =
            SigningKey::generate(&mut lcm_crypto::OsRandom).map_err(|e| FileError::Invalid {
                what: format!("{}: generating a signing key: {e}", path.display()),
            })?;
        write_key_pair(path, &key, true)?;
    }
    read_signing_key(path)
}

#[cfg(test)]
pub(crate) mod tests;
