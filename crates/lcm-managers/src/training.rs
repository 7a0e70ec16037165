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

use crate::restore::check_seal;
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
                    Err(Error::Model(lcm_model::Error::UnexpectedValue {
                        kind: SESSION,
                        id: session_id.to_owned(),
                        field: "datasets_root_anchor",
                        expected: format!("the datasets root of {family:?}, {expected}"),
                        actual: datasets_root.to_string(),
                    }))
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
        if run.checkpoint_ids.contains(checkpoint_id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: CHECKPOINT,
                id,
            }));
        }
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

    /// Adopts a training session made earlier (for example by another process and read back
    /// from storage) with its checkpoints and, when it was completed, its final metrics and
    /// snapshot. A restored open session accepts [`Self::add_checkpoint`] and
    /// [`Self::complete_training_session`] as if it had been started here; a restored
    /// completed one refuses them with [`Error::AlreadyCompleted`], and
    /// [`Self::training_session_root`] and [`Self::verify_session`] work on it.
    ///
    /// Nothing given is trusted. Recomputed: the session's seal under this manager's policy
    /// and that it names at least one split; for every checkpoint, its seal, that it binds
    /// this session's digest, that its `index` is its position (counting from 0, nothing
    /// missing or repeated), that `previous` is the previous checkpoint's digest (the session
    /// digest for the first), a non-empty id used once, steps strictly increasing and epochs
    /// never decreasing, and non-empty metric names; for a completion, a non-empty user and
    /// everything [`verify_training_run`] checks (the snapshot's seal and its bindings of the
    /// session, model anchor, datasets root, config digest, checkpoint head and count,
    /// metrics digest and start time).
    ///
    /// What [`Self::start_training_session`] checked is checked again against `datasets` and
    /// `models` (restore them first): the session's model anchor is one `models` holds, each
    /// of its splits is one `datasets` holds, listed under its own kind, of one family the
    /// model authorizes, and its datasets root is that family's root when the session
    /// started (over the family's splits anchored by then) or its current one. A seal binds
    /// these references, but anyone can reseal an edited record. This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes training; [`Error::Empty`] for an
    /// empty session id, checkpoint id, metric name or user id; [`lcm_model::Error::EmptyCollection`]
    /// naming `data_splits` for a session without splits; [`lcm_model::Error::DuplicateId`] for a
    /// session id already held or a checkpoint id given twice; [`lcm_model::Error::SealMismatch`] for
    /// a session or checkpoint whose seal does not match its content; as
    /// [`Self::start_training_session`] for the model anchor, the splits and the datasets
    /// root ([`Error::UnknownReference`], [`Error::Unauthorized`], [`lcm_model::Error::UnexpectedValue`]);
    /// [`lcm_model::Error::UnexpectedValue`] naming `session` for a checkpoint of another session, or `step`/`epoch` going
    /// backwards; [`lcm_model::Error::ChainOrder`] and [`lcm_model::Error::ChainGap`] for a checkpoint index out of
    /// position (reordered or repeated, or checkpoints missing); [`lcm_model::Error::ChainLink`] for a
    /// broken `previous` link; [`Error::Model`] as [`verify_training_run`] for a completion
    /// that does not match (for example a snapshot of another session).
    pub fn restore_session(
        &mut self,
        datasets: &DatasetFamilyManager,
        models: &ModelManager,
        session: Claimed<TrainingSession>,
        checkpoints: Vec<Claimed<TrainingCheckpoint>>,
        completion: Option<(TrainingMetrics, Claimed<TrainingSnapshot>)>,
    ) -> Result<(), Error> {
        let policy = self.ctx.policy();
        if !policy.allows(DomainType::Training) {
            return Err(Error::DomainNotAllowed { domain: "training" });
        }
        let sid = session.record().session_id.as_str();
        self.check_new_session_id(sid)?;
        let session = check_seal(&self.ctx, SESSION, sid, &session)?;
        // Everything start_training_session checked, against the restored managers: the seal
        // binds the references, but anyone can reseal a record.
        let s = &session.record();
        let model_anchor =
            models
                .find_model_anchor(&s.model_anchor)
                .ok_or_else(|| Error::UnknownReference {
                    kind: SESSION,
                    id: sid.to_owned(),
                    field: "model_anchor",
                    reference: s.model_anchor.to_string(),
                })?;
        check_session_inputs(
            datasets,
            models,
            sid,
            model_anchor,
            &s.data_splits,
            &|family| {
                // The family's root when the session started: over its splits anchored by
                // then (splits added later change the family's current root, not this one).
                let then: BTreeMap<DatasetSplit, Digest> = datasets
                    .split_anchors(family)
                    .into_iter()
                    .filter(|(_, a)| a.record().created_at <= s.started_at)
                    .map(|(k, a)| (k, a.digest()))
                    .collect();
                let at_start = compute_datasets_root(policy, &then);
                if at_start == s.datasets_root
                    || datasets.datasets_root_anchor(family)? == s.datasets_root
                {
                    Ok(())
                } else {
                    Err(Error::Model(lcm_model::Error::UnexpectedValue {
                        kind: SESSION,
                        id: sid.to_owned(),
                        field: "datasets_root_anchor",
                        expected: format!(
                            "the datasets root of {family:?} when the session started, {at_start}"
                        ),
                        actual: s.datasets_root.to_string(),
                    }))
                }
            },
        )?;
        let mut checkpoint_ids = BTreeSet::new();
        let mut head = session.digest();
        let mut last: Option<&TrainingCheckpoint> = None;
        let mut sealed = Vec::with_capacity(checkpoints.len());
        for (index, cp) in (0u64..).zip(&checkpoints) {
            let c = &cp.record;
            let id = format!("{sid}/{}", c.checkpoint_id);
            sealed.push(check_seal(&self.ctx, CHECKPOINT, &id, cp)?);
            if c.session != session.digest() {
                return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    kind: CHECKPOINT,
                    id,
                    field: "session",
                    expected: format!("a checkpoint of session {sid:?}, {}", session.digest()),
                    actual: c.session.to_string(),
                }));
            }
            if c.index < index {
                return Err(Error::Model(lcm_model::Error::ChainOrder {
                    kind: CHECKPOINT,
                    id,
                    index,
                    expected: index,
                    actual: c.index,
                }));
            }
            if c.index > index {
                return Err(Error::Model(lcm_model::Error::ChainGap {
                    kind: CHECKPOINT,
                    id,
                    index,
                    expected: index,
                    actual: c.index,
                }));
            }
            if c.previous != head {
                return Err(Error::Model(lcm_model::Error::ChainLink {
                    kind: CHECKPOINT,
                    id,
                    index,
                    expected: Some(head),
                    actual: Some(c.previous),
                }));
            }
            if c.checkpoint_id.is_empty() {
                return Err(Error::Empty {
                    kind: CHECKPOINT,
                    id,
                    field: "checkpoint_id",
                });
            }
            if !checkpoint_ids.insert(c.checkpoint_id.clone()) {
                return Err(Error::Model(lcm_model::Error::DuplicateId {
                    kind: CHECKPOINT,
                    id,
                }));
            }
            if c.metrics.keys().any(String::is_empty) {
                return Err(Error::Empty {
                    kind: CHECKPOINT,
                    id,
                    field: "metrics",
                });
            }
            if let Some(prev) = last {
                check_checkpoint_order(&id, prev, c.step, c.epoch)?;
            }
            head = cp.digest();
            last = Some(c);
        }
        let (metrics, snapshot) = match completion {
            None => (None, None),
            Some((metrics, snapshot)) => {
                if snapshot.record().user_id.is_empty() {
                    return Err(Error::Empty {
                        kind: SESSION,
                        id: sid.to_owned(),
                        field: "user_id",
                    });
                }
                let snapshot = check_seal(&self.ctx, SNAPSHOT, sid, &snapshot)?;
                verify_training_run(policy, &session, &sealed, &metrics, &snapshot)?;
                (Some(metrics), Some(snapshot))
            }
        };
        self.sessions.insert(
            sid.to_owned(),
            TrainingRun {
                session,
                checkpoints: sealed,
                checkpoint_ids,
                metrics,
                snapshot,
            },
        );
        Ok(())
    }

    /// The session `session_id` with its checkpoints and, once completed, its snapshot.
    pub fn training_session(&self, session_id: &str) -> Option<&TrainingRun> {
        self.sessions.get(session_id)
    }

    /// A session id that is not empty and not held yet.
    fn check_new_session_id(&self, session_id: &str) -> Result<(), Error> {
        if session_id.is_empty() {
            return Err(Error::Empty {
                kind: SESSION,
                id: String::new(),
                field: "session_id",
            });
        }
        if self.sessions.contains_key(session_id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: SESSION,
                id: session_id.to_owned(),
            }));
        }
        Ok(())
    }

    /// The ids of all sessions, in order.
    pub fn session_ids(&self) -> impl Iterator<Item = &str> {
        self.sessions.keys().map(String::as_str)
    }

    /// The training session root of a completed session (the seed's
    /// `get_training_session_root`); see [`compute_training_session_root`].
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown session; [`Error::NotCompleted`] before completion;
    /// [`Error::Model`] as [`compute_training_session_root`] for a snapshot whose seal does not
    /// verify.
    pub fn training_session_root(&self, session_id: &str) -> Result<Digest, Error> {
        let run = self
            .sessions
            .get(session_id)
            .ok_or_else(|| Error::NotFound {
                kind: SESSION,
                id: session_id.to_owned(),
            })?;
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
        let run = self
            .sessions
            .get(session_id)
            .ok_or_else(|| Error::NotFound {
                kind: SESSION,
                id: session_id.to_owned(),
            })?;
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
        _ => Err(Error::UnknownReference {
            kind,
            id: id.to_owned(),
            field: "training_session",
            reference: format!("{session_id} ({})", session.digest()),
        }),
    }
}

