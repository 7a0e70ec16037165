//! Stores of `lcm` lifecycles: the backend-agnostic [`Store`] trait and everything that works
//! on a store, whatever backs it.
//!
//! - [`Store`]: records by kind and id and by digest, evidence, receipts by chain and
//!   sequence range, chain heads, batches, and write transactions whose reads and writes are
//!   one unit. The trait is object-safe: everything here takes `&dyn Store` or
//!   `&mut dyn Store`.
//! - [`sqlite`]: the first backend, one embedded `SQLite` file (schema, migrations, the WAL
//!   checkpointer). [`open`] and [`init`] pick the backend from a location and return a
//!   `Box<dyn Store>`, so no caller names the backend's type.
//! - `postgres` (feature `postgres`): the server backend, one schema of a `PostgreSQL`
//!   database shared by writers on many hosts, selected by a `postgres://` URL.
//! - [`lifecycle`]: recording a lifecycle, whole or one stage at a time.
//! - [`pipeline`]: the receipt pipeline (resolve a release, make receipts, append them in
//!   transactions, seal batches), with `lcm infer`'s three threads.
//! - [`export`]: headers, bundles and receipt capsules made from a store.
//! - [`log`]: the transparency log of each receipt chain, kept as C2SP tiles and written
//!   with the receipts; roots and proofs at any size from `O(log n)` stored hashes.
//! - [`check`]: the store's integrity check (every digest, link and batch recomputed).
//! - [`fingerprint`]: streaming file, directory and safetensors fingerprints of model files.
//!
//! Architecture Invariant: this crate depends on the library crates (`lcm-crypto`,
//! `lcm-model`, `lcm-managers`, `lcm-capsule`), never on the command-line tool; the `lcm`
//! binary parses arguments and prints, and everything it stores or checks goes through here.
//!
//! # Example
//!
//! ```
//! use lcm_model::Policy;
//!
//! let dir = std::env::temp_dir().join(format!("lcm-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("lcm.db");
//! # let _ = std::fs::remove_file(&path);
//! let (mut store, created) = lcm_store::init(&path, &Policy::default())?;
//! assert!(created);
//! // Record the example lifecycle (every stage, one transaction).
//! let input = serde_json::from_str(lcm_store::lifecycle::EXAMPLE)?;
//! let passwords = lcm_store::lifecycle::Passwords {
//!     dataset: "dataset password",
//!     model: "model password",
//! };
//! let records = lcm_store::lifecycle::record_into(&mut *store, input, &passwords)?;
//! assert!(!records.is_empty());
//! // Every stored record can be found again by its digest.
//! let first = &records[0];
//! assert_eq!(store.record_by_digest(&first.kind, &first.digest)?.as_ref(), Some(first));
//! let report = lcm_store::check::check_store(&*store, &mut |_| {})?;
//! assert_eq!(report.records, u64::try_from(records.len())?);
//! # drop(store);
//! # let _ = std::fs::remove_dir_all(&dir);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use lcm_model::Policy;

pub mod check;
pub mod export;
pub mod files;
pub mod find;
pub mod fingerprint;
pub mod keys;
pub mod lifecycle;
pub mod log;
pub mod pipeline;
#[cfg(feature = "postgres")]
pub mod postgres;
mod schema;
mod seals;
pub mod sqlite;
mod store;
pub mod tlog_ops;

pub use crate::store::{
    BatchBuild, BatchKeyRow, ChainHead, Checkpoint, KeyedAppend, KeyedBuild, NewBuild, NewReceipt,
    RecordsBuild, Store, StoredBatch, StoredEvidence, StoredKeyRotation, StoredReceipt,
    StoredRecord, StoredToken,
};

