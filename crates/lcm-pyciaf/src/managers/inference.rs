//! The reference's inference manager (`LCMInferenceManager`, `LCMInferenceConnections`,
//! `LCMInferenceReceipt`).

use crate::{self as rules, ReceiptFields};
use lcm_crypto::CommitmentScheme;

use super::{DeploymentAnchor, Error, ModelAnchor, PyciafContext, jstr, sha256_hex, upsert};
use super::{find_keyed, upsert_keyed};

/// The connections chain's starting sentinel (`current_connections_digest = "genesis"`).
const GENESIS: &str = "genesis";

/// An `LCMInferenceCommitment`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InferenceCommitment {
    /// `commitment_type`.
    pub commitment_type: CommitmentScheme,
    /// `commitment_value`: the data itself for `plaintext`, else 16 hex + `...`.
    pub commitment_value: String,
}

/// An `LCMInferenceReceipt`. Unlike the reference, it does not keep the raw query and output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InferenceReceipt {
    /// `receipt_id` (`inference_id`).
    pub receipt_id: String,
    /// `model_anchor_ref`.
    pub model_anchor_ref: String,
    /// `deployment_anchor_ref`.
    pub deployment_anchor_ref: String,
    /// `request_id`.
    pub request_id: String,
    /// `input_commitment`.
    pub input_commitment: InferenceCommitment,
    /// `output_commitment`.
    pub output_commitment: InferenceCommitment,
    /// `explanation_digests`.
    pub explanation_digests: Vec<String>,
    /// `timestamp`.
    pub timestamp: String,
    /// `prev_connections_digest` (`None` for the first receipt of a chain).
    pub prev_connections_digest: Option<String>,
    /// `receipt_digest`: the canonical hash of the eight receipt fields (not the previous
    /// link).
    pub receipt_digest: String,
    /// `connections_digest`: `sha256(prev + "||" + receipt_digest)`, or
    /// `sha256(receipt_digest)` first.
    pub connections_digest: String,
    /// `anchor_id`: `r_` + 8 hex + `...`.
    pub anchor_id: String,
}

impl InferenceReceipt {
    fn fields(&self) -> (Vec<&str>, ReceiptFields<'_>) {
        let explanations: Vec<&str> = self
            .explanation_digests
            .iter()
            .map(String::as_str)
            .collect();
        let fields = ReceiptFields {
            receipt_id: &self.receipt_id,
            model_anchor_ref: &self.model_anchor_ref,
            deployment_anchor_ref: &self.deployment_anchor_ref,
            request_id: &self.request_id,
            input_commitment: &self.input_commitment.commitment_value,
            output_commitment: &self.output_commitment.commitment_value,
            explanation_digests: &[],
            timestamp: &self.timestamp,
        };
        (explanations, fields)
    }

    /// The receipt digest recomputed from the receipt's fields.
    fn recompute_digest(&self) -> String {
        let (explanations, fields) = self.fields();
        rules::receipt_digest(&ReceiptFields {
            explanation_digests: &explanations,
            ..fields
        })
    }

    /// `inference_type`: always `"standard"`.
    pub const fn inference_type(&self) -> &'static str {
        "standard"
    }
}

/// An `LCMInferenceConnections` chain: its receipts and the current connections digest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InferenceConnections {
    /// `connections_id`.
    pub connections_id: String,
    /// `receipts`, in order.
    pub receipts: Vec<InferenceReceipt>,
    /// `current_connections_digest` (`"genesis"` before the first receipt).
    pub current_connections_digest: String,
}

impl InferenceConnections {
    /// `get_final_connections_digest()`.
    pub fn get_final_connections_digest(&self) -> &str {
        &self.current_connections_digest
    }
}

