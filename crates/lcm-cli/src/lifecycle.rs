//! `lcm record lifecycle FILE`: one JSON file describing a lifecycle's stages (the fields of
//! the seed's complete example), run through the managers and stored atomically.
//!
//! The managers check each stage against the ones before it (authorized datasets, split
//! anchors, model anchor, pre-deployment), and they hold that state in memory only, so the
//! stages that depend on each other are recorded together: dataset family and splits, model,
//! training session with checkpoints and completion, pre-deployment, deployment and test
//! evaluation, then the training session root and the release root. Every sealed record is
//! stored in one transaction: a lifecycle is stored whole or not at all.
//!
//! Inference receipts follow later, any number of times (`lcm infer`), against the stored
//! model and deployment anchors.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_managers::{
    Context, DatasetFamilyManager, DeploymentManager, ModelAnchorRequest, ModelManager,
    PreDeploymentRequest, RootManager, TrainingManager,
};
use lcm_model::records::{
    BuildArtifact, DatasetFamilyAnchor, DatasetFamilyMetadata, DatasetSplit, DatasetSplitAnchor,
    DeploymentAnchor, DeploymentStatusEvent, ModelAnchor, ModelArchitecture, PreDeploymentAnchor,
    ReleaseRoot, Sbom, SplitInfo, TestEvaluationAnchor, TrainingCheckpoint, TrainingEnvironment,
    TrainingMetrics, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Record, Sealed, canonical};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::{StoredEvidence, StoredRecord};

/// The evidence kind of a split's record ids and content digests.
pub const SPLIT_RECORDS: &str = "split-records";
/// The evidence kind of a training run's metrics.
pub const TRAINING_METRICS: &str = "training-metrics";
/// The evidence kind of a pre-deployment's SBOM.
pub const SBOM: &str = "sbom";

/// Stage A: the dataset family and its splits.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInput {
    /// The model's name.
    pub model_name: String,
    /// Its version.
    pub version: String,
    /// The architecture.
    pub architecture: ModelArchitecture,
    /// Hyperparameters, free-form.
    #[serde(default)]
    pub hyperparameters: Map<String, Value>,
    /// The training environment.
    pub environment: TrainingEnvironment,
    /// The commit of the training code.
    pub trainer_commit: String,
}

/// One training checkpoint.
#[derive(Debug, Clone, Deserialize)]
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
    pub model_state_digest: Digest,
    /// The digest of the optimizer state.
    pub optimizer_state_digest: Digest,
}

/// Stage C: the training session, its checkpoints and its completion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// The session id.
    pub session_id: String,
    /// The training configuration, free-form.
    #[serde(default)]
    pub training_config: Map<String, Value>,
    /// The checkpoints, in order.
    #[serde(default)]
    pub checkpoints: Vec<CheckpointInput>,
    /// The digest of the final weights (for example from `lcm fingerprint`).
    pub final_model_digest: Digest,
    /// The final metrics.
    #[serde(default)]
    pub metrics: TrainingMetrics,
    /// Who completed the session.
    pub user_id: String,
}

/// Stage D: the pre-deployment anchor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreDeploymentInput {
    /// The id.
    pub predeployment_id: String,
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
    pub rollout_plan_digest: Option<Digest>,
}

/// Stage E: the deployment anchor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentInput {
    /// The id.
    pub deployment_id: String,
    /// Infrastructure, free-form.
    #[serde(default)]
    pub infrastructure: Value,
    /// Network configuration, free-form.
    #[serde(default)]
    pub network_config: Value,
    /// Who deployed.
    pub deployed_by: String,
}

/// Stage F: the test evaluation (of one of the family's splits, usually `test`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEvaluationInput {
    /// The id.
    pub test_id: String,
    /// The evaluated split.
    pub split: DatasetSplit,
    /// `pre_deploy`, `post_deploy` or `benchmark`.
    pub evaluation_type: String,
    /// Metrics by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A lifecycle file (see `examples/cli/lifecycle.json`).
#[derive(Debug, Clone, Deserialize)]
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

/// Every sealed record of a recorded lifecycle.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The family anchor.
    pub family: Sealed<DatasetFamilyAnchor>,
    /// The split anchors, in split order.
    pub splits: Vec<Sealed<DatasetSplitAnchor>>,
    /// The model anchor.
    pub model: Sealed<ModelAnchor>,
    /// The training session.
    pub session: Sealed<TrainingSession>,
    /// Its checkpoints.
    pub checkpoints: Vec<Sealed<TrainingCheckpoint>>,
    /// Its snapshot.
    pub snapshot: Sealed<TrainingSnapshot>,
    /// The pre-deployment anchor.
    pub predeployment: Sealed<PreDeploymentAnchor>,
    /// The deployment anchor.
    pub deployment: Sealed<DeploymentAnchor>,
    /// Its status history.
    pub status_history: Vec<Sealed<DeploymentStatusEvent>>,
    /// The test evaluation.
    pub test_evaluation: Sealed<TestEvaluationAnchor>,
    /// The release root.
    pub release: Sealed<ReleaseRoot>,
    /// Each split's record ids and content digests (bound by the split anchors' roots).
    pub split_records: Vec<SplitRecords>,
    /// The training metrics (bound by the snapshot's `metrics_digest`).
    pub metrics: TrainingMetrics,
    /// The SBOM (bound by the pre-deployment anchor's `sbom_digest`).
    pub sbom: Sbom,
}

