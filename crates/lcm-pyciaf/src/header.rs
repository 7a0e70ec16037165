//! The shape of the reference's capsule header (`CapsuleHeader` of `ciaf/lcm/capsule.py`),
//! defined once: [`managers::CapsuleManager`](crate::managers::CapsuleManager) writes headers
//! of this shape and [`audit`](crate::audit) checks headers against it.

/// The `capsule_version` the reference writes.
pub const CAPSULE_VERSION: &str = "1.0.0";

/// The reference's fixed `policy` block, as compact sorted JSON. It is the same for every
/// policy: it lists every `DomainType` and `CommitmentType` rather than the policy in force.
pub const POLICY_BLOCK: &str = r#"{"canonicalization":"json(sorted,utf-8)","commitment_types":["salted","HMAC-SHA256","plaintext"],"domain_types":["CIAF|dataset","CIAF|dataset|family","CIAF|dataset|split","CIAF|model","CIAF|train","CIAF|deployment","CIAF|inference"],"hash_algorithm":"SHA-256","merkle_policy":{"fanout":2,"padding_strategy":"duplicate_last"}}"#;

/// The top-level members of the header other than the stages.
pub const TOP_LEVEL: [&str; 3] = ["capsule_version", "generated_at", "policy"];

/// The eight stages of the reference's header, A to H.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderStage {
    /// `stage_a_dataset`.
    Dataset,
    /// `stage_b_model`.
    Model,
    /// `stage_c_training`.
    Training,
    /// `stage_d_predeployment`.
    PreDeployment,
    /// `stage_e_deployment`.
    Deployment,
    /// `stage_f_test_evaluation`.
    TestEvaluation,
    /// `stage_g_inference`.
    Inference,
    /// `stage_h_roots`.
    Roots,
}

impl HeaderStage {
    /// Every stage, in the header's order.
    pub const ALL: [Self; 8] = [
        Self::Dataset,
        Self::Model,
        Self::Training,
        Self::PreDeployment,
        Self::Deployment,
        Self::TestEvaluation,
        Self::Inference,
        Self::Roots,
    ];

    /// The header's member name (`stage_a_dataset`, …).
    pub const fn key(self) -> &'static str {
        match self {
            Self::Dataset => "stage_a_dataset",
            Self::Model => "stage_b_model",
            Self::Training => "stage_c_training",
            Self::PreDeployment => "stage_d_predeployment",
            Self::Deployment => "stage_e_deployment",
            Self::TestEvaluation => "stage_f_test_evaluation",
            Self::Inference => "stage_g_inference",
            Self::Roots => "stage_h_roots",
        }
    }

    /// The stage's `stage` letter.
    pub const fn letter(self) -> &'static str {
        match self {
            Self::Dataset => "A",
            Self::Model => "B",
            Self::Training => "C",
            Self::PreDeployment => "D",
            Self::Deployment => "E",
            Self::TestEvaluation => "F",
            Self::Inference => "G",
            Self::Roots => "H",
        }
    }

    /// The stage's fixed `description`.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Dataset => "Dataset Anchoring",
            Self::Model => "Model Anchoring",
            Self::Training => "Training Session",
            Self::PreDeployment => "Pre-deployment",
            Self::Deployment => "Deployment",
            Self::TestEvaluation => "Test Evaluation",
            Self::Inference => "Inference Receipt",
            Self::Roots => "Merkle Roots & Publication",
        }
    }

    /// The stage's own fields (besides `stage` and `description`), in the order the audit
    /// reports them.
    pub const fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Dataset => &["anchor_id", "dataset_digest", "sample_count", "split_type"],
            Self::Model => &[
                "anchor_id",
                "params_root",
                "arch_root",
                "hp_digest",
                "env_digest",
                "trainer_commit",
            ],
            Self::Training => &[
                "session_id",
                "checkpoint_count",
                "final_loss",
                "training_snapshot",
            ],
            Self::PreDeployment => &[
                "anchor_id",
                "artifacts_count",
                "intent_digest",
                "predeployment_id",
                "sbom_digest",
            ],
            Self::Deployment => &[
                "actual_digest",
                "anchor_id",
                "deployment_id",
                "environment",
                "location",
            ],
            Self::TestEvaluation => &[
                "anchor_id",
                "evaluation_type",
                "metrics",
                "test_id",
                "test_metrics_digest",
            ],
            Self::Inference => &[
                "inference_id",
                "inference_type",
                "receipt_hash",
                "prev_receipt_hash",
            ],
            Self::Roots => &[
                "evidence_id",
                "inference_batch_root",
                "release_root",
                "timestamp_authority",
                "training_session_root",
            ],
        }
    }
}
