//! Inference: receipt chains (whole or in segments), disclosed commitments, and batches of
//! consecutive receipts, at once or streamed in `O(log n)` memory.

use std::collections::HashSet;

use lcm_crypto::merkle::{CompactRange, MerkleTree};
use lcm_crypto::{Commitment, Digest, Opening};

use super::{check_chain_link, check_sequence};
use crate::records::{InferenceBatch, InferenceCommitment, InferenceReceipt, ReceiptEncoder};
use crate::{Error, Policy, Seal, Timestamp};

/// The kind names used in error messages.
const RECEIPT: &str = "inference receipt";
const BATCH: &str = "inference batch";

/// `cur` must directly follow `prev` (whose digest is `prev_digest`) in one chain.
fn check_link(
    index: u64,
    prev: &InferenceReceipt,
    prev_digest: &Digest,
    cur: &InferenceReceipt,
) -> Result<(), Error> {
    check_link_parts(
        index,
        prev.sequence,
        prev_digest,
        &cur.receipt_id,
        cur.sequence,
        cur.prev_receipt,
    )
}

fn check_link_parts(
    index: u64,
    prev_sequence: u64,
    prev_digest: &Digest,
    id: &str,
    sequence: u64,
    prev_receipt: Option<Digest>,
) -> Result<(), Error> {
    let expected = prev_sequence
        .checked_add(1)
        .ok_or_else(|| Error::ChainOrder {
            kind: RECEIPT,
            id: id.to_owned(),
            index,
            expected: u64::MAX,
            actual: sequence,
        })?;
    check_sequence(RECEIPT, id, index, expected, sequence)?;
    check_chain_link(RECEIPT, id, index, Some(*prev_digest), prev_receipt)?;
    Ok(())
}

/// The batch of `window_id` over consecutive receipts: the RFC 9162 root, under the policy's
/// hash algorithm, over their stored digests in order, with the count, the first and last
/// digests and the first and last times.
///
/// The receipts must be consecutive links of one chain (each one's `prev_receipt` is the
/// digest before it, sequences count up by one). Their stored digests are used as they are;
/// [`verify_receipt_chain`] recomputes them. The result equals what an
/// [`InferenceBatchBuilder`] finishes over the same receipts.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::EmptyCollection`] for no receipts; [`Error::ChainOrder`], [`Error::ChainGap`],
/// [`Error::ChainLink`] for receipts that are not consecutive.
pub fn compute_inference_batch<S: Seal<Record = InferenceReceipt>>(
    policy: &Policy,
    window_id: &str,
    receipts: &[S],
) -> Result<InferenceBatch, Error> {
    let (Some(first), Some(last)) = (receipts.first(), receipts.last()) else {
        return Err(Error::EmptyCollection {
            kind: BATCH,
            id: window_id.to_owned(),
            field: "receipts",
        });
    };
    for (index, pair) in (1u64..).zip(receipts.windows(2)) {
        let [prev, cur] = pair else { continue };
        check_link(index, prev.record(), &prev.digest(), cur.record())?;
    }
    let tree = MerkleTree::from_leaves_with(
        policy.hash_algorithm,
        receipts.iter().map(|r| r.digest().to_bytes()),
    );
    Ok(InferenceBatch {
        window_id: window_id.to_owned(),
        count: tree.len(),
        root: tree.root(),
        first_receipt: first.digest(),
        last_receipt: last.digest(),
        window_start: first.record().timestamp,
        window_end: last.record().timestamp,
    })
}

/// What the streaming batch builder needs of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptLink {
    /// The receipt's digest.
    pub digest: Digest,
    /// Its sequence number.
    pub sequence: u64,
    /// The previous receipt's digest.
    pub prev_receipt: Option<Digest>,
    /// Its time.
    pub timestamp: Timestamp,
}

impl ReceiptLink {
    /// The link of a receipt, sealed or claimed.
    pub fn of<S: Seal<Record = InferenceReceipt>>(receipt: &S) -> Self {
        Self {
            digest: receipt.digest(),
            sequence: receipt.record().sequence,
            prev_receipt: receipt.record().prev_receipt,
            timestamp: receipt.record().timestamp,
        }
    }
}

