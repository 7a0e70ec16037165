//! The transparency-log operations over a store and files, shared by the `lcm log` and
//! `lcm witness` commands (and any service or binding): checkpoint making and origin choice,
//! signer and verifier key files, inclusion proof files, checkpoint verification with
//! consistency (extends, fork, rollback) and its evidence, header comparison, tile export and
//! the verification of a tile directory, a capsule against a newer checkpoint, and the
//! witness state directory. The formats and checks are `lcm_tlog`'s, the log [`crate::log`]'s.
//!
//! Failures are [`OpsError`]: [`OpsError::Failed`] (and [`OpsError::Diverged`],
//! [`OpsError::HeadersDiverged`], which carry the evidence) when a signature, quorum,
//! consistency or inclusion check fails, its message led by the reason (`signature`,
//! `quorum`, `fork`, `rollback`, `origin`, `inclusion`, `tiles`); [`OpsError::Invalid`] for
//! malformed input.

use std::path::{Path, PathBuf};

use lcm_crypto::Digest;
use lcm_tlog::consistency::{Consistency, classify, parse_hash_lines};
use lcm_tlog::note::{KeyName, SignatureType, SignerKey, VerifierKey};
use lcm_tlog::proof::TlogProof;
use lcm_tlog::{Checkpoint, Policy, SignedCheckpoint, VerifiedCheckpoint, VerifyError};

use crate::Store;
use crate::files::{FileError, read_file, read_signing_key, read_text};
use crate::log::{LOG_ALGORITHM, Log, leaf_hash};

/// The prefix of an origin lcm picks when none is named: `lcm.local/DEPLOYMENT`.
pub const DEFAULT_ORIGIN_PREFIX: &str = lcm_capsule::DEFAULT_LOG_ORIGIN_PREFIX;

/// Why a transparency-log operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// A file could not be read or written, or is not what it should be.
    #[error(transparent)]
    File(#[from] FileError),
    /// Malformed input: a key, checkpoint, proof or header that does not parse, or arguments
    /// that do not fit together.
    #[error("{what}")]
    Invalid {
        /// What is wrong.
        what: String,
    },
    /// A signature, quorum, consistency, inclusion or tile check failed; the message starts
    /// with the reason word.
    #[error("{message}")]
    Failed {
        /// The reason and what failed, on one line.
        message: String,
    },
    /// A newer signed checkpoint does not extend an older one: both are the evidence.
    #[error("{message}")]
    Diverged {
        /// `fork` or `rollback`.
        word: &'static str,
        /// The older checkpoint's file and checkpoint.
        older: Box<(PathBuf, SignedCheckpoint)>,
        /// The newer checkpoint's file and checkpoint.
        newer: Box<(PathBuf, SignedCheckpoint)>,
        /// The reason and what failed, on one line.
        message: String,
    },
    /// A newer signed header's receipt log does not extend an older header's: both receipt
    /// states are the evidence.
    #[error("{}", .0.message)]
    HeadersDiverged(Box<HeaderEvidence>),
    /// A range document's lifecycle records do not authenticate its deployment or receipts
    /// ([`range::verify_range`]).
    #[error(transparent)]
    Range(Box<range::RangeFailure>),
    /// The store failed.
    #[error(transparent)]
    Store(Box<crate::Error>),
}

/// The evidence of two signed headers whose receipt logs diverge.
#[derive(Debug)]
#[non_exhaustive]
pub struct HeaderEvidence {
    /// `fork` or `rollback`.
    pub word: &'static str,
    /// The older header's file.
    pub older_file: PathBuf,
    /// The older header's receipt state (deployment, count, root, head, time).
    pub older: serde_json::Value,
    /// The newer header's receipt state.
    pub newer: serde_json::Value,
    /// The reason and what failed, on one line.
    pub message: String,
}

impl From<crate::Error> for OpsError {
    fn from(e: crate::Error) -> Self {
        Self::Store(Box::new(e))
    }
}

fn invalid(what: impl Into<String>) -> OpsError {
    OpsError::Invalid { what: what.into() }
}

/// A failed check, its message on one line.
fn fail(message: &str) -> OpsError {
    OpsError::Failed {
        message: one_line(message),
    }
}

/// `s` with its runs of white space as single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The C2SP verifier key file next to a private key file `path`: `PATH.vkey`.
pub fn vkey_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".vkey");
    s.into()
}

