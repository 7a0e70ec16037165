//! The `PostgreSQL` backend of [`Store`]: [`PostgresStore`], one store in one schema of one
//! database, shared by any number of writers on any number of hosts. [`crate::open`] and
//! [`crate::init`] return it as `Box<dyn Store>` for a `postgres://` or `postgresql://` URL
//! (the URL syntax of libpq, as parsed by the `postgres` crate); nothing outside this module
//! names it.
//!
//! The store lives in the connection's current schema (the first of its `search_path`,
//! `public` by default); `?options=-csearch_path%3DNAME` in the URL puts it in schema `NAME`,
//! which must exist. Give a store its own schema or database: [`Store::schema_check`] reports
//! any other table, index, trigger or function in that schema as added.
//!
//! # Durability
//!
//! Every write is one transaction, and the session runs with `synchronous_commit = on`
//! whatever the server's default: a write is acknowledged only once its `COMMIT` returned,
//! i.e. once the server flushed its write-ahead log.
//!
//! # Concurrency
//!
//! Writers on many connections append to one chain without a fork: [`Store::append_receipts`]
//! and [`Store::close_batch`] lock the chain's row (`SELECT … FOR UPDATE`) before they read the
//! head, so appenders to one chain take turns, each after the previous one's commit, at `READ
//! COMMITTED` (every statement after the lock sees what the previous holder committed). The
//! chain's log is written under the same lock. Writers of records ([`Store::put_records`],
//! [`Store::put_records_with`], [`Store::close_batch`]) and [`Store::open_chain`] lock the
//! store's policy row, so what a stage reads and what it writes are one unit, as with the
//! `SQLite` backend's write lock. Migrations take a transaction-scoped advisory lock, so that
//! two processes opening a new store at once migrate it once.
//!
//! # Append-only
//!
//! `PL/pgSQL` triggers refuse `UPDATE`, `DELETE` and `TRUNCATE` on every table but `meta`
//! and the log's (whose tiles and sizes may only grow), as the `SQLite` backend's triggers do
//! (see `schema.rs`); [`Store::schema_check`] compares the live catalog (tables and columns,
//! constraints, indexes, triggers and whether they are enabled, functions and their source)
//! with what the migrations create, so `lcm check` names a dropped, disabled or replaced
//! trigger. A session with `session_replication_role = replica` skips triggers without
//! changing the catalog: only the digests that `lcm check` recomputes, and signed headers and
//! checkpoints, reveal what it wrote.
//!
//! # What it relies on
//!
//! Core `PostgreSQL` 12 or later, no extension: `bytea`, `bigint`, `text`, `unnest` of array
//! parameters (`WITH ORDINALITY`), `INSERT …
//! ON CONFLICT`, `SELECT … FOR UPDATE`, `pg_advisory_xact_lock` (migrations only), `PL/pgSQL`
//! row and statement (`TRUNCATE`) triggers, transactional DDL, and the catalogs `pg_class`,
//! `pg_attribute`, `pg_constraint`, `pg_index`, `pg_trigger`, `pg_proc` and
//! `pg_stat_database` for the checks.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;

use lcm_crypto::Digest;
use lcm_model::Policy;
use postgres::{Client, NoTls, Statement};
use zeroize::Zeroize;

pub(crate) use self::conn::describe;
use self::conn::{
    digest_from, duplicate_or, is_unique_violation, make_evidence, make_receipt, make_record,
    to_i64, to_u64,
};
use crate::Error;
use crate::sqlite::CHAIN_SPAN;
use crate::store::{
    BatchBuild, BatchKeyRow, ChainHead, Checkpoint, KeyedBuild, NewReceipt, RecordsBuild, Store,
    StoredBatch, StoredEvidence, StoredKeyRotation, StoredReceipt, StoredRecord, StoredToken,
};

mod catalog;
mod conn;
mod log;
mod open;
mod schema;
mod seals;
mod service;

