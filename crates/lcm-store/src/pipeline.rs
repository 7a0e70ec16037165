//! The receipt pipeline: resolve a release, make chained receipts, append them in durable
//! transactions, and seal them into batches.
//!
//! [`infer`] is `lcm infer` without the terminal: three threads in a pipeline. The reader
//! parses request lines; the maker groups them into batches and makes their receipts after
//! the head it expects; the writer (the calling thread) appends each batch in one
//! transaction. Inside the transaction the writer reads the real head: if another process
//! appended meanwhile, it remakes the batch after the real head (still inside the
//! transaction, so the chain stays correct) and tells the maker to continue from there. A
//! request id the chain already holds is refused by the append itself, in the database's
//! unique request index ([`NewReceipt::may_repeat_request`]). A receipt is acknowledged
//! (handed to the caller's sink) only after its commit.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex, mpsc};

use lcm_crypto::Digest;
use lcm_managers::{ReceiptChain, ReceiptFields};
use lcm_model::Timestamp;
use lcm_model::strict::{self, StrictError};
use serde::Deserialize;
use serde_json::{Map, Value};

mod acks;
mod close;
mod payload;
mod release;
#[cfg(test)]
mod tests;

pub use acks::{json_acks, text_acks};
pub use close::{BatchStream, seal_next_batch};
pub use payload::{committed_json, committed_text, disclosed};
pub use release::{Release, model_of, release_model, resolve_release};

use crate::{ChainHead, Error, NewReceipt, Store, StoredReceipt};

/// One inference request: a line of `lcm infer`'s input.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestLine {
    /// The caller's request id.
    pub request_id: String,
    /// The query (committed, never stored in the clear): in a line, any JSON value; a string
    /// is committed as it is, any other value as its canonical JSON ([`committed_text`]).
    #[serde(deserialize_with = "payload::committed_value")]
    #[schemars(with = "Value")]
    pub query: String,
    /// The model's output (committed, never stored in the clear), as `query`.
    #[serde(deserialize_with = "payload::committed_value")]
    #[schemars(with = "Value")]
    pub output: String,
    /// The receipt id (`inf_<sequence>` when absent).
    #[serde(default)]
    pub receipt_id: Option<String>,
    /// Metadata about the input.
    #[serde(default)]
    pub input_metadata: Map<String, Value>,
    /// Metadata about the output.
    #[serde(default)]
    pub output_metadata: Map<String, Value>,
    /// Digests of explanations.
    #[serde(default)]
    #[schemars(with = "Vec<lcm_model::schema::HexDigest>")]
    pub explanation_digests: Vec<Digest>,
}

/// What the reader thread sends: parsed lines, or the first failure.
type Chunk = Result<Vec<RequestLine>, Error>;

fn read_lines(reader: impl Read, tx: &mpsc::SyncSender<Chunk>, max: usize) {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut bytes = Vec::new();
    let mut chunk = Vec::new();
    let mut number = 0u64;
    loop {
        bytes.clear();
        let n = match reader.read_until(b'\n', &mut bytes) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Ok(std::mem::take(&mut chunk)));
                let _ = tx.send(Err(Error::ReadRequests(e)));
                return;
            }
        };
        if n == 0 {
            break;
        }
        number += 1;
        if let Some(stop) = read_line(&bytes, number, &mut chunk) {
            let _ = tx.send(Ok(std::mem::take(&mut chunk)));
            let _ = tx.send(Err(stop));
            return;
        }
        // Hand over what is parsed when no more input is buffered (so that a slow producer
        // gets each line committed at once) or when the chunk is full.
        if (chunk.len() >= max || (reader.buffer().is_empty() && !chunk.is_empty()))
            && tx.send(Ok(std::mem::take(&mut chunk))).is_err()
        {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk));
    }
}

/// Reads request line `number` (its bytes): pushes it to `chunk` (a blank line is passed
/// over), or gives the error that names it. Most lines are read in one pass ([`fast_line`]);
/// the rest, and every line that fails, the general way ([`general_line`]).
fn read_line(bytes: &[u8], number: u64, chunk: &mut Vec<RequestLine>) -> Option<Error> {
    let Some(line) = fast_line(bytes) else {
        return general_line(bytes, number, chunk);
    };
    match check_line_ids(&line) {
        Ok(()) => {
            chunk.push(line);
            None
        }
        Err(source) => Some(Error::StrictLine {
            line: number,
            source,
        }),
    }
}

