//! Capsule headers: round trips, strict parsing with located errors, signatures, policy
//! requirements.

use lcm_capsule::{
    CheckError, Error, PolicyRequirements, Stage, validate_lcm_policy, verify_header,
};
use lcm_crypto::{CommitmentScheme, HashAlgorithm};

use crate::fixtures::{chain, key};

#[test]
fn json_round_trips_compact_and_pretty() {
    let h = chain(3).header;
    for indent in [None, Some(2), Some(4)] {
        let text = h.to_json(indent).unwrap();
        assert_eq!(lcm_capsule::CapsuleHeader::from_json(&text).unwrap(), h);
    }
    assert_eq!(h.to_compact_json().unwrap(), h.to_json(None).unwrap());
    assert!(
        h.to_json(Some(2))
            .unwrap()
            .contains("\n  \"capsule_version\"")
    );
    // Full digests, never cut short.
    let g = h.stage_g_inference.as_ref().unwrap();
    assert!(
        h.to_compact_json()
            .unwrap()
            .contains(&g.receipts_root.to_hex())
    );
}

#[track_caller]
fn parse_error(text: &str, path: &str) {
    let found = match lcm_capsule::CapsuleHeader::from_json(text) {
        Err(Error::Parse { path: p, .. }) => Some(p),
        Err(Error::Version { path: p, .. }) => Some(p.to_owned()),
        _ => None,
    };
    assert_eq!(found.as_deref(), Some(path));
}

#[test]
fn parsing_is_strict_and_names_the_value() {
    let text = chain(2).header.to_compact_json().unwrap();
    let sha256 = format!(
        "\"hash_algorithm\":{}",
        serde_json::to_string(&HashAlgorithm::Sha256).unwrap()
    );
    // (edited header, pointer the error must name)
    let cases = [
        (text.replacen("{", "{\"extra\":1,", 1), "/extra"),
        (
            text.replace("lcm-capsule/1", "lcm-capsule/2"),
            "/capsule_version",
        ),
        (
            text.replace("\"receipt_count\":2", "\"receipt_count\":-2"),
            "/stage_g_inference/receipt_count",
        ),
        (
            text.replace(&sha256, "\"hash_algorithm\":\"md5\""),
            "/policy/hash_algorithm",
        ),
        (
            text.replace("T03:04:05.678901Z", "T03:04:05Z"),
            "/generated_at",
        ),
        (
            text.replace(",\"policy_digest\":", ",\"policy_digestx\":"),
            "/policy_digestx",
        ),
        ("{".to_owned(), ""),
        (format!("{text} {{}}"), ""),
    ];
    for (edited, path) in cases {
        parse_error(&edited, path);
    }
}

#[test]
fn signature_binds_every_field_and_the_key() {
    let c = chain(3);
    let vk = c.key.verifying_key();
    assert!(verify_header(&c.header, &vk).unwrap().is_ok());

    let mut h = c.header.clone();
    h.stage_g_inference.as_mut().unwrap().receipt_count = 2;
    let failed = verify_header(&h, &vk).unwrap_err();
    let first = failed.first().unwrap();
    assert_eq!(first.name, "header signature");
    assert!(matches!(first.outcome, Err(CheckError::Signature { .. })));

    // Signed by another key: the key id check fails first, with its own error.
    let other = key(8);
    let mut h = c.header.clone();
    h.sign(&other).unwrap();
    let failed = verify_header(&h, &vk).unwrap_err();
    assert!(matches!(
        failed.first().unwrap().outcome,
        Err(CheckError::KeyMismatch { .. })
    ));
    assert_eq!(failed.first().unwrap().field, "/signature/key_id");
    assert!(verify_header(&h, &other.verifying_key()).is_ok());

    // The policy digest must match the policy.
    let mut h = c.header.clone();
    h.policy_digest = lcm_crypto::Digest::from_bytes([0; 32]);
    let failed = verify_header(&h, &vk).unwrap_err();
    assert_eq!(failed.first().unwrap().field, "/policy_digest");

    // An unusable policy is named by its field.
    let mut h = c.header;
    h.policy.kdf_iterations = 10;
    let failed = verify_header(&h, &vk).unwrap_err();
    assert_eq!(failed.first().unwrap().field, "/policy/kdf_iterations");
    assert_eq!(failed.first().unwrap().stage, Stage::Header);
}

/// A commitment scheme other than `scheme`.
fn other_scheme(scheme: CommitmentScheme) -> CommitmentScheme {
    if scheme == CommitmentScheme::Hmac {
        CommitmentScheme::Salted
    } else {
        CommitmentScheme::Hmac
    }
}

#[test]
fn policy_requirements() {
    let c = chain(1);
    assert!(validate_lcm_policy(&c.header, &PolicyRequirements::default()).is_ok());
    let ok = PolicyRequirements {
        hash_algorithm: Some(HashAlgorithm::Sha256),
        no_plaintext_with_pii: true,
        commitments: Some(c.header.policy.commitments),
        min_kdf_iterations: Some(600_000),
        required_frameworks: Vec::new(),
        signing_key: Some(c.key.key_id()),
    };
    let report = validate_lcm_policy(&c.header, &ok).unwrap();
    assert_eq!(report.checks.len(), 5);

    for (req, field) in [
        (
            PolicyRequirements {
                hash_algorithm: Some(HashAlgorithm::Blake3),
                ..PolicyRequirements::default()
            },
            "/policy/hash_algorithm",
        ),
        (
            PolicyRequirements {
                commitments: Some(other_scheme(c.header.policy.commitments)),
                ..PolicyRequirements::default()
            },
            "/policy/commitments",
        ),
        (
            PolicyRequirements {
                min_kdf_iterations: Some(1_000_000),
                ..PolicyRequirements::default()
            },
            "/policy/kdf_iterations",
        ),
        (
            PolicyRequirements {
                required_frameworks: vec!["HIPAA".into()],
                ..PolicyRequirements::default()
            },
            "/stage_a_dataset/compliance_frameworks",
        ),
        (
            PolicyRequirements {
                signing_key: Some(key(9).key_id()),
                ..PolicyRequirements::default()
            },
            "/signature/key_id",
        ),
    ] {
        let failed = validate_lcm_policy(&c.header, &req).unwrap_err();
        assert_eq!(failed.first().unwrap().field, field, "{req:?}");
    }

    // Plaintext commitments are refused only for a dataset with personal data.
    let mut h = c.header;
    h.policy.commitments = CommitmentScheme::Plaintext;
    let req = PolicyRequirements {
        no_plaintext_with_pii: true,
        ..PolicyRequirements::default()
    };
    assert!(validate_lcm_policy(&h, &req).is_ok());
    h.stage_a_dataset = Some(lcm_capsule::DatasetStage {
        family_id: "f".into(),
        family_anchor: lcm_crypto::Digest::from_bytes([1; 32]),
        metadata_digest: lcm_crypto::Digest::from_bytes([2; 32]),
        contains_pii: true,
        privacy_level: "restricted".into(),
        compliance_frameworks: vec!["HIPAA".into()],
        kdf_iterations: 600_000,
        splits: Default::default(),
    });
    let failed = validate_lcm_policy(&h, &req).unwrap_err();
    assert_eq!(failed.first().unwrap().field, "/policy/commitments");
}
