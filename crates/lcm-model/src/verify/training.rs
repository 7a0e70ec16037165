//! Training: the training session root of a snapshot, and the re-verification of a completed
//! run (session, checkpoint chain, metrics and snapshot) from its records.

use lcm_crypto::Digest;
use lcm_crypto::merkle::MerkleTree;

use super::name_seal_error;
use crate::records::{
    TrainingCheckpoint, TrainingMetrics, TrainingSession, TrainingSnapshot, training_config_digest,
};
use crate::{Error, Policy, Sealed};

/// The kind names used in error messages.
const SESSION: &str = "training session";
const CHECKPOINT: &str = "training checkpoint";
const SNAPSHOT: &str = "training snapshot";
const METRICS: &str = "training metrics";

/// Names the session of a metrics validation error.
fn metrics_error(session_id: &str, e: Error) -> Error {
    match e {
        Error::InvalidField {
            field,
            expected,
            actual,
            ..
        } => Error::UnexpectedValue {
            kind: METRICS,
            id: session_id.to_owned(),
            field,
            expected: expected.to_owned(),
            actual,
        },
        Error::NonFiniteField { field, value, .. } => Error::NonFiniteMetric {
            kind: METRICS,
            id: session_id.to_owned(),
            metric: field,
            value,
        },
        other => other,
    }
}

/// The training session root of a snapshot: the RFC 9162 root, under the policy's hash
/// algorithm, over these eight full digests in this order, each leaf being the 32 digest bytes:
///
/// | leaf | value |
/// |---|---|
/// | 0 | the model anchor digest |
/// | 1 | the datasets root |
/// | 2 | the session digest (session id, config, split anchors, start time) |
/// | 3 | the training config digest |
/// | 4 | the checkpoint chain head (the last checkpoint's digest, or the session digest) |
/// | 5 | the metrics digest |
/// | 6 | the final model digest |
/// | 7 | the snapshot digest (all of the above, the checkpoint count, the user, both times) |
///
/// The snapshot's seal is verified first. A snapshot exists only for a completed session.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::SealMismatch`] when the snapshot's digest does not match its content.
pub fn compute_training_session_root(
    policy: &Policy,
    snapshot: &Sealed<TrainingSnapshot>,
) -> Result<Digest, Error> {
    let s = &snapshot.record;
    snapshot
        .verify(policy)
        .map_err(|e| name_seal_error(SNAPSHOT, &s.session_id, e))?;
    Ok(training_session_root_with_checked_seal(policy, snapshot))
}

/// [`compute_training_session_root`] for a caller that has already recomputed the
/// snapshot's seal and found it matching: the same root, without recomputing that digest a
/// second time. On a snapshot whose seal was not checked, the root is over whatever digest
/// it stores.
///
/// This does not panic.
pub fn training_session_root_with_checked_seal(
    policy: &Policy,
    snapshot: &Sealed<TrainingSnapshot>,
) -> Digest {
    let s = &snapshot.record;
    let leaves = [
        s.model_anchor,
        s.datasets_root,
        s.session,
        s.config_digest,
        s.checkpoint_head,
        s.metrics_digest,
        s.final_model_digest,
        snapshot.digest,
    ];
    MerkleTree::from_leaves_with(policy.hash_algorithm, leaves.iter().map(Digest::as_bytes)).root()
}

