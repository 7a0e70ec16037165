//! Unit tests of the parent module.

use lcm_crypto::{Seed, SeededRandom};
use lcm_model::FixedClock;

use super::*;

/// The inputs of a minimal model `m` version `v`.
fn small_model() -> ModelInputs<'static> {
    ModelInputs {
        model_name: "m",
        version: "v",
        architecture_json: r#"{"type": "t"}"#,
        hyperparameters_json: "{}",
        environment_json: r#"{"framework": "f", "framework_version": "1"}"#,
        trainer_commit: "unknown",
        authorized_datasets: &[],
    }
}

/// A salted context, and a model manager of it holding [`small_model`] anchored with the
/// password `pw` and the salt `[1; 16]`.
fn salted_small_model() -> (PyciafContext, ModelManager) {
    let ctx = ctx_with(CommitmentScheme::Salted);
    let mut m = ModelManager::new(ctx.clone());
    m.create_model_anchor(&small_model(), Some("pw"), Some(&[1; 16]))
        .expect("a valid test fixture");
    (ctx, m)
}

pub(super) fn ctx_with(commitments: CommitmentScheme) -> PyciafContext {
    let mut policy = crate::policy();
    policy.commitments = commitments;
    let start: Timestamp = "2026-01-02T03:04:05.678901Z".parse().unwrap();
    PyciafContext::new(
        policy,
        Arc::new(FixedClock::new(start, 0)),
        SeededRandom::new(&Seed::from_bytes([3; 32])),
    )
    .unwrap()
}

/// Checks that a context refuses `policy`, naming `field` as the first that differs from the
/// profile.
#[track_caller]
fn assert_refused(policy: Policy, field: &str) {
    let refused = PyciafContext::with_policy(policy);
    assert!(
        matches!(&refused, Err(Error::NotThePyciafProfile { field: f, .. }) if *f == field),
        "{refused:?}"
    );
}

#[test]
fn only_the_profile_opens_a_context() {
    // The native default's values where the types allow them: refused.
    let native = lcm_model::Policy::default();
    let p = Policy {
        hash_algorithm: native.hash_algorithm,
        commitments: native.commitments,
        kdf_iterations: native.kdf_iterations,
        schema_version: native.schema_version,
        domains: native.domains,
        ..crate::policy()
    };
    assert_refused(p, "kdf_iterations");
    let mut p = crate::policy();
    p.kdf_iterations = 600_000;
    assert_refused(p, "kdf_iterations");
    // The canonicalization and the tree have only the reference's value (a native one does not
    // compile: see the `compile_fail` example of `PyciafContext::new`).
    let mut p = crate::policy();
    p.schema_version = 2;
    assert_refused(p, "schema_version");
    let mut p = crate::policy();
    p.hash_algorithm = HashAlgorithm::Blake3;
    assert!(PyciafContext::with_policy(p).is_err());
    assert!(PyciafContext::with_policy(crate::policy()).is_ok());
    // The other way round: a native policy cannot carry the profile (its wire form does not
    // parse as one), so the native managers cannot run under it.
    let wire = serde_json::to_value(crate::policy()).unwrap();
    assert!(serde_json::from_value::<lcm_model::Policy>(wire).is_err());
}

#[test]
fn isoformat_is_pythons() {
    let ctx = ctx_with(CommitmentScheme::Salted);
    assert_eq!(ctx.now_isoformat(), "2026-01-02T03:04:05.678901");
    let ctx = ctx.with_utc_offset_minutes(-90).unwrap();
    assert_eq!(ctx.now_isoformat(), "2026-01-02T01:34:05.678901");
    assert!(ctx.with_utc_offset_minutes(1441).is_err());
    let whole: Timestamp = "2026-01-02T03:04:05.000000Z".parse().unwrap();
    assert_eq!(python_isoformat(whole), "2026-01-02T03:04:05");
}

