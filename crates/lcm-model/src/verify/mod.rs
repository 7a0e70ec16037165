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
//! - training: [`compute_training_session_root`], [`verify_training_run`],
//!   [`verify_claimed_training_run`], [`check_checkpoint_order`];
//! - model: [`model_authorizes_family`];
//! - deployment: [`verify_status_history`], [`verify_claimed_status_history`];
//! - inference: [`verify_receipt_chain`], [`verify_receipt_segment`], [`verify_commitment`],
//!   [`compute_inference_batch`], [`ReceiptLink`], [`InferenceBatchBuilder`];
//! - roots: [`compute_release_root`], [`verify_release_root`], [`compute_inference_batch_root`];
//! - the two rules of every chain (checkpoints, status events, receipts), which the managers
//!   apply when they restore one: [`check_sequence`], [`check_chain_link`].
//!
//! Every verifier recomputes what it checks, returns `Result<(), Error>` and never panics.
//! Errors name the record kind, the record's id and the field. A verifier given [`Sealed`]
//! records relies on their digests, which sealing or [`Claimed::check`] established; one
//! given [`Claimed`] records (as a document holds them) recomputes every digest it relies on.
//!
//! [`Sealed`]: crate::Sealed
//! [`Claimed`]: crate::Claimed
//! [`Claimed::check`]: crate::Claimed::check

mod dataset;
mod deployment;
mod inference;
mod model;
mod roots;
mod training;

use lcm_crypto::Digest;

use crate::{Error, Policy, Record, Seal};

pub use self::dataset::{
    compute_contents_root, compute_datasets_root, compute_records_root,
    compute_split_assignment_digest, contents_tree, record_content_digest, record_leaf_digest,
    records_tree, verify_record_inclusion, verify_split_contents, verify_split_records,
};
pub use self::deployment::{verify_claimed_status_history, verify_status_history};
pub use self::inference::{
    InferenceBatchBuilder, ReceiptLink, check_receipt_follows, compute_inference_batch,
    verify_commitment, verify_receipt_chain, verify_receipt_segment,
};
pub use self::model::model_authorizes_family;
pub use self::roots::{compute_inference_batch_root, compute_release_root, verify_release_root};
pub use self::training::{
    check_checkpoint_order, compute_training_session_root, verify_claimed_training_run,
    verify_training_run,
};

/// Recomputes a sealed record's digest; a mismatch is an [`Error::SealMismatch`] naming the
/// record by `kind` and `id`.
fn check_seal<S: Seal>(
    policy: &Policy,
    kind: &'static str,
    id: &str,
    sealed: &S,
) -> Result<(), Error> {
    let recomputed = sealed.record().digest(policy)?;
    let stored = sealed.digest();
    agree(stored, recomputed, |stored, recomputed| {
        Error::SealMismatch {
            kind,
            id: id.to_owned(),
            stored,
            recomputed,
        }
    })
}

/// The chain rule on sequence numbers: the `index`th record (`kind` `id`) of a chain must carry
/// `expected` as its number (`actual`); smaller is a reorder or repeat
/// ([`Error::ChainOrder`]), larger a gap ([`Error::ChainGap`]).
///
/// # Errors
///
/// [`Error::ChainOrder`] or [`Error::ChainGap`] as above.
pub fn check_sequence(
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

/// The chain rule on links: the `index`th record (`kind` `id`) of a chain must link (`actual`)
/// to the digest of the record before it (`expected`; `None` for nothing before it).
///
/// # Errors
///
/// [`Error::ChainLink`] when it links elsewhere.
pub fn check_chain_link(
    kind: &'static str,
    id: &str,
    index: u64,
    expected: Option<Digest>,
    actual: Option<Digest>,
) -> Result<(), Error> {
    agree(expected, actual, |expected, actual| Error::ChainLink {
        kind,
        id: id.to_owned(),
        index,
        expected,
        actual,
    })
}

/// `Ok` when `actual` is `expected`, else the error `differ` makes of the two: the one
/// comparison of every verifier (this crate's and `lcm-capsule`'s), whatever its error type.
///
/// This does not panic (unless `differ` does).
///
/// # Errors
///
/// `differ(expected, actual)` when the two differ.
pub fn agree<T: PartialEq, E>(
    expected: T,
    actual: T,
    differ: impl FnOnce(T, T) -> E,
) -> Result<(), E> {
    if expected == actual {
        Ok(())
    } else {
        Err(differ(expected, actual))
    }
}
