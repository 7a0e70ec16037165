//! Verification reports: every check a verifier ran, with the stage, the record and the field
//! it is about, and its outcome.

use std::fmt;

use lcm_crypto::{Digest, KeyId};
use lcm_model::Timestamp;

/// A stage of the lifecycle, as the capsule header lists them (A to H), plus the header
/// itself and the document as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Stage {
    /// The document as a whole (its version, its shape).
    Document,
    /// The header's own fields: version, time, policy and signature.
    Header,
    /// A: the dataset family and its splits.
    Dataset,
    /// B: the model anchor.
    Model,
    /// C: the training session, its checkpoints and snapshot.
    Training,
    /// D: the pre-deployment anchor and its SBOM.
    PreDeployment,
    /// E: the deployment anchor and its status history.
    Deployment,
    /// F: the test evaluation.
    TestEvaluation,
    /// G: the inference receipts and batches.
    Inference,
    /// H: the roots (training session, release).
    Roots,
}

impl Stage {
    /// The seed's stage letter (`A` to `H`), or `-` for the header and the document.
    pub const fn letter(self) -> char {
        match self {
            Self::Document | Self::Header => '-',
            Self::Dataset => 'A',
            Self::Model => 'B',
            Self::Training => 'C',
            Self::PreDeployment => 'D',
            Self::Deployment => 'E',
            Self::TestEvaluation => 'F',
            Self::Inference => 'G',
            Self::Roots => 'H',
        }
    }

    /// A lowercase name (`"dataset"`, `"inference"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Header => "header",
            Self::Dataset => "dataset",
            Self::Model => "model",
            Self::Training => "training",
            Self::PreDeployment => "predeployment",
            Self::Deployment => "deployment",
            Self::TestEvaluation => "test_evaluation",
            Self::Inference => "inference",
            Self::Roots => "roots",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.letter() {
            '-' => f.write_str(self.name()),
            letter => write!(f, "{letter} {}", self.name()),
        }
    }
}

