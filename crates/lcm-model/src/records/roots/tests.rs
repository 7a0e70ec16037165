//! Unit tests of `lcm_model::records::roots`.

use super::*;

fn anchor(policy: &Policy) -> TestEvaluationAnchor {
    let metrics: BTreeMap<String, Finite> = [("accuracy", 0.885), ("f1_score", 0.885)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Finite::new(v).unwrap()))
        .collect();
    let test_dataset = Digest::from_bytes([5; 32]);
    let metrics_digest =
        TestEvaluationAnchor::compute_metrics_digest(&test_dataset, "pre_deploy", &metrics, policy)
            .unwrap();
    TestEvaluationAnchor {
        test_id: "test_001".into(),
        test_dataset,
        evaluation_type: "pre_deploy".into(),
        metrics,
        metrics_digest,
        created_at: Timestamp::from_unix_micros(0),
    }
}

#[test]
fn metrics_digest_is_recomputed() {
    let p = Policy::default();
    let a = anchor(&p);
    a.verify_metrics_digest(&p).unwrap();

    let tampers: [fn(&mut TestEvaluationAnchor); 4] = [
        |t| {
            t.metrics
                .insert("accuracy".into(), Finite::new(0.99).unwrap());
        },
        |t| t.test_dataset = Digest::from_bytes([6; 32]),
        |t| t.evaluation_type = "benchmark".into(),
        |t| t.metrics_digest = Digest::from_bytes([0; 32]),
    ];
    for tamper in tampers {
        let mut t = a.clone();
        tamper(&mut t);
        assert_matches!(
            t.verify_metrics_digest(&p),
            Err(Error::DigestMismatch { .. })
        );
    }
    let blake = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        ..p
    };
    assert_matches!(
        a.verify_metrics_digest(&blake),
        Err(Error::DigestMismatch { .. })
    );
}

#[test]
fn nan_metrics_cannot_be_parsed() {
    let p = Policy::default();
    let json = serde_json::to_string(&anchor(&p)).unwrap();
    let bad = json.replace("0.885", "1e999");
    assert!(serde_json::from_str::<TestEvaluationAnchor>(&bad).is_err());
    let back: TestEvaluationAnchor = serde_json::from_str(&json).unwrap();
    assert_eq!(back, anchor(&p));
}

#[test]
fn release_root_leaf_order() {
    let r = ReleaseRoot {
        training_session_root: Digest::from_bytes([1; 32]),
        predeployment: Digest::from_bytes([2; 32]),
        deployment: Digest::from_bytes([3; 32]),
        test_evaluation: Digest::from_bytes([4; 32]),
        root: Digest::from_bytes([0; 32]),
    };
    let leaves = r.leaves();
    for (i, l) in leaves.iter().enumerate() {
        assert_eq!(l.as_bytes()[0], u8::try_from(i + 1).unwrap());
    }
}
