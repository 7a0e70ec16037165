//! The `assert_matches!` macro of this crate's unit tests and lcm-managers', which includes this
//! file with `#[path]`.

/// Asserts that `$value` matches `$pattern`, printing the value when it does not.
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(,)?) => {{
        let value = &$value;
        assert!(
            matches!(value, $pattern),
            "expected {}, got {value:?}",
            stringify!($pattern)
        );
    }};
}
