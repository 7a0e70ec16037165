//! Unit tests of `lcm_capsule::summary`.

use lcm_crypto::{CommitmentScheme, VerifyingKey};

use super::*;
use crate::verify_bundle;

/// The committed golden vector: the demo bundle (4 receipts, synthetic, salted commitments,
/// a dataset with personal data) and its signer's public key.
fn golden() -> (Bundle, VerifyingKey, String) {
    let doc: Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/lifecycle-bundle.json"
    ))
    .unwrap();
    let key = doc["public_key"].as_str().unwrap().parse().unwrap();
    let text = doc["bundle"].to_string();
    (Bundle::from_json(&text).unwrap(), key, text)
}

#[test]
fn a_header_summary_names_its_digest_key_policy_and_stages() {
    let (bundle, _, _) = golden();
    let text = bundle.header.to_json(None).unwrap();
    let s = summarize(DocumentKind::Header, &text).unwrap();
    let digest = bundle.header.digest().unwrap();
    assert!(s.lines.contains(&format!("header digest: {digest}")));
    assert!(s.lines.iter().any(|l| l.starts_with("SYNTHETIC: ")));
    assert!(s.lines.iter().any(|l| l.starts_with("stage_g_inference: ")));
    assert_eq!(s.facts["header_digest"], json!(digest));
    assert_eq!(s.facts["receipts"], json!(4));
    assert!(!s.facts.contains_key("records"));
}

#[test]
fn a_bundle_summary_counts_its_records() {
    let (_, _, text) = golden();
    let s = summarize(DocumentKind::Bundle, &text).unwrap();
    let records = s.lines.last().unwrap();
    assert!(records.starts_with("records: "), "{records}");
    assert!(records.contains(" 4 receipts in "), "{records}");
    assert_eq!(s.facts["records"]["receipts"], json!(4));
}

#[test]
fn a_document_that_does_not_parse_as_its_kind_has_no_summary() {
    let (bundle, _, text) = golden();
    // A bundle is not a header, nor a capsule; an unknown field is refused.
    assert!(summarize(DocumentKind::Header, &text).is_err());
    assert!(summarize(DocumentKind::Capsule, &text).is_err());
    let mut header: Value = serde_json::to_value(&bundle.header).unwrap();
    header["extra"] = json!(1);
    assert!(summarize(DocumentKind::Header, &header.to_string()).is_err());
}

#[test]
fn warnings_name_synthetic_data_and_plaintext_commitments() {
    let (bundle, _, _) = golden();
    let mut header = bundle.header;
    let w = warnings(&header);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("signed marker `synthetic`"));
    header.synthetic = None;
    assert!(warnings(&header).is_empty());
    header.policy.commitments = CommitmentScheme::Plaintext;
    let w = warnings(&header);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[1].contains("personal data"));
    header.stage_a_dataset = None;
    assert_eq!(warnings(&header).len(), 1);
}

#[test]
fn requirements_are_added_only_to_a_passing_report() {
    let (bundle, key, _) = golden();
    let header = &bundle.header;
    let passed = verify_bundle(&bundle, &key, &PolicyRequirements::default()).unwrap();
    let n = passed.checks.len();
    let none = PolicyRequirements::default();
    assert_eq!(
        with_requirements(Ok(passed.clone()), header, &none)
            .unwrap()
            .checks
            .len(),
        n
    );
    let strict = PolicyRequirements {
        min_kdf_iterations: Some(u32::MAX),
        ..PolicyRequirements::default()
    };
    let failed = with_requirements(Ok(passed), header, &strict).unwrap_err();
    assert!(failed.first().is_some_and(|c| c.outcome.is_err()));
    // A failed verification stays that failure: no requirement is checked on top of it.
    let again = with_requirements(Err(failed.clone()), header, &none).unwrap_err();
    assert_eq!(again.report.checks.len(), failed.report.checks.len());
}

#[test]
fn report_json_lists_every_check_and_each_failure() {
    let (mut bundle, key, _) = golden();
    let report = verify_bundle(&bundle, &key, &PolicyRequirements::default()).unwrap();
    let results = report.results_json();
    assert_eq!(results.as_array().unwrap().len(), report.checks.len());
    assert_eq!(report.failures_json(), json!([]));
    assert_eq!(
        report.not_applicable_json().len(),
        report.not_applicable().count()
    );
    // One byte of the release root changed: that check fails, with its error.
    let mut root = *bundle.lifecycle.release.record.root.as_bytes();
    root[0] ^= 1;
    bundle.lifecycle.release.record.root = lcm_crypto::Digest::from_bytes(root);
    let failed = verify_bundle(&bundle, &key, &PolicyRequirements::default()).unwrap_err();
    let failures = failed.report.failures_json();
    let failures = failures.as_array().unwrap();
    assert!(!failures.is_empty());
    assert!(failures.iter().all(|f| f["error"].is_string()));
    let results = failed.report.results_json();
    assert!(
        results
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["result"] == "failed" && r["error"].is_string())
    );
}
