//! The value classes `lcm.Store` returns: `StoredRecord`, `Receipt` and `Batch`, each a
//! frozen copy of what the store holds (digests as 64 hex), with the record's canonical JSON
//! and, for records and receipts, `to_dict()`.

use lcm_store::StoredReceipt;
use pyo3::prelude::*;

use crate::convert::from_json_text;

/// A stored record: its `kind` (for example `"model-anchor"`), `id`, `digest` (64 hex) and
/// canonical `json`.
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct StoredRecord {
    /// The record kind.
    kind: String,
    /// Its id within its kind.
    id: String,
    /// Its digest (64 hex).
    digest: String,
    /// Its canonical JSON.
    json: String,
}

#[pymethods]
impl StoredRecord {
    /// The record as a dict (parsed from its canonical JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json_text(py, &self.json)
    }

    fn __repr__(&self) -> String {
        format!(
            "StoredRecord(kind={:?}, id={:?}, digest={:?})",
            self.kind, self.id, self.digest
        )
    }
}

impl From<lcm_store::StoredRecord> for StoredRecord {
    fn from(r: lcm_store::StoredRecord) -> Self {
        Self {
            kind: r.kind,
            id: r.id,
            digest: r.digest.to_hex(),
            json: r.json,
        }
    }
}

pub(crate) fn records(stored: Vec<lcm_store::StoredRecord>) -> Vec<StoredRecord> {
    stored.into_iter().map(StoredRecord::from).collect()
}

/// A durable inference receipt: its `receipt_id`, its `sequence` in the deployment's chain,
/// its `digest` (64 hex, the chain link), its `timestamp` (microseconds since the Unix epoch)
/// and its canonical `json`.
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Receipt {
    /// The receipt id.
    receipt_id: String,
    /// Its position in the chain, from 0.
    sequence: u64,
    /// Its digest (64 hex).
    digest: String,
    /// Its time, microseconds since the Unix epoch.
    timestamp: i64,
    /// Its canonical JSON.
    json: String,
}

#[pymethods]
impl Receipt {
    /// The receipt as a dict (parsed from its canonical JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json_text(py, &self.json)
    }

    fn __repr__(&self) -> String {
        format!(
            "Receipt(receipt_id={:?}, sequence={}, digest={:?})",
            self.receipt_id, self.sequence, self.digest
        )
    }
}

impl From<StoredReceipt> for Receipt {
    fn from(r: StoredReceipt) -> Self {
        Self {
            receipt_id: r.receipt_id,
            sequence: r.sequence,
            digest: r.digest.to_hex(),
            timestamp: r.timestamp,
            json: r.json,
        }
    }
}

/// A sealed batch of consecutive receipts: its `window_id`, the `first_sequence` and
/// `last_sequence` it covers, its `count`, Merkle `root` and record `digest` (64 hex).
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// The window id.
    pub(crate) window_id: String,
    /// The first receipt's sequence number.
    pub(crate) first_sequence: u64,
    /// The last receipt's sequence number.
    pub(crate) last_sequence: u64,
    /// The number of receipts.
    pub(crate) count: u64,
    /// The Merkle root over the receipts' digests (64 hex).
    pub(crate) root: String,
    /// The batch record's digest (64 hex).
    pub(crate) digest: String,
}

py_repr!(
    Batch,
    r,
    "Batch(window_id={:?}, first_sequence={}, last_sequence={}, root={:?})",
    r.window_id,
    r.first_sequence,
    r.last_sequence,
    r.root
);
