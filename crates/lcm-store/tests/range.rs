//! Range documents (`lcm export --from-seq/--to-seq`, `--since/--until`) on every backend: the
//! span a time window selects when timestamps do not grow with the sequence, the lifecycle
//! records that authenticate the deployment (with tamper twins, each its typed failure), and
//! the reads a range costs (`O(k log n)`, not `O(n)`).

use lcm_crypto::{Digest, Seed};
use lcm_managers::{ReceiptChain, ReceiptFields};
use lcm_model::policy::DomainType;
use lcm_model::records::{DeploymentAnchor, PreDeploymentAnchor};
use lcm_model::{Policy, Record, Timestamp};
use lcm_store::tlog_ops::OpsError;
use lcm_store::tlog_ops::range::{self, RangeFailure, RangeWritten};
use lcm_store::{NewReceipt, Store};
use lcm_tlog::note::{KeyName, SignatureType, SignerKey};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::conformance::{DEPLOYMENT, Fixture, recorded};

const T0: i64 = 1_800_000_000_000_000;

fn signer() -> (SignerKey, lcm_crypto::VerifyingKey) {
    let key = lcm_crypto::SigningKey::from_seed(&Seed::from_bytes([9; 32]));
    let name = KeyName::new("example.com/lcm").expect("test fixture");
    let public = key.verifying_key();
    (SignerKey::new(name, SignatureType::Ed25519, key), public)
}

/// Appends receipts made at `T0 + offsets[i]` microseconds (in this order) to the chain, each
/// with `metadata` on its query's commitment.
fn append_at(store: &mut dyn Store, offsets: &[i64], metadata: &Map<String, Value>) {
    let policy = store.policy().expect("test fixture");
    let seed = store
        .chain_seed(DEPLOYMENT)
        .expect("test fixture")
        .expect("test fixture");
    let head = store
        .head(DEPLOYMENT)
        .expect("test fixture")
        .expect("test fixture");
    let mut first = None;
    store
        .scan_receipts(DEPLOYMENT, 0, Some(0), &mut |r| {
            first = Some(r);
            Ok(())
        })
        .expect("test fixture");
    let first: lcm_model::records::InferenceReceipt =
        serde_json::from_str(&first.expect("test fixture").json).expect("test fixture");
    let mut chain = ReceiptChain::from_seed(&policy, &seed);
    chain
        .set_head(Some(head.digest), head.sequence + 1)
        .expect("test fixture");
    let mut made = Vec::new();
    for (i, offset) in offsets.iter().enumerate() {
        let id = format!("late_{i}");
        let (sealed, json) = chain
            .append_encoded(ReceiptFields {
                receipt_id: &id,
                model_anchor: first.model_anchor,
                deployment_anchor: first.deployment_anchor,
                request_id: &id,
                query: "q",
                output: "o",
                input_metadata: metadata.clone(),
                output_metadata: Default::default(),
                explanation_digests: Vec::new(),
                timestamp: Timestamp::from_unix_micros(T0 + offset),
            })
            .expect("test fixture");
        let json = String::from_utf8(json.to_vec()).expect("test fixture");
        made.push(NewReceipt::sealed(sealed, json));
    }
    let mut made = Some(made);
    store
        .append_new_receipts(DEPLOYMENT, &mut |_, _| Ok(made.take().unwrap_or_default()))
        .expect("test fixture");
}

fn export_time(store: &dyn Store, window: (i64, i64)) -> Result<(RangeWritten, String), OpsError> {
    let (signer, _) = signer();
    let mut out = Vec::new();
    let made = range::write_time_range(store, DEPLOYMENT, window, &signer, &mut out)?;
    Ok((made, String::from_utf8_lossy(&out).into_owned()))
}

fn export_seq(store: &dyn Store, span: (u64, u64)) -> (RangeWritten, String) {
    let (signer, _) = signer();
    let mut out = Vec::new();
    let made =
        range::write_range(store, DEPLOYMENT, span, &signer, &mut out).expect("test fixture");
    (made, String::from_utf8(out).expect("test fixture"))
}

