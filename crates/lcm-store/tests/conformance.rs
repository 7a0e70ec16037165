//! The conformance suite of the `Store` backends: every test is written once against
//! `Box<dyn Store>` and the crate's public functions, and runs for each backend this machine
//! has — `SQLite` always, `PostgreSQL` when `LCM_TEST_POSTGRES_URL` names a server (each test
//! then gets a schema of its own, dropped afterwards, so tests run in parallel and again).
//! The only backend-specific parts are the fixture's raw SQL (to tamper) and the names of the
//! triggers it drops.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use lcm_crypto::{Digest, Seed, SigningKey};
use lcm_model::records::ModelAnchor;
use lcm_model::{Policy, Record as _, Timestamp};
use lcm_store::lifecycle::{self, EXAMPLE, Passwords};
use lcm_store::{Error, Store, StoredEvidence, StoredReceipt, StoredRecord, export, pipeline};

use super::scan::scanned;

const PASSWORDS: Passwords<'static> = Passwords {
    dataset: "dataset password",
    model: "model password",
};

pub(crate) const MODEL: &str = "pneumonia_model@v1.0";
pub(crate) const DEPLOYMENT: &str = "deploy_001";

/// Which backend a fixture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty location for one store of one backend, removed on drop.
pub(crate) struct Fixture {
    backend: Backend,
    location: PathBuf,
    /// `SQLite`: the scratch directory. `PostgreSQL`: the server URL and the schema.
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The server of the `PostgreSQL` tests, if any.
pub(crate) fn postgres_url() -> Option<String> {
    std::env::var("LCM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

impl Fixture {
    pub(crate) fn sqlite(name: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("lcm-store-conf-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Self {
            backend: Backend::Sqlite,
            location: dir.join("lcm.db"),
            dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh schema on the test server, or `None` (with a line saying so) without one.
    // The skip line is the test's output, as `cargo test` shows it.
    #[allow(clippy::print_stdout)]
    pub(crate) fn postgres(name: &str) -> Option<Self> {
        let Some(url) = postgres_url() else {
            println!("{name}: PostgreSQL skipped (set LCM_TEST_POSTGRES_URL to run it)");
            return None;
        };
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "lcm_t_{}_{}_{n}_{nanos}",
            name.replace('-', "_"),
            std::process::id()
        );
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("the test server");
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("a fresh schema");
        let sep = if url.contains('?') { '&' } else { '?' };
        // The application name lets a test find (and terminate) the store's connections.
        let location = PathBuf::from(format!(
            "{url}{sep}options=-csearch_path%3D{schema}&application_name={schema}"
        ));
        Some(Self {
            backend: Backend::Postgres,
            location,
            dir: None,
            pg: Some((url, schema)),
        })
    }

    /// One fixture per backend this machine has.
    pub(crate) fn all(name: &str) -> Vec<Self> {
        let mut all = vec![Self::sqlite(name)];
        all.extend(Self::postgres(name));
        all
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn location(&self) -> &Path {
        &self.location
    }

    /// Runs raw SQL on the store's database (in the store's schema), as a tamperer would.
    pub(crate) fn sql(&self, sql: &str) -> Result<(), String> {
        match (&self.dir, &self.pg) {
            (_, Some((url, schema))) => {
                let mut client =
                    postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
                client
                    .batch_execute(&format!("SET search_path TO {schema}; {sql}"))
                    .map_err(|e| {
                        e.as_db_error()
                            .map_or_else(|| e.to_string(), |d| d.message().to_owned())
                    })
            }
            _ => {
                let conn = rusqlite::Connection::open(&self.location).map_err(|e| e.to_string())?;
                conn.execute_batch(sql).map_err(|e| e.to_string())
            }
        }
    }

    /// The schema of a `PostgreSQL` fixture (also its connections' application name).
    pub(crate) fn pg_schema(&self) -> Option<&str> {
        self.pg.as_ref().map(|(_, schema)| schema.as_str())
    }

    /// The SQL that removes the triggers refusing `UPDATE` of receipts.
    pub(crate) fn drop_receipt_update_trigger(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "DROP TRIGGER receipts_no_update",
            Backend::Postgres => "DROP TRIGGER receipts_append_only ON receipts",
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((url, schema)) = &self.pg
            && let Ok(mut client) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// A store holding the example lifecycle and `receipts` demo receipts, the first half sealed.
pub(crate) fn recorded(f: &Fixture, receipts: u64) -> Box<dyn Store> {
    let (mut store, created) = lcm_store::init(f.location(), &Policy::default()).expect("init");
    assert!(created);
    let input = serde_json::from_str(EXAMPLE).expect("the example parses");
    lifecycle::record_into(&mut *store, input, &PASSWORDS).expect("record the example");
    pipeline::make_demo_receipts(&mut *store, MODEL, DEPLOYMENT, 0, receipts)
        .expect("demo receipts");
    pipeline::seal_next_batch(&mut *store, DEPLOYMENT, None, None, Some(receipts / 2))
        .expect("seal a batch");
    store
}

/// A request line with no metadata and no explanations.
fn request(
    id: String,
    query: String,
    output: &str,
    receipt: Option<&str>,
) -> pipeline::RequestLine {
    pipeline::RequestLine {
        request_id: id,
        query,
        output: output.to_owned(),
        receipt_id: receipt.map(str::to_owned),
        input_metadata: serde_json::Map::new(),
        output_metadata: serde_json::Map::new(),
        explanation_digests: Vec::new(),
    }
}

/// [`pipeline::append_requests`] to the test chain, in transactions of `batch_size`.
fn append(
    store: &mut dyn Store,
    requests: &[pipeline::RequestLine],
    batch_size: usize,
) -> Result<pipeline::InferSummary, Error> {
    pipeline::append_requests(store, MODEL, DEPLOYMENT, requests, batch_size, &mut |_| {
        Ok(())
    })
}

fn record(kind: &str, id: &str, byte: u8) -> StoredRecord {
    StoredRecord {
        kind: kind.to_owned(),
        id: id.to_owned(),
        digest: Digest::from_bytes([byte; 32]),
        json: format!("{{\"id\":\"{id}\"}}"),
    }
}

#[test]
fn records_and_evidence_are_stored_once_all_or_nothing() {
    for f in Fixture::all("records") {
        let (mut store, created) = lcm_store::init(f.location(), &Policy::default()).unwrap();
        assert!(created, "{:?}", f.backend());
        let (_, again) = lcm_store::init(f.location(), &Policy::default()).unwrap();
        assert!(!again, "a second init keeps the store");
        let a = record("model-anchor", "a", 1);
        let b = record("model-anchor", "b", 2);
        let ev = StoredEvidence {
            kind: "sbom".to_owned(),
            id: "a".to_owned(),
            json: "[]".to_owned(),
        };
        store
            .put_records(std::slice::from_ref(&a), std::slice::from_ref(&ev))
            .unwrap();
        assert_eq!(store.record("model-anchor", "a").unwrap(), Some(a.clone()));
        assert_eq!(store.record("model-anchor", "zz").unwrap(), None);
        assert_eq!(
            store
                .record_by_digest("model-anchor", &a.digest)
                .unwrap()
                .as_ref(),
            Some(&a)
        );
        assert_eq!(store.record_by_digest("sbom", &a.digest).unwrap(), None);
        assert_eq!(store.evidence_of("sbom", "a").unwrap(), Some(ev.clone()));
        assert_eq!(store.evidence(Some("sbom")).unwrap(), vec![ev.clone()]);
        assert_eq!(store.evidence(Some("split-records")).unwrap(), vec![]);
        // A duplicate refuses the whole call: `b` is not written either.
        let err = store.put_records(&[b.clone(), a.clone()], &[]).unwrap_err();
        assert!(
            matches!(&err, Error::Duplicate { kind, id } if kind == "model-anchor" && id == "a"),
            "{:?}: {err}",
            f.backend()
        );
        let err = store
            .put_records(std::slice::from_ref(&b), std::slice::from_ref(&ev))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Duplicate { kind, .. } if kind == "sbom"),
            "{err}"
        );
        assert_eq!(store.records(None).unwrap(), vec![a.clone()]);
        // put_records_with builds inside the transaction from what the store holds.
        let stored = store
            .put_records_with(&mut |s| {
                let n = s.records(Some("model-anchor"))?.len();
                Ok((vec![record("model-anchor", &format!("n{n}"), 3)], vec![]))
            })
            .unwrap();
        assert_eq!(stored[0].id, "n1");
        let err = store
            .put_records_with(&mut |_| Ok((vec![b.clone(), b.clone()], vec![])))
            .unwrap_err();
        assert!(matches!(err, Error::Duplicate { .. }), "{err}");
        let ids: Vec<String> = store
            .records(Some("model-anchor"))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["a", "n1"]);
        // The policy is the one sealed at init.
        assert_eq!(store.policy().unwrap(), Policy::default());
    }
}

#[test]
fn a_recorded_lifecycle_reads_back_checks_and_exports_on_every_backend() {
    for f in Fixture::all("lifecycle") {
        let b = f.backend();
        let store = recorded(&f, 10);
        assert_eq!(store.chains().unwrap(), [DEPLOYMENT]);
        let head = store.head(DEPLOYMENT).unwrap().unwrap();
        assert_eq!(head.sequence, 9, "{b:?}");
        assert_eq!(store.head("deploy_404").unwrap(), None);
        let sequences = |from, to| -> Vec<u64> {
            let scan = scanned(&*store, DEPLOYMENT, from, to);
            scan.iter().map(|r| r.sequence).collect()
        };
        assert_eq!(sequences(3, Some(5)), [3, 4, 5]);
        assert_eq!(sequences(8, None), [8, 9]);
        assert!(sequences(10, None).is_empty());
        let [last] =
            <[StoredReceipt; 1]>::try_from(scanned(&*store, DEPLOYMENT, 9, Some(9))).unwrap();
        assert_eq!(last.digest, head.digest);
        assert_eq!(
            store.receipt(DEPLOYMENT, &last.receipt_id).unwrap(),
            Some(last)
        );
        assert_eq!(store.receipt(DEPLOYMENT, "nope").unwrap(), None);
        assert_eq!(
            store
                .known_request(DEPLOYMENT, &["fresh", "req_000004", "req_000002"])
                .unwrap()
                .as_deref(),
            Some("req_000004")
        );
        assert_eq!(store.known_request(DEPLOYMENT, &["fresh"]).unwrap(), None);
        let batches = store.batches(DEPLOYMENT).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(
            (batches[0].first_sequence, batches[0].last_sequence),
            (0, 5)
        );
        assert_eq!(store.log_size(DEPLOYMENT).unwrap(), 10);
        assert_eq!(store.log_size("deploy_404").unwrap(), 0);
        let tile = lcm_tlog::tiles::Tile::new(0, 0, 10).unwrap();
        assert_eq!(store.log_tile(DEPLOYMENT, tile).unwrap().len(), 10);
        let too_wide = lcm_tlog::tiles::Tile::new(0, 0, 11).unwrap();
        assert!(matches!(
            store.log_tile(DEPLOYMENT, too_wide),
            Err(Error::Corrupt { .. })
        ));
        assert_eq!(lcm_store::log::audit(&*store, DEPLOYMENT).unwrap(), 10);
        let report = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
        assert_eq!((report.receipts, report.batches), (10, 1), "{b:?}");
        let key = SigningKey::from_seed(&Seed::from_bytes([3; 32]));
        let bundle = export::bundle(&*store, DEPLOYMENT, Timestamp::now(), &key).unwrap();
        lcm_capsule::verify_bundle(
            &bundle,
            &key.verifying_key(),
            &lcm_capsule::PolicyRequirements::default(),
        )
        .unwrap();
        drop(store);
        // Reopened, and read-only: the same contents, and writes refused.
        let store = lcm_store::open(f.location()).unwrap();
        assert_eq!(store.head(DEPLOYMENT).unwrap(), Some(head));
        let mut ro = lcm_store::open_read_only(f.location()).unwrap();
        assert_eq!(ro.head(DEPLOYMENT).unwrap(), Some(head));
        lcm_store::check::check_store(&*ro, &mut |_| {}).unwrap();
        assert!(
            ro.put_records(&[record("model-anchor", "ro", 7)], &[])
                .is_err()
        );
        assert!(
            ro.records(Some(ModelAnchor::KIND))
                .unwrap()
                .iter()
                .all(|r| r.id != "ro")
        );
    }
}

#[test]
fn appends_need_an_open_chain_and_refuse_a_repeated_receipt_id_whole() {
    for f in Fixture::all("appends") {
        let mut store = recorded(&f, 4);
        let err = store
            .append_receipts("deploy_404", &mut |_| Ok(vec![]))
            .unwrap_err();
        assert!(matches!(err, Error::NoChain { .. }), "{err}");
        let head = store.head(DEPLOYMENT).unwrap().unwrap();
        let [existing] =
            <[StoredReceipt; 1]>::try_from(scanned(&*store, DEPLOYMENT, 1, Some(1))).unwrap();
        // Two new receipts in one transaction, the second reusing an id: neither is
        // appended, nor logged.
        let line = |id: &str, receipt: &str| request(id.into(), "q".into(), "o", Some(receipt));
        let again = [line("x", "brand_new"), line("y", &existing.receipt_id)];
        let err = append(&mut *store, &again, 2).unwrap_err();
        assert!(
            matches!(&err, Error::DuplicateReceipt { kind, id, count: 2, generated: false } if kind == "inference-receipt" && id == &existing.receipt_id),
            "{:?}: {err}",
            f.backend()
        );
        assert_eq!(store.head(DEPLOYMENT).unwrap(), Some(head));
        assert_eq!(store.log_size(DEPLOYMENT).unwrap(), 4);
        assert_eq!(store.receipt(DEPLOYMENT, "brand_new").unwrap(), None);
        // A callback error appends nothing either.
        let err = store
            .append_receipts(DEPLOYMENT, &mut |_| Err(Error::NoReceipts))
            .unwrap_err();
        assert!(matches!(err, Error::NoReceipts));
        // The seed is stable and checked.
        let seed = store.chain_seed(DEPLOYMENT).unwrap().unwrap();
        let same = |s: &Seed| SigningKey::from_seed(s).verifying_key();
        assert_eq!(same(&store.open_chain(DEPLOYMENT).unwrap()), same(&seed));
        lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
    }
}

#[test]
fn the_database_refuses_to_change_or_delete_what_was_appended() {
    for f in Fixture::all("append-only") {
        drop(recorded(&f, 300));
        for sql in [
            "UPDATE receipts SET timestamp = timestamp + 1",
            "UPDATE receipts SET request_id = 'x' WHERE receipt_id = 'inf_000007'",
            "DELETE FROM receipts WHERE receipt_id = 'inf_000299'",
            "UPDATE records SET json = json || ' '",
            "DELETE FROM records",
            "UPDATE batches SET last_seq = last_seq + 1",
            "DELETE FROM batches",
            "DELETE FROM evidence",
            "UPDATE chains SET seed = seed",
            "DELETE FROM chain_checks",
            "UPDATE sealed_policy SET json = json",
            "DELETE FROM log_tiles",
            "UPDATE log_tiles SET hashes = substr(hashes, 1, 32)",
            "UPDATE logs SET size = size - 1",
            "DELETE FROM logs",
        ] {
            let refused = f.sql(sql);
            assert!(refused.is_err(), "{:?} accepted {sql}", f.backend());
        }
        let store = lcm_store::open(f.location()).unwrap();
        let report = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
        assert_eq!(report.receipts, 300);
    }
}

#[test]
fn an_edit_made_after_dropping_a_trigger_is_found_by_the_check() {
    for f in Fixture::all("tamper") {
        drop(recorded(&f, 6));
        f.sql(f.drop_receipt_update_trigger()).unwrap();
        // Without the edit, the check names the dropped trigger.
        let store = lcm_store::open(f.location()).unwrap();
        let err = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("receipts_"), "{err}");
        assert!(err.to_string().contains("missing"), "{err}");
        // One byte of one receipt's JSON changed: the receipt is named.
        f.sql("UPDATE receipts SET request_id = 'req_00000X' WHERE receipt_id = 'inf_000003'")
            .unwrap();
        let err = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("inf_000003") || err.to_string().contains("receipt 3"),
            "{:?}: {err}",
            f.backend()
        );
    }
}

#[test]
fn many_writers_append_to_one_chain_and_one_log_without_a_fork() {
    const WRITERS: usize = 4;
    const EACH: usize = 120;
    for f in Fixture::all("contention") {
        drop(recorded(&f, 0));
        let location = f.location().to_path_buf();
        std::thread::scope(|scope| {
            for w in 0..WRITERS {
                let location = &location;
                scope.spawn(move || {
                    // Each writer has its own connection.
                    let mut store = lcm_store::open(location).expect("open");
                    let requests: Vec<_> = (0..EACH)
                        .map(|i| {
                            request(
                                format!("w{w}_{i}"),
                                format!("query {w} {i}"),
                                "output",
                                None,
                            )
                        })
                        .collect();
                    let summary = append(&mut *store, &requests, 7).expect("append");
                    assert_eq!(summary.appended, EACH as u64);
                });
            }
        });
        let store = lcm_store::open(f.location()).unwrap();
        let total = (WRITERS * EACH) as u64;
        assert_eq!(
            store.head(DEPLOYMENT).unwrap().unwrap().sequence,
            total - 1,
            "{:?}",
            f.backend()
        );
        assert_eq!(lcm_store::log::audit(&*store, DEPLOYMENT).unwrap(), total);
        let report = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
        assert_eq!(report.receipts, total);
        // Nothing lost: every writer's every request has its receipt.
        for w in 0..WRITERS {
            for i in 0..EACH {
                let id = format!("w{w}_{i}");
                assert_eq!(
                    store.known_request(DEPLOYMENT, &[&id]).unwrap(),
                    Some(id.clone())
                );
            }
        }
    }
}

/// Appends a receipt for each of `ids` in one transaction, through
/// [`pipeline::append_requests`] or (as `lcm infer`) [`pipeline::infer`], whose refusal of a
/// repeated request id stops the input ([`Error::Interrupted`]: unwrapped here, with nothing
/// appended before it).
fn append_or_infer(
    store: &mut dyn Store,
    in_memory: bool,
    ids: &[String],
) -> Result<pipeline::InferSummary, Error> {
    if in_memory {
        let lines: Vec<_> = ids
            .iter()
            .map(|id| request(id.clone(), format!("query {id}"), "o", None))
            .collect();
        return append(store, &lines, 16);
    }
    let input: String = ids
        .iter()
        .map(|id| {
            format!("{{\"request_id\":\"{id}\",\"query\":\"query {id}\",\"output\":\"o\"}}\n")
        })
        .collect();
    let options = pipeline::InferOptions::batch(16);
    let reader = std::io::Cursor::new(input.into_bytes());
    let infer = pipeline::infer::<Error>;
    match infer(
        store,
        MODEL,
        DEPLOYMENT,
        options,
        reader,
        pipeline::text_acks,
        &mut |_, _| Ok(()),
    ) {
        Err(Error::Interrupted {
            source,
            appended: 0,
        }) => Err(*source),
        other => other,
    }
}

/// Two writers append the same new request id at the same moment: exactly one commits, the
/// other's batch is refused whole (`RepeatedRequest`), the chain holds the id once and checks.
/// One writer is `lcm infer`'s pipeline, the other the in-memory one (the Python binding's);
/// `lcm serve`'s writer makes the same check through the same function
/// ([`pipeline::refuse_repeats`]) inside its transaction.
///
/// The race is made certain, not left to the scheduler: a third connection holds the chain's
/// write lock (`SQLite`'s `BEGIN IMMEDIATE`, `PostgreSQL`'s chain row lock) inside an append it
/// then abandons while both writers start, so both look the ids up before either can write.
/// A lookup made only before the write transaction passes in both and both commit; the second
/// to take the lock must find the head moved, look again inside it and see the first's
/// receipt.
#[test]
fn two_writers_of_one_new_request_id_at_once_commit_it_once() {
    const SHARED: &str = "req_raced";
    for f in Fixture::all("request-race") {
        drop(recorded(&f, 3));
        let location = f.location().to_path_buf();
        let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let results = std::thread::scope(|scope| {
            let location = &location;
            let holder = scope.spawn(move || {
                let mut store = lcm_store::open(location).expect("open");
                store
                    .append_new_receipts(DEPLOYMENT, &mut |_, _| {
                        held_tx.send(()).expect("the test waits");
                        release_rx.recv().expect("the test releases");
                        Err(Error::NoReceipts)
                    })
                    .expect_err("an abandoned append");
            });
            held_rx.recv().expect("the lock is held");
            let writers: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|w| {
                    scope.spawn(move || {
                        let mut store = lcm_store::open(location).expect("open");
                        let ids = [
                            format!("{w}_before"),
                            SHARED.to_owned(),
                            format!("{w}_after"),
                        ];
                        (w, append_or_infer(&mut *store, w == "a", &ids))
                    })
                })
                .collect();
            // Both writers reach the lock (their reads do not wait for it) before it goes.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            release_tx.send(()).expect("the holder waits");
            holder.join().expect("the holder");
            writers
                .into_iter()
                .map(|w| w.join().expect("a writer"))
                .collect::<Vec<_>>()
        });
        let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, r)| r.is_ok());
        assert_eq!(
            (won.len(), lost.len()),
            (1, 1),
            "{:?}: won {won:?}, lost {lost:?}",
            f.backend()
        );
        let (winner, loser) = (won[0].0, lost[0].0);
        let err = lost[0].1.as_ref().unwrap_err();
        assert!(
            matches!(err, Error::RepeatedRequest { request_id, .. } if request_id == SHARED),
            "{:?}: {err}",
            f.backend()
        );
        let store = lcm_store::open(f.location()).unwrap();
        assert_eq!(store.request_sequences(DEPLOYMENT, SHARED).unwrap(), [4]);
        for (w, kept) in [(winner, true), (loser, false)] {
            for id in [format!("{w}_before"), format!("{w}_after")] {
                let found = store.known_request(DEPLOYMENT, &[&id]).unwrap();
                assert_eq!(found.is_some(), kept, "{:?}: {id}", f.backend());
            }
        }
        assert_eq!(store.head(DEPLOYMENT).unwrap().unwrap().sequence, 5);
        assert_eq!(lcm_store::log::audit(&*store, DEPLOYMENT).unwrap(), 6);
        let report = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
        assert_eq!(report.receipts, 6);
    }
}

