//! `lcm.verify` and `lcm.verify_bytes`: headers, capsules and bundles, detected from their
//! content, checked against a public key and optional policy requirements.

use std::path::PathBuf;

use lcm_capsule::{
    Capsule, CapsuleHeader, DocumentKind, NOT_A_DOCUMENT, PolicyRequirements,
    Report as CapsuleReport, VerificationFailed, validate_lcm_policy, verify_bundle_json,
    verify_capsule, verify_header,
};
use lcm_crypto::KeyId;
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{read_file, text_of};
use crate::errors::{VerificationError, input};
use crate::files::{algorithm, read_verifying_key};

/// Requirements a verified document must meet beyond its signature and recomputations (the
/// specification's `validate_lcm_policy`): a hash algorithm, no plaintext commitments when the
/// dataset holds personal data, a lowest PBKDF2 cost, compliance frameworks the dataset must
/// declare, and the one key allowed to sign (a key id, 64 hex).
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Requirements {
    /// `"sha256"`, `"blake3"` or None.
    hash_algorithm: Option<String>,
    /// Refuse plaintext commitments when the dataset contains personal data.
    no_plaintext_with_pii: bool,
    /// `"salted"`, `"hmac"`, `"plaintext"` or None: the commitment scheme the policy must
    /// declare.
    commitments: Option<String>,
    /// The lowest acceptable PBKDF2 iteration count.
    min_kdf_iterations: Option<u32>,
    /// Compliance frameworks the dataset must declare.
    required_frameworks: Vec<String>,
    /// The key id (64 hex) that must have signed the header.
    signing_key: Option<String>,
}

#[pymethods]
impl Requirements {
    #[new]
    #[pyo3(signature = (*, hash_algorithm = None, no_plaintext_with_pii = false,
        min_kdf_iterations = None, required_frameworks = Vec::new(), signing_key = None,
        commitments = None))]
    fn new(
        hash_algorithm: Option<String>,
        no_plaintext_with_pii: bool,
        min_kdf_iterations: Option<u32>,
        required_frameworks: Vec<String>,
        signing_key: Option<String>,
        commitments: Option<String>,
    ) -> PyResult<Self> {
        let r = Self {
            hash_algorithm,
            no_plaintext_with_pii,
            commitments,
            min_kdf_iterations,
            required_frameworks,
            signing_key,
        };
        r.to_native()?;
        Ok(r)
    }

    fn __repr__(&self) -> String {
        format!(
            "Requirements(hash_algorithm={:?}, no_plaintext_with_pii={}, min_kdf_iterations={:?}, \
             required_frameworks={:?}, signing_key={:?}, commitments={:?})",
            self.hash_algorithm,
            self.no_plaintext_with_pii,
            self.min_kdf_iterations,
            self.required_frameworks,
            self.signing_key,
            self.commitments
        )
    }
}

impl Requirements {
    fn to_native(&self) -> PyResult<PolicyRequirements> {
        Ok(PolicyRequirements {
            hash_algorithm: self.hash_algorithm.as_deref().map(algorithm).transpose()?,
            no_plaintext_with_pii: self.no_plaintext_with_pii,
            commitments: self
                .commitments
                .as_deref()
                .map(|s| {
                    lcm_capsule::required_scheme(s).ok_or_else(|| {
                        input(format!(
                            "commitments: {s:?} (expected \"salted\", \"hmac\" or \"plaintext\")"
                        ))
                    })
                })
                .transpose()?,
            min_kdf_iterations: self.min_kdf_iterations,
            required_frameworks: self.required_frameworks.clone(),
            signing_key: self
                .signing_key
                .as_deref()
                .map(|k| KeyId::from_hex(k).map_err(|e| input(format!("signing_key: {e}"))))
                .transpose()?,
        })
    }
}

