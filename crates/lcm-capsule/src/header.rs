//! [`CapsuleHeader`]: the signed, compact state of a lifecycle, stage by stage.

use std::collections::BTreeMap;

use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::{Digest, KeyId, Signature, SigningKey, VerifyingKey, hash_domain};
use lcm_model::records::{
    DatasetFamilyAnchor, DatasetSplit, DatasetSplitAnchor, DeploymentAnchor, DeploymentStatus,
    DeploymentStatusEvent, InferenceBatch, ModelAnchor, PreDeploymentAnchor, ReleaseRoot,
    TestEvaluationAnchor, TrainingCheckpoint, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, Policy, Timestamp, canonical};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::{
    CheckError, Report, Stage, VerificationFailed, agree, mismatch, recomputed, version_check,
};
use crate::{Error, ItemLog, json};

/// The header schema version this library writes and reads.
pub const CAPSULE_VERSION: &str = "lcm-capsule/1";

/// The domain tag of the header digest and of the signed message.
pub const HEADER_DOMAIN: &str = "lcm/capsule/1/header";

/// The prefix of the log origin a header names when its maker names none:
/// `lcm.local/DEPLOYMENT` ([`CapsuleHeader::log_origin`]).
pub const DEFAULT_LOG_ORIGIN_PREFIX: &str = "lcm.local/";

/// The [`CapsuleHeader::synthetic`] marker of the demonstration lifecycles (`lcm demo`,
/// `simulate_ai_lifecycle`).
pub const SYNTHETIC_DEMO: &str = "synthetic demo data: placeholder digests and example \
                                  records, not an attestation of a real AI system";

/// The signed, compact summary of one lifecycle (the seed's `CapsuleHeader`): one section per
/// stage, A to H, with full digests and references, the policy and its digest, the schema
/// version, an RFC 3339 UTC `generated_at`, and an Ed25519 signature.
///
/// A stage is `None` when the lifecycle does not (yet) have it. Unlike the Python reference,
/// no digest is cut short, the policy is the policy (not a list of every enum member), and
/// the header is signed: [`CapsuleHeader::signing_bytes`] are `HEADER_DOMAIN`, a zero byte
/// and the canonical JSON of the header without its `signature` field.
///
/// Parsing ([`CapsuleHeader::from_json`]) is strict: unknown fields, a missing field and any
/// other `capsule_version` are errors, and the error names the JSON pointer of the value.
///
/// # Examples
///
/// ```
/// use lcm_capsule::{CapsuleHeader, LifecycleRecords, create_capsule_header, verify_header};
/// use lcm_crypto::{Seed, SigningKey};
/// use lcm_model::{Policy, Timestamp};
///
/// let key = SigningKey::from_seed(&Seed::from_bytes([7; 32]));
/// let now: Timestamp = "2026-01-02T03:04:05.678901Z".parse()?;
/// let header = create_capsule_header(&Policy::default(), &LifecycleRecords::default(), now, &key)?;
/// let text = header.to_json(Some(2))?;
/// let back = CapsuleHeader::from_json(&text)?;
/// assert_eq!(back, header);
/// verify_header(&back, &key.verifying_key())?;
/// assert!(CapsuleHeader::from_json(&text.replace("lcm-capsule/1", "lcm-capsule/2")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapsuleHeader {
    /// The header schema version, [`CAPSULE_VERSION`].
    pub capsule_version: String,
    /// When the header was made.
    pub generated_at: Timestamp,
    /// The policy every record was made under.
    pub policy: Policy,
    /// [`Policy::digest`] of `policy`.
    pub policy_digest: Digest,
    /// A: the dataset family and its splits.
    pub stage_a_dataset: Option<DatasetStage>,
    /// B: the model anchor.
    pub stage_b_model: Option<ModelStage>,
    /// C: the training session.
    pub stage_c_training: Option<TrainingStage>,
    /// D: the pre-deployment anchor.
    pub stage_d_predeployment: Option<PreDeploymentStage>,
    /// E: the deployment.
    pub stage_e_deployment: Option<DeploymentStage>,
    /// F: the test evaluation.
    pub stage_f_test_evaluation: Option<TestEvaluationStage>,
    /// G: the inference receipts.
    pub stage_g_inference: Option<InferenceStage>,
    /// H: the roots.
    pub stage_h_roots: Option<RootsStage>,
    /// The origin of the transparency log its receipts are a state of (the C2SP checkpoint
    /// origin line, `lcm.local/DEPLOYMENT` unless the maker named another), signed with the
    /// rest. Absent from headers made by earlier versions (and then not part of their signed
    /// bytes): their origin is derived from the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_origin: Option<String>,
    /// Present, and signed, when the lifecycle is synthetic demonstration data (`lcm demo`,
    /// `simulate_ai_lifecycle`): placeholder digests and a fixed clock, no real system. Says
    /// what it is; absent from every other header (and then not part of its signed bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<String>,
    /// Who signed, and the signature.
    pub signature: HeaderSignature,
}