/// The schema version this build writes (the highest version in `lcm_migrations`).
pub const SCHEMA_VERSION: i64 = 5;

/// How many receipts [`Store::scan_receipts`] reads per query: the memory a scan holds,
/// whatever the chain's length.
const SCAN_PAGE: i64 = 4096;

/// The callback of `PostgresStore::append_locked`: the store inside the transaction and the
/// head, in; the receipts and batch keys to commit, out.
type LockedBuild<'a> = dyn FnMut(&PostgresStore, Option<ChainHead>) -> Result<(Vec<Row>, Vec<BatchKeyRow>), Error>
    + 'a;

/// A receipt to insert, its request id (for the indexed column: taken from the record when
/// the caller has it, parsed from the JSON only when it does not) and whether it may repeat
/// a request id of its chain ([`NewReceipt::may_repeat_request`]).
type Row = (StoredReceipt, Option<String>, bool);

/// The rows of receipts the caller made (records in hand: nothing is parsed).
fn rows_of_new(new: Vec<NewReceipt>) -> Vec<Row> {
    new.into_iter()
        .map(|n| (n.stored, Some(n.record.request_id), n.may_repeat_request))
        .collect()
}

/// Which id of a receipt [`PostgresStore::first_held`] looks up.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// `request_id`.
    Request,
    /// `receipt_id`.
    Receipt,
}

