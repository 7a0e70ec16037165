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
        // The text pass gives the same kind as the parsed document.
        let text = value.to_string();
        assert_eq!(DocumentKind::of_json(&text).unwrap(), expected, "{text}");
    }
    assert_eq!(DocumentKind::of_json("null").unwrap(), None);
    assert_eq!(DocumentKind::of_json("1.5").unwrap(), None);
    // Malformed text fails as the Value parse would, with the same message.
    for bad in ["{", "{\"a\":}", "[1,", "{\"item\": 1} x"] {
        let typed = DocumentKind::of_json(bad).unwrap_err().to_string();
        let value = serde_json::from_str::<serde_json::Value>(bad)
            .unwrap_err()
            .to_string();
        assert_eq!(typed, value, "{bad}");
    }
    assert_eq!(DocumentKind::Capsule.name(), "capsule");
}
