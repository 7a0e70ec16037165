//! Signed capsule headers as states of their chain's log: whether a newer header's receipt
//! log extends an older one's (with the evidence of a fork or rollback), and a capsule made
//! against an older header verified against a newer signed checkpoint.

use std::path::Path;

use lcm_crypto::Digest;
use lcm_tlog::consistency::Consistency;
use lcm_tlog::{Checkpoint, Policy, VerifiedCheckpoint};

use super::{
    DEFAULT_ORIGIN_PREFIX, HeaderEvidence, OpsError, classify_or_fail, divergence, fail,
    header_checkpoint, invalid, one_line, parse_vkey, parse_vkeys, read_checkpoint,
    read_consistency_proof, read_header, verify_failed,
};
use crate::log::{LOG_ALGORITHM, Log};

/// A newer header's receipt log that extends (or is) an older header's.
#[derive(Debug)]
#[non_exhaustive]
pub struct HeadersCompared {
    /// The older header's receipt count.
    pub old_size: u64,
    /// The newer header's receipt count.
    pub new_size: u64,
    /// [`Consistency::Same`] or [`Consistency::Extends`].
    pub outcome: Consistency,
}

/// The first failed check of a verification, in words.
fn first_failure(failed: &lcm_capsule::VerificationFailed) -> String {
    failed
        .first()
        .map_or_else(|| "a check failed".to_owned(), ToString::to_string)
}

/// Compares the (verified) header `new` with the header in `old_path`: the older one is
/// verified with `key`, then `new`'s receipt log must extend the older's (same chain, a
/// consistency proof from the older receipt count to the newer, read from `proof` or computed
/// from the store at `store`'s log when it holds the chain that far).
///
/// # Errors
///
/// [`OpsError::Failed`] for an older header that does not verify or is of another chain
/// (`origin`); [`OpsError::HeadersDiverged`] for a fork or rollback (both receipt states as
/// evidence); [`OpsError::Invalid`] for headers without receipts or under a non-SHA-256
/// policy with different counts; file and parse errors.
pub fn compare_headers(
    new: &lcm_capsule::CapsuleHeader,
    old_path: &Path,
    proof: Option<&Path>,
    key: &lcm_crypto::VerifyingKey,
    store: &Path,
) -> Result<HeadersCompared, OpsError> {
    let old = read_header(old_path)?;
    if let Err(failed) = lcm_capsule::verify_header(&old, key) {
        return Err(fail(&format!(
            "{}: {}",
            old_path.display(),
            first_failure(&failed)
        )));
    }
    let chain = |h: &lcm_capsule::CapsuleHeader, what: &str| match (
        &h.stage_e_deployment,
        &h.stage_g_inference,
    ) {
        (Some(d), Some(g)) => Ok((
            d.deployment_id.clone(),
            d.anchor,
            g.receipt_count,
            g.receipts_root,
        )),
        _ => Err(invalid(format!(
            "{what} has no deployment and receipts to compare"
        ))),
    };
    let (deployment, anchor, new_size, new_root) = chain(new, "the header")?;
    let (old_deployment, old_anchor, old_size, old_root) =
        chain(&old, &old_path.display().to_string())?;
    if anchor != old_anchor {
        return Err(fail(&format!(
            "origin: the headers are of two receipt chains (deployment {deployment}, anchor {anchor}; deployment {old_deployment}, anchor {old_anchor})"
        )));
    }
    if new.policy.hash_algorithm != LOG_ALGORITHM && new_size != old_size {
        return Err(invalid(
            "headers under a non-SHA-256 policy: their receipt logs are not C2SP logs, so no consistency proof applies",
        ));
    }
    // The origin each header names (headers of earlier versions name none: the derived one).
    let origin = match (&new.log_origin, &old.log_origin) {
        (Some(n), Some(o)) if n != o => {
            return Err(fail(&format!(
                "origin: the header names the log origin {n}, {} names {o}",
                old_path.display()
            )));
        }
        (Some(named), _) | (None, Some(named)) => named.clone(),
        (None, None) => format!("{DEFAULT_ORIGIN_PREFIX}{deployment}"),
    };
    let as_checkpoint = |size, root| {
        Checkpoint::new(&origin, size, root).map_err(|e| invalid(format!("checkpoint: {e}")))
    };
    let (old_cp, new_cp) = (
        as_checkpoint(old_size, old_root)?,
        as_checkpoint(new_size, new_root)?,
    );
    let path = match proof {
        Some(p) => Some(read_consistency_proof(p)?),
        None if old_size > 0 && old_size < new_size => {
            // From the store, when it holds this chain's log that far.
            match crate::open(store) {
                Ok(store) => {
                    let log = Log::open(&*store, &deployment)?;
                    if log.size() >= new_size {
                        Some(log.consistency_proof(old_size, new_size)?)
                    } else {
                        None
                    }
                }
                Err(_) => None,
            }
        }
        None => None,
    };
    let result = classify_or_fail(&old_cp, &new_cp, path.as_deref())?;
    if result.is_consistent() {
        return Ok(HeadersCompared {
            old_size,
            new_size,
            outcome: result,
        });
    }
    let word = divergence(&result);
    let state = |size: u64, root: &Digest, head: Option<Digest>, at: &lcm_model::Timestamp| {
        serde_json::json!({"deployment": deployment, "receipt_count": size,
            "receipts_root": root.to_string(), "chain_head": head.map(|h| h.to_string()),
            "generated_at": at.to_string()})
    };
    let old_head = old.stage_g_inference.as_ref().and_then(|g| g.chain_head);
    let new_head = new.stage_g_inference.as_ref().and_then(|g| g.chain_head);
    Err(OpsError::HeadersDiverged(Box::new(HeaderEvidence {
        word,
        older_file: old_path.to_path_buf(),
        older: state(old_size, &old_root, old_head, &old.generated_at),
        newer: state(new_size, &new_root, new_head, &new.generated_at),
        message: one_line(&format!(
            "{word}: the header's receipt log ({new_size} receipts) does not extend {} ({old_size} receipts): {result}",
            old_path.display()
        )),
    })))
}

