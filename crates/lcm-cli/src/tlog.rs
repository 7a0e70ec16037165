//! The transparency-log commands: `lcm log checkpoint|check|prove|verify|proof|verify-proof|
//! verify-capsule|export-tiles|verify-tiles` (`lcm witness cosign` is [`crate::witness`]). The formats and checks are
//! `lcm_tlog`'s, the log itself `lcm_store::log`'s: these functions read arguments, files and
//! keys, and print.
//!
//! Exit codes follow the binary's: 1 when a signature, quorum, consistency or inclusion check
//! fails (the reason first: `signature`, `quorum`, `fork`, `rollback`, `origin`,
//! `inclusion`), 2 for malformed input.

use std::path::{Path, PathBuf};

use lcm_crypto::Digest;
use lcm_crypto::merkle::verify_inclusion;
use lcm_store::export;
use lcm_store::log::{Log, leaf_hash};
use lcm_tlog::consistency::{Consistency, classify, format_hash_lines, parse_hash_lines};
use lcm_tlog::note::{KeyName, SignatureType, SignerKey, VerifierKey};
use lcm_tlog::proof::TlogProof;
use lcm_tlog::tiles::{self, Tile, TileReader};
use lcm_tlog::{Checkpoint, Policy, SignedCheckpoint, VerifyError};
use serde_json::json;

use crate::cli::{Cli, LogCommand};
use crate::commands::open;
use crate::error::{CliError, input, one_line};
use crate::io::{Out, file_err, read_file, read_signing_key};

/// The prefix of an origin lcm picks when none is named: `lcm.local/DEPLOYMENT`.
pub(crate) const DEFAULT_ORIGIN_PREFIX: &str = "lcm.local/";

/// The C2SP verifier key file next to a private key file `path`: `PATH.vkey`.
pub(crate) fn vkey_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".vkey");
    s.into()
}

pub(crate) fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| input(format!("{}: not UTF-8 text", path.display())))
}

/// A verifier key given as its text or as a file holding it (one line).
pub(crate) fn parse_vkey(arg: &str) -> Result<VerifierKey, CliError> {
    if let Ok(key) = VerifierKey::parse(arg) {
        return Ok(key);
    }
    let path = Path::new(arg);
    if !path.exists() {
        // Neither a key nor a file: the key's own parse error says why.
        return VerifierKey::parse(arg)
            .map_err(|e| input(format!("{arg:?} is not a verifier key nor a file: {e}")));
    }
    let text = read_text(path)?;
    VerifierKey::parse(text.trim_end_matches('\n')).map_err(|e| {
        input(format!(
            "{}: expected a C2SP verifier key: {e}",
            path.display()
        ))
    })
}

/// The (unsigned) checkpoint of a signed checkpoint file, or of a capsule header's receipts
/// (origin `lcm.local/DEPLOYMENT`, its receipt count and receipts root).
fn read_checkpoint_or_header(path: &Path) -> Result<Checkpoint, CliError> {
    let bytes = read_file(path)?;
    if let Ok(signed) = SignedCheckpoint::parse(&bytes) {
        return Ok(signed.checkpoint().clone());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| input(format!("{}: not UTF-8 text", path.display())))?;
    let header = lcm_capsule::CapsuleHeader::from_json(&text).map_err(|e| {
        input(format!(
            "{}: neither a signed checkpoint nor a capsule header: {e}",
            path.display()
        ))
    })?;
    header_checkpoint(&header, None, &path.display().to_string())
}

/// A header's receipts as a checkpoint of its chain's log: `origin` (default
/// `lcm.local/DEPLOYMENT`), its receipt count and receipts root.
fn header_checkpoint(
    header: &lcm_capsule::CapsuleHeader,
    origin: Option<&str>,
    what: &str,
) -> Result<Checkpoint, CliError> {
    let (Some(d), Some(g)) = (&header.stage_e_deployment, &header.stage_g_inference) else {
        return Err(input(format!("{what} has no deployment and receipts")));
    };
    if header.policy.hash_algorithm != lcm_store::log::LOG_ALGORITHM {
        return Err(input(format!(
            "{what} is under a non-SHA-256 policy: its receipts root is not a C2SP log root"
        )));
    }
    let origin = origin.map_or_else(
        || format!("{DEFAULT_ORIGIN_PREFIX}{}", d.deployment_id),
        str::to_owned,
    );
    Checkpoint::new(&origin, g.receipt_count, g.receipts_root)
        .map_err(|e| input(format!("checkpoint: {e}")))
}

pub(crate) fn read_checkpoint(path: &Path) -> Result<SignedCheckpoint, CliError> {
    SignedCheckpoint::parse(&read_file(path)?)
        .map_err(|e| input(format!("{}: not a signed checkpoint: {e}", path.display())))
}

