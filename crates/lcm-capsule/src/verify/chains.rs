//! Step 4: the checkpoint chain, the status history, the receipt chain and the batches.

use super::*;

/// A batch check to report, once the receipts before it are reported.
pub(super) struct BatchCheck {
    /// The check's name.
    name: &'static str,
    /// The record checked.
    record: String,
    /// The JSON pointer of the field checked.
    field: String,
    /// The outcome.
    outcome: Result<(), CheckError>,
}

impl Verifier<'_> {
    /// The checkpoint chain, the status history, the receipt chain and the batches.
    pub(super) fn chains(&mut self, progress: &mut Progress<'_>) {
        let l = &self.bundle.lifecycle;
        let t = &l.training;
        let c = &self.checked;
        let outcome = match (&c.session, &c.checkpoints, &c.snapshot) {
            (Some(session), Some(checkpoints), Some(snapshot)) => {
                verify_training_run(self.policy, session, checkpoints, &t.metrics, snapshot)
            }
            _ => verify_claimed_training_run(
                self.policy,
                &t.session,
                &t.checkpoints,
                &t.metrics,
                &t.snapshot,
            ),
        };
        let field = match &outcome {
            Ok(()) => format!("{L}/training"),
            Err(e) => match (error_index(e), error_field(e)) {
                (Some(i), _) => format!("{L}/training/checkpoints/{i}"),
                (None, Some(f)) if e.to_string().starts_with("training snapshot") => {
                    format!("{L}/training/snapshot/record/{f}")
                }
                _ => format!("{L}/training/checkpoints"),
            },
        };
        self.report.push(
            "checkpoint chain",
            Stage::Training,
            format!("training session {}", t.session.record.session_id),
            field,
            outcome.map_err(|e| check_error(&e)),
        );
        let d = &l.deployment;
        let outcome = match (&self.checked.deployment, &self.checked.status_history) {
            (Some(anchor), Some(history)) => verify_status_history(self.policy, anchor, history),
            _ => verify_claimed_status_history(self.policy, &d.anchor, &d.status_history),
        };
        let field = match &outcome {
            Ok(()) => format!("{L}/deployment/status_history"),
            Err(e) => match error_index(e) {
                Some(i) => format!("{L}/deployment/status_history/{i}"),
                None => format!("{L}/deployment/status_history"),
            },
        };
        self.report.push(
            "status history",
            Stage::Deployment,
            format!("deployment {}", d.anchor.record.deployment_id),
            field,
            outcome.map_err(|e| check_error(&e)),
        );
        progress.stage(VerifyStage::Receipts);
        self.receipts_and_batches(progress);
    }

    /// The receipt chain, group by group (every digest recomputed, sequences, links and
    /// repeats), then the batches: each group's batch is checked right after its receipts,
    /// so that the receipts counted as done are done, and the checks are reported in the
    /// order of a chain check followed by a batch check.
    pub(super) fn receipts_and_batches(&mut self, progress: &mut Progress<'_>) {
        let l = &self.bundle.lifecycle;
        let groups = &l.inference.batches;
        let mut after: Option<(Digest, u64)> = None;
        let mut failed: Option<(usize, lcm_model::Error)> = None;
        let mut batches = Vec::with_capacity(groups.len());
        for (gi, group) in groups.iter().enumerate() {
            if failed.is_none() && !group.receipts.is_empty() {
                match self.segment(after, &group.receipts, progress) {
                    Ok(()) => after = group.receipts.last().map(|r| (r.digest, r.record.sequence)),
                    Err(e) => failed = Some((gi, e)),
                }
            } else {
                progress.advance(group.receipts.len());
            }
            batches.push(self.batch(gi, group));
        }
        match failed {
            Some((gi, e)) => self.receipt_failure(gi, &e),
            None => {
                self.report.push(
                    "receipt chain",
                    Stage::Inference,
                    "every receipt",
                    format!("{L}/inference/batches"),
                    Ok(()),
                );
            }
        }
        for b in batches {
            self.report
                .push(b.name, Stage::Inference, b.record, b.field, b.outcome);
        }
    }

    /// One group's receipts after `after`, `progress.chunk` at a time. When a chunk fails,
    /// the whole group is checked again, so that the error is the one of the group as a
    /// whole (its index counts from the group's start, and a receipt repeated across two
    /// chunks is a repeat, not a sequence going back): checking a chunk after its
    /// predecessor's last receipt is part of checking the group, so the group fails too.
    pub(super) fn segment(
        &self,
        after: Option<(Digest, u64)>,
        receipts: &[Claimed<InferenceReceipt>],
        progress: &mut Progress<'_>,
    ) -> Result<(), lcm_model::Error> {
        let mut link = after;
        let mut checked = 0usize;
        for chunk in receipts.chunks(progress.chunk) {
            if verify_receipt_segment(self.policy, link, chunk).is_err() {
                let whole = verify_receipt_segment(self.policy, after, receipts);
                progress.advance(receipts.len().saturating_sub(checked));
                return whole;
            }
            link = chunk.last().map(|r| (r.digest, r.record.sequence));
            checked = checked.saturating_add(chunk.len());
            progress.advance(chunk.len());
        }
        Ok(())
    }

    pub(super) fn receipt_failure(&mut self, gi: usize, e: &lcm_model::Error) {
        use lcm_model::Error as M;
        let l = &self.bundle.lifecycle;
        let groups = &l.inference.batches;
        let receipts = &groups[gi].receipts;
        let (index, error) = match e {
            M::SealMismatch {
                id,
                stored,
                recomputed,
                ..
            } => {
                let j = receipts
                    .iter()
                    .position(|r| r.record.receipt_id == *id && r.digest == *stored)
                    .unwrap_or(0);
                let next = receipts
                    .get(j + 1)
                    .or_else(|| groups.get(gi + 1).and_then(|g| g.receipts.first()))
                    .and_then(|r| r.record.prev_receipt);
                let head = self
                    .bundle
                    .header
                    .stage_g_inference
                    .as_ref()
                    .and_then(|g| g.chain_head);
                let at = ReceiptAt {
                    batch: gi,
                    index: j,
                };
                let field = blame(&at.path(), *stored, *recomputed, &[next, head]);
                self.report.push(
                    "receipt digest",
                    Stage::Inference,
                    format!("receipt {id}"),
                    field,
                    Err(check_error(e)),
                );
                return;
            }
            M::DuplicateId { .. } => {
                let mut seen = std::collections::HashSet::new();
                let j = receipts
                    .iter()
                    .position(|r| !seen.insert(r.digest))
                    .unwrap_or(0);
                (j, CheckError::Duplicate { index: j as u64 })
            }
            M::ChainOrder { .. } | M::ChainGap { .. } => {
                let j = error_index(e).unwrap_or(0);
                (j, self.classify_order(check_error(e)))
            }
            _ => (error_index(e).unwrap_or(0), check_error(e)),
        };
        let id = receipts
            .get(index)
            .map_or_else(String::new, |r| r.record.receipt_id.clone());
        let at = ReceiptAt { batch: gi, index };
        self.report.push(
            "receipt chain",
            Stage::Inference,
            format!("receipt {id}"),
            at.path(),
            Err(error),
        );
    }

    /// A sequence that does not come next is a reordering when the chain's sequence numbers
    /// are exactly 0..n in another order, and a gap otherwise.
    pub(super) fn classify_order(&self, error: CheckError) -> CheckError {
        let mut seqs: Vec<u64> = self
            .bundle
            .lifecycle
            .inference
            .receipts()
            .map(|r| r.record.sequence)
            .collect();
        let in_order = seqs.clone();
        seqs.sort_unstable();
        let permutation = seqs.iter().zip(0u64..).all(|(s, i)| *s == i);
        match error {
            CheckError::ChainGap {
                index,
                expected,
                actual,
            }
            | CheckError::ChainOrder {
                index,
                expected,
                actual,
            } => {
                if permutation {
                    let first = in_order
                        .iter()
                        .zip(0u64..)
                        .position(|(s, i)| *s != i)
                        .and_then(|p| u64::try_from(p).ok())
                        .unwrap_or(index);
                    CheckError::ChainOrder {
                        index: first,
                        expected,
                        actual,
                    }
                } else if actual < expected {
                    CheckError::ChainOrder {
                        index,
                        expected,
                        actual,
                    }
                } else {
                    CheckError::ChainGap {
                        index,
                        expected,
                        actual,
                    }
                }
            }
            other => other,
        }
    }

    /// The tree over every receipt digest, in chain order (built like a batch root, on the
    /// rayon pool for large chains).
    pub(super) fn receipt_tree(&self) -> MerkleTree {
        let digests: Vec<Digest> = self
            .bundle
            .lifecycle
            .inference
            .receipts()
            .map(|r| r.digest)
            .collect();
        MerkleTree::from_leaves_with(
            self.policy.hash_algorithm,
            digests.iter().map(Digest::as_bytes),
        )
    }

    /// The check of group `gi`'s batch: a sealed batch must be the batch of exactly the
    /// receipts grouped under it, and only the last group may be open.
    pub(super) fn batch(&self, gi: usize, group: &BatchEvidence) -> BatchCheck {
        let groups = &self.bundle.lifecycle.inference.batches;
        let path = format!("{L}/inference/batches/{gi}");
        let Some(batch) = &group.batch else {
            let outcome = if gi + 1 == groups.len() {
                Ok(())
            } else {
                Err(CheckError::Missing {
                    what: "a sealed batch (only the last group may be open)",
                })
            };
            return BatchCheck {
                name: "batch closed",
                record: format!("group {gi}"),
                field: format!("{path}/batch"),
                outcome,
            };
        };
        let b = &batch.record;
        let detail = match compute_inference_batch(self.policy, &b.window_id, &group.receipts) {
            Err(e) => Some(e.to_string()),
            Ok(actual) if actual == *b => None,
            Ok(actual) if actual.count != b.count => Some(format!(
                "sealed over {} receipts, grouped with {}",
                b.count, actual.count
            )),
            Ok(actual) if actual.root != b.root => Some(format!(
                "root {} of the grouped receipts, sealed {}",
                actual.root, b.root
            )),
            Ok(_) => Some("first or last receipt or window times differ".to_owned()),
        };
        BatchCheck {
            name: "batch membership",
            record: format!("batch {}", b.window_id),
            field: format!("{path}/receipts"),
            outcome: match detail {
                None => Ok(()),
                Some(detail) => Err(CheckError::BatchMembership {
                    window_id: b.window_id.clone(),
                    detail,
                }),
            },
        }
    }
}
