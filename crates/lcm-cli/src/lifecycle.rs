//! Recording lifecycles: `lcm record lifecycle FILE` (every stage from one JSON file, stored
//! in one transaction) and `lcm record dataset|model|training|predeployment|deployment|test|
//! release|status` (one stage at a time, against what the store holds).
//!
//! The managers check each stage against the ones before it (authorized datasets, split
//! anchors, model anchor, pre-deployment, ...). For a stage recorded on its own,
//! [`Managers::restore`] rebuilds them from the store first, recomputing every stored record
//! (the managers' `restore_*` methods trust nothing), and the new records are stored in the
//! same write transaction the store was read in, so two processes recording at once cannot
//! both append, say, checkpoint 3 of one session.
//!
//! Inference receipts follow later, any number of times (`lcm infer`), against the stored
//! model and deployment anchors.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_managers::{
    Context, DatasetFamilyManager, DeploymentManager, ModelAnchorRequest, ModelManager,
    PreDeploymentRequest, RestoredSplit, RootManager, TrainingManager,
};
use lcm_model::records::{
    BuildArtifact, DatasetFamilyAnchor, DatasetFamilyMetadata, DatasetSplit, DatasetSplitAnchor,
    DeploymentAnchor, DeploymentStatus, DeploymentStatusEvent, ModelAnchor, ModelArchitecture,
    PreDeploymentAnchor, ReleaseRoot, Sbom, SplitInfo, TestEvaluationAnchor, TrainingCheckpoint,
    TrainingEnvironment, TrainingMetrics, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, Record, Seal, Sealed, canonical};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::export;
use crate::store::{Store, StoredEvidence, StoredRecord};

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

/// Stage C: a training session, its checkpoints and its completion.
///
/// Recorded on its own, a file either starts a session (it names `model` and `family_id`) or
/// continues an open one (it names neither): its checkpoints are appended, and it completes
/// the session when it gives `final_model_digest` (with `user_id`).
#[derive(Debug, Clone, Deserialize)]
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
    /// The digest of the final weights (for example from `lcm fingerprint`); completes the
    /// session.
    #[serde(default)]
    pub final_model_digest: Option<Digest>,
    /// The final metrics.
    #[serde(default)]
    pub metrics: TrainingMetrics,
    /// Who completed the session.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Stage D: the pre-deployment anchor.
#[derive(Debug, Clone, Deserialize)]
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
    pub rollout_plan_digest: Option<Digest>,
}

/// Stage E: the deployment anchor.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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
    if let Value::Object(map) = &mut value {
        map.remove("_comment");
    }
    serde_json::from_value(value).map_err(|e| stage_error(stage, e.to_string()))
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

/// What a stage made: the records and the evidence to store, together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Staged {
    /// Sealed records, as the store keeps them.
    pub records: Vec<StoredRecord>,
    /// Evidence that the records bind by digest.
    pub evidence: Vec<StoredEvidence>,
}

impl Staged {
    fn record<T: Record>(
        &mut self,
        id: String,
        sealed: &impl Seal<Record = T>,
    ) -> Result<(), crate::Error> {
        self.records.push(StoredRecord {
            kind: T::KIND.to_owned(),
            id,
            digest: sealed.digest(),
            json: canonical::to_string(sealed.record())?,
        });
        Ok(())
    }

    fn evidence<T: Serialize>(
        &mut self,
        kind: &str,
        id: String,
        value: &T,
    ) -> Result<(), crate::Error> {
        self.evidence.push(StoredEvidence {
            kind: kind.to_owned(),
            id,
            json: canonical::to_string(value)?,
        });
        Ok(())
    }

    fn extend(&mut self, other: Self) {
        self.records.extend(other.records);
        self.evidence.extend(other.evidence);
    }
}

/// The store id of a model anchor: `NAME@VERSION`.
pub fn model_id(anchor: &ModelAnchor) -> String {
    format!(
        "{}@{}",
        anchor.description.model_name, anchor.description.version
    )
}

