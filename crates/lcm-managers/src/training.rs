//! [`TrainingManager`]: training sessions over authorized dataset splits, hash-chained
//! checkpoints, one-time completion into a [`TrainingSnapshot`], and the training session
//! root.
//!
//! The Python reference's training root covers three values (model hash, datasets root,
//! snapshot Merkle root) and ignores the config, the checkpoints and the metrics, so two
//! different runs of one model get the same root. Here [`compute_training_session_root`] is
//! the RFC 9162 root over eight full digests, in this order:
//!
//! | leaf | value |
//! |---|---|
//! | 0 | the model anchor digest |
//! | 1 | the datasets root |
//! | 2 | the session digest (session id, config, split anchors, start time) |
//! | 3 | the training config digest |
//! | 4 | the checkpoint chain head (the last checkpoint's digest, or the session digest) |
//! | 5 | the metrics digest |
//! | 6 | the final model digest |
//! | 7 | the snapshot digest (all of the above, the checkpoint count, the user, both times) |
//!
//! so a change to any of them changes the root.

use std::collections::{BTreeMap, BTreeSet};

use lcm_crypto::Digest;
use lcm_model::records::{
    DatasetSplit, ModelAnchor, TrainingCheckpoint, TrainingMetrics, TrainingSession,
    TrainingSnapshot, training_config_digest,
};
use lcm_model::verify::{
    check_checkpoint_order, compute_datasets_root, compute_training_session_root,
    model_authorizes_family, verify_training_run,
};
use lcm_model::{Claimed, DomainType, Finite, Seal, Sealed};
use serde_json::{Map, Value};

use crate::restore::{check_seal, fresh_id, new_id};
use crate::{Context, DatasetFamilyManager, Error, ModelManager};

/// The kind names used in error messages.
const SESSION: &str = "training session";
const CHECKPOINT: &str = "training checkpoint";
const METRICS: &str = "training metrics";
const SNAPSHOT: &str = "training snapshot";

/// One training session as the manager keeps it (the seed's `LCMTrainingSession`): the
/// sealed start record, the checkpoint chain and, once completed, the metrics and snapshot.
#[derive(Debug, Clone)]
pub struct TrainingRun {
    session: Sealed<TrainingSession>,
    checkpoints: Vec<Sealed<TrainingCheckpoint>>,
    /// The ids in `checkpoints`, for the duplicate check.
    checkpoint_ids: BTreeSet<String>,
    metrics: Option<TrainingMetrics>,
    snapshot: Option<Sealed<TrainingSnapshot>>,
}

impl TrainingRun {
    /// The sealed session record.
    pub fn session(&self) -> &Sealed<TrainingSession> {
        &self.session
    }

    /// The checkpoints, in chain order.
    pub fn checkpoints(&self) -> &[Sealed<TrainingCheckpoint>] {
        &self.checkpoints
    }

    /// The chain head: the last checkpoint's digest, or the session digest before the first.
    pub fn checkpoint_head(&self) -> Digest {
        self.checkpoints
            .last()
            .map_or(self.session.digest(), Sealed::digest)
    }

    /// The final metrics, once completed.
    pub fn metrics(&self) -> Option<&TrainingMetrics> {
        self.metrics.as_ref()
    }

    /// The snapshot, once completed.
    pub fn snapshot(&self) -> Option<&Sealed<TrainingSnapshot>> {
        self.snapshot.as_ref()
    }

    /// Whether the session has been completed.
    pub fn is_completed(&self) -> bool {
        self.snapshot.is_some()
    }
}

