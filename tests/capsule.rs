//! Lifecycle bundles end to end: the demo lifecycle of `lcm::framework` exported, verified
//! offline, and tampered with — every scalar of the bundle one at a time, and every structural
//! change — each failure naming its stage and field.

use std::sync::OnceLock;

use lcm::capsule::{
    Bundle, CheckError, PolicyRequirements, Report, Stage, VerificationFailed, verify_bundle,
    verify_bundle_json, verify_bundle_reader,
};
use lcm::crypto::{Seed, SigningKey, VerifyingKey};
use lcm::framework::{Simulation, simulate_ai_lifecycle};
use serde_json::Value;

const RECEIPTS: u64 = 4;

fn demo() -> &'static (Bundle, VerifyingKey) {
    static DEMO: OnceLock<(Bundle, VerifyingKey)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let sim = simulate_ai_lifecycle(RECEIPTS).expect("the demo lifecycle runs");
        (sim.bundle, sim.key.verifying_key())
    })
}

fn none() -> PolicyRequirements {
    PolicyRequirements::default()
}

/// `text` verified in memory and streamed: the two reports must be the same.
#[track_caller]
fn both(text: &str, key: &VerifyingKey) -> Result<Report, VerificationFailed> {
    let whole = verify_bundle_json(text, key, &none());
    let streamed = verify_bundle_reader(std::io::Cursor::new(text.as_bytes()), key, &none());
    assert_eq!(streamed, whole, "streamed and in-memory reports differ");
    whole
}

/// The stage a pointer of the bundle is about, written independently of the library's own
/// mapping.
fn expected_stage(pointer: &str) -> Stage {
    let parts: Vec<&str> = pointer.split('/').collect();
    let section = parts.get(2).copied().unwrap_or("");
    match (parts.get(1).copied().unwrap_or(""), section) {
        ("header", s) if s.starts_with("stage_a") => Stage::Dataset,
        ("header", s) if s.starts_with("stage_b") => Stage::Model,
        ("header", s) if s.starts_with("stage_c") => Stage::Training,
        ("header", s) if s.starts_with("stage_d") => Stage::PreDeployment,
        ("header", s) if s.starts_with("stage_e") => Stage::Deployment,
        ("header", s) if s.starts_with("stage_f") => Stage::TestEvaluation,
        ("header", s) if s.starts_with("stage_g") => Stage::Inference,
        ("header", s) if s.starts_with("stage_h") => Stage::Roots,
        ("header", _) => Stage::Header,
        ("lifecycle", "dataset") => Stage::Dataset,
        ("lifecycle", "model") => Stage::Model,
        ("lifecycle", "training") => Stage::Training,
        ("lifecycle", "predeployment") => Stage::PreDeployment,
        ("lifecycle", "deployment") => Stage::Deployment,
        ("lifecycle", "test_evaluation") => Stage::TestEvaluation,
        ("lifecycle", "inference") => Stage::Inference,
        ("lifecycle", "release") => Stage::Roots,
        _ => Stage::Document,
    }
}

/// Whether pointer `a` is `b` or one of its ancestors (whole reference tokens).
fn covers(a: &str, b: &str) -> bool {
    b == a || (b.starts_with(a) && b.as_bytes().get(a.len()) == Some(&b'/'))
}

/// Every scalar (string, number, boolean) of `v`, by JSON pointer.
fn scalars(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let token = k.replace('~', "~0").replace('/', "~1");
                scalars(child, &format!("{path}/{token}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                scalars(child, &format!("{path}/{i}"), out);
            }
        }
        Value::Null => {}
        _ => out.push(path.to_owned()),
    }
}

/// A different value of the same JSON type: the last digit of a string moved by one (the
/// last letter when it has no digit), a number plus one, a boolean flipped.
fn mutate(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u.wrapping_add(1)),
            (_, Some(i), _) => Value::from(i.wrapping_add(1)),
            (_, _, Some(f)) => Value::from(f + 1.0),
            _ => Value::from(0),
        },
        Value::String(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            let at = chars
                .iter()
                .rposition(char::is_ascii_digit)
                .or_else(|| chars.iter().rposition(char::is_ascii_alphabetic));
            match at {
                Some(i) => {
                    let c = chars[i];
                    chars[i] = match c {
                        '9' => '0',
                        'z' => 'a',
                        'Z' => 'A',
                        'f' if s.len() == 64 => 'a',
                        _ => char::from_u32(u32::from(c) + 1).expect("the next ASCII character"),
                    };
                    Value::String(chars.into_iter().collect())
                }
                None => Value::String(format!("{s}x")),
            }
        }
        other => other.clone(),
    }
}