/// The signer of `kind` in the key file `path`: a C2SP signer key (`PRIVATE+KEY+...`, whose
/// name `name` must match when given), or an `lcm keygen` key file named `name`, else the
/// name of its `PATH.vkey` (which must hold the same public key), else `default_name`.
pub(crate) fn read_signer(
    path: &Path,
    kind: SignatureType,
    name: Option<&str>,
    default_name: &dyn Fn() -> String,
) -> Result<SignerKey, CliError> {
    let mut text = read_text(path)?;
    let parsed = if text.starts_with("PRIVATE+KEY+") {
        let signer = SignerKey::parse(text.trim_end_matches('\n'))
            .map_err(|e| input(format!("{}: not a C2SP signer key: {e}", path.display())));
        zeroize::Zeroize::zeroize(&mut text);
        let signer = signer?;
        if signer.kind() != kind {
            return Err(input(format!(
                "{}: a signer key of type {:?}, expected {kind:?}",
                path.display(),
                signer.kind()
            )));
        }
        if let Some(name) = name
            && name != signer.name().as_str()
        {
            return Err(input(format!(
                "--name {name}, but the signer key {} is named {}",
                path.display(),
                signer.name()
            )));
        }
        return Ok(signer);
    } else {
        zeroize::Zeroize::zeroize(&mut text);
        read_signing_key(path)?
    };
    let vkey_file = vkey_path(path);
    let vkey = if vkey_file.exists() {
        let text = read_text(&vkey_file)?;
        let vkey = VerifierKey::parse(text.trim_end_matches('\n')).map_err(|e| {
            input(format!(
                "{}: expected a C2SP verifier key: {e}",
                vkey_file.display()
            ))
        })?;
        if *vkey.public_key() != parsed.verifying_key() {
            return Err(input(format!(
                "{} is not the verifier key of {}",
                vkey_file.display(),
                path.display()
            )));
        }
        Some(vkey)
    } else {
        None
    };
    let name = match (name, &vkey) {
        (Some(n), _) => n.to_owned(),
        (None, Some(v)) => v.name().to_string(),
        (None, None) => default_name(),
    };
    let name = KeyName::new(&name).map_err(|e| input(format!("key name {name:?}: {e}")))?;
    Ok(SignerKey::new(name, kind, parsed))
}

/// The log signer for a chain: the origin is the key's name.
fn log_signer(key: &Path, name: Option<&str>, deployment: &str) -> Result<SignerKey, CliError> {
    read_signer(key, SignatureType::Ed25519, name, &|| {
        format!("{DEFAULT_ORIGIN_PREFIX}{deployment}")
    })
}

/// The signed checkpoint of `log` at its current size, with `signer`'s name as origin.
fn sign_checkpoint(log: &Log<'_>, signer: &SignerKey) -> Result<SignedCheckpoint, CliError> {
    let root = log.root()?;
    let checkpoint = Checkpoint::new(signer.name().as_str(), log.size(), *root.digest())
        .map_err(|e| input(format!("checkpoint: {e}")))?;
    checkpoint
        .sign(signer)
        .map_err(|e| input(format!("signing the checkpoint: {e}")))
}

/// Writes `text` (which ends with its own newline) to `path` or standard output.
fn write_text(out: &mut Out, path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(file_err(p)),
        None => out.raw(text.as_bytes()),
    }
}

fn parse_digest(text: &str, what: &str) -> Result<Digest, CliError> {
    Digest::from_hex(text).map_err(|e| input(format!("{what}: {e}")))
}

fn witnesses(keys: &[String]) -> Result<Vec<VerifierKey>, CliError> {
    keys.iter().map(|k| parse_vkey(k)).collect()
}

/// How a consistent newer checkpoint relates to an older one, in words.
fn relation(outcome: &Consistency) -> &'static str {
    if matches!(outcome, Consistency::Same) {
        "is the same as"
    } else {
        "extends"
    }
}

/// The reason word of a failed checkpoint verification.
fn reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::Quorum { .. } => "quorum",
        VerifyError::OriginMismatch { .. } => "origin",
        VerifyError::Inclusion(_) => "inclusion",
        VerifyError::NotExtending { outcome, .. } => match outcome {
            Consistency::Rollback { .. } => "rollback",
            _ => "fork",
        },
        _ => "signature",
    }
}

fn failed(e: &VerifyError) -> CliError {
    CliError::Verify(one_line(&format!("{}: {e}", reason(e))))
}

