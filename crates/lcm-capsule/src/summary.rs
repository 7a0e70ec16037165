//! What a tool says about a document and a verification, as data: a document's summary
//! lines and facts (`lcm inspect`), the warnings an auditor should see on a valid document,
//! and a report's checks as JSON (`lcm verify --json`). The caller prints them.

use lcm_crypto::CommitmentScheme;
use serde_json::{Map, Value, json};

use crate::report::{Report, VerificationFailed};
use crate::{
    Bundle, Capsule, CapsuleHeader, CapsuleItem, DocumentKind, Error, PolicyRequirements,
    validate_lcm_policy,
};

/// A document's summary: the lines a person reads and the facts a script needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// One line per fact, in the order printed (the caller adds its own first line).
    pub lines: Vec<String>,
    /// The facts, by name (digests, counts, the capsule's item).
    pub facts: Map<String, Value>,
}

/// The summary of the document `text` of kind `kind` (see [`DocumentKind::of`]): for a
/// header or bundle the header's time, key, policy, digest and stages (and a bundle's record
/// counts); for a capsule its header digest and item.
///
/// This does not panic.
///
/// # Errors
///
/// The parse error of a document that is not a valid document of its kind.
///
/// # Examples
///
/// ```
/// use lcm_capsule::{DocumentKind, summarize};
///
/// let text = r#"{"capsule_version": "1", "signature": {}}"#;
/// // Not a valid header: the typed parser says why.
/// assert!(summarize(DocumentKind::Header, text).is_err());
/// ```
pub fn summarize(kind: DocumentKind, text: &str) -> Result<Summary, Error> {
    let mut s = Summary::default();
    match kind {
        DocumentKind::Header => s.header(&CapsuleHeader::from_json(text)?)?,
        DocumentKind::Bundle => s.bundle(&Bundle::from_json(text)?)?,
        DocumentKind::Capsule => s.capsule(&Capsule::from_json(text)?),
    }
    Ok(s)
}

/// `n` and the noun in the right number: "1 batch", "2 batches".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The scalar fields of a header stage, as `name=value` pairs.
fn stage_summary(stage: &Value) -> String {
    match stage {
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some(format!("{k}={s}")),
                Value::Number(n) => Some(format!("{k}={n}")),
                Value::Bool(b) => Some(format!("{k}={b}")),
                Value::Array(a) => Some(format!("{k}=[{} items]", a.len())),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => "absent".to_owned(),
        other => other.to_string(),
    }
}

impl Summary {
    fn header(&mut self, header: &CapsuleHeader) -> Result<(), Error> {
        let digest = header.digest()?;
        let lines = &mut self.lines;
        lines.push(format!("generated_at: {}", header.generated_at));
        lines.push(format!("signed by key: {}", header.signature.key_id));
        lines.push(header.policy.format_policy_line()?);
        if let Some(note) = &header.synthetic {
            lines.push(format!("SYNTHETIC: {note}"));
        }
        lines.push(format!("header digest: {digest}"));
        let value = serde_json::to_value(header).map_err(|e| Error::Parse {
            path: "header".to_owned(),
            message: e.to_string(),
        })?;
        if let Value::Object(map) = value {
            for (k, v) in &map {
                if k.starts_with("stage_") {
                    lines.push(format!("{k}: {}", stage_summary(v)));
                }
            }
        }
        let inference = header.stage_g_inference.as_ref();
        let facts = json!({
            "header_digest": digest,
            "key_id": header.signature.key_id.to_hex(),
            "generated_at": header.generated_at,
            "policy_digest": header.policy_digest,
            "synthetic": header.synthetic,
            "deployment": header.stage_e_deployment.as_ref().map(|e| e.deployment_id.clone()),
            "receipts": inference.map(|g| g.receipt_count),
            "batches": inference.map(|g| g.batches.len()),
            "receipts_root": inference.map(|g| g.receipts_root),
            "chain_head": inference.and_then(|g| g.chain_head),
            "release_root": header.stage_h_roots.as_ref().map(|h| h.release_root),
        });
        if let Value::Object(map) = facts {
            self.facts = map;
        }
        Ok(())
    }

    fn bundle(&mut self, bundle: &Bundle) -> Result<(), Error> {
        self.header(&bundle.header)?;
        let l = &bundle.lifecycle;
        let (splits, checkpoints) = (l.dataset.splits.len(), l.training.checkpoints.len());
        let events = l.deployment.status_history.len();
        let receipts = l.inference.receipts().count();
        let (groups, sealed) = (
            l.inference.batches.len(),
            l.inference.sealed_batches().len(),
        );
        self.lines.push(format!(
            "records: {}, {}, {}, {} in {} ({})",
            plural(splits, "split", "splits"),
            plural(checkpoints, "checkpoint", "checkpoints"),
            plural(events, "status event", "status events"),
            plural(receipts, "receipt", "receipts"),
            plural(groups, "group", "groups"),
            plural(sealed, "sealed batch", "sealed batches"),
        ));
        self.facts.insert(
            "records".to_owned(),
            json!({"splits": splits, "checkpoints": checkpoints, "status_events": events,
                "receipts": receipts, "receipt_groups": groups, "sealed_batches": sealed}),
        );
        Ok(())
    }