/// `PostgreSQL` only: a trigger disabled (rather than dropped) and a trigger function
/// replaced are named by the schema check, and so by `lcm check`.
#[test]
fn postgres_schema_check_names_a_disabled_trigger_and_a_replaced_function() {
    let Some(f) = Fixture::postgres("pg-schema") else {
        return;
    };
    drop(recorded(&f, 2));
    let store = lcm_store::open(f.location()).unwrap();
    store.schema_check().unwrap();
    store.integrity_check().unwrap();
    f.sql("ALTER TABLE receipts DISABLE TRIGGER receipts_append_only")
        .unwrap();
    let err = store.schema_check().unwrap_err();
    assert!(
        err.to_string().contains("trigger receipts_append_only")
            && err.to_string().contains("disabled"),
        "{err}"
    );
    f.sql("ALTER TABLE receipts ENABLE TRIGGER receipts_append_only")
        .unwrap();
    store.schema_check().unwrap();
    f.sql(
        "CREATE OR REPLACE FUNCTION lcm_refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RETURN NEW; END $$",
    )
    .unwrap();
    let err = store.schema_check().unwrap_err();
    assert!(err.to_string().contains("function lcm_refuse()"), "{err}");
    // ... and with it replaced, the database no longer refuses: the check is what is left.
    f.sql("UPDATE records SET json = json || ' ' WHERE kind = 'model-anchor'")
        .unwrap();
    let err = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("model-anchor"), "{err}");
    // An object added to the store's schema is named too.
    f.sql("CREATE RULE no_insert AS ON INSERT TO receipts DO INSTEAD NOTHING")
        .unwrap();
    let fresh = Fixture::postgres("pg-schema-rule").unwrap();
    drop(recorded(&fresh, 1));
    fresh
        .sql("CREATE RULE no_insert AS ON INSERT TO receipts DO INSTEAD NOTHING")
        .unwrap();
    let err = lcm_store::open(fresh.location())
        .unwrap()
        .schema_check()
        .unwrap_err();
    assert!(err.to_string().contains("rule no_insert"), "{err}");
    // A store migrated by a newer lcm is refused, read-only too; an empty schema holds no
    // store.
    let supported = lcm_store::postgres::SCHEMA_VERSION;
    fresh
        .sql(&format!(
            "INSERT INTO lcm_migrations (version) VALUES ({})",
            supported + 1
        ))
        .unwrap();
    for opened in [
        lcm_store::open(fresh.location()),
        lcm_store::open_read_only(fresh.location()),
    ] {
        assert!(
            matches!(
                opened,
                Err(Error::TooNew { found, supported: s }) if found == supported + 1 && s == supported
            ),
            "{:?}",
            opened.err()
        );
    }
    let empty = Fixture::postgres("pg-empty").unwrap();
    assert!(matches!(
        lcm_store::open(empty.location()),
        Err(Error::NoStore { .. })
    ));
    assert!(matches!(
        lcm_store::open_read_only(empty.location()),
        Err(Error::NoStore { .. })
    ));
}

