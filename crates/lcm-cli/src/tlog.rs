//! The transparency-log commands: `lcm log checkpoint|check|prove|verify|proof|verify-proof|
//! verify-capsule|export-tiles|verify-tiles` (`lcm witness cosign` is [`crate::witness`]). The
//! operations are `lcm_store::tlog_ops`'s (formats and checks `lcm_tlog`'s, the log
//! `lcm_store::log`'s): these functions pass arguments, print and map errors to exit codes.
//!
//! Exit codes follow the binary's: 1 when a signature, quorum, consistency or inclusion check
//! fails (the reason first: `signature`, `quorum`, `fork`, `rollback`, `origin`,
//! `inclusion`), 2 for malformed input.

use std::path::Path;

use lcm_store::log::Log;
use lcm_store::tlog_ops::{self, OpsError, headers, tiles};
use lcm_store::{Store, export};
use lcm_tlog::consistency::format_hash_lines;

use crate::cli::{Cli, LogCommand, LogVerifyArgs, VerifyTilesArgs};
use crate::error::CliError;
use crate::io::open;
use crate::io::{Out, file_err};

/// Writes `text` (which ends with its own newline) to `path`, or without one to standard
/// output; with `--json`, standard output is instead the object `value` makes.
fn written(
    cli: &Cli,
    out: &mut Out,
    path: Option<&Path>,
    text: &str,
    value: impl FnOnce() -> serde_json::Value,
) -> Result<(), CliError> {
    if let Some(p) = path {
        std::fs::write(p, text).map_err(file_err(p))?;
    }
    match (cli.json, path) {
        (true, _) => out.line(&value().to_string()),
        (false, None) => out.raw(text.as_bytes()),
        (false, Some(_)) => Ok(()),
    }
}

/// The deployment whose chain's log `deployment` (`--deployment`) means, and the store.
fn chain(cli: &Cli, deployment: Option<&str>) -> Result<(String, Box<dyn Store>), CliError> {
    open(cli).and_then(|store| Ok((export::chain_of(&*store, deployment)?, store)))
}

pub(crate) fn log(cli: &Cli, out: &mut Out, command: &LogCommand) -> Result<(), CliError> {
    match command {
        LogCommand::Checkpoint(a) => {
            let (deployment, store) = chain(cli, a.deployment.as_deref())?;
            let signer = tlog_ops::log_signer(&a.key, a.name.as_deref(), &deployment)?;
            let log = Log::open(&*store, &deployment)?;
            let signed = tlog_ops::sign_checkpoint(&log, &signer)?;
            written(cli, out, a.out.as_deref(), &signed.to_text(), || {
                tlog_ops::checkpoint_json(&signed, a.out.as_deref())
            })
        }
        LogCommand::Check { deployment } => {
            let (deployment, store) = chain(cli, deployment.as_deref())?;
            let (value, text) = tiles::check_log(&*store, &deployment)?.summary();
            out.either(cli.json, &value, &text)
        }
        LogCommand::Prove(a) => {
            let old = tlog_ops::read_checkpoint_or_header(&a.from)?;
            let (deployment, store) = chain(cli, a.deployment.as_deref())?;
            let log = Log::open(&*store, &deployment)?;
            let proved = tlog_ops::prove(&log, &old, &a.from)?;
            let text = format_hash_lines(&proved.proof);
            written(cli, out, a.out.as_deref(), &text, || {
                proved.to_json(a.out.as_deref())
            })
        }
        LogCommand::Verify(a) => verify(cli, out, a),
        LogCommand::Proof(a) => {
            let (deployment, store) = chain(cli, a.deployment.as_deref())?;
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
            written(cli, out, a.out.as_deref(), &proof.to_text(), || {
                tlog_ops::receipt_proof_json(&a.receipt, &proof, a.out.as_deref())
            })
        }
        LogCommand::VerifyProof(a) => {
            let (digest, proof, verified) = tlog_ops::verify_proof_file(
                &a.file,
                &a.key,
                &a.witnesses.witness,
                a.witnesses.quorum,
                a.digest.as_deref(),
            )?;
            let (value, text) = tlog_ops::proof_summary(&digest, &proof, &verified);
            out.either(cli.json, &value, &text)
        }
        LogCommand::VerifyCapsule(a) => {
            let files = headers::CapsuleFiles::new(
                &a.capsule,
                &a.header,
                &a.key,
                &a.checkpoint,
                &a.log_key,
            )
            .with_witnesses(&a.witnesses.witness, a.witnesses.quorum)
            .with_proof(a.proof.as_deref());
            let (value, text) = headers::verify_capsule_into(&files)?.summary();
            out.either(cli.json, &value, &text)
        }
        LogCommand::ExportTiles(a) => {
            let dir = &a.dir;
            let (deployment, store) = chain(cli, a.deployment.as_deref())?;
            let signer = tlog_ops::log_signer(&a.key, a.name.as_deref(), &deployment)?;
            let done = tiles::export_tiles(&*store, &deployment, &signer, dir)?;
            let (value, text) = done.summary(dir, &signer.name().to_string());
            out.either(cli.json, &value, &text)
        }
        LogCommand::VerifyTiles(a) => verify_tiles(cli, out, a),
    }
}

fn verify(cli: &Cli, out: &mut Out, a: &LogVerifyArgs) -> Result<(), CliError> {
    let (since, proof, quorum) = (a.since.as_deref(), a.proof.as_deref(), a.witnesses.quorum);
    let witnesses = &a.witnesses.witness;
    let done = tlog_ops::verify_checkpoint(&a.checkpoint, &a.key, witnesses, quorum, since, proof)
        .or_else(|e| evidence(cli, out, e))?;
    let (value, text) = done.summary(quorum);
    out.either(cli.json, &value, &text)
}

/// Prints the evidence of a fork or rollback ([`OpsError::evidence`]) on standard output;
/// returns the error as the CLI's.
fn evidence<T>(cli: &Cli, out: &mut Out, e: OpsError) -> Result<T, CliError> {
    if let Some(text) = e.evidence(cli.json) {
        out.raw(text.as_bytes())?;
    }
    Err(e.into())
}

fn verify_tiles(cli: &Cli, out: &mut Out, a: &VerifyTilesArgs) -> Result<(), CliError> {
    let entry = a.digest.as_deref().zip(a.index);
    let done = tiles::verify_tiles(&a.dir, &a.key, a.since.as_deref(), entry)
        .or_else(|e| evidence(cli, out, e))?;
    let (value, text) = done.summary();
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
        Ok(done) => Ok(done.summary(old_path)),
        Err(e) => evidence(cli, out, e),
    }
}
