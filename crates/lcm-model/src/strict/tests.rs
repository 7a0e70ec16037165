//! Unit tests of strict input: duplicate keys, inexact numbers, ids.

use super::*;

#[test]
fn duplicate_keys_are_refused_at_any_depth() {
    assert!(check_json(r#"{"a":1,"b":{"x":1,"y":2}}"#).is_ok());
    let e = check_json(r#"{"a":1,"b":{"x":1,"x":2}}"#).unwrap_err();
    assert_eq!(
        e,
        StrictError::DuplicateKey {
            path: "$.b".into(),
            key: "x".into()
        }
    );
    // The same key written with an escape is the same key.
    assert!(check_json(r#"{"x":1,"\u0078":2}"#).is_err());
    assert!(matches!(
        check_json(r#"[{"ok":1},{"k":1,"k":1}]"#),
        Err(StrictError::DuplicateKey { path, .. }) if path == "$[1]"
    ));
    // Equal keys in two objects are fine.
    assert!(check_json(r#"[{"k":1},{"k":1}]"#).is_ok());
}

#[test]
fn numbers_must_round_trip() {
    for ok in [
        "0",
        "-0",
        "1",
        "-1",
        "0.95",
        "1.50",
        "1e3",
        "1E-7",
        "18446744073709551615",
        "-9223372036854775808",
        "0.1",
        "1e23",
        "2.5e-300",
    ] {
        assert!(check_json(ok).is_ok(), "{ok}");
    }
    for bad in [
        "123456789012345678901234567890",
        "0.1000000000000000000000001",
        "18446744073709551616",
        "1e400",
    ] {
        assert!(
            matches!(check_json(bad), Err(StrictError::InexactNumber { .. })),
            "{bad}"
        );
    }
    let e = check_json(r#"{"m":{"n":123456789012345678901234567890}}"#).unwrap_err();
    assert!(e.to_string().contains("field $.m.n"), "{e}");
}

/// The fast path agrees with the full check on every number it accepts, and leaves tiny
/// and long numbers to it.
#[test]
fn plain_decimals_agree_with_the_full_check() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let int = (x >> 20) % 10u64.pow(u32::try_from(x % 9).unwrap());
        let frac_len = usize::try_from((x >> 8) % 16).unwrap();
        let frac: String = format!("{:015}", x % 10u64.pow(15))[..frac_len].to_owned();
        let sign = if x & 1 == 0 { "" } else { "-" };
        let text = if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        };
        if plainly_exact(&text) {
            assert_eq!(exact(&text), Some(Ok(())), "{text}");
        }
    }
    let tiny = format!("0.{}1", "0".repeat(400));
    assert!(!plainly_exact(&tiny));
    assert!(matches!(
        check_json(&tiny),
        Err(StrictError::InexactNumber { .. })
    ));
    assert!(!plainly_exact("0.1000000000000000000000001"));
}

#[test]
fn malformed_text_is_left_to_the_parser() {
    for t in ["", "{", "[1,", "{\"a\"", "\"\\", "{\"a\":1,}", "nul", "-"] {
        assert!(check_json(t).is_ok(), "{t}");
    }
}

#[test]
fn ids_are_printable() {
    assert!(check_id("request_id", "req_1").is_ok());
    assert!(check_id("request_id", "").is_err());
    assert!(check_id("request_id", "  ").is_err());
    let e = check_id("receipt_id", "evil\n999\tinf_000003").unwrap_err();
    assert!(e.to_string().contains("field receipt_id"), "{e}");
    let v = serde_json::json!({"a": [{"deployment_id": "x\u{1b}"}]});
    assert!(
        check_ids(&v)
            .unwrap_err()
            .to_string()
            .contains("$.a[0].deployment_id")
    );
}

/// The nesting a value reaches, for a caller that checks a value out of a bigger document
/// against its parser's recursion limit; a too deep value is reported deeper than the limit.
#[test]
fn nesting_is_counted() {
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(check_json_nesting(b"1").unwrap(), 0);
    assert_eq!(check_json_nesting(b"\"[[\"").unwrap(), 0);
    assert_eq!(check_json_nesting(b"{}").unwrap(), 1);
    assert_eq!(
        check_json_nesting(br#"{"a":[1,{"b":[]}],"c":2}"#).unwrap(),
        4
    );
    assert_eq!(check_json_nesting(nest(200).as_bytes()).unwrap(), 200);
    assert!(check_json_nesting(nest(100_000).as_bytes()).unwrap() > 256);
    // Unclosed: as deep as it goes before the text ends.
    assert_eq!(check_json_nesting(b"[[[").unwrap(), 3);
    // A strict failure is still reported.
    assert!(check_json_nesting(br#"[{"a":1,"a":2}]"#).is_err());
}
