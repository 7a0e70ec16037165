//! The inputs of the stages, as `lcm record` reads them from JSON files.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_model::records::{
    BuildArtifact, DatasetFamilyMetadata, DatasetSplit, ModelArchitecture, Sbom, SplitInfo,
    TrainingEnvironment, TrainingMetrics,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::stage_error;

/// Stage A: the dataset family and its splits.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetInput {
    /// The family id, for example `med_v1`.
    pub family_id: String,
    /// The family's metadata.
    pub metadata: DatasetFamilyMetadata,
    /// The splits, by name (`train`, `val`, `test`).
    pub splits: BTreeMap<DatasetSplit, SplitInfo>,
}

/// Stage B: the model.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelInput {
    /// The model's name.
    pub model_name: String,
    /// Its version.
    pub version: String,
    /// The dataset families the model may be trained on, by id. In a lifecycle file it may
    /// be left out: the file's own family is meant.
    #[serde(default)]
    pub authorized_datasets: Vec<String>,
    /// The architecture.
    pub architecture: ModelArchitecture,
    /// Hyperparameters, free-form.
    #[serde(default)]
    pub hyperparameters: Map<String, Value>,
    /// The training environment.
    pub environment: TrainingEnvironment,
    /// The commit of the training code.
    pub trainer_commit: String,
    /// The fingerprint of the weights (`--weights`), never read from the file.
    #[serde(skip)]
    #[schemars(skip)]
    pub parameters: Option<lcm_model::records::ParameterFingerprint>,
}

/// One training checkpoint.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointInput {
    /// The checkpoint id.
    pub checkpoint_id: String,
    /// The epoch.
    pub epoch: u64,
    /// The step.
    pub step: u64,
    /// Metrics by name.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// The digest of the model state.
    #[schemars(with = "lcm_model::schema::InputDigest")]
    pub model_state_digest: Digest,
    /// The digest of the optimizer state.
    #[schemars(with = "lcm_model::schema::InputDigest")]
    pub optimizer_state_digest: Digest,
}

/// Stage C: a training session, its checkpoints and its completion.
///
/// Recorded on its own, a file either starts a session (it names `model` and `family_id`) or
/// continues an open one (it names neither): its checkpoints are appended, and it completes
/// the session when it gives `final_model_digest` (with `user_id`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// The session id.
    pub session_id: String,
    /// The model anchor, `NAME@VERSION` (left out in a lifecycle file, and to continue a
    /// session).
    #[serde(default)]
    pub model: Option<String>,
    /// The dataset family whose splits the session uses (left out in a lifecycle file, and to
    /// continue a session).
    #[serde(default)]
    pub family_id: Option<String>,
    /// The training configuration, free-form.
    #[serde(default)]
    pub training_config: Option<Map<String, Value>>,
    /// The checkpoints, in order.
    #[serde(default)]
    pub checkpoints: Vec<CheckpointInput>,
    /// The digest of the final weights, as the first line of `lcm fingerprint WEIGHTS`
    /// prints it: the file digest (the same value as `sha256sum`) of a weights file, or the
    /// directory digest of a model directory — not the parameter fingerprint's root, which
    /// no stage file records. Completes the session.
    #[serde(default)]
    #[schemars(with = "Option<lcm_model::schema::InputDigest>")]
    pub final_model_digest: Option<Digest>,
    /// The final metrics.
    #[serde(default)]
    pub metrics: TrainingMetrics,
    /// Who completed the session.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Stage D: the pre-deployment anchor.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreDeploymentInput {
    /// The id.
    pub predeployment_id: String,
    /// The completed training session whose model is built (left out in a lifecycle file).
    #[serde(default)]
    pub session_id: Option<String>,
    /// The build artifact.
    pub build_artifact: BuildArtifact,
    /// Its SBOM.
    pub sbom: Sbom,
    /// The approval ticket.
    pub approval_ticket_id: String,
    /// The target environment.
    pub intended_env: String,
    /// The target region.
    pub intended_region: String,
    /// The rollout plan's digest.
    #[serde(default)]
    #[schemars(with = "Option<lcm_model::schema::InputDigest>")]
    pub rollout_plan_digest: Option<Digest>,
}

