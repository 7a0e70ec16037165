//! A receipt chain with real salted commitments and a signed header over it, built from
//! `lcm-crypto` and `lcm-model` alone.

use lcm_capsule::{
    CapsuleHeader, InferenceRecords, LifecycleRecords, MerkleLog, create_capsule_header,
};
use lcm_crypto::{CommitmentScheme, Committer, Digest, Seed, SigningKey};
use lcm_model::records::{InferenceCommitment, InferenceReceipt};
use lcm_model::{Policy, Sealed, Timestamp};

pub(crate) struct Chain {
    pub(crate) policy: Policy,
    pub(crate) committer: Committer,
    pub(crate) receipts: Vec<Sealed<InferenceReceipt>>,
    pub(crate) log: MerkleLog,
    pub(crate) key: SigningKey,
    pub(crate) header: CapsuleHeader,
}

pub(crate) fn query(i: u64) -> String {
    format!("query {i}")
}

pub(crate) fn output(i: u64) -> String {
    format!("output {i}")
}

fn commitment(c: &Committer, label: &[u8], i: u64, data: &str) -> InferenceCommitment {
    let (commitment, _) = c.commit_labeled(label, i, data.as_bytes());
    InferenceCommitment {
        scheme: commitment.scheme,
        value: commitment.value,
        metadata: serde_json::Map::new(),
        plaintext: None,
    }
}

pub(crate) fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&Seed::from_bytes([seed; 32]))
}

/// `n` chained receipts, their log, and a header over them signed by `key(7)`.
pub(crate) fn chain(n: u64) -> Chain {
    let policy = Policy::default();
    let committer = Committer::from_seed(
        CommitmentScheme::Salted,
        policy.hash_algorithm,
        &Seed::from_bytes([5; 32]),
    );
    let mut receipts: Vec<Sealed<InferenceReceipt>> = Vec::new();
    let mut log = MerkleLog::new(policy.hash_algorithm);
    for i in 0..n {
        let r = InferenceReceipt {
            receipt_id: format!("inf_{i:03}"),
            sequence: i,
            model_anchor: Digest::from_bytes([1; 32]),
            deployment_anchor: Digest::from_bytes([2; 32]),
            request_id: format!("req_{i}"),
            input_commitment: commitment(&committer, b"input", i, &query(i)),
            output_commitment: commitment(&committer, b"output", i, &output(i)),
            explanation_digests: Vec::new(),
            prev_receipt: receipts.last().map(Sealed::digest),
            timestamp: Timestamp::from_unix_micros(i64::try_from(i).expect("the fixture is valid")),
        };
        let sealed = Sealed::seal(r, &policy).expect("the fixture is valid");
        log.register(sealed.digest()).expect("the fixture is valid");
        receipts.push(sealed);
    }
    let key = key(7);
    let records = LifecycleRecords {
        inference: Some(InferenceRecords {
            receipts: &log,
            batches: &[],
        }),
        ..LifecycleRecords::default()
    };
    let header = create_capsule_header(
        &policy,
        &records,
        "2026-01-02T03:04:05.678901Z"
            .parse()
            .expect("the fixture is valid"),
        &key,
    )
    .expect("the fixture is valid");
    Chain {
        policy,
        committer,
        receipts,
        log,
        key,
        header,
    }
}
