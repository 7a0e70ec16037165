//! Unit tests of the header audit.

use serde_json::json;

use super::*;

fn vector_header() -> Value {
    let v: Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/pyciaf/reference-vectors.json"
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
    let findings = audit_value(&vector_header()).unwrap();
    assert!(
        findings.iter().all(|f| f.status != Status::Inconsistent),
        "{findings:#?}"
    );
    for (path, expected) in [
        ("stage_d_predeployment.anchor_id", Status::Consistent),
        ("stage_f_test_evaluation.anchor_id", Status::Consistent),
        ("stage_b_model.arch_root", Status::Unverifiable),
        ("stage_a_dataset.anchor_id", Status::Unverifiable),
        ("stage_c_training", Status::Absent),
        ("policy", Status::Consistent),
        ("signature", Status::Unverifiable),
    ] {
        assert_eq!(status(&findings, path), expected, "{path}");
    }
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
        let findings = audit_value(&h).unwrap();
        assert_eq!(
            status(&findings, reported),
            Status::Inconsistent,
            "{stage}.{field}"
        );
    }
    let mut h = vector_header();
    h["policy"]["hash_algorithm"] = json!("SHA3-256");
    assert_eq!(
        status(&audit_value(&h).unwrap(), "policy"),
        Status::Inconsistent
    );
    let mut h = vector_header();
    h["generated_at"] = json!("yesterday");
    assert_eq!(
        status(&audit_value(&h).unwrap(), "generated_at"),
        Status::Inconsistent
    );
    let mut h = vector_header();
    h.as_object_mut().unwrap().remove("stage_g_inference");
    assert_eq!(
        status(&audit_value(&h).unwrap(), "stage_g_inference"),
        Status::Inconsistent
    );
}

#[test]
fn non_headers_are_refused() {
    assert!(audit_value(&json!([1])).is_err());
    assert!(audit_value(&json!({"a": 1})).is_err());
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

#[test]
fn every_field_of_the_shape_has_a_rule() {
    for stage in HeaderStage::ALL {
        for field in stage.fields() {
            assert!(rule(stage, field).is_some(), "{}.{field}", stage.key());
        }
    }
}

#[test]
fn the_file_is_named_by_its_digest_and_errors_are_typed() {
    let text = vector_header().to_string();
    let report = audit_header(text.as_bytes()).unwrap();
    assert_eq!(
        report.file_sha256,
        hash(HashAlgorithm::Sha256, text.as_bytes())
    );
    let s = report.summary();
    assert_eq!(
        s.consistent + s.inconsistent + s.unverifiable + s.absent,
        report.findings.len()
    );
    assert_eq!(s.count(Status::Inconsistent), 0);
    assert!(matches!(
        audit_header(b"{\"capsule_version\":"),
        Err(AuditError::Json(_))
    ));
    assert!(matches!(
        audit_header(b"[1, 2]"),
        Err(AuditError::NotAnObject)
    ));
    assert!(matches!(
        audit_header(b"{\"a\": 1}"),
        Err(AuditError::NotAHeader)
    ));
}

#[test]
fn the_json_report_has_every_finding_and_each_count() {
    let bytes = vector_header().to_string();
    let report = audit_header(bytes.as_bytes()).unwrap();
    let json = report.to_json();
    assert_eq!(json["file_sha256"], json!(report.file_sha256.to_hex()));
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), report.findings.len());
    assert_eq!(findings[0]["field"], json!(report.findings[0].field));
    let summary = report.summary();
    for s in Status::ALL {
        assert_eq!(
            json["summary"][s.name()],
            json!(summary.count(s)),
            "{}",
            s.name()
        );
    }
    // One byte of the file changed: another digest, and the report says so.
    let other = audit_header(bytes.replacen("1", "2", 1).as_bytes()).unwrap();
    assert_ne!(other.to_json()["file_sha256"], json["file_sha256"]);
}

#[test]
fn the_text_lines_are_the_table_of_the_findings() {
    let bytes = vector_header().to_string();
    let report = audit_header(bytes.as_bytes()).unwrap();
    let lines = report.text_lines("header.json");
    assert_eq!(lines.len(), report.findings.len() + 2);
    assert_eq!(
        lines[0],
        format!(
            "header.json: pyciaf capsule header (sha256 of the file {})",
            report.file_sha256
        )
    );
    for (line, f) in lines[1..].iter().zip(&report.findings) {
        assert!(line.starts_with(&format!("{:<44} ", f.field)), "{line}");
        assert!(line.ends_with(&f.detail), "{line}");
        assert_eq!(line[45..].split_whitespace().next(), Some(f.status.name()));
    }
    let s = report.summary();
    assert_eq!(
        lines[lines.len() - 1],
        format!(
            "summary: {} consistent, {} inconsistent, {} unverifiable, {} absent",
            s.consistent, s.inconsistent, s.unverifiable, s.absent
        )
    );
}
