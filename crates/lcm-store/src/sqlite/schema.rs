//! The `SQLite` schema, as the migrations that build it: migration `i` takes a store from
//! version `i` to `i + 1`, and a new store runs them all.

/// The two triggers that make `$table` append-only: `UPDATE` and `DELETE` abort with `$why`.
#[rustfmt::skip]
macro_rules! append_only {
    ($table:literal, $why:literal) => {
        concat!(
            "CREATE TRIGGER ", $table, "_no_update BEFORE UPDATE ON ", $table, "\n",
            "    BEGIN SELECT RAISE(ABORT, '", $why, "'); END;\n",
            "CREATE TRIGGER ", $table, "_no_delete BEFORE DELETE ON ", $table, "\n",
            "    BEGIN SELECT RAISE(ABORT, '", $why, "'); END;\n",
        )
    };
}

/// The migrations, in order: migration `i` takes the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    concat!(
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
",
        append_only!("records", "records are append-only"),
        append_only!("receipts", "receipts are append-only"),
        append_only!("batches", "batches are append-only"),
    ),
    concat!(
        r"
CREATE TABLE evidence (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
",
        append_only!("evidence", "evidence is append-only"),
    ),
    // Version 3: one receipt chain per deployment, each with its own commitment seed. A
    // version 2 store held one lifecycle: its chain becomes chain 1, of the deployment its
    // receipts name, with the store's seed (so the openings of its receipts are unchanged).
    // If receipts exist but name no stored deployment, chain 1 is missing and the NOT NULL
    // chain id makes the migration fail rather than lose them.
    concat!(
        r"
CREATE TABLE chains (
    chain_id   INTEGER PRIMARY KEY CHECK (chain_id > 0),
    deployment TEXT NOT NULL UNIQUE,
    seed       BLOB NOT NULL CHECK (length(seed) = 32)
);
",
        append_only!("chains", "chains are append-only"),
        r"INSERT INTO chains (chain_id, deployment, seed)
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
",
        append_only!("receipts", "receipts are append-only"),
        append_only!("batches", "batches are append-only"),
    ),
    // Version 4: records are found by digest (a model anchor from a pre-deployment, a
    // snapshot, a family from a split) without scanning their kind.
    r"
CREATE INDEX records_by_digest ON records (kind, digest);
",
    // Version 5: what `lcm check` compares the store's secrets and settings with. Each chain's
    // seed gets a check value (a MAC under the seed, see `seed_check_value`), and the policy a
    // sealed copy (its canonical JSON and digest), both append-only. A store migrated from
    // version 4 gets them computed from the values it holds at migration time
    // (`backfill_v5`), so it is only as trustworthy as it was then. Receipts are also found
    // by request id, so `lcm infer` can refuse a repeated one.
    concat!(
        r"
CREATE TABLE chain_checks (
    chain_id    INTEGER PRIMARY KEY CHECK (chain_id > 0),
    check_value BLOB NOT NULL CHECK (length(check_value) = 32)
);
",
        append_only!("chain_checks", "chain check values are append-only"),
        r"CREATE TABLE sealed_policy (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    json      TEXT NOT NULL,
    digest    BLOB NOT NULL CHECK (length(digest) = 32)
);
",
        append_only!("sealed_policy", "the sealed policy is append-only"),
        r"CREATE INDEX receipts_by_request ON receipts (chain_id, json_extract(json, '$.request_id'));
",
    ),
    // Version 6: each chain's transparency log (crate::log), its tree hashes as C2SP tiles
    // (`hashes`: the tile's hashes concatenated, 32 bytes each; a partial tile is replaced by
    // a longer one as the log grows, never changed or shortened) and its size. The tiles of
    // the receipts already stored are built by `super::log::backfill` in the same
    // transaction.
    r"
