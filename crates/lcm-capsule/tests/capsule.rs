//! Materialized capsules: a receipt with its proof, neighbours and disclosure, checked
//! against the signed header; every kind of tampering fails with its own error.

use lcm_capsule::{
    Capsule, CapsuleHeader, CapsuleItem, CheckError, DeploymentStage, DisclosedValue, Disclosure,
    MerkleLog, ModelStage, materialize_receipt, verify_capsule,
};
use lcm_crypto::Digest;

use crate::fixtures::{Chain, chain, key, output, query};

fn disclosure(c: &Chain, i: u64) -> Disclosure {
    Disclosure {
        input: Some(DisclosedValue {
            data: query(i),
            opening: c.committer.opening_labeled(b"input", i).reveal(),
        }),
        output: Some(DisclosedValue {
            data: output(i),
            opening: c.committer.opening_labeled(b"output", i).reveal(),
        }),
    }
}

fn receipt_item(capsule: &mut Capsule) -> &mut lcm_capsule::ReceiptItem {
    let CapsuleItem::InferenceReceipt(item) = &mut capsule.item else {
        unreachable!("the tests materialize receipts")
    };
    item
}

#[track_caller]
fn fails(c: &Chain, capsule: &Capsule, field: &str) -> CheckError {
    let failed = verify_capsule(capsule, &c.header, &c.key.verifying_key())
        .expect_err("the tampered capsule must fail");
    let first = failed.first().expect("a failed check");
    assert_eq!(first.field, field, "{failed}");
    first.outcome.clone().expect_err("a failure")
}

#[test]
fn every_receipt_materializes_and_verifies() {
    let c = chain(9);
    for r in &c.receipts {
        let i = r.record().sequence;
        let capsule = materialize_receipt(&c.header, &c.log, r, Some(disclosure(&c, i))).unwrap();
        let report = verify_capsule(&capsule, &c.header, &c.key.verifying_key()).unwrap();
        assert!(report.checks.len() >= 10);
        let text = capsule.to_json(Some(2)).unwrap();
        assert_eq!(Capsule::from_json(&text).unwrap(), capsule);
        let item = match &capsule.item {
            CapsuleItem::InferenceReceipt(item) => item,
            other => panic!("{other:?}"),
        };
        assert_eq!(item.previous.is_some(), i > 0);
        assert_eq!(item.next.is_some(), i < 8);
    }
}

#[test]
fn openings_of_other_receipts_are_never_revealed() {
    let c = chain(5);
    let capsule =
        materialize_receipt(&c.header, &c.log, &c.receipts[2], Some(disclosure(&c, 2))).unwrap();
    let text = capsule.to_json(None).unwrap();
    for j in [0u64, 1, 3, 4] {
        for label in [b"input".as_slice(), b"output"] {
            let other = c.committer.opening_labeled(label, j).reveal().to_string();
            let hex = other.split(':').nth(1).unwrap();
            assert!(!text.contains(hex), "opening {j} leaked");
        }
        assert!(!text.contains(&query(j)) && !text.contains(&output(j)));
    }
    // The disclosed opening opens receipt 2's commitment and no other.
    let mut other = capsule;
    let item = receipt_item(&mut other);
    item.receipt = c.receipts[3].clone().into();
    let opened = lcm_crypto::Commitment {
        scheme: c.receipts[3].record().input_commitment.scheme,
        algorithm: c.policy.hash_algorithm,
        value: c.receipts[3].record().input_commitment.value,
    }
    .verify(
        query(2).as_bytes(),
        &lcm_crypto::Opening::from_revealed(
            &item
                .disclosure
                .as_ref()
                .unwrap()
                .input
                .as_ref()
                .unwrap()
                .opening,
        ),
    );
    assert!(opened.is_err());
}

#[test]
fn tampering_fails_with_its_own_error() {
    let c = chain(9);
    let good =
        materialize_receipt(&c.header, &c.log, &c.receipts[4], Some(disclosure(&c, 4))).unwrap();
    let base = "/item/inference_receipt";

    // An edited receipt field: the proof still confirms the stored digest.
    let mut t = good.clone();
    receipt_item(&mut t).receipt.record.request_id = "req_x".into();
    let e = fails(&c, &t, &format!("{base}/receipt/record"));
    assert!(matches!(e, CheckError::DigestMismatch { .. }));

    // An edited stored digest.
    let mut t = good.clone();
    receipt_item(&mut t).receipt.digest = Digest::from_bytes([9; 32]);
    fails(&c, &t, &format!("{base}/receipt/digest"));

    // A proof from another tree (the same receipt in a longer log).
    let mut longer = MerkleLog::from_digests(
        c.policy.hash_algorithm,
        c.receipts.iter().map(lcm_model::Sealed::digest),
    )
    .unwrap();
    longer.register(Digest::from_bytes([8; 32])).unwrap();
    let mut t = good.clone();
    receipt_item(&mut t).proof = longer.inclusion_proof_at(4, 10).unwrap();
    let e = fails(&c, &t, &format!("{base}/proof"));
    assert!(matches!(e, CheckError::Proof(_)), "{e:?}");
    let mut t = good.clone();
    receipt_item(&mut t).proof = c.log.inclusion_proof_at(5, 9).unwrap();
    let e = fails(&c, &t, &format!("{base}/proof/index"));
    assert!(matches!(e, CheckError::ValueMismatch { .. }));

    // Wrong neighbours.
    let mut t = good.clone();
    receipt_item(&mut t).next = None;
    let e = fails(&c, &t, &format!("{base}/next"));
    assert!(matches!(e, CheckError::Missing { .. }));
    let mut t = good.clone();
    receipt_item(&mut t).previous.as_mut().unwrap().digest = Digest::from_bytes([1; 32]);
    let e = fails(&c, &t, &format!("{base}/previous"));
    assert!(matches!(e, CheckError::Proof(_)));

    // A disclosure that does not open.
    let mut t = good.clone();
    let d = receipt_item(&mut t).disclosure.as_mut().unwrap();
    d.output.as_mut().unwrap().data = "output 5".into();
    let e = fails(&c, &t, &format!("{base}/disclosure/output"));
    assert!(matches!(e, CheckError::Opening(_)));

    // Bound to another header.
    let mut t = good.clone();
    t.header_digest = Digest::from_bytes([3; 32]);
    fails(&c, &t, "/header_digest");

    // Against a header signed by another key.
    let other = key(8);
    let failed = verify_capsule(&good, &c.header, &other.verifying_key()).unwrap_err();
    assert!(matches!(
        failed.first().unwrap().outcome,
        Err(CheckError::KeyMismatch { .. })
    ));

    // Strict parsing, inside the proofs too.
    let text = good.to_json(None).unwrap();
    let extra = text.replacen("\"tree_size\":", "\"extra\":0,\"tree_size\":", 1);
    assert!(matches!(
        Capsule::from_json(&extra),
        Err(lcm_capsule::Error::Parse { ref path, .. }) if path == "/item/inference_receipt/proof/extra"
    ));

    // Materializing a receipt that is not the registered one is refused.
    let mut wrong = c.receipts[4].to_claimed();
    wrong.record.sequence = 5;
    assert!(materialize_receipt(&c.header, &c.log, &wrong, None).is_err());
}