/// The files [`write_key_files`] wrote and the keys in them.
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyFiles {
    /// The public key.
    pub public: lcm_crypto::VerifyingKey,
    /// `PATH.pub`.
    pub public_path: PathBuf,
    /// The C2SP verifier key, when a name was given.
    pub vkey: Option<VerifierKey>,
    /// `PATH.vkey`.
    pub vkey_path: PathBuf,
}

/// Generates a key and writes it: the private key (mode 0600) at `path`, the public key at
/// `PATH.pub`, and, with a `name`, the C2SP verifier key (a log key, or a witness's cosignature
/// key with `witness`) at `PATH.vkey`. Without `force`, nothing is written when any of those
/// files exists; the name is checked before anything is written.
///
/// # Errors
///
/// [`OpsError::Invalid`] for a bad name; [`OpsError::File`] for a file that exists (without
/// `force`) or cannot be written; [`OpsError::Store`] when randomness fails.
pub fn write_key_files(
    path: &Path,
    force: bool,
    name: Option<&str>,
    witness: bool,
) -> Result<KeyFiles, OpsError> {
    write_key_files_as(path, force, name, witness, crate::files::KeyFormat::Hex)
}

/// [`write_key_files`] with the private and public key files in `format` (hex, or PKCS#8
/// and SPKI PEM); the verifier key is always the C2SP text.
///
/// # Errors
///
/// As [`write_key_files`].
pub fn write_key_files_as(
    path: &Path,
    force: bool,
    name: Option<&str>,
    witness: bool,
    format: crate::files::KeyFormat,
) -> Result<KeyFiles, OpsError> {
    let public_path = crate::files::pub_path(path);
    let vkey_path = vkey_path(path);
    let name = name
        .map(|n| KeyName::new(n).map_err(|e| invalid(format!("--name: {e}"))))
        .transpose()?;
    if !force {
        let vkey = name.as_ref().map(|_| vkey_path.as_path());
        for p in [Some(path), Some(public_path.as_path()), vkey]
            .into_iter()
            .flatten()
        {
            if p.exists() {
                return Err(invalid(format!(
                    "{} exists; pass --force to overwrite it",
                    p.display()
                )));
            }
        }
    }
    // A missing folder is named, not created: where private keys live is the user's choice.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(invalid(format!(
            "--out {}: the folder {} does not exist (create it first, for example mkdir -p {})",
            path.display(),
            dir.display(),
            dir.display()
        )));
    }
    let key =
        lcm_crypto::SigningKey::generate(&mut lcm_crypto::OsRandom).map_err(crate::Error::from)?;
    crate::files::write_key_pair_as(path, &key, force, format)?;
    let public = key.verifying_key();
    let vkey = match name {
        Some(name) => {
            let kind = if witness {
                SignatureType::Cosignature
            } else {
                SignatureType::Ed25519
            };
            let vkey = SignerKey::new(name, kind, key).verifier();
            crate::files::write_new(&vkey_path, format!("{vkey}\n").as_bytes(), 0o644, force)?;
            Some(vkey)
        }
        None => None,
    };
    Ok(KeyFiles {
        public,
        public_path,
        vkey,
        vkey_path,
    })
}

/// A verifier key given as its text or as a file holding it (one line).
///
/// # Errors
///
/// [`OpsError::Invalid`] when it is neither; [`OpsError::File`].
pub fn parse_vkey(arg: &str) -> Result<VerifierKey, OpsError> {
    if let Ok(key) = VerifierKey::parse(arg) {
        return Ok(key);
    }
    let path = Path::new(arg);
    if !path.exists() {
        // Neither a key nor a file: the key's own parse error says why.
        return VerifierKey::parse(arg)
            .map_err(|e| invalid(format!("{arg:?} is not a verifier key nor a file: {e}")));
    }
    read_vkey_file(path)
}

fn read_vkey_file(path: &Path) -> Result<VerifierKey, OpsError> {
    let text = read_text(path)?;
    VerifierKey::parse(text.trim_end_matches('\n')).map_err(|e| {
        invalid(format!(
            "{}: expected a C2SP verifier key: {e}",
            path.display()
        ))
    })
}

/// The verifier keys given as texts or files.
///
/// # Errors
///
/// As [`parse_vkey`].
pub fn parse_vkeys(keys: &[String]) -> Result<Vec<VerifierKey>, OpsError> {
    keys.iter().map(|k| parse_vkey(k)).collect()
}

