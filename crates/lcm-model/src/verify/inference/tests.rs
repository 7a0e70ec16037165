//! Unit tests of `lcm_model::verify::inference`.

use lcm_crypto::CommitmentScheme;
use serde_json::Map;

use super::*;
use crate::test_support::chain_fault;
use crate::{Claimed, Record, Sealed};

fn commitment(b: u8) -> InferenceCommitment {
    InferenceCommitment {
        scheme: CommitmentScheme::Hmac,
        value: Digest::from_bytes([b; 32]),
        metadata: Map::new(),
        plaintext: None,
    }
}

/// `n` receipts correctly chained from the start.
fn chain(p: &Policy, n: u8) -> Vec<Claimed<InferenceReceipt>> {
    let mut out: Vec<Claimed<InferenceReceipt>> = Vec::new();
    for i in 0..n {
        let record = InferenceReceipt {
            receipt_id: format!("inf_{i:03}"),
            sequence: u64::from(i),
            model_anchor: Digest::from_bytes([1; 32]),
            deployment_anchor: Digest::from_bytes([2; 32]),
            request_id: format!("req_{i}"),
            input_commitment: commitment(i),
            output_commitment: commitment(i.wrapping_add(100)),
            explanation_digests: Vec::new(),
            prev_receipt: out.last().map(|r| r.digest),
            timestamp: Timestamp::from_unix_micros(i64::from(i)),
        };
        out.push(Sealed::seal(record, p).unwrap().into());
    }
    out
}

#[test]
fn receipt_chain_tamper_twins() {
    let p = Policy::default();
    let rs = chain(&p, 6);
    verify_receipt_chain(&p, &rs).unwrap();
    verify_receipt_segment(&p, Some((rs[1].digest, 1)), &rs[2..]).unwrap();

    let mut t = rs.clone();
    t[2].record.request_id = "edited".into();
    let e = verify_receipt_chain(&p, &t);
    assert!(
        matches!(&e, Err(Error::SealMismatch { id, .. }) if id == "inf_002"),
        "{e:?}"
    );
    let mut t = rs.clone();
    t.insert(3, rs[2].clone());
    let e = verify_receipt_chain(&p, &t);
    assert_matches!(e, Err(Error::DuplicateId { .. }));
    let mut t = rs.clone();
    t.remove(2);
    let e = verify_receipt_chain(&p, &t);
    assert_eq!(chain_fault(e), ("gap", 2, 2, 3));
    let mut t = rs.clone();
    t[3].record.sequence = 1;
    t[3].digest = t[3].record.digest(&p).unwrap();
    let e = verify_receipt_chain(&p, &t);
    assert_eq!(chain_fault(e), ("order", 3, 3, 1));
    let mut t = rs.clone();
    t[4].record.prev_receipt = Some(Digest::from_bytes([0; 32]));
    t[4].digest = t[4].record.digest(&p).unwrap();
    let e = verify_receipt_chain(&p, &t);
    assert_matches!(e, Err(Error::ChainLink { index: 4, .. }));
    let e = verify_receipt_chain(&p, &rs[1..]);
    assert_eq!(chain_fault(e), ("gap", 0, 0, 1));
    let e = verify_receipt_segment(&p, Some((rs[0].digest, 1)), &rs[2..]);
    assert_matches!(e, Err(Error::ChainLink { index: 0, .. }));
    let e = verify_receipt_chain::<Claimed<InferenceReceipt>>(&p, &[]);
    assert_matches!(e, Err(Error::EmptyCollection { .. }));
}

#[test]
fn batch_at_once_and_streamed_agree_and_refuse_the_same_receipts() {
    let p = Policy::default();
    let rs = chain(&p, 7);
    let batch = compute_inference_batch(&p, "w", &rs).unwrap();
    let mut b = InferenceBatchBuilder::new(&p, "w");
    for r in &rs {
        b.push_receipt(r).unwrap();
    }
    assert_eq!(b.window_id(), "w");
    assert_eq!(b.finish().unwrap(), batch);
    assert_eq!(batch.count, 7);
    assert_eq!(
        batch.root,
        MerkleTree::from_leaves(rs.iter().map(|r| r.digest.to_bytes())).root()
    );
    assert_eq!(batch.first_receipt, rs[0].digest);
    assert_eq!(batch.last_receipt, rs[6].digest);

    let gap = [rs[0].clone(), rs[2].clone()];
    let e = compute_inference_batch(&p, "w", &gap);
    assert_matches!(e, Err(Error::ChainGap { index: 1, .. }));
    let back = [rs[2].clone(), rs[1].clone()];
    let e = compute_inference_batch(&p, "w", &back);
    assert_matches!(e, Err(Error::ChainOrder { index: 1, .. }));
    let mut forged = rs[3].clone();
    forged.record.prev_receipt = Some(Digest::from_bytes([0; 32]));
    let e = compute_inference_batch(&p, "w", &[rs[2].clone(), forged.clone()]);
    assert_matches!(e, Err(Error::ChainLink { index: 1, .. }));
    let e = compute_inference_batch::<Claimed<InferenceReceipt>>(&p, "w", &[]);
    assert_matches!(
        e,
        Err(Error::EmptyCollection {
            field: "receipts",
            ..
        })
    );

    let mut b = InferenceBatchBuilder::new(&p, "w");
    b.push_receipt(&rs[2]).unwrap();
    let e = b.push_receipt(&forged);
    assert_matches!(e, Err(Error::ChainLink { .. }));
    let e = b.push_receipt(&rs[4]);
    assert_matches!(e, Err(Error::ChainGap { .. }));
    let e = b.push_receipt(&rs[2]);
    assert_matches!(e, Err(Error::ChainOrder { .. }));
    assert_eq!(b.len(), 1, "refused receipts are not added");
    let e = InferenceBatchBuilder::new(&p, "w").finish();
    assert_matches!(
        e,
        Err(Error::EmptyCollection {
            field: "receipts",
            ..
        })
    );
}
