//! Differential tests: the streamed verifier ([`stream::stream_in_chunks`], read a few bytes
//! at a time or in big reads) against the in-memory one ([`verify_bundle_json`]) on bundles
//! mutated at random, and the regression tests of the divergences found that way.
//!
//! What must hold for any bytes: the streamed verifier never accepts what the in-memory one
//! rejects, and when it accepts, its report is the in-memory one. It may reject what the
//! in-memory one accepts only where its documentation says so (a non-strict value, a
//! `lifecycle` before the `header`, a walked record written as an array). When both reject
//! and the in-memory report is not a parse failure, the reports are the same.

use std::io::Cursor;

use lcm_crypto::{Seed, SigningKey, VerifyingKey};
use proptest::prelude::*;

use super::tests::golden;
use super::*;

fn streamed(bytes: &[u8], key: &VerifyingKey, read: usize) -> Result<Report, VerificationFailed> {
    stream::stream_in_chunks(
        Cursor::new(bytes),
        key,
        &PolicyRequirements::default(),
        &mut |_| {},
        PROGRESS_CHUNK,
        read,
    )
}

/// The single check of a document that does not parse.
fn parse_failed(result: &Result<Report, VerificationFailed>) -> bool {
    result
        .as_ref()
        .err()
        .is_some_and(|f| f.report.checks.iter().any(|c| c.name == "document parses"))
}

/// The properties of the module's documentation, for `bytes` read `read` bytes at a time.
fn agree(bytes: &[u8], key: &VerifyingKey, read: usize) -> Result<(), TestCaseError> {
    let s = streamed(bytes, key, read);
    let Ok(text) = std::str::from_utf8(bytes) else {
        prop_assert!(parse_failed(&s), "not UTF-8, streamed: {s:?}");
        return Ok(());
    };
    let m = verify_bundle_json(text, key, &PolicyRequirements::default());
    if s.is_ok() {
        prop_assert_eq!(&s, &m, "the streamed verifier accepts");
        return Ok(());
    }
    // What the streamed verifier refuses as a document and the in-memory one does not.
    let documented = || {
        lcm_model::strict::check_json(text).is_err()
            || s.as_ref().err().is_some_and(|f| {
                f.report.checks.iter().any(|c| {
                    matches!(&c.outcome, Err(CheckError::Parse { message })
                        if message == stream::OUT_OF_ORDER || message == scan::NOT_WALKED)
                })
            })
    };
    if m.is_ok() {
        prop_assert!(documented(), "only the in-memory verifier accepts: {s:?}");
        return Ok(());
    }
    // Both reject. A document the in-memory verifier cannot parse is not parsed by the
    // streamed one either (the wording of a parse failure is the parser's, and may differ).
    if parse_failed(&m) {
        prop_assert!(parse_failed(&s), "in memory: {m:?}\nstreamed: {s:?}");
        return Ok(());
    }
    if parse_failed(&s) {
        prop_assert!(
            documented(),
            "only the streamed verifier fails to parse: {s:?}"
        );
        return Ok(());
    }
    prop_assert_eq!(&s, &m, "both reject");
    Ok(())
}

/// One change to the bytes of a bundle.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at (a fraction of the length) with a value.
    Flip(f64, u8),
    /// Delete `len` bytes from a position.
    Delete(f64, usize),
    /// Repeat `len` bytes from a position right after themselves.
    Duplicate(f64, usize),
    /// Insert JSON white space (or CR LF) after a structural character.
    Whitespace(f64, &'static str),
    /// Write the `n`-th character inside a string as a four-digit `\u` escape (same value).
    Escape(f64),
    /// Insert a character into a string, as an escape or raw.
    Unicode(f64, char, bool),
    /// Cut the document at a position.
    Truncate(f64),
    /// Append bytes.
    Append(Vec<u8>),
}

fn at(fraction: f64, len: usize) -> usize {
    // The fraction is in [0, 1): the product is a valid index for a non-empty length.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = (fraction * len as f64) as usize;
    i.min(len.saturating_sub(1))
}

