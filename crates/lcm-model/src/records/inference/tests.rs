//! Unit tests of `lcm_model::records::inference`.

use lcm_crypto::HashAlgorithm;

use super::*;
use crate::canonical;

fn commitment(seed: u8, scheme: CommitmentScheme) -> InferenceCommitment {
    InferenceCommitment {
        scheme,
        value: Digest::from_bytes([seed; 32]),
        metadata: Map::new(),
        plaintext: None,
    }
}

fn receipt(i: u64) -> InferenceReceipt {
    InferenceReceipt {
        receipt_id: format!("inf_{i:03}"),
        sequence: i,
        model_anchor: Digest::from_bytes([1; 32]),
        deployment_anchor: Digest::from_bytes([2; 32]),
        request_id: format!("req_{i}"),
        input_commitment: commitment(3, CommitmentScheme::Salted),
        output_commitment: commitment(4, CommitmentScheme::Salted),
        explanation_digests: Vec::new(),
        prev_receipt: None,
        timestamp: Timestamp::from_unix_micros(1_767_323_045_678_901),
    }
}

/// Strings that exercise every escape of the canonical writer.
const NASTY: &[&str] = &[
    "",
    "plain",
    "quote\"backslash\\",
    "line\nfeed\rtab\tbs\u{8}ff\u{c}",
    "ctl\u{0}\u{1}\u{1f}\u{7f}",
    "unicode é ü 漢字 \u{2028}\u{2029} 😀",
    "slash/</script>",
    "{\"json\":[1,2]}",
];

fn variants() -> Vec<InferenceReceipt> {
    let mut out = Vec::new();
    for (i, s) in NASTY.iter().enumerate() {
        let i = u64::try_from(i).unwrap();
        let mut r = receipt(i);
        r.receipt_id = (*s).to_owned();
        r.request_id = format!("{s}{s}");
        r.sequence =
            [0, 1, 9, 10, 99, 1 << 32, u64::MAX - 1, u64::MAX][usize::try_from(i).unwrap()];
        r.prev_receipt = (i % 2 == 1).then(|| Digest::from_bytes([u8::try_from(i).unwrap(); 32]));
        r.explanation_digests = (0..i % 3)
            .map(|k| Digest::from_bytes([u8::try_from(k).unwrap() + 9; 32]))
            .collect();
        r.timestamp = Timestamp::from_unix_micros(i64::try_from(i).unwrap() * 1_000_003 - 5);
        r.input_commitment
            .metadata
            .insert((*s).to_owned(), Value::String((*s).to_owned()));
        r.input_commitment
            .metadata
            .insert("query_length".into(), 150.into());
        r.output_commitment
            .metadata
            .insert("confidence".into(), serde_json::json!(0.95));
        r.output_commitment.metadata.insert(
            "nested".into(),
            serde_json::json!({"z": [1, 2.5, null, true], "a": {"é": -3}}),
        );
        if i % 2 == 0 {
            r.input_commitment.scheme = CommitmentScheme::Plaintext;
            r.input_commitment.plaintext = Some((*s).to_owned());
            r.output_commitment.scheme = CommitmentScheme::Hmac;
        }
        out.push(r);
    }
    out
}

#[test]
fn hand_written_encoding_is_the_canonical_encoding() {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        let policy = Policy {
            hash_algorithm: alg,
            ..Policy::default()
        };
        let mut enc = ReceiptEncoder::new(&policy);
        let mut all = variants();
        all.extend((0..200).map(|i| {
            let mut r = receipt(i);
            r.prev_receipt = Some(Digest::from_bytes([u8::try_from(i % 251).unwrap(); 32]));
            r
        }));
        for r in &all {
            let expected = canonical::to_vec(r).unwrap();
            assert_eq!(
                enc.encode(r).unwrap(),
                expected.as_slice(),
                "{}",
                String::from_utf8_lossy(&expected)
            );
            assert_eq!(enc.digest(r).unwrap(), r.digest(&policy).unwrap());
        }
    }
}

#[test]
fn timestamp_text_is_display() {
    let mut us: Vec<i64> = vec![
        0,
        -1,
        1,
        1_767_323_045_678_901,
        951_782_400_000_000,
        951_868_799_999_999,
        -62_167_219_200_000_000,
        253_402_300_800_000_000 - 1,
        4_102_444_800_000_000,
    ];
    // A walk over the whole range with an odd step, hitting every month and leap rule.
    let mut t: i64 = -62_167_219_200_000_000;
    while t < 253_402_300_800_000_000 {
        us.push(t);
        t += 86_399_999_997 * 13 + 7;
    }
    for u in us {
        let ts = Timestamp::from_unix_micros(u);
        assert_eq!(
            timestamp_text(ts).as_slice(),
            ts.to_string().as_bytes(),
            "{u}"
        );
    }
}