/// Parses request line `number` (its bytes) the general way: `serde_json`, then the strict
/// check. A blank line is passed over; a parsed line is pushed to `chunk`; a line that fails
/// gives the error that names it.
fn general_line(bytes: &[u8], number: u64, chunk: &mut Vec<RequestLine>) -> Option<Error> {
    // A line that is not UTF-8 is malformed input, named by its number as a line that
    // does not parse is (the input's own failures stay `ReadRequests`).
    let Ok(line) = std::str::from_utf8(bytes) else {
        return Some(Error::RequestLine {
            line: number,
            source: serde::de::Error::custom("the line is not valid UTF-8"),
        });
    };
    if line.trim().is_empty() {
        return None;
    }
    match serde_json::from_str::<RequestLine>(line) {
        Ok(l) => match strict_line(line, &l) {
            Ok(()) => chunk.push(l),
            Err(source) => {
                return Some(Error::StrictLine {
                    line: number,
                    source,
                });
            }
        },
        Err(source) => {
            return Some(Error::RequestLine {
                line: number,
                source,
            });
        }
    }
    None
}

/// A request line read in one pass with the strict check fused in
/// ([`strict::reader::Reader`]): `Some` only for a line that `serde_json` parses into the same
/// [`RequestLine`] and that [`strict::check_json`] passes (its ids are checked apart,
/// [`check_line_ids`]); `None` for everything else, which [`general_line`] then parses,
/// accepting it or naming its failure: a query or output that is not a string, a key with
/// an escape, a digest in capitals, an unknown or repeated field, an inexact number, a blank
/// or truncated line. Checked against the general way on every one-byte change of many
/// lines (`fast_lines_are_read_as_serde_json_and_the_strict_check_read_them`).
fn fast_line(bytes: &[u8]) -> Option<RequestLine> {
    use strict::reader::{Reader, put};
    let mut r = Reader::new(bytes)?;
    let (mut request_id, mut query, mut output, mut receipt_id) = (None, None, None, None);
    let (mut input_metadata, mut output_metadata, mut explanations) = (None, None, None);
    r.object(0, |r, key| match key {
        b"request_id" => put(&mut request_id, r.string()?.into_owned()),
        b"query" => put(&mut query, r.string()?.into_owned()),
        b"output" => put(&mut output, r.string()?.into_owned()),
        b"receipt_id" => put(&mut receipt_id, r.optional_string()?),
        b"input_metadata" => put(&mut input_metadata, r.map(1)?),
        b"output_metadata" => put(&mut output_metadata, r.map(1)?),
        b"explanation_digests" => put(&mut explanations, r.digests(1)?),
        _ => None,
    })?;
    r.end()?;
    Some(RequestLine {
        request_id: request_id?,
        query: query?,
        output: output?,
        receipt_id: receipt_id.flatten(),
        input_metadata: input_metadata.unwrap_or_default(),
        output_metadata: output_metadata.unwrap_or_default(),
        explanation_digests: explanations.unwrap_or_default(),
    })
}

/// Strict input for one request line that parsed: no key twice (in the metadata maps
/// too), every number exact, printable ids.
fn strict_line(text: &str, line: &RequestLine) -> Result<(), StrictError> {
    strict::check_json(text)?;
    check_line_ids(line)
}

/// Printable, non-empty ids.
fn check_line_ids(line: &RequestLine) -> Result<(), StrictError> {
    strict::check_id("request_id", &line.request_id)?;
    if let Some(r) = &line.receipt_id {
        strict::check_id("receipt_id", r)?;
    }
    Ok(())
}

/// Whether a deployment's chain may hold two receipts of one `request_id`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestIds {
    /// A request id already in the chain (or twice in the input) is refused.
    #[default]
    Unique,
    /// Repeated request ids are accepted (retries recorded as separate receipts).
    AllowRepeats,
}

/// How [`infer`] appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InferOptions {
    /// The most receipts committed in one transaction.
    pub batch_size: usize,
    /// Whether request ids may repeat.
    pub request_ids: RequestIds,
}

impl InferOptions {
    /// Transactions of at most `batch_size` receipts, request ids unique.
    pub const fn batch(batch_size: usize) -> Self {
        Self {
            batch_size,
            request_ids: RequestIds::Unique,
        }
    }
}

