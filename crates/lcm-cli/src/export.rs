//! Headers, bundles and receipt capsules made from a store (`lcm header`, `lcm export`,
//! `lcm materialize`).
//!
//! A store holds any number of lifecycles, one per deployment: a lifecycle is found from its
//! release root (kept under the deployment's id), and its receipts are that deployment's
//! chain. [`lifecycle_of`] and [`chain_of`] pick the one a command means.

use lcm_capsule::{
    BatchEvidence, Bundle, CapsuleHeader, DatasetEvidence, DeploymentEvidence, InferenceEvidence,
    Lifecycle, MerkleLog, PreDeploymentEvidence, SplitEvidence, TrainingEvidence,
};
use lcm_crypto::SigningKey;
use lcm_model::records::{
    DatasetFamilyAnchor, DatasetSplitAnchor, DeploymentAnchor, DeploymentStatusEvent,
    InferenceBatch, InferenceReceipt, ModelAnchor, PreDeploymentAnchor, ReleaseRoot, Sbom,
    TestEvaluationAnchor, TrainingCheckpoint, TrainingMetrics, TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, Policy, Record, Timestamp};
use serde::de::DeserializeOwned;

use crate::lifecycle::{SBOM, SPLIT_RECORDS, SplitRecords, TRAINING_METRICS};
use crate::store::{self, Store, StoredRecord};

/// An export error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store holds no complete lifecycle.
    #[error("the store holds no lifecycle (run `lcm record lifecycle FILE` or `lcm demo`)")]
    NoLifecycle,
    /// A record the lifecycle needs is missing.
    #[error("the store has no {kind} {id}")]
    Missing {
        /// The record kind.
        kind: &'static str,
        /// Its id or reference.
        id: String,
    },
    /// A stored record does not parse as its kind.
    #[error("stored {kind} {id}: {message}")]
    Parse {
        /// The record kind.
        kind: String,
        /// Its id.
        id: String,
        /// The parser's message.
        message: String,
    },
    /// A receipt with this id is not in the chain.
    #[error("no receipt {receipt_id} in the chain of deployment {deployment}")]
    NoReceipt {
        /// The deployment whose chain was searched.
        deployment: String,
        /// The receipt id.
        receipt_id: String,
    },
    /// The store holds several lifecycles (or chains) and none was named.
    #[error("the store holds {} {what} ({}): pass --deployment", .deployments.len(), .deployments.join(", "))]
    Ambiguous {
        /// `lifecycles` or `receipt chains`.
        what: &'static str,
        /// The deployments to choose from.
        deployments: Vec<String>,
    },
    /// The store holds no receipt chain.
    #[error("the store holds no receipts (run `lcm infer`)")]
    NoChain,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The capsule library refused.
    #[error(transparent)]
    Capsule(Box<lcm_capsule::Error>),
}

impl From<lcm_capsule::Error> for Error {
    fn from(e: lcm_capsule::Error) -> Self {
        Self::Capsule(Box::new(e))
    }
}

fn parse<T: DeserializeOwned>(kind: &str, id: &str, json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::Parse {
        kind: kind.to_owned(),
        id: id.to_owned(),
        message: e.to_string(),
    })
}

/// A stored record parsed as its type, with the digest stored for it (a claim, not checked
/// here).
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

fn one<T: Record + DeserializeOwned>(store: &dyn Store, id: &str) -> Result<Claimed<T>, Error> {
    let r = store.record(T::KIND, id)?.ok_or_else(|| Error::Missing {
        kind: T::KIND,
        id: id.to_owned(),
    })?;
    sealed(&r)
}

/// The evidence of `kind` kept for the record `id`, parsed.
///
/// # Errors
///
/// Store failures, [`Error::Missing`], [`Error::Parse`].
pub fn evidence<T: DeserializeOwned>(store: &dyn Store, kind: &str, id: &str) -> Result<T, Error> {
    let e = store.evidence_of(kind, id)?.ok_or_else(|| Error::Missing {
        kind: "evidence",
        id: format!("{kind} {id}"),
    })?;
    parse(&e.kind, &e.id, &e.json)
}