/// The indices of the bytes inside strings (not escapes, not quotes), of characters matching
/// `pick`.
fn string_bytes(b: &[u8], pick: impl Fn(u8) -> bool) -> Vec<usize> {
    let (mut inside, mut escaped, mut out) = (false, false, Vec::new());
    for (i, &c) in b.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == b'\\' && inside {
            escaped = true;
        } else if c == b'"' {
            inside = !inside;
        } else if inside && pick(c) {
            out.push(i);
        }
    }
    out
}

impl Mutation {
    fn apply(&self, b: &mut Vec<u8>) {
        if b.is_empty() {
            return;
        }
        match self {
            Self::Flip(f, x) => {
                let i = at(*f, b.len());
                b[i] ^= x.max(&1);
            }
            Self::Delete(f, len) => {
                let i = at(*f, b.len());
                b.drain(i..(i + len).min(b.len()));
            }
            Self::Duplicate(f, len) => {
                let i = at(*f, b.len());
                let part = b[i..(i + len).min(b.len())].to_vec();
                b.splice(i..i, part);
            }
            Self::Whitespace(f, ws) => {
                let marks: Vec<usize> = (0..b.len())
                    .filter(|&i| matches!(b[i], b'{' | b'[' | b',' | b':'))
                    .collect();
                if !marks.is_empty() {
                    let i = marks[at(*f, marks.len())] + 1;
                    b.splice(i..i, ws.bytes());
                }
            }
            Self::Escape(f) => {
                let spots = string_bytes(b, |c| c.is_ascii_alphanumeric() || c == b'_');
                if !spots.is_empty() {
                    let i = spots[at(*f, spots.len())];
                    let esc = format!("\\u{:04x}", b[i]);
                    b.splice(i..=i, esc.bytes());
                }
            }
            Self::Unicode(f, c, escape) => {
                let spots = string_bytes(b, |_| true);
                if !spots.is_empty() {
                    let i = spots[at(*f, spots.len())];
                    let text = if *escape {
                        let mut units = [0u16; 2];
                        c.encode_utf16(&mut units)
                            .iter()
                            .map(|u| format!("\\u{u:04x}"))
                            .collect()
                    } else {
                        c.to_string()
                    };
                    b.splice(i..i, text.bytes());
                }
            }
            Self::Truncate(f) => b.truncate(at(*f, b.len())),
            Self::Append(extra) => b.extend_from_slice(extra),
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fraction = 0.0..1.0f64;
    prop_oneof![
        (fraction.clone(), any::<u8>()).prop_map(|(f, x)| Mutation::Flip(f, x)),
        (fraction.clone(), 1..64usize).prop_map(|(f, n)| Mutation::Delete(f, n)),
        (fraction.clone(), 1..64usize).prop_map(|(f, n)| Mutation::Duplicate(f, n)),
        (
            fraction.clone(),
            prop::sample::select(vec![" ", "\n", "\r\n", "\t", " \r\n\t "])
        )
            .prop_map(|(f, w)| Mutation::Whitespace(f, w)),
        fraction.clone().prop_map(Mutation::Escape),
        (fraction.clone(), any::<char>(), any::<bool>())
            .prop_map(|(f, c, e)| Mutation::Unicode(f, c, e)),
        fraction.prop_map(Mutation::Truncate),
        prop::collection::vec(
            prop::sample::select(vec![
                b' ', b'\n', b'x', b'{', b'}', b'[', b']', b'"', b'0', b',', 0, 0xff, 0xef
            ]),
            1..8
        )
        .prop_map(Mutation::Append),
    ]
}

/// The golden bundle as text: its top-level keys and its lifecycle's keys in the given
/// orders (a permutation of indices), compact or pretty.
fn document(bundle: &Bundle, top: &[usize], inner: &[usize], pretty: bool) -> Vec<u8> {
    let enc = |v: &dyn erased::Json| v.text(pretty);
    let l = &bundle.lifecycle;
    let lifecycle: [(&str, String); 8] = [
        ("dataset", enc(&l.dataset)),
        ("model", enc(&l.model)),
        ("training", enc(&l.training)),
        ("predeployment", enc(&l.predeployment)),
        ("deployment", enc(&l.deployment)),
        ("test_evaluation", enc(&l.test_evaluation)),
        ("inference", enc(&l.inference)),
        ("release", enc(&l.release)),
    ];
    let object = |members: Vec<(&str, String)>| {
        let sep = if pretty { ",\n" } else { "," };
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", body.join(sep))
    };
    let lifecycle = object(inner.iter().map(|&i| lifecycle[i].clone()).collect());
    let top_members: [(&str, String); 3] = [
        ("bundle_version", enc(&bundle.bundle_version)),
        ("header", enc(&bundle.header)),
        ("lifecycle", lifecycle),
    ];
    object(top.iter().map(|&i| top_members[i].clone()).collect()).into_bytes()
}

/// Any serializable record, encoded compact or pretty.
mod erased {
    pub(super) trait Json {
        fn text(&self, pretty: bool) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn text(&self, pretty: bool) -> String {
            if pretty {
                serde_json::to_string_pretty(self).unwrap()
            } else {
                serde_json::to_string(self).unwrap()
            }
        }
    }
}

fn permutation(n: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..n).collect::<Vec<_>>()).prop_shuffle()
}