#[test]
fn the_demo_bundle_verifies_offline() {
    let (bundle, key) = demo();
    let report = verify_bundle(bundle, key, &none()).unwrap();
    assert!(report.checks.len() > 40, "{report}");
    // Every stage is checked.
    for stage in [
        Stage::Header,
        Stage::Dataset,
        Stage::Model,
        Stage::Training,
        Stage::PreDeployment,
        Stage::Deployment,
        Stage::TestEvaluation,
        Stage::Inference,
        Stage::Roots,
    ] {
        assert!(report.checks.iter().any(|c| c.stage == stage), "{stage:?}");
    }
    // Through JSON, compact and pretty.
    for indent in [None, Some(2)] {
        let text = bundle.to_json(indent).unwrap();
        assert_eq!(Bundle::from_json(&text).unwrap(), *bundle);
        both(&text, key).unwrap();
    }
    // The demo is deterministic.
    let again = simulate_ai_lifecycle(RECEIPTS).unwrap();
    assert_eq!(
        again.bundle.to_json(None).unwrap(),
        bundle.to_json(None).unwrap()
    );
    // Requirements a deployer states.
    let strict = PolicyRequirements {
        hash_algorithm: Some(lcm::crypto::HashAlgorithm::Sha256),
        no_plaintext_with_pii: true,
        commitments: Some(bundle.header.policy.commitments),
        min_kdf_iterations: Some(100_000),
        required_frameworks: vec!["HIPAA".into()],
        signing_key: Some(key.key_id()),
    };
    verify_bundle(bundle, key, &strict).unwrap();
    // Another commitment scheme than the policy's fails at the policy's field.
    let other = if bundle.header.policy.commitments == lcm::crypto::CommitmentScheme::Hmac {
        lcm::crypto::CommitmentScheme::Salted
    } else {
        lcm::crypto::CommitmentScheme::Hmac
    };
    let scheme = PolicyRequirements {
        commitments: Some(other),
        ..none()
    };
    let failed = verify_bundle(bundle, key, &scheme).unwrap_err();
    assert_eq!(failed.first().unwrap().field, "/header/policy/commitments");
    let gdpr = PolicyRequirements {
        required_frameworks: vec!["GDPR".into()],
        ..none()
    };
    let failed = verify_bundle(bundle, key, &gdpr).unwrap_err();
    assert_eq!(
        failed.first().unwrap().field,
        "/header/stage_a_dataset/compliance_frameworks"
    );
}

#[test]
fn every_scalar_of_the_bundle_is_covered() {
    let (bundle, key) = demo();
    let value = serde_json::to_value(bundle).unwrap();
    let mut paths = Vec::new();
    scalars(&value, "", &mut paths);
    assert!(paths.len() > 200, "{}", paths.len());
    let mut misses = Vec::new();
    for path in &paths {
        let mut tampered = value.clone();
        let slot = tampered.pointer_mut(path).unwrap();
        let changed = mutate(slot);
        assert_ne!(*slot, changed, "{path}");
        *slot = changed;
        let text = serde_json::to_string(&tampered).unwrap();
        let Err(failed) = both(&text, key) else {
            misses.push(format!("{path}: accepted"));
            continue;
        };
        let first = failed.first().unwrap();
        if first.stage != expected_stage(path)
            || !covers(&first.field, path)
            || first.field.matches('/').count() < 1
        {
            misses.push(format!("{path}: reported {first}"));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} scalars:\n{}",
        misses.len(),
        paths.len(),
        misses.join("\n")
    );
}

fn receipts_mut(
    b: &mut Bundle,
) -> &mut Vec<lcm::model::Claimed<lcm::model::records::InferenceReceipt>> {
    &mut b
        .lifecycle
        .inference
        .batches
        .last_mut()
        .expect("the demo has receipts")
        .receipts
}