/// Every kind of record a store keeps in its records table (what `Store::records` and
/// `Store::record` take), in lifecycle order. Receipts (`inference-receipt`) and batches
/// (`inference-batch`) are kept per chain instead.
pub const RECORD_KINDS: &[&str] = {
    use lcm_model::Record as _;
    use lcm_model::records::{
        DatasetFamilyAnchor, DatasetSplitAnchor, DeploymentAnchor, DeploymentStatusEvent,
        InferenceBatchRoot, ModelAnchor, PreDeploymentAnchor, ReleaseRoot, TestEvaluationAnchor,
        TrainingCheckpoint, TrainingSession, TrainingSnapshot,
    };
    &[
        DatasetFamilyAnchor::KIND,
        DatasetSplitAnchor::KIND,
        ModelAnchor::KIND,
        TrainingSession::KIND,
        TrainingCheckpoint::KIND,
        TrainingSnapshot::KIND,
        PreDeploymentAnchor::KIND,
        DeploymentAnchor::KIND,
        DeploymentStatusEvent::KIND,
        TestEvaluationAnchor::KIND,
        ReleaseRoot::KIND,
        InferenceBatchRoot::KIND,
        lifecycle::gates::PolicyOverride::KIND,
        lifecycle::gates::SyntheticMarker::KIND,
    ]
};

/// Opens the existing store at `location`: a path (or `sqlite:PATH`) is an embedded
/// `SQLite` store, a `postgres://` or `postgresql://` URL a `PostgreSQL` store (with the
/// `postgres` feature).
///
/// # Errors
///
/// [`Error::UnsupportedBackend`] for a URL of a backend this build does not have;
/// [`Error::NoStore`], [`Error::NotInitialized`], [`Error::TooNew`] and the backend's
/// failures.
pub fn open(location: &Path) -> Result<Box<dyn Store>, Error> {
    match backend(location)? {
        Backend::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(&path)?)),
        #[cfg(feature = "postgres")]
        Backend::Postgres(url) => Ok(Box::new(postgres::PostgresStore::open(&url)?)),
    }
}

/// Opens the existing store at `location` for reading only (see
/// [`sqlite::SqliteStore::open_read_only`]): the commands that only read use it, so an
/// archived store on a read-only mount can be audited. Its writing methods fail.
///
/// # Errors
///
/// As [`open`].
pub fn open_read_only(location: &Path) -> Result<Box<dyn Store>, Error> {
    match backend(location)? {
        Backend::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open_read_only(&path)?)),
        #[cfg(feature = "postgres")]
        Backend::Postgres(url) => Ok(Box::new(postgres::PostgresStore::open_read_only(&url)?)),
    }
}

/// Creates (or opens, when it exists already) the store at `location` with `policy`;
/// returns it and whether it was created.
///
/// # Errors
///
/// As [`open`]; the backend's failures.
pub fn init(location: &Path, policy: &Policy) -> Result<(Box<dyn Store>, bool), Error> {
    match backend(location)? {
        Backend::Sqlite(path) => {
            let (store, fresh) = sqlite::SqliteStore::init(&path, policy)?;
            Ok((Box::new(store), fresh))
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres(url) => {
            let (store, fresh) = postgres::PostgresStore::init(&url, policy)?;
            Ok((Box::new(store), fresh))
        }
    }
}

/// `location` as it may be printed: a URL's password (`scheme://user:PASSWORD@host`, or a
/// `password=` parameter) is replaced by `***`; anything else is returned as it is.
///
/// # Example
///
/// ```
/// assert_eq!(
///     lcm_store::redact_location("postgres://lcm:s3cret@db:5432/lcm"),
///     "postgres://lcm:***@db:5432/lcm"
/// );
/// assert_eq!(lcm_store::redact_location("lcm.db"), "lcm.db");
/// ```
pub fn redact_location(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_owned();
    };
    // The user information ends at the last `@`, so that a password holding `/`, `?`, `:` or
    // `@` unencoded is still hidden whole (an `@` later in the URL hides more than needed,
    // never less).
    let (userinfo, tail) = match rest.rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => (format!("{user}:***@"), &rest[at + 1..]),
            None => (String::new(), rest),
        },
        None => (String::new(), rest),
    };
    let joined = format!("{scheme}://{userinfo}{tail}");
    match joined.split_once('?') {
        Some((before, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{before}?{}", params.join("&"))
        }
        None => joined,
    }
}

