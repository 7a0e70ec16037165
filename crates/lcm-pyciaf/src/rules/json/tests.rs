//! Unit tests of the parent module.

use super::*;

#[track_caller]
fn check_float(x: f64, expected: &str) {
    let mut s = String::new();
    float_repr(x, true, &mut s);
    assert_eq!(s, expected, "{x:e}");
}

#[test]
fn float_repr_matches_python() {
    for (x, e) in [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (100.0, "100.0"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1.5e-7, "1.5e-07"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1.2345678901234568e17, "1.2345678901234568e+17"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.30000000000000004, "0.30000000000000004"),
        (123.456, "123.456"),
        (-2.5e-10, "-2.5e-10"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
    ] {
        check_float(x, e);
    }
}

#[test]
fn repr_of_strings() {
    for (s, e) in [
        ("a'b", "\"a'b\""),
        ("a'\"b", "'a\\'\"b'"),
        (
            "\u{0}\u{7f}\u{a0}\u{e9}\u{2028}\u{1f600}\u{e000}",
            "'\\x00\\x7f\\xa0\u{e9}\\u2028\u{1f600}\\ue000'",
        ),
    ] {
        let v = Value::List(vec![Value::str(s)]);
        assert_eq!(python_str(&v).unwrap(), format!("[{e}]"));
    }
}

#[test]
fn parser_is_strict_where_python_is() {
    for bad in [
        "",
        "01",
        "1.",
        ".5",
        "[1,]",
        "{\"a\" 1}",
        "\"a\u{1}\"",
        "tru",
        "\"\\x\"",
        "[1] 2",
        "\u{feff}1",
        "{1:2}",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse("-0").unwrap(), Value::Int("0".into()));
    assert_eq!(parse(" 1e400 ").unwrap(), Value::Float(f64::INFINITY));
    assert_eq!(parse("\"\\ud800\"").unwrap(), Value::Str(vec![0xd800]));
    assert_eq!(
        parse("\"\\ud83d\\ude00\"").unwrap(),
        Value::Str(vec![0x1f600])
    );
    let deep = "[".repeat(MAX_DEPTH + 1);
    assert!(matches!(parse(&deep), Err(Error::TooDeep { .. })));
    assert!(matches!(
        parse(&"9".repeat(4301)),
        Err(Error::IntTooLong { .. })
    ));
    assert!(parse(&"9".repeat(4300)).is_ok());
}

#[test]
fn duplicate_keys_keep_first_place_last_value() {
    let v = parse("{\"b\":1,\"a\":2,\"b\":3}").unwrap();
    assert_eq!(python_str(&v).unwrap(), "{'b': 3, 'a': 2}");
    assert_eq!(dumps(&v, Separators::Default), "{\"a\": 2, \"b\": 3}");
}
