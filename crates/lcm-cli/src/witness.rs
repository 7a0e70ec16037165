//! `lcm witness cosign`: the witness role of c2sp.org/tlog-witness over a state directory.
//! The decision is `lcm_tlog::witness`'s; this module keeps the state (the latest cosigned
//! checkpoint per origin, written atomically, and both checkpoints of any fork it sees).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use lcm_tlog::consistency::parse_hash_lines;
use lcm_tlog::note::SignatureType;
use lcm_tlog::{Refusal, SignedCheckpoint};
use serde_json::json;

use crate::cli::{Cli, WitnessCommand};
use crate::error::{CliError, input, one_line};
use crate::io::{Out, file_err, read_file};
use crate::tlog::{parse_vkey, read_checkpoint, read_signer, read_text};

pub(crate) fn cosign(cli: &Cli, out: &mut Out, command: &WitnessCommand) -> Result<(), CliError> {
    let WitnessCommand::Cosign {
        checkpoint,
        key,
        name,
        state,
        log_key,
        proof,
    } = command;
    let submitted = read_checkpoint(checkpoint)?;
    let log_key = parse_vkey(log_key)?;
    let witness_key = read_signer(key, SignatureType::Cosignature, Some(name), &|| {
        name.clone()
    })?;
    let proof = proof
        .as_deref()
        .map(|p| {
            parse_hash_lines(&read_text(p)?)
                .map_err(|e| input(format!("{}: not a consistency proof: {e}", p.display())))
        })
        .transpose()?;
    std::fs::create_dir_all(state).map_err(file_err(state))?;
    let origin = submitted.checkpoint().origin().to_owned();
    let state_file = state.join(format!("{}.checkpoint", escape(&origin)));
    let held = if state_file.exists() {
        Some(
            SignedCheckpoint::parse(&read_file(&state_file)?).map_err(|e| {
                input(format!(
                    "{}: the witness state is not a signed checkpoint: {e}",
                    state_file.display()
                ))
            })?,
        )
    } else {
        None
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| input(format!("clock: {e}")))?
        .as_secs();
    match lcm_tlog::witness::cosign(
        held.as_ref(),
        &submitted,
        &log_key,
        proof.as_deref(),
        &witness_key,
        now,
    ) {
        Ok(cosigned) => {
            atomic_write(&state_file, cosigned.to_text().as_bytes())?;
            if cli.json {
                return out.line(
                    &json!({"cosigned": true, "origin": origin, "size": cosigned.checkpoint().size(),
                        "checkpoint": cosigned.to_text()})
                    .to_string(),
                );
            }
            out.raw(cosigned.to_text().as_bytes())
        }
        Err(lcm_tlog::Error::Refused(refusal)) => {
            // A fork (or a proof that fails between two checkpoints the log signed) is
            // evidence: both signed checkpoints are kept.
            if let (Some(held), Refusal::Fork { .. } | Refusal::InvalidProof { .. }) =
                (&held, &refusal)
            {
                let forks = state.join("forks");
                std::fs::create_dir_all(&forks).map_err(file_err(&forks))?;
                let stem = format!(
                    "{}-{}-{}-{now}",
                    escape(&origin),
                    held.checkpoint().size(),
                    submitted.checkpoint().size()
                );
                atomic_write(
                    &forks.join(format!("{stem}.held")),
                    held.to_text().as_bytes(),
                )?;
                atomic_write(
                    &forks.join(format!("{stem}.submitted")),
                    submitted.to_text().as_bytes(),
                )?;
            }
            let word = match refusal {
                Refusal::BadSignature(_) => "signature",
                Refusal::Rollback { .. } => "rollback",
                Refusal::Fork { .. } | Refusal::InvalidProof { .. } => "fork",
                Refusal::MissingProof { .. } => "missing proof",
                _ => "inconsistent",
            };
            Err(CliError::Verify(one_line(&format!("{word}: {refusal}"))))
        }
        Err(e) => Err(input(format!("cosigning: {e}"))),
    }
}

/// An origin as a file name: ASCII letters, digits, `.`, `-` and `_` kept, every other byte
/// as `%XX`.
fn escape(origin: &str) -> String {
    origin
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Writes `bytes` at `path` atomically: a temporary file in the same directory, fsynced,
/// renamed over `path`, then the directory fsynced.
fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(file_err(&tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(file_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(file_err(path))?;
    if let Some(parent) = path.parent() {
        // Durability of the rename; a directory that cannot be opened is not an error.
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
