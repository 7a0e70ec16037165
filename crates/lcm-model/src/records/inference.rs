//! Inference records (seed §6): commitments to a query and its output, chained receipts, and
//! the batch of a time window.
//!
//! Differences from the Python reference, on purpose:
//!
//! - commitments are full 32-byte values that can be opened one at a time (the reference keeps
//!   64 bits and throws the salt away);
//! - a receipt never holds the raw query or output, except under the plaintext scheme, where
//!   the commitment is public anyway;
//! - a receipt references the model and deployment anchors by full digest, not by a 32-bit
//!   display id;
//! - a receipt's digest covers the previous receipt's digest, so the chain lives in the digests
//!   themselves (the reference chains a separate "connections" digest that verification never
//!   recomputes);
//! - an empty batch is an error, never the sentinel string `"empty_batch"`.
//!
//! # Fast canonical encoding
//!
//! A receipt has a fixed shape, so [`ReceiptEncoder`] writes its canonical JSON by hand into a
//! reused buffer (keys as literals, digests hex-encoded from a table) and hashes it under the
//! receipt's domain tag. It is byte-for-byte [`canonical::to_vec`](crate::canonical::to_vec)
//! of the receipt (the tests check this on many receipts, including strings that need
//! escaping) at a fraction of the cost of the generic path, which goes through
//! `serde_json::Value`.

use lcm_crypto::{CommitmentScheme, Digest, DomainHasher};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{write_object, write_str};
use crate::{Error, Policy, Record, Sealed, Timestamp};

/// A commitment to a query or an output: the seed's `LCMInferenceCommitment`.
///
/// Computed by the inference manager with the policy's scheme (`lcm_crypto::Committer`); the
/// opening is re-derived on demand for selective disclosure and is never stored in a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceCommitment {
    /// The commitment scheme (the seed's `commitment_type`).
    pub scheme: CommitmentScheme,
    /// The full 32-byte commitment value (the seed's `commitment_value`).
    pub value: Digest,
    /// Free-form, non-secret description (for example `{"content_type": "text"}`).
    pub metadata: Map<String, Value>,
    /// The committed data itself, present only under [`CommitmentScheme::Plaintext`].
    pub plaintext: Option<String>,
}

/// A receipt for one inference: the seed's `LCMInferenceReceipt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceReceipt {
    /// The user-facing id, for example `"inf_001"`.
    pub receipt_id: String,
    /// The position in the chain, from 0; also the commitments' nonce.
    pub sequence: u64,
    /// The full digest of the model anchor that answered.
    pub model_anchor: Digest,
    /// The full digest of the deployment anchor that served the request.
    pub deployment_anchor: Digest,
    /// The caller's request id.
    pub request_id: String,
    /// The commitment to the query.
    pub input_commitment: InferenceCommitment,
    /// The commitment to the output.
    pub output_commitment: InferenceCommitment,
    /// Digests of explanations (SHAP values, saliency maps, ...).
    pub explanation_digests: Vec<Digest>,
    /// The previous receipt's digest; `None` only for the first receipt of a chain.
    pub prev_receipt: Option<Digest>,
    /// When the receipt was made.
    pub timestamp: Timestamp,
}

impl Record for InferenceReceipt {
    const KIND: &'static str = "inference-receipt";
}

/// The receipts of one time window, summarized by their Merkle root.
///
/// `root` is the RFC 9162 root over the receipts' full digests, in chain order, under the
/// policy's hash algorithm (each digest is one 32-byte leaf).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceBatch {
    /// The window's id, for example `"batch_2025_09_12_14"`.
    pub window_id: String,
    /// The number of receipts (at least 1).
    pub count: u64,
    /// The Merkle root over the receipt digests.
    pub root: Digest,
    /// The digest of the window's first receipt.
    pub first_receipt: Digest,
    /// The digest of the window's last receipt.
    pub last_receipt: Digest,
    /// The first receipt's timestamp.
    pub window_start: Timestamp,
    /// The last receipt's timestamp.
    pub window_end: Timestamp,
}