/// Builds an [`InferenceBatch`] one receipt at a time, in `O(log n)` memory.
///
/// It keeps the window id, an RFC 9162 accumulator ([`CompactRange`]: one digest per set bit
/// of the count), and the first and last links, never the receipts. The batch it finishes is
/// identical to [`compute_inference_batch`] over the same receipts, so a verifier can recompute
/// a stored batch from a stream of receipts.
///
/// # Examples
///
/// ```
/// use lcm_crypto::Digest;
/// use lcm_model::verify::{InferenceBatchBuilder, ReceiptLink};
/// use lcm_model::{Policy, Timestamp};
///
/// let mut builder = InferenceBatchBuilder::new(&Policy::default(), "batch_001");
/// let mut prev = None;
/// for i in 0..1000u64 {
///     let digest = lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, &i.to_be_bytes());
///     let timestamp = Timestamp::from_unix_micros(i64::try_from(i).unwrap_or(0));
///     builder.push(ReceiptLink { digest, sequence: i, prev_receipt: prev, timestamp })?;
///     prev = Some(digest);
/// }
/// let batch = builder.finish()?;
/// assert_eq!(batch.count, 1000);
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct InferenceBatchBuilder {
    window_id: String,
    accumulator: CompactRange,
    first: Option<ReceiptLink>,
    last: Option<ReceiptLink>,
}

impl InferenceBatchBuilder {
    /// An empty batch for `window_id` under `policy`'s hash algorithm.
    pub fn new(policy: &Policy, window_id: &str) -> Self {
        Self {
            window_id: window_id.to_owned(),
            accumulator: CompactRange::with_algorithm(policy.hash_algorithm),
            first: None,
            last: None,
        }
    }

    /// The window id the batch is built for.
    pub fn window_id(&self) -> &str {
        &self.window_id
    }

    /// The number of receipts pushed.
    pub fn len(&self) -> u64 {
        self.accumulator.len()
    }

    /// Whether no receipt was pushed.
    pub fn is_empty(&self) -> bool {
        self.accumulator.is_empty()
    }

    /// The accumulator: one subtree root per set bit of [`InferenceBatchBuilder::len`], the
    /// whole of the builder's state besides the window id and two links.
    pub fn accumulator(&self) -> &CompactRange {
        &self.accumulator
    }

    /// Adds the next receipt; it must directly follow the previous one in its chain.
    ///
    /// # Errors
    ///
    /// [`Error::ChainOrder`], [`Error::ChainGap`] or [`Error::ChainLink`] for a receipt that
    /// does not follow the previous one (it is not added); [`Error::Crypto`] after 2^64
    /// receipts.
    pub fn push(&mut self, link: ReceiptLink) -> Result<(), Error> {
        if let Some(prev) = &self.last {
            check_link_parts(
                self.accumulator.len(),
                prev.sequence,
                &prev.digest,
                &self.window_id,
                link.sequence,
                link.prev_receipt,
            )?;
        }
        self.accumulator.push(link.digest.as_bytes())?;
        if self.first.is_none() {
            self.first = Some(link);
        }
        self.last = Some(link);
        Ok(())
    }

    /// Adds a receipt, sealed or claimed ([`InferenceBatchBuilder::push`] of its
    /// [`ReceiptLink`]).
    ///
    /// # Errors
    ///
    /// As [`InferenceBatchBuilder::push`].
    pub fn push_receipt<S: Seal<Record = InferenceReceipt>>(
        &mut self,
        receipt: &S,
    ) -> Result<(), Error> {
        self.push(ReceiptLink::of(receipt))
    }

    /// The batch.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyCollection`] when no receipt was pushed.
    pub fn finish(self) -> Result<InferenceBatch, Error> {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return Err(Error::EmptyCollection {
                kind: BATCH,
                id: self.window_id,
                field: "receipts",
            });
        };
        Ok(InferenceBatch {
            count: self.accumulator.len(),
            root: self.accumulator.root(),
            window_id: self.window_id,
            first_receipt: first.digest,
            last_receipt: last.digest,
            window_start: first.timestamp,
            window_end: last.timestamp,
        })
    }
}

/// Recomputes a whole receipt chain from its start: the first receipt has sequence 0 and no
/// previous digest; see [`verify_receipt_segment`] for the checks.
///
/// This does not panic.
///
/// # Errors
///
/// As [`verify_receipt_segment`], and [`Error::ChainGap`] / [`Error::ChainLink`] when the
/// first receipt is not the start of a chain (receipts dropped at the front).
pub fn verify_receipt_chain<S: Seal<Record = InferenceReceipt>>(
    policy: &Policy,
    receipts: &[S],
) -> Result<(), Error> {
    verify_receipt_segment(policy, None, receipts)
}