/// The stored records of a lifecycle, without the receipts.
#[derive(Debug, Clone)]
pub struct StoredLifecycle {
    /// The dataset family and its splits with their record ids.
    pub dataset: DatasetEvidence,
    /// The model anchor.
    pub model: Claimed<ModelAnchor>,
    /// The training session, checkpoints, metrics and snapshot.
    pub training: TrainingEvidence,
    /// The pre-deployment anchor and its SBOM.
    pub predeployment: PreDeploymentEvidence,
    /// The deployment and its status history.
    pub deployment: DeploymentEvidence,
    /// The test evaluation.
    pub test_evaluation: Claimed<TestEvaluationAnchor>,
    /// The release root.
    pub release: Claimed<ReleaseRoot>,
    /// The sealed batches, in chain order, with the sequence numbers they cover.
    pub batches: Vec<(Claimed<InferenceBatch>, u64, u64)>,
}

impl StoredLifecycle {
    /// The lifecycle of these records with `inference` as its receipt evidence (the batches
    /// kept here are dropped: `inference` holds its own).
    pub fn into_lifecycle(self, inference: InferenceEvidence) -> Lifecycle {
        Lifecycle {
            dataset: self.dataset,
            model: self.model,
            training: self.training,
            predeployment: self.predeployment,
            deployment: self.deployment,
            test_evaluation: self.test_evaluation,
            inference,
            release: self.release,
        }
    }
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
            None => Err(Error::Missing {
                kind: ReleaseRoot::KIND,
                id: d.to_owned(),
            }),
        };
    }
    let mut ids: Vec<String> = store
        .records(Some(ReleaseRoot::KIND))?
        .into_iter()
        .map(|r| r.id)
        .collect();
    match ids.len() {
        0 => Err(Error::NoLifecycle),
        1 => Ok(ids.remove(0)),
        _ => Err(Error::Ambiguous {
            what: "lifecycles",
            deployments: ids,
        }),
    }
}

/// The deployment whose receipt chain a command means: `deployment` when given (its chain
/// may be empty), otherwise the store's only chain.
///
/// # Errors
///
/// [`Error::NoChain`] when the store has none, [`Error::Ambiguous`] when it has several and
/// none is named.
pub fn chain_of(store: &dyn Store, deployment: Option<&str>) -> Result<String, Error> {
    if let Some(d) = deployment {
        return Ok(d.to_owned());
    }
    let mut chains = store.chains()?;
    match chains.len() {
        0 => Err(Error::NoChain),
        1 => Ok(chains.remove(0)),
        _ => Err(Error::Ambiguous {
            what: "receipt chains",
            deployments: chains,
        }),
    }
}

