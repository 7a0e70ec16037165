//! A sequence or time range of a receipt chain with its proofs into a signed checkpoint of the
//! chain's log (`lcm export --from-seq A --to-seq B`, `lcm export --since T --until T`), and
//! its verification (`lcm verify`).
//!
//! The document (`lcm-range/2`, JSON, told apart by its `range_version`) holds the store's
//! policy, the deployment, the sealed lifecycle records that name it (its deployment record,
//! the pre-deployment record that one names and the model record that one names), the time
//! window asked for (`null` for a sequence range), the signed checkpoint (C2SP text), the
//! first and last sequence numbers (0-based, inclusive), the predecessor of the first receipt
//! (its digest and inclusion proof; `null` when the range starts the chain) and every receipt
//! of the range in chain order, each with its inclusion proof into the checkpoint (RFC 9162
//! audit paths, hex). Written as the receipts are scanned, one at a time: `k + 1` receipt rows
//! and `O((k / 256 + 1) log n)` log tiles read for `k` receipts (the proofs of receipts in one
//! level-0 tile share their reads, [`crate::log::Prover`]), constant memory. Verified in
//! memory: the document, `O(k log n)`.
//!
//! The deployment's name is authenticated through the receipts: the checkpoint's signature
//! binds the receipts (by their inclusion proofs), every receipt carries the digest of its
//! deployment record and of its model record, and the verifier recomputes the digests of the
//! records the document carries, compares them with the receipts' and reads the name from the
//! deployment record. `lcm-range/1` (the same document without `lifecycle` and `window`)
//! named its deployment unauthenticated and is no longer read.
//!
//! Every other field is bound the same way or refused: `from_seq`, `to_seq` and `previous` by
//! the inclusion proofs at their indices and the receipts' links and count; the policy's
//! `hash_algorithm` and `schema_version` by the recomputed digests, its `commitments` by every
//! receipt's commitments, its `domains` by the kinds of record the document carries, its
//! `kdf_iterations` only by its floor ([`Policy::validate`]); the checkpoint's origin by its
//! signature; unknown fields, keys given twice and inexact numbers are refused.
//!
//! A time window (`since..=until`, microseconds, each end optional) selects the smallest
//! contiguous span of the chain holding every receipt made in the window: from the first such
//! receipt to the last (the store's index on `(chain, timestamp)` finds both). Timestamps of a
//! chain need not grow with its sequence numbers, so receipts of the span may lie outside the
//! window: the verifier checks that the span's first and last receipts lie inside it and
//! reports how many of the span's receipts do. That no receipt outside the span lies in the
//! window is the store's word (the checkpoint proves the receipts it holds, not their absence
//! elsewhere).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use lcm_crypto::CommitmentScheme;
use lcm_crypto::Digest;
use lcm_crypto::merkle::verify_inclusion;
use lcm_model::policy::DomainType;
use lcm_model::records::{DeploymentAnchor, InferenceReceipt, ModelAnchor, PreDeploymentAnchor};
use lcm_model::verify::agree;
use lcm_model::{Claimed, Policy, Record as _, Timestamp};
use lcm_tlog::SignedCheckpoint;
use lcm_tlog::note::{KeyName, SignatureType, SignerKey, VerifierKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{OpsError, fail, invalid, sign_checkpoint};
use crate::export::stream::Counting;
use crate::log::{LOG_ALGORITHM, Log, leaf_hash};
use crate::{Store, StoredReceipt};

/// The version of the range document.
pub const RANGE_VERSION: &str = "lcm-range/2";

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

/// The sealed lifecycle records that name the range's deployment: its deployment record, the
/// pre-deployment record that one names, and the model record that one names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeLifecycle {
    deployment: Claimed<DeploymentAnchor>,
    predeployment: Claimed<PreDeploymentAnchor>,
    model: Claimed<ModelAnchor>,
}

