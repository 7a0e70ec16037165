//! [`ReceiptMaker`]: makes the next receipt of a chain that lives in the store.
//!
//! `lcm_managers::ReceiptChain` keeps its head and sequence number in memory and always
//! starts empty; a store's chain is continued by many processes, each of which learns the
//! head inside its write transaction. `ReceiptMaker` therefore takes the head as an argument.
//! Its receipts are exactly `ReceiptChain`'s (same commitment labels and nonces, same
//! encoder): a unit test appends with both from one seed and compares every receipt.

use lcm_crypto::{CommitmentScheme, Committer, Digest, DomainHasher, Seed};
use lcm_managers::ReceiptOpenings;
use lcm_model::records::inference::{InferenceCommitment, InferenceReceipt, ReceiptEncoder};
use lcm_model::{Policy, Record, Sealed, Timestamp};
use serde_json::{Map, Value};

use crate::store::ChainHead;

/// The nonce label of query commitments (as `lcm_managers::ReceiptChain`).
const INPUT_LABEL: &[u8] = b"input";
/// The nonce label of output commitments (as `lcm_managers::ReceiptChain`).
const OUTPUT_LABEL: &[u8] = b"output";

/// One receipt's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptInput<'a> {
    /// The receipt id.
    pub receipt_id: &'a str,
    /// The caller's request id.
    pub request_id: &'a str,
    /// The query (committed, not stored).
    pub query: &'a str,
    /// The output (committed, not stored).
    pub output: &'a str,
    /// Metadata of the query commitment.
    pub input_metadata: Map<String, Value>,
    /// Metadata of the output commitment.
    pub output_metadata: Map<String, Value>,
    /// Explanation digests.
    pub explanation_digests: Vec<Digest>,
    /// The receipt's time.
    pub timestamp: Timestamp,
}

/// Makes receipts for one model and deployment under the store's commitment seed.
#[derive(Debug)]
pub struct ReceiptMaker {
    committer: Committer,
    encoder: ReceiptEncoder,
    /// The hasher with the receipt's domain tag absorbed.
    prefix: DomainHasher,
    model_anchor: Digest,
    deployment_anchor: Digest,
}

impl ReceiptMaker {
    /// A maker under `policy` whose commitments are keyed by `seed`.
    pub fn new(
        policy: &Policy,
        seed: &Seed,
        model_anchor: Digest,
        deployment_anchor: Digest,
    ) -> Self {
        Self {
            committer: Committer::from_seed(policy.commitments, policy.hash_algorithm, seed),
            encoder: ReceiptEncoder::new(policy),
            prefix: DomainHasher::new(
                policy.hash_algorithm,
                &policy.domain_tag(InferenceReceipt::KIND),
            ),
            model_anchor,
            deployment_anchor,
        }
    }

    fn commitment(
        &self,
        label: &[u8],
        nonce: u64,
        data: &str,
        metadata: Map<String, Value>,
    ) -> InferenceCommitment {
        let (c, _opening) = self.committer.commit_labeled(label, nonce, data.as_bytes());
        let plaintext = (c.scheme == CommitmentScheme::Plaintext).then(|| data.to_owned());
        InferenceCommitment {
            scheme: c.scheme,
            value: c.value,
            metadata,
            plaintext,
        }
    }

    /// The receipt that follows `head` (the first of the chain when `head` is `None`), its
    /// digest, and its canonical JSON.
    ///
    /// # Errors
    ///
    /// [`lcm_model::Error`] when the metadata cannot be encoded canonically; an
    /// [`lcm_model::Error::Json`]-free overflow error never happens below 2^64 receipts.
    pub fn make(
        &mut self,
        head: Option<ChainHead>,
        input: ReceiptInput<'_>,
    ) -> Result<(Sealed<InferenceReceipt>, String), crate::Error> {
        let sequence = match head {
            None => 0,
            Some(h) => h.sequence.checked_add(1).ok_or(crate::Error::ChainFull)?,
        };
        let record = InferenceReceipt {
            receipt_id: input.receipt_id.to_owned(),
            sequence,
            model_anchor: self.model_anchor,
            deployment_anchor: self.deployment_anchor,
            request_id: input.request_id.to_owned(),
            input_commitment: self.commitment(
                INPUT_LABEL,
                sequence,
                input.query,
                input.input_metadata,
            ),
            output_commitment: self.commitment(
                OUTPUT_LABEL,
                sequence,
                input.output,
                input.output_metadata,
            ),
            explanation_digests: input.explanation_digests,
            prev_receipt: head.map(|h| h.digest),
            timestamp: input.timestamp,
        };
        // One encoding, hashed and kept: the digest is the receipt's record digest (the unit
        // test below compares it with `ReceiptChain`'s).
        let bytes = self.encoder.encode(&record)?;
        let mut h = self.prefix.clone();
        h.part(bytes);
        let digest = h.finalize();
        let json = String::from_utf8(bytes.to_vec()).map_err(|_| crate::Error::NotUtf8)?;
        Ok((Sealed { record, digest }, json))
    }

    /// Re-derives the openings of the receipt with this sequence number.
    pub fn openings(&self, sequence: u64) -> ReceiptOpenings {
        ReceiptOpenings {
            input: self.committer.opening_labeled(INPUT_LABEL, sequence),
            output: self.committer.opening_labeled(OUTPUT_LABEL, sequence),
        }
    }
}

#[cfg(test)]
mod tests {
    use lcm_managers::{ReceiptChain, ReceiptFields};

    use super::*;

    #[test]
    fn same_receipts_as_the_managers_chain() {
        for policy in [
            Policy::default(),
            Policy {
                hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
                commitments: CommitmentScheme::Hmac,
                ..Policy::default()
            },
        ] {
            let seed = Seed::from_bytes([7; 32]);
            let model = Digest::from_bytes([1; 32]);
            let deployment = Digest::from_bytes([2; 32]);
            let mut chain = ReceiptChain::from_seed(&policy, &seed);
            let mut maker = ReceiptMaker::new(&policy, &seed, model, deployment);
            let mut head = None;
            for i in 0..5i64 {
                let id = format!("inf_{i}");
                let mut meta = Map::new();
                meta.insert("n".into(), Value::from(i));
                let ts = Timestamp::from_unix_micros(1_700_000_000_000_000 + i);
                let expected = chain
                    .append(ReceiptFields {
                        receipt_id: &id,
                        model_anchor: model,
                        deployment_anchor: deployment,
                        request_id: "req",
                        query: "q \"quoted\"",
                        output: "o",
                        input_metadata: meta.clone(),
                        output_metadata: Map::new(),
                        explanation_digests: vec![Digest::from_bytes([3; 32])],
                        timestamp: ts,
                    })
                    .unwrap();
                let (got, json) = maker
                    .make(
                        head,
                        ReceiptInput {
                            receipt_id: &id,
                            request_id: "req",
                            query: "q \"quoted\"",
                            output: "o",
                            input_metadata: meta,
                            output_metadata: Map::new(),
                            explanation_digests: vec![Digest::from_bytes([3; 32])],
                            timestamp: ts,
                        },
                    )
                    .unwrap();
                assert_eq!(got, expected);
                assert_eq!(
                    json,
                    lcm_model::canonical::to_string(&expected.record).unwrap()
                );
                let seq = got.record.sequence;
                let ours = maker.openings(seq);
                let theirs = chain.openings(seq);
                assert_eq!(ours.input.reveal(), theirs.input.reveal());
                assert_eq!(ours.output.reveal(), theirs.output.reveal());
                head = Some(ChainHead {
                    sequence: seq,
                    digest: got.digest,
                });
            }
        }
    }
}
