//! The checks `lcm check` runs on a `PostgreSQL` store's database, beside the digests it
//! recomputes: [`compare_schema`] (the live catalog against what the migrations create) and
//! [`integrity_check`] (what core `PostgreSQL` offers without an extension).

use super::{PostgresStore, schema};
use crate::Error;

/// Every object of the current schema as `(kind, name, table, definition)`: relations with
/// their columns (and whether row-level security is on), constraints, indexes, rewrite rules,
/// triggers (with whether they are enabled) and functions (with their language, result,
/// security, volatility and source).
/// `pg_get_indexdef` and `pg_get_triggerdef` qualify names with the schema; the schema's
/// own name is removed, so that a store compares equal to the scratch schema of the
/// migrations.
const CATALOG_SQL: &str = "
SELECT kind, name, tbl, replace(def, quote_ident(current_schema()) || '.', '') FROM (
SELECT 'relation' AS kind, c.relname::text AS name, c.relname::text AS tbl,
       c.relkind::text || ' rls ' || c.relrowsecurity::text || ': ' || COALESCE((
           SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                  || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
                  ', ' ORDER BY a.attnum)
           FROM pg_attribute a
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS def
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind NOT IN ('i', 'I', 'c', 't')
UNION ALL
SELECT 'constraint', con.conname::text, cl.relname::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
WHERE con.connamespace = current_schema()::regnamespace
UNION ALL
SELECT 'index', ic.relname::text, tc.relname::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
WHERE ic.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT 'rule', r.rulename::text, c.relname::text, pg_get_ruledef(r.oid)
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace = current_schema()::regnamespace AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'trigger', t.tgname::text, tc.relname::text,
       pg_get_triggerdef(t.oid) || ' [enabled ' || t.tgenabled::text || ']'
FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid
WHERE tc.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', '',
       l.lanname || ' returns ' || COALESCE(pg_get_function_result(p.oid), '')
       || ' security definer ' || p.prosecdef::text || ' volatility ' || p.provolatile::text
       || ': ' || p.prosrc
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = current_schema()::regnamespace
) AS objects
ORDER BY 1, 2";

/// The tables of a store, each read whole by [`integrity_check`].
const TABLES: &[&str] = &[
    "lcm_migrations",
    "meta",
    "records",
    "evidence",
    "chains",
    "chain_checks",
    "sealed_policy",
    "receipts",
    "batches",
    "log_tiles",
    "logs",
    "tokens",
    "batch_keys",
];

/// One schema object: kind, name, table and definition (whitespace normalized).
type SchemaRow = crate::schema::Object<String>;

fn schema_rows(s: &PostgresStore) -> Result<Vec<SchemaRow>, Error> {
    s.query(CATALOG_SQL, &[])?
        .iter()
        .map(|r| {
            let def: String = r.try_get(3)?;
            // Whitespace is not meaning: a trigger recreated with other line breaks is the
            // same.
            let def = def.split_whitespace().collect::<Vec<_>>().join(" ");
            Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, def))
        })
        .collect()
}

/// The schema a store of this build has: every migration run in a scratch schema, inside a
/// transaction that is always rolled back (so a read-only session may run it: nothing is
/// kept, but the role needs the right to create a schema).
fn expected_schema(s: &PostgresStore) -> Result<Vec<SchemaRow>, Error> {
    let mut suffix = [0u8; 8];
    lcm_crypto::fill_random(&mut suffix)?;
    let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    s.batch("BEGIN READ WRITE")?;
    // A connection that breaks in here is not replaced before the rollback: the migrations
    // must never run outside the scratch schema's transaction.
    s.in_transaction.set(true);
    let result = (|| {
        s.batch(&format!(
            "CREATE SCHEMA lcm_expected_{name}; SET LOCAL search_path TO lcm_expected_{name}"
        ))?;
        s.batch(schema::HISTORY)?;
        for sql in schema::MIGRATIONS {
            s.batch(sql)?;
        }
        schema_rows(s)
    })();
    let rolled_back = s.batch("ROLLBACK");
    s.in_transaction.set(false);
    let rows = result?;
    rolled_back?;
    Ok(rows)
}

/// Compares the store's schema with the one the migrations create: a relation, constraint,
/// index, rule, trigger or function that is missing, added or changed (a trigger disabled,
/// a function's source replaced) is named.
pub(super) fn compare_schema(s: &PostgresStore) -> Result<(), Error> {
    let expected = expected_schema(s)?;
    let actual = schema_rows(s)?;
    crate::schema::compare(&expected, &actual, |(kind, _, _, def)| {
        if kind == "trigger" && !def.ends_with("[enabled O]") {
            " (it is disabled: rows may have been changed or deleted)"
        } else if kind == "function" {
            " (an append-only trigger's function was replaced)"
        } else {
            ""
        }
    })
}

/// What core `PostgreSQL` can check without an extension (`amcheck` is one): every row of
/// every table of the store is read whole, detoasted and rendered as text — so every heap
/// page is read (its header checked, and its checksum when the cluster has data checksums)
/// and every compressed or out-of-line value decompressed — and the database's count of
/// checksum failures (`pg_stat_database`) must be zero; each receipt's `request_id` column
/// must be its JSON's. Indexes are not verified.
pub(super) fn integrity_check(s: &PostgresStore) -> Result<(), Error> {
    for table in TABLES {
        s.client()?.query_one(
            &format!("SELECT COALESCE(sum(octet_length(t::text)), 0)::bigint FROM {table} t"),
            &[],
        )?;
    }
    // The request-id column is a copy of each receipt's JSON field (for `known_request`).
    if let Some(row) = s.query_opt(
        "SELECT c.deployment, r.receipt_id FROM receipts r JOIN chains c USING (chain_id) \
         WHERE r.request_id IS DISTINCT FROM (r.json::json ->> 'request_id') \
         ORDER BY r.chain_id, r.sequence LIMIT 1",
        &[],
    )? {
        let (deployment, receipt): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        return Err(Error::Corrupt {
            what: format!(
                "receipt {receipt} of deployment {deployment}: its request_id column is not \
                 its JSON's request_id"
            ),
        });
    }
    let failures: i64 = s
        .query_one(
            "SELECT COALESCE(MAX(checksum_failures), 0)::bigint FROM pg_stat_database \
             WHERE datname = current_database()",
            &[],
        )?
        .try_get(0)?;
    if failures != 0 {
        return Err(Error::Corrupt {
            what: format!("the database reported {failures} data page checksum failures"),
        });
    }
    Ok(())
}
