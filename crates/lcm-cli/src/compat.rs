//! `lcm compat audit FILE`: reads a capsule header written by the Python reference
//! (DenzilGreenwood/pyciaf 1.7.0, `CapsuleHeader.to_json()`/`to_compact_json()`) and says, field
//! by field, what can be checked, what cannot, and why.
//!
//! The reference's header cuts every digest to 8 hex characters plus `"..."` and carries no
//! signature, no policy digest and no full root; its anchors come from salts it threw away.
//! So most fields can only be checked for their form, and a few against each other (an id
//! and the digest it was cut from). `docs/COMPAT.md` explains each rule.

use std::path::Path;

use lcm_crypto::{HashAlgorithm, hash};
use serde_json::{Map, Value, json};

use crate::cli::Cli;
use crate::error::{CliError, input};
use crate::io::{Out, read_file};

/// What the audit could say about one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
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
    const fn name(self) -> &'static str {
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
pub(crate) struct Finding {
    pub(crate) field: String,
    pub(crate) status: Status,
    pub(crate) detail: String,
}

const TRUNCATED: &str = "truncated to 32 bits (8 hex characters plus \"...\"): the full digest is \
    not in the header, so it cannot be recomputed, and about 2^16 tries find another value with \
    this prefix";

/// The stages of the reference's header, their letter, description and fields.
struct Stage {
    key: &'static str,
    letter: &'static str,
    description: &'static str,
    /// `(field, rule)`; the rule names how the field is audited.
    fields: &'static [(&'static str, Rule)],
}

