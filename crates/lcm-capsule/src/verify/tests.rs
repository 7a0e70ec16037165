//! Unit tests of `lcm_capsule::verify`.

use lcm_crypto::VerifyingKey;

use super::chains::SequenceOrder;
use super::*;

/// The committed golden vector: the demo bundle (4 receipts in two groups, the second
/// open) and its signer's public key.
pub(super) fn golden() -> (Bundle, VerifyingKey) {
    let doc: Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/lifecycle-bundle.json"
    ))
    .unwrap();
    let key = doc["public_key"].as_str().unwrap().parse().unwrap();
    (Bundle::from_json(&doc["bundle"].to_string()).unwrap(), key)
}

/// The result and the progress calls of verifying `bundle` `chunk` receipts at a time.
fn run(
    bundle: &Bundle,
    key: &VerifyingKey,
    chunk: usize,
) -> (Result<Report, VerificationFailed>, Vec<VerifyProgress>) {
    let mut calls = Vec::new();
    let result = verify_in_chunks(
        bundle,
        key,
        &PolicyRequirements::default(),
        &mut |p| calls.push(p),
        chunk,
    );
    (result, calls)
}

/// The result and the progress calls of the streamed verifier on `text` (progress one
/// receipt at a time), read `read` bytes at a time.
fn run_streamed(
    text: String,
    key: &VerifyingKey,
    read: usize,
) -> (Result<Report, VerificationFailed>, Vec<VerifyProgress>) {
    let mut calls = Vec::new();
    let result = stream::stream_in_chunks(
        std::io::Cursor::new(text),
        key,
        &PolicyRequirements::default(),
        &mut |p| calls.push(p),
        1,
        read,
    );
    (result, calls)
}

/// The calls go forward, are bounded and end full.
#[track_caller]
fn check_calls(calls: &[VerifyProgress], total: u64, chunk: usize) {
    assert!(
        calls
            .windows(2)
            .all(|w| w[0].stage <= w[1].stage && w[0].done <= w[1].done)
    );
    assert!(calls.iter().all(|c| c.total == total && c.done <= total));
    assert!(calls.len() as u64 <= total / chunk as u64 + 4, "{calls:?}");
    let last = calls.last().unwrap();
    assert_eq!((last.stage, last.done), (VerifyStage::Finished, total));
}

type Tamper = fn(&mut Bundle);

/// Receipt `i` of the chain (groups of two).
fn receipt(b: &mut Bundle, i: usize) -> &mut Claimed<InferenceReceipt> {
    &mut b.lifecycle.inference.batches[i / 2].receipts[i % 2]
}

/// Checking the chain in chunks of any size gives exactly the report of checking each
/// group at once, passing or failing, also for tampering across a chunk's boundary.
#[test]
fn chunks_do_not_change_the_report() {
    let (bundle, key) = golden();
    let tampers: [(&str, Tamper); 10] = [
        ("none", |_| {}),
        ("edited receipt", |b| {
            receipt(b, 1).record.request_id = "x".into();
        }),
        // Its seal matches, and its group is open (no batch): within the group, only the
        // next receipt's link, in the next chunk, catches it.
        ("re-sealed receipt", |b| {
            let p = b.header.policy.clone();
            let r = receipt(b, 2);
            r.record.request_id = "x".into();
            *r = Sealed::seal(r.record.clone(), &p).unwrap().into();
        }),
        ("edited digest", |b| {
            receipt(b, 1).digest = Digest::from_bytes([9; 32]);
        }),
        ("repeat across chunks", |b| {
            let r = receipt(b, 0).clone();
            b.lifecycle.inference.batches[0].receipts.push(r);
        }),
        ("swapped", |b| {
            b.lifecycle.inference.batches[0].receipts.swap(0, 1);
        }),
        ("dropped", |b| {
            b.lifecycle.inference.batches[0].receipts.remove(1);
        }),
        ("dropped first", |b| {
            b.lifecycle.inference.batches[0].receipts.remove(0);
        }),
        ("link", |b| receipt(b, 3).record.prev_receipt = None),
        ("receipts moved between groups", |b| {
            let r = b.lifecycle.inference.batches[1].receipts.remove(0);
            b.lifecycle.inference.batches[0].receipts.push(r);
        }),
    ];
    for (what, tamper) in tampers {
        let mut b = bundle.clone();
        tamper(&mut b);
        let total = b.lifecycle.inference.receipts().count() as u64;
        let (whole, calls) = run(&b, &key, usize::MAX);
        check_calls(&calls, total, usize::MAX);
        assert_eq!(whole.is_ok(), what == "none", "{what}");
        for chunk in [1, 2, 3] {
            let (result, calls) = run(&b, &key, chunk);
            assert_eq!(result, whole, "{what}, chunks of {chunk}");
            check_calls(&calls, total, chunk);
        }
        // Streamed, compact and pretty: the same report.
        for indent in [None, Some(2)] {
            let (streamed, calls) = run_streamed(b.to_json(indent).unwrap(), &key, scan::CHUNK);
            assert_eq!(streamed, whole, "{what}, streamed");
            // Read a few bytes at a time: every value crosses the buffer's end somewhere.
            let (trickled, _) = run_streamed(b.to_json(indent).unwrap(), &key, 3);
            assert_eq!(trickled, whole, "{what}, streamed a few bytes at a time");
            let last = calls.last().unwrap();
            assert_eq!((last.stage, last.done), (VerifyStage::Finished, last.total));
            assert!(
                calls
                    .windows(2)
                    .all(|w| w[0].stage <= w[1].stage && w[0].done <= w[1].done)
            );
        }
    }
}

