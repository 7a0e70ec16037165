//! Differential tests of the number formatting: the writer that formats numbers on the stack
//! (e4beabf) against the formatting it replaced, kept here verbatim as the oracle (the code
//! of `canonical.rs` at 760732d: `to_string()` for integers, `format!("{:e}")` for floats).
//! One different byte would change a record's digest, break every stored chain and the
//! Python-reference vectors. Case counts come from `PROPTEST_CASES` (`cargo xtask proptest
//! --cases N`; proptest's 256 under plain `cargo test`), each case checking a batch of values.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use super::super::{to_vec, write_f64, write_object, write_value};
use crate::Error;

/// The oracle: the number writer of 760732d, unchanged but for its name.
mod old {
    use crate::Error;
    use serde_json::Value;

    pub(super) fn write_value(out: &mut Vec<u8>, v: &Value) -> Result<(), Error> {
        match v {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(n) => write_number(out, n)?,
            Value::String(s) => crate::canonical::write_str(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_value(out, item)?;
                }
                out.push(b']');
            }
            Value::Object(map) => {
                out.push(b'{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    crate::canonical::write_str(out, k);
                    out.push(b':');
                    write_value(out, item)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }

    pub(super) fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) -> Result<(), Error> {
        if let Some(u) = n.as_u64() {
            out.extend_from_slice(u.to_string().as_bytes());
        } else if let Some(i) = n.as_i64() {
            out.extend_from_slice(i.to_string().as_bytes());
        } else if let Some(f) = n.as_f64() {
            write_f64(out, f)?;
        } else {
            return Err(Error::Unreachable(
                "serde_json number that is neither integer nor float",
            ));
        }
        Ok(())
    }

    pub(super) fn write_f64(out: &mut Vec<u8>, f: f64) -> Result<(), Error> {
        if !f.is_finite() {
            return Err(Error::NonFinite {
                value: f.to_string(),
            });
        }
        if f == 0.0 {
            out.push(b'0');
            return Ok(());
        }
        let sci = format!("{:e}", f.abs());
        let (mantissa, exp) = sci
            .split_once('e')
            .ok_or(Error::Unreachable("float without exponent"))?;
        let exp: i32 = exp
            .parse()
            .map_err(|_| Error::Unreachable("float exponent"))?;
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        // The layout of the digits is shared (it did not change); the digits are the old
        // path's, through the allocating `format!`.
        crate::canonical::ecma_layout(out, f < 0.0, digits.as_bytes(), exp + 1)
    }
}

/// The bytes (or the error, as text) each writer gives for `f`; they must be equal.
#[track_caller]
fn same_f64(f: f64) {
    let run = |w: fn(&mut Vec<u8>, f64) -> Result<(), Error>| {
        let mut out = b"[".to_vec();
        w(&mut out, f).map(|()| out).map_err(|e| e.to_string())
    };
    let (new, old) = (run(write_f64), run(old::write_f64));
    assert_eq!(new, old, "{f:e} (bits {:#018x})", f.to_bits());
    if let Some(n) = Number::from_f64(f) {
        same_value(&Value::Number(n));
    } else {
        assert!(!f.is_finite(), "{f:e}");
        assert!(matches!(
            write_f64(&mut Vec::new(), f),
            Err(Error::NonFinite { .. })
        ));
        assert!(super::Finite::new(f).is_err());
    }
}

/// The bytes each writer gives for `v` (and, for an object, `write_object` and `to_vec`).
#[track_caller]
fn same_value(v: &Value) {
    let mut old = Vec::new();
    old::write_value(&mut old, v).expect("a Value holds no NaN");
    let mut new = Vec::new();
    write_value(&mut new, v).expect("a Value holds no NaN");
    assert_eq!(
        String::from_utf8_lossy(&new),
        String::from_utf8_lossy(&old),
        "{v}"
    );
    assert_eq!(to_vec(v).expect("a Value holds no NaN"), old);
    if let Value::Object(map) = v {
        let mut direct = Vec::new();
        write_object(&mut direct, map).expect("a Value holds no NaN");
        assert_eq!(direct, old, "{v}");
        // The old metadata column: `canonical::to_string` of the map itself.
        assert_eq!(to_vec(map).expect("a Value holds no NaN"), old);
    }
}

/// Every float the writers' branches turn on, and its neighbours a few ulps either side:
/// both zeros, subnormals, the integer/fraction switch at 1e21 and the decimal/exponent
/// switch at 1e-6/1e-7, 2^53, the extremes, and the ends of each digit count.
fn edges() -> Vec<f64> {
    let mut fixed = vec![
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE / 2.0,
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1e21,
        1e20,
        999_999_999_999_999_900_000.0,
        1e-6,
        1e-7,
        0.000_001_5,
        1.5e-7,
        9_007_199_254_740_992.0,
        9_007_199_254_740_993.0,
        u64::MAX as f64,
        i64::MIN as f64,
        i64::MAX as f64,
        0.1,
        0.3,
        1.0 / 3.0,
        123_456_789_012_345_680_000.0,
        5e-324,
        1e308,
        1e-308,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for e in -30..=30 {
        fixed.push(10f64.powi(e));
        fixed.push(1.25 * 10f64.powi(e));
    }
    let mut all = Vec::new();
    for f in fixed {
        for sign in [1.0, -1.0] {
            let f = f * sign;
            for step in 0..4u64 {
                all.push(f64::from_bits(f.to_bits().wrapping_add(step)));
                all.push(f64::from_bits(f.to_bits().wrapping_sub(step)));
            }
        }
    }
    all
}

#[test]
fn edge_floats_are_written_as_before() {
    for f in edges() {
        same_f64(f);
    }
}

#[test]
fn edge_integers_are_written_as_before() {
    for i in [
        0,
        1,
        -1,
        9,
        10,
        -10,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
        1 << 53,
        -(1 << 53),
    ] {
        same_value(&Value::from(i));
    }
    for u in [0, 1, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) - 1] {
        same_value(&Value::from(u));
    }
}

/// A JSON value of depth up to 3 with every number kind (and float keys' worth of strings).
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<u64>().prop_filter_map("finite", |b| Number::from_f64(f64::from_bits(b))
            .map(Value::Number)),
        (any::<i32>(), -25i32..25).prop_filter_map("finite", |(m, e)| {
            Number::from_f64(f64::from(m) * 10f64.powi(e)).map(Value::Number)
        }),
        any::<i64>().prop_filter_map("finite", |i| Number::from_f64(i as f64).map(Value::Number)),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// Any bit pattern (NaN, infinities and subnormals included), 64 a case.
    #[test]
    fn any_float_is_written_as_before(bits in proptest::collection::vec(any::<u64>(), 64)) {
        for b in bits {
            same_f64(f64::from_bits(b));
        }
    }

