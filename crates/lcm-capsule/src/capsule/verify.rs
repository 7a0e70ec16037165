//! [`verify_capsule`]: one capsule checked against its header, offline.

use super::*;

/// Verifies one materialized item against a header and the header's signing key: the header
/// (version, policy, key, signature), the capsule's binding to it, the item's digest
/// (recomputed), its inclusion proof into the stage root the header signs, its position and
/// its neighbours, its references to the header's model and deployment (or session), and
/// every disclosed opening.
///
/// A header over the receipts alone (without stage B or E) is a valid header: a receipt's
/// model or deployment reference then has nothing to be compared with, and the report lists
/// it as not applicable ([`crate::Check::not_applicable`], [`Report::not_applicable`])
/// rather than leaving it out.
///
/// It checks the capsule against the policy the signed header carries, not against what the
/// caller requires of that policy: an auditor with requirements (no plaintext commitments over
/// personal data, a minimum KDF cost, a pinned key, ...) also runs [`crate::validate_lcm_policy`]
/// on the header.
///
/// This does not panic.
///
/// # Errors
///
/// [`VerificationFailed`] with the report when a check fails; each failure names the stage,
/// the record and the JSON pointer of the field in the capsule (header checks point into the
/// header).
pub fn verify_capsule(
    capsule: &Capsule,
    header: &CapsuleHeader,
    key: &VerifyingKey,
) -> Result<Report, VerificationFailed> {
    let mut report = Report::default();
    header_checks(&mut report, header, key, "");
    report.push(
        "capsule version",
        Stage::Document,
        "capsule",
        "/capsule_version",
        version_check(CAPSULE_VERSION, &capsule.capsule_version),
    );
    let bound = recomputed(header.digest(), |d| mismatch(d, capsule.header_digest));
    report.push(
        "bound to the header",
        Stage::Header,
        "capsule",
        "/header_digest",
        bound,
    );
    let policy = &header.policy;
    match &capsule.item {
        CapsuleItem::InferenceReceipt(item) => receipt_checks(&mut report, policy, header, item),
        CapsuleItem::TrainingCheckpoint(item) => {
            checkpoint_checks(&mut report, policy, header, item);
        }
        CapsuleItem::DatasetRecord(item) => {
            dataset_record_checks(&mut report, policy, header, item);
        }
    }
    report.into_result()
}

/// The stage root a chain item proves into.
struct Chain<'a> {
    stage: Stage,
    record: String,
    path: &'a str,
    root: MerkleRoot,
    policy: &'a Policy,
}