/// The backend a location names.
enum Backend {
    Sqlite(PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(String),
}

/// The backend a location names, or the refusal of a backend this build lacks.
fn backend(location: &Path) -> Result<Backend, Error> {
    let text = location.to_string_lossy();
    if let Some(path) = text.strip_prefix("sqlite:") {
        return Ok(Backend::Sqlite(PathBuf::from(path)));
    }
    #[cfg(feature = "postgres")]
    if postgres::is_url(&text) {
        return Ok(Backend::Postgres(text.into_owned()));
    }
    if let Some((scheme, _)) = text.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    {
        return Err(Error::UnsupportedBackend {
            scheme: scheme.to_owned(),
        });
    }
    Ok(Backend::Sqlite(location.to_path_buf()))
}

/// An error of a store, or of the work done on one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store file does not exist (and was not to be created).
    #[error("no store at {} (run `lcm init` first, or pass --store)", .path.display())]
    NoStore {
        /// The path looked at.
        path: PathBuf,
    },
    /// The store exists but was never initialized.
    #[error("store {} is not initialized (run `lcm init`)", .path.display())]
    NotInitialized {
        /// The store's path.
        path: PathBuf,
    },
    /// The location names a backend this build does not have.
    #[error("no store backend for {scheme}:// locations in this build")]
    UnsupportedBackend {
        /// The URL scheme.
        scheme: String,
    },
    /// The store was written by a newer `lcm`.
    #[error("store schema version {found} is newer than this lcm supports ({supported})")]
    TooNew {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A record with this kind and id exists already.
    #[error("{kind} {id} is already stored")]
    Duplicate {
        /// The record kind.
        kind: String,
        /// Its id.
        id: String,
    },
    /// A stored value does not have the shape this build writes.
    #[error("corrupt store: {what}")]
    Corrupt {
        /// What is wrong.
        what: String,
    },
    /// A JSON value could not be encoded or decoded.
    #[error("store json: {0}")]
    Json(#[from] serde_json::Error),
    /// The backend failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The `PostgreSQL` backend failed (an unreachable server, a refused login, a statement
    /// the database refused). The message names no password.
    #[cfg(feature = "postgres")]
    #[error("postgres: {}", postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    /// A store URL does not parse.
    #[error("store URL {location}: {reason}")]
    Url {
        /// The URL, its password removed.
        location: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A key or input file could not be read, or is not the key or JSON it should be.
    #[error(transparent)]
    File(#[from] files::FileError),
    /// No key to verify with was given, and the store gives none ([`keys::trusted_keys`]).
    #[error(
        "no public key: pass --key PUBKEY_FILE (or set LCM_PUBLIC_KEY), --trusted-keys FILE, \
         or --store STORE whose key rotations give its keys ({why})"
    )]
    NoTrustedKey {
        /// Why the store gives none.
        why: &'static str,
    },
    /// The deployment has no receipt chain.
    #[error("deployment {deployment} has no receipt chain (no receipt was appended for it)")]
    NoChain {
        /// The deployment id.
        deployment: String,
    },
    /// The chain holds as many receipts as the backend can key.
    #[error("the receipt chain of deployment {deployment} is full (2^40 receipts)")]
    ChainFull {
        /// The deployment id.
        deployment: String,
    },
    /// The receipt chain reached 2^64 receipts.
    #[error("the receipt chain is full (2^64 receipts)")]
    SequenceExhausted,
    /// The canonical encoder produced bytes that are not UTF-8 (a bug).
    #[error("canonical json is not utf-8")]
    NotUtf8,
    /// Randomness failed.
    #[error(transparent)]
    Crypto(#[from] lcm_crypto::Error),
    /// A lifecycle error from the managers (boxed: the managers' errors are large).
    #[error(transparent)]
    Managers(Box<lcm_managers::Error>),
    /// A record encoding error (boxed, as it is large).
    #[error(transparent)]
    Model(Box<lcm_model::Error>),
    /// The capsule library refused (boxed, as it is large).
    #[error(transparent)]
    Capsule(Box<lcm_capsule::Error>),
    /// A stored rotation of the store's signing key does not verify ([`keys`]): a signature,
    /// a key id, its place in the chain or its time.
    #[error("stage keys: key rotation {sequence}: {what}")]
    KeyRotation {
        /// The statement's place in the chain, from 0.
        sequence: u64,
        /// What is wrong.
        what: String,
    },
    /// A stage's input is incomplete or contradicts the store.
    #[error("{stage}: {message}")]
    Stage {
        /// The stage (`training`, `predeployment`, ...).
        stage: &'static str,
        /// What is wrong.
        message: String,
    },
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
    /// A record a receipt needs is not in the store.
    #[error("no {kind} {id} in the store")]
    NotStored {
        /// The record kind, in words (`model anchor`).
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The pre-deployment a deployment names is not in the store.
    #[error("no predeployment anchor {id}")]
    NoPredeployment {
        /// The pre-deployment id.
        id: String,
    },
    /// A stored deployment's link to its pre-deployment does not match (a verification
    /// failure, not an input error).
    #[error(
        "stage deployment: deployment {deployment} field predeployment: expected {expected}, stored {stored}"
    )]
    BrokenLink {
        /// The deployment id.
        deployment: String,
        /// The digest the deployment names.
        expected: lcm_crypto::Digest,
        /// The stored pre-deployment's digest.
        stored: lcm_crypto::Digest,
    },
    /// The deployment releases another model.
    #[error("deployment {deployment} does not release model {model} (it releases {releases})")]
    WrongModel {
        /// The deployment id.
        deployment: String,
        /// The model named.
        model: String,
        /// The model anchor the deployment releases: its id (`NAME@VERSION`) when it is
        /// stored, else its digest.
        releases: String,
    },
    /// The deployment's latest status is not `deployed`.
    #[error("deployment {deployment} has status {status}, not deployed")]
    NotDeployed {
        /// The deployment id.
        deployment: String,
        /// Its latest status.
        status: &'static str,
    },
    /// A stored record does not parse as its kind.
    #[error("stored {kind} {id}: {source}")]
    Parse {
        /// The record kind.
        kind: String,
        /// Its id.
        id: String,
        /// The parser's error.
        source: serde_json::Error,
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
    /// A disclosed value is not the one the receipt committed to.
    #[error("the given {what} is not the one receipt {receipt_id} committed to")]
    NotCommitted {
        /// `query` or `output`.
        what: &'static str,
        /// The receipt id.
        receipt_id: String,
    },
    /// The store holds no receipt chain.
    #[error("the store holds no receipts (run `lcm infer`)")]
    NoReceipts,
    /// A line of inference requests does not parse.
    #[error("standard input line {line}: {source}")]
    RequestLine {
        /// The line number, from 1.
        line: u64,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A line of inference requests parses but strict input refuses it (a key given twice,
    /// an inexact number, an empty id or one with control characters).
    #[error("standard input line {line}: {source}")]
    StrictLine {
        /// The line number, from 1.
        line: u64,
        /// What strict input refused, naming the field.
        source: lcm_model::strict::StrictError,
    },
    /// A request id that the deployment's chain holds already (or that the input repeats).
    #[error(
        "field request_id: {request_id:?} is already used in the chain of deployment \
         {deployment} (pass --allow-repeated-request-id to record it again)"
    )]
    RepeatedRequest {
        /// The deployment.
        deployment: String,
        /// The repeated request id.
        request_id: String,
    },
    /// The inference requests could not be read.
    #[error("reading standard input: {0}")]
    ReadRequests(std::io::Error),
    /// A document could not be written as it was made (`lcm export` streams its bundle).
    #[error("writing the document: {0}")]
    Write(std::io::Error),
    /// A receipt id of a batch is in the chain already; the batch was not appended.
    #[error(
        "{kind} {id} is already stored{hint}; this batch of {count} lines was not appended",
        hint = if *generated {
            " (also the id generated for a line without a receipt_id, `inf_` and its sequence \
             number: another line gave it explicitly)"
        } else {
            ""
        }
    )]
    DuplicateReceipt {
        /// The record kind.
        kind: String,
        /// The receipt id.
        id: String,
        /// The lines of the refused batch.
        count: usize,
        /// Whether the id is also the one generated (`inf_<sequence>`) for a line of the batch
        /// without a `receipt_id`: another line, of this batch or an earlier one, gave it
        /// explicitly.
        generated: bool,
    },
    /// A chain's commitment seed does not give the check value recorded when it was made:
    /// the seed (or its check value) was edited, and openings under it would be lost.
    #[error(
        "stage store: chain of {deployment}: field seed: the commitment seed does not match the \
         check value recorded when it was made ({what})"
    )]
    SeedCheck {
        /// The deployment whose chain it is.
        deployment: String,
        /// What does not match (`edited` or `no check value`).
        what: &'static str,
    },
    /// The store's policy is not the sealed policy recorded when the store was made.
    #[error("stage store: field policy: {what}")]
    PolicyChanged {
        /// What differs.
        what: String,
    },
    /// The store's schema (tables, indexes, append-only triggers) is not what the migrations
    /// create.
    #[error("stage store: schema: {what}")]
    Schema {
        /// The first difference, naming the table, index or trigger.
        what: String,
    },
    /// A header given for this store's lifecycle is not one of its headers.
    #[error(
        "the header is not a header of deployment {deployment}'s lifecycle in this store \
         (field {field} differs)"
    )]
    ForeignHeader {
        /// The deployment whose lifecycle was meant.
        deployment: String,
        /// The first header field that differs.
        field: &'static str,
    },
    /// A log was asked for a size or leaf it does not have yet.
    #[error("the log of deployment {deployment} has {size} leaves, asked for {asked}")]
    LogTooSmall {
        /// The deployment whose chain's log was read.
        deployment: String,
        /// Its size.
        size: u64,
        /// The size asked for.
        asked: u64,
    },
    /// A transparency-log format or computation failed.
    #[error(transparent)]
    Tlog(#[from] lcm_tlog::Error),
    /// The receipt pipeline stopped; what it appended before stays appended.
    #[error("{source} ({appended} receipts before it were appended and acknowledged)")]
    Interrupted {
        /// Why it stopped.
        source: Box<Self>,
        /// The receipts appended and acknowledged before.
        appended: u64,
    },
}

impl Error {
    /// Whether this is a failed verification of stored records (rather than an input, usage
    /// or backend error).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Self::BrokenLink { .. }
                | Self::KeyRotation { .. }
                | Self::SeedCheck { .. }
                | Self::PolicyChanged { .. }
                | Self::Schema { .. }
        )
    }

    /// [`Self::Missing`]: the store has no `kind` record `id`.
    pub(crate) fn missing(kind: &'static str, id: impl Into<String>) -> Self {
        Self::Missing {
            kind,
            id: id.into(),
        }
    }

    /// [`Self::NoChain`]: `deployment` has no receipt chain.
    pub(crate) fn no_chain(deployment: &str) -> Self {
        Self::NoChain {
            deployment: deployment.to_owned(),
        }
    }
}

impl From<lcm_managers::Error> for Error {
    fn from(e: lcm_managers::Error) -> Self {
        Self::Managers(Box::new(e))
    }
}

impl From<lcm_model::Error> for Error {
    fn from(e: lcm_model::Error) -> Self {
        Self::Model(Box::new(e))
    }
}

impl From<lcm_capsule::Error> for Error {
    fn from(e: lcm_capsule::Error) -> Self {
        Self::Capsule(Box::new(e))
    }
}
