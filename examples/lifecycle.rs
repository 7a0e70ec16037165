//! The specification's "Complete Example: End-to-End AI Model Lifecycle", in Rust.
//!
//! Run it with `cargo run --example lifecycle`. It records a dataset family with three
//! splits, a model, a training run with checkpoints, a pre-deployment and a deployment, a
//! test evaluation, production inferences and their batch, then computes the training session,
//! release and inference batch roots, prints every stage's full digest, and (step 7) builds,
//! signs, prints and verifies the capsule header.
//!
//! Each step mirrors a step of the seed (its Python names are in the comments). Unlike the
//! seed, every reference below is a full 32-byte digest, the master passwords go through
//! PBKDF2 with a stored random salt, and the roots are RFC 9162 Merkle roots that bind the
//! records before them.

// Printing the digests is this program's job.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::error::Error;

use lcm::capsule::{
    DatasetRecords, DeploymentRecords, InferenceRecords, LifecycleRecords, MerkleLog,
    PolicyRequirements, TrainingRecords, create_capsule_header, validate_lcm_policy, verify_header,
};
use lcm::crypto::{Digest, HashAlgorithm, OsRandom, SigningKey, hash};
use lcm::get_default_policy;
use lcm::managers::{
    Context, DatasetFamilyManager, DeploymentManager, InferenceManager, InferenceRequest,
    ModelAnchorRequest, ModelManager, PreDeploymentRequest, RootManager, TrainingManager,
};
use lcm::model::records::{
    BuildArtifact, ComplianceStatus, DatasetFamilyMetadata, DatasetSplit, DatasetSplitAnchor,
    DeploymentStatusEvent, ModelArchitecture, Sbom, SplitInfo, TrainingEnvironment,
    TrainingMetrics,
};
use lcm::model::{Claimed, Sealed, Timestamp};
use serde_json::{Map, Value, json};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A sealed record as the header builder takes it (what a verifier would read back).
fn claimed<T: Clone>(sealed: &Sealed<T>) -> Claimed<T> {
    Claimed::from(sealed.clone())
}

