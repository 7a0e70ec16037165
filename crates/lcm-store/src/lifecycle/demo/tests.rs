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