    /// Decimal-looking floats (`m × 10^e`) and integers held as floats, 64 a case.
    #[test]
    fn decimal_floats_and_integral_floats_are_written_as_before(
        decimals in proptest::collection::vec((any::<i64>(), -330i32..310), 64),
        integers in proptest::collection::vec(any::<i64>(), 64),
    ) {
        for (m, e) in decimals {
            same_f64(m as f64 * 10f64.powi(e));
        }
        for i in integers {
            same_f64(i as f64);
        }
    }

    /// Integers of both signs, 64 a case.
    #[test]
    fn any_integer_is_written_as_before(
        ints in proptest::collection::vec(any::<i64>(), 64),
        uints in proptest::collection::vec(any::<u64>(), 64),
    ) {
        for i in ints {
            same_value(&Value::from(i));
        }
        for u in uints {
            same_value(&Value::from(u));
        }
    }

    /// Whole metadata maps, as built and as parsed back from their (non-canonical) JSON text.
    #[test]
    fn metadata_maps_are_written_as_before(
        map in proptest::collection::btree_map(".{0,8}", value(), 0..12)
    ) {
        let v = Value::Object(map.into_iter().collect());
        same_value(&v);
        let text = serde_json::to_string(&v).expect("a Value serializes");
        let parsed: Value = serde_json::from_str(&text).expect("its own text parses");
        same_value(&parsed);
    }
}
