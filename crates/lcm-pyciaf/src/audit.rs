//! The typed audit of a capsule header written by the reference (`CapsuleHeader.to_json()` or
//! `to_compact_json()`), field by field: what can be checked, what cannot, and why. `lcm compat
//! audit` prints its [`Report`].
//!
//! The reference's header cuts every digest to 8 hex characters plus `"..."` and carries no
//! signature, no policy digest and no full root; its anchors come from salts it threw away.
//! So most fields can only be checked for their form, and a few against each other (an id
//! and the digest it was cut from). `docs/COMPAT.md` explains each rule.
//!
//! The header's shape (its stages, their letters, descriptions and fields, the fixed policy
//! block) is [`crate::header`], the same definition
//! [`CapsuleManager`](crate::managers::CapsuleManager) writes headers from.
//!
//! # Examples
//!
//! ```
//! use lcm_pyciaf::audit::{self, Status};
//!
//! let report = audit::audit_header(br#"{"capsule_version": "1.0.0"}"#)?;
//! assert_eq!(report.findings[0].status, Status::Consistent);
//! assert!(report.summary().inconsistent > 0);
//! assert!(audit::audit_header(b"[1, 2]").is_err());
//! # Ok::<(), audit::AuditError>(())
//! ```

use lcm_crypto::{Digest, HashAlgorithm, hash};
use serde_json::{Map, Value, json};

use crate::header::{HeaderStage, POLICY_BLOCK, TOP_LEVEL};

/// What the audit could say about one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Checked and consistent.
    Consistent,
    /// Checked and wrong.
    Inconsistent,
    /// Cannot be checked from what the reference keeps; the detail says why.
    Unverifiable,
    /// The stage is `null`: nothing was recorded.
    Absent,
}

impl Status {
    /// Every status, in the order a summary lists them.
    pub const ALL: [Self; 4] = [
        Self::Consistent,
        Self::Inconsistent,
        Self::Unverifiable,
        Self::Absent,
    ];

    /// The status's name in reports: `consistent`, `inconsistent`, `unverifiable`, `absent`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Consistent => "consistent",
            Self::Inconsistent => "inconsistent",
            Self::Unverifiable => "unverifiable",
            Self::Absent => "absent",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The field: a top-level member, `stage_x.field`, or a pseudo-field such as `signature`.
    pub field: String,
    /// What the audit could say.
    pub status: Status,
    /// Why, in words.
    pub detail: String,
}

/// How many findings have each [`Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// [`Status::Consistent`] findings.
    pub consistent: usize,
    /// [`Status::Inconsistent`] findings.
    pub inconsistent: usize,
    /// [`Status::Unverifiable`] findings.
    pub unverifiable: usize,
    /// [`Status::Absent`] findings.
    pub absent: usize,
}

impl Summary {
    /// The count for `status`.
    pub const fn count(&self, status: Status) -> usize {
        match status {
            Status::Consistent => self.consistent,
            Status::Inconsistent => self.inconsistent,
            Status::Unverifiable => self.unverifiable,
            Status::Absent => self.absent,
        }
    }
}

/// The audit of one header file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// SHA-256 of the file's bytes, so that a report names what it audited.
    pub file_sha256: Digest,
    /// The findings, in the header's order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings have each status.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            match f.status {
                Status::Consistent => s.consistent += 1,
                Status::Inconsistent => s.inconsistent += 1,
                Status::Unverifiable => s.unverifiable += 1,
                Status::Absent => s.absent += 1,
            }
        }
        s
    }

    /// The report as one JSON object (`lcm compat audit --json` adds the file's name): the
    /// file's SHA-256, every finding (field, status, detail) and the count of each status.
    ///
    /// ```
    /// let report = lcm_pyciaf::audit::audit_header(br#"{"capsule_version": "1.0"}"#)?;
    /// let json = report.to_json();
    /// assert_eq!(json["file_sha256"], report.file_sha256.to_hex());
    /// let counted: u64 = ["consistent", "inconsistent", "unverifiable", "absent"]
    ///     .iter()
    ///     .filter_map(|s| json["summary"][s].as_u64())
    ///     .sum();
    /// assert_eq!(counted, u64::try_from(report.findings.len())?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> Value {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|f| json!({"field": f.field, "status": f.status.name(), "detail": f.detail}))
            .collect();
        let summary = self.summary();
        let counts: Map<String, Value> = Status::ALL
            .iter()
            .map(|&s| (s.name().to_owned(), json!(summary.count(s))))
            .collect();
        json!({
            "file_sha256": self.file_sha256.to_hex(),
            "findings": findings,
            "summary": counts,
        })
    }

    /// The report as the table `lcm compat audit` prints for the file named `file`: a title
    /// line with the file's SHA-256, one line per finding (field, status, detail, in
    /// columns) and the count of each status.
    ///
    /// ```
    /// let report = lcm_pyciaf::audit::audit_header(br#"{"capsule_version": "1.0"}"#)?;
    /// let lines = report.text_lines("h.json");
    /// assert!(lines[0].starts_with("h.json: pyciaf capsule header (sha256 of the file "));
    /// assert_eq!(lines.len(), report.findings.len() + 2);
    /// assert!(lines[lines.len() - 1].starts_with("summary: "));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn text_lines(&self, file: &str) -> Vec<String> {
        let mut lines = Vec::with_capacity(self.findings.len() + 2);
        lines.push(format!(
            "{file}: pyciaf capsule header (sha256 of the file {})",
            self.file_sha256
        ));
        for f in &self.findings {
            lines.push(format!(
                "{:<44} {:<13} {}",
                f.field,
                f.status.name(),
                f.detail
            ));
        }
        let summary = self.summary();
        lines.push(format!(
            "summary: {} consistent, {} inconsistent, {} unverifiable, {} absent",
            summary.count(Status::Consistent),
            summary.count(Status::Inconsistent),
            summary.count(Status::Unverifiable),
            summary.count(Status::Absent)
        ));
        lines
    }
}

