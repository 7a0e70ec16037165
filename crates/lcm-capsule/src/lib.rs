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
//! - [`Bundle`] ([`verify_bundle`], [`verify_bundle_json`]): a whole lifecycle in one JSON
//!   document, verified offline with nothing but the document and the signer's public key;
//!   [`verify_bundle_with_progress`] and [`verify_bundle_json_with_progress`] report
//!   [`VerifyProgress`] (receipts checked out of the bundle's receipts) for a progress bar;
//!   [`verify_bundle_reader`] verifies a bundle as it reads it, in memory that does not grow
//!   with its receipts, with the same report.
//!
//! Architecture Invariant: this crate depends on `lcm-crypto` and `lcm-model` only, never on
//! `lcm-managers`, so that a verifier embeds without the lifecycle logic. The pure
//! recomputations it relies on (receipt chains, training runs, status histories, split
//! roots, the training session and release roots) are `lcm_model::verify`'s.
//!
//! # What the seed's names map to
//!
//! | seed (Python) | here |
//! |---|---|
//! | `CapsuleHeader` (digests cut to 8 hex, unsigned) | [`CapsuleHeader`]: full digests, policy digest, schema version, Ed25519 signature |
//! | `to_json(indent)`, `to_compact_json()` | [`CapsuleHeader::to_json`], [`CapsuleHeader::to_compact_json`], strict [`CapsuleHeader::from_json`] |
//! | `LCMCapsuleManager.create_capsule_header(...)` | [`create_capsule_header`] over [`LifecycleRecords`] |
//! | `create_capsule_from_header` | [`create_capsule_from_header`] |
//! | `validate_lcm_policy` | [`validate_lcm_policy`] with [`PolicyRequirements`] |
//! | "lazy materialization" (nothing lazy in the reference) | [`MerkleLog`] + [`materialize_receipt`], [`materialize_checkpoint`], [`materialize_dataset_record`] |
//! | no verifier | [`verify_header`], [`verify_capsule`], [`verify_bundle`] |
//!
//! # Reports
//!
//! Every verifier returns `Result<Report, VerificationFailed>`. A [`Report`] lists each
//! [`Check`] with its [`Stage`] (A dataset to H roots, or the header), the record (for
//! example `receipt inf_002`) and the JSON pointer of the field in the verified document; a
//! [`VerificationFailed`] holds the whole report and displays its first failure. The checks
//! of [`verify_bundle`] are ordered so that the first failure points at what was changed:
//! see its module documentation for the order and for how an edited record is told apart
//! from an edited stored digest.
//!
//! # Examples
//!
//! ```
//! use lcm_capsule::{LifecycleRecords, MerkleLog, InferenceRecords, create_capsule_header,
//!     verify_header, CapsuleHeader};
//! use lcm_crypto::{Digest, Seed, SigningKey};
//! use lcm_model::{Policy, Timestamp};
//!
//! // Registering an item costs one leaf hash; the header signs the root over all of them.
//! let policy = Policy::default();
//! let mut log = MerkleLog::new(policy.hash_algorithm);
//! for i in 0..1000u32 {
//!     log.register(lcm_crypto::hash(policy.hash_algorithm, &i.to_be_bytes()))?;
//! }
//! let key = SigningKey::from_seed(&Seed::from_bytes([7; 32]));
//! let records = LifecycleRecords {
//!     inference: Some(InferenceRecords { receipts: &log, batches: &[] }),
//!     ..LifecycleRecords::default()
//! };
//! let header = create_capsule_header(&policy, &records, Timestamp::from_unix_micros(0), &key)?;
//! assert_eq!(header.stage_g_inference.as_ref().map(|g| g.receipt_count), Some(1000));
//!
//! // An auditor parses it strictly and checks the signature.
//! let parsed = CapsuleHeader::from_json(&header.to_json(Some(2))?)?;
//! let report = verify_header(&parsed, &key.verifying_key())?;
//! assert!(report.is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod capsule;
mod compliance;
mod error;
mod header;
mod json;
mod kind;
mod log;
mod report;
mod summary;
mod verify;

pub use crate::bundle::{
    BUNDLE_VERSION, BatchEvidence, Bundle, DatasetEvidence, DeploymentEvidence, InferenceEvidence,
    Lifecycle, PreDeploymentEvidence, SplitEvidence, TrainingEvidence,
};
pub use crate::capsule::{
    Capsule, CapsuleItem, CheckpointItem, DatasetRecordItem, DisclosedValue, Disclosure,
    Materializer, Neighbour, ReceiptItem, create_capsule_from_header, materialize_checkpoint,
    materialize_dataset_record, materialize_receipt, verify_capsule,
};
pub use crate::compliance::{PolicyRequirements, required_scheme, validate_lcm_policy};
pub use crate::error::Error;
pub use crate::header::{
    BatchSummary, CAPSULE_VERSION, CapsuleHeader, DEFAULT_LOG_ORIGIN_PREFIX, DatasetRecords,
    DatasetStage, DeploymentRecords, DeploymentStage, HEADER_DOMAIN, HeaderSignature,
    InferenceRecords, InferenceStage, LifecycleRecords, ModelStage, PreDeploymentStage, RootsStage,
    SYNTHETIC_DEMO, SplitSummary, TestEvaluationStage, TrainingRecords, TrainingStage,
    create_capsule_header, verify_header,
};
pub use crate::kind::{DocumentKind, NOT_A_DOCUMENT};
pub use crate::log::{ItemLog, MerkleLog};
pub use crate::report::{Check, CheckError, Report, Stage, VerificationFailed};
pub use crate::summary::{Summary, summarize, warnings, with_requirements};
pub use crate::verify::{
    VerifyProgress, VerifyStage, leading_bundle_header, stage_of_pointer, verify_bundle,
    verify_bundle_json, verify_bundle_json_with_progress, verify_bundle_reader,
    verify_bundle_reader_with_progress, verify_bundle_with_progress,
};