#[track_caller]
fn structural(bundle: &Bundle, key: &VerifyingKey) -> (CheckError, String) {
    let failed = verify_bundle(bundle, key, &none()).expect_err("the tampered bundle fails");
    for indent in [None, Some(2)] {
        let streamed = both(&bundle.to_json(indent).expect("the bundle encodes"), key);
        assert_eq!(streamed, Err(failed.clone()));
    }
    let first = failed.first().expect("a failed check");
    (
        first.outcome.clone().expect_err("a failure"),
        first.field.clone(),
    )
}

#[test]
fn structural_tampering_fails_with_its_own_error() {
    let (bundle, key) = demo();
    let groups = bundle.lifecycle.inference.batches.len();
    assert_eq!(groups, 2, "one closed batch and one open group");

    // Receipts reordered (within the open group).
    let mut b = bundle.clone();
    receipts_mut(&mut b).swap(0, 1);
    let (e, field) = structural(&b, key);
    assert!(matches!(e, CheckError::ChainOrder { .. }), "{e:?}");
    assert!(
        field.starts_with("/lifecycle/inference/batches/1/receipts/"),
        "{field}"
    );

    // One dropped.
    let mut b = bundle.clone();
    receipts_mut(&mut b).remove(0);
    let (e, _) = structural(&b, key);
    assert!(matches!(e, CheckError::ChainGap { .. }), "{e:?}");

    // One duplicated.
    let mut b = bundle.clone();
    let r = receipts_mut(&mut b)[0].clone();
    receipts_mut(&mut b).insert(1, r);
    let (e, _) = structural(&b, key);
    assert!(matches!(e, CheckError::Duplicate { .. }), "{e:?}");

    // One moved to another batch (the chain order is unchanged).
    let mut b = bundle.clone();
    let moved = b.lifecycle.inference.batches[0].receipts.pop().unwrap();
    b.lifecycle.inference.batches[1].receipts.insert(0, moved);
    let (e, field) = structural(&b, key);
    assert!(matches!(e, CheckError::BatchMembership { .. }), "{e:?}");
    assert_eq!(field, "/lifecycle/inference/batches/0/receipts");

    // A second anchor for a split the header already signs (nothing signs it).
    let mut b = bundle.clone();
    let splits = &mut b.lifecycle.dataset.splits;
    let copy = splits[0].clone();
    splits.insert(0, copy);
    let (e, field) = structural(&b, key);
    assert!(matches!(e, CheckError::Duplicate { index: 1 }), "{e:?}");
    assert_eq!(field, "/lifecycle/dataset/splits/1");

    // A header signed by another key.
    let other = SigningKey::from_seed(&Seed::from_bytes([0x99; 32]));
    let mut b = bundle.clone();
    b.header.sign(&other).unwrap();
    let (e, field) = structural(&b, key);
    assert!(matches!(e, CheckError::KeyMismatch { .. }), "{e:?}");
    assert_eq!(field, "/header/signature/key_id");
    // ... and verified with that key, but against a pinned key.
    let pinned = PolicyRequirements {
        signing_key: Some(key.key_id()),
        ..none()
    };
    let failed = verify_bundle(&b, &other.verifying_key(), &pinned).unwrap_err();
    assert!(matches!(
        failed.first().unwrap().outcome,
        Err(CheckError::KeyMismatch { .. })
    ));

    // A header re-signed over an altered field (the signer's key, but a field the records
    // contradict) is named by that field, not by the signature.
    let mut b = bundle.clone();
    b.header.stage_b_model.as_mut().unwrap().trainer_commit = "deadbeef".into();
    b.header
        .sign(&SigningKey::from_seed(&Seed::from_bytes([0x4b; 32])))
        .unwrap();
    let (e, field) = structural(&b, key);
    assert!(matches!(e, CheckError::ValueMismatch { .. }), "{e:?}");
    assert_eq!(field, "/header/stage_b_model/trainer_commit");
}

