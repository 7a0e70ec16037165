//! A single-pass reader of JSON with the strict check fused in: the parser of
//! [`claimed_receipt`](super::receipt::claimed_receipt), also used for other documents of a
//! fixed shape (`lcm infer`'s request lines).
//!
//! It reads what its caller asks for (an object's members, a string, a digest, free-form
//! metadata) and refuses, as it goes, what [`check_json`](super::check_json) refuses: a
//! repeated key in the metadata (a caller refuses a repeated field itself) and a number an
//! `f64` does not hold exactly. Every method returns `None` for anything outside the plain
//! subset it handles (a key with an escape, a digest in capitals, a number `serde_json` would
//! round, input that ends early); its caller then parses the same bytes the general way,
//! which names the error. Nothing here panics.

use std::borrow::Cow;

use lcm_crypto::Digest;
use serde_json::{Map, Number, Value};

use super::{exact, plainly_exact};
use crate::Timestamp;

/// Nesting deeper than this is left to the general path. `serde_json` refuses the 128th level
/// of one value; the caller compares the nesting with the levels around what it reads.
const MAX_NESTING: usize = 64;

/// The bytes that end the plain run of a string: a quote, a backslash, a control character
/// (one lookup per byte instead of three comparisons).
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The reader: a position in the bytes and the deepest nesting seen.
#[derive(Debug)]
pub struct Reader<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    pub(super) deepest: usize,
}

