//! The witness role of c2sp.org/tlog-witness over a state directory. The decision is
//! `lcm_tlog::witness`'s; this keeps the state: the latest cosigned checkpoint per origin
//! (`ORIGIN.checkpoint`, the origin escaped, written atomically) and both checkpoints of any
//! fork it sees (`forks/ORIGIN-OLD-NEW-TIME.held` and `.submitted`). A cosigner holds an
//! exclusive lock on `lock` in the directory from reading the held checkpoint to replacing it,
//! so two concurrent cosigners cannot both advance the same state.

use std::path::Path;

use lcm_crypto::Digest;
use lcm_tlog::note::{SignerKey, VerifierKey};
use lcm_tlog::{Refusal, SignedCheckpoint};

use super::{OpsError, fail, invalid};
use crate::files::{atomic_write, io_err, read_file};

/// An origin as a file name: ASCII letters, digits, `.`, `-` and `_` kept, every other byte
/// as `%XX`.
pub fn escape_origin(origin: &str) -> String {
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

/// Takes the exclusive lock of the witness state `state` (the file `state/lock`, created if
/// missing), waiting while another cosigner holds it; it is released when the returned file
/// is dropped (or the process ends).
///
/// # Errors
///
/// [`OpsError::File`] when the lock file cannot be opened or locked.
pub fn lock_state(state: &Path) -> Result<std::fs::File, OpsError> {
    let path = state.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    file.lock().map_err(io_err(&path))?;
    Ok(file)
}

/// Cosigns `submitted` (signed by `log_key`, consistent with the checkpoint held for its
/// origin in `state` by `proof`) with `witness_key`, and records it as the held checkpoint.
/// Returns the cosigned checkpoint.
///
/// # Errors
///
/// [`OpsError::Failed`] when the witness refuses (`signature`, `rollback`, `fork`, `missing
/// proof`, `inconsistent`); a fork (or a proof that fails between two checkpoints the log
/// signed) leaves both checkpoints in `state/forks` first. [`OpsError::Invalid`] for a held
/// state that does not parse or a failure to cosign; [`OpsError::File`].
pub fn cosign(
    state: &Path,
    submitted: &SignedCheckpoint,
    log_key: &VerifierKey,
    proof: Option<&[Digest]>,
    witness_key: &SignerKey,
) -> Result<SignedCheckpoint, OpsError> {
    std::fs::create_dir_all(state).map_err(io_err(state))?;
    // Held until the state is replaced (or the refusal recorded): one cosigner at a time.
    let _lock = lock_state(state)?;
    let origin = submitted.checkpoint().origin().to_owned();
    let state_file = state.join(format!("{}.checkpoint", escape_origin(&origin)));
    let held = if state_file.exists() {
        Some(
            SignedCheckpoint::parse(&read_file(&state_file)?).map_err(|e| {
                invalid(format!(
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
        .map_err(|e| invalid(format!("clock: {e}")))?
        .as_secs();
    match lcm_tlog::witness::cosign(held.as_ref(), submitted, log_key, proof, witness_key, now) {
        Ok(cosigned) => {
            atomic_write(&state_file, cosigned.to_text().as_bytes())?;
            Ok(cosigned)
        }
        Err(lcm_tlog::Error::Refused(refusal)) => {
            // A fork (or a proof that fails between two checkpoints the log signed) is
            // evidence: both signed checkpoints are kept.
            if let (Some(held), Refusal::Fork { .. } | Refusal::InvalidProof { .. }) =
                (&held, &refusal)
            {
                let forks = state.join("forks");
                std::fs::create_dir_all(&forks).map_err(io_err(&forks))?;
                let stem = format!(
                    "{}-{}-{}-{now}",
                    escape_origin(&origin),
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
            Err(fail(&format!("{word}: {refusal}")))
        }
        Err(e) => Err(invalid(format!("cosigning: {e}"))),
    }
}

/// The files and arguments of `lcm witness cosign` ([`cosign_files`]).
#[derive(Debug, Clone, Copy)]
pub struct CosignFiles<'a> {
    /// The submitted signed checkpoint.
    pub checkpoint: &'a Path,
    /// The log's verifier key: the key text or a file holding it ([`super::parse_vkey`]).
    pub log_key: &'a str,
    /// The witness's private key (an `lcm keygen` key file or a C2SP signer key).
    pub key: &'a Path,
    /// The witness's name.
    pub name: &'a str,
    /// The consistency proof from the size the witness holds, if any.
    pub proof: Option<&'a Path>,
}

/// What [`cosign_files`] cosigned.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Cosigned {
    /// The origin of the submitted checkpoint.
    pub origin: String,
    /// The checkpoint with the witness's cosignature added.
    pub checkpoint: SignedCheckpoint,
}

impl Cosigned {
    /// What `lcm witness cosign` prints: the JSON object of `--json` (`cosigned`, `origin`,
    /// `size`, `checkpoint`) and the cosigned checkpoint's text (ending with its newline).
    #[must_use]
    pub fn summary(&self) -> (serde_json::Value, String) {
        let text = self.checkpoint.to_text();
        let value = serde_json::json!({"cosigned": true, "origin": self.origin,
            "size": self.checkpoint.checkpoint().size(), "checkpoint": text});
        (value, text)
    }
}

/// `lcm witness cosign`: reads the submitted checkpoint, the log's key, the witness's key
/// and the proof, in that order, then [`cosign`]s in the state directory `state`.
///
/// # Errors
///
/// As [`super::read_checkpoint`], [`super::parse_vkey`], [`super::read_signer`],
/// [`super::read_consistency_proof`] and [`cosign`].
pub fn cosign_files(state: &Path, files: &CosignFiles<'_>) -> Result<Cosigned, OpsError> {
    let submitted = super::read_checkpoint(files.checkpoint)?;
    let log_key = super::parse_vkey(files.log_key)?;
    let name = files.name;
    let kind = lcm_tlog::note::SignatureType::Cosignature;
    let witness_key = super::read_signer(files.key, kind, Some(name), &|| name.to_owned())?;
    let proof = files.proof.map(super::read_consistency_proof).transpose()?;
    let checkpoint = cosign(state, &submitted, &log_key, proof.as_deref(), &witness_key)?;
    Ok(Cosigned {
        origin: submitted.checkpoint().origin().to_owned(),
        checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::{CosignFiles, OpsError, cosign_files, escape_origin, lock_state};
    use crate::lifecycle::demo::tests::demo_store;
    use crate::log::Log;
    use crate::tlog_ops::{log_signer, sign_checkpoint, write_key_files};

    /// A checkpoint of the demo's log, cosigned from files; a changed byte in the
    /// checkpoint file, or another log key, is refused and nothing is cosigned.
    #[test]
    fn cosigns_from_files_and_refuses_a_changed_checkpoint() {
        let (store, dir, deployment, _) = demo_store("witness-files", 3);
        let log_key = dir.join("log.key");
        write_key_files(&log_key, false, Some("lcm.local/w-test"), false).unwrap();
        let witness_key = dir.join("witness.key");
        write_key_files(&witness_key, false, Some("w1"), true).unwrap();
        let signer = log_signer(&log_key, None, &deployment).unwrap();
        let signed = sign_checkpoint(&Log::open(&*store, &deployment).unwrap(), &signer).unwrap();
        let checkpoint = dir.join("checkpoint");
        std::fs::write(&checkpoint, signed.to_text()).unwrap();
        let vkey = dir.join("log.key.vkey").display().to_string();
        let files = CosignFiles {
            checkpoint: &checkpoint,
            log_key: &vkey,
            key: &witness_key,
            name: "w1",
            proof: None,
        };
        let done = cosign_files(&dir.join("state"), &files).unwrap();
        assert_eq!(done.origin, "lcm.local/w-test");
        let (value, text) = done.summary();
        assert_eq!(value["size"], 3);
        assert_eq!(value["checkpoint"], text.as_str());
        assert!(text.starts_with(&signed.to_text()) && text.contains("\u{2014} w1 "));
        // One byte of the checkpoint's root changed: its signature fails.
        let mut changed = signed.to_text().into_bytes();
        let at = changed.iter().position(|&b| b == b'\n').unwrap() + 4;
        changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&checkpoint, &changed).unwrap();
        let refused = cosign_files(&dir.join("state2"), &files).unwrap_err();
        assert!(
            matches!(&refused, OpsError::Failed { .. } | OpsError::Invalid { .. }),
            "{refused:?}"
        );
        // The witness's own key as the log's: refused.
        std::fs::write(&checkpoint, signed.to_text()).unwrap();
        let wrong = dir.join("witness.key.vkey").display().to_string();
        let files = CosignFiles {
            log_key: &wrong,
            ..files
        };
        assert!(cosign_files(&dir.join("state3"), &files).is_err());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A second cosigner waits for the first to release the state directory's lock: it
    /// cannot read the held checkpoint while the first is deciding and replacing it.
    #[test]
    fn a_second_cosigner_waits_for_the_state_lock() {
        let dir = std::env::temp_dir().join(format!("lcm-witness-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = lock_state(&dir).unwrap();
        let (tx, rx) = mpsc::channel();
        let second_dir = dir.clone();
        let second = std::thread::spawn(move || {
            let lock = lock_state(&second_dir).unwrap();
            tx.send(()).unwrap();
            drop(lock);
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "the second cosigner got the lock while the first held it"
        );
        drop(first);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the second cosigner gets the lock once the first releases it");
        second.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn origins_escape_to_file_names() {
        assert_eq!(escape_origin("lcm.local/dep-1_a"), "lcm.local%2Fdep-1_a");
        assert_eq!(escape_origin("a b"), "a%20b");
    }
}