/// The key id and Ed25519 signature of a header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSignature {
    /// The signer's key id ([`VerifyingKey::key_id`]).
    pub key_id: KeyId,
    /// The signature over [`CapsuleHeader::signing_bytes`].
    pub signature: Signature,
}

/// Stage A: the dataset family and its splits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetStage {
    /// The family id.
    pub family_id: String,
    /// The family anchor record's digest.
    pub family_anchor: Digest,
    /// The digest of the family metadata.
    pub metadata_digest: Digest,
    /// Whether the dataset holds personal data.
    pub contains_pii: bool,
    /// The privacy level.
    pub privacy_level: String,
    /// The compliance frameworks the dataset declares.
    pub compliance_frameworks: Vec<String>,
    /// The PBKDF2 cost of the family anchor's key.
    pub kdf_iterations: u32,
    /// Every split, in split order.
    pub splits: BTreeMap<DatasetSplit, SplitSummary>,
}

/// One split in stage A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSummary {
    /// The split anchor record's digest.
    pub anchor: Digest,
    /// The number of records.
    pub sample_count: u64,
    /// The Merkle root over the split's record leaves (dataset record capsules prove to it).
    pub records_root: Digest,
    /// The Merkle root over the records' contents, when anchored.
    pub contents_root: Option<Digest>,
}

/// Stage B: the model anchor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelStage {
    /// The model name.
    pub model_name: String,
    /// The model version.
    pub version: String,
    /// The model anchor record's digest.
    pub anchor: Digest,
    /// The digest of the model description.
    pub description_digest: Digest,
    /// The architecture digest.
    pub architecture_fingerprint: Digest,
    /// The hyperparameters digest.
    pub hyperparameters_digest: Digest,
    /// The training environment digest.
    pub environment_digest: Digest,
    /// The parameter fingerprint root, if anchored.
    pub parameter_fingerprint: Option<Digest>,
    /// The trainer's source revision, in full.
    pub trainer_commit: String,
    /// The dataset families the model may train on, by family id.
    pub authorized_datasets: BTreeMap<String, Digest>,
    /// The PBKDF2 cost of the model anchor's key.
    pub kdf_iterations: u32,
}

/// Stage C: the training session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingStage {
    /// The session id.
    pub session_id: String,
    /// The session record's digest.
    pub session: Digest,
    /// The datasets root the session trained on.
    pub datasets_root: Digest,
    /// The number of checkpoints.
    pub checkpoint_count: u64,
    /// The Merkle root over the checkpoint digests in chain order (checkpoint capsules prove
    /// to it; the empty root for none).
    pub checkpoints_root: Digest,
    /// The last checkpoint's digest (the session digest without checkpoints).
    pub checkpoint_head: Digest,
    /// The snapshot record's digest.
    pub snapshot: Digest,
    /// The metrics digest.
    pub metrics_digest: Digest,
    /// The final model digest.
    pub final_model_digest: Digest,
    /// When training completed.
    pub completed_at: Timestamp,
}

