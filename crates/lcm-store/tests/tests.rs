//! Integration tests of `lcm-store` through its public, backend-neutral interface: a store is
//! opened as `Box<dyn Store>` and everything runs on the trait object.

use std::path::PathBuf;

use lcm_capsule::{PolicyRequirements, verify_bundle};
use lcm_crypto::{Seed, SigningKey};
use lcm_model::records::{ModelAnchor, ReleaseRoot};
use lcm_model::{Policy, Record as _, Timestamp};
use lcm_store::lifecycle::{self, EXAMPLE, Passwords};
use lcm_store::{Error, Store, StoredReceipt, export, pipeline};

mod conformance;
mod range;
mod scan;
mod service;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lcm-store-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("lcm.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASSWORDS: Passwords<'static> = Passwords {
    dataset: "dataset password",
    model: "model password",
};

/// A store holding the example lifecycle and `receipts` demo receipts, the first half sealed.
fn recorded(s: &Scratch, receipts: u64) -> Box<dyn Store> {
    let (mut store, created) = lcm_store::init(&s.db(), &Policy::default()).expect("init");
    assert!(created);
    let input = serde_json::from_str(EXAMPLE).expect("the example parses");
    lifecycle::record_into(&mut *store, input, &PASSWORDS).expect("record the example");
    let model = "pneumonia_model@v1.0";
    pipeline::make_demo_receipts(&mut *store, model, "deploy_001", 0, receipts)
        .expect("demo receipts");
    pipeline::seal_next_batch(&mut *store, "deploy_001", None, None, Some(receipts / 2))
        .expect("seal a batch");
    store
}

/// [`recorded`], and the header signing key made from the seed of 32 bytes `seed`.
fn recorded_with_key(s: &Scratch, receipts: u64, seed: u8) -> (Box<dyn Store>, SigningKey) {
    let key = SigningKey::from_seed(&Seed::from_bytes([seed; 32]));
    (recorded(s, receipts), key)
}

#[test]
fn records_are_found_by_digest() {
    let s = Scratch::new("digest");
    let store = recorded(&s, 0);
    for r in store.records(None).unwrap() {
        let found = store.record_by_digest(&r.kind, &r.digest).unwrap().unwrap();
        assert_eq!(found.kind, r.kind);
        assert_eq!(found.digest, r.digest);
    }
    let model = store.records(Some(ModelAnchor::KIND)).unwrap().remove(0);
    // A digest is looked up within its kind only.
    assert_eq!(
        store
            .record_by_digest(ReleaseRoot::KIND, &model.digest)
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .record_by_digest(ModelAnchor::KIND, &lcm_crypto::Digest::from_bytes([9; 32]))
            .unwrap(),
        None
    );
}

#[test]
fn a_bundle_exported_from_a_store_verifies() {
    let s = Scratch::new("bundle");
    let (store, key) = recorded_with_key(&s, 6, 3);
    let deployment = export::lifecycle_of(&*store, None).unwrap();
    let bundle = export::bundle(&*store, &deployment, Timestamp::now(), &key).unwrap();
    assert_eq!(bundle.lifecycle.inference.receipts().count(), 6);
    assert_eq!(bundle.lifecycle.inference.sealed_batches().len(), 1);
    verify_bundle(
        &bundle,
        &key.verifying_key(),
        &PolicyRequirements::default(),
    )
    .unwrap();
    let report = lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
    assert_eq!(report.receipts, 6);
    assert_eq!(report.batches, 1);
}

#[test]
fn infer_appends_acknowledges_and_reports_the_bad_line() {
    let s = Scratch::new("infer");
    let mut store = recorded(&s, 0);
    let input = "{\"request_id\":\"a\",\"query\":\"q\",\"output\":\"o\"}\n\
                 {\"request_id\":\"b\",\"query\":\"q\",\"output\":\"o\"}\n\
                 not json\n";
    let mut acked = Vec::new();
    let err = pipeline::infer::<Error>(
        &mut *store,
        "pneumonia_model@v1.0",
        "deploy_001",
        pipeline::InferOptions::batch(16),
        std::io::Cursor::new(input.as_bytes().to_vec()),
        |receipts, out| {
            for r in receipts {
                out.push_str(&r.receipt_id);
                out.push('\n');
            }
        },
        &mut |acks, appended| {
            acked.push((acks.to_owned(), appended));
            Ok(())
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Interrupted { source, appended: 2 } if matches!(**source, Error::RequestLine { line: 3, .. })),
        "{err}"
    );
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0], ("inf_000000\ninf_000001\n".to_owned(), 2));
    assert_eq!(store.head("deploy_001").unwrap().unwrap().sequence, 1);
}

/// `lcm infer`'s pipeline over `input` into the example's release, in transactions of at most
/// `batch`, with text acknowledgments and the count appended so far handed to `ack`.
fn infer_example(
    store: &mut dyn Store,
    batch: usize,
    input: impl std::io::Read + Send + 'static,
    ack: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
) -> Result<pipeline::InferSummary, Error> {
    pipeline::infer::<Error>(
        store,
        "pneumonia_model@v1.0",
        "deploy_001",
        pipeline::InferOptions::batch(batch),
        input,
        pipeline::text_acks,
        ack,
    )
}