/// A stored record naming something the store does not hold.
fn dangling(
    kind: &'static str,
    id: &str,
    field: &'static str,
    reference: &str,
) -> lcm_managers::Error {
    lcm_managers::Error::UnknownReference {
        kind,
        id: id.to_owned(),
        field,
        reference: reference.to_owned(),
    }
}

fn stage_error(stage: &'static str, message: String) -> crate::Error {
    crate::Error::Stage { stage, message }
}

/// `Some(v)` of a field a stage file must give.
fn required<T>(stage: &'static str, field: &str, value: Option<T>) -> Result<T, crate::Error> {
    value.ok_or_else(|| stage_error(stage, format!("field {field} is required")))
}

/// In a lifecycle file, a reference is implied: left out, or equal to the implied one.
fn implied(
    stage: &'static str,
    field: &str,
    given: Option<&str>,
    implied: &str,
) -> Result<String, crate::Error> {
    match given {
        Some(g) if g != implied => Err(stage_error(
            stage,
            format!("field {field}: the lifecycle file's own is {implied}, the file says {g}"),
        )),
        _ => Ok(implied.to_owned()),
    }
}

/// The managers of a store's lifecycles.
#[derive(Debug)]
pub struct Managers {
    /// Dataset families and splits.
    pub datasets: DatasetFamilyManager,
    /// Model anchors.
    pub models: ModelManager,
    /// Training sessions.
    pub trainings: TrainingManager,
    /// Pre-deployments and deployments.
    pub deployments: DeploymentManager,
    /// Test evaluations and roots.
    pub roots: RootManager,
}

impl Managers {
    /// Empty managers under `ctx`.
    pub fn new(ctx: &Context) -> Self {
        Self {
            datasets: DatasetFamilyManager::new(ctx.clone()),
            models: ModelManager::new(ctx.clone()),
            trainings: TrainingManager::new(ctx.clone()),
            deployments: DeploymentManager::new(ctx.clone()),
            roots: RootManager::new(ctx.clone()),
        }
    }