/// A split's record ids and content digests, stored as `split-records` evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRecords {
    /// The split.
    pub split: DatasetSplit,
    /// Its record ids, as anchored.
    pub record_ids: Vec<String>,
    /// Their content digests (empty when only ids were anchored).
    pub content_digests: BTreeMap<String, Digest>,
}

/// The two master passwords of a lifecycle.
#[derive(Debug)]
pub struct Passwords<'a> {
    /// The dataset family's.
    pub dataset: &'a str,
    /// The model's.
    pub model: &'a str,
}

/// Runs every stage of `input` through the managers.
///
/// # Errors
///
/// The first manager error (an empty field, an unknown reference, a leak between splits, ...).
pub fn record(
    ctx: &Context,
    input: LifecycleInput,
    passwords: &Passwords<'_>,
) -> Result<Recorded, crate::Error> {
    let LifecycleInput {
        comment: _,
        dataset,
        model,
        training,
        predeployment,
        deployment,
        test_evaluation,
    } = input;

    let mut datasets = DatasetFamilyManager::new(ctx.clone());
    let family = datasets.create_dataset_family_anchor(
        &dataset.family_id,
        dataset.metadata,
        passwords.dataset,
    )?;
    let split_map = datasets.add_dataset_splits(&family, dataset.splits)?;
    let split_records = split_map
        .keys()
        .map(|&split| SplitRecords {
            split,
            record_ids: datasets
                .split_records(&dataset.family_id, split)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            content_digests: datasets
                .split_contents(&dataset.family_id, split)
                .map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                .unwrap_or_default(),
        })
        .collect();

    let mut models = ModelManager::new(ctx.clone());
    let model_anchor = models.create_model_anchor(
        &datasets,
        ModelAnchorRequest {
            model_name: model.model_name,
            version: model.version,
            architecture: model.architecture,
            hyperparameters: model.hyperparameters,
            environment: model.environment,
            authorized_datasets: vec![dataset.family_id.clone()],
            trainer_commit: model.trainer_commit,
            parameters: None,
        },
        passwords.model,
    )?;

    let mut trainings = TrainingManager::new(ctx.clone());
    let data_splits = split_map
        .iter()
        .map(|(split, anchor)| (*split, anchor.digest))
        .collect();
    let session = trainings.start_training_session(
        &datasets,
        &models,
        &training.session_id,
        &model_anchor,
        datasets.datasets_root_anchor(&dataset.family_id)?,
        training.training_config,
        data_splits,
    )?;
    let mut checkpoints = Vec::with_capacity(training.checkpoints.len());
    for c in training.checkpoints {
        checkpoints.push(trainings.add_checkpoint(
            &session,
            &c.checkpoint_id,
            c.epoch,
            c.step,
            c.metrics,
            c.model_state_digest,
            c.optimizer_state_digest,
        )?);
    }
    let metrics = training.metrics.clone();
    let snapshot = trainings.complete_training_session(
        &session,
        training.final_model_digest,
        training.metrics,
        &training.user_id,
    )?;

    let mut deployments = DeploymentManager::new(ctx.clone());
    let sbom = predeployment.sbom.clone();
    let pre = deployments.create_predeployment_anchor(PreDeploymentRequest {
        predeployment_id: predeployment.predeployment_id,
        model_anchor: model_anchor.digest,
        training_snapshot: snapshot.digest,
        build_artifact: predeployment.build_artifact,
        sbom: predeployment.sbom,
        approval_ticket_id: predeployment.approval_ticket_id,
        intended_env: predeployment.intended_env,
        intended_region: predeployment.intended_region,
        rollout_plan_digest: predeployment.rollout_plan_digest,
    })?;
    let dep = deployments.create_deployment_anchor(
        &deployment.deployment_id,
        &pre.record.predeployment_id,
        deployment.infrastructure,
        deployment.network_config,
        &deployment.deployed_by,
    )?;
    let status_history = deployments
        .status_history(&deployment.deployment_id)
        .map(<[_]>::to_vec)
        .unwrap_or_default();

    let mut roots = RootManager::new(ctx.clone());
    let test_split = split_map.get(&test_evaluation.split).ok_or_else(|| {
        lcm_managers::Error::UnknownReference {
            kind: "test evaluation",
            id: test_evaluation.test_id.clone(),
            field: "split",
            reference: test_evaluation.split.to_string(),
        }
    })?;
    let test = roots.create_test_evaluation_anchor(
        &test_evaluation.test_id,
        &test_split.digest,
        &test_evaluation.evaluation_type,
        &test_evaluation.metrics,
    )?;
    let session_root = roots.compute_training_session_root(&snapshot)?;
    let release = roots.compute_release_root(&session_root, &pre, &dep, &test)?;

    Ok(Recorded {
        family,
        splits: split_map.into_values().collect(),
        model: model_anchor,
        session,
        checkpoints,
        snapshot,
        predeployment: pre,
        deployment: dep,
        status_history,
        test_evaluation: test,
        release,
        split_records,
        metrics,
        sbom,
    })
}

