//! Lifecycle logic of `lcm`: the managers of the CIAF LCM specification, with real checks.
//!
//! Every manager takes a [`Context`] (policy, clock, randomness). Records are the plain types
//! of [`lcm_model`]; the managers create them, check them against what they already hold, and
//! compute their digests and roots.

#[cfg(test)]
#[macro_use]
#[path = "../../lcm-model/src/assert_matches.rs"]
mod assert_matches;

mod context;
mod dataset;
mod deployment;
mod error;
mod inference;
mod model;
mod password;
mod project;
mod restore;
mod roots;
mod training;

#[cfg(test)]
mod test_support;

pub use crate::context::Context;
pub use crate::dataset::{
    DatasetFamilyManager, RestoredSplit, assign_splits, verify_family_password,
};
pub use crate::deployment::{DeploymentManager, DeploymentRelease, PreDeploymentRequest};
pub use crate::error::Error;
pub use crate::inference::{
    InferenceManager, InferenceRequest, ReceiptChain, ReceiptFields, ReceiptOpenings,
};
pub use crate::model::{AnchoredModel, ModelAnchorRequest, ModelManager, verify_model_password};
pub use crate::project::Project;
pub use crate::roots::RootManager;
pub use crate::training::{TrainingManager, TrainingRun};
// The pure recomputations and verifiers live in `lcm_model::verify`, so that a verifier can
// use them without this crate; they stay available under their old paths here.
pub use lcm_model::verify::{
    InferenceBatchBuilder, ReceiptLink, compute_contents_root, compute_datasets_root,
    compute_records_root, compute_split_assignment_digest, compute_training_session_root,
    record_content_digest, record_leaf_digest, verify_commitment, verify_receipt_chain,
    verify_receipt_segment, verify_record_inclusion, verify_release_root, verify_split_contents,
    verify_split_records, verify_status_history, verify_training_run,
};
