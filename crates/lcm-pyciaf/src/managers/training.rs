//! The reference's training manager (`LCMTrainingManager`, `LCMTrainingSession`,
//! `TrainingSnapshot`).

use crate as rules;

use super::{
    Error, FamilySplit, ModelAnchor, PyciafContext, canonical_object, jfloat, jobj, jstr,
    sha256_hex, with_default_separators,
};
use super::{find_keyed, upsert_keyed};

/// A `TrainingCheckpoint`. The reference hashes none of it; only the number of checkpoints
/// enters the snapshot's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCheckpoint {
    /// `checkpoint_id`.
    pub checkpoint_id: String,
    /// `epoch`.
    pub epoch: u64,
    /// `step`.
    pub step: u64,
    /// `metrics`.
    pub metrics: Vec<(String, f64)>,
    /// `model_state_digest`.
    pub model_state_digest: String,
    /// `optimizer_state_digest`.
    pub optimizer_state_digest: String,
    /// `timestamp`; the manager fills it with the context's clock when `None`.
    pub timestamp: Option<String>,
}

/// `TrainingMetrics`: per-name lists of floats (pydantic turns ints into floats) and epochs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingMetrics {
    /// `train_metrics`, in insertion order.
    pub train_metrics: Vec<(String, Vec<f64>)>,
    /// `val_metrics`.
    pub val_metrics: Vec<(String, Vec<f64>)>,
    /// `epochs`.
    pub epochs: Vec<i64>,
}

impl TrainingMetrics {
    fn lists(items: &[(String, Vec<f64>)]) -> String {
        let pairs: Vec<(&str, String)> = items
            .iter()
            .map(|(k, v)| {
                let inner: Vec<String> = v.iter().map(|f| jfloat(*f)).collect();
                (k.as_str(), format!("[{}]", inner.join(",")))
            })
            .collect();
        jobj(&pairs)
    }

    /// `compute_metrics_digest()`: `canonical_hash({"train_metrics", "val_metrics",
    /// "epochs"})`.
    ///
    /// # Errors
    ///
    /// A rule's error (only for nesting the reader refuses, which these values never reach).
    pub fn compute_metrics_digest(&self) -> Result<String, Error> {
        let epochs: Vec<String> = self.epochs.iter().map(i64::to_string).collect();
        Ok(rules::canonical_hash(&jobj(&[
            ("train_metrics", Self::lists(&self.train_metrics)),
            ("val_metrics", Self::lists(&self.val_metrics)),
            ("epochs", format!("[{}]", epochs.join(","))),
        ]))?)
    }

    /// `final_loss`: the last `train_metrics["loss"]` value, if any.
    pub fn final_loss(&self) -> Option<f64> {
        self.train_metrics
            .iter()
            .rev()
            .find(|(k, _)| k == "loss")
            .and_then(|(_, v)| v.last().copied())
    }
}

/// A `TrainingSnapshot` as `complete_training` makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrainingSnapshot {
    /// `model_version` (the model anchor's version).
    pub model_version: String,
    /// `training_parameters`, as canonical JSON.
    pub training_parameters: String,
    /// `provenance_capsule_hashes`, sorted and deduplicated.
    pub provenance_capsule_hashes: Vec<String>,
    /// `merkle_root_hash`: the reference's tree over them (`sha256("empty_tree")` for none).
    pub merkle_root_hash: String,
    /// `timestamp`.
    pub timestamp: String,
    /// `snapshot_id`: `sha256(f"{model_version}-{merkle_root_hash}-{timestamp}-{params}")`
    /// with `params = json.dumps(training_parameters, sort_keys=True)` (default separators).
    pub snapshot_id: String,
}

