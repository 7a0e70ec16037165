//! A bundle read from a byte stream in one pass, without holding its receipts.
//!
//! The walk is hand-rolled at the six levels a bundle's receipts sit under (the document, its
//! `lifecycle`, `inference`, `batches`, each batch group, its `receipts`) and leaves every
//! other value to the typed parser: it finds the value's extent (strings and nesting only,
//! nothing decoded) and parses that slice with [`json::parse_strict`] after the strict check
//! of [`lcm_model::strict::check_json`], so each record is parsed exactly as in a whole
//! document, with the same error naming the same JSON pointer. A receipt is read and checked
//! strictly in one pass by [`lcm_model::strict::receipt::claimed_receipt`]; one that it leaves
//! to the general path is parsed in place by `serde_json` (which finds its end) and then
//! checked strictly; only one that fails goes the way of the other values, for its error. Why not `serde_json`'s
//! `Deserializer::from_reader` with seeds over the receipt arrays: its reader is fed byte by
//! byte through `io::Bytes` (two to three times the parse time of a slice), and the strict
//! check, which needs each value's text, would need that text captured on the side anyway.
//!
//! Memory: a read buffer of [`CHUNK`] bytes, grown only to hold the largest single value read
//! whole (a receipt is about a kilobyte; the largest are the split record id lists), and the
//! records other than receipts.

use std::io::Read;

use lcm_model::Claimed;
use lcm_model::records::ModelAnchor;
use lcm_model::records::{InferenceBatch, InferenceReceipt};
use serde::de::DeserializeOwned;

use super::{L, ReceiptAt};
use crate::bundle::{
    DatasetEvidence, DeploymentEvidence, Lifecycle, PreDeploymentEvidence, TrainingEvidence,
};
use crate::json::{self, escape_token};
use crate::{CapsuleHeader, Error};

/// How much is read from the source at a time (a receipt cut by the buffer's end is parsed
/// again once the rest is read: one receipt in a few hundred).
pub(super) const CHUNK: usize = 1 << 18;

/// `serde_json` refuses the 128th object or array nested in one another (its recursion
/// limit): a value taken out of the document is refused where, counted with the objects
/// and arrays around it, it would reach that, as the parser of the whole document refuses
/// it (a value parsed alone starts the count afresh).
const PARSER_NESTING: usize = 128;

/// Why a record the walk descends into, written in another form than the usual one (a
/// struct as the array of its fields, which `serde` reads too), is refused.
pub(super) const NOT_WALKED: &str = "this record is written in a form the streamed verifier \
    does not read (an array of its fields in place of an object); verify the bundle in memory";

/// Why a walk stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// The bytes are not JSON (or end early): the caller names the error as a parser of the
    /// whole document does.
    Syntax,
    /// A value failed to parse or to pass the strict check, or a key was unknown, missing or
    /// repeated: the error with the JSON pointer of the value.
    Parse(Error),
    /// The source could not be read.
    Io(std::io::Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Self::Parse(e)
    }
}

/// The records of a bundle other than its receipts, as far as they are read.
#[derive(Default)]
pub(super) struct Parts {
    pub(super) bundle_version: Option<String>,
    pub(super) header: Option<CapsuleHeader>,
    pub(super) dataset: Option<DatasetEvidence>,
    pub(super) model: Option<Claimed<ModelAnchor>>,
    pub(super) training: Option<TrainingEvidence>,
    pub(super) predeployment: Option<PreDeploymentEvidence>,
    pub(super) deployment: Option<DeploymentEvidence>,
    pub(super) test_evaluation: Option<Claimed<lcm_model::records::TestEvaluationAnchor>>,
    pub(super) release: Option<Claimed<lcm_model::records::ReleaseRoot>>,
    /// Each batch group's sealed batch, in order (the groups' receipts are not kept).
    pub(super) groups: Vec<Option<Claimed<InferenceBatch>>>,
    /// Whether the document's `lifecycle` and its `inference` were there.
    pub(super) lifecycle: bool,
    pub(super) inference: bool,
}

