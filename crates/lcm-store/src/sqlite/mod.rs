//! The embedded `SQLite` backend of [`Store`]: [`SqliteStore`] (one database file), its
//! schema and migrations, and the [`Checkpointer`] that the receipt pipeline runs on its own
//! thread. Nothing outside this module names these types: [`crate::open`] and
//! [`crate::init`] return them as `Box<dyn Store>`.
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

use std::path::PathBuf;
use std::time::Duration;

use lcm_crypto::Digest;
use lcm_model::Policy;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroize;

pub use self::connection::Checkpointer;
use self::seals::{checked_seed, compare_schema};
use crate::Error;
use crate::store::{
    BatchBuild, BatchKeyRow, ChainHead, Checkpoint, KeyedBuild, NewReceipt, RecordsBuild, Store,
    StoredBatch, StoredEvidence, StoredKeyRotation, StoredReceipt, StoredRecord, StoredToken,
};

/// The page cache of a bulk writer's connection, in KiB (`PRAGMA cache_size`, negative).
const BULK_CACHE_KIB: u32 = 16 * 1024;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 11;

/// The schema version that added the transparency log; migrating to it builds the tiles of
/// the receipts already stored.
const LOG_VERSION: i64 = 6;

/// A chain's receipts are keyed `chain_id * CHAIN_SPAN + sequence` (the table's rowid), so
/// one chain is one contiguous rowid range: appends and scans cost what they cost with one
/// chain, and a chain holds fewer than 2^40 receipts (a million a second for 34 years).
pub const CHAIN_SPAN: u64 = 1 << 40;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

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

fn row_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, Vec<u8>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

/// An evidence row of `SELECT kind, id, json FROM evidence`.
fn row_evidence(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvidence> {
    Ok(StoredEvidence {
        kind: r.get(0)?,
        id: r.get(1)?,
        json: r.get(2)?,
    })
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
        .prepare_cached("SELECT chain_id FROM chains WHERE deployment = ?1")?
        .query_row(params![deployment], |r| r.get(0))
        .optional()?)
}

impl Store for SqliteStore {
    fn schema_version(&self) -> i64 {
        SCHEMA_VERSION
    }

    fn integrity_check(&self) -> Result<(), Error> {
        Self::integrity_check(self)
    }

    fn schema_check(&self) -> Result<(), Error> {
        compare_schema(&self.conn)
    }

    fn checkpointer(&mut self) -> Result<Option<Box<dyn Checkpoint>>, Error> {
        self.disable_autocheckpoint()?;
        Ok(Some(Box::new(Checkpointer::open(&self.path)?)))
    }

    fn bulk_appends(&mut self) -> Result<(), Error> {
        // A page cache that holds a whole transaction's dirty pages (16,384 receipts dirty
        // ≈ 8 MB of table and index pages), so that none is spilled into the WAL before the
        // commit and written again; 2 MB by default.
        self.conn
            .pragma_update(None, "cache_size", -i64::from(BULK_CACHE_KIB))?;
        Ok(())
    }

    fn record_by_digest(&self, kind: &str, digest: &Digest) -> Result<Option<StoredRecord>, Error> {
        self.conn
            .query_row(
                "SELECT kind, id, digest, json FROM records WHERE kind = ?1 AND digest = ?2 \
                 ORDER BY id LIMIT 1",
                params![kind, digest.as_bytes().as_slice()],
                row_record,
            )
            .optional()?
            .map(make_record)
            .transpose()
    }

