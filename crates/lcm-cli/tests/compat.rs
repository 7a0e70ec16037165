//! `lcm compat audit` run on the Python reference's capsule header from its vectors.

use super::{Scratch, lcm, run, stdout};

fn reference_header() -> String {
    let v: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/vectors/pyciaf/reference-vectors.json"
    ))
    .expect("the vector file is JSON");
    v["lifecycle"]["capsule_header"]["compact_json"]
        .as_str()
        .expect("the header text")
        .to_owned()
}

/// `lcm --json compat audit FILE`, which exits 0 whatever it finds, parsed.
fn json_audit(dir: &Scratch, file: &std::path::Path) -> serde_json::Value {
    let out = run(
        lcm(&dir.store())
            .args(["--json", "compat", "audit"])
            .arg(file),
        0,
    );
    serde_json::from_str(&stdout(&out)).expect("the audit is JSON")
}

#[test]
fn audit_reports_field_by_field() {
    let dir = Scratch::new("compat-audit");
    let file = dir.path("header.json");
    std::fs::write(&file, reference_header()).unwrap();

    let out = run(lcm(&dir.store()).args(["compat", "audit"]).arg(&file), 0);
    let text = stdout(&out);
    assert!(text.contains("stage_d_predeployment.anchor_id"), "{text}");
    assert!(
        text.contains("summary: 16 consistent, 0 inconsistent, 31 unverifiable, 2 absent"),
        "{text}"
    );
    // The store is not touched.
    assert!(!dir.store().exists());

    let report = json_audit(&dir, &file);
    assert_eq!(report["summary"]["inconsistent"], 0);
    assert_eq!(
        report["file_sha256"],
        "bb3c9d3f926e33d977b7a3f7692180641e40b4433724b6bad35210f6bb78cce9"
    );
    let finding = |field: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .cloned()
            .unwrap()
    };
    assert_eq!(finding("stage_b_model.arch_root")["status"], "unverifiable");
    assert_eq!(
        finding("stage_f_test_evaluation.anchor_id")["status"],
        "consistent"
    );
    assert_eq!(finding("stage_g_inference")["status"], "absent");

    // One tampered id is reported, and the audit still exits 0: it ran.
    let tampered = reference_header().replace("pd_332602fe...", "pd_332602ff...");
    std::fs::write(&file, tampered).unwrap();
    let report = json_audit(&dir, &file);
    assert_eq!(report["summary"]["inconsistent"], 1);
}

#[test]
fn audit_refuses_unreadable_input_with_exit_2() {
    let dir = Scratch::new("compat-audit-bad");
    let file = dir.path("header.json");
    run(lcm(&dir.store()).args(["compat", "audit"]).arg(&file), 2);
    std::fs::write(&file, "{\"capsule_version\":").unwrap();
    run(lcm(&dir.store()).args(["compat", "audit"]).arg(&file), 2);
    std::fs::write(&file, "[1, 2]").unwrap();
    run(lcm(&dir.store()).args(["compat", "audit"]).arg(&file), 2);
}