#[derive(Clone, Copy)]
enum Rule {
    /// A digest cut to 8 hex + "..." (the detail says what digest).
    Truncated(&'static str),
    /// An anchor id `prefix + 8 hex + "..."` whose digest is also in the header as `field`.
    IdOf(&'static str, &'static str),
    /// An anchor id made from a keyed digest whose key came from a discarded salt.
    KeyedId(&'static str, &'static str),
    /// An anchor id of a digest the header does not carry otherwise.
    IdOnly(&'static str, &'static str),
    /// Free text or a number recorded as given; nothing to recompute.
    Given(&'static str),
}

const STAGES: &[Stage] = &[
    Stage {
        key: "stage_a_dataset",
        letter: "A",
        description: "Dataset Anchoring",
        fields: &[
            (
                "anchor_id",
                Rule::KeyedId(
                    "t_/v_/x_/f_/u_",
                    "HMAC-SHA256(PBKDF2(password, master_salt), dataset_hash): the 16-byte master_salt was drawn at random and never stored, so even the password holder cannot recompute it",
                ),
            ),
            ("dataset_digest", Rule::Truncated("dataset_hash")),
            (
                "sample_count",
                Rule::Given(
                    "the metadata's total_samples (usually null), not the number of samples anchored",
                ),
            ),
            ("split_type", Rule::Given("the split's name")),
        ],
    },
    Stage {
        key: "stage_b_model",
        letter: "B",
        description: "Model Anchoring",
        fields: &[
            (
                "anchor_id",
                Rule::KeyedId(
                    "m_",
                    "HMAC-SHA256(PBKDF2(password, master_salt), model_hash): the master_salt was drawn at random and never stored, and the password defaults to the model's name",
                ),
            ),
            (
                "params_root",
                Rule::Truncated(
                    "params_root (hyperparameters, parameter count and architecture type; not the weights)",
                ),
            ),
            ("arch_root", Rule::Truncated("arch_root")),
            ("hp_digest", Rule::Truncated("hp_digest")),
            (
                "env_digest",
                Rule::Truncated("env_digest (which includes the host's Python version and OS)"),
            ),
            (
                "trainer_commit",
                Rule::Given(
                    "cut to 8 characters plus \"...\" even when shorter, so the commit cannot be recovered exactly",
                ),
            ),
        ],
    },
    Stage {
        key: "stage_c_training",
        letter: "C",
        description: "Training Session",
        fields: &[
            ("session_id", Rule::Given("the session's name")),
            (
                "checkpoint_count",
                Rule::Given("a count; no checkpoint enters any digest of the reference"),
            ),
            (
                "final_loss",
                Rule::Given("a metric as reported (or \"unknown\")"),
            ),
            (
                "training_snapshot",
                Rule::Truncated("the snapshot's merkle_root_hash (or \"not_completed\")"),
            ),
        ],
    },
    Stage {
        key: "stage_d_predeployment",
        letter: "D",
        description: "Pre-deployment",
        fields: &[
            ("anchor_id", Rule::IdOf("pd_", "intent_digest")),
            ("artifacts_count", Rule::Given("a count")),
            ("intent_digest", Rule::Truncated("predeployment_hash")),
            ("predeployment_id", Rule::Given("the pre-deployment's name")),
            ("sbom_digest", Rule::Truncated("sbom_digest")),
        ],
    },
    Stage {
        key: "stage_e_deployment",
        letter: "E",
        description: "Deployment",
        fields: &[
            (
                "actual_digest",
                Rule::Truncated(
                    "intent_to_actual_digest = sha256(predeployment_hash || \"||\" || deployment_hash)",
                ),
            ),
            ("anchor_id", Rule::IdOnly("dp_", "deployment_hash")),
            ("deployment_id", Rule::Given("the deployment's name")),
            ("environment", Rule::Given("as given")),
            ("location", Rule::Given("as given")),
        ],
    },
    Stage {
        key: "stage_f_test_evaluation",
        letter: "F",
        description: "Test Evaluation",
        fields: &[
            ("anchor_id", Rule::IdOf("te_", "test_metrics_digest")),
            ("evaluation_type", Rule::Given("a label")),
            (
                "metrics",
                Rule::Given(
                    "the metrics are shown, but the digest they enter is truncated; a caller-supplied test_metrics_digest is trusted by the reference without recomputation",
                ),
            ),
            ("test_id", Rule::Given("the evaluation's name")),
            (
                "test_metrics_digest",
                Rule::Truncated("test_metrics_digest"),
            ),
        ],
    },
    Stage {
        key: "stage_g_inference",
        letter: "G",
        description: "Inference Receipt",
        fields: &[
            ("inference_id", Rule::Given("the receipt's name")),
            ("inference_type", Rule::Given("always \"standard\"")),
            (
                "receipt_hash",
                Rule::Truncated(
                    "receipt_digest, over commitments whose salts or keys were discarded, so not even the full digest could be recomputed from the query and output",
                ),
            ),
            (
                "prev_receipt_hash",
                Rule::Truncated("the previous receipt's digest (or \"genesis\")"),
            ),
        ],
    },
    Stage {
        key: "stage_h_roots",
        letter: "H",
        description: "Merkle Roots & Publication",
        fields: &[
            (
                "evidence_id",
                Rule::Given("the string \"null\": no evidence or transparency-log entry"),
            ),
            (
                "inference_batch_root",
                Rule::Truncated(
                    "the batch root (duplicate-last tree; a root does not fix the number of receipts)",
                ),
            ),
            (
                "release_root",
                Rule::Truncated("the release root (duplicate-last tree over four digests)"),
            ),
            (
                "timestamp_authority",
                Rule::Given("\"not_set\": the roots were never timestamped or published"),
            ),
            (
                "training_session_root",
                Rule::Truncated(
                    "the training session root, which commits to none of the session's id, config, checkpoints or metrics",
                ),
            ),
        ],
    },
];

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

/// The reference's fixed `policy` block (the same for every policy).
fn reference_policy() -> Value {
    json!({
        "canonicalization": "json(sorted,utf-8)",
        "commitment_types": ["salted", "HMAC-SHA256", "plaintext"],
        "domain_types": ["CIAF|dataset", "CIAF|dataset|family", "CIAF|dataset|split", "CIAF|model", "CIAF|train", "CIAF|deployment", "CIAF|inference"],
        "hash_algorithm": "SHA-256",
        "merkle_policy": {"fanout": 2, "padding_strategy": "duplicate_last"}
    })
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

fn audit_stage(stage: &Stage, obj: &Map<String, Value>, findings: &mut Vec<Finding>) {
    let name = |f: &str| format!("{}.{f}", stage.key);
    let text = |f: &str| obj.get(f).and_then(Value::as_str);
    match text("stage") {
        Some(l) if l == stage.letter => push(
            findings,
            name("stage"),
            Status::Consistent,
            format!("the letter {l}"),
        ),
        _ => push(
            findings,
            name("stage"),
            Status::Inconsistent,
            format!("expected \"{}\"", stage.letter),
        ),
    }
    match text("description") {
        Some(d) if d == stage.description => push(
            findings,
            name("description"),
            Status::Consistent,
            "the reference's fixed text",
        ),
        _ => push(
            findings,
            name("description"),
            Status::Inconsistent,
            format!("expected \"{}\"", stage.description),
        ),
    }
    for (field, rule) in stage.fields {
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
        match *rule {
            Rule::Truncated(what) => match s {
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
                } else if stage.key == "stage_a_dataset"
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
        .fields
        .iter()
        .map(|(f, _)| *f)
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

/// Audits a parsed header.
///
/// # Errors
///
/// A message when the document is not a `JSON` object with `capsule_version`: it is not a
/// header of the reference.
pub(crate) fn audit(header: &Value) -> Result<Vec<Finding>, String> {
    let Some(obj) = header.as_object() else {
        return Err("expected a JSON object (a pyciaf capsule header)".to_owned());
    };
    if !obj.contains_key("capsule_version") {
        return Err(
            "expected a pyciaf capsule header with capsule_version, got an object without it"
                .to_owned(),
        );
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
    match obj.get("policy") {
        Some(p) if *p == reference_policy() => push(
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
    for stage in STAGES {
        match obj.get(stage.key) {
            None => push(
                &mut findings,
                stage.key.to_owned(),
                Status::Inconsistent,
                "missing: the reference always writes every stage (null when absent)",
            ),
            Some(Value::Null) => push(
                &mut findings,
                stage.key.to_owned(),
                Status::Absent,
                "null: nothing recorded for this stage",
            ),
            Some(Value::Object(o)) => audit_stage(stage, o, &mut findings),
            Some(other) => push(
                &mut findings,
                stage.key.to_owned(),
                Status::Inconsistent,
                format!("expected an object or null, got {other}"),
            ),
        }
    }
    let known = ["capsule_version", "generated_at", "policy"];
    for key in obj
        .keys()
        .filter(|k| !known.contains(&k.as_str()) && !STAGES.iter().any(|s| s.key == k.as_str()))
    {
        push(
            &mut findings,
            key.clone(),
            Status::Inconsistent,
            "a field the reference does not write",
        );
    }
    Ok(findings)
}

/// `lcm compat audit FILE`.
pub(crate) fn audit_cmd(cli: &Cli, out: &mut Out, file: &Path) -> Result<(), CliError> {
    let bytes = read_file(file)?;
    let header: Value =
        serde_json::from_slice(&bytes).map_err(|e| input(format!("{}: {e}", file.display())))?;
    let findings = audit(&header).map_err(|e| input(format!("{}: {e}", file.display())))?;
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let file_digest = hash(HashAlgorithm::Sha256, &bytes);
    if cli.json {
        let items: Vec<Value> = findings
            .iter()
            .map(|f| json!({"field": f.field, "status": f.status.name(), "detail": f.detail}))
            .collect();
        let report = json!({
            "file": file.display().to_string(),
            "file_sha256": file_digest.to_hex(),
            "findings": items,
            "summary": {
                "consistent": count(Status::Consistent),
                "inconsistent": count(Status::Inconsistent),
                "unverifiable": count(Status::Unverifiable),
                "absent": count(Status::Absent),
            },
        });
        return out.line(&report.to_string());
    }
    out.line(&format!(
        "{}: pyciaf capsule header (sha256 of the file {file_digest})",
        file.display()
    ))?;
    for f in &findings {
        out.line(&format!(
            "{:<44} {:<13} {}",
            f.field,
            f.status.name(),
            f.detail
        ))?;
    }
    out.line(&format!(
        "summary: {} consistent, {} inconsistent, {} unverifiable, {} absent",
        count(Status::Consistent),
        count(Status::Inconsistent),
        count(Status::Unverifiable),
        count(Status::Absent)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_header() -> Value {
        let v: Value = serde_json::from_str(include_str!(
            "../../../tests/vectors/pyciaf/reference-vectors.json"
        ))
        .unwrap();
        serde_json::from_str(
            v["lifecycle"]["capsule_header"]["compact_json"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    }

    fn status(findings: &[Finding], field: &str) -> Status {
        findings
            .iter()
            .find(|f| f.field == field)
            .unwrap_or_else(|| panic!("{field}"))
            .status
    }

    #[test]
    fn the_reference_header_audits_cleanly() {
        let findings = audit(&vector_header()).unwrap();
        assert!(
            findings.iter().all(|f| f.status != Status::Inconsistent),
            "{findings:#?}"
        );
        assert_eq!(
            status(&findings, "stage_d_predeployment.anchor_id"),
            Status::Consistent
        );
        assert_eq!(
            status(&findings, "stage_f_test_evaluation.anchor_id"),
            Status::Consistent
        );
        assert_eq!(
            status(&findings, "stage_b_model.arch_root"),
            Status::Unverifiable
        );
        assert_eq!(
            status(&findings, "stage_a_dataset.anchor_id"),
            Status::Unverifiable
        );
        assert_eq!(status(&findings, "stage_c_training"), Status::Absent);
        assert_eq!(status(&findings, "policy"), Status::Consistent);
        assert_eq!(status(&findings, "signature"), Status::Unverifiable);
    }

    #[test]
    fn tampering_is_reported_field_by_field() {
        let cases: [(&str, &str, Value, &str); 6] = [
            (
                "stage_d_predeployment",
                "anchor_id",
                json!("pd_00000000..."),
                "stage_d_predeployment.anchor_id",
            ),
            (
                "stage_f_test_evaluation",
                "test_metrics_digest",
                json!("ff35bc9f..."),
                "stage_f_test_evaluation.anchor_id",
            ),
            (
                "stage_b_model",
                "arch_root",
                json!("fd2f5665"),
                "stage_b_model.arch_root",
            ),
            (
                "stage_a_dataset",
                "split_type",
                json!("test"),
                "stage_a_dataset.anchor_id",
            ),
            ("stage_h_roots", "stage", json!("G"), "stage_h_roots.stage"),
            (
                "stage_e_deployment",
                "extra",
                json!(1),
                "stage_e_deployment.extra",
            ),
        ];
        for (stage, field, value, reported) in cases {
            let mut h = vector_header();
            h[stage][field] = value;
            let findings = audit(&h).unwrap();
            assert_eq!(
                status(&findings, reported),
                Status::Inconsistent,
                "{stage}.{field}"
            );
        }
        let mut h = vector_header();
        h["policy"]["hash_algorithm"] = json!("SHA3-256");
        assert_eq!(status(&audit(&h).unwrap(), "policy"), Status::Inconsistent);
        let mut h = vector_header();
        h["generated_at"] = json!("yesterday");
        assert_eq!(
            status(&audit(&h).unwrap(), "generated_at"),
            Status::Inconsistent
        );
        let mut h = vector_header();
        h.as_object_mut().unwrap().remove("stage_g_inference");
        assert_eq!(
            status(&audit(&h).unwrap(), "stage_g_inference"),
            Status::Inconsistent
        );
    }

    #[test]
    fn non_headers_are_refused() {
        assert!(audit(&json!([1])).is_err());
        assert!(audit(&json!({"a": 1})).is_err());
    }

    #[test]
    fn shapes() {
        assert_eq!(truncated_hex("0123abcd..."), Some("0123abcd"));
        for bad in ["0123abc...", "0123ABCD...", "0123abcd", "0123abcde..."] {
            assert_eq!(truncated_hex(bad), None, "{bad}");
        }
        assert!(is_naive_isoformat("2026-01-02T03:04:05.678901"));
        assert!(is_naive_isoformat("2026-01-02T03:04:05"));
        assert!(!is_naive_isoformat("2026-01-02T03:04:05Z"));
        assert!(!is_naive_isoformat("2026-01-02 03:04:05"));
    }
}