/// The training sessions of one lifecycle (the seed's `LCMTrainingManager`).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use lcm_crypto::{Digest, Seed, SeededRandom};
/// use lcm_managers::{
///     Context, DatasetFamilyManager, ModelAnchorRequest, ModelManager, TrainingManager,
///     compute_training_session_root,
/// };
/// use lcm_model::records::{
///     DatasetFamilyMetadata, DatasetSplit, ModelArchitecture, SplitInfo, TrainingEnvironment,
///     TrainingMetrics,
/// };
/// use lcm_model::{FixedClock, Policy, Timestamp};
///
/// let policy = Policy { kdf_iterations: 100_000, ..Policy::default() };
/// let clock = Arc::new(FixedClock::new(Timestamp::from_unix_micros(0), 1));
/// let ctx = Context::new(policy, clock, SeededRandom::new(&Seed::from_bytes([1; 32])))?;
///
/// let mut datasets = DatasetFamilyManager::new(ctx.clone());
/// let metadata = DatasetFamilyMetadata::new("medical_dataset", "v1.0", "hospital", "custom");
/// let family = datasets.create_dataset_family_anchor("med_v1", metadata, "family_password")?;
/// let splits = datasets.add_dataset_splits(
///     &family,
///     BTreeMap::from([(DatasetSplit::Train, SplitInfo::new(vec!["r1".into(), "r2".into()]))]),
/// )?;
///
/// let mut models = ModelManager::new(ctx.clone());
/// let model = models.create_model_anchor(
///     &datasets,
///     ModelAnchorRequest {
///         model_name: "pneumonia_model".into(),
///         version: "v1.0".into(),
///         architecture: ModelArchitecture::new("CNN"),
///         hyperparameters: serde_json::Map::new(),
///         environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
///         authorized_datasets: vec!["med_v1".into()],
///         trainer_commit: "commit123".into(),
///         parameters: None,
///     },
///     "model_password",
/// )?;
///
/// let mut training = TrainingManager::new(ctx);
/// let session = training.start_training_session(
///     &datasets,
///     &models,
///     "train_001",
///     &model,
///     datasets.datasets_root_anchor("med_v1")?,
///     serde_json::json!({"epochs": 50}).as_object().cloned().unwrap_or_default(),
///     BTreeMap::from([(DatasetSplit::Train, splits[&DatasetSplit::Train].digest())]),
/// )?;
/// training.add_checkpoint(
///     &session,
///     "ckpt_epoch_10",
///     10,
///     2500,
///     BTreeMap::from([("loss".to_owned(), 0.45)]),
///     Digest::from_bytes([1; 32]),
///     Digest::from_bytes([2; 32]),
/// )?;
/// let snapshot = training.complete_training_session(
///     &session,
///     Digest::from_bytes([3; 32]),
///     TrainingMetrics::default(),
///     "user_alice",
/// )?;
/// assert_eq!(snapshot.record().checkpoint_count, 1);
/// let root = training.training_session_root("train_001")?;
/// let policy = training.context().policy();
/// assert_eq!(root, compute_training_session_root(policy, &snapshot));
/// training.verify_session("train_001")?;
///
/// // Completion happens once.
/// let again = training.complete_training_session(
///     &session,
///     Digest::from_bytes([4; 32]),
///     TrainingMetrics::default(),
///     "bob",
/// );
/// assert!(again.is_err());
/// # Ok::<(), lcm_managers::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct TrainingManager {
    ctx: Context,
    sessions: BTreeMap<String, TrainingRun>,
}

