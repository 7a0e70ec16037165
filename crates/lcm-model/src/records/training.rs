//! Training records: the session, its hash-chained checkpoints, the metrics and the snapshot
//! that completes a session.
//!
//! The Python reference's training root ignores the config, the checkpoints and the metrics,
//! so two different runs of one model on one dataset get the same root. Here the session
//! binds the model anchor, the datasets root, the config and the split anchors by full digest;
//! every checkpoint binds its predecessor (the first one binds the session), so the last
//! checkpoint's digest commits to the whole chain; and the snapshot commits to the config
//! digest, the chain head and length, the metrics digest, the final model digest, the user
//! and both times.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::records::DatasetSplit;
use crate::{Error, Finite, Policy, Record, Timestamp, record_digest};

/// The record kind under which a training config (a JSON object) is hashed.
pub const TRAINING_CONFIG_KIND: &str = "training-config";

/// The digest of a training config: its canonical JSON under `lcm/<v>/training-config`.
///
/// # Errors
///
/// As [`record_digest`].
pub fn training_config_digest(
    policy: &Policy,
    config: &Map<String, Value>,
) -> Result<Digest, Error> {
    record_digest(policy, TRAINING_CONFIG_KIND, config)
}

/// The start of a training session (what the seed's `LCMTrainingSession` is created from).
///
/// Its digest is the session digest that every checkpoint and the snapshot reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSession {
    /// The session id, for lookup and display (for example `"train_001"`).
    pub session_id: String,
    /// The full digest of the model anchor being trained.
    pub model_anchor: Digest,
    /// The datasets root of the family the splits come from.
    pub datasets_root: Digest,
    /// The training configuration, free-form.
    pub training_config: Map<String, Value>,
    /// The split anchors used, by split, as full digests.
    pub data_splits: BTreeMap<DatasetSplit, Digest>,
    /// When the session started.
    pub started_at: Timestamp,
}

impl Record for TrainingSession {
    const KIND: &'static str = "training-session";
}

/// One checkpoint of a session (the seed's `TrainingCheckpoint`), a link in a hash chain.
///
/// `previous` is the digest of the session's previous checkpoint, or the session digest for
/// the first one, so the digest of the last checkpoint commits to every earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingCheckpoint {
    /// The session digest.
    pub session: Digest,
    /// The checkpoint id, unique within the session.
    pub checkpoint_id: String,
    /// The position in the chain, from 0.
    pub index: u64,
    /// The epoch (never decreasing along the chain).
    pub epoch: u64,
    /// The optimizer step (strictly increasing along the chain).
    pub step: u64,
    /// Metric values at this point, by name.
    pub metrics: BTreeMap<String, Finite>,
    /// The digest of the model state.
    pub model_state_digest: Digest,
    /// The digest of the optimizer state.
    pub optimizer_state_digest: Digest,
    /// The previous checkpoint's digest, or the session digest for the first checkpoint.
    pub previous: Digest,
    /// When the checkpoint was recorded.
    pub created_at: Timestamp,
}

impl Record for TrainingCheckpoint {
    const KIND: &'static str = "training-checkpoint";
}

/// Metric curves of a training run (the seed's `TrainingMetrics`).
///
/// Each series holds one finite value per entry of `epochs`, and `epochs` strictly increases.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use lcm_model::Policy;
/// use lcm_model::records::TrainingMetrics;
///
/// let train = BTreeMap::from([("loss".to_owned(), vec![1.0, 0.8, 0.6, 0.45])]);
/// let val = BTreeMap::from([("loss".to_owned(), vec![1.1, 0.9, 0.65, 0.48])]);
/// let m = TrainingMetrics::new(train, val, vec![1, 10, 20, 50])?;
/// let digest = m.compute_metrics_digest(&Policy::default())?;
/// assert_eq!(digest, m.compute_metrics_digest(&Policy::default())?);
///
/// let nan = BTreeMap::from([("loss".to_owned(), vec![f64::NAN])]);
/// assert!(TrainingMetrics::new(nan, BTreeMap::new(), vec![1]).is_err());
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TrainingMetrics {
    /// Training-set metric series, by name.
    pub train_metrics: BTreeMap<String, Vec<Finite>>,
    /// Validation-set metric series, by name.
    pub val_metrics: BTreeMap<String, Vec<Finite>>,
    /// The epoch of each series entry.
    pub epochs: Vec<u64>,
}