fn ids(prefix: &str, range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i:04}")).collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    // The process-wide default policy (seed: get_default_policy()), passed in explicitly.
    let policy = get_default_policy();
    println!("{}", policy.format_policy_line()?);
    let ctx = Context::with_policy(policy.clone())?;

    // 1. Dataset family with train/validation/test splits
    //    (seed: LCMDatasetFamilyManager.create_dataset_family_anchor, add_dataset_splits).
    let mut datasets = DatasetFamilyManager::new(ctx.clone());
    let metadata = DatasetFamilyMetadata::new("medical_dataset", "v1.0", "hospital", "custom");
    let family = datasets.create_dataset_family_anchor("med_v1", metadata, "family_password")?;
    let splits = datasets.add_dataset_splits(
        &family,
        BTreeMap::from([
            (DatasetSplit::Train, SplitInfo::new(ids("r", 0..800))),
            (DatasetSplit::Validation, SplitInfo::new(ids("r", 800..900))),
            (DatasetSplit::Test, SplitInfo::new(ids("r", 900..1000))),
        ]),
    )?;
    let split = |s: DatasetSplit| splits.get(&s).map(Sealed::digest).ok_or("missing split");
    let datasets_root = datasets.datasets_root_anchor("med_v1")?;

    // 2. Model anchor (seed: LCMModelManager.create_model_anchor).
    let mut models = ModelManager::new(ctx.clone());
    let mut architecture = ModelArchitecture::new("CNN");
    architecture.total_params = Some(1_000_000);
    let model = models.create_model_anchor(
        &datasets,
        ModelAnchorRequest {
            model_name: "pneumonia_model".to_owned(),
            version: "v1.0".to_owned(),
            architecture,
            hyperparameters: object(json!({"lr": 0.001})),
            environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
            authorized_datasets: vec!["med_v1".to_owned()],
            trainer_commit: "commit123".to_owned(),
            parameters: None,
        },
        "model_password",
    )?;

    // 3. Training session, checkpoints and completion (seed: LCMTrainingManager).
    let mut training = TrainingManager::new(ctx.clone());
    let session = training.start_training_session(
        &datasets,
        &models,
        "train_001",
        &model,
        datasets_root,
        object(json!({"epochs": 50})),
        BTreeMap::from([
            (DatasetSplit::Train, split(DatasetSplit::Train)?),
            (DatasetSplit::Validation, split(DatasetSplit::Validation)?),
        ]),
    )?;
    let checkpoint = training.add_checkpoint(
        &session,
        "ckpt_epoch_10",
        10,
        2500,
        BTreeMap::from([("loss".to_owned(), 0.45), ("accuracy".to_owned(), 0.82)]),
        hash(HashAlgorithm::Sha256, b"model state at step 2500"),
        hash(HashAlgorithm::Sha256, b"optimizer state at step 2500"),
    )?;
    let snapshot = training.complete_training_session(
        &session,
        hash(HashAlgorithm::Sha256, b"final model weights"),
        TrainingMetrics::new(
            BTreeMap::from([("loss".to_owned(), vec![1.0, 0.45])]),
            BTreeMap::from([("loss".to_owned(), vec![1.1, 0.48])]),
            vec![1, 10],
        )?,
        "user_alice",
    )?;

    // 4. Pre-deployment and deployment (seed: LCMDeploymentManager).
    let mut deployments = DeploymentManager::new(ctx.clone());
    let predeploy = deployments.create_predeployment_anchor(PreDeploymentRequest {
        predeployment_id: "predeploy_001".to_owned(),
        model_anchor: model.digest(),
        training_snapshot: snapshot.digest(),
        build_artifact: BuildArtifact {
            artifact_type: "docker".to_owned(),
            artifact_digest: format!("sha256:{}", hash(HashAlgorithm::Sha256, b"image")),
            build_timestamp: Timestamp::now(),
            builder_info: "jenkins".to_owned(),
            size_bytes: 500 * 1024 * 1024,
        },
        sbom: Sbom {
            dependencies: BTreeMap::from([("tensorflow".to_owned(), "2.13.0".to_owned())]),
            security_scan_digest: hash(HashAlgorithm::Sha256, b"scan report"),
            vulnerability_count: 0,
            compliance_status: ComplianceStatus::Passed,
        },
        approval_ticket_id: "TICKET-123".to_owned(),
        intended_env: "prod".to_owned(),
        intended_region: "us-east-1".to_owned(),
        rollout_plan_digest: None,
    })?;
    let deploy = deployments.create_deployment_anchor(
        "deploy_001",
        "predeploy_001",
        json!({}),
        json!({}),
        "devops_alice",
    )?;

    // 5. Inference receipts, chained, committed with the policy's scheme
    //    (seed: LCMInferenceManager.create_inference_receipt, process_inference_batch).
    let mut inference = InferenceManager::new(ctx.clone())?;
    let mut receipts = Vec::new();
    let model_digest = model.digest();
    for i in 0..3 {
        let (receipt_id, request_id) = (format!("inf_{i:03}"), format!("req_{i:03}"));
        let request = InferenceRequest::new(&receipt_id, &model_digest, "deploy_001", &request_id)
            .query("input")
            .output("output");
        receipts.push(inference.create_inference_receipt(&deployments, request)?);
    }
    let batch = inference.process_inference_batch("batch_001", &receipts)?;

    // 6. Roots (seed: LCMRootManager).
    let mut roots = RootManager::new(ctx);
    let test = roots.create_test_evaluation_anchor(
        "test_001",
        &split(DatasetSplit::Test)?,
        "pre_deploy",
        &BTreeMap::from([("accuracy".to_owned(), 0.95)]),
    )?;
    let training_root = roots.compute_training_session_root(&snapshot)?;
    let release_root = roots.compute_release_root(&training_root, &predeploy, &deploy, &test)?;
    let receipt_digests: Vec<Digest> = receipts.iter().map(Sealed::digest).collect();
    let inference_root = roots.compute_inference_batch_root("batch_001", &receipt_digests)?;

    println!("Complete AI lifecycle recorded:");
    let stages: [(&str, Digest); 14] = [
        ("A dataset family anchor", family.digest()),
        ("A train split anchor", split(DatasetSplit::Train)?),
        (
            "A validation split anchor",
            split(DatasetSplit::Validation)?,
        ),
        ("A test split anchor", split(DatasetSplit::Test)?),
        ("A datasets root", datasets_root),
        ("B model anchor", model.digest()),
        ("C training snapshot", snapshot.digest()),
        ("D pre-deployment anchor", predeploy.digest()),
        ("E deployment anchor", deploy.digest()),
        ("F test evaluation anchor", test.digest()),
        (
            "G last inference receipt",
            receipt_digests.last().copied().ok_or("no receipt")?,
        ),
        ("H training session root", training_root),
        ("H release root", release_root.record().root),
        ("H inference batch root", inference_root.record().root),
    ];
    for (name, digest) in stages {
        println!("  {name:<28} {digest}");
    }
    println!(
        "  inference batch {} holds {} receipts",
        batch.record().window_id,
        batch.record().count
    );

    // 7. The capsule header (seed: LCMCapsuleManager.create_capsule_header): every stage's
    //    summary, signed with an Ed25519 key, printed, and verified as an auditor would
    //    with the public key alone.
    let family_c = claimed(&family);
    let splits_c: Vec<Claimed<DatasetSplitAnchor>> = splits.values().map(claimed).collect();
    let model_c = claimed(&model);
    let session_c = claimed(&session);
    let checkpoints_c = [Claimed::from(checkpoint)];
    let snapshot_c = claimed(&snapshot);
    let predeploy_c = claimed(&predeploy);
    let deploy_c = claimed(&deploy);
    let status_c: Vec<Claimed<DeploymentStatusEvent>> = deployments
        .status_history("deploy_001")
        .unwrap_or_default()
        .iter()
        .map(claimed)
        .collect();
    let test_c = claimed(&test);
    let receipt_log = MerkleLog::from_digests(policy.hash_algorithm, receipt_digests)?;
    let batches_c = [claimed(&batch)];
    let release_c = claimed(&release_root);
    let key = SigningKey::generate(&mut OsRandom)?;
    let header = create_capsule_header(
        &policy,
        &LifecycleRecords {
            dataset: Some(DatasetRecords {
                family: &family_c,
                splits: &splits_c,
            }),
            model: Some(&model_c),
            training: Some(TrainingRecords {
                session: &session_c,
                checkpoints: &checkpoints_c,
                snapshot: &snapshot_c,
            }),
            predeployment: Some(&predeploy_c),
            deployment: Some(DeploymentRecords {
                anchor: &deploy_c,
                status_history: &status_c,
            }),
            test_evaluation: Some(&test_c),
            inference: Some(InferenceRecords {
                receipts: &receipt_log,
                batches: &batches_c,
            }),
            release: Some(&release_c),
        },
        Timestamp::now(),
        &key,
    )?;
    println!("Complete AI lifecycle captured in capsule header:");
    println!("{}", header.to_json(Some(2))?);

    // The signature and the policy, checked with the public key only.
    let public = key.verifying_key();
    let report = verify_header(&header, &public)?;
    let policy_report = validate_lcm_policy(&header, &PolicyRequirements::default())?;
    println!(
        "header {} verified with key {}: {} checks passed",
        header.digest()?,
        public.key_id(),
        report.checks.len() + policy_report.checks.len()
    );
    // A header changed after signing does not verify.
    let mut tampered = header;
    if let Some(g) = tampered.stage_g_inference.as_mut() {
        g.receipt_count += 1;
    }
    match verify_header(&tampered, &public) {
        Err(failed) => println!(
            "a header with one more receipt claimed is refused: {}",
            failed
                .first()
                .map_or_else(|| failed.to_string(), ToString::to_string)
        ),
        Ok(_) => return Err("a tampered header verified".into()),
    }
    Ok(())
}

/// The example runs to its end: every stage recorded, the header built, signed and verified,
/// and a tampered header refused.
#[test]
fn runs_to_the_end() {
    if let Err(e) = main() {
        panic!("the example stopped: {e}");
    }
}
