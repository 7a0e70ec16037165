//! Unit tests of `lcm_model::canonical`.

use super::*;

#[track_caller]
fn check_f64(f: f64, expected: &str) {
    let mut out = Vec::new();
    write_f64(&mut out, f).unwrap();
    assert_eq!(std::str::from_utf8(&out).unwrap(), expected, "{f:e}");
}

#[test]
fn numbers_follow_ecmascript() {
    // Examples from RFC 8785 Appendix B and ECMAScript.
    check_f64(0.0, "0");
    check_f64(-0.0, "0");
    check_f64(1.0, "1");
    check_f64(100.0, "100");
    check_f64(-1.5, "-1.5");
    check_f64(0.001, "0.001");
    check_f64(0.000001, "0.000001");
    check_f64(1e-7, "1e-7");
    check_f64(1e21, "1e+21");
    check_f64(1e20, "100000000000000000000");
    check_f64(123456789012345680000.0, "123456789012345680000");
    check_f64(4.5, "4.5");
    check_f64(0.30000000000000004, "0.30000000000000004");
    check_f64(5e-324, "5e-324");
    check_f64(1.7976931348623157e308, "1.7976931348623157e+308");
    check_f64(9007199254740992.0, "9007199254740992");
    check_f64(-1.2345e-10, "-1.2345e-10");
}

#[test]
fn non_finite_rejected() {
    assert!(write_f64(&mut Vec::new(), f64::NAN).is_err());
    assert!(write_f64(&mut Vec::new(), f64::INFINITY).is_err());
    assert!(Finite::new(f64::NEG_INFINITY).is_err());
    assert!(Finite::new(1.0).is_ok());
    assert!(serde_json::from_str::<Finite>("1e999").is_err());
}

#[test]
fn strings_escape_minimally() {
    let mut out = Vec::new();
    write_str(&mut out, "a\"b\\c\n\u{1}/é\u{7f}\u{2028}");
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "\"a\\\"b\\\\c\\n\\u0001/é\u{7f}\u{2028}\""
    );
}

#[test]
fn objects_sorted_no_whitespace() {
    let v = serde_json::json!({"z": 1, "a": {"y": [true, false, null], "b": "s"}, "é": 2, "B": 3});
    assert_eq!(
        to_string(&v).unwrap(),
        r#"{"B":3,"a":{"b":"s","y":[true,false,null]},"z":1,"é":2}"#
    );
}

#[test]
fn big_integers_exact() {
    let v = serde_json::json!([u64::MAX, i64::MIN]);
    assert_eq!(
        to_string(&v).unwrap(),
        "[18446744073709551615,-9223372036854775808]"
    );
}

mod differential;
