//! What `lcm check` compares the store's own contents with: each chain seed's check value,
//! the sealed policy, and the schema the migrations create (tables, indexes and the
//! append-only triggers).
//!
//! None of these is a secret the store's editor lacks: someone who can write the file can
//! drop the triggers, rewrite a seed together with its check value, or the policy together
//! with its seal. What they buy is that no *single* edit goes unnoticed: a flipped seed bit,
//! a policy `UPDATE` or a dropped trigger each makes [`super::SqliteStore`] refuse the store,
//! and `lcm check` name what changed. A store whose tail was truncated by someone who also
//! restored the triggers is still consistent; only a header or checkpoint signed earlier
//! reveals it (docs/CLI.md says so).

use lcm_model::Policy;
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroize;

use super::schema::MIGRATIONS;
use crate::Error;
use crate::seals::seed_check_value;

/// Records `policy` as the store's sealed policy: its canonical JSON and its digest.
pub(super) fn seal_policy(conn: &Connection, policy: &Policy) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO sealed_policy (singleton, json, digest) VALUES (1, ?1, ?2)",
        params![policy.canonical_json()?, &policy.digest()?.as_bytes()[..]],
    )?;
    Ok(())
}

/// Records the check value of a chain's seed.
pub(super) fn record_seed_check(
    conn: &Connection,
    chain_id: i64,
    deployment: &str,
    seed: &[u8; 32],
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO chain_checks (chain_id, check_value) VALUES (?1, ?2)",
        params![chain_id, &seed_check_value(deployment, seed)?[..]],
    )?;
    Ok(())
}

/// Migration 5's data: the seals of a version 4 store, computed from what it holds now.
pub(super) fn backfill_v5(conn: &Connection) -> Result<(), Error> {
    let policy: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(json) = policy {
        let policy: Policy = serde_json::from_str(&json)?;
        seal_policy(conn, &policy)?;
    }
    let mut stmt = conn.prepare("SELECT chain_id, deployment, seed FROM chains")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    for row in rows {
        let (chain_id, deployment, mut bytes) = row?;
        let seed: Result<[u8; 32], _> = bytes.as_slice().try_into();
        bytes.zeroize();
        let Ok(mut seed) = seed else {
            return Err(Error::Corrupt {
                what: format!("the commitment seed of deployment {deployment}'s chain"),
            });
        };
        let recorded = record_seed_check(conn, chain_id, &deployment, &seed);
        seed.zeroize();
        recorded?;
    }
    Ok(())
}

/// Checks `seed` of `deployment`'s chain against the check value recorded with it.
pub(super) fn verify_seed(
    conn: &Connection,
    deployment: &str,
    seed: &[u8; 32],
) -> Result<(), Error> {
    let stored: Option<Vec<u8>> = conn
        .query_row(
            "SELECT k.check_value FROM chain_checks k JOIN chains c ON c.chain_id = k.chain_id \
             WHERE c.deployment = ?1",
            params![deployment],
            |r| r.get(0),
        )
        .optional()?;
    crate::seals::check_seed(deployment, seed, stored.as_deref())
}

/// Checks the policy in `meta` (canonical JSON `json`) against the sealed policy.
pub(super) fn verify_policy(conn: &Connection, json: &str, policy: &Policy) -> Result<(), Error> {
    let sealed: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT json, digest FROM sealed_policy WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    crate::seals::check_policy(json, policy, sealed)
}

/// One schema object: type, name, table and SQL text (`NULL` for automatic indexes).
type SchemaRow = crate::schema::Object<Option<String>>;

fn schema_rows(conn: &Connection) -> Result<Vec<SchemaRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, name, table, sql): SchemaRow = row?;
        // Whitespace is not meaning: a trigger recreated with other line breaks is the same.
        let sql = sql.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push((kind, name, table, sql));
    }
    Ok(out)
}

/// The schema a store of this build has: every migration run on an empty database.
fn expected_schema() -> Result<Vec<SchemaRow>, Error> {
    let conn = Connection::open_in_memory()?;
    for sql in MIGRATIONS {
        conn.execute_batch(sql)?;
    }
    // The lean row's migration ends in Rust (moving the rows, then dropping the old table).
    super::receipts::migrate_v7(&conn)?;
    schema_rows(&conn)
}

/// Compares the store's schema with the one the migrations create: a table, index or
/// trigger that is missing, added or changed is named.
pub(super) fn compare_schema(conn: &Connection) -> Result<(), Error> {
    crate::schema::compare(&expected_schema()?, &schema_rows(conn)?, |_| "")
}

/// The seed of `deployment`'s chain from its stored bytes, after checking it against its
/// check value.
pub(super) fn checked_seed(
    conn: &Connection,
    deployment: &str,
    bytes: Vec<u8>,
) -> Result<lcm_crypto::Seed, Error> {
    crate::seals::checked_seed(bytes, |seed| verify_seed(conn, deployment, seed))
}