CREATE TABLE log_tiles (
    chain_id   INTEGER NOT NULL CHECK (chain_id > 0),
    level      INTEGER NOT NULL CHECK (level >= 0 AND level <= 63),
    idx        INTEGER NOT NULL CHECK (idx >= 0),
    hashes     BLOB NOT NULL CHECK (length(hashes) % 32 = 0 AND length(hashes) BETWEEN 32 AND 8192),
    PRIMARY KEY (chain_id, level, idx)
) WITHOUT ROWID;
CREATE TABLE logs (
    chain_id   INTEGER PRIMARY KEY CHECK (chain_id > 0),
    size       INTEGER NOT NULL CHECK (size >= 0)
);
CREATE TRIGGER log_tiles_only_grow BEFORE UPDATE ON log_tiles
    WHEN NEW.chain_id != OLD.chain_id OR NEW.level != OLD.level OR NEW.idx != OLD.idx
      OR length(NEW.hashes) < length(OLD.hashes)
      OR substr(NEW.hashes, 1, length(OLD.hashes)) != OLD.hashes
    BEGIN SELECT RAISE(ABORT, 'log tiles only grow'); END;
CREATE TRIGGER log_tiles_no_delete BEFORE DELETE ON log_tiles
    BEGIN SELECT RAISE(ABORT, 'log tiles are append-only'); END;
CREATE TRIGGER logs_only_grow BEFORE UPDATE ON logs
    WHEN NEW.chain_id != OLD.chain_id OR NEW.size < OLD.size
    BEGIN SELECT RAISE(ABORT, 'logs only grow'); END;
CREATE TRIGGER logs_no_delete BEFORE DELETE ON logs
    BEGIN SELECT RAISE(ABORT, 'logs are append-only'); END;
",
    // Version 7: the lean receipt row (`super::receipts`): every field of the receipt in its
    // own column, digests as 32-byte blobs, the request id a plain indexed column (instead of
    // an index on an expression over the JSON), and no stored JSON: the canonical JSON is
    // rebuilt from the row. `super::receipts::migrate_v7` moves the rows of `receipts_v6`,
    // checking that each rebuilds to the JSON it stored, and drops it.
    concat!(
        r"
DROP INDEX receipts_by_request;
DROP TRIGGER receipts_no_update;
DROP TRIGGER receipts_no_delete;
ALTER TABLE receipts RENAME TO receipts_v6;
CREATE TABLE receipts (
    key               INTEGER PRIMARY KEY,
    chain_id          INTEGER NOT NULL CHECK (chain_id > 0),
    receipt_id        TEXT NOT NULL,
    request_id        TEXT NOT NULL,
    digest            BLOB NOT NULL CHECK (length(digest) = 32),
    prev              BLOB CHECK (prev IS NULL OR length(prev) = 32),
    timestamp         INTEGER NOT NULL,
    model_anchor      BLOB NOT NULL CHECK (length(model_anchor) = 32),
    deployment_anchor BLOB NOT NULL CHECK (length(deployment_anchor) = 32),
    input_scheme      INTEGER NOT NULL CHECK (input_scheme BETWEEN 0 AND 2),
    input_value       BLOB NOT NULL CHECK (length(input_value) = 32),
    input_metadata    TEXT,
    input_plaintext   TEXT,
    output_scheme     INTEGER NOT NULL CHECK (output_scheme BETWEEN 0 AND 2),
    output_value      BLOB NOT NULL CHECK (length(output_value) = 32),
    output_metadata   TEXT,
    output_plaintext  TEXT,
    explanations      BLOB CHECK (explanations IS NULL OR length(explanations) % 32 = 0),
    CHECK (key >= chain_id * 1099511627776 AND key < (chain_id + 1) * 1099511627776),
    UNIQUE (chain_id, receipt_id)
);
CREATE INDEX receipts_by_request ON receipts (chain_id, request_id);
",
        append_only!("receipts", "receipts are append-only"),
    ),
    // Version 8: the service's tables (`lcm serve`). API tokens, kept as the SHA-256 of the
    // token and never deleted: the only change allowed is setting `revoked` once. Batch keys
    // (a client's `Idempotency-Key`), each written in the transaction of the receipts its
    // batch appended, append-only.
    concat!(
        r"
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    deployment TEXT NOT NULL,
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    created    INTEGER NOT NULL,
    revoked    INTEGER
);
CREATE TRIGGER tokens_only_revoke BEFORE UPDATE ON tokens
    WHEN NEW.id != OLD.id OR NEW.name != OLD.name OR NEW.deployment != OLD.deployment
      OR NEW.hash != OLD.hash OR NEW.created != OLD.created
      OR OLD.revoked IS NOT NULL OR NEW.revoked IS NULL
    BEGIN SELECT RAISE(ABORT, 'a token can only be revoked, once'); END;