/// The streamed verifier's tamper twins, on the bytes: each fails, and as the in-memory
/// verifier fails on the same text.
#[test]
fn streamed_tamper_twins_fail_as_in_memory() {
    let (bundle, key) = demo();
    let text = bundle.to_json(Some(2)).unwrap();
    both(&text, key).unwrap();
    let value = serde_json::to_value(bundle).unwrap();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = value.clone();
        f(&mut v);
        serde_json::to_string_pretty(&v).unwrap()
    };
    let receipts = "/lifecycle/inference/batches/1/receipts";
    let first_check = |text: &str| {
        let failed = both(text, key).expect_err("the tampered bundle fails");
        let first = failed.first().unwrap().clone();
        (
            first.name,
            first.field,
            first.outcome.expect_err("a failure"),
        )
    };
    // One byte of a receipt: a digit of its request id.
    let at = text.find("\"request_id\": \"req_").unwrap() + "\"request_id\": \"req_".len();
    let mut bytes = text.clone().into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    let (name, field, e) = first_check(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(name, "receipt digest");
    assert!(field.ends_with("/record"), "{field}");
    assert!(matches!(e, CheckError::DigestMismatch { .. }), "{e:?}");
    // A swapped pair, a dropped receipt, a repeated one.
    let swapped = edit(&|v| {
        let a = v.pointer_mut(receipts).unwrap().as_array_mut().unwrap();
        a.swap(0, 1);
    });
    assert!(matches!(
        first_check(&swapped).2,
        CheckError::ChainOrder { .. }
    ));
    let dropped = edit(&|v| {
        let a = v.pointer_mut(receipts).unwrap().as_array_mut().unwrap();
        a.remove(0);
    });
    assert!(matches!(
        first_check(&dropped).2,
        CheckError::ChainGap { .. }
    ));
    let repeated = edit(&|v| {
        let a = v.pointer_mut(receipts).unwrap().as_array_mut().unwrap();
        let r = a[0].clone();
        a.insert(1, r);
    });
    let (_, field, e) = first_check(&repeated);
    assert_eq!(e, CheckError::Duplicate { index: 1 });
    assert_eq!(field, format!("{receipts}/1"));
    // The header's count and root.
    for (pointer, changed) in [
        ("/header/stage_g_inference/receipt_count", Value::from(3)),
        (
            "/header/stage_g_inference/receipts_root",
            Value::from("ab".repeat(32)),
        ),
    ] {
        let tampered = edit(&|v| *v.pointer_mut(pointer).unwrap() = changed.clone());
        let (_, field, _) = first_check(&tampered);
        assert_eq!(field, pointer);
    }
    // A truncated file, and trailing garbage: the parser's own error.
    for broken in [&text[..text.len() / 2], &format!("{text} x")[..]] {
        let (name, field, e) = first_check(broken);
        assert_eq!((name, field.as_str()), ("document parses", ""));
        assert!(matches!(e, CheckError::Parse { .. }), "{e:?}");
    }
}