/// The error of `lcm infer`'s pipeline over `input` (which must make it fail), in
/// transactions of 16, the acknowledgements ignored.
fn infer_failure(store: &mut dyn Store, input: impl std::io::Read + Send + 'static) -> Error {
    infer_example(store, 16, input, &mut |_, _| Ok(())).expect_err("the input makes lcm infer fail")
}

/// A line that is not UTF-8 is named by its number, as a line that does not parse is, and
/// the lines before it stay appended.
#[test]
fn infer_names_the_line_that_is_not_utf8() {
    let s = Scratch::new("infer-utf8");
    let mut store = recorded(&s, 0);
    let mut input = b"{\"request_id\":\"a\",\"query\":\"q\",\"output\":\"o\"}\n\n".to_vec();
    input.extend_from_slice(b"{\"request_id\":\"b\",\"query\":\"\xff\",\"output\":\"o\"}\n");
    let err = infer_failure(&mut *store, std::io::Cursor::new(input));
    match &err {
        Error::Interrupted {
            source,
            appended: 1,
        } => assert!(
            matches!(**source, Error::RequestLine { line: 3, .. }),
            "{source}"
        ),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains("line 3: the line is not valid UTF-8"),
        "{err}"
    );
}

/// The input failing on its own (here with `InvalidData`, the kind a UTF-8 error also has)
/// is the input's failure, not a line that is not UTF-8: the twin of the test above.
#[test]
fn infer_reports_a_failing_input_as_such() {
    struct Failing(bool);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "bad device",
                ));
            }
            let line = b"{\"request_id\":\"a\",\"query\":\"q\",\"output\":\"o\"}\n";
            buf[..line.len()].copy_from_slice(line);
            Ok(line.len())
        }
    }
    let s = Scratch::new("infer-read-fails");
    let mut store = recorded(&s, 0);
    let err = infer_failure(&mut *store, Failing(false));
    match &err {
        Error::Interrupted {
            source,
            appended: 1,
        } => assert!(matches!(**source, Error::ReadRequests(_)), "{source}"),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("bad device"), "{err}");
}

/// Input that arrives in reads of `lines_per_read` lines, so that `infer`'s reader hands
/// over chunks smaller than a transaction and the maker finds several waiting.
struct RaggedInput {
    lines: std::vec::IntoIter<String>,
    lines_per_read: usize,
    pending: Vec<u8>,
}

impl std::io::Read for RaggedInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            for line in self.lines.by_ref().take(self.lines_per_read) {
                self.pending.extend_from_slice(line.as_bytes());
            }
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// `InferOptions::batch_size` is the most receipts of one transaction, however the input's
/// lines arrive: chunks of 70 lines against transactions of 100 used to be merged two at a
/// time into transactions of 140.
#[test]
fn infer_never_commits_more_than_the_batch_size_at_once() {
    let s = Scratch::new("infer-batch-bound");
    let mut store = recorded(&s, 0);
    let total = 3_000usize;
    let lines: Vec<String> = (0..total)
        .map(|i| format!("{{\"request_id\":\"r{i}\",\"query\":\"q {i}\",\"output\":\"o\"}}\n"))
        .collect();
    let input = RaggedInput {
        lines: lines.into_iter(),
        lines_per_read: 70,
        pending: Vec::new(),
    };
    let mut committed = Vec::new();
    let mut before = 0u64;
    let summary = infer_example(&mut *store, 100, input, &mut |_, appended| {
        committed.push(appended - before);
        before = appended;
        Ok(())
    })
    .unwrap();
    assert_eq!(summary.appended, total as u64);
    assert_eq!(committed.iter().sum::<u64>(), total as u64);
    assert!(
        committed.iter().all(|&n| (1..=100).contains(&n)),
        "transactions of {committed:?}"
    );
}

/// Input that gives its first lines, then waits for a signal before giving the rest: the
/// maker cannot make the second batch before the signal.
struct GatedInput {
    first: std::io::Cursor<Vec<u8>>,
    /// Taken once opened.
    gate: Option<std::sync::mpsc::Receiver<()>>,
    rest: std::io::Cursor<Vec<u8>>,
}

impl std::io::Read for GatedInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.first.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if let Some(gate) = self.gate.take() {
            let _ = gate.recv();
        }
        self.rest.read(buf)
    }
}