impl TrainingManager {
    /// A manager working under `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            sessions: BTreeMap::new(),
        }
    }

    /// The context (policy, clock, randomness).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Starts a training session (the seed's `start_training_session`).
    ///
    /// The model anchor must be one `models` made (so its list of authorized datasets is the
    /// one its password holder anchored, not an edited copy). `data_splits` maps each split to
    /// the full digest of a split anchor made by `datasets`. Every split anchor must be of the
    /// split it is listed under and belong to a family the model authorizes; all must come
    /// from one family, and `datasets_root` must be that family's current datasets root.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes training; [`Error::Empty`] for an
    /// empty session id; [`lcm_model::Error::DuplicateId`] for a session id in use;
    /// [`lcm_model::Error::SealMismatch`] for a model anchor whose digest does not match its content;
    /// [`Error::UnknownReference`] for a model anchor `models` did not make, or a split anchor
    /// `datasets` does not know; [`lcm_model::Error::EmptyCollection`] for no splits;
    /// [`Error::Unauthorized`] for a split of a family the model does not authorize;
    /// [`lcm_model::Error::UnexpectedValue`] naming `data_splits` (wrong split kind, several families) or
    /// `datasets_root_anchor` (not the family's root).
    // The seed's five arguments plus the two managers whose records are checked.
    #[allow(clippy::too_many_arguments)]
    pub fn start_training_session(
        &mut self,
        datasets: &DatasetFamilyManager,
        models: &ModelManager,
        session_id: &str,
        model_anchor: &Sealed<ModelAnchor>,
        datasets_root: Digest,
        training_config: Map<String, Value>,
        data_splits: BTreeMap<DatasetSplit, Digest>,
    ) -> Result<Sealed<TrainingSession>, Error> {
        let policy = self.ctx.policy();
        if !policy.allows(DomainType::Training) {
            return Err(Error::DomainNotAllowed { domain: "training" });
        }
        self.check_new_session_id(session_id)?;
        check_session_inputs(
            datasets,
            models,
            session_id,
            model_anchor,
            &data_splits,
            &|family| {
                let expected = datasets.datasets_root_anchor(family)?;
                if expected == datasets_root {
                    Ok(())
                } else {
                    Err(Error::unexpected(
                        SESSION,
                        session_id.to_owned(),
                        "datasets_root_anchor",
                        format!("the datasets root of {family:?}, {expected}"),
                        datasets_root.to_string(),
                    ))
                }
            },
        )?;
        let record = TrainingSession {
            session_id: session_id.to_owned(),
            model_anchor: model_anchor.digest(),
            datasets_root,
            training_config,
            data_splits,
            started_at: self.ctx.now(),
        };
        let sealed = Sealed::seal(record, policy)?;
        self.sessions.insert(
            session_id.to_owned(),
            TrainingRun {
                session: sealed.clone(),
                checkpoints: Vec::new(),
                checkpoint_ids: BTreeSet::new(),
                metrics: None,
                snapshot: None,
            },
        );
        Ok(sealed)
    }

    /// Appends a checkpoint to a running session (the seed's `add_checkpoint`) and returns it.
    ///
    /// The checkpoint binds the session digest and the previous checkpoint's digest (the
    /// session digest for the first one). Steps must strictly increase and epochs must not
    /// decrease along the chain.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownReference`] for a session this manager did not start (or an altered
    /// one); [`Error::AlreadyCompleted`] after completion; [`Error::Empty`] for an empty
    /// checkpoint id or metric name; [`lcm_model::Error::DuplicateId`] for a checkpoint id used before in
    /// the session; [`lcm_model::Error::UnexpectedValue`] naming `step` or `epoch` when they go backwards;
    /// [`lcm_model::Error::NonFiniteMetric`] naming a NaN or infinite metric.
    // The seed's signature, argument for argument.
    #[allow(clippy::too_many_arguments)]
    pub fn add_checkpoint(
        &mut self,
        session: &Sealed<TrainingSession>,
        checkpoint_id: &str,
        epoch: u64,
        step: u64,
        metrics: BTreeMap<String, f64>,
        model_state_digest: Digest,
        optimizer_state_digest: Digest,
    ) -> Result<Sealed<TrainingCheckpoint>, Error> {
        let now = self.ctx.now();
        let policy = self.ctx.policy();
        let run = running(&mut self.sessions, session, CHECKPOINT, checkpoint_id)?;
        let session_id = run.session.record().session_id.as_str();
        let id = format!("{session_id}/{checkpoint_id}");
        if checkpoint_id.is_empty() {
            return Err(Error::Empty {
                kind: CHECKPOINT,
                id,
                field: "checkpoint_id",
            });
        }
        fresh_id(CHECKPOINT, &id, run.checkpoint_ids.contains(checkpoint_id))?;
        if let Some(last) = run.checkpoints.last() {
            check_checkpoint_order(&id, last.record(), step, epoch)?;
        }
        let mut finite = BTreeMap::new();
        for (name, value) in metrics {
            if name.is_empty() {
                return Err(Error::Empty {
                    kind: CHECKPOINT,
                    id,
                    field: "metrics",
                });
            }
            let Ok(v) = Finite::new(value) else {
                return Err(Error::Model(lcm_model::Error::NonFiniteMetric {
                    kind: CHECKPOINT,
                    id,
                    metric: name,
                    value: value.to_string(),
                }));
            };
            finite.insert(name, v);
        }
        let record = TrainingCheckpoint {
            session: run.session.digest(),
            checkpoint_id: checkpoint_id.to_owned(),
            index: u64::try_from(run.checkpoints.len()).unwrap_or(u64::MAX),
            epoch,
            step,
            metrics: finite,
            model_state_digest,
            optimizer_state_digest,
            previous: run.checkpoint_head(),
            created_at: now,
        };
        let sealed = Sealed::seal(record, policy)?;
        run.checkpoint_ids.insert(checkpoint_id.to_owned());
        run.checkpoints.push(sealed.clone());
        Ok(sealed)
    }

    /// Completes a session (the seed's `complete_training_session`), once.
    ///
    /// The snapshot commits to the session, the model anchor, the datasets root, the config
    /// digest, the checkpoint chain head and count, the metrics digest, the final model
    /// digest, the user and both times.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownReference`] for a session this manager did not start;
    /// [`Error::AlreadyCompleted`] for a second completion; [`Error::Empty`] for an empty
    /// user id; [`lcm_model::Error::UnexpectedValue`] or [`lcm_model::Error::NonFiniteMetric`] for metrics that fail
    /// [`TrainingMetrics::validate`].
    pub fn complete_training_session(
        &mut self,
        session: &Sealed<TrainingSession>,
        final_model_digest: Digest,
        metrics: TrainingMetrics,
        user_id: &str,
    ) -> Result<Sealed<TrainingSnapshot>, Error> {
        let now = self.ctx.now();
        let policy = self.ctx.policy();
        let run = running(
            &mut self.sessions,
            session,
            SESSION,
            &session.record().session_id,
        )?;
        let s = &run.session.record();
        if user_id.is_empty() {
            return Err(Error::Empty {
                kind: SESSION,
                id: s.session_id.clone(),
                field: "user_id",
            });
        }
        let metrics_digest = metrics
            .compute_metrics_digest(policy)
            .map_err(|e| metrics_error(&s.session_id, e))?;
        let record = TrainingSnapshot {
            session_id: s.session_id.clone(),
            session: run.session.digest(),
            model_anchor: s.model_anchor,
            datasets_root: s.datasets_root,
            config_digest: training_config_digest(policy, &s.training_config)?,
            checkpoint_head: run.checkpoint_head(),
            checkpoint_count: u64::try_from(run.checkpoints.len()).unwrap_or(u64::MAX),
            metrics_digest,
            final_model_digest,
            user_id: user_id.to_owned(),
            started_at: s.started_at,
            completed_at: now,
        };
        let sealed = Sealed::seal(record, policy)?;
        run.metrics = Some(metrics);
        run.snapshot = Some(sealed.clone());
        Ok(sealed)
    }
    /// The session `session_id` with its checkpoints and, once completed, its snapshot.
    pub fn training_session(&self, session_id: &str) -> Option<&TrainingRun> {
        self.sessions.get(session_id)
    }

    /// A session id that is not empty and not held yet.
    fn check_new_session_id(&self, session_id: &str) -> Result<(), Error> {
        new_id(SESSION, "session_id", session_id, &self.sessions)
    }

    /// The ids of all sessions, in order.
    pub fn session_ids(&self) -> impl Iterator<Item = &str> {
        self.sessions.keys().map(String::as_str)
    }

    /// The session `session_id`, or [`Error::NotFound`].
    fn held(&self, session_id: &str) -> Result<&TrainingRun, Error> {
        self.sessions
            .get(session_id)
            .ok_or_else(|| Error::NotFound {
                kind: SESSION,
                id: session_id.to_owned(),
            })
    }

    /// The training session root of a completed session (the seed's
    /// `get_training_session_root`); see [`compute_training_session_root`].
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown session; [`Error::NotCompleted`] before completion.
    pub fn training_session_root(&self, session_id: &str) -> Result<Digest, Error> {
        let run = self.held(session_id)?;
        let snapshot = run.snapshot.as_ref().ok_or_else(|| Error::NotCompleted {
            kind: SESSION,
            id: session_id.to_owned(),
        })?;
        Ok(compute_training_session_root(self.ctx.policy(), snapshot))
    }

    /// Re-verifies everything stored for a completed session with [`verify_training_run`].
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::NotCompleted`], or [`Error::Model`] as
    /// [`verify_training_run`].
    pub fn verify_session(&self, session_id: &str) -> Result<(), Error> {
        let run = self.held(session_id)?;
        let (Some(metrics), Some(snapshot)) = (&run.metrics, &run.snapshot) else {
            return Err(Error::NotCompleted {
                kind: SESSION,
                id: session_id.to_owned(),
            });
        };
        Ok(verify_training_run(
            self.ctx.policy(),
            &run.session,
            &run.checkpoints,
            metrics,
            snapshot,
        )?)
    }
}

/// The running session `session` refers to, if this manager started it, it is unaltered and
/// not completed.
fn running<'a>(
    sessions: &'a mut BTreeMap<String, TrainingRun>,
    session: &Sealed<TrainingSession>,
    kind: &'static str,
    id: &str,
) -> Result<&'a mut TrainingRun, Error> {
    let session_id = &session.record().session_id;
    match sessions.get_mut(session_id) {
        Some(run) if run.session == *session => {
            if run.snapshot.is_some() {
                return Err(Error::AlreadyCompleted {
                    kind: SESSION,
                    id: session_id.clone(),
                });
            }
            Ok(run)
        }
        _ => Err(Error::unknown_reference(
            kind,
            id.to_owned(),
            "training_session",
            format!("{session_id} ({})", session.digest()),
        )),
    }
}

fn metrics_error(session_id: &str, e: lcm_model::Error) -> Error {
    match e {
        lcm_model::Error::InvalidField {
            field,
            expected,
            actual,
            ..
        } => Error::unexpected(
            METRICS,
            session_id.to_owned(),
            field,
            expected.to_owned(),
            actual,
        ),
        lcm_model::Error::NonFiniteField { field, value, .. } => {
            Error::Model(lcm_model::Error::NonFiniteMetric {
                kind: METRICS,
                id: session_id.to_owned(),
                metric: field,
                value,
            })
        }
        other => Error::Model(other),
    }
}

/// What a training session's inputs must satisfy, on the create and the restore path: the
/// model anchor is one `models` holds; at least one split; each split anchor is
/// one `datasets` holds, is listed under its own kind, and belongs to a family the model
/// authorizes; all come from one family, whose datasets root `datasets_root_ok` checks.
fn check_session_inputs(
    datasets: &DatasetFamilyManager,
    models: &ModelManager,
    session_id: &str,
    model_anchor: &Sealed<ModelAnchor>,
    data_splits: &BTreeMap<DatasetSplit, Digest>,
    datasets_root_ok: &dyn Fn(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    let model = &model_anchor.record().description;
    let model_id = format!("{}@{}", model.model_name, model.version);
    if models.find_model_anchor(&model_anchor.digest()) != Some(model_anchor) {
        return Err(Error::unknown_reference(
            SESSION,
            session_id.to_owned(),
            "model_anchor",
            format!("{model_id} ({})", model_anchor.digest()),
        ));
    }
    if data_splits.is_empty() {
        return Err(Error::Model(lcm_model::Error::EmptyCollection {
            kind: SESSION,
            id: session_id.to_owned(),
            field: "data_splits",
        }));
    }
    let mut family: Option<&str> = None;
    for (split, digest) in data_splits {
        let anchor = datasets.find_split_anchor(digest).ok_or_else(|| {
            Error::unknown_reference(
                SESSION,
                session_id,
                "data_splits",
                format!("{split}: {digest}"),
            )
        })?;
        let a = &anchor.record();
        if a.split != *split {
            return Err(Error::unexpected(
                SESSION,
                session_id.to_owned(),
                "data_splits",
                format!("a {split} split anchor under {split}"),
                format!("the {} split anchor of {:?}", a.split, a.family_id),
            ));
        }
        if !model_authorizes_family(model_anchor.record(), &a.family_anchor) {
            return Err(Error::Unauthorized {
                kind: SESSION,
                id: session_id.to_owned(),
                field: "data_splits",
                reference: format!("{split} split of dataset family {}", a.family_id),
            });
        }
        match family {
            None => family = Some(&a.family_id),
            Some(f) if f == a.family_id => {}
            Some(f) => {
                return Err(Error::unexpected(
                    SESSION,
                    session_id.to_owned(),
                    "data_splits",
                    format!("split anchors of one dataset family, {f:?}"),
                    format!("also {:?}", a.family_id),
                ));
            }
        }
    }
    if let Some(f) = family {
        datasets_root_ok(f)?;
    }
    Ok(())
}

mod restore;
#[cfg(test)]
mod tests;
