//! Progress reports of bundle verification over a bundle big enough for several reports.

use lcm_capsule::{
    BatchEvidence, Bundle, InferenceEvidence, PolicyRequirements, VerificationFailed,
    VerifyProgress, VerifyStage, verify_bundle, verify_bundle_json,
    verify_bundle_json_with_progress, verify_bundle_with_progress,
};
use lcm_crypto::{Committer, Seed, SigningKey, VerifyingKey};
use lcm_model::records::{InferenceCommitment, InferenceReceipt};
use lcm_model::verify::InferenceBatchBuilder;
use lcm_model::{Sealed, Timestamp};

/// The committed golden vector's bundle (the demo lifecycle).
fn golden() -> Bundle {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/vectors/lifecycle-bundle.json"))
            .expect("the vectors file is JSON");
    Bundle::from_json(&doc["bundle"].to_string()).expect("the golden bundle parses")
}

/// The golden vector's signing key (its seed is recorded in the file's `_comment`).
fn signer() -> SigningKey {
    SigningKey::from_seed(&Seed::from_bytes([0x4b; 32]))
}

/// The golden lifecycle with its receipts replaced by `groups` (sizes; the last group is
/// left open), re-signed.
fn bundle_with(groups: &[usize]) -> Bundle {
    let golden = golden();
    let policy = golden.header.policy.clone();
    let mut lifecycle = golden.lifecycle.clone();
    let committer = Committer::from_seed(
        policy.commitments,
        policy.hash_algorithm,
        &Seed::from_bytes([5; 32]),
    );
    let commit = |label: &[u8], i: u64| {
        let (c, _) = committer.commit_labeled(label, i, format!("{i}").as_bytes());
        InferenceCommitment {
            scheme: c.scheme,
            value: c.value,
            metadata: serde_json::Map::new(),
            plaintext: None,
        }
    };
    let start = golden.header.generated_at.unix_micros();
    let mut prev = None;
    let mut sequence = 0u64;
    let mut batches = Vec::new();
    for (gi, size) in groups.iter().enumerate() {
        let window = format!("w{gi}");
        let mut builder = InferenceBatchBuilder::new(&policy, &window);
        let mut receipts = Vec::with_capacity(*size);
        for _ in 0..*size {
            let record = InferenceReceipt {
                receipt_id: format!("inf_{sequence:06}"),
                sequence,
                model_anchor: lifecycle.model.digest,
                deployment_anchor: lifecycle.deployment.anchor.digest,
                request_id: format!("req_{sequence}"),
                input_commitment: commit(b"input", sequence),
                output_commitment: commit(b"output", sequence),
                explanation_digests: Vec::new(),
                prev_receipt: prev,
                timestamp: Timestamp::from_unix_micros(start + micros(sequence)),
            };
            let sealed = Sealed::seal(record, &policy).expect("the fixture is valid");
            builder.push_receipt(&sealed).expect("the fixture is valid");
            prev = Some(sealed.digest());
            sequence += 1;
            receipts.push(sealed.into());
        }
        let batch = (gi + 1 < groups.len()).then(|| {
            let batch = builder.finish().expect("the fixture is valid");
            Sealed::seal(batch, &policy)
                .expect("the fixture is valid")
                .into()
        });
        batches.push(BatchEvidence { batch, receipts });
    }
    lifecycle.inference = InferenceEvidence { batches };
    let generated_at = Timestamp::from_unix_micros(start + micros(sequence) + 1);
    Bundle::new(&policy, lifecycle, generated_at, &signer()).expect("the fixture is valid")
}

/// A receipt's offset in microseconds from the golden header's time.
fn micros(sequence: u64) -> i64 {
    i64::try_from(sequence).expect("the fixture is small")
}

type Outcome = Result<lcm_capsule::Report, VerificationFailed>;

fn with_progress(bundle: &Bundle, key: &VerifyingKey) -> (Outcome, Vec<VerifyProgress>) {
    let mut calls = Vec::new();
    let result =
        verify_bundle_with_progress(bundle, key, &PolicyRequirements::default(), &mut |p| {
            calls.push(p);
        });
    (result, calls)
}

