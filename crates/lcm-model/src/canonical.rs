//! The canonical JSON encoding that every record digest is taken over.
//!
//! Rules (RFC 8785 style, with one documented difference):
//!
//! - objects have their keys sorted by Unicode code point (RFC 8785 sorts by UTF-16 code
//!   unit; the two orders differ only between U+E000..U+FFFF and characters above U+FFFF);
//! - no whitespace anywhere;
//! - strings are UTF-8 with only `"`, `\` and control characters escaped (`\b \f \n \r \t`,
//!   other controls as `\u00xx` with lowercase hex); `/` and non-ASCII are written as is;
//! - numbers have one form: an integer-valued number is written as an integer (`100`, never
//!   `100.0` or `1e2`), other floats in the ECMAScript shortest round-trip form (`0.001`,
//!   `1e-7`, `1.5e+21`); integers beyond 2^53 are written exactly (RFC 8785 would round
//!   them);
//! - NaN and infinities are rejected (they are not JSON, and the record types cannot hold
//!   them: see [`Finite`]).
//!
//! The writer works on [`serde_json::Value`], whose objects are `BTreeMap`s: sorting comes for
//! free and no `HashMap` iteration order can leak into a digest.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// Serializes `value` to canonical JSON bytes.
///
/// # Errors
///
/// [`Error::Json`] when `value` cannot be represented as JSON (for example a map with
/// non-string keys), [`Error::NonFinite`] for a NaN or infinite float.
///
/// # Examples
///
/// ```
/// let v = serde_json::json!({"b": [1.0, 0.5, "x/é"], "a": null});
/// assert_eq!(lcm_model::canonical::to_string(&v)?, r#"{"a":null,"b":[1,0.5,"x/é"]}"#);
/// # Ok::<(), lcm_model::Error>(())
/// ```
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, value)?;
    Ok(out)
}

/// Serializes `value` to a canonical JSON string.
///
/// # Errors
///
/// As [`to_vec`].
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let bytes = to_vec(value)?;
    // The writer emits only valid UTF-8 (it copies `str`s and ASCII).
    String::from_utf8(bytes).map_err(|_| Error::Unreachable("canonical writer produced non-UTF-8"))
}

/// Appends the canonical JSON of `value` to `out`.
///
/// # Errors
///
/// As [`to_vec`].
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    let v = serde_json::to_value(value).map_err(Error::Json)?;
    write_value(out, &v)
}

/// Appends the canonical JSON of an already-built [`Value`] to `out`.
///
/// # Errors
///
/// [`Error::NonFinite`] for a NaN or infinite float (which a `Value` built by `serde_json`
/// cannot hold, but one built by hand through other means might).
pub fn write_value(out: &mut Vec<u8>, v: &Value) -> Result<(), Error> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_str(out, s),
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
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

/// Appends the canonical JSON of an object: its members in key order, as [`write_value`]
/// writes an object value. The same bytes as [`write()`] of the map, without building a
/// [`Value`] copy of it first.
///
/// # Errors
///
/// As [`write_value`].
///
/// # Examples
///
/// ```
/// let v = serde_json::json!({"b": 0.95, "a": [1.0, "x"]});
/// let mut out = Vec::new();
/// lcm_model::canonical::write_object(&mut out, v.as_object().unwrap())?;
/// assert_eq!(out, lcm_model::canonical::to_vec(&v)?);
/// # Ok::<(), lcm_model::Error>(())
/// ```
pub fn write_object(out: &mut Vec<u8>, map: &serde_json::Map<String, Value>) -> Result<(), Error> {
    out.push(b'{');
    for (i, (k, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, item)?;
    }
    out.push(b'}');
    Ok(())
}

