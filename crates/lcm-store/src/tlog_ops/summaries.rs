//! What the `lcm log` and `lcm keygen` commands print about an operation's result, as data:
//! each `summary` is the JSON object `--json` prints and the text a person reads; and the
//! evidence a fork or rollback prints ([`OpsError::evidence`]).

use std::fmt::Write as _;
use std::path::Path;

use lcm_crypto::Digest;
use lcm_tlog::consistency::Consistency;
use lcm_tlog::proof::TlogProof;
use lcm_tlog::{SignedCheckpoint, VerifiedCheckpoint};
use serde_json::{Value, json};

use super::headers::{CapsuleInto, HeadersCompared};
use super::tiles::{LogChecked, TilesExported, TilesVerified};
use super::{CheckpointVerified, KeyFiles, OpsError, relation};

impl KeyFiles {
    /// What `lcm keygen --out PATH` prints about the files written (`path` the private
    /// key's).
    #[must_use]
    pub fn summary(&self, path: &Path) -> (Value, String) {
        let mut value = json!({
            "private_key": path.display().to_string(),
            "public_key": self.public_path.display().to_string(),
            "key_id": self.public.key_id().to_hex(),
        });
        let mut text = format!(
            "private key {} (mode 0600)\npublic key  {}\nkey id      {}",
            path.display(),
            self.public_path.display(),
            self.public.key_id()
        );
        if let Some(vkey) = &self.vkey {
            // The C2SP note key id (name-dependent, 4 bytes), beside `key_id` above.
            let note_key_id = vkey.id().to_string();
            let vkey = vkey.to_string();
            value["verifier_key"] = json!(self.vkey_path.display().to_string());
            value["vkey"] = json!(vkey);
            value["note_key_id"] = json!(note_key_id);
            let _ = write!(
                text,
                "\nverifier key {}\n             {vkey}",
                self.vkey_path.display()
            );
        }
        (value, text)
    }
}

impl CheckpointVerified {
    /// What `lcm log verify` prints (`quorum` as asked).
    #[must_use]
    pub fn summary(&self, quorum: usize) -> (Value, String) {
        let c = self.verified.checkpoint();
        let witnesses: Vec<String> = self
            .verified
            .witnesses()
            .iter()
            .map(|w| w.key.name().to_string())
            .collect();
        let value = json!({"valid": true, "origin": c.origin(), "size": c.size(),
            "root": c.root().to_string(), "log_key": self.log_key.to_string(),
            "witnesses": witnesses,
            "since": self.since.as_ref().map(|(_, outcome)| outcome.to_string())});
        let mut text = format!(
            "valid checkpoint: origin {}, size {}, root {}\nsigned by {}; {} of {} witnesses \
             cosigned (quorum {quorum})",
            c.origin(),
            c.size(),
            c.root(),
            self.log_key.name(),
            witnesses.len(),
            self.witnesses
        );
        if let Some((old, outcome)) = &self.since {
            let size = old.checkpoint().size();
            let _ = write!(
                text,
                "\n{} the checkpoint of size {size}",
                relation(outcome)
            );
        }
        (value, text)
    }
}

/// What `lcm log verify-proof` prints about a verified proof ([`super::verify_proof_file`]'s
/// result).
#[must_use]
pub fn proof_summary(
    digest: &Digest,
    proof: &TlogProof,
    verified: &VerifiedCheckpoint,
) -> (Value, String) {
    let c = verified.checkpoint();
    let witnesses = verified.witnesses().len();
    let value = json!({"valid": true, "digest": digest.to_string(), "index": proof.index,
        "origin": c.origin(), "size": c.size(), "root": c.root().to_string(),
        "witnesses": witnesses});
    let text = format!(
        "valid proof: receipt {digest} is entry {} of {} (size {}, root {}); {witnesses} witnesses cosigned",
        proof.index,
        c.origin(),
        c.size(),
        c.root(),
    );
    (value, text)
}

impl CapsuleInto {
    /// What `lcm log verify-capsule` prints.
    #[must_use]
    pub fn summary(&self) -> (Value, String) {
        let c = self.verified.checkpoint();
        let witnesses = self.verified.witnesses().len();
        let value = json!({"valid": true, "origin": c.origin(), "size": c.size(),
            "header_receipts": self.header_receipts, "witnesses": witnesses});
        let text = format!(
            "valid capsule: its header's {} receipts are a state of {} (size {}, {witnesses} witnesses): {}",
            self.header_receipts,
            c.origin(),
            c.size(),
            self.outcome
        );
        (value, text)
    }
}