/// A streamed bundle's progress: the parse, then one call per receipt (chunks of one) out
/// of the header's count, then the header stage and the end.
#[test]
fn streamed_progress() {
    let (b, key) = golden();
    let (result, calls) = run_streamed(b.to_json(Some(2)).unwrap(), &key, scan::CHUNK);
    assert!(result.is_ok());
    let seen: Vec<(VerifyStage, u64, u64)> =
        calls.iter().map(|c| (c.stage, c.done, c.total)).collect();
    use VerifyStage::{Finished, Header, Parse, Receipts};
    assert_eq!(
        seen,
        [
            (Parse, 0, 0),
            (Receipts, 0, 4),
            (Receipts, 1, 4),
            (Receipts, 2, 4),
            (Receipts, 3, 4),
            (Receipts, 4, 4),
            (Header, 4, 4),
            (Finished, 4, 4)
        ]
    );
}

/// The sequence numbers' class: a permutation of 0..n, and where it first differs.
#[test]
fn sequence_order() {
    let classify = |seqs: &[u64]| {
        let mut o = SequenceOrder::new(seqs.len());
        seqs.iter().for_each(|s| o.see(*s));
        let gap = CheckError::ChainGap {
            index: 9,
            expected: 1,
            actual: 2,
        };
        o.classify(gap)
    };
    assert!(matches!(
        classify(&[0, 2, 1, 3]),
        CheckError::ChainOrder { index: 1, .. }
    ));
    for not_a_permutation in [&[0, 2, 3][..], &[0, 1, 1], &[0, 5, 1], &[1, 2, 3]] {
        assert!(
            matches!(
                classify(not_a_permutation),
                CheckError::ChainGap { index: 9, .. }
            ),
            "{not_a_permutation:?}"
        );
    }
}

/// A repeat across two chunks is reported as a repeat, with its index in the group.
#[test]
fn a_repeat_across_chunks_is_a_repeat() {
    let (mut b, key) = golden();
    let r = receipt(&mut b, 0).clone();
    b.lifecycle.inference.batches[0].receipts.push(r);
    let (result, _) = run(&b, &key, 2);
    let report = result.unwrap_err().report;
    let chain = report
        .checks
        .iter()
        .find(|c| c.name == "receipt chain")
        .unwrap();
    assert_eq!(chain.outcome, Err(CheckError::Duplicate { index: 2 }));
    assert_eq!(chain.field, "/lifecycle/inference/batches/0/receipts/2");
}

/// An unusable policy stops the verification early; the progress still ends full.
#[test]
fn an_early_stop_ends_full() {
    let (mut b, key) = golden();
    b.header.policy.kdf_iterations = 0;
    let (result, calls) = run(&b, &key, 1);
    assert!(result.is_err());
    assert_eq!(
        calls,
        [
            VerifyProgress {
                stage: VerifyStage::Records,
                done: 0,
                total: 4
            },
            VerifyProgress {
                stage: VerifyStage::Finished,
                done: 4,
                total: 4
            },
        ]
    );
}

/// Every stage is announced once, in order, and the receipts count one chunk at a time.
#[test]
fn stages_come_in_order() {
    let (b, key) = golden();
    let (result, calls) = run(&b, &key, 1);
    assert!(result.is_ok());
    let seen: Vec<(VerifyStage, u64)> = calls.iter().map(|c| (c.stage, c.done)).collect();
    use VerifyStage::{Finished, Header, Receipts, Records};
    assert_eq!(
        seen,
        [
            (Records, 0),
            (Receipts, 0),
            (Receipts, 1),
            (Receipts, 2),
            (Receipts, 3),
            (Receipts, 4),
            (Header, 4),
            (Finished, 4)
        ]
    );
}