/// The time window a range was selected by (each end inclusive; `None`: unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The earliest time.
    pub since: Option<Timestamp>,
    /// The latest time.
    pub until: Option<Timestamp>,
}

impl Window {
    /// The window of `since..=until` in microseconds since the Unix epoch, `i64::MIN` and
    /// `i64::MAX` standing for no bound (as [`crate::find::time_range`] gives them).
    pub fn from_micros((since, until): (i64, i64)) -> Self {
        Self {
            since: (since != i64::MIN).then(|| Timestamp::from_unix_micros(since)),
            until: (until != i64::MAX).then(|| Timestamp::from_unix_micros(until)),
        }
    }

    /// Whether `t` lies in the window.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| s <= t) && self.until.is_none_or(|u| t <= u)
    }

    fn micros(&self) -> (i64, i64) {
        (
            self.since.map_or(i64::MIN, Timestamp::unix_micros),
            self.until.map_or(i64::MAX, Timestamp::unix_micros),
        )
    }

    fn describe(&self) -> String {
        let end = |t: Option<Timestamp>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
        format!("[{}, {}]", end(self.since), end(self.until))
    }
}

/// The range document as read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeDocument {
    range_version: String,
    policy: Policy,
    deployment: String,
    lifecycle: RangeLifecycle,
    window: Option<Window>,
    checkpoint: String,
    from_seq: u64,
    to_seq: u64,
    previous: Option<Proved>,
    receipts: Vec<RangeReceipt>,
}

/// Why a range document's lifecycle records do not authenticate its deployment and receipts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RangeFailure {
    /// A lifecycle record's digest is not the one recomputed from its content.
    #[error("seal: the document's {which} record: {source}")]
    Seal {
        /// `deployment`, `predeployment` or `model`.
        which: &'static str,
        /// The mismatch.
        source: lcm_model::Error,
    },
    /// The document names a deployment its deployment record is not of.
    #[error(
        "deployment: the document names deployment {named:?}, its deployment record is of {record:?}"
    )]
    DeploymentName {
        /// The name the document gives.
        named: String,
        /// The deployment record's `deployment_id`.
        record: String,
    },
    /// A lifecycle record names another record than the one the document carries.
    #[error(
        "lifecycle: the {from} record's {field} is {expected}, the document's {to} record is {actual}"
    )]
    Link {
        /// The naming record (`deployment` or `predeployment`).
        from: &'static str,
        /// Its field.
        field: &'static str,
        /// The record named (`predeployment` or `model`).
        to: &'static str,
        /// The digest the field holds.
        expected: Digest,
        /// The digest of the record the document carries.
        actual: Digest,
    },
    /// A receipt was made by another deployment (or model) than the document's records.
    #[error(
        "{field}: receipt {receipt_id} (sequence {sequence}) carries {field} {actual}, the document's {which} record is {expected}"
    )]
    Anchor {
        /// The receipt's id.
        receipt_id: String,
        /// Its sequence number.
        sequence: u64,
        /// `deployment_anchor` or `model_anchor`.
        field: &'static str,
        /// `deployment` or `model`.
        which: &'static str,
        /// The digest of the document's record.
        expected: Digest,
        /// The digest the receipt carries.
        actual: Digest,
    },
    /// The document's policy does not allow a kind of record the document carries.
    #[error("policy: the document's policy does not allow {domain:?} records, which it carries")]
    PolicyDomain {
        /// The kind of record refused.
        domain: DomainType,
    },
    /// A receipt's commitment was made under another scheme than the document's policy names.
    #[error(
        "policy: receipt {receipt_id} (sequence {sequence}) commits its {which} under {actual}, the document's policy names {named}"
    )]
    PolicyCommitments {
        /// The receipt's id.
        receipt_id: String,
        /// Its sequence number.
        sequence: u64,
        /// `input` or `output`.
        which: &'static str,
        /// The scheme the policy names.
        named: CommitmentScheme,
        /// The scheme of the receipt's commitment.
        actual: CommitmentScheme,
    },
    /// The span's first or last receipt lies outside the window it was selected by.
    #[error(
        "window: receipt {receipt_id} (sequence {sequence}, made at {at}) ends the span but lies outside the window {window}"
    )]
    Window {
        /// The receipt's id.
        receipt_id: String,
        /// Its sequence number.
        sequence: u64,
        /// Its timestamp.
        at: Timestamp,
        /// The window.
        window: String,
    },
}