pub(crate) fn log(cli: &Cli, out: &mut Out, command: &LogCommand) -> Result<(), CliError> {
    match command {
        LogCommand::Checkpoint {
            deployment,
            key,
            name,
            out: path,
        } => {
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, deployment.as_deref())?;
            let signer = log_signer(key, name.as_deref(), &deployment)?;
            let log = Log::open(&*store, &deployment)?;
            let signed = sign_checkpoint(&log, &signer)?;
            write_text(out, path.as_deref(), &signed.to_text())
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
            if cli.json {
                return out.line(
                    &json!({"valid": true, "deployment": deployment, "size": size,
                        "root": root.digest().to_string()})
                    .to_string(),
                );
            }
            out.line(&format!(
                "log of deployment {deployment}: {size} leaves, every tile recomputed from the receipts, root {}",
                root.digest()
            ))
        }
        LogCommand::Prove {
            from,
            deployment,
            out: path,
        } => prove(cli, out, from, deployment.as_deref(), path.as_deref()),
        LogCommand::Verify {
            checkpoint,
            key,
            since,
            proof,
            witness,
            quorum,
        } => verify(
            cli,
            out,
            checkpoint,
            key,
            since.as_deref(),
            proof.as_deref(),
            witness,
            *quorum,
        ),
        LogCommand::Proof {
            receipt,
            key,
            name,
            checkpoint,
            deployment,
            out: path,
        } => {
            let store = open(cli)?;
            let deployment = export::chain_of(&*store, deployment.as_deref())?;
            let stored = store.receipt(&deployment, receipt)?.ok_or_else(|| {
                lcm_store::Error::NoReceipt {
                    deployment: deployment.clone(),
                    receipt_id: receipt.clone(),
                }
            })?;
            let log = Log::open(&*store, &deployment)?;
            let signed = match (checkpoint, key) {
                (Some(file), _) => {
                    let signed = read_checkpoint(file)?;
                    let c = signed.checkpoint();
                    if c.size() > log.size() || log.root_at(c.size())?.digest() != c.root() {
                        return Err(CliError::Verify(format!(
                            "fork: {} (size {}) is not a state of the log of deployment {deployment} (size {})",
                            file.display(),
                            c.size(),
                            log.size()
                        )));
                    }
                    signed
                }
                (None, Some(key)) => {
                    sign_checkpoint(&log, &log_signer(key, name.as_deref(), &deployment)?)?
                }
                (None, None) => return Err(input("pass --key or --checkpoint")),
            };
            let size = signed.checkpoint().size();
            if stored.sequence >= size {
                return Err(input(format!(
                    "receipt {receipt} (sequence {}) is not in the checkpoint of size {size}",
                    stored.sequence
                )));
            }
            let path_hashes = log.inclusion_proof(stored.sequence, size)?.into_path();
            let proof = TlogProof {
                extra: Some(stored.digest.as_bytes().to_vec()),
                index: stored.sequence,
                path: path_hashes,
                checkpoint: signed,
            };
            write_text(out, path.as_deref(), &proof.to_text())
        }
        LogCommand::VerifyProof {
            file,
            key,
            witness,
            quorum,
            digest,
        } => verify_proof(cli, out, file, key, witness, *quorum, digest.as_deref()),
        LogCommand::VerifyCapsule {
            capsule,
            header,
            key,
            checkpoint,
            log_key,
            proof,
            witness,
            quorum,
        } => verify_capsule_into(
            cli,
            out,
            &CapsuleArgs {
                capsule,
                header,
                key,
                checkpoint,
                log_key,
                proof: proof.as_deref(),
                witness,
                quorum: *quorum,
            },
        ),
        LogCommand::ExportTiles {
            dir,
            deployment,
            key,
            name,
        } => export_tiles(cli, out, dir, deployment.as_deref(), key, name.as_deref()),
        LogCommand::VerifyTiles {
            dir,
            key,
            since,
            digest,
            index,
        } => verify_tiles(
            cli,
            out,
            dir,
            key,
            since.as_deref(),
            digest.as_deref().zip(*index),
        ),
    }
}

fn prove(
    cli: &Cli,
    out: &mut Out,
    from: &Path,
    deployment: Option<&str>,
    path: Option<&Path>,
) -> Result<(), CliError> {
    let old = read_checkpoint_or_header(from)?;
    let old = &old;
    let store = open(cli)?;
    let deployment = export::chain_of(&*store, deployment)?;
    let log = Log::open(&*store, &deployment)?;
    if old.size() > log.size() {
        return Err(CliError::Verify(format!(
            "rollback: {} has size {}, the log of deployment {deployment} only {}",
            from.display(),
            old.size(),
            log.size()
        )));
    }
    let proof = if old.size() == 0 {
        Vec::new()
    } else {
        let ours = log.root_at(old.size())?;
        if ours.digest() != old.root() {
            return Err(CliError::Verify(format!(
                "fork: at size {} {} has root {}, the log of deployment {deployment} {}",
                old.size(),
                from.display(),
                old.root(),
                ours.digest()
            )));
        }
        log.consistency_proof(old.size(), log.size())?
    };
    if cli.json && path.is_none() {
        let lines: Vec<String> = format_hash_lines(&proof)
            .lines()
            .map(str::to_owned)
            .collect();
        return out.line(
            &json!({"old_size": old.size(), "new_size": log.size(), "proof": lines}).to_string(),
        );
    }
    write_text(out, path, &format_hash_lines(&proof))
}

