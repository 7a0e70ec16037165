//! Headers, bundles and receipt capsules made from a store (`lcm header`, `lcm export`,
//! `lcm materialize`).
//!
//! A store holds any number of lifecycles, one per deployment: a lifecycle is found from its
//! release root (kept under the deployment's id), and its receipts are that deployment's
//! chain. [`lifecycle_of`] and [`chain_of`] pick the one a command means.
//!
//! [`assemble`] is the one bundle assembler: the facade's `complete_audit_trail` (from a
//! project in memory) and [`bundle`]/[`header`] (from a project rebuilt from the store)
//! both make their lifecycle with it.

use lcm_capsule::{
    BatchEvidence, Bundle, Capsule, CapsuleHeader, DatasetEvidence, DeploymentEvidence,
    InferenceEvidence, ItemLog, Lifecycle, MerkleLog, PreDeploymentEvidence, SplitEvidence,
    TrainingEvidence,
};
use lcm_capsule::{DisclosedValue, Disclosure};
use lcm_crypto::SigningKey;
use lcm_managers::{Context, Project};
use lcm_model::records::{
    InferenceBatch, InferenceReceipt, ModelAnchor, PreDeploymentAnchor, ReleaseRoot,
    TestEvaluationAnchor, TrainingSnapshot,
};
use lcm_model::{Claimed, Policy, Record, Sealed, Timestamp};

/// The claimed form of sealed records, as a document carries them.
fn claims<T: Clone>(sealed: &[Sealed<T>]) -> Vec<Claimed<T>> {
    sealed.iter().cloned().map(Into::into).collect()
}
use serde::de::DeserializeOwned;

use crate::lifecycle;
use crate::log::ChainLog;

mod document;
pub(crate) mod stream;

use crate::{Error, Store, StoredRecord};
pub use document::{
    Document, Layout, MaterializeError, capsule_written, document, materialize, write_document,
    written,
};
pub use stream::{write_bundle, write_bundle_as};

fn parse<T: DeserializeOwned>(kind: &str, id: &str, json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|source| Error::Parse {
        kind: kind.to_owned(),
        id: id.to_owned(),
        source,
    })
}

/// A stored record parsed as its type, with its stored digest (not recomputed here).
///
/// # Errors
///
/// [`Error::Parse`].
pub fn sealed<T: Record + DeserializeOwned>(r: &StoredRecord) -> Result<Claimed<T>, Error> {
    Ok(Claimed {
        record: parse(&r.kind, &r.id, &r.json)?,
        digest: r.digest,
    })
}

/// Every stored record of `T`'s kind, parsed, with its stored digest.
///
/// # Errors
///
/// Store failures, [`Error::Parse`].
pub fn all<T: Record + DeserializeOwned>(store: &dyn Store) -> Result<Vec<Claimed<T>>, Error> {
    store.records(Some(T::KIND))?.iter().map(sealed).collect()
}

/// The stored record of `T`'s kind with this digest (found through the store's digest
/// index, not by scanning the kind).
///
/// # Errors
///
/// Store failures, [`Error::Missing`], [`Error::Parse`].
pub fn by_digest<T: Record + DeserializeOwned>(
    store: &dyn Store,
    digest: &lcm_crypto::Digest,
) -> Result<Claimed<T>, Error> {
    let r = store
        .record_by_digest(T::KIND, digest)?
        .ok_or_else(|| Error::missing(T::KIND, digest.to_string()))?;
    sealed(&r)
}

/// The evidence of `kind` kept for the record `id`, parsed.
///
/// # Errors
///
/// Store failures, [`Error::Missing`], [`Error::Parse`].
pub fn evidence<T: DeserializeOwned>(store: &dyn Store, kind: &str, id: &str) -> Result<T, Error> {
    let e = store
        .evidence_of(kind, id)?
        .ok_or_else(|| Error::missing("evidence", format!("{kind} {id}")))?;
    parse(&e.kind, &e.id, &e.json)
}

