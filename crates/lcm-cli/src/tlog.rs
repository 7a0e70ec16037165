//! The transparency-log commands: `lcm log checkpoint|check|prove|verify|proof|verify-proof|
//! verify-capsule|export-tiles|verify-tiles` (`lcm witness cosign` is [`crate::witness`]). The
//! operations are `lcm_store::tlog_ops`'s (formats and checks `lcm_tlog`'s, the log
//! `lcm_store::log`'s): these functions pass arguments, print and map errors to exit codes.
//!
//! Exit codes follow the binary's: 1 when a signature, quorum, consistency or inclusion check
//! fails (the reason first: `signature`, `quorum`, `fork`, `rollback`, `origin`,
//! `inclusion`), 2 for malformed input.

use std::fmt::Write as _;
use std::path::Path;

use lcm_store::export;
use lcm_store::log::Log;
use lcm_store::tlog_ops::{self, OpsError, headers, relation, tiles};
use lcm_tlog::SignedCheckpoint;
use lcm_tlog::consistency::{Consistency, format_hash_lines};
use serde_json::json;

use crate::cli::{Cli, LogCommand, LogVerifyArgs, VerifyTilesArgs};
use crate::error::{CliError, one_line};
use crate::io::open;
use crate::io::{Out, file_err};

/// Writes `text` (which ends with its own newline) to `path` or standard output.
fn write_text(out: &mut Out, path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(file_err(p)),
        None => out.raw(text.as_bytes()),
    }
}

pub(crate) fn log(cli: &Cli, out: &mut Out, command: &LogCommand) -> Result<(), CliError> {
    match command {
        LogCommand::Checkpoint(a) => {
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, a.deployment.as_deref())?;
            let signer = tlog_ops::log_signer(&a.key, a.name.as_deref(), &deployment)?;
            let log = Log::open(&*store, &deployment)?;
            let signed = tlog_ops::sign_checkpoint(&log, &signer)?;
            write_text(out, a.out.as_deref(), &signed.to_text())
        }
        LogCommand::Check { deployment } => {
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, deployment.as_deref())?;
            let size = match lcm_store::log::audit(&*store, &deployment) {
                Ok(size) => size,
                Err(lcm_store::Error::Corrupt { what }) => {
                    return Err(CliError::Verify(one_line(&format!("log: {what}"))));
                }
                Err(e) => return Err(e.into()),
            };
            let root = Log::open(&*store, &deployment)?.root_at(size)?;
            let value = json!({"valid": true, "deployment": deployment, "size": size,
                "root": root.digest().to_string()});
            out.either(cli.json, &value, &format!(
                "log of deployment {deployment}: {size} leaves, every tile recomputed from the receipts, root {}",
                root.digest()
            ))
        }
        LogCommand::Prove(a) => {
            let old = tlog_ops::read_checkpoint_or_header(&a.from)?;
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, a.deployment.as_deref())?;
            let log = Log::open(&*store, &deployment)?;
            let proved = tlog_ops::prove(&log, &old, &a.from)?;
            if cli.json && a.out.is_none() {
                let lines: Vec<String> = format_hash_lines(&proved.proof)
                    .lines()
                    .map(str::to_owned)
                    .collect();
                return out.line(
                    &json!({"old_size": proved.old_size, "new_size": proved.new_size, "proof": lines})
                        .to_string(),
                );
            }
            write_text(out, a.out.as_deref(), &format_hash_lines(&proved.proof))
        }
        LogCommand::Verify(a) => verify(cli, out, a),
        LogCommand::Proof(a) => {
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, a.deployment.as_deref())?;
            let log = Log::open(&*store, &deployment)?;
            let (checkpoint, key) = (a.checkpoint.as_deref(), a.key.as_deref());
            let proof = tlog_ops::receipt_proof(
                &*store,
                &log,
                &a.receipt,
                checkpoint,
                key,
                a.name.as_deref(),
            )?;
            write_text(out, a.out.as_deref(), &proof.to_text())
        }
        LogCommand::VerifyProof(a) => {
            let (digest, proof, verified) = tlog_ops::verify_proof_file(
                &a.file,
                &a.key,
                &a.witness,
                a.quorum,
                a.digest.as_deref(),
            )?;
            let c = verified.checkpoint();
            let value = json!({"valid": true, "digest": digest.to_string(), "index": proof.index,
                "origin": c.origin(), "size": c.size(), "root": c.root().to_string(),
                "witnesses": verified.witnesses().len()});
            out.either(cli.json, &value, &format!(
                "valid proof: receipt {digest} is entry {} of {} (size {}, root {}); {} witnesses cosigned",
                proof.index,
                c.origin(),
                c.size(),
                c.root(),
                verified.witnesses().len()
            ))
        }
        LogCommand::VerifyCapsule(a) => {
            let files = headers::CapsuleFiles::new(
                &a.capsule,
                &a.header,
                &a.key,
                &a.checkpoint,
                &a.log_key,
            )
            .with_witnesses(&a.witness, a.quorum)
            .with_proof(a.proof.as_deref());
            let into = headers::verify_capsule_into(&files)?;
            let c = into.verified.checkpoint();
            let value = json!({"valid": true, "origin": c.origin(), "size": c.size(),
                "header_receipts": into.header_receipts,
                "witnesses": into.verified.witnesses().len()});
            out.either(cli.json, &value, &format!(
                "valid capsule: its header's {} receipts are a state of {} (size {}, {} witnesses): {}",
                into.header_receipts,
                c.origin(),
                c.size(),
                into.verified.witnesses().len(),
                into.outcome
            ))
        }
        LogCommand::ExportTiles(a) => {
            let dir = &a.dir;
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, a.deployment.as_deref())?;
            let signer = tlog_ops::log_signer(&a.key, a.name.as_deref(), &deployment)?;
            let done = tiles::export_tiles(&*store, &deployment, &signer, dir)?;
            let value = json!({"dir": dir.display().to_string(),
                "origin": signer.name().to_string(), "size": done.size, "tiles": done.tiles,
                "entry_bundles": done.bundles});
            out.either(cli.json, &value, &format!(
                "exported the log of {} (size {}): {} tiles, {} entry bundles and the checkpoint in {}",
                signer.name(),
                done.size,
                done.tiles,
                done.bundles,
                dir.display()
            ))
        }
        LogCommand::VerifyTiles(a) => verify_tiles(cli, out, a),
    }
}