impl From<Box<RangeFailure>> for OpsError {
    fn from(f: Box<RangeFailure>) -> Self {
        Self::Range(f)
    }
}

impl RangeLifecycle {
    /// The stored records naming `deployment`: its deployment record (by id), then the
    /// pre-deployment and model records by the digests each names.
    fn of(store: &dyn Store, deployment: &str) -> Result<Self, crate::Error> {
        use crate::export::{by_digest, sealed};
        let stored = store
            .record(DeploymentAnchor::KIND, deployment)?
            .ok_or_else(|| crate::Error::missing(DeploymentAnchor::KIND, deployment))?;
        let deployment: Claimed<DeploymentAnchor> = sealed(&stored)?;
        let predeployment: Claimed<PreDeploymentAnchor> =
            by_digest(store, &deployment.record.predeployment)?;
        let model: Claimed<ModelAnchor> = by_digest(store, &predeployment.record.model_anchor)?;
        Ok(Self {
            deployment,
            predeployment,
            model,
        })
    }

    /// Recomputes the three seals, then checks the deployment record's name is `named`, that
    /// it names the pre-deployment record, and that one the model record.
    fn check(&self, policy: &Policy, named: &str) -> Result<(), Box<RangeFailure>> {
        let seal = |which, r: Result<(), lcm_model::Error>| {
            r.map_err(|source| Box::new(RangeFailure::Seal { which, source }))
        };
        let d = &self.deployment;
        let p = &self.predeployment;
        let m = &self.model;
        seal("deployment", d.verify(policy))?;
        seal("predeployment", p.verify(policy))?;
        seal("model", m.verify(policy))?;
        agree(named, d.record.deployment_id.as_str(), |named, record| {
            Box::new(RangeFailure::DeploymentName {
                named: named.to_owned(),
                record: record.to_owned(),
            })
        })?;
        let link = |from: &'static str, field: &'static str, to: &'static str| {
            move |expected: Digest, actual: Digest| {
                Box::new(RangeFailure::Link {
                    from,
                    field,
                    to,
                    expected,
                    actual,
                })
            }
        };
        agree(
            d.record.predeployment,
            p.digest,
            link("deployment", "predeployment", "predeployment"),
        )?;
        agree(
            p.record.model_anchor,
            m.digest,
            link("predeployment", "model_anchor", "model"),
        )
    }

    /// Checks that `r` was made by this deployment and model.
    fn made(&self, r: &InferenceReceipt) -> Result<(), Box<RangeFailure>> {
        for (field, which, expected, actual) in [
            (
                "deployment_anchor",
                "deployment",
                self.deployment.digest,
                r.deployment_anchor,
            ),
            ("model_anchor", "model", self.model.digest, r.model_anchor),
        ] {
            agree(expected, actual, |expected, actual| {
                Box::new(RangeFailure::Anchor {
                    receipt_id: r.receipt_id.clone(),
                    sequence: r.sequence,
                    field,
                    which,
                    expected,
                    actual,
                })
            })?;
        }
        Ok(())
    }
}