/// Stage E: the deployment anchor.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentInput {
    /// The id.
    pub deployment_id: String,
    /// The pre-deployment it carries out (left out in a lifecycle file).
    #[serde(default)]
    pub predeployment_id: Option<String>,
    /// Infrastructure, free-form.
    #[serde(default)]
    pub infrastructure: Value,
    /// Network configuration, free-form.
    #[serde(default)]
    pub network_config: Value,
    /// Who deployed.
    pub deployed_by: String,
}

/// Stage F: the test evaluation (of one of a family's splits, usually `test`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEvaluationInput {
    /// The id.
    pub test_id: String,
    /// The family of the evaluated split (left out in a lifecycle file).
    #[serde(default)]
    pub family_id: Option<String>,
    /// The evaluated split.
    pub split: DatasetSplit,
    /// `pre_deploy`, `post_deploy` or `benchmark`.
    pub evaluation_type: String,
    /// Metrics by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A lifecycle file (see `examples/cli/lifecycle.json`): every stage, referring to each
/// other implicitly.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleInput {
    /// A free comment, ignored.
    #[serde(default, rename = "_comment")]
    pub comment: Option<Value>,
    /// Stage A.
    pub dataset: DatasetInput,
    /// Stage B.
    pub model: ModelInput,
    /// Stage C.
    pub training: TrainingInput,
    /// Stage D.
    pub predeployment: PreDeploymentInput,
    /// Stage E.
    pub deployment: DeploymentInput,
    /// Stage F.
    pub test_evaluation: TestEvaluationInput,
}

/// Parses a file of one stage: an object with the fields of its section of a lifecycle file,
/// and an optional `_comment` (ignored). Unknown fields are refused.
///
/// # Errors
///
/// [`crate::Error::Stage`] with the parser's message.
pub fn parse_stage<T: serde::de::DeserializeOwned>(
    stage: &'static str,
    text: &[u8],
) -> Result<T, crate::Error> {
    let mut value: Value = serde_json::from_slice(text)
        .map_err(|e| stage_error(stage, format!("malformed JSON: {e}")))?;
    strict_value(text, &value).map_err(|e| stage_error(stage, e.to_string()))?;
    if let Value::Object(map) = &mut value {
        map.remove("_comment");
    }
    from_input_value(value).map_err(|e| stage_error(stage, e))
}

/// Parses a lifecycle file (see `examples/cli/lifecycle.json`) strictly, as [`parse_stage`]
/// parses a stage file.
///
/// # Errors
///
/// [`crate::Error::Stage`] (stage `lifecycle`) naming the JSON path of what is wrong.
pub fn parse_lifecycle(text: &[u8]) -> Result<LifecycleInput, crate::Error> {
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| stage_error("lifecycle", format!("malformed JSON: {e}")))?;
    strict_value(text, &value).map_err(|e| stage_error("lifecycle", e.to_string()))?;
    from_input_value(value).map_err(|e| stage_error("lifecycle", e))
}

/// Deserializes an input file's value with the input notations ([`lcm_model::reading_input`]:
/// timestamps of any RFC 3339 precision, digests with or without `sha256:`), the error
/// naming the JSON path of the bad value (`checkpoints[0].model_state_digest: ...`).
pub(crate) fn from_input_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    lcm_model::reading_input(|| serde_path_to_error::deserialize(value)).map_err(
        |e: serde_path_to_error::Error<serde_json::Error>| {
            let path = e.path().to_string();
            if path == "." {
                e.into_inner().to_string()
            } else {
                format!("{path}: {}", e.into_inner())
            }
        },
    )
}

/// Strict input for a stage or lifecycle file that parsed as `value`: no key twice, exact
/// numbers, and every id (a field `id` or `..._id`) printable and non-empty.
///
/// # Errors
///
/// What [`lcm_model::strict`] refuses, naming the field.
pub fn strict_value(text: &[u8], value: &Value) -> Result<(), lcm_model::strict::StrictError> {
    if let Ok(text) = std::str::from_utf8(text) {
        lcm_model::strict::check_json(text)?;
    }
    lcm_model::strict::check_ids(value)
}
