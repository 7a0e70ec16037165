//! [`InferenceManager`]: chained inference receipts with opening-capable commitments, and
//! batches of receipts summarized by Merkle roots (the seed's `LCMInferenceManager`).
//!
//! # Receipts
//!
//! For each inference the manager commits to the query and to the output with the policy's
//! commitment scheme ([`lcm_crypto::Committer`], keyed by a per-manager secret seed drawn from
//! the context's randomness; the nonce is the receipt's sequence number, labelled `input` or
//! `output`). The raw query and output are not kept anywhere unless the scheme is plaintext.
//! Each receipt's digest covers the previous receipt's digest, so the receipts form a hash
//! chain that [`verify_receipt_chain`](crate::verify_receipt_chain) recomputes end to end.
//! The openings of one receipt can be re-derived later ([`InferenceManager::opening`]) and
//! handed to an auditor, who checks them with [`verify_commitment`](crate::verify_commitment)
//! without learning anything about any other receipt. Both live in [`lcm_model::verify`], so
//! an auditor needs only `lcm-model`.
//!
//! # Batches
//!
//! [`InferenceManager::process_inference_batch`] summarizes a contiguous run of receipts by
//! the RFC 9162 root over their digests; [`InferenceBatchBuilder`] computes the same batch
//! receipt by receipt in `O(log n)` memory.
//!
//! # Examples
//!
//! ```
//! use lcm_managers::{Context, InferenceManager, InferenceRequest, verify_commitment};
//! # use lcm_managers::{DeploymentManager, PreDeploymentRequest};
//! # use lcm_model::records::deployment::{BuildArtifact, ComplianceStatus, Sbom};
//! # let model_anchor = lcm_crypto::Digest::from_bytes([1; 32]);
//! # let ctx = Context::default();
//! # let mut deployments = DeploymentManager::new(ctx.clone());
//! # deployments.create_predeployment_anchor(PreDeploymentRequest {
//! #     predeployment_id: "predeploy_001".into(),
//! #     model_anchor,
//! #     training_snapshot: lcm_crypto::Digest::from_bytes([2; 32]),
//! #     build_artifact: BuildArtifact {
//! #         artifact_type: "docker".into(),
//! #         artifact_digest: format!("sha256:{}", "ab".repeat(32)),
//! #         build_timestamp: ctx.now(),
//! #         builder_info: "jenkins".into(),
//! #         size_bytes: 1,
//! #     },
//! #     sbom: Sbom {
//! #         dependencies: Default::default(),
//! #         security_scan_digest: lcm_crypto::Digest::from_bytes([3; 32]),
//! #         vulnerability_count: 0,
//! #         compliance_status: ComplianceStatus::Passed,
//! #     },
//! #     approval_ticket_id: "TICKET-123".into(),
//! #     intended_env: "prod".into(),
//! #     intended_region: "us-east-1".into(),
//! #     rollout_plan_digest: None,
//! # })?;
//! # deployments.create_deployment_anchor("deploy_001", "predeploy_001",
//! #     serde_json::json!({}), serde_json::json!({}), "devops_alice")?;
//! // `deployments` knows "deploy_001", which releases `model_anchor` (see DeploymentManager).
//! let mut inference = InferenceManager::new(ctx.clone())?;
//! let receipt = inference.create_inference_receipt(
//!     &deployments,
//!     InferenceRequest::new("inf_001", &model_anchor, "deploy_001", "req_12345")
//!         .query("Is there pneumonia in this chest X-ray?")
//!         .output("No pneumonia detected (confidence: 95%)"),
//! )?;
//! assert_eq!(receipt.record().prev_receipt, None);
//! let second = inference.create_inference_receipt(
//!     &deployments,
//!     InferenceRequest::new("inf_002", &model_anchor, "deploy_001", "req_12346")
//!         .query("and this one?")
//!         .output("pneumonia detected"),
//! )?;
//! assert_eq!(second.record().prev_receipt, Some(receipt.digest()));
//! lcm_managers::verify_receipt_chain(ctx.policy(), &[receipt.clone(), second.clone()])?;
//!
//! // Selective disclosure of the first query only.
//! let openings = inference.opening(&receipt)?;
//! verify_commitment(
//!     ctx.policy(),
//!     &receipt.record().input_commitment,
//!     b"Is there pneumonia in this chest X-ray?",
//!     &openings.input,
//! )?;
//!
//! let batch = inference.process_inference_batch("batch_2025_09_12_14", &[receipt, second])?;
//! assert_eq!(batch.record().count, 2);
//! # Ok::<(), lcm_managers::Error>(())
//! ```

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use lcm_crypto::{CommitmentScheme, Committer, Digest, Opening, RandomSource, Seed};
use lcm_model::records::inference::{
    InferenceBatch, InferenceCommitment, InferenceReceipt, ReceiptEncoder,
};
use lcm_model::verify::{InferenceBatchBuilder, compute_inference_batch};
use lcm_model::{DomainType, Policy, Seal, Sealed, Timestamp};
use serde_json::{Map, Value};