/// Why a check failed. Each tampering a verifier must tell apart has its own variant.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The document does not parse.
    #[error("does not parse: {message}")]
    Parse {
        /// What the parser reported.
        message: String,
    },
    /// A document or header of another version.
    #[error("expected version {expected}, got {actual:?}")]
    Version {
        /// The version this library reads.
        expected: &'static str,
        /// The version found.
        actual: String,
    },
    /// A stored digest, root or reference that differs from the value recomputed from the
    /// records.
    #[error("expected {expected}, got {actual}")]
    DigestMismatch {
        /// The value recomputed (or the one the other records agree on).
        expected: Digest,
        /// The value found.
        actual: Digest,
    },
    /// A summary value that differs from the records it summarizes.
    #[error("expected {expected}, got {actual}")]
    ValueMismatch {
        /// The value the records give.
        expected: String,
        /// The value found.
        actual: String,
    },
    /// The header's Ed25519 signature does not verify: the header was altered after signing
    /// (some field, or the signature itself).
    #[error("the signature does not verify under key {key_id}")]
    Signature {
        /// The key it was checked with.
        key_id: KeyId,
    },
    /// The header names, or was signed by, another key than the one trusted.
    #[error("expected key {expected}, got {actual}")]
    KeyMismatch {
        /// The trusted key's id.
        expected: KeyId,
        /// The key id the header names.
        actual: KeyId,
    },
    /// A header older than records of the lifecycle it claims to summarize.
    #[error("stale header: generated at {generated_at}, but a record is from {newest}")]
    StaleHeader {
        /// The header's time.
        generated_at: Timestamp,
        /// The newest record time in the document.
        newest: Timestamp,
    },
    /// A header that summarizes an earlier state of the chain: fewer receipts than the
    /// document holds, with the root of exactly that many first receipts.
    #[error("stale header: signed over the first {signed} receipts, the document has {actual}")]
    StaleChain {
        /// How many receipts the header covers.
        signed: u64,
        /// How many the document holds.
        actual: u64,
    },
    /// Records in the wrong order: a sequence number that does not come next.
    #[error("record {index}: expected sequence {expected}, got {actual}")]
    ChainOrder {
        /// The position in the document.
        index: u64,
        /// The sequence number that should come next.
        expected: u64,
        /// The sequence number found.
        actual: u64,
    },
    /// A record missing from a chain: a sequence number that skips ahead.
    #[error("record {index}: expected sequence {expected}, got {actual} (records dropped)")]
    ChainGap {
        /// The position in the document.
        index: u64,
        /// The sequence number that should come next.
        expected: u64,
        /// The sequence number found.
        actual: u64,
    },
    /// A chain link (previous digest) that is not the digest of the record before.
    #[error("record {index}: expected previous digest {expected:?}, got {actual:?}")]
    ChainLink {
        /// The position in the document.
        index: u64,
        /// The previous record's digest.
        expected: Option<Digest>,
        /// The link found.
        actual: Option<Digest>,
    },
    /// The same record twice.
    #[error("record {index} repeats an earlier record")]
    Duplicate {
        /// The position of the repetition.
        index: u64,
    },
    /// A batch whose receipts are not the ones it was sealed over.
    #[error("batch {window_id}: {detail}")]
    BatchMembership {
        /// The batch window.
        window_id: String,
        /// Which of count, root, first or last receipt differs.
        detail: String,
    },
    /// An inclusion proof that does not lead to the root in the signed header.
    #[error("inclusion proof: {0}")]
    Proof(lcm_crypto::Error),
    /// A disclosed commitment opening that does not open the commitment.
    #[error("commitment opening: {0}")]
    Opening(lcm_crypto::Error),
    /// A policy requirement the lifecycle does not meet.
    #[error("{requirement}: expected {expected}, got {actual}")]
    Policy {
        /// The requirement.
        requirement: &'static str,
        /// What it demands.
        expected: String,
        /// What the lifecycle has.
        actual: String,
    },
    /// A stage or record the check needs is absent.
    #[error("missing {what}")]
    Missing {
        /// What is missing.
        what: &'static str,
    },
    /// A record that cannot be encoded, or another record-layer failure.
    #[error("{0}")]
    Record(String),
}

/// One check a verifier ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What was checked, for example `"record digest"`.
    pub name: &'static str,
    /// The lifecycle stage.
    pub stage: Stage,
    /// The record, for example `"receipt inf_002"` (empty for the document).
    pub record: String,
    /// The JSON pointer of the field the check is about, in the document that was verified
    /// (for a header alone, in the header). When a record's content no longer matches its
    /// digest, this is the record's `/record` object: the digest covers every field of it,
    /// so the change is located to the record, not to one of its fields.
    pub field: String,
    /// The outcome.
    pub outcome: Result<(), CheckError>,
    /// Why the check did not apply, for a check that could not be made on this input (for
    /// example a receipt's model reference against a header without stage B); its outcome is
    /// then `Ok(())`, as nothing failed, and it is listed so that the report says what was
    /// not checked instead of leaving it out.
    pub not_applicable: Option<&'static str>,
}

impl Check {
    /// Whether the check passed (or did not apply: see [`Check::applied`]).
    pub fn passed(&self) -> bool {
        self.outcome.is_ok()
    }

    /// Whether the check was made; `false` when it did not apply
    /// ([`Check::not_applicable`] says why).
    pub fn applied(&self) -> bool {
        self.not_applicable.is_none()
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.stage, self.name, self.record)?;
        if !self.field.is_empty() {
            write!(f, " at {}", self.field)?;
        }
        match (&self.outcome, self.not_applicable) {
            (Ok(()), Some(why)) => write!(f, ": not applicable: {why}"),
            (Ok(()), None) => f.write_str(": ok"),
            (Err(e), _) => write!(f, ": {e}"),
        }
    }
}

