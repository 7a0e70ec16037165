//! The transparency log: signed C2SP checkpoints of a deployment's receipt log, consistency
//! proofs between them, and their verification (`lcm log checkpoint|prove|verify`). The
//! operations are `lcm_store::tlog_ops`'s, the formats and checks `lcm_tlog`'s.

use std::path::PathBuf;

use lcm_store::tlog_ops::{self, OpsError};
use lcm_tlog::consistency::{Consistency, classify, format_hash_lines, parse_hash_lines};
use lcm_tlog::{Checkpoint, Policy, SignedCheckpoint};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::read_file;
use crate::errors::{VerificationError, input, store_err};

/// The exception for a transparency-log error: a failed signature, quorum, origin,
/// consistency or inclusion check is a `VerificationError` (its message led by the reason), a
/// store failure the store's, anything else an `InputError`.
pub(crate) fn ops_err(e: OpsError) -> PyErr {
    match e {
        OpsError::Failed { .. }
        | OpsError::Diverged { .. }
        | OpsError::HeadersDiverged(_)
        | OpsError::Range(_) => VerificationError::new_err(e.to_string()),
        OpsError::Store(inner) => store_err(*inner),
        other => input(other.to_string()),
    }
}

/// An input given as its text (bytes, or a str holding a newline) or as a path to a file
/// holding it; returns its bytes and a name for messages.
pub(crate) fn text_or_path(arg: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<u8>, String)> {
    if let Ok(b) = arg.cast::<PyBytes>() {
        return Ok((b.as_bytes().to_vec(), what.to_owned()));
    }
    if let Ok(s) = arg.cast::<PyString>() {
        let s = s.to_str()?;
        if s.contains('\n') {
            return Ok((s.as_bytes().to_vec(), what.to_owned()));
        }
    }
    let path: PathBuf = arg.extract().map_err(|_| {
        input(format!(
            "{what}: expected its text (str or bytes) or a path to a file"
        ))
    })?;
    Ok((read_file(&path)?, path.display().to_string()))
}

/// A signed checkpoint given as text or a path (see [`text_or_path`]).
fn signed_checkpoint(arg: &Bound<'_, PyAny>, what: &str) -> PyResult<(SignedCheckpoint, String)> {
    let (bytes, name) = text_or_path(arg, what)?;
    let signed = SignedCheckpoint::parse(&bytes)
        .map_err(|e| input(format!("{name}: not a signed checkpoint: {e}")))?;
    Ok((signed, name))
}

/// The (unsigned) checkpoint of a signed checkpoint or of a capsule header's receipts, given
/// as text or a path; and a name for messages.
pub(crate) fn checkpoint_or_header(arg: &Bound<'_, PyAny>) -> PyResult<(Checkpoint, PathBuf)> {
    let (bytes, name) = text_or_path(arg, "the old checkpoint")?;
    if let Ok(signed) = SignedCheckpoint::parse(&bytes) {
        return Ok((signed.checkpoint().clone(), PathBuf::from(name)));
    }
    let text = String::from_utf8(bytes).map_err(|_| input(format!("{name}: not UTF-8 text")))?;
    let header = lcm_capsule::CapsuleHeader::from_json(&text).map_err(|e| {
        input(format!(
            "{name}: neither a signed checkpoint nor a capsule header: {e}"
        ))
    })?;
    let checkpoint = tlog_ops::header_checkpoint(&header, None, &name).map_err(ops_err)?;
    Ok((checkpoint, PathBuf::from(name)))
}

/// A consistency proof (one base64 hash a line) given as text or a path.
fn consistency_proof(arg: &Bound<'_, PyAny>) -> PyResult<Vec<lcm_crypto::Digest>> {
    let (bytes, name) = text_or_path(arg, "the proof")?;
    let text = String::from_utf8(bytes).map_err(|_| input(format!("{name}: not UTF-8 text")))?;
    // An empty proof (from size 0, or between equal checkpoints) is the empty text.
    parse_hash_lines(&text).map_err(|e| input(format!("{name}: not a consistency proof: {e}")))
}