fn verify(cli: &Cli, out: &mut Out, a: &LogVerifyArgs) -> Result<(), CliError> {
    let (since, proof, quorum) = (a.since.as_deref(), a.proof.as_deref(), a.quorum);
    let done = tlog_ops::verify_checkpoint(&a.checkpoint, &a.key, &a.witness, quorum, since, proof)
        .or_else(|e| evidence(cli, out, e))?;
    let c = done.verified.checkpoint();
    let verified = &done.verified;
    let witnesses: Vec<String> = verified
        .witnesses()
        .iter()
        .map(|w| w.key.name().to_string())
        .collect();
    let value = json!({"valid": true, "origin": c.origin(), "size": c.size(),
        "root": c.root().to_string(), "log_key": done.log_key.to_string(), "witnesses": witnesses,
        "since": done.since.as_ref().map(|(_, outcome)| outcome.to_string())});
    let mut text = format!(
        "valid checkpoint: origin {}, size {}, root {}\nsigned by {}; {} of {} witnesses \
         cosigned (quorum {quorum})",
        c.origin(),
        c.size(),
        c.root(),
        done.log_key.name(),
        witnesses.len(),
        done.witnesses
    );
    if let Some((old, outcome)) = &done.since {
        let size = old.checkpoint().size();
        let _ = write!(
            text,
            "\n{} the checkpoint of size {size}",
            relation(outcome)
        );
    }
    out.either(cli.json, &value, &text)
}

/// Prints both signed checkpoints of a fork or rollback (an [`OpsError::Diverged`]) on
/// standard output; returns the error as the CLI's.
fn evidence<T>(cli: &Cli, out: &mut Out, e: OpsError) -> Result<T, CliError> {
    let OpsError::Diverged {
        word, older, newer, ..
    } = &e
    else {
        return Err(e.into());
    };
    let (old, new): (&(std::path::PathBuf, SignedCheckpoint), _) = (older, newer);
    if cli.json {
        out.line(
            &json!({
                "valid": false,
                "reason": word,
                "older": {"file": old.0.display().to_string(), "checkpoint": old.1.to_text()},
                "newer": {"file": new.0.display().to_string(), "checkpoint": new.1.to_text()},
            })
            .to_string(),
        )?;
    } else {
        for (label, (path, signed)) in [("older", old), ("newer", &**new)] {
            out.line(&format!(
                "{word} evidence, {label} signed checkpoint ({}):",
                path.display()
            ))?;
            out.raw(signed.to_text().as_bytes())?;
        }
    }
    Err(e.into())
}

fn verify_tiles(cli: &Cli, out: &mut Out, a: &VerifyTilesArgs) -> Result<(), CliError> {
    let entry = a.digest.as_deref().zip(a.index);
    let done = tiles::verify_tiles(&a.dir, &a.key, a.since.as_deref(), entry)
        .or_else(|e| evidence(cli, out, e))?;
    let c = done.checkpoint.checkpoint();
    let (size, root) = (c.size(), done.root);
    let value = json!({"valid": true, "origin": c.origin(), "size": size,
        "root": root.to_string(), "tiles": done.tiles});
    let mut text = format!(
        "valid tiles: {} size {size}, root {root}, {} tiles and their entries checked",
        c.origin(),
        done.tiles
    );
    if let Some((m, result)) = &done.since {
        let _ = write!(text, "\n{} the checkpoint of size {m}", relation(result));
    }
    if let Some((digest, index)) = done.entry {
        let _ = write!(text, "\nreceipt {digest} is entry {index}");
    }
    out.either(cli.json, &value, &text)
}

/// `lcm verify NEW --header OLD` for two headers (see
/// [`lcm_store::tlog_ops::headers::compare_headers`]). Returns the line to print; a fork or
/// rollback prints both headers' receipt states as evidence and fails with exit 1.
pub(crate) fn compare_headers(
    cli: &Cli,
    out: &mut Out,
    new: &lcm_capsule::CapsuleHeader,
    old_path: &Path,
    proof: Option<&Path>,
    key: &lcm_crypto::VerifyingKey,
) -> Result<String, CliError> {
    match headers::compare_headers(new, old_path, proof, key, &cli.store) {
        Ok(done) => Ok(format!(
            "receipt log {} the header {} ({} receipts -> {})",
            if matches!(done.outcome, Consistency::Same) {
                "is the same as"
            } else {
                "extends"
            },
            old_path.display(),
            done.old_size,
            done.new_size
        )),
        Err(OpsError::HeadersDiverged(e)) => {
            let (word, older, newer) = (e.word, &e.older, &e.newer);
            if cli.json {
                out.line(
                    &json!({"valid": false, "reason": word, "older": older, "newer": newer})
                        .to_string(),
                )?;
            } else {
                out.line(&format!(
                    "{word} evidence, older signed header {}: {older}",
                    e.older_file.display()
                ))?;
                out.line(&format!("{word} evidence, newer signed header: {newer}"))?;
            }
            Err(CliError::Verify(e.message))
        }
        Err(e) => Err(e.into()),
    }
}
