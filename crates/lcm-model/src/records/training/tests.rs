//! Unit tests of `lcm_model::records::training`.

use super::*;

fn series(values: &[f64]) -> BTreeMap<String, Vec<f64>> {
    BTreeMap::from([("loss".to_owned(), values.to_vec())])
}

#[test]
fn metrics_reject_non_finite_naming_the_value() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        match TrainingMetrics::new(BTreeMap::new(), series(&[0.5, bad]), vec![1, 2]) {
            Err(Error::NonFiniteField {
                record: "training-metrics",
                field,
                ..
            }) => {
                assert_eq!(field, "val_metrics.loss[1]");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        serde_json::from_str::<TrainingMetrics>(
            r#"{"train_metrics":{"loss":[1e999]},"val_metrics":{},"epochs":[1]}"#
        )
        .is_err()
    );
}

#[test]
fn metrics_shape_checked() {
    let ok = TrainingMetrics::new(series(&[1.0, 0.5]), BTreeMap::new(), vec![1, 2]).unwrap();
    assert!(ok.validate().is_ok());
    assert_eq!(ok.final_loss(), Some(0.5));
    assert_eq!(ok.final_accuracy(), None);
    let e = TrainingMetrics::new(series(&[1.0, 0.5]), BTreeMap::new(), vec![2, 2]);
    assert_matches!(
        e,
        Err(Error::InvalidField {
            field: "epochs",
            ..
        })
    );
    let e = TrainingMetrics::new(series(&[1.0]), BTreeMap::new(), vec![1, 2]);
    assert_matches!(
        e,
        Err(Error::InvalidField {
            field: "train_metrics",
            ..
        })
    );
    let e = TrainingMetrics::new(BTreeMap::new(), series(&[1.0]), vec![]);
    assert_matches!(
        e,
        Err(Error::InvalidField {
            field: "val_metrics",
            ..
        })
    );
    // A struct built by hand is checked when its digest is taken.
    let bad = TrainingMetrics {
        epochs: vec![3, 1],
        ..TrainingMetrics::default()
    };
    assert!(bad.compute_metrics_digest(&Policy::default()).is_err());
    assert!(
        TrainingMetrics::default()
            .compute_metrics_digest(&Policy::default())
            .is_ok()
    );
}

#[test]
fn every_metrics_field_changes_the_digest() {
    let p = Policy::default();
    let base = TrainingMetrics::new(series(&[1.0, 0.5]), series(&[1.1, 0.6]), vec![1, 2]).unwrap();
    let d0 = base.compute_metrics_digest(&p).unwrap();
    let variants = [
        TrainingMetrics::new(series(&[1.0, 0.4]), series(&[1.1, 0.6]), vec![1, 2]).unwrap(),
        TrainingMetrics::new(series(&[1.0, 0.5]), series(&[1.1, 0.7]), vec![1, 2]).unwrap(),
        TrainingMetrics::new(series(&[1.0, 0.5]), series(&[1.1, 0.6]), vec![1, 3]).unwrap(),
        // The same values under the other series.
        TrainingMetrics::new(series(&[1.1, 0.6]), series(&[1.0, 0.5]), vec![1, 2]).unwrap(),
    ];
    for v in variants {
        assert_ne!(v.compute_metrics_digest(&p).unwrap(), d0, "{v:?}");
    }
}

#[test]
fn config_digest_is_canonical() {
    let p = Policy::default();
    let a: Map<String, Value> = serde_json::from_str(r#"{"epochs":50,"lr":0.001}"#).unwrap();
    let b: Map<String, Value> = serde_json::from_str(r#"{ "lr": 1e-3, "epochs": 50.0 }"#).unwrap();
    assert_eq!(
        training_config_digest(&p, &a).unwrap(),
        training_config_digest(&p, &b).unwrap()
    );
    let c: Map<String, Value> = serde_json::from_str(r#"{"epochs":51,"lr":0.001}"#).unwrap();
    assert_ne!(
        training_config_digest(&p, &a).unwrap(),
        training_config_digest(&p, &c).unwrap()
    );
}

#[test]
fn snapshot_and_checkpoint_json_is_strict() {
    let p = Policy::default();
    let t = Timestamp::from_unix_micros(1_700_000_000_000_000);
    let snapshot = TrainingSnapshot {
        session_id: "train_001".into(),
        session: Digest::from_bytes([1; 32]),
        model_anchor: Digest::from_bytes([2; 32]),
        datasets_root: Digest::from_bytes([3; 32]),
        config_digest: Digest::from_bytes([4; 32]),
        checkpoint_head: Digest::from_bytes([5; 32]),
        checkpoint_count: 2,
        metrics_digest: Digest::from_bytes([6; 32]),
        final_model_digest: Digest::from_bytes([7; 32]),
        user_id: "alice".into(),
        started_at: t,
        completed_at: t,
    };
    let sealed = crate::Sealed::seal(snapshot, &p).unwrap();
    let json = serde_json::to_string(&sealed).unwrap();
    let back: crate::Claimed<TrainingSnapshot> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.check(&p).unwrap(), sealed);
    let tampered = json.replace("\"alice\"", "\"mallory\"");
    let t2: crate::Claimed<TrainingSnapshot> = serde_json::from_str(&tampered).unwrap();
    assert_matches!(t2.check(&p), Err(Error::DigestMismatch { .. }));
    assert!(
        serde_json::from_str::<TrainingSnapshot>(&json.replace("\"user_id\"", "\"user\"")).is_err()
    );

    let checkpoint = TrainingCheckpoint {
        session: Digest::from_bytes([1; 32]),
        checkpoint_id: "c".into(),
        index: 0,
        epoch: 1,
        step: 10,
        metrics: BTreeMap::from([("loss".to_owned(), Finite::new(0.5).unwrap())]),
        model_state_digest: Digest::from_bytes([2; 32]),
        optimizer_state_digest: Digest::from_bytes([3; 32]),
        previous: Digest::from_bytes([1; 32]),
        created_at: t,
    };
    let json = serde_json::to_string(&checkpoint).unwrap();
    assert_eq!(
        serde_json::from_str::<TrainingCheckpoint>(&json).unwrap(),
        checkpoint
    );
    let nan = json.replace("0.5", "1e999");
    assert!(serde_json::from_str::<TrainingCheckpoint>(&nan).is_err());
}
