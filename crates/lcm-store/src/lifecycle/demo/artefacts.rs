//! The files `lcm demo` writes beside the store (its signing key, the signed header and the
//! self-contained bundle, checked as an auditor would before they are handed out), and what
//! it prints about them, as data.

use std::path::{Path, PathBuf};

use lcm_capsule::{Bundle, PolicyRequirements, verify_bundle};
use lcm_crypto::SigningKey;
use lcm_model::Timestamp;
use serde_json::{Value, json};

use super::{Demo, signing_key};
use crate::files::{FileError, write_replacing};
use crate::lifecycle::views::plural;
use crate::{Error, Store, export};

/// Why [`write_artefacts`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtefactError {
    /// The store, or the export from it, failed.
    #[error(transparent)]
    Store(#[from] Error),
    /// The key, header or bundle file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
    /// The bundle made does not verify (the first failing check).
    #[error("{0}")]
    Verify(String),
}

/// What [`write_artefacts`] wrote.
#[derive(Debug)]
pub struct Artefacts {
    /// The signing key (reused when the directory had one).
    pub key: SigningKey,
    /// Where the private key is (its public key is beside it, `.pub`).
    pub key_path: PathBuf,
    /// The signed header.
    pub header_path: PathBuf,
    /// The self-contained bundle.
    pub bundle_path: PathBuf,
    /// The bundle written.
    pub bundle: Bundle,
    /// The bundle file's JSON length in bytes (without its final newline).
    pub bundle_bytes: usize,
}

/// Signs the header and bundle of the demo lifecycle `run` in `store` at `now` with the key
/// `dir/signing.key` (made when there is none), verifies the bundle with the key's public
/// half under the default requirements, and writes `dir/header.json` and `dir/bundle.json`.
///
/// # Errors
///
/// [`ArtefactError::File`] for a key or output file; [`ArtefactError::Store`] for the
/// export; [`ArtefactError::Verify`] when the bundle does not verify (nothing is written).
pub fn write_artefacts(
    store: &dyn Store,
    run: &Demo,
    dir: &Path,
    now: Timestamp,
) -> Result<Artefacts, ArtefactError> {
    let key_path = dir.join("signing.key");
    let key = signing_key(&key_path)?;
    let bundle = export::bundle(store, &run.deployment, now, &key)?;
    verify_bundle(
        &bundle,
        &key.verifying_key(),
        &PolicyRequirements::default(),
    )
    .map_err(|f| ArtefactError::Verify(f.to_string()))?;
    let header_path = dir.join("header.json");
    let bundle_path = dir.join("bundle.json");
    let header_json = bundle.header.to_json(Some(2)).map_err(Error::from)?;
    let bundle_json = bundle.to_json(Some(2)).map_err(Error::from)?;
    write_replacing(&header_path, format!("{header_json}\n").as_bytes())?;
    write_replacing(&bundle_path, format!("{bundle_json}\n").as_bytes())?;
    Ok(Artefacts {
        key,
        key_path,
        header_path,
        bundle_path,
        bundle,
        bundle_bytes: bundle_json.len(),
    })
}

impl Artefacts {
    /// What `lcm demo --json` prints: the store, counts, roots, files and key.
    #[must_use]
    pub fn summary_json(&self, store: &Path, run: &Demo) -> Value {
        json!({
            "store": crate::redact_location(&store.to_string_lossy()),
            "records": run.records.len(),
            "receipts": run.receipts,
            "batches": run.batches,
            "chain_head": run.head.map(|h| h.digest),
            "release_root": self.bundle.lifecycle.release.record.root,
            "header": self.header_path.display().to_string(),
            "bundle": self.bundle_path.display().to_string(),
            "public_key": format!("{}.pub", self.key_path.display()),
            "key_id": self.key.key_id().to_hex(),
        })
    }

    /// What `lcm demo` prints: a line per stage of the lifecycle, the files and how to
    /// verify them.
    #[must_use]
    pub fn summary_lines(&self, store: &Path, run: &Demo) -> Vec<String> {
        let l = &self.bundle.lifecycle;
        let (receipts, batches, head) = (run.receipts, run.batches, run.head);
        vec![
            format!(
                "lcm demo: the example lifecycle is in {}",
                crate::redact_location(&store.to_string_lossy())
            ),
            format!(
                "  A dataset   {} with {} splits",
                l.dataset.family.record.family_id,
                l.dataset.splits.len()
            ),
            format!(
                "  B model     {}@{}",
                l.model.record.description.model_name, l.model.record.description.version
            ),
            format!(
                "  C training  {} with {} checkpoints",
                l.training.session.record.session_id,
                l.training.checkpoints.len()
            ),
            format!(
                "  D/E release {} -> {}",
                l.predeployment.anchor.record.predeployment_id,
                l.deployment.anchor.record.deployment_id
            ),
            format!("  F test      {}", l.test_evaluation.record.test_id),
            format!(
                "  G inference {} in {}, chain head {}",
                plural(receipts, "receipt", "receipts"),
                plural(batches, "batch", "batches"),
                head.map_or_else(|| "none".to_owned(), |h| h.digest.to_string())
            ),
            format!("  H release root {}", l.release.record.root),
            format!(
                "wrote {} and {} ({} bytes), signed by key {}",
                self.header_path.display(),
                self.bundle_path.display(),
                self.bundle_bytes,
                self.key.key_id()
            ),
            format!(
                "verify it: lcm verify {} --key {}.pub",
                self.bundle_path.display(),
                self.key_path.display()
            ),
        ]
    }
}