/// What is done with the receipts as they are read.
pub(super) trait Receipts {
    /// The receipts are about to come: `parts` holds what was read before them. An error
    /// stops the walk (a bundle whose receipts cannot be checked as they come).
    fn start(&mut self, parts: &Parts) -> Result<(), Error>;
    /// The receipt at `at`.
    fn receipt(&mut self, at: ReceiptAt, receipt: Claimed<InferenceReceipt>);
    /// Group `gi` is complete; `batch` is its sealed batch.
    fn group_end(&mut self, gi: usize, batch: Option<&Claimed<InferenceBatch>>);
}

/// Reads a whole bundle from `source`, handing each receipt to `sink`.
///
/// # Errors
///
/// [`Stop`].
pub(super) fn walk<R: Read>(source: R, sink: &mut dyn Receipts) -> Result<Parts, Stop> {
    walk_in(source, sink, CHUNK)
}

/// [`walk`], reading `chunk` bytes at a time (the tests cut every value somewhere).
pub(super) fn walk_in<R: Read>(
    source: R,
    sink: &mut dyn Receipts,
    chunk: usize,
) -> Result<Parts, Stop> {
    let mut s = Scanner::new(source, chunk);
    let mut parts = Parts::default();
    s.document(&mut parts, sink)?;
    if s.peek()?.is_some() {
        return Err(Stop::Syntax);
    }
    Ok(parts)
}

/// The header of a bundle whose first two keys are `bundle_version` and `header` (in either
/// order), read from its first bytes only; `None` for anything else (another document, or a
/// bundle whose header is not among its first keys or does not parse).
pub(super) fn leading_header<R: Read>(source: R) -> Option<CapsuleHeader> {
    let mut s = Scanner::new(source, CHUNK);
    s.expect(b'{').ok()?;
    s.depth = 1;
    let (mut version, mut header) = (false, None);
    loop {
        let key = s.key().ok()?;
        s.expect(b':').ok()?;
        match key.as_str() {
            "bundle_version" if !version => {
                s.extent().ok()?;
                version = true;
            }
            "header" if header.is_none() => header = Some(s.value("/header").ok()?),
            _ => return None,
        }
        if version && header.is_some() {
            return header;
        }
        s.expect(b',').ok()?;
    }
}

struct Scanner<R> {
    source: R,
    /// How much is read at a time.
    chunk: u64,
    buf: Vec<u8>,
    /// The next byte to read in `buf`.
    pos: usize,
    eof: bool,
    /// How many objects and arrays of the document enclose the next value.
    depth: usize,
}

/// The keys of one object at the walked levels: which were seen, in the declared order.
struct Keys {
    names: &'static [&'static str],
    seen: Vec<bool>,
}

impl Keys {
    fn new(names: &'static [&'static str]) -> Self {
        Self {
            names,
            seen: vec![false; names.len()],
        }
    }

    /// Marks `key` seen: its index, or the error naming an unknown or repeated key.
    fn see(&mut self, key: &str, path: &str) -> Result<usize, Stop> {
        let found = self.names.iter().position(|n| *n == key);
        let Some(i) = found else {
            return Err(parse_error(
                &format!("{path}/{}", escape_token(key)),
                <serde_json::Error as serde::de::Error>::unknown_field(key, self.names),
            ));
        };
        if std::mem::replace(&mut self.seen[i], true) {
            return Err(parse_error(
                path,
                <serde_json::Error as serde::de::Error>::duplicate_field(self.names[i]),
            ));
        }
        Ok(i)
    }

    /// The error naming the first required key not seen (`optional` keys may be missing).
    fn check(&self, path: &str, optional: &[&str]) -> Result<(), Stop> {
        let missing = self
            .names
            .iter()
            .zip(&self.seen)
            .find(|(n, seen)| !**seen && !optional.contains(n));
        match missing {
            Some((n, _)) => Err(parse_error(
                path,
                <serde_json::Error as serde::de::Error>::missing_field(n),
            )),
            None => Ok(()),
        }
    }
}