/// `v` as JSON text with the keys of the object at `target` in the order `keys` (then the
/// others), every other object's keys sorted.
fn ordered(v: &Value, path: &str, target: &str, keys: &[&str]) -> String {
    match v {
        Value::Object(map) => {
            let mut names: Vec<&String> = map.keys().collect();
            if path == target {
                names.sort_by_key(|k| keys.iter().position(|o| o == k).unwrap_or(keys.len()));
            }
            let items: Vec<String> = names
                .into_iter()
                .map(|k| {
                    let child = ordered(&map[k], &format!("{path}/{k}"), target, keys);
                    format!("{}:{child}", Value::from(k.as_str()))
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, c)| ordered(c, &format!("{path}/{i}"), target, keys))
                .collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Keys in another order than `lcm export` writes: what the streamed verifier can check as
/// it reads verifies; receipts before what they are checked against are refused, saying why.
#[test]
fn streamed_key_order() {
    let (bundle, key) = demo();
    let value = serde_json::to_value(bundle).unwrap();
    let reorder = |path: &str, keys: &[&str]| ordered(&value, "", path, keys);
    let stream = |text: &str| verify_bundle_reader(std::io::Cursor::new(text), key, &none());
    // The release before the receipts, a batch after its receipts: verified.
    let release_first = reorder("/lifecycle", &["model", "deployment", "release"]);
    stream(&release_first).unwrap();
    both(&release_first, key).unwrap();
    let receipts_first = reorder("/lifecycle/inference/batches/0", &["receipts"]);
    both(&receipts_first, key).unwrap();
    // The receipts before the model and the deployment: verified (sorted keys).
    let inference_first = reorder("/lifecycle", &["inference"]);
    both(&inference_first, key).unwrap();
    // The lifecycle before the header: refused.
    {
        let text = reorder("", &["lifecycle"]);
        verify_bundle_json(&text, key, &none()).unwrap();
        let failed = stream(&text).unwrap_err();
        let first = failed.first().unwrap();
        assert_eq!(first.field, "/lifecycle/inference");
        assert!(
            first
                .to_string()
                .contains("verify_bundle_json reads any order"),
            "{first}"
        );
    }
}

#[test]
fn a_stale_header_is_reported_as_stale() {
    let Simulation {
        mut project,
        key,
        bundle: old,
    } = simulate_ai_lifecycle(RECEIPTS).unwrap();
    let model = old.lifecycle.model.digest;
    let p = &mut project.managers;
    for i in 0..2 {
        let id = format!("late_{i}");
        let req = lcm::managers::InferenceRequest::new(&id, &model, "deploy_001", "req_late")
            .query("q")
            .output("o");
        p.inference
            .create_inference_receipt(&p.deployments, req)
            .unwrap();
    }
    let request = demo_request();
    let mut newer = project
        .complete_audit_trail(&request, &key, old.header.generated_at)
        .unwrap();
    verify_bundle(&newer, &key.verifying_key(), &none()).unwrap();
    both(&newer.to_json(None).unwrap(), &key.verifying_key()).unwrap();
    newer.header = old.header.clone();
    let (e, field) = structural(&newer, &key.verifying_key());
    assert!(
        matches!(
            e,
            CheckError::StaleChain {
                signed: 4,
                actual: 6
            }
        ),
        "{e:?}"
    );
    assert_eq!(field, "/header/stage_g_inference/receipt_count");

    // A header generated before the records it covers.
    let mut early = old.clone();
    early.header.generated_at = old.lifecycle.model.record.created_at;
    early.header.sign(&key).unwrap();
    let (e, field) = structural(&early, &key.verifying_key());
    assert!(matches!(e, CheckError::StaleHeader { .. }), "{e:?}");
    assert_eq!(field, "/header/generated_at");
}

/// The fuzz seeds of the capsule targets, made from the demo lifecycle.
/// A split's record ids in sorted order and the log of their leaf digests.
fn split_log(
    policy: &lcm::model::Policy,
    split: &lcm::capsule::SplitEvidence,
) -> (Vec<String>, lcm::capsule::MerkleLog) {
    let mut ids = split.record_ids.clone();
    ids.sort();
    let log = lcm::capsule::MerkleLog::from_digests(
        policy.hash_algorithm,
        ids.iter()
            .map(|id| lcm::model::verify::record_leaf_digest(policy, id)),
    )
    .expect("the demo's split ids make a log");
    (ids, log)
}

/// The audit trail of the demo lifecycle's model, session, deployment, test and first batch.
fn demo_request() -> lcm::framework::AuditTrailRequest<'static> {
    lcm::framework::AuditTrailRequest {
        model_name: "pneumonia_model",
        version: "v1.0",
        session_id: "train_001",
        deployment_id: "deploy_001",
        test_id: "test_001",
        batch_windows: &["batch_001"],
    }
}

fn fuzz_seeds() -> Vec<(&'static str, &'static str, String)> {
    let sim = simulate_ai_lifecycle(RECEIPTS).expect("the demo makes its seeds");
    let bundle = &sim.bundle;
    let header = &bundle.header;
    let policy = &header.policy;
    let pretty = bundle.to_json(Some(2)).expect("the demo makes its seeds");
    let mut tampered = bundle.clone();
    tampered.lifecycle.inference.batches[1].receipts[0]
        .record
        .request_id = "req_x".into();

    let log = bundle
        .lifecycle
        .receipt_log(policy)
        .expect("the demo makes its seeds");
    let receipt = &bundle.lifecycle.inference.batches[0].receipts[1];
    let openings = sim
        .project
        .inference
        .opening(receipt)
        .expect("the demo makes its seeds");
    let disclosure = lcm::capsule::Disclosure {
        input: Some(lcm::capsule::DisclosedValue {
            data: "chest x-ray 1: pneumonia?".into(),
            opening: openings.input.reveal(),
        }),
        output: Some(lcm::capsule::DisclosedValue {
            data: "no pneumonia (confidence 0.91)".into(),
            opening: openings.output.reveal(),
        }),
    };
    let receipt_capsule =
        lcm::capsule::materialize_receipt(header, &log, receipt, Some(disclosure))
            .expect("the demo makes its seeds");
    lcm::capsule::verify_capsule(&receipt_capsule, header, &sim.key.verifying_key())
        .expect("the demo makes its seeds");
    let checkpoints = &bundle.lifecycle.training.checkpoints;
    let cp_log = lcm::capsule::MerkleLog::from_digests(
        policy.hash_algorithm,
        checkpoints.iter().map(|c| c.digest),
    )
    .expect("the demo makes its seeds");
    let cp_capsule = lcm::capsule::materialize_checkpoint(header, &cp_log, &checkpoints[1])
        .expect("the demo makes its seeds");
    lcm::capsule::verify_capsule(&cp_capsule, header, &sim.key.verifying_key())
        .expect("the demo makes its seeds");
    let split = &bundle.lifecycle.dataset.splits[0];
    let (ids, ds_log) = split_log(policy, split);
    let ds_capsule =
        lcm::capsule::materialize_dataset_record(header, &ds_log, &split.anchor, &ids[2], 2)
            .expect("the demo makes its seeds");
    lcm::capsule::verify_capsule(&ds_capsule, header, &sim.key.verifying_key())
        .expect("the demo makes its seeds");
    let mut rebound = receipt_capsule.clone();
    rebound.header_digest = lcm::crypto::Digest::from_bytes([0; 32]);

    let header_json = header.to_json(Some(2)).expect("the demo makes its seeds");
    let mut seeds = vec![
        ("capsule_bundle", "demo-bundle.json", pretty.clone()),
        (
            "capsule_bundle",
            "demo-bundle-compact.json",
            bundle.to_json(None).expect("the demo makes its seeds"),
        ),
        (
            "capsule_bundle",
            "tampered-receipt.json",
            tampered.to_json(None).expect("the demo makes its seeds"),
        ),
        (
            "capsule_bundle",
            "truncated.json",
            pretty.chars().take(400).collect(),
        ),
        ("capsule_header", "demo-header.json", header_json.clone()),
        (
            "capsule_header",
            "demo-header-compact.json",
            header.to_compact_json().expect("the demo makes its seeds"),
        ),
        (
            "capsule_header",
            "unknown-field.json",
            header_json.replacen('{', "{\n  \"evidence_id\": null,", 1),
        ),
        (
            "capsule_header",
            "other-version.json",
            header_json.replace("lcm-capsule/1", "lcm-capsule/0"),
        ),
        (
            "capsule_item",
            "receipt-disclosed.json",
            receipt_capsule
                .to_json(Some(2))
                .expect("the demo makes its seeds"),
        ),
        (
            "capsule_item",
            "checkpoint.json",
            cp_capsule
                .to_json(Some(2))
                .expect("the demo makes its seeds"),
        ),
        (
            "capsule_item",
            "dataset-record.json",
            ds_capsule
                .to_json(Some(2))
                .expect("the demo makes its seeds"),
        ),
        (
            "capsule_item",
            "other-header.json",
            rebound.to_json(None).expect("the demo makes its seeds"),
        ),
    ];
    // The streamed verifier's target starts from the same bundles.
    let streamed: Vec<_> = seeds
        .iter()
        .filter(|(target, _, _)| *target == "capsule_bundle")
        .map(|(_, name, content)| ("bundle_stream", *name, content.clone()))
        .collect();
    seeds.extend(streamed);
    seeds
}

/// The committed seeds are the ones the demo makes now; `LCM_WRITE_FUZZ_SEEDS=1` rewrites
/// them.
#[test]
fn fuzz_seeds_are_current() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = std::env::var_os("LCM_WRITE_FUZZ_SEEDS").is_some();
    for (target, name, content) in fuzz_seeds() {
        let path = corpus.join(target).join(name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &content).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == content,
            "{} is out of date: run LCM_WRITE_FUZZ_SEEDS=1 cargo test fuzz_seeds_are_current",
            path.display()
        );
    }
}

