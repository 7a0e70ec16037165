//! The receipts table in its lean row (schema 7): each field of the receipt in its own
//! column, digests as 32-byte blobs, the request id as a plain indexed column, and no stored
//! JSON. The canonical JSON a [`StoredReceipt`] carries is rebuilt from the row
//! ([`canonical::to_string`] of the [`InferenceReceipt`] the columns give), so a reader sees
//! exactly what was appended, and every column is covered by the receipt's digest: an edited
//! column gives another JSON, whose digest `lcm check` recomputes and refuses.
//!
//! Rows of schema 6 (the canonical JSON beside the digest) are moved into the lean table by
//! [`migrate_v7`], which refuses to drop a row whose rebuilt JSON is not, byte for byte, the
//! JSON it stored.

use lcm_crypto::CommitmentScheme;
use lcm_model::records::{InferenceCommitment, InferenceReceipt, ReceiptEncoder};
use lcm_model::{Policy, Timestamp, canonical};
use rusqlite::{Connection, OptionalExtension, Row, Statement, TransactionBehavior, params};
use serde_json::{Map, Value};

use super::{CHAIN_SPAN, chain_id, digest_from, duplicate_or, log, receipt_key, to_u64};
use crate::store::NewReceipt;
use crate::{ChainHead, Error, StoredReceipt};

/// The columns a [`StoredReceipt`] is rebuilt from, in [`columns`]' order.
macro_rules! columns {
    () => {
        "key - chain_id * 1099511627776, receipt_id, request_id, digest, prev, timestamp, \
         model_anchor, deployment_anchor, input_scheme, input_value, input_metadata, \
         input_plaintext, output_scheme, output_value, output_metadata, output_plaintext, \
         explanations"
    };
}

/// The receipts of a chain's key range, in order.
pub(super) const SCAN_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM receipts WHERE key >= ?1 AND key <= ?2 ORDER BY key"
);

/// The last receipt of a chain's key range.
pub(super) const HEAD_SQL: &str = "SELECT key - chain_id * 1099511627776, digest FROM receipts \
     WHERE key >= ?1 AND key <= ?2 ORDER BY key DESC LIMIT 1";

/// The columns [`insert`] binds, in order, before `repeat` (which schema 7's migration,
/// [`migrate_v7`], does not have yet).
macro_rules! insert_columns {
    () => {
        "INSERT INTO receipts (key, chain_id, receipt_id, request_id, digest, prev, timestamp, \
         model_anchor, deployment_anchor, input_scheme, input_value, input_metadata, \
         input_plaintext, output_scheme, output_value, output_metadata, output_plaintext, \
         explanations"
    };
}

/// The statement that appends one receipt row: its `repeat` (schema 11) is 0 for the first
/// receipt of its request id in the chain, its sequence number for a repeat.
pub(super) const INSERT_SQL: &str = concat!(
    insert_columns!(),
    ", repeat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
     ?17, ?18, ?19)"
);

/// The row of schema 7 to 10, without `repeat` ([`migrate_v7`]).
const INSERT_V7_SQL: &str = concat!(
    insert_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
);

fn scheme_code(scheme: CommitmentScheme) -> Result<i64, Error> {
    match scheme {
        CommitmentScheme::Salted => Ok(0),
        CommitmentScheme::Hmac => Ok(1),
        CommitmentScheme::Plaintext => Ok(2),
        other => Err(Error::Corrupt {
            what: format!("a commitment scheme ({other}) the receipts table has no code for"),
        }),
    }
}

fn scheme_of(code: i64) -> Result<CommitmentScheme, Error> {
    match code {
        0 => Ok(CommitmentScheme::Salted),
        1 => Ok(CommitmentScheme::Hmac),
        2 => Ok(CommitmentScheme::Plaintext),
        _ => Err(Error::Corrupt {
            what: format!("commitment scheme code {code}"),
        }),
    }
}

/// Metadata as stored: its canonical JSON, `NULL` when empty (most receipts). Written from
/// the map directly ([`canonical::write_object`]): `canonical::to_string` would first copy
/// the map into a `serde_json::Value`, which cost the writer thread a tenth of its time.
fn metadata_text(m: &Map<String, Value>) -> Result<Option<String>, Error> {
    if m.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(64);
    canonical::write_object(&mut out, m)?;
    String::from_utf8(out).map(Some).map_err(|_| Error::NotUtf8)
}

