//! Unit tests of the store views.

use super::*;
use crate::lifecycle::demo;

#[test]
fn kinds_are_record_kinds_or_views_in_either_number() {
    for (given, expected) in [
        ("receipt", ListKind::Receipts),
        ("inference-receipts", ListKind::Receipts),
        ("lifecycle", ListKind::Lifecycles),
        ("deployments", ListKind::Deployments),
        ("inference-batch", ListKind::Batches),
        ("model-anchor", ListKind::Records("model-anchor")),
        (
            "training-checkpoints",
            ListKind::Records("training-checkpoint"),
        ),
    ] {
        assert_eq!(given.parse::<ListKind>(), Ok(expected), "{given}");
    }
    for bad in ["", "model", "anchors", "receiptss", "Model-Anchor"] {
        let e = bad.parse::<ListKind>().unwrap_err();
        assert_eq!(e.kind, bad);
        assert!(e.to_string().contains("lifecycles, deployments"), "{e}");
    }
}

#[test]
fn the_views_of_the_demo_store_agree_with_its_chain() {
    let (mut store, dir) = demo::tests::fresh_store("views");
    let run = demo::record_demo(&mut *store, 5, &mut |_| {}).unwrap();
    let d = run.deployment.as_str();
    assert_eq!(receipt_count(&*store, d).unwrap(), 5);
    assert_eq!(receipt_count(&*store, "no-such-deployment").unwrap(), 0);
    assert_eq!(receipts_total(&*store).unwrap(), 5);

    let lifecycles = lifecycles(&*store).unwrap();
    assert_eq!(lifecycles.len(), 1);
    assert_eq!((lifecycles[0].receipts, lifecycles[0].batches), (5, 3));
    assert_eq!(lifecycles[0].deployment, d);

    let deployments = deployments(&*store).unwrap();
    assert_eq!(deployments.len(), 1);
    assert!(deployments[0].released);
    assert_eq!(deployments[0].status, "deployed");

    let all = batches(&*store, None).unwrap();
    assert_eq!(all, batches(&*store, Some(d)).unwrap());
    assert_eq!(all.iter().map(|b| b.count).sum::<u64>(), 5);
    assert!(
        batches(&*store, Some("no-such-deployment"))
            .unwrap()
            .is_empty()
    );
    let json = serde_json::to_value(&all[0]).unwrap();
    assert_eq!(json["first_sequence"], 0);
    let stored = store.batches(d).unwrap();
    let (value, line) = sealed_batch(stored.first()).unwrap();
    assert_eq!(
        (value["count"].as_u64(), value["digest"].clone()),
        (Some(all[0].count), json["digest"].clone())
    );
    let prefix = format!(
        "sealed batch {} receipts 0..={} ({}) root ",
        all[0].window_id, all[0].last_sequence, all[0].count
    );
    assert!(line.starts_with(&prefix), "{line}");
    let mut corrupt = stored[0].clone();
    corrupt.json = "{}".to_owned();
    assert!(matches!(sealed_batch(Some(&corrupt)), Err(Error::Json(_))));
    assert_eq!(json["digest"], serde_json::json!(all[0].digest));

    let mut first = None;
    store
        .scan_receipts(d, 0, Some(0), &mut |r| {
            first.get_or_insert(r);
            Ok(())
        })
        .unwrap();
    let first = first.unwrap();
    let (digest, json) = record(&*store, InferenceReceipt::KIND, &first.receipt_id, None)
        .unwrap()
        .unwrap();
    assert_eq!((digest, json), (first.digest, first.json));
    assert!(
        record(&*store, InferenceReceipt::KIND, "no-such-receipt", None)
            .unwrap()
            .is_none()
    );
    let anchor = &deployments[0];
    assert_eq!(
        record(&*store, DeploymentAnchor::KIND, d, None)
            .unwrap()
            .map(|r| r.0),
        Some(anchor.digest)
    );
    assert!(
        record(&*store, DeploymentAnchor::KIND, "other", None)
            .unwrap()
            .is_none()
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rows_print_as_the_lines_of_lcm_list() {
    let digest = Digest::from_bytes([7; 32]);
    let lifecycle = LifecycleRow {
        deployment: "dep".to_owned(),
        release_root: digest,
        receipts: 1,
        batches: 2,
    };
    assert_eq!(
        lifecycle.to_string(),
        format!("dep\t{digest}\t1 receipt\t2 batches")
    );
    let mut deployment = DeploymentRow {
        deployment: "dep".to_owned(),
        digest,
        status: String::new(),
        released: false,
        receipts: 0,
    };
    assert_eq!(
        deployment.to_string(),
        format!("dep\t{digest}\t-\tnot released\t0 receipts")
    );
    deployment.status = "deployed".to_owned();
    deployment.released = true;
    assert_eq!(
        deployment.to_string(),
        format!("dep\t{digest}\tdeployed\treleased\t0 receipts")
    );
    let batch = BatchRow {
        deployment: "dep".to_owned(),
        window_id: "w".to_owned(),
        first_sequence: 3,
        last_sequence: 3,
        count: 1,
        digest,
    };
    assert_eq!(
        batch.to_string(),
        format!("dep\tw\t3..=3\t1 receipt\t{digest}")
    );
    assert_eq!(plural(2u32, "batch", "batches"), "2 batches");
    assert_eq!(plural(-1i64, "batch", "batches"), "-1 batches");
}

#[test]
fn init_summaries_tell_a_new_store_from_an_existing_one() {
    let (store, dir) = demo::tests::fresh_store("views-init");
    let path = dir.join("lcm.db");
    let (value, text) = init_summary(&*store, &path, true).unwrap();
    assert_eq!(value["created"], true);
    assert_eq!(value["schema_version"], store.schema_version());
    let digest = store.policy().unwrap().digest().unwrap();
    assert_eq!(value["policy_digest"], serde_json::json!(digest));
    assert!(
        text.starts_with(&format!("initialized store {}\n", path.display())),
        "{text}"
    );
    let (value, text) = init_summary(&*store, &path, false).unwrap();
    assert_eq!(value["created"], false);
    assert!(text.starts_with("already initialized: store "), "{text}");
    assert_eq!(text.lines().count(), 2);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
