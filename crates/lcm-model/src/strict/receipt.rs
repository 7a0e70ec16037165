//! One claimed receipt parsed and strictly checked in a single pass over its bytes.
//!
//! A streamed bundle holds a million receipts; parsing each with `serde_json` and then
//! scanning the same bytes again for [`check_json`](super::check_json) costs about half of
//! the verifier's time. [`claimed_receipt`] reads the receipt's fixed shape by hand and checks,
//! as it goes, what the strict check would refuse: a repeated key (in the receipt's structs as
//! in its free-form commitment metadata) and a number an `f64` does not hold exactly (which can
//! only occur in the metadata: every other number of a receipt is its `u64` sequence).
//!
//! It is a fast path with a safe fallback, not a second definition of the format: it accepts a
//! subset of what `serde_json` plus the strict check accept, and gives the same value for it.
//! Anything outside that subset — a key with an escape, a field left out, a digest in another
//! case, a number `serde_json` would round, input that ends early, a thread reading input
//! notation ([`Digest::accepting_input`], [`Timestamp::accepting_rfc3339`]) — makes it return
//! `None`, and the caller parses the same bytes the general way, which names the error (or
//! accepts what this path does not bother with). The unit tests check the subset property on
//! every one-byte change of many receipts.

use lcm_crypto::{CommitmentScheme, Digest};

use super::reader::{Reader, put};
use crate::records::{InferenceCommitment, InferenceReceipt};
use crate::{Claimed, Timestamp};

/// A receipt read by [`claimed_receipt`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Parsed {
    /// The receipt and the digest claimed for it.
    pub receipt: Claimed<InferenceReceipt>,
    /// How many bytes it took, from the start of the input (white space before it included,
    /// none after it).
    pub len: usize,
    /// How deep its objects and arrays nest, as
    /// [`check_json_nesting`](super::check_json_nesting) counts them.
    pub nesting: usize,
}

/// Parses the claimed receipt (`{"record": {...}, "digest": "..."}`) at the start of `bytes`,
/// with the strict check fused in: `Some` only when `serde_json` would parse the same bytes into
/// the same `Claimed<InferenceReceipt>` and [`check_json`](super::check_json) would pass them;
/// `None` when the caller must parse them the general way (see the module docs).
///
/// This does not panic.
pub fn claimed_receipt(bytes: &[u8]) -> Option<Parsed> {
    let mut p = Reader::new(bytes)?;
    let receipt = p.claimed()?;
    Some(Parsed {
        receipt,
        len: p.i,
        nesting: p.deepest,
    })
}

impl Reader<'_> {
    /// `{"record": ..., "digest": ...}`, at depth 0.
    fn claimed(&mut self) -> Option<Claimed<InferenceReceipt>> {
        let (mut record, mut digest) = (None, None);
        self.object(0, |p, key| {
            match key {
                b"record" => put(&mut record, p.receipt()?)?,
                b"digest" => put(&mut digest, p.digest()?)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(Claimed {
            record: record?,
            digest: digest?,
        })
    }

    /// The receipt, at depth 1.
    fn receipt(&mut self) -> Option<InferenceReceipt> {
        let mut f = ReceiptFields::default();
        self.object(1, |p, key| {
            match key {
                b"receipt_id" => put(&mut f.receipt_id, p.string()?.into_owned())?,
                b"sequence" => put(&mut f.sequence, p.u64()?)?,
                b"model_anchor" => put(&mut f.model_anchor, p.digest()?)?,
                b"deployment_anchor" => put(&mut f.deployment_anchor, p.digest()?)?,
                b"request_id" => put(&mut f.request_id, p.string()?.into_owned())?,
                b"input_commitment" => put(&mut f.input_commitment, p.commitment()?)?,
                b"output_commitment" => put(&mut f.output_commitment, p.commitment()?)?,
                b"explanation_digests" => put(&mut f.explanation_digests, p.digests(2)?)?,
                b"prev_receipt" => put(&mut f.prev_receipt, p.optional_digest()?)?,
                b"timestamp" => put(&mut f.timestamp, p.string()?.parse().ok()?)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(InferenceReceipt {
            receipt_id: f.receipt_id?,
            sequence: f.sequence?,
            model_anchor: f.model_anchor?,
            deployment_anchor: f.deployment_anchor?,
            request_id: f.request_id?,
            input_commitment: f.input_commitment?,
            output_commitment: f.output_commitment?,
            explanation_digests: f.explanation_digests?,
            prev_receipt: f.prev_receipt?,
            timestamp: f.timestamp?,
        })
    }

    /// A commitment, at depth 2.
    fn commitment(&mut self) -> Option<InferenceCommitment> {
        let (mut scheme, mut value, mut metadata, mut plaintext) = (None, None, None, None);
        self.object(2, |p, key| {
            match key {
                b"scheme" => put(&mut scheme, p.string()?.parse::<CommitmentScheme>().ok()?)?,
                b"value" => put(&mut value, p.digest()?)?,
                b"metadata" => put(&mut metadata, p.map(3)?)?,
                b"plaintext" => put(&mut plaintext, p.optional_string()?)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(InferenceCommitment {
            scheme: scheme?,
            value: value?,
            metadata: metadata?,
            plaintext: plaintext?,
        })
    }
}

/// The fields of a receipt as they are read, in any order.
#[derive(Default)]
struct ReceiptFields {
    receipt_id: Option<String>,
    sequence: Option<u64>,
    model_anchor: Option<Digest>,
    deployment_anchor: Option<Digest>,
    request_id: Option<String>,
    input_commitment: Option<InferenceCommitment>,
    output_commitment: Option<InferenceCommitment>,
    explanation_digests: Option<Vec<Digest>>,
    prev_receipt: Option<Option<Digest>>,
    timestamp: Option<Timestamp>,
}

#[cfg(test)]
mod tests;
