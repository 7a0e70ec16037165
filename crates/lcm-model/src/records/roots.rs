//! Root records (seed §7): the test evaluation anchor, and the release and inference batch
//! roots that summarize a release and a window of inferences.
//!
//! Differences from the Python reference, on purpose:
//!
//! - a test evaluation's metrics digest is always recomputed from the metrics, never taken
//!   from the caller (the reference trusts a supplied one), and NaN or infinite metrics are
//!   errors;
//! - the test dataset is referenced by full digest;
//! - every root is an RFC 9162 Merkle root over full digests under the policy's hash
//!   algorithm, and an empty inference batch is an error, not `"empty_batch"`.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use serde::{Deserialize, Serialize};

use crate::{Error, Finite, Policy, Record, Timestamp, record_digest};

/// The evaluation of a model on a test dataset: the seed's `TestEvaluationAnchor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEvaluationAnchor {
    /// The user-facing id, for example `"test_001"`.
    pub test_id: String,
    /// The full digest of the test dataset (split) anchor.
    pub test_dataset: Digest,
    /// The kind of evaluation; by convention `"pre_deploy"`, `"post_deploy"` or
    /// `"benchmark"`.
    pub evaluation_type: String,
    /// Metric name to value.
    pub metrics: BTreeMap<String, Finite>,
    /// [`TestEvaluationAnchor::compute_metrics_digest`] of the fields above; recomputed by
    /// [`TestEvaluationAnchor::verify_metrics_digest`].
    pub metrics_digest: Digest,
    /// When the evaluation was recorded.
    pub created_at: Timestamp,
}

/// The part of a test evaluation its metrics digest covers (the seed's
/// `{metrics, test_dataset_ref, evaluation_type}`).
#[derive(Serialize)]
struct MetricsView<'a> {
    evaluation_type: &'a str,
    metrics: &'a BTreeMap<String, Finite>,
    test_dataset: &'a Digest,
}

/// The record kind the metrics digest is hashed under.
pub const TEST_METRICS_KIND: &str = "test-metrics";

impl TestEvaluationAnchor {
    /// The metrics digest of an evaluation: the canonical JSON of
    /// `{evaluation_type, metrics, test_dataset}` hashed under the `test-metrics` tag.
    ///
    /// # Errors
    ///
    /// As [`Record::digest`].
    pub fn compute_metrics_digest(
        test_dataset: &Digest,
        evaluation_type: &str,
        metrics: &BTreeMap<String, Finite>,
        policy: &Policy,
    ) -> Result<Digest, Error> {
        record_digest(
            policy,
            TEST_METRICS_KIND,
            &MetricsView {
                evaluation_type,
                metrics,
                test_dataset,
            },
        )
    }

    /// Recomputes the metrics digest and compares it (in constant time) with the stored one.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when a metric, the dataset, the evaluation type or the stored
    /// digest was changed.
    pub fn verify_metrics_digest(&self, policy: &Policy) -> Result<(), Error> {
        let recomputed = Self::compute_metrics_digest(
            &self.test_dataset,
            &self.evaluation_type,
            &self.metrics,
            policy,
        )?;
        if recomputed == self.metrics_digest {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                record: TEST_METRICS_KIND,
                stored: self.metrics_digest,
                recomputed,
            })
        }
    }
}

impl Record for TestEvaluationAnchor {
    const KIND: &'static str = "test-evaluation-anchor";
}

/// The root of a release: the RFC 9162 root over, in this order, the training session root,
/// the pre-deployment anchor's digest, the deployment anchor's digest and the test evaluation
/// anchor's digest (each a 32-byte leaf).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRoot {
    /// The training session root.
    pub training_session_root: Digest,
    /// The pre-deployment anchor's digest.
    pub predeployment: Digest,
    /// The deployment anchor's digest.
    pub deployment: Digest,
    /// The test evaluation anchor's digest.
    pub test_evaluation: Digest,
    /// The Merkle root over the four digests above.
    pub root: Digest,
}

impl ReleaseRoot {
    /// The four leaves, in tree order.
    pub fn leaves(&self) -> [Digest; 4] {
        [
            self.training_session_root,
            self.predeployment,
            self.deployment,
            self.test_evaluation,
        ]
    }
}

impl Record for ReleaseRoot {
    const KIND: &'static str = "release-root";
}

/// The root of a window of inference receipts: the RFC 9162 root over the receipts' digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceBatchRoot {
    /// The window's id.
    pub window_id: String,
    /// The number of receipt digests (at least 1).
    pub size: u64,
    /// The Merkle root.
    pub root: Digest,
}

impl Record for InferenceBatchRoot {
    const KIND: &'static str = "inference-batch-root";
}

#[cfg(test)]
mod tests;