fn metadata_of(text: Option<String>) -> Result<Map<String, Value>, Error> {
    match text {
        None => Ok(Map::new()),
        Some(t) => Ok(serde_json::from_str(&t)?),
    }
}

/// Appends the receipts `build` makes after the chain's head, and their log leaves, in one
/// `BEGIN IMMEDIATE` transaction ([`crate::Store::append_receipts`]).
pub(super) fn append(
    conn: &mut Connection,
    deployment: &str,
    build: &mut dyn FnMut(Option<ChainHead>) -> Result<Vec<NewReceipt>, Error>,
) -> Result<Vec<StoredReceipt>, Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let chain = chain_id(&tx, deployment)?.ok_or_else(|| Error::no_chain(deployment))?;
    let head = head(&tx, chain)?;
    let receipts = build(head)?;
    insert_all(&tx, chain, deployment, head, &receipts)?;
    tx.commit()?;
    Ok(receipts.into_iter().map(|r| r.stored).collect())
}

/// Rows per statement of [`insert_all`]'s multi-row `INSERT`: one statement costs its
/// cursors on the table and its three indexes, its halt and its reset, paid once for these
/// rows instead of once a row.
pub(super) const ROWS_PER_STATEMENT: usize = 32;

/// [`INSERT_SQL`] for [`ROWS_PER_STATEMENT`] rows: `VALUES (?1, …, ?19), (?20, …), …`.
static INSERT_MANY_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use std::fmt::Write as _;
    let mut sql = String::from(concat!(insert_columns!(), ", repeat) VALUES "));
    for row in 0..ROWS_PER_STATEMENT {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 1..=COLUMNS {
            let sep = if column == 1 { "" } else { ", " };
            let _ = write!(sql, "{sep}?{}", row * COLUMNS + column);
        }
        sql.push(')');
    }
    sql
});

/// Inserts `receipts` after `head` into chain `chain` and appends their leaves to its log,
/// inside the caller's write transaction: an acknowledged receipt is in the log.
///
/// Full runs of [`ROWS_PER_STATEMENT`] receipts go in through one multi-row statement each,
/// as first receipts of their request ids. When a run is refused by a constraint (a repeated
/// request or receipt id, a row that fails a `CHECK`), `SQLite` undoes that statement alone,
/// and its receipts go in one by one through [`insert`], which names the receipt and applies
/// the repeat rule; so do the receipts after the last full run. Any other failure stops the
/// append (it may have rolled the transaction back).
pub(super) fn insert_all(
    conn: &Connection,
    chain: i64,
    deployment: &str,
    head: Option<ChainHead>,
    receipts: &[NewReceipt],
) -> Result<(), Error> {
    {
        // Prepared once per connection (its statement cache): compiling the statement of
        // 32 rows costs about as much as appending a few hundred, which a service's small
        // transactions would pay each time.
        let mut one = conn.prepare_cached(INSERT_SQL)?;
        let mut many = if receipts.len() >= ROWS_PER_STATEMENT {
            Some(conn.prepare_cached(&INSERT_MANY_SQL)?)
        } else {
            None
        };
        let mut rows = Vec::with_capacity(ROWS_PER_STATEMENT);
        for run in receipts.chunks(ROWS_PER_STATEMENT) {
            if let (Some(many), true) = (many.as_mut(), run.len() == ROWS_PER_STATEMENT) {
                rows.clear();
                for new in run {
                    rows.push(RowValues::of(chain, deployment, new)?);
                }
                for (i, row) in rows.iter().enumerate() {
                    row.bind(many, i * COLUMNS, Some(0))?;
                }
                match many.raw_execute() {
                    Ok(_) => continue,
                    Err(e) if is_constraint(&e) => {}
                    Err(e) => return Err(Error::Sqlite(e)),
                }
            }
            for new in run {
                insert(&mut one, chain, deployment, new)?;
            }
        }
    }
    let expected = head.map_or(0, |h| h.sequence.saturating_add(1));
    let size = log::size(conn, chain)?;
    if size != expected {
        return Err(Error::Corrupt {
            what: format!(
                "the log of deployment {deployment} has {size} leaves, its chain {expected} receipts"
            ),
        });
    }
    log::append(conn, chain, receipts.iter().map(|r| r.stored.digest))?;
    Ok(())
}