#[allow(clippy::too_many_arguments)]
fn verify(
    cli: &Cli,
    out: &mut Out,
    checkpoint: &Path,
    key: &str,
    since: Option<&Path>,
    proof: Option<&Path>,
    witness_keys: &[String],
    quorum: usize,
) -> Result<(), CliError> {
    let signed = read_checkpoint(checkpoint)?;
    let log_key = parse_vkey(key)?;
    let witness_keys = witnesses(witness_keys)?;
    let old = since.map(read_checkpoint).transpose()?;
    let proof = proof
        .map(|p| {
            parse_hash_lines(&read_text(p)?)
                .map_err(|e| input(format!("{}: not a consistency proof: {e}", p.display())))
        })
        .transpose()?;
    let policy = Policy::new(log_key.clone()).with_witnesses(witness_keys.clone(), quorum);
    let verified = policy.verify(&signed).map_err(|e| failed(&e))?;
    let mut outcome = None;
    if let (Some(old), Some(since)) = (&old, since) {
        Policy::new(log_key.clone()).verify(old).map_err(|e| {
            CliError::Verify(one_line(&format!("signature: {}: {e}", since.display())))
        })?;
        let result = classify(old.checkpoint(), signed.checkpoint(), proof.as_deref())
            .map_err(|e| CliError::Verify(one_line(&format!("origin: {e}"))))?;
        if !result.is_consistent() {
            let word = if matches!(result, Consistency::Rollback { .. }) {
                "rollback"
            } else {
                "fork"
            };
            evidence(cli, out, word, (since, old), (checkpoint, &signed))?;
            return Err(CliError::Verify(one_line(&format!(
                "{word}: {} (size {}) does not extend {} (size {}): {result}",
                checkpoint.display(),
                signed.checkpoint().size(),
                since.display(),
                old.checkpoint().size()
            ))));
        }
        outcome = Some(result);
    }
    let c = verified.checkpoint();
    if cli.json {
        return out.line(
            &json!({
                "valid": true,
                "origin": c.origin(),
                "size": c.size(),
                "root": c.root().to_string(),
                "log_key": log_key.to_string(),
                "witnesses": verified.witnesses().iter().map(|w| w.key.name().to_string()).collect::<Vec<_>>(),
                "since": outcome.as_ref().map(ToString::to_string),
            })
            .to_string(),
        );
    }
    out.line(&format!(
        "valid checkpoint: origin {}, size {}, root {}",
        c.origin(),
        c.size(),
        c.root()
    ))?;
    out.line(&format!(
        "signed by {}; {} of {} witnesses cosigned (quorum {quorum})",
        log_key.name(),
        verified.witnesses().len(),
        witness_keys.len()
    ))?;
    if let (Some(outcome), Some(old)) = (outcome, &old) {
        out.line(&format!(
            "{} the checkpoint of size {}",
            relation(&outcome),
            old.checkpoint().size()
        ))?;
    }
    Ok(())
}

/// Prints both signed checkpoints of a fork or rollback on standard output.
fn evidence(
    cli: &Cli,
    out: &mut Out,
    word: &str,
    old: (&Path, &SignedCheckpoint),
    new: (&Path, &SignedCheckpoint),
) -> Result<(), CliError> {
    if cli.json {
        return out.line(
            &json!({
                "valid": false,
                "reason": word,
                "older": {"file": old.0.display().to_string(), "checkpoint": old.1.to_text()},
                "newer": {"file": new.0.display().to_string(), "checkpoint": new.1.to_text()},
            })
            .to_string(),
        );
    }
    for (label, (path, signed)) in [("older", old), ("newer", new)] {
        out.line(&format!(
            "{word} evidence, {label} signed checkpoint ({}):",
            path.display()
        ))?;
        out.raw(signed.to_text().as_bytes())?;
    }
    Ok(())
}