    fn capsule(&mut self, capsule: &Capsule) {
        let lines = &mut self.lines;
        lines.push(format!("header digest: {}", capsule.header_digest));
        self.facts
            .insert("header_digest".to_owned(), json!(capsule.header_digest));
        let item = match &capsule.item {
            CapsuleItem::InferenceReceipt(item) => {
                let (receipt, d) = (&item.receipt, item.disclosure.as_ref());
                let query = d.is_some_and(|d| d.input.is_some());
                let output = d.is_some_and(|d| d.output.is_some());
                lines.push(format!(
                    "inference receipt {} (sequence {}) digest {}",
                    receipt.record.receipt_id, receipt.record.sequence, receipt.digest
                ));
                lines.push(format!("disclosed: query {query}, output {output}"));
                json!({"kind": "inference-receipt", "id": receipt.record.receipt_id,
                    "sequence": receipt.record.sequence, "digest": receipt.digest,
                    "disclosed": {"query": query, "output": output}})
            }
            CapsuleItem::TrainingCheckpoint(item) => {
                let c = &item.checkpoint;
                lines.push(format!(
                    "training checkpoint {} digest {}",
                    c.record.checkpoint_id, c.digest
                ));
                json!({"kind": "training-checkpoint", "id": c.record.checkpoint_id,
                    "digest": c.digest})
            }
            CapsuleItem::DatasetRecord(item) => {
                let split = &item.split_anchor.record.split;
                lines.push(format!(
                    "dataset record {} of split {split}",
                    item.record_id
                ));
                json!({"kind": "dataset-record", "id": item.record_id, "split": split})
            }
        };
        self.facts.insert("item".to_owned(), item);
    }
}

/// What an auditor should know about a valid document signed as `header`: synthetic demo
/// data, plaintext commitments, personal data committed in the clear.
///
/// This does not panic.
///
/// # Examples
///
/// ```
/// use lcm_capsule::{LifecycleRecords, create_capsule_header, warnings};
/// use lcm_crypto::{CommitmentScheme, Seed, SigningKey};
/// use lcm_model::{Policy, Timestamp};
///
/// let key = SigningKey::from_seed(&Seed::from_bytes([7; 32]));
/// let at = Timestamp::from_unix_micros(0);
/// let header = create_capsule_header(&Policy::default(), &LifecycleRecords::default(), at, &key)?;
/// assert!(warnings(&header).is_empty());
/// let plaintext = Policy { commitments: CommitmentScheme::Plaintext, ..Policy::default() };
/// let header = create_capsule_header(&plaintext, &LifecycleRecords::default(), at, &key)?;
/// assert!(warnings(&header)[0].starts_with("commitments are plaintext"));
/// # Ok::<(), lcm_capsule::Error>(())
/// ```
#[must_use]
pub fn warnings(header: &CapsuleHeader) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(note) = &header.synthetic {
        out.push(format!("this is {note} (signed marker `synthetic`)"));
    }
    if header.policy.commitments == CommitmentScheme::Plaintext {
        out.push(
            "commitments are plaintext: every query and output is in the clear wherever \
             receipts go"
                .to_owned(),
        );
        if header
            .stage_a_dataset
            .as_ref()
            .is_some_and(|a| a.contains_pii)
        {
            out.push(
                "the dataset contains personal data and its receipts are committed in \
                 plaintext (accepted by --allow-plaintext-pii)"
                    .to_owned(),
            );
        }
    }
    out
}

/// `result` with the checks of `requirements` on `header` added when it passed (a header or
/// capsule verifier checks signatures and proofs, not requirements).
///
/// This does not panic.
///
/// # Errors
///
/// `result`'s failure, or [`VerificationFailed`] when a requirement is not met.
pub fn with_requirements(
    result: Result<Report, VerificationFailed>,
    header: &CapsuleHeader,
    requirements: &PolicyRequirements,
) -> Result<Report, VerificationFailed> {
    let mut report = result?;
    report
        .checks
        .extend(validate_lcm_policy(header, requirements)?.checks);
    Ok(report)
}

impl Report {
    /// Every check, in the order made, with its stage and result (`passed`, `failed` with the
    /// error, or `not applicable` with why): `lcm verify --json`'s `results`. One entry per
    /// check, so it grows linearly with the document's records and receipts.
    #[must_use]
    pub fn results_json(&self) -> Value {
        let entries = self.checks.iter().map(|c| {
            let mut v = json!({
                "stage": c.stage.to_string(),
                "check": c.name,
                "record": c.record,
                "field": c.field,
                "result": match (&c.outcome, c.not_applicable) {
                    (Err(_), _) => "failed",
                    (Ok(()), Some(_)) => "not applicable",
                    (Ok(()), None) => "passed",
                },
            });
            if let Err(e) = &c.outcome {
                v["error"] = json!(e.to_string());
            }
            if let Some(why) = c.not_applicable {
                v["why"] = json!(why);
            }
            v
        });
        Value::Array(entries.collect())
    }

    /// The checks that failed, with their errors: `lcm verify --json`'s `failures`.
    #[must_use]
    pub fn failures_json(&self) -> Value {
        let entries = self.failures().map(|c| {
            json!({
                "stage": c.stage.to_string(),
                "check": c.name,
                "record": c.record,
                "field": c.field,
                "error": c.outcome.as_ref().err().map(ToString::to_string),
            })
        });
        Value::Array(entries.collect())
    }

    /// The checks that did not apply, with why: `lcm verify --json`'s `not_applicable`.
    #[must_use]
    pub fn not_applicable_json(&self) -> Vec<Value> {
        self.not_applicable()
            .map(|c| {
                json!({"stage": c.stage.to_string(), "check": c.name, "record": c.record,
                    "why": c.not_applicable})
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
