//! The restore path of [`TrainingManager`]: a session, its checkpoints and its completion
//! made earlier, adopted after every check the create path applies.

use super::*;
use lcm_model::verify::{check_chain_link, check_sequence};

impl TrainingManager {
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
        let model_anchor = models.find_model_anchor(&s.model_anchor).ok_or_else(|| {
            Error::unknown_reference(SESSION, sid, "model_anchor", s.model_anchor.to_string())
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
                    Err(Error::unexpected(
                        SESSION,
                        sid.to_owned(),
                        "datasets_root_anchor",
                        format!(
                            "the datasets root of {family:?} when the session started, {at_start}"
                        ),
                        s.datasets_root.to_string(),
                    ))
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
                return Err(Error::unexpected(
                    CHECKPOINT,
                    id,
                    "session",
                    format!("a checkpoint of session {sid:?}, {}", session.digest()),
                    c.session.to_string(),
                ));
            }
            check_sequence(CHECKPOINT, &id, index, index, c.index)?;
            check_chain_link(CHECKPOINT, &id, index, Some(head), Some(c.previous))?;
            if c.checkpoint_id.is_empty() {
                return Err(Error::Empty {
                    kind: CHECKPOINT,
                    id,
                    field: "checkpoint_id",
                });
            }
            fresh_id(
                CHECKPOINT,
                &id,
                !checkpoint_ids.insert(c.checkpoint_id.clone()),
            )?;
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
}
