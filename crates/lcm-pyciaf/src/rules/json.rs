//! Python's `json.loads` and the three ways the reference turns a value back into text:
//! `json.dumps(sort_keys=True)` with compact or default separators, and `str()`/`repr()`.
//!
//! Values keep what Python keeps and `serde_json` would lose: the exact text of integers of any
//! size, the int/float distinction (`1` versus `1.0`), strings as code points (including the
//! lone surrogates `json.loads` lets through) and the insertion order of object keys.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::Error;
use super::printable::is_printable;

/// How deep arrays and objects may nest (Python raises `RecursionError` near 1000).
pub(super) const MAX_DEPTH: usize = 512;

/// Python's default limit on the digits of an `int` read from text (`sys.int_info`).
pub(super) const MAX_INT_DIGITS: usize = 4300;

/// A Python value as `json.loads` builds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// `None`.
    Null,
    /// `True` / `False`.
    Bool(bool),
    /// An `int`, as its exact decimal text (no leading zeros, no `-0`).
    Int(String),
    /// A `float`.
    Float(f64),
    /// A `str`, as code points (lone surrogates included).
    Str(Vec<u32>),
    /// A `list`.
    List(Vec<Self>),
    /// A `dict` in insertion order (a repeated key keeps its first place and its last value).
    Dict(Vec<(Vec<u32>, Self)>),
}

impl Value {
    /// A `str` from Rust text.
    pub(super) fn str(s: &str) -> Self {
        Self::Str(s.chars().map(u32::from).collect())
    }

