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
