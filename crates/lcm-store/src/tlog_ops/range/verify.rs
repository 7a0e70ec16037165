//! The verification of a range document (`lcm verify RANGE --key KEY`): every field bound by
//! the checkpoint's signature, a seal, an inclusion proof or a link, or refused.

use super::*;

/// What [`verify_range`] established.
#[derive(Debug)]
#[non_exhaustive]
pub struct RangeVerified {
    /// The deployment, as its sealed deployment record names it.
    pub deployment: String,
    /// The digest of the deployment record every receipt carries.
    pub deployment_record: Digest,
    /// The first sequence number.
    pub from: u64,
    /// The last sequence number.
    pub to: u64,
    /// The time window, for a time range.
    pub window: Option<Window>,
    /// How many of the receipts lie in the window (all, for a sequence range).
    pub in_window: u64,
    /// The checkpoint's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The checkpoint's root.
    pub root: Digest,
}

impl RangeVerified {
    /// What `lcm verify FILE` says of a valid range: the JSON object and the line.
    pub fn summary(&self, file: &Path) -> (Value, String) {
        let mut value = json!({
            "valid": true, "kind": "range", "file": file.display().to_string(),
            "deployment": self.deployment, "deployment_record": self.deployment_record.to_hex(),
            "from_seq": self.from, "to_seq": self.to,
            "origin": self.origin, "size": self.size, "root": self.root.to_hex(),
        });
        let mut line = format!(
            "valid range: receipts {} to {} of {} are linked and entries of {} (size {}, root {})",
            self.from, self.to, self.deployment, self.origin, self.size, self.root
        );
        if let Some(w) = &self.window {
            windowed(&mut value, &mut line, w, self.in_window);
        }
        (value, line)
    }
}

/// Checks the fields of a document's policy that no digest depends on against what the
/// document carries: a native policy ([`Policy::validate`]) that allows the kinds of record
/// the document holds. Its `hash_algorithm` and `schema_version` are bound by the digests
/// (every seal and inclusion proof is recomputed under them) and its `commitments` by the
/// receipts' commitments ([`committed_under`]); its `kdf_iterations` only by its floor (a
/// model record restored from elsewhere may carry another cost, so the model record's is no
/// witness of the store's).
fn check_policy(policy: &Policy) -> Result<(), OpsError> {
    policy
        .validate()
        .map_err(|e| invalid(format!("policy: {e}")))?;
    for domain in [
        DomainType::Model,
        DomainType::Deployment,
        DomainType::Inference,
    ] {
        if !policy.allows(domain) {
            return Err(Box::new(RangeFailure::PolicyDomain { domain }).into());
        }
    }
    Ok(())
}

/// Checks that both commitments of `r` (authenticated with it) were made under the scheme the
/// document's policy names.
fn committed_under(policy: &Policy, r: &InferenceReceipt) -> Result<(), Box<RangeFailure>> {
    for (which, c) in [
        ("input", &r.input_commitment),
        ("output", &r.output_commitment),
    ] {
        agree(policy.commitments, c.scheme, |named, actual| {
            Box::new(RangeFailure::PolicyCommitments {
                receipt_id: r.receipt_id.clone(),
                sequence: r.sequence,
                which,
                named,
                actual,
            })
        })?;
    }
    Ok(())
}

/// The text of the range document in `path`, or `None` for a file that is not one.
///
/// # Errors
///
/// [`OpsError::File`] when it cannot be read or is not strict JSON text.
pub fn read_if_range(path: &Path) -> Result<Option<String>, OpsError> {
    let text = crate::files::read_strict_text(path)?;
    Ok(is_range(&text).then_some(text))
}

