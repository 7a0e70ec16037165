//! The connection plumbing of [`PostgresStore`]: prepared statements cached per connection,
//! transactions whose callbacks run with the connection free, errors described in full, and
//! the conversions of rows into the store's types.

use std::cell::RefMut;

use lcm_crypto::Digest;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::PostgresStore;
use crate::Error;
use crate::store::{StoredEvidence, StoredReceipt, StoredRecord};

/// A statement parameter.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// A `postgres` error in full: the server's own message (with its detail and hint) for a
/// statement it refused, else the client's error and its causes (`error connecting to
/// server: Connection refused`). None of them holds the URL's password.
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!(" (hint: {hint})"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

pub(super) fn digest_from(bytes: &[u8]) -> Result<Digest, Error> {
    Digest::try_from_slice(bytes).map_err(|_| Error::Corrupt {
        what: format!("a digest of {} bytes, expected 32", bytes.len()),
    })
}

pub(super) fn to_u64(v: i64, what: &str) -> Result<u64, Error> {
    u64::try_from(v).map_err(|_| Error::Corrupt {
        what: format!("negative {what} {v}"),
    })
}

pub(super) fn to_i64(v: u64) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| Error::Corrupt {
        what: format!("sequence {v} beyond 2^63"),
    })
}

/// The SQLSTATE of a unique or primary-key violation.
pub(super) fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

impl PostgresStore {
    /// The connection; one that broke (the server restarted, the network dropped it) is
    /// replaced by a new one first, unless a transaction is open on it.
    pub(super) fn client(&self) -> Result<RefMut<'_, Client>, Error> {
        let mut client = self.client.try_borrow_mut().map_err(|_| Error::Corrupt {
            what: "the PostgreSQL connection was used from inside one of its own callbacks"
                .to_owned(),
        })?;
        if (client.is_closed() || self.broken.get()) && !self.in_transaction.get() {
            *client = super::session(&self.config, self.read_only.get())?;
            self.broken.set(false);
            // The prepared statements belonged to the old connection.
            self.statements
                .try_borrow_mut()
                .map_err(|_| Error::Corrupt {
                    what: "the statement cache was used re-entrantly".to_owned(),
                })?
                .clear();
        }
        Ok(client)
    }

    pub(super) fn statement(
        &self,
        client: &mut Client,
        sql: &'static str,
    ) -> Result<Statement, Error> {
        let mut cache = self
            .statements
            .try_borrow_mut()
            .map_err(|_| Error::Corrupt {
                what: "the statement cache was used re-entrantly".to_owned(),
            })?;
        if let Some(stmt) = cache.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = client.prepare(sql).map_err(|e| self.failed(e))?;
        cache.insert(sql, stmt.clone());
        Ok(stmt)
    }

    pub(super) fn query(&self, sql: &'static str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        client.query(&stmt, params).map_err(|e| self.failed(e))
    }

    pub(super) fn query_opt(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>, Error> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        client.query_opt(&stmt, params).map_err(|e| self.failed(e))
    }

    pub(super) fn query_one(&self, sql: &'static str, params: &[Param<'_>]) -> Result<Row, Error> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        client.query_one(&stmt, params).map_err(|e| self.failed(e))
    }

    pub(super) fn execute(&self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, Error> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        client.execute(&stmt, params).map_err(|e| self.failed(e))
    }

    /// `e` as the store's error; a failure of the connection itself (the client's I/O, or
    /// the server ending the session: SQLSTATE classes 08 and 57) marks the connection
    /// broken, so that the next call outside a transaction makes a new one.
    fn failed(&self, e: postgres::Error) -> Error {
        let session_ended = e.is_closed()
            || match e.code() {
                Some(code) => {
                    let code = code.code();
                    code.starts_with("08") || code.starts_with("57")
                }
                None => std::error::Error::source(&e)
                    .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some()),
            };
        if session_ended {
            self.broken.set(true);
        }
        Error::Postgres(e)
    }

    /// Runs SQL text without parameters (several statements allowed).
    pub(super) fn batch(&self, sql: &str) -> Result<(), Error> {
        self.client()?
            .batch_execute(sql)
            .map_err(|e| self.failed(e))
    }

    /// Runs `f` inside one transaction: commits when it returns `Ok`, rolls back when it
    /// returns an error. The connection is not borrowed while `f` runs, so `f` reads and
    /// writes through the store it is given.
    pub(super) fn transaction<T>(
        &self,
        f: impl FnOnce(&Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.batch("BEGIN")?;
        self.in_transaction.set(true);
        let result = match f(self) {
            Ok(value) => self.batch("COMMIT").map(|()| value),
            Err(e) => {
                // The original error matters more than a failed rollback.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        };
        self.in_transaction.set(false);
        result
    }
}

/// `e` as [`Error::Duplicate`] of `kind` `id` when it is a unique-key violation.
pub(super) fn duplicate_or(e: Error, kind: &str, id: &str) -> Error {
    match e {
        Error::Postgres(p) if is_unique_violation(&p) => Error::Duplicate {
            kind: kind.to_owned(),
            id: id.to_owned(),
        },
        other => other,
    }
}

pub(super) fn make_record(r: &Row) -> Result<StoredRecord, Error> {
    Ok(StoredRecord {
        kind: r.try_get(0)?,
        id: r.try_get(1)?,
        digest: digest_from(r.try_get(2)?)?,
        json: r.try_get(3)?,
    })
}

pub(super) fn make_evidence(r: &Row) -> Result<StoredEvidence, Error> {
    Ok(StoredEvidence {
        kind: r.try_get(0)?,
        id: r.try_get(1)?,
        json: r.try_get(2)?,
    })
}

pub(super) fn make_receipt(r: &Row) -> Result<StoredReceipt, Error> {
    Ok(StoredReceipt {
        sequence: to_u64(r.try_get(0)?, "sequence")?,
        receipt_id: r.try_get(1)?,
        digest: digest_from(r.try_get(2)?)?,
        timestamp: r.try_get(3)?,
        json: r.try_get(4)?,
    })
}
