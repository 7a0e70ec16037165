//! The `PostgreSQL` schema, as the migrations that build it: migration `i` takes a store from
//! version `i` to `i + 1`, and a new store runs them all. Every object is created unqualified,
//! so it lands in the connection's current schema (the first of its `search_path`).
//!
//! The append-only guarantees are those of the `SQLite` backend, enforced by `PL/pgSQL`
//! triggers: `UPDATE` and `DELETE` of records, evidence, receipts, batches, chains, seed check
//! values, the sealed policy and the migration history are refused, as is `TRUNCATE` (which
//! skips row triggers, so it gets a statement trigger of its own); a log tile may only be
//! replaced by a longer tile that starts with it, and a log's size may only grow.

use super::{PostgresStore, SCHEMA_VERSION};
use crate::Error;

/// The table that records which migrations ran (one row per version); created before the
/// first migration, so that the version can be read and locked.
pub(super) const HISTORY: &str = "
CREATE TABLE IF NOT EXISTS lcm_migrations (
    version    integer PRIMARY KEY CHECK (version > 0)
)";

/// The triggers that keep the rows of `$table`, refusing with `$why`: the row trigger
/// `TABLE_append_only` refuses `UPDATE` and `DELETE` (`TABLE_no_delete`: `DELETE` only, for a
/// table whose updates a trigger of its own checks), and `TABLE_no_truncate` refuses
/// `TRUNCATE`, which skips row triggers.
#[rustfmt::skip]
macro_rules! refuse {
    (append_only $table:literal, $why:literal) => {
        refuse!($table, $why, "_append_only BEFORE UPDATE OR DELETE ON ")
    };
    (no_delete $table:literal, $why:literal) => {
        refuse!($table, $why, "_no_delete BEFORE DELETE ON ")
    };
    ($table:literal, $why:literal, $row_trigger:literal) => {
        concat!(
            "CREATE TRIGGER ", $table, $row_trigger, $table, "\n",
            "    FOR EACH ROW EXECUTE FUNCTION lcm_refuse('", $why, "');\n",
            "CREATE TRIGGER ", $table, "_no_truncate BEFORE TRUNCATE ON ", $table, "\n",
            "    FOR EACH STATEMENT EXECUTE FUNCTION lcm_refuse('", $why, "');\n",
        )
    };
}

/// The migrations, in order: migration `i` takes the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // Version 1: the schema of a `SQLite` store at its version 6, in PostgreSQL types. A
    // receipt is keyed by (chain, sequence); `sequence < 2^40` keeps the limit of the `SQLite`
    // backend's keys (`CHAIN_SPAN`), so both backends hold the same chains. A receipt's
    // `request_id` is copied from its JSON into a column of its own when it is appended (an
    // index on the expression `json::json ->> 'request_id'` made every insert parse the
    // JSON again in the server, about half the cost of an append).
    concat!(
        r"
CREATE FUNCTION lcm_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;
CREATE FUNCTION lcm_tile_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.chain_id <> OLD.chain_id OR NEW.level <> OLD.level OR NEW.idx <> OLD.idx
       OR length(NEW.hashes) < length(OLD.hashes)
       OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'log tiles only grow' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE FUNCTION lcm_log_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.chain_id <> OLD.chain_id OR NEW.size < OLD.size THEN
        RAISE EXCEPTION 'logs only grow' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
",
        refuse!(append_only "lcm_migrations", "the migration history is append-only"),
        r"CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE records (
    kind   text NOT NULL,
    id     text NOT NULL,
    digest bytea NOT NULL CHECK (length(digest) = 32),
    json   text NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX records_by_digest ON records (kind, digest);
CREATE TABLE evidence (
    kind text NOT NULL,
    id   text NOT NULL,
    json text NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE chains (
    chain_id   bigint PRIMARY KEY CHECK (chain_id > 0),
    deployment text NOT NULL UNIQUE,
    seed       bytea NOT NULL CHECK (length(seed) = 32)
);
CREATE TABLE chain_checks (
    chain_id    bigint PRIMARY KEY CHECK (chain_id > 0),
    check_value bytea NOT NULL CHECK (length(check_value) = 32)
);
CREATE TABLE sealed_policy (
    singleton integer PRIMARY KEY CHECK (singleton = 1),
    json      text NOT NULL,
    digest    bytea NOT NULL CHECK (length(digest) = 32)
);
CREATE TABLE receipts (
    chain_id   bigint NOT NULL CHECK (chain_id > 0),
    sequence   bigint NOT NULL CHECK (sequence >= 0 AND sequence < 1099511627776),
    receipt_id text NOT NULL,
    digest     bytea NOT NULL CHECK (length(digest) = 32),
    timestamp  bigint NOT NULL,
    json       text NOT NULL,
    request_id text,
    PRIMARY KEY (chain_id, sequence),
    UNIQUE (chain_id, receipt_id)
);
CREATE INDEX receipts_by_request ON receipts (chain_id, request_id);
CREATE TABLE batches (
    chain_id  bigint NOT NULL CHECK (chain_id > 0),
    window_id text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq  bigint NOT NULL CHECK (last_seq >= first_seq),
    digest    bytea NOT NULL CHECK (length(digest) = 32),
    json      text NOT NULL,
    PRIMARY KEY (chain_id, window_id),
    UNIQUE (chain_id, first_seq),
    UNIQUE (chain_id, last_seq)
);
CREATE TABLE log_tiles (
    chain_id bigint NOT NULL CHECK (chain_id > 0),
    level    integer NOT NULL CHECK (level >= 0 AND level <= 63),
    idx      bigint NOT NULL CHECK (idx >= 0),
    hashes   bytea NOT NULL
        CHECK (length(hashes) % 32 = 0 AND length(hashes) BETWEEN 32 AND 8192),
    PRIMARY KEY (chain_id, level, idx)
);
CREATE TABLE logs (
    chain_id bigint PRIMARY KEY CHECK (chain_id > 0),
    size     bigint NOT NULL CHECK (size >= 0)
);
",
        refuse!(append_only "records", "records are append-only"),
        refuse!(append_only "evidence", "evidence is append-only"),
        refuse!(append_only "chains", "chains are append-only"),
        refuse!(append_only "chain_checks", "chain check values are append-only"),
        refuse!(append_only "sealed_policy", "the sealed policy is append-only"),
        refuse!(append_only "receipts", "receipts are append-only"),
        refuse!(append_only "batches", "batches are append-only"),
        r"CREATE TRIGGER log_tiles_only_grow BEFORE UPDATE ON log_tiles
    FOR EACH ROW EXECUTE FUNCTION lcm_tile_only_grows();
",
        refuse!(no_delete "log_tiles", "log tiles are append-only"),
        r"CREATE TRIGGER logs_only_grow BEFORE UPDATE ON logs
    FOR EACH ROW EXECUTE FUNCTION lcm_log_only_grows();
",
        refuse!(no_delete "logs", "logs are append-only"),
    ),
    // Version 2: the service's tables (`lcm serve`), as the `SQLite` backend's version 8. API
    // tokens, kept as the SHA-256 of the token and never deleted: the only change allowed is
    // setting `revoked` once. Batch keys (a client's `Idempotency-Key`), each written in the
    // transaction of the receipts its batch appended, append-only.
    concat!(
        r"
CREATE FUNCTION lcm_token_only_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.name <> OLD.name OR NEW.deployment <> OLD.deployment
       OR NEW.hash <> OLD.hash OR NEW.created <> OLD.created
       OR OLD.revoked IS NOT NULL OR NEW.revoked IS NULL THEN
        RAISE EXCEPTION 'a token can only be revoked, once' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TABLE tokens (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    deployment text NOT NULL,
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    created    bigint NOT NULL,
    revoked    bigint
);
CREATE TRIGGER tokens_only_revoke BEFORE UPDATE ON tokens
    FOR EACH ROW EXECUTE FUNCTION lcm_token_only_revoked();
",
        refuse!(no_delete "tokens", "tokens are kept (revoke them)"),
        r"CREATE TABLE batch_keys (
    chain_id   bigint NOT NULL CHECK (chain_id > 0),
    key        text NOT NULL,
    body       bytea NOT NULL CHECK (length(body) = 32),
    first_seq  bigint NOT NULL CHECK (first_seq >= 0),
    count      bigint NOT NULL CHECK (count > 0),
    PRIMARY KEY (chain_id, key)
);
",
        refuse!(append_only "batch_keys", "batch keys are append-only"),
    ),
    // Version 3: receipts by time, as the `SQLite` backend's version 9 (the sequence in the
    // index, so that a range's first and last receipts come from the index alone).
    r"