/// A store in a `PostgreSQL` database.
pub struct PostgresStore {
    client: RefCell<Client>,
    /// What the connection was made from, to make it again after it broke.
    config: postgres::Config,
    /// Whether the session's transactions are read-only ([`PostgresStore::open_read_only`]).
    read_only: Cell<bool>,
    /// Whether a transaction is open: a connection that broke inside one is not replaced
    /// until it ends (its statements fail, and so does the transaction).
    in_transaction: Cell<bool>,
    /// Whether a statement failed because the session ended (see `conn.rs`).
    broken: Cell<bool>,
    /// Prepared statements by their text: each is parsed by the server once per connection.
    statements: RefCell<HashMap<&'static str, Statement>>,
    /// The URL with its password removed, for messages.
    location: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A new connection with the session settings of a store: durable commits, and read-only
/// transactions for a read-only store.
fn session(config: &postgres::Config, read_only: bool) -> Result<Client, Error> {
    let mut client = config.connect(NoTls)?;
    client.batch_execute("SET synchronous_commit = on")?;
    if read_only {
        client.batch_execute("SET default_transaction_read_only = on")?;
    }
    Ok(client)
}

/// Whether `location` is a URL this backend takes.
pub(crate) fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl PostgresStore {
    /// Takes the store-wide lock of record writers (the policy row), until the transaction
    /// ends.
    fn lock_records(&self) -> Result<(), Error> {
        self.query("SELECT 1 FROM meta WHERE key = 'policy' FOR UPDATE", &[])?;
        Ok(())
    }

    fn chain_id(&self, deployment: &str) -> Result<Option<i64>, Error> {
        self.query_opt(
            "SELECT chain_id FROM chains WHERE deployment = $1",
            &[&deployment],
        )?
        .map(|r| Ok::<_, Error>(r.try_get(0)?))
        .transpose()
    }

    /// The chain's id, its row locked until the transaction ends: appenders to one chain
    /// take turns here.
    fn lock_chain(&self, deployment: &str) -> Result<i64, Error> {
        self.query_opt(
            "SELECT chain_id FROM chains WHERE deployment = $1 FOR UPDATE",
            &[&deployment],
        )?
        .map(|r| Ok::<_, Error>(r.try_get(0)?))
        .transpose()?
        .ok_or_else(|| Error::no_chain(deployment))
    }

    fn read_head(&self, chain: i64) -> Result<Option<ChainHead>, Error> {
        self.query_opt(
            "SELECT sequence, digest FROM receipts WHERE chain_id = $1 \
             ORDER BY sequence DESC LIMIT 1",
            &[&chain],
        )?
        .map(|r| {
            Ok(ChainHead {
                sequence: to_u64(r.try_get(0)?, "sequence")?,
                digest: digest_from(r.try_get(1)?)?,
            })
        })
        .transpose()
    }

    fn insert_records(&self, records: &[StoredRecord]) -> Result<(), Error> {
        for r in records {
            self.execute(
                "INSERT INTO records (kind, id, digest, json) VALUES ($1, $2, $3, $4)",
                &[&r.kind, &r.id, &r.digest.as_bytes().as_slice(), &r.json],
            )
            .map_err(|e| duplicate_or(e, &r.kind, &r.id))?;
        }
        Ok(())
    }

    fn insert_evidence(&self, evidence: &[StoredEvidence]) -> Result<(), Error> {
        for e in evidence {
            self.execute(
                "INSERT INTO evidence (kind, id, json) VALUES ($1, $2, $3)",
                &[&e.kind, &e.id, &e.json],
            )
            .map_err(|err| duplicate_or(err, &e.kind, &e.id))?;
        }
        Ok(())
    }

    /// Inserts receipts with one statement (their columns as arrays, `unnest`ed).
    fn insert_receipts(&self, deployment: &str, chain: i64, rows: &[Row]) -> Result<(), Error> {
        let mut sequences = Vec::with_capacity(rows.len());
        for (r, ..) in rows {
            if r.sequence >= CHAIN_SPAN {
                return Err(Error::ChainFull {
                    deployment: deployment.to_owned(),
                });
            }
            sequences.push(to_i64(r.sequence)?);
        }
        let ids: Vec<&str> = rows.iter().map(|(r, ..)| r.receipt_id.as_str()).collect();
        let digests: Vec<&[u8]> = rows
            .iter()
            .map(|(r, ..)| r.digest.as_bytes().as_slice())
            .collect();
        let times: Vec<i64> = rows.iter().map(|(r, ..)| r.timestamp).collect();
        let jsons: Vec<&str> = rows.iter().map(|(r, ..)| r.json.as_str()).collect();
        let requests: Vec<Option<&str>> = rows.iter().map(|(_, q, _)| q.as_deref()).collect();
        if rows.iter().all(|&(_, _, may)| !may) {
            // Every receipt a first one (`repeat` 0): the unique request index refuses a
            // known id in the search it makes anyway.
            self.execute(
                "INSERT INTO receipts \
                 (chain_id, sequence, receipt_id, digest, timestamp, json, request_id) \
                 SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::bigint[], \
                 $6::text[], $7::text[])",
                &[
                    &chain, &sequences, &ids, &digests, &times, &jsons, &requests,
                ],
            )?;
            return Ok(());
        }
        // A receipt that may repeat its request id is a repeat (`repeat` its sequence) when
        // the chain or an earlier receipt of the batch holds the id.
        let may: Vec<bool> = rows.iter().map(|&(_, _, may)| may).collect();
        self.execute(
            "INSERT INTO receipts \
             (chain_id, sequence, receipt_id, digest, timestamp, json, request_id, repeat) \
             SELECT $1, u.s, u.id, u.d, u.t, u.j, u.q, \
               CASE WHEN NOT u.may OR u.q IS NULL THEN 0 \
                    WHEN row_number() OVER (PARTITION BY u.q ORDER BY u.s) > 1 THEN u.s \
                    WHEN EXISTS (SELECT 1 FROM receipts r \
                                 WHERE r.chain_id = $1 AND r.request_id = u.q) THEN u.s \
                    ELSE 0 END \
             FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::bigint[], $6::text[], \
                         $7::text[], $8::bool[]) AS u (s, id, d, t, j, q, may) \
             ORDER BY u.s",
            &[
                &chain, &sequences, &ids, &digests, &times, &jsons, &requests, &may,
            ],
        )?;
        Ok(())
    }

    /// Appends under the chain's row lock: reads the head and the log's size, calls `build`
    /// with the store inside the transaction and the head, and inserts the receipts it
    /// returns, the log's new leaves and the batch keys in that one transaction.
    fn append_locked(
        &self,
        deployment: &str,
        build: &mut LockedBuild<'_>,
    ) -> Result<Vec<StoredReceipt>, Error> {
        let mut failed_chain = None;
        let result = self.transaction(|s| {
            let chain = s.lock_chain(deployment)?;
            // The head and the log's size in one statement, after the lock (so at READ
            // COMMITTED it sees the previous holder's commit).
            let row = s.query_one(
                "SELECT (SELECT size FROM logs WHERE chain_id = $1), r.sequence, r.digest \
                 FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT sequence, digest FROM receipts \
                 WHERE chain_id = $1 ORDER BY sequence DESC LIMIT 1) AS r ON true",
                &[&chain],
            )?;
            let size = to_u64(row.try_get::<_, Option<i64>>(0)?.unwrap_or(0), "log size")?;
            let head = match (
                row.try_get::<_, Option<i64>>(1)?,
                row.try_get::<_, Option<Vec<u8>>>(2)?,
            ) {
                (Some(sequence), Some(digest)) => Some(ChainHead {
                    sequence: to_u64(sequence, "sequence")?,
                    digest: digest_from(&digest)?,
                }),
                _ => None,
            };
            let (rows, keys) = build(s, head)?;
            if rows.is_empty() {
                s.insert_batch_keys(chain, &keys)?;
                return Ok(Vec::new());
            }
            let inserted = s.insert_receipts(deployment, chain, &rows);
            if let Err(e) = inserted {
                if matches!(&e, Error::Postgres(p) if is_unique_violation(p)) {
                    failed_chain = Some((chain, rows));
                }
                return Err(e);
            }
            let receipts: Vec<StoredReceipt> = rows.into_iter().map(|(r, ..)| r).collect();
            // The log grows in the same transaction: an acknowledged receipt is in the log.
            let expected = head.map_or(0, |h| h.sequence.saturating_add(1));
            if size != expected {
                return Err(Error::Corrupt {
                    what: format!(
                        "the log of deployment {deployment} has {size} leaves, its chain \
                         {expected} receipts"
                    ),
                });
            }
            log::append(s, chain, size, receipts.iter().map(|r| r.digest))?;
            s.insert_batch_keys(chain, &keys)?;
            Ok(receipts)
        });
        match (result, failed_chain) {
            (Err(Error::Postgres(e)), Some((chain, rows)))
                if e.as_db_error().and_then(|d| d.constraint()) == Some("receipts_by_request") =>
            {
                Err(Error::RepeatedRequest {
                    deployment: deployment.to_owned(),
                    request_id: self.repeated_request(chain, &rows)?,
                })
            }
            (Err(_), Some((chain, rows))) => {
                let receipts: Vec<StoredReceipt> = rows.into_iter().map(|(r, ..)| r).collect();
                Err(Error::Duplicate {
                    kind: "inference-receipt".to_owned(),
                    id: self.duplicate_receipt(chain, &receipts)?,
                })
            }
            (result, _) => result,
        }
    }

    /// The request id that made an append violate the unique request index: the first
    /// receipt that may not repeat its id whose id an earlier receipt of the batch or the
    /// chain holds (read after the failed transaction was rolled back).
    fn repeated_request(&self, chain: i64, rows: &[Row]) -> Result<String, Error> {
        let mut seen = std::collections::HashSet::new();
        let mut firsts = Vec::new();
        for (_, request, may) in rows {
            let Some(request) = request.as_deref() else {
                continue;
            };
            if !seen.insert(request) && !may {
                return Ok(request.to_owned());
            }
            if !may {
                firsts.push(request);
            }
        }
        match self.first_held(chain, Held::Request, &firsts)? {
            Some(id) => Ok(id),
            // Not expected (the chain's row lock keeps other writers out, and receipts are
            // never removed): name the first id that may not repeat.
            None => Ok(firsts.first().map(|&q| q.to_owned()).unwrap_or_default()),
        }
    }

    /// The first of `ids` that a receipt of chain `chain` holds as its request or receipt id:
    /// one statement, each id looked up through its unique index.
    fn first_held(&self, chain: i64, column: Held, ids: &[&str]) -> Result<Option<String>, Error> {
        let sql = match column {
            Held::Request => {
                "SELECT i.id FROM unnest($2::text[]) WITH ORDINALITY AS i (id, n) \
                 WHERE EXISTS (SELECT 1 FROM receipts r WHERE r.chain_id = $1 \
                               AND r.request_id = i.id) \
                 ORDER BY i.n LIMIT 1"
            }
            Held::Receipt => {
                "SELECT i.id FROM unnest($2::text[]) WITH ORDINALITY AS i (id, n) \
                 WHERE EXISTS (SELECT 1 FROM receipts r WHERE r.chain_id = $1 \
                               AND r.receipt_id = i.id) \
                 ORDER BY i.n LIMIT 1"
            }
        };
        self.query_opt(sql, &[&chain, &ids])?
            .map(|r| Ok::<_, Error>(r.try_get(0)?))
            .transpose()
    }

    /// The receipt id that made an append violate a unique key: one the chain holds, or one
    /// the batch repeats (read after the failed transaction was rolled back).
    fn duplicate_receipt(&self, chain: i64, receipts: &[StoredReceipt]) -> Result<String, Error> {
        let mut seen = std::collections::HashSet::new();
        for r in receipts {
            if !seen.insert(r.receipt_id.as_str()) {
                return Ok(r.receipt_id.clone());
            }
        }
        let ids: Vec<&str> = receipts.iter().map(|r| r.receipt_id.as_str()).collect();
        match self.first_held(chain, Held::Receipt, &ids)? {
            Some(id) => Ok(id),
            None => Ok(receipts
                .first()
                .map(|r| r.receipt_id.clone())
                .unwrap_or_default()),
        }
    }
}

/// The `request_id` of a receipt's JSON (`None` when it has none), for the column that
/// [`Store::known_request`] searches.
fn request_id(json: &str) -> Result<Option<String>, Error> {
    #[derive(serde::Deserialize)]
    struct RequestOnly {
        request_id: Option<String>,
    }
    Ok(serde_json::from_str::<RequestOnly>(json)?.request_id)
}

/// The seed of `deployment`'s chain from its stored bytes, after checking it against its
/// check value.
fn checked_seed(
    s: &PostgresStore,
    deployment: &str,
    bytes: Vec<u8>,
) -> Result<lcm_crypto::Seed, Error> {
    crate::seals::checked_seed(bytes, |seed| seals::verify_seed(s, deployment, seed))
}

impl Store for PostgresStore {
    fn schema_version(&self) -> i64 {
        SCHEMA_VERSION
    }

