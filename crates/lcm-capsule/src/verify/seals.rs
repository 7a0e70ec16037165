//! Step 2: every sealed record's digest, recomputed, with the part of the record to blame
//! when it does not match.

use super::*;

impl Verifier<'_> {
    /// Recomputes one claimed record's digest; on a mismatch, decides from `refs` (the other
    /// places its digest appears) whether the content or the stored digest was changed.
    pub(super) fn seal<T: Record>(
        &mut self,
        stage: Stage,
        record: String,
        path: &str,
        claimed: &Claimed<T>,
        refs: &[Option<Digest>],
    ) -> bool {
        let outcome = claimed.verify(self.policy);
        self.push_seal(stage, record, path, outcome, refs)
    }

    /// [`Verifier::seal`], keeping the record sealed when its seal matches.
    pub(super) fn sealed<T: Record + Clone>(
        &mut self,
        stage: Stage,
        record: String,
        path: &str,
        claimed: &Claimed<T>,
        refs: &[Option<Digest>],
    ) -> Option<Sealed<T>> {
        match claimed.check_ref(self.policy) {
            Ok(sealed) => {
                self.push_seal(stage, record, path, Ok(()), refs);
                Some(sealed)
            }
            Err(e) => {
                self.push_seal(stage, record, path, Err(e), refs);
                None
            }
        }
    }

    pub(super) fn push_seal(
        &mut self,
        stage: Stage,
        record: String,
        path: &str,
        outcome: Result<(), lcm_model::Error>,
        refs: &[Option<Digest>],
    ) -> bool {
        let (field, outcome) = match outcome {
            Ok(()) => (path.to_owned(), Ok(())),
            Err(lcm_model::Error::DigestMismatch {
                stored, recomputed, ..
            }) => (
                blame(path, stored, recomputed, refs),
                mismatch(recomputed, stored),
            ),
            Err(e) => (
                format!("{path}/record"),
                Err(CheckError::Record(e.to_string())),
            ),
        };
        self.report
            .push("record digest", stage, record, field, outcome)
    }

    pub(super) fn seals(&mut self) {
        let b = self.bundle;
        let h = &b.header;
        let l = &b.lifecycle;
        let a = h.stage_a_dataset.as_ref();
        let first_receipt = match self.streamed {
            Some(s) => s.first.as_ref(),
            None => l.inference.receipts().next().map(|r| &r.record),
        };
        let fam = &l.dataset.family;
        let mut refs = vec![a.map(|a| a.family_anchor)];
        refs.extend(
            l.dataset
                .splits
                .iter()
                .map(|s| Some(s.anchor.record.family_anchor)),
        );
        refs.extend(
            l.model
                .record
                .description
                .authorized_datasets
                .values()
                .map(|d| Some(*d)),
        );
        self.seal(
            Stage::Dataset,
            format!("dataset family {}", fam.record.family_id),
            &format!("{L}/dataset/family"),
            fam,
            &refs,
        );
        for (i, s) in l.dataset.splits.iter().enumerate() {
            let split = s.anchor.record.split;
            let refs = [
                a.and_then(|a| a.splits.get(&split)).map(|x| x.anchor),
                l.training.session.record.data_splits.get(&split).copied(),
                (split == DatasetSplit::Test).then_some(l.test_evaluation.record.test_dataset),
            ];
            self.seal(
                Stage::Dataset,
                format!("{split} split of {}", s.anchor.record.family_id),
                &format!("{L}/dataset/splits/{i}/anchor"),
                &s.anchor,
                &refs,
            );
        }
        let m = &l.model;
        let d = &m.record.description;
        self.seal(
            Stage::Model,
            format!("model {}@{}", d.model_name, d.version),
            &format!("{L}/model"),
            m,
            &[
                h.stage_b_model.as_ref().map(|b| b.anchor),
                Some(l.training.session.record.model_anchor),
                Some(l.training.snapshot.record.model_anchor),
                Some(l.predeployment.anchor.record.model_anchor),
                first_receipt.map(|r| r.model_anchor),
            ],
        );
        let t = &l.training;
        let c = h.stage_c_training.as_ref();
        let sid = &t.session.record.session_id;
        self.checked.session = self.sealed(
            Stage::Training,
            format!("training session {sid}"),
            &format!("{L}/training/session"),
            &t.session,
            &[
                c.map(|c| c.session),
                Some(t.snapshot.record.session),
                t.checkpoints.first().map(|c| c.record.session),
            ],
        );
        let n = t.checkpoints.len();
        let mut checkpoints = Some(Vec::with_capacity(n));
        for (i, cp) in t.checkpoints.iter().enumerate() {
            let next = t.checkpoints.get(i + 1).map(|c| c.record.previous);
            let last = i + 1 == n;
            let sealed = self.sealed(
                Stage::Training,
                format!("checkpoint {sid}/{}", cp.record.checkpoint_id),
                &format!("{L}/training/checkpoints/{i}"),
                cp,
                &[
                    next,
                    last.then_some(t.snapshot.record.checkpoint_head),
                    c.filter(|_| last).map(|c| c.checkpoint_head),
                ],
            );
            keep_all(&mut checkpoints, sealed);
        }
        self.checked.checkpoints = checkpoints;
        self.checked.snapshot = self.sealed(
            Stage::Training,
            format!("training snapshot {sid}"),
            &format!("{L}/training/snapshot"),
            &t.snapshot,
            &[
                c.map(|c| c.snapshot),
                Some(l.predeployment.anchor.record.training_snapshot),
            ],
        );
        let pre = &l.predeployment.anchor;
        self.seal(
            Stage::PreDeployment,
            format!("predeployment {}", pre.record.predeployment_id),
            &format!("{L}/predeployment/anchor"),
            pre,
            &[
                h.stage_d_predeployment.as_ref().map(|d| d.anchor),
                Some(l.deployment.anchor.record.predeployment),
                Some(l.release.record.predeployment),
            ],
        );
        let dep = &l.deployment.anchor;
        let e = h.stage_e_deployment.as_ref();
        let dep_id = &dep.record.deployment_id;
        self.checked.deployment = self.sealed(
            Stage::Deployment,
            format!("deployment {dep_id}"),
            &format!("{L}/deployment/anchor"),
            dep,
            &[
                e.map(|e| e.anchor),
                l.deployment
                    .status_history
                    .first()
                    .map(|s| s.record.deployment),
                Some(l.release.record.deployment),
                first_receipt.map(|r| r.deployment_anchor),
            ],
        );
        let events = &l.deployment.status_history;
        let mut history = Some(Vec::with_capacity(events.len()));
        for (i, ev) in events.iter().enumerate() {
            let last = i + 1 == events.len();
            let sealed = self.sealed(
                Stage::Deployment,
                format!("status event {i} of {dep_id}"),
                &format!("{L}/deployment/status_history/{i}"),
                ev,
                &[
                    events.get(i + 1).and_then(|n| n.record.prev_event),
                    e.filter(|_| last).and_then(|e| e.status_head),
                ],
            );
            keep_all(&mut history, sealed);
        }
        self.checked.status_history = history;
        let te = &l.test_evaluation;
        self.seal(
            Stage::TestEvaluation,
            format!("test evaluation {}", te.record.test_id),
            &format!("{L}/test_evaluation"),
            te,
            &[
                h.stage_f_test_evaluation.as_ref().map(|f| f.anchor),
                Some(l.release.record.test_evaluation),
            ],
        );
        let g = h.stage_g_inference.as_ref();
        let mut sealed_index = 0usize;
        for (i, group) in l.inference.batches.iter().enumerate() {
            if let Some(batch) = &group.batch {
                let summary = g.and_then(|g| g.batches.get(sealed_index));
                sealed_index += 1;
                self.seal(
                    Stage::Inference,
                    format!("batch {}", batch.record.window_id),
                    &format!("{L}/inference/batches/{i}/batch"),
                    batch,
                    &[summary.map(|s| s.batch)],
                );
            }
        }
        self.seal(
            Stage::Roots,
            "release root".to_owned(),
            &format!("{L}/release"),
            &l.release,
            &[h.stage_h_roots.as_ref().map(|r| r.release)],
        );
    }
}

/// Adds `one` to `all` while every record so far was kept; one that was not drops them all.
fn keep_all<T>(all: &mut Option<Vec<T>>, one: Option<T>) {
    match (all.as_mut(), one) {
        (Some(kept), Some(one)) => kept.push(one),
        _ => *all = None,
    }
}