/// Which release of a project to assemble: the model by name and version, the training
/// session that produced the deployed weights, the deployment, its test evaluation, and the
/// inference batch windows in chain order (receipts after the last window form an open
/// group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditTrailRequest<'a> {
    /// The model's name.
    pub model_name: &'a str,
    /// The model's version.
    pub version: &'a str,
    /// The training session that produced the deployed weights.
    pub session_id: &'a str,
    /// The deployment whose receipts are exported.
    pub deployment_id: &'a str,
    /// The test evaluation of the release.
    pub test_id: &'a str,
    /// The inference batch windows, in chain order.
    pub batch_windows: &'a [&'a str],
}

/// The one bundle assembler: the [`Lifecycle`] of one release of `project`, with `inference`
/// as its receipt evidence. It holds the dataset family and all its splits (with their
/// record ids), the model anchor, the session with its checkpoints, metrics and snapshot,
/// the pre-deployment with its SBOM, the deployment with its status history, the test
/// evaluation and the release root. The facade's `complete_audit_trail` and the store's
/// [`bundle`] and [`header`] both build their lifecycle here.
///
/// # Errors
///
/// [`Error::Missing`] naming (in words: `model`, `training session`, `deployment`, ...) the
/// first record the project does not have.
pub fn assemble(
    project: &Project,
    request: &AuditTrailRequest<'_>,
    inference: InferenceEvidence,
) -> Result<Lifecycle, Error> {
    let model = project
        .models
        .model_anchor(request.model_name, request.version)
        .ok_or_else(|| {
            Error::missing(
                "model",
                format!("{}@{}", request.model_name, request.version),
            )
        })?;
    let run = project
        .training
        .training_session(request.session_id)
        .ok_or_else(|| Error::missing("training session", request.session_id))?;
    let (Some(metrics), Some(snapshot)) = (run.metrics(), run.snapshot()) else {
        return Err(Error::missing(
            "completed training session",
            request.session_id,
        ));
    };
    let session = run.session();
    let first_split = session
        .record()
        .data_splits
        .values()
        .next()
        .ok_or_else(|| Error::missing("dataset splits", request.session_id))?;
    let datasets = &project.datasets;
    let family_id = datasets
        .find_split_anchor(first_split)
        .map(|a| a.record().family_id.clone())
        .ok_or_else(|| Error::missing("split anchor", first_split.to_string()))?;
    let family = datasets
        .dataset_family(&family_id)
        .ok_or_else(|| Error::missing("dataset family", &family_id))?;
    // Every split of the family: the datasets root is over all of them, and the test
    // evaluation references the test split.
    let mut splits = Vec::new();
    for (split, anchor) in datasets.split_anchors(&family_id) {
        let record_ids = datasets
            .split_records(&family_id, split)
            .ok_or_else(|| Error::missing("split records", format!("{family_id}/{split}")))?
            .to_vec();
        let content_digests = datasets
            .split_contents(&family_id, split)
            .map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            .unwrap_or_default();
        splits.push(SplitEvidence {
            anchor: anchor.clone().into(),
            record_ids,
            content_digests,
        });
    }
    let deployments = &project.deployments;
    let deployment = deployments
        .deployment(request.deployment_id)
        .ok_or_else(|| Error::missing("deployment", request.deployment_id))?;
    let status_history = claims(
        deployments
            .status_history(request.deployment_id)
            .ok_or_else(|| Error::missing("deployment history", request.deployment_id))?,
    );
    let pre_id = &deployment.record().predeployment_id;
    let predeployment = deployments
        .predeployment(pre_id)
        .ok_or_else(|| Error::missing("pre-deployment", pre_id))?;
    let sbom = deployments
        .sbom(pre_id)
        .ok_or_else(|| Error::missing("sbom", pre_id))?;
    let test_evaluation = project
        .roots
        .test_evaluation(request.test_id)
        .ok_or_else(|| Error::missing("test evaluation", request.test_id))?;
    let release = project
        .roots
        .release_root(request.deployment_id)
        .ok_or_else(|| Error::missing("release root", request.deployment_id))?;
    Ok(Lifecycle {
        dataset: DatasetEvidence {
            family: family.clone().into(),
            splits,
        },
        model: model.clone().into(),
        training: TrainingEvidence {
            session: session.clone().into(),
            checkpoints: claims(run.checkpoints()),
            metrics: metrics.clone(),
            snapshot: snapshot.clone().into(),
        },
        predeployment: PreDeploymentEvidence {
            anchor: predeployment.clone().into(),
            sbom: sbom.clone(),
        },
        deployment: DeploymentEvidence {
            anchor: deployment.clone().into(),
            status_history,
        },
        test_evaluation: test_evaluation.clone().into(),
        inference,
        release: release.clone().into(),
    })
}