/// Why a document could not be audited at all (a field that is wrong is a [`Finding`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The bytes are not JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The document is JSON but not an object.
    #[error("expected a JSON object (a pyciaf capsule header)")]
    NotAnObject,
    /// The object has no `capsule_version`: it is not a header of the reference.
    #[error("expected a pyciaf capsule header with capsule_version, got an object without it")]
    NotAHeader,
}

/// Audits the header in `bytes` (the file as read).
///
/// This does not panic.
///
/// # Errors
///
/// [`AuditError`] when the bytes are not a JSON object with `capsule_version`.
pub fn audit_header(bytes: &[u8]) -> Result<Report, AuditError> {
    let header: Value = serde_json::from_slice(bytes)?;
    Ok(Report {
        file_sha256: hash(HashAlgorithm::Sha256, bytes),
        findings: audit_value(&header)?,
    })
}

const TRUNCATED: &str = "truncated to 32 bits (8 hex characters plus \"...\"): the full digest is \
    not in the header, so it cannot be recomputed, and about 2^16 tries find another value with \
    this prefix";

/// How one field of a stage is audited.
#[derive(Clone, Copy)]
enum Rule {
    /// A digest cut to 8 hex + "..." (the detail says what digest).
    Truncated(&'static str),
    /// As `Truncated`, but `null` when the caller gave no such digest (the reference's
    /// `x[:8] + "..." if x else None`, for the roots of stage H).
    TruncatedOrNull(&'static str),
    /// An anchor id `prefix + 8 hex + "..."` whose digest is also in the header as `field`.
    IdOf(&'static str, &'static str),
    /// An anchor id made from a keyed digest whose key came from a discarded salt.
    KeyedId(&'static str, &'static str),
    /// An anchor id of a digest the header does not carry otherwise.
    IdOnly(&'static str, &'static str),
    /// Free text or a number recorded as given; nothing to recompute.
    Given(&'static str),
}

/// How the audit checks `field` of `stage`; `None` for a field the reference does not write.
fn rule(stage: HeaderStage, field: &str) -> Option<Rule> {
    use HeaderStage as S;
    Some(match (stage, field) {
        (S::Dataset, "anchor_id") => Rule::KeyedId(
            "t_/v_/x_/f_/u_",
            "HMAC-SHA256(PBKDF2(password, master_salt), dataset_hash): the 16-byte master_salt was drawn at random and never stored, so even the password holder cannot recompute it",
        ),
        (S::Dataset, "dataset_digest") => Rule::Truncated("dataset_hash"),
        (S::Dataset, "sample_count") => Rule::Given(
            "the metadata's total_samples (usually null), not the number of samples anchored",
        ),
        (S::Dataset, "split_type") => Rule::Given("the split's name"),
        (S::Model, "anchor_id") => Rule::KeyedId(
            "m_",
            "HMAC-SHA256(PBKDF2(password, master_salt), model_hash): the master_salt was drawn at random and never stored, and the password defaults to the model's name",
        ),
        (S::Model, "params_root") => Rule::Truncated(
            "params_root (hyperparameters, parameter count and architecture type; not the weights)",
        ),
        (S::Model, "arch_root") => Rule::Truncated("arch_root"),
        (S::Model, "hp_digest") => Rule::Truncated("hp_digest"),
        (S::Model, "env_digest") => {
            Rule::Truncated("env_digest (which includes the host's Python version and OS)")
        }
        (S::Model, "trainer_commit") => Rule::Given(
            "cut to 8 characters plus \"...\" even when shorter, so the commit cannot be recovered exactly",
        ),
        (S::Training, "session_id") => Rule::Given("the session's name"),
        (S::Training, "checkpoint_count") => {
            Rule::Given("a count; no checkpoint enters any digest of the reference")
        }
        (S::Training, "final_loss") => Rule::Given("a metric as reported (or \"unknown\")"),
        (S::Training, "training_snapshot") => {
            Rule::Truncated("the snapshot's merkle_root_hash (or \"not_completed\")")
        }
        (S::PreDeployment, "anchor_id") => Rule::IdOf("pd_", "intent_digest"),
        (S::PreDeployment, "artifacts_count") => Rule::Given("a count"),
        (S::PreDeployment, "intent_digest") => Rule::Truncated("predeployment_hash"),
        (S::PreDeployment, "predeployment_id") => Rule::Given("the pre-deployment's name"),
        (S::PreDeployment, "sbom_digest") => Rule::Truncated("sbom_digest"),
        (S::Deployment, "actual_digest") => Rule::Truncated(
            "intent_to_actual_digest = sha256(predeployment_hash || \"||\" || deployment_hash)",
        ),
        (S::Deployment, "anchor_id") => Rule::IdOnly("dp_", "deployment_hash"),
        (S::Deployment, "deployment_id") => Rule::Given("the deployment's name"),
        (S::Deployment, "environment") => Rule::Given("as given"),
        (S::Deployment, "location") => Rule::Given("as given"),
        (S::TestEvaluation, "anchor_id") => Rule::IdOf("te_", "test_metrics_digest"),
        (S::TestEvaluation, "evaluation_type") => Rule::Given("a label"),
        (S::TestEvaluation, "metrics") => Rule::Given(
            "the metrics are shown, but the digest they enter is truncated; a caller-supplied test_metrics_digest is trusted by the reference without recomputation",
        ),
        (S::TestEvaluation, "test_id") => Rule::Given("the evaluation's name"),
        (S::TestEvaluation, "test_metrics_digest") => Rule::Truncated("test_metrics_digest"),
        (S::Inference, "inference_id") => Rule::Given("the receipt's name"),
        (S::Inference, "inference_type") => Rule::Given("always \"standard\""),
        (S::Inference, "receipt_hash") => Rule::Truncated(
            "receipt_digest, over commitments whose salts or keys were discarded, so not even the full digest could be recomputed from the query and output",
        ),
        (S::Inference, "prev_receipt_hash") => {
            Rule::Truncated("the previous receipt's digest (or \"genesis\")")
        }
        (S::Roots, "evidence_id") => {
            Rule::Given("the string \"null\": no evidence or transparency-log entry")
        }
        (S::Roots, "inference_batch_root") => Rule::TruncatedOrNull(
            "the batch root (duplicate-last tree; a root does not fix the number of receipts)",
        ),
        (S::Roots, "release_root") => {
            Rule::TruncatedOrNull("the release root (duplicate-last tree over four digests)")
        }
        (S::Roots, "timestamp_authority") => {
            Rule::Given("\"not_set\": the roots were never timestamped or published")
        }
        (S::Roots, "training_session_root") => Rule::TruncatedOrNull(
            "the training session root, which commits to none of the session's id, config, checkpoints or metrics",
        ),
        _ => return None,
    })
}

/// The sentinels the reference writes instead of a digest.
const SENTINELS: &[&str] = &["genesis", "not_completed", "unknown"];

/// `Some(hex8)` for text of the form 8 lowercase hex characters plus `"..."`.
fn truncated_hex(s: &str) -> Option<&str> {
    let hex = s.strip_suffix("...")?;
    (hex.len() == 8 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(hex)
}

fn push(findings: &mut Vec<Finding>, field: String, status: Status, detail: impl Into<String>) {
    findings.push(Finding {
        field,
        status,
        detail: detail.into(),
    });
}

/// Whether `s` has the shape of Python's naive `datetime.isoformat()`.
fn is_naive_isoformat(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let base = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    base && (b.len() == 19 || (b.len() == 26 && b[19] == b'.' && digits(20..26)))
}

fn audit_stage(stage: HeaderStage, obj: &Map<String, Value>, findings: &mut Vec<Finding>) {
    let name = |f: &str| format!("{}.{f}", stage.key());
    let text = |f: &str| obj.get(f).and_then(Value::as_str);
    match text("stage") {
        Some(l) if l == stage.letter() => push(
            findings,
            name("stage"),
            Status::Consistent,
            format!("the letter {l}"),
        ),
        _ => push(
            findings,
            name("stage"),
            Status::Inconsistent,
            format!("expected \"{}\"", stage.letter()),
        ),
    }
    match text("description") {
        Some(d) if d == stage.description() => push(
            findings,
            name("description"),
            Status::Consistent,
            "the reference's fixed text",
        ),
        _ => push(
            findings,
            name("description"),
            Status::Inconsistent,
            format!("expected \"{}\"", stage.description()),
        ),
    }
    for field in stage.fields() {
        let Some(rule) = rule(stage, field) else {
            continue;
        };
        let Some(value) = obj.get(*field) else {
            push(
                findings,
                name(field),
                Status::Inconsistent,
                "missing: the reference always writes this field",
            );
            continue;
        };
        let s = value.as_str();
        match rule {
            Rule::TruncatedOrNull(what) if value.is_null() => push(
                findings,
                name(field),
                Status::Absent,
                format!("null: {what} was not given"),
            ),
            Rule::Truncated(what) | Rule::TruncatedOrNull(what) => match s {
                Some(v) if truncated_hex(v).is_some() => push(
                    findings,
                    name(field),
                    Status::Unverifiable,
                    format!("{what}: {TRUNCATED}"),
                ),
                Some(v) if SENTINELS.contains(&v) => push(
                    findings,
                    name(field),
                    Status::Unverifiable,
                    format!("the sentinel \"{v}\" instead of {what}"),
                ),
                _ => push(
                    findings,
                    name(field),
                    Status::Inconsistent,
                    format!(
                        "expected {what} as 8 lowercase hex characters plus \"...\", got {value}"
                    ),
                ),
            },
            Rule::IdOf(prefix, digest_field) => {
                let id_hex = s
                    .and_then(|v| v.strip_prefix(prefix))
                    .and_then(truncated_hex);
                let digest_hex = text(digest_field).and_then(truncated_hex);
                match (id_hex, digest_hex) {
                    (Some(a), Some(b)) if a == b => push(
                        findings,
                        name(field),
                        Status::Consistent,
                        format!(
                            "\"{prefix}\" plus the same 8 hex characters as {digest_field} (both cut from one digest; the digest itself is {TRUNCATED})"
                        ),
                    ),
                    (Some(_), Some(_)) => push(
                        findings,
                        name(field),
                        Status::Inconsistent,
                        format!(
                            "expected \"{prefix}\" plus the 8 hex characters of {digest_field}, got {value}"
                        ),
                    ),
                    _ => push(
                        findings,
                        name(field),
                        Status::Inconsistent,
                        format!(
                            "expected \"{prefix}\" plus 8 lowercase hex characters plus \"...\", got {value}"
                        ),
                    ),
                }
            }
            Rule::KeyedId(prefixes, why) => {
                let form = s.is_some_and(|v| {
                    prefixes
                        .split('/')
                        .any(|p| v.strip_prefix(p).and_then(truncated_hex).is_some())
                });
                if !form {
                    push(
                        findings,
                        name(field),
                        Status::Inconsistent,
                        format!(
                            "expected one of the prefixes {prefixes} plus 8 lowercase hex characters plus \"...\", got {value}"
                        ),
                    );
                } else if stage == HeaderStage::Dataset
                    && !split_prefix_matches(s.unwrap_or_default(), text("split_type"))
                {
                    push(
                        findings,
                        name(field),
                        Status::Inconsistent,
                        format!(
                            "the prefix does not match split_type {}",
                            obj.get("split_type").unwrap_or(&Value::Null)
                        ),
                    );
                } else {
                    push(
                        findings,
                        name(field),
                        Status::Unverifiable,
                        format!("{why}; and only 32 bits of it are shown"),
                    );
                }
            }
            Rule::IdOnly(prefix, digest) => match s
                .and_then(|v| v.strip_prefix(prefix))
                .and_then(truncated_hex)
            {
                Some(_) => push(
                    findings,
                    name(field),
                    Status::Unverifiable,
                    format!(
                        "\"{prefix}\" plus {digest}, which the header does not carry: {TRUNCATED}"
                    ),
                ),
                None => push(
                    findings,
                    name(field),
                    Status::Inconsistent,
                    format!(
                        "expected \"{prefix}\" plus 8 lowercase hex characters plus \"...\", got {value}"
                    ),
                ),
            },
            Rule::Given(what) => push(
                findings,
                name(field),
                Status::Unverifiable,
                format!("{value}: {what}; recorded as given, nothing to recompute"),
            ),
        }
    }
    let known: Vec<&str> = stage
        .fields()
        .iter()
        .copied()
        .chain(["stage", "description"])
        .collect();
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        push(
            findings,
            name(key),
            Status::Inconsistent,
            "a field the reference does not write",
        );
    }
}

/// The reference's dataset id prefix for a split (`{TRAIN: "t_", VALIDATION: "v_", TEST:
/// "x_", FULL: "f_"}`, anything else `"u_"`).
fn split_prefix_matches(id: &str, split: Option<&str>) -> bool {
    let prefix = match split {
        Some("train") => "t_",
        Some("val") => "v_",
        Some("test") => "x_",
        Some("full") => "f_",
        _ => "u_",
    };
    id.starts_with(prefix)
}

/// Audits a parsed header, field by field.
///
/// This does not panic.
///
/// # Errors
///
/// [`AuditError::NotAnObject`] or [`AuditError::NotAHeader`] when the document is not a JSON
/// object with `capsule_version`: it is not a header of the reference.
pub fn audit_value(header: &Value) -> Result<Vec<Finding>, AuditError> {
    let Some(obj) = header.as_object() else {
        return Err(AuditError::NotAnObject);
    };
    if !obj.contains_key("capsule_version") {
        return Err(AuditError::NotAHeader);
    }
    let mut findings = Vec::new();
    match obj.get("capsule_version").and_then(Value::as_str) {
        Some(v) if !v.is_empty() => push(
            &mut findings,
            "capsule_version".to_owned(),
            Status::Consistent,
            format!("\"{v}\""),
        ),
        _ => push(
            &mut findings,
            "capsule_version".to_owned(),
            Status::Inconsistent,
            "expected a non-empty string",
        ),
    }
    match obj.get("generated_at").and_then(Value::as_str) {
        Some(t) if is_naive_isoformat(t) => push(
            &mut findings,
            "generated_at".to_owned(),
            Status::Unverifiable,
            format!(
                "\"{t}\": local time without a time zone (datetime.now().isoformat()), neither signed nor timestamped"
            ),
        ),
        _ => push(
            &mut findings,
            "generated_at".to_owned(),
            Status::Inconsistent,
            "expected Python's naive isoformat, YYYY-MM-DDTHH:MM:SS[.ffffff]",
        ),
    }
    let reference_policy = serde_json::from_str::<Value>(POLICY_BLOCK).ok();
    match obj.get("policy") {
        Some(p) if Some(p) == reference_policy.as_ref() => push(
            &mut findings,
            "policy".to_owned(),
            Status::Consistent,
            "the reference's fixed block; it lists every enum member rather than the policy's domains, so it says nothing about the policy in force",
        ),
        _ => push(
            &mut findings,
            "policy".to_owned(),
            Status::Inconsistent,
            "expected the reference's fixed policy block",
        ),
    }
    push(
        &mut findings,
        "policy digest".to_owned(),
        Status::Unverifiable,
        "the header carries none: the reference computes policy_digest() but never embeds it",
    );
    push(
        &mut findings,
        "signature".to_owned(),
        Status::Unverifiable,
        "the header carries none: the reference signs no LCM artefact, so anyone can rewrite any field",
    );
    for stage in HeaderStage::ALL {
        match obj.get(stage.key()) {
            None => push(
                &mut findings,
                stage.key().to_owned(),
                Status::Inconsistent,
                "missing: the reference always writes every stage (null when absent)",
            ),
            Some(Value::Null) => push(
                &mut findings,
                stage.key().to_owned(),
                Status::Absent,
                "null: nothing recorded for this stage",
            ),
            Some(Value::Object(o)) => audit_stage(stage, o, &mut findings),
            Some(other) => push(
                &mut findings,
                stage.key().to_owned(),
                Status::Inconsistent,
                format!("expected an object or null, got {other}"),
            ),
        }
    }
    for key in obj.keys().filter(|k| {
        !TOP_LEVEL.contains(&k.as_str()) && !HeaderStage::ALL.iter().any(|s| s.key() == k.as_str())
    }) {
        push(
            &mut findings,
            key.clone(),
            Status::Inconsistent,
            "a field the reference does not write",
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests;