/// The signed checkpoint in the file `path`.
///
/// # Errors
///
/// [`OpsError::File`]; [`OpsError::Invalid`] when it does not parse.
pub fn read_checkpoint(path: &Path) -> Result<SignedCheckpoint, OpsError> {
    SignedCheckpoint::parse(&read_file(path)?)
        .map_err(|e| invalid(format!("{}: not a signed checkpoint: {e}", path.display())))
}

/// The consistency proof (one base64 hash a line) in the file `path`.
///
/// # Errors
///
/// [`OpsError::File`]; [`OpsError::Invalid`] when it does not parse.
pub fn read_consistency_proof(path: &Path) -> Result<Vec<Digest>, OpsError> {
    parse_hash_lines(&read_text(path)?)
        .map_err(|e| invalid(format!("{}: not a consistency proof: {e}", path.display())))
}

/// The capsule header in the file `path`.
///
/// # Errors
///
/// [`OpsError::File`]; [`OpsError::Invalid`] when it does not parse.
pub fn read_header(path: &Path) -> Result<lcm_capsule::CapsuleHeader, OpsError> {
    lcm_capsule::CapsuleHeader::from_json(&read_text(path)?)
        .map_err(|e| invalid(format!("{}: not a capsule header: {e}", path.display())))
}

/// The (unsigned) checkpoint of a signed checkpoint file, or of a capsule header's receipts
/// (origin `lcm.local/DEPLOYMENT`, its receipt count and receipts root).
///
/// # Errors
///
/// [`OpsError::File`]; [`OpsError::Invalid`] when it is neither.
pub fn read_checkpoint_or_header(path: &Path) -> Result<Checkpoint, OpsError> {
    let bytes = read_file(path)?;
    if let Ok(signed) = SignedCheckpoint::parse(&bytes) {
        return Ok(signed.checkpoint().clone());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| invalid(format!("{}: not UTF-8 text", path.display())))?;
    let header = lcm_capsule::CapsuleHeader::from_json(&text).map_err(|e| {
        invalid(format!(
            "{}: neither a signed checkpoint nor a capsule header: {e}",
            path.display()
        ))
    })?;
    header_checkpoint(&header, None, &path.display().to_string())
}

/// A header's receipts as a checkpoint of its chain's log: the origin its signed
/// `log_origin` names, else `origin` (the origin of the checkpoint it is compared with), else
/// `lcm.local/DEPLOYMENT` (headers of earlier versions name none); its receipt count and
/// receipts root. `what` names the header in errors.
///
/// # Errors
///
/// [`OpsError::Failed`] (`origin`) when the header names another origin than `origin`;
/// [`OpsError::Invalid`] for a header without receipts or under a non-SHA-256 policy.
pub fn header_checkpoint(
    header: &lcm_capsule::CapsuleHeader,
    origin: Option<&str>,
    what: &str,
) -> Result<Checkpoint, OpsError> {
    let (Some(d), Some(g)) = (&header.stage_e_deployment, &header.stage_g_inference) else {
        return Err(invalid(format!("{what} has no deployment and receipts")));
    };
    if header.policy.hash_algorithm != LOG_ALGORITHM {
        return Err(invalid(format!(
            "{what} is under a non-SHA-256 policy: its receipts root is not a C2SP log root"
        )));
    }
    let origin = match (header.log_origin.as_deref(), origin) {
        (Some(named), Some(other)) if named != other => {
            return Err(fail(&format!(
                "origin: {what} names the log origin {named}, the checkpoint is of {other}"
            )));
        }
        (Some(named), _) | (None, Some(named)) => named.to_owned(),
        (None, None) => format!("{DEFAULT_ORIGIN_PREFIX}{}", d.deployment_id),
    };
    Checkpoint::new(&origin, g.receipt_count, g.receipts_root)
        .map_err(|e| invalid(format!("{what}: log origin: {e}")))
}