/// `PostgreSQL` only: a store whose connection the server dropped (here terminated with
/// `pg_terminate_backend`, as a server restart does) connects again at its next call, loses
/// nothing it committed, and commits nothing half of a transaction the break interrupted.
#[test]
fn postgres_store_reconnects_after_its_connection_is_terminated() {
    let Some(f) = Fixture::postgres("pg-reconnect") else {
        return;
    };
    let mut store = recorded(&f, 10);
    let schema = f.pg_schema().unwrap().to_owned();
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{schema}'"
    );
    let line = |i: u64| request(format!("after_{i}"), "q".to_owned(), "o", None);
    for round in 0..3u64 {
        f.sql(&terminate).unwrap();
        // The first call may still meet the broken connection (an error, never a panic);
        // the next one runs on a new connection.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let appended = append(&mut *store, &[line(round)], 1);
            match appended {
                Ok(summary) => {
                    assert_eq!(summary.appended, 1);
                    break;
                }
                Err(e) => {
                    assert!(attempts < 2, "round {round}: still failing: {e}");
                    assert!(matches!(e, Error::Postgres(_)), "{e}");
                }
            }
        }
    }
    // A transaction cut by the break commits nothing: the callback terminates the
    // connection, the insert after it fails, and the next call finds the chain as it was.
    let head = store.head(DEPLOYMENT).unwrap();
    let refused = store.append_receipts(DEPLOYMENT, &mut |_| {
        f.sql(&terminate).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        Ok(vec![StoredReceipt {
            sequence: 13,
            receipt_id: "cut".to_owned(),
            digest: Digest::from_bytes([9; 32]),
            timestamp: 0,
            json: "{}".to_owned(),
        }])
    });
    assert!(matches!(refused, Err(Error::Postgres(_))), "{refused:?}");
    assert_eq!(store.head(DEPLOYMENT).unwrap(), head);
    assert_eq!(store.receipt(DEPLOYMENT, "cut").unwrap(), None);
    // Read-only stores reconnect read-only.
    let reader = lcm_store::open_read_only(f.location()).unwrap();
    f.sql(&terminate).unwrap();
    let _ = reader.head(DEPLOYMENT);
    assert_eq!(reader.head(DEPLOYMENT).unwrap(), head);
    let report = lcm_store::check::check_store(&*reader, &mut |_| {}).unwrap();
    assert_eq!(report.receipts, 13);
    drop(reader);
    // ... and a read-only session stays read-only after it reconnected.
    let mut reader = lcm_store::open_read_only(f.location()).unwrap();
    f.sql(&terminate).unwrap();
    let _ = reader.head(DEPLOYMENT);
    assert_eq!(reader.head(DEPLOYMENT).unwrap(), head);
    let refused = reader.open_chain("deploy_new");
    assert!(
        format!("{:?}", refused.err()).contains("read-only"),
        "a reconnected read-only store wrote"
    );
}