fn parse_error(path: &str, e: serde_json::Error) -> Stop {
    Stop::Parse(Error::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

const BUNDLE_KEYS: &[&str] = &["bundle_version", "header", "lifecycle"];
const LIFECYCLE_KEYS: &[&str] = &[
    "dataset",
    "model",
    "training",
    "predeployment",
    "deployment",
    "test_evaluation",
    "inference",
    "release",
];
const INFERENCE_KEYS: &[&str] = &["batches"];
const GROUP_KEYS: &[&str] = &["batch", "receipts"];

impl<R: Read> Scanner<R> {
    fn new(source: R, chunk: usize) -> Self {
        Self {
            source,
            chunk: u64::try_from(chunk.max(1)).unwrap_or(u64::MAX),
            buf: Vec::with_capacity(chunk),
            pos: 0,
            eof: false,
            depth: 0,
        }
    }

    /// An object's next key.
    fn key(&mut self) -> Result<String, Stop> {
        if self.peek()? != Some(b'"') {
            return Err(Stop::Syntax);
        }
        let (a, b) = self.extent()?;
        serde_json::from_slice(&self.buf[a..b]).map_err(|_| Stop::Syntax)
    }

    /// Reads more bytes, dropping those before `keep` (at most `pos`): returns how many
    /// were dropped (indices into `buf` move back by that much) and whether any were read.
    fn fill(&mut self, keep: usize) -> Result<(usize, bool), Stop> {
        self.fill_by(keep, self.chunk)
    }

    /// [`Scanner::fill`], reading up to `want` bytes.
    fn fill_by(&mut self, keep: usize, want: u64) -> Result<(usize, bool), Stop> {
        if self.eof {
            return Ok((0, false));
        }
        let keep = keep.min(self.pos);
        if keep > 0 {
            self.buf.drain(..keep);
            self.pos -= keep;
        }
        // Appended in place (no zeroing of the space first), up to a chunk.
        let n = loop {
            match (&mut self.source).take(want).read_to_end(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Stop::Io(e)),
            }
        };
        self.eof = n == 0;
        Ok((keep, n > 0))
    }

    /// The next byte that is not white space, not consumed; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill(self.pos)?.1 {
                return Ok(None);
            }
        }
    }

    /// Consumes the next byte that is not white space, which must be `b`.
    fn expect(&mut self, b: u8) -> Result<(), Stop> {
        if self.peek()? == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Stop::Syntax)
        }
    }

    /// The byte at `i`, reading more if needed (`start` is the index to keep, updated when
    /// the buffer moves).
    fn byte_at(&mut self, i: &mut usize, start: &mut usize) -> Result<u8, Stop> {
        loop {
            if let Some(&b) = self.buf.get(*i) {
                return Ok(b);
            }
            let (moved, more) = self.fill(*start)?;
            *i -= moved;
            *start -= moved;
            if !more {
                return Err(Stop::Syntax);
            }
        }
    }

    /// Consumes the next value and returns its extent in `buf` (valid until the next read).
    fn extent(&mut self) -> Result<(usize, usize), Stop> {
        let first = self.peek()?.ok_or(Stop::Syntax)?;
        let mut start = self.pos;
        let mut i = self.pos;
        match first {
            b'"' => {
                i += 1;
                self.skip_string(&mut i, &mut start)?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.byte_at(&mut i, &mut start)? {
                        b'"' => {
                            i += 1;
                            self.skip_string(&mut i, &mut start)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => loop {
                match self.buf.get(i) {
                    Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(_) => i += 1,
                    None => {
                        let (moved, more) = self.fill(start)?;
                        i -= moved;
                        start -= moved;
                        if !more {
                            break;
                        }
                    }
                }
            },
        }
        self.pos = i;
        Ok((start, i))
    }

    /// Moves `i` past the end of the string it is inside (after its opening quote).
    fn skip_string(&mut self, i: &mut usize, start: &mut usize) -> Result<(), Stop> {
        loop {
            // The bulk of a string has no quote or backslash: find the next of either in
            // what is buffered before reading byte by byte.
            if let Some(rest) = self.buf.get(*i..) {
                *i += rest
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\')
                    .unwrap_or(rest.len());
            }
            match self.byte_at(i, start)? {
                b'"' => {
                    *i += 1;
                    return Ok(());
                }
                b'\\' => *i += 2,
                _ => {}
            }
        }
    }

    /// The next value parsed as `T`, strictly, its errors naming pointers under `path`.
    fn value<T: DeserializeOwned>(&mut self, path: &str) -> Result<T, Stop> {
        let (a, b) = self.extent()?;
        let text = std::str::from_utf8(&self.buf[a..b]).map_err(|_| Stop::Syntax)?;
        let nesting = lcm_model::strict::check_json_nesting(text.as_bytes()).map_err(|e| {
            Stop::Parse(Error::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })
        })?;
        self.within_nesting(nesting)?;
        json::parse_strict::<T>(text).map_err(|e| match e {
            // Not JSON: named over the whole document by the caller.
            _ if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() => Stop::Syntax,
            Error::Parse {
                path: inner,
                message,
            } => Stop::Parse(Error::Parse {
                path: format!("{path}{inner}"),
                message,
            }),
            other => Stop::Parse(other),
        })
    }

    /// The next value, a receipt: read and strictly checked in one pass by
    /// [`claimed_receipt`](lcm_model::strict::receipt::claimed_receipt), or, where that leaves
    /// it to the general path, parsed in place by `serde_json` (which finds its end), then
    /// strictly checked. Anything but a receipt that parses and passes is parsed again by
    /// [`Scanner::value`], for its error under `path`.
    fn receipt(
        &mut self,
        path: impl FnOnce() -> String,
    ) -> Result<Claimed<InferenceReceipt>, Stop> {
        loop {
            if self.peek()? != Some(b'{') {
                break;
            }
            let rest = &self.buf[self.pos..];
            // The common case: read and strictly checked in one pass.
            if let Some(parsed) = lcm_model::strict::receipt::claimed_receipt(rest) {
                self.within_nesting(parsed.nesting)?;
                self.pos += parsed.len;
                return Ok(parsed.receipt);
            }
            let mut values = serde_json::Deserializer::from_slice(rest).into_iter();
            match values.next() {
                Some(Ok(r)) => {
                    let end = values.byte_offset();
                    // Parsed, so UTF-8: checked as bytes.
                    let Ok(nesting) = lcm_model::strict::check_json_nesting(&rest[..end]) else {
                        break;
                    };
                    self.within_nesting(nesting)?;
                    self.pos += end;
                    return Ok(r);
                }
                // The receipt goes on past what is buffered: read more, parse it again. At
                // least as much as is buffered is read, so that a receipt of n bytes is
                // parsed O(log n) times, not O(n / CHUNK) (quadratic in its size).
                Some(Err(e)) if e.is_eof() && !self.eof => {
                    let buffered = u64::try_from(self.buf.len() - self.pos).unwrap_or(u64::MAX);
                    self.fill_by(self.pos, self.chunk.max(buffered))?;
                }
                _ => break,
            }
        }
        self.value(&path())
    }

    /// Refuses a value whose own objects and arrays nest `nesting` deep where, with those
    /// around it, the parser of the whole document would reach its recursion limit (the
    /// caller then names the error as that parser does).
    fn within_nesting(&self, nesting: usize) -> Result<(), Stop> {
        if self.depth.saturating_add(nesting) >= PARSER_NESTING {
            return Err(Stop::Syntax);
        }
        Ok(())
    }

    /// An object's keys: calls `f` with each key (and the scanner before its value).
    fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, String) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        self.inside(b'{', |s| s.members(&mut f))
    }

    /// Consumes `open` and calls `f` one level deeper.
    fn inside(
        &mut self,
        open: u8,
        f: impl FnOnce(&mut Self) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        self.expect(open)?;
        self.depth += 1;
        let inner = f(self);
        self.depth -= 1;
        inner
    }

    /// The members of an object after its `{`.
    fn members(
        &mut self,
        f: &mut impl FnMut(&mut Self, String) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        if self.peek()? == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.key()?;
            self.expect(b':')?;
            f(self, key)?;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Stop::Syntax),
            }
        }
    }

    /// An array's items: calls `f` with each item's index (and the scanner before it).
    fn array(
        &mut self,
        mut f: impl FnMut(&mut Self, usize) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        self.inside(b'[', |s| s.items(&mut f))
    }

    /// The items of an array after its `[`.
    fn items(
        &mut self,
        f: &mut impl FnMut(&mut Self, usize) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        if self.peek()? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0usize;
        loop {
            f(self, i)?;
            i += 1;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Stop::Syntax),
            }
        }
    }

    /// A value the walk descends into must open with `open`; anything else is parsed as
    /// the whole `T`, for the error the typed parser gives it. A record that parses that way
    /// (`serde` reads a struct from an array of its fields in order) is refused, naming why.
    fn structural<T: DeserializeOwned>(&mut self, open: u8, path: &str) -> Result<bool, Stop> {
        if self.peek()? == Some(open) {
            return Ok(true);
        }
        self.value::<T>(path)?;
        Err(Stop::Parse(Error::Parse {
            path: path.to_owned(),
            message: NOT_WALKED.to_owned(),
        }))
    }

    fn document(&mut self, parts: &mut Parts, sink: &mut dyn Receipts) -> Result<(), Stop> {
        self.structural::<crate::Bundle>(b'{', "")?;
        let mut keys = Keys::new(BUNDLE_KEYS);
        self.object(|s, key| {
            match keys.see(&key, "")? {
                0 => parts.bundle_version = Some(s.value("/bundle_version")?),
                1 => parts.header = Some(s.value("/header")?),
                _ => s.lifecycle(parts, sink)?,
            }
            Ok(())
        })?;
        keys.check("", &[])
    }

    fn lifecycle(&mut self, parts: &mut Parts, sink: &mut dyn Receipts) -> Result<(), Stop> {
        parts.lifecycle = true;
        self.structural::<Lifecycle>(b'{', L)?;
        let mut keys = Keys::new(LIFECYCLE_KEYS);
        self.object(|s, key| {
            let path = format!("{L}/{key}");
            match keys.see(&key, L)? {
                0 => parts.dataset = Some(s.value(&path)?),
                1 => parts.model = Some(s.value(&path)?),
                2 => parts.training = Some(s.value(&path)?),
                3 => parts.predeployment = Some(s.value(&path)?),
                4 => parts.deployment = Some(s.value(&path)?),
                5 => parts.test_evaluation = Some(s.value(&path)?),
                6 => s.inference(parts, sink)?,
                _ => parts.release = Some(s.value(&path)?),
            }
            Ok(())
        })?;
        keys.check(L, &[])
    }

    fn inference(&mut self, parts: &mut Parts, sink: &mut dyn Receipts) -> Result<(), Stop> {
        let path = format!("{L}/inference");
        self.structural::<crate::bundle::InferenceEvidence>(b'{', &path)?;
        parts.inference = true;
        sink.start(parts)?;
        let mut keys = Keys::new(INFERENCE_KEYS);
        self.object(|s, key| {
            keys.see(&key, &path)?;
            let batches = format!("{path}/batches");
            s.structural::<Vec<crate::bundle::BatchEvidence>>(b'[', &batches)?;
            s.array(|s, gi| s.group(parts, sink, gi))
        })?;
        keys.check(&path, &[])
    }

    fn group(&mut self, parts: &mut Parts, sink: &mut dyn Receipts, gi: usize) -> Result<(), Stop> {
        let path = format!("{L}/inference/batches/{gi}");
        self.structural::<crate::bundle::BatchEvidence>(b'{', &path)?;
        let mut keys = Keys::new(GROUP_KEYS);
        let mut batch = None;
        self.object(|s, key| {
            if keys.see(&key, &path)? == 0 {
                batch = s.value(&format!("{path}/batch"))?;
                return Ok(());
            }
            let receipts = format!("{path}/receipts");
            s.structural::<Vec<Claimed<InferenceReceipt>>>(b'[', &receipts)?;
            s.array(|s, index| {
                let r = s.receipt(|| format!("{receipts}/{index}"))?;
                sink.receipt(ReceiptAt { batch: gi, index }, r);
                Ok(())
            })
        })?;
        keys.check(&path, &["batch"])?;
        sink.group_end(gi, batch.as_ref());
        parts.groups.push(batch);
        Ok(())
    }
}