fn verify(text: &str) -> Result<range::RangeVerified, OpsError> {
    range::verify_range(text, &signer().1)
}

/// The message of a document refused as not well-formed (`Invalid`) or as failing a check
/// (`Failed`), led by the check's name (another refusal is named as such).
fn refused(text: &str) -> String {
    match verify(text).expect_err("a refused document") {
        OpsError::Invalid { what } => what,
        OpsError::Failed { message } => message,
        other => format!("another refusal: {other:?}"),
    }
}

/// The typed failure of a tampered document.
fn failure(text: &str) -> RangeFailure {
    verify(text)
        .err()
        .and_then(|e| match e {
            OpsError::Range(f) => Some(*f),
            _ => None,
        })
        .expect("a range failure")
}

/// The range failure of verifying `text`, asserted to match the pattern (and guard).
macro_rules! assert_fails {
    ($text:expr, $($pattern:tt)+) => {{
        let f = failure($text);
        assert!(matches!(&f, $($pattern)+), "{f}");
        f
    }};
}

fn edit(text: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut doc: Value = serde_json::from_str(text).expect("test fixture");
    change(&mut doc);
    serde_json::to_string(&doc).expect("test fixture")
}

/// Parses the record of `stage` in a document's lifecycle, changes it, and writes it back with
/// its digest recomputed: an edit resealed by someone who holds no key.
fn reseal<T>(doc: &mut Value, stage: &str, policy: &Policy, change: impl FnOnce(&mut T))
where
    T: Record + DeserializeOwned,
{
    let at = &mut doc["lifecycle"][stage];
    let mut record: T = serde_json::from_value(at["record"].clone()).expect("test fixture");
    change(&mut record);
    at["digest"] = record.digest(policy).expect("test fixture").to_hex().into();
    at["record"] = serde_json::to_value(&record).expect("test fixture");
}

/// A time window over receipts whose timestamps go back and forth: the document holds the
/// smallest span covering every receipt made in the window, the verifier counts those of the
/// span inside it and refuses a span whose ends lie outside; bad windows are refused.
#[test]
fn time_ranges_cover_the_window_when_timestamps_are_not_monotone_on_every_backend() {
    for f in Fixture::all("range-time") {
        let mut store = recorded(&f, 4);
        // Sequence numbers 4..=9.
        append_at(&mut *store, &[0, 10, 5, 20, 1, 30], &Map::new());
        let at = |us: i64| T0 + us;
        for (window, span, inside) in [
            ((at(5), at(10)), (5, 6), 2),
            ((at(1), at(5)), (6, 8), 2),
            ((at(0), at(1)), (4, 8), 2),
            ((at(30), i64::MAX), (9, 9), 1),
            ((at(0), at(30)), (4, 9), 6),
        ] {
            let (made, text) = export_time(&*store, window).unwrap();
            assert_eq!(made.range, span, "{window:?} {:?}", f.backend());
            assert_eq!(made.in_window, inside);
            let v = verify(&text).unwrap();
            assert_eq!((v.from, v.to, v.in_window), (span.0, span.1, inside));
            assert_eq!(v.deployment, DEPLOYMENT);
            assert!(v.window.is_some());
            let (value, line) = v.summary(std::path::Path::new("r.json"));
            assert_eq!(value["in_window"], inside);
            assert!(
                line.contains(&format!("; {inside} of them made in [")),
                "{line}"
            );
        }
        // The window edited so that the span's last receipt (made at +1) lies outside it ...
        let (_, text) = export_time(&*store, (at(1), at(5))).unwrap();
        let later = edit(&text, |d| {
            d["window"]["since"] = Timestamp::from_unix_micros(at(2)).to_string().into();
        });
        let f8 = assert_fails!(&later, RangeFailure::Window { sequence: 8, .. });
        assert!(f8.to_string().starts_with("window: receipt late_4"), "{f8}");
        // ... and so that its first one (made at +5) does.
        let earlier = edit(&text, |d| {
            d["window"]["until"] = Timestamp::from_unix_micros(at(4)).to_string().into();
        });
        assert_fails!(&earlier, RangeFailure::Window { sequence: 6, .. });
        // Bad windows: reversed, and empty.
        let e = export_time(&*store, (at(5), at(4))).unwrap_err();
        assert!(
            matches!(&e, OpsError::Invalid { what } if what.contains("is after --until")),
            "{e}"
        );
        let e = export_time(&*store, (at(40), i64::MAX)).unwrap_err();
        assert!(
            matches!(&e, OpsError::Invalid { what } if what.starts_with("no receipt of deployment deploy_001 was made in [")),
            "{e}"
        );
    }
}