/// Loads the records of the lifecycle of `deployment` (everything but the receipts).
///
/// # Errors
///
/// [`Error::Missing`] when the deployment has no release root, or a record it needs is not
/// stored; [`Error::Parse`] for an unreadable store.
pub fn load(store: &dyn Store, deployment: &str) -> Result<StoredLifecycle, Error> {
    let release_rec = store
        .record(ReleaseRoot::KIND, deployment)?
        .ok_or_else(|| Error::Missing {
            kind: ReleaseRoot::KIND,
            id: deployment.to_owned(),
        })?;
    let release: Claimed<ReleaseRoot> = sealed(&release_rec)?;
    let deployment: Claimed<DeploymentAnchor> = one(store, &release_rec.id)?;
    let deployment_id = deployment.record.deployment_id.clone();
    let mut status_history: Vec<Claimed<DeploymentStatusEvent>> = all(store)?
        .into_iter()
        .filter(|e: &Claimed<DeploymentStatusEvent>| e.record.deployment_id == deployment_id)
        .collect();
    status_history.sort_by_key(|e| e.record.sequence);
    let pre: Claimed<PreDeploymentAnchor> = one(store, &deployment.record.predeployment_id)?;
    let sbom: Sbom = evidence(store, SBOM, &pre.record.predeployment_id)?;
    let model = all::<ModelAnchor>(store)?
        .into_iter()
        .find(|m| m.digest == pre.record.model_anchor)
        .ok_or_else(|| Error::Missing {
            kind: ModelAnchor::KIND,
            id: pre.record.model_anchor.to_string(),
        })?;
    let snapshot = all::<TrainingSnapshot>(store)?
        .into_iter()
        .find(|s| s.digest == pre.record.training_snapshot)
        .ok_or_else(|| Error::Missing {
            kind: TrainingSnapshot::KIND,
            id: pre.record.training_snapshot.to_string(),
        })?;
    let session: Claimed<TrainingSession> = one(store, &snapshot.record.session_id)?;
    let mut checkpoints: Vec<Claimed<TrainingCheckpoint>> = all(store)?
        .into_iter()
        .filter(|c: &Claimed<TrainingCheckpoint>| c.record.session == session.digest)
        .collect();
    checkpoints.sort_by_key(|c| c.record.index);
    let metrics: TrainingMetrics = evidence(store, TRAINING_METRICS, &session.record.session_id)?;
    let split_digests: Vec<_> = session.record.data_splits.values().copied().collect();
    let mut splits: Vec<Claimed<DatasetSplitAnchor>> = all::<DatasetSplitAnchor>(store)?;
    splits.sort_by_key(|s| s.record.split);
    let family_anchor = splits
        .iter()
        .find(|s| split_digests.contains(&s.digest))
        .map(|s| s.record.family_anchor)
        .ok_or(Error::NoLifecycle)?;
    let family = all::<DatasetFamilyAnchor>(store)?
        .into_iter()
        .find(|f| f.digest == family_anchor)
        .ok_or_else(|| Error::Missing {
            kind: DatasetFamilyAnchor::KIND,
            id: family_anchor.to_string(),
        })?;
    let mut split_evidence = Vec::new();
    for anchor in splits
        .into_iter()
        .filter(|s| s.record.family_anchor == family.digest)
    {
        let ev: SplitRecords = evidence(
            store,
            SPLIT_RECORDS,
            &format!("{}/{}", anchor.record.family_id, anchor.record.split),
        )?;
        split_evidence.push(SplitEvidence {
            anchor,
            record_ids: ev.record_ids,
            content_digests: ev.content_digests,
        });
    }
    let test_rec = store
        .records(Some(TestEvaluationAnchor::KIND))?
        .into_iter()
        .find(|t| t.digest == release.record.test_evaluation)
        .ok_or_else(|| Error::Missing {
            kind: TestEvaluationAnchor::KIND,
            id: release.record.test_evaluation.to_string(),
        })?;
    let mut batches = Vec::new();
    for b in store.batches(&deployment_id)? {
        let record: InferenceBatch = parse(InferenceBatch::KIND, &b.window_id, &b.json)?;
        batches.push((
            Claimed {
                record,
                digest: b.digest,
            },
            b.first_sequence,
            b.last_sequence,
        ));
    }
    Ok(StoredLifecycle {
        dataset: DatasetEvidence {
            family,
            splits: split_evidence,
        },
        model,
        training: TrainingEvidence {
            session,
            checkpoints,
            metrics,
            snapshot,
        },
        predeployment: PreDeploymentEvidence { anchor: pre, sbom },
        deployment: DeploymentEvidence {
            anchor: deployment,
            status_history,
        },
        test_evaluation: sealed(&test_rec)?,
        release,
        batches,
    })
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

/// Builds and signs the header of the lifecycle of `deployment` over every receipt of its
/// chain.
///
/// # Errors
///
/// As [`load`] and [`receipt_log`]; capsule errors.
pub fn header(
    store: &dyn Store,
    deployment: &str,
    generated_at: Timestamp,
    key: &SigningKey,
) -> Result<(CapsuleHeader, MerkleLog), Error> {
    let policy = store.policy()?;
    let l = load(store, deployment)?;
    let log = receipt_log(store, deployment, &policy)?;
    let batches: Vec<Claimed<InferenceBatch>> = l.batches.iter().map(|b| b.0.clone()).collect();
    let header = l
        .into_lifecycle(InferenceEvidence {
            batches: Vec::new(),
        })
        .sign_header(&policy, &log, &batches, generated_at, key)?;
    Ok((header, log))
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
    let l = load(store, deployment)?;
    let mut groups: Vec<BatchEvidence> = Vec::with_capacity(l.batches.len() + 1);
    let mut bounds = l.batches.iter().peekable();
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
                    message: e.to_string(),
                });
            }
        }
        if let Some((batch, _, last)) = bounds.peek()
            && r.sequence == *last
        {
            groups.push(BatchEvidence {
                batch: Some(batch.clone()),
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
    let lifecycle = l.into_lifecycle(InferenceEvidence { batches: groups });
    Ok(Bundle::new(&policy, lifecycle, generated_at, key)?)
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