/// Parses a batch of request lines held in memory (a request body of `lcm serve`) with
/// `lcm infer`'s strict input: each non-blank line one [`RequestLine`], no key twice, exact
/// numbers, printable ids.
///
/// # Errors
///
/// [`Error::RequestLine`] for a line that does not parse, [`Error::StrictLine`] for one that
/// strict input refuses (each with its line number, from 1).
///
/// # Example
///
/// ```
/// let lines = lcm_store::pipeline::parse_requests(
///     "{\"request_id\":\"r1\",\"query\":\"q\",\"output\":\"o\"}\n\n",
/// )?;
/// assert_eq!(lines.len(), 1);
/// assert!(lcm_store::pipeline::parse_requests("{\"request_id\":\"r1\"}").is_err());
/// # Ok::<(), lcm_store::Error>(())
/// ```
pub fn parse_requests(text: &str) -> Result<Vec<RequestLine>, Error> {
    let mut out = Vec::new();
    for (number, line) in (1u64..).zip(text.lines()) {
        if let Some(stop) = read_line(line.as_bytes(), number, &mut out) {
            return Err(stop);
        }
    }
    Ok(out)
}

/// Refuses a request id of `lines` that is in `deployment`'s chain already or repeats within
/// `lines`. Memory: the ids of one batch.
///
/// Only a `store` inside the write transaction that appends `lines` makes the refusal hold
/// (the callback's store of [`Store::append_new_receipts`] or [`Store::append_keyed`]):
/// outside it, another process may append one of these ids between the lookup and the
/// append.
///
/// # Errors
///
/// [`Error::RepeatedRequest`] naming the first such id; read failures.
pub fn refuse_repeats(
    store: &dyn Store,
    deployment: &str,
    lines: &[RequestLine],
) -> Result<(), Error> {
    let repeated = |request_id: &str| Error::RepeatedRequest {
        deployment: deployment.to_owned(),
        request_id: request_id.to_owned(),
    };
    let mut seen = std::collections::HashSet::with_capacity(lines.len());
    for l in lines {
        if !seen.insert(l.request_id.as_str()) {
            return Err(repeated(&l.request_id));
        }
    }
    let ids: Vec<&str> = lines.iter().map(|l| l.request_id.as_str()).collect();
    match store.known_request(deployment, &ids)? {
        Some(id) => Err(repeated(&id)),
        None => Ok(()),
    }
}