/// Stage D: the pre-deployment anchor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreDeploymentStage {
    /// The pre-deployment id.
    pub predeployment_id: String,
    /// The pre-deployment record's digest.
    pub anchor: Digest,
    /// The model anchor it releases.
    pub model_anchor: Digest,
    /// The training snapshot it releases.
    pub training_snapshot: Digest,
    /// The SBOM digest.
    pub sbom_digest: Digest,
    /// The build artifact's digest (`<algorithm>:<hex>`).
    pub artifact_digest: String,
    /// The intended environment.
    pub intended_env: String,
    /// The intended region.
    pub intended_region: String,
}

/// Stage E: the deployment and its status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentStage {
    /// The deployment id.
    pub deployment_id: String,
    /// The deployment record's digest.
    pub anchor: Digest,
    /// The pre-deployment it carries out.
    pub predeployment: Digest,
    /// The current status (the last event's), if any event was recorded.
    pub status: Option<DeploymentStatus>,
    /// The number of status events.
    pub status_count: u64,
    /// The last status event's digest.
    pub status_head: Option<Digest>,
}

/// Stage F: the test evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEvaluationStage {
    /// The test id.
    pub test_id: String,
    /// The test evaluation record's digest.
    pub anchor: Digest,
    /// The test dataset (split anchor) digest.
    pub test_dataset: Digest,
    /// The evaluation type.
    pub evaluation_type: String,
    /// The metrics digest.
    pub metrics_digest: Digest,
}

/// Stage G: the inference receipt chain and its batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceStage {
    /// The number of receipts.
    pub receipt_count: u64,
    /// The Merkle root over every receipt digest in chain order (receipt capsules prove to
    /// it; the empty root for none).
    pub receipts_root: Digest,
    /// The last receipt's digest, the chain head.
    pub chain_head: Option<Digest>,
    /// The sealed batches, in window order.
    pub batches: Vec<BatchSummary>,
}

/// One batch in stage G.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSummary {
    /// The window id.
    pub window_id: String,
    /// The batch record's digest.
    pub batch: Digest,
    /// The number of receipts.
    pub count: u64,
    /// The Merkle root over the batch's receipt digests.
    pub root: Digest,
}

/// Stage H: the roots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootsStage {
    /// The training session root.
    pub training_session_root: Digest,
    /// The release root record's digest.
    pub release: Digest,
    /// The release root.
    pub release_root: Digest,
}

/// The dataset records of a lifecycle.
#[derive(Debug, Clone, Copy)]
pub struct DatasetRecords<'a> {
    /// The family anchor.
    pub family: &'a Claimed<DatasetFamilyAnchor>,
    /// Its split anchors.
    pub splits: &'a [Claimed<DatasetSplitAnchor>],
}

/// The training records of a lifecycle.
#[derive(Debug, Clone, Copy)]
pub struct TrainingRecords<'a> {
    /// The session.
    pub session: &'a Claimed<TrainingSession>,
    /// Its checkpoints, in chain order.
    pub checkpoints: &'a [Claimed<TrainingCheckpoint>],
    /// The snapshot of the completed session.
    pub snapshot: &'a Claimed<TrainingSnapshot>,
}

/// The deployment records of a lifecycle.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentRecords<'a> {
    /// The deployment anchor.
    pub anchor: &'a Claimed<DeploymentAnchor>,
    /// Its status history, in order.
    pub status_history: &'a [Claimed<DeploymentStatusEvent>],
}

/// The inference records of a lifecycle: the receipt log (digests only) and the batches.
#[derive(Debug, Clone, Copy)]
pub struct InferenceRecords<'a> {
    /// Every receipt digest, in chain order.
    pub receipts: &'a dyn ItemLog,
    /// The sealed batches, in window order.
    pub batches: &'a [Claimed<InferenceBatch>],
}