/// Whether `e` is a constraint refusing a statement (which `SQLite` undoes alone, leaving the
/// transaction open).
fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Whether `e` is the unique request index refusing a row: its request id is in the chain
/// already with the same `repeat`.
fn is_repeated_request(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, Some(message))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                && message.contains("receipts.request_id")
    )
}

/// Appends `new` (a receipt of chain `chain`) through the prepared [`INSERT_SQL`]: its
/// record fills the columns; the stored form's sequence, id and time must be the record's
/// (they are rebuilt from the row).
///
/// The row goes in as the first receipt of its request id (`repeat` 0). If the chain holds
/// that id already, the unique request index refuses it (in the search the insert makes
/// anyway); the receipt is then appended as a repeat when it may be one
/// ([`NewReceipt::may_repeat_request`]) and refused otherwise.
///
/// # Errors
///
/// [`Error::RepeatedRequest`]; [`Error::Duplicate`] for a receipt id the chain holds;
/// [`Error::ChainFull`]; [`Error::Corrupt`] when the stored form is not the record's;
/// write failures.
pub(super) fn insert(
    stmt: &mut Statement<'_>,
    chain: i64,
    deployment: &str,
    new: &NewReceipt,
) -> Result<(), Error> {
    let repeated = || Error::RepeatedRequest {
        deployment: deployment.to_owned(),
        request_id: new.record.request_id.clone(),
    };
    let row = RowValues::of(chain, deployment, new)?;
    if bind_and_run(stmt, &row, Some(0))? {
        return Ok(());
    }
    if !new.may_repeat_request {
        return Err(repeated());
    }
    let sequence = i64::try_from(new.stored.sequence).map_err(|_| Error::ChainFull {
        deployment: deployment.to_owned(),
    })?;
    // A repeat's `repeat` is its own sequence: refused only if the row's key is taken,
    // which the primary key reports first.
    if bind_and_run(stmt, &row, Some(sequence))? {
        Ok(())
    } else {
        Err(repeated())
    }
}

/// The columns of [`INSERT_SQL`], `repeat` last.
const COLUMNS: usize = 19;

/// The values of one receipt's row but `repeat`, checked and converted once for however
/// many times the row is bound.
struct RowValues<'a> {
    new: &'a NewReceipt,
    key: i64,
    chain: i64,
    input_scheme: i64,
    output_scheme: i64,
    input_metadata: Option<String>,
    output_metadata: Option<String>,
    explanations: Option<Vec<u8>>,
}

impl<'a> RowValues<'a> {
    /// The row of `new` in chain `chain`.
    ///
    /// # Errors
    ///
    /// [`Error::ChainFull`]; [`Error::Corrupt`] when the stored form's sequence, id or time
    /// is not the record's (they are rebuilt from the row).
    fn of(chain: i64, deployment: &str, new: &'a NewReceipt) -> Result<Self, Error> {
        let (r, rec) = (&new.stored, &new.record);
        let key = receipt_key(chain, r.sequence).ok_or_else(|| Error::ChainFull {
            deployment: deployment.to_owned(),
        })?;
        if rec.sequence != r.sequence
            || rec.receipt_id != r.receipt_id
            || rec.timestamp.unix_micros() != r.timestamp
        {
            return Err(Error::Corrupt {
                what: format!(
                    "receipt {} to append: its sequence, id or time is not its JSON's",
                    r.receipt_id
                ),
            });
        }
        let explanations = (!rec.explanation_digests.is_empty()).then(|| {
            rec.explanation_digests
                .iter()
                .flat_map(|d| d.as_bytes().iter().copied())
                .collect()
        });
        let (i, o) = (&rec.input_commitment, &rec.output_commitment);
        Ok(Self {
            new,
            key,
            chain,
            input_scheme: scheme_code(i.scheme)?,
            output_scheme: scheme_code(o.scheme)?,
            input_metadata: metadata_text(&i.metadata)?,
            output_metadata: metadata_text(&o.metadata)?,
            explanations,
        })
    }

