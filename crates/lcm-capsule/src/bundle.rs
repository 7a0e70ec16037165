//! [`Bundle`]: one self-contained JSON document with a signed header and every record needed
//! to check a whole lifecycle offline.

use std::collections::BTreeMap;

use lcm_crypto::{Digest, SigningKey};
use lcm_model::records::{
    DatasetFamilyAnchor, DatasetSplitAnchor, DeploymentAnchor, DeploymentStatusEvent,
    InferenceBatch, InferenceReceipt, ModelAnchor, PreDeploymentAnchor, ReleaseRoot, Sbom,
    TestEvaluationAnchor, TrainingCheckpoint, TrainingMetrics, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, Policy, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{
    CapsuleHeader, DatasetRecords, DeploymentRecords, Error, InferenceRecords, ItemLog,
    LifecycleRecords, MerkleLog, TrainingRecords, create_capsule_header, json,
};

/// The bundle schema version this library writes and reads.
pub const BUNDLE_VERSION: &str = "lcm-bundle/1";

/// A lifecycle's complete audit trail: the signed header and every record behind it (the
/// seed's `get_complete_audit_trail_with_lcm`, as one verifiable document).
///
/// [`crate::verify_bundle`] recomputes every digest and root from the records, follows every
/// reference from the receipts back to the dataset splits, checks every chain, compares the
/// header with what the records give, and checks the header's signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The schema version, [`BUNDLE_VERSION`].
    pub bundle_version: String,
    /// The signed header.
    pub header: CapsuleHeader,
    /// The records.
    pub lifecycle: Lifecycle,
}

/// Every record of one lifecycle, stage by stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// A: the dataset family, its splits and their record ids.
    pub dataset: DatasetEvidence,
    /// B: the model anchor.
    pub model: Claimed<ModelAnchor>,
    /// C: the training session, checkpoints, metrics and snapshot.
    pub training: TrainingEvidence,
    /// D: the pre-deployment anchor and its SBOM.
    pub predeployment: PreDeploymentEvidence,
    /// E: the deployment and its status history.
    pub deployment: DeploymentEvidence,
    /// F: the test evaluation.
    pub test_evaluation: Claimed<TestEvaluationAnchor>,
    /// G: the receipts, grouped by batch.
    pub inference: InferenceEvidence,
    /// H: the release root.
    pub release: Claimed<ReleaseRoot>,
}

/// Stage A records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetEvidence {
    /// The family anchor.
    pub family: Claimed<DatasetFamilyAnchor>,
    /// The splits the training session used, in split order.
    pub splits: Vec<SplitEvidence>,
}

/// One split with the record ids (and content digests, when anchored) its roots are over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitEvidence {
    /// The split anchor.
    pub anchor: Claimed<DatasetSplitAnchor>,
    /// The split's record ids.
    pub record_ids: Vec<String>,
    /// The records' content digests by id (empty when the anchor has no contents root).
    pub content_digests: BTreeMap<String, Digest>,
}

/// Stage C records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingEvidence {
    /// The session.
    pub session: Claimed<TrainingSession>,
    /// Its checkpoints, in chain order.
    pub checkpoints: Vec<Claimed<TrainingCheckpoint>>,
    /// The final metrics.
    pub metrics: TrainingMetrics,
    /// The snapshot.
    pub snapshot: Claimed<TrainingSnapshot>,
}

/// Stage D records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreDeploymentEvidence {
    /// The pre-deployment anchor.
    pub anchor: Claimed<PreDeploymentAnchor>,
    /// Its SBOM.
    pub sbom: Sbom,
}

/// Stage E records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentEvidence {
    /// The deployment anchor.
    pub anchor: Claimed<DeploymentAnchor>,
    /// Its status history, in order.
    pub status_history: Vec<Claimed<DeploymentStatusEvent>>,
}

/// Stage G records: the whole receipt chain, cut into batches in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceEvidence {
    /// The batches in chain order; their receipts, concatenated, are the chain.
    pub batches: Vec<BatchEvidence>,
}

/// One batch and its receipts. Only the last group may have no sealed batch (receipts made
/// after the last window was closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchEvidence {
    /// The sealed batch, if the window was closed.
    pub batch: Option<Claimed<InferenceBatch>>,
    /// Its receipts, in chain order.
    pub receipts: Vec<Claimed<InferenceReceipt>>,
}