    fn integrity_check(&self) -> Result<(), Error> {
        catalog::integrity_check(self)
    }

    fn schema_check(&self) -> Result<(), Error> {
        catalog::compare_schema(self)
    }

    fn checkpointer(&mut self) -> Result<Option<Box<dyn Checkpoint>>, Error> {
        // The server checkpoints on its own.
        Ok(None)
    }

    fn record_by_digest(&self, kind: &str, digest: &Digest) -> Result<Option<StoredRecord>, Error> {
        self.query_opt(
            "SELECT kind, id, digest, json FROM records WHERE kind = $1 AND digest = $2 \
             ORDER BY id LIMIT 1",
            &[&kind, &digest.as_bytes().as_slice()],
        )?
        .as_ref()
        .map(make_record)
        .transpose()
    }

    fn policy(&self) -> Result<Policy, Error> {
        let json: String = self
            .query_opt("SELECT value FROM meta WHERE key = 'policy'", &[])?
            .ok_or_else(|| Error::NotInitialized {
                path: self.location.clone().into(),
            })?
            .try_get(0)?;
        let policy: Policy = serde_json::from_str(&json)?;
        seals::verify_policy(self, &json, &policy)?;
        Ok(policy)
    }

    fn chains(&self) -> Result<Vec<String>, Error> {
        self.query("SELECT deployment FROM chains ORDER BY chain_id", &[])?
            .iter()
            .map(|r| Ok::<_, Error>(r.try_get(0)?))
            .collect()
    }