/// The sealed records a header summarizes (the arguments of the seed's
/// `create_capsule_header`); leave a stage `None` to omit it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LifecycleRecords<'a> {
    /// Stage A.
    pub dataset: Option<DatasetRecords<'a>>,
    /// Stage B.
    pub model: Option<&'a Claimed<ModelAnchor>>,
    /// Stage C.
    pub training: Option<TrainingRecords<'a>>,
    /// Stage D.
    pub predeployment: Option<&'a Claimed<PreDeploymentAnchor>>,
    /// Stage E.
    pub deployment: Option<DeploymentRecords<'a>>,
    /// Stage F.
    pub test_evaluation: Option<&'a Claimed<TestEvaluationAnchor>>,
    /// Stage G.
    pub inference: Option<InferenceRecords<'a>>,
    /// Stage H: the release root (its training session root is taken from it).
    pub release: Option<&'a Claimed<ReleaseRoot>>,
}

/// The stages of a header, built from records. Shared by [`create_capsule_header`] and the
/// bundle verifier, which compares a signed header with what its records give.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Stages {
    pub(crate) stage_a_dataset: Option<DatasetStage>,
    pub(crate) stage_b_model: Option<ModelStage>,
    pub(crate) stage_c_training: Option<TrainingStage>,
    pub(crate) stage_d_predeployment: Option<PreDeploymentStage>,
    pub(crate) stage_e_deployment: Option<DeploymentStage>,
    pub(crate) stage_f_test_evaluation: Option<TestEvaluationStage>,
    pub(crate) stage_g_inference: Option<InferenceStage>,
    pub(crate) stage_h_roots: Option<RootsStage>,
}

