//! What a store holds, as data: the kinds `lcm list` takes, and its views of lifecycles,
//! deployments and batches, one row per item. The caller prints them (a row serializes to
//! the JSON object `lcm list --json` prints). Each view returns all its rows at once: memory
//! grows linearly with the rows (deployments, lifecycles or batches, never receipts).

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_model::Record as _;
use lcm_model::records::{
    DeploymentAnchor, DeploymentStatusEvent, InferenceBatch, InferenceReceipt, ReleaseRoot,
};
use serde::Serialize;

use crate::{Error, RECORD_KINDS, Store, StoredBatch};

/// The kinds `lcm list` accepts besides the record kinds ([`RECORD_KINDS`], each also in the
/// plural).
pub const LIST_VIEWS: &[&str] = &["receipts", "lifecycles", "deployments", "batches"];

/// What `lcm list KIND` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListKind {
    /// Every record.
    All,
    /// The records of one kind (one of [`RECORD_KINDS`]).
    Records(&'static str),
    /// The receipts of a chain.
    Receipts,
    /// The lifecycles (deployments with a release root): [`lifecycles`].
    Lifecycles,
    /// The deployments, with their status: [`deployments`].
    Deployments,
    /// The inference batches of every chain, or of one: [`batches`].
    Batches,
}

/// A kind that is neither a record kind nor a view.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown kind {kind:?}; accepted: {}, or a record kind: {}",
    LIST_VIEWS.join(", "),
    RECORD_KINDS.join(", ")
)]
pub struct UnknownKind {
    /// The kind given.
    pub kind: String,
}

impl std::str::FromStr for ListKind {
    type Err = UnknownKind;

    /// A record kind or its plural, or a view (singular or plural).
    ///
    /// ```
    /// use lcm_store::lifecycle::views::ListKind;
    ///
    /// assert_eq!("batch".parse(), Ok(ListKind::Batches));
    /// assert_eq!("model-anchors".parse(), Ok(ListKind::Records("model-anchor")));
    /// assert!("models".parse::<ListKind>().is_err());
    /// ```
    fn from_str(kind: &str) -> Result<Self, UnknownKind> {
        match kind {
            "receipts" | "receipt" | "inference-receipt" | "inference-receipts" => {
                return Ok(Self::Receipts);
            }
            "lifecycles" | "lifecycle" => return Ok(Self::Lifecycles),
            "deployments" | "deployment" => return Ok(Self::Deployments),
            "batches" | "batch" | "inference-batch" | "inference-batches" => {
                return Ok(Self::Batches);
            }
            _ => {}
        }
        let singular = kind.strip_suffix('s').unwrap_or(kind);
        RECORD_KINDS
            .iter()
            .find(|k| **k == kind || **k == singular)
            .map(|k| Self::Records(k))
            .ok_or_else(|| UnknownKind {
                kind: kind.to_owned(),
            })
    }
}

/// How many receipts the chain of `deployment` holds.
///
/// # Errors
///
/// The store's failures.
pub fn receipt_count(store: &dyn Store, deployment: &str) -> Result<u64, Error> {
    Ok(store
        .head(deployment)?
        .map_or(0, |h| h.sequence.saturating_add(1)))
}

/// How many receipts all the store's chains hold.
///
/// # Errors
///
/// The store's failures.
pub fn receipts_total(store: &dyn Store) -> Result<u64, Error> {
    let mut total = 0u64;
    for d in store.chains()? {
        total = total.saturating_add(receipt_count(store, &d)?);
    }
    Ok(total)
}

/// A lifecycle: a deployment with a release root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LifecycleRow {
    /// The deployment.
    pub deployment: String,
    /// The release root's digest.
    pub release_root: Digest,
    /// The receipts of its chain.
    pub receipts: u64,
    /// The batches of its chain.
    pub batches: usize,
}

/// Every lifecycle the store holds, in the order of its release roots.
///
/// # Errors
///
/// The store's failures.
pub fn lifecycles(store: &dyn Store) -> Result<Vec<LifecycleRow>, Error> {
    let mut rows = Vec::new();
    for r in store.records(Some(ReleaseRoot::KIND))? {
        rows.push(LifecycleRow {
            receipts: receipt_count(store, &r.id)?,
            batches: store.batches(&r.id)?.len(),
            release_root: r.digest,
            deployment: r.id,
        });
    }
    Ok(rows)
}