    /// The Python type name, for error messages.
    pub(super) const fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "None",
            Self::Bool(_) => "bool",
            Self::Int(_) => "int",
            Self::Float(_) => "float",
            Self::Str(_) => "str",
            Self::List(_) => "list",
            Self::Dict(_) => "dict",
        }
    }

    /// The value of `key` in a dict.
    pub(super) fn get(&self, key: &str) -> Option<&Self> {
        let Self::Dict(items) = self else { return None };
        let key: Vec<u32> = key.chars().map(u32::from).collect();
        items.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// Code points to Rust text; `None` if there is a lone surrogate (which UTF-8 cannot carry,
/// so Python's `.encode("utf-8")` fails on it too).
pub(super) fn to_string(cps: &[u32]) -> Option<String> {
    cps.iter().map(|&c| char::from_u32(c)).collect()
}

/// Parses JSON text as Python's `json.loads` does (strict mode): `NaN`, `Infinity` and
/// `-Infinity` are accepted, duplicate keys keep the last value, control characters inside
/// strings are refused.
pub(super) fn parse(text: &str) -> Result<Value, Error> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(p.err("the end of the input"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, expected: &'static str) -> Error {
        let actual = match std::str::from_utf8(&self.s[self.pos.min(self.s.len())..]) {
            Ok(rest) => match rest.chars().next() {
                Some(c) => format!("{c:?}"),
                None => "the end of the input".to_owned(),
            },
            Err(_) => "a partial character".to_owned(),
        };
        Error::Json {
            offset: self.pos,
            expected,
            actual,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'n') if self.eat(b"null") => Ok(Value::Null),
            Some(b't') if self.eat(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat(b"false") => Ok(Value::Bool(false)),
            Some(b'N') if self.eat(b"NaN") => Ok(Value::Float(f64::NAN)),
            Some(b'I') if self.eat(b"Infinity") => Ok(Value::Float(f64::INFINITY)),
            Some(b'-') if self.s[self.pos..].starts_with(b"-Infinity") => {
                self.pos += 9;
                Ok(Value::Float(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("a JSON value")),
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, Error> {
        if depth >= MAX_DEPTH {
            return Err(Error::TooDeep { limit: MAX_DEPTH });
        }
        Ok(depth + 1)
    }

    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        let depth = self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat(b"]") {
            return Ok(Value::List(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            if self.closed_after_item(b"]", "',' or ']'")? {
                return Ok(Value::List(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        let depth = self.enter(depth)?;
        self.pos += 1;
        let mut items: Vec<(Vec<u32>, Value)> = Vec::new();
        let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
        self.ws();
        if self.eat(b"}") {
            return Ok(Value::Dict(items));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("a string key"));
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(b":") {
                return Err(self.err("':'"));
            }
            self.ws();
            let value = self.value(depth)?;
            match index.get(&key) {
                Some(&i) => {
                    if let Some(slot) = items.get_mut(i) {
                        slot.1 = value;
                    }
                }
                None => {
                    index.insert(key.clone(), items.len());
                    items.push((key, value));
                }
            }
            if self.closed_after_item(b"}", "',' or '}'")? {
                return Ok(Value::Dict(items));
            }
        }
    }

    /// After an item of an array or object: `,` (another item follows: `false`) or the
    /// `close` bracket (`true`), after optional whitespace.
    fn closed_after_item(&mut self, close: &[u8], expected: &'static str) -> Result<bool, Error> {
        self.ws();
        if self.eat(b",") {
            Ok(false)
        } else if self.eat(close) {
            Ok(true)
        } else {
            Err(self.err(expected))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Python's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`; a fraction
    /// or an exponent makes a `float`.
    fn number(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        let negative = self.eat(b"-");
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("a digit")),
        }
        let int_end = self.pos;
        let mut float = false;
        if self.peek() == Some(b'.') && matches!(self.s.get(self.pos + 1), Some(b'0'..=b'9')) {
            self.pos += 1;
            self.digits();
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                // Not an exponent: Python's regex stops before the 'e', and the rest is extra
                // data.
                self.pos = save;
            } else {
                float = true;
            }
        }
        let text =
            std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("a number"))?;
        if float {
            return text
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|_| self.err("a number"));
        }
        let digits = int_end - int_start;
        if digits > MAX_INT_DIGITS {
            return Err(Error::IntTooLong {
                limit: MAX_INT_DIGITS,
                digits,
            });
        }
        let magnitude =
            std::str::from_utf8(&self.s[int_start..int_end]).map_err(|_| self.err("a number"))?;
        Ok(Value::Int(if negative && magnitude != "0" {
            format!("-{magnitude}")
        } else {
            magnitude.to_owned()
        }))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("a hex digit of a \\u escape")),
            };
            v = (v << 4) | u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<Vec<u32>, Error> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let rest = std::str::from_utf8(&self.s[self.pos..]).map_err(|_| self.err("text"))?;
            let Some(c) = rest.chars().next() else {
                return Err(self.err("'\"' closing the string"));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    self.pos += 1;
                    let e = self.peek();
                    let simple = match e {
                        Some(b'"') => Some('"'),
                        Some(b'\\') => Some('\\'),
                        Some(b'/') => Some('/'),
                        Some(b'b') => Some('\u{8}'),
                        Some(b'f') => Some('\u{c}'),
                        Some(b'n') => Some('\n'),
                        Some(b'r') => Some('\r'),
                        Some(b't') => Some('\t'),
                        Some(b'u') => None,
                        _ => return Err(self.err("a valid escape")),
                    };
                    self.pos += 1;
                    if let Some(c) = simple {
                        out.push(u32::from(c));
                        continue;
                    }
                    let u = self.hex4()?;
                    if (0xd800..0xdc00).contains(&u) && self.s[self.pos..].starts_with(b"\\u") {
                        let save = self.pos;
                        self.pos += 2;
                        let low = self.hex4()?;
                        if (0xdc00..0xe000).contains(&low) {
                            out.push(0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00));
                            continue;
                        }
                        self.pos = save;
                    }
                    out.push(u);
                }
                c if u32::from(c) < 0x20 => {
                    return Err(self.err("no control character in a string"));
                }
                c => {
                    out.push(u32::from(c));
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

/// The separators of `json.dumps`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Separators {
    /// `(",", ":")`, the reference's `canonical_json`.
    Compact,
    /// `(", ", ": ")`, Python's default (commitments, sample hashes and a few digests).
    Default,
}

/// `json.dumps(value, sort_keys=True, separators=…)` with `ensure_ascii=True` and
/// `allow_nan=True`.
pub(super) fn dumps(value: &Value, sep: Separators) -> String {
    let mut out = String::new();
    write_json(value, sep, &mut out);
    out
}

fn write_json(value: &Value, sep: Separators, out: &mut String) {
    let (item, key) = match sep {
        Separators::Compact => (",", ":"),
        Separators::Default => (", ", ": "),
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(t) => out.push_str(t),
        Value::Float(f) => float_repr(*f, true, out),
        Value::Str(s) => json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write_json(v, sep, out);
            }
            out.push(']');
        }
        Value::Dict(items) => {
            let mut sorted: Vec<&(Vec<u32>, Value)> = items.iter().collect();
            // Python compares str keys by code point, which is how `Vec<u32>` compares.
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                json_string(k, out);
                out.push_str(key);
                write_json(v, sep, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string with `ensure_ascii`: short escapes for `" \\ \n \r \t \b \f`, everything else
/// outside 0x20..=0x7e as lowercase `\uXXXX`, astral code points as surrogate pairs.
fn json_string(s: &[u32], out: &mut String) {
    out.push('"');
    for &c in s {
        match c {
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => {
                if let Some(ch) = char::from_u32(c) {
                    out.push(ch);
                }
            }
            0x10000.. => {
                let v = c - 0x10000;
                let _ = write!(
                    out,
                    "\\u{:04x}\\u{:04x}",
                    0xd800 + (v >> 10),
                    0xdc00 + (v & 0x3ff)
                );
            }
            _ => {
                let _ = write!(out, "\\u{c:04x}");
            }
        }
    }
    out.push('"');
}

/// Python's `float.__repr__` (`json` when `json_names`: `NaN`/`Infinity` instead of
/// `nan`/`inf`): the shortest text that reads back as the same float, in fixed notation when
/// the decimal exponent is in `-4..16`, otherwise as `d.ddde±XX` with at least two exponent
/// digits; a fixed integral value keeps `.0`.
pub(super) fn float_repr(x: f64, json_names: bool, out: &mut String) {
    if x.is_nan() {
        out.push_str(if json_names { "NaN" } else { "nan" });
        return;
    }
    if x.is_infinite() {
        if x < 0.0 {
            out.push('-');
        }
        out.push_str(if json_names { "Infinity" } else { "inf" });
        return;
    }
    // Rust's `{:e}` is the shortest round-trip form too, e.g. "-1.2345e-5" or "0e0".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if negative {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = usize::try_from(exp).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let (int, frac) = digits.split_at(int_len);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    }
}

/// Python's `str(value)` (`repr` inside containers), or `None` when the result would hold a
/// lone surrogate that Rust text cannot carry.
pub(super) fn python_str(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => to_string(s),
        other => {
            let mut out = Vec::new();
            python_repr(other, &mut out);
            to_string(&out)
        }
    }
}

fn push_str(out: &mut Vec<u32>, s: &str) {
    out.extend(s.chars().map(u32::from));
}

fn python_repr(value: &Value, out: &mut Vec<u32>) {
    match value {
        Value::Null => push_str(out, "None"),
        Value::Bool(b) => push_str(out, if *b { "True" } else { "False" }),
        Value::Int(t) => push_str(out, t),
        Value::Float(f) => {
            let mut s = String::new();
            float_repr(*f, false, &mut s);
            push_str(out, &s);
        }
        Value::Str(s) => str_repr(s, out),
        Value::List(items) => {
            push_str(out, "[");
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    push_str(out, ", ");
                }
                python_repr(v, out);
            }
            push_str(out, "]");
        }
        Value::Dict(items) => {
            push_str(out, "{");
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    push_str(out, ", ");
                }
                str_repr(k, out);
                push_str(out, ": ");
                python_repr(v, out);
            }
            push_str(out, "}");
        }
    }
}

/// `CPython`'s `unicode_repr`: single quotes unless the text has `'` and no `"`; `\\`, the quote,
/// `\t \n \r` escaped; other non-printable characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
fn str_repr(s: &[u32], out: &mut Vec<u32>) {
    let quote = if s.contains(&0x27) && !s.contains(&0x22) {
        0x22
    } else {
        0x27
    };
    out.push(quote);
    for &c in s {
        if c == quote || c == 0x5c {
            out.push(0x5c);
            out.push(c);
        } else if c == 0x09 {
            push_str(out, "\\t");
        } else if c == 0x0a {
            push_str(out, "\\n");
        } else if c == 0x0d {
            push_str(out, "\\r");
        } else if c < 0x20 || c == 0x7f {
            push_str(out, &format!("\\x{c:02x}"));
        } else if c < 0x7f || is_printable(c) {
            out.push(c);
        } else if c <= 0xff {
            push_str(out, &format!("\\x{c:02x}"));
        } else if c <= 0xffff {
            push_str(out, &format!("\\u{c:04x}"));
        } else {
            push_str(out, &format!("\\U{c:08x}"));
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests;