CREATE INDEX receipts_by_time ON receipts (chain_id, timestamp, sequence);
",
    // Version 4: the rotations of the store's signing key, as the `SQLite` backend's
    // version 10, append-only.
    concat!(
        r"
CREATE TABLE key_rotations (
    sequence   bigint PRIMARY KEY CHECK (sequence >= 0),
    json       text NOT NULL
);
",
        refuse!(append_only "key_rotations", "key rotations are append-only"),
    ),
    // Version 5: the database refuses a second first receipt of a request id in a chain, as
    // the `SQLite` backend's version 11: `repeat` is 0 for the first receipt of an id and the
    // receipt's own sequence for a repeat, and the request index is unique over both. The
    // repeats already stored are marked with the append-only trigger disabled for that one
    // update, inside the migration's transaction.
    r"
ALTER TABLE receipts ADD COLUMN repeat bigint NOT NULL DEFAULT 0
    CHECK (repeat = 0 OR repeat = sequence);
ALTER TABLE receipts DISABLE TRIGGER receipts_append_only;
UPDATE receipts SET repeat = sequence
    WHERE EXISTS (SELECT 1 FROM receipts AS earlier
        WHERE earlier.chain_id = receipts.chain_id AND earlier.request_id = receipts.request_id
          AND earlier.sequence < receipts.sequence);
ALTER TABLE receipts ENABLE TRIGGER receipts_append_only;
DROP INDEX receipts_by_request;
CREATE UNIQUE INDEX receipts_by_request ON receipts (chain_id, request_id, repeat);
",
];

/// One migration step inside the caller's transaction: the version it brought the schema to,
/// or `None` when the schema was current already.
pub(super) fn migrate_step(s: &PostgresStore) -> Result<Option<i64>, Error> {
    s.batch(HISTORY)?;
    let version: i32 = s
        .query_one("SELECT COALESCE(MAX(version), 0) FROM lcm_migrations", &[])?
        .try_get(0)?;
    let version = i64::from(version);
    let Some(sql) = crate::schema::next_migration(version, SCHEMA_VERSION, MIGRATIONS)? else {
        return Ok(None);
    };
    s.batch(sql)?;
    let next = i32::try_from(version + 1).map_err(|_| Error::Corrupt {
        what: format!("schema version {version}"),
    })?;
    s.execute("INSERT INTO lcm_migrations (version) VALUES ($1)", &[&next])?;
    Ok(Some(version + 1))
}
