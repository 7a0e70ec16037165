//! The acknowledgement lines of committed receipts, as `lcm infer` and `lcm list receipts`
//! print them: one line per receipt, tab-separated text or a JSON object. Either is a
//! [`super::FormatAcks`]. And the line `lcm infer` ends with ([`InferSummary`]).

use std::fmt::Write as _;

use serde_json::json;

use super::InferSummary;
use crate::StoredReceipt;
use crate::lifecycle::views::plural;

/// Appends a text line per receipt to `out`: sequence, receipt id, digest, tab-separated.
///
/// ```
/// use lcm_store::StoredReceipt;
///
/// let r = StoredReceipt {
///     sequence: 7,
///     receipt_id: "r7".to_owned(),
///     digest: lcm_crypto::Digest::from_bytes([0; 32]),
///     timestamp: 0,
///     json: String::new(),
/// };
/// let mut out = String::new();
/// lcm_store::pipeline::text_acks(&[r], &mut out);
/// assert_eq!(out, format!("7\tr7\t{}\n", "0".repeat(64)));
/// ```
pub fn text_acks(receipts: &[StoredReceipt], out: &mut String) {
    for r in receipts {
        let _ = writeln!(out, "{}\t{}\t{}", r.sequence, r.receipt_id, r.digest);
    }
}

/// Appends a JSON line per receipt to `out`: `{"sequence", "receipt_id", "digest"}`.
///
/// ```
/// use lcm_store::StoredReceipt;
///
/// let r = StoredReceipt {
///     sequence: 7,
///     receipt_id: "r7".to_owned(),
///     digest: lcm_crypto::Digest::from_bytes([0; 32]),
///     timestamp: 0,
///     json: String::new(),
/// };
/// let mut out = String::new();
/// lcm_store::pipeline::json_acks(&[r.clone(), r], &mut out);
/// let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap())?;
/// assert_eq!((first["sequence"].as_u64(), first["receipt_id"].as_str()), (Some(7), Some("r7")));
/// assert_eq!(out.lines().count(), 2);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn json_acks(receipts: &[StoredReceipt], out: &mut String) {
    for r in receipts {
        let _ = writeln!(
            out,
            "{}",
            json!({"sequence": r.sequence, "receipt_id": r.receipt_id, "digest": r.digest})
        );
    }
}

impl std::fmt::Display for InferSummary {
    /// `appended N receipts; chain head DIGEST at SEQUENCE` (`none` for an empty chain).
    ///
    /// ```
    /// let summary = lcm_store::pipeline::InferSummary {
    ///     appended: 1,
    ///     head: None,
    /// };
    /// assert_eq!(summary.to_string(), "appended 1 receipt; chain head none");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "appended {}; chain head ",
            plural(self.appended, "receipt", "receipts")
        )?;
        match self.head {
            Some(h) => write!(f, "{} at {}", h.digest, h.sequence),
            None => f.write_str("none"),
        }
    }
}
