//! Strict input: what every document read from outside must also satisfy once it parses.
//!
//! serde refuses a struct field given twice, but a map-typed object (`authorized_datasets`,
//! metrics, inference metadata, a safetensors header) keeps the last of two equal keys, and
//! a reader that keeps the first sees another document. A number that no `f64` holds
//! exactly (`123456789012345678901234567890`) is silently rounded. [`check_json`] refuses
//! both, in every object and array of a document, naming the field by its path.
//! [`check_id`] refuses an id that is empty or holds a control character (an id
//! `"evil\n999\t..."` would print a forged-looking line wherever ids are listed).
//!
//! [`check_json`] runs on text that already parsed (it reports no syntax error of its own:
//! text that is not JSON passes it, and the parser names the problem). Its memory is the
//! nesting depth times the keys of one object, never the whole document.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

pub mod reader;
pub mod receipt;

/// Why strict input refused a document or an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrictError {
    /// An object holds a key twice.
    #[error(
        "field {path}: duplicate key {key:?} (a reader keeping the first value would see another document)"
    )]
    DuplicateKey {
        /// The object's path (`$` for the document, `$.metrics`, `$.items[2]`).
        path: String,
        /// The repeated key.
        key: String,
    },
    /// A number whose value an `f64` does not hold exactly.
    #[error(
        "field {path}: the number {text} does not survive a round trip exactly (it would be read as {read})"
    )]
    InexactNumber {
        /// The number's path.
        path: String,
        /// The number as written.
        text: String,
        /// The value it would be read as.
        read: String,
    },
    /// An id that is empty or not printable text.
    #[error("field {field}: {what}")]
    Id {
        /// The field.
        field: String,
        /// What is wrong (`is empty`, `holds the control character U+000A`).
        what: String,
    },
}