/// The receipts `project`'s inference manager holds, grouped by the batch `windows` (in
/// chain order; receipts after the last window form a final group without a batch record).
///
/// # Errors
///
/// [`Error::Missing`] (`inference batch`) for a window the project does not have.
pub fn project_inference(project: &Project, windows: &[&str]) -> Result<InferenceEvidence, Error> {
    let receipts = project.inference.receipts();
    let mut batches = Vec::new();
    let mut start = 0usize;
    for window in windows {
        let batch = project
            .inference
            .batch(window)
            .ok_or_else(|| Error::missing("inference batch", *window))?;
        let count = usize::try_from(batch.record().count).unwrap_or(usize::MAX);
        let end = start.saturating_add(count).min(receipts.len());
        batches.push(BatchEvidence {
            batch: Some(batch.clone().into()),
            receipts: claims(receipts.get(start..end).unwrap_or_default()),
        });
        start = end;
    }
    if start < receipts.len() {
        batches.push(BatchEvidence {
            batch: None,
            receipts: claims(receipts.get(start..).unwrap_or_default()),
        });
    }
    Ok(InferenceEvidence { batches })
}

/// A batch sealed in a store, with the sequence numbers it covers.
#[derive(Debug, Clone)]
pub struct SealedBatch {
    /// The batch record.
    pub batch: Claimed<InferenceBatch>,
    /// The first receipt's sequence number.
    pub first_sequence: u64,
    /// The last receipt's sequence number.
    pub last_sequence: u64,
}

/// The deployment whose lifecycle a command means: `deployment` when given (it must have a
/// release root), otherwise the store's only lifecycle.
///
/// # Errors
///
/// [`Error::NoLifecycle`], [`Error::Missing`] for a named deployment without a release root,
/// [`Error::Ambiguous`] when the store holds several and none is named.
pub fn lifecycle_of(store: &dyn Store, deployment: Option<&str>) -> Result<String, Error> {
    if let Some(d) = deployment {
        return match store.record(ReleaseRoot::KIND, d)? {
            Some(_) => Ok(d.to_owned()),
            None => Err(Error::missing(ReleaseRoot::KIND, d)),
        };
    }
    let ids = store
        .records(Some(ReleaseRoot::KIND))?
        .into_iter()
        .map(|r| r.id)
        .collect();
    only(ids, Error::NoLifecycle, "lifecycles")
}

/// The deployment whose receipt chain a command means: `deployment` when given (its chain
/// may be empty), otherwise the store's only chain.
///
/// # Errors
///
/// [`Error::NoReceipts`] when the store has none, [`Error::Ambiguous`] when it has several and
/// none is named.
pub fn chain_of(store: &dyn Store, deployment: Option<&str>) -> Result<String, Error> {
    if let Some(d) = deployment {
        return Ok(d.to_owned());
    }
    only(store.chains()?, Error::NoReceipts, "receipt chains")
}

