//! Recording lifecycles: `lcm record lifecycle FILE` (every stage from one JSON file, stored
//! in one transaction) and `lcm record dataset|model|training|predeployment|deployment|test|
//! release|status` (one stage at a time, against what the store holds).
//!
//! The managers check each stage against the ones before it (authorized datasets, split
//! anchors, model anchor, pre-deployment, ...). For a stage recorded on its own,
//! [`restore`] rebuilds them from the store first, recomputing every stored record
//! (the managers' `restore_*` methods trust nothing), and the new records are stored in the
//! same write transaction the store was read in, so two processes recording at once cannot
//! both append, say, checkpoint 3 of one session.
//!
//! Inference receipts follow later, any number of times (`lcm infer`), against the stored
//! model and deployment anchors.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_managers::{Context, ModelAnchorRequest, PreDeploymentRequest, Project};
use lcm_model::records::{DatasetSplit, DeploymentStatus, ModelAnchor, TrainingMetrics};
use lcm_model::{Record, Sealed, canonical};
use serde::{Deserialize, Serialize};

use crate::{Store, StoredEvidence, StoredRecord};

pub mod demo;
pub mod gates;
mod input;
mod read;
mod restore;
mod schema;
pub mod views;
mod weights;

pub use self::gates::Overrides;
pub use self::input::{
    CheckpointInput, DatasetInput, DeploymentInput, LifecycleInput, ModelInput, PreDeploymentInput,
    TestEvaluationInput, TrainingInput, parse_lifecycle, parse_stage, strict_value,
};
pub use self::read::{ReadError, StageKind, read_lifecycle, read_stage};
pub use self::restore::restore;
pub use self::schema::{
    EXAMPLE_FILES, OTHER_SCHEMA_KINDS, SCHEMA_KINDS, UnknownSchemaKind, example, schema,
    schema_listing, schema_of,
};
pub use self::weights::{final_weights, model_weights};