use crate::deployment::{DeploymentManager, non_empty};
use crate::{Context, Error};

const RECEIPT: &str = "inference receipt";
const BATCH: &str = "inference batch";
/// The nonce label of query commitments.
const INPUT_LABEL: &[u8] = b"input";
/// The nonce label of output commitments.
const OUTPUT_LABEL: &[u8] = b"output";

/// The inputs of one receipt (the seed's `create_inference_receipt` arguments).
///
/// The seed's `input_commitment`/`output_commitment` arguments become the metadata here: the
/// commitment values themselves are computed by the manager. `prev_chain_digest` is not an
/// input: the manager links every receipt to the previous one.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceRequest<'a> {
    /// The receipt's id (`receipt_id`).
    pub receipt_id: &'a str,
    /// The full digest of the model anchor that answered (`model_anchor_ref`).
    pub model_anchor: &'a Digest,
    /// The id of the deployment that served the request (`deployment_anchor_ref`).
    pub deployment_id: &'a str,
    /// The caller's request id.
    pub request_id: &'a str,
    /// The query; committed, never stored (unless the scheme is plaintext).
    pub query: &'a str,
    /// The output (`ai_output`); committed, never stored (unless the scheme is plaintext).
    pub output: &'a str,
    /// Non-secret metadata of the query commitment.
    pub input_metadata: Map<String, Value>,
    /// Non-secret metadata of the output commitment.
    pub output_metadata: Map<String, Value>,
    /// Digests of explanations.
    pub explanation_digests: Vec<Digest>,
}

impl<'a> InferenceRequest<'a> {
    /// A request with an empty query and output, no metadata and no explanations.
    pub fn new(
        receipt_id: &'a str,
        model_anchor: &'a Digest,
        deployment_id: &'a str,
        request_id: &'a str,
    ) -> Self {
        Self {
            receipt_id,
            model_anchor,
            deployment_id,
            request_id,
            query: "",
            output: "",
            input_metadata: Map::new(),
            output_metadata: Map::new(),
            explanation_digests: Vec::new(),
        }
    }

    /// Sets the query.
    #[must_use]
    pub fn query(mut self, query: &'a str) -> Self {
        self.query = query;
        self
    }

    /// Sets the output.
    #[must_use]
    pub fn output(mut self, output: &'a str) -> Self {
        self.output = output;
        self
    }

    /// Sets the explanation digests.
    #[must_use]
    pub fn explanation_digests(mut self, digests: Vec<Digest>) -> Self {
        self.explanation_digests = digests;
        self
    }
}

/// The two openings of one receipt's commitments.
#[derive(Debug)]
pub struct ReceiptOpenings {
    /// Opens the query commitment.
    pub input: Opening,
    /// Opens the output commitment.
    pub output: Opening,
}

/// The hot path of receipt creation: the commitment key, the chain head and a reused encoding
/// buffer (the seed's `LCMInferenceConnections`: one chain of receipts).
///
/// It checks nothing about the deployment and stores no receipt; [`InferenceManager`] does
/// both. `append` makes exactly two commitments, one canonical encoding and one hash.
///
/// A chain kept elsewhere (a store appended to by many processes) is continued with
/// [`ReceiptChain::resume`], or by moving an existing chain's head with
/// [`ReceiptChain::set_head`]: the receipts are exactly those of one continuous chain.
#[derive(Debug)]
pub struct ReceiptChain {
    committer: Committer,
    encoder: ReceiptEncoder,
    head: Option<Digest>,
    next_sequence: u64,
}

/// The parts of a receipt that [`ReceiptChain::append`] does not compute.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptFields<'a> {
    /// The receipt's id.
    pub receipt_id: &'a str,
    /// The model anchor's digest.
    pub model_anchor: Digest,
    /// The deployment anchor's digest.
    pub deployment_anchor: Digest,
    /// The caller's request id.
    pub request_id: &'a str,
    /// The query.
    pub query: &'a str,
    /// The output.
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

