//! Unit tests of the SQLite backend: migrations, durability, chains and batches.
use std::path::Path;

use super::schema::MIGRATIONS;
use super::*;

#[path = "../../tests/scan.rs"]
mod scan;
use scan::scanned;

/// A store path in the temporary directory, free when made; the store's files are removed
/// when it is dropped, also when a test fails.
struct Temp(PathBuf);

impl std::ops::Deref for Temp {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Temp {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        remove(&self.0);
    }
}

fn temp(name: &str) -> Temp {
    let p = std::env::temp_dir().join(format!("lcm-store-{name}-{}.db", std::process::id()));
    remove(&p);
    Temp(p)
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A new store at a fresh temporary path (see [`temp`]) with the default policy.
fn fresh(name: &str) -> (Temp, SqliteStore) {
    let path = temp(name);
    let (store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
    (path, store)
}

/// Runs `sql` on the store's connection directly, as a hand edit of the file would.
fn run_sql(store: &SqliteStore, sql: &str) {
    store.conn.execute_batch(sql).unwrap();
}

/// The schema version and the number of receipt rows of the store file at `path`.
fn version_and_receipts(path: &Path) -> (i64, i64) {
    let conn = Connection::open(path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    (
        count("PRAGMA user_version"),
        count("SELECT COUNT(*) FROM receipts"),
    )
}

/// Chain 1 of an old store (see [`old_store`]), for `deployment`, with the seed `[seed; 32]`.
fn insert_chain(conn: &Connection, deployment: &str, seed: u8) {
    conn.execute(
        "INSERT INTO chains (chain_id, deployment, seed) VALUES (1, ?1, ?2)",
        params![deployment, &[seed; 32][..]],
    )
    .unwrap();
}

/// `r` as a row of chain 1 in an old store's keyed receipts table, with `json` as its JSON.
fn insert_keyed_receipt(conn: &Connection, r: &StoredReceipt, json: &str) {
    conn.execute(
        "INSERT INTO receipts (key, chain_id, sequence, receipt_id, digest, timestamp, json) \
         VALUES (?1, 1, ?2, ?3, ?4, 0, ?5)",
        params![
            i64::try_from(CHAIN_SPAN + r.sequence).unwrap(),
            i64::try_from(r.sequence).unwrap(),
            r.receipt_id,
            &r.digest.as_bytes()[..],
            json
        ],
    )
    .unwrap();
}

/// The next value of a xorshift64 generator with state `state`.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The canonical JSON of a receipt at `sequence` with this id, time 0 and deployment anchor
/// `deployment` (the backend stores receipts by their fields, so fixtures are real receipts;
/// their digests need not match).
fn receipt_json_of(sequence: u64, receipt_id: &str, deployment: Digest) -> String {
    receipt_json_for(
        sequence,
        receipt_id,
        &format!("req_{receipt_id}_{sequence}"),
        deployment,
    )
}

/// As [`receipt_json_of`], for the request id `request_id`.
fn receipt_json_for(
    sequence: u64,
    receipt_id: &str,
    request_id: &str,
    deployment: Digest,
) -> String {
    let commitment = lcm_model::records::InferenceCommitment {
        scheme: lcm_crypto::CommitmentScheme::Salted,
        value: Digest::from_bytes([3; 32]),
        metadata: serde_json::Map::new(),
        plaintext: None,
    };
    lcm_model::canonical::to_string(&lcm_model::records::InferenceReceipt {
        receipt_id: receipt_id.to_owned(),
        sequence,
        model_anchor: Digest::from_bytes([1; 32]),
        deployment_anchor: deployment,
        request_id: request_id.to_owned(),
        input_commitment: commitment.clone(),
        output_commitment: commitment,
        explanation_digests: vec![],
        prev_receipt: None,
        timestamp: lcm_model::Timestamp::from_unix_micros(0),
    })
    .unwrap()
}

pub(super) fn receipt_json(sequence: u64, receipt_id: &str) -> String {
    receipt_json_of(sequence, receipt_id, Digest::from_bytes([2; 32]))
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
                    receipt_json_of(
                        u64::try_from(seq).unwrap(),
                        &format!("inf_{seq}"),
                        dep_digest
                    )
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
    let seen = scanned(&store, "dep_1", 1, None);
    let ids: Vec<&str> = seen.iter().map(|r| r.receipt_id.as_str()).collect();
    assert_eq!(ids, ["inf_1", "inf_2"]);
    assert_eq!(
        store.receipt("dep_1", "inf_0").unwrap().unwrap().sequence,
        0
    );
    assert!(store.receipt("other", "inf_0").unwrap().is_none());
    let batches = store.batches("dep_1").unwrap();
    assert_eq!((batches.len(), batches[0].last_sequence), (1, 1));
    assert!(store.head("other").unwrap().is_none());
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
    assert_eq!(version_and_receipts(&path), (2, 1));
}

/// The head and the scans of a chain are range searches of the table's b-tree, whatever
/// the chain's length: a plan that scanned or sorted the chain would make every append
/// cost as much as the chain is long (this happened: 4x slower at 10^6 receipts).
#[test]
fn chain_reads_are_rowid_range_searches() {
    let (_path, store) = fresh("plan");
    for sql in [receipts::HEAD_SQL, receipts::SCAN_SQL] {
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
}

/// Two chains in one store: separate sequences, ids, heads, seeds and batches.
#[test]
fn chains_are_independent() {
    let (_path, mut store) = fresh("chains");
    let receipt = |sequence: u64, id: &str| StoredReceipt {
        sequence,
        receipt_id: id.into(),
        digest: Digest::from_bytes([u8::try_from(sequence).unwrap(); 32]),
        timestamp: 0,
        json: receipt_json(sequence, id),
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
    let b = scanned(&store, "b", 0, None);
    assert_eq!((b.len(), b[0].receipt_id.as_str()), (1, "x"));
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
    let empty = temp("empty");
    drop(Connection::open(&empty).unwrap());
    assert!(matches!(
        SqliteStore::open(&empty),
        Err(Error::NotInitialized { .. })
    ));
    assert!(matches!(
        SqliteStore::open(Path::new("/nonexistent/lcm.db")),
        Err(Error::NoStore { .. })
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
        json: receipt_json(sequence, "inf"),
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
}

/// A version 4 store gets its seals from what it holds at migration: the seed check value of
/// each chain and the sealed policy; afterwards the schema is the one a new store has.
#[test]
fn migration_5_seals_what_the_store_holds() {
    let path = temp("migrate-5");
    {
        let conn = old_store(&path, 4);
        insert_chain(&conn, "d", 9);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.policy().unwrap(), Policy::default());
    let seed = store.chain_seed("d").unwrap().unwrap();
    assert_eq!(seed.expose_secret(), &[9u8; 32]);
    store.integrity_check().unwrap();
    store.schema_check().unwrap();
    let n: i64 = store
        .conn
        .query_row("SELECT count(*) FROM chain_checks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    // The tamper twin: the seed changed after migration is refused.
    run_sql(
        &store,
        "DROP TRIGGER chains_no_update; UPDATE chains SET seed = zeroblob(32);",
    );
    assert!(matches!(
        store.chain_seed("d"),
        Err(Error::SeedCheck { .. })
    ));
    assert!(matches!(store.schema_check(), Err(Error::Schema { .. })));
}

/// A new chain's seed check value is recorded with it; the sealed policy with the policy.
#[test]
fn new_chains_and_policies_are_sealed() {
    let (_path, mut store) = fresh("seals-new");
    let seed = store.open_chain("d").unwrap();
    let again = store.chain_seed("d").unwrap().unwrap();
    assert_eq!(seed.expose_secret(), again.expose_secret());
    store.integrity_check().unwrap();
    run_sql(
        &store,
        "UPDATE meta SET value = replace(value, 'salted', 'plaintext')",
    );
    assert!(matches!(store.policy(), Err(Error::PolicyChanged { .. })));
}

/// A store migrated from any older version has exactly the schema a new store has, so
/// `lcm check` does not report a migrated store as edited.
#[test]
fn migrated_stores_have_the_schema_of_a_new_one() {
    for version in 1..=4 {
        let path = temp(&format!("schema-from-{version}"));
        drop(old_store(&path, version));
        let store = SqliteStore::open(&path).unwrap();
        store.schema_check().unwrap();
        store.policy().unwrap();
    }
    let (_path, store) = fresh("schema-new");
    store.schema_check().unwrap();
}

/// Tamper twins of the seals themselves: a check value removed, a sealed policy rewritten
/// (with the meta policy to match), a sealed digest changed.
#[test]
fn edited_seals_are_refused() {
    let (_path, mut store) = fresh("seals-edited");
    drop(store.open_chain("d").unwrap());
    run_sql(
        &store,
        "DROP TRIGGER chain_checks_no_delete; DELETE FROM chain_checks;",
    );
    assert!(matches!(
        store.chain_seed("d"),
        Err(Error::SeedCheck { what, .. }) if what.contains("no check value")
    ));
    run_sql(
        &store,
        "DROP TRIGGER sealed_policy_no_update; \
         UPDATE sealed_policy SET json = replace(json, 'salted', 'plaintext'); \
         UPDATE meta SET value = replace(value, 'salted', 'plaintext');",
    );
    assert!(
        matches!(store.policy(), Err(Error::PolicyChanged { what }) if what.contains("digest"))
    );
    run_sql(&store, "UPDATE sealed_policy SET digest = zeroblob(32)");
    assert!(matches!(store.policy(), Err(Error::PolicyChanged { .. })));
}

/// A receipt whose digest is a function of its sequence number.
fn log_receipt(sequence: u64) -> StoredReceipt {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&sequence.to_be_bytes());
    bytes[31] = 0xa5;
    StoredReceipt {
        sequence,
        receipt_id: format!("r{sequence}"),
        digest: Digest::from_bytes(bytes),
        timestamp: 0,
        json: receipt_json(sequence, &format!("r{sequence}")),
    }
}

fn append_n(store: &mut SqliteStore, deployment: &str, n: u64) {
    store
        .append_receipts(deployment, &mut |head| {
            let next = head.map_or(0, |h| h.sequence + 1);
            Ok((next..next + n).map(log_receipt).collect())
        })
        .unwrap();
}

/// The tree the log must be: RFC 9162 over the receipts' digests, SHA-256.
fn expected_tree(n: u64) -> lcm_crypto::merkle::MerkleTree {
    lcm_crypto::merkle::MerkleTree::from_leaves_with(
        crate::log::LOG_ALGORITHM,
        (0..n).map(|i| *log_receipt(i).digest.as_bytes()),
    )
}

/// Compares the stored log's roots and proofs at several sizes with `lcm_crypto::merkle`'s
/// over the same leaves.
fn check_log(store: &SqliteStore, deployment: &str, n: u64, rng: &mut u64) {
    let log = crate::log::Log::open(store, deployment).unwrap();
    assert_eq!(log.size(), n);
    let tree = expected_tree(n);
    assert_eq!(log.root().unwrap().digest(), &tree.root(), "root at {n}");
    let mut next = || xorshift(rng);
    for _ in 0..8 {
        let size = 1 + next() % n;
        let old = 1 + next() % size;
        let index = next() % size;
        assert_eq!(
            log.root_at(size).unwrap().digest(),
            &tree.root_at(size).unwrap()
        );
        assert_eq!(
            log.inclusion_proof(index, size).unwrap(),
            tree.inclusion_proof_at(index, size).unwrap(),
            "inclusion of {index} at {size}"
        );
        assert_eq!(log.leaf(index).unwrap(), tree.leaf_hash(index).unwrap());
        let proof = log.consistency_proof(old, size).unwrap();
        if old < size {
            assert_eq!(
                proof,
                tree.consistency_proof_between(old, size)
                    .unwrap()
                    .into_path(),
                "consistency {old} -> {size}"
            );
        } else {
            assert!(proof.is_empty());
        }
    }
    assert!(log.root_at(n + 1).is_err());
}

#[test]
fn the_log_is_the_tree_of_the_receipts_at_every_size_and_across_reopens() {
    let path = temp("log");
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let (mut store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
    store.open_chain("a").unwrap();
    store.open_chain("b").unwrap();
    let mut n = 0;
    for round in 0..24u64 {
        xorshift(&mut rng);
        // Appends of 1 to ~3000 receipts, crossing tile boundaries at both levels.
        let k = 1 + rng % if round % 3 == 0 { 3000 } else { 300 };
        append_n(&mut store, "a", k);
        n += k;
        if round % 5 == 4 {
            // A restart: the next append resumes from the stored tiles.
            drop(store);
            store = SqliteStore::open(&path).unwrap();
        }
        check_log(&store, "a", n, &mut rng);
    }
    // Another chain has its own log.
    append_n(&mut store, "b", 3);
    check_log(&store, "b", 3, &mut rng);
    assert_eq!(store.log_size("a").unwrap(), n);
    assert_eq!(store.log_size("none").unwrap(), 0);
    // The stored tiles only grow: changing a hash is refused.
    let changed = store.conn.execute(
        "UPDATE log_tiles SET hashes = zeroblob(length(hashes)) WHERE level = 0 AND idx = 0",
        [],
    );
    assert!(changed.is_err());
    assert!(store.conn.execute("DELETE FROM log_tiles", []).is_err());
}

#[test]
fn migration_6_builds_the_log_of_the_receipts_already_stored() {
    let path = temp("log-migrate");
    let n = 70_000u64;
    {
        let conn = old_store(&path, 4);
        insert_chain(&conn, "dep", 7);
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..n {
            let r = log_receipt(i);
            insert_keyed_receipt(&conn, &r, &r.json);
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    let mut store = SqliteStore::open(&path).unwrap();
    let mut rng = 7u64;
    check_log(&store, "dep", n, &mut rng);
    // Appends continue the migrated log.
    append_n(&mut store, "dep", 300);
    check_log(&store, "dep", n + 300, &mut rng);
}

/// A log whose size disagrees with its chain (a store edited by hand) refuses appends.
#[test]
fn an_append_refuses_a_log_out_of_step_with_its_chain() {
    let (_path, mut store) = fresh("log-step");
    store.open_chain("a").unwrap();
    append_n(&mut store, "a", 3);
    run_sql(
        &store,
        "DROP TRIGGER logs_only_grow; UPDATE logs SET size = 2;",
    );
    let refused = store.append_receipts("a", &mut |_| Ok(vec![log_receipt(3)]));
    assert!(matches!(refused, Err(Error::Corrupt { .. })), "{refused:?}");
    assert_eq!(store.head("a").unwrap().map(|h| h.sequence), Some(2));
}

/// The log's audit recomputes every tile from the receipts: it passes on a sound log and
/// names the tile that one changed byte, a dropped partial tile or a wrong size breaks.
#[test]
fn the_log_audit_finds_a_changed_tile_byte_and_a_wrong_size() {
    let (_path, mut store) = fresh("log-audit");
    store.open_chain("a").unwrap();
    append_n(&mut store, "a", 70_000);
    assert_eq!(crate::log::audit(&store, "a").unwrap(), 70_000);
    run_sql(
        &store,
        "DROP TRIGGER log_tiles_only_grow; DROP TRIGGER log_tiles_no_delete; DROP TRIGGER logs_only_grow;",
    );
    // One byte of each kind of tile: a full level-0, the partial level-0, a level-1 tile.
    for (level, idx, byte) in [(0, 7, 33), (0, 273, 0), (1, 0, 4000), (2, 0, 31)] {
        let original: Vec<u8> = store
            .conn
            .query_row(
                "SELECT hashes FROM log_tiles WHERE level = ?1 AND idx = ?2",
                params![level, idx],
                |r| r.get(0),
            )
            .unwrap();
        let mut changed = original.clone();
        changed[byte] ^= 1;
        let set = |bytes: &[u8]| {
            store
                .conn
                .execute(
                    "UPDATE log_tiles SET hashes = ?1 WHERE level = ?2 AND idx = ?3",
                    params![bytes, level, idx],
                )
                .unwrap();
        };
        set(&changed);
        let found = crate::log::audit(&store, "a");
        assert!(
            matches!(&found, Err(Error::Corrupt { what }) if what.contains(&format!("tile/{level}/"))),
            "{found:?}"
        );
        set(&original);
        crate::log::audit(&store, "a").unwrap();
    }
    store
        .conn
        .execute("DELETE FROM log_tiles WHERE level = 0 AND idx = 273", [])
        .unwrap();
    assert!(crate::log::audit(&store, "a").is_err());
    store
        .conn
        .execute("UPDATE logs SET size = 69999", [])
        .unwrap();
    let found = crate::log::audit(&store, "a");
    assert!(
        matches!(&found, Err(Error::Corrupt { what }) if what.contains("69999")),
        "{found:?}"
    );
}

/// Migration 7 moves schema 6's receipts into the lean row and gives back the same
/// receipts; a stored JSON that would not come back byte for byte (here: not canonical)
/// fails the migration, and the store stays at version 6 with its rows.
#[test]
fn migration_7_keeps_receipts_byte_for_byte_or_refuses() {
    for canonical_json in [true, false] {
        let path = temp(&format!("lean{canonical_json}"));
        let made: Vec<StoredReceipt> = (0..3).map(log_receipt).collect();
        {
            let conn = old_store(&path, 6);
            insert_chain(&conn, "dep", 7);
            for r in &made {
                let json = if canonical_json || r.sequence < 2 {
                    r.json.clone()
                } else {
                    r.json.replacen(':', ": ", 1)
                };
                insert_keyed_receipt(&conn, r, &json);
            }
        }
        match SqliteStore::open(&path) {
            Ok(store) => {
                assert!(canonical_json);
                assert_eq!(scanned(&store, "dep", 0, None), made);
            }
            Err(e) => {
                assert!(!canonical_json, "{e}");
                assert!(e.to_string().contains("r2"), "{e}");
                assert_eq!(version_and_receipts(&path), (6, 3));
            }
        }
    }
}

/// A writer keeps its statement journals in memory (`temp_store` 2), set once the
/// migrations are done; a read-only connection does not write any.
#[test]
fn writers_keep_statement_journals_in_memory() {
    let path = temp("temp-store");
    let temp_store = |s: &SqliteStore| -> i64 {
        s.conn
            .query_row("PRAGMA temp_store", [], |r| r.get(0))
            .unwrap()
    };
    let (created, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
    assert_eq!(temp_store(&created), 2);
    assert_eq!(temp_store(&SqliteStore::open(&path).unwrap()), 2);
    drop(created);
    remove(&path);
}

/// A bulk writer's page cache is enlarged to a fixed bound (so a transaction of `lcm infer`
/// is written once, at its commit) and stays that bound: the memory does not grow with the
/// number of receipts. Other connections keep `SQLite`'s default.
#[test]
fn bulk_appends_bound_the_page_cache() {
    let path = temp("bulk-cache");
    let (mut store, _) = SqliteStore::init(&path, &Policy::default()).unwrap();
    let cache = |s: &SqliteStore| -> i64 {
        s.conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(cache(&store), -2000);
    store.bulk_appends().unwrap();
    assert_eq!(cache(&store), -i64::from(BULK_CACHE_KIB));
    assert_eq!(BULK_CACHE_KIB, 16 * 1024);
    let other = SqliteStore::open(&path).unwrap();
    assert_eq!(cache(&other), -2000);
    drop((store, other));
    remove(&path);
}

/// A receipt of request `request_id` at `sequence` (id `r<sequence>`), as [`log_receipt`]
/// makes one, that may or may not repeat a request id of its chain.
fn request_receipt(sequence: u64, request_id: &str, may_repeat_request: bool) -> NewReceipt {
    let mut stored = log_receipt(sequence);
    stored.json = receipt_json_for(
        sequence,
        &stored.receipt_id,
        request_id,
        Digest::from_bytes([2; 32]),
    );
    let mut new = NewReceipt::parse(stored).unwrap();
    new.may_repeat_request = may_repeat_request;
    new
}

/// The `repeat` column of a chain's rows, in chain order: 0 for a first receipt of its
/// request id, its sequence for a repeat.
fn repeats(store: &SqliteStore) -> Vec<(i64, i64)> {
    let mut stmt = store
        .conn
        .prepare("SELECT key - chain_id * 1099511627776, repeat FROM receipts ORDER BY key")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Schema 11: the database refuses a second receipt of one request id in a chain — from
/// the chain or within one append, and from a hand-written `INSERT` too — and the append
/// that carried it appends nothing; a receipt that may repeat its request id is appended as
/// a repeat (its `repeat` its sequence), which the `CHECK` also holds to.
#[test]
fn the_request_index_refuses_a_repeat_unless_it_may_repeat() {
    let (_path, mut store) = fresh("repeats");
    store.open_chain("dep").unwrap();
    store.open_chain("other").unwrap();
    let append = |store: &mut SqliteStore, deployment: &str, made: Vec<NewReceipt>| {
        let mut made = Some(made);
        store.append_new_receipts(deployment, &mut |_, _| Ok(made.take().unwrap_or_default()))
    };
    append(&mut store, "dep", vec![request_receipt(0, "a", false)]).unwrap();
    // The chain holds it ("a"), and twice within one append ("a2"): refused, and the receipt
    // before it in the append is not kept.
    for (first, second) in [("b", "a"), ("a2", "a2")] {
        let made = vec![
            request_receipt(1, first, false),
            request_receipt(2, second, false),
        ];
        let r = append(&mut store, "dep", made);
        assert!(
            matches!(&r, Err(Error::RepeatedRequest { deployment, request_id })
                if deployment == "dep" && request_id == second),
            "{r:?}"
        );
    }
    assert_eq!(store.head("dep").unwrap().map(|h| h.sequence), Some(0));
    assert_eq!(store.log_size("dep").unwrap(), 1);
    // Another chain may hold the same request id.
    append(&mut store, "other", vec![request_receipt(0, "a", false)]).unwrap();
    // A repeat that may be one is appended, and read back by its request id.
    append(
        &mut store,
        "dep",
        vec![
            request_receipt(1, "a", true),
            request_receipt(2, "b", true),
            request_receipt(3, "a", true),
        ],
    )
    .unwrap();
    assert_eq!(store.request_sequences("dep", "a").unwrap(), [0, 1, 3]);
    assert_eq!(store.request_sequences("dep", "b").unwrap(), [2]);
    // Chain order, then the other chain's row.
    assert_eq!(repeats(&store), [(0, 0), (1, 1), (2, 0), (3, 3), (0, 0)]);
    // A duplicate receipt id is still named as one.
    let mut dup = request_receipt(4, "c", false);
    dup.record.receipt_id = "r0".to_owned();
    dup.stored.receipt_id = "r0".to_owned();
    dup.stored.json = lcm_model::canonical::to_string(&dup.record).unwrap();
    assert!(matches!(
        append(&mut store, "dep", vec![dup]),
        Err(Error::Duplicate { id, .. }) if id == "r0"
    ));
    // The database holds the rule itself: a hand-written copy of "dep"'s receipt 0 at
    // sequence 10 is refused as a first receipt of its id, and as a repeat marked with
    // another sequence than its own; as a repeat of its own sequence it is a row.
    let copy = |repeat: &str| {
        format!(
            "INSERT INTO receipts SELECT key + 10, chain_id, 'r_copy', request_id, digest, prev, \
             timestamp, model_anchor, deployment_anchor, input_scheme, input_value, \
             input_metadata, input_plaintext, output_scheme, output_value, output_metadata, \
             output_plaintext, explanations, {repeat} FROM receipts WHERE key = {CHAIN_SPAN}"
        )
    };
    let unique = store.conn.execute_batch(&copy("0")).unwrap_err();
    assert!(unique.to_string().contains("UNIQUE"), "{unique}");
    let check = store.conn.execute_batch(&copy("3")).unwrap_err();
    assert!(check.to_string().contains("CHECK"), "{check}");
    let allowed = store.conn.execute_batch(&copy("10"));
    assert!(allowed.is_ok(), "{allowed:?}");
}

/// An append of more than [`receipts::ROWS_PER_STATEMENT`] receipts goes in by runs of that
/// many rows a statement; a run the database refuses goes in again row by row, so that the
/// rules of a short append hold inside a run: a repeat that may not be one is refused by its
/// request id (nothing of the append kept), a duplicate receipt id is named, and repeats
/// that may be ones are appended as repeats, in a run and in the rows after the last run.
#[test]
fn long_appends_keep_the_repeat_and_duplicate_rules_inside_a_run() {
    let (_path, mut store) = fresh("runs");
    store.open_chain("dep").unwrap();
    let append = |store: &mut SqliteStore, made: Vec<NewReceipt>| {
        let mut made = Some(made);
        store.append_new_receipts("dep", &mut |_, _| Ok(made.take().unwrap_or_default()))
    };
    let n = 2 * receipts::ROWS_PER_STATEMENT + 6;
    let request = |s: usize| format!("q{s}");
    let made = |changed: &[(usize, usize, bool)]| -> Vec<NewReceipt> {
        (0..n)
            .map(|s| match changed.iter().find(|c| c.0 == s) {
                Some(&(_, of, may)) => request_receipt(s as u64, &request(of), may),
                None => request_receipt(s as u64, &request(s), false),
            })
            .collect()
    };
    let r = append(&mut store, made(&[(40, 3, false)]));
    assert!(
        matches!(&r, Err(Error::RepeatedRequest { request_id, .. }) if request_id == "q3"),
        "{r:?}"
    );
    let mut duplicate = made(&[]);
    let d = &mut duplicate[10];
    d.record.receipt_id = "r2".to_owned();
    d.stored.receipt_id = "r2".to_owned();
    d.stored.json = lcm_model::canonical::to_string(&d.record).unwrap();
    let r = append(&mut store, duplicate);
    assert!(
        matches!(&r, Err(Error::Duplicate { id, .. }) if id == "r2"),
        "{r:?}"
    );
    assert_eq!(store.head("dep").unwrap(), None);
    assert_eq!(store.log_size("dep").unwrap(), 0);
    append(&mut store, made(&[(5, 1, true), (n - 1, n - 2, true)])).unwrap();
    assert_eq!(
        store.head("dep").unwrap().map(|h| h.sequence),
        Some(n as u64 - 1)
    );
    assert_eq!(store.log_size("dep").unwrap(), n as u64);
    assert_eq!(store.request_sequences("dep", "q1").unwrap(), [1, 5]);
    let last = i64::try_from(n).unwrap() - 1;
    let expected: Vec<(i64, i64)> = (0..=last)
        .map(|s| (s, if s == 5 || s == last { s } else { 0 }))
        .collect();
    assert_eq!(repeats(&store), expected);
}

/// Migration 11 marks the repeats a store already holds (allowed before it by `lcm infer
/// --allow-repeated-request-id`) and leaves its receipts as they were; appends after it
/// refuse a known request id unless it may repeat.
#[test]
fn migration_11_marks_the_repeats_already_stored() {
    let path = temp("repeat-migrate");
    let requests = ["a", "b", "a", "a", "c", "b"];
    let made: Vec<StoredReceipt> = (0u64..)
        .zip(requests)
        .map(|(i, request)| request_receipt(i, request, true).stored)
        .collect();
    {
        let conn = old_store(&path, 4);
        insert_chain(&conn, "dep", 7);
        for r in &made {
            insert_keyed_receipt(&conn, r, &r.json);
        }
    }
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(version_and_receipts(&path), (SCHEMA_VERSION, 6));
    assert_eq!(scanned(&store, "dep", 0, None), made);
    assert_eq!(
        repeats(&store),
        [(0, 0), (1, 0), (2, 2), (3, 3), (4, 0), (5, 5)]
    );
    assert_eq!(store.request_sequences("dep", "a").unwrap(), [0, 2, 3]);
    let mut append = |made: NewReceipt| {
        let mut made = Some(vec![made]);
        store.append_new_receipts("dep", &mut |_, _| Ok(made.take().unwrap_or_default()))
    };
    assert!(matches!(
        append(request_receipt(6, "b", false)),
        Err(Error::RepeatedRequest { request_id, .. }) if request_id == "b"
    ));
    append(request_receipt(6, "b", true)).unwrap();
    append(request_receipt(7, "d", false)).unwrap();
    assert_eq!(store.request_sequences("dep", "b").unwrap(), [1, 5, 6]);
}