/// The lifecycle records authenticate the deployment: each edit fails with its typed failure.
#[test]
fn range_lifecycle_records_authenticate_the_deployment() {
    let f = Fixture::sqlite("range-lifecycle");
    let store = recorded(&f, 12);
    let (_, text) = export_seq(&*store, (3, 7));
    let v = verify(&text).unwrap();
    assert_eq!(v.deployment, DEPLOYMENT);
    assert_eq!(v.in_window, 5);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["range_version"], "lcm-range/2");
    assert_eq!(doc["window"], Value::Null);
    // A document of the format before (no lifecycle records) is named by its version.
    let v1 = edit(&text, |d| {
        let o = d.as_object_mut().unwrap();
        o.remove("lifecycle");
        o.remove("window");
        o.insert("range_version".to_owned(), "lcm-range/1".into());
    });
    let e = verify(&v1).unwrap_err();
    assert!(
        matches!(&e, OpsError::Invalid { what } if what == "range_version \"lcm-range/1\", expected \"lcm-range/2\""),
        "{e}"
    );
    // The document's name edited.
    let named = edit(&text, |d| d["deployment"] = "deploy_002".into());
    assert_fails!(
        &named,
        RangeFailure::DeploymentName { named, record }
            if named == "deploy_002" && record == DEPLOYMENT
    );
    // The deployment record's name edited (its seal no longer matches) ...
    let renamed = edit(&text, |d| {
        d["lifecycle"]["deployment"]["record"]["deployment_id"] = "deploy_002".into();
        d["deployment"] = "deploy_002".into();
    });
    let f1 = assert_fails!(
        &renamed,
        RangeFailure::Seal {
            which: "deployment",
            ..
        }
    );
    assert!(
        f1.to_string()
            .starts_with("seal: the document's deployment record")
    );
    // ... and resealed: the receipts carry the old record's digest.
    let policy = store.policy().unwrap();
    let resealed = edit(&renamed, |d| {
        reseal(d, "deployment", &policy, |_: &mut DeploymentAnchor| {});
    });
    assert_fails!(
        &resealed,
        RangeFailure::Anchor {
            sequence: 3,
            field: "deployment_anchor",
            ..
        }
    );
    // The pre-deployment and model records: an edit of each, and a record swapped for another.
    let pre = edit(&text, |d| {
        d["lifecycle"]["predeployment"]["record"]["intended_region"] = "mars".into();
    });
    assert_fails!(
        &pre,
        RangeFailure::Seal {
            which: "predeployment",
            ..
        }
    );
    let model = edit(&text, |d| {
        d["lifecycle"]["model"]["record"]["kdf_iterations"] = 1.into();
    });
    assert_fails!(&model, RangeFailure::Seal { which: "model", .. });
    let swapped = edit(&text, |d| {
        d["lifecycle"]["predeployment"] = d["lifecycle"]["model"].clone();
    });
    assert!(
        verify(&swapped).is_err(),
        "a model record is no pre-deployment record"
    );
    // The model record's digest named by the pre-deployment record, changed with a resealed
    // pre-deployment record: the link to the model record breaks.
    let relinked = edit(&text, |d| {
        reseal(
            d,
            "predeployment",
            &policy,
            |r: &mut PreDeploymentAnchor| {
                r.model_anchor = Digest::from_bytes([7; 32]);
            },
        );
    });
    assert_fails!(
        &relinked,
        RangeFailure::Link {
            from: "deployment",
            to: "predeployment",
            ..
        }
    );
}