/// A deployment anchor, with its latest status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentRow {
    /// The deployment.
    pub deployment: String,
    /// The anchor's digest.
    pub digest: Digest,
    /// Its latest status (of the status event with the highest sequence); empty when it has
    /// none.
    pub status: String,
    /// Whether its lifecycle has a release root.
    pub released: bool,
    /// The receipts of its chain.
    pub receipts: u64,
}

/// Every deployment anchor the store holds.
///
/// # Errors
///
/// The store's failures; [`Error::Json`] for a status event that is not JSON.
pub fn deployments(store: &dyn Store) -> Result<Vec<DeploymentRow>, Error> {
    let mut latest: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for e in store.records(Some(DeploymentStatusEvent::KIND))? {
        let v: serde_json::Value = serde_json::from_str(&e.json)?;
        let (Some(d), Some(seq), Some(status)) = (
            v["deployment_id"].as_str(),
            v["sequence"].as_u64(),
            v["status"].as_str(),
        ) else {
            continue;
        };
        let entry = latest
            .entry(d.to_owned())
            .or_insert_with(|| (seq, status.to_owned()));
        if seq >= entry.0 {
            *entry = (seq, status.to_owned());
        }
    }
    let mut rows = Vec::new();
    for r in store.records(Some(DeploymentAnchor::KIND))? {
        rows.push(DeploymentRow {
            status: latest.remove(&r.id).map(|(_, s)| s).unwrap_or_default(),
            released: store.record(ReleaseRoot::KIND, &r.id)?.is_some(),
            receipts: receipt_count(store, &r.id)?,
            digest: r.digest,
            deployment: r.id,
        });
    }
    Ok(rows)
}

/// An inference batch of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchRow {
    /// The deployment whose chain it is.
    pub deployment: String,
    /// Its window.
    pub window_id: String,
    /// Its first receipt's sequence.
    pub first_sequence: u64,
    /// Its last receipt's sequence.
    pub last_sequence: u64,
    /// How many receipts it seals.
    pub count: u64,
    /// The batch record's digest.
    pub digest: Digest,
}

/// The batches of `deployment`'s chain, or of every chain.
///
/// # Errors
///
/// The store's failures.
pub fn batches(store: &dyn Store, deployment: Option<&str>) -> Result<Vec<BatchRow>, Error> {
    let chains = match deployment {
        Some(d) => vec![d.to_owned()],
        None => store.chains()?,
    };
    let mut rows = Vec::new();
    for chain in chains {
        for b in store.batches(&chain)? {
            rows.push(BatchRow {
                deployment: chain.clone(),
                count: b
                    .last_sequence
                    .saturating_sub(b.first_sequence)
                    .saturating_add(1),
                window_id: b.window_id,
                first_sequence: b.first_sequence,
                last_sequence: b.last_sequence,
                digest: b.digest,
            });
        }
    }
    Ok(rows)
}

/// What `lcm init` prints about the store `store` at `path` (`created` when this run made
/// it): the JSON object `--json` prints (path, whether created, policy digest, schema
/// version) and the text a person reads (the same, and the policy's line).
///
/// # Errors
///
/// The store's failures; the policy's digest cannot be computed.
pub fn init_summary(
    store: &dyn Store,
    path: &std::path::Path,
    created: bool,
) -> Result<(serde_json::Value, String), Error> {
    let policy = store.policy()?;
    // A server URL's password is never printed.
    let name = crate::redact_location(&path.to_string_lossy());
    let value = serde_json::json!({
        "store": name,
        "created": created,
        "policy_digest": policy.digest()?,
        "schema_version": store.schema_version(),
    });
    let done = if created {
        "initialized"
    } else {
        "already initialized:"
    };
    let text = format!("{done} store {name}\n{}", policy.format_policy_line()?);
    Ok((value, text))
}

