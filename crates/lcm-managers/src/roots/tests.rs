//! Unit tests of `lcm_managers::roots`.

use super::*;
use crate::deployment::tests::{ctx, deployed, request};
use crate::test_support::{empty_field, root_mismatch, seal_mismatch};
use lcm_crypto::HashAlgorithm;
use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::merkle::{leaf_hash, node_hash};
use lcm_model::Error as ModelError;
use lcm_model::Record;
use lcm_model::verify::verify_release_root;

fn metrics() -> BTreeMap<String, f64> {
    BTreeMap::from([
        ("accuracy".to_owned(), 0.885),
        ("precision".to_owned(), 0.892),
        ("recall".to_owned(), 0.878),
        ("f1_score".to_owned(), 0.885),
    ])
}

#[test]
fn test_evaluation_recomputes_metrics_digest() {
    let mut r = RootManager::new(ctx());
    let ds = Digest::from_bytes([4; 32]);
    let a = r
        .create_test_evaluation_anchor("test_001", &ds, "pre_deploy", &metrics())
        .unwrap();
    a.record().verify_metrics_digest(r.policy()).unwrap();
    assert_eq!(
        a.record().metrics_digest,
        TestEvaluationAnchor::compute_metrics_digest(
            &ds,
            "pre_deploy",
            &a.record().metrics,
            r.policy()
        )
        .unwrap()
    );
    assert_eq!(r.test_evaluation("test_001"), Some(&a));

    let mut other = metrics();
    other.insert("accuracy".into(), 0.886);
    let b = r
        .create_test_evaluation_anchor("test_002", &ds, "pre_deploy", &other)
        .unwrap();
    assert_ne!(a.record().metrics_digest, b.record().metrics_digest);
}