/// Re-verifies a completed training run from its records alone: every seal; every
/// checkpoint's session, position, link to its predecessor, step and epoch order; and every
/// binding of the snapshot (session, model anchor, datasets root, config digest, chain head
/// and count, metrics digest, start time).
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::SealMismatch`] for a record whose digest does not match its content;
/// [`Error::ChainOrder`] for a checkpoint out of position; [`Error::ChainLink`] for a broken
/// link; [`Error::UnexpectedValue`] naming the checkpoint or snapshot field that binds the
/// wrong digest (`session`, `model_anchor`, `datasets_root`, `config_digest`,
/// `checkpoint_head`, `metrics_digest`), a checkpoint `step` or `epoch` out of order, or a
/// snapshot `checkpoint_count` or `session_id/started_at` that does not match;
/// [`Error::UnexpectedValue`] or [`Error::NonFiniteMetric`] for invalid metrics.
pub fn verify_training_run(
    policy: &Policy,
    session: &Sealed<TrainingSession>,
    checkpoints: &[Sealed<TrainingCheckpoint>],
    metrics: &TrainingMetrics,
    snapshot: &Sealed<TrainingSnapshot>,
) -> Result<(), Error> {
    training_run(
        policy,
        session,
        checkpoints,
        metrics,
        snapshot,
        Seals::Recompute,
    )
}

/// [`verify_training_run`] for a caller that has already recomputed the seals of the
/// session, of every checkpoint and of the snapshot, and found them all matching (a bundle
/// verifier that reports each seal on its own): every other check, with the same errors, and
/// without recomputing those digests a second time.
///
/// Do not call it on records whose seals were not checked: an edited record with its stored
/// digest left alone passes here.
///
/// This does not panic.
///
/// # Errors
///
/// As [`verify_training_run`], except [`Error::SealMismatch`].
pub fn verify_training_run_with_checked_seals(
    policy: &Policy,
    session: &Sealed<TrainingSession>,
    checkpoints: &[Sealed<TrainingCheckpoint>],
    metrics: &TrainingMetrics,
    snapshot: &Sealed<TrainingSnapshot>,
) -> Result<(), Error> {
    training_run(
        policy,
        session,
        checkpoints,
        metrics,
        snapshot,
        Seals::Checked,
    )
}

/// Whether a verifier recomputes the seals it meets or relies on the caller having done so.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Seals {
    /// Recompute every seal.
    Recompute,
    /// The caller has recomputed them all.
    Checked,
}

fn training_run(
    policy: &Policy,
    session: &Sealed<TrainingSession>,
    checkpoints: &[Sealed<TrainingCheckpoint>],
    metrics: &TrainingMetrics,
    snapshot: &Sealed<TrainingSnapshot>,
    seals: Seals,
) -> Result<(), Error> {
    let sid = session.record.session_id.as_str();
    if seals == Seals::Recompute {
        session
            .verify(policy)
            .map_err(|e| name_seal_error(SESSION, sid, e))?;
    }
    let mut head = session.digest;
    let mut last: Option<&TrainingCheckpoint> = None;
    for (i, cp) in checkpoints.iter().enumerate() {
        let c = &cp.record;
        let id = format!("{sid}/{}", c.checkpoint_id);
        let index = u64::try_from(i).unwrap_or(u64::MAX);
        if seals == Seals::Recompute {
            cp.verify(policy)
                .map_err(|e| name_seal_error(CHECKPOINT, &id, e))?;
        }
        if c.index != index {
            return Err(Error::ChainOrder {
                kind: CHECKPOINT,
                id,
                index,
                expected: index,
                actual: c.index,
            });
        }
        if c.previous != head {
            return Err(Error::ChainLink {
                kind: CHECKPOINT,
                id,
                index,
                expected: Some(head),
                actual: Some(c.previous),
            });
        }
        if c.session != session.digest {
            return Err(Error::UnexpectedValue {
                kind: CHECKPOINT,
                id,
                field: "session",
                expected: session.digest.to_string(),
                actual: c.session.to_string(),
            });
        }
        if let Some(prev) = last {
            if c.step <= prev.step {
                return Err(Error::UnexpectedValue {
                    kind: CHECKPOINT,
                    id,
                    field: "step",
                    expected: format!("a step greater than {}", prev.step),
                    actual: c.step.to_string(),
                });
            }
            if c.epoch < prev.epoch {
                return Err(Error::UnexpectedValue {
                    kind: CHECKPOINT,
                    id,
                    field: "epoch",
                    expected: format!("an epoch of at least {}", prev.epoch),
                    actual: c.epoch.to_string(),
                });
            }
        }
        head = cp.digest;
        last = Some(c);
    }
    if seals == Seals::Recompute {
        snapshot
            .verify(policy)
            .map_err(|e| name_seal_error(SNAPSHOT, sid, e))?;
    }
    let s = &snapshot.record;
    let r = &session.record;
    let count = u64::try_from(checkpoints.len()).unwrap_or(u64::MAX);
    let metrics_digest = metrics
        .compute_metrics_digest(policy)
        .map_err(|e| metrics_error(sid, e))?;
    let config_digest = training_config_digest(policy, &r.training_config)?;
    let checks: [(&'static str, Digest, Digest); 6] = [
        ("session", session.digest, s.session),
        ("model_anchor", r.model_anchor, s.model_anchor),
        ("datasets_root", r.datasets_root, s.datasets_root),
        ("config_digest", config_digest, s.config_digest),
        ("checkpoint_head", head, s.checkpoint_head),
        ("metrics_digest", metrics_digest, s.metrics_digest),
    ];
    for (field, expected, actual) in checks {
        if expected != actual {
            return Err(Error::UnexpectedValue {
                kind: SNAPSHOT,
                id: sid.to_owned(),
                field,
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
    }
    if s.checkpoint_count != count {
        return Err(Error::UnexpectedValue {
            kind: SNAPSHOT,
            id: sid.to_owned(),
            field: "checkpoint_count",
            expected: count.to_string(),
            actual: s.checkpoint_count.to_string(),
        });
    }
    if s.session_id != r.session_id || s.started_at != r.started_at {
        return Err(Error::UnexpectedValue {
            kind: SNAPSHOT,
            id: sid.to_owned(),
            field: "session_id/started_at",
            expected: format!("{:?} started {}", r.session_id, r.started_at),
            actual: format!("{:?} started {}", s.session_id, s.started_at),
        });
    }
    Ok(())
}
