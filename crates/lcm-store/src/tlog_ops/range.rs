//! A sequence range of a receipt chain with its proofs into a signed checkpoint of the chain's
//! log (`lcm export --from-seq A --to-seq B`), and its verification (`lcm verify`).
//!
//! The document (`lcm-range/1`, JSON, told apart by its `range_version`) holds the store's policy, the
//! deployment, the signed checkpoint (C2SP text), the first and last sequence numbers
//! (0-based, inclusive), the predecessor of the first receipt (its digest and inclusion proof;
//! `null` when the range starts the chain) and every receipt of the range in chain order, each
//! with its inclusion proof into the checkpoint (RFC 9162 audit paths, hex). Written as the
//! receipts are scanned, one at a time: `O(k log n)` hashes read for `k` receipts.

use std::io::Write;
use std::path::Path;

use lcm_crypto::Digest;
use lcm_crypto::merkle::verify_inclusion;
use lcm_model::records::InferenceReceipt;
use lcm_model::{Policy, Record as _};
use lcm_tlog::SignedCheckpoint;
use lcm_tlog::note::{KeyName, SignatureType, SignerKey, VerifierKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{OpsError, fail, invalid, sign_checkpoint};
use crate::Store;
use crate::export::stream::Counting;
use crate::log::{LOG_ALGORITHM, Log, leaf_hash};

/// The version of the range document.
pub const RANGE_VERSION: &str = "lcm-range/1";

/// A receipt named by its digest and proved into the checkpoint.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Proved {
    digest: Digest,
    proof: Vec<Digest>,
}

/// One receipt of the range with its inclusion proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeReceipt {
    receipt: InferenceReceipt,
    proof: Vec<Digest>,
}

/// The range document as read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeDocument {
    range_version: String,
    policy: Policy,
    deployment: String,
    checkpoint: String,
    from_seq: u64,
    to_seq: u64,
    previous: Option<Proved>,
    receipts: Vec<RangeReceipt>,
}

/// What [`write_range`] wrote.
#[derive(Debug)]
#[non_exhaustive]
pub struct RangeWritten {
    /// The first and last sequence numbers.
    pub range: (u64, u64),
    /// The signed checkpoint the range is proved into.
    pub checkpoint: SignedCheckpoint,
    /// The number of receipts.
    pub receipts: u64,
    /// The bytes written (no final newline).
    pub bytes: u64,
}

/// Whether `text` is a range document: a JSON object with a `range_version` key.
pub fn is_range(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        range_version: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Probe>(text).is_ok_and(|p| p.range_version.is_some())
}

/// Writes the receipts `from..=to` (sequence numbers, from 0) of `deployment`'s chain with
/// their proofs into a new checkpoint of its log signed by `signer` to `out`, as they are read.
///
/// # Errors
///
/// [`OpsError::Invalid`] for an empty, reversed or out-of-chain range or a non-SHA-256 policy
/// (nothing is written then); [`OpsError::Store`] for read and write failures.
pub fn write_range(
    store: &dyn Store,
    deployment: &str,
    (from, to): (u64, u64),
    signer: &SignerKey,
    out: &mut dyn Write,
) -> Result<RangeWritten, OpsError> {
    let policy = store.policy()?;
    if policy.hash_algorithm != LOG_ALGORITHM {
        return Err(invalid(
            "a range is proved into the chain's C2SP log, which needs a SHA-256 policy",
        ));
    }
    let log = Log::open(store, deployment)?;
    let size = log.size();
    if from > to || to >= size {
        return Err(invalid(format!(
            "--from-seq {from} --to-seq {to}: the chain of deployment {deployment} holds sequence numbers 0 to {} (inclusive)",
            size.saturating_sub(1)
        )));
    }
    let checkpoint = sign_checkpoint(&log, signer)?;
    let previous = if from == 0 {
        None
    } else {
        let mut digest = None;
        store.scan_receipts(deployment, from - 1, Some(from - 1), &mut |r| {
            digest = Some(r.digest);
            Ok(())
        })?;
        let digest = digest.ok_or_else(|| crate::Error::Corrupt {
            what: format!("receipt {} of deployment {deployment} is missing", from - 1),
        })?;
        Some(Proved {
            digest,
            proof: log.inclusion_proof(from - 1, size)?.into_path(),
        })
    };
    let mut w = Counting {
        inner: out,
        bytes: 0,
    };
    let head = serde_json::json!({
        "policy": policy,
        "deployment": deployment,
        "checkpoint": checkpoint.to_text(),
        "from_seq": from,
        "to_seq": to,
        "previous": previous,
    });
    let head = serde_json::to_string_pretty(&head).map_err(crate::Error::Json)?;
    let body = head
        .strip_prefix('{')
        .and_then(|h| h.strip_suffix("\n}"))
        .unwrap_or_default();
    write!(
        w,
        "{{\n  \"range_version\": \"{RANGE_VERSION}\",{body},\n  \"receipts\": ["
    )
    .map_err(crate::Error::Write)?;
    let mut count = 0u64;
    store.scan_receipts(deployment, from, Some(to), &mut |r| {
        let proof = log.inclusion_proof(r.sequence, size)?.into_path();
        let proof = serde_json::to_string(&proof)?;
        let sep = if count == 0 { "" } else { "," };
        write!(
            w,
            "{sep}\n    {{\"receipt\": {}, \"proof\": {proof}}}",
            r.json
        )
        .map_err(crate::Error::Write)?;
        count += 1;
        Ok(())
    })?;
    write!(w, "\n  ]\n}}").map_err(crate::Error::Write)?;
    if count != to - from + 1 {
        return Err(crate::Error::Corrupt {
            what: format!("the chain of deployment {deployment} lacks receipts in {from}..={to}"),
        }
        .into());
    }
    Ok(RangeWritten {
        range: (from, to),
        checkpoint,
        receipts: count,
        bytes: w.bytes,
    })
}