impl Chain<'_> {
    /// The chain link at `field` (below the item's path) of the item at `index`: the digest it
    /// stores against the one its previous neighbour (or the chain's start) gives.
    fn link(
        &self,
        report: &mut Report,
        field: &str,
        index: u64,
        expected: Option<Digest>,
        actual: Option<Digest>,
    ) {
        report.push(
            "chain link",
            self.stage,
            &self.record,
            format!("{}/{field}", self.path),
            agree(expected, actual, |expected, actual| CheckError::ChainLink {
                index,
                expected,
                actual,
            }),
        );
    }

    fn proves(&self, digest: &Digest, proof: &InclusionProof) -> Result<(), CheckError> {
        let leaf = leaf_hash(self.policy.hash_algorithm, digest.as_bytes());
        proof.verify(&leaf, &self.root).map_err(CheckError::Proof)
    }

    /// Digest recomputed, proof, position and neighbours of item `index`.
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        report: &mut Report,
        field: &str,
        stored: Digest,
        recomputed: Result<Digest, lcm_model::Error>,
        index: u64,
        proof: &InclusionProof,
        previous: Option<&Neighbour>,
        next: Option<&Neighbour>,
    ) {
        let p = self.path;
        let (stage, record) = (self.stage, self.record.as_str());
        // The digest: a stored digest that the proof confirms means the content was changed;
        // one the proof rejects while the recomputed digest is confirmed means the stored
        // digest was changed.
        match recomputed {
            Ok(r) if r == stored => {
                report.push(
                    "record digest",
                    stage,
                    record,
                    format!("{p}/{field}"),
                    Ok(()),
                );
            }
            Ok(r) => {
                let blame = if self.proves(&stored, proof).is_ok() {
                    format!("{p}/{field}/record")
                } else if self.proves(&r, proof).is_ok() {
                    format!("{p}/{field}/digest")
                } else {
                    format!("{p}/{field}")
                };
                report.push(
                    "record digest",
                    stage,
                    record,
                    blame,
                    Err(CheckError::DigestMismatch {
                        expected: r,
                        actual: stored,
                    }),
                );
            }
            Err(e) => {
                report.push(
                    "record digest",
                    stage,
                    record,
                    format!("{p}/{field}/record"),
                    Err(CheckError::Record(e.to_string())),
                );
            }
        }
        report.push(
            "position",
            stage,
            record,
            format!("{p}/proof/index"),
            same_value(index, proof.index()),
        );
        report.push(
            "inclusion in the signed root",
            stage,
            record,
            format!("{p}/proof"),
            self.proves(&stored, proof),
        );
        let size = self.root.size();
        let expect_prev = index.checked_sub(1);
        let expect_next = index.checked_add(1).filter(|n| *n < size);
        for (name, which, neighbour, expected_index) in [
            ("previous item", "previous", previous, expect_prev),
            ("next item", "next", next, expect_next),
        ] {
            let outcome = match (neighbour, expected_index) {
                (None, None) => Ok(()),
                (Some(n), Some(i)) if n.proof.index() == i => self.proves(&n.digest, &n.proof),
                (Some(n), Some(i)) => Err(CheckError::ValueMismatch {
                    expected: i.to_string(),
                    actual: n.proof.index().to_string(),
                }),
                (None, Some(_)) => Err(CheckError::Missing { what: "neighbour" }),
                (Some(_), None) => Err(CheckError::ValueMismatch {
                    expected: "no neighbour".to_owned(),
                    actual: "a neighbour".to_owned(),
                }),
            };
            report.push(name, stage, record, format!("{p}/{which}"), outcome);
        }
    }
}

fn missing(report: &mut Report, stage: Stage, field: &str, what: &'static str) {
    report.push(
        "header stage present",
        stage,
        "capsule header",
        field,
        Err(CheckError::Missing { what }),
    );
}

fn reference(
    report: &mut Report,
    stage: Stage,
    record: &str,
    field: String,
    expected: Digest,
    actual: Digest,
) {
    report.push(
        "reference",
        stage,
        record,
        field,
        mismatch(expected, actual),
    );
}

/// A reference to what a header stage names, when the header may lack the stage: a header
/// over the receipts alone is a valid header (the receipts root is what it signs), so the
/// check is then reported as not applicable, with `absent` saying why, rather than left out
/// or failed.
fn reference_to_stage(
    report: &mut Report,
    record: &str,
    field: String,
    expected: Option<Digest>,
    absent: &'static str,
    actual: Digest,
) {
    match expected {
        Some(e) => reference(report, Stage::Inference, record, field, e, actual),
        None => report.push_not_applicable("reference", Stage::Inference, record, field, absent),
    }
}

fn receipt_checks(
    report: &mut Report,
    policy: &Policy,
    header: &CapsuleHeader,
    item: &ReceiptItem,
) {
    let Some(g) = &header.stage_g_inference else {
        missing(report, Stage::Inference, "/stage_g_inference", "stage G");
        return;
    };
    let r = &item.receipt.record;
    let chain = Chain {
        stage: Stage::Inference,
        record: format!("receipt {}", r.receipt_id),
        path: "/item/inference_receipt",
        root: MerkleRoot::new(policy.hash_algorithm, g.receipts_root, g.receipt_count),
        policy,
    };
    chain.check(
        report,
        "receipt",
        item.receipt.digest(),
        r.digest(policy),
        r.sequence,
        &item.proof,
        item.previous.as_ref(),
        item.next.as_ref(),
    );
    let p = chain.path;
    chain.link(
        report,
        "receipt/record/prev_receipt",
        r.sequence,
        item.previous.as_ref().map(|n| n.digest),
        r.prev_receipt,
    );
    reference_to_stage(
        report,
        &chain.record,
        format!("{p}/receipt/record/model_anchor"),
        header.stage_b_model.as_ref().map(|b| b.anchor),
        "the header has no stage B (model) to compare the receipt's model anchor with",
        r.model_anchor,
    );
    reference_to_stage(
        report,
        &chain.record,
        format!("{p}/receipt/record/deployment_anchor"),
        header.stage_e_deployment.as_ref().map(|e| e.anchor),
        "the header has no stage E (deployment) to compare the receipt's deployment anchor with",
        r.deployment_anchor,
    );
    if let Some(d) = &item.disclosure {
        for (which, value, commitment) in [
            ("input", &d.input, &r.input_commitment),
            ("output", &d.output, &r.output_commitment),
        ] {
            if let Some(v) = value {
                report.push(
                    "disclosed commitment",
                    Stage::Inference,
                    &chain.record,
                    format!("{p}/disclosure/{which}"),
                    open(policy, commitment, v),
                );
            }
        }
    }
}