/// The one deployment of `deployments`: `none` when there is none, [`Error::Ambiguous`] naming
/// `what` they are when there are several.
fn only(mut deployments: Vec<String>, none: Error, what: &'static str) -> Result<String, Error> {
    match deployments.len() {
        0 => Err(none),
        1 => Ok(deployments.remove(0)),
        _ => Err(Error::Ambiguous { what, deployments }),
    }
}

/// The lifecycle of `deployment` (its release root names it) without receipts, and the
/// batches of its chain: the project is rebuilt from the store ([`lifecycle::restore`],
/// every record recomputed and every reference resolved), the release's records are found
/// by digest, and [`assemble`] makes the lifecycle.
///
/// # Errors
///
/// [`Error::Missing`] when the deployment has no release root, or a record it needs is not
/// stored; [`Error::Parse`] for an unreadable store; the refusals of
/// [`lifecycle::restore`].
pub fn load(store: &dyn Store, deployment: &str) -> Result<(Lifecycle, Vec<SealedBatch>), Error> {
    let release_rec = store
        .record(ReleaseRoot::KIND, deployment)?
        .ok_or_else(|| Error::missing(ReleaseRoot::KIND, deployment))?;
    let release: Claimed<ReleaseRoot> = sealed(&release_rec)?;
    let ctx = Context::with_policy(store.policy()?)?;
    let project = lifecycle::restore(&ctx, store)?;
    let pre = project
        .deployments
        .deployment(deployment)
        .and_then(|d| {
            project
                .deployments
                .predeployment(&d.record().predeployment_id)
        })
        .ok_or_else(|| Error::missing(PreDeploymentAnchor::KIND, deployment))?;
    let model: Claimed<ModelAnchor> = by_digest(store, &pre.record().model_anchor)?;
    let snapshot: Claimed<TrainingSnapshot> = by_digest(store, &pre.record().training_snapshot)?;
    let test: Claimed<TestEvaluationAnchor> = by_digest(store, &release.record.test_evaluation)?;
    let description = &model.record.description;
    let request = AuditTrailRequest {
        model_name: &description.model_name,
        version: &description.version,
        session_id: &snapshot.record.session_id,
        deployment_id: deployment,
        test_id: &test.record.test_id,
        batch_windows: &[],
    };
    let lifecycle = assemble(
        &project,
        &request,
        InferenceEvidence {
            batches: Vec::new(),
        },
    )?;
    let mut batches = Vec::new();
    for b in store.batches(deployment)? {
        batches.push(SealedBatch {
            batch: Claimed {
                record: parse(InferenceBatch::KIND, &b.window_id, &b.json)?,
                digest: b.digest,
            },
            first_sequence: b.first_sequence,
            last_sequence: b.last_sequence,
        });
    }
    Ok((lifecycle, batches))
}

/// The receipt log of `deployment`'s chain: every receipt digest, in order.
///
/// # Errors
///
/// Store failures.
pub fn receipt_log(
    store: &dyn Store,
    deployment: &str,
    policy: &Policy,
) -> Result<MerkleLog, Error> {
    let mut log = MerkleLog::new(policy.hash_algorithm);
    let mut failed = None;
    store.scan_receipts(deployment, 0, None, &mut |r| {
        if failed.is_none()
            && let Err(e) = log.register(r.digest)
        {
            failed = Some(e);
        }
        Ok(())
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(log),
    }
}

/// The receipt log headers and capsules read for `deployment`'s chain: under a SHA-256
/// policy the log's stored tiles ([`ChainLog`]: `O(log n)` reads, nothing held per receipt);
/// under any other policy (whose receipts root is not the C2SP log's) the tree rebuilt in
/// memory by [`receipt_log`] (`O(n)` time and memory).
///
/// # Errors
///
/// As [`ChainLog::open`] and [`receipt_log`].
pub fn chain_log<'a>(
    store: &'a dyn Store,
    deployment: &str,
    policy: &Policy,
) -> Result<Box<dyn ItemLog + 'a>, Error> {
    if policy.hash_algorithm == crate::log::LOG_ALGORITHM {
        Ok(Box::new(ChainLog::open(store, deployment)?))
    } else {
        Ok(Box::new(receipt_log(store, deployment, policy)?))
    }
}