/// Another process appends between two batches of `lcm infer`'s pipeline: the second batch,
/// made after the pipeline's own head, is remade inside its transaction after the real one,
/// and keeps every line's metadata and explanation digests (which the maker moved into the
/// first making of its receipts, not kept in the lines).
#[test]
fn a_remade_batch_keeps_its_lines_metadata() {
    let s = Scratch::new("infer-remake");
    let mut store = recorded(&s, 0);
    let line = |i: usize| {
        format!(
            "{{\"request_id\":\"r{i}\",\"query\":\"q {i}\",\"output\":\"o {i}\",\
             \"input_metadata\":{{\"n\":{i}}},\"output_metadata\":{{\"confidence\":0.{i}5}},\
             \"explanation_digests\":[\"{:064x}\"]}}\n",
            i + 1
        )
    };
    let (open, gate) = std::sync::mpsc::channel();
    let input = GatedInput {
        first: std::io::Cursor::new((0..3).map(line).collect::<String>().into_bytes()),
        gate: Some(gate),
        rest: std::io::Cursor::new((3..7).map(line).collect::<String>().into_bytes()),
    };
    let mut other = lcm_store::open(&s.db()).expect("a second handle on the store");
    let mut commits = 0;
    let summary = infer_example(&mut *store, 16, input, &mut |_, _| {
        commits += 1;
        if commits == 1 {
            // After the first commit, before the second batch's lines exist.
            let model = "pneumonia_model@v1.0";
            pipeline::make_demo_receipts(&mut *other, model, "deploy_001", 0, 2)?;
            let _ = open.send(());
        }
        Ok(())
    })
    .unwrap();
    assert_eq!((summary.appended, commits), (7, 2));
    let mut stored = Vec::new();
    store
        .scan_receipts("deploy_001", 0, None, &mut |r| {
            stored.push(serde_json::from_str::<serde_json::Value>(&r.json)?);
            Ok(())
        })
        .unwrap();
    // Three of the pipeline, two demo receipts, then the remade four.
    assert_eq!(stored.len(), 9);
    assert_eq!(stored[3]["request_id"], "req_000000");
    for (r, i) in stored[5..].iter().zip(3..) {
        assert_eq!(r["request_id"], format!("r{i}"));
        assert_eq!(r["input_commitment"]["metadata"]["n"], i);
        let confidence: f64 = format!("0.{i}5").parse().unwrap();
        assert_eq!(r["output_commitment"]["metadata"]["confidence"], confidence);
        assert_eq!(r["explanation_digests"][0], format!("{:064x}", i + 1));
    }
    for (r, i) in stored[..3].iter().zip(0..) {
        assert_eq!(r["input_commitment"]["metadata"]["n"], i);
    }
    lcm_store::check::check_store(&*store, &mut |_| {}).unwrap();
}

#[test]
fn a_release_of_another_model_is_refused() {
    let s = Scratch::new("release");
    let store = recorded(&s, 0);
    assert!(matches!(
        pipeline::resolve_release(&*store, "pneumonia_model@v9", "deploy_001"),
        Err(Error::NotStored {
            kind: "model anchor",
            ..
        })
    ));
    assert!(matches!(
        pipeline::resolve_release(&*store, "pneumonia_model@v1.0", "deploy_404"),
        Err(Error::NotStored {
            kind: "deployment anchor",
            ..
        })
    ));
    pipeline::resolve_release(&*store, "pneumonia_model@v1.0", "deploy_001").unwrap();
}