/// Appends a receipt for each of `requests` (already parsed, in order) to `deployment`'s
/// chain, releasing `model`, in transactions of at most `batch_size` receipts: [`infer`]
/// for a caller that holds its requests in memory (the Python binding) instead of reading
/// JSON Lines. Two threads: a maker makes the next transaction's receipts while the calling
/// thread commits the current one; if another writer appended meanwhile, the batch is remade
/// after the real head inside the transaction, as in [`infer`]. After each commit, `ack` gets
/// the committed receipts (handed over); an error from it stops the appends (what was committed
/// stays).
///
/// Memory: the requests are borrowed; at most three transactions' receipts (made, being
/// committed, acknowledged) are held at once, so the memory this uses beyond `requests` grows
/// with `batch_size`, not with the number of requests.
///
/// # Errors
///
/// [`Error::StrictLine`] for an empty or unprintable id (nothing is appended);
/// [`Error::RepeatedRequest`] for a request id the chain or the requests already hold, found
/// by the transaction that would append it (that transaction is not appended; those before
/// it stay); as [`resolve_release`]; [`Error::DuplicateReceipt`]
/// for a receipt id already in the chain (its transaction is not appended); `ack`'s errors;
/// write failures.
pub fn append_requests<E: From<Error>>(
    store: &mut dyn Store,
    model: &str,
    deployment: &str,
    requests: &[RequestLine],
    batch_size: usize,
    ack: &mut dyn FnMut(Vec<StoredReceipt>) -> Result<(), E>,
) -> Result<InferSummary, E> {
    // The same strict input as `infer`'s lines: printable ids (request n is "line" n + 1),
    // and, per transaction below, no request id the chain or the input already holds.
    for (number, l) in (1u64..).zip(requests) {
        let checked = strict::check_id("request_id", &l.request_id).and_then(|()| {
            l.receipt_id
                .as_deref()
                .map_or(Ok(()), |r| strict::check_id("receipt_id", r))
        });
        if let Err(source) = checked {
            return Err(Error::StrictLine {
                line: number,
                source,
            }
            .into());
        }
    }
    let policy = store.policy()?;
    let release = resolve_release(store, model, deployment)?;
    let seed = store.open_chain(deployment)?;
    let mut maker_chain = ReceiptChain::from_seed(&policy, &seed);
    let start_head = store.head(deployment)?;
    let mut writer = WriterStage {
        deployment,
        release,
        chain: ReceiptChain::from_seed(&policy, &seed),
        unique_ids: true,
        summary: InferSummary {
            appended: 0,
            head: start_head,
        },
    };
    drop(seed);
    let checkpointer = store.checkpointer()?;
    let batch_size = batch_size.max(1);
    std::thread::scope(|scope| -> Result<(), E> {
        let (ckpt_tx, ckpt_rx) = mpsc::sync_channel::<()>(1);
        if let Some(checkpointer) = checkpointer {
            scope.spawn(move || {
                while ckpt_rx.recv().is_ok() {
                    // A failed checkpoint loses nothing: the frames stay for the next one.
                    let _ = checkpointer.checkpoint();
                }
                let _ = checkpointer.checkpoint();
            });
        }
        let rebase: Arc<Rebase> = Arc::default();
        let maker_rebase = Arc::clone(&rebase);
        type Made<'r> = (&'r [RequestLine], Option<ChainHead>, Vec<NewReceipt>);
        let (batch_tx, batch_rx) = mpsc::sync_channel::<Result<Made<'_>, Error>>(1);
        scope.spawn(move || {
            let mut expected = start_head;
            let mut sizes = Ramp::new(batch_size);
            let mut rest = requests;
            while !rest.is_empty() {
                let (lines, after) = rest.split_at(sizes.current().min(rest.len()));
                rest = after;
                sizes.grow();
                if let Some(h) = maker_rebase.lock().ok().and_then(|mut g| g.take()) {
                    expected = h;
                }
                let made = make_receipts(&mut maker_chain, release, expected, lines);
                let made = match made {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = batch_tx.send(Err(e));
                        return;
                    }
                };
                let base = expected;
                if let Some(last) = made.last() {
                    expected = Some(ChainHead {
                        sequence: last.stored.sequence,
                        digest: last.stored.digest,
                    });
                }
                if batch_tx.send(Ok((lines, base, made))).is_err() {
                    return;
                }
            }
        });
        // The writer; dropping `batch_rx` on an early return stops the maker.
        while let Ok(batch) = batch_rx.recv() {
            let (lines, base, receipts) = batch?;
            let (committed, remade) = writer.commit(&mut *store, lines, base, receipts)?;
            if remade && let Ok(mut g) = rebase.lock() {
                *g = Some(writer.summary.head);
            }
            let _ = ckpt_tx.try_send(());
            ack(committed)?;
        }
        Ok(())
    })?;
    Ok(writer.summary)
}

/// The writer stage that [`append_requests`] and [`infer`] share: commits one batch of
/// receipts made after `base` in one transaction (refusing, inside it, request ids the chain
/// or the batch already holds when asked to), remaking them inside the transaction when
/// another process appended meanwhile, and keeps the count and head of what it committed.
struct WriterStage<'a> {
    deployment: &'a str,
    release: Release,
    chain: ReceiptChain,
    unique_ids: bool,
    summary: InferSummary,
}

impl WriterStage<'_> {
    /// Commits `receipts` (made from `lines` after `base`); returns the committed receipts
    /// and whether they were remade after another head (the maker must then follow it). A
    /// remake takes the texts from `lines` and the metadata and explanation digests from
    /// `receipts`, so `lines` need not hold them ([`make_receipts_moving`]).
    ///
    /// Unless repeats are allowed, the append refuses a request id the chain or the batch
    /// already holds ([`NewReceipt::may_repeat_request`] false: the backends' unique request
    /// index), and then fails whole. So of two processes appending one new request id at
    /// once, the second to commit is refused ([`Error::RepeatedRequest`], nothing of its
    /// batch appended), and no id is looked up before the append.
    fn commit(
        &mut self,
        store: &mut dyn Store,
        lines: &[RequestLine],
        base: Option<ChainHead>,
        receipts: Vec<NewReceipt>,
    ) -> Result<(Vec<StoredReceipt>, bool), Error> {
        let count = lines.len();
        let (deployment, unique_ids) = (self.deployment, self.unique_ids);
        let may_repeat = |mut receipts: Vec<NewReceipt>| {
            for r in &mut receipts {
                r.may_repeat_request = !unique_ids;
            }
            receipts
        };
        let mut receipts = Some(may_repeat(receipts));
        let mut remade = false;
        // The sequence number of the batch's first receipt, as appended.
        let mut first = 0u64;
        let (chain, release) = (&mut self.chain, self.release);
        let committed = store
            .append_new_receipts(deployment, &mut |_, h| {
                first = h.map_or(0, |h| h.sequence.saturating_add(1));
                // A store calls `build` once per append ([`Store::append_keyed`]): the
                // receipts are handed over, and the metadata they hold goes with them (the
                // maker moved it out of the lines).
                let made = receipts.take().ok_or_else(|| Error::Corrupt {
                    what: "the store asked twice for the receipts of one append".to_owned(),
                })?;
                if h == base {
                    return Ok(made);
                }
                // Another process appended since the maker's view: remake after the real
                // head, inside this transaction.
                remade = true;
                remake(chain, release, h, lines, made).map(may_repeat)
            })
            .map_err(|e| match e {
                Error::Duplicate { kind, id } => Error::DuplicateReceipt {
                    generated: generated_for(&id, first, lines),
                    kind,
                    id,
                    count,
                },
                other => other,
            })?;
        if let Some(last) = committed.last() {
            self.summary.head = Some(ChainHead {
                sequence: last.sequence,
                digest: last.digest,
            });
        }
        self.summary.appended = self
            .summary
            .appended
            .saturating_add(u64::try_from(committed.len()).unwrap_or(u64::MAX));
        Ok((committed, remade))
    }
}