/// What `lcm batch close` prints about the batch it sealed, or that there was none to seal:
/// the JSON object `--json` prints and the line a person reads.
///
/// ```
/// let (value, line) = lcm_store::lifecycle::views::sealed_batch(None)?;
/// assert_eq!((value["batch"].is_null(), line.as_str()), (true, "no receipts to batch"));
/// # Ok::<(), lcm_store::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Json`] for a batch whose JSON is not a batch record.
pub fn sealed_batch(batch: Option<&StoredBatch>) -> Result<(serde_json::Value, String), Error> {
    let Some(b) = batch else {
        let none = serde_json::json!({"batch": null});
        return Ok((none, "no receipts to batch".to_owned()));
    };
    let record: InferenceBatch = serde_json::from_str(&b.json)?;
    let value = serde_json::json!({"window_id": b.window_id,
        "first_sequence": b.first_sequence, "last_sequence": b.last_sequence,
        "count": record.count, "root": record.root, "digest": b.digest});
    let text = format!(
        "sealed batch {} receipts {}..={} ({}) root {}",
        b.window_id, b.first_sequence, b.last_sequence, record.count, record.root
    );
    Ok((value, text))
}

/// The stored digest and JSON of the record `kind` `id` (a receipt is looked up in the
/// chain of `deployment`, or the store's only chain, by its receipt id or else by its
/// request id); `None` when the store has none.
///
/// # Errors
///
/// The store's failures; for a receipt, the refusals of [`crate::export::chain_of`], and
/// [`Error::Stage`] for a request id of several receipts (repeats allowed).
pub fn record(
    store: &dyn Store,
    kind: &str,
    id: &str,
    deployment: Option<&str>,
) -> Result<Option<(Digest, String)>, Error> {
    Ok(if kind == InferenceReceipt::KIND {
        // A receipt id, else a request id (when it has one receipt).
        let deployment = crate::export::chain_of(store, deployment)?;
        match store.receipt(&deployment, id)? {
            Some(r) => Some((r.digest, r.json)),
            None => {
                let mut found = crate::find::receipts_by_request(store, &deployment, id)?;
                if found.len() > 1 {
                    let ids: Vec<&str> = found.iter().map(|r| r.receipt_id.as_str()).collect();
                    return Err(Error::Stage {
                        stage: "inference-receipt",
                        message: format!(
                            "request id {id} has {} receipts ({}): show one by its receipt id",
                            found.len(),
                            ids.join(", ")
                        ),
                    });
                }
                found.pop().map(|r| (r.digest, r.json))
            }
        }
    } else {
        store.record(kind, id)?.map(|r| (r.digest, r.json))
    })
}

/// `n` and the noun in the right number, as the views' text lines word counts: "1 batch",
/// "2 batches".
///
/// # Examples
///
/// ```
/// use lcm_store::lifecycle::views::plural;
///
/// assert_eq!(plural(1u64, "batch", "batches"), "1 batch");
/// assert_eq!(plural(0usize, "receipt", "receipts"), "0 receipts");
/// ```
pub fn plural<N: TryInto<u64> + std::fmt::Display + Copy>(n: N, one: &str, many: &str) -> String {
    let singular = n.try_into().ok() == Some(1);
    format!("{n} {}", if singular { one } else { many })
}

impl std::fmt::Display for LifecycleRow {
    /// The row's `lcm list lifecycles` line: deployment, release root, receipts, batches.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}",
            self.deployment,
            self.release_root,
            plural(self.receipts, "receipt", "receipts"),
            plural(self.batches, "batch", "batches")
        )
    }
}

impl std::fmt::Display for DeploymentRow {
    /// The row's `lcm list deployments` line: deployment, digest, status (`-` for none),
    /// whether released, receipts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}\t{}",
            self.deployment,
            self.digest,
            if self.status.is_empty() {
                "-"
            } else {
                &self.status
            },
            if self.released {
                "released"
            } else {
                "not released"
            },
            plural(self.receipts, "receipt", "receipts")
        )
    }
}

impl std::fmt::Display for BatchRow {
    /// The row's `lcm list batches` line: deployment, window, sequence range, receipts,
    /// digest.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\t{}\t{}..={}\t{}\t{}",
            self.deployment,
            self.window_id,
            self.first_sequence,
            self.last_sequence,
            plural(self.count, "receipt", "receipts"),
            self.digest
        )
    }
}

#[cfg(test)]
mod tests;