proptest! {
    /// Random mutations of the golden bundle, read in random chunk sizes: the two verifiers
    /// agree (see the module's documentation).
    #[test]
    fn streamed_and_in_memory_agree(
        top in prop_oneof![Just(vec![0, 1, 2]), permutation(3)],
        inner in prop_oneof![Just((0..8).collect::<Vec<_>>()), permutation(8)],
        pretty in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 0..4),
        read in prop_oneof![1..64usize, Just(scan::CHUNK)],
    ) {
        let (bundle, key) = golden();
        let mut bytes = document(&bundle, &top, &inner, pretty);
        for m in &mutations {
            m.apply(&mut bytes);
        }
        agree(&bytes, &key, read)?;
    }
}

/// The fixed inputs of the review: each one agrees read whole and a few bytes at a time.
#[track_caller]
fn agrees(bytes: &[u8], key: &VerifyingKey) {
    for read in [1, 3, 7, scan::CHUNK] {
        if let Err(e) = agree(bytes, key, read) {
            panic!("read {read} at a time: {e}");
        }
    }
}

/// `text` with `member` inserted as the first member of the object opened by the first (or
/// the last) `marker`.
fn insert_member(text: &str, marker: &str, last: bool, member: &str) -> String {
    let found = if last {
        text.rfind(marker)
    } else {
        text.find(marker)
    };
    let at = found.unwrap() + marker.len();
    let comma = if text[at..].starts_with('}') { "" } else { "," };
    format!("{}{member}{comma}{}", &text[..at], &text[at..])
}

fn golden_text() -> (String, VerifyingKey) {
    let (bundle, key) = golden();
    (bundle.to_json(None).unwrap(), key)
}

/// Keys written with escapes are the same keys to both verifiers.
#[test]
fn escaped_keys() {
    let (text, key) = golden_text();
    let escaped = text
        .replacen("\"header\"", "\"head\\u0065r\"", 1)
        .replacen("\"receipts\"", "\"r\\u0065ceipts\"", 1)
        .replacen("\"batches\"", "\"\\u0062atches\"", 1);
    assert!(streamed(escaped.as_bytes(), &key, scan::CHUNK).is_ok());
    agrees(escaped.as_bytes(), &key);
}

/// A key given twice at a walked level, with escapes or not, is refused by both.
#[test]
fn duplicate_keys() {
    let (text, key) = golden_text();
    let version = "\"bundle_version\":\"lcm-bundle/1\",";
    for doc in [
        text.replacen(version, &format!("{version}{version}"), 1),
        text.replacen(
            version,
            &format!("{version}\"bundle_v\\u0065rsion\":\"lcm-bundle/1\","),
            1,
        ),
        text.replacen("\"inference\":{", "\"inference\":{\"batches\":[],", 1),
    ] {
        assert!(streamed(doc.as_bytes(), &key, scan::CHUNK).is_err());
        agrees(doc.as_bytes(), &key);
    }
}