/// Writes to `out` (cleared first) the id of a receipt made for a line without a
/// `receipt_id`: `inf_` and its sequence number, of at least six digits.
fn write_generated_id(out: &mut String, sequence: u64) {
    use std::fmt::Write as _;
    out.clear();
    let _ = write!(out, "inf_{sequence:06}");
}

/// Whether `id` is the id made for a line of `lines` without a `receipt_id`
/// ([`write_generated_id`]), the first of them at sequence number `first`.
fn generated_for(id: &str, first: u64, lines: &[RequestLine]) -> bool {
    let Some(sequence) = id.strip_prefix("inf_").and_then(|n| n.parse::<u64>().ok()) else {
        return false;
    };
    let line = sequence
        .checked_sub(first)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| lines.get(i));
    let mut generated = String::new();
    write_generated_id(&mut generated, sequence);
    line.is_some_and(|l| l.receipt_id.is_none()) && generated == id
}

/// Appends `n` demo receipts (ids `inf_<sequence>`) for `model` on `deployment` after the
/// head of its chain, in transactions of at most 10,000.
///
/// # Errors
///
/// As [`resolve_release`] and [`Store::append_receipts`].
pub fn make_demo_receipts(
    store: &mut dyn Store,
    model: &str,
    deployment: &str,
    start: u64,
    n: u64,
) -> Result<(), Error> {
    let policy = store.policy()?;
    let release = resolve_release(store, model, deployment)?;
    let seed = store.open_chain(deployment)?;
    let mut chain = ReceiptChain::from_seed(&policy, &seed);
    let mut i = start;
    let end = start.saturating_add(n);
    while i < end {
        let chunk = (end - i).min(10_000);
        let lines: Vec<RequestLine> = (i..i + chunk)
            .map(|k| RequestLine {
                request_id: format!("req_{k:06}"),
                query: format!("Is there pneumonia in chest X-ray {k}?"),
                output: if k % 3 == 0 {
                    "Pneumonia detected (confidence: 91%)".to_owned()
                } else {
                    "No pneumonia detected (confidence: 95%)".to_owned()
                },
                receipt_id: None,
                input_metadata: Map::new(),
                output_metadata: Map::new(),
                explanation_digests: Vec::new(),
            })
            .collect();
        store.append_new_receipts(deployment, &mut |_, h| {
            make_receipts(&mut chain, release, h, &lines)
        })?;
        i += chunk;
    }
    Ok(())
}

/// Makes the receipts of `lines` after `head` on `chain` (moved there first) for `release`;
/// returns them with their canonical JSON and records. Each line's metadata and explanation
/// digests are copied into its receipt (the lines are borrowed).
///
/// # Errors
///
/// [`Error::SequenceExhausted`]; the managers' refusals.
pub fn make_receipts(
    chain: &mut ReceiptChain,
    release: Release,
    head: Option<ChainHead>,
    lines: &[RequestLine],
) -> Result<Vec<NewReceipt>, Error> {
    let copied = lines.iter().map(|l| {
        let kept = Kept {
            input_metadata: l.input_metadata.clone(),
            output_metadata: l.output_metadata.clone(),
            explanation_digests: l.explanation_digests.clone(),
        };
        (l, kept)
    });
    make_each(chain, release, head, copied)
}