#[test]
fn checkpoint_and_dataset_record_capsules_verify_and_catch_tampering() {
    let (bundle, key) = demo();
    let header = &bundle.header;
    let policy = &header.policy;

    let checkpoints = &bundle.lifecycle.training.checkpoints;
    let log = lcm::capsule::MerkleLog::from_digests(
        policy.hash_algorithm,
        checkpoints.iter().map(|c| c.digest),
    )
    .unwrap();
    for cp in checkpoints {
        let capsule = lcm::capsule::materialize_checkpoint(header, &log, cp).unwrap();
        lcm::capsule::verify_capsule(&capsule, header, key).unwrap();
    }
    let mut capsule = lcm::capsule::materialize_checkpoint(header, &log, &checkpoints[1]).unwrap();
    let lcm::capsule::CapsuleItem::TrainingCheckpoint(item) = &mut capsule.item else {
        unreachable!("a checkpoint capsule")
    };
    item.checkpoint.record.step += 1;
    let failed = lcm::capsule::verify_capsule(&capsule, header, key).unwrap_err();
    let first = failed.first().unwrap();
    assert_eq!(first.stage, Stage::Training);
    assert_eq!(first.field, "/item/training_checkpoint/checkpoint/record");

    let split = &bundle.lifecycle.dataset.splits[0];
    let (ids, log) = split_log(policy, split);
    assert_eq!(log.root(), split.anchor.record.records_root);
    for (i, id) in (0u64..).zip(&ids) {
        let capsule =
            lcm::capsule::materialize_dataset_record(header, &log, &split.anchor, id, i).unwrap();
        lcm::capsule::verify_capsule(&capsule, header, key).unwrap();
        // The same proof does not prove another record id.
        let mut other = capsule.clone();
        let lcm::capsule::CapsuleItem::DatasetRecord(item) = &mut other.item else {
            unreachable!("a dataset record capsule")
        };
        item.record_id = format!("{id}x");
        let failed = lcm::capsule::verify_capsule(&other, header, key).unwrap_err();
        assert!(matches!(
            failed.first().unwrap().outcome,
            Err(CheckError::Proof(_))
        ));
        assert_eq!(failed.first().unwrap().field, "/item/dataset_record/proof");
    }
    // A record of another split is not registered at that index.
    assert!(
        lcm::capsule::materialize_dataset_record(header, &log, &split.anchor, "val_000", 0)
            .is_err()
    );
    // A split anchor the header does not sign.
    let mut capsule =
        lcm::capsule::materialize_dataset_record(header, &log, &split.anchor, &ids[0], 0).unwrap();
    let lcm::capsule::CapsuleItem::DatasetRecord(item) = &mut capsule.item else {
        unreachable!("a dataset record capsule")
    };
    item.split_anchor = bundle.lifecycle.dataset.splits[1].anchor.clone();
    let failed = lcm::capsule::verify_capsule(&capsule, header, key).unwrap_err();
    assert!(
        failed
            .first()
            .unwrap()
            .field
            .starts_with("/item/dataset_record/")
    );
}

#[test]
fn an_audit_trail_of_records_the_project_does_not_have_is_refused() {
    let Simulation { project, key, .. } = simulate_ai_lifecycle(2).unwrap();
    assert_eq!(project.name(), "MyProject");
    let good = demo_request();
    let at = lcm::model::Timestamp::from_unix_micros(1_767_400_000_000_000);
    let bundle = project.complete_audit_trail(&good, &key, at).unwrap();
    verify_bundle(&bundle, &key.verifying_key(), &none()).unwrap();
    for (request, what) in [
        (
            lcm::framework::AuditTrailRequest {
                version: "v2.0",
                ..good
            },
            "model",
        ),
        (
            lcm::framework::AuditTrailRequest {
                deployment_id: "deploy_404",
                ..good
            },
            "deployment",
        ),
        (
            lcm::framework::AuditTrailRequest {
                test_id: "test_404",
                ..good
            },
            "test evaluation",
        ),
        (
            lcm::framework::AuditTrailRequest {
                batch_windows: &["batch_404"],
                ..good
            },
            "inference batch",
        ),
    ] {
        match project.complete_audit_trail(&request, &key, at) {
            Err(lcm::framework::Error::NotFound { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        }
    }
}