#[test]
fn locations_pick_a_backend() {
    let s = Scratch::new("location");
    assert!(matches!(
        lcm_store::open(&PathBuf::from("mysql://db.example/lcm")),
        Err(Error::UnsupportedBackend { scheme }) if scheme == "mysql"
    ));
    // A PostgreSQL URL that does not parse, and a server that does not answer: clear
    // errors that never print the password.
    for url in [
        "postgres://lcm:s3cret@127.0.0.1:notaport/lcm",
        "postgresql://lcm:s3cret@127.0.0.1:1/lcm?connect_timeout=5",
    ] {
        let Err(err) = lcm_store::open(&PathBuf::from(url)) else {
            panic!("{url} opened");
        };
        assert!(
            matches!(err, Error::Url { .. } | Error::Postgres(_)),
            "{url}: {err}"
        );
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
    assert!(matches!(
        lcm_store::open(&s.db()),
        Err(Error::NoStore { .. })
    ));
    let url = PathBuf::from(format!("sqlite:{}", s.db().display()));
    let (store, created) = lcm_store::init(&url, &Policy::default()).unwrap();
    assert!(created);
    assert_eq!(store.schema_version(), lcm_store::sqlite::SCHEMA_VERSION);
    drop(store);
    lcm_store::open(&s.db()).unwrap();
}

#[test]
fn store_locations_print_without_their_password() {
    for (location, printed) in [
        ("lcm.db", "lcm.db"),
        ("sqlite:/x/lcm.db", "sqlite:/x/lcm.db"),
        ("postgres://lcm@db/lcm", "postgres://lcm@db/lcm"),
        (
            "postgres://lcm:pw@db:5432/lcm",
            "postgres://lcm:***@db:5432/lcm",
        ),
        ("postgresql://lcm:p:w@db", "postgresql://lcm:***@db"),
        ("postgres://lcm:p@w@db/x", "postgres://lcm:***@db/x"),
        ("postgres://lcm:a/b@db/x", "postgres://lcm:***@db/x"),
        ("postgres://lcm:a?b@db/x", "postgres://lcm:***@db/x"),
        (
            "postgres://lcm@db/x?password=a@b",
            "postgres://lcm@db/x?password=***",
        ),
        (
            "postgres://lcm@db/x?sslmode=disable&password=pw&application_name=a",
            "postgres://lcm@db/x?sslmode=disable&password=***&application_name=a",
        ),
    ] {
        assert_eq!(lcm_store::redact_location(location), printed, "{location}");
    }
}

fn request(id: &str, receipt_id: Option<&str>) -> pipeline::RequestLine {
    pipeline::RequestLine {
        request_id: id.to_owned(),
        query: format!("query {id}"),
        output: format!("output {id}"),
        receipt_id: receipt_id.map(str::to_owned),
        input_metadata: serde_json::Map::new(),
        output_metadata: serde_json::Map::new(),
        explanation_digests: Vec::new(),
    }
}

/// `requests` appended to `deploy_001`'s chain releasing `model`, in transactions of
/// `batch_size`, the acknowledgements ignored.
fn append_all(
    store: &mut dyn Store,
    model: &str,
    requests: &[pipeline::RequestLine],
    batch_size: usize,
) -> Result<pipeline::InferSummary, Error> {
    pipeline::append_requests::<Error>(
        store,
        model,
        "deploy_001",
        requests,
        batch_size,
        &mut |_| Ok(()),
    )
}

/// The first transaction is small, so that the writer starts early; the next ones double up
/// to the batch size.
#[test]
fn append_requests_ramps_its_transactions_up_to_the_batch_size() {
    let s = Scratch::new("append-ramp");
    let mut store = recorded(&s, 0);
    let requests: Vec<_> = (0..9_000)
        .map(|i| request(&format!("r{i}"), None))
        .collect();
    let mut sizes = Vec::new();
    pipeline::append_requests::<Error>(
        &mut *store,
        "pneumonia_model@v1.0",
        "deploy_001",
        &requests,
        3_000,
        &mut |committed| {
            sizes.push(committed.len());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(sizes, [1024, 2048, 3000, 2928]);
}

#[test]
fn append_requests_continues_the_chain_in_transactions_and_acknowledges_in_order() {
    let s = Scratch::new("append-requests");
    let mut store = recorded(&s, 3);
    let model = pipeline::model_of(&*store, "deploy_001").expect("the deployment's model");
    assert_eq!(model, "pneumonia_model@v1.0");
    let requests: Vec<_> = (0..10).map(|i| request(&format!("r{i}"), None)).collect();
    let mut acked: Vec<Vec<u64>> = Vec::new();
    let summary = pipeline::append_requests::<Error>(
        &mut *store,
        &model,
        "deploy_001",
        &requests,
        4,
        &mut |committed| {
            acked.push(committed.iter().map(|r| r.sequence).collect());
            Ok(())
        },
    )
    .expect("append");
    // Three transactions of at most 4, after the 3 receipts already in the chain.
    assert_eq!(
        acked,
        vec![vec![3, 4, 5, 6], vec![7, 8, 9, 10], vec![11, 12]]
    );
    assert_eq!(summary.appended, 10);
    let head = store.head("deploy_001").unwrap().unwrap();
    assert_eq!(summary.head, Some(head));
    assert_eq!(head.sequence, 12);
    // The chain is whole: the store's check recomputes every link.
    let report = lcm_store::check::check_store(&*store, &mut |_| {}).expect("check");
    assert_eq!(report.receipts, 13);

    // A receipt id already in the chain refuses its transaction; earlier ones stay.
    let again = [
        request("x", Some("fresh")),
        request("y", Some("inf_000004")),
    ];
    let err = append_all(&mut *store, &model, &again, 1).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DuplicateReceipt {
                count: 1,
                generated: false,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.head("deploy_001").unwrap().unwrap().sequence, 13);

    // Issue 11's strict input holds here too: a request id the chain already holds, or one
    // the requests repeat, is refused before its transaction; an id with a control character
    // is refused before anything is appended.
    for (ids, line) in [
        (["r3", "z"], None),
        (["z1", "z1"], None),
        (["ok", "bad\nid"], Some(2)),
    ] {
        let batch: Vec<_> = ids.iter().map(|id| request(id, None)).collect();
        let err = append_all(&mut *store, &model, &batch, 4).unwrap_err();
        match line {
            None => assert!(matches!(err, Error::RepeatedRequest { .. }), "{err}"),
            Some(n) => assert!(
                matches!(err, Error::StrictLine { line, .. } if line == n),
                "{err}"
            ),
        }
        assert_eq!(store.head("deploy_001").unwrap().unwrap().sequence, 13);
    }

    // An error from the acknowledgment stops the appends after the committed transaction.
    let more: Vec<_> = (0..6).map(|i| request(&format!("m{i}"), None)).collect();
    let err = pipeline::append_requests::<Error>(
        &mut *store,
        &model,
        "deploy_001",
        &more,
        2,
        &mut |_| Err(Error::NoReceipts),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NoReceipts), "{err}");
    assert_eq!(store.head("deploy_001").unwrap().unwrap().sequence, 15);

    // Another model, or an unknown deployment, is refused before anything is appended.
    assert!(matches!(
        append_all(&mut *store, "other@v1", &more, 2),
        Err(Error::NotStored { .. })
    ));
    assert!(matches!(
        pipeline::model_of(&*store, "no_such_deployment"),
        Err(Error::NotStored { .. })
    ));
    assert_eq!(store.head("deploy_001").unwrap().unwrap().sequence, 15);

    // An id given explicitly that a later line without one is then made (`inf_<sequence>`):
    // the later line's transaction is refused, and the error says whose id it was.
    let given = [request("u", Some("inf_000017"))];
    append_all(&mut *store, &model, &given, 1).unwrap();
    let err = append_all(&mut *store, &model, &[request("v", None)], 1).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateReceipt { id, count: 1, generated: true, .. } if id == "inf_000017"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("generated for a line without a receipt_id"),
        "{err}"
    );
    assert_eq!(store.head("deploy_001").unwrap().unwrap().sequence, 16);
}

/// A log exported as tiles verifies; one byte, size, key or index changed fails with the
/// right reason (tamper twins of `tlog_ops::tiles::verify_tiles` and the proof files).
#[test]
fn exported_tiles_and_proof_files_verify_and_their_tampered_twins_fail() {
    use lcm_store::log::Log;
    use lcm_store::tlog_ops::{self, OpsError, tiles};
    let s = Scratch::new("tiles");
    let store = recorded(&s, 260);
    let key = s.0.join("log.key");
    let files = tlog_ops::write_key_files(&key, false, Some("lcm.local/deploy_001"), false)
        .expect("key files");
    let vkey = files
        .vkey
        .as_ref()
        .expect("a named key has a verifier key")
        .to_string();
    let signer = tlog_ops::log_signer(&key, None, "deploy_001").expect("signer");
    let dir = s.0.join("tiles");
    let done = tiles::export_tiles(&*store, "deploy_001", &signer, &dir).expect("export");
    assert_eq!((done.size, done.bundles), (260, 2));
    let ok = tiles::verify_tiles(&dir, &vkey, None, None).expect("the tiles verify");
    assert_eq!(ok.checkpoint.checkpoint().size(), 260);
    // What the commands print about them.
    let (value, text) = files.summary(&key);
    assert_eq!(value["vkey"], vkey.as_str());
    assert!(text.starts_with(&format!(
        "private key {} (mode 0600)\npublic key  ",
        key.display()
    )));
    assert!(text.ends_with(&format!("\n             {vkey}")), "{text}");
    let (value, text) = done.summary(&dir, "lcm.local/deploy_001");
    assert_eq!(
        (value["size"].as_u64(), value["entry_bundles"].as_u64()),
        (Some(260), Some(2))
    );
    assert!(
        text.starts_with("exported the log of lcm.local/deploy_001 (size 260): "),
        "{text}"
    );
    let (value, text) = ok.summary();
    assert_eq!(value["root"], ok.root.to_string());
    assert!(
        text.starts_with("valid tiles: lcm.local/deploy_001 size 260, root "),
        "{text}"
    );
    assert!(!text.contains('\n'), "no --since, no entry: one line");
    let checkpoint = s.0.join("checkpoint");
    std::fs::write(&checkpoint, ok.checkpoint.to_text()).expect("write checkpoint");
    let verified = tlog_ops::verify_checkpoint(&checkpoint, &vkey, &[], 0, None, None)
        .expect("the checkpoint verifies");
    let (value, text) = verified.summary(0);
    assert_eq!(value["since"], serde_json::Value::Null);
    assert!(text.starts_with("valid checkpoint: origin lcm.local/deploy_001, size 260, root "));
    assert!(
        text.ends_with("; 0 of 0 witnesses cosigned (quorum 0)"),
        "{text}"
    );
    // A divergence prints both signed checkpoints as its evidence.
    let signed = ok.checkpoint;
    let diverged = OpsError::Diverged {
        word: "rollback",
        older: Box::new((s.0.join("older"), signed.clone())),
        newer: Box::new((checkpoint, signed.clone())),
        message: "rollback: ...".to_owned(),
    };
    let text = diverged.evidence(false).expect("evidence");
    let older = format!(
        "rollback evidence, older signed checkpoint ({}):\n",
        s.0.join("older").display()
    );
    assert!(text.starts_with(&older), "{text}");
    assert_eq!(text.matches(&signed.to_text()).count(), 2);
    let json: serde_json::Value =
        serde_json::from_str(&diverged.evidence(true).expect("evidence")).expect("json");
    assert_eq!(json["reason"], "rollback");
    assert_eq!(json["newer"]["checkpoint"], signed.to_text());
    let failed = |r: Result<tiles::TilesVerified, OpsError>| match r {
        Err(OpsError::Failed { message }) => message,
        other => panic!("expected a failed check, got {other:?}"),
    };
    // Another log key: the checkpoint's signature.
    let other = s.0.join("other.key");
    let other_vkey = tlog_ops::write_key_files(&other, false, Some("lcm.local/deploy_001"), false)
        .expect("other key")
        .vkey
        .expect("vkey")
        .to_string();
    assert!(failed(tiles::verify_tiles(&dir, &other_vkey, None, None)).starts_with("signature:"));
    // A receipt digest at another index: inclusion.
    let log = Log::open(&*store, "deploy_001").expect("log");
    let mut first = Vec::new();
    store
        .scan_receipts("deploy_001", 0, Some(3), &mut |r| {
            first.push(r);
            Ok(())
        })
        .expect("scan");
    let leaf0 = first[0].digest.to_string();
    let wrong = failed(tiles::verify_tiles(&dir, &vkey, None, Some((&leaf0, 1))));
    assert!(wrong.starts_with("inclusion:"), "{wrong}");
    tiles::verify_tiles(&dir, &vkey, None, Some((&leaf0, 0))).expect("entry 0 is included");
    // One byte of the first tile changed: its entries no longer hash to it.
    let tile = dir.join("tile/0/000");
    let mut bytes = std::fs::read(&tile).expect("tile");
    bytes[5] ^= 1;
    std::fs::write(&tile, &bytes).expect("write");
    assert!(failed(tiles::verify_tiles(&dir, &vkey, None, None)).starts_with("tiles: entry 0"));
    // The tile one hash short: its size.
    std::fs::write(&tile, &bytes[..bytes.len() - 32]).expect("write");
    assert!(failed(tiles::verify_tiles(&dir, &vkey, None, None)).contains("expected 256 hashes"));

    // A proof file of receipt 3 verifies; the same proof with another digest does not.
    let proof =
        tlog_ops::receipt_proof(&*store, &log, &first[3].receipt_id, None, Some(&key), None);
    let proof = proof.expect("proof");
    let path = s.0.join("proof");
    std::fs::write(&path, proof.to_text()).expect("write proof");
    let (d, p, v) = tlog_ops::verify_proof_file(&path, &vkey, &[], 0, None).expect("verifies");
    assert_eq!(p.index, 3);
    let (value, text) = tlog_ops::proof_summary(&d, &p, &v);
    assert_eq!(
        (value["index"].as_u64(), value["size"].as_u64()),
        (Some(3), Some(260))
    );
    assert!(
        text.starts_with(&format!(
            "valid proof: receipt {d} is entry 3 of lcm.local/deploy_001 (size 260"
        )),
        "{text}"
    );
    assert!(text.ends_with("); 0 witnesses cosigned"), "{text}");
    let r = tlog_ops::verify_proof_file(&path, &vkey, &[], 0, Some(&leaf0));
    assert!(matches!(r, Err(OpsError::Failed { message }) if message.starts_with("inclusion:")));
}

/// `export::header` and the capsules of `lcm materialize` read the chain's log tiles
/// (`O(log n)`); they must be byte for byte those made from the tree rebuilt over every
/// receipt, for the current header and an older one, and a tampered tile must not go unseen.
#[test]
fn headers_and_capsules_from_the_log_tiles_equal_those_of_the_rebuilt_tree() {
    use lcm_capsule::{MerkleLog, materialize_receipt, verify_capsule};
    let s = Scratch::new("chainlog");
    let (store, key) = recorded_with_key(&s, 300, 5);
    let at = Timestamp::from_unix_micros(1_700_000_000_000_000);
    let policy = store.policy().unwrap();
    let (header, log) = export::header(&*store, "deploy_001", at, &key).unwrap();
    let tree = export::receipt_log(&*store, "deploy_001", &policy).unwrap();
    let (lifecycle, batches) = export::load(&*store, "deploy_001").unwrap();
    let batches: Vec<_> = batches.into_iter().map(|b| b.batch).collect();
    let rebuilt = lifecycle
        .sign_header(&policy, &tree, &batches, at, &key)
        .unwrap();
    assert_eq!(
        header.to_json(None).unwrap(),
        rebuilt.to_json(None).unwrap()
    );
    assert_eq!(log.size(), 300);

    // An older header, over the first 100 receipts.
    let mut ids = Vec::new();
    store
        .scan_receipts("deploy_001", 0, None, &mut |r| {
            ids.push(r.receipt_id);
            Ok(())
        })
        .unwrap();
    let first = MerkleLog::from_digests(
        policy.hash_algorithm,
        (0..100).map(|i| tree.digest(i).unwrap()),
    )
    .unwrap();
    let old = lifecycle
        .sign_header(&policy, &first, &[], at, &key)
        .unwrap();
    for (h, index) in [
        (&header, 0usize),
        (&header, 1),
        (&header, 150),
        (&header, 299),
        (&old, 0),
        (&old, 57),
        (&old, 99),
    ] {
        let receipt = export::receipt(&*store, "deploy_001", &ids[index]).unwrap();
        let from_tiles = materialize_receipt(h, &*log, &receipt, None).unwrap();
        let from_tree = materialize_receipt(h, &tree, &receipt, None).unwrap();
        assert_eq!(
            from_tiles.to_json(None).unwrap(),
            from_tree.to_json(None).unwrap(),
            "receipt {index}"
        );
        verify_capsule(&from_tiles, h, &key.verifying_key()).unwrap();
    }
    // `receipt_capsule` (what `lcm serve` answers): the capsule of `lcm materialize`
    // against the header of `export::header`, byte for byte; an unknown receipt is refused.
    let (served_header, served) =
        export::receipt_capsule(&*store, "deploy_001", &ids[150], at, &key).unwrap();
    assert_eq!(
        served_header.to_json(None).unwrap(),
        header.to_json(None).unwrap()
    );
    let receipt = export::receipt(&*store, "deploy_001", &ids[150]).unwrap();
    assert_eq!(
        served.to_json(None).unwrap(),
        materialize_receipt(&header, &*log, &receipt, None)
            .unwrap()
            .to_json(None)
            .unwrap()
    );
    assert!(matches!(
        export::receipt_capsule(&*store, "deploy_001", "inf_none", at, &key),
        Err(Error::NoReceipt { .. })
    ));
    // A receipt past the older header is refused by both.
    let late = export::receipt(&*store, "deploy_001", &ids[100]).unwrap();
    assert!(materialize_receipt(&old, &*log, &late, None).is_err());
    assert!(materialize_receipt(&old, &tree, &late, None).is_err());
    drop(log);

    // One byte of leaf 7 in the first tile changed: that receipt's capsule is refused (its
    // leaf is not its receipt's hash), and the log's audit (`lcm check`) names the tile.
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    let mut hashes: Vec<u8> = conn
        .query_row(
            "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    hashes[7 * 32 + 3] ^= 1;
    conn.execute_batch("DROP TRIGGER log_tiles_only_grow")
        .unwrap();
    conn.execute(
        "UPDATE log_tiles SET hashes = ?1 WHERE level = 0 AND idx = 0",
        [&hashes],
    )
    .unwrap();
    drop(conn);
    let log = export::chain_log(&*store, "deploy_001", &policy).unwrap();
    let seventh = export::receipt(&*store, "deploy_001", &ids[7]).unwrap();
    let refused = materialize_receipt(&header, &*log, &seventh, None).unwrap_err();
    assert!(refused.to_string().contains("log leaf 7"), "{refused}");
    let audit = lcm_store::log::audit(&*store, "deploy_001").unwrap_err();
    assert!(audit.to_string().contains("log tile"), "{audit}");
    // The root is read from the level-1 tile above (the full tile's subtree root), so the
    // header is still the receipts' one; only the leaf's own capsule could be misled, and
    // it is refused above.
    let (again, _) = export::header(&*store, "deploy_001", at, &key).unwrap();
    assert_eq!(again.to_json(None).unwrap(), header.to_json(None).unwrap());
}

/// The lean receipt row (schema 7) stores no JSON: `lcm check` recomputes each receipt's
/// digest from the JSON rebuilt from its columns, so an edit of any column of one receipt
/// is found (tamper twins, one per column; the append-only trigger dropped for the edit).
#[test]
fn check_finds_an_edit_of_every_receipt_column() {
    let s = Scratch::new("columns");
    let store = recorded(&s, 4);
    let report = lcm_store::check::check_store(&*store, &mut |_| {}).expect("clean store");
    assert_eq!(report.receipts, 4);
    // Closing the last connection checkpoints the WAL into the file copied below.
    drop(store);
    let edits = [
        "receipt_id = 'inf_x'",
        "request_id = 'other'",
        "digest = zeroblob(32)",
        "prev = zeroblob(32)",
        "timestamp = timestamp + 1",
        "model_anchor = zeroblob(32)",
        "deployment_anchor = zeroblob(32)",
        "input_scheme = (input_scheme + 1) % 3",
        "input_value = zeroblob(32)",
        "input_metadata = '{\"a\":1}'",
        "input_plaintext = 'x'",
        "output_scheme = (output_scheme + 1) % 3",
        "output_value = zeroblob(32)",
        "output_metadata = '{\"b\":2}'",
        "output_plaintext = 'x'",
        "explanations = zeroblob(32)",
    ];
    for (i, edit) in edits.iter().enumerate() {
        let copy = s.0.join(format!("copy{i}.db"));
        std::fs::copy(s.db(), &copy).expect("copy");
        let conn = rusqlite::Connection::open(&copy).expect("open copy");
        conn.execute_batch(&format!(
            "DROP TRIGGER receipts_no_update; \
             UPDATE receipts SET {edit} WHERE key = (SELECT min(key) + 1 FROM receipts);"
        ))
        .expect(edit);
        drop(conn);
        let store = lcm_store::open(&copy).expect("open");
        let failure = lcm_store::check::check_store(&*store, &mut |_| {})
            .expect_err(edit)
            .to_string();
        assert!(!failure.contains("trigger"), "{edit}: {failure}");
    }
}

/// Every receipt shape (metadata, plaintext and HMAC commitments, explanation digests, a
/// first receipt without a previous one) comes back from the lean row as the same
/// `StoredReceipt`, byte-identical JSON included, through a scan and a lookup by id.
#[test]
fn lean_rows_give_back_every_receipt_shape_byte_for_byte() {
    use lcm_crypto::{CommitmentScheme, Digest};
    use lcm_model::canonical;
    use lcm_model::records::{InferenceCommitment, InferenceReceipt};
    let s = Scratch::new("shapes");
    let (mut store, _) = lcm_store::init(&s.db(), &Policy::default()).expect("init");
    store.open_chain("dep").expect("chain");
    let meta: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"confidence":0.95,"labels":["a","b"],"n":{"deep":[1,2.5,null,true]},"t":"é\u0001"}"#,
    )
    .expect("metadata");
    let commitment =
        |scheme, metadata: &serde_json::Map<_, _>, plaintext: Option<&str>| InferenceCommitment {
            scheme,
            value: Digest::from_bytes([7; 32]),
            metadata: metadata.clone(),
            plaintext: plaintext.map(str::to_owned),
        };
    let empty = serde_json::Map::new();
    let shapes = [
        (
            commitment(CommitmentScheme::Salted, &empty, None),
            commitment(CommitmentScheme::Salted, &meta, None),
            vec![],
        ),
        (
            commitment(CommitmentScheme::Plaintext, &meta, Some("the query")),
            commitment(CommitmentScheme::Hmac, &empty, None),
            vec![Digest::from_bytes([4; 32])],
        ),
        (
            commitment(CommitmentScheme::Hmac, &meta, None),
            commitment(CommitmentScheme::Plaintext, &empty, Some("")),
            vec![Digest::from_bytes([5; 32]), Digest::from_bytes([6; 32])],
        ),
    ];
    let mut made = Vec::new();
    let mut prev = None;
    for (i, (input, output, explanations)) in shapes.into_iter().enumerate() {
        let sequence = u64::try_from(i).unwrap();
        let record = InferenceReceipt {
            receipt_id: format!("inf_{i}"),
            sequence,
            model_anchor: Digest::from_bytes([1; 32]),
            deployment_anchor: Digest::from_bytes([2; 32]),
            request_id: format!("req \"{i}\""),
            input_commitment: input,
            output_commitment: output,
            explanation_digests: explanations,
            prev_receipt: prev,
            timestamp: Timestamp::from_unix_micros(
                1_700_000_000_123_456 + i64::try_from(i).unwrap(),
            ),
        };
        let digest = Digest::from_bytes([u8::try_from(10 + i).unwrap(); 32]);
        prev = Some(digest);
        made.push(StoredReceipt {
            sequence,
            receipt_id: record.receipt_id.clone(),
            digest,
            timestamp: record.timestamp.unix_micros(),
            json: canonical::to_string(&record).expect("json"),
        });
    }
    store
        .append_receipts("dep", &mut |_| Ok(made.clone()))
        .expect("append");
    let mut scanned = Vec::new();
    store
        .scan_receipts("dep", 0, None, &mut |r| {
            scanned.push(r);
            Ok(())
        })
        .expect("scan");
    assert_eq!(scanned, made);
    for r in &made {
        assert_eq!(
            store.receipt("dep", &r.receipt_id).expect("read").as_ref(),
            Some(r)
        );
    }
    assert_eq!(
        store
            .known_request("dep", &["nope", "req \"1\""])
            .expect("known"),
        Some("req \"1\"".to_owned())
    );
    assert_eq!(store.known_request("dep", &["nope"]).expect("known"), None);
}