fn stored<T: Record>(id: String, sealed: &Sealed<T>) -> Result<StoredRecord, crate::Error> {
    Ok(StoredRecord {
        kind: T::KIND.to_owned(),
        id,
        digest: sealed.digest,
        json: canonical::to_string(&sealed.record)?,
    })
}

impl Recorded {
    /// The id of the model anchor in the store: `NAME@VERSION`.
    pub fn model_id(&self) -> String {
        model_id(&self.model.record)
    }

    /// The evidence to keep next to the records.
    ///
    /// # Errors
    ///
    /// Encoding errors (none for values the managers accepted).
    pub fn to_evidence(&self) -> Result<Vec<StoredEvidence>, crate::Error> {
        let family_id = &self.family.record.family_id;
        let mut out = Vec::with_capacity(self.split_records.len() + 2);
        for s in &self.split_records {
            out.push(StoredEvidence {
                kind: SPLIT_RECORDS.to_owned(),
                id: format!("{family_id}/{}", s.split),
                json: canonical::to_string(s)?,
            });
        }
        out.push(StoredEvidence {
            kind: TRAINING_METRICS.to_owned(),
            id: self.session.record.session_id.clone(),
            json: canonical::to_string(&self.metrics)?,
        });
        out.push(StoredEvidence {
            kind: SBOM.to_owned(),
            id: self.predeployment.record.predeployment_id.clone(),
            json: canonical::to_string(&self.sbom)?,
        });
        Ok(out)
    }

    /// Every record, as the store keeps it (see `docs/CLI.md` for the ids).
    ///
    /// # Errors
    ///
    /// Encoding errors (none for records the managers made).
    pub fn to_stored(&self) -> Result<Vec<StoredRecord>, crate::Error> {
        let family_id = &self.family.record.family_id;
        let session_id = &self.session.record.session_id;
        let deployment_id = &self.deployment.record.deployment_id;
        let mut out = vec![stored(family_id.clone(), &self.family)?];
        for s in &self.splits {
            out.push(stored(format!("{family_id}/{}", s.record.split), s)?);
        }
        out.push(stored(self.model_id(), &self.model)?);
        out.push(stored(session_id.clone(), &self.session)?);
        for c in &self.checkpoints {
            out.push(stored(
                format!("{session_id}/{}", c.record.checkpoint_id),
                c,
            )?);
        }
        out.push(stored(session_id.clone(), &self.snapshot)?);
        out.push(stored(
            self.predeployment.record.predeployment_id.clone(),
            &self.predeployment,
        )?);
        out.push(stored(deployment_id.clone(), &self.deployment)?);
        for e in &self.status_history {
            out.push(stored(format!("{deployment_id}/{}", e.record.sequence), e)?);
        }
        out.push(stored(
            self.test_evaluation.record.test_id.clone(),
            &self.test_evaluation,
        )?);
        out.push(stored(deployment_id.clone(), &self.release)?);
        Ok(out)
    }
}

/// The store id of a model anchor: `NAME@VERSION`.
pub fn model_id(anchor: &ModelAnchor) -> String {
    format!(
        "{}@{}",
        anchor.description.model_name, anchor.description.version
    )
}

/// The example lifecycle shipped in `examples/cli/lifecycle.json` (also `lcm demo`'s).
pub const EXAMPLE: &str = include_str!("../../../examples/cli/lifecycle.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_records_and_stores_every_stage() {
        let input: LifecycleInput = serde_json::from_str(EXAMPLE).unwrap();
        let ctx = Context::with_policy(lcm_model::Policy {
            kdf_iterations: lcm_model::policy::MIN_KDF_ITERATIONS,
            ..lcm_model::Policy::default()
        })
        .unwrap();
        let r = record(
            &ctx,
            input,
            &Passwords {
                dataset: "d",
                model: "m",
            },
        )
        .unwrap();
        assert_eq!(r.splits.len(), 3);
        let stored = r.to_stored().unwrap();
        let policy = ctx.policy();
        for s in &stored {
            let (digest, canon) = crate::check::recompute(policy, &s.kind, &s.json).unwrap();
            assert_eq!(digest, s.digest, "{} {}", s.kind, s.id);
            assert_eq!(canon, s.json);
        }
        lcm_managers::verify_release_root(policy, &r.release.record).unwrap();
        let evidence = r.to_evidence().unwrap();
        assert_eq!(evidence.len(), 5);
    }
}