/// The signer of `kind` in the key file `path`: a C2SP signer key (`PRIVATE+KEY+...`, whose
/// name `name` must match when given), or an `lcm keygen` key file named `name`, else the
/// name of its `PATH.vkey` (which must hold the same public key), else `default_name`.
///
/// # Errors
///
/// [`OpsError::File`]; [`OpsError::Invalid`] for a key of another type or name, or a
/// `.vkey` of another key.
pub fn read_signer(
    path: &Path,
    kind: SignatureType,
    name: Option<&str>,
    default_name: &dyn Fn() -> String,
) -> Result<SignerKey, OpsError> {
    let mut text = read_text(path)?;
    let parsed = if text.starts_with("PRIVATE+KEY+") {
        let signer = SignerKey::parse(text.trim_end_matches('\n'))
            .map_err(|e| invalid(format!("{}: not a C2SP signer key: {e}", path.display())));
        zeroize::Zeroize::zeroize(&mut text);
        let signer = signer?;
        if signer.kind() != kind {
            return Err(invalid(format!(
                "{}: a signer key of type {:?}, expected {kind:?}",
                path.display(),
                signer.kind()
            )));
        }
        if let Some(name) = name
            && name != signer.name().as_str()
        {
            return Err(invalid(format!(
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
        let vkey = read_vkey_file(&vkey_file)?;
        if *vkey.public_key() != parsed.verifying_key() {
            return Err(invalid(format!(
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
    let name = KeyName::new(&name).map_err(|e| invalid(format!("key name {name:?}: {e}")))?;
    Ok(SignerKey::new(name, kind, parsed))
}

/// The log signer for `deployment`'s chain: the origin is the key's name (by default
/// `lcm.local/DEPLOYMENT`).
///
/// # Errors
///
/// As [`read_signer`].
pub fn log_signer(key: &Path, name: Option<&str>, deployment: &str) -> Result<SignerKey, OpsError> {
    read_signer(key, SignatureType::Ed25519, name, &|| {
        format!("{DEFAULT_ORIGIN_PREFIX}{deployment}")
    })
}

/// The signed checkpoint of `log` at its current size, with `signer`'s name as origin.
///
/// # Errors
///
/// [`OpsError::Store`]; [`OpsError::Invalid`] for an origin a checkpoint cannot carry.
pub fn sign_checkpoint(log: &Log<'_>, signer: &SignerKey) -> Result<SignedCheckpoint, OpsError> {
    let root = log.root()?;
    let checkpoint = Checkpoint::new(signer.name().as_str(), log.size(), *root.digest())
        .map_err(|e| invalid(format!("checkpoint: {e}")))?;
    checkpoint
        .sign(signer)
        .map_err(|e| invalid(format!("signing the checkpoint: {e}")))
}

/// A digest in hex; `what` names it in errors.
///
/// # Errors
///
/// [`OpsError::Invalid`].
pub fn parse_digest(text: &str, what: &str) -> Result<Digest, OpsError> {
    Digest::from_hex(text).map_err(|e| invalid(format!("{what}: {e}")))
}

/// How a consistent newer checkpoint relates to an older one, in words.
pub fn relation(outcome: &Consistency) -> &'static str {
    if matches!(outcome, Consistency::Same) {
        "is the same as"
    } else {
        "extends"
    }
}

/// The word of an inconsistent outcome: `rollback` or `fork`.
fn divergence(outcome: &Consistency) -> &'static str {
    if matches!(outcome, Consistency::Rollback { .. }) {
        "rollback"
    } else {
        "fork"
    }
}

/// The reason word of a failed checkpoint verification.
pub fn reason(e: &VerifyError) -> &'static str {
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

/// A failed checkpoint verification as [`OpsError::Failed`], led by its [`reason`].
pub fn verify_failed(e: &VerifyError) -> OpsError {
    fail(&format!("{}: {e}", reason(e)))
}

fn classify_or_fail(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: Option<&[Digest]>,
) -> Result<Consistency, OpsError> {
    classify(old, new, proof).map_err(|e| fail(&format!("origin: {e}")))
}

/// A consistency proof from a checkpoint (or header) to a store's log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Proved {
    /// The older size.
    pub old_size: u64,
    /// The log's size.
    pub new_size: u64,
    /// The proof's hashes (empty from size 0).
    pub proof: Vec<Digest>,
}

/// The consistency proof from `old` (read from `from`, see [`read_checkpoint_or_header`])
/// to the current size of `log`.
///
/// # Errors
///
/// [`OpsError::Failed`] (`rollback`, `fork`) when `old` is not a state of the log;
/// [`OpsError::Store`].
pub fn prove(log: &Log<'_>, old: &Checkpoint, from: &Path) -> Result<Proved, OpsError> {
    let deployment = log.deployment();
    if old.size() > log.size() {
        return Err(OpsError::Failed {
            message: format!(
                "rollback: {} has size {}, the log of deployment {deployment} only {}",
                from.display(),
                old.size(),
                log.size()
            ),
        });
    }
    let proof = if old.size() == 0 {
        Vec::new()
    } else {
        let ours = log.root_at(old.size())?;
        if ours.digest() != old.root() {
            return Err(OpsError::Failed {
                message: format!(
                    "fork: at size {} {} has root {}, the log of deployment {deployment} {}",
                    old.size(),
                    from.display(),
                    old.root(),
                    ours.digest()
                ),
            });
        }
        log.consistency_proof(old.size(), log.size())?
    };
    Ok(Proved {
        old_size: old.size(),
        new_size: log.size(),
        proof,
    })
}

/// A checkpoint verified under a log key and witnesses, and, when an older one was given,
/// how it relates to it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckpointVerified {
    /// The verified checkpoint.
    pub verified: VerifiedCheckpoint,
    /// The log's key.
    pub log_key: VerifierKey,
    /// How many witness keys were given.
    pub witnesses: usize,
    /// The older checkpoint and the newer's consistency with it, when one was given.
    pub since: Option<(SignedCheckpoint, Consistency)>,
}

/// Verifies the signed checkpoint in `checkpoint` under the log key `key` (its text or a file
/// holding it) and `quorum` of the `witnesses`, and, with `since`, that it extends the older
/// checkpoint there (signed by the same log key) by the consistency proof in `proof`.
///
/// # Errors
///
/// [`OpsError::Failed`] for a failed signature, quorum or origin check;
/// [`OpsError::Diverged`] for a fork or rollback; file and parse errors.
pub fn verify_checkpoint(
    checkpoint: &Path,
    key: &str,
    witnesses: &[String],
    quorum: usize,
    since: Option<&Path>,
    proof: Option<&Path>,
) -> Result<CheckpointVerified, OpsError> {
    let signed = read_checkpoint(checkpoint)?;
    let log_key = parse_vkey(key)?;
    let witness_keys = parse_vkeys(witnesses)?;
    let old = since.map(read_checkpoint).transpose()?;
    let proof = proof.map(read_consistency_proof).transpose()?;
    let policy = Policy::new(log_key.clone()).with_witnesses(witness_keys.clone(), quorum);
    let verified = policy.verify(&signed).map_err(|e| verify_failed(&e))?;
    let since = match (old, since) {
        (Some(old), Some(since)) => {
            Policy::new(log_key.clone())
                .verify(&old)
                .map_err(|e| fail(&format!("signature: {}: {e}", since.display())))?;
            let result = classify_or_fail(old.checkpoint(), signed.checkpoint(), proof.as_deref())?;
            if !result.is_consistent() {
                let word = divergence(&result);
                let message = one_line(&format!(
                    "{word}: {} (size {}) does not extend {} (size {}): {result}",
                    checkpoint.display(),
                    signed.checkpoint().size(),
                    since.display(),
                    old.checkpoint().size()
                ));
                return Err(OpsError::Diverged {
                    word,
                    older: Box::new((since.to_path_buf(), old)),
                    newer: Box::new((checkpoint.to_path_buf(), signed)),
                    message,
                });
            }
            Some((old, result))
        }
        _ => None,
    };
    Ok(CheckpointVerified {
        verified,
        log_key,
        witnesses: witness_keys.len(),
        since,
    })
}

/// The tlog-proof of the receipt `receipt` in `log`: against the signed checkpoint in
/// `checkpoint` (which must be a state of the log), else against a new checkpoint signed by
/// the key file `key` (named `name`, see [`log_signer`]).
///
/// # Errors
///
/// [`OpsError::Failed`] (`fork`) for a checkpoint that is not a state of the log;
/// [`OpsError::Invalid`] when neither is given or the receipt is not in the checkpoint;
/// [`OpsError::Store`] ([`crate::Error::NoReceipt`] for an unknown receipt).
pub fn receipt_proof(
    store: &dyn Store,
    log: &Log<'_>,
    receipt: &str,
    checkpoint: Option<&Path>,
    key: Option<&Path>,
    name: Option<&str>,
) -> Result<TlogProof, OpsError> {
    let deployment = log.deployment();
    let stored = stored_receipt(store, deployment, receipt)?;
    let signed = match (checkpoint, key) {
        (Some(file), _) => {
            let signed = read_checkpoint(file)?;
            let c = signed.checkpoint();
            if c.size() > log.size() || log.root_at(c.size())?.digest() != c.root() {
                return Err(OpsError::Failed {
                    message: format!(
                        "fork: {} (size {}) is not a state of the log of deployment {deployment} (size {})",
                        file.display(),
                        c.size(),
                        log.size()
                    ),
                });
            }
            signed
        }
        (None, Some(key)) => sign_checkpoint(log, &log_signer(key, name, deployment)?)?,
        (None, None) => return Err(invalid("pass --key or --checkpoint")),
    };
    inclusion(log, receipt, &stored, signed)
}

fn stored_receipt(
    store: &dyn Store,
    deployment: &str,
    receipt: &str,
) -> Result<crate::StoredReceipt, OpsError> {
    Ok(store
        .receipt(deployment, receipt)?
        .ok_or_else(|| crate::Error::NoReceipt {
            deployment: deployment.to_owned(),
            receipt_id: receipt.to_owned(),
        })?)
}

/// [`receipt_proof`] against a checkpoint the caller signed (`lcm serve` keeps the one of each
/// log size): `signed` must be a checkpoint of `log` (its size and root are not checked here).
///
/// # Errors
///
/// [`OpsError::Invalid`] when the receipt is not in the checkpoint; [`OpsError::Store`]
/// ([`crate::Error::NoReceipt`] for an unknown receipt).
pub fn receipt_proof_at(
    store: &dyn Store,
    log: &Log<'_>,
    receipt: &str,
    signed: SignedCheckpoint,
) -> Result<TlogProof, OpsError> {
    let stored = stored_receipt(store, log.deployment(), receipt)?;
    inclusion(log, receipt, &stored, signed)
}

/// The tlog-proof of the stored receipt `stored` (named `receipt`) into `signed`.
fn inclusion(
    log: &Log<'_>,
    receipt: &str,
    stored: &crate::StoredReceipt,
    signed: SignedCheckpoint,
) -> Result<TlogProof, OpsError> {
    let size = signed.checkpoint().size();
    if stored.sequence >= size {
        return Err(invalid(format!(
            "receipt {receipt} (sequence {}) is not in the checkpoint of size {size}",
            stored.sequence
        )));
    }
    let path = log.inclusion_proof(stored.sequence, size)?.into_path();
    Ok(TlogProof {
        extra: Some(stored.digest.as_bytes().to_vec()),
        index: stored.sequence,
        path,
        checkpoint: signed,
    })
}

/// Verifies the tlog-proof in `file` for the receipt digest `digest` (else the one its extra
/// line holds) under the log key `key` and `quorum` of the `witnesses` (texts or files);
/// returns the digest, the proof and the verified checkpoint.
///
/// # Errors
///
/// [`OpsError::Failed`] for a failed signature, quorum or inclusion check; file and parse
/// errors.
pub fn verify_proof_file(
    file: &Path,
    key: &str,
    witnesses: &[String],
    quorum: usize,
    digest: Option<&str>,
) -> Result<(Digest, TlogProof, VerifiedCheckpoint), OpsError> {
    let proof = TlogProof::parse(&read_file(file)?)
        .map_err(|e| invalid(format!("{}: not a tlog-proof: {e}", file.display())))?;
    let policy = Policy::new(parse_vkey(key)?).with_witnesses(parse_vkeys(witnesses)?, quorum);
    let digest = match (digest, &proof.extra) {
        (Some(text), _) => parse_digest(text, "--digest")?,
        (None, Some(extra)) => {
            let bytes: [u8; 32] = extra.as_slice().try_into().map_err(|_| {
                invalid(format!(
                    "{}: the extra line holds {} bytes, not a 32-byte receipt digest (pass --digest)",
                    file.display(),
                    extra.len()
                ))
            })?;
            Digest::from_bytes(bytes)
        }
        (None, None) => {
            return Err(invalid(format!(
                "{}: no extra line with the receipt digest: pass --digest",
                file.display()
            )));
        }
    };
    let verified = proof
        .verify(&leaf_hash(&digest), &policy)
        .map_err(|e| verify_failed(&e))?;
    Ok((digest, proof, verified))
}

pub mod headers;
pub mod range;
mod summaries;
pub mod tiles;
pub mod witness;

pub use summaries::{checkpoint_json, proof_summary, receipt_proof_json};
