//! Unit tests of `lcm_managers::inference`.

use lcm_crypto::merkle::{CompactRange, MerkleTree};
use lcm_model::Error as ModelError;
use lcm_model::records::deployment::DeploymentStatus;
use lcm_model::verify::{
    ReceiptLink, verify_commitment, verify_receipt_chain, verify_receipt_segment,
};
use lcm_model::{Record, canonical};
use serde_json::json;

use super::*;
use crate::test_support::{chain_fault, empty_field, only, unexpected_value};
use lcm_model::Claimed;

/// Receipts as a document carries them, for tampering.
fn claimed(rs: &[Sealed<InferenceReceipt>]) -> Vec<Claimed<InferenceReceipt>> {
    rs.iter().map(Sealed::to_claimed).collect()
}
use crate::deployment::tests::{ctx, deployed};

const MODEL: Digest = Digest::from_bytes([1; 32]);

fn make(m: &mut InferenceManager, d: &DeploymentManager, i: u32) -> Sealed<InferenceReceipt> {
    let id = format!("inf_{i:03}");
    let req = format!("req_{i}");
    let query = format!("query {i}");
    let output = format!("output {i}");
    let mut r = InferenceRequest::new(&id, &MODEL, "deploy_001", &req)
        .query(&query)
        .output(&output)
        .explanation_digests(vec![Digest::from_bytes([9; 32])]);
    r.input_metadata
        .insert("query_length".into(), json!(query.len()));
    r.output_metadata.insert("confidence".into(), json!(0.95));
    m.create_inference_receipt(d, r).unwrap()
}

fn chain(
    n: u32,
) -> (
    InferenceManager,
    DeploymentManager,
    Vec<Sealed<InferenceReceipt>>,
) {
    let d = deployed();
    let mut m = InferenceManager::new(ctx()).unwrap();
    let receipts = (0..n).map(|i| make(&mut m, &d, i)).collect();
    (m, d, receipts)
}

fn fields(id: &str, i: i64) -> ReceiptFields<'_> {
    let mut meta = Map::new();
    meta.insert("n".into(), Value::from(i));
    ReceiptFields {
        receipt_id: id,
        model_anchor: MODEL,
        deployment_anchor: Digest::from_bytes([2; 32]),
        request_id: "req",
        query: "q \"quoted\"",
        output: "o",
        input_metadata: meta,
        output_metadata: Map::new(),
        explanation_digests: vec![Digest::from_bytes([3; 32])],
        timestamp: Timestamp::from_unix_micros(1_700_000_000_000_000 + i),
    }
}

#[test]
fn a_resumed_chain_continues_the_same_chain() {
    for policy in [
        Policy::default(),
        Policy {
            hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
            commitments: CommitmentScheme::Hmac,
            ..Policy::default()
        },
        Policy {
            commitments: CommitmentScheme::Plaintext,
            ..Policy::default()
        },
    ] {
        let seed = Seed::from_bytes([7; 32]);
        let ids: Vec<String> = (0..6).map(|i| format!("inf_{i}")).collect();
        let mut whole = ReceiptChain::from_seed(&policy, &seed);
        let mut expected = Vec::new();
        for (i, id) in (0i64..).zip(&ids) {
            let (sealed, json) = whole.append_encoded(fields(id, i)).unwrap();
            assert_eq!(
                json,
                canonical::to_vec(&sealed.record()).unwrap().as_slice()
            );
            expected.push(sealed);
        }
        assert_eq!(whole.append(fields("x", 9)).unwrap(), {
            let mut again =
                ReceiptChain::resume(&policy, &seed, Some(expected[5].digest()), 6).unwrap();
            again.append(fields("x", 9)).unwrap()
        });
        verify_receipt_chain(&policy, &expected).unwrap();
        for r in &expected {
            assert_eq!(r.digest(), r.record().digest(&policy).unwrap());
        }
        // Resumed at every point, by a new chain or by moving an old one's head (even
        // backwards, as `lcm infer` does when another process appended first).
        let mut moved = ReceiptChain::from_seed(&policy, &seed);
        for cut in 0..expected.len() {
            let head = cut.checked_sub(1).map(|p| expected[p].digest());
            let next = u64::try_from(cut).unwrap();
            let mut resumed = ReceiptChain::resume(&policy, &seed, head, next).unwrap();
            moved.set_head(head, next).unwrap();
            assert_eq!(resumed.head(), head.as_ref());
            assert_eq!(resumed.len(), next);
            for (i, id) in (0i64..).zip(&ids).skip(cut) {
                let want = &expected[usize::try_from(i).unwrap()];
                assert_eq!(&resumed.append(fields(id, i)).unwrap(), want);
                assert_eq!(&moved.append(fields(id, i)).unwrap(), want);
            }
            let (a, b) = (resumed.openings(next), whole.openings(next));
            assert_eq!(a.input.reveal(), b.input.reveal());
            assert_eq!(a.output.reveal(), b.output.reveal());
        }
    }
}

