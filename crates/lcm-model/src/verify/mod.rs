//! Pure recomputation and verification of lifecycle records: roots, chains and bindings,
//! from the records and the [`Policy`] alone.
//!
//! Nothing here needs a manager's state, a password or a secret, so an auditor's verifier
//! (for example `lcm-capsule`) can check a bundle offline without the lifecycle logic of
//! `lcm-managers`, which re-exports these functions under its old paths and calls them itself.
//!
//! - dataset splits: [`compute_split_assignment_digest`], [`record_leaf_digest`],
//!   [`records_tree`], [`compute_records_root`], [`compute_datasets_root`],
//!   [`record_content_digest`], [`contents_tree`], [`compute_contents_root`],
//!   [`verify_split_records`], [`verify_split_contents`], [`verify_record_inclusion`];
//! - training: [`compute_training_session_root`], [`verify_training_run`];
//! - deployment: [`verify_status_history`];
//! - inference: [`verify_receipt_chain`], [`verify_receipt_segment`], [`verify_commitment`],
//!   [`compute_inference_batch`], [`ReceiptLink`], [`InferenceBatchBuilder`];
//! - roots: [`compute_release_root`], [`verify_release_root`], [`compute_inference_batch_root`].
//!
//! Every verifier recomputes what it checks, returns `Result<(), Error>` and never panics.
//! Errors name the record kind, the record's id and the field. Variants that skip the seal
//! recomputation, for a caller that has checked the same seals already, are in [`hazmat`].

mod dataset;
mod deployment;
mod inference;
mod roots;
mod training;

use crate::{Error, Policy, Record, Sealed};

pub use self::dataset::{
    compute_contents_root, compute_datasets_root, compute_records_root,
    compute_split_assignment_digest, contents_tree, record_content_digest, record_leaf_digest,
    records_tree, verify_record_inclusion, verify_split_contents, verify_split_records,
};
pub use self::deployment::verify_status_history;
pub use self::inference::{
    InferenceBatchBuilder, ReceiptLink, compute_inference_batch, verify_commitment,
    verify_receipt_chain, verify_receipt_segment,
};
pub use self::roots::{compute_inference_batch_root, compute_release_root, verify_release_root};
pub use self::training::{compute_training_session_root, verify_training_run};

/// Verifiers that trust the seals they are given.
///
/// <div class="warning">
///
/// These skip recomputing the seals (digests) of the records they are given and check
/// everything else exactly as their safe counterparts do. Called on records whose seals were
/// **not** checked, on the same records and under the same policy, they accept an edited
/// record. Use [`verify_training_run`],
/// [`verify_status_history`] and
/// [`compute_training_session_root`] unless a profile
/// shows the seals being recomputed twice, as in a bundle verifier that checked every seal
/// in an earlier pass.
///
/// </div>
pub mod hazmat {
    pub use super::deployment::verify_status_history_with_checked_seals;
    pub use super::training::{
        training_session_root_with_checked_seal, verify_training_run_with_checked_seals,
    };
}

/// Recomputes a sealed record's digest; a mismatch is an [`Error::SealMismatch`] naming the
/// record by `kind` and `id`.
fn check_seal<T: Record>(
    policy: &Policy,
    kind: &'static str,
    id: &str,
    sealed: &Sealed<T>,
) -> Result<(), Error> {
    let recomputed = sealed.record.digest(policy)?;
    if recomputed == sealed.digest {
        Ok(())
    } else {
        Err(Error::SealMismatch {
            kind,
            id: id.to_owned(),
            stored: sealed.digest,
            recomputed,
        })
    }
}

/// `actual` must be `expected`: smaller is a reorder or repeat ([`Error::ChainOrder`]), larger
/// a gap ([`Error::ChainGap`]).
fn check_sequence(
    kind: &'static str,
    id: &str,
    index: u64,
    expected: u64,
    actual: u64,
) -> Result<(), Error> {
    if actual < expected {
        Err(Error::ChainOrder {
            kind,
            id: id.to_owned(),
            index,
            expected,
            actual,
        })
    } else if actual > expected {
        Err(Error::ChainGap {
            kind,
            id: id.to_owned(),
            index,
            expected,
            actual,
        })
    } else {
        Ok(())
    }
}

/// Names the record of a [`Sealed::verify`] failure: [`Error::DigestMismatch`] becomes
/// [`Error::SealMismatch`] with `kind` and `id`; other errors pass through.
fn name_seal_error(kind: &'static str, id: &str, e: Error) -> Error {
    match e {
        Error::DigestMismatch {
            stored, recomputed, ..
        } => Error::SealMismatch {
            kind,
            id: id.to_owned(),
            stored,
            recomputed,
        },
        other => other,
    }
}
