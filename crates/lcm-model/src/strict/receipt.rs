//! One claimed receipt parsed and strictly checked in a single pass over its bytes.
//!
//! A streamed bundle holds a million receipts; parsing each with `serde_json` and then
//! scanning the same bytes again for [`check_json`](super::check_json) costs about half of
//! the verifier's time. [`claimed_receipt`] reads the receipt's fixed shape by hand and checks,
//! as it goes, what the strict check would refuse: a repeated key (in the receipt's structs as
//! in its free-form commitment metadata) and a number an `f64` does not hold exactly (which can
//! only occur in the metadata: every other number of a receipt is its `u64` sequence).
//!
//! It is a fast path with a safe fallback, not a second definition of the format: it accepts a
//! subset of what `serde_json` plus the strict check accept, and gives the same value for it.
//! Anything outside that subset — a key with an escape, a field left out, a digest in another
//! case, a number `serde_json` would round, input that ends early, a thread reading input
//! notation ([`Digest::accepting_input`], [`Timestamp::accepting_rfc3339`]) — makes it return
//! `None`, and the caller parses the same bytes the general way, which names the error (or
//! accepts what this path does not bother with). The unit tests check the subset property on
//! every one-byte change of many receipts.

use std::borrow::Cow;

use lcm_crypto::{CommitmentScheme, Digest};
use serde_json::{Map, Number, Value};

use super::{exact, plainly_exact};
use crate::records::{InferenceCommitment, InferenceReceipt};
use crate::{Claimed, Timestamp};

/// A receipt read by [`claimed_receipt`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Parsed {
    /// The receipt and the digest claimed for it.
    pub receipt: Claimed<InferenceReceipt>,
    /// How many bytes it took, from the start of the input (white space before it included,
    /// none after it).
    pub len: usize,
    /// How deep its objects and arrays nest, as
    /// [`check_json_nesting`](super::check_json_nesting) counts them.
    pub nesting: usize,
}

/// Nesting deeper than this is left to the general path. `serde_json` refuses the 128th level
/// of one value; the caller compares the nesting with the levels around the receipt.
const MAX_NESTING: usize = 64;

/// Parses the claimed receipt (`{"record": {...}, "digest": "..."}`) at the start of `bytes`,
/// with the strict check fused in: `Some` only when `serde_json` would parse the same bytes into
/// the same `Claimed<InferenceReceipt>` and [`check_json`](super::check_json) would pass them;
/// `None` when the caller must parse them the general way (see the module docs).
///
/// This does not panic.
pub fn claimed_receipt(bytes: &[u8]) -> Option<Parsed> {
    if Digest::is_accepting_input() || Timestamp::is_accepting_rfc3339() {
        return None;
    }
    let mut p = Parser {
        b: bytes,
        i: 0,
        deepest: 0,
    };
    let receipt = p.claimed()?;
    Some(Parsed {
        receipt,
        len: p.i,
        nesting: p.deepest,
    })
}

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

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    deepest: usize,
}

/// Fills a field read from the text: `None` when the struct had it already (a repeated key).
fn put<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