/// Checks an id: non-empty, and no control character (no newline, tab, escape, ...).
///
/// This does not panic.
///
/// # Errors
///
/// [`StrictError::Id`] naming `field`.
pub fn check_id(field: &str, value: &str) -> Result<(), StrictError> {
    let fail = |what: String| StrictError::Id {
        field: field.to_owned(),
        what,
    };
    if value.is_empty() {
        return Err(fail("is empty".to_owned()));
    }
    if value.trim().is_empty() {
        return Err(fail("is only white space".to_owned()));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(fail(format!(
            "holds the control character U+{:04X}; ids are printable text",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Checks every id of a JSON value: each string under a key `id` or ending in `_id`
/// (`request_id`, `deployment_id`, ...), at any depth, with [`check_id`].
///
/// This does not panic.
///
/// # Errors
///
/// The first [`StrictError::Id`], naming the field by its path.
pub fn check_ids(value: &serde_json::Value) -> Result<(), StrictError> {
    fn walk(v: &serde_json::Value, path: &mut String) -> Result<(), StrictError> {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let len = path.len();
                    push_key(path, k);
                    if let serde_json::Value::String(s) = v
                        && (k == "id" || k.ends_with("_id"))
                    {
                        check_id(path, s)?;
                    }
                    walk(v, path)?;
                    path.truncate(len);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    walk(v, path)?;
                    path.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }
    walk(value, &mut "$".to_owned())
}

/// Checks a JSON document: no object holds a key twice, and every number survives a round
/// trip exactly (an integer fits 64 bits, or the `f64` it is read as has the same decimal
/// value).
///
/// This does not panic.
///
/// # Errors
///
/// The first [`StrictError`], naming the field by its path.
pub fn check_json(text: &str) -> Result<(), StrictError> {
    check_json_bytes(text.as_bytes())
}

/// [`check_json`] of JSON bytes (for a caller whose parser has read them already, so that they
/// need not be checked as UTF-8 again: bytes that are not are left to the parser, as any
/// other malformed JSON is).
///
/// This does not panic.
///
/// # Errors
///
/// As [`check_json`].
pub fn check_json_bytes(bytes: &[u8]) -> Result<(), StrictError> {
    check_json_nesting(bytes).map(|_| ())
}

/// [`check_json_bytes`], returning how deep the value's objects and arrays nest (0 for a
/// scalar, 1 for `[]` or `{"a":1}`, 2 for `[[]]`), for a caller that checks a value taken
/// out of a bigger document and must refuse it where a parser of the whole document would
/// reach its recursion limit. Nesting past an internal limit (over 256) is reported as
/// deeper than that limit, not exactly.
///
/// This does not panic.
///
/// # Errors
///
/// As [`check_json`].
pub fn check_json_nesting(bytes: &[u8]) -> Result<usize, StrictError> {
    let mut scan = Scan {
        b: bytes,
        i: 0,
        path: Vec::new(),
        deepest: 0,
    };
    match scan.value(0) {
        Ok(()) | Err(Stop::Syntax) => Ok(scan.deepest),
        Err(Stop::Strict(e)) => Err(*e),
    }
}

/// Nesting deeper than this is left to the parser (which refuses it).
const MAX_DEPTH: usize = 256;

/// Objects with more keys than this are checked with a hash set, smaller ones by a scan of
/// the keys seen (which allocates nothing).
const SMALL_OBJECT: usize = 16;

enum Stop {
    /// Boxed: every step of the scan returns a `Result<(), Stop>`, kept one word wide.
    Strict(Box<StrictError>),
    /// Not JSON: left to the parser.
    Syntax,
}

/// One step of the path to the value being scanned. The path is kept as borrowed steps and
/// written out only when a check fails, so a document that passes costs no string building.
enum Step<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    path: Vec<Step<'a>>,
    /// The deepest nesting of objects and arrays reached.
    deepest: usize,
}

fn push_key(path: &mut String, key: &str) {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        path.push('.');
        path.push_str(key);
    } else {
        let _ = write!(path, "[{key:?}]");
    }
}

/// The keys of one object seen so far.
enum Keys<'a> {
    Few(Vec<Cow<'a, str>>),
    Many(HashSet<Cow<'a, str>>),
}

impl<'a> Keys<'a> {
    /// Adds `key`; false when the object already had it.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        match self {
            Self::Few(keys) => {
                if keys.contains(&key) {
                    return false;
                }
                keys.push(key);
                if keys.len() > SMALL_OBJECT {
                    *self = Self::Many(keys.drain(..).collect());
                }
                true
            }
            Self::Many(keys) => keys.insert(key),
        }
    }
}

impl<'a> Scan<'a> {
    /// The path of the value being scanned, as `$.a.b[2]`.
    fn path(&self) -> String {
        let mut out = "$".to_owned();
        for step in &self.path {
            match step {
                Step::Key(k) => push_key(&mut out, k),
                Step::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        out
    }

    fn ws(&mut self) {
        while self
            .b
            .get(self.i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self, depth: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            self.deepest = self.deepest.max(depth + 1);
            return Err(Stop::Syntax);
        }
        self.ws();
        let first = self.peek().ok_or(Stop::Syntax)?;
        if matches!(first, b'{' | b'[') {
            self.deepest = self.deepest.max(depth + 1);
        }
        match first {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(|_| ()),
            b't' | b'f' | b'n' => {
                while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.i += 1;
                }
                Ok(())
            }
            _ => self.number(),
        }
    }

    /// The raw string token, quotes included, as bytes (only a key's are read as text).
    fn string(&mut self) -> Result<&'a [u8], Stop> {
        let start = self.i;
        self.i += 1;
        loop {
            // Up to the next quote or backslash at once.
            let rest = self.b.get(self.i..).ok_or(Stop::Syntax)?;
            let k = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .ok_or(Stop::Syntax)?;
            self.i += k;
            if self.peek() == Some(b'"') {
                self.i += 1;
                break;
            }
            self.i += 2;
        }
        self.b.get(start..self.i).ok_or(Stop::Syntax)
    }

    /// A key's text: the raw token without its quotes when it has no escape (the common
    /// case, borrowed), decoded otherwise (so `"\u0078"` and `"x"` are the same key).
    fn key(&mut self) -> Result<Cow<'a, str>, Stop> {
        let raw = std::str::from_utf8(self.string()?).map_err(|_| Stop::Syntax)?;
        if raw.contains('\\') {
            serde_json::from_str(raw)
                .map(Cow::Owned)
                .map_err(|_| Stop::Syntax)
        } else {
            raw.get(1..raw.len().saturating_sub(1))
                .map(Cow::Borrowed)
                .ok_or(Stop::Syntax)
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), Stop> {
        self.i += 1;
        let mut keys = Keys::Few(Vec::new());
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Stop::Syntax);
            }
            let key = self.key()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(Stop::Syntax);
            }
            self.i += 1;
            self.path.push(Step::Key(key.clone()));
            self.value(depth + 1)?;
            self.path.pop();
            if !keys.insert(key.clone()) {
                return Err(Stop::Strict(Box::new(StrictError::DuplicateKey {
                    path: self.path(),
                    key: key.into_owned(),
                })));
            }
            if self.closes(b'}')? {
                return Ok(());
            }
        }
    }

    /// After a member or element: `true` past the `close` that ends the container, `false`
    /// past the `,` before the next one.
    fn closes(&mut self, close: u8) -> Result<bool, Stop> {
        self.ws();
        let b = self.peek().ok_or(Stop::Syntax)?;
        if b != b',' && b != close {
            return Err(Stop::Syntax);
        }
        self.i += 1;
        Ok(b == close)
    }

    fn array(&mut self, depth: usize) -> Result<(), Stop> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            self.path.push(Step::Index(index));
            self.value(depth + 1)?;
            self.path.pop();
            index += 1;
            if self.closes(b']')? {
                return Ok(());
            }
        }
    }

    fn number(&mut self) -> Result<(), Stop> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.i += 1;
        }
        let text = self
            .b
            .get(start..self.i)
            .and_then(|t| std::str::from_utf8(t).ok())
            .filter(|t| !t.is_empty())
            .ok_or(Stop::Syntax)?;
        if plainly_exact(text) {
            return Ok(());
        }
        match exact(text) {
            Some(Ok(())) => Ok(()),
            Some(Err(read)) => Err(Stop::Strict(Box::new(StrictError::InexactNumber {
                path: self.path(),
                text: text.to_owned(),
                read,
            }))),
            None => Err(Stop::Syntax),
        }
    }
}