#[test]
fn an_inconsistent_head_is_refused() {
    let policy = Policy::default();
    let seed = Seed::from_bytes([7; 32]);
    let head = Digest::from_bytes([5; 32]);
    for (h, next) in [(None, 1), (None, u64::MAX), (Some(head), 0)] {
        unexpected_value(ReceiptChain::resume(&policy, &seed, h, next), "sequence");
    }
    let mut c = ReceiptChain::resume(&policy, &seed, Some(head), 3).unwrap();
    assert!(c.set_head(None, 3).is_err());
    assert_eq!((c.head(), c.len()), (Some(&head), 3), "left as it was");
    // Sequence number 2^64 - 1 is never used: the chain would have no next sequence.
    c.set_head(Some(head), u64::MAX).unwrap();
    unexpected_value(c.append(fields("a", 0)), "sequence");
    assert_eq!(
        c.len(),
        u64::MAX,
        "a refused receipt does not advance the chain"
    );
}

#[test]
fn receipts_chain_and_never_hold_raw_data() {
    let (m, d, rs) = chain(3);
    assert_eq!(rs[0].record().prev_receipt, None);
    assert_eq!(rs[1].record().prev_receipt, Some(rs[0].digest()));
    assert_eq!(rs[2].record().prev_receipt, Some(rs[1].digest()));
    assert_eq!(m.chain().head(), Some(&rs[2].digest()));
    assert_eq!(m.chain().len(), 3);
    let dep = d.deployment("deploy_001").unwrap();
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(r.record().sequence, u64::try_from(i).unwrap());
        assert_eq!(r.record().deployment_anchor, dep.digest());
        assert_eq!(r.record().model_anchor, MODEL);
        assert_eq!(r.digest(), r.record().digest(m.policy()).unwrap());
        let text = String::from_utf8(canonical::to_vec(&r.record()).unwrap()).unwrap();
        assert!(
            !text.contains("query ") && !text.contains("output "),
            "{text}"
        );
        assert_eq!(r.record().input_commitment.scheme, CommitmentScheme::Salted);
        assert!(r.record().input_commitment.plaintext.is_none());
    }
    verify_receipt_chain(m.policy(), &rs).unwrap();
    assert_eq!(m.receipts(), rs.as_slice());
    assert_eq!(m.receipt("inf_001"), Some(&rs[1]));
    assert_eq!(m.receipt("inf_404"), None);
}

#[test]
fn plaintext_scheme_keeps_the_data_and_hmac_does_not() {
    for scheme in [CommitmentScheme::Plaintext, CommitmentScheme::Hmac] {
        let policy = Policy {
            commitments: scheme,
            kdf_iterations: 100_000,
            ..Policy::default()
        };
        let c = Context::with_policy(policy).unwrap();
        let d = deployed();
        let mut m = InferenceManager::new(c).unwrap();
        let r = make(&mut m, &d, 0);
        assert_eq!(r.record().input_commitment.scheme, scheme);
        let kept = r.record().input_commitment.plaintext.as_deref();
        if scheme == CommitmentScheme::Plaintext {
            assert_eq!(kept, Some("query 0"));
        } else {
            assert_eq!(kept, None);
        }
        let o = m.opening(&r).unwrap();
        verify_commitment(
            m.policy(),
            &r.record().input_commitment,
            b"query 0",
            &o.input,
        )
        .unwrap();
        verify_commitment(
            m.policy(),
            &r.record().output_commitment,
            b"output 0",
            &o.output,
        )
        .unwrap();
        assert!(
            verify_commitment(
                m.policy(),
                &r.record().input_commitment,
                b"query 1",
                &o.input
            )
            .is_err()
        );
        if scheme == CommitmentScheme::Plaintext {
            // The value opens to the data, but the plaintext shown next to it was edited.
            let mut edited = r.record().input_commitment.clone();
            edited.plaintext = Some("query 9".into());
            unexpected_value(
                verify_commitment(m.policy(), &edited, b"query 0", &o.input),
                "plaintext",
            );
        }
    }
}

