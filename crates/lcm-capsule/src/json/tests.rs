//! Unit tests of `lcm_capsule::json`.

use super::*;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Inner {
    n: u8,
    s: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Outer {
    a: Vec<Inner>,
    b: bool,
}

#[track_caller]
fn check(input: &str, path: &str) {
    match parse_strict::<Outer>(input) {
        Err(Error::Parse { path: p, .. }) => assert_eq!(p, path, "{input}"),
        other => panic!("{input}: {other:?}"),
    }
}

#[test]
fn errors_name_the_value() {
    assert!(parse_strict::<Outer>(r#"{"a":[{"n":1,"s":"x"}],"b":true}"#).is_ok());
    check(
        r#"{"a":[{"n":1,"s":"x"},{"n":300,"s":"y"}],"b":true}"#,
        "/a/1/n",
    );
    check(r#"{"a":[{"n":1,"s":2}],"b":true}"#, "/a/0/s");
    check(r#"{"a":[{"n":1,"s":"x","t":0}],"b":true}"#, "/a/0/t");
    check(r#"{"a":[{"n":1}],"b":true}"#, "/a/0");
    check(r#"{"a":[],"b":"yes"}"#, "/b");
    check(r#"{"a":[],"b":true,"b":true}"#, "");
    check(r#"{"a":[],"b":true} x"#, "");
    check("", "");
}

#[test]
fn pointer_tokens_are_escaped() {
    assert_eq!(escape_token("a/b~c"), "a~1b~0c");
}