/// The common case without any float arithmetic: a plain decimal `-?D+(.D+)?` with at most 15
/// digits before and 15 after the point and at most 15 significant digits. Every such decimal
/// survives a round trip through `f64` (15 is `f64::DIGITS`: two distinct decimals of 15
/// digits never share a nearest `f64`, so the shortest representation of the `f64` is the
/// decimal itself), and its magnitude lies within 10^-15 and 10^15, far from subnormals and
/// overflow. Anything else goes to [`exact`].
fn plainly_exact(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || int.len() > 15
        || frac.len() > 15
        || digits.ends_with('.')
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return false;
    }
    let significant = int.trim_start_matches('0').len()
        + if int.trim_start_matches('0').is_empty() {
            frac.trim_start_matches('0').len()
        } else {
            frac.len()
        };
    significant <= 15
}

/// Whether the number `text` is read exactly: `Some(Ok)` when it is, `Some(Err(read))` with
/// the value it would be read as when it is not, `None` when it is not a number.
fn exact(text: &str) -> Option<Result<(), String>> {
    let integer = !text.contains(['.', 'e', 'E']);
    if integer && (text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok()) {
        return Some(Ok(()));
    }
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return Some(Err(value.to_string()));
    }
    let read = format!("{value:e}");
    if decimal(text)? == decimal(&read)? {
        Some(Ok(()))
    } else {
        Some(Err(read))
    }
}

/// A decimal number as (negative, significant digits without leading or trailing zeros,
/// exponent of the last digit); zero is `(false, "", 0)`.
fn decimal(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let all: String = int.chars().chain(frac.chars()).collect();
    let frac_len = i64::try_from(frac.len()).ok()?;
    let mut exp = exponent.checked_sub(frac_len)?;
    let trimmed = all.trim_start_matches('0');
    let digits = trimmed.trim_end_matches('0');
    if digits.is_empty() {
        return Some((false, String::new(), 0));
    }
    exp = exp.checked_add(i64::try_from(trimmed.len() - digits.len()).ok()?)?;
    Some((negative, digits.to_owned(), exp))
}

#[cfg(test)]
mod tests;