impl TilesExported {
    /// What `lcm log export-tiles` prints about the log of `origin` exported into `dir`.
    #[must_use]
    pub fn summary(&self, dir: &Path, origin: &str) -> (Value, String) {
        let value = json!({"dir": dir.display().to_string(), "origin": origin,
            "size": self.size, "tiles": self.tiles, "entry_bundles": self.bundles});
        let text = format!(
            "exported the log of {origin} (size {}): {} tiles, {} entry bundles and the checkpoint in {}",
            self.size,
            self.tiles,
            self.bundles,
            dir.display()
        );
        (value, text)
    }
}

impl LogChecked {
    /// What `lcm log check` prints about a log that checked.
    #[must_use]
    pub fn summary(&self) -> (Value, String) {
        let (deployment, size, root) = (&self.deployment, self.size, self.root);
        let value = json!({"valid": true, "deployment": deployment, "size": size,
            "root": root.to_string()});
        let text = format!(
            "log of deployment {deployment}: {size} leaves, every tile recomputed from the \
             receipts, root {root}"
        );
        (value, text)
    }
}

impl TilesVerified {
    /// What `lcm log verify-tiles` prints.
    #[must_use]
    pub fn summary(&self) -> (Value, String) {
        let c = self.checkpoint.checkpoint();
        let (size, root) = (c.size(), self.root);
        let value = json!({"valid": true, "origin": c.origin(), "size": size,
            "root": root.to_string(), "tiles": self.tiles,
            "since": self.since.as_ref().map(|(_, outcome)| outcome.to_string()),
            "entry": self.entry.as_ref().map(|(d, i)| json!({"digest": d.to_string(), "index": i}))});
        let mut text = format!(
            "valid tiles: {} size {size}, root {root}, {} tiles and their entries checked",
            c.origin(),
            self.tiles
        );
        if let Some((m, result)) = &self.since {
            let _ = write!(text, "\n{} the checkpoint of size {m}", relation(result));
        }
        if let Some((digest, index)) = self.entry {
            let _ = write!(text, "\nreceipt {digest} is entry {index}");
        }
        (value, text)
    }
}

impl HeadersCompared {
    /// The line `lcm verify NEW --header OLD` adds about the older header in `old_path`.
    #[must_use]
    pub fn summary(&self, old_path: &Path) -> String {
        format!(
            "receipt log {} the header {} ({} receipts -> {})",
            if matches!(self.outcome, Consistency::Same) {
                "is the same as"
            } else {
                "extends"
            },
            old_path.display(),
            self.old_size,
            self.new_size
        )
    }
}

impl OpsError {
    /// The evidence a divergence carries, as printed on standard output before the command
    /// fails: for [`OpsError::Diverged`] both signed checkpoints, for
    /// [`OpsError::HeadersDiverged`] both headers' receipt states; one JSON object with
    /// `json`, else labelled text. Ends with a newline. `None` for every other error.
    #[must_use]
    pub fn evidence(&self, json: bool) -> Option<String> {
        match self {
            Self::Diverged {
                word, older, newer, ..
            } => Some(if json {
                let side = |(file, signed): &(std::path::PathBuf, SignedCheckpoint)| json!({"file": file.display().to_string(), "checkpoint": signed.to_text()});
                let v = json!({"valid": false, "reason": word, "older": side(older),
                    "newer": side(newer)});
                format!("{v}\n")
            } else {
                let mut text = String::new();
                for (label, (path, signed)) in [("older", &**older), ("newer", &**newer)] {
                    let _ = writeln!(
                        text,
                        "{word} evidence, {label} signed checkpoint ({}):",
                        path.display()
                    );
                    text.push_str(&signed.to_text());
                }
                text
            }),
            Self::HeadersDiverged(e) => {
                let (word, older, newer) = (e.word, &e.older, &e.newer);
                Some(if json {
                    let v = json!({"valid": false, "reason": word, "older": older, "newer": newer});
                    format!("{v}\n")
                } else {
                    format!(
                        "{word} evidence, older signed header {}: {older}\n{word} evidence, newer signed header: {newer}\n",
                        e.older_file.display()
                    )
                })
            }
            _ => None,
        }
    }
}

/// `value` with where a command's document went: `path` when it was written to a file, else
/// the document itself under `key` (the text printed instead of it without `--json`).
fn document_at(mut value: Value, path: Option<&Path>, key: &str, text: String) -> Value {
    match path {
        Some(p) => value["path"] = json!(p.display().to_string()),
        None => value[key] = json!(text),
    }
    value
}