#[test]
fn test_evaluation_rejects_bad_input() {
    let mut r = RootManager::new(ctx());
    let ds = Digest::from_bytes([4; 32]);
    r.create_test_evaluation_anchor("t", &ds, "pre_deploy", &metrics())
        .unwrap();
    assert_matches!(
        r.create_test_evaluation_anchor("t", &ds, "pre_deploy", &metrics()),
        Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
    );
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut m = metrics();
        m.insert("recall".into(), bad);
        match r.create_test_evaluation_anchor("u", &ds, "pre_deploy", &m) {
            Err(Error::Model(lcm_model::Error::NonFiniteMetric { metric, id, .. })) => {
                assert_eq!((metric.as_str(), id.as_str()), ("recall", "u"));
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let mut m = metrics();
    m.insert(String::new(), 1.0);
    empty_field(
        r.create_test_evaluation_anchor("u", &ds, "pre_deploy", &m),
        "metrics",
    );
    empty_field(
        r.create_test_evaluation_anchor("u", &ds, "", &metrics()),
        "evaluation_type",
    );
    empty_field(
        r.create_test_evaluation_anchor("", &ds, "x", &metrics()),
        "test_id",
    );
    assert!(r.test_evaluation("u").is_none());
}

fn release_inputs() -> (
    RootManager,
    Sealed<PreDeploymentAnchor>,
    Sealed<DeploymentAnchor>,
    Sealed<TestEvaluationAnchor>,
) {
    let d = deployed();
    let pre = d.predeployment("predeploy_001").unwrap().clone();
    let dep = d.deployment("deploy_001").unwrap().clone();
    let mut r = RootManager::new(ctx());
    let test = r
        .create_test_evaluation_anchor("t", &Digest::from_bytes([4; 32]), "pre_deploy", &metrics())
        .unwrap();
    (r, pre, dep, test)
}

#[test]
fn release_root_is_the_rfc9162_root_of_four_digests() {
    let (mut r, pre, dep, test) = release_inputs();
    let tsr = Digest::from_bytes([6; 32]);
    let release = r.compute_release_root(&tsr, &pre, &dep, &test).unwrap();
    let alg = HashAlgorithm::Sha256;
    let leaf = |d: &Digest| leaf_hash(alg, d.as_bytes());
    let expected = node_hash(
        alg,
        &node_hash(alg, &leaf(&tsr), &leaf(&pre.digest())),
        &node_hash(alg, &leaf(&dep.digest()), &leaf(&test.digest())),
    );
    assert_eq!(release.record().root, expected);
    assert_eq!(
        release.record().leaves(),
        [tsr, pre.digest(), dep.digest(), test.digest()]
    );
    verify_release_root(r.policy(), release.record()).unwrap();
    assert_eq!(r.release_root("deploy_001"), Some(&release));

    let tampers: [fn(&mut ReleaseRoot); 2] = [
        |t| t.test_evaluation = Digest::from_bytes([0; 32]),
        |t| t.training_session_root = Digest::from_bytes([0; 32]),
    ];
    for tamper in tampers {
        let mut t = release.record().clone();
        tamper(&mut t);
        root_mismatch(verify_release_root(r.policy(), &t), "release root");
    }
}

#[test]
fn release_root_checks_its_inputs() {
    let (mut r, pre, dep, test) = release_inputs();
    let tsr = Digest::from_bytes([6; 32]);
    let mut t = pre.to_claimed();
    t.record.intended_region = "eu-west-1".into();
    seal_mismatch(
        r.compute_release_root(&tsr, &t, &dep, &test),
        "predeployment anchor",
    );
    let mut t = dep.to_claimed();
    t.record.deployed_by = "mallory".into();
    seal_mismatch(
        r.compute_release_root(&tsr, &pre, &t, &test),
        "deployment anchor",
    );
    let mut t = test.to_claimed();
    t.record
        .metrics
        .insert("accuracy".into(), Finite::new(0.99).unwrap());
    assert_matches!(
        r.compute_release_root(&tsr, &pre, &dep, &t),
        Err(Error::Model(ModelError::SealMismatch {
            kind: TEST_EVALUATION,
            ..
        }))
    );
    // A supplied metrics digest is not trusted even when the anchor is re-sealed.
    let mut t = test.record().clone();
    t.metrics
        .insert("accuracy".into(), Finite::new(0.99).unwrap());
    let t = Sealed::seal(t, r.policy()).unwrap();
    assert_matches!(
        r.compute_release_root(&tsr, &pre, &dep, &t),
        Err(Error::Model(lcm_model::Error::DigestMismatch { .. }))
    );
    // A deployment of another pre-deployment.
    let mut other = crate::DeploymentManager::new(ctx());
    let pre2 = other
        .create_predeployment_anchor(request("predeploy_002"))
        .unwrap();
    assert_matches!(
        r.compute_release_root(&tsr, &pre2, &dep, &test),
        Err(Error::Model(ModelError::UnexpectedValue {
            field: "predeployment",
            ..
        }))
    );
}

#[test]
fn inference_batch_root() {
    let mut r = RootManager::new(ctx());
    let digests: Vec<Digest> = (0..5u8).map(|i| Digest::from_bytes([i; 32])).collect();
    let root = r
        .compute_inference_batch_root("batch_001", &digests)
        .unwrap();
    assert_eq!(root.record().size, 5);
    assert_eq!(
        root.record().root,
        MerkleTree::from_leaves(digests.iter().map(|d| d.to_bytes())).root()
    );
    assert_eq!(r.inference_batch_root("batch_001"), Some(&root));
    assert_matches!(
        r.compute_inference_batch_root("batch_002", &[]),
        Err(Error::Model(ModelError::EmptyCollection {
            field: "receipt_digests",
            ..
        }))
    );
    empty_field(r.compute_inference_batch_root("", &digests), "window_id");
    // Order and every digest matter.
    let mut swapped = digests.clone();
    swapped.swap(0, 1);
    assert_ne!(
        r.compute_inference_batch_root("b", &swapped)
            .unwrap()
            .record()
            .root,
        root.record().root
    );
    let blake = Policy {
        hash_algorithm: HashAlgorithm::Blake3,
        kdf_iterations: 100_000,
        ..Policy::default()
    };
    let mut rb = RootManager::new(Context::with_policy(blake).unwrap());
    assert_ne!(
        rb.compute_inference_batch_root("batch_001", &digests)
            .unwrap()
            .record()
            .root,
        root.record().root
    );
    assert_eq!(root.digest(), root.record().digest(r.policy()).unwrap());
}

fn snapshot(policy: &Policy) -> Sealed<TrainingSnapshot> {
    let d = |b| Digest::from_bytes([b; 32]);
    let record = TrainingSnapshot {
        session_id: "train_001".into(),
        session: d(11),
        model_anchor: d(12),
        datasets_root: d(13),
        config_digest: d(14),
        checkpoint_head: d(15),
        checkpoint_count: 2,
        metrics_digest: d(16),
        final_model_digest: d(17),
        user_id: "data_scientist_alice".into(),
        started_at: lcm_model::Timestamp::from_unix_micros(0),
        completed_at: lcm_model::Timestamp::from_unix_micros(1),
    };
    Sealed::seal(record, policy).unwrap()
}

#[test]
fn training_session_root_delegates_and_checks_the_seal() {
    let r = RootManager::new(ctx());
    let s = snapshot(r.policy());
    let root = r.compute_training_session_root(&s).unwrap();
    assert_eq!(root, crate::compute_training_session_root(r.policy(), &s));
    // It commits to the final model digest (among the rest), and to the seal: an edited
    // snapshot does not check, so it cannot be rooted.
    let mut t = s.to_claimed();
    t.record.final_model_digest = Digest::from_bytes([0; 32]);
    assert_matches!(
        t.clone()
            .check_named(r.policy(), "training snapshot", "train_001"),
        Err(ModelError::SealMismatch {
            kind: "training snapshot",
            ..
        })
    );
    let t = Sealed::seal(t.record, r.policy()).unwrap();
    assert_ne!(r.compute_training_session_root(&t).unwrap(), root);
}

#[test]
fn deterministic_with_fixed_clock_and_seed() {
    let run = || {
        let (mut r, pre, dep, test) = release_inputs();
        r.compute_release_root(&Digest::from_bytes([6; 32]), &pre, &dep, &test)
            .unwrap()
    };
    assert_eq!(run(), run());
}
