//! Unit tests of `lcm_model::policy`.

use super::*;

#[test]
fn every_field_changes_the_digest() {
    let base = Policy::default();
    let d0 = base.digest().unwrap();
    let variants: Vec<Policy> = vec![
        Policy {
            hash_algorithm: HashAlgorithm::Blake3,
            ..base.clone()
        },
        Policy {
            commitments: CommitmentScheme::Hmac,
            ..base.clone()
        },
        Policy {
            kdf_iterations: 100_000,
            ..base.clone()
        },
        Policy {
            schema_version: 2,
            ..base.clone()
        },
        Policy {
            domains: vec![DomainType::Model],
            ..base
        },
    ];
    for v in variants {
        assert_ne!(v.digest().unwrap(), d0, "{v:?}");
    }
}

#[test]
fn validation() {
    assert!(Policy::default().validate().is_ok());
    // (policy, the field validation must name)
    let refused = [
        (
            Policy {
                kdf_iterations: 99_999,
                ..Policy::default()
            },
            "kdf_iterations",
        ),
        (
            Policy {
                schema_version: 9,
                ..Policy::default()
            },
            "schema_version",
        ),
    ];
    for (policy, field) in refused {
        let e = policy.validate();
        assert!(
            matches!(&e, Err(Error::Policy { field: f, .. }) if *f == field),
            "{field}: {e:?}"
        );
    }
}

#[test]
fn json_is_strict() {
    let json = serde_json::to_string(&Policy::default()).unwrap();
    let back: Policy = serde_json::from_str(&json).unwrap();
    assert_eq!(back, Policy::default());
    let extra = json.replacen('{', "{\"rng\":1,", 1);
    assert!(serde_json::from_str::<Policy>(&extra).is_err());
}

#[test]
fn non_native_rules_do_not_parse() {
    // Another system's canonicalization or tree (a compatibility profile's wire form) is
    // not a native policy: it cannot be parsed into one, so no header claiming it verifies.
    let json = serde_json::to_string(&Policy::default()).unwrap();
    for (native, other) in [
        ("\"lcm-json/1\"", "\"python-json\""),
        ("\"rfc9162\"", "\"duplicate-last\""),
    ] {
        assert!(json.contains(native), "{json}");
        let edited = json.replace(native, other);
        assert!(serde_json::from_str::<Policy>(&edited).is_err(), "{edited}");
    }
}

#[test]
fn domains_restrict() {
    let p = Policy {
        domains: vec![DomainType::Model],
        ..Policy::default()
    };
    assert!(p.allows(DomainType::Model));
    assert!(!p.allows(DomainType::Inference));
    assert!(Policy::default().allows(DomainType::Inference));
}