/// What a receipt keeps of its request line besides the texts it commits to: moved into the
/// receipt by [`make_receipts_moving`] and back out of it by [`remake`], where
/// [`make_receipts`] copies it.
struct Kept {
    input_metadata: Map<String, Value>,
    output_metadata: Map<String, Value>,
    explanation_digests: Vec<Digest>,
}

impl Kept {
    /// Takes it out of `line`, which keeps its ids and texts.
    fn take(line: &mut RequestLine) -> Self {
        Self {
            input_metadata: std::mem::take(&mut line.input_metadata),
            output_metadata: std::mem::take(&mut line.output_metadata),
            explanation_digests: std::mem::take(&mut line.explanation_digests),
        }
    }

    /// Takes it out of a receipt made from its line.
    fn of(receipt: NewReceipt) -> Self {
        let r = receipt.record;
        Self {
            input_metadata: r.input_commitment.metadata,
            output_metadata: r.output_commitment.metadata,
            explanation_digests: r.explanation_digests,
        }
    }
}

/// [`make_receipts`] for [`infer`]'s maker: each line's metadata and explanation digests
/// move into its receipt instead of being copied (a metadata map is an allocation of some
/// 600 bytes per receipt, and the copy was a sixth of the maker's time). The lines keep
/// their ids and texts; a batch made so is remade from its receipts ([`remake`]).
fn make_receipts_moving(
    chain: &mut ReceiptChain,
    release: Release,
    head: Option<ChainHead>,
    lines: &mut [RequestLine],
) -> Result<Vec<NewReceipt>, Error> {
    let kept: Vec<Kept> = lines.iter_mut().map(Kept::take).collect();
    make_each(chain, release, head, lines.iter().zip(kept))
}

/// Remakes after `head` the receipts `made` that were made from `lines` after another head:
/// the texts from the lines, what the receipts kept ([`Kept`]) from the receipts themselves.
fn remake(
    chain: &mut ReceiptChain,
    release: Release,
    head: Option<ChainHead>,
    lines: &[RequestLine],
    made: Vec<NewReceipt>,
) -> Result<Vec<NewReceipt>, Error> {
    if made.len() != lines.len() {
        return Err(Error::Corrupt {
            what: format!(
                "a batch of {} request lines made {} receipts",
                lines.len(),
                made.len()
            ),
        });
    }
    make_each(
        chain,
        release,
        head,
        lines.iter().zip(made.into_iter().map(Kept::of)),
    )
}

/// The receipts of `lines`, each with what it keeps, after `head` on `chain`.
fn make_each<'l>(
    chain: &mut ReceiptChain,
    release: Release,
    head: Option<ChainHead>,
    lines: impl ExactSizeIterator<Item = (&'l RequestLine, Kept)>,
) -> Result<Vec<NewReceipt>, Error> {
    let next = match head {
        None => 0,
        Some(h) => h.sequence.checked_add(1).ok_or(Error::SequenceExhausted)?,
    };
    chain.set_head(head.map(|h| h.digest), next)?;
    let mut made = Vec::with_capacity(lines.len());
    let mut id = String::new();
    for (line, kept) in lines {
        let receipt_id = if let Some(r) = &line.receipt_id {
            r.as_str()
        } else {
            write_generated_id(&mut id, chain.len());
            id.as_str()
        };
        let (sealed, json) = chain.append_encoded(ReceiptFields {
            receipt_id,
            model_anchor: release.model_anchor,
            deployment_anchor: release.deployment_anchor,
            request_id: &line.request_id,
            query: &line.query,
            output: &line.output,
            input_metadata: kept.input_metadata,
            output_metadata: kept.output_metadata,
            explanation_digests: kept.explanation_digests,
            timestamp: Timestamp::now(),
        })?;
        let json = String::from_utf8(json.to_vec()).map_err(|_| Error::NotUtf8)?;
        made.push(NewReceipt::sealed(sealed, json));
    }
    Ok(made)
}

/// How a caller formats the acknowledgments of committed receipts: called on the maker
/// thread, ahead of the commit, so that formatting costs the writer nothing.
pub type FormatAcks = fn(&[StoredReceipt], &mut String);

/// What [`infer`] appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InferSummary {
    /// The receipts appended and acknowledged.
    pub appended: u64,
    /// The chain head after them.
    pub head: Option<ChainHead>,
}