/// Monotone, bounded, ending at the bundle's receipt count.
#[track_caller]
fn check_calls(calls: &[VerifyProgress], receipts: u64) {
    assert!(
        calls
            .windows(2)
            .all(|w| w[0].stage <= w[1].stage && w[0].done <= w[1].done),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.total == receipts && c.done <= receipts)
    );
    // A start, one call per 2^14 receipts, the header stage and the end.
    assert!(calls.len() as u64 <= receipts / (1 << 14) + 4, "{calls:?}");
    let ends = calls
        .first()
        .zip(calls.last())
        .map(|(f, l)| (f.stage, f.done, l.stage, l.done));
    assert_eq!(
        ends,
        Some((VerifyStage::Records, 0, VerifyStage::Finished, receipts))
    );
}

/// 40,000 receipts in four groups: the receipt stage reports as it goes, every count is a
/// count of receipts, and the report is the one of `verify_bundle`.
#[test]
fn progress_over_a_big_bundle() {
    let bundle = bundle_with(&[20_000, 7, 16_384, 3_609]);
    let key = signer().verifying_key();
    let (result, calls) = with_progress(&bundle, &key);
    let plain = verify_bundle(&bundle, &key, &PolicyRequirements::default());
    assert!(plain.is_ok(), "{plain:?}");
    assert_eq!(result, plain);
    check_calls(&calls, 40_000);
    let during: Vec<u64> = calls
        .iter()
        .filter(|c| c.stage == VerifyStage::Receipts)
        .map(|c| c.done)
        .collect();
    // A call once 2^14 receipts have been checked since the last one, at a chunk's end.
    assert_eq!(during, [0, 16_384, 36_391], "{calls:?}");
    let header = calls.iter().find(|c| c.stage == VerifyStage::Header);
    assert_eq!(header.map(|c| c.done), Some(40_000));

    // The same through JSON: a parse call first, then the same calls.
    let text = bundle.to_json(None).unwrap();
    let mut json_calls = Vec::new();
    let from_json =
        verify_bundle_json_with_progress(&text, &key, &PolicyRequirements::default(), &mut |p| {
            json_calls.push(p);
        });
    assert_eq!(
        from_json,
        verify_bundle_json(&text, &key, &PolicyRequirements::default())
    );
    assert_eq!(from_json, plain);
    assert_eq!(
        json_calls.first().map(|c| (c.stage, c.done, c.total)),
        Some((VerifyStage::Parse, 0, 0))
    );
    assert_eq!(json_calls[1..], calls[..]);
}

/// Tampered bundles fail with the same report with and without the callback, and the
/// progress still ends at the receipt count.
#[test]
fn tampered_bundles_fail_the_same_with_progress() {
    let bundle = bundle_with(&[17_000, 17_000, 100]);
    let key = signer().verifying_key();
    type Tamper = fn(&mut Bundle);
    let tampers: [(&str, Tamper); 5] = [
        ("an edited receipt after the first chunk", |b| {
            b.lifecycle.inference.batches[0].receipts[16_500]
                .record
                .request_id = "edited".into();
        }),
        ("a repeat across the first chunk's end", |b| {
            let r = b.lifecycle.inference.batches[1].receipts[10].clone();
            b.lifecycle.inference.batches[1].receipts.insert(16_390, r);
        }),
        ("a dropped receipt", |b| {
            b.lifecycle.inference.batches[1].receipts.remove(16_384);
        }),
        ("an edited batch", |b| {
            if let Some(batch) = &mut b.lifecycle.inference.batches[1].batch {
                batch.record.count += 1;
            }
        }),
        ("an edited header", |b| b.header.stage_g_inference = None),
    ];
    for (what, tamper) in tampers {
        let mut b = bundle.clone();
        tamper(&mut b);
        let receipts = b.lifecycle.inference.receipts().count() as u64;
        let (result, calls) = with_progress(&b, &key);
        let plain = verify_bundle(&b, &key, &PolicyRequirements::default());
        assert!(plain.is_err(), "{what}");
        assert_eq!(result, plain, "{what}");
        check_calls(&calls, receipts);
    }
}