/// What `lcm --json log checkpoint` prints: the signed checkpoint's origin, size and root
/// (hex), and `path` (with `--out`) or the note itself under `checkpoint`.
#[must_use]
pub fn checkpoint_json(signed: &SignedCheckpoint, path: Option<&Path>) -> Value {
    let c = signed.checkpoint();
    let value = json!({"origin": c.origin(), "size": c.size(), "root": c.root().to_string()});
    document_at(value, path, "checkpoint", signed.to_text())
}

/// What `lcm --json log proof` prints about the offline proof of `receipt`: its entry index
/// and digest (the `extra` line, hex), the checkpoint's origin, size and root, and `path`
/// (with `--out`) or the proof file's text under `proof`.
#[must_use]
pub fn receipt_proof_json(receipt: &str, proof: &TlogProof, path: Option<&Path>) -> Value {
    let c = proof.checkpoint.checkpoint();
    let digest = proof
        .extra
        .as_deref()
        .and_then(|e| <[u8; 32]>::try_from(e).ok())
        .map(|d| Digest::from_bytes(d).to_string());
    let value = json!({"receipt_id": receipt, "index": proof.index, "digest": digest,
        "origin": c.origin(), "size": c.size(), "root": c.root().to_string(),
        "hashes": proof.path.len()});
    document_at(value, path, "proof", proof.to_text())
}

impl super::Proved {
    /// What `lcm --json log prove` prints: the sizes, the proof's hashes (base64, one per
    /// element, as the file's lines) and, with `--out`, the `path` written.
    #[must_use]
    pub fn to_json(&self, path: Option<&Path>) -> Value {
        let lines: Vec<String> = lcm_tlog::consistency::format_hash_lines(&self.proof)
            .lines()
            .map(str::to_owned)
            .collect();
        let mut value =
            json!({"old_size": self.old_size, "new_size": self.new_size, "proof": lines});
        if let Some(p) = path {
            value["path"] = json!(p.display().to_string());
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::super::HeaderEvidence;
    use super::*;

    #[test]
    fn header_evidence_names_both_states_and_other_errors_have_none() {
        let e = OpsError::HeadersDiverged(Box::new(HeaderEvidence {
            word: "fork",
            older_file: "old.json".into(),
            older: json!({"receipts": 3}),
            newer: json!({"receipts": 4}),
            message: "fork: ...".to_owned(),
        }));
        assert_eq!(
            e.evidence(false).unwrap(),
            "fork evidence, older signed header old.json: {\"receipts\":3}\n\
             fork evidence, newer signed header: {\"receipts\":4}\n"
        );
        let v: Value = serde_json::from_str(&e.evidence(true).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"valid": false, "reason": "fork", "older": {"receipts": 3},
            "newer": {"receipts": 4}})
        );
        let failed = OpsError::Failed {
            message: "signature: bad".to_owned(),
        };
        assert!(failed.evidence(true).is_none() && failed.evidence(false).is_none());
    }

    #[test]
    fn a_checked_log_is_its_size_and_root_and_a_short_log_fails() {
        use crate::lifecycle::demo::tests::demo_store;
        let (store, dir, deployment, _) = demo_store("check-log", 5);
        let checked = super::super::tiles::check_log(&*store, &deployment).unwrap();
        let log = crate::log::Log::open(&*store, &deployment).unwrap();
        assert_eq!(checked.size, 5);
        assert_eq!(checked.root, *log.root_at(5).unwrap().digest());
        let (value, text) = checked.summary();
        assert_eq!(value["size"], 5);
        assert_eq!(value["root"], checked.root.to_string());
        assert!(text.starts_with(&format!("log of deployment {deployment}: 5 leaves, ")));
        assert!(text.ends_with(&format!("root {}", checked.root)));
        // The log's size one short of the chain's (the only-grow trigger dropped for the
        // edit); a changed tile is `log::audit`'s own test.
        let conn = rusqlite::Connection::open(dir.join("lcm.db")).unwrap();
        conn.execute_batch("DROP TRIGGER logs_only_grow; UPDATE logs SET size = 4")
            .unwrap();
        let failed = super::super::tiles::check_log(&*store, &deployment).unwrap_err();
        assert!(
            matches!(&failed, OpsError::Failed { message }
                if message.starts_with("log: ") && message.contains('4')),
            "{failed:?}"
        );
        drop(conn);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