    /// Binds the row to parameters `at + 1 ..= at + 18` of `stmt`, and `repeat` to `at + 19`
    /// unless it is `None` ([`INSERT_V7_SQL`]).
    fn bind(&self, stmt: &mut Statement<'_>, at: usize, repeat: Option<i64>) -> Result<(), Error> {
        let (r, rec) = (&self.new.stored, &self.new.record);
        let (i, o) = (&rec.input_commitment, &rec.output_commitment);
        stmt.raw_bind_parameter(at + 1, self.key)?;
        stmt.raw_bind_parameter(at + 2, self.chain)?;
        stmt.raw_bind_parameter(at + 3, rec.receipt_id.as_str())?;
        stmt.raw_bind_parameter(at + 4, rec.request_id.as_str())?;
        stmt.raw_bind_parameter(at + 5, &r.digest.as_bytes()[..])?;
        stmt.raw_bind_parameter(at + 6, rec.prev_receipt.as_ref().map(|d| &d.as_bytes()[..]))?;
        stmt.raw_bind_parameter(at + 7, r.timestamp)?;
        stmt.raw_bind_parameter(at + 8, &rec.model_anchor.as_bytes()[..])?;
        stmt.raw_bind_parameter(at + 9, &rec.deployment_anchor.as_bytes()[..])?;
        stmt.raw_bind_parameter(at + 10, self.input_scheme)?;
        stmt.raw_bind_parameter(at + 11, &i.value.as_bytes()[..])?;
        stmt.raw_bind_parameter(at + 12, self.input_metadata.as_deref())?;
        stmt.raw_bind_parameter(at + 13, i.plaintext.as_deref())?;
        stmt.raw_bind_parameter(at + 14, self.output_scheme)?;
        stmt.raw_bind_parameter(at + 15, &o.value.as_bytes()[..])?;
        stmt.raw_bind_parameter(at + 16, self.output_metadata.as_deref())?;
        stmt.raw_bind_parameter(at + 17, o.plaintext.as_deref())?;
        stmt.raw_bind_parameter(at + 18, self.explanations.as_deref())?;
        if let Some(repeat) = repeat {
            stmt.raw_bind_parameter(at + 19, repeat)?;
        }
        Ok(())
    }
}

/// Binds `row` to `stmt` and runs it: [`INSERT_SQL`] with `repeat`, or [`INSERT_V7_SQL`]
/// without it (`None`). `Ok(false)` when the unique request index refused the row
/// ([`is_repeated_request`]).
fn bind_and_run(
    stmt: &mut Statement<'_>,
    row: &RowValues<'_>,
    repeat: Option<i64>,
) -> Result<bool, Error> {
    row.bind(stmt, 0, repeat)?;
    match stmt.raw_execute() {
        Ok(_) => Ok(true),
        Err(e) if is_repeated_request(&e) => Ok(false),
        Err(e) => Err(duplicate_or(
            e,
            "inference-receipt",
            &row.new.stored.receipt_id,
        )),
    }
}

/// The row's columns, as read.
type Columns = (
    i64,
    String,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    i64,
    Vec<u8>,
    Vec<u8>,
    (i64, Vec<u8>, Option<String>, Option<String>),
    (i64, Vec<u8>, Option<String>, Option<String>),
    Option<Vec<u8>>,
);

fn columns(r: &Row<'_>) -> rusqlite::Result<Columns> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        (r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?),
        (r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?),
        r.get(16)?,
    ))
}

fn commitment(
    (scheme, value, metadata, plaintext): (i64, Vec<u8>, Option<String>, Option<String>),
) -> Result<InferenceCommitment, Error> {
    Ok(InferenceCommitment {
        scheme: scheme_of(scheme)?,
        value: digest_from(&value)?,
        metadata: metadata_of(metadata)?,
        plaintext,
    })
}

/// The canonical JSON writer of receipts (the one `lcm infer` seals with: no
/// `serde_json::Value` on the way). Its output does not depend on the policy, which only
/// sets the digest's domain tag.
fn encoder() -> ReceiptEncoder {
    ReceiptEncoder::new(&Policy::default())
}

