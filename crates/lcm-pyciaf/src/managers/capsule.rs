//! The reference's capsule header (`LCMCapsuleManager.create_capsule_header`).

use crate as rules;
use crate::header::{CAPSULE_VERSION, HeaderStage, POLICY_BLOCK};

use super::{
    DatasetAnchor, DeploymentAnchor, Error, InferenceReceipt, ModelAnchor, PreDeploymentAnchor,
    PyciafContext, TestEvaluationAnchor, TrainingSession, jfloat, jfloat_map, jobj, jstr, member,
    short,
};

/// The reference's `CapsuleHeader`, as its `to_compact_json()` writes it.
///
/// Every digest inside is cut to 8 hex + `...`: the header cannot be verified against
/// anything, and carries no signature or policy digest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapsuleHeader {
    /// `generated_at`.
    pub generated_at: String,
    /// `to_compact_json()`: `json.dumps(model_dump(), separators=(",", ":"), sort_keys=True)`.
    pub compact_json: String,
}

impl CapsuleHeader {
    /// `to_compact_json()`.
    pub fn to_compact_json(&self) -> &str {
        &self.compact_json
    }
}

/// The arguments of `create_capsule_header`; a stage is `null` when its input is `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CapsuleHeaderInputs<'a> {
    /// Stage A.
    pub dataset_anchor: Option<&'a DatasetAnchor>,
    /// Stage B.
    pub model_anchor: Option<&'a ModelAnchor>,
    /// Stage C.
    pub training_session: Option<&'a TrainingSession>,
    /// Stage D.
    pub predeployment_anchor: Option<&'a PreDeploymentAnchor>,
    /// Stage E.
    pub deployment_anchor: Option<&'a DeploymentAnchor>,
    /// Stage F.
    pub test_evaluation_anchor: Option<&'a TestEvaluationAnchor>,
    /// Stage G.
    pub inference_receipt: Option<&'a InferenceReceipt>,
    /// Stage H.
    pub training_session_root: Option<&'a str>,
    /// Stage H.
    pub release_root: Option<&'a str>,
    /// Stage H.
    pub inference_batch_root: Option<&'a str>,
}

/// The reference's `LCMCapsuleManager` (header creation).
#[derive(Debug)]
pub struct CapsuleManager {
    ctx: PyciafContext,
}

/// A stage object: its `stage` letter and `description`, then `fields`.
fn stage(stage: HeaderStage, fields: &[(&str, String)]) -> String {
    let mut items = vec![
        ("stage", jstr(stage.letter())),
        ("description", jstr(stage.description())),
    ];
    items.extend(fields.iter().map(|(k, v)| (*k, v.clone())));
    jobj(&items)
}

/// `x[:8] + "..."` as a JSON string.
fn cut(d: &str) -> String {
    jstr(&short(d))
}

/// `x[:8] + "..." if x else None`.
fn cut_opt(d: Option<&str>) -> String {
    match d {
        Some(s) if !s.is_empty() => cut(s),
        _ => "null".to_owned(),
    }
}

impl CapsuleManager {
    /// A capsule manager.
    pub fn new(ctx: PyciafContext) -> Self {
        Self { ctx }
    }