    /// Managers holding everything `store` holds (except receipts and batches), each record
    /// recomputed by the managers' `restore_*` methods, and every reference between records
    /// resolved (a model's authorized families, a session's model and splits, a
    /// pre-deployment's model and training snapshot, a test's split): a record whose seal is
    /// right but that names something the store does not hold is refused.
    ///
    /// # Errors
    ///
    /// A stored record that does not parse or does not recompute, missing evidence, an
    /// unresolved reference ([`lcm_managers::Error::UnknownReference`]), and the managers'
    /// refusals.
    pub fn restore(ctx: &Context, store: &dyn Store) -> Result<Self, crate::Error> {
        let mut m = Self::new(ctx);
        let splits: Vec<Claimed<DatasetSplitAnchor>> = export::all(store)?;
        for family in export::all::<DatasetFamilyAnchor>(store)? {
            let mut restored = Vec::new();
            for anchor in splits
                .iter()
                .filter(|s| s.record.family_anchor == family.digest)
            {
                let ev: SplitRecords = export::evidence(
                    store,
                    SPLIT_RECORDS,
                    &format!("{}/{}", anchor.record.family_id, anchor.record.split),
                )?;
                restored.push(RestoredSplit {
                    anchor: anchor.clone(),
                    record_ids: ev.record_ids,
                    content_digests: ev.content_digests,
                });
            }
            m.datasets.restore_family(family, restored)?;
        }
        for model in export::all::<ModelAnchor>(store)? {
            for (family, digest) in &model.record.description.authorized_datasets {
                if m.datasets.dataset_family(family).map(Sealed::digest) != Some(*digest) {
                    return Err(dangling(
                        "model anchor",
                        &model_id(&model.record),
                        "authorized_datasets",
                        family,
                    )
                    .into());
                }
            }
            m.models.restore_model(model)?;
        }
        let checkpoints: Vec<Claimed<TrainingCheckpoint>> = export::all(store)?;
        for session in export::all::<TrainingSession>(store)? {
            let id = session.record.session_id.clone();
            let mut own: Vec<_> = checkpoints
                .iter()
                .filter(|c| c.record.session == session.digest)
                .cloned()
                .collect();
            own.sort_by_key(|c| c.record.index);
            let completion = match store.record(TrainingSnapshot::KIND, &id)? {
                Some(r) => Some((
                    export::evidence::<TrainingMetrics>(store, TRAINING_METRICS, &id)?,
                    export::sealed(&r)?,
                )),
                None => None,
            };
            m.trainings
                .restore_session(&m.datasets, &m.models, session, own, completion)?;
        }
        for pre in export::all::<PreDeploymentAnchor>(store)? {
            let r = &pre.record;
            // The snapshot of a stored session, and the model that session trained (the
            // stage that makes a pre-deployment takes both from the session).
            let Some(snapshot) = m.snapshot(&r.training_snapshot) else {
                let d = r.training_snapshot.to_string();
                return Err(dangling(
                    "pre-deployment",
                    &r.predeployment_id,
                    "training_snapshot",
                    &d,
                )
                .into());
            };
            if snapshot.record().model_anchor != r.model_anchor {
                let d = r.model_anchor.to_string();
                return Err(
                    dangling("pre-deployment", &r.predeployment_id, "model_anchor", &d).into(),
                );
            }
            let sbom: Sbom = export::evidence(store, SBOM, &pre.record.predeployment_id)?;
            m.deployments.restore_predeployment(pre, sbom)?;
        }
        let events: Vec<Claimed<DeploymentStatusEvent>> = export::all(store)?;
        let mut deployments = BTreeMap::new();
        for dep in export::all::<DeploymentAnchor>(store)? {
            let mut history: Vec<_> = events
                .iter()
                .filter(|e| e.record.deployment_id == dep.record.deployment_id)
                .cloned()
                .collect();
            history.sort_by_key(|e| e.record.sequence);
            deployments.insert(dep.record.deployment_id.clone(), dep.clone());
            m.deployments.restore_deployment(dep, history)?;
        }
        for test in export::all::<TestEvaluationAnchor>(store)? {
            if m.datasets
                .find_split_anchor(&test.record.test_dataset)
                .is_none()
            {
                let d = test.record.test_dataset.to_string();
                return Err(
                    dangling("test evaluation", &test.record.test_id, "test_dataset", &d).into(),
                );
            }
            m.roots.restore_test_evaluation(test)?;
        }
        for r in store.records(Some(ReleaseRoot::KIND))? {
            let dep = deployments
                .get(&r.id)
                .ok_or_else(|| export::Error::Missing {
                    kind: DeploymentAnchor::KIND,
                    id: r.id.clone(),
                })?;
            let release: Claimed<ReleaseRoot> = export::sealed(&r)?;
            // The managers cannot resolve the training session root leaf (the root manager
            // holds no sessions): it must be the root of the session the release's
            // pre-deployment was built from.
            let snapshot = m
                .deployments
                .predeployment(&dep.record.predeployment_id)
                .and_then(|pre| m.snapshot(&pre.record().training_snapshot));
            let session_root = match snapshot {
                Some(snapshot) => Some(m.roots.compute_training_session_root(snapshot)?),
                None => None,
            };
            if session_root != Some(release.record.training_session_root) {
                let d = release.record.training_session_root.to_string();
                return Err(dangling("release root", &r.id, "training_session_root", &d).into());
            }
            m.roots.restore_release_root(dep, release)?;
        }
        Ok(m)
    }