/// Receipts by request id and by time range come from the backends' indexes and agree with a
/// full scan of the chain.
#[test]
fn receipts_are_found_by_request_id_and_by_time_range() {
    for f in Fixture::all("find") {
        let store = recorded(&f, 40);
        let all = scanned(&*store, DEPLOYMENT, 0, None);
        assert_eq!(all.len(), 40);
        // By request id (the demo's are `req_NNNNNN`).
        assert_eq!(
            store.request_sequences(DEPLOYMENT, "req_000007").unwrap(),
            [7]
        );
        let found =
            lcm_store::find::receipts_by_request(&*store, DEPLOYMENT, "req_000007").unwrap();
        assert_eq!(found, [all[7].clone()]);
        assert!(
            store
                .request_sequences(DEPLOYMENT, "req_999999")
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .request_sequences("deploy_404", "req_000007")
                .unwrap()
                .is_empty()
        );
        // By time: every range agrees with filtering the whole chain.
        let in_range = |since: i64, until: i64| -> Vec<u64> {
            let mut got = Vec::new();
            lcm_store::find::scan_receipts_between(&*store, DEPLOYMENT, since, until, &mut |r| {
                got.push(r.sequence);
                Ok(())
            })
            .unwrap();
            got
        };
        let brute = |since: i64, until: i64| -> Vec<u64> {
            all.iter()
                .filter(|r| (since..=until).contains(&r.timestamp))
                .map(|r| r.sequence)
                .collect()
        };
        let (t5, t30) = (all[5].timestamp, all[30].timestamp);
        for (since, until) in [
            (t5, t30),
            (t5, t5),
            (t30, i64::MAX),
            (i64::MIN, t5),
            (i64::MIN, i64::MAX),
            (t30 + 1, t5),
        ] {
            let got = in_range(since, until);
            assert_eq!(
                got,
                brute(since, until),
                "{:?} {since}..={until}",
                f.backend()
            );
        }
        assert!(in_range(t5, t30).contains(&5) && in_range(t5, t30).contains(&30));
        let first = all[0].timestamp;
        assert_eq!(
            store.time_span(DEPLOYMENT, i64::MIN, first - 1).unwrap(),
            None
        );
        let (lo, hi) = store.time_span(DEPLOYMENT, t5, t30).unwrap().unwrap();
        assert!(lo <= 5 && (30..40).contains(&hi), "{lo}..={hi}");
        assert_eq!(store.time_span("deploy_404", t5, t30).unwrap(), None);
    }
}