/// Recomputes a run of consecutive receipts that follows `after` (the digest and sequence
/// number of the receipt before the run; `None` for the start of a chain).
///
/// Every receipt's digest is recomputed from its fields (any edited field is caught); no
/// digest may appear twice; sequence numbers must count up by one (reordered or repeated
/// receipts, and dropped ones, are caught); and each receipt's previous digest must be the
/// digest of the receipt before it.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::EmptyCollection`] for no receipts; [`Error::SealMismatch`] for an edited
/// receipt; [`Error::DuplicateId`] for a receipt that appears twice; [`Error::ChainOrder`]
/// for a sequence number that goes back; [`Error::ChainGap`] for one that skips ahead;
/// [`Error::ChainLink`] for a wrong previous digest.
pub fn verify_receipt_segment<S: Seal<Record = InferenceReceipt>>(
    policy: &Policy,
    after: Option<(Digest, u64)>,
    receipts: &[S],
) -> Result<(), Error> {
    if receipts.is_empty() {
        return Err(Error::EmptyCollection {
            kind: RECEIPT,
            id: String::new(),
            field: "receipts",
        });
    }
    let mut encoder = ReceiptEncoder::new(policy);
    let mut seen: HashSet<Digest> = HashSet::with_capacity(receipts.len());
    let mut prev = after;
    for (index, r) in (0u64..).zip(receipts) {
        let id = &r.record().receipt_id;
        let recomputed = encoder.digest(r.record())?;
        if recomputed != r.digest() {
            return Err(Error::SealMismatch {
                kind: RECEIPT,
                id: id.clone(),
                stored: r.digest(),
                recomputed,
            });
        }
        if !seen.insert(r.digest()) {
            return Err(Error::DuplicateId {
                kind: RECEIPT,
                id: id.clone(),
            });
        }
        check_receipt_follows(index, prev, r.record())?;
        prev = Some((r.digest(), r.record().sequence));
    }
    Ok(())
}

/// The chain rule for one receipt: the `index`th receipt of a run follows `after` (the digest
/// and sequence number of the receipt before it; `None` for the start of a chain): its
/// sequence number comes next and its previous digest is `after`'s. These are the link checks
/// of [`verify_receipt_segment`] and [`compute_inference_batch`], for a verifier that sees the
/// receipts one at a time.
///
/// # Errors
///
/// [`Error::ChainOrder`], [`Error::ChainGap`] or [`Error::ChainLink`] as
/// [`verify_receipt_segment`] reports them.
pub fn check_receipt_follows(
    index: u64,
    after: Option<(Digest, u64)>,
    receipt: &InferenceReceipt,
) -> Result<(), Error> {
    let id = &receipt.receipt_id;
    match after {
        Some((digest, sequence)) => check_link_parts(
            index,
            sequence,
            &digest,
            id,
            receipt.sequence,
            receipt.prev_receipt,
        ),
        None => {
            check_sequence(RECEIPT, id, index, 0, receipt.sequence)?;
            check_chain_link(RECEIPT, id, index, None, receipt.prev_receipt)
        }
    }
}

/// Checks a disclosed commitment: that `commitment` (made under `policy`) opens to `data` with
/// `opening`.
///
/// For a plaintext commitment the opening is empty and the data is also compared with the
/// plaintext the commitment carries.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::Crypto`] with `SchemeMismatch` or `CommitmentMismatch` when it does not open;
/// [`Error::UnexpectedValue`] naming `plaintext` for a plaintext commitment whose stored
/// plaintext differs from `data`.
pub fn verify_commitment(
    policy: &Policy,
    commitment: &InferenceCommitment,
    data: &[u8],
    opening: &Opening,
) -> Result<(), Error> {
    let c = Commitment {
        scheme: commitment.scheme,
        algorithm: policy.hash_algorithm,
        value: commitment.value,
    };
    c.verify(data, opening)?;
    if let Some(p) = &commitment.plaintext
        && p.as_bytes() != data
    {
        return Err(Error::UnexpectedValue {
            kind: "inference commitment",
            id: String::new(),
            field: "plaintext",
            expected: "the committed data".to_owned(),
            actual: "different data".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