CREATE TRIGGER tokens_no_delete BEFORE DELETE ON tokens
    BEGIN SELECT RAISE(ABORT, 'tokens are kept (revoke them)'); END;
CREATE TABLE batch_keys (
    chain_id   INTEGER NOT NULL CHECK (chain_id > 0),
    key        TEXT NOT NULL,
    body       BLOB NOT NULL CHECK (length(body) = 32),
    first_seq  INTEGER NOT NULL CHECK (first_seq >= 0),
    count      INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (chain_id, key)
) WITHOUT ROWID;
",
        append_only!("batch_keys", "batch keys are append-only"),
    ),
    // Version 9: receipts by time (`lcm list receipts --since/--until`). A chain's timestamps
    // are not guaranteed to be non-decreasing (clocks step back; writers on several hosts
    // share a PostgreSQL chain), so a binary search over sequence numbers could miss
    // receipts: the range is found through this index instead.
    r"
CREATE INDEX receipts_by_time ON receipts (chain_id, timestamp);
",
    // Version 10: the rotations of the store's signing key (`crate::keys`), each a signed
    // statement kept as its canonical JSON at its place in the chain, append-only.
    concat!(
        r"
CREATE TABLE key_rotations (
    sequence   INTEGER PRIMARY KEY CHECK (sequence >= 0),
    json       TEXT NOT NULL
);
",
        append_only!("key_rotations", "key rotations are append-only"),
    ),
    // Version 11: a chain holds each request id once unless a repeat is asked for, and the
    // database itself keeps that rule (`super::receipts::insert`): `repeat` is 0 for the
    // first receipt of a request id in its chain and the receipt's own sequence number for
    // a repeat (`lcm infer --allow-repeated-request-id`), and the request index is unique
    // over both. The insert finds a repeated id in the search it makes anyway, so the
    // writer no longer looks every id up before appending. Repeats already stored are
    // marked from the old index, in the migration's transaction (the update trigger is
    // dropped for it and made again).
    concat!(
        r"
ALTER TABLE receipts ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0
    CHECK (repeat = 0 OR repeat = key - chain_id * 1099511627776);
DROP TRIGGER receipts_no_update;
DROP TRIGGER receipts_no_delete;
UPDATE receipts SET repeat = key - chain_id * 1099511627776
    WHERE EXISTS (SELECT 1 FROM receipts AS earlier
        WHERE earlier.chain_id = receipts.chain_id AND earlier.request_id = receipts.request_id
          AND earlier.key < receipts.key);
DROP INDEX receipts_by_request;
CREATE UNIQUE INDEX receipts_by_request ON receipts (chain_id, request_id, repeat);
",
        append_only!("receipts", "receipts are append-only"),
    ),
];

/// The version whose migration introduces the lean receipt row: migrating to it moves the
/// stored receipts (`super::receipts::migrate_v7`).
pub(super) const LEAN_VERSION: i64 = 7;

/// The version whose migration adds the seed check values and the sealed policy: a store
/// migrated to it gets them computed from what it holds (`SqliteStore::backfill_v5`).
pub(super) const SEALS_VERSION: i64 = 5;
