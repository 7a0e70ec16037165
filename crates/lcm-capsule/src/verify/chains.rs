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
        match self.streamed {
            Some(streamed) => self.streamed_receipts_and_batches(streamed),
            None => self.receipts_and_batches(progress),
        }
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
        let failure = failed.map(|(gi, e)| self.failure_in_memory(gi, e));
        self.push_chain_and_batches(failure.as_ref(), batches);
    }

    /// [`Verifier::receipts_and_batches`] for a streamed bundle: the checks were made as the
    /// receipts were read; they are reported here, in the same order.
    fn streamed_receipts_and_batches(&mut self, streamed: &stream::Streamed) {
        let groups = &self.bundle.lifecycle.inference.batches;
        let batches = groups
            .iter()
            .zip(&streamed.batches)
            .enumerate()
            .map(|(gi, (group, computed))| {
                self.batch_check(gi, group.batch.as_ref(), || computed.clone())
            })
            .collect();
        self.push_chain_and_batches(streamed.failure.as_ref(), batches);
    }

    /// Reports the receipt chain (its failure, if any) and then the batch checks.
    fn push_chain_and_batches(&mut self, failure: Option<&ChainFailure>, batches: Vec<BatchCheck>) {
        match failure {
            Some(f) => self.receipt_failure(f),
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

    /// What the report of the chain failure `e` in group `gi` needs, from the receipts in
    /// memory.
    fn failure_in_memory(&self, gi: usize, e: lcm_model::Error) -> ChainFailure {
        use lcm_model::Error as M;
        let groups = &self.bundle.lifecycle.inference.batches;
        let receipts = &groups[gi].receipts;
        let index = match &e {
            M::SealMismatch { id, stored, .. } => receipts
                .iter()
                .position(|r| r.record.receipt_id == *id && r.digest == *stored)
                .unwrap_or(0),
            M::DuplicateId { .. } => {
                let mut seen = std::collections::HashSet::new();
                receipts
                    .iter()
                    .position(|r| !seen.insert(r.digest))
                    .unwrap_or(0)
            }
            _ => error_index(&e).unwrap_or(0),
        };
        let next = receipts
            .get(index + 1)
            .or_else(|| groups.get(gi + 1).and_then(|g| g.receipts.first()))
            .and_then(|r| r.record.prev_receipt);
        let id = receipts
            .get(index)
            .map_or_else(String::new, |r| r.record.receipt_id.clone());
        let order = matches!(e, M::ChainOrder { .. } | M::ChainGap { .. }).then(|| {
            let chain = &self.bundle.lifecycle.inference;
            let mut order = SequenceOrder::new(chain.receipts().count());
            chain.receipts().for_each(|r| order.see(r.record.sequence));
            order
        });
        ChainFailure {
            group: gi,
            error: e,
            index,
            id,
            next,
            order,
        }
    }

    pub(super) fn receipt_failure(&mut self, f: &ChainFailure) {
        use lcm_model::Error as M;
        let e = &f.error;
        let at = ReceiptAt {
            batch: f.group,
            index: f.index,
        };
        let error = match e {
            M::SealMismatch {
                id,
                stored,
                recomputed,
                ..
            } => {
                let head = self
                    .bundle
                    .header
                    .stage_g_inference
                    .as_ref()
                    .and_then(|g| g.chain_head);
                let field = blame(&at.path(), *stored, *recomputed, &[f.next, head]);
                self.report.push(
                    "receipt digest",
                    Stage::Inference,
                    format!("receipt {id}"),
                    field,
                    Err(check_error(e)),
                );
                return;
            }
            M::DuplicateId { .. } => CheckError::Duplicate {
                index: f.index as u64,
            },
            M::ChainOrder { .. } | M::ChainGap { .. } => match &f.order {
                Some(order) => order.classify(check_error(e)),
                None => check_error(e),
            },
            _ => check_error(e),
        };
        self.report.push(
            "receipt chain",
            Stage::Inference,
            format!("receipt {}", f.id),
            at.path(),
            Err(error),
        );
    }

    /// The tree over every receipt digest, in chain order (built like a batch root, on the
    /// rayon pool for large chains).
    pub(super) fn tree_facts(&self) -> TreeFacts {
        if let Some(s) = self.streamed {
            return s.tree;
        }
        let receipts = &self.bundle.lifecycle.inference;
        let digests: Vec<Digest> = receipts.receipts().map(|r| r.digest).collect();
        let tree = MerkleTree::from_leaves_with(
            self.policy.hash_algorithm,
            digests.iter().map(Digest::as_bytes),
        );
        let signed = self.bundle.header.stage_g_inference.as_ref();
        TreeFacts {
            len: tree.len(),
            root: tree.root(),
            root_at_signed: signed.and_then(|g| tree.root_at(g.receipt_count).ok()),
            head: digests.last().copied(),
        }
    }

    /// The check of group `gi`'s batch: a sealed batch must be the batch of exactly the
    /// receipts grouped under it, and only the last group may be open.
    pub(super) fn batch(&self, gi: usize, group: &BatchEvidence) -> BatchCheck {
        self.batch_check(gi, group.batch.as_ref(), || {
            let window = group
                .batch
                .as_ref()
                .map_or("", |b| b.record.window_id.as_str());
            compute_inference_batch(self.policy, window, &group.receipts).map_err(|e| e.to_string())
        })
    }

    /// The check of group `gi`'s batch `batch` against `computed`, the batch its receipts
    /// give (called only for a sealed batch).
    pub(super) fn batch_check(
        &self,
        gi: usize,
        batch: Option<&Claimed<lcm_model::records::InferenceBatch>>,
        computed: impl FnOnce() -> Result<lcm_model::records::InferenceBatch, String>,
    ) -> BatchCheck {
        let groups = &self.bundle.lifecycle.inference.batches;
        let path = format!("{L}/inference/batches/{gi}");
        let Some(batch) = batch else {
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
        let detail = match computed() {
            Err(e) => Some(e),
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

/// What the report of a receipt chain failure needs besides the error: where it is, and
/// what the error's kind needs of the other receipts.
#[derive(Debug)]
pub(super) struct ChainFailure {
    /// The group the failing segment is in.
    pub(super) group: usize,
    /// The error.
    pub(super) error: lcm_model::Error,
    /// The receipt the failure names, in its group: the edited receipt for a digest
    /// mismatch, the repeat for a duplicate, the error's index otherwise.
    pub(super) index: usize,
    /// That receipt's id.
    pub(super) id: String,
    /// The previous digest the receipt after it names (for a digest mismatch's blame).
    pub(super) next: Option<Digest>,
    /// The chain's sequence numbers, for an order or gap error.
    pub(super) order: Option<SequenceOrder>,
}

/// What a sequence error's class needs of the chain's sequence numbers, seen one at a time:
/// whether they are exactly 0..n in some order (one bit per receipt), and the first position
/// whose number is not its position.
#[derive(Clone, Debug)]
pub(super) struct SequenceOrder {
    /// The chain's length.
    n: u64,
    /// Numbers seen so far.
    seen: u64,
    /// One bit per number below `n`: seen.
    bits: Vec<u64>,
    /// Still possibly 0..n: no number `n` or above, none twice.
    permutation: bool,
    /// The first position whose number is not its position.
    first_off: Option<u64>,
}

impl SequenceOrder {
    /// For a chain of `n` receipts.
    pub(super) fn new(n: usize) -> Self {
        Self {
            n: len_u64(n),
            seen: 0,
            bits: vec![0; n.div_ceil(64)],
            permutation: true,
            first_off: None,
        }
    }

    /// The next receipt's sequence number.
    pub(super) fn see(&mut self, s: u64) {
        if self.first_off.is_none() && s != self.seen {
            self.first_off = Some(self.seen);
        }
        self.seen = self.seen.saturating_add(1);
        let word = usize::try_from(s / 64).ok().filter(|_| s < self.n);
        let bit = 1u64 << (s % 64);
        match word.and_then(|w| self.bits.get_mut(w)) {
            Some(w) if *w & bit == 0 => *w |= bit,
            _ => self.permutation = false,
        }
    }

    /// A sequence that does not come next is a reordering when the chain's sequence
    /// numbers are exactly 0..n in another order, and a gap otherwise.
    pub(super) fn classify(&self, error: CheckError) -> CheckError {
        let permutation = self.permutation && self.seen == self.n;
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
                    CheckError::ChainOrder {
                        index: self.first_off.unwrap_or(index),
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
}