fn arb_digest() -> impl proptest::strategy::Strategy<Value = Digest> {
    use proptest::prelude::*;
    any::<[u8; 32]>().prop_map(Digest::from_bytes)
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_commitment() -> impl proptest::strategy::Strategy<Value = InferenceCommitment> {
    use proptest::prelude::*;
    (
        prop_oneof![
            Just(CommitmentScheme::Hmac),
            Just(CommitmentScheme::Salted),
            Just(CommitmentScheme::Plaintext)
        ],
        arb_digest(),
        proptest::collection::btree_map(any::<String>(), arb_json(), 0..4),
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(scheme, value, metadata, plaintext)| InferenceCommitment {
            scheme,
            value,
            metadata: metadata.into_iter().collect(),
            plaintext,
        })
}

proptest::proptest! {
    /// The hand-written encoder is the generic canonical encoder on arbitrary receipts:
    /// any Unicode (control characters included) in every string and metadata key, any
    /// JSON in the metadata, any sequence number, timestamp and digests.
    #[test]
    fn hand_written_encoding_matches_on_arbitrary_receipts(
        receipt_id in proptest::prelude::any::<String>(),
        request_id in proptest::prelude::any::<String>(),
        sequence in proptest::prelude::any::<u64>(),
        model_anchor in arb_digest(),
        deployment_anchor in arb_digest(),
        input_commitment in arb_commitment(),
        output_commitment in arb_commitment(),
        explanation_digests in proptest::collection::vec(arb_digest(), 0..3),
        prev_receipt in proptest::option::of(arb_digest()),
        micros in proptest::prelude::any::<i64>(),
    ) {
        let r = InferenceReceipt {
            receipt_id,
            sequence,
            model_anchor,
            deployment_anchor,
            request_id,
            input_commitment,
            output_commitment,
            explanation_digests,
            prev_receipt,
            timestamp: Timestamp::from_unix_micros(micros),
        };
        let policy = Policy::default();
        let mut enc = ReceiptEncoder::new(&policy);
        let expected = canonical::to_vec(&r).unwrap();
        proptest::prop_assert_eq!(enc.encode(&r).unwrap(), expected.as_slice());
        proptest::prop_assert_eq!(enc.digest(&r).unwrap(), r.digest(&policy).unwrap());
    }
}

#[test]
fn every_field_changes_the_digest() {
    let p = Policy::default();
    let base = receipt(5);
    let d0 = base.digest(&p).unwrap();
    let mut v: Vec<InferenceReceipt> = Vec::new();
    let mut r = base.clone();
    r.receipt_id.push('x');
    v.push(r);
    let mut r = base.clone();
    r.sequence += 1;
    v.push(r);
    let mut r = base.clone();
    r.model_anchor = Digest::from_bytes([9; 32]);
    v.push(r);
    let mut r = base.clone();
    r.deployment_anchor = Digest::from_bytes([9; 32]);
    v.push(r);
    let mut r = base.clone();
    r.request_id.push('x');
    v.push(r);
    let mut r = base.clone();
    r.input_commitment.value = Digest::from_bytes([9; 32]);
    v.push(r);
    let mut r = base.clone();
    r.output_commitment.metadata.insert("k".into(), 1.into());
    v.push(r);
    let mut r = base.clone();
    r.explanation_digests.push(Digest::from_bytes([0; 32]));
    v.push(r);
    let mut r = base.clone();
    r.prev_receipt = Some(Digest::from_bytes([0; 32]));
    v.push(r);
    let mut r = base.clone();
    r.timestamp = Timestamp::from_unix_micros(1);
    v.push(r);
    let mut r = base;
    std::mem::swap(&mut r.input_commitment, &mut r.output_commitment);
    v.push(r);
    for r in v {
        assert_ne!(r.digest(&p).unwrap(), d0, "{r:?}");
    }
}

#[test]
fn json_round_trip_is_strict() {
    let r = receipt(1);
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<InferenceReceipt>(&json).unwrap(), r);
    let extra = json.replacen('{', "{\"query\":\"leak\",", 1);
    assert!(serde_json::from_str::<InferenceReceipt>(&extra).is_err());
}
