//! Training: the training session root of a snapshot, and the re-verification of a completed
//! run (session, checkpoint chain, metrics and snapshot) from its records.

use lcm_crypto::Digest;
use lcm_crypto::merkle::MerkleTree;

use super::{check_chain_link, check_seal};
use crate::records::{
    TrainingCheckpoint, TrainingMetrics, TrainingSession, TrainingSnapshot, training_config_digest,
};
use crate::{Claimed, Error, Policy, Seal, Sealed};

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
/// The snapshot is sealed, so its digest is its content's; for a snapshot parsed from a
/// document, check it first ([`Claimed::check`]). A snapshot exists only for a completed
/// session.
///
/// This does not panic.
pub fn compute_training_session_root(
    policy: &Policy,
    snapshot: &Sealed<TrainingSnapshot>,
) -> Digest {
    let s = snapshot.record();
    let leaves = [
        s.model_anchor,
        s.datasets_root,
        s.session,
        s.config_digest,
        s.checkpoint_head,
        s.metrics_digest,
        s.final_model_digest,
        snapshot.digest(),
    ];
    MerkleTree::from_leaves_with(policy.hash_algorithm, leaves.iter().map(Digest::as_bytes)).root()
}

/// Re-verifies a completed training run from its sealed records: every checkpoint's session,
/// position, link to its predecessor, step and epoch order ([`check_checkpoint_order`]); and
/// every binding of the snapshot (session, model anchor, datasets root, config digest, chain
/// head and count, metrics digest, start time). For records parsed from a document,
/// [`verify_claimed_training_run`] recomputes their seals as it goes.
///
/// This does not panic.
///
/// # Errors
///
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
    let seals = Seals::Checked;
    training_run(policy, session, checkpoints, metrics, snapshot, seals)
}

/// [`verify_training_run`] on records whose seals a document only claims: the session's,
/// each checkpoint's and the snapshot's digest is recomputed, in chain order, before the
/// checks that rely on it.
///
/// This does not panic.
///
/// # Errors
///
/// As [`verify_training_run`], and [`Error::SealMismatch`] for a record whose digest does not
/// match its content.
pub fn verify_claimed_training_run(
    policy: &Policy,
    session: &Claimed<TrainingSession>,
    checkpoints: &[Claimed<TrainingCheckpoint>],
    metrics: &TrainingMetrics,
    snapshot: &Claimed<TrainingSnapshot>,
) -> Result<(), Error> {
    let seals = Seals::Recompute;
    training_run(policy, session, checkpoints, metrics, snapshot, seals)
}

/// The order of a session's checkpoints: a checkpoint's step is greater than the previous
/// checkpoint's, and its epoch is not smaller. The one rule the training manager applies when
/// it adds a checkpoint, when it restores a session and when a run is verified.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::UnexpectedValue`] naming `step` or `epoch` of the training checkpoint `id`.
pub fn check_checkpoint_order(
    id: &str,
    previous: &TrainingCheckpoint,
    step: u64,
    epoch: u64,
) -> Result<(), Error> {
    if step <= previous.step {
        return Err(Error::UnexpectedValue {
            kind: CHECKPOINT,
            id: id.to_owned(),
            field: "step",
            expected: format!(
                "a step greater than {} (checkpoint {:?})",
                previous.step, previous.checkpoint_id
            ),
            actual: step.to_string(),
        });
    }
    if epoch < previous.epoch {
        return Err(Error::UnexpectedValue {
            kind: CHECKPOINT,
            id: id.to_owned(),
            field: "epoch",
            expected: format!(
                "an epoch of at least {} (checkpoint {:?})",
                previous.epoch, previous.checkpoint_id
            ),
            actual: epoch.to_string(),
        });
    }
    Ok(())
}

/// Whether a verifier recomputes the seals it meets or relies on their being sealed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Seals {
    /// Recompute every seal (claimed records).
    Recompute,
    /// The records are sealed.
    Checked,
}

fn training_run<S, C, N>(
    policy: &Policy,
    session: &S,
    checkpoints: &[C],
    metrics: &TrainingMetrics,
    snapshot: &N,
    seals: Seals,
) -> Result<(), Error>
where
    S: Seal<Record = TrainingSession>,
    C: Seal<Record = TrainingCheckpoint>,
    N: Seal<Record = TrainingSnapshot>,
{
    let sid = session.record().session_id.as_str();
    if seals == Seals::Recompute {
        check_seal(policy, SESSION, sid, session)?;
    }
    let mut head = session.digest();
    let mut last: Option<&TrainingCheckpoint> = None;
    for (i, cp) in checkpoints.iter().enumerate() {
        let c = &cp.record();
        let id = format!("{sid}/{}", c.checkpoint_id);
        let index = u64::try_from(i).unwrap_or(u64::MAX);
        if seals == Seals::Recompute {
            check_seal(policy, CHECKPOINT, &id, cp)?;
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
        check_chain_link(CHECKPOINT, &id, index, Some(head), Some(c.previous))?;
        if c.session != session.digest() {
            return Err(Error::UnexpectedValue {
                kind: CHECKPOINT,
                id,
                field: "session",
                expected: session.digest().to_string(),
                actual: c.session.to_string(),
            });
        }
        if let Some(prev) = last {
            check_checkpoint_order(&id, prev, c.step, c.epoch)?;
        }
        head = cp.digest();
        last = Some(c);
    }
    if seals == Seals::Recompute {
        check_seal(policy, SNAPSHOT, sid, snapshot)?;
    }
    let s = &snapshot.record();
    let r = &session.record();
    let count = u64::try_from(checkpoints.len()).unwrap_or(u64::MAX);
    let metrics_digest = metrics
        .compute_metrics_digest(policy)
        .map_err(|e| metrics_error(sid, e))?;
    let config_digest = training_config_digest(policy, &r.training_config)?;
    let checks: [(&'static str, Digest, Digest); 6] = [
        ("session", session.digest(), s.session),
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
