//! Unit tests of the demo lifecycle.

use super::*;

/// A fresh store in a temporary directory of its own (removed by the caller), under a
/// policy with the lowest PBKDF2 cost so that the tests stay fast.
pub(crate) fn fresh_store(name: &str) -> (Box<dyn Store>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("lcm-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let policy = lcm_model::Policy {
        kdf_iterations: lcm_model::policy::MIN_KDF_ITERATIONS,
        ..lcm_model::Policy::default()
    };
    let (store, created) = crate::init(&dir.join("lcm.db"), &policy).unwrap();
    assert!(created);
    (store, dir)
}

/// [`fresh_store`] with the demo lifecycle and `receipts` receipts recorded: the store, its
/// folder (removed by the caller), the demo's deployment and a signing key.
pub(crate) fn demo_store(
    name: &str,
    receipts: u64,
) -> (Box<dyn Store>, std::path::PathBuf, String, SigningKey) {
    let (mut store, dir) = fresh_store(name);
    let run = record_demo(&mut *store, receipts, &mut |_| {}).unwrap();
    let key = SigningKey::from_seed(&lcm_crypto::Seed::from_bytes([3; 32]));
    (store, dir, run.deployment, key)
}

#[test]
fn the_demo_appends_its_receipts_in_windows_and_refuses_a_second_run() {
    let (mut store, dir) = fresh_store("demo");
    assert!(!holds_demo(&*store).unwrap());
    let mut heard = Vec::new();
    let run = record_demo(&mut *store, 7, &mut |n| heard.push(n)).unwrap();
    // 7 receipts in windows of 2: 2, 4, 6, 7, each window sealed.
    assert_eq!(heard, [2, 4, 6, 7]);
    assert_eq!((run.receipts, run.batches), (7, 4));
    assert_eq!(run.head.map(|h| h.sequence), Some(6));
    assert_eq!(store.head(&run.deployment).unwrap(), run.head);
    assert!(
        run.records
            .iter()
            .any(|r| r.kind == DatasetFamilyAnchor::KIND)
    );
    assert!(holds_demo(&*store).unwrap());
    // The store holds it: a second run is refused, and nothing is appended.
    assert!(record_demo(&mut *store, 7, &mut |_| {}).is_err());
    assert_eq!(store.head(&run.deployment).unwrap(), run.head);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_receipts_means_no_batch_and_no_head() {
    let (mut store, dir) = fresh_store("demo-empty");
    let run = record_demo(&mut *store, 0, &mut |_| panic!("no progress")).unwrap();
    assert_eq!((run.receipts, run.batches, run.head), (0, 0, None));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_signing_key_is_made_once_then_reused() {
    let dir = std::env::temp_dir().join(format!("lcm-store-demo-key-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("signing.key");
    let first = signing_key(&path).unwrap();
    assert!(dir.join("signing.key.pub").exists());
    assert_eq!(signing_key(&path).unwrap().key_id(), first.key_id());
    // A key file that is not a key is refused, not replaced.
    std::fs::write(&path, "not a key\n").unwrap();
    assert!(signing_key(&path).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_artefacts_verify_reuse_the_key_and_name_every_stage() {
    let (mut store, dir) = fresh_store("demo-artefacts");
    let run = record_demo(&mut *store, 3, &mut |_| {}).unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let now = lcm_model::Timestamp::now();
    let files = write_artefacts(&*store, &run, &out, now).unwrap();
    let bundle_text = std::fs::read_to_string(&files.bundle_path).unwrap();
    assert_eq!(bundle_text.len(), files.bundle_bytes + 1);
    let header_text = std::fs::read_to_string(&files.header_path).unwrap();
    let header = lcm_capsule::CapsuleHeader::from_json(&header_text).unwrap();
    assert_eq!(
        header.digest().unwrap(),
        files.bundle.header.digest().unwrap()
    );
    // The bundle on disk verifies with the public key written beside the private one.
    let public =
        crate::files::read_verifying_key(&crate::files::pub_path(&files.key_path)).unwrap();
    let requirements = lcm_capsule::PolicyRequirements::default();
    assert!(lcm_capsule::verify_bundle_json(&bundle_text, &public, &requirements).is_ok());
    // One byte of a digest changed: it no longer verifies.
    let root = files.bundle.lifecycle.release.record.root.to_string();
    let flipped = root.replacen(&root[..1], if &root[..1] == "0" { "1" } else { "0" }, 1);
    let tampered = bundle_text.replacen(&root, &flipped, 1);
    assert_ne!(tampered, bundle_text);
    assert!(lcm_capsule::verify_bundle_json(&tampered, &public, &requirements).is_err());

    let lines = files.summary_lines(&dir.join("lcm.db"), &run);
    assert_eq!(lines.len(), 10);
    assert!(
        lines[6].starts_with("  G inference 3 receipts in 3 batches"),
        "{}",
        lines[6]
    );
    assert!(lines[7].ends_with(&root));
    let json = files.summary_json(&dir.join("lcm.db"), &run);
    assert_eq!(json["receipts"], 3);
    assert_eq!(json["key_id"], files.key.key_id().to_hex());
    // A second run reuses the key.
    let again = write_artefacts(&*store, &run, &out, now).unwrap();
    assert_eq!(again.key.key_id(), files.key.key_id());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