/// A header names its log origin (signed); one made by an earlier version (no field) is
/// compared as before: it takes the checkpoint's origin, else `lcm.local/DEPLOYMENT`.
#[test]
fn headers_name_their_log_origin_and_earlier_headers_keep_the_derived_one() {
    use lcm_store::tlog_ops::{self, OpsError};
    let s = Scratch::new("origin");
    let (store, key) = recorded_with_key(&s, 5, 3);
    let at = Timestamp::from_unix_micros(7);
    let (named, _) =
        export::header_named(&*store, "deploy_001", Some("example.com/log"), at, &key).unwrap();
    assert_eq!(named.log_origin.as_deref(), Some("example.com/log"));
    lcm_capsule::verify_header(&named, &key.verifying_key()).expect("signed with its origin");
    let mut tampered = named.clone();
    tampered.log_origin = Some("example.com/lcm".to_owned());
    assert!(lcm_capsule::verify_header(&tampered, &key.verifying_key()).is_err());
    let cp = tlog_ops::header_checkpoint(&named, Some("example.com/log"), "h").unwrap();
    assert_eq!((cp.origin(), cp.size()), ("example.com/log", 5));
    let e = tlog_ops::header_checkpoint(&named, Some("lcm.local/deploy_001"), "h").unwrap_err();
    assert!(
        matches!(&e, OpsError::Failed { message } if message.starts_with("origin: h names the log origin example.com/log, the checkpoint is of lcm.local/deploy_001")),
        "{e}"
    );
    let (default, _) = export::header(&*store, "deploy_001", at, &key).unwrap();
    assert_eq!(default.log_origin.as_deref(), Some("lcm.local/deploy_001"));
    assert!(export::header_named(&*store, "deploy_001", Some("bad origin\n"), at, &key).is_err());
    // An earlier version's header: no field, not in its signed bytes.
    let mut legacy = named;
    legacy.log_origin = None;
    legacy.sign(&key).unwrap();
    assert!(!legacy.to_json(None).unwrap().contains("log_origin"));
    lcm_capsule::verify_header(&legacy, &key.verifying_key()).expect("verifies as before");
    let cp = tlog_ops::header_checkpoint(&legacy, None, "h").unwrap();
    assert_eq!(cp.origin(), "lcm.local/deploy_001");
    let cp = tlog_ops::header_checkpoint(&legacy, Some("example.org/x"), "h").unwrap();
    assert_eq!(cp.origin(), "example.org/x");
}