/// A batch of receipts made by the maker thread, with the lines they were made from and the
/// chain head they were made after.
struct MadeBatch {
    lines: Vec<RequestLine>,
    base: Option<ChainHead>,
    receipts: Vec<NewReceipt>,
    /// The acknowledgments of `receipts`, formatted ahead (handed over after the commit).
    acks: String,
}

/// A committed and acknowledged batch, handed to the thread that frees it.
type Spent = (Vec<RequestLine>, Vec<StoredReceipt>, String);

/// Set by the writer when the maker must continue from another head.
type Rebase = Mutex<Option<Option<ChainHead>>>;

/// Appends a receipt for every request line of `input` to `deployment`'s chain, releasing
/// `model`, in transactions of at most `options.batch_size` receipts (see the module docs). After
/// each commit, `ack` gets the acknowledgments of the committed receipts (formatted by
/// `format`) and the number appended so far; an error from `ack` stops the pipeline.
///
/// The reader and maker threads are detached: when the writer stops on an error, this
/// returns without waiting for `input` to end.
///
/// # Errors
///
/// As [`resolve_release`]; [`Error::DuplicateReceipt`] for a receipt id already in the chain;
/// [`Error::Interrupted`] when a line does not parse, is refused by strict input
/// ([`Error::StrictLine`]) or repeats a request id ([`Error::RepeatedRequest`], unless
/// `options` allows it), or the input fails (what came before it
/// stays appended); `ack`'s errors; write failures.
pub fn infer<E: From<Error>>(
    store: &mut dyn Store,
    model: &str,
    deployment: &str,
    options: InferOptions,
    input: impl Read + Send + 'static,
    format: FormatAcks,
    ack: &mut dyn FnMut(&str, u64) -> Result<(), E>,
) -> Result<InferSummary, E> {
    let policy = store.policy()?;
    let release = resolve_release(store, model, deployment)?;
    let seed = store.open_chain(deployment)?;
    let writer_chain = ReceiptChain::from_seed(&policy, &seed);
    let mut maker_chain = ReceiptChain::from_seed(&policy, &seed);
    drop(seed);
    let max = options.batch_size;
    let start_head = store.head(deployment)?;
    store.bulk_appends()?;
    // Checkpoints run on their own thread and connection, off the writer's path.
    let (ckpt_tx, ckpt_rx) = mpsc::sync_channel::<()>(1);
    let ckpt_thread = store.checkpointer()?.map(|checkpointer| {
        std::thread::spawn(move || {
            while ckpt_rx.recv().is_ok() {
                // A failed checkpoint loses nothing: the frames stay for the next one.
                let _ = checkpointer.checkpoint();
            }
            let _ = checkpointer.checkpoint();
        })
    });
    let rebase: Arc<Rebase> = Arc::default();
    // What is in flight bounds the memory (docs/CLI.md): up to two parsed chunks ahead of the
    // maker and one made batch ahead of the writer keep every thread busy; deeper queues
    // (four and two) only held 70 MB more at the default batch size, no faster.
    let (line_tx, line_rx) = mpsc::sync_channel::<Chunk>(2);
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Result<MadeBatch, Error>>(1);
    std::thread::spawn(move || read_lines(input, &line_tx, max));
    let maker_rebase = Arc::clone(&rebase);
    std::thread::spawn(move || {
        make_batches(
            &line_rx,
            &batch_tx,
            &maker_rebase,
            &mut maker_chain,
            (release, start_head),
            (max, format),
        );
    });
    let mut writer = WriterStage {
        deployment,
        release,
        chain: writer_chain,
        unique_ids: options.request_ids == RequestIds::Unique,
        summary: InferSummary {
            appended: 0,
            head: start_head,
        },
    };
    // The writer is the pipeline's bottleneck; freeing a committed batch (a dozen
    // allocations a receipt, made on other threads) is left to a thread of its own. The
    // channel holds one batch: if that thread falls behind, the writer waits.
    let (spent_tx, spent_rx) = mpsc::sync_channel::<Spent>(1);
    let spent_thread = std::thread::spawn(move || {
        for spent in spent_rx {
            drop(spent);
        }
    });
    let result: Result<Option<Error>, E> = (|| {
        // The writer.
        while let Ok(batch) = batch_rx.recv() {
            let MadeBatch {
                lines,
                base,
                receipts,
                mut acks,
            } = match batch {
                Ok(b) => b,
                Err(e) => return Ok(Some(e)),
            };
            let (committed, remade) = match writer.commit(&mut *store, &lines, base, receipts) {
                Ok(c) => c,
                // Refused as a malformed line is: what came before stays appended.
                Err(e @ Error::RepeatedRequest { .. }) => return Ok(Some(e)),
                Err(e) => return Err(e.into()),
            };
            if remade && let Ok(mut g) = rebase.lock() {
                *g = Some(writer.summary.head);
            }
            // Committed and durable: acknowledge.
            if remade {
                acks.clear();
                format(&committed, &mut acks);
            }
            // Wake the checkpointer (if it is busy, it will see these frames next time).
            let _ = ckpt_tx.try_send(());
            ack(&acks, writer.summary.appended)?;
            // Dropped here if the freeing thread is gone.
            let _ = spent_tx.send((lines, committed, acks));
        }
        Ok(None)
    })();
    drop(spent_tx);
    let _ = spent_thread.join();
    drop(ckpt_tx);
    if let Some(t) = ckpt_thread {
        let _ = t.join();
    }
    if let Some(e) = result? {
        return Err(Error::Interrupted {
            source: Box::new(e),
            appended: writer.summary.appended,
        }
        .into());
    }
    Ok(writer.summary)
}

