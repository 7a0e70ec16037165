//! The store's integrity check (`lcm check`): everything stored is recomputed.
//!
//! - the backend's own check ([`Store::integrity_check`], `PRAGMA integrity_check` for
//!   `SQLite`), and the schema against the one the migrations create: every table, index and
//!   append-only trigger, so a dropped trigger is reported;
//! - the policy against the policy sealed when the store was made, and each chain's
//!   commitment seed against the check value recorded when the seed was made;
//! - every record: its JSON is parsed as its kind's type (unknown fields refused), is
//!   canonical, and hashes to the stored digest;
//! - the lifecycles: the managers are rebuilt from every record ([`crate::lifecycle::restore`]),
//!   which re-checks what links records to each other (splits to their family, checkpoint
//!   chains, snapshots, pre-deployments to their session, status histories, release roots);
//! - every receipt chain (one per deployment), end to end: the deployment is stored, each
//!   receipt's digest is recomputed, names that deployment, its sequence counts up from 0
//!   without gaps, and it links to the digest before it
//!   (`lcm_managers::verify_receipt_segment`, in segments, so memory stays bounded);
//! - every batch of every chain: recomputed from its receipts with `InferenceBatchBuilder`,
//!   it must equal the stored batch, and the batches must not overlap;
//! - every receipt commits under the policy's commitment scheme (the rule the bundle
//!   verifier applies);
//! - the rotations of the store's signing key ([`crate::keys::verify_chain`]): each
//!   statement's signatures by the old and the new key, its link and place in the chain, and
//!   that its old key is the current key at that point, from the first key.
//!
//! What it cannot see: a store whose newest receipts (with their batches) were deleted by
//! someone who then restored the triggers is a consistent, shorter store. Only a header or
//! checkpoint signed before the deletion reveals it.

use lcm_crypto::Digest;
use lcm_managers::{InferenceBatchBuilder, ReceiptLink, verify_receipt_segment};
use lcm_model::records::{
    DatasetFamilyAnchor, DatasetSplitAnchor, DeploymentAnchor, DeploymentStatusEvent,
    InferenceBatch, InferenceBatchRoot, InferenceReceipt, ModelAnchor, PreDeploymentAnchor,
    ReleaseRoot, TestEvaluationAnchor, TrainingCheckpoint, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, Policy, Record, canonical};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::lifecycle::views::plural;
use crate::{Store, StoredReceipt, StoredRecord};
use lcm_managers::Project;

/// How many receipts are verified as one segment.
const SEGMENT: usize = 4096;

/// What failed, with the stage and the item.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// `SQLite`'s own check or a stored value's shape.
    #[error("stage database: {0}")]
    Database(#[source] crate::Error),
    /// The store's own settings: its schema and triggers, its sealed policy, a chain seed's
    /// check value (the error names the stage and field).
    #[error("{0}")]
    Store(#[source] crate::Error),
    /// A record that does not parse, is not canonical, or does not hash to its digest.
    #[error("stage records: {kind} {id}: {what}")]
    Record {
        /// The record kind.
        kind: String,
        /// Its id.
        id: String,
        /// What is wrong.
        what: String,
    },
    /// Evidence that does not match the record that binds it.
    #[error("stage evidence: {kind} {id}: {what}")]
    Evidence {
        /// The evidence kind.
        kind: String,
        /// Its id.
        id: String,
        /// What is wrong.
        what: String,
    },
    /// Records that do not fit together (a forked checkpoint chain, a status history with a
    /// gap, a release root its leaves do not give, ...).
    #[error("stage lifecycle: {0}")]
    Lifecycle(#[source] Box<crate::Error>),
    /// A chain's transparency log: a tile that is not the tree of the chain's receipts, or a
    /// size that is not the chain's length.
    #[error("log of deployment {deployment}: {source}")]
    Log {
        /// The deployment whose chain's log it is.
        deployment: String,
        /// What the log's audit found.
        #[source]
        source: Box<crate::Error>,
    },
    /// A receipt chain.
    #[error(
        "stage receipts: chain of {deployment}: receipt {receipt_id} (sequence {sequence}): {what}"
    )]
    Receipt {
        /// The deployment whose chain it is.
        deployment: String,
        /// The receipt id.
        receipt_id: String,
        /// Its stored sequence number.
        sequence: u64,
        /// What is wrong.
        what: String,
    },
    /// A batch.
    #[error("stage batches: chain of {deployment}: batch {window_id}: {what}")]
    Batch {
        /// The deployment whose chain it is.
        deployment: String,
        /// The window id.
        window_id: String,
        /// What is wrong.
        what: String,
    },
}

