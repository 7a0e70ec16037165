//! Unit tests of `lcm_model::records::dataset`.

use super::*;
use crate::{Claimed, Policy, Sealed};

#[test]
fn split_names_round_trip() {
    for s in DatasetSplit::ALL {
        assert_eq!(s.as_str().parse::<DatasetSplit>().unwrap(), s);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{s}\""));
        assert_eq!(serde_json::from_str::<DatasetSplit>(&json).unwrap(), s);
    }
    assert!("validation".parse::<DatasetSplit>().is_err());
    assert!(serde_json::from_str::<DatasetSplit>("\"full\"").is_err());
    let mut m = BTreeMap::new();
    m.insert(DatasetSplit::Test, 1);
    m.insert(DatasetSplit::Train, 2);
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"train":2,"test":1}"#
    );
}

#[test]
fn metadata_requires_fields() {
    let ok = DatasetFamilyMetadata::new("n", "v", "o", "l");
    assert!(ok.validate().is_ok());
    for field in ["name", "version", "owner", "license"] {
        let mut m = ok.clone();
        match field {
            "name" => m.name.clear(),
            "version" => m.version.clear(),
            "owner" => m.owner.clear(),
            _ => m.license.clear(),
        }
        match m.validate() {
            Err(Error::EmptyField {
                record: "dataset-family-metadata",
                field: f,
            }) => {
                assert_eq!(f, field);
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn every_metadata_field_changes_the_digest() {
    let p = Policy::default();
    let base = DatasetFamilyMetadata::new("n", "v", "o", "l");
    let d0 = base.digest(&p).unwrap();
    let edits: [fn(&mut DatasetFamilyMetadata); 6] = [
        |m| m.description = "d".into(),
        |m| m.tags.push("t".into()),
        |m| m.contains_pii = true,
        |m| m.privacy_level = "restricted".into(),
        |m| m.compliance_frameworks.push("HIPAA".into()),
        |m| m.owner = "p".into(),
    ];
    for edit in edits {
        let mut v = base.clone();
        edit(&mut v);
        assert_ne!(v.digest(&p).unwrap(), d0, "{v:?}");
    }
}

#[test]
fn unknown_fields_rejected() {
    let m = DatasetFamilyMetadata::new("n", "v", "o", "l");
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(
        serde_json::from_str::<DatasetFamilyMetadata>(&json).unwrap(),
        m
    );
    let extra = json.replacen('{', "{\"creation_date\":\"x\",", 1);
    assert!(serde_json::from_str::<DatasetFamilyMetadata>(&extra).is_err());
    let info: SplitInfo = serde_json::from_str(r#"{"sample_count":1,"record_ids":["a"]}"#).unwrap();
    assert_eq!(info, SplitInfo::new(vec!["a".into()]));
    assert!(
        serde_json::from_str::<SplitInfo>(r#"{"sample_count":1,"record_ids":[],"x":1}"#).is_err()
    );
}

#[test]
fn sealed_split_anchor_round_trips() {
    let p = Policy::default();
    let a = DatasetSplitAnchor {
        family_id: "f".into(),
        family_anchor: Digest::from_bytes([1; 32]),
        split: DatasetSplit::Validation,
        sample_count: 2,
        assignment_digest: Digest::from_bytes([2; 32]),
        records_root: Digest::from_bytes([3; 32]),
        contents_root: None,
        rng_seed: Some(42),
        selection_rules: Map::new(),
        stratify_by: vec!["label".into()],
        created_at: Timestamp::from_unix_micros(0),
    };
    let sealed = Sealed::seal(a, &p).unwrap();
    let json = serde_json::to_string(&sealed).unwrap();
    let back: Claimed<DatasetSplitAnchor> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.check(&p).unwrap(), sealed);
    let tampered = json.replace("\"val\"", "\"test\"");
    let t: Claimed<DatasetSplitAnchor> = serde_json::from_str(&tampered).unwrap();
    assert_matches!(t.check(&p), Err(Error::DigestMismatch { .. }));
}