/// The stored receipt a row gives, its canonical JSON rebuilt.
fn from_columns(encoder: &mut ReceiptEncoder, c: Columns) -> Result<StoredReceipt, Error> {
    let (sequence, receipt_id, request_id, digest, prev, timestamp, model, deployment, i, o, ex) =
        c;
    let explanation_digests = match ex {
        None => Vec::new(),
        Some(bytes) if bytes.len() % 32 == 0 => bytes
            .chunks(32)
            .map(digest_from)
            .collect::<Result<_, _>>()?,
        Some(bytes) => {
            return Err(Error::Corrupt {
                what: format!("explanation digests of {} bytes", bytes.len()),
            });
        }
    };
    let record = InferenceReceipt {
        receipt_id,
        sequence: to_u64(sequence, "sequence")?,
        model_anchor: digest_from(&model)?,
        deployment_anchor: digest_from(&deployment)?,
        request_id,
        input_commitment: commitment(i)?,
        output_commitment: commitment(o)?,
        explanation_digests,
        prev_receipt: prev.as_deref().map(digest_from).transpose()?,
        timestamp: Timestamp::from_unix_micros(timestamp),
    };
    let json = String::from_utf8(encoder.encode(&record)?.to_vec()).map_err(|_| Error::NotUtf8)?;
    Ok(StoredReceipt {
        sequence: record.sequence,
        receipt_id: record.receipt_id,
        digest: digest_from(&digest)?,
        timestamp,
        json,
    })
}