/// What the check covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Records checked.
    pub records: u64,
    /// Receipts checked, in all chains.
    pub receipts: u64,
    /// Batches checked, in all chains.
    pub batches: u64,
    /// Evidence checked.
    pub evidence: u64,
    /// Each chain, in the order they were opened.
    pub chains: Vec<ChainReport>,
    /// Rotations of the store's signing key checked.
    pub key_rotations: u64,
}

impl std::fmt::Display for Report {
    /// The report as `lcm check` prints it: a summary line, then a line per chain.
    ///
    /// ```
    /// use lcm_store::check::{ChainReport, Report};
    ///
    /// let mut report = Report {
    ///     records: 2,
    ///     receipts: 1,
    ///     ..Default::default()
    /// };
    /// assert_eq!(report.to_string(), "store ok: 2 records, 1 receipt in 0 chains, 0 batches");
    /// report.chains.push(ChainReport {
    ///     deployment: "dep".to_owned(),
    ///     receipts: 1,
    ///     batches: 0,
    ///     head: None,
    /// });
    /// assert_eq!(
    ///     report.to_string(),
    ///     "store ok: 2 records, 1 receipt in 1 chain, 0 batches\n  chain of dep: 1 receipt, 0 batches, head none"
    /// );
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "store ok: {}, {} in {}, {}",
            plural(self.records, "record", "records"),
            plural(self.receipts, "receipt", "receipts"),
            plural(self.chains.len(), "chain", "chains"),
            plural(self.batches, "batch", "batches"),
        )?;
        if self.key_rotations > 0 {
            write!(
                f,
                ", {}",
                plural(self.key_rotations, "key rotation", "key rotations")
            )?;
        }
        for c in &self.chains {
            write!(
                f,
                "\n  chain of {}: {}, {}, head {}",
                c.deployment,
                plural(c.receipts, "receipt", "receipts"),
                plural(c.batches, "batch", "batches"),
                c.head.map_or_else(|| "none".to_owned(), |d| d.to_string())
            )?;
        }
        Ok(())
    }
}

/// What the check covered of one receipt chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// The deployment whose chain it is.
    pub deployment: String,
    /// Its receipts.
    pub receipts: u64,
    /// Its batches.
    pub batches: u64,
    /// The head's digest, if the chain has a receipt.
    pub head: Option<Digest>,
}

/// Why a stored record could not be recomputed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecomputeError {
    /// The JSON does not parse as the kind's type.
    #[error("does not parse: {0}")]
    Parse(#[source] serde_json::Error),
    /// The record could not be encoded or hashed (boxed, as it is large).
    #[error(transparent)]
    Model(Box<lcm_model::Error>),
    /// The kind is not a record kind of this build.
    #[error("unknown record kind {0}")]
    UnknownKind(String),
}

fn typed<T: Record + DeserializeOwned>(
    policy: &Policy,
    json: &str,
) -> Result<(Digest, String), RecomputeError> {
    let model = |e| RecomputeError::Model(Box::new(e));
    let record: T = serde_json::from_str(json).map_err(RecomputeError::Parse)?;
    let canon = canonical::to_string(&record).map_err(model)?;
    let digest = record.digest(policy).map_err(model)?;
    Ok((digest, canon))
}

/// The digest and canonical JSON of a stored record of `kind`, parsed as its type.
///
/// # Errors
///
/// [`RecomputeError`] when the kind is unknown or the JSON does not parse as that kind.
pub fn recompute(
    policy: &Policy,
    kind: &str,
    json: &str,
) -> Result<(Digest, String), RecomputeError> {
    use crate::lifecycle::gates::{PolicyOverride, SyntheticMarker};
    // One arm a record type: its `KIND` is recomputed as that type.
    macro_rules! by_kind {
        ($($t:ident),+ $(,)?) => {
            match kind {
                $($t::KIND => typed::<$t>(policy, json),)+
                other => Err(RecomputeError::UnknownKind(other.to_owned())),
            }
        };
    }
    by_kind!(
        DatasetFamilyAnchor,
        DatasetSplitAnchor,
        ModelAnchor,
        TrainingSession,
        TrainingCheckpoint,
        TrainingSnapshot,
        PreDeploymentAnchor,
        DeploymentAnchor,
        DeploymentStatusEvent,
        TestEvaluationAnchor,
        ReleaseRoot,
        InferenceBatchRoot,
        InferenceBatch,
        SyntheticMarker,
        PolicyOverride,
    )
}