/// A document that does not parse: one parse call, then the end.
#[test]
fn json_progress() {
    let (b, key) = golden();
    let text = b.to_json(None).unwrap();
    let mut calls = Vec::new();
    let plain = verify_bundle_json(&text, &key, &PolicyRequirements::default());
    let with = verify_json_in_chunks(
        &text,
        &key,
        &PolicyRequirements::default(),
        &mut |p| calls.push(p),
        1,
    );
    assert_eq!(with, plain);
    assert!(with.is_ok());
    assert_eq!(
        calls.first().map(|c| (c.stage, c.total)),
        Some((VerifyStage::Parse, 0))
    );
    check_calls(&calls[1..], 4, 1);

    let broken = text.replacen("\"sequence\":1", "\"sequence\":\"1\"", 1);
    let mut calls = Vec::new();
    let with = verify_json_in_chunks(
        &broken,
        &key,
        &PolicyRequirements::default(),
        &mut |p| calls.push(p),
        1,
    );
    assert_eq!(
        with,
        verify_bundle_json(&broken, &key, &PolicyRequirements::default())
    );
    assert!(with.is_err());
    let seen: Vec<(VerifyStage, u64, u64)> =
        calls.iter().map(|c| (c.stage, c.done, c.total)).collect();
    assert_eq!(
        seen,
        [(VerifyStage::Parse, 0, 0), (VerifyStage::Finished, 0, 0)]
    );
}

/// The outcome of the first check named `name` in the report of `bundle`.
fn outcome(bundle: &Bundle, key: &VerifyingKey, name: &str) -> Result<(), CheckError> {
    let report = match run(bundle, key, usize::MAX).0 {
        Ok(report) => report,
        Err(failed) => failed.report,
    };
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .outcome
        .clone()
}

/// The chain, history and root checks skip the seals checked before them only when
/// these all matched: a re-sealed record that breaks a binding still fails its check,
/// and an edited record still fails it with the seal mismatch it always gave.
#[test]
fn chain_checks_after_the_seals() {
    let (bundle, key) = golden();
    let p = bundle.header.policy.clone();
    for name in [
        "checkpoint chain",
        "status history",
        "training session root",
    ] {
        assert_eq!(outcome(&bundle, &key, name), Ok(()), "{name}");
    }
    type Reseal = fn(&mut Bundle, &Policy);
    let cases: [(&str, &str, Reseal); 9] = [
        ("re-sealed link", "checkpoint chain", |b, p| {
            let cp = &mut b.lifecycle.training.checkpoints[1];
            cp.record.previous = Digest::from_bytes([7; 32]);
            *cp = Sealed::seal(cp.record.clone(), p).unwrap().into();
        }),
        ("re-sealed step", "checkpoint chain", |b, p| {
            let cp = &mut b.lifecycle.training.checkpoints[1];
            cp.record.step = 0;
            *cp = Sealed::seal(cp.record.clone(), p).unwrap().into();
        }),
        ("re-sealed session", "checkpoint chain", |b, p| {
            let s = &mut b.lifecycle.training.session;
            s.record.session_id = "other".into();
            *s = Sealed::seal(s.record.clone(), p).unwrap().into();
        }),
        ("re-sealed snapshot count", "checkpoint chain", |b, p| {
            let s = &mut b.lifecycle.training.snapshot;
            s.record.checkpoint_count += 1;
            *s = Sealed::seal(s.record.clone(), p).unwrap().into();
        }),
        ("re-sealed snapshot", "training session root", |b, p| {
            let s = &mut b.lifecycle.training.snapshot;
            s.record.user_id = "other".into();
            *s = Sealed::seal(s.record.clone(), p).unwrap().into();
        }),
        ("edited checkpoint", "checkpoint chain", |b, _| {
            b.lifecycle.training.checkpoints[1].record.step += 1;
        }),
        ("edited snapshot", "training session root", |b, _| {
            b.lifecycle.training.snapshot.record.user_id = "other".into();
        }),
        ("re-sealed event", "status history", |b, p| {
            let e = &mut b.lifecycle.deployment.status_history[0];
            e.record.deployment = Digest::from_bytes([7; 32]);
            *e = Sealed::seal(e.record.clone(), p).unwrap().into();
        }),
        ("edited event", "status history", |b, _| {
            b.lifecycle.deployment.status_history[0].record.reason = "edited".into();
        }),
    ];
    let mut seen = Vec::new();
    for (what, name, tamper) in cases {
        let mut b = bundle.clone();
        tamper(&mut b, &p);
        let error = outcome(&b, &key, name).expect_err(what);
        let kind = match error {
            CheckError::ChainLink { index: 0 | 1, .. } => "link",
            CheckError::ValueMismatch { .. } => "value",
            CheckError::DigestMismatch { .. } => "digest",
            other => panic!("{what}: {other:?}"),
        };
        seen.push((what, kind));
    }
    assert_eq!(
        seen,
        [
            ("re-sealed link", "link"),
            ("re-sealed step", "value"),
            ("re-sealed session", "link"),
            ("re-sealed snapshot count", "value"),
            ("re-sealed snapshot", "digest"),
            ("edited checkpoint", "digest"),
            ("edited snapshot", "digest"),
            ("re-sealed event", "value"),
            ("edited event", "digest"),
        ]
    );
}
