//! Steps 3 and 5: the values stored beside the records, every cross-reference from the
//! receipts back to the dataset splits, and every root.

use super::*;

impl Verifier<'_> {
    /// Values stored next to the records: the training metrics and the SBOM, recomputed
    /// against the digests the sealed records hold, and the test metrics digest.
    pub(super) fn evidence(&mut self) {
        let l = &self.bundle.lifecycle;
        self.split_evidence();
        let (t, pre, te) = (&l.training, &l.predeployment, &l.test_evaluation);
        // (check, stage, subject, path, outcome), in report order.
        let checks = [
            (
                "training metrics digest",
                Stage::Training,
                format!("training session {}", t.session.record.session_id),
                format!("{L}/training/metrics"),
                recomputed(t.metrics.compute_metrics_digest(self.policy), |d| {
                    mismatch(t.snapshot.record.metrics_digest, d)
                }),
            ),
            (
                "sbom digest",
                Stage::PreDeployment,
                format!("predeployment {}", pre.anchor.record.predeployment_id),
                format!("{L}/predeployment/sbom"),
                recomputed(pre.sbom.compute_sbom_digest(self.policy), |d| {
                    mismatch(pre.anchor.record.sbom_digest, d)
                }),
            ),
            (
                "test metrics digest",
                Stage::TestEvaluation,
                format!("test evaluation {}", te.record.test_id),
                format!("{L}/test_evaluation/record/metrics_digest"),
                te.record
                    .verify_metrics_digest(self.policy)
                    .map_err(|e| CheckError::Record(e.to_string())),
            ),
        ];
        for (check, stage, subject, path, outcome) in checks {
            self.report.push(check, stage, subject, path, outcome);
        }
    }

    /// Each split's record ids (and content digests) against its anchor's roots.
    pub(super) fn split_evidence(&mut self) {
        let l = &self.bundle.lifecycle;
        for (i, s) in l.dataset.splits.iter().enumerate() {
            let a = &s.anchor.record;
            let label = format!("{} split of {}", a.split, a.family_id);
            let path = format!("{L}/dataset/splits/{i}");
            self.report.push(
                "split records",
                Stage::Dataset,
                label.clone(),
                format!("{path}/record_ids"),
                verify_split_records(self.policy, a, &s.record_ids).map_err(|e| check_error(&e)),
            );
            let outcome = match a.contents_root {
                Some(_) => verify_split_contents(self.policy, a, &s.content_digests)
                    .map_err(|e| check_error(&e)),
                None if s.content_digests.is_empty() => Ok(()),
                None => Err(CheckError::ValueMismatch {
                    expected: "no content digests (the anchor has no contents root)".to_owned(),
                    actual: format!("{} content digests", s.content_digests.len()),
                }),
            };
            self.report.push(
                "split contents",
                Stage::Dataset,
                label,
                format!("{path}/content_digests"),
                outcome,
            );
        }
    }

    /// Every reference between records, named by the referencing field.
    pub(super) fn references(&mut self) {
        let l = &self.bundle.lifecycle;
        let fam = &l.dataset.family;
        let mut splits: BTreeMap<DatasetSplit, Digest> = BTreeMap::new();
        // Each split once: the header signs one anchor per split, so a second anchor for
        // the same split would be evidence nothing signed.
        let mut repeated: Option<usize> = None;
        for (i, s) in l.dataset.splits.iter().enumerate() {
            let a = &s.anchor.record;
            if splits.insert(a.split, s.anchor.digest).is_some() && repeated.is_none() {
                repeated = Some(i);
            }
            self.reference(
                Stage::Dataset,
                format!("{} split of {}", a.split, a.family_id),
                format!("{L}/dataset/splits/{i}/anchor/record/family_anchor"),
                fam.digest,
                a.family_anchor,
            );
        }
        self.report.push(
            "split listed once",
            Stage::Dataset,
            format!("dataset family {}", fam.record.family_id),
            match repeated {
                Some(i) => format!("{L}/dataset/splits/{i}"),
                None => format!("{L}/dataset/splits"),
            },
            match repeated {
                Some(i) => Err(CheckError::Duplicate { index: i as u64 }),
                None => Ok(()),
            },
        );
        let m = &l.model;
        let d = &m.record.description;
        let model_label = format!("model {}@{}", d.model_name, d.version);
        let authorized = model_authorizes_family(&m.record, &fam.digest);
        self.report.push(
            "reference",
            Stage::Model,
            model_label,
            format!("{L}/model/record/description/authorized_datasets"),
            if authorized {
                Ok(())
            } else {
                Err(CheckError::ValueMismatch {
                    expected: format!("an authorization of dataset family {}", fam.digest),
                    actual: format!("{:?}", d.authorized_datasets.keys().collect::<Vec<_>>()),
                })
            },
        );
        let t = &l.training;
        let s = &t.session.record;
        let session_label = format!("training session {}", s.session_id);
        self.reference(
            Stage::Training,
            session_label.clone(),
            format!("{L}/training/session/record/model_anchor"),
            m.digest,
            s.model_anchor,
        );
        for (split, digest) in &s.data_splits {
            let outcome = match splits.get(split) {
                Some(expected) => mismatch(*expected, *digest),
                None => Err(CheckError::Missing {
                    what: "the split anchor the session trained on",
                }),
            };
            self.report.push(
                "reference",
                Stage::Training,
                session_label.clone(),
                format!(
                    "{L}/training/session/record/data_splits/{}",
                    escape_token(split.as_str())
                ),
                outcome,
            );
        }
        let test_split = splits.get(&DatasetSplit::Test).copied();
        let te = &l.test_evaluation;
        self.report.push(
            "reference",
            Stage::TestEvaluation,
            format!("test evaluation {}", te.record.test_id),
            format!("{L}/test_evaluation/record/test_dataset"),
            match test_split {
                Some(expected) => mismatch(expected, te.record.test_dataset),
                None => Err(CheckError::Missing {
                    what: "the test split anchor",
                }),
            },
        );
        let pre = &l.predeployment.anchor;
        let pre_label = format!("predeployment {}", pre.record.predeployment_id);
        self.reference(
            Stage::PreDeployment,
            pre_label.clone(),
            format!("{L}/predeployment/anchor/record/model_anchor"),
            m.digest,
            pre.record.model_anchor,
        );
        self.reference(
            Stage::PreDeployment,
            pre_label,
            format!("{L}/predeployment/anchor/record/training_snapshot"),
            t.snapshot.digest,
            pre.record.training_snapshot,
        );
        let dep = &l.deployment.anchor;
        let dep_label = format!("deployment {}", dep.record.deployment_id);
        self.reference(
            Stage::Deployment,
            dep_label.clone(),
            format!("{L}/deployment/anchor/record/predeployment"),
            pre.digest,
            dep.record.predeployment,
        );
        self.report.push(
            "reference",
            Stage::Deployment,
            dep_label,
            format!("{L}/deployment/anchor/record/predeployment_id"),
            same_value(&pre.record.predeployment_id, &dep.record.predeployment_id),
        );
        // Every receipt was served by this deployment of this model: one check for the
        // whole chain, naming the first receipt that is not.
        let bad = self.receipts.foreign(m.digest, l.deployment.anchor.digest);
        match bad {
            None => {
                self.report.push(
                    "receipt references",
                    Stage::Inference,
                    "every receipt",
                    format!("{L}/inference/batches"),
                    Ok(()),
                );
            }
            Some(f) => {
                self.reference(
                    Stage::Inference,
                    format!("receipt {}", f.id),
                    format!("{}/record/{}", f.at.path(), f.field),
                    f.expected,
                    f.actual,
                );
            }
        }
        let rel = &l.release.record;
        for (field, expected, actual) in [
            ("predeployment", pre.digest, rel.predeployment),
            ("deployment", dep.digest, rel.deployment),
            ("test_evaluation", te.digest, rel.test_evaluation),
        ] {
            self.reference(
                Stage::Roots,
                "release root".to_owned(),
                format!("{L}/release/record/{field}"),
                expected,
                actual,
            );
        }
    }

    pub(super) fn reference(
        &mut self,
        stage: Stage,
        record: String,
        field: String,
        expected: Digest,
        actual: Digest,
    ) {
        self.report.push(
            "reference",
            stage,
            record,
            field,
            mismatch(expected, actual),
        );
    }

    /// The datasets root, the training session root and the release root, recomputed.
    pub(super) fn roots(&mut self) {
        let l = &self.bundle.lifecycle;
        let splits: BTreeMap<DatasetSplit, Digest> = l
            .dataset
            .splits
            .iter()
            .map(|s| (s.anchor.record.split, s.anchor.digest))
            .collect();
        let s = &l.training.session.record;
        self.report.push(
            "datasets root",
            Stage::Training,
            format!("training session {}", s.session_id),
            format!("{L}/training/session/record/datasets_root"),
            mismatch(compute_datasets_root(self.policy, &splits), s.datasets_root),
        );
        let rel = &l.release.record;
        let snapshot = &l.training.snapshot;
        let root = match &self.checked.snapshot {
            Some(snapshot) => Ok(compute_training_session_root(self.policy, snapshot)),
            None => snapshot
                .clone()
                .check_named(
                    self.policy,
                    "training snapshot",
                    &snapshot.record.session_id,
                )
                .map(|snapshot| compute_training_session_root(self.policy, &snapshot)),
        };
        let outcome = match root {
            Ok(r) => mismatch(r, rel.training_session_root),
            Err(e) => Err(check_error(&e)),
        };
        self.report.push(
            "training session root",
            Stage::Roots,
            "release root",
            format!("{L}/release/record/training_session_root"),
            outcome,
        );
        self.report.push(
            "release root",
            Stage::Roots,
            "release root",
            format!("{L}/release/record/root"),
            verify_release_root(self.policy, rel).map_err(|e| check_error(&e)),
        );
    }
}
