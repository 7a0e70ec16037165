//! Integration tests of `lcm-store` through its public, backend-neutral interface: a store is
//! opened as `Box<dyn Store>` and everything runs on the trait object.

use std::path::PathBuf;

use lcm_capsule::{PolicyRequirements, verify_bundle};
use lcm_crypto::{Seed, SigningKey};
use lcm_model::records::{ModelAnchor, ReleaseRoot};
use lcm_model::{Policy, Record as _, Timestamp};
use lcm_store::lifecycle::{self, EXAMPLE, Passwords};
use lcm_store::{Error, Store, export, pipeline};

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
    let store = recorded(&s, 6);
    let key = SigningKey::from_seed(&Seed::from_bytes([3; 32]));
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
        lcm_store::open(&PathBuf::from("postgres://db.example/lcm")),
        Err(Error::UnsupportedBackend { scheme }) if scheme == "postgres"
    ));
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