/// Key rotations on every backend: appended in order, read back and verified, the retired key
/// refused for signing, the table append-only, and an edit (after dropping its trigger) found
/// by the check — one byte of a signature, the new key, and the order of two statements.
#[test]
fn key_rotations_are_a_verified_append_only_chain_on_every_backend() {
    use lcm_store::keys;
    let key = |n: u8| SigningKey::from_seed(&Seed::from_bytes([n; 32]));
    let at = |s: i64| Timestamp::from_unix_micros(1_800_000_000_000_000 + s);
    for f in Fixture::all("key-rotations") {
        let mut store = recorded(&f, 4);
        assert!(keys::store_keys(&*store).unwrap().is_empty());
        keys::check_signing_key(&*store, &key(1).verifying_key()).unwrap();
        keys::rotate(&mut *store, &key(1), &key(2), at(1)).unwrap();
        keys::rotate(&mut *store, &key(2), &key(3), at(2)).unwrap();
        // Another writer's rotation at the same place is refused by the table's key.
        let rows = store.key_rotations().unwrap();
        let again = store.put_key_rotation(&rows[1]).unwrap_err();
        assert!(matches!(again, Error::Duplicate { .. }), "{again}");
        let ids: Vec<_> = keys::store_keys(&*store)
            .unwrap()
            .iter()
            .map(|k| k.key.key_id())
            .collect();
        assert_eq!(ids, [key(1).key_id(), key(2).key_id(), key(3).key_id()]);
        keys::check_signing_key(&*store, &key(3).verifying_key()).unwrap();
        let e = keys::check_signing_key(&*store, &key(1).verifying_key()).unwrap_err();
        assert!(e.to_string().contains("was retired at"), "{e}");
        let report = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
        assert_eq!(report.key_rotations, 2);
        drop(store);

        for sql in [
            "UPDATE key_rotations SET json = json || ' '",
            "DELETE FROM key_rotations",
        ] {
            assert!(f.sql(sql).is_err(), "{:?} accepted {sql}", f.backend());
        }
        let drop_trigger = match f.backend() {
            Backend::Sqlite => "DROP TRIGGER key_rotations_no_update",
            Backend::Postgres => "DROP TRIGGER key_rotations_append_only ON key_rotations",
        };
        f.sql(drop_trigger).unwrap();
        let stored: keys::KeyRotation = serde_json::from_str(&rows[1].json).unwrap();
        let sig = stored.old_key_signature.to_hex();
        let new_key = stored.statement.new_public_key.to_hex();
        let mut bytes = *stored.old_key_signature.as_bytes();
        bytes[63] ^= 1;
        let flipped = lcm_crypto::Signature::from_bytes(bytes).to_hex();
        let stranger = key(9).verifying_key().to_hex();
        // The order of the two statements swapped (its own undo).
        let swap = "UPDATE key_rotations SET sequence = sequence + 10; \
                    UPDATE key_rotations SET sequence = 11 - sequence";
        for (edit, expected) in [
            (
                format!("UPDATE key_rotations SET json = replace(json, '{sig}', '{flipped}')"),
                "key rotation 1: field old_key_signature",
            ),
            (
                format!("UPDATE key_rotations SET json = replace(json, '{new_key}', '{stranger}')"),
                "key rotation 1: field new_key_id",
            ),
            (swap.to_owned(), "field sequence"),
        ] {
            let undo = edit
                .replace(&sig, "\u{0}")
                .replace(&flipped, &sig)
                .replace('\u{0}', &flipped);
            let undo = undo
                .replace(&new_key, "\u{1}")
                .replace(&stranger, &new_key)
                .replace('\u{1}', &stranger);
            f.sql(&edit).unwrap();
            let store = lcm_store::open(f.location()).unwrap();
            let e = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap_err();
            assert!(e.to_string().contains(expected), "{:?}: {e}", f.backend());
            drop(store);
            f.sql(&undo).unwrap();
        }
    }
}

