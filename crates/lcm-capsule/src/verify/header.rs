//! Step 6: the policy against the records, the header's age and its stages against what
//! the records give.

use super::*;

impl Verifier<'_> {
    /// The policy against the records: the anchors' KDF cost, the receipts' commitment
    /// scheme, and the record kinds the policy allows.
    pub(super) fn policy_against_records(&mut self) {
        let l = &self.bundle.lifecycle;
        let p = self.policy;
        for (label, cost) in [
            ("dataset family", l.dataset.family.record.kdf_iterations),
            ("model", l.model.record.kdf_iterations),
        ] {
            self.report.push(
                "policy kdf cost",
                Stage::Header,
                label,
                format!("{H}/policy/kdf_iterations"),
                same_value(cost, p.kdf_iterations),
            );
        }
        let other = self.receipts.other_scheme.clone();
        self.report.push(
            "policy commitment scheme",
            Stage::Header,
            "every receipt",
            format!("{H}/policy/commitments"),
            match other {
                None => Ok(()),
                Some((id, scheme)) => Err(CheckError::ValueMismatch {
                    expected: format!("{scheme} (receipt {id})"),
                    actual: p.commitments.to_string(),
                }),
            },
        );
        let has_receipts = self.receipts.any;
        let used = [
            (DomainType::DatasetFamily, true),
            (DomainType::DatasetSplit, !l.dataset.splits.is_empty()),
            (DomainType::Model, true),
            (DomainType::Training, true),
            (DomainType::Deployment, true),
            (DomainType::Inference, has_receipts),
        ];
        let refused = used
            .iter()
            .find(|(d, used)| *used && !allows(p, *d))
            .map(|(d, _)| *d);
        self.report.push(
            "policy domains",
            Stage::Header,
            "policy",
            format!("{H}/policy/domains"),
            match refused {
                None => Ok(()),
                Some(d) => Err(CheckError::ValueMismatch {
                    expected: format!("a policy that allows {d:?} records"),
                    actual: format!("{:?}", p.domains),
                }),
            },
        );
    }

    /// A header older than the records, or signed over fewer receipts than the bundle holds.
    pub(super) fn staleness(&mut self, tree: &TreeFacts) {
        let b = self.bundle;
        let l = &b.lifecycle;
        let mut newest: Option<Timestamp> = None;
        let mut see = |t: Timestamp| newest = Some(newest.map_or(t, |n| n.max(t)));
        see(l.dataset.family.record.created_at);
        for s in &l.dataset.splits {
            see(s.anchor.record.created_at);
        }
        see(l.model.record.created_at);
        see(l.training.snapshot.record.completed_at);
        for c in &l.training.checkpoints {
            see(c.record.created_at);
        }
        see(l.predeployment.anchor.record.created_at);
        see(l.deployment.anchor.record.deployed_at);
        for e in &l.deployment.status_history {
            see(e.record.at);
        }
        see(l.test_evaluation.record.created_at);
        if let Some(t) = self.receipts.newest {
            see(t);
        }
        let generated_at = b.header.generated_at;
        self.report.push(
            "header is current",
            Stage::Header,
            "capsule header",
            format!("{H}/generated_at"),
            match newest {
                Some(n) if n > generated_at => Err(CheckError::StaleHeader {
                    generated_at,
                    newest: n,
                }),
                _ => Ok(()),
            },
        );
        if let Some(g) = &b.header.stage_g_inference {
            let actual = tree.len;
            let stale = g.receipt_count < actual && tree.root_at_signed == Some(g.receipts_root);
            self.report.push(
                "header covers every receipt",
                Stage::Inference,
                "capsule header",
                format!("{H}/stage_g_inference/receipt_count"),
                if stale {
                    Err(CheckError::StaleChain {
                        signed: g.receipt_count,
                        actual,
                    })
                } else {
                    Ok(())
                },
            );
        }
    }

    /// The header's stages against the stages the records give, field by field.
    pub(super) fn header_stages(&mut self, tree: &TreeFacts) {
        let b = self.bundle;
        let batches = b.lifecycle.inference.sealed_batches();
        let summary = ReceiptsSummary {
            count: tree.len,
            root: tree.root,
            head: tree.head,
        };
        let no_log = MerkleLog::new(self.policy.hash_algorithm);
        let expected = b.lifecycle.with_records(&no_log, &batches, |r| {
            Stages::build_with(self.policy, r, Some(summary))
        });
        let (Ok(expected), Ok(Value::Object(actual))) = (
            serde_json::to_value(&expected),
            serde_json::to_value(&b.header),
        ) else {
            self.report.push(
                "header stages",
                Stage::Header,
                "capsule header",
                H,
                Err(CheckError::Record(
                    "the header cannot be encoded".to_owned(),
                )),
            );
            return;
        };
        let Value::Object(expected) = expected else {
            return;
        };
        for (stage_key, want) in &expected {
            let got = actual.get(stage_key).unwrap_or(&Value::Null);
            let mut diffs = Vec::new();
            diff(want, got, &format!("{H}/{stage_key}"), &mut diffs);
            let stage = stage_of_pointer(&format!("{H}/{stage_key}"));
            if diffs.is_empty() {
                self.report.push(
                    "header stage matches the records",
                    stage,
                    "capsule header",
                    format!("{H}/{stage_key}"),
                    Ok(()),
                );
            }
            for d in diffs {
                self.report.push(
                    "header stage matches the records",
                    stage,
                    "capsule header",
                    d.path,
                    Err(CheckError::ValueMismatch {
                        expected: d.want,
                        actual: d.got,
                    }),
                );
            }
        }
    }

    /// Requirements that need the records: no plaintext receipt commitment for a dataset
    /// with personal data, and the anchors' KDF cost.
    pub(super) fn requirements_against_records(&mut self, req: &PolicyRequirements) {
        let l = &self.bundle.lifecycle;
        if req.no_plaintext_with_pii && l.dataset.family.record.metadata.contains_pii {
            let found = self.receipts.plaintext.clone();
            let (field, record, outcome) = match found {
                None => (
                    format!("{L}/inference/batches"),
                    "every receipt".to_owned(),
                    Ok(()),
                ),
                Some(p) => (
                    format!("{}/record/{}", p.at.path(), p.field),
                    format!("receipt {}", p.id),
                    Err(CheckError::Policy {
                        requirement: "no_plaintext_with_pii",
                        expected: "no plaintext commitment for a dataset with personal data"
                            .to_owned(),
                        actual: "a plaintext commitment".to_owned(),
                    }),
                ),
            };
            self.report.push(
                "no plaintext receipts with personal data",
                Stage::Inference,
                record,
                field,
                outcome,
            );
        }
    }
}

/// Whether the policy allows a record kind (an empty list allows all).
fn allows(p: &Policy, d: DomainType) -> bool {
    p.allows(d)
}

/// One leaf where the header and the records differ.
struct FieldDiff {
    /// Its JSON pointer.
    path: String,
    /// What the records give.
    want: String,
    /// What the header holds.
    got: String,
}

impl FieldDiff {
    fn new(path: String, want: String, got: String) -> Self {
        Self { path, want, got }
    }
}

/// Every leaf where `want` and `got` differ.
fn diff(want: &Value, got: &Value, path: &str, out: &mut Vec<FieldDiff>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}/{}", escape_token(k));
                match g.get(k) {
                    Some(gv) => diff(wv, gv, &p, out),
                    None => out.push(FieldDiff::new(p, wv.to_string(), "nothing".to_owned())),
                }
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    let p = format!("{path}/{}", escape_token(k));
                    out.push(FieldDiff::new(p, "nothing".to_owned(), gv.to_string()));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                diff(wv, gv, &format!("{path}/{i}"), out);
            }
        }
        _ if want != got => out.push(FieldDiff::new(
            path.to_owned(),
            want.to_string(),
            got.to_string(),
        )),
        _ => {}
    }
}