/// `check_header_of` accepts the store's own header and refuses one with a single field
/// changed, naming that field: each field it compares, one at a time.
#[test]
fn a_header_with_one_field_changed_is_refused_naming_the_field() {
    use lcm_capsule::CapsuleHeader;
    let s = Scratch::new("foreign-field");
    let (store, key) = recorded_with_key(&s, 3, 4);
    let at = Timestamp::from_unix_micros(9);
    let (own, _) = export::header(&*store, "deploy_001", at, &key).expect("header");
    assert!(export::check_header_of(&*store, "deploy_001", &own).is_ok());
    type Change = fn(&mut CapsuleHeader);
    let changes: [(&str, Change); 9] = [
        ("policy", |h| {
            h.policy_digest = lcm_crypto::Digest::from_bytes([9; 32]);
        }),
        ("stage_a_dataset", |h| h.stage_a_dataset = None),
        ("stage_b_model", |h| h.stage_b_model = None),
        ("stage_c_training", |h| h.stage_c_training = None),
        ("stage_d_predeployment", |h| h.stage_d_predeployment = None),
        ("stage_f_test_evaluation", |h| {
            h.stage_f_test_evaluation = None;
        }),
        ("synthetic", |h| h.synthetic = Some("a demo".to_owned())),
        ("stage_e_deployment", |h| h.stage_e_deployment = None),
        ("stage_g_inference", |h| h.stage_g_inference = None),
    ];
    for (field, change) in changes {
        let mut given = own.clone();
        change(&mut given);
        let e = export::check_header_of(&*store, "deploy_001", &given).err();
        assert!(
            matches!(&e, Some(Error::ForeignHeader { field: f, .. }) if *f == field),
            "{field}: {e:?}"
        );
    }
}