/// A verified signed checkpoint (`lcm.verify_checkpoint`).
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct CheckpointReport {
    /// The log's origin (the name of its key).
    origin: String,
    /// The log's size: how many receipts it holds.
    size: u64,
    /// The log's root, 64 lowercase hex.
    root: String,
    /// The name of the log key that signed it.
    log_key: String,
    /// The names of the witnesses whose cosignatures verified.
    witnesses: Vec<String>,
    /// How it relates to `since`, when given: `"extends"` or `"same"`; else None.
    since: Option<String>,
    /// The size of the `since` checkpoint, when given.
    since_size: Option<u64>,
}

py_repr!(
    CheckpointReport,
    r,
    "CheckpointReport(origin={:?}, size={}, root={:?}, since={:?})",
    r.origin,
    r.size,
    r.root,
    r.since
);

/// Verifies a signed C2SP checkpoint under the log key `key` and `quorum` of the `witnesses`
/// (`lcm log verify`), and, with `since` (an older signed checkpoint of the same log), that it
/// extends `since` by the consistency `proof` (from `Store.prove`; not needed when both have
/// the same size or `since` is empty).
///
/// `checkpoint`, `since` and `proof` are each given as their text (bytes, or a str holding a
/// newline) or as a path to a file holding it; `key` and each witness key as the verifier
/// key's text (`NAME+HASH+BASE64`) or a path to a `.vkey` file.
///
/// Returns a `CheckpointReport`. Raises `VerificationError` whose message starts with the
/// reason -- `signature`, `quorum`, `origin`, `fork` or `rollback` -- and `InputError` for
/// malformed input.
#[pyfunction]
#[pyo3(signature = (checkpoint, key, since = None, proof = None, witnesses = Vec::new(), quorum = 0))]
pub(crate) fn verify_checkpoint(
    py: Python<'_>,
    checkpoint: &Bound<'_, PyAny>,
    key: String,
    since: Option<&Bound<'_, PyAny>>,
    proof: Option<&Bound<'_, PyAny>>,
    witnesses: Vec<String>,
    quorum: usize,
) -> PyResult<CheckpointReport> {
    let (signed, name) = signed_checkpoint(checkpoint, "the checkpoint")?;
    let old = since
        .map(|s| signed_checkpoint(s, "the since checkpoint"))
        .transpose()?;
    let proof = proof.map(consistency_proof).transpose()?;
    py.detach(|| {
        let log_key = tlog_ops::parse_vkey(&key).map_err(ops_err)?;
        let witness_keys = tlog_ops::parse_vkeys(&witnesses).map_err(ops_err)?;
        let policy = Policy::new(log_key.clone()).with_witnesses(witness_keys, quorum);
        let verified = policy
            .verify(&signed)
            .map_err(|e| ops_err(tlog_ops::verify_failed(&e)))?;
        let mut relation = None;
        if let Some((old, old_name)) = &old {
            Policy::new(log_key.clone())
                .verify(old)
                .map_err(|e| VerificationError::new_err(format!("signature: {old_name}: {e}")))?;
            let outcome = classify(old.checkpoint(), signed.checkpoint(), proof.as_deref())
                .map_err(|e| VerificationError::new_err(format!("origin: {e}")))?;
            if !outcome.is_consistent() {
                let word = if matches!(outcome, Consistency::Rollback { .. }) {
                    "rollback"
                } else {
                    "fork"
                };
                return Err(VerificationError::new_err(format!(
                    "{word}: {name} (size {}) does not extend {old_name} (size {}): {outcome}",
                    signed.checkpoint().size(),
                    old.checkpoint().size()
                )));
            }
            relation = Some((
                if matches!(outcome, Consistency::Same) {
                    "same"
                } else {
                    "extends"
                },
                old.checkpoint().size(),
            ));
        }
        let c = verified.checkpoint();
        Ok(CheckpointReport {
            origin: c.origin().to_owned(),
            size: c.size(),
            root: c.root().to_hex(),
            log_key: log_key.name().to_string(),
            witnesses: verified
                .witnesses()
                .iter()
                .map(|w| w.key.name().to_string())
                .collect(),
            since: relation.map(|(r, _)| r.to_owned()),
            since_size: relation.map(|(_, s)| s),
        })
    })
}

/// The consistency proof text (`lcm log prove`) of `proved`.
pub(crate) fn proof_text(proved: &tlog_ops::Proved) -> String {
    format_hash_lines(&proved.proof)
}