    fn policy(&self) -> Result<Policy, Error> {
        let json: String =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
                    r.get(0)
                })?;
        let policy: Policy = serde_json::from_str(&json)?;
        seals::verify_policy(&self.conn, &json, &policy)?;
        Ok(policy)
    }

    fn chains(&self) -> Result<Vec<String>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT deployment FROM chains ORDER BY chain_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
            return checked_seed(&tx, deployment, bytes);
        }
        let mut seed = [0u8; 32];
        lcm_crypto::fill_random(&mut seed)?;
        let result = tx
            .execute(
                "INSERT INTO chains (chain_id, deployment, seed) \
                 VALUES ((SELECT COALESCE(MAX(chain_id), 0) + 1 FROM chains), ?1, ?2)",
                params![deployment, &seed[..]],
            )
            .map_err(Error::from)
            .and_then(|_| {
                let id = chain_id(&tx, deployment)?.ok_or_else(|| Error::no_chain(deployment))?;
                seals::record_seed_check(&tx, id, deployment, &seed)
            })
            .and_then(|()| Ok(tx.commit()?))
            .map(|()| lcm_crypto::Seed::from_bytes(seed));
        seed.zeroize();
        result
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
        bytes
            .map(|b| checked_seed(&self.conn, deployment, b))
            .transpose()
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
            let (records, evidence) = build(store)?;
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
                row_evidence,
            )
            .optional()?)
    }

    fn evidence(&self, kind: Option<&str>) -> Result<Vec<StoredEvidence>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, id, json FROM evidence WHERE ?1 IS NULL OR kind = ?1 ORDER BY kind, id",
        )?;
        let rows = stmt.query_map(params![kind], row_evidence)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        stmt.query_map(params![kind], row_record)?
            .map(|row| make_record(row?))
            .collect()
    }

    fn append_receipts(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(Option<ChainHead>) -> Result<Vec<StoredReceipt>, Error>,
    ) -> Result<Vec<StoredReceipt>, Error> {
        receipts::append(&mut self.conn, deployment, &mut |head| {
            build(head)?.into_iter().map(NewReceipt::parse).collect()
        })
    }

    fn head(&self, deployment: &str) -> Result<Option<ChainHead>, Error> {
        match chain_id(&self.conn, deployment)? {
            Some(chain) => receipts::head(&self.conn, chain),
            None => Ok(None),
        }
    }

    fn known_request(
        &self,
        deployment: &str,
        request_ids: &[&str],
    ) -> Result<Option<String>, Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(None);
        };
        receipts::known_request(&self.conn, chain, request_ids)
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
        receipts::scan(&self.conn, chain, from, to, visit)
    }

    fn request_sequences(&self, deployment: &str, request_id: &str) -> Result<Vec<u64>, Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(Vec::new());
        };
        receipts::request_sequences(&self.conn, chain, request_id)
    }

    fn time_span(
        &self,
        deployment: &str,
        since: i64,
        until: i64,
    ) -> Result<Option<(u64, u64)>, Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(None);
        };
        receipts::time_span(&self.conn, chain, since, until)
    }

    fn receipt(&self, deployment: &str, receipt_id: &str) -> Result<Option<StoredReceipt>, Error> {
        let Some(chain) = chain_id(&self.conn, deployment)? else {
            return Ok(None);
        };
        receipts::by_id(&self.conn, chain, receipt_id)
    }

    fn close_batch(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(&dyn Store, u64) -> BatchBuild,
    ) -> Result<Option<StoredBatch>, Error> {
        // The write lock is taken first, so two `batch close` runs cannot seal the same
        // receipts twice; the callback reads through the store inside the transaction.
        self.write_transaction(|store| {
            let chain =
                chain_id(&store.conn, deployment)?.ok_or_else(|| Error::no_chain(deployment))?;
            let next: Option<i64> = store.conn.query_row(
                "SELECT MAX(last_seq) + 1 FROM batches WHERE chain_id = ?1",
                params![chain],
                |r| r.get(0),
            )?;
            let next = to_u64(next.unwrap_or(0), "sequence")?;
            let Some((batch, records)) = build(store, next)? else {
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

    fn log_size(&self, deployment: &str) -> Result<u64, Error> {
        match chain_id(&self.conn, deployment)? {
            Some(chain) => log::size(&self.conn, chain),
            None => Ok(0),
        }
    }

    fn key_rotations(&self) -> Result<Vec<StoredKeyRotation>, Error> {
        service::key_rotations(&self.conn)
    }

    fn put_key_rotation(&mut self, rotation: &StoredKeyRotation) -> Result<(), Error> {
        service::put_key_rotation(&self.conn, rotation)
    }

    fn put_token(&mut self, token: &StoredToken) -> Result<(), Error> {
        service::put_token(&self.conn, token)
    }

    fn token(&self, id: &str) -> Result<Option<StoredToken>, Error> {
        service::token(&self.conn, id)
    }

    fn tokens(&self) -> Result<Vec<StoredToken>, Error> {
        service::tokens(&self.conn)
    }

    fn revoke_token(&mut self, id: &str, at: i64) -> Result<bool, Error> {
        self.write_transaction(|store| service::revoke_token(&store.conn, id, at))
    }

    fn batch_key(&self, deployment: &str, key: &str) -> Result<Option<BatchKeyRow>, Error> {
        match chain_id(&self.conn, deployment)? {
            Some(chain) => service::batch_key(&self.conn, chain, key),
            None => Ok(None),
        }
    }

    fn append_keyed(
        &mut self,
        deployment: &str,
        build: &mut KeyedBuild<'_>,
    ) -> Result<Vec<StoredReceipt>, Error> {
        self.write_transaction(|store| {
            let chain =
                chain_id(&store.conn, deployment)?.ok_or_else(|| Error::no_chain(deployment))?;
            let head = receipts::head(&store.conn, chain)?;
            let (new, keys) = build(store, head)?;
            receipts::insert_all(&store.conn, chain, deployment, head, &new)?;
            service::put_batch_keys(&store.conn, chain, &keys)?;
            Ok(new.into_iter().map(|r| r.stored).collect())
        })
    }

    fn log_tile(
        &self,
        deployment: &str,
        tile: lcm_tlog::tiles::Tile,
    ) -> Result<Vec<Digest>, Error> {
        let chain = chain_id(&self.conn, deployment)?.ok_or_else(|| Error::no_chain(deployment))?;
        log::tile(&self.conn, chain, tile)
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

mod connection;
mod log;
mod open;
mod receipts;
mod schema;
mod seals;
mod service;
#[cfg(test)]
mod tests;