/// A small buffer on the stack that `write!` fills (a float's `{:e}` form, an integer),
/// so that writing a number allocates nothing.
struct StackText {
    bytes: [u8; 40],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        Self {
            bytes: [0; 40],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `value` formatted into a [`StackText`] (at most 40 bytes: any integer or `{:e}` float).
fn stack_text(value: fmt::Arguments<'_>) -> Result<StackText, Error> {
    let mut t = StackText::new();
    fmt::Write::write_fmt(&mut t, value).map_err(|_| Error::Unreachable("number over 40 bytes"))?;
    Ok(t)
}

fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) -> Result<(), Error> {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(stack_text(format_args!("{u}"))?.as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(stack_text(format_args!("{i}"))?.as_bytes());
    } else if let Some(f) = n.as_f64() {
        write_f64(out, f)?;
    } else {
        return Err(Error::Unreachable(
            "serde_json number that is neither integer nor float",
        ));
    }
    Ok(())
}

/// Appends `f` in the ECMAScript `Number.prototype.toString` form (RFC 8785 §3.2.2.3).
///
/// # Errors
///
/// [`Error::NonFinite`] for NaN and infinities.
pub fn write_f64(out: &mut Vec<u8>, f: f64) -> Result<(), Error> {
    if !f.is_finite() {
        return Err(Error::NonFinite {
            value: f.to_string(),
        });
    }
    if f == 0.0 {
        // Both zeros are written as 0, as in ECMAScript.
        out.push(b'0');
        return Ok(());
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d[.ddd]e[-]x" (on the stack: no
    // allocation per float).
    let sci = stack_text(format_args!("{:e}", f.abs()))?;
    let sci = std::str::from_utf8(sci.as_bytes())
        .map_err(|_| Error::Unreachable("float text not UTF-8"))?;
    let (mantissa, exp) = sci
        .split_once('e')
        .ok_or(Error::Unreachable("float without exponent"))?;
    let exp: i32 = exp
        .parse()
        .map_err(|_| Error::Unreachable("float exponent"))?;
    let mut digits = StackText::new();
    for b in mantissa.bytes().filter(u8::is_ascii_digit) {
        let slot = digits
            .bytes
            .get_mut(digits.len)
            .ok_or(Error::Unreachable("float digits over 40"))?;
        *slot = b;
        digits.len += 1;
    }
    ecma_layout(out, f < 0.0, digits.as_bytes(), exp + 1)
}

/// Appends the number `0.d1d2…dk × 10^n` (`d` its shortest round-trip digits, negative when
/// `negative`) in the layout of ECMAScript's `Number.prototype.toString`: plain digits up to
/// 21 integer places, a decimal point inside, `0.` and zeros down to 10^-6, else an exponent.
pub(crate) fn ecma_layout(
    out: &mut Vec<u8>,
    negative: bool,
    d: &[u8],
    n: i32,
) -> Result<(), Error> {
    let k = i32::try_from(d.len()).map_err(|_| Error::Unreachable("digit count"))?;
    if negative {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(d);
        out.extend(std::iter::repeat_n(
            b'0',
            usize::try_from(n - k).unwrap_or(0),
        ));
    } else if 0 < n && n <= 21 {
        let split = usize::try_from(n).unwrap_or(0);
        out.extend_from_slice(&d[..split]);
        out.push(b'.');
        out.extend_from_slice(&d[split..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', usize::try_from(-n).unwrap_or(0)));
        out.extend_from_slice(d);
    } else {
        out.push(d[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        let e = n - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        out.extend_from_slice(stack_text(format_args!("{}", e.unsigned_abs()))?.as_bytes());
    }
    Ok(())
}

/// Appends `s` as a canonical JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A finite `f64`: the only float the record types hold.
///
/// NaN and infinities are rejected when a `Finite` is made ([`Finite::new`]) and when one is
/// parsed, so a record can never carry a value its canonical encoding cannot represent.
#[derive(Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Finite(f64);

impl Finite {
    /// Wraps `value`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFinite`] for NaN and infinities.
    pub fn new(value: f64) -> Result<Self, Error> {
        if value.is_finite() {
            Ok(Self(value))
        } else {
            Err(Error::NonFinite {
                value: value.to_string(),
            })
        }
    }

    /// The value.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Debug for Finite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Finite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<f64> for Finite {
    type Error = Error;

    fn try_from(value: f64) -> Result<Self, Error> {
        Self::new(value)
    }
}

impl<'de> Deserialize<'de> for Finite {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Self::new(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