    /// The snapshot with this digest, of whichever session completed with it.
    fn snapshot(&self, digest: &Digest) -> Option<&Sealed<TrainingSnapshot>> {
        self.trainings
            .session_ids()
            .filter_map(|s| self.trainings.training_session(s))
            .find_map(|run| run.snapshot().filter(|snap| snap.digest() == *digest))
    }

    /// Stage A: a dataset family and its splits.
    ///
    /// # Errors
    ///
    /// The managers' refusals (empty fields, a duplicate family, overlapping splits, ...).
    pub fn dataset(&mut self, input: DatasetInput, password: &str) -> Result<Staged, crate::Error> {
        let family_id = input.family_id;
        let family =
            self.datasets
                .create_dataset_family_anchor(&family_id, input.metadata, password)?;
        let splits = self.datasets.add_dataset_splits(&family, input.splits)?;
        let mut out = Staged::default();
        out.record(family_id.clone(), &family)?;
        for (split, anchor) in &splits {
            let id = format!("{family_id}/{split}");
            out.record(id.clone(), anchor)?;
            let records = SplitRecords {
                split: *split,
                record_ids: self
                    .datasets
                    .split_records(&family_id, *split)
                    .map(<[String]>::to_vec)
                    .unwrap_or_default(),
                content_digests: self
                    .datasets
                    .split_contents(&family_id, *split)
                    .map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                    .unwrap_or_default(),
            };
            out.evidence(SPLIT_RECORDS, id, &records)?;
        }
        Ok(out)
    }

    /// Stage B: a model anchor, authorized on the families it names.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Stage`] when it names no family; the managers' refusals (an unknown
    /// family, a duplicate name and version, ...).
    pub fn model(&mut self, input: ModelInput, password: &str) -> Result<Staged, crate::Error> {
        if input.authorized_datasets.is_empty() {
            return Err(stage_error(
                "model",
                "field authorized_datasets is required (the dataset families it may be \
                 trained on)"
                    .to_owned(),
            ));
        }
        let anchor = self.models.create_model_anchor(
            &self.datasets,
            ModelAnchorRequest {
                model_name: input.model_name,
                version: input.version,
                architecture: input.architecture,
                hyperparameters: input.hyperparameters,
                environment: input.environment,
                authorized_datasets: input.authorized_datasets,
                trainer_commit: input.trainer_commit,
                parameters: None,
            },
            password,
        )?;
        let mut out = Staged::default();
        out.record(model_id(anchor.record()), &anchor)?;
        Ok(out)
    }

    /// Stage C: starts a training session or continues an open one (see [`TrainingInput`]).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Stage`] for a file that starts a session without `model` or
    /// `family_id`, continues one with them, or completes one without `user_id`; the
    /// managers' refusals (an unknown model or family, a completed session, ...).
    pub fn training(&mut self, input: TrainingInput) -> Result<Staged, crate::Error> {
        const STAGE: &str = "training";
        let id = input.session_id;
        let mut out = Staged::default();
        let session = if let Some(run) = self.trainings.training_session(&id) {
            if input.model.is_some() || input.family_id.is_some() || input.training_config.is_some()
            {
                return Err(stage_error(
                    STAGE,
                    format!(
                        "session {id} is already started: a file that continues it gives only \
                         session_id, checkpoints, and to complete it final_model_digest, \
                         metrics and user_id"
                    ),
                ));
            }
            run.session().clone()
        } else {
            let model = required(STAGE, "model", input.model)?;
            let family_id = required(STAGE, "family_id", input.family_id)?;
            let (name, version) = model.rsplit_once('@').ok_or_else(|| {
                stage_error(
                    STAGE,
                    format!("field model: expected NAME@VERSION, got {model}"),
                )
            })?;
            let anchor = self
                .models
                .model_anchor(name, version)
                .cloned()
                .ok_or_else(|| lcm_managers::Error::UnknownReference {
                    kind: "training session",
                    id: id.clone(),
                    field: "model",
                    reference: model.clone(),
                })?;
            let data_splits = self
                .datasets
                .split_anchors(&family_id)
                .iter()
                .map(|(s, a)| (*s, a.digest()))
                .collect();
            let session = self.trainings.start_training_session(
                &self.datasets,
                &self.models,
                &id,
                &anchor,
                self.datasets.datasets_root_anchor(&family_id)?,
                input.training_config.unwrap_or_default(),
                data_splits,
            )?;
            out.record(id.clone(), &session)?;
            session
        };
        for c in input.checkpoints {
            let checkpoint = self.trainings.add_checkpoint(
                &session,
                &c.checkpoint_id,
                c.epoch,
                c.step,
                c.metrics,
                c.model_state_digest,
                c.optimizer_state_digest,
            )?;
            out.record(format!("{id}/{}", c.checkpoint_id), &checkpoint)?;
        }
        if let Some(final_digest) = input.final_model_digest {
            let user = required(STAGE, "user_id", input.user_id)?;
            let metrics = input.metrics;
            out.evidence(TRAINING_METRICS, id.clone(), &metrics)?;
            let snapshot =
                self.trainings
                    .complete_training_session(&session, final_digest, metrics, &user)?;
            out.record(id, &snapshot)?;
        } else if input.user_id.is_some() || input.metrics != TrainingMetrics::default() {
            return Err(stage_error(
                STAGE,
                "fields user_id and metrics complete a session and need final_model_digest"
                    .to_owned(),
            ));
        }
        Ok(out)
    }