impl RangeWritten {
    /// What `lcm export --from-seq --to-seq --out PATH` says: the JSON object and the line.
    pub fn summary(&self, path: &Path, deployment: &str) -> (Value, String) {
        let c = self.checkpoint.checkpoint();
        let (from, to) = self.range;
        let value = json!({
            "kind": "range", "path": path.display().to_string(), "bytes": self.bytes,
            "deployment": deployment, "from_seq": from, "to_seq": to,
            "receipts": self.receipts, "origin": c.origin(), "size": c.size(),
            "root": c.root().to_hex(),
        });
        let line = format!(
            "wrote range {}: receipts {from} to {to} of {deployment} ({} receipts), proved into {} size {}",
            path.display(),
            self.receipts,
            c.origin(),
            c.size()
        );
        (value, line)
    }
}

/// What [`verify_range`] established.
#[derive(Debug)]
#[non_exhaustive]
pub struct RangeVerified {
    /// The deployment.
    pub deployment: String,
    /// The first and last sequence numbers.
    pub from: u64,
    /// The last sequence number.
    pub to: u64,
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
        let value = json!({
            "valid": true, "kind": "range", "file": file.display().to_string(),
            "deployment": self.deployment, "from_seq": self.from, "to_seq": self.to,
            "origin": self.origin, "size": self.size, "root": self.root.to_hex(),
        });
        let line = format!(
            "valid range: receipts {} to {} of {} are linked and entries of {} (size {}, root {})",
            self.from, self.to, self.deployment, self.origin, self.size, self.root
        );
        (value, line)
    }
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

/// Verifies a range document: the checkpoint's note signature under `key` (an Ed25519 key,
/// named by the checkpoint's origin), then each receipt's digest recomputed under the policy,
/// its sequence number, its chain link to the receipt before it (the first's to the proved
/// predecessor, or none at sequence 0), and its inclusion proof into the checkpoint's root at
/// its size.
///
/// # Errors
///
/// [`OpsError::Invalid`] for a document that does not parse; [`OpsError::Failed`] led by
/// `signature`, `range`, `chain` or `inclusion` for the first failed check.
pub fn verify_range(text: &str, key: &lcm_crypto::VerifyingKey) -> Result<RangeVerified, OpsError> {
    let doc: RangeDocument =
        serde_json::from_str(text).map_err(|e| invalid(format!("not a range document: {e}")))?;
    if doc.range_version != RANGE_VERSION {
        return Err(invalid(format!(
            "range_version {:?}, expected {RANGE_VERSION:?}",
            doc.range_version
        )));
    }
    if doc.policy.hash_algorithm != LOG_ALGORITHM {
        return Err(invalid("a range document needs a SHA-256 policy"));
    }
    let signed = SignedCheckpoint::parse(doc.checkpoint.as_bytes())
        .map_err(|e| invalid(format!("checkpoint: {e}")))?;
    let origin = signed.checkpoint().origin().to_owned();
    let name = KeyName::new(&origin).map_err(|e| invalid(format!("checkpoint origin: {e}")))?;
    let vkey = VerifierKey::new(name, SignatureType::Ed25519, *key);
    lcm_tlog::Policy::new(vkey)
        .verify(&signed)
        .map_err(|e| fail(&format!("signature: the checkpoint: {e}")))?;
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
    for (sequence, r) in (from..=to).zip(&doc.receipts) {
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
        let digest = r
            .receipt
            .digest(&doc.policy)
            .map_err(|e| invalid(e.to_string()))?;
        prove(&digest, sequence, &r.proof, &format!("receipt {id}"))?;
        link = Some(digest);
    }
    Ok(RangeVerified {
        deployment: doc.deployment,
        from,
        to,
        origin,
        size,
        root,
    })
}
