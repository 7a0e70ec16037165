//! Lifecycle logic of `lcm`: the managers of the CIAF LCM specification, with real checks.
//!
//! Every manager takes a [`Context`] (policy, clock, randomness). Records are the plain types
//! of [`lcm_model`]; the managers create them, check them against what they already hold, and
//! compute their digests and roots.

mod context;
mod dataset;
mod deployment;
mod error;
mod inference;
mod model;
mod roots;
mod training;

pub use crate::context::Context;
pub use crate::dataset::{
    DatasetFamilyManager, assign_splits, compute_contents_root, compute_datasets_root,
    compute_records_root, compute_split_assignment_digest, record_content_digest,
    record_leaf_digest, verify_family_password, verify_record_inclusion, verify_split_contents,
    verify_split_records,
};
pub use crate::deployment::{
    DeploymentManager, DeploymentRelease, PreDeploymentRequest, verify_status_history,
};
pub use crate::error::Error;
pub use crate::inference::{
    InferenceBatchBuilder, InferenceManager, InferenceRequest, ReceiptChain, ReceiptFields,
    ReceiptLink, ReceiptOpenings, verify_commitment, verify_receipt_chain, verify_receipt_segment,
};
pub use crate::model::{AnchoredModel, ModelAnchorRequest, ModelManager, verify_model_password};
pub use crate::roots::{RootManager, verify_release_root};
pub use crate::training::{
    TrainingManager, TrainingRun, compute_training_session_root, verify_training_run,
};