    /// `create_capsule_header(...)`: the policy block (every `DomainType` and `CommitmentType`,
    /// fanout 2, `duplicate_last`), stages A–H from the given records with the reference's
    /// truncations, `generated_at` from the clock, as compact sorted JSON.
    ///
    /// # Errors
    ///
    /// A rule's error, which stored records never cause.
    pub fn create_capsule_header(
        &self,
        inputs: &CapsuleHeaderInputs<'_>,
    ) -> Result<CapsuleHeader, Error> {
        let null = || "null".to_owned();
        let stage_a = inputs.dataset_anchor.map_or_else(null, |d| {
            // `metadata.sample_count` is `total_samples`, mirrored from `num_samples`.
            let count = match member(&d.metadata, "total_samples") {
                Some(v) if v != "null" => v,
                _ => member(&d.metadata, "num_samples").unwrap_or("null"),
            };
            stage(
                HeaderStage::Dataset,
                &[
                    ("split_type", jstr(d.split_type())),
                    ("dataset_digest", cut(&d.dataset_hash)),
                    ("sample_count", count.to_owned()),
                    ("anchor_id", jstr(&d.anchor_id)),
                ],
            )
        });
        let stage_b = inputs.model_anchor.map_or_else(null, |m| {
            let d = &m.digests;
            stage(
                HeaderStage::Model,
                &[
                    ("params_root", cut(&d.params_root)),
                    ("arch_root", cut(&d.arch_root)),
                    ("hp_digest", cut(&d.hp_digest)),
                    ("env_digest", cut(&d.env_digest)),
                    ("trainer_commit", cut(&m.trainer_commit)),
                    ("anchor_id", jstr(&m.anchor_id)),
                ],
            )
        });
        let stage_c = inputs.training_session.map_or_else(null, |s| {
            let final_loss = match &s.metrics {
                Some(m) => m.final_loss().map_or_else(null, jfloat),
                None => jstr("unknown"),
            };
            let snapshot = s
                .training_snapshot
                .as_ref()
                .map_or_else(|| jstr("not_completed"), |t| cut(&t.merkle_root_hash));
            stage(
                HeaderStage::Training,
                &[
                    ("session_id", jstr(&s.session_id)),
                    ("checkpoint_count", s.checkpoints.len().to_string()),
                    ("final_loss", final_loss),
                    ("training_snapshot", snapshot),
                ],
            )
        });
        let stage_d = inputs.predeployment_anchor.map_or_else(null, |p| {
            stage(
                HeaderStage::PreDeployment,
                &[
                    ("predeployment_id", jstr(&p.predeployment_id)),
                    ("intent_digest", cut(p.intent_digest())),
                    ("sbom_digest", cut(&p.sbom_digest)),
                    ("artifacts_count", "1".to_owned()),
                    ("anchor_id", jstr(&p.anchor_id)),
                ],
            )
        });
        let stage_e = inputs.deployment_anchor.map_or_else(null, |d| {
            stage(
                HeaderStage::Deployment,
                &[
                    ("deployment_id", jstr(&d.deployment_id)),
                    ("actual_digest", cut(&d.intent_to_actual_digest)),
                    ("environment", jstr(&d.deployment_env)),
                    ("location", jstr(&d.location)),
                    ("anchor_id", jstr(&d.anchor_id)),
                ],
            )
        });
        let stage_f = inputs.test_evaluation_anchor.map_or_else(null, |t| {
            stage(
                HeaderStage::TestEvaluation,
                &[
                    ("test_id", jstr(&t.test_id)),
                    ("evaluation_type", jstr(&t.evaluation_type)),
                    ("test_metrics_digest", cut(&t.test_metrics_digest)),
                    ("metrics", jfloat_map(&t.metrics)),
                    ("anchor_id", jstr(&t.anchor_id)),
                ],
            )
        });
        let stage_g = inputs.inference_receipt.map_or_else(null, |r| {
            stage(
                HeaderStage::Inference,
                &[
                    ("inference_id", jstr(&r.receipt_id)),
                    ("inference_type", jstr(r.inference_type())),
                    ("receipt_hash", cut(&r.receipt_digest)),
                    (
                        "prev_receipt_hash",
                        match r.prev_connections_digest.as_deref() {
                            Some(p) if !p.is_empty() => cut(p),
                            _ => jstr("genesis"),
                        },
                    ),
                ],
            )
        });
        let roots = [
            inputs.training_session_root,
            inputs.release_root,
            inputs.inference_batch_root,
        ];
        let stage_h = if roots.iter().flatten().any(|r| !r.is_empty()) {
            stage(
                HeaderStage::Roots,
                &[
                    (
                        "training_session_root",
                        cut_opt(inputs.training_session_root),
                    ),
                    ("release_root", cut_opt(inputs.release_root)),
                    ("inference_batch_root", cut_opt(inputs.inference_batch_root)),
                    ("timestamp_authority", jstr("not_set")),
                    ("evidence_id", jstr("null")),
                ],
            )
        } else {
            null()
        };
        let generated_at = self.ctx.now_isoformat();
        let header = jobj(&[
            ("capsule_version", jstr(CAPSULE_VERSION)),
            ("generated_at", jstr(&generated_at)),
            ("policy", POLICY_BLOCK.to_owned()),
            (HeaderStage::Dataset.key(), stage_a),
            (HeaderStage::Model.key(), stage_b),
            (HeaderStage::Training.key(), stage_c),
            (HeaderStage::PreDeployment.key(), stage_d),
            (HeaderStage::Deployment.key(), stage_e),
            (HeaderStage::TestEvaluation.key(), stage_f),
            (HeaderStage::Inference.key(), stage_g),
            (HeaderStage::Roots.key(), stage_h),
        ]);
        Ok(CapsuleHeader {
            generated_at,
            compact_json: rules::canonical_json(&header)?,
        })
    }
}