/// A [`RandomSource`] view of a [`Context`]'s randomness.
struct ContextRandom<'a>(&'a Context);

impl RandomSource for ContextRandom<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), lcm_crypto::Error> {
        self.0.fill_random(buf).map_err(|e| match e {
            Error::Crypto(c) => c,
            _ => lcm_crypto::Error::Randomness,
        })
    }
}

impl ReceiptChain {
    /// An empty chain whose commitment key is a fresh secret seed from `ctx`'s randomness,
    /// under `ctx`'s policy (scheme and hash algorithm).
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] when the randomness fails.
    pub fn new(ctx: &Context) -> Result<Self, Error> {
        let seed = Seed::generate(&mut ContextRandom(ctx))?;
        Ok(Self::from_seed(ctx.policy(), &seed))
    }

    /// An empty chain with an explicit commitment seed (for example
    /// `MasterKey::seed("inference")`), so that openings can be re-derived by another process
    /// holding the same seed.
    pub fn from_seed(policy: &Policy, seed: &Seed) -> Self {
        Self {
            committer: Committer::from_seed(policy.commitments, policy.hash_algorithm, seed),
            encoder: ReceiptEncoder::new(policy),
            head: None,
            next_sequence: 0,
        }
    }

    /// A chain with an explicit commitment seed that continues after `head`, the digest of
    /// the receipt with sequence number `next_sequence - 1` (`None` and `0` for an empty
    /// chain). Its receipts are those a chain made with [`ReceiptChain::from_seed`] would make
    /// after the same receipts.
    ///
    /// # Errors
    ///
    /// As [`ReceiptChain::set_head`].
    pub fn resume(
        policy: &Policy,
        seed: &Seed,
        head: Option<Digest>,
        next_sequence: u64,
    ) -> Result<Self, Error> {
        let mut chain = Self::from_seed(policy, seed);
        chain.set_head(head, next_sequence)?;
        Ok(chain)
    }

    /// Moves the chain to continue after `head`, the digest of the receipt with sequence
    /// number `next_sequence - 1` (`None` and `0` for an empty chain), for example when
    /// another process appended to the stored chain since this one's last receipt.
    ///
    /// # Errors
    ///
    /// [`lcm_model::Error::UnexpectedValue`] when `head` is `None` but `next_sequence` is not 0, or `head` is a
    /// digest but `next_sequence` is 0; the chain is then left as it was.
    pub fn set_head(&mut self, head: Option<Digest>, next_sequence: u64) -> Result<(), Error> {
        if head.is_some() != (next_sequence > 0) {
            return Err(Error::Model(lcm_model::Error::UnexpectedValue {
                kind: RECEIPT,
                id: head.map_or_else(String::new, |h| h.to_string()),
                field: "sequence",
                expected: if head.is_some() {
                    "a positive next sequence number after a head".to_owned()
                } else {
                    "next sequence number 0 for an empty chain".to_owned()
                },
                actual: next_sequence.to_string(),
            }));
        }
        self.head = head;
        self.next_sequence = next_sequence;
        Ok(())
    }

    /// The last receipt's digest (`None` before the first receipt).
    pub fn head(&self) -> Option<&Digest> {
        self.head.as_ref()
    }

    /// The number of receipts appended so far (also the next sequence number).
    pub fn len(&self) -> u64 {
        self.next_sequence
    }

    /// Whether no receipt has been appended.
    pub fn is_empty(&self) -> bool {
        self.next_sequence == 0
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

    /// Commits to the query and output, links the receipt to the chain head, and returns it
    /// with its digest (which becomes the new head).
    ///
    /// # Errors
    ///
    /// [`lcm_model::Error::UnexpectedValue`] after 2^64 receipts; [`Error::Model`] if metadata cannot be encoded.
    pub fn append(&mut self, fields: ReceiptFields<'_>) -> Result<Sealed<InferenceReceipt>, Error> {
        self.append_encoded(fields).map(|(sealed, _)| sealed)
    }

    /// As [`ReceiptChain::append`], and also returns the receipt's canonical JSON (the bytes
    /// its digest was computed over; valid until the next append), for a caller that stores
    /// it.
    ///
    /// # Errors
    ///
    /// As [`ReceiptChain::append`].
    pub fn append_encoded(
        &mut self,
        fields: ReceiptFields<'_>,
    ) -> Result<(Sealed<InferenceReceipt>, &[u8]), Error> {
        let sequence = self.next_sequence;
        let next = sequence.checked_add(1).ok_or_else(|| {
            Error::Model(lcm_model::Error::UnexpectedValue {
                kind: RECEIPT,
                id: fields.receipt_id.to_owned(),
                field: "sequence",
                expected: "fewer than 2^64 receipts in a chain".to_owned(),
                actual: "2^64".to_owned(),
            })
        })?;
        let input_commitment =
            self.commitment(INPUT_LABEL, sequence, fields.query, fields.input_metadata);
        let output_commitment = self.commitment(
            OUTPUT_LABEL,
            sequence,
            fields.output,
            fields.output_metadata,
        );
        let record = InferenceReceipt {
            receipt_id: fields.receipt_id.to_owned(),
            sequence,
            model_anchor: fields.model_anchor,
            deployment_anchor: fields.deployment_anchor,
            request_id: fields.request_id.to_owned(),
            input_commitment,
            output_commitment,
            explanation_digests: fields.explanation_digests,
            prev_receipt: self.head,
            timestamp: fields.timestamp,
        };
        // One encoding, hashed and returned.
        let (sealed, bytes) = self.encoder.seal(record)?;
        self.head = Some(sealed.digest());
        self.next_sequence = next;
        Ok((sealed, bytes))
    }

    /// Re-derives the openings of the receipt with this sequence number.
    pub fn openings(&self, sequence: u64) -> ReceiptOpenings {
        ReceiptOpenings {
            input: self.committer.opening_labeled(INPUT_LABEL, sequence),
            output: self.committer.opening_labeled(OUTPUT_LABEL, sequence),
        }
    }
}