impl Record for InferenceBatch {
    const KIND: &'static str = "inference-batch";
}

/// Writes receipts' canonical JSON by hand into a reused buffer, and hashes it.
///
/// [`ReceiptEncoder::digest`] equals [`Record::digest`] of the receipt under the same policy,
/// and [`ReceiptEncoder::encode`] equals [`canonical::to_vec`](crate::canonical::to_vec); the
/// encoder only avoids the generic path's `serde_json::Value` detour and its allocations.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{CommitmentScheme, Digest};
/// use lcm_model::records::inference::{InferenceCommitment, InferenceReceipt, ReceiptEncoder};
/// use lcm_model::{Policy, Record, Timestamp};
///
/// let commitment = |b| InferenceCommitment {
///     scheme: CommitmentScheme::Salted,
///     value: Digest::from_bytes([b; 32]),
///     metadata: Default::default(),
///     plaintext: None,
/// };
/// let receipt = InferenceReceipt {
///     receipt_id: "inf_001".into(),
///     sequence: 0,
///     model_anchor: Digest::from_bytes([1; 32]),
///     deployment_anchor: Digest::from_bytes([2; 32]),
///     request_id: "req_001".into(),
///     input_commitment: commitment(3),
///     output_commitment: commitment(4),
///     explanation_digests: vec![],
///     prev_receipt: None,
///     timestamp: Timestamp::from_unix_micros(0),
/// };
/// let policy = Policy::default();
/// let mut encoder = ReceiptEncoder::new(&policy);
/// assert_eq!(encoder.encode(&receipt)?, lcm_model::canonical::to_vec(&receipt)?.as_slice());
/// assert_eq!(encoder.digest(&receipt)?, receipt.digest(&policy)?);
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReceiptEncoder {
    /// The hasher with the receipt's domain tag already absorbed.
    prefix: DomainHasher,
    buf: Vec<u8>,
}

impl ReceiptEncoder {
    /// An encoder for receipts under `policy`.
    pub fn new(policy: &Policy) -> Self {
        Self {
            prefix: DomainHasher::new(
                policy.hash_algorithm,
                &policy.domain_tag(InferenceReceipt::KIND),
            ),
            buf: Vec::with_capacity(1024),
        }
    }

    /// The canonical JSON of `receipt`, in the encoder's buffer.
    ///
    /// # Errors
    ///
    /// [`Error::NonFinite`] if commitment metadata holds a non-finite number (a
    /// `serde_json::Value` built by `serde_json` cannot).
    pub fn encode(&mut self, receipt: &InferenceReceipt) -> Result<&[u8], Error> {
        self.buf.clear();
        write_receipt(&mut self.buf, receipt)?;
        Ok(&self.buf)
    }

    /// The receipt's digest: equal to `receipt.digest(policy)`.
    ///
    /// # Errors
    ///
    /// As [`ReceiptEncoder::encode`].
    pub fn digest(&mut self, receipt: &InferenceReceipt) -> Result<Digest, Error> {
        self.buf.clear();
        write_receipt(&mut self.buf, receipt)?;
        let mut h = self.prefix.clone();
        h.part(&self.buf);
        Ok(h.finalize())
    }

    /// The receipt sealed, with the canonical JSON its digest was computed over (in the
    /// encoder's buffer): one encoding, hashed and returned, for a caller that stores it.
    ///
    /// # Errors
    ///
    /// As [`ReceiptEncoder::encode`].
    pub fn seal(
        &mut self,
        receipt: InferenceReceipt,
    ) -> Result<(Sealed<InferenceReceipt>, &[u8]), Error> {
        self.buf.clear();
        write_receipt(&mut self.buf, &receipt)?;
        let mut h = self.prefix.clone();
        h.part(&self.buf);
        let sealed = Sealed::from_computed(receipt, h.finalize());
        Ok((sealed, &self.buf))
    }
}

/// The two lowercase hex characters of every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    table
};