/// Schema 11 (`SQLite`) and 5 (`PostgreSQL`): the append itself refuses a request id the
/// chain or its own transaction holds already (nothing of it appended, no lookup made
/// before), a repeat asked for is a receipt of its own, and a hand-written `INSERT` of a
/// second first receipt of an id is refused by the database.
#[test]
fn the_database_refuses_a_repeated_request_id_unless_a_repeat_is_asked_for() {
    for f in Fixture::all("repeats") {
        let mut store = recorded(&f, 4);
        let head = store.head(DEPLOYMENT).unwrap();
        let line = |id: &str| request(id.into(), "q".into(), "o", None);
        for lines in [
            [line("new_1"), line("req_000002")],
            [line("new_2"), line("new_2")],
        ] {
            let err = append(&mut *store, &lines, 2).unwrap_err();
            assert!(
                matches!(&err, Error::RepeatedRequest { request_id, .. } if *request_id == lines[1].request_id),
                "{:?}: {err}",
                f.backend()
            );
            assert_eq!(store.head(DEPLOYMENT).unwrap(), head);
            assert_eq!(store.log_size(DEPLOYMENT).unwrap(), 4);
        }
        let input = ["req_000002", "fresh", "fresh"]
            .map(|id| format!("{{\"request_id\":\"{id}\",\"query\":\"q\",\"output\":\"o\"}}\n"))
            .concat();
        let options = pipeline::InferOptions {
            request_ids: pipeline::RequestIds::AllowRepeats,
            ..pipeline::InferOptions::batch(16)
        };
        pipeline::infer(
            &mut *store,
            MODEL,
            DEPLOYMENT,
            options,
            std::io::Cursor::new(input),
            pipeline::text_acks,
            &mut |_, _| Ok::<(), Error>(()),
        )
        .unwrap();
        for (request, sequences) in [("req_000002", [2, 4]), ("fresh", [5, 6])] {
            assert_eq!(
                store.request_sequences(DEPLOYMENT, request).unwrap(),
                sequences
            );
        }
        lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
        let copy = |repeat: u64| match f.backend() {
            Backend::Sqlite => format!(
                "INSERT INTO receipts SELECT key + 100, chain_id, 'r_copy', request_id, digest, \
                 prev, timestamp, model_anchor, deployment_anchor, input_scheme, input_value, \
                 input_metadata, input_plaintext, output_scheme, output_value, output_metadata, \
                 output_plaintext, explanations, {repeat} FROM receipts \
                 WHERE key - chain_id * 1099511627776 = 0"
            ),
            Backend::Postgres => format!(
                "INSERT INTO receipts (chain_id, sequence, receipt_id, digest, timestamp, json, \
                 request_id, repeat) SELECT chain_id, sequence + 100, 'r_copy', digest, \
                 timestamp, json, request_id, {repeat} FROM receipts WHERE sequence = 0"
            ),
        };
        let err = f.sql(&copy(0)).unwrap_err();
        assert!(
            err.contains("receipts_by_request") || err.contains("receipts.request_id"),
            "{:?}: {err}",
            f.backend()
        );
        let err = f.sql(&copy(7)).unwrap_err();
        assert!(err.contains("check") || err.contains("CHECK"), "{err}");
        f.sql(&copy(100)).unwrap();
    }
}