impl InferenceEvidence {
    /// Every receipt, in chain order.
    pub fn receipts(&self) -> impl Iterator<Item = &Claimed<InferenceReceipt>> {
        self.batches.iter().flat_map(|b| b.receipts.iter())
    }

    /// The sealed batches, in order.
    pub fn sealed_batches(&self) -> Vec<Claimed<InferenceBatch>> {
        self.batches
            .iter()
            .filter_map(|b| b.batch.clone())
            .collect()
    }
}

impl Lifecycle {
    /// The receipt log of the chain (every receipt digest, in order).
    ///
    /// # Errors
    ///
    /// As [`MerkleLog::register`].
    pub fn receipt_log(&self, policy: &Policy) -> Result<MerkleLog, Error> {
        MerkleLog::from_digests(
            policy.hash_algorithm,
            self.inference.receipts().map(|r| r.digest),
        )
    }

    /// Signs a header over these records ([`create_capsule_header`]), with the receipt chain
    /// given by `log` and the sealed batches by `batches`.
    ///
    /// The lifecycle's own [`InferenceEvidence`] is not read, so a caller whose receipts are
    /// kept elsewhere (a store) passes their log and batches with an empty `inference`.
    ///
    /// # Errors
    ///
    /// As [`create_capsule_header`].
    pub fn sign_header(
        &self,
        policy: &Policy,
        log: &dyn ItemLog,
        batches: &[Claimed<InferenceBatch>],
        generated_at: Timestamp,
        key: &SigningKey,
    ) -> Result<CapsuleHeader, Error> {
        self.with_records(log, batches, |records| {
            create_capsule_header(policy, records, generated_at, key)
        })
    }

    /// Calls `f` with the header inputs of these records.
    pub(crate) fn with_records<R>(
        &self,
        log: &dyn ItemLog,
        batches: &[Claimed<InferenceBatch>],
        f: impl FnOnce(&LifecycleRecords<'_>) -> R,
    ) -> R {
        let splits: Vec<Claimed<DatasetSplitAnchor>> = self
            .dataset
            .splits
            .iter()
            .map(|s| s.anchor.clone())
            .collect();
        let records = LifecycleRecords {
            dataset: Some(DatasetRecords {
                family: &self.dataset.family,
                splits: &splits,
            }),
            model: Some(&self.model),
            training: Some(TrainingRecords {
                session: &self.training.session,
                checkpoints: &self.training.checkpoints,
                snapshot: &self.training.snapshot,
            }),
            predeployment: Some(&self.predeployment.anchor),
            deployment: Some(DeploymentRecords {
                anchor: &self.deployment.anchor,
                status_history: &self.deployment.status_history,
            }),
            test_evaluation: Some(&self.test_evaluation),
            inference: Some(InferenceRecords {
                receipts: log,
                batches,
            }),
            release: Some(&self.release),
        };
        f(&records)
    }
}

impl Bundle {
    /// Signs a header over `lifecycle` with `key` and wraps both into a bundle.
    ///
    /// # Errors
    ///
    /// As [`create_capsule_header`].
    pub fn new(
        policy: &Policy,
        lifecycle: Lifecycle,
        generated_at: Timestamp,
        key: &SigningKey,
    ) -> Result<Self, Error> {
        let log = lifecycle.receipt_log(policy)?;
        let batches = lifecycle.inference.sealed_batches();
        let header = lifecycle.sign_header(policy, &log, &batches, generated_at, key)?;
        Ok(Self {
            bundle_version: BUNDLE_VERSION.to_owned(),
            header,
            lifecycle,
        })
    }

    /// The bundle as JSON: compact for `None`, pretty with `Some(indent)`.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if encoding fails.
    pub fn to_json(&self, indent: Option<usize>) -> Result<String, Error> {
        json::to_json(self, indent)
    }

    /// Parses a bundle strictly: unknown or missing fields and other bundle or header
    /// versions are errors naming the JSON pointer of the value.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`]; [`Error::Version`].
    pub fn from_json(input: &str) -> Result<Self, Error> {
        let bundle: Self = json::parse_strict(input)?;
        crate::error::version("/bundle_version", BUNDLE_VERSION, &bundle.bundle_version)?;
        bundle.header.check_version("/header/capsule_version")?;
        Ok(bundle)
    }
}