/// A range export reads `O(k log n)` (in fact `O((k / 256 + 1) log n)`: proofs of leaves in
/// one level-0 tile share their tile reads): `k + 1` receipt rows and a few tiles per tile
/// level per 256 receipts, whatever the chain's length (two stores, 16 times apart).
#[test]
fn a_range_reads_k_log_n_not_n() {
    let reads = |n: u64, k: u64| {
        let f = Fixture::sqlite(&format!("range-reads-{n}-{k}"));
        let store = recorded(&f, n);
        let from = n / 2 - k / 2;
        let (made, text) = export_seq(&*store, (from, from + k - 1));
        verify(&text).unwrap();
        assert_eq!(made.rows_read, k + 1, "n {n} k {k}");
        made.tiles_read
    };
    let (small, large) = (reads(400, 10), reads(6_400, 10));
    let (small_k, large_k) = (reads(400, 300), reads(6_400, 1_000));
    eprintln!(
        "tiles read: k 10: {small} (n 400), {large} (n 6,400); k 300 of 400: {small_k}; k 1,000 of 6,400: {large_k}"
    );
    // Two tile levels in both stores (more than 256 leaves, fewer than 65,536): the root reads
    // at most 2 tiles a level, and each run of proofs within one level-0 tile (k / 256 + 2
    // runs) at most 2 tiles a level too.
    let bound = |k: u64| 2 * 2 * (1 + k / 256 + 2);
    for (t, k) in [(small, 10), (large, 10), (small_k, 300), (large_k, 1_000)] {
        assert!(t <= bound(k), "{t} tiles for {k} receipts");
    }
    // Not O(n): 16 times the receipts, the same reads.
    assert!(
        large <= small + 2,
        "{small} tiles for 400 receipts, {large} for 6,400"
    );
}

/// The `Prover`'s proofs are the log's own, for every leaf of a long run, and what it holds
/// stays bounded (the run of one level-0 tile) however many leaves it proves.
#[test]
fn the_prover_gives_the_logs_proofs_in_bounded_memory() {
    let f = Fixture::sqlite("range-prover");
    let store = recorded(&f, 3_000);
    let log = lcm_store::log::Log::open(&*store, DEPLOYMENT).unwrap();
    let size = log.size();
    let mut prover = log.prover(size).unwrap();
    let mut most = 0;
    for i in 0..size {
        assert_eq!(
            prover.proof(i).unwrap(),
            log.inclusion_proof(i, size).unwrap(),
            "leaf {i}"
        );
        most = most.max(prover.held());
    }
    eprintln!("most hashes held: {most}");
    // 256 leaves of a run, their parents (128 + 64 + ...) and the siblings above the tile.
    assert!(most <= 2 * 256 + 64, "{most} hashes held");
    assert!(prover.proof(size).is_err());
    assert!(log.prover(size + 1).is_err());
}

