//! Unit tests of the fused receipt parser: the same value as `serde_json` plus the strict
//! check wherever it answers, and no answer wherever those refuse.

use lcm_crypto::{CommitmentScheme, Digest};
use serde_json::{Value, json};

use super::*;
use crate::records::{InferenceCommitment, InferenceReceipt};
use crate::strict::check_json_nesting;
use crate::{Claimed, Timestamp};

fn commitment(seed: u8, scheme: CommitmentScheme, metadata: Value) -> InferenceCommitment {
    let Value::Object(metadata) = metadata else {
        panic!("metadata is an object")
    };
    InferenceCommitment {
        scheme,
        value: Digest::from_bytes([seed; 32]),
        metadata,
        plaintext: (scheme == CommitmentScheme::Plaintext).then(|| "a \"quoted\"\n é 😀".into()),
    }
}

/// Receipts with every field in use: escapes in strings (not in keys), nested metadata with
/// every kind of value and number, explanation digests, a first and a later receipt.
fn receipts() -> Vec<Claimed<InferenceReceipt>> {
    let metadata = [
        json!({}),
        json!({"confidence": 0.95}),
        json!({"query_length": 150, "content_type": "text"}),
        json!({"nested": {"z": [1, 2.5, null, true, false, -0.0], "a": {"é": -3}}, "big": 18446744073709551615u64, "neg": -9223372036854775808i64, "tiny": 1e-7, "s": "tab\tquote\"\u{1}"}),
        json!({"deep": [[[[{"x": [[]]}]]]], "e": 1e23}),
    ];
    let mut out = Vec::new();
    for (i, m) in metadata.iter().enumerate() {
        let k = u8::try_from(i).unwrap();
        let scheme = [
            CommitmentScheme::Salted,
            CommitmentScheme::Hmac,
            CommitmentScheme::Plaintext,
        ][i % 3];
        let record = InferenceReceipt {
            receipt_id: ["inf_001", "", "id \"q\" \\ \n", "漢字", "x"][i].into(),
            sequence: [0, 1, 10, 1 << 40, u64::MAX][i],
            model_anchor: Digest::from_bytes([k; 32]),
            deployment_anchor: Digest::from_bytes([0xa0 | k; 32]),
            request_id: format!("req_{i}"),
            input_commitment: commitment(3, scheme, m.clone()),
            output_commitment: commitment(4, CommitmentScheme::Salted, metadata[4 - i].clone()),
            explanation_digests: (0..i)
                .map(|j| Digest::from_bytes([0x10 + k + u8::try_from(j).unwrap(); 32]))
                .collect(),
            prev_receipt: (i > 0).then(|| Digest::from_bytes([0xfe; 32])),
            timestamp: Timestamp::from_unix_micros(1_767_323_045_678_901 + i64::from(k)),
        };
        out.push(Claimed {
            record,
            digest: Digest::from_bytes([0x5a ^ k; 32]),
        });
    }
    out
}

/// What the general path makes of `bytes`: the receipt, when `serde_json` parses it and the
/// strict check passes, with its nesting.
fn general(bytes: &[u8]) -> Option<(Claimed<InferenceReceipt>, usize)> {
    let r = serde_json::from_slice::<Claimed<InferenceReceipt>>(bytes).ok()?;
    let nesting = check_json_nesting(bytes).ok()?;
    Some((r, nesting))
}

/// `claimed_receipt` answers `want` for `bytes`; any answer agrees with the general path.
#[track_caller]
fn check(bytes: &[u8], want: bool) {
    let fast = claimed_receipt(bytes);
    assert_eq!(fast.is_some(), want, "{}", String::from_utf8_lossy(bytes));
    agrees(bytes, fast);
}