/// Builds and signs the header of the lifecycle of `deployment` over every receipt of its
/// chain. The receipts' count, root and head come from [`chain_log`]: `O(log n)` reads of the
/// log's tiles under a SHA-256 policy. Its log origin is the default, `lcm.local/DEPLOYMENT`
/// ([`header_named`] names another).
///
/// # Errors
///
/// As [`load`] and [`chain_log`]; capsule errors.
pub fn header<'a>(
    store: &'a dyn Store,
    deployment: &str,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<(CapsuleHeader, Box<dyn ItemLog + 'a>), Error> {
    header_named(store, deployment, None, generated_at, key)
}

/// [`header`] whose signed `log_origin` is `origin` (the origin of the checkpoints of the
/// chain's log, as `lcm log checkpoint --name ORIGIN` signs them), else `lcm.local/DEPLOYMENT`.
///
/// # Errors
///
/// As [`header`]; [`Error::Stage`] (`log origin`) for an origin a C2SP checkpoint cannot
/// carry.
pub fn header_named<'a>(
    store: &'a dyn Store,
    deployment: &str,
    origin: Option<&str>,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<(CapsuleHeader, Box<dyn ItemLog + 'a>), Error> {
    load_and_sign(store, deployment, origin, generated_at, key).map(|(_, signed)| signed)
}

/// The lifecycle and batches of `deployment` ([`load`]) and the header signed over them with
/// the chain's log ([`header_named`]).
#[allow(clippy::type_complexity)]
fn load_and_sign<'a>(
    store: &'a dyn Store,
    deployment: &str,
    origin: Option<&str>,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<
    (
        (Lifecycle, Vec<SealedBatch>),
        (CapsuleHeader, Box<dyn ItemLog + 'a>),
    ),
    Error,
> {
    let (lifecycle, batches) = load(store, deployment)?;
    let signed = sign_loaded(
        store,
        deployment,
        (&lifecycle, &batches),
        origin,
        generated_at,
        key,
    )?;
    Ok(((lifecycle, batches), signed))
}

/// [`header_named`] of a lifecycle and batches [`load`] gave.
fn sign_loaded<'a>(
    store: &'a dyn Store,
    deployment: &str,
    (lifecycle, batches): (&Lifecycle, &[SealedBatch]),
    origin: Option<&str>,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<(CapsuleHeader, Box<dyn ItemLog + 'a>), Error> {
    let policy = store.policy()?;
    let log = chain_log(store, deployment, &policy)?;
    let batches: Vec<Claimed<InferenceBatch>> = batches.iter().map(|b| b.batch.clone()).collect();
    let mut header = lifecycle.sign_header(&policy, &*log, &batches, generated_at, key)?;
    finish_header(store, deployment, &mut header, origin, key)?;
    Ok((header, log))
}

/// Adds what the store knows beyond the records to a freshly signed `header` and signs it
/// again when that changes it: the synthetic-data note of a demonstration lifecycle, and the
/// log origin `origin` in place of the default `lcm.local/DEPLOYMENT` of a receipt chain under
/// a SHA-256 policy (a C2SP log).
fn finish_header(
    store: &dyn Store,
    deployment: &str,
    header: &mut CapsuleHeader,
    origin: Option<&str>,
    key: &SigningKey,
) -> Result<(), Error> {
    let mut changed = false;
    if let Some(note) = lifecycle::gates::synthetic_note(store, deployment)? {
        header.synthetic = Some(note);
        changed = true;
    }
    if let (Some(origin), Some(own)) = (origin, &header.log_origin)
        && origin != own
    {
        let root = lcm_crypto::Digest::from_bytes([0; 32]);
        lcm_tlog::Checkpoint::new(origin, 0, root).map_err(|e| Error::Stage {
            stage: "log origin",
            message: format!("{origin:?}: {e}"),
        })?;
        header.log_origin = Some(origin.to_owned());
        changed = true;
    }
    if changed {
        header.sign(key)?;
    }
    Ok(())
}

/// Checks that `given` is a header of the lifecycle of `deployment` in this store: the same
/// policy, the same records in stages A to F (a deployment's status may have moved on), and
/// a receipt log that is a prefix of the chain (the header's receipt count and head are the
/// chain's at that count). A header of another store, or of another lifecycle, is refused
/// before anything is proved into it. Returns the chain's receipt log ([`chain_log`]), which
/// the check reads anyway: `O(log n)` under a SHA-256 policy.
///
/// # Errors
///
/// [`Error::ForeignHeader`] naming the first field that differs; as [`header`].
pub fn check_header_of<'a>(
    store: &'a dyn Store,
    deployment: &str,
    given: &CapsuleHeader,
) -> Result<Box<dyn ItemLog + 'a>, Error> {
    // The store's own header, signed with a throwaway key: only its contents are compared.
    let throwaway = SigningKey::from_seed(&lcm_crypto::Seed::from_bytes([0; 32]));
    let (own, log) = header(store, deployment, given.generated_at, &throwaway)?;
    let differs = |field: &'static str| Error::ForeignHeader {
        deployment: deployment.to_owned(),
        field,
    };
    if given.policy_digest != own.policy_digest || given.policy != own.policy {
        return Err(differs("policy"));
    }
    // The fields compared whole, in this order; the first that differs is named.
    macro_rules! same {
        ($($field:ident),+) => {$(
            if given.$field != own.$field {
                return Err(differs(stringify!($field)));
            }
        )+};
    }
    same!(
        stage_a_dataset,
        stage_b_model,
        stage_c_training,
        stage_d_predeployment,
        stage_f_test_evaluation,
        synthetic
    );
    match (&given.stage_e_deployment, &own.stage_e_deployment) {
        (Some(g), Some(o))
            if g.deployment_id == o.deployment_id
                && g.anchor == o.anchor
                && g.predeployment == o.predeployment => {}
        _ => return Err(differs("stage_e_deployment")),
    }
    let Some(g) = &given.stage_g_inference else {
        return Err(differs("stage_g_inference"));
    };
    let at_count = match g.receipt_count.checked_sub(1) {
        Some(last) => log.item_digest(last)?,
        None => None,
    };
    if at_count != g.chain_head {
        return Err(differs("stage_g_inference.chain_head"));
    }
    Ok(log)
}