/// Every check a verification ran, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check passed.
    pub fn is_ok(&self) -> bool {
        self.checks.iter().all(Check::passed)
    }

    /// The checks that failed, in order.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed())
    }

    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.failures().next()
    }

    /// The checks that did not apply to this input, in order ([`Check::not_applicable`]).
    pub fn not_applicable(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.applied())
    }

    /// The report of the checks `checks` pushes onto an empty one, as [`Report::into_result`]
    /// gives it.
    pub(crate) fn collect(checks: impl FnOnce(&mut Self)) -> Result<Self, VerificationFailed> {
        let mut report = Self::default();
        checks(&mut report);
        report.into_result()
    }

    /// `Ok(self)` when every check passed, otherwise [`VerificationFailed`] holding it.
    ///
    /// # Errors
    ///
    /// [`VerificationFailed`] when a check failed.
    pub fn into_result(self) -> Result<Self, VerificationFailed> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(VerificationFailed { report: self })
        }
    }

    pub(crate) fn push(
        &mut self,
        name: &'static str,
        stage: Stage,
        record: impl Into<String>,
        field: impl Into<String>,
        outcome: Result<(), CheckError>,
    ) -> bool {
        let ok = outcome.is_ok();
        self.checks.push(Check {
            name,
            stage,
            record: record.into(),
            field: field.into(),
            outcome,
            not_applicable: None,
        });
        ok
    }

    /// Lists a check that does not apply to this input, and why.
    pub(crate) fn push_not_applicable(
        &mut self,
        name: &'static str,
        stage: Stage,
        record: impl Into<String>,
        field: impl Into<String>,
        why: &'static str,
    ) {
        self.checks.push(Check {
            name,
            stage,
            record: record.into(),
            field: field.into(),
            outcome: Ok(()),
            not_applicable: Some(why),
        });
    }
}

/// The first 64 characters of a version string found in a document, as errors quote it.
pub(crate) fn quoted_version(actual: &str) -> String {
    actual.chars().take(64).collect()
}

/// `Ok` when a document's `actual` version is the `expected` one, else [`CheckError::Version`].
pub(crate) fn version_check(expected: &'static str, actual: &str) -> Result<(), CheckError> {
    agree(expected, actual, |_, actual| CheckError::Version {
        expected,
        actual: quoted_version(actual),
    })
}

/// `Ok` when `actual` is `expected`, else the [`CheckError::DigestMismatch`] naming both.
pub(crate) fn mismatch(expected: Digest, actual: Digest) -> Result<(), CheckError> {
    agree(expected, actual, |expected, actual| {
        CheckError::DigestMismatch { expected, actual }
    })
}

pub(crate) use lcm_model::verify::agree;

/// `Ok` when `actual` is `expected`, else the [`CheckError::ValueMismatch`] naming both.
pub(crate) fn same_value<T: PartialEq + fmt::Display>(
    expected: T,
    actual: T,
) -> Result<(), CheckError> {
    agree(expected, actual, |expected, actual| {
        CheckError::ValueMismatch {
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    })
}

/// The outcome of checking a recomputed digest: `compare`'s verdict on the value, or the
/// recomputation's own failure as a [`CheckError::Record`].
pub(crate) fn recomputed<E: fmt::Display>(
    computed: Result<Digest, E>,
    compare: impl FnOnce(Digest) -> Result<(), CheckError>,
) -> Result<(), CheckError> {
    computed.map_or_else(|e| Err(CheckError::Record(e.to_string())), compare)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

/// A verification with at least one failed check. `Display` shows the first failure; the
/// whole report is in [`VerificationFailed::report`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationFailed {
    /// Every check that ran, passed or failed.
    pub report: Report,
}

impl VerificationFailed {
    /// The first failed check.
    pub fn first(&self) -> Option<&Check> {
        self.report.first_failure()
    }
}

impl fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.first() {
            Some(c) => write!(f, "verification failed: {c}"),
            None => f.write_str("verification failed"),
        }
    }
}

impl std::error::Error for VerificationFailed {}