/// One check a verifier ran: its stage, name, record and field (a JSON pointer into the
/// document), whether it passed, and why it failed (`error`) or did not apply
/// (`not_applicable`).
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Check {
    /// The lifecycle stage.
    stage: String,
    /// What was checked.
    name: String,
    /// The record (empty for the document).
    record: String,
    /// The JSON pointer of the field the check is about.
    field: String,
    /// Whether it passed (True also when it did not apply).
    passed: bool,
    /// Whether it was made.
    applied: bool,
    /// Why it failed.
    error: Option<String>,
    /// Why it did not apply.
    not_applicable: Option<String>,
}

py_repr!(
    Check,
    r,
    "Check(stage={:?}, name={:?}, record={:?}, passed={})",
    r.stage,
    r.name,
    r.record,
    r.passed
);

/// What a verification checked: the document's `kind` (`"bundle"`, `"capsule"` or
/// `"header"`), `valid`, the signer's `key_id`, and every check in order (`checks`).
#[pyclass(frozen, module = "lcm", get_all)]
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// `"bundle"`, `"capsule"` or `"header"`.
    kind: &'static str,
    /// Whether every check passed.
    valid: bool,
    /// The key id (64 hex) of the key the document was checked against.
    key_id: String,
    /// Every check, in order.
    checks: Vec<Check>,
}

#[pymethods]
impl Report {
    /// The checks that failed.
    fn failures(&self) -> Vec<Check> {
        self.checks.iter().filter(|c| !c.passed).cloned().collect()
    }

    /// The checks that did not apply to this document.
    fn not_applicable(&self) -> Vec<Check> {
        self.checks.iter().filter(|c| !c.applied).cloned().collect()
    }

    fn __len__(&self) -> usize {
        self.checks.len()
    }

    fn __bool__(&self) -> bool {
        self.valid
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(kind={:?}, valid={}, checks={}, key_id={:?})",
            self.kind,
            self.valid,
            self.checks.len(),
            self.key_id
        )
    }
}

impl Report {
    fn new(kind: Kind, key_id: String, report: &CapsuleReport) -> Self {
        Self {
            kind: kind.name(),
            valid: report.is_ok(),
            key_id,
            checks: report
                .checks
                .iter()
                .map(|c| Check {
                    stage: c.stage.to_string(),
                    name: c.name.to_owned(),
                    record: c.record.clone(),
                    field: c.field.clone(),
                    passed: c.passed(),
                    applied: c.applied(),
                    error: c.outcome.as_ref().err().map(ToString::to_string),
                    not_applicable: c.not_applicable.map(str::to_owned),
                })
                .collect(),
        }
    }
}

/// What a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bundle,
    Capsule,
    Header,
}

impl Kind {
    const fn name(self) -> &'static str {
        match self {
            Self::Bundle => DocumentKind::Bundle.name(),
            Self::Capsule => DocumentKind::Capsule.name(),
            Self::Header => DocumentKind::Header.name(),
        }
    }

    /// Tells which document `text` is from its top-level keys (`lcm_capsule::DocumentKind`,
    /// as `lcm verify` does).
    fn detect(text: &str, what: &str) -> PyResult<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| input(format!("{what}: malformed JSON: {e}")))?;
        match DocumentKind::of(&value) {
            Some(DocumentKind::Bundle) => Ok(Self::Bundle),
            Some(DocumentKind::Capsule) => Ok(Self::Capsule),
            Some(DocumentKind::Header) => Ok(Self::Header),
            _ => Err(input(format!("{what}: {NOT_A_DOCUMENT}"))),
        }
    }
}

/// The outcome of a verification: the report, or the `VerificationError` carrying it.
fn outcome(
    py: Python<'_>,
    kind: Kind,
    key_id: String,
    result: Result<CapsuleReport, VerificationFailed>,
) -> PyResult<Report> {
    match result {
        Ok(report) => Ok(Report::new(kind, key_id, &report)),
        Err(failed) => {
            let report = Report::new(kind, key_id, &failed.report);
            let err = VerificationError::new_err(failed.to_string());
            err.value(py).setattr("report", Py::new(py, report)?)?;
            Err(err)
        }
    }
}

/// A document that is JSON but not a valid document of its kind fails verification (stage
/// document), as in `lcm verify`.
fn document_failure(kind: Kind, e: &lcm_capsule::Error) -> PyErr {
    VerificationError::new_err(format!("[document] {} parses: {e}", kind.name()))
}