fn metrics_error(session_id: &str, e: lcm_model::Error) -> Error {
    match e {
        lcm_model::Error::InvalidField {
            field,
            expected,
            actual,
            ..
        } => Error::Model(lcm_model::Error::UnexpectedValue {
            kind: METRICS,
            id: session_id.to_owned(),
            field,
            expected: expected.to_owned(),
            actual,
        }),
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
        return Err(Error::UnknownReference {
            kind: SESSION,
            id: session_id.to_owned(),
            field: "model_anchor",
            reference: format!("{model_id} ({})", model_anchor.digest()),
        });
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
        let anchor = datasets
            .find_split_anchor(digest)
            .ok_or_else(|| Error::UnknownReference {
                kind: SESSION,
                id: session_id.to_owned(),
                field: "data_splits",
                reference: format!("{split}: {digest}"),
            })?;
        let a = &anchor.record();
        if a.split != *split {
            return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                kind: SESSION,
                id: session_id.to_owned(),
                field: "data_splits",
                expected: format!("a {split} split anchor under {split}"),
                actual: format!("the {} split anchor of {:?}", a.split, a.family_id),
            }));
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
                return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    kind: SESSION,
                    id: session_id.to_owned(),
                    field: "data_splits",
                    expected: format!("split anchors of one dataset family, {f:?}"),
                    actual: format!("also {:?}", a.family_id),
                }));
            }
        }
    }
    if let Some(f) = family {
        datasets_root_ok(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use lcm_model::Error as ModelError;
    use lcm_model::Policy;
    use lcm_model::Timestamp;
    use lcm_model::records::{
        DatasetFamilyMetadata, DatasetSplitAnchor, ModelArchitecture, SplitInfo,
        TrainingEnvironment,
    };
    use lcm_model::verify::verify_claimed_training_run;

    use super::*;
    use crate::dataset::tests::{ctx, ctx_with};
    use crate::{ModelAnchorRequest, ModelManager};

    struct Fixture {
        datasets: DatasetFamilyManager,
        models: ModelManager,
        model: Sealed<ModelAnchor>,
        /// A second model that authorizes both families.
        both: Sealed<ModelAnchor>,
        splits: BTreeMap<DatasetSplit, Sealed<DatasetSplitAnchor>>,
        root: Digest,
        training: TrainingManager,
    }

    fn ids(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    /// Two families ("med" authorized, "other" not), three splits each, one model (and one
    /// that authorizes both).
    fn fixture(seed: u8) -> Fixture {
        fixture_in(ctx(seed))
    }

    fn fixture_in(c: Context) -> Fixture {
        let mut datasets = DatasetFamilyManager::new(c.clone());
        let mut splits = BTreeMap::new();
        for fam in ["med", "other"] {
            let meta = DatasetFamilyMetadata::new(fam, "v1", "owner", "custom");
            let anchor = datasets
                .create_dataset_family_anchor(fam, meta, "pw")
                .unwrap();
            let info = BTreeMap::from([
                (
                    DatasetSplit::Train,
                    SplitInfo::new(ids(&format!("{fam}-a"), 8)),
                ),
                (
                    DatasetSplit::Validation,
                    SplitInfo::new(ids(&format!("{fam}-b"), 2)),
                ),
                (
                    DatasetSplit::Test,
                    SplitInfo::new(ids(&format!("{fam}-c"), 2)),
                ),
            ]);
            let made = datasets.add_dataset_splits(&anchor, info).unwrap();
            if fam == "med" {
                splits = made;
            }
        }
        let mut models = ModelManager::new(c.clone());
        let request = |version: &str, authorized: &[&str]| ModelAnchorRequest {
            model_name: "pneumonia".into(),
            version: version.into(),
            architecture: ModelArchitecture::new("CNN"),
            hyperparameters: Map::new(),
            environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
            authorized_datasets: authorized.iter().map(|a| (*a).to_owned()).collect(),
            trainer_commit: "abc123".into(),
            parameters: None,
        };
        let model = models
            .create_model_anchor(&datasets, request("v1", &["med"]), "pw")
            .unwrap();
        let both = models
            .create_model_anchor(&datasets, request("v2", &["med", "other"]), "pw")
            .unwrap();
        let root = datasets.datasets_root_anchor("med").unwrap();
        Fixture {
            datasets,
            models,
            model,
            both,
            splits,
            root,
            training: TrainingManager::new(c),
        }
    }

    fn config(epochs: u64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("epochs".into(), Value::from(epochs));
        m.insert("optimizer".into(), Value::from("adam"));
        m
    }

    fn train_val(f: &Fixture) -> BTreeMap<DatasetSplit, Digest> {
        [DatasetSplit::Train, DatasetSplit::Validation]
            .into_iter()
            .map(|s| (s, f.splits[&s].digest()))
            .collect()
    }

    fn start(f: &mut Fixture, id: &str, cfg: Map<String, Value>) -> Sealed<TrainingSession> {
        let splits = train_val(f);
        f.training
            .start_training_session(&f.datasets, &f.models, id, &f.model, f.root, cfg, splits)
            .unwrap()
    }

    fn loss(v: f64) -> BTreeMap<String, f64> {
        BTreeMap::from([("loss".to_owned(), v)])
    }

    fn d(b: u8) -> Digest {
        Digest::from_bytes([b; 32])
    }

    fn metrics() -> TrainingMetrics {
        TrainingMetrics::new(
            BTreeMap::from([("loss".to_owned(), vec![1.0, 0.45])]),
            BTreeMap::from([("loss".to_owned(), vec![1.1, 0.48])]),
            vec![1, 10],
        )
        .unwrap()
    }

    /// The whole flow; returns every digest it produced.
    fn lifecycle(seed: u8, cfg_epochs: u64, second_loss: f64) -> Vec<Digest> {
        lifecycle_in(ctx(seed), cfg_epochs, second_loss)
    }

    fn lifecycle_in(c: Context, cfg_epochs: u64, second_loss: f64) -> Vec<Digest> {
        let mut f = fixture_in(c);
        let s = start(&mut f, "train_001", config(cfg_epochs));
        let c1 = f
            .training
            .add_checkpoint(&s, "ckpt_1", 1, 250, loss(1.0), d(1), d(2))
            .unwrap();
        let c2 = f
            .training
            .add_checkpoint(&s, "ckpt_10", 10, 2500, loss(second_loss), d(3), d(4))
            .unwrap();
        let snap = f
            .training
            .complete_training_session(&s, d(5), metrics(), "alice")
            .unwrap();
        f.training.verify_session("train_001").unwrap();
        let root = f.training.training_session_root("train_001").unwrap();
        let mut out: Vec<Digest> = f.splits.values().map(Sealed::digest).collect();
        out.extend([
            f.model.digest(),
            f.root,
            s.digest(),
            c1.digest(),
            c2.digest(),
            snap.digest(),
            root,
        ]);
        out
    }

    #[test]
    fn end_to_end_is_deterministic() {
        let a = lifecycle(11, 50, 0.45);
        assert_eq!(a, lifecycle(11, 50, 0.45));
        // Another random stream gives other salts, hence other anchors and roots.
        let b = lifecycle(12, 50, 0.45);
        assert_ne!(a.last(), b.last());
        // The config and a checkpoint metric each reach the root.
        assert_ne!(a.last(), lifecycle(11, 51, 0.45).last());
        assert_ne!(a.last(), lifecycle(11, 50, 0.44).last());
    }

    #[test]
    fn blake3_policy_runs_the_whole_flow() {
        let blake = Policy {
            hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
            kdf_iterations: 100_000,
            ..Policy::default()
        };
        let a = lifecycle_in(ctx_with(blake.clone(), 11), 50, 0.45);
        assert_eq!(a, lifecycle_in(ctx_with(blake, 11), 50, 0.45));
        let sha = lifecycle(11, 50, 0.45);
        assert!(
            a.iter().zip(&sha).all(|(x, y)| x != y),
            "every digest depends on the hash"
        );
    }

    #[test]
    fn checkpoints_form_a_chain() {
        let mut f = fixture(13);
        let s = start(&mut f, "t", config(5));
        let c1 = f
            .training
            .add_checkpoint(&s, "c1", 1, 10, loss(1.0), d(1), d(2))
            .unwrap();
        assert_eq!((c1.record().previous, c1.record().index), (s.digest(), 0));
        let c2 = f
            .training
            .add_checkpoint(&s, "c2", 1, 20, loss(0.9), d(1), d(2))
            .unwrap();
        assert_eq!((c2.record().previous, c2.record().index), (c1.digest(), 1));
        assert_eq!(
            f.training.training_session("t").unwrap().checkpoint_head(),
            c2.digest()
        );

        let e = f
            .training
            .add_checkpoint(&s, "c3", 1, 20, loss(0.8), d(1), d(2));
        match e {
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "step",
                id,
                actual,
                ..
            })) => {
                assert_eq!((id.as_str(), actual.as_str()), ("t/c3", "20"));
            }
            other => panic!("{other:?}"),
        }
        let e = f
            .training
            .add_checkpoint(&s, "c3", 1, 19, loss(0.8), d(1), d(2));
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "step",
                    ..
                }))
            ),
            "{e:?}"
        );
        let e = f
            .training
            .add_checkpoint(&s, "c3", 0, 30, loss(0.8), d(1), d(2));
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "epoch",
                    ..
                }))
            ),
            "{e:?}"
        );
        let e = f
            .training
            .add_checkpoint(&s, "c2", 2, 30, loss(0.8), d(1), d(2));
        assert!(
            matches!(e, Err(Error::Model(lcm_model::Error::DuplicateId { .. }))),
            "{e:?}"
        );
        let e = f
            .training
            .add_checkpoint(&s, "", 2, 30, loss(0.8), d(1), d(2));
        assert!(
            matches!(
                e,
                Err(Error::Empty {
                    field: "checkpoint_id",
                    ..
                })
            ),
            "{e:?}"
        );
        for bad in [f64::NAN, f64::INFINITY] {
            let mut m = loss(0.8);
            m.insert("accuracy".into(), bad);
            match f.training.add_checkpoint(&s, "c3", 2, 30, m, d(1), d(2)) {
                Err(Error::Model(lcm_model::Error::NonFiniteMetric { metric, .. })) => {
                    assert_eq!(metric, "accuracy");
                }
                other => panic!("{other:?}"),
            }
        }
        let e = f.training.add_checkpoint(
            &s,
            "c3",
            2,
            30,
            loss(0.8)
                .into_values()
                .map(|v| (String::new(), v))
                .collect(),
            d(1),
            d(2),
        );
        assert!(
            matches!(
                e,
                Err(Error::Empty {
                    field: "metrics",
                    ..
                })
            ),
            "{e:?}"
        );
        // Nothing failed was stored.
        assert_eq!(
            f.training
                .training_session("t")
                .unwrap()
                .checkpoints()
                .len(),
            2
        );

        // A session this manager did not start, or an altered one.
        let mut altered = s.record().clone();
        altered.training_config = config(6);
        let altered = Sealed::seal(altered, f.training.context().policy()).unwrap();
        let e = f
            .training
            .add_checkpoint(&altered, "c3", 2, 30, loss(0.8), d(1), d(2));
        assert!(
            matches!(
                e,
                Err(Error::UnknownReference {
                    field: "training_session",
                    ..
                })
            ),
            "{e:?}"
        );
        let mut g = fixture(14);
        let foreign = start(&mut g, "t", config(5));
        let e = f
            .training
            .add_checkpoint(&foreign, "c3", 2, 30, loss(0.8), d(1), d(2));
        assert!(matches!(e, Err(Error::UnknownReference { .. })), "{e:?}");

        f.training
            .complete_training_session(&s, d(9), metrics(), "alice")
            .unwrap();
        let e = f
            .training
            .add_checkpoint(&s, "c3", 2, 30, loss(0.8), d(1), d(2));
        assert!(matches!(e, Err(Error::AlreadyCompleted { .. })), "{e:?}");
    }

    #[test]
    fn messages_name_the_record_and_the_field() {
        let mut f = fixture(18);
        let s = start(&mut f, "t", config(5));
        f.training
            .add_checkpoint(&s, "c1", 1, 20, loss(1.0), d(1), d(2))
            .unwrap();
        let step = f
            .training
            .add_checkpoint(&s, "c2", 1, 20, loss(1.0), d(1), d(2));
        assert_eq!(
            step.unwrap_err().to_string(),
            "training checkpoint \"t/c2\": step: expected a step greater than 20 (checkpoint \"c1\"), got 20"
        );
        let nan = f
            .training
            .add_checkpoint(&s, "c2", 1, 30, loss(f64::NAN), d(1), d(2));
        assert_eq!(
            nan.unwrap_err().to_string(),
            "training checkpoint \"t/c2\": metric \"loss\": expected a finite number, got NaN"
        );
        f.training
            .complete_training_session(&s, d(9), metrics(), "alice")
            .unwrap();
        let again = f
            .training
            .complete_training_session(&s, d(9), metrics(), "alice");
        assert_eq!(
            again.unwrap_err().to_string(),
            "training session \"t\" is already completed"
        );
        let wrong = f.datasets.verify_password("med", "guess");
        assert_eq!(
            wrong.unwrap_err().to_string(),
            "dataset family \"med\": wrong master password"
        );
        let info = BTreeMap::from([
            (
                DatasetSplit::Train,
                SplitInfo::new(vec!["x".into(), "y".into()]),
            ),
            (DatasetSplit::Test, SplitInfo::new(vec!["y".into()])),
        ]);
        let mut datasets = DatasetFamilyManager::new(ctx(18));
        let meta = DatasetFamilyMetadata::new("n", "v", "o", "l");
        let fam = datasets
            .create_dataset_family_anchor("fam", meta, "pw")
            .unwrap();
        let overlap = datasets.add_dataset_splits(&fam, info);
        assert_eq!(
            overlap.unwrap_err().to_string(),
            "dataset family \"fam\": record \"y\" is in both the train and test splits"
        );
    }

    #[test]
    fn completion_happens_once() {
        let mut f = fixture(15);
        let s = start(&mut f, "t", config(5));
        assert!(matches!(
            f.training.training_session_root("t"),
            Err(Error::NotCompleted { .. })
        ));
        assert!(matches!(
            f.training.verify_session("t"),
            Err(Error::NotCompleted { .. })
        ));
        assert!(matches!(
            f.training.training_session_root("x"),
            Err(Error::NotFound { .. })
        ));
        let e = f
            .training
            .complete_training_session(&s, d(9), metrics(), "");
        assert!(
            matches!(
                e,
                Err(Error::Empty {
                    field: "user_id",
                    ..
                })
            ),
            "{e:?}"
        );
        let bad = TrainingMetrics {
            epochs: vec![2, 1],
            ..TrainingMetrics::default()
        };
        let e = f.training.complete_training_session(&s, d(9), bad, "alice");
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "epochs",
                    ..
                }))
            ),
            "{e:?}"
        );
        assert!(!f.training.training_session("t").unwrap().is_completed());

        let snap = f
            .training
            .complete_training_session(&s, d(9), metrics(), "alice")
            .unwrap();
        let r = &snap.record();
        assert_eq!(
            (r.checkpoint_count, r.checkpoint_head, r.session),
            (0, s.digest(), s.digest())
        );
        assert_eq!(
            r.config_digest,
            training_config_digest(f.training.context().policy(), &config(5)).unwrap()
        );
        let e = f
            .training
            .complete_training_session(&s, d(9), metrics(), "alice");
        assert!(matches!(e, Err(Error::AlreadyCompleted { .. })), "{e:?}");
        let root = f.training.training_session_root("t").unwrap();
        assert_eq!(
            root,
            compute_training_session_root(f.training.context().policy(), &snap)
        );
    }

    #[test]
    fn session_start_checks_references() {
        let mut f = fixture(16);
        let p = f.training.context().policy().clone();
        let go = |f: &mut Fixture, id: &str, model: &Sealed<ModelAnchor>, root: Digest, splits| {
            f.training.start_training_session(
                &f.datasets,
                &f.models,
                id,
                model,
                root,
                config(1),
                splits,
            )
        };
        let model = f.model.clone();
        let root = f.root;
        let tv = train_val(&f);
        let other = |f: &Fixture, s| f.datasets.split_anchor("other", s).unwrap().digest();

        let e = go(&mut f, "t", &model, root, BTreeMap::new());
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::EmptyCollection {
                    field: "data_splits",
                    ..
                }))
            ),
            "{e:?}"
        );
        let e = go(
            &mut f,
            "t",
            &model,
            root,
            BTreeMap::from([(DatasetSplit::Train, d(7))]),
        );
        assert!(
            matches!(
                e,
                Err(Error::UnknownReference {
                    field: "data_splits",
                    ..
                })
            ),
            "{e:?}"
        );
        let test = f.splits[&DatasetSplit::Test].digest();
        let e = go(
            &mut f,
            "t",
            &model,
            root,
            BTreeMap::from([(DatasetSplit::Train, test)]),
        );
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "data_splits",
                    ..
                }))
            ),
            "{e:?}"
        );
        let foreign = other(&f, DatasetSplit::Train);
        let e = go(
            &mut f,
            "t",
            &model,
            root,
            BTreeMap::from([(DatasetSplit::Train, foreign)]),
        );
        match e {
            Err(Error::Unauthorized {
                field: "data_splits",
                reference,
                ..
            }) => {
                assert!(reference.ends_with("dataset family other"), "{reference}");
            }
            other => panic!("{other:?}"),
        }
        let e = go(&mut f, "t", &model, d(1), tv.clone());
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "datasets_root_anchor",
                    ..
                }))
            ),
            "{e:?}"
        );
        let mut tampered = model.to_claimed();
        tampered.record.description.authorized_datasets.insert(
            "other".into(),
            f.datasets.dataset_family("other").unwrap().digest(),
        );
        // An edited anchor reaches the manager only as a claim, which does not check.
        let e = tampered.clone().check_named(&p, "model anchor", "m@1");
        assert!(
            matches!(
                e,
                Err(lcm_model::Error::SealMismatch {
                    kind: "model anchor",
                    ..
                })
            ),
            "{e:?}"
        );
        // A correctly re-sealed edit is still not a model the model manager made.
        let resealed = Sealed::seal(tampered.record, &p).unwrap();
        let e = go(&mut f, "t", &resealed, root, tv.clone());
        match e {
            Err(Error::UnknownReference {
                field: "model_anchor",
                reference,
                ..
            }) => {
                assert!(reference.starts_with("pneumonia@v1 ("), "{reference}");
            }
            other => panic!("{other:?}"),
        }
        let mut stranger = ModelManager::new(ctx(16));
        let unknown = stranger
            .create_model_anchor(
                &f.datasets,
                ModelAnchorRequest {
                    model_name: "x".into(),
                    version: "1".into(),
                    architecture: ModelArchitecture::new("CNN"),
                    hyperparameters: Map::new(),
                    environment: TrainingEnvironment::new("tf", "2"),
                    authorized_datasets: vec!["med".into()],
                    trainer_commit: "c".into(),
                    parameters: None,
                },
                "pw",
            )
            .unwrap();
        let e = go(&mut f, "t", &unknown, root, tv.clone());
        assert!(
            matches!(
                e,
                Err(Error::UnknownReference {
                    field: "model_anchor",
                    ..
                })
            ),
            "{e:?}"
        );
        // A model that authorizes both families still cannot mix them in one session.
        let both = f.both.clone();
        let mut mixed = tv.clone();
        mixed.insert(
            DatasetSplit::Validation,
            other(&f, DatasetSplit::Validation),
        );
        let e = go(&mut f, "t", &both, root, mixed);
        assert!(
            matches!(
                e,
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "data_splits",
                    ..
                }))
            ),
            "{e:?}"
        );
        // ... but may train on the other family alone.
        let other_root = f.datasets.datasets_root_anchor("other").unwrap();
        let only_other = BTreeMap::from([(DatasetSplit::Train, other(&f, DatasetSplit::Train))]);
        go(&mut f, "t_other", &both, other_root, only_other).unwrap();
        let e = go(&mut f, "", &model, root, tv.clone());
        assert!(
            matches!(
                e,
                Err(Error::Empty {
                    field: "session_id",
                    ..
                })
            ),
            "{e:?}"
        );

        let s = go(&mut f, "t", &model, root, tv.clone()).unwrap();
        assert_eq!(s.record().model_anchor, model.digest());
        assert_eq!(
            s.record().data_splits[&DatasetSplit::Train],
            f.splits[&DatasetSplit::Train].digest()
        );
        let e = go(&mut f, "t", &model, root, tv);
        assert!(
            matches!(e, Err(Error::Model(lcm_model::Error::DuplicateId { .. }))),
            "{e:?}"
        );
    }

    /// A completed run with two checkpoints, and its policy.
    fn completed() -> (Policy, TrainingRun) {
        let mut f = fixture(17);
        let s = start(&mut f, "t", config(5));
        f.training
            .add_checkpoint(&s, "c1", 1, 10, loss(1.0), d(1), d(2))
            .unwrap();
        f.training
            .add_checkpoint(&s, "c2", 2, 20, loss(0.5), d(3), d(4))
            .unwrap();
        f.training
            .complete_training_session(&s, d(9), metrics(), "alice")
            .unwrap();
        let p = f.training.context().policy().clone();
        (p, f.training.training_session("t").unwrap().clone())
    }

    #[test]
    fn every_snapshot_field_changes_the_root() {
        let (p, run) = completed();
        let snap = run.snapshot().unwrap().clone();
        let root = compute_training_session_root(&p, &snap);
        let edits: Vec<fn(&mut TrainingSnapshot)> = vec![
            |s| s.session_id.push('x'),
            |s| s.session = Digest::from_bytes([0xa0; 32]),
            |s| s.model_anchor = Digest::from_bytes([0xa1; 32]),
            |s| s.datasets_root = Digest::from_bytes([0xa2; 32]),
            |s| s.config_digest = Digest::from_bytes([0xa3; 32]),
            |s| s.checkpoint_head = Digest::from_bytes([0xa4; 32]),
            |s| s.checkpoint_count += 1,
            |s| s.metrics_digest = Digest::from_bytes([0xa5; 32]),
            |s| s.final_model_digest = Digest::from_bytes([0xa6; 32]),
            |s| s.user_id.push('x'),
            |s| s.started_at = Timestamp::from_unix_micros(1),
            |s| s.completed_at = Timestamp::from_unix_micros(2),
        ];
        let mut seen = vec![root];
        for (i, edit) in edits.iter().enumerate() {
            let mut record = snap.record().clone();
            edit(&mut record);
            // Unsealed tampering is caught by the seal check.
            let forged = Claimed {
                record: record.clone(),
                digest: snap.digest(),
            };
            assert!(
                matches!(
                    forged.check_named(&p, "training snapshot", "t"),
                    Err(ModelError::SealMismatch { .. })
                ),
                "edit {i}"
            );
            let resealed = Sealed::seal(record, &p).unwrap();
            let r = compute_training_session_root(&p, &resealed);
            assert!(!seen.contains(&r), "edit {i} left the root unchanged");
            seen.push(r);
        }
        // The hash algorithm of the policy governs the root.
        let blake = Policy {
            hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
            ..p
        };
        let resealed = Sealed::seal(snap.record().clone(), &blake).unwrap();
        assert_ne!(compute_training_session_root(&blake, &resealed), root);
    }

    #[test]
    fn verify_training_run_catches_tampering() {
        let (p, run) = completed();
        let (s, cps, m, snap) = (
            run.session(),
            run.checkpoints(),
            run.metrics().unwrap(),
            run.snapshot().unwrap(),
        );
        verify_training_run(&p, s, cps, m, snap).unwrap();
        // Tampering reaches a verifier only as a claim, whose seals it recomputes.
        let (s, cps, snap) = (
            &s.to_claimed(),
            &cps.iter().map(Sealed::to_claimed).collect::<Vec<_>>()[..],
            &snap.to_claimed(),
        );
        verify_claimed_training_run(&p, s, cps, m, snap).unwrap();

        let mut reordered = cps.to_vec();
        reordered.swap(0, 1);
        let e = verify_claimed_training_run(&p, s, &reordered, m, snap);
        assert!(
            matches!(e, Err(ModelError::ChainOrder { index: 0, .. })),
            "{e:?}"
        );

        let mut edited = cps.to_vec();
        edited[1]
            .record
            .metrics
            .insert("loss".into(), Finite::new(0.1).unwrap());
        let e = verify_claimed_training_run(&p, s, &edited, m, snap);
        assert!(
            matches!(
                e,
                Err(ModelError::SealMismatch {
                    kind: "training checkpoint",
                    ..
                })
            ),
            "{e:?}"
        );

        // Re-sealing an edited checkpoint breaks the next link or the snapshot head.
        let mut resealed = cps.to_vec();
        let mut first = resealed[0].record().clone();
        first.step = 11;
        resealed[0] = Sealed::seal(first, &p).unwrap().into();
        let e = verify_claimed_training_run(&p, s, &resealed, m, snap);
        assert!(
            matches!(e, Err(ModelError::ChainLink { index: 1, .. })),
            "{e:?}"
        );
        let mut last = cps.to_vec();
        let mut second = last[1].record().clone();
        second.step = 21;
        last[1] = Sealed::seal(second, &p).unwrap().into();
        let e = verify_claimed_training_run(&p, s, &last, m, snap);
        assert!(
            matches!(
                e,
                Err(ModelError::UnexpectedValue {
                    field: "checkpoint_head",
                    ..
                })
            ),
            "{e:?}"
        );

        let e = verify_claimed_training_run(&p, s, &cps[..1], m, snap);
        assert!(
            matches!(
                e,
                Err(ModelError::UnexpectedValue {
                    field: "checkpoint_head",
                    ..
                })
            ),
            "{e:?}"
        );

        let mut going_back = cps.to_vec();
        let mut second = going_back[1].record().clone();
        second.step = 5;
        going_back[1] = Sealed::seal(second, &p).unwrap().into();
        let e = verify_claimed_training_run(&p, s, &going_back, m, snap);
        assert!(
            matches!(e, Err(ModelError::UnexpectedValue { field: "step", .. })),
            "{e:?}"
        );

        let mut other_metrics = m.clone();
        other_metrics.epochs = vec![1, 11];
        let e = verify_claimed_training_run(&p, s, cps, &other_metrics, snap);
        assert!(
            matches!(
                e,
                Err(ModelError::UnexpectedValue {
                    field: "metrics_digest",
                    ..
                })
            ),
            "{e:?}"
        );

        let mut other_session = s.record().clone();
        other_session.training_config = config(6);
        let other_session = Sealed::seal(other_session, &p).unwrap().into();
        let e = verify_claimed_training_run(&p, &other_session, cps, m, snap);
        assert!(
            matches!(e, Err(ModelError::ChainLink { index: 0, .. })),
            "{e:?}"
        );
        let e = verify_claimed_training_run(&p, &other_session, &[], m, snap);
        assert!(
            matches!(
                e,
                Err(ModelError::UnexpectedValue {
                    field: "session",
                    ..
                })
            ),
            "{e:?}"
        );

        let mut count = snap.record().clone();
        count.checkpoint_count = 3;
        let count = Sealed::seal(count, &p).unwrap().into();
        let e = verify_claimed_training_run(&p, s, cps, m, &count);
        assert!(
            matches!(
                e,
                Err(ModelError::UnexpectedValue {
                    field: "checkpoint_count",
                    ..
                })
            ),
            "{e:?}"
        );
        let mut forged = snap.clone();
        forged.record.user_id = "mallory".into();
        let e = verify_claimed_training_run(&p, s, cps, m, &forged);
        assert!(
            matches!(
                e,
                Err(ModelError::SealMismatch {
                    kind: "training snapshot",
                    ..
                })
            ),
            "{e:?}"
        );
    }
}