/// The fixture's header with stages B and E naming `model` and `deployment`, re-signed.
fn with_model_and_deployment(c: &Chain, model: Digest, deployment: Digest) -> CapsuleHeader {
    let mut header = c.header.clone();
    header.stage_b_model = Some(ModelStage {
        model_name: "m".into(),
        version: "1".into(),
        anchor: model,
        description_digest: Digest::from_bytes([3; 32]),
        architecture_fingerprint: Digest::from_bytes([3; 32]),
        hyperparameters_digest: Digest::from_bytes([3; 32]),
        environment_digest: Digest::from_bytes([3; 32]),
        parameter_fingerprint: None,
        trainer_commit: "abc".into(),
        authorized_datasets: Default::default(),
        kdf_iterations: c.policy.kdf_iterations,
    });
    header.stage_e_deployment = Some(DeploymentStage {
        deployment_id: "d".into(),
        anchor: deployment,
        predeployment: Digest::from_bytes([3; 32]),
        status: None,
        status_count: 0,
        status_head: None,
    });
    header.sign(&c.key).expect("the header signs");
    header
}

/// A header over the receipts alone (no stage B or E) is a valid header, so a receipt's
/// model and deployment references are listed as not applicable, saying why; with the stages,
/// they are checked, and a receipt of another model or deployment fails.
#[test]
fn model_and_deployment_references_say_when_they_do_not_apply() {
    let c = chain(3);
    let base = "/item/inference_receipt/receipt/record";
    let vk = c.key.verifying_key();
    let capsule = materialize_receipt(&c.header, &c.log, &c.receipts[1], None).unwrap();
    let report = verify_capsule(&capsule, &c.header, &vk).unwrap();
    let skipped: Vec<(&str, &str)> = report
        .not_applicable()
        .map(|k| (k.field.as_str(), k.not_applicable.unwrap_or_default()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                &*format!("{base}/model_anchor"),
                "the header has no stage B (model) to compare the receipt's model anchor with"
            ),
            (
                &*format!("{base}/deployment_anchor"),
                "the header has no stage E (deployment) to compare the receipt's deployment \
                 anchor with"
            ),
        ]
    );
    assert!(report.not_applicable().all(|k| k.passed() && !k.applied()));
    assert!(
        report.to_string().contains(&format!(
            "reference: receipt inf_001 at {base}/model_anchor: not applicable: the header has \
             no stage B"
        )),
        "{report}"
    );

    // With stages B and E naming the receipts' anchors: both references are checked.
    let (model, deployment) = (Digest::from_bytes([1; 32]), Digest::from_bytes([2; 32]));
    let header = with_model_and_deployment(&c, model, deployment);
    let capsule = materialize_receipt(&header, &c.log, &c.receipts[1], None).unwrap();
    let report = verify_capsule(&capsule, &header, &vk).unwrap();
    assert_eq!(report.not_applicable().count(), 0);
    for field in ["model_anchor", "deployment_anchor"] {
        let check = report
            .checks
            .iter()
            .find(|k| k.field == format!("{base}/{field}"))
            .unwrap();
        assert!(check.passed() && check.applied(), "{check}");
    }

    // The twins: a header whose stage B or E names another anchor.
    let other = Digest::from_bytes([9; 32]);
    for (header, field) in [
        (
            with_model_and_deployment(&c, other, deployment),
            "model_anchor",
        ),
        (
            with_model_and_deployment(&c, model, other),
            "deployment_anchor",
        ),
    ] {
        let capsule = materialize_receipt(&header, &c.log, &c.receipts[1], None).unwrap();
        let failed = verify_capsule(&capsule, &header, &vk).unwrap_err();
        let first = failed.first().unwrap();
        assert_eq!(first.field, format!("{base}/{field}"), "{failed}");
        assert_eq!(
            first.outcome,
            Err(CheckError::DigestMismatch {
                expected: other,
                actual: if field == "model_anchor" {
                    model
                } else {
                    deployment
                },
            })
        );
    }
}