impl<'a> Parser<'a> {
    /// The next byte that is not white space, not consumed.
    fn peek(&mut self) -> Option<u8> {
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

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Consumes `word` (`null`, `true`, `false`).
    fn word(&mut self, word: &[u8]) -> Option<()> {
        self.peek()?;
        let end = self.i.checked_add(word.len())?;
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A string token: its content between the quotes and whether it holds an escape. A raw
    /// control character (which JSON refuses) gives `None`.
    fn raw_string(&mut self) -> Option<(usize, usize, bool)> {
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
    fn string(&mut self) -> Option<Cow<'a, str>> {
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
    /// checked as UTF-8 by [`Parser::map`]). A key with an escape is left to the general path.
    fn key(&mut self) -> Option<&'a [u8]> {
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
    fn object(
        &mut self,
        depth: usize,
        mut f: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.deepest = self.deepest.max(depth + 1);
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.key()?;
            f(self, key)?;
            if self.closes(b'}')? {
                return Some(());
            }
        }
    }

    /// The items of an array, `f` called before each.
    fn array(&mut self, depth: usize, mut f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.deepest = self.deepest.max(depth + 1);
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            f(self)?;
            if self.closes(b']')? {
                return Some(());
            }
        }
    }

    /// After a member or item: `true` past the `close`, `false` past a `,`.
    fn closes(&mut self, close: u8) -> Option<bool> {
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
    fn digest(&mut self) -> Option<Digest> {
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

    fn optional_string(&mut self) -> Option<Option<String>> {
        if self.peek()? == b'n' {
            return self.word(b"null").map(|()| None);
        }
        self.string().map(|s| Some(s.into_owned()))
    }

    fn optional_digest(&mut self) -> Option<Option<Digest>> {
        if self.peek()? == b'n' {
            return self.word(b"null").map(|()| None);
        }
        self.digest().map(Some)
    }

    /// A `u64` written as plain digits, without a leading zero (`serde_json`'s form; it reads
    /// anything else as another type or refuses it).
    fn u64(&mut self) -> Option<u64> {
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
    fn number(&mut self) -> Option<Number> {
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
    fn value(&mut self, depth: usize) -> Option<Value> {
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
    fn map(&mut self, depth: usize) -> Option<Map<String, Value>> {
        let mut map = Map::new();
        self.object(depth, |p, key| {
            let key = std::str::from_utf8(key).ok()?;
            let v = p.value(depth + 1)?;
            map.insert(key.to_owned(), v).is_none().then_some(())
        })?;
        Some(map)
    }

    /// `{"record": ..., "digest": ...}`, at depth 0.
    fn claimed(&mut self) -> Option<Claimed<InferenceReceipt>> {
        let (mut record, mut digest) = (None, None);
        self.object(0, |p, key| {
            match key {
                b"record" => put(&mut record, p.receipt()?)?,
                b"digest" => put(&mut digest, p.digest()?)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(Claimed {
            record: record?,
            digest: digest?,
        })
    }

    /// The receipt, at depth 1.
    fn receipt(&mut self) -> Option<InferenceReceipt> {
        let mut f = ReceiptFields::default();
        self.object(1, |p, key| {
            match key {
                b"receipt_id" => put(&mut f.receipt_id, p.string()?.into_owned())?,
                b"sequence" => put(&mut f.sequence, p.u64()?)?,
                b"model_anchor" => put(&mut f.model_anchor, p.digest()?)?,
                b"deployment_anchor" => put(&mut f.deployment_anchor, p.digest()?)?,
                b"request_id" => put(&mut f.request_id, p.string()?.into_owned())?,
                b"input_commitment" => put(&mut f.input_commitment, p.commitment()?)?,
                b"output_commitment" => put(&mut f.output_commitment, p.commitment()?)?,
                b"explanation_digests" => {
                    let mut digests = Vec::new();
                    p.array(2, |p| {
                        digests.push(p.digest()?);
                        Some(())
                    })?;
                    put(&mut f.explanation_digests, digests)?;
                }
                b"prev_receipt" => put(&mut f.prev_receipt, p.optional_digest()?)?,
                b"timestamp" => put(&mut f.timestamp, p.string()?.parse().ok()?)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(InferenceReceipt {
            receipt_id: f.receipt_id?,
            sequence: f.sequence?,
            model_anchor: f.model_anchor?,
            deployment_anchor: f.deployment_anchor?,
            request_id: f.request_id?,
            input_commitment: f.input_commitment?,
            output_commitment: f.output_commitment?,
            explanation_digests: f.explanation_digests?,
            prev_receipt: f.prev_receipt?,
            timestamp: f.timestamp?,
        })
    }

    /// A commitment, at depth 2.
    fn commitment(&mut self) -> Option<InferenceCommitment> {
        let (mut scheme, mut value, mut metadata, mut plaintext) = (None, None, None, None);
        self.object(2, |p, key| {
            match key {
                b"scheme" => put(&mut scheme, p.string()?.parse::<CommitmentScheme>().ok()?)?,
                b"value" => put(&mut value, p.digest()?)?,
                b"metadata" => put(&mut metadata, p.map(3)?)?,
                b"plaintext" => put(&mut plaintext, p.optional_string()?)?,
                _ => return None,
            }
            Some(())
        })?;
        Some(InferenceCommitment {
            scheme: scheme?,
            value: value?,
            metadata: metadata?,
            plaintext: plaintext?,
        })
    }
}

/// The fields of a receipt as they are read, in any order.
#[derive(Default)]
struct ReceiptFields {
    receipt_id: Option<String>,
    sequence: Option<u64>,
    model_anchor: Option<Digest>,
    deployment_anchor: Option<Digest>,
    request_id: Option<String>,
    input_commitment: Option<InferenceCommitment>,
    output_commitment: Option<InferenceCommitment>,
    explanation_digests: Option<Vec<Digest>>,
    prev_receipt: Option<Option<Digest>>,
    timestamp: Option<Timestamp>,
}

#[cfg(test)]
mod tests;