fn parse_receipt(
    policy: &Policy,
    deployment: &str,
    release: Release,
    r: &StoredReceipt,
) -> Result<Claimed<InferenceReceipt>, Failure> {
    let fail = |what: String| Failure::Receipt {
        deployment: deployment.to_owned(),
        receipt_id: r.receipt_id.clone(),
        sequence: r.sequence,
        what,
    };
    let record: InferenceReceipt =
        serde_json::from_str(&r.json).map_err(|e| fail(format!("does not parse: {e}")))?;
    if record.sequence != r.sequence {
        return Err(fail(format!(
            "field sequence: stored column {}, record says {}",
            r.sequence, record.sequence
        )));
    }
    if record.receipt_id != r.receipt_id {
        return Err(fail(format!(
            "field receipt_id: stored column {}, record says {}",
            r.receipt_id, record.receipt_id
        )));
    }
    if record.timestamp.unix_micros() != r.timestamp {
        return Err(fail("field timestamp: column and record differ".to_owned()));
    }
    if record.deployment_anchor != release.deployment {
        return Err(fail(format!(
            "field deployment_anchor: the chain is deployment {deployment}'s ({}), the receipt \
             names {}",
            release.deployment, record.deployment_anchor
        )));
    }
    if record.model_anchor != release.model {
        return Err(fail(format!(
            "field model_anchor: deployment {deployment} releases model anchor {}, the receipt \
             names {}",
            release.model, record.model_anchor
        )));
    }
    for (field, c) in [
        ("input_commitment", &record.input_commitment),
        ("output_commitment", &record.output_commitment),
    ] {
        if c.scheme != policy.commitments {
            return Err(fail(format!(
                "field {field}: committed under {:?}, the store's policy says {:?}",
                c.scheme, policy.commitments
            )));
        }
    }
    Ok(Claimed {
        record,
        digest: r.digest,
    })
}