/// A byte-order mark, NUL bytes, invalid UTF-8, CR LF and a second top-level value.
#[test]
fn odd_bytes() {
    let (text, key) = golden_text();
    let mut cases: Vec<Vec<u8>> = vec![
        [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
        [text.as_bytes(), b"\0"].concat(),
        [text.as_bytes(), b" {}"].concat(),
        [text.as_bytes(), text.as_bytes()].concat(),
        text.replacen("lcm-bundle/1", "lcm-bundle/1\0", 1)
            .into_bytes(),
        text.replacen("\"header\"", "\"header\"\r\n", 1)
            .into_bytes(),
        text.replace(',', ",\r\n").into_bytes(),
    ];
    let mut invalid = text.clone().into_bytes();
    let at = text.find("lcm-bundle").unwrap();
    invalid[at] = 0xff;
    cases.push(invalid);
    for case in cases {
        agrees(&case, &key);
    }
}

/// Numbers in exotic forms inside the records.
#[test]
fn exotic_numbers() {
    let (text, key) = golden_text();
    let first = text.find("\"sequence\":").unwrap() + "\"sequence\":".len();
    for number in [
        "0.0", "-0", "1e0", "1E+0", "01", "1.", ".5", "+1", "0x1", "1e400", "NaN",
    ] {
        let end = first + text[first..].find([',', '}']).unwrap();
        let doc = format!("{}{number}{}", &text[..first], &text[end..]);
        agrees(doc.as_bytes(), &key);
    }
}

/// A huge string in a walked value (for one in a receipt, see
/// `huge_receipt_read_a_byte_at_a_time`): refused by both.
#[test]
fn huge_strings() {
    let (text, key) = golden_text();
    let long = "x".repeat(3 << 20);
    agrees(text.replacen("lcm-bundle/1", &long, 1).as_bytes(), &key);
}

/// The golden lifecycle with its last receipt's input metadata nested `depth` arrays deep,
/// resealed and signed again (with the demo's seed, whose key the fuzz checks verify with):
/// a valid bundle either way.
fn nested(depth: usize) -> (String, VerifyingKey) {
    let (bundle, _) = golden();
    let policy = bundle.header.policy.clone();
    let mut lifecycle = bundle.lifecycle;
    let group = lifecycle.inference.batches.last_mut().unwrap();
    let r = group.receipts.last_mut().unwrap();
    let mut value = Value::Null;
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    r.record
        .input_commitment
        .metadata
        .insert("deep".to_owned(), value);
    *r = Sealed::seal(r.record.clone(), &policy).unwrap().into();
    let signer = SigningKey::from_seed(&Seed::from_bytes([0x4b; 32]));
    let bundle = Bundle::new(&policy, lifecycle, bundle.header.generated_at, &signer).unwrap();
    (bundle.to_json(None).unwrap(), signer.verifying_key())
}

/// Nesting near the parser's recursion limit, inside a receipt (read in place) and inside a
/// walked record: the streamed verifier counts the levels above the value as the in-memory
/// parser does, so what one refuses as too deep the other refuses too.
#[test]
fn deep_nesting_in_a_receipt() {
    for depth in [
        100, 115, 116, 117, 118, 119, 120, 121, 122, 125, 126, 127, 128, 200,
    ] {
        let (text, key) = nested(depth);
        agrees(text.as_bytes(), &key);
    }
}

/// Unbalanced deep nesting in place of a record, and a document that is only brackets:
/// a clean parse failure, no stack overflow.
#[test]
fn deep_nesting_elsewhere() {
    let (text, key) = golden_text();
    for depth in [127, 128, 129, 100_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        agrees(text.replacen("\"lcm-bundle/1\"", &deep, 1).as_bytes(), &key);
        let open = "[".repeat(depth);
        agrees(text.replacen("\"lcm-bundle/1\"", &open, 1).as_bytes(), &key);
        agrees(deep.as_bytes(), &key);
        let objects = "{\"a\":".repeat(depth);
        agrees(objects.as_bytes(), &key);
        // Inside a receipt's metadata (its digest no longer matches: the parse fails first).
        let doc = insert_member(&text, "\"metadata\":{", true, &format!("\"deep\":{deep}"));
        agrees(doc.as_bytes(), &key);
    }
}

/// Nesting near the limit in a record read whole (the deployment's infrastructure, under
/// four objects of the document): unsealed, so the in-memory verifier's parse failure must
/// be the streamed one's too, not a digest failure.
#[test]
fn deep_nesting_in_a_record() {
    let (text, key) = golden_text();
    for depth in 118..=126 {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let member = format!("\"deep\":{deep}");
        let doc = insert_member(&text, "\"infrastructure\":{", false, &member);
        agrees(doc.as_bytes(), &key);
    }
}

/// A receipt of megabytes (a long string in its metadata) read a byte at a time: it is
/// parsed again only each time the buffer doubles, not at every read (which took time
/// quadratic in its size: hours for a receipt of a hundred megabytes).
#[test]
fn huge_receipt_read_a_byte_at_a_time() {
    let (text, key) = golden_text();
    let long = format!("\"long\":\"{}\"", "x".repeat(1 << 20));
    let doc = insert_member(&text, "\"metadata\":{", true, &long);
    let started = std::time::Instant::now();
    agrees(doc.as_bytes(), &key);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

/// `serde` reads a struct from the array of its fields: the in-memory verifier accepts a
/// bundle whose document, lifecycle, inference or batch group is written so. The streamed
/// verifier refuses it, naming why (before: "malformed JSON", a message about another thing).
#[test]
fn records_written_as_arrays() {
    let (bundle, key) = golden();
    let l = &bundle.lifecycle;
    let enc = |v: &dyn erased::Json| v.text(false);
    let fields = [
        enc(&l.dataset),
        enc(&l.model),
        enc(&l.training),
        enc(&l.predeployment),
        enc(&l.deployment),
        enc(&l.test_evaluation),
        enc(&l.inference),
        enc(&l.release),
    ];
    let lifecycle = format!("[{}]", fields.join(","));
    let version = enc(&bundle.bundle_version);
    let header = enc(&bundle.header);
    let object = format!(
        "{{\"bundle_version\":{version},\"header\":{header},\"lifecycle\":{}}}",
        enc(l)
    );
    let groups: Vec<String> = l
        .inference
        .batches
        .iter()
        .map(|g| format!("[{},{}]", enc(&g.batch), enc(&g.receipts)))
        .collect();
    let inference = format!("\"inference\":{}", enc(&l.inference));
    let cases = [
        (format!("[{version},{header},{}]", enc(l)), ""),
        (
            format!(
                "{{\"bundle_version\":{version},\"header\":{header},\"lifecycle\":{lifecycle}}}"
            ),
            "/lifecycle",
        ),
        (
            object.replacen(
                &inference,
                &format!("\"inference\":[{}]", enc(&l.inference.batches)),
                1,
            ),
            "/lifecycle/inference",
        ),
        (
            object.replacen(
                &inference,
                &format!("\"inference\":{{\"batches\":[{}]}}", groups.join(",")),
                1,
            ),
            "/lifecycle/inference/batches/0",
        ),
    ];
    for (doc, path) in cases {
        assert!(verify_bundle_json(&doc, &key, &PolicyRequirements::default()).is_ok());
        let failed = streamed(doc.as_bytes(), &key, scan::CHUNK).unwrap_err();
        let check = &failed.report.checks[0];
        assert_eq!(check.field, path);
        assert_eq!(
            check.outcome,
            Err(CheckError::Parse {
                message: scan::NOT_WALKED.to_owned()
            })
        );
        agrees(doc.as_bytes(), &key);
    }
}
