//! Signed capsule headers, lazy materialization of single items and offline verification of
//! whole `lcm` lifecycles.
//!
//! - [`CapsuleHeader`] ([`create_capsule_header`], [`verify_header`]): the compact, signed
//!   state of a lifecycle, stage by stage (A dataset to H roots), with full digests.
//! - [`validate_lcm_policy`] with [`PolicyRequirements`]: what a deployer requires.
//! - [`MerkleLog`]: registering an item costs its leaf hash; an inclusion proof costs
//!   `O(log n)`.
//! - [`Capsule`] ([`materialize_receipt`], [`create_capsule_from_header`],
//!   [`verify_capsule`]): one item with its proofs, materialized only when asked.
//! - [`Report`]: every verifier lists each check it ran with the stage, the record and the
//!   JSON pointer of the field, and never panics.
//!
//! Architecture Invariant: this crate depends on `lcm-crypto` and `lcm-model` only, never on
//! `lcm-managers`, so that a verifier embeds without the lifecycle logic.

mod bundle;
mod capsule;
mod compliance;
mod error;
mod header;
mod json;
mod log;
mod report;
mod verify;

pub use crate::bundle::{
    BUNDLE_VERSION, BatchEvidence, Bundle, DatasetEvidence, DeploymentEvidence, InferenceEvidence,
    Lifecycle, PreDeploymentEvidence, SplitEvidence, TrainingEvidence,
};
pub use crate::capsule::{
    Capsule, CapsuleItem, CheckpointItem, DatasetRecordItem, DisclosedValue, Disclosure, Neighbour,
    ReceiptItem, create_capsule_from_header, materialize_checkpoint, materialize_dataset_record,
    materialize_receipt, verify_capsule,
};
pub use crate::compliance::{PolicyRequirements, validate_lcm_policy};
pub use crate::error::Error;
pub use crate::header::{
    BatchSummary, CAPSULE_VERSION, CapsuleHeader, DatasetRecords, DatasetStage, DeploymentRecords,
    DeploymentStage, HEADER_DOMAIN, HeaderSignature, InferenceRecords, InferenceStage,
    LifecycleRecords, ModelStage, PreDeploymentStage, RootsStage, SplitSummary,
    TestEvaluationStage, TrainingRecords, TrainingStage, create_capsule_header, verify_header,
};
pub use crate::log::MerkleLog;
pub use crate::report::{Check, CheckError, Report, Stage, VerificationFailed};
pub use crate::verify::{stage_of_pointer, verify_bundle, verify_bundle_json};