/// Fills a field read from the text: `None` when the struct had it already (a repeated key).
pub fn put<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`; `None` on a thread that reads input notation
    /// ([`Digest::accepting_input`], [`Timestamp::accepting_rfc3339`]), which only the
    /// general path knows.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        if Digest::is_accepting_input() || Timestamp::is_accepting_rfc3339() {
            return None;
        }
        Some(Self {
            b: bytes,
            i: 0,
            deepest: 0,
        })
    }

    /// `Some` when nothing but white space is left.
    pub fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// The next byte that is not white space, not consumed.
    pub(super) fn peek(&mut self) -> Option<u8> {
        loop {
            match *self.b.get(self.i)? {
                // A pretty-printed bundle indents each line of a receipt by 14 to 20 spaces:
                // skipped eight at a time.
                b' ' if self.b.get(self.i..self.i + 8) == Some(b"        ") => self.i += 8,
                b' ' | b'\n' | b'\r' | b'\t' => self.i += 1,
                c => return Some(c),
            }
        }
    }

    pub(super) fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Consumes `word` (`null`, `true`, `false`).
    pub(super) fn word(&mut self, word: &[u8]) -> Option<()> {
        self.peek()?;
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A string token: its content between the quotes and whether it holds an escape. A raw
    /// control character (which JSON refuses) gives `None`.
    pub(super) fn raw_string(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            let rest = self.b.get(self.i..)?;
            let k = rest.iter().position(|&c| STRING_STOP[usize::from(c)])?;
            self.i += k;
            match self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 2;
                }
                _ => return None,
            }
        }
    }

    /// A string's text: borrowed when it has no escape, decoded by `serde_json` otherwise.
    pub fn string(&mut self) -> Option<Cow<'a, str>> {
        let (start, end, escaped) = self.raw_string()?;
        if escaped {
            // The token with its quotes.
            let token = self.b.get(start - 1..=end)?;
            serde_json::from_slice::<String>(token).ok().map(Cow::Owned)
        } else {
            std::str::from_utf8(self.b.get(start..end)?)
                .ok()
                .map(Cow::Borrowed)
        }
    }

    /// A key and its `:`, as bytes (a struct's keys are compared as such; the metadata's are
    /// checked as UTF-8 by [`Reader::map`]). A key with an escape is left to the general path.
    pub(super) fn key(&mut self) -> Option<&'a [u8]> {
        let (start, end, escaped) = self.raw_string()?;
        if escaped {
            return None;
        }
        let key = self.b.get(start..end)?;
        self.eat(b':')?;
        Some(key)
    }

    /// The members of an object, `f` called with each key before its value; `depth` is how
    /// many objects and arrays it is inside of.
    pub fn object(
        &mut self,
        depth: usize,
        mut f: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.items((b'{', b'}'), depth, |p| {
            let key = p.key()?;
            f(p, key)
        })
    }

    /// The items of an array, `f` called before each.
    pub fn array(&mut self, depth: usize, f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.items((b'[', b']'), depth, f)
    }

    /// An array of digests ([`Reader::digest`]), `depth` as for [`Reader::array`].
    pub fn digests(&mut self, depth: usize) -> Option<Vec<Digest>> {
        let mut digests = Vec::new();
        self.array(depth, |p| {
            digests.push(p.digest()?);
            Some(())
        })?;
        Some(digests)
    }

    /// The items between `open` and `close`, separated by commas, `f` reading each.
    fn items(
        &mut self,
        (open, close): (u8, u8),
        depth: usize,
        mut f: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        self.deepest = self.deepest.max(depth + 1);
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            f(self)?;
            if self.closes(close)? {
                return Some(());
            }
        }
    }

    /// After a member or item: `true` past the `close`, `false` past a `,`.
    pub(super) fn closes(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        self.i += 1;
        match c {
            b',' => Some(false),
            c if c == close => Some(true),
            _ => None,
        }
    }

    /// A digest: exactly 64 lowercase hex characters. Those are taken from between the
    /// quotes without a search for the closing one: when they are hex, none is a quote, a
    /// backslash or a control character, so the string is exactly them.
    pub fn digest(&mut self) -> Option<Digest> {
        self.eat(b'"')?;
        let start = self.i;
        let end = start.checked_add(64)?;
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        let d = Digest::from_hex(std::str::from_utf8(self.b.get(start..end)?).ok()?).ok()?;
        self.i = end + 1;
        Some(d)
    }

    /// A string or `null`.
    pub fn optional_string(&mut self) -> Option<Option<String>> {
        if self.peek()? == b'n' {
            return self.word(b"null").map(|()| None);
        }
        self.string().map(|s| Some(s.into_owned()))
    }

    /// A digest or `null`.
    pub fn optional_digest(&mut self) -> Option<Option<Digest>> {
        if self.peek()? == b'n' {
            return self.word(b"null").map(|()| None);
        }
        self.digest().map(Some)
    }

    /// A `u64` written as plain digits, without a leading zero (`serde_json`'s form; it reads
    /// anything else as another type or refuses it).
    pub fn u64(&mut self) -> Option<u64> {
        self.peek()?;
        let start = self.i;
        let mut v = 0u64;
        while let Some(&c) = self.b.get(self.i).filter(|c| c.is_ascii_digit()) {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let len = self.i - start;
        let next = self.b.get(self.i).copied();
        if len == 0
            || (len > 1 && self.b.get(start) == Some(&b'0'))
            || matches!(next, Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        Some(v)
    }

    /// A number of the metadata, as `serde_json` reads it, if the strict check passes it.
    pub(super) fn number(&mut self) -> Option<Number> {
        self.peek()?;
        let start = self.i;
        while self
            .b
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.b.get(start..self.i)?).ok()?;
        if !plainly_exact(text) && exact(text) != Some(Ok(())) {
            return None;
        }
        // `serde_json`'s own number parser, so the value is the one it reads in place.
        text.parse().ok()
    }

    /// A value of the free-form metadata.
    pub fn value(&mut self, depth: usize) -> Option<Value> {
        if depth >= MAX_NESTING {
            return None;
        }
        Some(match self.peek()? {
            b'{' => Value::Object(self.map(depth)?),
            b'[' => {
                let mut items = Vec::new();
                self.array(depth, |p| {
                    items.push(p.value(depth + 1)?);
                    Some(())
                })?;
                Value::Array(items)
            }
            b'"' => Value::String(self.string()?.into_owned()),
            b'n' => self.word(b"null").map(|()| Value::Null)?,
            b't' => self.word(b"true").map(|()| Value::Bool(true))?,
            b'f' => self.word(b"false").map(|()| Value::Bool(false))?,
            _ => Value::Number(self.number()?),
        })
    }

    /// An object of the metadata; a repeated key gives `None`.
    pub fn map(&mut self, depth: usize) -> Option<Map<String, Value>> {
        let mut map = Map::new();
        self.object(depth, |p, key| {
            let key = std::str::from_utf8(key).ok()?;
            let v = p.value(depth + 1)?;
            map.insert(key.to_owned(), v).is_none().then_some(())
        })?;
        Some(map)
    }
}

/// Every one-byte change of `bytes`: each byte replaced by each of a set of bytes (JSON's
/// syntax, digits, letters, a control character, bytes that are not UTF-8), removed, and
/// repeated. A fast path built on [`Reader`] is checked on these against the general path
/// it stands in for: wherever it answers, the general path must accept with the same value.
pub fn one_byte_changes(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    const BYTES: &[u8] = b"\"\\{}[],:. 0159aefnux-+E\n\t\x00\x01\x1f\x7f\xc3\xff";
    (0..bytes.len()).flat_map(move |at| {
        let replaced = BYTES
            .iter()
            .filter(move |&&b| b != bytes[at])
            .map(move |&b| {
                let mut t = bytes.to_vec();
                t[at] = b;
                t
            });
        let mut removed = bytes.to_vec();
        removed.remove(at);
        let mut repeated = bytes.to_vec();
        repeated.insert(at, bytes[at]);
        replaced.chain([removed, repeated])
    })
}