/// Verifies a range document: strict JSON ([`lcm_model::strict::check_json`]: no key given
/// twice, no inexact number); its policy ([`Policy::validate`], allowing model, deployment and
/// inference records); the checkpoint's note signature under `key` (an Ed25519 key,
/// named by the checkpoint's origin); the lifecycle records' seals (recomputed under the
/// policy), the deployment record's name against the document's `deployment`, and the links
/// deployment record → pre-deployment record → model record; then each receipt's sequence
/// number, its chain link to the receipt before it (the first's to the proved predecessor, or
/// none at sequence 0), its deployment and model anchors against the records' digests, its
/// digest recomputed under the policy and its inclusion proof into the checkpoint's root at
/// its size, and its commitments' scheme against the policy's; for a time range, that the first and last receipts lie in the window (and how
/// many do). Memory: the document, `O(k log n)`.
///
/// # Errors
///
/// [`OpsError::Invalid`] for a document that does not parse, is not strict JSON or has a
/// policy that is not native; [`OpsError::Range`] with the [`RangeFailure`] for lifecycle
/// records that do not authenticate the deployment, receipts of another deployment or model,
/// a policy the records contradict, or a span that does not end in its window;
/// [`OpsError::Failed`] led by `signature`, `range`, `chain` or `inclusion` for the first
/// other failed check.
pub fn verify_range(text: &str, key: &lcm_crypto::VerifyingKey) -> Result<RangeVerified, OpsError> {
    #[derive(Deserialize)]
    struct Version {
        range_version: String,
    }
    let version = |found: &str| {
        invalid(format!(
            "range_version {found:?}, expected {RANGE_VERSION:?}"
        ))
    };
    // Another version (lcm-range/1 has no lifecycle records) is named as such, not as a parse error.
    let doc: RangeDocument =
        serde_json::from_str(text).map_err(|e| match serde_json::from_str::<Version>(text) {
            Ok(v) if v.range_version != RANGE_VERSION => version(&v.range_version),
            _ => invalid(format!("not a range document: {e}")),
        })?;
    if doc.range_version != RANGE_VERSION {
        return Err(version(&doc.range_version));
    }
    if doc.policy.hash_algorithm != LOG_ALGORITHM {
        return Err(invalid("a range document needs a SHA-256 policy"));
    }
    // A map-typed object (receipt metadata, a deployment record's infrastructure) keeps the
    // last of two equal keys: a reader keeping the first would see other, unproved content.
    lcm_model::strict::check_json(text).map_err(|e| invalid(format!("range document: {e}")))?;
    check_policy(&doc.policy)?;
    let signed = SignedCheckpoint::parse(doc.checkpoint.as_bytes())
        .map_err(|e| invalid(format!("checkpoint: {e}")))?;
    let origin = signed.checkpoint().origin().to_owned();
    let name = KeyName::new(&origin).map_err(|e| invalid(format!("checkpoint origin: {e}")))?;
    let vkey = VerifierKey::new(name, SignatureType::Ed25519, *key);
    lcm_tlog::Policy::new(vkey)
        .verify(&signed)
        .map_err(|e| fail(&format!("signature: the checkpoint: {e}")))?;
    doc.lifecycle.check(&doc.policy, &doc.deployment)?;
    let c = signed.checkpoint();
    let (size, root) = (c.size(), *c.root());
    let (from, to) = (doc.from_seq, doc.to_seq);
    if from > to || to >= size {
        return Err(fail(&format!(
            "range: {from}..={to} is not in the checkpoint of size {size}"
        )));
    }
    if doc.receipts.len() as u64 != to - from + 1 {
        return Err(fail(&format!(
            "range: {} receipts for sequence numbers {from}..={to}",
            doc.receipts.len()
        )));
    }
    let prove = |digest: &Digest, index: u64, proof: &[Digest], what: &str| {
        verify_inclusion(&leaf_hash(digest), index, size, proof, &root)
            .map_err(|e| fail(&format!("inclusion: {what} (sequence {index}): {e}")))
    };
    let mut link = match (&doc.previous, from) {
        (None, 0) => None,
        (Some(p), f) if f > 0 => {
            prove(&p.digest, f - 1, &p.proof, "the predecessor")?;
            Some(p.digest)
        }
        _ => {
            return Err(fail(&format!(
                "chain: the predecessor must be given exactly when the range starts after 0 (it starts at {from})"
            )));
        }
    };
    let mut in_window = 0u64;
    let last = doc.receipts.len().saturating_sub(1);
    for (i, (sequence, r)) in (from..=to).zip(&doc.receipts).enumerate() {
        let id = &r.receipt.receipt_id;
        if r.receipt.sequence != sequence {
            return Err(fail(&format!(
                "range: receipt {id} has sequence {}, expected {sequence}",
                r.receipt.sequence
            )));
        }
        if r.receipt.prev_receipt != link {
            return Err(fail(&format!(
                "chain: receipt {id} (sequence {sequence}) does not link to the receipt before it"
            )));
        }
        doc.lifecycle.made(&r.receipt)?;
        committed_under(&doc.policy, &r.receipt)?;
        let digest = r
            .receipt
            .digest(&doc.policy)
            .map_err(|e| invalid(e.to_string()))?;
        prove(&digest, sequence, &r.proof, &format!("receipt {id}"))?;
        link = Some(digest);
        let inside = doc.window.is_none_or(|w| w.contains(r.receipt.timestamp));
        if let (Some(w), false, true) = (&doc.window, inside, i == 0 || i == last) {
            return Err(OpsError::Range(Box::new(RangeFailure::Window {
                receipt_id: id.clone(),
                sequence,
                at: r.receipt.timestamp,
                window: w.describe(),
            })));
        }
        in_window += u64::from(inside);
    }
    Ok(RangeVerified {
        deployment: doc.lifecycle.deployment.record.deployment_id,
        deployment_record: doc.lifecycle.deployment.digest,
        from,
        to,
        window: doc.window,
        in_window,
        origin,
        size,
        root,
    })
}
