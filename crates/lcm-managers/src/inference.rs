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
use crate::restore::{fresh_id, new_id};
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
            return Err(Error::unexpected(
                RECEIPT,
                head.map_or_else(String::new, |h| h.to_string()),
                "sequence",
                if head.is_some() {
                    "a positive next sequence number after a head".to_owned()
                } else {
                    "next sequence number 0 for an empty chain".to_owned()
                },
                next_sequence.to_string(),
            ));
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
            Error::unexpected(
                RECEIPT,
                fields.receipt_id.to_owned(),
                "sequence",
                "fewer than 2^64 receipts in a chain".to_owned(),
                "2^64".to_owned(),
            )
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
        let release = deployments.release(request.deployment_id).ok_or_else(|| {
            Error::unknown_reference(RECEIPT, id, "deployment_anchor_ref", request.deployment_id)
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
            _ => Err(Error::unknown_reference(
                RECEIPT,
                id.clone(),
                "receipt",
                receipt.digest().to_string(),
            )),
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
        new_id(BATCH, "window_id", window_id, &self.batches)?;
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
        new_id(BATCH, "window_id", window_id, &self.batches)?;
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
        fresh_id(
            BATCH,
            builder.window_id(),
            self.batches.contains_key(builder.window_id()),
        )?;
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
mod tests;
