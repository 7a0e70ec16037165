//! The `SQLite` tables of the service's section of [`crate::Store`]: API tokens (hashed) and
//! batch keys (schema version 7).

use rusqlite::{Connection, OptionalExtension, params};

use super::{digest_from, duplicate_or, to_i64, to_u64};
use crate::Error;
use crate::store::{BatchKeyRow, StoredKeyRotation, StoredToken};

type TokenRow = (String, String, String, Vec<u8>, i64, Option<i64>);

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    TokenRow::try_from(r)
}

fn make_token(
    (id, name, deployment, hash, created, revoked): TokenRow,
) -> Result<StoredToken, Error> {
    Ok(StoredToken {
        id,
        name,
        deployment,
        hash: digest_from(&hash)?,
        created,
        revoked,
    })
}

const TOKEN_COLUMNS: &str = "SELECT id, name, deployment, hash, created, revoked FROM tokens";

pub(super) fn put_token(conn: &Connection, t: &StoredToken) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO tokens (id, name, deployment, hash, created, revoked) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            t.id,
            t.name,
            t.deployment,
            &t.hash.as_bytes()[..],
            t.created,
            t.revoked
        ],
    )
    .map_err(|e| duplicate_or(e, "token", &t.id))?;
    Ok(())
}

pub(super) fn token(conn: &Connection, id: &str) -> Result<Option<StoredToken>, Error> {
    conn.query_row(
        &format!("{TOKEN_COLUMNS} WHERE id = ?1"),
        params![id],
        token_row,
    )
    .optional()?
    .map(make_token)
    .transpose()
}

pub(super) fn tokens(conn: &Connection) -> Result<Vec<StoredToken>, Error> {
    let mut stmt = conn.prepare(&format!("{TOKEN_COLUMNS} ORDER BY created, id"))?;
    stmt.query_map([], token_row)?
        .map(|row| make_token(row?))
        .collect()
}

pub(super) fn revoke_token(conn: &Connection, id: &str, at: i64) -> Result<bool, Error> {
    let exists = conn
        .query_row(
            "SELECT revoked FROM tokens WHERE id = ?1",
            params![id],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?;
    match exists {
        None => Ok(false),
        Some(Some(_)) => Ok(true),
        Some(None) => {
            conn.execute(
                "UPDATE tokens SET revoked = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            Ok(true)
        }
    }
}

pub(super) fn batch_key(
    conn: &Connection,
    chain: i64,
    key: &str,
) -> Result<Option<BatchKeyRow>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT body, first_seq, count FROM batch_keys WHERE chain_id = ?1 AND key = ?2",
        )?
        .query_row(params![chain, key], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    row.map(|(body, first, count)| {
        Ok(BatchKeyRow {
            key: key.to_owned(),
            body: digest_from(&body)?,
            first_sequence: to_u64(first, "sequence")?,
            count: to_u64(count, "count")?,
        })
    })
    .transpose()
}

pub(super) fn put_batch_keys(
    conn: &Connection,
    chain: i64,
    keys: &[BatchKeyRow],
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO batch_keys (chain_id, key, body, first_seq, count) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for k in keys {
        stmt.execute(params![
            chain,
            k.key,
            &k.body.as_bytes()[..],
            to_i64(k.first_sequence)?,
            to_i64(k.count)?
        ])
        .map_err(|e| duplicate_or(e, "batch key", &k.key))?;
    }
    Ok(())
}

pub(super) fn key_rotations(conn: &Connection) -> Result<Vec<StoredKeyRotation>, Error> {
    let mut stmt = conn.prepare("SELECT sequence, json FROM key_rotations ORDER BY sequence")?;
    let rows = stmt.query_map([], |r| <(i64, String)>::try_from(r))?;
    rows.map(|r| {
        let (sequence, json) = r?;
        Ok(StoredKeyRotation {
            sequence: to_u64(sequence, "key rotation sequence")?,
            json,
        })
    })
    .collect()
}

pub(super) fn put_key_rotation(conn: &Connection, r: &StoredKeyRotation) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO key_rotations (sequence, json) VALUES (?1, ?2)",
        params![to_i64(r.sequence)?, r.json],
    )
    .map_err(|e| duplicate_or(e, "key rotation", &r.sequence.to_string()))?;
    Ok(())
}