/// What [`write_range`] and [`write_time_range`] wrote.
#[derive(Debug)]
#[non_exhaustive]
pub struct RangeWritten {
    /// The first and last sequence numbers.
    pub range: (u64, u64),
    /// The time window, for a time range.
    pub window: Option<Window>,
    /// How many of the receipts lie in the window (all, for a sequence range).
    pub in_window: u64,
    /// The signed checkpoint the range is proved into.
    pub checkpoint: SignedCheckpoint,
    /// The number of receipts.
    pub receipts: u64,
    /// The bytes written (no final newline).
    pub bytes: u64,
    /// The receipt rows read from the store (the range's, and its predecessor's).
    pub rows_read: u64,
    /// The log tiles read from the store (for the checkpoint's root and every proof).
    pub tiles_read: u64,
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
/// their proofs into a new checkpoint of its log signed by `signer`, and the lifecycle records
/// that name the deployment, to `out`, as they are read.
///
/// # Errors
///
/// [`OpsError::Invalid`] for an empty, reversed or out-of-chain range or a non-SHA-256 policy
/// (nothing is written then); [`OpsError::Store`] for read and write failures, and
/// [`crate::Error::Missing`] for a deployment whose lifecycle records are not stored.
pub fn write_range(
    store: &dyn Store,
    deployment: &str,
    (from, to): (u64, u64),
    signer: &SignerKey,
    out: &mut dyn Write,
) -> Result<RangeWritten, OpsError> {
    let log = open_log(store, deployment)?;
    let size = log.size();
    if from > to || to >= size {
        return Err(invalid(format!(
            "--from-seq {from} --to-seq {to}: the chain of deployment {deployment} holds sequence numbers 0 to {} (inclusive)",
            size.saturating_sub(1)
        )));
    }
    write_span(store, &log, (from, to), None, signer, out)
}

/// Writes the smallest contiguous span of `deployment`'s chain that holds every receipt made
/// in the window `since..=until` (microseconds since the Unix epoch, `i64::MIN` and
/// `i64::MAX` for no bound, as [`crate::find::time_range`] gives them), found through the
/// store's index on `(chain, timestamp)`, as [`write_range`] writes a sequence range, with the
/// window recorded in the document.
///
/// # Errors
///
/// [`OpsError::Invalid`] when `since` is after `until` or no receipt of the chain was made in
/// the window (nothing is written then); as [`write_range`].
pub fn write_time_range(
    store: &dyn Store,
    deployment: &str,
    (since, until): (i64, i64),
    signer: &SignerKey,
    out: &mut dyn Write,
) -> Result<RangeWritten, OpsError> {
    let window = Window::from_micros((since, until));
    if since > until {
        return Err(invalid(format!(
            "--since {} is after --until {}",
            window.since.map(|t| t.to_string()).unwrap_or_default(),
            window.until.map(|t| t.to_string()).unwrap_or_default(),
        )));
    }
    let log = open_log(store, deployment)?;
    let span = store.time_span(deployment, since, until)?.ok_or_else(|| {
        invalid(format!(
            "no receipt of deployment {deployment} was made in {}",
            window.describe()
        ))
    })?;
    write_span(store, &log, span, Some(window), signer, out)
}

/// What a range document holds: a sequence range (`lcm export --from-seq A --to-seq B`) or
/// the span of a time window (`--since`/`--until`, as [`crate::find::time_range`] gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// The sequence numbers `from..=to`, from 0.
    Sequence(u64, u64),
    /// The window `since..=until`, in microseconds since the Unix epoch.
    Time(i64, i64),
}

/// Writes the range document of `selection` ([`write_range`] or [`write_time_range`]) and a
/// final newline to `out`.
///
/// # Errors
///
/// As [`write_range`] and [`write_time_range`]; [`OpsError::Store`] when the newline cannot
/// be written.
pub fn write_selection(
    store: &dyn Store,
    deployment: &str,
    selection: Selection,
    signer: &SignerKey,
    out: &mut dyn Write,
) -> Result<RangeWritten, OpsError> {
    let made = match selection {
        Selection::Sequence(from, to) => write_range(store, deployment, (from, to), signer, out),
        Selection::Time(since, until) => {
            write_time_range(store, deployment, (since, until), signer, out)
        }
    }?;
    out.write_all(b"\n").map_err(crate::Error::Write)?;
    Ok(made)
}