/// Whatever `claimed_receipt` accepted, the general path accepts as the same receipt.
#[track_caller]
fn agrees(bytes: &[u8], fast: Option<Parsed>) {
    if let Some(p) = fast {
        let (r, nesting) = general(&bytes[..p.len])
            .unwrap_or_else(|| panic!("accepted: {}", String::from_utf8_lossy(bytes)));
        assert_eq!(p.receipt, r);
        assert_eq!(p.nesting, nesting);
    }
}

#[test]
fn every_field_reads_as_serde_json_reads_it() {
    for r in receipts() {
        let compact = serde_json::to_vec(&r).unwrap();
        let pretty = serde_json::to_vec_pretty(&r).unwrap();
        for bytes in [compact, pretty] {
            check(&bytes, true);
            assert_eq!(claimed_receipt(&bytes).unwrap().len, bytes.len());
            // What follows the receipt is not read.
            let mut more = bytes.clone();
            more.extend_from_slice(b" ,{\"next\"");
            assert_eq!(claimed_receipt(&more).unwrap().len, bytes.len());
        }
    }
}

#[test]
fn what_the_strict_check_or_the_parser_refuses_gets_no_answer() {
    let r = serde_json::to_string(&receipts()[1]).unwrap();
    let twins = [
        // A repeated key in the metadata, and in a struct.
        r.replace(
            r#"{"confidence":0.95}"#,
            r#"{"confidence":0.95,"confidence":0.5}"#,
        ),
        r.replace(r#""sequence":1,"#, r#""sequence":1,"sequence":1,"#),
        r.replace(r#""digest":"#, r#""record":null,"digest":"#),
        // Numbers an f64 does not hold, or a u64 does not.
        r.replace("0.95", "0.95000000000000000001"),
        r.replace("0.95", "123456789012345678901234567890"),
        r.replace("0.95", "1e999"),
        r.replace(r#""sequence":1,"#, r#""sequence":1.0,"#),
        r.replace(r#""sequence":1,"#, r#""sequence":01,"#),
        r.replace(r#""sequence":1,"#, r#""sequence":18446744073709551616,"#),
        r.replace(r#""sequence":1,"#, r#""sequence":-1,"#),
        // An unknown, a missing field, a digest in capitals or short, a bad scheme or time.
        r.replace(r#""sequence":1,"#, r#""sequence":1,"extra":1,"#),
        r.replace(r#""sequence":1,"#, ""),
        r.replace(&"fe".repeat(32), &"FE".repeat(32)),
        r.replace(&"fe".repeat(32), &"fe".repeat(31)),
        r.replace("\"salted\"", "\"Salted\""),
        r.replace(".678902Z", ".678902"),
        // A control character in a string; a key with an escape (left to serde_json).
        r.replace("req_1", "req\u{1}1"),
        r.replace("\"confidence\"", "\"\\u0063onfidence\""),
        // The record written as an array of its fields.
        format!("[{}]", r),
    ];
    for twin in twins {
        assert_ne!(twin, r);
        check(twin.as_bytes(), false);
    }
    // Cut anywhere, it is not read.
    for end in 0..r.len() {
        check(&r.as_bytes()[..end], false);
    }
    // Read as input notation, every digest and time goes to `Deserialize`.
    check(r.as_bytes(), true);
    Digest::accepting_input(|| check(r.as_bytes(), false));
    Timestamp::accepting_rfc3339(|| check(r.as_bytes(), false));
}

/// Every one-byte change of every receipt (replaced by a byte of JSON's syntax or another,
/// removed, repeated): whatever is still accepted, the general path reads the same way.
#[test]
fn one_byte_changes_are_read_as_the_general_path_reads_them() {
    let mut accepted = 0usize;
    for r in receipts() {
        let bytes = serde_json::to_vec(&r).unwrap();
        for t in crate::strict::reader::one_byte_changes(&bytes) {
            let fast = claimed_receipt(&t);
            accepted += usize::from(fast.is_some());
            agrees(&t, fast);
        }
    }
    // Some changes keep a receipt (another digit of a digest, a letter of an id).
    assert!(accepted > 1000, "{accepted}");
}