impl Record for TrainingMetrics {
    const KIND: &'static str = "training-metrics";
}

impl TrainingMetrics {
    /// Metrics from plain floats, checked.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteField`] naming the series and index of a NaN or infinite value (for
    /// example `train_metrics.loss[3]`); otherwise as [`TrainingMetrics::validate`].
    pub fn new(
        train_metrics: BTreeMap<String, Vec<f64>>,
        val_metrics: BTreeMap<String, Vec<f64>>,
        epochs: Vec<u64>,
    ) -> Result<Self, Error> {
        let m = Self {
            train_metrics: finite_series("train_metrics", train_metrics)?,
            val_metrics: finite_series("val_metrics", val_metrics)?,
            epochs,
        };
        m.validate()?;
        Ok(m)
    }

    /// Checks that `epochs` strictly increases and that every series has one value per epoch.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidField`] naming `epochs`, `train_metrics` or `val_metrics`.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(w) = self.epochs.windows(2).find(|w| w[0] >= w[1]) {
            return Err(Error::InvalidField {
                record: Self::KIND,
                field: "epochs",
                expected: "strictly increasing epochs",
                actual: format!("{} then {}", w[0], w[1]),
            });
        }
        for (field, series) in [
            ("train_metrics", &self.train_metrics),
            ("val_metrics", &self.val_metrics),
        ] {
            if let Some((name, values)) = series.iter().find(|(_, v)| v.len() != self.epochs.len())
            {
                return Err(Error::InvalidField {
                    record: Self::KIND,
                    field,
                    expected: "one value per epoch",
                    actual: format!(
                        "{name:?} has {} values for {} epochs",
                        values.len(),
                        self.epochs.len()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The metrics digest (the seed's `compute_metrics_digest()`): the canonical JSON of all
    /// three fields under `lcm/<v>/training-metrics`.
    ///
    /// # Errors
    ///
    /// As [`TrainingMetrics::validate`] and [`Record::digest`].
    pub fn compute_metrics_digest(&self, policy: &Policy) -> Result<Digest, Error> {
        self.validate()?;
        self.digest(policy)
    }

    /// The last training loss (the seed's `final_loss`), if recorded.
    pub fn final_loss(&self) -> Option<f64> {
        self.train_metrics
            .get("loss")
            .and_then(|v| v.last())
            .map(|f| f.get())
    }

    /// The last training accuracy (the seed's `final_accuracy`), if recorded.
    pub fn final_accuracy(&self) -> Option<f64> {
        self.train_metrics
            .get("accuracy")
            .and_then(|v| v.last())
            .map(|f| f.get())
    }
}

fn finite_series(
    field: &str,
    series: BTreeMap<String, Vec<f64>>,
) -> Result<BTreeMap<String, Vec<Finite>>, Error> {
    series
        .into_iter()
        .map(|(name, values)| {
            let checked = values
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    Finite::new(v).map_err(|_| Error::NonFiniteField {
                        record: TrainingMetrics::KIND,
                        field: format!("{field}.{name}[{i}]"),
                        value: v.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name, checked))
        })
        .collect()
}

/// The record that completes a training session (the seed's `TrainingSnapshot`).
///
/// It repeats the session's bindings so that the training session root can be computed from
/// the snapshot alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSnapshot {
    /// The session id, for display.
    pub session_id: String,
    /// The session digest.
    pub session: Digest,
    /// The model anchor digest (as in the session).
    pub model_anchor: Digest,
    /// The datasets root (as in the session).
    pub datasets_root: Digest,
    /// The digest of the session's training config ([`training_config_digest`]).
    pub config_digest: Digest,
    /// The digest of the last checkpoint, or the session digest when there is none.
    pub checkpoint_head: Digest,
    /// The number of checkpoints.
    pub checkpoint_count: u64,
    /// The digest of the final [`TrainingMetrics`].
    pub metrics_digest: Digest,
    /// The digest of the final model (for example a parameter fingerprint root).
    pub final_model_digest: Digest,
    /// Who completed the session.
    pub user_id: String,
    /// When the session started (as in the session).
    pub started_at: Timestamp,
    /// When it was completed.
    pub completed_at: Timestamp,
}

impl Record for TrainingSnapshot {
    const KIND: &'static str = "training-snapshot";
}

#[cfg(test)]
mod tests;