#[test]
fn policy_digest_is_the_references() {
    // The reference's default policy digest (research note section 2.1).
    let ctx = ctx_with(CommitmentScheme::Salted);
    assert_eq!(
        ctx.policy_digest().unwrap(),
        "1ab676cec1a460b9aff461a9a64dd7c93b0c0ff482c0a391ce0eea869d7792bb"
    );
    assert_ne!(
        ctx_with(CommitmentScheme::Plaintext)
            .policy_digest()
            .unwrap(),
        ctx.policy_digest().unwrap()
    );
}

#[test]
fn json_text_helpers() {
    assert_eq!(jfloat(1.0), "1.0");
    assert_eq!(jfloat(1e-5), "1e-5");
    assert_eq!(rules::canonical_json(&jfloat(1e-5)).unwrap(), "1e-05");
    assert_eq!(rules::canonical_json(&jfloat(1e16)).unwrap(), "1e+16");
    assert_eq!(rules::canonical_json(&jfloat(f64::NAN)).unwrap(), "NaN");
    assert_eq!(
        rules::canonical_json(&jfloat(f64::NEG_INFINITY)).unwrap(),
        "-Infinity"
    );
    assert_eq!(
        rules::canonical_json(&jstr("a\"\\\n\u{e9}")).unwrap(),
        r#""a\"\\\n\u00e9""#
    );
    let canon = r#"{"a":{"b":[1,"x,y:z"]},"b\"":"q","c":null,"d":[{"e":1}]}"#;
    assert_eq!(member(canon, "a"), Some(r#"{"b":[1,"x,y:z"]}"#));
    assert_eq!(member(canon, "b\""), Some(r#""q""#));
    assert_eq!(member(canon, "b"), None);
    assert_eq!(member(canon, "c"), Some("null"));
    assert_eq!(member(canon, "d"), Some(r#"[{"e":1}]"#));
    assert_eq!(member(canon, "e"), None);
    assert_eq!(
        with_default_separators(canon),
        r#"{"a": {"b": [1, "x,y:z"]}, "b\"": "q", "c": null, "d": [{"e": 1}]}"#
    );
}

#[test]
fn family_simulation_follows_the_reference() {
    let mut f = DatasetFamilyManager::new(ctx_with(CommitmentScheme::Salted));
    let meta = r#"{"name": "n", "version": "v2", "owner": "o", "license": "l"}"#;
    let configs = [
        FamilySplitConfig {
            split: FamilySplit::Train,
            config_json: r#"{"ratio": 1, "stratify_by": ["label"]}"#,
            rng_seed: 7,
        },
        FamilySplitConfig {
            split: FamilySplit::Test,
            config_json: r#"{"selection": "random"}"#,
            rng_seed: 8,
        },
    ];
    let fam = f.create_dataset_family("ds", meta, &configs).unwrap();
    assert_eq!(fam.dataset_content_root, sha256_hex("ds_v2_content"));
    assert_eq!(
        fam.family_anchor,
        rules::family_anchor(meta, &sha256_hex("ds_v2_content")).unwrap()
    );
    let splits = f.get_all_splits("ds");
    assert_eq!(splits.len(), 2);
    let train = &splits[0];
    assert_eq!(train.sample_hashes.len(), 100);
    assert_eq!(train.sample_hashes[0], sha256_hex("ds_record_0_data"));
    let ids: Vec<String> = (0..100).map(|i| format!("ds_record_{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let expected_meta = format!(
        r#"{{"dataset_id": "ds", "split_name": "train", "split_selection_rules": {{"ratio": 1, "stratify_by": ["label"]}},
        "split_stats": {{"ratio": 1}}, "sample_count": 0, "rng_seed": 7, "rng_source": "random",
        "stratify_by": ["label"], "split_assignment_digest": "{}"}}"#,
        rules::split_assignment_digest(&refs, None)
    );
    assert_eq!(
        train.split_anchor,
        rules::split_anchor(&expected_meta, &sha256_hex("ds_train_content")).unwrap()
    );
    assert!(train.anchor_id.starts_with("d_s_train_"));
    // No ratio in the configuration: the reference's `config.get("ratio", 0.0)`.
    let test = &splits[1];
    assert_eq!(test.sample_hashes.len(), 20);
    assert_eq!(
        member(&test.split_metadata, "split_stats"),
        Some(r#"{"ratio":0.0}"#)
    );
    assert_eq!(member(&test.split_metadata, "stratify_by"), Some("null"));
    // A version that is not a string is refused, as pydantic refuses it.
    assert!(matches!(
        f.create_dataset_family(
            "x",
            r#"{"name": "n", "version": 2, "owner": "o", "license": "l"}"#,
            &configs
        ),
        Err(Error::Field {
            field: "version",
            ..
        })
    ));
    assert!(matches!(
        f.add_sample_hash("nobody", FamilySplit::Train, "ab"),
        Err(Error::Unknown { .. })
    ));
}

/// The anchor that `d` makes for `split` of dataset `ds` (metadata `{"name": "d"}`, password
/// `pw`) with `salt`.
fn ds_anchor<'a>(d: &'a mut DatasetManager, split: DatasetSplit, salt: &[u8]) -> &'a DatasetAnchor {
    d.create_dataset_anchor("ds", split, r#"{"name": "d"}"#, "pw", Some(salt))
        .expect("a valid test fixture")
}

#[test]
fn dataset_and_model_commitments_use_their_anchors() {
    let ctx = ctx_with(CommitmentScheme::Hmac);
    let mut d = DatasetManager::new(ctx.clone());
    let a = ds_anchor(&mut d, DatasetSplit::Validation, &[5; 16]);
    assert!(a.anchor_id.starts_with("v_"));
    assert!(!format!("{a:?}").contains(&a.expose_dataset_anchor_hex()));
    let key = lcm_crypto::hex::decode(&a.expose_dataset_anchor_hex()).unwrap();
    assert_eq!(
        d.create_commitment("ds", DatasetSplit::Validation, r#"{"a": 1}"#)
            .unwrap(),
        rules::commitment("HMAC-SHA256", r#"{"a": 1}"#, &key).unwrap()
    );
    assert!(d.create_commitment("ds", DatasetSplit::Test, "1").is_err());
    // An empty salt is Python-falsy: a salt is drawn instead.
    let drawn = ds_anchor(&mut d, DatasetSplit::Full, &[]);
    assert_eq!(drawn.master_salt.len(), 16);
    assert!(drawn.anchor_id.starts_with("f_"));

    let mut m = ModelManager::new(ctx);
    let inputs = |version| ModelInputs {
        model_name: "m",
        version,
        architecture_json: r#"{"type": "t"}"#,
        hyperparameters_json: "{}",
        environment_json: r#"{"framework": "f", "framework_version": "1"}"#,
        trainer_commit: "unknown",
        authorized_datasets: &["b", "a"],
    };
    m.create_model_anchor(&inputs("1.0.0"), None, Some(&[1; 16]))
        .unwrap();
    m.create_model_anchor(&inputs("2.0.0"), None, Some(&[1; 16]))
        .unwrap();
    assert_eq!(m.get_model_anchor("m", None).unwrap().version, "2.0.0");
    assert_eq!(m.list_models().collect::<Vec<_>>(), ["m_1.0.0", "m_2.0.0"]);
    let anchor = m.get_model_anchor("m", Some("1.0.0")).unwrap();
    assert_eq!(anchor.authorized_dataset_refs(), ["ref_b", "ref_a"]);
    let key = lcm_crypto::hex::decode(&anchor.expose_model_anchor_hex()).unwrap();
    assert_eq!(
        m.create_commitment("m", "1.0.0", "\"x\"").unwrap(),
        rules::commitment("HMAC-SHA256", "\"x\"", &key).unwrap()
    );
    assert!(m.create_commitment("m", "3.0.0", "1").is_err());
}

#[test]
fn training_states_and_config_merge() {
    let (ctx, m) = salted_small_model();
    let model = m.get_model_anchor("m", Some("v")).unwrap();
    let mut t = TrainingManager::new(ctx);
    assert!(
        t.create_training_session("s", model, "ab", "[]", &[], None)
            .is_err()
    );
    let s = t
        .create_training_session(
            "s",
            model,
            "not hex",
            r#"{"checkpoints_count": 99, "x": 1}"#,
            &[],
            Some(""),
        )
        .unwrap();
    assert_eq!(s.split_map_digest, "sm_mock_digest");
    assert!(matches!(
        s.get_training_snapshot_anchor(),
        Err(Error::NotCompleted { .. })
    ));
    t.add_checkpoint(
        "s",
        TrainingCheckpoint {
            checkpoint_id: "cp".to_owned(),
            epoch: 1,
            step: 2,
            metrics: vec![],
            model_state_digest: "m".to_owned(),
            optimizer_state_digest: "o".to_owned(),
            timestamp: None,
        },
    )
    .unwrap();
    assert!(
        t.add_checkpoint(
            "nope",
            t.get_training_session("s").unwrap().checkpoints[0].clone()
        )
        .is_err()
    );
    let snap = t.complete_training("s", &[]).unwrap();
    // The session's values replace the config's (`dict.update`).
    assert_eq!(
        member(&snap.training_parameters, "checkpoints_count"),
        Some("1")
    );
    assert_eq!(member(&snap.training_parameters, "x"), Some("1"));
    assert_eq!(
        member(&snap.training_parameters, "metrics_digest"),
        Some(r#""none""#)
    );
    assert_eq!(snap.merkle_root_hash, rules::merkle_root(&[]).unwrap());
    let s = t.get_training_session("s").unwrap();
    assert!(s.get_training_snapshot_anchor().unwrap().starts_with("tr_"));
    // A datasets root that is not hex fails as `bytes.fromhex` does.
    assert!(matches!(s.get_training_session_root(), Err(Error::Rule(_))));
    assert!(t.complete_training("nope", &[]).is_err());
}

#[test]
fn empty_plaintext_commitments_are_refused() {
    let mut i = InferenceManager::new(ctx_with(CommitmentScheme::Plaintext));
    let r = InferenceRequest::new("c", "r", "m", "d", "q", "", "out");
    assert!(matches!(
        i.perform_inference_with_audit(&r),
        Err(Error::Field { field: "query", .. })
    ));
    // Nothing was appended.
    assert!(i.get_inference_connections("c").is_none());
    let r = InferenceRequest { query: "in", ..r };
    let first = i.perform_inference_with_audit(&r).unwrap().clone();
    assert_eq!(first.input_commitment.commitment_value, "in");
    assert_eq!(first.prev_connections_digest, None);
    // Re-creating a chain starts it again from "genesis".
    i.create_inference_connections("c");
    let again = i.perform_inference_with_audit(&r).unwrap();
    assert_eq!(again.prev_connections_digest, None);
}

#[test]
fn capsule_stage_h_and_empty_header() {
    let c = CapsuleManager::new(ctx_with(CommitmentScheme::Salted));
    let empty = c
        .create_capsule_header(&CapsuleHeaderInputs::default())
        .unwrap();
    assert_eq!(member(&empty.compact_json, "stage_h_roots"), Some("null"));
    assert_eq!(
        member(&empty.compact_json, "generated_at"),
        Some(r#""2026-01-02T03:04:05.678901""#)
    );
    let one = c
        .create_capsule_header(&CapsuleHeaderInputs {
            release_root: Some("0123456789abcdef"),
            ..CapsuleHeaderInputs::default()
        })
        .unwrap();
    assert_eq!(
        member(&one.compact_json, "stage_h_roots"),
        Some(
            r#"{"description":"Merkle Roots & Publication","evidence_id":"null","inference_batch_root":null,"release_root":"01234567...","stage":"H","timestamp_authority":"not_set","training_session_root":null}"#
        )
    );
}

/// The producer and the audit share one shape ([`crate::header`]): a header this crate writes
/// audits with nothing inconsistent, its stages absent or present as written.
#[test]
fn headers_made_here_audit_cleanly() {
    use crate::audit::{Status, audit_header};
    use crate::header::HeaderStage;

    let c = CapsuleManager::new(ctx_with(CommitmentScheme::Salted));
    // The header `c` makes of `inputs`, audited: nothing may be inconsistent.
    let audited = |inputs: &CapsuleHeaderInputs<'_>| {
        let header = c.create_capsule_header(inputs).unwrap();
        let report = audit_header(header.to_compact_json().as_bytes()).unwrap();
        assert_eq!(
            report.summary().count(Status::Inconsistent),
            0,
            "{report:#?}"
        );
        report
    };
    let report = audited(&CapsuleHeaderInputs::default());
    assert_eq!(
        report.summary().count(Status::Absent),
        HeaderStage::ALL.len()
    );
    let report = audited(&CapsuleHeaderInputs {
        release_root: Some("0123456789abcdef"),
        ..CapsuleHeaderInputs::default()
    });
    // Seven stages are null, and so are the two roots that were not given.
    assert_eq!(
        report.summary().count(Status::Absent),
        HeaderStage::ALL.len() - 1 + 2
    );
    for field in HeaderStage::Roots.fields() {
        let name = format!("{}.{field}", HeaderStage::Roots.key());
        assert!(report.findings.iter().any(|f| f.field == name), "{name}");
    }
}

#[test]
fn the_other_receipt_path_uses_full_salted_digests() {
    let (ctx, m) = salted_small_model();
    let model = m.get_model_anchor("m", Some("v")).unwrap();
    let mut d = DeploymentManager::new(ctx.clone());
    let artifact = BuildArtifact {
        artifact_type: "t".to_owned(),
        artifact_digest: "a".to_owned(),
        build_timestamp: "b".to_owned(),
        builder_info: "c".to_owned(),
        size_bytes: 0,
    };
    let sbom = Sbom {
        dependencies: vec![],
        security_scan_digest: "s".to_owned(),
        vulnerability_count: 0,
        compliance_status: "unknown".to_owned(),
    };
    d.create_predeployment_anchor(&PreDeploymentInputs {
        predeployment_id: "p",
        build_artifact: &artifact,
        sbom: &sbom,
        approval_ticket_id: "t",
        intended_env: "e",
        intended_region: "r",
        rollout_plan_digest: Some("plan"),
    })
    .unwrap();
    let dep = d
        .create_deployment_anchor("dep", "p", &DeploymentInputs::default())
        .unwrap();
    // The context's randomness, replayed: the first 16 bytes salt the query.
    let mut replay = SeededRandom::new(&Seed::from_bytes([3; 32]));
    let (mut s1, mut s2) = ([0u8; 16], [0u8; 16]);
    replay.fill(&mut s1).unwrap();
    replay.fill(&mut s2).unwrap();
    let mut i = InferenceManager::new(ctx);
    let r = i
        .create_inference_receipt("inf", model, dep, "What is AI?", "AI is.", Some("ab"))
        .unwrap()
        .clone();
    let expected_in = sha256_hex(&format!("{}What is AI?", lcm_crypto::hex::encode(&s1)));
    assert_eq!(r.input_commitment.commitment_value, expected_in);
    let expected_out = sha256_hex(&format!("{}AI is.", lcm_crypto::hex::encode(&s2)));
    assert_eq!(r.output_commitment.commitment_value, expected_out);
    assert_eq!(r.model_anchor_ref, model.anchor_id);
    assert_eq!(r.request_id, "inf");
    assert_eq!(
        r.connections_digest,
        rules::connections_digest(Some("ab"), &r.receipt_digest)
    );
    assert!(i.get_inference_receipt("inf").is_some());
    // It joins no chain, so no batch covers it.
    assert_eq!(
        i.create_inference_batch_root("w", &["inf"]).unwrap(),
        rules::EMPTY_BATCH
    );
    assert!(
        i.create_inference_receipt("x", model, dep, "q", "", None)
            .is_err()
    );
}