    /// Stage D: a pre-deployment anchor of the model of a completed training session.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Stage`] without `session_id`; an unknown or open session; the
    /// managers' refusals.
    pub fn predeployment(&mut self, input: PreDeploymentInput) -> Result<Staged, crate::Error> {
        let session_id = required("predeployment", "session_id", input.session_id)?;
        let unknown = |field: &'static str| lcm_managers::Error::UnknownReference {
            kind: "pre-deployment",
            id: input.predeployment_id.clone(),
            field,
            reference: session_id.clone(),
        };
        let run = self
            .trainings
            .training_session(&session_id)
            .ok_or_else(|| unknown("session_id"))?;
        let snapshot = run.snapshot().ok_or_else(|| {
            stage_error(
                "predeployment",
                format!("training session {session_id} is not completed"),
            )
        })?;
        let model_anchor = run.session().record().model_anchor;
        let training_snapshot = snapshot.digest();
        let sbom = input.sbom.clone();
        let pre = self
            .deployments
            .create_predeployment_anchor(PreDeploymentRequest {
                predeployment_id: input.predeployment_id,
                model_anchor,
                training_snapshot,
                build_artifact: input.build_artifact,
                sbom: input.sbom,
                approval_ticket_id: input.approval_ticket_id,
                intended_env: input.intended_env,
                intended_region: input.intended_region,
                rollout_plan_digest: input.rollout_plan_digest,
            })?;
        let id = pre.record().predeployment_id.clone();
        let mut out = Staged::default();
        out.record(id.clone(), &pre)?;
        out.evidence(SBOM, id, &sbom)?;
        Ok(out)
    }

    /// Stage E: a deployment anchor carrying out a pre-deployment, with its first status
    /// event.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Stage`] without `predeployment_id`; the managers' refusals.
    pub fn deployment(&mut self, input: DeploymentInput) -> Result<Staged, crate::Error> {
        let pre = required("deployment", "predeployment_id", input.predeployment_id)?;
        let id = input.deployment_id;
        let dep = self.deployments.create_deployment_anchor(
            &id,
            &pre,
            input.infrastructure,
            input.network_config,
            &input.deployed_by,
        )?;
        let mut out = Staged::default();
        out.record(id.clone(), &dep)?;
        for e in self.deployments.status_history(&id).unwrap_or_default() {
            out.record(format!("{id}/{}", e.record().sequence), e)?;
        }
        Ok(out)
    }

    /// Stage F: a test evaluation of one of a family's splits.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Stage`] without `family_id`; an unknown split; the managers' refusals.
    pub fn test_evaluation(&mut self, input: TestEvaluationInput) -> Result<Staged, crate::Error> {
        let family_id = required("test evaluation", "family_id", input.family_id)?;
        let split = self
            .datasets
            .split_anchor(&family_id, input.split)
            .ok_or_else(|| lcm_managers::Error::UnknownReference {
                kind: "test evaluation",
                id: input.test_id.clone(),
                field: "split",
                reference: format!("{family_id}/{}", input.split),
            })?
            .digest();
        let test = self.roots.create_test_evaluation_anchor(
            &input.test_id,
            &split,
            &input.evaluation_type,
            &input.metrics,
        )?;
        let mut out = Staged::default();
        out.record(input.test_id, &test)?;
        Ok(out)
    }

    /// Stage H: the training session root and the release root of a deployment, with the
    /// test evaluation it was released on. Stored under the deployment's id.
    ///
    /// # Errors
    ///
    /// Unknown references (deployment, its pre-deployment and training session, test); the
    /// managers' refusals (a release root computed already, ...).
    pub fn release(&mut self, deployment_id: &str, test_id: &str) -> Result<Staged, crate::Error> {
        let unknown =
            |field: &'static str, reference: &str| lcm_managers::Error::UnknownReference {
                kind: "release root",
                id: deployment_id.to_owned(),
                field,
                reference: reference.to_owned(),
            };
        let dep = self
            .deployments
            .deployment(deployment_id)
            .cloned()
            .ok_or_else(|| unknown("deployment", deployment_id))?;
        let pre = self
            .deployments
            .predeployment(&dep.record().predeployment_id)
            .cloned()
            .ok_or_else(|| unknown("predeployment", &dep.record().predeployment_id))?;
        let snapshot = self
            .snapshot(&pre.record().training_snapshot)
            .cloned()
            .ok_or_else(|| {
                unknown(
                    "training_snapshot",
                    &pre.record().training_snapshot.to_string(),
                )
            })?;
        let test = self
            .roots
            .test_evaluation(test_id)
            .cloned()
            .ok_or_else(|| unknown("test_evaluation", test_id))?;
        let session_root = self.roots.compute_training_session_root(&snapshot)?;
        let release = self
            .roots
            .compute_release_root(&session_root, &pre, &dep, &test)?;
        let mut out = Staged::default();
        out.record(deployment_id.to_owned(), &release)?;
        Ok(out)
    }

    /// A deployment status change (a rollback, a failure, a retry), appended to the
    /// deployment's history.
    ///
    /// # Errors
    ///
    /// The managers' refusals (an unknown deployment, a change that is not allowed).
    pub fn status(
        &mut self,
        deployment_id: &str,
        status: DeploymentStatus,
        reason: &str,
    ) -> Result<Staged, crate::Error> {
        let event = self
            .deployments
            .record_status(deployment_id, status, reason)?;
        let mut out = Staged::default();
        out.record(
            format!("{deployment_id}/{}", event.record().sequence),
            &event,
        )?;
        Ok(out)
    }

    /// Every stage of a lifecycle file, in order, then its release root.
    ///
    /// # Errors
    ///
    /// The first stage's error; [`crate::Error::Stage`] for a reference that contradicts the
    /// file's own stages, or a training section that does not complete its session.
    pub fn lifecycle(
        &mut self,
        input: LifecycleInput,
        passwords: &Passwords<'_>,
    ) -> Result<Staged, crate::Error> {
        let LifecycleInput {
            comment: _,
            dataset,
            mut model,
            mut training,
            mut predeployment,
            mut deployment,
            mut test_evaluation,
        } = input;
        let family_id = dataset.family_id.clone();
        if model.authorized_datasets.is_empty() {
            model.authorized_datasets.push(family_id.clone());
        }
        let model_ref = format!("{}@{}", model.model_name, model.version);
        training.model = Some(implied(
            "training",
            "model",
            training.model.as_deref(),
            &model_ref,
        )?);
        training.family_id = Some(implied(
            "training",
            "family_id",
            training.family_id.as_deref(),
            &family_id,
        )?);
        if training.final_model_digest.is_none() {
            return Err(stage_error(
                "training",
                "field final_model_digest is required in a lifecycle file (the release needs \
                 a completed session)"
                    .to_owned(),
            ));
        }
        predeployment.session_id = Some(implied(
            "predeployment",
            "session_id",
            predeployment.session_id.as_deref(),
            &training.session_id,
        )?);
        deployment.predeployment_id = Some(implied(
            "deployment",
            "predeployment_id",
            deployment.predeployment_id.as_deref(),
            &predeployment.predeployment_id,
        )?);
        test_evaluation.family_id = Some(implied(
            "test evaluation",
            "family_id",
            test_evaluation.family_id.as_deref(),
            &family_id,
        )?);
        let deployment_id = deployment.deployment_id.clone();
        let test_id = test_evaluation.test_id.clone();
        let mut out = self.dataset(dataset, passwords.dataset)?;
        out.extend(self.model(model, passwords.model)?);
        out.extend(self.training(training)?);
        out.extend(self.predeployment(predeployment)?);
        out.extend(self.deployment(deployment)?);
        out.extend(self.test_evaluation(test_evaluation)?);
        out.extend(self.release(&deployment_id, &test_id)?);
        Ok(out)
    }
}