#[test]
fn domain_restriction_is_honoured() {
    let policy = only(&[DomainType::Deployment]);
    let d = deployed();
    let mut m = InferenceManager::new(Context::with_policy(policy).unwrap()).unwrap();
    assert_matches!(
        m.create_inference_receipt(&d, InferenceRequest::new("x", &MODEL, "deploy_001", "r")),
        Err(Error::DomainNotAllowed {
            domain: "inference"
        })
    );
}

#[test]
fn blake3_policy_governs_commitments_digests_and_roots() {
    let policy = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        commitments: CommitmentScheme::Hmac,
        kdf_iterations: 100_000,
        ..Policy::default()
    };
    let c = Context::with_policy(policy.clone()).unwrap();
    let d = deployed();
    let mut m = InferenceManager::new(c).unwrap();
    let rs: Vec<_> = (0..3).map(|i| make(&mut m, &d, i)).collect();
    verify_receipt_chain(&policy, &rs).unwrap();
    assert_matches!(
        verify_receipt_chain(ctx().policy(), &rs),
        Err(ModelError::SealMismatch { .. })
    );
    let o = m.opening(&rs[1]).unwrap();
    verify_commitment(
        &policy,
        &rs[1].record().input_commitment,
        b"query 1",
        &o.input,
    )
    .unwrap();
    assert!(
        verify_commitment(
            ctx().policy(),
            &rs[1].record().input_commitment,
            b"query 1",
            &o.input
        )
        .is_err()
    );
    let batch = m.process_inference_batch("w", &rs).unwrap();
    let expected = MerkleTree::from_leaves_with(
        lcm_crypto::HashAlgorithm::Blake3,
        rs.iter().map(|r| r.digest().to_bytes()),
    );
    assert_eq!(batch.record().root, expected.root());
}

#[test]
fn openings_disclose_one_receipt_only() {
    let (m, _, rs) = chain(2);
    let p = m.policy();
    let o0 = m.opening(&rs[0]).unwrap();
    let o1 = m.opening(&rs[1]).unwrap();
    verify_commitment(p, &rs[0].record().input_commitment, b"query 0", &o0.input).unwrap();
    verify_commitment(
        p,
        &rs[0].record().output_commitment,
        b"output 0",
        &o0.output,
    )
    .unwrap();
    verify_commitment(p, &rs[1].record().input_commitment, b"query 1", &o1.input).unwrap();
    // Wrong data, the other receipt's opening, the other side's opening: all refused.
    assert!(verify_commitment(p, &rs[0].record().input_commitment, b"query 1", &o0.input).is_err());
    assert!(verify_commitment(p, &rs[0].record().input_commitment, b"query 0", &o1.input).is_err());
    assert!(
        verify_commitment(p, &rs[0].record().input_commitment, b"query 0", &o0.output).is_err()
    );
    // An auditor's round trip through the revealed text form.
    let text = o0.input.reveal().to_string();
    let back = Opening::from_revealed(&text.parse().unwrap());
    verify_commitment(p, &rs[0].record().input_commitment, b"query 0", &back).unwrap();
    // A receipt this manager did not make.
    let mut foreign = rs[0].to_claimed();
    foreign.record.request_id = "other".into();
    assert_matches!(m.opening(&foreign), Err(Error::UnknownReference { .. }));
}

