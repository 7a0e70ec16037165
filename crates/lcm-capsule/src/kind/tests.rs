//! Unit tests of document kind detection.

use serde_json::json;

use super::DocumentKind;

#[test]
fn kinds_come_from_the_top_level_keys() {
    let cases = [
        (
            json!({"bundle_version": "1", "capsule_version": "x"}),
            Some(DocumentKind::Bundle),
        ),
        (
            json!({"capsule_version": "1", "item": {}}),
            Some(DocumentKind::Capsule),
        ),
        (
            json!({"capsule_version": "1", "signature": null}),
            Some(DocumentKind::Header),
        ),
        (json!({"capsule_version": "1"}), None),
        (json!({"item": {}, "signature": {}}), None),
        (json!([1, 2]), None),
        (json!("bundle_version"), None),
    ];
    for (value, expected) in cases {
        assert_eq!(DocumentKind::of(&value), expected, "{value}");
    }
    assert_eq!(DocumentKind::Capsule.name(), "capsule");
}
