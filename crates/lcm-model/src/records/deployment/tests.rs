//! Unit tests of `lcm_model::records::deployment`.

use super::*;

fn artifact() -> BuildArtifact {
    BuildArtifact {
        artifact_type: "docker".into(),
        artifact_digest: format!("sha256:{}", "0a".repeat(32)),
        build_timestamp: Timestamp::from_unix_micros(1_767_323_045_678_901),
        builder_info: "jenkins-v2.401".into(),
        size_bytes: 524_288_000,
    }
}

#[track_caller]
fn check_digest(value: &str, ok: bool) {
    let a = BuildArtifact {
        artifact_digest: value.into(),
        ..artifact()
    };
    match a.validate() {
        Ok(()) => assert!(ok, "{value:?} accepted"),
        Err(Error::InvalidField {
            field: "artifact_digest",
            ..
        }) => {
            assert!(!ok, "{value:?} rejected");
        }
        Err(e) => panic!("{value:?}: unexpected {e}"),
    }
}

#[test]
fn artifact_digests() {
    check_digest(&format!("sha256:{}", "0a".repeat(32)), true);
    check_digest(&format!("blake3:{}", "ff".repeat(32)), true);
    check_digest(&format!("sha384:{}", "12".repeat(48)), true);
    check_digest(&format!("sha512:{}", "9f".repeat(64)), true);
    check_digest("sha256:abc", false);
    check_digest("sha256:abc123...", false);
    check_digest(&"0a".repeat(32), false);
    check_digest(&format!("md5:{}", "0a".repeat(16)), false);
    check_digest(&format!("sha256:{}", "0A".repeat(32)), false);
    check_digest(&format!("sha256:{}", "0a".repeat(31)), false);
    check_digest(&format!("sha256:{}0", "0a".repeat(32)), false);
    check_digest(&format!("SHA256:{}", "0a".repeat(32)), false);
    check_digest(&format!("sha256:{}g", "0a".repeat(31)), false);
    check_digest("", false);
}

#[test]
fn artifact_required_fields() {
    let a = BuildArtifact {
        artifact_type: String::new(),
        ..artifact()
    };
    assert_matches!(
        a.validate(),
        Err(Error::EmptyField {
            field: "artifact_type",
            ..
        })
    );
    let a = BuildArtifact {
        builder_info: String::new(),
        ..artifact()
    };
    assert_matches!(
        a.validate(),
        Err(Error::EmptyField {
            field: "builder_info",
            ..
        })
    );
}

#[test]
fn sbom_digest_binds_every_field() {
    let p = Policy::default();
    let base = Sbom {
        dependencies: [("numpy".to_owned(), "1.24.0".to_owned())].into(),
        security_scan_digest: Digest::from_bytes([7; 32]),
        vulnerability_count: 0,
        compliance_status: ComplianceStatus::Passed,
    };
    base.validate().unwrap();
    let d0 = base.compute_sbom_digest(&p).unwrap();
    let mut variants = vec![
        Sbom {
            vulnerability_count: 1,
            ..base.clone()
        },
        Sbom {
            security_scan_digest: Digest::from_bytes([8; 32]),
            ..base.clone()
        },
        Sbom {
            compliance_status: ComplianceStatus::Unknown,
            ..base.clone()
        },
    ];
    let mut deps = base.clone();
    deps.dependencies.insert("numpy".into(), "1.24.1".into());
    variants.push(deps);
    for v in variants {
        assert_ne!(v.compute_sbom_digest(&p).unwrap(), d0, "{v:?}");
    }
    let mut empty = base;
    empty.dependencies.insert("flask".into(), String::new());
    assert_matches!(
        empty.validate(),
        Err(Error::EmptyField {
            field: "dependencies",
            ..
        })
    );
}

#[test]
fn status_wire_names_are_the_seeds() {
    for (s, name) in [
        (DeploymentStatus::Prepared, "prepared"),
        (DeploymentStatus::Deployed, "deployed"),
        (DeploymentStatus::Failed, "failed"),
        (DeploymentStatus::RolledBack, "rollback"),
    ] {
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{name}\""));
        assert_eq!(s.name(), name);
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let json = serde_json::to_value(artifact()).unwrap();
    let mut obj = json.as_object().unwrap().clone();
    obj.insert("extra".into(), Value::Bool(true));
    assert!(serde_json::from_value::<BuildArtifact>(Value::Object(obj)).is_err());
}