/// Adds the requirement checks on `header` to `result`.
fn with_requirements(
    result: Result<CapsuleReport, VerificationFailed>,
    header: &CapsuleHeader,
    requirements: Option<&PolicyRequirements>,
) -> Result<CapsuleReport, VerificationFailed> {
    let Some(req) = requirements else {
        return result;
    };
    let mut report = match result {
        Ok(r) => r,
        Err(f) => f.report,
    };
    let extra = match validate_lcm_policy(header, req) {
        Ok(r) => r,
        Err(f) => f.report,
    };
    report.checks.extend(extra.checks);
    report.into_result()
}

fn run(
    py: Python<'_>,
    text: String,
    what: &str,
    key: &std::path::Path,
    header: Option<String>,
    requirements: Option<&Requirements>,
) -> PyResult<Report> {
    let kind = Kind::detect(&text, what)?;
    let key = read_verifying_key(key)?;
    let key_id = key.key_id().to_hex();
    let req = requirements.map(Requirements::to_native).transpose()?;
    let result = py.detach(|| -> PyResult<_> {
        Ok(match kind {
            Kind::Bundle => verify_bundle_json(&text, &key, &req.clone().unwrap_or_default()),
            Kind::Header => {
                let header =
                    CapsuleHeader::from_json(&text).map_err(|e| document_failure(kind, &e))?;
                with_requirements(verify_header(&header, &key), &header, req.as_ref())
            }
            Kind::Capsule => {
                let header_text = header.ok_or_else(|| {
                    input("a capsule is verified against its header: pass header=")
                })?;
                let header = CapsuleHeader::from_json(&header_text)
                    .map_err(|e| document_failure(Kind::Header, &e))?;
                let capsule = Capsule::from_json(&text).map_err(|e| document_failure(kind, &e))?;
                with_requirements(
                    verify_capsule(&capsule, &header, &key),
                    &header,
                    req.as_ref(),
                )
            }
        })
    })?;
    outcome(py, kind, key_id, result)
}

/// Verifies the header, capsule or bundle file at `path` (detected from its content) against
/// the public key file `key`, as `lcm verify` does; a capsule needs its `header` file. Every
/// signature, digest, link, root and proof is recomputed; `requirements` adds policy checks.
/// The GIL is released while verifying.
///
/// Returns the report (`.checks`). Raises `VerificationError` (with `.report`) when a check
/// fails and `InputError` for malformed input (not JSON, not an lcm document, unreadable or
/// malformed key file, a capsule without its header).
#[pyfunction]
#[pyo3(signature = (path, *, key, header = None, requirements = None))]
pub(crate) fn verify(
    py: Python<'_>,
    path: PathBuf,
    key: PathBuf,
    header: Option<PathBuf>,
    requirements: Option<Bound<'_, Requirements>>,
) -> PyResult<Report> {
    let text = String::from_utf8(read_file(&path)?)
        .map_err(|_| input(format!("{}: not UTF-8 text", path.display())))?;
    let header = header
        .map(|h| {
            String::from_utf8(read_file(&h)?)
                .map_err(|_| input(format!("{}: not UTF-8 text", h.display())))
        })
        .transpose()?;
    run(
        py,
        text,
        &path.display().to_string(),
        &key,
        header,
        requirements.as_ref().map(Bound::get),
    )
}

/// As `verify`, for a document held in memory (`bytes` or `str`); a capsule's `header` is
/// given the same way.
#[pyfunction]
#[pyo3(signature = (data, *, key, header = None, requirements = None))]
pub(crate) fn verify_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    key: PathBuf,
    header: Option<&Bound<'_, PyAny>>,
    requirements: Option<Bound<'_, Requirements>>,
) -> PyResult<Report> {
    let text = text_of(data, "data")?;
    let header = header.map(|h| text_of(h, "header")).transpose()?;
    run(
        py,
        text,
        "data",
        &key,
        header,
        requirements.as_ref().map(Bound::get),
    )
}