    fn open_chain(&mut self, deployment: &str) -> Result<lcm_crypto::Seed, Error> {
        if let Some(seed) = self.chain_seed(deployment)? {
            return Ok(seed);
        }
        self.transaction(|s| {
            // Chain ids are taken in turn; another writer may have opened it since the read
            // above.
            s.lock_records()?;
            if let Some(row) = s.query_opt(
                "SELECT seed FROM chains WHERE deployment = $1",
                &[&deployment],
            )? {
                return checked_seed(s, deployment, row.try_get(0)?);
            }
            let mut seed = [0u8; 32];
            lcm_crypto::fill_random(&mut seed)?;
            let result = s
                .query_one(
                    "INSERT INTO chains (chain_id, deployment, seed) \
                     VALUES ((SELECT COALESCE(MAX(chain_id), 0) + 1 FROM chains), $1, $2) \
                     RETURNING chain_id",
                    &[&deployment, &seed.as_slice()],
                )
                .and_then(|row| Ok(row.try_get::<_, i64>(0)?))
                .and_then(|id| seals::record_seed_check(s, id, deployment, &seed))
                .map(|()| lcm_crypto::Seed::from_bytes(seed));
            seed.zeroize();
            result
        })
    }

    fn chain_seed(&self, deployment: &str) -> Result<Option<lcm_crypto::Seed>, Error> {
        let bytes: Option<Vec<u8>> = self
            .query_opt(
                "SELECT seed FROM chains WHERE deployment = $1",
                &[&deployment],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        bytes.map(|b| checked_seed(self, deployment, b)).transpose()
    }

    fn put_records(
        &mut self,
        records: &[StoredRecord],
        evidence: &[StoredEvidence],
    ) -> Result<(), Error> {
        self.transaction(|s| {
            s.lock_records()?;
            s.insert_records(records)?;
            s.insert_evidence(evidence)
        })
    }

    fn put_records_with(
        &mut self,
        build: &mut RecordsBuild<'_>,
    ) -> Result<Vec<StoredRecord>, Error> {
        self.transaction(|s| {
            s.lock_records()?;
            let (records, evidence) = build(s)?;
            s.insert_records(&records)?;
            s.insert_evidence(&evidence)?;
            Ok(records)
        })
    }

    fn evidence(&self, kind: Option<&str>) -> Result<Vec<StoredEvidence>, Error> {
        self.query(
            "SELECT kind, id, json FROM evidence WHERE $1::text IS NULL OR kind = $1 \
             ORDER BY kind, id",
            &[&kind],
        )?
        .iter()
        .map(make_evidence)
        .collect()
    }

    fn evidence_of(&self, kind: &str, id: &str) -> Result<Option<StoredEvidence>, Error> {
        self.query_opt(
            "SELECT kind, id, json FROM evidence WHERE kind = $1 AND id = $2",
            &[&kind, &id],
        )?
        .as_ref()
        .map(make_evidence)
        .transpose()
    }

    fn record(&self, kind: &str, id: &str) -> Result<Option<StoredRecord>, Error> {
        self.query_opt(
            "SELECT kind, id, digest, json FROM records WHERE kind = $1 AND id = $2",
            &[&kind, &id],
        )?
        .as_ref()
        .map(make_record)
        .transpose()
    }

    fn records(&self, kind: Option<&str>) -> Result<Vec<StoredRecord>, Error> {
        self.query(
            "SELECT kind, id, digest, json FROM records WHERE $1::text IS NULL OR kind = $1 \
             ORDER BY kind, id",
            &[&kind],
        )?
        .iter()
        .map(make_record)
        .collect()
    }

    fn append_receipts(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(Option<ChainHead>) -> Result<Vec<StoredReceipt>, Error>,
    ) -> Result<Vec<StoredReceipt>, Error> {
        self.append_locked(deployment, &mut |_, head| {
            let rows = build(head)?
                .into_iter()
                .map(|r| {
                    let request = request_id(&r.json)?;
                    Ok((r, request, false))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            Ok((rows, Vec::new()))
        })
    }

    fn head(&self, deployment: &str) -> Result<Option<ChainHead>, Error> {
        match self.chain_id(deployment)? {
            Some(chain) => self.read_head(chain),
            None => Ok(None),
        }
    }

    fn known_request(
        &self,
        deployment: &str,
        request_ids: &[&str],
    ) -> Result<Option<String>, Error> {
        let Some(chain) = self.chain_id(deployment)? else {
            return Ok(None);
        };
        // One statement for the whole batch, each id looked up through
        // `receipts_by_request`.
        self.first_held(chain, Held::Request, request_ids)
    }

    fn scan_receipts(
        &self,
        deployment: &str,
        from: u64,
        to: Option<u64>,
        visit: &mut dyn FnMut(StoredReceipt) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let Some(chain) = self.chain_id(deployment)? else {
            return Ok(());
        };
        if from >= CHAIN_SPAN {
            return Ok(());
        }
        let last = to_i64(to.map_or(CHAIN_SPAN - 1, |t| t.min(CHAIN_SPAN - 1)))?;
        let mut next = to_i64(from)?;
        // In pages of `SCAN_PAGE`: the memory held is one page, and `visit` runs with the
        // connection free (it may read the store).
        while next <= last {
            let rows = self.query(
                "SELECT sequence, receipt_id, digest, timestamp, json FROM receipts \
                 WHERE chain_id = $1 AND sequence >= $2 AND sequence <= $3 \
                 ORDER BY sequence LIMIT $4",
                &[&chain, &next, &last, &SCAN_PAGE],
            )?;
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) == SCAN_PAGE;
            for row in &rows {
                let receipt = make_receipt(row)?;
                next = to_i64(receipt.sequence)? + 1;
                visit(receipt)?;
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    fn request_sequences(&self, deployment: &str, request_id: &str) -> Result<Vec<u64>, Error> {
        let Some(chain) = self.chain_id(deployment)? else {
            return Ok(Vec::new());
        };
        self.query(
            "SELECT sequence FROM receipts WHERE chain_id = $1 AND request_id = $2 \
             ORDER BY sequence",
            &[&chain, &request_id],
        )?
        .iter()
        .map(|r| to_u64(r.try_get(0)?, "sequence"))
        .collect()
    }

    fn time_span(
        &self,
        deployment: &str,
        since: i64,
        until: i64,
    ) -> Result<Option<(u64, u64)>, Error> {
        let Some(chain) = self.chain_id(deployment)? else {
            return Ok(None);
        };
        let row = self.query_one(
            "SELECT MIN(sequence), MAX(sequence) FROM receipts \
             WHERE chain_id = $1 AND timestamp >= $2 AND timestamp <= $3",
            &[&chain, &since, &until],
        )?;
        let (lo, hi): (Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
        match (lo, hi) {
            (Some(lo), Some(hi)) => Ok(Some((to_u64(lo, "sequence")?, to_u64(hi, "sequence")?))),
            _ => Ok(None),
        }
    }

    fn receipt(&self, deployment: &str, receipt_id: &str) -> Result<Option<StoredReceipt>, Error> {
        let Some(chain) = self.chain_id(deployment)? else {
            return Ok(None);
        };
        self.query_opt(
            "SELECT sequence, receipt_id, digest, timestamp, json FROM receipts \
             WHERE chain_id = $1 AND receipt_id = $2",
            &[&chain, &receipt_id],
        )?
        .as_ref()
        .map(make_receipt)
        .transpose()
    }

    fn close_batch(
        &mut self,
        deployment: &str,
        build: &mut dyn FnMut(&dyn Store, u64) -> BatchBuild,
    ) -> Result<Option<StoredBatch>, Error> {
        // The chain's lock is taken first, so two `batch close` runs cannot seal the same
        // receipts twice; the callback reads through the store inside the transaction.
        self.transaction(|s| {
            let chain = s.lock_chain(deployment)?;
            s.lock_records()?;
            let next: Option<i64> = s
                .query_one(
                    "SELECT MAX(last_seq) + 1 FROM batches WHERE chain_id = $1",
                    &[&chain],
                )?
                .try_get(0)?;
            let next = to_u64(next.unwrap_or(0), "sequence")?;
            let Some((batch, records)) = build(s, next)? else {
                return Ok(None);
            };
            s.execute(
                "INSERT INTO batches (chain_id, window_id, first_seq, last_seq, digest, json) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &chain,
                    &batch.window_id,
                    &to_i64(batch.first_sequence)?,
                    &to_i64(batch.last_sequence)?,
                    &batch.digest.as_bytes().as_slice(),
                    &batch.json,
                ],
            )
            .map_err(|e| duplicate_or(e, "inference-batch", &batch.window_id))?;
            s.insert_records(&records)?;
            Ok(Some(batch))
        })
    }

    fn batches(&self, deployment: &str) -> Result<Vec<StoredBatch>, Error> {
        let Some(chain) = self.chain_id(deployment)? else {
            return Ok(Vec::new());
        };
        self.query(
            "SELECT window_id, first_seq, last_seq, digest, json FROM batches \
             WHERE chain_id = $1 ORDER BY first_seq",
            &[&chain],
        )?
        .iter()
        .map(|r| {
            Ok(StoredBatch {
                window_id: r.try_get(0)?,
                first_sequence: to_u64(r.try_get(1)?, "sequence")?,
                last_sequence: to_u64(r.try_get(2)?, "sequence")?,
                digest: digest_from(r.try_get(3)?)?,
                json: r.try_get(4)?,
            })
        })
        .collect()
    }

    fn log_size(&self, deployment: &str) -> Result<u64, Error> {
        match self.chain_id(deployment)? {
            Some(chain) => log::size(self, chain),
            None => Ok(0),
        }
    }

    fn key_rotations(&self) -> Result<Vec<StoredKeyRotation>, Error> {
        self.read_key_rotations()
    }

    fn put_key_rotation(&mut self, rotation: &StoredKeyRotation) -> Result<(), Error> {
        self.insert_key_rotation(rotation)
    }

    fn put_token(&mut self, token: &StoredToken) -> Result<(), Error> {
        self.insert_token(token)
    }

    fn token(&self, id: &str) -> Result<Option<StoredToken>, Error> {
        self.read_token(id)
    }

    fn tokens(&self) -> Result<Vec<StoredToken>, Error> {
        self.read_tokens()
    }

    fn revoke_token(&mut self, id: &str, at: i64) -> Result<bool, Error> {
        self.transaction(|s| s.revoke(id, at))
    }

    fn batch_key(&self, deployment: &str, key: &str) -> Result<Option<BatchKeyRow>, Error> {
        match self.chain_id(deployment)? {
            Some(chain) => self.read_batch_key(chain, key),
            None => Ok(None),
        }
    }

    fn append_keyed(
        &mut self,
        deployment: &str,
        build: &mut KeyedBuild<'_>,
    ) -> Result<Vec<StoredReceipt>, Error> {
        self.append_locked(deployment, &mut |s, head| {
            let (new, keys) = build(s, head)?;
            Ok((rows_of_new(new), keys))
        })
    }

    fn log_tile(
        &self,
        deployment: &str,
        tile: lcm_tlog::tiles::Tile,
    ) -> Result<Vec<Digest>, Error> {
        let chain = self
            .chain_id(deployment)?
            .ok_or_else(|| Error::no_chain(deployment))?;
        log::tile(self, chain, tile)
    }
}