/// The sizes of a pipeline's transactions: the first [`Ramp::FIRST`] receipts (or the batch
/// size, if smaller), then twice as many each time up to the batch size. The writer waits
/// for the first batch to be made, and the commit of the last one is not overlapped with
/// anything, so a small first batch starts the writer early; large batches after it keep the
/// cost per commit low.
#[derive(Debug, Clone, Copy)]
struct Ramp {
    current: usize,
    max: usize,
}

impl Ramp {
    /// The first transaction's size.
    const FIRST: usize = 1024;

    fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            current: Self::FIRST.min(max),
            max,
        }
    }

    fn current(self) -> usize {
        self.current
    }

    fn grow(&mut self) {
        self.current = self.current.saturating_mul(2).min(self.max);
    }
}

/// The maker thread of [`infer`]: groups parsed lines into batches of up to `max` and makes
/// their receipts after the head it expects (or the one the writer rebased it to).
fn make_batches(
    line_rx: &mpsc::Receiver<Chunk>,
    batch_tx: &mpsc::SyncSender<Result<MadeBatch, Error>>,
    rebase: &Rebase,
    chain: &mut ReceiptChain,
    (release, mut expected): (Release, Option<ChainHead>),
    (max, format): (usize, FormatAcks),
) {
    let mut sizes = Ramp::new(max);
    let mut pending: Vec<RequestLine> = Vec::new();
    let mut failure = None;
    let mut open = true;
    loop {
        let max = sizes.current();
        // Wait for input only when nothing is pending; then take what has arrived, up to this
        // transaction's size. Chunks come in any size up to the batch size, so what is
        // pending may pass it: the rest waits for the next transaction.
        if pending.is_empty() && failure.is_none() && open {
            match line_rx.recv() {
                Ok(Ok(chunk)) => pending.extend(chunk),
                Ok(Err(e)) => failure = Some(e),
                Err(_) => open = false,
            }
        }
        while pending.len() < max && failure.is_none() && open {
            match line_rx.try_recv() {
                Ok(Ok(chunk)) => pending.extend(chunk),
                Ok(Err(e)) => failure = Some(e),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => open = false,
            }
        }
        if !pending.is_empty() {
            let rest = if pending.len() > max {
                pending.split_off(max)
            } else {
                Vec::new()
            };
            let mut lines = std::mem::replace(&mut pending, rest);
            if let Some(h) = rebase.lock().ok().and_then(|mut g| g.take()) {
                expected = h;
            }
            let made = match make_receipts_moving(chain, release, expected, &mut lines) {
                Ok(m) => m,
                Err(e) => {
                    let _ = batch_tx.send(Err(e));
                    return;
                }
            };
            let base = expected;
            let mut acks = String::with_capacity(made.len().saturating_mul(96));
            for r in &made {
                format(std::slice::from_ref(&r.stored), &mut acks);
            }
            if let Some(last) = made.last() {
                expected = Some(ChainHead {
                    sequence: last.stored.sequence,
                    digest: last.stored.digest,
                });
            }
            let batch = MadeBatch {
                lines,
                base,
                receipts: made,
                acks,
            };
            if batch_tx.send(Ok(batch)).is_err() {
                return;
            }
            sizes.grow();
        }
        // The input's failure or end, once every line before it is made.
        if pending.is_empty() {
            if let Some(e) = failure.take() {
                let _ = batch_tx.send(Err(e));
                return;
            }
            if !open {
                return;
            }
        }
    }
}