/// An `LCMTrainingSession`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TrainingSession {
    /// `session_id`.
    pub session_id: String,
    /// The model anchor's `anchor_id` (`model_ref`).
    pub model_ref: String,
    /// The model anchor's `model_name` (`model_id`).
    pub model_id: String,
    /// The model anchor's `version`.
    pub model_version: String,
    /// The model anchor's `model_hash`.
    pub model_hash: String,
    /// `datasets_root_anchor`.
    pub datasets_root_anchor: String,
    /// `training_config`, as canonical JSON.
    pub training_config: String,
    /// `data_splits`: split → dataset anchor id.
    pub data_splits: Vec<(FamilySplit, String)>,
    /// `split_map_digest` (`"sm_mock_digest"` when not given; not in any digest).
    pub split_map_digest: String,
    /// `checkpoints`.
    pub checkpoints: Vec<TrainingCheckpoint>,
    /// `metrics`.
    pub metrics: Option<TrainingMetrics>,
    /// `start_time`.
    pub start_time: String,
    /// `end_time`, set by `complete_training`.
    pub end_time: Option<String>,
    /// `training_snapshot`, set by `complete_training`.
    pub training_snapshot: Option<TrainingSnapshot>,
}

impl TrainingSession {
    fn snapshot(&self) -> Result<&TrainingSnapshot, Error> {
        self.training_snapshot
            .as_ref()
            .ok_or_else(|| Error::NotCompleted {
                session_id: self.session_id.clone(),
            })
    }

    /// `get_training_snapshot_anchor()`: `tr_` + 8 hex of `snapshot_id` + `...`.
    ///
    /// # Errors
    ///
    /// [`Error::NotCompleted`] before `complete_training`.
    pub fn get_training_snapshot_anchor(&self) -> Result<String, Error> {
        Ok(rules::display_id("tr_", &self.snapshot()?.snapshot_id))
    }

    /// `get_training_session_root()`: the reference's tree over `[model_hash,
    /// datasets_root_anchor, snapshot merkle_root_hash]`.
    ///
    /// # Errors
    ///
    /// [`Error::NotCompleted`] before `complete_training`; [`Error::Rule`] when
    /// `datasets_root_anchor` is not hex (the reference raises `ValueError`).
    pub fn get_training_session_root(&self) -> Result<String, Error> {
        let snapshot = self.snapshot()?;
        Ok(rules::training_session_root(
            &self.model_hash,
            &self.datasets_root_anchor,
            &snapshot.merkle_root_hash,
        )?)
    }
}

/// The reference's `LCMTrainingManager`: sessions by id.
#[derive(Debug)]
pub struct TrainingManager {
    ctx: PyciafContext,
    sessions: Vec<TrainingSession>,
}