#[test]
fn receipt_creation_checks() {
    let mut d = deployed();
    let mut m = InferenceManager::new(ctx()).unwrap();
    make(&mut m, &d, 0);
    let other_model = Digest::from_bytes([2; 32]);
    let cases: Vec<(InferenceRequest<'_>, &str)> = vec![
        (
            InferenceRequest::new("inf_000", &MODEL, "deploy_001", "r"),
            "duplicate",
        ),
        (
            InferenceRequest::new("", &MODEL, "deploy_001", "r"),
            "empty id",
        ),
        (
            InferenceRequest::new("x", &MODEL, "deploy_001", ""),
            "empty request",
        ),
        (
            InferenceRequest::new("x", &MODEL, "deploy_404", "r"),
            "unknown deployment",
        ),
        (
            InferenceRequest::new("x", &other_model, "deploy_001", "r"),
            "wrong model",
        ),
    ];
    for (req, what) in cases {
        let err = m.create_inference_receipt(&d, req).unwrap_err();
        let ok = match what {
            "duplicate" => matches!(err, Error::Model(lcm_model::Error::DuplicateId { .. })),
            "empty id" => matches!(
                err,
                Error::Empty {
                    field: "receipt_id",
                    ..
                }
            ),
            "empty request" => matches!(
                err,
                Error::Empty {
                    field: "request_id",
                    ..
                }
            ),
            "unknown deployment" => matches!(
                err,
                Error::UnknownReference {
                    field: "deployment_anchor_ref",
                    ..
                }
            ),
            _ => matches!(
                err,
                Error::Unauthorized {
                    field: "model_anchor_ref",
                    ..
                }
            ),
        };
        assert!(ok, "{what}: {err}");
    }
    // A failed request does not advance the chain.
    assert_eq!(m.chain().len(), 1);
    d.record_status("deploy_001", DeploymentStatus::RolledBack, "x")
        .unwrap();
    let err = m
        .create_inference_receipt(&d, InferenceRequest::new("y", &MODEL, "deploy_001", "r"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unauthorized {
                field: "deployment_anchor_ref",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn chain_tampering_is_detected() {
    let (m, _, rs) = chain(5);
    let p = m.policy().clone();
    verify_receipt_chain(&p, &rs).unwrap();
    let rs = claimed(&rs);

    // Any field edited.
    type Edit = fn(&mut InferenceReceipt);
    let edits: &[Edit] = &[
        |r| r.receipt_id.push('x'),
        |r| r.sequence += 10,
        |r| r.model_anchor = Digest::from_bytes([0; 32]),
        |r| r.deployment_anchor = Digest::from_bytes([0; 32]),
        |r| r.request_id.push('x'),
        |r| r.input_commitment.value = Digest::from_bytes([0; 32]),
        |r| r.output_commitment.scheme = CommitmentScheme::Plaintext,
        |r| r.input_commitment.metadata.clear(),
        |r| r.output_commitment.plaintext = Some("leak".into()),
        |r| r.explanation_digests.clear(),
        |r| r.prev_receipt = None,
        |r| r.timestamp = Timestamp::from_unix_micros(0),
    ];
    for (k, edit) in edits.iter().enumerate() {
        let mut t = rs.clone();
        edit(&mut t[2].record);
        match verify_receipt_chain(&p, &t) {
            Err(ModelError::SealMismatch { id, .. }) => {
                assert!(id.starts_with("inf_002"), "{k}");
            }
            other => panic!("edit {k}: {other:?}"),
        }
    }
    // Stored digest edited.
    let mut t = rs.clone();
    t[3].digest = Digest::from_bytes([0; 32]);
    assert_matches!(
        verify_receipt_chain(&p, &t),
        Err(ModelError::SealMismatch { .. })
    );
    // Reordered.
    let mut t = rs.clone();
    t.swap(1, 3);
    assert_eq!(chain_fault(verify_receipt_chain(&p, &t)), ("gap", 1, 1, 3));
    let mut t = rs.clone();
    t.swap(2, 1);
    assert_eq!(chain_fault(verify_receipt_chain(&p, &t)), ("gap", 1, 1, 2));
    // Dropped in the middle, at the front.
    let mut t = rs.clone();
    t.remove(2);
    assert_eq!(chain_fault(verify_receipt_chain(&p, &t)), ("gap", 2, 2, 3));
    assert_eq!(
        chain_fault(verify_receipt_chain(&p, &rs[1..])),
        ("gap", 0, 0, 1)
    );
    // ... but the same run verifies as a segment after its predecessor.
    verify_receipt_segment(&p, Some((rs[0].digest(), 0)), &rs[1..]).unwrap();
    assert_matches!(
        verify_receipt_segment(&p, Some((rs[1].digest(), 0)), &rs[1..]),
        Err(ModelError::ChainLink { index: 0, .. })
    );
    // Duplicated.
    let mut t = rs.clone();
    t.insert(3, rs[2].clone());
    assert_matches!(
        verify_receipt_chain(&p, &t),
        Err(ModelError::DuplicateId { .. })
    );
    // Going back without repeating a digest: a receipt of another chain re-sealed with a
    // lower sequence number.
    let mut t = rs.clone();
    t[3].record.sequence = 1;
    t[3].digest = t[3].record().digest(&p).unwrap();
    assert_eq!(
        chain_fault(verify_receipt_chain(&p, &t)),
        ("order", 3, 3, 1)
    );
    // Forged link with a valid digest and sequence.
    let mut t = rs.clone();
    t[4].record.prev_receipt = Some(Digest::from_bytes([0; 32]));
    t[4].digest = t[4].record().digest(&p).unwrap();
    assert_matches!(
        verify_receipt_chain(&p, &t),
        Err(ModelError::ChainLink { index: 4, .. })
    );
    // A first receipt that claims a predecessor.
    let mut t = rs[..1].to_vec();
    t[0].record.prev_receipt = Some(Digest::from_bytes([0; 32]));
    t[0].digest = t[0].record().digest(&p).unwrap();
    assert_matches!(
        verify_receipt_chain(&p, &t),
        Err(ModelError::ChainLink { index: 0, .. })
    );
    // Wrong policy.
    let blake = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        ..p.clone()
    };
    assert_matches!(
        verify_receipt_chain(&blake, &rs),
        Err(ModelError::SealMismatch { .. })
    );
    assert_matches!(
        verify_receipt_chain::<Claimed<InferenceReceipt>>(&p, &[]),
        Err(ModelError::EmptyCollection { .. })
    );
}

#[test]
fn batches_and_the_streaming_builder_agree() {
    let (mut m, _, rs) = chain(37);
    for n in [1usize, 2, 3, 8, 37] {
        let window = format!("w{n}");
        let batch = m.process_inference_batch(&window, &rs[..n]).unwrap();
        let expected = MerkleTree::from_leaves(rs[..n].iter().map(|r| r.digest().to_bytes()));
        assert_eq!(batch.record().root, expected.root());
        assert_eq!(batch.record().count, u64::try_from(n).unwrap());
        assert_eq!(batch.record().first_receipt, rs[0].digest());
        assert_eq!(batch.record().last_receipt, rs[n - 1].digest());
        assert_eq!(batch.record().window_start, rs[0].record().timestamp);
        assert_eq!(batch.record().window_end, rs[n - 1].record().timestamp);

        let mut b = InferenceBatchBuilder::new(m.policy(), &window);
        for r in &rs[..n] {
            b.push_receipt(r).unwrap();
        }
        assert_eq!(b.len(), u64::try_from(n).unwrap());
        assert_eq!(&b.finish().unwrap(), batch.record());
    }
    // A window of the middle of the chain.
    let mid = m.process_inference_batch("mid", &rs[10..20]).unwrap();
    assert_eq!(mid.record().first_receipt, rs[10].digest());
    let mut b2 = m.batch_builder("mid2").unwrap();
    for r in &rs[10..20] {
        b2.push_receipt(r).unwrap();
    }
    let streamed = m.finish_batch(b2).unwrap();
    assert_eq!(streamed.record().root, mid.record().root);
    assert_eq!(m.batch("mid2").unwrap(), &streamed);
}

#[test]
fn streaming_state_stays_logarithmic() {
    let policy = Policy::default();
    let mut b = InferenceBatchBuilder::new(&policy, "w");
    let mut plain = CompactRange::new();
    let mut prev = None;
    let mut max_peaks = 0;
    for i in 0..100_000u64 {
        let digest = lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, &i.to_be_bytes());
        let timestamp = Timestamp::from_unix_micros(i64::try_from(i).unwrap());
        b.push(ReceiptLink {
            digest,
            sequence: i,
            prev_receipt: prev,
            timestamp,
        })
        .unwrap();
        plain.push(digest.as_bytes()).unwrap();
        prev = Some(digest);
        let peaks = b.accumulator().peaks().len();
        assert_eq!(peaks, usize::try_from((i + 1).count_ones()).unwrap());
        max_peaks = max_peaks.max(peaks);
    }
    assert!(max_peaks <= 17, "{max_peaks}");
    let batch = b.finish().unwrap();
    assert_eq!(batch.root, plain.root());
    assert_eq!(batch.count, 100_000);
}

#[test]
fn bad_batches_are_errors() {
    let (mut m, _, rs) = chain(6);
    assert_matches!(
        m.process_inference_batch::<Sealed<InferenceReceipt>>("w", &[]),
        Err(Error::Model(ModelError::EmptyCollection {
            field: "receipts",
            ..
        }))
    );
    assert_matches!(
        m.batch_builder("w").unwrap().finish(),
        Err(ModelError::EmptyCollection {
            field: "receipts",
            ..
        })
    );
    empty_field(m.process_inference_batch("", &rs), "window_id");
    let gap = [rs[0].clone(), rs[2].clone()];
    assert_matches!(
        m.process_inference_batch("w", &gap),
        Err(Error::Model(ModelError::ChainGap { .. }))
    );
    let back = [rs[2].clone(), rs[1].clone()];
    assert_matches!(
        m.process_inference_batch("w", &back),
        Err(Error::Model(ModelError::ChainOrder { .. }))
    );
    let dup = [rs[2].clone(), rs[2].clone()];
    assert_matches!(
        m.process_inference_batch("w", &dup),
        Err(Error::Model(ModelError::ChainOrder { .. }))
    );
    let mut forged = rs[3].to_claimed();
    forged.record.prev_receipt = Some(Digest::from_bytes([0; 32]));
    assert_matches!(
        m.process_inference_batch("w", &[rs[2].to_claimed(), forged.clone()]),
        Err(Error::Model(ModelError::ChainLink { .. }))
    );
    let mut b = m.batch_builder("w").unwrap();
    b.push_receipt(&rs[2]).unwrap();
    assert_matches!(b.push_receipt(&forged), Err(ModelError::ChainLink { .. }));
    assert_matches!(b.push_receipt(&rs[4]), Err(ModelError::ChainGap { .. }));
    assert_matches!(b.push_receipt(&rs[2]), Err(ModelError::ChainOrder { .. }));
    assert_eq!(b.len(), 1, "refused receipts are not added");
    b.push_receipt(&rs[3]).unwrap();
    m.process_inference_batch("w", &rs).unwrap();
    assert_matches!(
        m.process_inference_batch("w", &rs),
        Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
    );
    assert_matches!(
        m.batch_builder("w"),
        Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
    );
    assert_matches!(
        m.finish_batch(b),
        Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
    );
}

#[test]
fn deterministic_with_fixed_clock_and_seed() {
    let (_, _, a) = chain(4);
    let (_, _, b) = chain(4);
    assert_eq!(a, b);
    // Another seed gives other commitments.
    let d = deployed();
    let c = Context::new(
        ctx().policy().clone(),
        std::sync::Arc::new(lcm_model::FixedClock::new(
            Timestamp::from_unix_micros(1_767_323_045_678_901),
            1_000,
        )),
        lcm_crypto::SeededRandom::new(&Seed::from_bytes([8; 32])),
    )
    .unwrap();
    let mut m = InferenceManager::new(c).unwrap();
    let other = make(&mut m, &d, 0);
    assert_ne!(
        other.record().input_commitment.value,
        a[0].record().input_commitment.value
    );
}