/// The log of `deployment`'s chain, under a SHA-256 policy.
fn open_log<'a>(store: &'a dyn Store, deployment: &str) -> Result<Log<'a>, OpsError> {
    if store.policy()?.hash_algorithm != LOG_ALGORITHM {
        return Err(invalid(
            "a range is proved into the chain's C2SP log, which needs a SHA-256 policy",
        ));
    }
    Ok(Log::open(store, deployment)?)
}

/// Writes the document of the receipts `from..=to` (in the log) as they are scanned.
fn write_span(
    store: &dyn Store,
    log: &Log<'_>,
    (from, to): (u64, u64),
    window: Option<Window>,
    signer: &SignerKey,
    out: &mut dyn Write,
) -> Result<RangeWritten, OpsError> {
    let deployment = log.deployment();
    let size = log.size();
    let policy = store.policy()?;
    let lifecycle = RangeLifecycle::of(store, deployment)?;
    let checkpoint = sign_checkpoint(log, signer)?;
    let rows = AtomicU64::new(0);
    let scan = |first: u64,
                last: u64,
                visit: &mut dyn FnMut(StoredReceipt) -> Result<(), crate::Error>| {
        store.scan_receipts(deployment, first, Some(last), &mut |r| {
            rows.fetch_add(1, Ordering::Relaxed);
            visit(r)
        })
    };
    let previous = if from == 0 {
        None
    } else {
        let mut digest = None;
        scan(from - 1, from - 1, &mut |r| {
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
        "lifecycle": lifecycle,
        "window": window,
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
    let (mut count, mut in_window) = (0u64, 0u64);
    let inside = window.map(|w| w.micros());
    let mut prover = log.prover(size)?;
    scan(from, to, &mut |r| {
        let proof = prover.proof(r.sequence)?.into_path();
        let proof = serde_json::to_string(&proof)?;
        let sep = if count == 0 { "" } else { "," };
        write!(
            w,
            "{sep}\n    {{\"receipt\": {}, \"proof\": {proof}}}",
            r.json
        )
        .map_err(crate::Error::Write)?;
        count += 1;
        in_window += u64::from(inside.is_none_or(|(s, u)| (s..=u).contains(&r.timestamp)));
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
        window,
        in_window,
        checkpoint,
        receipts: count,
        bytes: w.bytes,
        rows_read: rows.into_inner(),
        tiles_read: log.tiles_read(),
    })
}

impl RangeWritten {
    /// What `lcm export --from-seq --to-seq --out PATH` (or `--since --until`) says: the JSON
    /// object and the line.
    pub fn summary(&self, path: &Path, deployment: &str) -> (Value, String) {
        let c = self.checkpoint.checkpoint();
        let (from, to) = self.range;
        let mut value = json!({
            "kind": "range", "path": path.display().to_string(), "bytes": self.bytes,
            "deployment": deployment, "from_seq": from, "to_seq": to,
            "receipts": self.receipts, "origin": c.origin(), "size": c.size(),
            "root": c.root().to_hex(),
        });
        let mut line = format!(
            "wrote range {}: receipts {from} to {to} of {deployment} ({} receipts), proved into {} size {}",
            path.display(),
            self.receipts,
            c.origin(),
            c.size()
        );
        if let Some(w) = &self.window {
            windowed(&mut value, &mut line, w, self.in_window);
        }
        (value, line)
    }
}

/// The window and the count of receipts in it, added to a summary.
fn windowed(value: &mut Value, line: &mut String, w: &Window, in_window: u64) {
    value["window"] = json!(w);
    value["in_window"] = in_window.into();
    line.push_str(&format!("; {in_window} of them made in {}", w.describe()));
}

mod verify;
pub use verify::{RangeVerified, read_if_range, verify_range};