/// The files and keys of [`verify_capsule_into`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CapsuleFiles<'a> {
    /// The capsule.
    pub capsule: &'a Path,
    /// The header it was made against.
    pub header: &'a Path,
    /// The header signer's public key file.
    pub key: &'a Path,
    /// The newer signed checkpoint.
    pub checkpoint: &'a Path,
    /// The log's verifier key: its text or a file holding it.
    pub log_key: &'a str,
    /// The witnesses' verifier keys (texts or files).
    pub witnesses: &'a [String],
    /// How many witnesses must have cosigned.
    pub quorum: usize,
    /// The consistency proof from the header's receipt count to the checkpoint's size.
    pub proof: Option<&'a Path>,
}

impl<'a> CapsuleFiles<'a> {
    /// The files of a capsule, its header, the header's key and a newer checkpoint, to be
    /// verified under `log_key` alone (see [`Self::with_witnesses`], [`Self::with_proof`]).
    pub fn new(
        capsule: &'a Path,
        header: &'a Path,
        key: &'a Path,
        checkpoint: &'a Path,
        log_key: &'a str,
    ) -> Self {
        Self {
            capsule,
            header,
            key,
            checkpoint,
            log_key,
            witnesses: &[],
            quorum: 0,
            proof: None,
        }
    }

    /// Requires `quorum` of the `witnesses` to have cosigned the checkpoint.
    #[must_use]
    pub fn with_witnesses(mut self, witnesses: &'a [String], quorum: usize) -> Self {
        self.witnesses = witnesses;
        self.quorum = quorum;
        self
    }

    /// The consistency proof file from the header to the checkpoint.
    #[must_use]
    pub fn with_proof(mut self, proof: Option<&'a Path>) -> Self {
        self.proof = proof;
        self
    }
}

/// A capsule verified into a newer checkpoint.
#[derive(Debug)]
#[non_exhaustive]
pub struct CapsuleInto {
    /// The verified newer checkpoint.
    pub verified: VerifiedCheckpoint,
    /// The header's receipt count.
    pub header_receipts: u64,
    /// How the checkpoint relates to the header's receipts.
    pub outcome: Consistency,
}

/// A capsule made against an older header, verified against a newer checkpoint under the
/// log key and witnesses of `files`: the capsule into its header, the header's receipts into the checkpoint by a
/// consistency proof.
///
/// # Errors
///
/// [`OpsError::Failed`] for a capsule that does not verify, a failed checkpoint check, or a
/// checkpoint that does not extend the header (`fork`, `rollback`); file and parse errors.
pub fn verify_capsule_into(files: &CapsuleFiles<'_>) -> Result<CapsuleInto, OpsError> {
    let header = read_header(files.header)?;
    let capsule = lcm_capsule::Capsule::from_json(&crate::files::read_text(files.capsule)?)
        .map_err(|e| invalid(format!("{}: not a capsule: {e}", files.capsule.display())))?;
    let key = crate::files::read_verifying_key(files.key)?;
    let signed = read_checkpoint(files.checkpoint)?;
    let log_key = parse_vkey(files.log_key)?;
    let witness_keys = parse_vkeys(files.witnesses)?;
    let proof = files.proof.map(read_consistency_proof).transpose()?;
    if let Err(failed) = lcm_capsule::verify_capsule(&capsule, &header, &key) {
        return Err(fail(&first_failure(&failed)));
    }
    let verified = Policy::new(log_key)
        .with_witnesses(witness_keys, files.quorum)
        .verify(&signed)
        .map_err(|e| verify_failed(&e))?;
    let c = verified.checkpoint();
    let old = header_checkpoint(
        &header,
        Some(c.origin()),
        &files.header.display().to_string(),
    )?;
    let result = classify_or_fail(&old, c, proof.as_deref())?;
    if !result.is_consistent() {
        return Err(fail(&format!(
            "{}: the checkpoint {} (size {}) does not extend the header {} ({} receipts): {result}",
            divergence(&result),
            files.checkpoint.display(),
            c.size(),
            files.header.display(),
            old.size()
        )));
    }
    Ok(CapsuleInto {
        verified,
        header_receipts: old.size(),
        outcome: result,
    })
}