/// The Merkle root over record digests (each digest one leaf), as every `lcm` root.
pub(crate) fn digests_root(policy: &Policy, digests: &[Digest]) -> Digest {
    MerkleTree::from_leaves_with(policy.hash_algorithm, digests.iter().map(Digest::as_bytes)).root()
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The receipt chain as stage G summarizes it: count, root and head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReceiptsSummary {
    pub(crate) count: u64,
    pub(crate) root: Digest,
    pub(crate) head: Option<Digest>,
}

impl ReceiptsSummary {
    fn of(log: &dyn ItemLog) -> Self {
        Self {
            count: log.size(),
            root: log.tree_root(),
            head: log.last_digest(),
        }
    }
}

impl Stages {
    pub(crate) fn build(policy: &Policy, r: &LifecycleRecords<'_>) -> Self {
        Self::build_with(policy, r, None)
    }

    /// As [`Stages::build`], with the receipt chain's summary given (a verifier computes it
    /// with the batch tree builder rather than a log).
    pub(crate) fn build_with(
        policy: &Policy,
        r: &LifecycleRecords<'_>,
        receipts: Option<ReceiptsSummary>,
    ) -> Self {
        let stage_a_dataset = r.dataset.map(|d| {
            let f = &d.family.record;
            DatasetStage {
                family_id: f.family_id.clone(),
                family_anchor: d.family.digest,
                metadata_digest: f.metadata_digest,
                contains_pii: f.metadata.contains_pii,
                privacy_level: f.metadata.privacy_level.clone(),
                compliance_frameworks: f.metadata.compliance_frameworks.clone(),
                kdf_iterations: f.kdf_iterations,
                splits: d
                    .splits
                    .iter()
                    .map(|s| {
                        (
                            s.record.split,
                            SplitSummary {
                                anchor: s.digest,
                                sample_count: s.record.sample_count,
                                records_root: s.record.records_root,
                                contents_root: s.record.contents_root,
                            },
                        )
                    })
                    .collect(),
            }
        });
        let stage_b_model = r.model.map(|m| {
            let d = &m.record.description;
            ModelStage {
                model_name: d.model_name.clone(),
                version: d.version.clone(),
                anchor: m.digest,
                description_digest: m.record.description_digest,
                architecture_fingerprint: d.architecture_fingerprint,
                hyperparameters_digest: d.hyperparameters_digest,
                environment_digest: d.environment_digest,
                parameter_fingerprint: d.parameter_fingerprint,
                trainer_commit: d.trainer_commit.clone(),
                authorized_datasets: d.authorized_datasets.clone(),
                kdf_iterations: m.record.kdf_iterations,
            }
        });
        let stage_c_training = r.training.map(|t| {
            let digests: Vec<Digest> = t.checkpoints.iter().map(|c| c.digest).collect();
            let s = &t.snapshot.record;
            TrainingStage {
                session_id: t.session.record.session_id.clone(),
                session: t.session.digest,
                datasets_root: t.session.record.datasets_root,
                checkpoint_count: len_u64(digests.len()),
                checkpoints_root: digests_root(policy, &digests),
                checkpoint_head: digests.last().copied().unwrap_or(t.session.digest),
                snapshot: t.snapshot.digest,
                metrics_digest: s.metrics_digest,
                final_model_digest: s.final_model_digest,
                completed_at: s.completed_at,
            }
        });
        let stage_d_predeployment = r.predeployment.map(|p| PreDeploymentStage {
            predeployment_id: p.record.predeployment_id.clone(),
            anchor: p.digest,
            model_anchor: p.record.model_anchor,
            training_snapshot: p.record.training_snapshot,
            sbom_digest: p.record.sbom_digest,
            artifact_digest: p.record.build_artifact.artifact_digest.clone(),
            intended_env: p.record.intended_env.clone(),
            intended_region: p.record.intended_region.clone(),
        });
        let stage_e_deployment = r.deployment.map(|d| DeploymentStage {
            deployment_id: d.anchor.record.deployment_id.clone(),
            anchor: d.anchor.digest,
            predeployment: d.anchor.record.predeployment,
            status: d.status_history.last().map(|e| e.record.status),
            status_count: len_u64(d.status_history.len()),
            status_head: d.status_history.last().map(|e| e.digest),
        });
        let stage_f_test_evaluation = r.test_evaluation.map(|t| TestEvaluationStage {
            test_id: t.record.test_id.clone(),
            anchor: t.digest,
            test_dataset: t.record.test_dataset,
            evaluation_type: t.record.evaluation_type.clone(),
            metrics_digest: t.record.metrics_digest,
        });
        let stage_g_inference = r.inference.map(|i| {
            let summary = receipts.unwrap_or_else(|| ReceiptsSummary::of(i.receipts));
            InferenceStage {
                receipt_count: summary.count,
                receipts_root: summary.root,
                chain_head: summary.head,
                batches: i
                    .batches
                    .iter()
                    .map(|b| BatchSummary {
                        window_id: b.record.window_id.clone(),
                        batch: b.digest,
                        count: b.record.count,
                        root: b.record.root,
                    })
                    .collect(),
            }
        });
        let stage_h_roots = r.release.map(|rel| RootsStage {
            training_session_root: rel.record.training_session_root,
            release: rel.digest,
            release_root: rel.record.root,
        });
        Self {
            stage_a_dataset,
            stage_b_model,
            stage_c_training,
            stage_d_predeployment,
            stage_e_deployment,
            stage_f_test_evaluation,
            stage_g_inference,
            stage_h_roots,
        }
    }
}

/// Builds and signs the header of a lifecycle (the seed's
/// `LCMCapsuleManager.create_capsule_header`).
///
/// The summaries are taken from the sealed records as they are; the records are not verified
/// here (a bundle verifier recomputes them all). The key signs [`CapsuleHeader::signing_bytes`].
///
/// # Errors
///
/// [`Error::Model`] when the policy is not usable ([`Policy::validate`]) or cannot be encoded.
pub fn create_capsule_header(
    policy: &Policy,
    records: &LifecycleRecords<'_>,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<CapsuleHeader, Error> {
    policy.validate()?;
    let s = Stages::build(policy, records);
    // A receipt chain under SHA-256 is a C2SP log: the header names its default origin.
    let log_origin = match (&s.stage_e_deployment, &s.stage_g_inference) {
        (Some(d), Some(_)) if policy.hash_algorithm == lcm_crypto::HashAlgorithm::Sha256 => {
            Some(format!("{DEFAULT_LOG_ORIGIN_PREFIX}{}", d.deployment_id))
        }
        _ => None,
    };
    let mut header = CapsuleHeader {
        capsule_version: CAPSULE_VERSION.to_owned(),
        generated_at,
        policy: policy.clone(),
        policy_digest: policy.digest()?,
        stage_a_dataset: s.stage_a_dataset,
        stage_b_model: s.stage_b_model,
        stage_c_training: s.stage_c_training,
        stage_d_predeployment: s.stage_d_predeployment,
        stage_e_deployment: s.stage_e_deployment,
        stage_f_test_evaluation: s.stage_f_test_evaluation,
        stage_g_inference: s.stage_g_inference,
        stage_h_roots: s.stage_h_roots,
        log_origin,
        synthetic: None,
        signature: HeaderSignature {
            key_id: key.key_id(),
            signature: Signature::from_bytes([0; 64]),
        },
    };
    header.sign(key)?;
    Ok(header)
}

impl CapsuleHeader {
    /// The canonical JSON of the header without its `signature` field.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if the header cannot be encoded (it always can).
    pub fn canonical_unsigned(&self) -> Result<Vec<u8>, Error> {
        let mut v = serde_json::to_value(self).map_err(lcm_model::Error::Json)?;
        if let Value::Object(map) = &mut v {
            map.remove("signature");
        }
        let mut out = Vec::new();
        canonical::write_value(&mut out, &v)?;
        Ok(out)
    }

    /// What the signature covers: [`HEADER_DOMAIN`], a zero byte, then
    /// [`CapsuleHeader::canonical_unsigned`].
    ///
    /// # Errors
    ///
    /// As [`CapsuleHeader::canonical_unsigned`].
    pub fn signing_bytes(&self) -> Result<Vec<u8>, Error> {
        let body = self.canonical_unsigned()?;
        let mut msg = Vec::with_capacity(HEADER_DOMAIN.len() + 1 + body.len());
        msg.extend_from_slice(HEADER_DOMAIN.as_bytes());
        msg.push(0);
        msg.extend_from_slice(&body);
        Ok(msg)
    }

    /// The header's digest: `hash_domain(policy hash, HEADER_DOMAIN, [canonical unsigned
    /// header])`. Capsules bind to their header by it.
    ///
    /// # Errors
    ///
    /// As [`CapsuleHeader::canonical_unsigned`].
    pub fn digest(&self) -> Result<Digest, Error> {
        let body = self.canonical_unsigned()?;
        Ok(hash_domain(
            self.policy.hash_algorithm,
            HEADER_DOMAIN,
            &[&body],
        ))
    }

    /// Signs (or re-signs) the header with `key`, setting the key id and the signature.
    ///
    /// # Errors
    ///
    /// As [`CapsuleHeader::canonical_unsigned`].
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), Error> {
        let msg = self.signing_bytes()?;
        self.signature = HeaderSignature {
            key_id: key.key_id(),
            signature: key.sign(&msg),
        };
        Ok(())
    }

    /// The header as JSON: compact for `None`, pretty with that many spaces of indent for
    /// `Some(n)` (the seed's `to_json(indent)`).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if encoding fails (it does not for a header).
    pub fn to_json(&self, indent: Option<usize>) -> Result<String, Error> {
        json::to_json(self, indent)
    }

    /// The compact JSON form (the seed's `to_compact_json()`).
    ///
    /// # Errors
    ///
    /// As [`CapsuleHeader::to_json`].
    pub fn to_compact_json(&self) -> Result<String, Error> {
        json::to_json(self, None)
    }

    /// Parses a header strictly: unknown or missing fields and any version other than
    /// [`CAPSULE_VERSION`] are errors.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] naming the JSON pointer of the offending value; [`Error::Version`].
    pub fn from_json(input: &str) -> Result<Self, Error> {
        let header: Self = json::parse_strict(input)?;
        header.check_version("/capsule_version")?;
        Ok(header)
    }

    pub(crate) fn check_version(&self, path: &'static str) -> Result<(), Error> {
        crate::error::version(path, CAPSULE_VERSION, &self.capsule_version)
    }
}

mod checks;

pub use self::checks::verify_header;
pub(crate) use self::checks::{
    digest_and_key_checks, header_checks, key_id_check, signature_check, version_and_policy_checks,
};