/// The last receipt of a chain: one descent of the table's b-tree over the chain's key range.
pub(super) fn head(conn: &Connection, chain_id: i64) -> Result<Option<ChainHead>, Error> {
    let (Some(lo), Some(hi)) = (
        receipt_key(chain_id, 0),
        receipt_key(chain_id, CHAIN_SPAN - 1),
    ) else {
        return Ok(None);
    };
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(HEAD_SQL)?
        .query_row(params![lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(s, d)| {
        Ok(ChainHead {
            sequence: to_u64(s, "sequence")?,
            digest: digest_from(&d)?,
        })
    })
    .transpose()
}

/// Visits the receipts of chain `chain` from `from` to `to` (or its end), in order.
pub(super) fn scan(
    conn: &Connection,
    chain: i64,
    from: u64,
    to: Option<u64>,
    visit: &mut dyn FnMut(StoredReceipt) -> Result<(), Error>,
) -> Result<(), Error> {
    if from >= CHAIN_SPAN {
        return Ok(());
    }
    // Keys of one chain are one range: from its `from` to its `to` (or its end).
    let last = to.map_or(CHAIN_SPAN - 1, |t| t.min(CHAIN_SPAN - 1));
    let (Some(lo), Some(hi)) = (receipt_key(chain, from), receipt_key(chain, last)) else {
        return Ok(());
    };
    let mut stmt = conn.prepare(SCAN_SQL)?;
    let mut rows = stmt.query(params![lo, hi])?;
    let mut encoder = encoder();
    while let Some(row) = rows.next()? {
        visit(from_columns(&mut encoder, columns(row)?)?)?;
    }
    Ok(())
}

/// The receipt of chain `chain` with this id.
pub(super) fn by_id(
    conn: &Connection,
    chain: i64,
    receipt_id: &str,
) -> Result<Option<StoredReceipt>, Error> {
    conn.query_row(
        concat!(
            "SELECT ",
            columns!(),
            " FROM receipts WHERE chain_id = ?1 AND receipt_id = ?2"
        ),
        params![chain, receipt_id],
        columns,
    )
    .optional()?
    .map(|c| from_columns(&mut encoder(), c))
    .transpose()
}

/// The sequence numbers of chain `chain`'s receipts for `request_id`, through
/// `receipts_by_request`.
pub(super) fn request_sequences(
    conn: &Connection,
    chain: i64,
    request_id: &str,
) -> Result<Vec<u64>, Error> {
    let mut stmt = conn.prepare(
        "SELECT key - chain_id * 1099511627776 FROM receipts \
         WHERE chain_id = ?1 AND request_id = ?2 ORDER BY key",
    )?;
    let keys = stmt.query_map(params![chain, request_id], |r| r.get::<_, i64>(0))?;
    keys.map(|k| to_u64(k?, "sequence")).collect()
}

/// The first and last sequence numbers of chain `chain`'s receipts with a timestamp in
/// `since..=until`, through `receipts_by_time`.
pub(super) fn time_span(
    conn: &Connection,
    chain: i64,
    since: i64,
    until: i64,
) -> Result<Option<(u64, u64)>, Error> {
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT MIN(key) - ?1 * 1099511627776, MAX(key) - ?1 * 1099511627776 FROM receipts \
         WHERE chain_id = ?1 AND timestamp >= ?2 AND timestamp <= ?3",
        params![chain, since, until],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    match (lo, hi) {
        (Some(lo), Some(hi)) => Ok(Some((to_u64(lo, "sequence")?, to_u64(hi, "sequence")?))),
        _ => Ok(None),
    }
}

/// The first of `request_ids` that chain `chain` already holds: one indexed lookup each on
/// the `request_id` column, all in one read transaction (outside a transaction each lookup
/// would take and release the file's shared lock and the WAL's read mark: two `fcntl` calls
/// and the shared-memory handshake per id, a quarter of the lookup's cost).
pub(super) fn known_request(
    conn: &Connection,
    chain: i64,
    request_ids: &[&str],
) -> Result<Option<String>, Error> {
    // Inside the caller's transaction if there is one; else in a read transaction of its own
    // (rolled back when dropped: it writes nothing).
    let read = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let mut stmt =
        conn.prepare("SELECT 1 FROM receipts WHERE chain_id = ?1 AND request_id = ?2 LIMIT 1")?;
    for id in request_ids {
        if stmt.exists(params![chain, id])? {
            return Ok(Some((*id).to_owned()));
        }
    }
    drop(stmt);
    drop(read);
    Ok(None)
}

/// Moves schema 6's receipts (`receipts_v6`, their canonical JSON stored) into the lean
/// table, in key order, and drops the old table. Each row is rebuilt and compared with the
/// JSON it stored; a row that does not round-trip fails the migration (nothing is lost: the
/// transaction rolls back). Memory: one row at a time.
///
/// # Errors
///
/// [`Error::Corrupt`] naming the first receipt that does not round-trip; read and write
/// failures.
pub(super) fn migrate_v7(conn: &Connection) -> Result<(), Error> {
    let exists: bool = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'receipts_v6'")?
        .exists([])?;
    if !exists {
        return Ok(());
    }
    {
        let mut read = conn.prepare(
            "SELECT key, chain_id, sequence, receipt_id, digest, timestamp, json \
             FROM receipts_v6 ORDER BY key",
        )?;
        let mut insert_stmt = conn.prepare(INSERT_V7_SQL)?;
        let mut check = conn.prepare(concat!(
            "SELECT ",
            columns!(),
            " FROM receipts WHERE key = ?1"
        ))?;
        let mut rows = read.query([])?;
        let mut encoder = encoder();
        while let Some(row) = rows.next()? {
            let key: i64 = row.get(0)?;
            let chain: i64 = row.get(1)?;
            let receipt = StoredReceipt {
                sequence: to_u64(row.get(2)?, "sequence")?,
                receipt_id: row.get(3)?,
                digest: digest_from(&row.get::<_, Vec<u8>>(4)?)?,
                timestamp: row.get(5)?,
                json: row.get(6)?,
            };
            if receipt_key(chain, receipt.sequence) != Some(key) {
                return Err(Error::Corrupt {
                    what: format!("receipt {} under key {key}", receipt.receipt_id),
                });
            }
            let new = NewReceipt {
                record: serde_json::from_str(&receipt.json)?,
                stored: receipt,
                may_repeat_request: true,
            };
            // Schema 7's request index is not unique: nothing refuses a repeat here.
            let row = RowValues::of(chain, &format!("chain {chain}"), &new)?;
            bind_and_run(&mut insert_stmt, &row, None)?;
            let receipt = new.stored;
            let back = from_columns(&mut encoder, check.query_row(params![key], columns)?)?;
            if back != receipt {
                return Err(Error::Corrupt {
                    what: format!(
                        "receipt {} of chain {chain} does not round-trip through the lean row \
                         (its stored JSON is not the canonical JSON of its fields)",
                        receipt.receipt_id
                    ),
                });
            }
        }
    }
    conn.execute_batch("DROP TABLE receipts_v6;")?;
    Ok(())
}