impl TrainingManager {
    /// A manager with no sessions.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            sessions: Vec::new(),
        }
    }

    /// `create_training_session(session_id, model_anchor, datasets_root_anchor,
    /// training_config, data_splits, split_map_digest)`; `start_time` is read from the clock.
    /// A session with the same id is replaced.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] or [`Error::Field`] when the configuration is not a JSON object.
    pub fn create_training_session(
        &mut self,
        session_id: &str,
        model_anchor: &ModelAnchor,
        datasets_root_anchor: &str,
        training_config_json: &str,
        data_splits: &[(FamilySplit, &str)],
        split_map_digest: Option<&str>,
    ) -> Result<&TrainingSession, Error> {
        let training_config = canonical_object(training_config_json, "the training config")?;
        let session = TrainingSession {
            session_id: session_id.to_owned(),
            model_ref: model_anchor.anchor_id.clone(),
            model_id: model_anchor.model_name.clone(),
            model_version: model_anchor.version.clone(),
            model_hash: model_anchor.model_hash().to_owned(),
            datasets_root_anchor: datasets_root_anchor.to_owned(),
            training_config,
            data_splits: data_splits
                .iter()
                .map(|(s, id)| (*s, (*id).to_owned()))
                .collect(),
            split_map_digest: match split_map_digest {
                Some(d) if !d.is_empty() => d.to_owned(),
                _ => "sm_mock_digest".to_owned(),
            },
            checkpoints: Vec::new(),
            metrics: None,
            start_time: self.ctx.now_isoformat(),
            end_time: None,
            training_snapshot: None,
        };
        Ok(upsert_keyed(&mut self.sessions, session))
    }

    fn session_mut(&mut self, session_id: &str) -> Result<&mut TrainingSession, Error> {
        self.sessions
            .iter_mut()
            .find(|s| s.session_id == session_id)
            .ok_or_else(|| Error::Unknown {
                kind: "training session",
                id: session_id.to_owned(),
            })
    }

    /// `session.add_checkpoint(checkpoint)`; a missing timestamp is read from the clock.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown session.
    pub fn add_checkpoint(
        &mut self,
        session_id: &str,
        mut checkpoint: TrainingCheckpoint,
    ) -> Result<(), Error> {
        if checkpoint.timestamp.is_none() {
            checkpoint.timestamp = Some(self.ctx.now_isoformat());
        }
        self.session_mut(session_id)?.checkpoints.push(checkpoint);
        Ok(())
    }

    /// `session.set_metrics(metrics)`.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown session.
    pub fn set_metrics(&mut self, session_id: &str, metrics: TrainingMetrics) -> Result<(), Error> {
        self.session_mut(session_id)?.metrics = Some(metrics);
        Ok(())
    }

    /// `session.complete_training(final_model_capsules)`, given the capsules' hashes (their
    /// `hash_proof`): `end_time` from the clock, then the snapshot of the model's version over
    /// the training config updated with `session_id`, `model_anchor`, `datasets_root_anchor`,
    /// `data_splits`, `checkpoints_count`, `metrics_digest` (`"none"` without metrics),
    /// `start_time` and `end_time`, stamped with the clock's next reading.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown session, [`Error::Rule`] when two or more capsule
    /// hashes are not hex.
    pub fn complete_training(
        &mut self,
        session_id: &str,
        capsule_hashes: &[&str],
    ) -> Result<&TrainingSnapshot, Error> {
        let ctx = self.ctx.clone();
        let session = self.session_mut(session_id)?;
        let end_time = ctx.now_isoformat();
        let metrics_digest = match &session.metrics {
            Some(m) => m.compute_metrics_digest()?,
            None => "none".to_owned(),
        };
        let splits: Vec<(&str, String)> = session
            .data_splits
            .iter()
            .map(|(s, id)| (s.value(), jstr(id)))
            .collect();
        let extras = jobj(&[
            ("session_id", jstr(&session.session_id)),
            ("model_anchor", jstr(&session.model_ref)),
            ("datasets_root_anchor", jstr(&session.datasets_root_anchor)),
            ("data_splits", jobj(&splits)),
            ("checkpoints_count", session.checkpoints.len().to_string()),
            ("metrics_digest", jstr(&metrics_digest)),
            ("start_time", jstr(&session.start_time)),
            ("end_time", jstr(&end_time)),
        ]);
        // `config.copy().update(extras)`: the extras' members follow the config's; a repeated
        // key keeps the last value, as the rules' reader (Python's dict) does.
        let config_members = session
            .training_config
            .strip_prefix('{')
            .and_then(|c| c.strip_suffix('}'))
            .unwrap_or("");
        let extra_members = extras
            .strip_prefix('{')
            .and_then(|c| c.strip_suffix('}'))
            .unwrap_or("");
        let merged = if config_members.is_empty() {
            extras.clone()
        } else {
            format!("{{{config_members},{extra_members}}}")
        };
        let training_parameters = rules::canonical_json(&merged)?;

        let mut hashes: Vec<String> = capsule_hashes.iter().map(|h| (*h).to_owned()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let merkle_root_hash = rules::merkle_root(&refs)?;
        let timestamp = ctx.now_isoformat();
        let snapshot_id = sha256_hex(&format!(
            "{}-{merkle_root_hash}-{timestamp}-{}",
            session.model_version,
            with_default_separators(&training_parameters)
        ));
        session.end_time = Some(end_time);
        Ok(session.training_snapshot.insert(TrainingSnapshot {
            model_version: session.model_version.clone(),
            training_parameters,
            provenance_capsule_hashes: hashes,
            merkle_root_hash,
            timestamp,
            snapshot_id,
        }))
    }

    /// `get_training_session(session_id)`.
    pub fn get_training_session(&self, session_id: &str) -> Option<&TrainingSession> {
        find_keyed(&self.sessions, session_id)
    }
}