/// Builds the self-contained bundle of the lifecycle of `deployment`, with every receipt of
/// its chain grouped by batch (receipts after the last batch form a final group without a
/// batch record).
///
/// # Errors
///
/// As [`load`]; capsule errors.
pub fn bundle(
    store: &dyn Store,
    deployment: &str,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<Bundle, Error> {
    let policy = store.policy()?;
    let (mut lifecycle, batches) = load(store, deployment)?;
    let mut groups: Vec<BatchEvidence> = Vec::with_capacity(batches.len() + 1);
    let mut bounds = batches.iter().peekable();
    let mut current: Vec<Claimed<InferenceReceipt>> = Vec::new();
    let mut bad = None;
    store.scan_receipts(deployment, 0, None, &mut |r| {
        match serde_json::from_str::<InferenceReceipt>(&r.json) {
            Ok(record) => current.push(Claimed {
                record,
                digest: r.digest,
            }),
            Err(e) => {
                bad.get_or_insert(Error::Parse {
                    kind: InferenceReceipt::KIND.to_owned(),
                    id: r.receipt_id.clone(),
                    source: e,
                });
            }
        }
        if let Some(b) = bounds.peek()
            && r.sequence == b.last_sequence
        {
            groups.push(BatchEvidence {
                batch: Some(b.batch.clone()),
                receipts: std::mem::take(&mut current),
            });
            bounds.next();
        }
        Ok(())
    })?;
    if let Some(e) = bad {
        return Err(e);
    }
    if !current.is_empty() {
        groups.push(BatchEvidence {
            batch: None,
            receipts: current,
        });
    }
    lifecycle.inference = InferenceEvidence { batches: groups };
    let mut bundle = Bundle::new(&policy, lifecycle, generated_at, key)?;
    finish_header(store, deployment, &mut bundle.header, None, key)?;
    Ok(bundle)
}

/// The receipt of `deployment`'s chain with this id, sealed.
///
/// # Errors
///
/// [`Error::NoReceipt`]; store and parse failures.
pub fn receipt(
    store: &dyn Store,
    deployment: &str,
    receipt_id: &str,
) -> Result<Claimed<InferenceReceipt>, Error> {
    let r = store
        .receipt(deployment, receipt_id)?
        .ok_or_else(|| Error::NoReceipt {
            deployment: deployment.to_owned(),
            receipt_id: receipt_id.to_owned(),
        })?;
    Ok(Claimed {
        record: parse(InferenceReceipt::KIND, &r.receipt_id, &r.json)?,
        digest: r.digest,
    })
}

/// The capsule of the receipt `receipt_id` of `deployment`'s chain and the header it proves
/// into, freshly signed with `key` at `generated_at` over the whole chain: what `lcm header`
/// and then `lcm materialize` make, without a disclosure. The header and the inclusion proof
/// come from [`header`]'s [`chain_log`] (`O(log n)` reads of the log's tiles under a SHA-256
/// policy).
///
/// # Errors
///
/// [`Error::NoReceipt`] for a receipt the chain does not hold; as [`header`]; capsule errors.
pub fn receipt_capsule(
    store: &dyn Store,
    deployment: &str,
    receipt_id: &str,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<(CapsuleHeader, Capsule), Error> {
    // First: an unknown receipt (or deployment) is refused before a lifecycle is rebuilt.
    let receipt = receipt(store, deployment, receipt_id)?;
    let (header, log) = header(store, deployment, generated_at, key)?;
    let capsule = lcm_capsule::materialize_receipt(&header, &*log, &receipt, None)?;
    Ok((header, capsule))
}

/// The disclosure of `query` and `output` (those given) for a receipt capsule of `receipt`
/// in `deployment`'s chain: each opening is re-derived from the chain's seed, and each value
/// must be the one the receipt committed to. `None` when neither is given.
///
/// # Errors
///
/// [`Error::NotCommitted`] for a value the receipt did not commit to; [`Error::NoChain`];
/// read failures.
pub fn disclosure(
    store: &dyn Store,
    deployment: &str,
    receipt: &Claimed<InferenceReceipt>,
    query: Option<&str>,
    output: Option<&str>,
) -> Result<Option<Disclosure>, Error> {
    if query.is_none() && output.is_none() {
        return Ok(None);
    }
    let policy = store.policy()?;
    let seed = store
        .chain_seed(deployment)?
        .ok_or_else(|| Error::no_chain(deployment))?;
    let openings =
        lcm_managers::ReceiptChain::from_seed(&policy, &seed).openings(receipt.record.sequence);
    let disclose = |text: Option<&str>,
                    commitment,
                    opening: &lcm_crypto::Opening,
                    what: &'static str|
     -> Result<Option<DisclosedValue>, Error> {
        let Some(text) = text else { return Ok(None) };
        lcm_managers::verify_commitment(&policy, commitment, text.as_bytes(), opening).map_err(
            |_| Error::NotCommitted {
                what,
                receipt_id: receipt.record.receipt_id.clone(),
            },
        )?;
        Ok(Some(DisclosedValue {
            data: text.to_owned(),
            opening: opening.reveal(),
        }))
    };
    Ok(Some(Disclosure {
        input: disclose(
            query,
            &receipt.record.input_commitment,
            &openings.input,
            "query",
        )?,
        output: disclose(
            output,
            &receipt.record.output_commitment,
            &openings.output,
            "output",
        )?,
    }))
}