/// Creates chained receipts, keeps them, and summarizes windows into batches.
///
/// Receipts are kept in chain order (the receipt with sequence `i` at position `i`) with an
/// index from receipt id to position, so that keeping one costs a push and a hash-map insert.
#[derive(Debug)]
pub struct InferenceManager {
    ctx: Context,
    chain: ReceiptChain,
    receipts: Vec<Sealed<InferenceReceipt>>,
    receipt_ids: HashMap<String, usize>,
    batches: BTreeMap<String, Sealed<InferenceBatch>>,
}

impl InferenceManager {
    /// A manager working under `ctx`, with a fresh commitment seed from its randomness.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] when the randomness fails.
    pub fn new(ctx: Context) -> Result<Self, Error> {
        let chain = ReceiptChain::new(&ctx)?;
        Ok(Self {
            ctx,
            chain,
            receipts: Vec::new(),
            receipt_ids: HashMap::new(),
            batches: BTreeMap::new(),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.ctx.policy()
    }

    /// The receipt chain (its head and length).
    pub fn chain(&self) -> &ReceiptChain {
        &self.chain
    }

    /// Creates the next receipt of the chain (the seed's `create_inference_receipt`).
    ///
    /// The deployment must be known to `deployments`, currently `Deployed`, and release the
    /// given model anchor.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`]; [`Error::Empty`] for an empty receipt or request id;
    /// [`lcm_model::Error::DuplicateId`] for a receipt id already used; [`Error::UnknownReference`] for
    /// an unknown deployment; [`Error::Unauthorized`] when the deployment does not release
    /// this model or is not currently deployed.
    pub fn create_inference_receipt(
        &mut self,
        deployments: &DeploymentManager,
        request: InferenceRequest<'_>,
    ) -> Result<Sealed<InferenceReceipt>, Error> {
        if !self.ctx.policy().allows(DomainType::Inference) {
            return Err(Error::DomainNotAllowed {
                domain: "inference",
            });
        }
        let id = request.receipt_id;
        non_empty(RECEIPT, id, "receipt_id", id)?;
        non_empty(RECEIPT, id, "request_id", request.request_id)?;
        let release =
            deployments
                .release(request.deployment_id)
                .ok_or_else(|| Error::UnknownReference {
                    kind: RECEIPT,
                    id: id.to_owned(),
                    field: "deployment_anchor_ref",
                    reference: request.deployment_id.to_owned(),
                })?;
        if release.model_anchor != *request.model_anchor {
            return Err(Error::Unauthorized {
                kind: RECEIPT,
                id: id.to_owned(),
                field: "model_anchor_ref",
                reference: request.model_anchor.to_string(),
            });
        }
        if release.status != lcm_model::records::deployment::DeploymentStatus::Deployed {
            return Err(Error::Unauthorized {
                kind: RECEIPT,
                id: id.to_owned(),
                field: "deployment_anchor_ref",
                reference: format!("{} ({})", request.deployment_id, release.status.name()),
            });
        }
        // One hash of the id, whether it is taken or not.
        let position = self.receipts.len();
        let slot = match self.receipt_ids.entry(id.to_owned()) {
            Entry::Occupied(_) => {
                return Err(Error::Model(lcm_model::Error::DuplicateId {
                    kind: RECEIPT,
                    id: id.to_owned(),
                }));
            }
            Entry::Vacant(slot) => slot,
        };
        let sealed = self.chain.append(ReceiptFields {
            receipt_id: id,
            model_anchor: release.model_anchor,
            deployment_anchor: release.deployment,
            request_id: request.request_id,
            query: request.query,
            output: request.output,
            input_metadata: request.input_metadata,
            output_metadata: request.output_metadata,
            explanation_digests: request.explanation_digests,
            timestamp: self.ctx.now(),
        })?;
        slot.insert(position);
        self.receipts.push(sealed.clone());
        Ok(sealed)
    }

    /// The receipt with this id.
    pub fn receipt(&self, receipt_id: &str) -> Option<&Sealed<InferenceReceipt>> {
        self.receipt_ids
            .get(receipt_id)
            .and_then(|&i| self.receipts.get(i))
    }

    /// Every receipt of the chain, in order (for
    /// [`verify_receipt_chain`](crate::verify_receipt_chain) or a batch).
    pub fn receipts(&self) -> &[Sealed<InferenceReceipt>] {
        &self.receipts
    }

    /// Re-derives the openings of a receipt this manager made, for selective disclosure.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownReference`] when the receipt is not one of this manager's (unknown id,
    /// or a receipt whose digest differs from the one made under that id).
    pub fn opening<S: Seal<Record = InferenceReceipt>>(
        &self,
        receipt: &S,
    ) -> Result<ReceiptOpenings, Error> {
        let id = &receipt.record().receipt_id;
        match self.receipt(id) {
            Some(own) if own.digest() == receipt.digest() && own.record() == receipt.record() => {
                Ok(self.chain.openings(own.record().sequence))
            }
            _ => Err(Error::UnknownReference {
                kind: RECEIPT,
                id: id.clone(),
                field: "receipt",
                reference: receipt.digest().to_string(),
            }),
        }
    }

    /// Summarizes a contiguous run of receipts as a batch (the seed's
    /// `process_inference_batch`): the RFC 9162 root over their digests, their count, the
    /// first and last digests and timestamps.
    ///
    /// The receipts must be consecutive links of one chain (each one's `prev_receipt` is the
    /// digest before it, sequences count up by one). Their stored digests are used as they
    /// are; [`verify_receipt_chain`](crate::verify_receipt_chain) recomputes them.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for an empty window id; [`lcm_model::Error::DuplicateId`] for a window already
    /// processed; [`Error::Model`] as [`lcm_model::verify::compute_inference_batch`]
    /// (`EmptyCollection` for no receipts; `ChainOrder`, `ChainGap`, `ChainLink` for receipts
    /// that are not consecutive).
    pub fn process_inference_batch<S: Seal<Record = InferenceReceipt>>(
        &mut self,
        window_id: &str,
        receipts: &[S],
    ) -> Result<Sealed<InferenceBatch>, Error> {
        non_empty(BATCH, window_id, "window_id", window_id)?;
        if self.batches.contains_key(window_id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: BATCH,
                id: window_id.to_owned(),
            }));
        }
        let batch = compute_inference_batch(self.ctx.policy(), window_id, receipts)?;
        let sealed = Sealed::seal(batch, self.ctx.policy())?;
        self.batches.insert(window_id.to_owned(), sealed.clone());
        Ok(sealed)
    }

    /// A streaming builder for the batch `window_id`; finish it with
    /// [`InferenceManager::finish_batch`].
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for an empty window id; [`lcm_model::Error::DuplicateId`] for a window already
    /// processed.
    pub fn batch_builder(&self, window_id: &str) -> Result<InferenceBatchBuilder, Error> {
        non_empty(BATCH, window_id, "window_id", window_id)?;
        if self.batches.contains_key(window_id) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: BATCH,
                id: window_id.to_owned(),
            }));
        }
        Ok(InferenceBatchBuilder::new(self.ctx.policy(), window_id))
    }

    /// Finishes a streaming batch and keeps it.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] as [`InferenceBatchBuilder::finish`], and [`lcm_model::Error::DuplicateId`] for a
    /// window already processed.
    pub fn finish_batch(
        &mut self,
        builder: InferenceBatchBuilder,
    ) -> Result<Sealed<InferenceBatch>, Error> {
        if self.batches.contains_key(builder.window_id()) {
            return Err(Error::Model(lcm_model::Error::DuplicateId {
                kind: BATCH,
                id: builder.window_id().to_owned(),
            }));
        }
        let batch = builder.finish()?;
        let sealed = Sealed::seal(batch, self.ctx.policy())?;
        self.batches
            .insert(sealed.record().window_id.clone(), sealed.clone());
        Ok(sealed)
    }

    /// The batch of this window.
    pub fn batch(&self, window_id: &str) -> Option<&Sealed<InferenceBatch>> {
        self.batches.get(window_id)
    }
}

