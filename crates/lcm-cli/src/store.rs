//! The record store: the [`Store`] trait and its embedded `SQLite` implementation,
//! [`SqliteStore`].
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous=FULL`: a transaction is durable once its
//! `COMMIT` returns, including against power loss (the WAL is fsynced at every commit). A
//! write is *acknowledged* only after that `COMMIT` returns, so an acknowledged write
//! survives `kill -9` of the writer and a crash of the machine. `synchronous=NORMAL` would
//! only survive a process crash, not a power cut, for the last transactions before it; the
//! cost difference is one fsync per transaction, which batching amortizes (see
//! `docs/PERFORMANCE.md`, section CLI).
//!
//! # Concurrency
//!
//! Every write is one `BEGIN IMMEDIATE` transaction, which takes `SQLite`'s single write lock
//! up front, with a busy timeout, so that several processes appending at once wait for each
//! other instead of failing. [`Store::append_receipts`] reads the chain head and appends
//! after it inside that same transaction, so concurrent appenders serialize: each batch links
//! to the head the previous batch committed, and no sequence number is used twice (a
//! receipt's key, `chain * 2^40 + sequence`, is the table's primary key).
//! [`Store::put_records_with`] does the same for lifecycle records: what a stage reads and
//! what it writes are one transaction.
//!
//! # Chains
//!
//! Each deployment has its own receipt chain, with its own commitment seed
//! ([`Store::open_chain`]), its own sequence numbers from 0, and its own batches.
//!
//! # Append-only receipts
//!
//! Triggers refuse every `UPDATE` and `DELETE` on the receipts, batches and records tables;
//! the store has no code path that would issue one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lcm_crypto::Digest;
use lcm_model::Policy;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroize;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;

/// A chain's receipts are keyed `chain_id * CHAIN_SPAN + sequence` (the table's rowid), so
/// one chain is one contiguous rowid range: appends and scans cost what they cost with one
/// chain, and a chain holds fewer than 2^40 receipts (a million a second for 34 years).
pub const CHAIN_SPAN: u64 = 1 << 40;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The migrations, in order: migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE records (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    digest     BLOB NOT NULL CHECK (length(digest) = 32),
    json       TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE receipts (
    sequence   INTEGER PRIMARY KEY CHECK (sequence >= 0),
    receipt_id TEXT NOT NULL UNIQUE,
    digest     BLOB NOT NULL CHECK (length(digest) = 32),
    timestamp  INTEGER NOT NULL,
    json       TEXT NOT NULL
);
CREATE TABLE batches (
    window_id  TEXT PRIMARY KEY,
    first_seq  INTEGER NOT NULL UNIQUE,
    last_seq   INTEGER NOT NULL UNIQUE CHECK (last_seq >= first_seq),
    digest     BLOB NOT NULL CHECK (length(digest) = 32),
    json       TEXT NOT NULL
);
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER batches_no_update BEFORE UPDATE ON batches
    BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches
    BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
",
    r"
CREATE TABLE evidence (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
",
    // Version 3: one receipt chain per deployment, each with its own commitment seed. A
    // version 2 store held one lifecycle: its chain becomes chain 1, of the deployment its
    // receipts name, with the store's seed (so the openings of its receipts are unchanged).
    // If receipts exist but name no stored deployment, chain 1 is missing and the NOT NULL
    // chain id makes the migration fail rather than lose them.
    r"
CREATE TABLE chains (
    chain_id   INTEGER PRIMARY KEY CHECK (chain_id > 0),
    deployment TEXT NOT NULL UNIQUE,
    seed       BLOB NOT NULL CHECK (length(seed) = 32)
);
CREATE TRIGGER chains_no_update BEFORE UPDATE ON chains
    BEGIN SELECT RAISE(ABORT, 'chains are append-only'); END;
CREATE TRIGGER chains_no_delete BEFORE DELETE ON chains
    BEGIN SELECT RAISE(ABORT, 'chains are append-only'); END;
INSERT INTO chains (chain_id, deployment, seed)
    SELECT 1, d.id, (SELECT value FROM meta WHERE key = 'commitment_seed')
    FROM records d
    WHERE d.kind = 'deployment-anchor'
      AND lower(hex(d.digest)) =
          (SELECT json_extract(json, '$.deployment_anchor') FROM receipts ORDER BY sequence LIMIT 1);
ALTER TABLE receipts RENAME TO receipts_v2;
ALTER TABLE batches RENAME TO batches_v2;
CREATE TABLE receipts (
    key        INTEGER PRIMARY KEY,
    chain_id   INTEGER NOT NULL CHECK (chain_id > 0),
    sequence   INTEGER NOT NULL CHECK (sequence >= 0 AND sequence < 1099511627776),
    receipt_id TEXT NOT NULL,
    digest     BLOB NOT NULL CHECK (length(digest) = 32),
    timestamp  INTEGER NOT NULL,
    json       TEXT NOT NULL,
    CHECK (key = chain_id * 1099511627776 + sequence),
    UNIQUE (chain_id, receipt_id)
);
CREATE TABLE batches (
    chain_id   INTEGER NOT NULL CHECK (chain_id > 0),
    window_id  TEXT NOT NULL,
    first_seq  INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL CHECK (last_seq >= first_seq),
    digest     BLOB NOT NULL CHECK (length(digest) = 32),
    json       TEXT NOT NULL,
    PRIMARY KEY (chain_id, window_id),
    UNIQUE (chain_id, first_seq),
    UNIQUE (chain_id, last_seq)
);
INSERT INTO receipts (key, chain_id, sequence, receipt_id, digest, timestamp, json)
    SELECT (SELECT chain_id FROM chains WHERE chain_id = 1) * 1099511627776 + sequence,
           (SELECT chain_id FROM chains WHERE chain_id = 1),
           sequence, receipt_id, digest, timestamp, json
    FROM receipts_v2 ORDER BY sequence;
INSERT INTO batches (chain_id, window_id, first_seq, last_seq, digest, json)
    SELECT (SELECT chain_id FROM chains WHERE chain_id = 1),
           window_id, first_seq, last_seq, digest, json
    FROM batches_v2;
DROP TABLE receipts_v2;
DROP TABLE batches_v2;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER batches_no_update BEFORE UPDATE ON batches
    BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches
    BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
",
];

/// A store error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store file does not exist (and was not to be created).
    #[error("no store at {path} (run `lcm init` first, or pass --store)")]
    Missing {
        /// The path looked at.
        path: PathBuf,
    },
    /// The store exists but was never initialized.
    #[error("store {path} is not initialized (run `lcm init`)")]
    NotInitialized {
        /// The store's path.
        path: PathBuf,
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
    /// A model error (policy encoding).
    #[error(transparent)]
    Model(#[from] lcm_model::Error),
    /// `SQLite` failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The deployment has no receipt chain.
    #[error("deployment {deployment} has no receipt chain (no receipt was appended for it)")]
    NoChain {
        /// The deployment id.
        deployment: String,
    },
    /// The chain holds [`CHAIN_SPAN`] receipts.
    #[error("the receipt chain of deployment {deployment} is full (2^40 receipts)")]
    ChainFull {
        /// The deployment id.
        deployment: String,
    },
    /// The callback of [`Store::append_receipts`] failed; nothing was appended.
    #[error("{0}")]
    Append(Box<dyn std::error::Error + Send + Sync>),
}

/// A stored record: its kind (the record's `KIND`), its id, its digest and its canonical JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The record kind, for example `model-anchor`.
    pub kind: String,
    /// The record's id within its kind, for example `pneumonia_model@v1.0`.
    pub id: String,
    /// The record's digest under the store's policy.
    pub digest: Digest,
    /// The record's canonical JSON.
    pub json: String,
}

/// Evidence kept next to the records: inputs that records bind by digest only (a split's
/// record ids, a training run's metrics, an SBOM), needed to verify them or to export them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvidence {
    /// The evidence kind: `split-records`, `training-metrics` or `sbom`.
    pub kind: String,
    /// The id of the record it belongs to.
    pub id: String,
    /// Its canonical JSON.
    pub json: String,
}

/// A stored inference receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReceipt {
    /// Its position in the chain, from 0.
    pub sequence: u64,
    /// The receipt id.
    pub receipt_id: String,
    /// The receipt's digest (the chain link).
    pub digest: Digest,
    /// The receipt's time, microseconds since the Unix epoch.
    pub timestamp: i64,
    /// The receipt's canonical JSON.
    pub json: String,
}

/// The last receipt of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The last receipt's sequence number.
    pub sequence: u64,
    /// Its digest.
    pub digest: Digest,
}

/// A sealed batch of consecutive receipts.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBatch {
    /// The window id.
    pub window_id: String,
    /// The first receipt's sequence number.
    pub first_sequence: u64,
    /// The last receipt's sequence number.
    pub last_sequence: u64,
    /// The batch record's digest.
    pub digest: Digest,
    /// The batch record's canonical JSON.
    pub json: String,
}

/// The callback of [`Store::put_records_with`]: the records and evidence to store, made from
/// the store as it is inside the write transaction.
pub type RecordsBuild<'a> = dyn FnMut(
        &dyn Store,
    ) -> Result<
        (Vec<StoredRecord>, Vec<StoredEvidence>),
        Box<dyn std::error::Error + Send + Sync>,
    > + 'a;

/// What [`Store::close_batch`]'s callback returns: the batch to store with its records, or
/// `None` when there is nothing to seal.
pub type BatchBuild =
    Result<Option<(StoredBatch, Vec<StoredRecord>)>, Box<dyn std::error::Error + Send + Sync>>;

/// What a store of lifecycle records must offer; [`SqliteStore`] is the embedded one, and a
/// server-backed one (`PostgreSQL`) can implement the same trait.
///
/// Every method that writes is atomic: it commits everything or nothing, and returns only
/// once what it wrote is durable.
pub trait Store {
    /// The policy the store's records are made under.
    ///
    /// # Errors
    ///
    /// Read or decoding failures.
    fn policy(&self) -> Result<Policy, Error>;

    /// The deployments that have a receipt chain, in the order their chains were opened.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn chains(&self) -> Result<Vec<String>, Error>;

    /// The secret seed of the receipt commitments of `deployment`'s chain, opening the chain
    /// (with a fresh random seed) if it has none yet. Each chain has its own seed, so no two
    /// chains ever share an opening.
    ///
    /// # Errors
    ///
    /// Read or write failures, a stored seed of the wrong length, randomness failures.
    fn open_chain(&mut self, deployment: &str) -> Result<lcm_crypto::Seed, Error>;

    /// The seed of `deployment`'s chain, if it has one.
    ///
    /// # Errors
    ///
    /// Read failures, or a stored seed of the wrong length.
    fn chain_seed(&self, deployment: &str) -> Result<Option<lcm_crypto::Seed>, Error>;

    /// Stores records and their evidence, all or none.
    ///
    /// # Errors
    ///
    /// [`Error::Duplicate`] when a record or evidence with the same kind and id exists
    /// (nothing is written); write failures.
    fn put_records(
        &mut self,
        records: &[StoredRecord],
        evidence: &[StoredEvidence],
    ) -> Result<(), Error>;

    /// Stores the records and evidence that `build` makes from what the store holds, all or
    /// none: `build` is called once inside one write transaction (holding the write lock),
    /// so nothing another process writes can come between what it read and what it
    /// returns. Returns the stored records.
    ///
    /// # Errors
    ///
    /// [`Error::Append`] with the callback's error; [`Error::Duplicate`]; write failures.
    /// In every error case nothing is written.
    fn put_records_with(
        &mut self,
        build: &mut RecordsBuild<'_>,
    ) -> Result<Vec<StoredRecord>, Error>;

    /// Every piece of evidence, or every one of a kind, ordered by kind and id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn evidence(&self, kind: Option<&str>) -> Result<Vec<StoredEvidence>, Error>;

    /// The evidence of `kind` kept for the record `id`.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn evidence_of(&self, kind: &str, id: &str) -> Result<Option<StoredEvidence>, Error>;

    /// The record of `kind` with this id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn record(&self, kind: &str, id: &str) -> Result<Option<StoredRecord>, Error>;

    /// Every record, or every record of one kind, ordered by kind and id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn records(&self, kind: Option<&str>) -> Result<Vec<StoredRecord>, Error>;

    /// Appends receipts after the head of `deployment`'s chain, in one transaction.
    ///
    /// `build` is called once, inside the transaction (holding the write lock), with the
    /// current head; it returns the receipts to append. They are committed together, and
    /// this returns them only once they are durable.
    ///
    /// # Errors
    ///
    /// [`Error::NoChain`] when the chain was never opened ([`Store::open_chain`]);
    /// [`Error::ChainFull`]; [`Error::Append`] with the callback's error,
    /// [`Error::Duplicate`] for a receipt id already in the chain; write failures. In every
    /// error case nothing is appended.
    fn append_receipts(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(
            Option<ChainHead>,
        ) -> Result<
            Vec<StoredReceipt>,
            Box<dyn std::error::Error + Send + Sync>,
        >,
    ) -> Result<Vec<StoredReceipt>, Error>;

    /// The head of `deployment`'s chain (`None` when it has no receipt).
    ///
    /// # Errors
    ///
    /// Read failures.
    fn head(&self, deployment: &str) -> Result<Option<ChainHead>, Error>;

    /// Calls `visit` for every receipt of `deployment`'s chain with a sequence number in
    /// `from..=to` (all from `from` when `to` is `None`), in chain order.
    ///
    /// # Errors
    ///
    /// Read failures, and the first error `visit` returns.
    fn scan_receipts(
        &self,
        deployment: &str,
        from: u64,
        to: Option<u64>,
        visit: &mut dyn FnMut(StoredReceipt) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// The receipt of `deployment`'s chain with this id.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn receipt(&self, deployment: &str, receipt_id: &str) -> Result<Option<StoredReceipt>, Error>;

    /// Seals the next batch of `deployment`'s chain: calls `build` inside one write
    /// transaction with the first sequence number not yet in a batch, and stores the batch
    /// (and the records) it returns, if any.
    ///
    /// # Errors
    ///
    /// [`Error::NoChain`]; [`Error::Append`] with the callback's error; write failures.
    fn close_batch(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(&dyn Store, u64) -> BatchBuild,
    ) -> Result<Option<StoredBatch>, Error>;

    /// Every batch of `deployment`'s chain, in chain order.
    ///
    /// # Errors
    ///
    /// Read failures.
    fn batches(&self, deployment: &str) -> Result<Vec<StoredBatch>, Error>;
}

/// The embedded store: one `SQLite` database file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

fn digest_from(bytes: &[u8]) -> Result<Digest, Error> {
    Digest::try_from_slice(bytes).map_err(|_| Error::Corrupt {
        what: format!("a digest of {} bytes, expected 32", bytes.len()),
    })
}

fn to_u64(v: i64, what: &str) -> Result<u64, Error> {
    u64::try_from(v).map_err(|_| Error::Corrupt {
        what: format!("negative {what} {v}"),
    })
}

fn to_i64(v: u64) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| Error::Corrupt {
        what: format!("sequence {v} beyond 2^63"),
    })
}

/// `e` as [`Error::Duplicate`] of `kind` `id` when it violates a unique key, otherwise as
/// [`Error::Sqlite`].
fn duplicate_or(e: rusqlite::Error, kind: &str, id: &str) -> Error {
    if is_unique_violation(&e) {
        Error::Duplicate {
            kind: kind.to_owned(),
            id: id.to_owned(),
        }
    } else {
        Error::Sqlite(e)
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

impl SqliteStore {
    fn open_conn(path: &Path) -> Result<Connection, Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL: readers never block the writer; FULL: every commit is fsynced.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt {
                what: format!("journal mode {mode}, expected wal"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        Ok(conn)
    }

    /// Creates (or opens and migrates) the store at `path` with `policy`. Returns the store
    /// and whether it was newly initialized; an existing store keeps its policy and its
    /// chains' seeds.
    ///
    /// # Errors
    ///
    /// [`Error::TooNew`], `SQLite` failures, and randomness failures as
    /// [`Error::Append`].
    pub fn init(path: &Path, policy: &Policy) -> Result<(Self, bool), Error> {
        let existed = path.exists();
        let conn = Self::open_conn(path)?;
        if !existed {
            restrict_permissions(path);
        }
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.migrate()?;
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let has_policy: Option<i64> = tx
            .query_row("SELECT 1 FROM meta WHERE key = 'policy'", [], |r| r.get(0))
            .optional()?;
        let fresh = has_policy.is_none();
        if fresh {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('policy', ?1)",
                params![policy.canonical_json()?],
            )?;
        }
        tx.commit()?;
        Ok((store, fresh))
    }

    /// Opens an initialized store, migrating its schema if it is older than this build's.
    ///
    /// # Errors
    ///
    /// [`Error::Missing`], [`Error::NotInitialized`], [`Error::TooNew`], `SQLite` failures.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if !path.exists() {
            return Err(Error::Missing {
                path: path.to_owned(),
            });
        }
        let conn = Self::open_conn(path)?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        store.migrate()?;
        let has_policy: Option<i64> = store
            .conn
            .query_row("SELECT 1 FROM meta WHERE key = 'policy'", [], |r| r.get(0))
            .optional()?;
        if has_policy.is_none() {
            return Err(Error::NotInitialized {
                path: path.to_owned(),
            });
        }
        Ok(store)
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one migration per transaction.
    fn migrate(&mut self) -> Result<(), Error> {
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > SCHEMA_VERSION {
                return Err(Error::TooNew {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            let Some(sql) = usize::try_from(version)
                .ok()
                .and_then(|v| MIGRATIONS.get(v))
            else {
                return Ok(());
            };
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction (the write lock taken first): commits
    /// when it returns `Ok`, rolls back when it returns an error. `f` reads and writes through
    /// the store it is given, so everything it reads is what it writes after.
    fn write_transaction<T>(&self, f: impl FnOnce(&Self) -> Result<T, Error>) -> Result<T, Error> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // The original error matters more than a failed rollback.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs `SQLite`'s own consistency check (`PRAGMA integrity_check`).
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] with `SQLite`'s first complaint; `SQLite` failures.
    pub fn integrity_check(&self) -> Result<(), Error> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(Error::Corrupt { what: result })
        }
    }

    /// Stops this connection from checkpointing the WAL itself after its commits
    /// (`PRAGMA wal_autocheckpoint=0`); a [`Checkpointer`] on another thread does it instead,
    /// so the writer never pays for copying pages into the database file.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn disable_autocheckpoint(&self) -> Result<(), Error> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Sets `PRAGMA synchronous` (`FULL` by default). Only for measurements: `NORMAL` may
    /// lose the last transactions on power loss.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn set_synchronous(&self, level: &str) -> Result<(), Error> {
        self.conn.pragma_update(None, "synchronous", level)?;
        Ok(())
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // The store holds the commitment seed: owner-only. Best effort: a failure leaves the
    // umask's mode, which the user controls.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

/// A second connection to a store that copies committed WAL frames into the database file
/// (`PRAGMA wal_checkpoint(PASSIVE)`), for a writer that disabled its own checkpoints. A
/// passive checkpoint never blocks the writer, and it moves only committed data (fsynced
/// under `synchronous=FULL` before the WAL is reused), so durability is unchanged.
#[derive(Debug)]
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpointer {
    /// Opens the second connection.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        Ok(Self { conn })
    }

    /// Runs one passive checkpoint.
    ///
    /// # Errors
    ///
    /// `SQLite` failures.
    pub fn passive(&self) -> Result<(), Error> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn row_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, Vec<u8>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn make_record(
    (kind, id, digest, json): (String, String, Vec<u8>, String),
) -> Result<StoredRecord, Error> {
    Ok(StoredRecord {
        kind,
        id,
        digest: digest_from(&digest)?,
        json,
    })
}

fn row_receipt(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, Vec<u8>, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn make_receipt(
    (sequence, receipt_id, digest, timestamp, json): (i64, String, Vec<u8>, i64, String),
) -> Result<StoredReceipt, Error> {
    Ok(StoredReceipt {
        sequence: to_u64(sequence, "sequence")?,
        receipt_id,
        digest: digest_from(&digest)?,
        timestamp,
        json,
    })
}

fn insert_records(conn: &Connection, records: &[StoredRecord]) -> Result<(), Error> {
    let mut stmt =
        conn.prepare("INSERT INTO records (kind, id, digest, json) VALUES (?1, ?2, ?3, ?4)")?;
    for r in records {
        stmt.execute(params![r.kind, r.id, &r.digest.as_bytes()[..], r.json])
            .map_err(|e| duplicate_or(e, &r.kind, &r.id))?;
    }
    Ok(())
}

fn insert_evidence(conn: &Connection, evidence: &[StoredEvidence]) -> Result<(), Error> {
    let mut stmt = conn.prepare("INSERT INTO evidence (kind, id, json) VALUES (?1, ?2, ?3)")?;
    for e in evidence {
        stmt.execute(params![e.kind, e.id, e.json])
            .map_err(|err| duplicate_or(err, &e.kind, &e.id))?;
    }
    Ok(())
}

/// The rowid of receipt `sequence` of chain `chain_id` (see [`CHAIN_SPAN`]).
fn receipt_key(chain_id: i64, sequence: u64) -> Option<i64> {
    if sequence >= CHAIN_SPAN {
        return None;
    }
    let chain = u64::try_from(chain_id).ok()?;
    i64::try_from(chain.checked_mul(CHAIN_SPAN)?.checked_add(sequence)?).ok()
}

fn chain_id(conn: &Connection, deployment: &str) -> Result<Option<i64>, Error> {
    Ok(conn
        .query_row(
            "SELECT chain_id FROM chains WHERE deployment = ?1",
            params![deployment],
            |r| r.get(0),
        )
        .optional()?)
}

fn seed_from(mut bytes: Vec<u8>) -> Result<lcm_crypto::Seed, Error> {
    let arr: Result<[u8; 32], _> = bytes.as_slice().try_into();
    let len = bytes.len();
    bytes.zeroize();
    let mut arr = arr.map_err(|_| Error::Corrupt {
        what: format!("a commitment seed of {len} bytes, expected 32"),
    })?;
    let seed = lcm_crypto::Seed::from_bytes(arr);
    arr.zeroize();
    Ok(seed)
}

/// The last receipt of a chain's key range.
const HEAD_SQL: &str = "SELECT sequence, digest FROM receipts WHERE key >= ?1 AND key <= ?2 \
                        ORDER BY key DESC LIMIT 1";

/// The receipts of a chain's key range, in order.
const SCAN_SQL: &str = "SELECT sequence, receipt_id, digest, timestamp, json FROM receipts \
                        WHERE key >= ?1 AND key <= ?2 ORDER BY key";

fn read_head(conn: &Connection, chain_id: i64) -> Result<Option<ChainHead>, Error> {
    // The chain's key range, so that the last row is found by one descent of the table's
    // b-tree (a `chain_id = ?` filter would scan the whole chain through an index).
    let (Some(lo), Some(hi)) = (
        receipt_key(chain_id, 0),
        receipt_key(chain_id, CHAIN_SPAN - 1),
    ) else {
        return Ok(None);
    };
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row(HEAD_SQL, params![lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(s, d)| {
        Ok(ChainHead {
            sequence: to_u64(s, "sequence")?,
            digest: digest_from(&d)?,
        })
    })
    .transpose()
}

impl Store for SqliteStore {
    fn policy(&self) -> Result<Policy, Error> {
        let json: String =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
                    r.get(0)
                })?;
        let policy: Policy = serde_json::from_str(&json)?;
        Ok(policy)
    }

    fn chains(&self) -> Result<Vec<String>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT deployment FROM chains ORDER BY chain_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    fn open_chain(&mut self, deployment: &str) -> Result<lcm_crypto::Seed, Error> {
        if let Some(seed) = self.chain_seed(deployment)? {
            return Ok(seed);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have opened it since the read above.
        let existing: Option<Vec<u8>> = tx
            .query_row(
                "SELECT seed FROM chains WHERE deployment = ?1",
                params![deployment],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(bytes) = existing {
            return seed_from(bytes);
        }
        let mut seed = [0u8; 32];
        lcm_crypto::fill_random(&mut seed).map_err(|e| Error::Append(Box::new(e)))?;
        let result = tx
            .execute(
                "INSERT INTO chains (chain_id, deployment, seed) \
                 VALUES ((SELECT COALESCE(MAX(chain_id), 0) + 1 FROM chains), ?1, ?2)",
                params![deployment, &seed[..]],
            )
            .and_then(|_| tx.commit())
            .map(|()| lcm_crypto::Seed::from_bytes(seed));
        seed.zeroize();
        Ok(result?)
    }

    fn chain_seed(&self, deployment: &str) -> Result<Option<lcm_crypto::Seed>, Error> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT seed FROM chains WHERE deployment = ?1",
                params![deployment],
                |r| r.get(0),
            )
            .optional()?;
        bytes.map(seed_from).transpose()
    }

    fn put_records(
        &mut self,
        records: &[StoredRecord],
        evidence: &[StoredEvidence],
    ) -> Result<(), Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_records(&tx, records)?;
        insert_evidence(&tx, evidence)?;
        tx.commit()?;
        Ok(())
    }

    fn put_records_with(
        &mut self,
        build: &mut RecordsBuild<'_>,
    ) -> Result<Vec<StoredRecord>, Error> {
        self.write_transaction(|store| {
            let (records, evidence) = build(store).map_err(Error::Append)?;
            insert_records(&store.conn, &records)?;
            insert_evidence(&store.conn, &evidence)?;
            Ok(records)
        })
    }

    fn evidence_of(&self, kind: &str, id: &str) -> Result<Option<StoredEvidence>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT kind, id, json FROM evidence WHERE kind = ?1 AND id = ?2",
                params![kind, id],
                |r| {
                    Ok(StoredEvidence {
                        kind: r.get(0)?,
                        id: r.get(1)?,
                        json: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn evidence(&self, kind: Option<&str>) -> Result<Vec<StoredEvidence>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, id, json FROM evidence WHERE ?1 IS NULL OR kind = ?1 ORDER BY kind, id",
        )?;
        let rows = stmt.query_map(params![kind], |r| {
            Ok(StoredEvidence {
                kind: r.get(0)?,
                id: r.get(1)?,
                json: r.get(2)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    fn record(&self, kind: &str, id: &str) -> Result<Option<StoredRecord>, Error> {
        self.conn
            .query_row(
                "SELECT kind, id, digest, json FROM records WHERE kind = ?1 AND id = ?2",
                params![kind, id],
                row_record,
            )
            .optional()?
            .map(make_record)
            .transpose()
    }

    fn records(&self, kind: Option<&str>) -> Result<Vec<StoredRecord>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, id, digest, json FROM records WHERE ?1 IS NULL OR kind = ?1 \
             ORDER BY kind, id",
        )?;
        let rows = stmt.query_map(params![kind], row_record)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(make_record(row?)?);
        }
        Ok(out)
    }

    fn append_receipts(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(
            Option<ChainHead>,
        ) -> Result<
            Vec<StoredReceipt>,
            Box<dyn std::error::Error + Send + Sync>,
        >,
    ) -> Result<Vec<StoredReceipt>, Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let chain = chain_id(&tx, deployment)?.ok_or_else(|| Error::NoChain {
            deployment: deployment.to_owned(),
        })?;
        let head = read_head(&tx, chain)?;
        let receipts = build(head).map_err(Error::Append)?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO receipts (key, chain_id, sequence, receipt_id, digest, timestamp, json) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for r in &receipts {
                let key = receipt_key(chain, r.sequence).ok_or_else(|| Error::ChainFull {
                    deployment: deployment.to_owned(),
                })?;
                stmt.execute(params![
                    key,
                    chain,
                    to_i64(r.sequence)?,
                    r.receipt_id,
                    &r.digest.as_bytes()[..],
                    r.timestamp,
                    r.json
                ])
                .map_err(|e| duplicate_or(e, "inference-receipt", &r.receipt_id))?;
            }
        }
        tx.commit()?;
        Ok(receipts)
    }

    fn head(&self, deployment: &str) -> Result<Option<ChainHead>, Error> {
        match chain_id(&self.conn, deployment)? {
            Some(chain) => read_head(&self.conn, chain),
            None => Ok(None),
        }
    }

    fn scan_receipts(
        &self,
        deployment: &str,
        from: u64,
        to: Option<u64>,
        visit: &mut dyn FnMut(StoredReceipt) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(());
        };
        if from >= CHAIN_SPAN {
            return Ok(());
        }
        // Keys of one chain are one range: from its `from` to its `to` (or its end).
        let last = to.map_or(CHAIN_SPAN - 1, |t| t.min(CHAIN_SPAN - 1));
        let (Some(lo), Some(hi)) = (receipt_key(chain, from), receipt_key(chain, last)) else {
            return Ok(());
        };
        let mut stmt = self.conn.prepare(SCAN_SQL)?;
        let mut rows = stmt.query(params![lo, hi])?;
        while let Some(row) = rows.next()? {
            visit(make_receipt(row_receipt(row)?)?)?;
        }
        Ok(())
    }

    fn receipt(&self, deployment: &str, receipt_id: &str) -> Result<Option<StoredReceipt>, Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(None);
        };
        self.conn
            .query_row(
                "SELECT sequence, receipt_id, digest, timestamp, json FROM receipts \
                 WHERE chain_id = ?1 AND receipt_id = ?2",
                params![chain, receipt_id],
                row_receipt,
            )
            .optional()?
            .map(make_receipt)
            .transpose()
    }

    fn close_batch(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(&dyn Store, u64) -> BatchBuild,
    ) -> Result<Option<StoredBatch>, Error> {
        // The write lock is taken first, so two `batch close` runs cannot seal the same
        // receipts twice; the callback reads through the store inside the transaction.
        self.write_transaction(|store| {
            let chain = chain_id(&store.conn, deployment)?.ok_or_else(|| Error::NoChain {
                deployment: deployment.to_owned(),
            })?;
            let next: Option<i64> = store.conn.query_row(
                "SELECT MAX(last_seq) + 1 FROM batches WHERE chain_id = ?1",
                params![chain],
                |r| r.get(0),
            )?;
            let next = to_u64(next.unwrap_or(0), "sequence")?;
            let Some((batch, records)) = build(store, next).map_err(Error::Append)? else {
                return Ok(None);
            };
            store
                .conn
                .execute(
                    "INSERT INTO batches (chain_id, window_id, first_seq, last_seq, digest, json) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        chain,
                        batch.window_id,
                        to_i64(batch.first_sequence)?,
                        to_i64(batch.last_sequence)?,
                        &batch.digest.as_bytes()[..],
                        batch.json
                    ],
                )
                .map_err(|e| duplicate_or(e, "inference-batch", &batch.window_id))?;
            insert_records(&store.conn, &records)?;
            Ok(Some(batch))
        })
    }

    fn batches(&self, deployment: &str) -> Result<Vec<StoredBatch>, Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare(
            "SELECT window_id, first_seq, last_seq, digest, json FROM batches \
             WHERE chain_id = ?1 ORDER BY first_seq",
        )?;
        let rows = stmt.query_map(params![chain], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (window_id, first, last, digest, json) = row?;
            out.push(StoredBatch {
                window_id,
                first_sequence: to_u64(first, "sequence")?,
                last_sequence: to_u64(last, "sequence")?,
                digest: digest_from(&digest)?,
                json,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("lcm-store-{name}-{}.db", std::process::id()));
        remove(&p);
        p
    }

    fn remove(path: &Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// A store as version `version` (1 or 2) wrote it, with the old store-wide seed `[7; 32]`.
    fn old_store(path: &Path, version: usize) -> Connection {
        let conn = Connection::open(path).unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", i64::try_from(version).unwrap())
            .unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('policy', ?1), ('commitment_seed', ?2)",
            params![Policy::default().canonical_json().unwrap(), &[7u8; 32][..]],
        )
        .unwrap();
        conn
    }

    #[test]
    fn migrates_a_version_1_store_and_keeps_its_records() {
        let path = temp("migrate");
        {
            // A store as the first release wrote it: migration 1 only.
            let conn = old_store(&path, 1);
            conn.execute(
                "INSERT INTO records (kind, id, digest, json) VALUES ('k', 'i', ?1, '{}')",
                params![&[1u8; 32][..]],
            )
            .unwrap();
        }
        let mut store = SqliteStore::open(&path).unwrap();
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(store.records(Some("k")).unwrap().len(), 1);
        store
            .put_records(
                &[],
                &[StoredEvidence {
                    kind: "sbom".into(),
                    id: "p".into(),
                    json: "{}".into(),
                }],
            )
            .unwrap();
        assert_eq!(store.evidence(None).unwrap().len(), 1);
        // No receipts, so no chain: the first one opened gets a fresh seed.
        assert!(store.chains().unwrap().is_empty());
        let seed = store.open_chain("dep").unwrap();
        assert_ne!(seed.expose_secret(), &[7u8; 32]);
        assert_eq!(store.chains().unwrap(), ["dep"]);
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    /// A version 2 store (one lifecycle, one chain): its receipts and batches become chain 1
    /// of the deployment they name, with the store's seed.
    #[test]
    fn migrates_a_version_2_chain_to_its_deployment() {
        let path = temp("migrate2");
        let dep_digest = Digest::from_bytes([9; 32]);
        {
            let conn = old_store(&path, 2);
            for (id, digest) in [("other", [8u8; 32]), ("dep_1", [9u8; 32])] {
                conn.execute(
                    "INSERT INTO records (kind, id, digest, json) \
                     VALUES ('deployment-anchor', ?1, ?2, '{}')",
                    params![id, &digest[..]],
                )
                .unwrap();
            }
            for seq in 0..3i64 {
                conn.execute(
                    "INSERT INTO receipts (sequence, receipt_id, digest, timestamp, json) \
                     VALUES (?1, ?2, ?3, 0, ?4)",
                    params![
                        seq,
                        format!("inf_{seq}"),
                        &[u8::try_from(seq).unwrap(); 32][..],
                        format!(r#"{{"deployment_anchor":"{dep_digest}"}}"#)
                    ],
                )
                .unwrap();
            }
            conn.execute(
                "INSERT INTO batches (window_id, first_seq, last_seq, digest, json) \
                 VALUES ('w', 0, 1, ?1, '{}')",
                params![&[3u8; 32][..]],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.chains().unwrap(), ["dep_1"]);
        assert_eq!(
            store.chain_seed("dep_1").unwrap().unwrap().expose_secret(),
            &[7u8; 32]
        );
        let head = store.head("dep_1").unwrap().unwrap();
        assert_eq!(
            (head.sequence, head.digest),
            (2, Digest::from_bytes([2; 32]))
        );
        let mut seen = Vec::new();
        store
            .scan_receipts("dep_1", 1, None, &mut |r| {
                seen.push(r.receipt_id);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, ["inf_1", "inf_2"]);
        assert_eq!(
            store.receipt("dep_1", "inf_0").unwrap().unwrap().sequence,
            0
        );
        assert!(store.receipt("other", "inf_0").unwrap().is_none());
        let batches = store.batches("dep_1").unwrap();
        assert_eq!((batches.len(), batches[0].last_sequence), (1, 1));
        assert!(store.head("other").unwrap().is_none());
        drop(store);
        remove(&path);
    }

    /// Receipts that name no stored deployment stop the migration instead of being dropped.
    #[test]
    fn a_version_2_chain_of_no_stored_deployment_is_not_migrated() {
        let path = temp("migrate2-orphan");
        {
            let conn = old_store(&path, 2);
            conn.execute(
                "INSERT INTO receipts (sequence, receipt_id, digest, timestamp, json) \
                 VALUES (0, 'inf_0', ?1, 0, '{}')",
                params![&[1u8; 32][..]],
            )
            .unwrap();
        }
        assert!(matches!(SqliteStore::open(&path), Err(Error::Sqlite(_))));
        // Nothing was changed: the store is still at version 2 with its receipt.
        let conn = Connection::open(&path).unwrap();
        let (version, count): (i64, i64) = (
            conn.query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap(),
            conn.query_row("SELECT COUNT(*) FROM receipts", [], |r| r.get(0))
                .unwrap(),
        );
        assert_eq!((version, count), (2, 1));
        drop(conn);
        remove(&path);
    }

    /// The head and the scans of a chain are range searches of the table's b-tree, whatever
    /// the chain's length: a plan that scanned or sorted the chain would make every append
    /// cost as much as the chain is long (this happened: 4x slower at 10^6 receipts).
    #[test]
    fn chain_reads_are_rowid_range_searches() {
        let path = temp("plan");
        let (store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
        for sql in [HEAD_SQL, SCAN_SQL] {
            let mut stmt = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let plan: Vec<String> = stmt
                .query_map(params![0, 1], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(plan.len(), 1, "{sql}: {plan:?}");
            assert!(
                plan[0].starts_with("SEARCH receipts USING INTEGER PRIMARY KEY"),
                "{sql}: {plan:?}"
            );
        }
        drop(store);
        remove(&path);
    }

    /// Two chains in one store: separate sequences, ids, heads, seeds and batches.
    #[test]
    fn chains_are_independent() {
        let path = temp("chains");
        let (mut store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
        let receipt = |sequence: u64, id: &str| StoredReceipt {
            sequence,
            receipt_id: id.into(),
            digest: Digest::from_bytes([u8::try_from(sequence).unwrap(); 32]),
            timestamp: 0,
            json: "{}".into(),
        };
        assert!(matches!(
            store.append_receipts("a", &mut |_| Ok(vec![receipt(0, "x")])),
            Err(Error::NoChain { deployment }) if deployment == "a"
        ));
        let seed_a = store.open_chain("a").unwrap();
        let seed_b = store.open_chain("b").unwrap();
        assert_ne!(seed_a.expose_secret(), seed_b.expose_secret());
        assert_eq!(
            store.open_chain("a").unwrap().expose_secret(),
            seed_a.expose_secret()
        );
        store
            .append_receipts("a", &mut |h| {
                assert!(h.is_none());
                Ok(vec![receipt(0, "x"), receipt(1, "y")])
            })
            .unwrap();
        store
            .append_receipts("b", &mut |h| {
                assert!(h.is_none());
                Ok(vec![receipt(0, "x")])
            })
            .unwrap();
        assert_eq!(store.head("a").unwrap().map(|h| h.sequence), Some(1));
        assert_eq!(store.head("b").unwrap().map(|h| h.sequence), Some(0));
        let mut b = Vec::new();
        store
            .scan_receipts("b", 0, None, &mut |r| {
                b.push(r.receipt_id);
                Ok(())
            })
            .unwrap();
        assert_eq!(b, ["x"]);
        // A sequence beyond the chain's span is refused, not wrapped into the next chain.
        assert!(matches!(
            store.append_receipts("b", &mut |_| {
                let mut r = receipt(0, "z");
                r.sequence = CHAIN_SPAN;
                Ok(vec![r])
            }),
            Err(Error::ChainFull { .. })
        ));
        assert_eq!(store.chains().unwrap(), ["a", "b"]);
        drop(store);
        remove(&path);
    }

    #[test]
    fn refuses_a_newer_schema_and_an_uninitialized_file() {
        let path = temp("newer");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        assert!(matches!(
            SqliteStore::open(&path),
            Err(Error::TooNew { found, .. }) if found == SCHEMA_VERSION + 1
        ));
        let _ = std::fs::remove_file(&path);
        let empty = temp("empty");
        drop(Connection::open(&empty).unwrap());
        assert!(matches!(
            SqliteStore::open(&empty),
            Err(Error::NotInitialized { .. })
        ));
        let _ = std::fs::remove_file(&empty);
        assert!(matches!(
            SqliteStore::open(Path::new("/nonexistent/lcm.db")),
            Err(Error::Missing { .. })
        ));
    }

    #[test]
    fn put_records_is_all_or_nothing() {
        let path = temp("atomic");
        let (mut store, fresh) = SqliteStore::init(&path, &Policy::default()).unwrap();
        assert!(fresh);
        let rec = |id: &str| StoredRecord {
            kind: "k".into(),
            id: id.into(),
            digest: Digest::from_bytes([1; 32]),
            json: "{}".into(),
        };
        store.put_records(&[rec("a")], &[]).unwrap();
        // "b" then a duplicate "a": neither is stored.
        assert!(matches!(
            store.put_records(&[rec("b"), rec("a")], &[]),
            Err(Error::Duplicate { kind, id }) if kind == "k" && id == "a"
        ));
        assert_eq!(store.records(None).unwrap().len(), 1);
        // Evidence and receipts name what was already stored too.
        let ev = |id: &str| StoredEvidence {
            kind: "sbom".into(),
            id: id.into(),
            json: "{}".into(),
        };
        store.put_records(&[], &[ev("x")]).unwrap();
        assert!(matches!(
            store.put_records(&[rec("c")], &[ev("y"), ev("x")]),
            Err(Error::Duplicate { kind, id }) if kind == "sbom" && id == "x"
        ));
        assert_eq!(store.records(None).unwrap().len(), 1);
        let receipt = |sequence: u64| StoredReceipt {
            sequence,
            receipt_id: "inf".into(),
            digest: Digest::from_bytes([2; 32]),
            timestamp: 0,
            json: "{}".into(),
        };
        store.open_chain("dep").unwrap();
        store
            .append_receipts("dep", &mut |_| Ok(vec![receipt(0)]))
            .unwrap();
        assert!(matches!(
            store.append_receipts("dep", &mut |_| Ok(vec![receipt(1)])),
            Err(Error::Duplicate { kind, id }) if kind == "inference-receipt" && id == "inf"
        ));
        assert_eq!(store.head("dep").unwrap().map(|h| h.sequence), Some(0));
        drop(store);
        remove(&path);
    }
}