/// Appends `"<64 hex>"`: one table lookup per byte and one copy (the receipt has five digests,
/// and a per-nibble loop shows in profiles).
fn write_hex(out: &mut Vec<u8>, d: &Digest) {
    let mut quoted = [b'"'; 66];
    for (pair, &b) in quoted[1..65].chunks_exact_mut(2).zip(d.as_bytes()) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    out.extend_from_slice(&quoted);
}

fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        // v % 10 < 10, so the cast is exact.
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `null` for `None`, and what `write` appends for a value.
fn write_or_null<T: ?Sized>(
    out: &mut Vec<u8>,
    value: Option<&T>,
    write: impl FnOnce(&mut Vec<u8>, &T),
) {
    match value {
        Some(v) => write(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_commitment(out: &mut Vec<u8>, c: &InferenceCommitment) -> Result<(), Error> {
    out.extend_from_slice(b"{\"metadata\":");
    write_object(out, &c.metadata)?;
    out.extend_from_slice(b",\"plaintext\":");
    write_or_null(out, c.plaintext.as_deref(), write_str);
    out.extend_from_slice(b",\"scheme\":");
    write_str(out, c.scheme.name());
    out.extend_from_slice(b",\"value\":");
    write_hex(out, &c.value);
    out.push(b'}');
    Ok(())
}

/// The canonical JSON of a receipt: keys in code-point order, as the generic writer sorts them.
fn write_receipt(out: &mut Vec<u8>, r: &InferenceReceipt) -> Result<(), Error> {
    out.extend_from_slice(b"{\"deployment_anchor\":");
    write_hex(out, &r.deployment_anchor);
    out.extend_from_slice(b",\"explanation_digests\":[");
    for (i, d) in r.explanation_digests.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_hex(out, d);
    }
    out.extend_from_slice(b"],\"input_commitment\":");
    write_commitment(out, &r.input_commitment)?;
    out.extend_from_slice(b",\"model_anchor\":");
    write_hex(out, &r.model_anchor);
    out.extend_from_slice(b",\"output_commitment\":");
    write_commitment(out, &r.output_commitment)?;
    out.extend_from_slice(b",\"prev_receipt\":");
    write_or_null(out, r.prev_receipt.as_ref(), write_hex);
    out.extend_from_slice(b",\"receipt_id\":");
    write_str(out, &r.receipt_id);
    out.extend_from_slice(b",\"request_id\":");
    write_str(out, &r.request_id);
    out.extend_from_slice(b",\"sequence\":");
    write_u64(out, r.sequence);
    out.extend_from_slice(b",\"timestamp\":\"");
    out.extend_from_slice(&timestamp_text(r.timestamp));
    out.extend_from_slice(b"\"}");
    Ok(())
}

/// The text of [`Timestamp`]'s `Display` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) without `fmt`, which
/// costs about as much as the rest of the receipt's encoding. A timestamp is always within
/// years 0000..=9999, so every field has a fixed width. The tests compare it with `Display`.
fn timestamp_text(t: Timestamp) -> [u8; 27] {
    const MICROS_PER_SEC: i64 = 1_000_000;
    const SECS_PER_DAY: i64 = 86_400;
    let us = t.unix_micros();
    let secs = us.div_euclid(MICROS_PER_SEC);
    let micros = us.rem_euclid(MICROS_PER_SEC);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    // Howard Hinnant's civil_from_days, as in `Timestamp`'s Display.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut out[0..4], year);
    put_digits(&mut out[5..7], month);
    put_digits(&mut out[8..10], day);
    put_digits(&mut out[11..13], sod / 3600);
    put_digits(&mut out[14..16], (sod / 60) % 60);
    put_digits(&mut out[17..19], sod % 60);
    put_digits(&mut out[20..26], micros);
    out
}

/// Writes the last `dst.len()` decimal digits of `v` (non-negative here) into `dst`.
fn put_digits(dst: &mut [u8], mut v: i64) {
    for d in dst.iter_mut().rev() {
        // 0 <= v % 10 < 10 for the non-negative values written here.
        *d = b'0' + u8::try_from(v.rem_euclid(10)).unwrap_or(0);
        v /= 10;
    }
}

#[cfg(test)]
mod tests;