/// Every field of a range document is authenticated, checked against what is, or refused.
/// The first twins (the policy's unauthenticated fields, keys given twice, inexact numbers)
/// verified before `verify_range` checked them; the others pin the checks of the counts,
/// bounds and predecessor.
#[test]
fn every_field_of_a_range_document_is_bound_or_refused() {
    let f = Fixture::sqlite("range-fields");
    let mut store = recorded(&f, 4);
    let mut metadata = Map::new();
    metadata.insert("note".to_owned(), "kept".into());
    metadata.insert("ratio".to_owned(), 0.1.into());
    // Sequence numbers 4 and 5, with metadata on their query's commitment.
    append_at(&mut *store, &[0, 1], &metadata);
    let (_, text) = export_seq(&*store, (3, 5));
    verify(&text).unwrap();
    let (_, meta_text) = export_seq(&*store, (4, 5));
    verify(&meta_text).unwrap();

    // The policy's commitment scheme: bound by every receipt's commitments.
    let scheme = edit(&text, |d| {
        let other = if d["policy"]["commitments"] == "salted" {
            "HMAC-SHA256"
        } else {
            "salted"
        };
        d["policy"]["commitments"] = other.into();
    });
    let f1 = assert_fails!(
        &scheme,
        RangeFailure::PolicyCommitments {
            sequence: 3,
            which: "input",
            ..
        }
    );
    assert!(f1.to_string().starts_with("policy: receipt "), "{f1}");
    // The record kinds it allows: the document carries inference receipts.
    let domains = edit(&text, |d| {
        d["policy"]["domains"] = json!(["dataset", "model", "deployment"]);
    });
    assert_fails!(
        &domains,
        RangeFailure::PolicyDomain {
            domain: DomainType::Inference
        }
    );
    // A PBKDF2 cost below the floor, and a non-native schema version.
    let cheap = edit(&text, |d| d["policy"]["kdf_iterations"] = 1.into());
    assert!(
        refused(&cheap).starts_with("policy: "),
        "{}",
        refused(&cheap)
    );
    let schema = edit(&text, |d| d["policy"]["schema_version"] = 2.into());
    assert!(refused(&schema).starts_with("policy: "));

    // A key given twice in a receipt's metadata: serde keeps the last (the proved one), a
    // reader keeping the first sees "forged".
    let twice = meta_text.replacen(
        "\"note\":\"kept\"",
        "\"note\":\"forged\",\"note\":\"kept\"",
        1,
    );
    assert_ne!(twice, meta_text);
    let why = refused(&twice);
    assert!(
        why.starts_with("range document: ") && why.contains("duplicate key \"note\""),
        "{why}"
    );
    // A number written with more digits than its float holds (read as the proved 0.1).
    let inexact = meta_text.replacen("\"ratio\":0.1", "\"ratio\":0.10000000000000000001", 1);
    assert_ne!(inexact, meta_text);
    let why = refused(&inexact);
    assert!(why.contains("does not survive a round trip"), "{why}");

    // No receipts, one too many, a range past the checkpoint or reversed.
    let empty = edit(&text, |d| d["receipts"] = json!([]));
    assert_eq!(
        refused(&empty),
        "range: 0 receipts for sequence numbers 3..=5"
    );
    let extra = edit(&text, |d| {
        let last = d["receipts"][2].clone();
        d["receipts"].as_array_mut().unwrap().push(last);
    });
    assert_eq!(
        refused(&extra),
        "range: 4 receipts for sequence numbers 3..=5"
    );
    let past = edit(&extra, |d| d["to_seq"] = 6.into());
    assert_eq!(
        refused(&past),
        "range: 3..=6 is not in the checkpoint of size 6"
    );
    let reversed = edit(&text, |d| d["from_seq"] = 6.into());
    assert!(refused(&reversed).starts_with("range: 6..=5"));
    // The predecessor dropped, or given for a range that starts the chain.
    let orphan = edit(&text, |d| d["previous"] = Value::Null);
    assert!(refused(&orphan).starts_with("chain: the predecessor must be given"));
    let (_, first) = export_seq(&*store, (0, 1));
    let adopted = edit(&first, |d| {
        d["previous"] = serde_json::from_str::<Value>(&text).unwrap()["previous"].clone();
    });
    assert!(refused(&adopted).starts_with("chain: the predecessor must be given"));
    // Another receipt's proof (index 3) given for the predecessor (index 2).
    let moved = edit(&text, |d| {
        d["previous"]["proof"] = d["receipts"][0]["proof"].clone();
    });
    assert!(refused(&moved).starts_with("inclusion: the predecessor (sequence 2)"));
    // An unknown field, at the top and in a receipt's entry.
    let unknown = edit(&text, |d| d["note"] = "x".into());
    assert!(refused(&unknown).starts_with("not a range document: unknown field"));
    let unknown = edit(&text, |d| d["receipts"][1]["note"] = "x".into());
    assert!(refused(&unknown).starts_with("not a range document: unknown field"));
}