fn verify_proof(
    cli: &Cli,
    out: &mut Out,
    file: &Path,
    key: &str,
    witness_keys: &[String],
    quorum: usize,
    digest: Option<&str>,
) -> Result<(), CliError> {
    let proof = TlogProof::parse(&read_file(file)?)
        .map_err(|e| input(format!("{}: not a tlog-proof: {e}", file.display())))?;
    let log_key = parse_vkey(key)?;
    let witness_keys = witnesses(witness_keys)?;
    let digest = match (digest, &proof.extra) {
        (Some(text), _) => parse_digest(text, "--digest")?,
        (None, Some(extra)) => {
            let bytes: [u8; 32] = extra.as_slice().try_into().map_err(|_| {
                input(format!(
                    "{}: the extra line holds {} bytes, not a 32-byte receipt digest (pass --digest)",
                    file.display(),
                    extra.len()
                ))
            })?;
            Digest::from_bytes(bytes)
        }
        (None, None) => {
            return Err(input(format!(
                "{}: no extra line with the receipt digest: pass --digest",
                file.display()
            )));
        }
    };
    let policy = Policy::new(log_key).with_witnesses(witness_keys, quorum);
    let verified = proof
        .verify(&leaf_hash(&digest), &policy)
        .map_err(|e| failed(&e))?;
    let c = verified.checkpoint();
    if cli.json {
        return out.line(
            &json!({"valid": true, "digest": digest.to_string(), "index": proof.index,
                "origin": c.origin(), "size": c.size(), "root": c.root().to_string(),
                "witnesses": verified.witnesses().len()})
            .to_string(),
        );
    }
    out.line(&format!(
        "valid proof: receipt {digest} is entry {} of {} (size {}, root {}); {} witnesses cosigned",
        proof.index,
        c.origin(),
        c.size(),
        c.root(),
        verified.witnesses().len()
    ))
}

/// Writes `bytes` at `dir/rel`, creating the directories.
fn write_static(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), CliError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_err(parent))?;
    }
    std::fs::write(&path, bytes).map_err(file_err(&path))
}

fn hash_bytes(hashes: &[Digest]) -> Vec<u8> {
    hashes.iter().flat_map(|h| *h.as_bytes()).collect()
}

fn export_tiles(
    cli: &Cli,
    out: &mut Out,
    dir: &Path,
    deployment: Option<&str>,
    key: &Path,
    name: Option<&str>,
) -> Result<(), CliError> {
    let store = open(cli)?;
    let deployment = export::chain_of(&*store, deployment)?;
    let signer = log_signer(key, name, &deployment)?;
    let log = Log::open(&*store, &deployment)?;
    let size = log.size();
    let signed = sign_checkpoint(&log, &signer)?;
    let mut count = 0u64;
    // The tiles of every level; memory is one tile at a time.
    for level in Tile::levels(size) {
        let partial = Tile::partial(level, size);
        let full = (0..Tile::full_count(level, size))
            .map(|i| Tile::new(level, i, tiles::TILE_WIDTH))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| input(format!("tile: {e}")))?;
        for tile in full.into_iter().chain(partial) {
            write_static(dir, &tile.path(), &hash_bytes(&log.tile(tile)?))?;
            count += 1;
        }
    }
    // The entry bundles (each entry a receipt digest), streamed from the chain in order.
    let mut bundle: Vec<Digest> = Vec::with_capacity(256);
    let mut first = 0u64;
    let mut bundles = 0u64;
    let mut flush = |bundle: &mut Vec<Digest>, first: u64| -> Result<(), CliError> {
        if bundle.is_empty() {
            return Ok(());
        }
        let width = u16::try_from(bundle.len()).unwrap_or(tiles::TILE_WIDTH);
        let tile = Tile::new(0, first / 256, width).map_err(|e| input(format!("tile: {e}")))?;
        let entries: Vec<&[u8]> = bundle.iter().map(|d| d.as_bytes().as_slice()).collect();
        let bytes = tiles::encode_entry_bundle(&entries).map_err(|e| input(format!("{e}")))?;
        write_static(dir, &tile.entries_path(), &bytes)?;
        bundles += 1;
        bundle.clear();
        Ok(())
    };
    if size > 0 {
        let mut failure = None;
        store
            .scan_receipts(&deployment, 0, Some(size - 1), &mut |r| {
                bundle.push(r.digest);
                if bundle.len() == 256 {
                    if let Err(e) = flush(&mut bundle, first) {
                        failure = Some(e);
                        return Err(lcm_store::Error::Corrupt {
                            what: "export stopped".to_owned(),
                        });
                    }
                    first += 256;
                }
                Ok(())
            })
            .map_err(|e| failure.take().unwrap_or_else(|| e.into()))?;
        flush(&mut bundle, first)?;
    }
    write_static(dir, "checkpoint", signed.to_text().as_bytes())?;
    if cli.json {
        return out.line(
            &json!({"dir": dir.display().to_string(), "origin": signer.name().to_string(),
                "size": size, "tiles": count, "entry_bundles": bundles})
            .to_string(),
        );
    }
    out.line(&format!(
        "exported the log of {} (size {size}): {count} tiles, {bundles} entry bundles and the checkpoint in {}",
        signer.name(),
        dir.display()
    ))
}