/// `PostgreSQL` migration 5 marks the repeats a version 4 store holds (made here from a
/// current store by undoing the migration by hand) and keeps its receipts.
#[test]
fn postgres_migration_5_marks_the_repeats_already_stored() {
    let Some(f) = Fixture::postgres("pg-repeat-migrate") else {
        return;
    };
    let store = recorded(&f, 4);
    let before = scanned(&*store, DEPLOYMENT, 0, None);
    drop(store);
    f.sql(
        "ALTER TABLE receipts DISABLE TRIGGER receipts_append_only;
         DROP INDEX receipts_by_request;
         ALTER TABLE receipts DROP COLUMN repeat;
         CREATE INDEX receipts_by_request ON receipts (chain_id, request_id);
         INSERT INTO receipts (chain_id, sequence, receipt_id, digest, timestamp, json, request_id)
             SELECT chain_id, sequence + 4, receipt_id || '_again', digest, timestamp, json,
                    request_id FROM receipts WHERE sequence IN (1, 3);
         ALTER TABLE receipts ENABLE TRIGGER receipts_append_only;
         ALTER TABLE lcm_migrations DISABLE TRIGGER USER;
         DELETE FROM lcm_migrations WHERE version = 5;
         ALTER TABLE lcm_migrations ENABLE TRIGGER USER;",
    )
    .unwrap();
    let store = lcm_store::open(f.location()).unwrap();
    assert_eq!(store.schema_version(), 5);
    assert_eq!(scanned(&*store, DEPLOYMENT, 0, Some(3)), before);
    for (request, sequences) in [("req_000001", [1, 5]), ("req_000003", [3, 7])] {
        assert_eq!(
            store.request_sequences(DEPLOYMENT, request).unwrap(),
            sequences
        );
    }
    // Marked: the repeats' rows are copies that may stand beside their first receipt, and
    // a first receipt of a known id may not.
    let err = f
        .sql(
            "INSERT INTO receipts (chain_id, sequence, receipt_id, digest, timestamp, json, \
             request_id) SELECT chain_id, 20, 'r20', digest, timestamp, json, request_id \
             FROM receipts WHERE sequence = 5",
        )
        .unwrap_err();
    assert!(err.contains("receipts_by_request"), "{err}");
    store.schema_check().unwrap();
}