/// Checks a connections chain by **recomputing** every receipt digest and connections digest
/// (the reference's `verify_connections_integrity` compares stored pointers only), and that
/// the chain ends at `final_connections_digest` (`"genesis"` for no receipts).
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::Field`] naming the first receipt whose digest, previous link or connections digest
/// does not follow from its fields, or a final digest that is not the last receipt's.
pub fn verify_connections(
    receipts: &[InferenceReceipt],
    final_connections_digest: &str,
) -> Result<(), Error> {
    let mut prev: Option<&str> = None;
    for r in receipts {
        let fail = |field: &'static str, actual: &str| Error::Field {
            field,
            expected: "the value recomputed from the receipt and the previous link",
            actual: format!("{actual} in receipt {:?}", r.receipt_id),
        };
        let digest = r.recompute_digest();
        if digest != r.receipt_digest {
            return Err(fail("receipt_digest", &r.receipt_digest));
        }
        if r.prev_connections_digest.as_deref() != prev {
            return Err(fail(
                "prev_connections_digest",
                r.prev_connections_digest.as_deref().unwrap_or("None"),
            ));
        }
        if rules::connections_digest(prev, &digest) != r.connections_digest {
            return Err(fail("connections_digest", &r.connections_digest));
        }
        prev = Some(&r.connections_digest);
    }
    if prev.unwrap_or(GENESIS) != final_connections_digest {
        return Err(Error::Field {
            field: "current_connections_digest",
            expected: "the last receipt's connections digest",
            actual: final_connections_digest.to_owned(),
        });
    }
    Ok(())
}

/// The arguments of `perform_inference_with_audit`.
#[derive(Debug, Clone, Copy)]
pub struct InferenceRequest<'a> {
    /// The chain (`connections_id`), created on first use.
    pub connections_id: &'a str,
    /// `receipt_id`.
    pub receipt_id: &'a str,
    /// `model_anchor_ref` (the reference passes a model anchor's display id).
    pub model_anchor_ref: &'a str,
    /// `deployment_anchor_ref`.
    pub deployment_anchor_ref: &'a str,
    /// `request_id`.
    pub request_id: &'a str,
    /// `query` (committed, not kept).
    pub query: &'a str,
    /// `ai_output` (committed, not kept).
    pub ai_output: &'a str,
    /// `explanation_digests`.
    pub explanation_digests: &'a [&'a str],
}

impl<'a> InferenceRequest<'a> {
    /// A request without explanation digests.
    pub const fn new(
        connections_id: &'a str,
        receipt_id: &'a str,
        model_anchor_ref: &'a str,
        deployment_anchor_ref: &'a str,
        request_id: &'a str,
        query: &'a str,
        ai_output: &'a str,
    ) -> Self {
        Self {
            connections_id,
            receipt_id,
            model_anchor_ref,
            deployment_anchor_ref,
            request_id,
            query,
            ai_output,
            explanation_digests: &[],
        }
    }
}

/// The reference's `LCMInferenceManager`: connections chains by id, each holding its previous
/// connections digest, and the batch roots made over them.
#[derive(Debug)]
pub struct InferenceManager {
    ctx: PyciafContext,
    connections: Vec<InferenceConnections>,
    receipts: Vec<InferenceReceipt>,
    batch_windows: Vec<(String, String)>,
}

impl InferenceManager {
    /// A manager with no chains.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            connections: Vec::new(),
            receipts: Vec::new(),
            batch_windows: Vec::new(),
        }
    }

    /// `create_inference_connections(connections_id)`: a new, empty chain (replacing one with
    /// the same id, as the reference's dict does).
    pub fn create_inference_connections(&mut self, connections_id: &str) -> &InferenceConnections {
        let chain = InferenceConnections {
            connections_id: connections_id.to_owned(),
            receipts: Vec::new(),
            current_connections_digest: GENESIS.to_owned(),
        };
        upsert_keyed(&mut self.connections, chain)
    }

    /// `get_inference_connections(connections_id)`.
    pub fn get_inference_connections(&self, connections_id: &str) -> Option<&InferenceConnections> {
        self.connections
            .iter()
            .find(|c| c.connections_id == connections_id)
    }

    /// `_create_commitment(data)` under the policy: the data itself (`plaintext`), or 16 hex
    /// of `sha256(salt || data)` / `HMAC(key, data)` + `...` with a 16-byte salt or 32-byte key
    /// drawn from the context and not kept (as the reference draws and drops them).
    fn commit(&self, data: &str, which: &'static str) -> Result<InferenceCommitment, Error> {
        let kind = self.ctx.policy().commitments;
        let secret = match kind {
            CommitmentScheme::Salted => self.ctx.random_bytes(16)?,
            CommitmentScheme::Hmac => self.ctx.random_bytes(32)?,
            _ => Vec::new(),
        };
        let value = rules::commitment(kind.name(), &jstr(data), &secret)?;
        if value.is_empty() {
            // pydantic's `commitment_value: min_length=1` refuses an empty plaintext.
            return Err(Error::Field {
                field: which,
                expected: "a non-empty value (commitment_value has min_length 1)",
                actual: "an empty string".to_owned(),
            });
        }
        Ok(InferenceCommitment {
            commitment_type: kind,
            commitment_value: value,
        })
    }

    /// `perform_inference_with_audit(...)`: commits to the query and the output, links the
    /// receipt to the chain's current connections digest (none for the first), stamps it with
    /// the clock, appends it and moves the chain's digest forward. The chain is created on
    /// first use.
    ///
    /// # Errors
    ///
    /// [`Error::Field`] for an empty query or output under `plaintext`, [`Error::Crypto`] when
    /// randomness fails.
    pub fn perform_inference_with_audit(
        &mut self,
        request: &InferenceRequest<'_>,
    ) -> Result<&InferenceReceipt, Error> {
        let input_commitment = self.commit(request.query, "query")?;
        let output_commitment = self.commit(request.ai_output, "ai_output")?;
        if self
            .get_inference_connections(request.connections_id)
            .is_none()
        {
            self.create_inference_connections(request.connections_id);
        }
        let timestamp = self.ctx.now_isoformat();
        let chain = self
            .connections
            .iter_mut()
            .find(|c| c.connections_id == request.connections_id)
            .ok_or_else(|| Error::Unknown {
                kind: "inference connections",
                id: request.connections_id.to_owned(),
            })?;
        let prev = (chain.current_connections_digest != GENESIS)
            .then(|| chain.current_connections_digest.clone());
        let receipt_digest = rules::receipt_digest(&ReceiptFields {
            receipt_id: request.receipt_id,
            model_anchor_ref: request.model_anchor_ref,
            deployment_anchor_ref: request.deployment_anchor_ref,
            request_id: request.request_id,
            input_commitment: &input_commitment.commitment_value,
            output_commitment: &output_commitment.commitment_value,
            explanation_digests: request.explanation_digests,
            timestamp: &timestamp,
        });
        let connections_digest = rules::connections_digest(prev.as_deref(), &receipt_digest);
        chain
            .current_connections_digest
            .clone_from(&connections_digest);
        chain.receipts.push(InferenceReceipt {
            receipt_id: request.receipt_id.to_owned(),
            model_anchor_ref: request.model_anchor_ref.to_owned(),
            deployment_anchor_ref: request.deployment_anchor_ref.to_owned(),
            request_id: request.request_id.to_owned(),
            input_commitment,
            output_commitment,
            explanation_digests: request
                .explanation_digests
                .iter()
                .map(|d| (*d).to_owned())
                .collect(),
            timestamp,
            prev_connections_digest: prev,
            anchor_id: rules::display_id("r_", &receipt_digest),
            receipt_digest,
            connections_digest,
        });
        chain.receipts.last().ok_or(Error::Unknown {
            kind: "receipt",
            id: String::new(),
        })
    }

    /// `create_inference_receipt(inference_id, model_anchor, deployment_anchor, query,
    /// response, prev_receipt_hash=...)` with salted commitments, the reference's other receipt
    /// path: each commitment is the **full** `sha256(utf8(salt_hex + text))`, where `salt_hex`
    /// is 32 hex characters (`secrets.token_hex(16)`, drawn here from the context's
    /// randomness); the references are the anchors' truncated display ids; `request_id` is the
    /// inference id; `prev_receipt_hash` becomes `prev_connections_digest`. The receipt is
    /// stored by id and joins no connections chain, so no batch root covers it (as in the
    /// reference).
    ///
    /// # Errors
    ///
    /// [`Error::Field`] for an empty response (the reference would pick a canned one with
    /// Python's per-process `hash()`, which cannot be reproduced), [`Error::Crypto`] when
    /// randomness fails.
    pub fn create_inference_receipt(
        &mut self,
        inference_id: &str,
        model_anchor: &ModelAnchor,
        deployment_anchor: &DeploymentAnchor,
        query: &str,
        response: &str,
        prev_receipt_hash: Option<&str>,
    ) -> Result<&InferenceReceipt, Error> {
        if response.is_empty() {
            return Err(Error::Field {
                field: "response",
                expected: "a recorded response (the reference's canned ones depend on hash())",
                actual: "an empty string".to_owned(),
            });
        }
        let commit = |text: &str| -> Result<InferenceCommitment, Error> {
            let salt = lcm_crypto::hex::encode(&self.ctx.random_bytes(16)?);
            Ok(InferenceCommitment {
                commitment_type: CommitmentScheme::Salted,
                commitment_value: sha256_hex(&format!("{salt}{text}")),
            })
        };
        let input_commitment = commit(query)?;
        let output_commitment = commit(response)?;
        let timestamp = self.ctx.now_isoformat();
        let receipt_digest = rules::receipt_digest(&ReceiptFields {
            receipt_id: inference_id,
            model_anchor_ref: &model_anchor.anchor_id,
            deployment_anchor_ref: &deployment_anchor.anchor_id,
            request_id: inference_id,
            input_commitment: &input_commitment.commitment_value,
            output_commitment: &output_commitment.commitment_value,
            explanation_digests: &[],
            timestamp: &timestamp,
        });
        let prev = prev_receipt_hash.filter(|p| !p.is_empty());
        let receipt = InferenceReceipt {
            receipt_id: inference_id.to_owned(),
            model_anchor_ref: model_anchor.anchor_id.clone(),
            deployment_anchor_ref: deployment_anchor.anchor_id.clone(),
            request_id: inference_id.to_owned(),
            input_commitment,
            output_commitment,
            explanation_digests: Vec::new(),
            timestamp,
            prev_connections_digest: prev.map(str::to_owned),
            connections_digest: rules::connections_digest(prev, &receipt_digest),
            anchor_id: rules::display_id("r_", &receipt_digest),
            receipt_digest,
        };
        Ok(upsert_keyed(&mut self.receipts, receipt))
    }

    /// A receipt made by [`InferenceManager::create_inference_receipt`], by id.
    pub fn get_inference_receipt(&self, inference_id: &str) -> Option<&InferenceReceipt> {
        find_keyed(&self.receipts, inference_id)
    }

    /// `create_inference_batch_root(window_id, connections_ids)`: the reference's tree over the
    /// **receipt** digests of the named chains, in the given order (unknown ids skipped);
    /// `"empty_batch"` when there are none. A non-empty root is stored for the window.
    ///
    /// # Errors
    ///
    /// A rule's error, which stored receipts never cause.
    pub fn create_inference_batch_root(
        &mut self,
        window_id: &str,
        connections_ids: &[&str],
    ) -> Result<String, Error> {
        let digests: Vec<&str> = connections_ids
            .iter()
            .filter_map(|id| self.get_inference_connections(id))
            .flat_map(|c| c.receipts.iter().map(|r| r.receipt_digest.as_str()))
            .collect();
        let root = rules::batch_root(&digests)?;
        if !digests.is_empty() {
            upsert(
                &mut self.batch_windows,
                |(w, _)| w == window_id,
                (window_id.to_owned(), root.clone()),
            );
        }
        Ok(root)
    }

    /// `get_batch_root(window_id)`.
    pub fn get_batch_root(&self, window_id: &str) -> Option<&str> {
        self.batch_windows
            .iter()
            .find(|(w, _)| w == window_id)
            .map(|(_, r)| r.as_str())
    }
}