/// Reads a tile of a tlog-tiles directory: the partial tile's own file, or the full tile's
/// first `width` hashes (a directory written at a larger size).
fn read_dir_tile(dir: &Path, tile: Tile) -> Result<Vec<Digest>, CliError> {
    let own = dir.join(tile.path());
    let path = if own.exists() || tile.is_full() {
        own
    } else {
        let full = Tile::new(tile.level(), tile.index(), tiles::TILE_WIDTH)
            .map_err(|e| input(format!("tile: {e}")))?;
        dir.join(full.path())
    };
    let bytes = read_file(&path)?;
    let width = usize::from(tile.width());
    if bytes.len() % 32 != 0 || bytes.len() < width * 32 {
        return Err(CliError::Verify(format!(
            "tiles: {} holds {} bytes, expected {} hashes",
            path.display(),
            bytes.len(),
            width
        )));
    }
    bytes[..width * 32]
        .chunks_exact(32)
        .map(|c| {
            let a: [u8; 32] = c.try_into().map_err(|_| input("tile hash"))?;
            Ok(Digest::from_bytes(a))
        })
        .collect()
}

/// The tile at `level` and `index` of a tree of `size` leaves.
fn tile_at(level: u8, index: u64, size: u64) -> Result<Tile, CliError> {
    let full = Tile::full_count(level, size);
    let tile = if index < full {
        Tile::new(level, index, tiles::TILE_WIDTH)
    } else {
        Tile::partial(level, size).ok_or_else(|| {
            lcm_tlog::Error::from(lcm_crypto::Error::IndexOutOfRange { index, size })
        })
    };
    tile.map_err(|e| input(format!("tile: {e}")))
}

fn verify_tiles(
    cli: &Cli,
    out: &mut Out,
    dir: &Path,
    key: &str,
    since: Option<&Path>,
    entry: Option<(&str, u64)>,
) -> Result<(), CliError> {
    let checkpoint_path = dir.join("checkpoint");
    let signed = read_checkpoint(&checkpoint_path)?;
    let log_key = parse_vkey(key)?;
    let policy = Policy::new(log_key);
    policy.verify(&signed).map_err(|e| failed(&e))?;
    let c = signed.checkpoint();
    let size = c.size();
    // Every tile against the level below (level 0 against the entries): the whole log, one
    // tile and one entry bundle in memory at a time.
    let mut tiles_checked = 0u64;
    for level in Tile::levels(size) {
        let count = Tile::full_count(level, size) + u64::from(Tile::partial(level, size).is_some());
        for index in 0..count {
            let tile = tile_at(level, index, size)?;
            let hashes = read_dir_tile(dir, tile)?;
            for (i, hash) in hashes.iter().enumerate() {
                let expected = if level == 0 {
                    None
                } else {
                    let below = tile_at(level - 1, index * 256 + i as u64, size)?;
                    Some(
                        tiles::subtree_root(&read_dir_tile(dir, below)?)
                            .map_err(|e| input(format!("{e}")))?,
                    )
                };
                if let Some(expected) = expected
                    && expected != *hash
                {
                    return Err(CliError::Verify(format!(
                        "tiles: hash {i} of {tile} is not the root of the tile below it"
                    )));
                }
            }
            if level == 0 {
                let path = dir.join(tile.entries_path());
                let own = if path.exists() {
                    path
                } else {
                    dir.join(
                        Tile::new(0, index, tiles::TILE_WIDTH)
                            .map_err(|e| input(format!("{e}")))?
                            .entries_path(),
                    )
                };
                let bytes = read_file(&own)?;
                let entries = tiles::decode_entry_bundle(&bytes)
                    .map_err(|e| input(format!("{}: {e}", own.display())))?;
                if entries.len() < hashes.len() {
                    return Err(CliError::Verify(format!(
                        "tiles: {} has {} entries, its tile {} hashes",
                        own.display(),
                        entries.len(),
                        hashes.len()
                    )));
                }
                for (i, (entry, hash)) in entries.iter().zip(&hashes).enumerate() {
                    let leaf = lcm_crypto::merkle::leaf_hash(lcm_store::log::LOG_ALGORITHM, entry);
                    if leaf != *hash {
                        return Err(CliError::Verify(format!(
                            "tiles: entry {i} of {} does not hash to its tile's leaf",
                            own.display()
                        )));
                    }
                }
            }
            tiles_checked += 1;
        }
    }
    let mut reader = TileReader::new(size, |t: Tile| {
        read_dir_tile(dir, t).map_err(TileError::from)
    });
    let mut read = |l: u8, i: u64| -> Result<Digest, TileError> { reader.read_hash(l, i) };
    let root = tiles::root(size, &mut read).map_err(|e| e.0)?;
    if root != *c.root() {
        return Err(CliError::Verify(format!(
            "tiles: the tiles' root {root} is not the checkpoint's {}",
            c.root()
        )));
    }
    let mut lines = vec![format!(
        "valid tiles: {} size {size}, root {root}, {tiles_checked} tiles and their entries checked",
        c.origin()
    )];
    if let Some(since) = since {
        let old = read_checkpoint(since)?;
        policy.verify(&old).map_err(|e| {
            CliError::Verify(one_line(&format!("signature: {}: {e}", since.display())))
        })?;
        let (m, n) = (old.checkpoint().size(), size);
        let proof = if m > 0 && m < n {
            Some(tiles::consistency_proof(m, n, &mut read).map_err(|e| e.0)?)
        } else {
            None
        };
        let result = classify(old.checkpoint(), c, proof.as_deref())
            .map_err(|e| CliError::Verify(one_line(&format!("origin: {e}"))))?;
        if !result.is_consistent() {
            let word = if matches!(result, Consistency::Rollback { .. }) {
                "rollback"
            } else {
                "fork"
            };
            evidence(cli, out, word, (since, &old), (&checkpoint_path, &signed))?;
            return Err(CliError::Verify(one_line(&format!("{word}: {result}"))));
        }
        lines.push(format!("{} the checkpoint of size {m}", relation(&result)));
    }
    if let Some((digest, index)) = entry {
        let digest = parse_digest(digest, "--digest")?;
        let path = tiles::inclusion_proof(index, size, &mut read).map_err(|e| e.0)?;
        verify_inclusion(&leaf_hash(&digest), index, size, &path, &root).map_err(|e| {
            CliError::Verify(one_line(&format!(
                "inclusion: receipt {digest} is not entry {index}: {e}"
            )))
        })?;
        lines.push(format!("receipt {digest} is entry {index}"));
    }
    if cli.json {
        return out.line(
            &json!({"valid": true, "origin": c.origin(), "size": size,
            "root": root.to_string(), "tiles": tiles_checked})
            .to_string(),
        );
    }
    for line in lines {
        out.line(&line)?;
    }
    Ok(())
}