/// Checks everything in `store` (see the module docs); `progress` is called with the number
/// of receipts checked so far.
///
/// # Errors
///
/// The first [`Failure`].
pub fn check_store(store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<Report, Failure> {
    store.integrity_check().map_err(database)?;
    let report = check_contents(store, progress)?;
    // Last, so that an edit of the contents is named as such even when the editor also
    // dropped the triggers that would have refused it.
    store.schema_check().map_err(database)?;
    Ok(report)
}

/// Checks the records, receipts and batches of any [`Store`] (without `SQLite`'s own check).
///
/// # Errors
///
/// The first [`Failure`].
pub fn check_contents(store: &dyn Store, progress: &mut dyn FnMut(u64)) -> Result<Report, Failure> {
    let policy = store.policy().map_err(database)?;
    for deployment in store.chains().map_err(database)? {
        // The backend checks the seed against its check value as it reads it.
        store.chain_seed(&deployment).map_err(database)?;
    }
    let mut report = Report::default();
    for r in store.records(None).map_err(Failure::Database)? {
        let fail = |what: String| Failure::Record {
            kind: r.kind.clone(),
            id: r.id.clone(),
            what,
        };
        let (digest, canon) =
            recompute(&policy, &r.kind, &r.json).map_err(|e| fail(e.to_string()))?;
        if canon != r.json {
            return Err(fail("json is not canonical".to_owned()));
        }
        if digest != r.digest {
            return Err(fail(format!(
                "field digest: stored {}, recomputed {digest}",
                r.digest
            )));
        }
        report.records += 1;
    }

    check_evidence(store, &policy, &mut report)?;
    let ctx = lcm_managers::Context::with_policy(policy.clone())
        .map_err(|e| Failure::Lifecycle(Box::new(e.into())))?;
    let managers =
        crate::lifecycle::restore(&ctx, store).map_err(|e| Failure::Lifecycle(Box::new(e)))?;

    let mut done = 0u64;
    for deployment in store.chains().map_err(Failure::Database)? {
        let release = release_of(&managers, &deployment)?;
        let chain = check_chain(store, &policy, &deployment, release, done, progress)?;
        // The chain's transparency log: every stored tile recomputed from the receipts just
        // checked, and its size against the chain's length.
        crate::log::audit(store, &deployment).map_err(|source| Failure::Log {
            deployment: deployment.clone(),
            source: Box::new(source),
        })?;
        done = done.saturating_add(chain.receipts);
        report.receipts = report.receipts.saturating_add(chain.receipts);
        report.batches = report.batches.saturating_add(chain.batches);
        report.chains.push(chain);
    }
    progress(done);
    report.key_rotations = crate::keys::rotations(store).map_err(database)?.len() as u64;
    Ok(report)
}

/// `e` as [`Failure::Store`] when it is a failed check of the store's own settings,
/// otherwise as [`Failure::Database`].
fn database(e: crate::Error) -> Failure {
    if e.is_verification_failure() {
        Failure::Store(e)
    } else {
        Failure::Database(e)
    }
}

/// The anchors every receipt of `deployment`'s chain must name: the deployment's, and the
/// model its pre-deployment released.
fn release_of(managers: &Project, deployment: &str) -> Result<Release, Failure> {
    let fail = |what: &str| Failure::Receipt {
        deployment: deployment.to_owned(),
        receipt_id: String::new(),
        sequence: 0,
        what: what.to_owned(),
    };
    let dep = managers
        .deployments
        .deployment(deployment)
        .ok_or_else(|| fail("the chain's deployment anchor is not stored"))?;
    let pre = managers
        .deployments
        .predeployment(&dep.record().predeployment_id)
        .ok_or_else(|| fail("the chain's pre-deployment anchor is not stored"))?;
    Ok(Release {
        deployment: dep.digest(),
        model: pre.record().model_anchor,
    })
}

/// The anchors a chain's receipts name.
#[derive(Debug, Clone, Copy)]
struct Release {
    deployment: Digest,
    model: Digest,
}

/// Checks one chain and its batches; `progress` gets `before` plus the receipts checked.
fn check_chain(
    store: &dyn Store,
    policy: &Policy,
    deployment: &str,
    release: Release,
    before: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<ChainReport, Failure> {
    let mut report = ChainReport {
        deployment: deployment.to_owned(),
        ..ChainReport::default()
    };
    // The chain, in segments.
    let mut segment: Vec<Claimed<InferenceReceipt>> = Vec::with_capacity(SEGMENT);
    let mut after: Option<(Digest, u64)> = None;
    let mut count = 0u64;
    let flush = |segment: &mut Vec<Claimed<InferenceReceipt>>,
                 after: &mut Option<(Digest, u64)>|
     -> Result<(), Failure> {
        if let Err(e) = verify_receipt_segment(policy, *after, segment) {
            let (receipt_id, sequence) = segment
                .first()
                .map(|r| (r.record.receipt_id.clone(), r.record.sequence))
                .unwrap_or_default();
            return Err(Failure::Receipt {
                deployment: deployment.to_owned(),
                receipt_id,
                sequence,
                what: format!("in the segment starting here: {e}"),
            });
        }
        if let Some(last) = segment.last() {
            *after = Some((last.digest, last.record.sequence));
        }
        segment.clear();
        Ok(())
    };
    let mut inner: Option<Failure> = None;
    let scanned = store.scan_receipts(deployment, 0, None, &mut |r| {
        let step = (|| {
            segment.push(parse_receipt(policy, deployment, release, &r)?);
            count += 1;
            if segment.len() == SEGMENT {
                flush(&mut segment, &mut after)?;
                progress(before.saturating_add(count));
            }
            Ok(())
        })();
        step.map_err(|f: Failure| {
            inner = Some(f);
            crate::Error::Corrupt {
                what: "receipt check failed".to_owned(),
            }
        })
    });
    if let Some(f) = inner {
        return Err(f);
    }
    scanned.map_err(Failure::Database)?;
    if !segment.is_empty() {
        flush(&mut segment, &mut after)?;
    }
    report.receipts = count;
    report.head = after.map(|(d, _)| d);

    // The batches.
    let mut next = 0u64;
    for b in store.batches(deployment).map_err(Failure::Database)? {
        let fail = |what: String| Failure::Batch {
            deployment: deployment.to_owned(),
            window_id: b.window_id.clone(),
            what,
        };
        if b.first_sequence != next {
            return Err(fail(format!(
                "field first_sequence: expected {next}, got {}",
                b.first_sequence
            )));
        }
        let (digest, canon) =
            recompute(policy, InferenceBatch::KIND, &b.json).map_err(|e| fail(e.to_string()))?;
        if canon != b.json || digest != b.digest {
            return Err(fail(
                "field digest: stored batch does not recompute".to_owned(),
            ));
        }
        let mut builder = InferenceBatchBuilder::new(policy, &b.window_id);
        let mut err = None;
        store
            .scan_receipts(
                deployment,
                b.first_sequence,
                Some(b.last_sequence),
                &mut |r| {
                    if let Err(e) = builder.push(ReceiptLink {
                        digest: r.digest,
                        sequence: r.sequence,
                        prev_receipt: serde_json::from_str::<InferenceReceipt>(&r.json)
                            .ok()
                            .and_then(|x| x.prev_receipt),
                        timestamp: lcm_model::Timestamp::from_unix_micros(r.timestamp),
                    }) {
                        err = Some(e.to_string());
                    }
                    Ok(())
                },
            )
            .map_err(Failure::Database)?;
        if let Some(e) = err {
            return Err(fail(e));
        }
        let rebuilt = builder.finish().map_err(|e| fail(e.to_string()))?;
        let stored: InferenceBatch =
            serde_json::from_str(&b.json).map_err(|e| fail(e.to_string()))?;
        if rebuilt != stored {
            return Err(fail(format!(
                "field root: stored {}, recomputed {} over receipts {}..={}",
                stored.root, rebuilt.root, b.first_sequence, b.last_sequence
            )));
        }
        next = b.last_sequence.saturating_add(1);
        report.batches += 1;
    }
    Ok(report)
}

/// `json` parsed as a `T`, or the failure `fail` makes of why not.
fn parse<T: DeserializeOwned>(json: &str, fail: &impl Fn(String) -> Failure) -> Result<T, Failure> {
    serde_json::from_str(json).map_err(|x| fail(x.to_string()))
}

/// The digest evidence gives (`computed`) must be the one its record binds (`bound`);
/// `(field, holder, gives)` name them in the failure.
fn same_digest<E: std::fmt::Display>(
    computed: Result<Digest, E>,
    bound: Digest,
    (field, holder, gives): (&str, &str, &str),
    fail: &impl Fn(String) -> Failure,
) -> Result<(), Failure> {
    let d = computed.map_err(|x| fail(x.to_string()))?;
    if d != bound {
        return Err(fail(format!(
            "field {field}: {holder} has {bound}, {gives} {d}"
        )));
    }
    Ok(())
}

/// Evidence must match what its record binds: split record ids (and content digests) the
/// split anchor's roots, training metrics the snapshot's `metrics_digest`, an SBOM the
/// pre-deployment anchor's `sbom_digest`.
fn check_evidence(store: &dyn Store, policy: &Policy, report: &mut Report) -> Result<(), Failure> {
    use crate::lifecycle::{SBOM, SPLIT_RECORDS, SplitRecords, TRAINING_METRICS};
    use lcm_model::records::{Sbom, TrainingMetrics};

    for e in store.evidence(None).map_err(Failure::Database)? {
        let fail = |what: String| Failure::Evidence {
            kind: e.kind.clone(),
            id: e.id.clone(),
            what,
        };
        let record = |kind: &str| -> Result<StoredRecord, Failure> {
            store
                .record(kind, &e.id)
                .map_err(Failure::Database)?
                .ok_or_else(|| fail(format!("no {kind} {} for it", e.id)))
        };
        match e.kind.as_str() {
            SPLIT_RECORDS => {
                let ev: SplitRecords = parse(&e.json, &fail)?;
                let anchor: DatasetSplitAnchor =
                    parse(&record(DatasetSplitAnchor::KIND)?.json, &fail)?;
                lcm_model::verify::verify_split_records(policy, &anchor, &ev.record_ids)
                    .map_err(|x| fail(x.to_string()))?;
                if !ev.content_digests.is_empty() || anchor.contents_root.is_some() {
                    lcm_model::verify::verify_split_contents(policy, &anchor, &ev.content_digests)
                        .map_err(|x| fail(x.to_string()))?;
                }
            }
            TRAINING_METRICS => {
                let m: TrainingMetrics = parse(&e.json, &fail)?;
                let snap: TrainingSnapshot = parse(&record(TrainingSnapshot::KIND)?.json, &fail)?;
                let field = ("metrics_digest", "snapshot", "metrics give");
                same_digest(
                    m.compute_metrics_digest(policy),
                    snap.metrics_digest,
                    field,
                    &fail,
                )?;
            }
            SBOM => {
                let sbom: Sbom = parse(&e.json, &fail)?;
                let pre: PreDeploymentAnchor =
                    parse(&record(PreDeploymentAnchor::KIND)?.json, &fail)?;
                let field = ("sbom_digest", "pre-deployment anchor", "sbom gives");
                same_digest(
                    sbom.compute_sbom_digest(policy),
                    pre.sbom_digest,
                    field,
                    &fail,
                )?;
            }
            other => return Err(fail(format!("unknown evidence kind {other}"))),
        }
        report.evidence += 1;
    }
    Ok(())
}