#[cfg(test)]
mod tests {
    use lcm_crypto::merkle::{CompactRange, MerkleTree};
    use lcm_model::Error as ModelError;
    use lcm_model::records::deployment::DeploymentStatus;
    use lcm_model::verify::{
        ReceiptLink, verify_commitment, verify_receipt_chain, verify_receipt_segment,
    };
    use lcm_model::{Record, canonical};
    use serde_json::json;

    use super::*;
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
            assert!(matches!(
                ReceiptChain::resume(&policy, &seed, h, next),
                Err(Error::Model(lcm_model::Error::UnexpectedValue {
                    field: "sequence",
                    ..
                }))
            ));
        }
        let mut c = ReceiptChain::resume(&policy, &seed, Some(head), 3).unwrap();
        assert!(c.set_head(None, 3).is_err());
        assert_eq!((c.head(), c.len()), (Some(&head), 3), "left as it was");
        // Sequence number 2^64 - 1 is never used: the chain would have no next sequence.
        c.set_head(Some(head), u64::MAX).unwrap();
        assert!(matches!(
            c.append(fields("a", 0)),
            Err(Error::Model(lcm_model::Error::UnexpectedValue {
                field: "sequence",
                ..
            }))
        ));
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
                assert!(matches!(
                    verify_commitment(m.policy(), &edited, b"query 0", &o.input),
                    Err(ModelError::UnexpectedValue {
                        field: "plaintext",
                        ..
                    })
                ));
            }
        }
    }

    #[test]
    fn domain_restriction_is_honoured() {
        let policy = Policy {
            kdf_iterations: 100_000,
            domains: vec![DomainType::Deployment],
            ..Policy::default()
        };
        let d = deployed();
        let mut m = InferenceManager::new(Context::with_policy(policy).unwrap()).unwrap();
        assert!(matches!(
            m.create_inference_receipt(&d, InferenceRequest::new("x", &MODEL, "deploy_001", "r")),
            Err(Error::DomainNotAllowed {
                domain: "inference"
            })
        ));
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
        assert!(matches!(
            verify_receipt_chain(ctx().policy(), &rs),
            Err(ModelError::SealMismatch { .. })
        ));
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
        assert!(
            verify_commitment(p, &rs[0].record().input_commitment, b"query 1", &o0.input).is_err()
        );
        assert!(
            verify_commitment(p, &rs[0].record().input_commitment, b"query 0", &o1.input).is_err()
        );
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
        assert!(matches!(
            m.opening(&foreign),
            Err(Error::UnknownReference { .. })
        ));
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
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::SealMismatch { .. })
        ));
        // Reordered.
        let mut t = rs.clone();
        t.swap(1, 3);
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::ChainGap {
                index: 1,
                expected: 1,
                actual: 3,
                ..
            })
        ));
        let mut t = rs.clone();
        t.swap(2, 1);
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::ChainGap {
                index: 1,
                expected: 1,
                actual: 2,
                ..
            })
        ));
        // Dropped in the middle, at the front.
        let mut t = rs.clone();
        t.remove(2);
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::ChainGap {
                index: 2,
                expected: 2,
                actual: 3,
                ..
            })
        ));
        assert!(matches!(
            verify_receipt_chain(&p, &rs[1..]),
            Err(ModelError::ChainGap {
                index: 0,
                expected: 0,
                actual: 1,
                ..
            })
        ));
        // ... but the same run verifies as a segment after its predecessor.
        verify_receipt_segment(&p, Some((rs[0].digest(), 0)), &rs[1..]).unwrap();
        assert!(matches!(
            verify_receipt_segment(&p, Some((rs[1].digest(), 0)), &rs[1..]),
            Err(ModelError::ChainLink { index: 0, .. })
        ));
        // Duplicated.
        let mut t = rs.clone();
        t.insert(3, rs[2].clone());
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::DuplicateId { .. })
        ));
        // Going back without repeating a digest: a receipt of another chain re-sealed with a
        // lower sequence number.
        let mut t = rs.clone();
        t[3].record.sequence = 1;
        t[3].digest = t[3].record().digest(&p).unwrap();
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::ChainOrder {
                index: 3,
                expected: 3,
                actual: 1,
                ..
            })
        ));
        // Forged link with a valid digest and sequence.
        let mut t = rs.clone();
        t[4].record.prev_receipt = Some(Digest::from_bytes([0; 32]));
        t[4].digest = t[4].record().digest(&p).unwrap();
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::ChainLink { index: 4, .. })
        ));
        // A first receipt that claims a predecessor.
        let mut t = rs[..1].to_vec();
        t[0].record.prev_receipt = Some(Digest::from_bytes([0; 32]));
        t[0].digest = t[0].record().digest(&p).unwrap();
        assert!(matches!(
            verify_receipt_chain(&p, &t),
            Err(ModelError::ChainLink { index: 0, .. })
        ));
        // Wrong policy.
        let blake = Policy {
            hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
            ..p.clone()
        };
        assert!(matches!(
            verify_receipt_chain(&blake, &rs),
            Err(ModelError::SealMismatch { .. })
        ));
        assert!(matches!(
            verify_receipt_chain::<Claimed<InferenceReceipt>>(&p, &[]),
            Err(ModelError::EmptyCollection { .. })
        ));
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
        assert!(matches!(
            m.process_inference_batch::<Sealed<InferenceReceipt>>("w", &[]),
            Err(Error::Model(ModelError::EmptyCollection {
                field: "receipts",
                ..
            }))
        ));
        assert!(matches!(
            m.batch_builder("w").unwrap().finish(),
            Err(ModelError::EmptyCollection {
                field: "receipts",
                ..
            })
        ));
        assert!(matches!(
            m.process_inference_batch("", &rs),
            Err(Error::Empty {
                field: "window_id",
                ..
            })
        ));
        let gap = [rs[0].clone(), rs[2].clone()];
        assert!(matches!(
            m.process_inference_batch("w", &gap),
            Err(Error::Model(ModelError::ChainGap { .. }))
        ));
        let back = [rs[2].clone(), rs[1].clone()];
        assert!(matches!(
            m.process_inference_batch("w", &back),
            Err(Error::Model(ModelError::ChainOrder { .. }))
        ));
        let dup = [rs[2].clone(), rs[2].clone()];
        assert!(matches!(
            m.process_inference_batch("w", &dup),
            Err(Error::Model(ModelError::ChainOrder { .. }))
        ));
        let mut forged = rs[3].to_claimed();
        forged.record.prev_receipt = Some(Digest::from_bytes([0; 32]));
        assert!(matches!(
            m.process_inference_batch("w", &[rs[2].to_claimed(), forged.clone()]),
            Err(Error::Model(ModelError::ChainLink { .. }))
        ));
        let mut b = m.batch_builder("w").unwrap();
        b.push_receipt(&rs[2]).unwrap();
        assert!(matches!(
            b.push_receipt(&forged),
            Err(ModelError::ChainLink { .. })
        ));
        assert!(matches!(
            b.push_receipt(&rs[4]),
            Err(ModelError::ChainGap { .. })
        ));
        assert!(matches!(
            b.push_receipt(&rs[2]),
            Err(ModelError::ChainOrder { .. })
        ));
        assert_eq!(b.len(), 1, "refused receipts are not added");
        b.push_receipt(&rs[3]).unwrap();
        m.process_inference_batch("w", &rs).unwrap();
        assert!(matches!(
            m.process_inference_batch("w", &rs),
            Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
        ));
        assert!(matches!(
            m.batch_builder("w"),
            Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
        ));
        assert!(matches!(
            m.finish_batch(b),
            Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
        ));
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
}