/// A CLI error carried through lcm-tlog's tile functions, which need `From<lcm_tlog::Error>`.
struct TileError(CliError);

impl From<lcm_tlog::Error> for TileError {
    fn from(e: lcm_tlog::Error) -> Self {
        Self(input(format!("tiles: {e}")))
    }
}

impl From<CliError> for TileError {
    fn from(e: CliError) -> Self {
        Self(e)
    }
}

/// `lcm verify NEW --header OLD` for two headers: both verified with `key`, then NEW's receipt
/// log must extend OLD's (same deployment, a consistency proof from OLD's receipt count to
/// NEW's, read from `proof` or computed from the store's log). Returns the line to print.
///
/// A fork (same count, different roots, or no valid proof) or a rollback (fewer receipts)
/// prints both headers' receipt states as evidence and fails with exit 1.
pub(crate) fn compare_headers(
    cli: &Cli,
    out: &mut Out,
    new: &lcm_capsule::CapsuleHeader,
    old_path: &Path,
    proof: Option<&Path>,
    key: &lcm_crypto::VerifyingKey,
) -> Result<String, CliError> {
    let old_text = read_text(old_path)?;
    let old = lcm_capsule::CapsuleHeader::from_json(&old_text)
        .map_err(|e| input(format!("{}: not a capsule header: {e}", old_path.display())))?;
    if let Err(failed) = lcm_capsule::verify_header(&old, key) {
        let first = failed
            .first()
            .map_or_else(|| "a check failed".to_owned(), ToString::to_string);
        return Err(CliError::Verify(one_line(&format!(
            "{}: {first}",
            old_path.display()
        ))));
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
        _ => Err(input(format!(
            "{what} has no deployment and receipts to compare"
        ))),
    };
    let (deployment, anchor, new_size, new_root) = chain(new, "the header")?;
    let (old_deployment, old_anchor, old_size, old_root) =
        chain(&old, &old_path.display().to_string())?;
    if anchor != old_anchor {
        return Err(CliError::Verify(one_line(&format!(
            "origin: the headers are of two receipt chains (deployment {deployment}, anchor {anchor}; deployment {old_deployment}, anchor {old_anchor})"
        ))));
    }
    if new.policy.hash_algorithm != lcm_store::log::LOG_ALGORITHM && new_size != old_size {
        return Err(input(
            "headers under a non-SHA-256 policy: their receipt logs are not C2SP logs, so no consistency proof applies",
        ));
    }
    let origin = format!("{DEFAULT_ORIGIN_PREFIX}{deployment}");
    let as_checkpoint = |size, root| {
        Checkpoint::new(&origin, size, root).map_err(|e| input(format!("checkpoint: {e}")))
    };
    let (old_cp, new_cp) = (
        as_checkpoint(old_size, old_root)?,
        as_checkpoint(new_size, new_root)?,
    );
    let path = match proof {
        Some(p) => Some(
            parse_hash_lines(&read_text(p)?)
                .map_err(|e| input(format!("{}: not a consistency proof: {e}", p.display())))?,
        ),
        None if old_size > 0 && old_size < new_size => {
            // From the store, when it holds this chain's log that far.
            match lcm_store::open(&cli.store) {
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
    let result = classify(&old_cp, &new_cp, path.as_deref())
        .map_err(|e| CliError::Verify(one_line(&format!("origin: {e}"))))?;
    if result.is_consistent() {
        let verb = if matches!(result, Consistency::Same) {
            "is the same as"
        } else {
            "extends"
        };
        return Ok(format!(
            "receipt log {verb} the header {} ({old_size} receipts -> {new_size})",
            old_path.display()
        ));
    }
    let word = if matches!(result, Consistency::Rollback { .. }) {
        "rollback"
    } else {
        "fork"
    };
    let state = |size: u64, root: &Digest, head: Option<Digest>, at: &lcm_model::Timestamp| {
        json!({"deployment": deployment, "receipt_count": size, "receipts_root": root.to_string(),
            "chain_head": head.map(|h| h.to_string()), "generated_at": at.to_string()})
    };
    let old_head = old.stage_g_inference.as_ref().and_then(|g| g.chain_head);
    let new_head = new.stage_g_inference.as_ref().and_then(|g| g.chain_head);
    let evidence = json!({
        "valid": false,
        "reason": word,
        "older": state(old_size, &old_root, old_head, &old.generated_at),
        "newer": state(new_size, &new_root, new_head, &new.generated_at),
    });
    if cli.json {
        out.line(&evidence.to_string())?;
    } else {
        out.line(&format!(
            "{word} evidence, older signed header {}: {}",
            old_path.display(),
            evidence["older"]
        ))?;
        out.line(&format!(
            "{word} evidence, newer signed header: {}",
            evidence["newer"]
        ))?;
    }
    Err(CliError::Verify(one_line(&format!(
        "{word}: the header's receipt log ({new_size} receipts) does not extend {} ({old_size} receipts): {result}",
        old_path.display()
    ))))
}

/// The arguments of `lcm log verify-capsule`.
struct CapsuleArgs<'a> {
    capsule: &'a Path,
    header: &'a Path,
    key: &'a Path,
    checkpoint: &'a Path,
    log_key: &'a str,
    proof: Option<&'a Path>,
    witness: &'a [String],
    quorum: usize,
}

/// A capsule made against an older header, verified against a newer checkpoint: the capsule
/// into its header, the header's receipts into the checkpoint by a consistency proof.
fn verify_capsule_into(cli: &Cli, out: &mut Out, args: &CapsuleArgs<'_>) -> Result<(), CliError> {
    let header_text = read_text(args.header)?;
    let header = lcm_capsule::CapsuleHeader::from_json(&header_text).map_err(|e| {
        input(format!(
            "{}: not a capsule header: {e}",
            args.header.display()
        ))
    })?;
    let capsule = lcm_capsule::Capsule::from_json(&read_text(args.capsule)?)
        .map_err(|e| input(format!("{}: not a capsule: {e}", args.capsule.display())))?;
    let key = crate::io::read_verifying_key(args.key)?;
    let signed = read_checkpoint(args.checkpoint)?;
    let log_key = parse_vkey(args.log_key)?;
    let witness_keys = witnesses(args.witness)?;
    let proof = args
        .proof
        .map(|p| {
            parse_hash_lines(&read_text(p)?)
                .map_err(|e| input(format!("{}: not a consistency proof: {e}", p.display())))
        })
        .transpose()?;
    if let Err(failed) = lcm_capsule::verify_capsule(&capsule, &header, &key) {
        let first = failed
            .first()
            .map_or_else(|| "a check failed".to_owned(), ToString::to_string);
        return Err(CliError::Verify(one_line(&first)));
    }
    let verified = Policy::new(log_key)
        .with_witnesses(witness_keys, args.quorum)
        .verify(&signed)
        .map_err(|e| failed(&e))?;
    let c = verified.checkpoint();
    let old = header_checkpoint(
        &header,
        Some(c.origin()),
        &args.header.display().to_string(),
    )?;
    let result = classify(&old, c, proof.as_deref())
        .map_err(|e| CliError::Verify(one_line(&format!("origin: {e}"))))?;
    if !result.is_consistent() {
        let word = if matches!(result, Consistency::Rollback { .. }) {
            "rollback"
        } else {
            "fork"
        };
        return Err(CliError::Verify(one_line(&format!(
            "{word}: the checkpoint {} (size {}) does not extend the header {} ({} receipts): {result}",
            args.checkpoint.display(),
            c.size(),
            args.header.display(),
            old.size()
        ))));
    }
    if cli.json {
        return out.line(
            &json!({"valid": true, "origin": c.origin(), "size": c.size(),
                "header_receipts": old.size(), "witnesses": verified.witnesses().len()})
            .to_string(),
        );
    }
    out.line(&format!(
        "valid capsule: its header's {} receipts are a state of {} (size {}, {} witnesses): {result}",
        old.size(),
        c.origin(),
        c.size(),
        verified.witnesses().len()
    ))
}