/// The evidence kind of a split's record ids and content digests.
pub const SPLIT_RECORDS: &str = "split-records";
/// The evidence kind of a training run's metrics.
pub const TRAINING_METRICS: &str = "training-metrics";
/// The evidence kind of a pre-deployment's SBOM.
pub const SBOM: &str = "sbom";

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
    fn record<T: Record>(&mut self, id: String, sealed: &Sealed<T>) -> Result<(), crate::Error> {
        self.records.push(StoredRecord {
            kind: T::KIND.to_owned(),
            id,
            digest: sealed.digest(),
            json: canonical::to_string(&sealed.record())?,
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

/// In a lifecycle file, a reference is implied: left out, or equal to the implied one. Sets
/// the `given` reference to the implied one.
fn imply(
    stage: &'static str,
    field: &str,
    given: &mut Option<String>,
    implied: &str,
) -> Result<(), crate::Error> {
    match given.as_deref() {
        Some(g) if g != implied => Err(stage_error(
            stage,
            format!("field {field}: the lifecycle file's own is {implied}, the file says {g}"),
        )),
        _ => {
            *given = Some(implied.to_owned());
            Ok(())
        }
    }
}

/// Stage A: a dataset family and its splits.
///
/// # Errors
///
/// The managers' refusals (empty fields, a duplicate family, overlapping splits, ...).
pub fn dataset_stage(
    p: &mut Project,
    input: DatasetInput,
    password: &str,
) -> Result<Staged, crate::Error> {
    let family_id = input.family_id;
    let family = p
        .datasets
        .create_dataset_family_anchor(&family_id, input.metadata, password)?;
    let splits = p.datasets.add_dataset_splits(&family, input.splits)?;
    let mut out = Staged::default();
    out.record(family_id.clone(), &family)?;
    for (split, anchor) in &splits {
        let id = format!("{family_id}/{split}");
        out.record(id.clone(), anchor)?;
        let records = SplitRecords {
            split: *split,
            record_ids: p
                .datasets
                .split_records(&family_id, *split)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            content_digests: p
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
pub fn model_stage(
    p: &mut Project,
    input: ModelInput,
    password: &str,
) -> Result<Staged, crate::Error> {
    if input.authorized_datasets.is_empty() {
        return Err(stage_error(
            "model",
            "field authorized_datasets is required (the dataset families it may be \
             trained on)"
                .to_owned(),
        ));
    }
    let anchor = p.models.create_model_anchor(
        &p.datasets,
        ModelAnchorRequest {
            model_name: input.model_name,
            version: input.version,
            architecture: input.architecture,
            hyperparameters: input.hyperparameters,
            environment: input.environment,
            authorized_datasets: input.authorized_datasets,
            trainer_commit: input.trainer_commit,
            parameters: input.parameters,
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
pub fn training_stage(p: &mut Project, input: TrainingInput) -> Result<Staged, crate::Error> {
    const STAGE: &str = "training";
    let id = input.session_id;
    let mut out = Staged::default();
    let session = if let Some(run) = p.training.training_session(&id) {
        if input.model.is_some() || input.family_id.is_some() || input.training_config.is_some() {
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
        let anchor = p
            .models
            .model_anchor(name, version)
            .cloned()
            .ok_or_else(|| lcm_managers::Error::UnknownReference {
                kind: "training session",
                id: id.clone(),
                field: "model",
                reference: model.clone(),
            })?;
        let data_splits = p
            .datasets
            .split_anchors(&family_id)
            .iter()
            .map(|(s, a)| (*s, a.digest()))
            .collect();
        let session = p.training.start_training_session(
            &p.datasets,
            &p.models,
            &id,
            &anchor,
            p.datasets.datasets_root_anchor(&family_id)?,
            input.training_config.unwrap_or_default(),
            data_splits,
        )?;
        out.record(id.clone(), &session)?;
        session
    };
    for c in input.checkpoints {
        let checkpoint = p.training.add_checkpoint(
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
            p.training
                .complete_training_session(&session, final_digest, metrics, &user)?;
        out.record(id, &snapshot)?;
    } else if input.user_id.is_some() || input.metrics != TrainingMetrics::default() {
        return Err(stage_error(
            STAGE,
            "fields user_id and metrics complete a session and need final_model_digest".to_owned(),
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
pub fn predeployment_stage(
    p: &mut Project,
    input: PreDeploymentInput,
) -> Result<Staged, crate::Error> {
    let session_id = required("predeployment", "session_id", input.session_id)?;
    let unknown = |field: &'static str| lcm_managers::Error::UnknownReference {
        kind: "pre-deployment",
        id: input.predeployment_id.clone(),
        field,
        reference: session_id.clone(),
    };
    let run = p
        .training
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
    let pre = p
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
pub fn deployment_stage(p: &mut Project, input: DeploymentInput) -> Result<Staged, crate::Error> {
    let pre = required("deployment", "predeployment_id", input.predeployment_id)?;
    let id = input.deployment_id;
    let dep = p.deployments.create_deployment_anchor(
        &id,
        &pre,
        input.infrastructure,
        input.network_config,
        &input.deployed_by,
    )?;
    let mut out = Staged::default();
    out.record(id.clone(), &dep)?;
    for e in p.deployments.status_history(&id).unwrap_or_default() {
        out.record(format!("{id}/{}", e.record().sequence), e)?;
    }
    Ok(out)
}

/// Stage F: a test evaluation of one of a family's splits.
///
/// # Errors
///
/// [`crate::Error::Stage`] without `family_id`; an unknown split; the managers' refusals.
pub fn test_evaluation_stage(
    p: &mut Project,
    input: TestEvaluationInput,
) -> Result<Staged, crate::Error> {
    let family_id = required("test evaluation", "family_id", input.family_id)?;
    let split = p
        .datasets
        .split_anchor(&family_id, input.split)
        .ok_or_else(|| lcm_managers::Error::UnknownReference {
            kind: "test evaluation",
            id: input.test_id.clone(),
            field: "split",
            reference: format!("{family_id}/{}", input.split),
        })?
        .digest();
    let test = p.roots.create_test_evaluation_anchor(
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
pub fn release_stage(
    p: &mut Project,
    deployment_id: &str,
    test_id: &str,
) -> Result<Staged, crate::Error> {
    let unknown = |field: &'static str, reference: &str| lcm_managers::Error::UnknownReference {
        kind: "release root",
        id: deployment_id.to_owned(),
        field,
        reference: reference.to_owned(),
    };
    let dep = p
        .deployments
        .deployment(deployment_id)
        .cloned()
        .ok_or_else(|| unknown("deployment", deployment_id))?;
    let pre = p
        .deployments
        .predeployment(&dep.record().predeployment_id)
        .cloned()
        .ok_or_else(|| unknown("predeployment", &dep.record().predeployment_id))?;
    let snapshot = p
        .snapshot(&pre.record().training_snapshot)
        .cloned()
        .ok_or_else(|| {
            unknown(
                "training_snapshot",
                &pre.record().training_snapshot.to_string(),
            )
        })?;
    let test = p
        .roots
        .test_evaluation(test_id)
        .cloned()
        .ok_or_else(|| unknown("test_evaluation", test_id))?;
    let session_root = p.roots.compute_training_session_root(&snapshot)?;
    let release = p
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
pub fn status_stage(
    p: &mut Project,
    deployment_id: &str,
    status: DeploymentStatus,
    reason: &str,
) -> Result<Staged, crate::Error> {
    let event = p.deployments.record_status(deployment_id, status, reason)?;
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
pub fn lifecycle_stage(
    p: &mut Project,
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
    imply("training", "model", &mut training.model, &model_ref)?;
    imply("training", "family_id", &mut training.family_id, &family_id)?;
    if training.final_model_digest.is_none() {
        return Err(stage_error(
            "training",
            "field final_model_digest is required in a lifecycle file (the release needs \
             a completed session)"
                .to_owned(),
        ));
    }
    imply(
        "predeployment",
        "session_id",
        &mut predeployment.session_id,
        &training.session_id,
    )?;
    imply(
        "deployment",
        "predeployment_id",
        &mut deployment.predeployment_id,
        &predeployment.predeployment_id,
    )?;
    imply(
        "test evaluation",
        "family_id",
        &mut test_evaluation.family_id,
        &family_id,
    )?;
    let deployment_id = deployment.deployment_id.clone();
    let test_id = test_evaluation.test_id.clone();
    let mut out = dataset_stage(p, dataset, passwords.dataset)?;
    out.extend(model_stage(p, model, passwords.model)?);
    out.extend(training_stage(p, training)?);
    out.extend(predeployment_stage(p, predeployment)?);
    out.extend(deployment_stage(p, deployment)?);
    out.extend(test_evaluation_stage(p, test_evaluation)?);
    out.extend(release_stage(p, &deployment_id, &test_id)?);
    Ok(out)
}

/// Records a whole lifecycle into `store`, next to the lifecycles it holds already (every
/// id must be new), in one transaction; returns the stored records.
///
/// # Errors
///
/// As [`lifecycle_stage`]; [`crate::Error::Duplicate`]; write failures.
pub fn record_into(
    store: &mut dyn Store,
    input: LifecycleInput,
    passwords: &Passwords<'_>,
) -> Result<Vec<StoredRecord>, crate::Error> {
    record_into_with(store, input, passwords, &Overrides::default())
}

/// [`record_into`] for a synthetic lifecycle (`lcm demo`): a [`gates::SyntheticMarker`] with
/// `note` is recorded with it, so every header and bundle exported of it says so, signed.
///
/// # Errors
///
/// As [`record_into`].
pub fn record_synthetic_into(
    store: &mut dyn Store,
    input: LifecycleInput,
    passwords: &Passwords<'_>,
    note: &str,
) -> Result<Vec<StoredRecord>, crate::Error> {
    record_lifecycle(store, input, passwords, &Overrides::default(), Some(note))
}

/// [`record_into`], with reasons for passing policy gates ([`gates`]): each gate passed is
/// recorded as a sealed [`gates::PolicyOverride`] with the lifecycle.
///
/// # Errors
///
/// As [`record_into`]; a gate that holds, as [`crate::Error::Stage`].
pub fn record_into_with(
    store: &mut dyn Store,
    input: LifecycleInput,
    passwords: &Passwords<'_>,
    overrides: &Overrides,
) -> Result<Vec<StoredRecord>, crate::Error> {
    record_lifecycle(store, input, passwords, overrides, None)
}

/// [`record_into_with`], and with a synthetic `note` the marker of
/// [`record_synthetic_into`].
fn record_lifecycle(
    store: &mut dyn Store,
    input: LifecycleInput,
    passwords: &Passwords<'_>,
    overrides: &Overrides,
    synthetic: Option<&str>,
) -> Result<Vec<StoredRecord>, crate::Error> {
    let policy = store.policy()?;
    let ctx = Context::with_policy(policy.clone())?;
    let deployment = input.deployment.deployment_id.clone();
    let mut staged = lifecycle_stage(&mut Project::new(ctx)?, input, passwords)?;
    gates::apply(&*store, &policy, overrides, &mut staged)?;
    if let Some(note) = synthetic {
        staged
            .records
            .push(gates::synthetic_marker(&policy, &deployment, note)?);
    }
    store.put_records(&staged.records, &staged.evidence)?;
    Ok(staged.records)
}

/// One stage to record on its own (`lcm record STAGE`). The passwords it holds are zeroized
/// when it is dropped.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stage {
    /// A dataset family and its splits, with the family's master password.
    Dataset(DatasetInput, String),
    /// A model, with its master password.
    Model(ModelInput, String),
    /// A training session (started, continued or completed).
    Training(TrainingInput),
    /// A pre-deployment.
    Predeployment(PreDeploymentInput),
    /// A deployment.
    Deployment(DeploymentInput),
    /// A test evaluation.
    Test(TestEvaluationInput),
    /// The release root of a deployment and a test evaluation.
    Release {
        /// The deployment id.
        deployment: String,
        /// The test evaluation id.
        test: String,
    },
    /// A deployment status change.
    Status {
        /// The deployment id.
        deployment: String,
        /// The new status.
        status: DeploymentStatus,
        /// Why.
        reason: String,
    },
}

impl Stage {
    /// Records this stage on `m`.
    ///
    /// # Errors
    ///
    /// The stage's errors (see each `*_stage` function).
    pub fn run(&self, m: &mut Project) -> Result<Staged, crate::Error> {
        match self {
            Self::Dataset(i, p) => dataset_stage(m, i.clone(), p),
            Self::Model(i, p) => model_stage(m, i.clone(), p),
            Self::Training(i) => training_stage(m, i.clone()),
            Self::Predeployment(i) => predeployment_stage(m, i.clone()),
            Self::Deployment(i) => deployment_stage(m, i.clone()),
            Self::Test(i) => test_evaluation_stage(m, i.clone()),
            Self::Release { deployment, test } => release_stage(m, deployment, test),
            Self::Status {
                deployment,
                status,
                reason,
            } => status_stage(m, deployment, *status, reason),
        }
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Self::Dataset(_, p) | Self::Model(_, p) = self {
            zeroize::Zeroize::zeroize(p);
        }
    }
}

/// Records one stage: rebuilds the managers from `store` ([`restore`]) and stores
/// what the stage makes, inside one write transaction; returns the stored records.
///
/// # Errors
///
/// As [`restore`] and [`Stage::run`]; write failures. Nothing is written then.
pub fn record_stage(
    store: &mut dyn Store,
    stage: &Stage,
) -> Result<Vec<StoredRecord>, crate::Error> {
    record_stage_with(store, stage, &Overrides::default())
}

/// [`record_stage`], with reasons for passing policy gates ([`gates`]).
///
/// # Errors
///
/// As [`record_stage`]; a gate that holds, as [`crate::Error::Stage`].
pub fn record_stage_with(
    store: &mut dyn Store,
    stage: &Stage,
    overrides: &Overrides,
) -> Result<Vec<StoredRecord>, crate::Error> {
    let policy = store.policy()?;
    let ctx = Context::with_policy(policy.clone())?;
    store.put_records_with(&mut |s| {
        let mut managers = restore(&ctx, s)?;
        let mut staged = stage.run(&mut managers)?;
        gates::apply(s, &policy, overrides, &mut staged)?;
        Ok((staged.records, staged.evidence))
    })
}

/// The example lifecycle shipped in `examples/cli/lifecycle.json` (also `lcm demo`'s).
pub const EXAMPLE: &str = include_str!("../../../../examples/cli/lifecycle.json");

#[cfg(test)]
mod tests;