/// The example lifecycle shipped in `examples/cli/lifecycle.json` (also `lcm demo`'s).
pub const EXAMPLE: &str = include_str!("../../../examples/cli/lifecycle.json");

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::with_policy(lcm_model::Policy {
            kdf_iterations: lcm_model::policy::MIN_KDF_ITERATIONS,
            ..lcm_model::Policy::default()
        })
        .unwrap()
    }

    #[test]
    fn example_records_and_stores_every_stage() {
        let input: LifecycleInput = serde_json::from_str(EXAMPLE).unwrap();
        let ctx = ctx();
        let staged = Managers::new(&ctx)
            .lifecycle(
                input,
                &Passwords {
                    dataset: "d",
                    model: "m",
                },
            )
            .unwrap();
        let kinds = |k: &str| staged.records.iter().filter(|r| r.kind == k).count();
        assert_eq!(kinds(DatasetSplitAnchor::KIND), 3);
        assert_eq!(kinds(TrainingCheckpoint::KIND), 2);
        assert_eq!(kinds(ReleaseRoot::KIND), 1);
        let policy = ctx.policy();
        for s in &staged.records {
            let (digest, canon) = crate::check::recompute(policy, &s.kind, &s.json).unwrap();
            assert_eq!(digest, s.digest, "{} {}", s.kind, s.id);
            assert_eq!(canon, s.json);
        }
        let release = staged
            .records
            .iter()
            .find(|r| r.kind == ReleaseRoot::KIND)
            .unwrap();
        let release: ReleaseRoot = serde_json::from_str(&release.json).unwrap();
        lcm_managers::verify_release_root(policy, &release).unwrap();
        assert_eq!(staged.evidence.len(), 5);
    }

    #[test]
    fn a_lifecycle_file_reference_must_be_its_own() {
        let mut input: LifecycleInput = serde_json::from_str(EXAMPLE).unwrap();
        input.training.model = Some("other@v9".to_owned());
        let err = Managers::new(&ctx())
            .lifecycle(
                input,
                &Passwords {
                    dataset: "d",
                    model: "m",
                },
            )
            .unwrap_err();
        assert!(
            matches!(&err, crate::Error::Stage { stage: "training", message } if message.contains("other@v9")),
            "{err}"
        );
    }
}