/// Checks a disclosed value against a receipt commitment (and its stored plaintext, for
/// plaintext commitments).
fn open(
    policy: &Policy,
    commitment: &InferenceCommitment,
    value: &DisclosedValue,
) -> Result<(), CheckError> {
    let opening = Opening::from_revealed(&value.opening);
    verify_commitment(policy, commitment, value.data.as_bytes(), &opening).map_err(|e| match e {
        lcm_model::Error::Crypto(c) => CheckError::Opening(c),
        other => CheckError::ValueMismatch {
            expected: "the plaintext the commitment carries".to_owned(),
            actual: other.to_string(),
        },
    })
}

fn checkpoint_checks(
    report: &mut Report,
    policy: &Policy,
    header: &CapsuleHeader,
    item: &CheckpointItem,
) {
    let Some(c) = &header.stage_c_training else {
        missing(report, Stage::Training, "/stage_c_training", "stage C");
        return;
    };
    let r = &item.checkpoint.record;
    let chain = Chain {
        stage: Stage::Training,
        record: format!("checkpoint {}", r.checkpoint_id),
        path: "/item/training_checkpoint",
        root: MerkleRoot::new(
            policy.hash_algorithm,
            c.checkpoints_root,
            c.checkpoint_count,
        ),
        policy,
    };
    chain.check(
        report,
        "checkpoint",
        item.checkpoint.digest(),
        r.digest(policy),
        r.index,
        &item.proof,
        item.previous.as_ref(),
        item.next.as_ref(),
    );
    let p = chain.path;
    let expected_previous = match &item.previous {
        Some(n) => n.digest,
        None => c.session,
    };
    chain.link(
        report,
        "checkpoint/record/previous",
        r.index,
        Some(expected_previous),
        Some(r.previous),
    );
    reference(
        report,
        Stage::Training,
        &chain.record,
        format!("{p}/checkpoint/record/session"),
        c.session,
        r.session,
    );
}

fn dataset_record_checks(
    report: &mut Report,
    policy: &Policy,
    header: &CapsuleHeader,
    item: &DatasetRecordItem,
) {
    let Some(a) = &header.stage_a_dataset else {
        missing(report, Stage::Dataset, "/stage_a_dataset", "stage A");
        return;
    };
    let anchor = &item.split_anchor;
    let split = anchor.record.split;
    let record = format!("record {} of the {split} split", item.record_id);
    let p = "/item/dataset_record";
    let outcome = recomputed(anchor.record.digest(policy), |d| mismatch(d, anchor.digest));
    report.push(
        "record digest",
        Stage::Dataset,
        &record,
        format!("{p}/split_anchor"),
        outcome,
    );
    reference(
        report,
        Stage::Dataset,
        &record,
        format!("{p}/split_anchor/digest"),
        a.splits
            .get(&split)
            .map_or(Digest::from_bytes([0; 32]), |s| s.anchor),
        anchor.digest,
    );
    report.push(
        "inclusion in the signed root",
        Stage::Dataset,
        &record,
        format!("{p}/proof"),
        verify_record_inclusion(policy, &anchor.record, &item.record_id, &item.proof).map_err(
            |e| match e {
                lcm_model::Error::Crypto(c) => CheckError::Proof(c),
                other => CheckError::Record(other.to_string()),
            },
        ),
    );
}
