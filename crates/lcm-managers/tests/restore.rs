//! Restoring managers from stored records: every later stage run on restored managers gives
//! the same records as the uninterrupted run, and every restore refuses tampered input with
//! the error naming what is wrong.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use lcm_crypto::merkle::InclusionProof;
use lcm_crypto::{Digest, Seed, SeededRandom};
use lcm_managers::{
    AnchoredModel, Context, DatasetFamilyManager, DeploymentManager, DeploymentRelease, Error,
    ModelAnchorRequest, ModelManager, PreDeploymentRequest, RestoredSplit, RootManager,
    TrainingManager, record_content_digest,
};
use lcm_model::records::{
    BuildArtifact, ComplianceStatus, DatasetFamilyAnchor, DatasetFamilyMetadata, DatasetSplit,
    DeploymentAnchor, DeploymentStatus, DeploymentStatusEvent, ModelAnchor, ModelArchitecture,
    ParameterFingerprint, PreDeploymentAnchor, ReleaseRoot, Sbom, SplitInfo, Tensor,
    TestEvaluationAnchor, TrainingCheckpoint, TrainingEnvironment, TrainingMetrics,
    TrainingSession, TrainingSnapshot,
};
use lcm_model::{Claimed, FixedClock, Policy, Record, Sealed, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// Asserts that `result` is the error `is` accepts (described as `what`).
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, Error>,
    what: std::fmt::Arguments<'_>,
    is: impl Fn(&Error) -> bool,
) {
    let refused = result.as_ref().err().is_some_and(is);
    assert!(refused, "expected {what}, got {result:?}");
}

/// Defines `fn $name(result, $arg: &str)`: asserts that `result` is the error `$pattern`
/// whose `$bound` equals `$arg` (described as `$what`).
macro_rules! refusal_assert {
    ($(#[$doc:meta])* fn $name:ident($arg:ident), $what:literal, $pattern:pat => $bound:ident) => {
        $(#[$doc])*
        #[track_caller]
        fn $name<T: std::fmt::Debug>(result: Result<T, Error>, $arg: &str) {
            assert_refused(result, format_args!($what), |e| {
                matches!(e, $pattern if *$bound == $arg)
            });
        }
    };
}

refusal_assert!(
    /// Asserts that `result` is an [`lcm_model::Error::UnexpectedValue`] in `field`.
    fn assert_unexpected(field),
    "an unexpected {field}",
    Error::Model(lcm_model::Error::UnexpectedValue { field: f, .. }) => f
);
refusal_assert!(
    /// Asserts that `result` is an [`lcm_model::Error::SealMismatch`] of a `kind` record.
    fn assert_seal_mismatch(kind),
    "a {kind} seal mismatch",
    Error::Model(lcm_model::Error::SealMismatch { kind: k, .. }) => k
);
refusal_assert!(
    /// Asserts that `result` is an [`lcm_model::Error::DuplicateId`] of a `kind` record.
    fn assert_duplicate(kind),
    "a duplicate {kind} id",
    Error::Model(lcm_model::Error::DuplicateId { kind: k, .. }) => k
);
refusal_assert!(
    /// Asserts that `result` is an [`Error::Empty`] `field`.
    fn assert_empty(field),
    "an empty {field}",
    Error::Empty { field: f, .. } => f
);

/// Asserts that `result` is an [`Error::OverlappingSplits`]: `record` in both the `first` and
/// the `second` split.
#[track_caller]
fn assert_overlap<T: std::fmt::Debug>(
    result: Result<T, Error>,
    record: &str,
    first: &str,
    second: &str,
) {
    assert_refused(
        result,
        format_args!("{record} in both the {first} and {second} splits"),
        |e| {
            matches!(e, Error::OverlappingSplits { record: r, first: f, second: s, .. }
                if (r.as_str(), f.as_str(), s.as_str()) == (record, first, second))
        },
    );
}

/// Asserts that `$result` is an error matching `$pattern`.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err(e) => assert!(
                matches!(e, $pattern),
                "expected {}, got {e:?}",
                stringify!($pattern)
            ),
            Ok(_) => panic!("expected {}, got Ok", stringify!($pattern)),
        }
    };
}

const FAMILY_ID: &str = "med_v1";
const FAMILY_PASSWORD: &str = "family password";
const MODEL_PASSWORD: &str = "model password";
const SESSION_ID: &str = "train_001";
const USER: &str = "user_alice";
const PRE_ID: &str = "predeploy_001";
const DEPLOY_ID: &str = "deploy_001";

// The stages, each with its own context in the uninterrupted run, so that a fresh manager (a
// "later process") can be given the same clock and randomness.
const DATASETS: u8 = 1;
const MODELS: u8 = 2;
const TRAINING: u8 = 3;
const DEPLOYMENTS: u8 = 4;
const ROOTS: u8 = 5;
/// A context no stage of the uninterrupted run uses.
const ELSEWHERE: u8 = 9;

fn policy() -> Policy {
    Policy {
        kdf_iterations: 100_000,
        ..Policy::default()
    }
}

/// The context of `stage`: SHA-256, the KDF floor, a fixed clock and a seeded stream.
fn stage_ctx(stage: u8) -> Context {
    let start = 1_700_000_000_000_000 + i64::from(stage) * 1_000_000_000;
    let clock = Arc::new(FixedClock::new(Timestamp::from_unix_micros(start), 1_000));
    let random = SeededRandom::new(&Seed::from_bytes([stage; 32]));
    Context::new(policy(), clock, random).expect("the fixture is valid")
}

/// The context of `stage` with its clock moved past the `ticks` records made before.
fn stage_ctx_after(stage: u8, ticks: usize) -> Context {
    let c = stage_ctx(stage);
    for _ in 0..ticks {
        c.now();
    }
    c
}

/// The record as storage gives it back: through its JSON form.
fn stored<T: Serialize, U: DeserializeOwned>(value: &T) -> U {
    serde_json::from_str(&serde_json::to_string(value).expect("the fixture is valid"))
        .expect("the fixture is valid")
}

/// `record` sealed again after an edit (a consistent seal over tampered content), as a
/// document would claim it.
fn reseal<T: Record>(record: T) -> Claimed<T> {
    Sealed::seal(record, &policy())
        .expect("the fixture is valid")
        .into()
}

/// A record of the lifecycle checked again, for the create paths that take sealed records.
fn sealed<T: Record + Clone>(claimed: &Claimed<T>) -> Sealed<T> {
    claimed.check_ref(&policy()).expect("the fixture is valid")
}

/// What a manager holds, as storage gives it back (to compare with the lifecycle's records).
fn claimed<T: Clone>(sealed: Option<&Sealed<T>>) -> Option<Claimed<T>> {
    sealed.map(Sealed::to_claimed)
}

/// `d` with its first byte changed.
fn flip(d: Digest) -> Digest {
    let mut b = d.to_bytes();
    b[0] ^= 1;
    Digest::from_bytes(b)
}

/// `claimed` with its digest's first byte changed: a seal that does not match its record.
fn flipped<T: Clone>(claimed: &Claimed<T>) -> Claimed<T> {
    let mut c = claimed.clone();
    c.digest = flip(c.digest);
    c
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

fn split_infos() -> BTreeMap<DatasetSplit, SplitInfo> {
    let p = policy();
    let train = ids("a", 8);
    let contents = train
        .iter()
        .map(|id| (id.clone(), record_content_digest(&p, id.as_bytes())))
        .collect();
    BTreeMap::from([
        (
            DatasetSplit::Train,
            SplitInfo {
                content_digests: contents,
                rng_seed: Some(42),
                ..SplitInfo::new(train)
            },
        ),
        (DatasetSplit::Validation, SplitInfo::new(ids("b", 2))),
        (DatasetSplit::Test, SplitInfo::new(ids("c", 2))),
    ])
}

fn model_request() -> ModelAnchorRequest {
    let mut architecture = ModelArchitecture::new("CNN");
    architecture.total_params = Some(1_000);
    ModelAnchorRequest {
        model_name: "pneumonia_model".into(),
        version: "v1.0".into(),
        architecture,
        hyperparameters: json!({"lr": 0.001, "batch": 32})
            .as_object()
            .cloned()
            .expect("the fixture is valid"),
        environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
        authorized_datasets: vec![FAMILY_ID.into()],
        trainer_commit: "commit123".into(),
        parameters: None,
    }
}

fn training_config() -> Map<String, Value> {
    json!({"optimizer": "adam", "epochs": 3})
        .as_object()
        .cloned()
        .expect("the fixture is valid")
}

/// The inputs of checkpoint `i`: id, epoch, step, metrics, model and optimizer state.
type CheckpointInput = (String, u64, u64, BTreeMap<String, f64>, Digest, Digest);

fn checkpoint_input(i: u8) -> CheckpointInput {
    let n = u64::from(i);
    (
        format!("ckpt_{i}"),
        n,
        100 * (n + 1),
        BTreeMap::from([("loss".to_owned(), 1.0 / f64::from(i + 1))]),
        Digest::from_bytes([10 + i; 32]),
        Digest::from_bytes([20 + i; 32]),
    )
}

fn add_checkpoint(
    t: &mut TrainingManager,
    session: &Sealed<TrainingSession>,
    i: u8,
) -> Result<Sealed<TrainingCheckpoint>, Error> {
    let (id, epoch, step, metrics, model, optimizer) = checkpoint_input(i);
    t.add_checkpoint(session, &id, epoch, step, metrics, model, optimizer)
}

fn final_metrics() -> TrainingMetrics {
    TrainingMetrics::new(
        BTreeMap::from([("loss".to_owned(), vec![1.0, 0.5, 0.33])]),
        BTreeMap::from([("accuracy".to_owned(), vec![0.7, 0.8, 0.9])]),
        vec![0, 1, 2],
    )
    .expect("the fixture is valid")
}

const FINAL_MODEL: Digest = Digest::from_bytes([3; 32]);

fn complete(
    t: &mut TrainingManager,
    session: &Sealed<TrainingSession>,
) -> Result<Sealed<TrainingSnapshot>, Error> {
    t.complete_training_session(session, FINAL_MODEL, final_metrics(), USER)
}

fn sbom() -> Sbom {
    Sbom {
        dependencies: BTreeMap::from([("tensorflow".into(), "2.13.0".into())]),
        security_scan_digest: Digest::from_bytes([4; 32]),
        vulnerability_count: 0,
        compliance_status: ComplianceStatus::Passed,
    }
}

fn predeployment_request(model: Digest, snapshot: Digest) -> PreDeploymentRequest {
    PreDeploymentRequest {
        predeployment_id: PRE_ID.into(),
        model_anchor: model,
        training_snapshot: snapshot,
        build_artifact: BuildArtifact {
            artifact_type: "docker".into(),
            artifact_digest: format!("sha256:{}", "ab".repeat(32)),
            build_timestamp: Timestamp::from_unix_micros(1_700_000_000_000_000),
            builder_info: "jenkins".into(),
            size_bytes: 500 << 20,
        },
        sbom: sbom(),
        approval_ticket_id: "TICKET-1".into(),
        intended_env: "production".into(),
        intended_region: "us-east-1".into(),
        rollout_plan_digest: None,
    }
}

fn deploy(d: &mut DeploymentManager) -> Result<Sealed<DeploymentAnchor>, Error> {
    d.create_deployment_anchor(
        DEPLOY_ID,
        PRE_ID,
        json!({"cluster": "prod"}),
        json!({"lb": "internal"}),
        "devops_alice",
    )
}

const ROLLBACK_REASON: &str = "latency regression";

/// Every record of one uninterrupted lifecycle, as storage gives it back, and what its
/// managers answered.
struct Lifecycle {
    family: Claimed<DatasetFamilyAnchor>,
    /// As the CLI stores them: each split's anchor, ids and content digests.
    splits: Vec<RestoredSplit>,
    datasets_root: Digest,
    /// The inclusion proof of each split's first record.
    proofs: BTreeMap<DatasetSplit, InclusionProof>,
    model: Claimed<ModelAnchor>,
    session: Claimed<TrainingSession>,
    checkpoints: Vec<Claimed<TrainingCheckpoint>>,
    snapshot: Claimed<TrainingSnapshot>,
    session_root: Digest,
    /// A second session of the same model, completed without checkpoints.
    other_session: Claimed<TrainingSession>,
    other_snapshot: Claimed<TrainingSnapshot>,
    predeployment: Claimed<PreDeploymentAnchor>,
    deployment: Claimed<DeploymentAnchor>,
    /// Deployed, failed, deployed again, rolled back.
    history: Vec<Claimed<DeploymentStatusEvent>>,
    test_evaluation: Claimed<TestEvaluationAnchor>,
    release: Claimed<ReleaseRoot>,
}

/// The uninterrupted lifecycle, made once (it derives two keys).
fn lifecycle() -> &'static Lifecycle {
    static LIFECYCLE: OnceLock<Lifecycle> = OnceLock::new();
    LIFECYCLE.get_or_init(make_lifecycle)
}

fn make_lifecycle() -> Lifecycle {
    let mut datasets = DatasetFamilyManager::new(stage_ctx(DATASETS));
    let metadata = DatasetFamilyMetadata::new("medical_images", "v1.0", "hospital", "custom");
    let family = datasets
        .create_dataset_family_anchor(FAMILY_ID, metadata, FAMILY_PASSWORD)
        .expect("the fixture is valid");
    let split_map = datasets
        .add_dataset_splits(&family, split_infos())
        .expect("the fixture is valid");
    // What `lcm record` keeps: the same calls as crates/lcm-cli/src/lifecycle.rs.
    let splits = split_map
        .iter()
        .map(|(&split, anchor)| RestoredSplit {
            anchor: anchor.to_claimed(),
            record_ids: datasets
                .split_records(FAMILY_ID, split)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            content_digests: datasets
                .split_contents(FAMILY_ID, split)
                .map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                .unwrap_or_default(),
        })
        .collect();
    let datasets_root = datasets
        .datasets_root_anchor(FAMILY_ID)
        .expect("the fixture is valid");
    let proofs = split_map
        .keys()
        .map(|&split| {
            let first = &datasets
                .split_records(FAMILY_ID, split)
                .expect("the fixture is valid")[0];
            let proof = datasets
                .record_inclusion_proof(FAMILY_ID, split, first)
                .expect("the fixture is valid");
            (split, proof)
        })
        .collect();

    let mut models = ModelManager::new(stage_ctx(MODELS));
    let model = models
        .create_model_anchor(&datasets, model_request(), MODEL_PASSWORD)
        .expect("the fixture is valid");

    let mut training = TrainingManager::new(stage_ctx(TRAINING));
    let data_splits: BTreeMap<DatasetSplit, Digest> =
        split_map.iter().map(|(s, a)| (*s, a.digest())).collect();
    let session = training
        .start_training_session(
            &datasets,
            &models,
            SESSION_ID,
            &model,
            datasets_root,
            training_config(),
            data_splits.clone(),
        )
        .expect("the fixture is valid");
    let checkpoints: Vec<_> = (0..3)
        .map(|i| add_checkpoint(&mut training, &session, i).expect("the fixture is valid"))
        .collect();
    let snapshot = complete(&mut training, &session).expect("the fixture is valid");
    let session_root = training
        .training_session_root(SESSION_ID)
        .expect("the fixture is valid");
    let other_session = training
        .start_training_session(
            &datasets,
            &models,
            "train_002",
            &model,
            datasets_root,
            training_config(),
            data_splits,
        )
        .expect("the fixture is valid");
    let other_snapshot = complete(&mut training, &other_session).expect("the fixture is valid");

    let mut deployments = DeploymentManager::new(stage_ctx(DEPLOYMENTS));
    let predeployment = deployments
        .create_predeployment_anchor(predeployment_request(model.digest(), snapshot.digest()))
        .expect("the fixture is valid");
    let deployment = deploy(&mut deployments).expect("the fixture is valid");
    deployments
        .record_status(DEPLOY_ID, DeploymentStatus::Failed, "probe failed")
        .expect("the fixture is valid");
    deployments
        .record_status(DEPLOY_ID, DeploymentStatus::Deployed, "retried")
        .expect("the fixture is valid");
    deployments
        .record_status(DEPLOY_ID, DeploymentStatus::RolledBack, ROLLBACK_REASON)
        .expect("the fixture is valid");
    let history = deployments
        .status_history(DEPLOY_ID)
        .expect("the fixture is valid")
        .to_vec();

    let mut roots = RootManager::new(stage_ctx(ROOTS));
    let test_evaluation = roots
        .create_test_evaluation_anchor(
            "test_001",
            &split_map[&DatasetSplit::Test].digest(),
            "pre_deploy",
            &BTreeMap::from([("accuracy".to_owned(), 0.885)]),
        )
        .expect("the fixture is valid");
    let release = roots
        .compute_release_root(&session_root, &predeployment, &deployment, &test_evaluation)
        .expect("the fixture is valid");

    Lifecycle {
        family: family.into(),
        splits,
        datasets_root,
        proofs,
        model: model.into(),
        session: session.into(),
        checkpoints: checkpoints.into_iter().map(Claimed::from).collect(),
        snapshot: snapshot.into(),
        session_root,
        other_session: other_session.into(),
        other_snapshot: other_snapshot.into(),
        predeployment: predeployment.into(),
        deployment: deployment.into(),
        history: history.into_iter().map(Claimed::from).collect(),
        test_evaluation: test_evaluation.into(),
        release: release.into(),
    }
}

/// The lifecycle's splits as storage gives them back.
fn stored_splits(l: &Lifecycle) -> Vec<RestoredSplit> {
    l.splits
        .iter()
        .map(|s| RestoredSplit {
            anchor: stored(&s.anchor),
            record_ids: s.record_ids.clone(),
            content_digests: s.content_digests.clone(),
        })
        .collect()
}

/// Runs `restore` on `manager` and, when it is refused, asserts `kept_nothing`: nothing is
/// kept from a refused restore.
fn all_or_nothing<M, T>(
    mut manager: M,
    restore: impl FnOnce(&mut M) -> Result<T, Error>,
    kept_nothing: impl FnOnce(&M) -> bool,
) -> Result<T, Error> {
    let r = restore(&mut manager);
    if r.is_err() {
        assert!(kept_nothing(&manager), "a refused restore kept something");
    }
    r
}

/// A fresh dataset manager holding the lifecycle's family, restored from storage.
fn restored_datasets(l: &Lifecycle) -> DatasetFamilyManager {
    let mut d = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
    d.restore_family(stored(&l.family), stored_splits(l))
        .expect("the fixture is valid");
    d
}

/// A fresh model manager holding the lifecycle's model, restored from its anchor alone.
fn restored_models(l: &Lifecycle) -> ModelManager {
    let mut m = ModelManager::new(stage_ctx(ELSEWHERE));
    m.restore_model(stored(&l.model))
        .expect("the fixture is valid");
    m
}

fn split(l: &Lifecycle, split: DatasetSplit) -> RestoredSplit {
    l.splits
        .iter()
        .find(|s| s.anchor.record.split == split)
        .cloned()
        .expect("the fixture is valid")
}

// ---------------------------------------------------------------------------------------------
// Round trips.

#[test]
fn restored_datasets_answer_like_the_originals() {
    let l = lifecycle();
    let d = restored_datasets(l);
    assert_eq!(claimed(d.dataset_family(FAMILY_ID)), Some(l.family.clone()));
    assert_eq!(d.family_ids().collect::<Vec<_>>(), vec![FAMILY_ID]);
    assert_eq!(
        claimed(d.find_family_anchor(&l.family.digest)),
        Some(l.family.clone())
    );
    assert_eq!(d.datasets_root_anchor(FAMILY_ID).unwrap(), l.datasets_root);
    assert_eq!(d.split_anchors(FAMILY_ID).len(), 3);
    for s in &l.splits {
        let which = s.anchor.record.split;
        assert_eq!(
            claimed(d.split_anchor(FAMILY_ID, which)),
            Some(s.anchor.clone())
        );
        assert_eq!(
            claimed(d.find_split_anchor(&s.anchor.digest)),
            Some(s.anchor.clone())
        );
        assert_eq!(
            d.split_records(FAMILY_ID, which),
            Some(s.record_ids.as_slice())
        );
        let contents = d
            .split_contents(FAMILY_ID, which)
            .map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        if s.content_digests.is_empty() {
            assert_eq!(contents, None, "{which}");
        } else {
            assert_eq!(contents.as_ref(), Some(&s.content_digests), "{which}");
        }
        let first = &s.record_ids[0];
        let proof = d.record_inclusion_proof(FAMILY_ID, which, first).unwrap();
        assert_eq!(proof, l.proofs[&which]);
        lcm_managers::verify_record_inclusion(&policy(), &s.anchor.record, first, &proof).unwrap();
    }
    // The salt and cost came along: the password still opens the anchor.
    d.verify_password(FAMILY_ID, FAMILY_PASSWORD).unwrap();
}

#[test]
fn restored_family_takes_further_splits_with_the_leak_check() {
    let l = lifecycle();
    let mut d = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
    let two = stored_splits(l)
        .into_iter()
        .filter(|s| s.anchor.record.split != DatasetSplit::Test)
        .collect();
    d.restore_family(stored(&l.family), two).unwrap();
    // A test split sharing a record with the restored train split is a leak.
    let leaking = BTreeMap::from([(
        DatasetSplit::Test,
        SplitInfo::new(vec!["a003".into(), "c000".into()]),
    )]);
    assert_overlap(
        d.add_dataset_splits(&sealed(&l.family), leaking),
        "a003",
        "train",
        "test",
    );
    // A split the family already has is refused, a new clean one is added.
    let again = BTreeMap::from([(DatasetSplit::Train, SplitInfo::new(ids("z", 1)))]);
    assert_err!(
        d.add_dataset_splits(&sealed(&l.family), again),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
    let test = BTreeMap::from([(DatasetSplit::Test, SplitInfo::new(ids("c", 2)))]);
    let added = d.add_dataset_splits(&sealed(&l.family), test).unwrap();
    let original = split(l, DatasetSplit::Test).anchor;
    assert_eq!(
        added[&DatasetSplit::Test].record().records_root,
        original.record.records_root
    );
}

#[test]
fn model_after_restored_datasets_is_identical() {
    let l = lifecycle();
    let datasets = restored_datasets(l);
    let mut models = ModelManager::new(stage_ctx(MODELS));
    let model = models
        .create_model_anchor(&datasets, model_request(), MODEL_PASSWORD)
        .unwrap();
    assert_eq!(model, l.model);
}

#[test]
fn training_after_restored_datasets_and_model_is_identical() {
    let l = lifecycle();
    let datasets = restored_datasets(l);
    let models = restored_models(l);
    let model: Claimed<ModelAnchor> = stored(&l.model);
    assert_eq!(
        claimed(models.model_anchor("pneumonia_model", "v1.0")),
        Some(model.clone())
    );
    assert_eq!(
        claimed(models.find_model_anchor(&model.digest)),
        Some(model.clone())
    );
    // The inputs are not in the anchor.
    assert!(models.model("pneumonia_model", "v1.0").is_none());
    assert!(models.find_model(&model.digest).is_none());
    assert_eq!(
        models.list_models().collect::<Vec<_>>(),
        vec![("pneumonia_model", "v1.0")]
    );

    let mut training = TrainingManager::new(stage_ctx(TRAINING));
    let data_splits = l
        .splits
        .iter()
        .map(|s| (s.anchor.record.split, s.anchor.digest))
        .collect();
    let session = training
        .start_training_session(
            &datasets,
            &models,
            SESSION_ID,
            &sealed(&model),
            datasets.datasets_root_anchor(FAMILY_ID).unwrap(),
            training_config(),
            data_splits,
        )
        .unwrap();
    assert_eq!(session, l.session);
    for i in 0..3 {
        let cp = add_checkpoint(&mut training, &session, i).unwrap();
        assert_eq!(cp, l.checkpoints[usize::from(i)]);
    }
    assert_eq!(complete(&mut training, &session).unwrap(), l.snapshot);
    assert_eq!(
        training.training_session_root(SESSION_ID).unwrap(),
        l.session_root
    );
}

#[test]
fn restored_open_session_takes_further_checkpoints() {
    let l = lifecycle();
    for done in 0..=3u8 {
        // The session and `done` checkpoints were made earlier; the clock is past them.
        let mut t = TrainingManager::new(stage_ctx_after(TRAINING, 1 + usize::from(done)));
        let earlier = l.checkpoints[..usize::from(done)]
            .iter()
            .map(stored)
            .collect();
        t.restore_session(
            &restored_datasets(l),
            &restored_models(l),
            stored(&l.session),
            earlier,
            None,
        )
        .unwrap();
        // A checkpoint id used before the restore is still refused (on a twin, whose clock
        // may move on).
        if done > 0 {
            let mut twin = TrainingManager::new(stage_ctx(ELSEWHERE));
            let earlier = l.checkpoints[..usize::from(done)].to_vec();
            twin.restore_session(
                &restored_datasets(l),
                &restored_models(l),
                l.session.clone(),
                earlier,
                None,
            )
            .unwrap();
            let (_, epoch, _, metrics, model, optimizer) = checkpoint_input(3);
            assert_err!(
                twin.add_checkpoint(
                    &sealed(&l.session),
                    "ckpt_0",
                    epoch,
                    1_000,
                    metrics,
                    model,
                    optimizer
                ),
                Error::Model(lcm_model::Error::DuplicateId { .. })
            );
        }
        let run = t.training_session(SESSION_ID).unwrap();
        assert!(!run.is_completed());
        assert_eq!(run.checkpoints().len(), usize::from(done));
        assert_err!(
            t.training_session_root(SESSION_ID),
            Error::NotCompleted { .. }
        );
        for i in done..3 {
            let cp = add_checkpoint(&mut t, &sealed(&l.session), i).unwrap();
            assert_eq!(cp, l.checkpoints[usize::from(i)], "after {done}");
        }
        assert_eq!(complete(&mut t, &sealed(&l.session)).unwrap(), l.snapshot);
        assert_eq!(t.training_session_root(SESSION_ID).unwrap(), l.session_root);
        t.verify_session(SESSION_ID).unwrap();
    }
}

#[test]
fn restored_completed_session_refuses_changes() {
    let l = lifecycle();
    let mut t = TrainingManager::new(stage_ctx(ELSEWHERE));
    let checkpoints = l.checkpoints.iter().map(stored).collect();
    t.restore_session(
        &restored_datasets(l),
        &restored_models(l),
        stored(&l.session),
        checkpoints,
        Some((stored(&final_metrics()), stored(&l.snapshot))),
    )
    .unwrap();
    let run = t.training_session(SESSION_ID).unwrap();
    assert!(run.is_completed());
    assert_eq!(claimed(run.snapshot()), Some(l.snapshot.clone()));
    assert_eq!(run.metrics(), Some(&final_metrics()));
    assert_eq!(run.checkpoint_head(), l.checkpoints[2].digest);
    assert_eq!(t.training_session_root(SESSION_ID).unwrap(), l.session_root);
    t.verify_session(SESSION_ID).unwrap();
    assert_err!(
        add_checkpoint(&mut t, &sealed(&l.session), 3),
        Error::AlreadyCompleted { .. }
    );
    assert_err!(
        complete(&mut t, &sealed(&l.session)),
        Error::AlreadyCompleted { .. }
    );
}

#[test]
fn deployment_after_restored_predeployment_is_identical() {
    let l = lifecycle();
    let mut d = DeploymentManager::new(stage_ctx_after(DEPLOYMENTS, 1));
    d.restore_predeployment(stored(&l.predeployment), stored(&sbom()))
        .unwrap();
    assert_eq!(
        claimed(d.predeployment(PRE_ID)),
        Some(l.predeployment.clone())
    );
    assert_eq!(d.sbom(PRE_ID), Some(&sbom()));
    assert_eq!(deploy(&mut d).unwrap(), l.deployment);
    assert_eq!(d.status_history(DEPLOY_ID).unwrap(), &l.history[..1]);
}

#[test]
fn rollback_on_restored_deployment_is_identical() {
    let l = lifecycle();
    // Predeployment, deployment and two status changes were recorded earlier.
    let mut d = DeploymentManager::new(stage_ctx_after(DEPLOYMENTS, 4));
    d.restore_predeployment(stored(&l.predeployment), sbom())
        .unwrap();
    let earlier = l.history[..3].iter().map(stored).collect();
    d.restore_deployment(stored(&l.deployment), earlier)
        .unwrap();
    assert_eq!(claimed(d.deployment(DEPLOY_ID)), Some(l.deployment.clone()));
    assert_eq!(
        d.current_status(DEPLOY_ID),
        Some(DeploymentStatus::Deployed)
    );
    let rollback = d
        .record_status(DEPLOY_ID, DeploymentStatus::RolledBack, ROLLBACK_REASON)
        .unwrap();
    assert_eq!(rollback, l.history[3]);
    assert_eq!(d.status_history(DEPLOY_ID).unwrap(), l.history.as_slice());
    assert_eq!(
        d.current_status(DEPLOY_ID),
        Some(DeploymentStatus::RolledBack)
    );
    assert_eq!(
        d.release(DEPLOY_ID),
        Some(DeploymentRelease {
            deployment: l.deployment.digest,
            predeployment: l.predeployment.digest,
            model_anchor: l.model.digest,
            training_snapshot: l.snapshot.digest,
            status: DeploymentStatus::RolledBack,
        })
    );
    d.verify_status_history(DEPLOY_ID).unwrap();
    // A rollback is final, restored or not.
    assert_unexpected(
        d.record_status(DEPLOY_ID, DeploymentStatus::Deployed, "again"),
        "status",
    );
    // A full history restores with its final status.
    let mut e = DeploymentManager::new(stage_ctx(ELSEWHERE));
    e.restore_predeployment(stored(&l.predeployment), sbom())
        .unwrap();
    e.restore_deployment(stored(&l.deployment), l.history.clone())
        .unwrap();
    assert_eq!(
        e.current_status(DEPLOY_ID),
        Some(DeploymentStatus::RolledBack)
    );
}

#[test]
fn release_root_from_restored_records_is_identical() {
    let l = lifecycle();
    let mut r = RootManager::new(stage_ctx(ELSEWHERE));
    r.restore_test_evaluation(stored(&l.test_evaluation))
        .unwrap();
    assert_eq!(
        claimed(r.test_evaluation("test_001")),
        Some(l.test_evaluation.clone())
    );
    r.restore_release_root(&l.deployment, stored(&l.release))
        .unwrap();
    assert_eq!(claimed(r.release_root(DEPLOY_ID)), Some(l.release.clone()));

    // The release root recomputed from restored records alone.
    let mut t = TrainingManager::new(stage_ctx(ELSEWHERE));
    t.restore_session(
        &restored_datasets(l),
        &restored_models(l),
        stored(&l.session),
        l.checkpoints.clone(),
        Some((final_metrics(), stored(&l.snapshot))),
    )
    .unwrap();
    let session_root = t.training_session_root(SESSION_ID).unwrap();
    let mut fresh = RootManager::new(stage_ctx(ELSEWHERE));
    let release = fresh
        .compute_release_root(
            &session_root,
            &stored::<_, Claimed<PreDeploymentAnchor>>(&l.predeployment),
            &stored::<_, Claimed<DeploymentAnchor>>(&l.deployment),
            r.test_evaluation("test_001").unwrap(),
        )
        .unwrap();
    assert_eq!(release, l.release);
}

// ---------------------------------------------------------------------------------------------
// Tamper twins: datasets.

#[test]
fn restore_family_refuses_tampered_family_anchors() {
    let l = lifecycle();
    let check = |family: Claimed<DatasetFamilyAnchor>, splits: Vec<RestoredSplit>| {
        all_or_nothing(
            DatasetFamilyManager::new(stage_ctx(ELSEWHERE)),
            |d| d.restore_family(family, splits),
            |d| d.family_ids().count() == 0,
        )
    };
    check(l.family.clone(), l.splits.clone()).unwrap();

    assert_seal_mismatch(
        check(flipped(&l.family), l.splits.clone()),
        "dataset family",
    );
    let mut edited = l.family.clone();
    edited.record.metadata.owner = "mallory".into();
    assert_seal_mismatch(check(edited.clone(), Vec::new()), "dataset family");
    // Resealed, the metadata no longer matches the MAC's message.
    assert_seal_mismatch(
        check(reseal(edited.record), Vec::new()),
        "dataset family metadata_digest",
    );
    let mut cheap = l.family.record.clone();
    cheap.kdf_iterations = 1_000;
    assert_err!(check(reseal(cheap), Vec::new()), Error::Crypto(_));
    let mut unnamed = l.family.record.clone();
    unnamed.family_id = String::new();
    assert_empty(check(reseal(unnamed), Vec::new()), "family_id");
    let mut no_owner = l.family.record.clone();
    no_owner.metadata.owner = String::new();
    no_owner.metadata_digest = no_owner.metadata.digest(&policy()).unwrap();
    assert_err!(check(reseal(no_owner), Vec::new()), Error::Empty { .. });

    // A family is restored once, and not over one made here.
    let mut d = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
    d.restore_family(l.family.clone(), Vec::new()).unwrap();
    assert_duplicate(
        d.restore_family(l.family.clone(), l.splits.clone()),
        "dataset family",
    );
    assert_err!(
        d.create_dataset_family_anchor(FAMILY_ID, l.family.record.metadata.clone(), "pw"),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
    assert!(d.split_anchors(FAMILY_ID).is_empty());
}

#[test]
fn restore_family_refuses_tampered_splits() {
    let l = lifecycle();
    // The splits with the one of `which` replaced by `edit(split)`.
    let with = |which: DatasetSplit, edit: &dyn Fn(&mut RestoredSplit)| {
        let splits = l
            .splits
            .iter()
            .cloned()
            .map(|mut s| {
                if s.anchor.record.split == which {
                    edit(&mut s);
                }
                s
            })
            .collect();
        let mut d = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
        let r = d.restore_family(l.family.clone(), splits);
        if r.is_err() {
            assert!(d.dataset_family(FAMILY_ID).is_none());
        }
        r
    };
    use DatasetSplit::{Test, Train, Validation};

    assert_seal_mismatch(
        with(Test, &|s| s.anchor.digest = flip(s.anchor.digest)),
        "dataset split",
    );
    assert_seal_mismatch(
        with(Test, &|s| s.anchor.record.sample_count = 3),
        "dataset split",
    );
    // A record id added or removed.
    assert_unexpected(
        with(Validation, &|s| s.record_ids.push("b999".into())),
        "sample_count",
    );
    assert_unexpected(
        with(Validation, &|s| {
            s.record_ids.pop();
        }),
        "sample_count",
    );
    // A record id replaced: the roots do not match.
    assert_err!(
        with(Test, &|s| s.record_ids[1] = "c999".into()),
        Error::Model(lcm_model::Error::RootMismatch {
            root: "split assignment_digest",
            ..
        })
    );
    assert_err!(
        with(Test, &|s| s.record_ids[1] = s.record_ids[0].clone()),
        Error::DuplicateRecord { .. }
    );
    assert_empty(
        with(Test, &|s| s.record_ids[1] = String::new()),
        "record_ids",
    );
    // The ids may come in any order.
    with(Train, &|s| s.record_ids.reverse()).unwrap();
    // Content digests: one changed, one missing, one for another id, none, some when the
    // anchor has no contents root.
    assert_err!(
        with(Train, &|s| {
            let d = s.content_digests.get_mut("a004").unwrap();
            *d = flip(*d);
        }),
        Error::Model(lcm_model::Error::RootMismatch {
            root: "split contents_root",
            ..
        })
    );
    assert_unexpected(
        with(Train, &|s| {
            s.content_digests.remove("a004");
        }),
        "content_digests",
    );
    assert_unexpected(
        with(Train, &|s| {
            let d = s.content_digests.remove("a004").unwrap();
            s.content_digests.insert("a004x".into(), d);
        }),
        "content_digests",
    );
    assert_unexpected(
        with(Train, &|s| s.content_digests.clear()),
        "content_digests",
    );
    assert_unexpected(
        with(Test, &|s| {
            s.content_digests = s
                .record_ids
                .iter()
                .map(|id| (id.clone(), Digest::from_bytes([0; 32])))
                .collect();
        }),
        "content_digests",
    );
    // An anchor edited consistently (resealed) to drop a record still fails its roots.
    assert_err!(
        with(Test, &|s| {
            s.record_ids.pop();
            let mut a = s.anchor.record.clone();
            a.sample_count = 1;
            s.anchor = reseal(a);
        }),
        Error::Model(lcm_model::Error::RootMismatch { .. })
    );
}

#[test]
fn restore_family_refuses_foreign_repeated_and_overlapping_splits() {
    let l = lifecycle();
    let restore = |splits: Vec<RestoredSplit>| {
        DatasetFamilyManager::new(stage_ctx(ELSEWHERE)).restore_family(l.family.clone(), splits)
    };
    // Another family (same metadata, another id; its MAC is not checked by a restore) with a
    // genuine split of its own.
    let mut other_record = l.family.record.clone();
    other_record.family_id = "other".into();
    let other = reseal(other_record);
    let mut maker = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
    maker.restore_family(other.clone(), Vec::new()).unwrap();
    let foreign = maker
        .add_dataset_splits(
            &sealed(&other),
            BTreeMap::from([(DatasetSplit::Test, SplitInfo::new(ids("x", 2)))]),
        )
        .unwrap();
    let foreign = RestoredSplit {
        anchor: foreign[&DatasetSplit::Test].clone().into(),
        record_ids: ids("x", 2),
        content_digests: BTreeMap::new(),
    };
    let mut splits: Vec<RestoredSplit> = l
        .splits
        .iter()
        .filter(|s| s.anchor.record.split != DatasetSplit::Test)
        .cloned()
        .collect();
    splits.push(foreign.clone());
    assert_unexpected(restore(splits), "family_id");
    // The same split renamed into this family still names the other family's anchor.
    let mut renamed = foreign.anchor.record.clone();
    renamed.family_id = FAMILY_ID.into();
    let renamed = RestoredSplit {
        anchor: reseal(renamed),
        ..foreign
    };
    assert_unexpected(restore(vec![renamed]), "family_anchor");
    // This family's splits under the other family's anchor.
    let mut d = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
    assert_unexpected(d.restore_family(other, l.splits.clone()), "family_id");

    // A split listed twice.
    let mut twice = l.splits.clone();
    twice.push(split(l, DatasetSplit::Validation));
    assert_duplicate(restore(twice), "dataset split");

    // Two genuine splits of this family, made apart, that share a record.
    let split_of = |which: DatasetSplit, ids: Vec<String>| {
        let mut m = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
        m.restore_family(l.family.clone(), Vec::new()).unwrap();
        let made = m
            .add_dataset_splits(
                &sealed(&l.family),
                BTreeMap::from([(which, SplitInfo::new(ids.clone()))]),
            )
            .unwrap();
        RestoredSplit {
            anchor: made[&which].clone().into(),
            record_ids: ids,
            content_digests: BTreeMap::new(),
        }
    };
    let train = split_of(DatasetSplit::Train, vec!["p".into(), "q".into()]);
    let test = split_of(DatasetSplit::Test, vec!["q".into(), "r".into()]);
    assert_overlap(restore(vec![train.clone(), test]), "q", "train", "test");
    let clean = split_of(DatasetSplit::Test, vec!["r".into()]);
    restore(vec![train, clean]).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tamper twins: models.

#[test]
fn restore_model_refuses_tampered_anchors() {
    let l = lifecycle();
    let check = |anchor: Claimed<ModelAnchor>| {
        all_or_nothing(
            ModelManager::new(stage_ctx(ELSEWHERE)),
            |m| m.restore_model(anchor),
            |m| m.list_models().count() == 0,
        )
    };
    assert_seal_mismatch(check(flipped(&l.model)), "model");
    // Another authorized dataset, unsealed and resealed.
    let mut widened = l.model.clone();
    widened
        .record
        .description
        .authorized_datasets
        .insert("other".into(), Digest::from_bytes([9; 32]));
    assert_seal_mismatch(check(widened.clone()), "model");
    assert_seal_mismatch(check(reseal(widened.record)), "model description_digest");
    let mut cheap = l.model.record.clone();
    cheap.kdf_iterations = 99_999;
    assert_err!(check(reseal(cheap)), Error::Crypto(_));
    let mut no_commit = l.model.record.clone();
    no_commit.description.trainer_commit = String::new();
    assert_empty(check(reseal(no_commit)), "trainer_commit");

    let mut m = restored_models(l);
    assert_duplicate(m.restore_model(l.model.clone()), "model");
    // A restored model is a known model: anchoring it again is refused.
    assert_err!(
        m.create_model_anchor(&restored_datasets(l), model_request(), MODEL_PASSWORD),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
    // A model anchored without weights has no fingerprint to check.
    let fp = weights_fingerprint(&[0; 4]);
    assert_unexpected(
        m.verify_parameters("pneumonia_model", "v1.0", &fp),
        "parameters",
    );
}

/// The fingerprint of one `f32` tensor `w` holding `weights`.
fn weights_fingerprint(weights: &[u8]) -> ParameterFingerprint {
    let shape = [weights.len() as u64 / 4];
    let tensor = Tensor::new("w", "f32", &shape, weights);
    ParameterFingerprint::compute(&policy(), [tensor]).expect("the fixture is valid")
}

#[test]
fn restore_anchored_model_checks_its_inputs() {
    let l = lifecycle();
    // A model anchored with weights (one more key derivation).
    let fp = weights_fingerprint(&[0; 8]);
    let other_fp = weights_fingerprint(&[0, 0, 0, 0, 0, 0, 128, 63]);
    let mut request = model_request();
    request.version = "v2.0".into();
    request.architecture.total_params = Some(2);
    request.parameters = Some(fp.clone());
    let mut maker = ModelManager::new(stage_ctx(MODELS));
    let anchor = maker
        .create_model_anchor(&restored_datasets(l), request, MODEL_PASSWORD)
        .unwrap();
    let full = maker.model("pneumonia_model", "v2.0").unwrap().clone();

    // From the anchor alone, the weights are checked against the anchored root.
    let mut m = ModelManager::new(stage_ctx(ELSEWHERE));
    m.restore_model(stored(&anchor)).unwrap();
    m.verify_parameters("pneumonia_model", "v2.0", &fp).unwrap();
    assert_unexpected(
        m.verify_parameters("pneumonia_model", "v2.0", &other_fp),
        "parameters",
    );

    // With the inputs, the inputs are checked against the anchor's digests.
    let check = |model: AnchoredModel| {
        ModelManager::new(stage_ctx(ELSEWHERE)).restore_anchored_model(model)
    };
    let mut m = ModelManager::new(stage_ctx(ELSEWHERE));
    m.restore_anchored_model(full.clone()).unwrap();
    assert_eq!(
        m.model("pneumonia_model", "v2.0").map(|x| &x.anchor),
        Some(&anchor)
    );
    assert_eq!(
        m.find_model(&anchor.digest()).map(|x| &x.anchor),
        Some(&anchor)
    );
    match m.verify_parameters("pneumonia_model", "v2.0", &other_fp) {
        Err(e) => assert!(e.to_string().contains("changed w"), "{e}"),
        Ok(()) => panic!("changed weights verified"),
    }
    assert_err!(
        m.restore_model(anchor.into()),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );

    let mut a = full.clone();
    a.architecture.model_type = "RNN".into();
    assert_seal_mismatch(check(a), "model architecture_fingerprint");
    let mut h = full.clone();
    h.hyperparameters.insert("lr".into(), json!(0.01));
    assert_seal_mismatch(check(h), "model hyperparameters_digest");
    let mut e = full.clone();
    e.environment.framework_version = "2.14.0".into();
    assert_seal_mismatch(check(e), "model environment_digest");
    let mut w = full.clone();
    w.parameters = Some(other_fp);
    assert_seal_mismatch(check(w), "model parameter_fingerprint");
    let mut none = full.clone();
    none.parameters = None;
    assert_unexpected(check(none), "parameters");
    // An anchor sealed under another policy does not recompute under the manager's.
    let mut bad_anchor = full;
    let blake = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        ..policy()
    };
    bad_anchor.anchor = Sealed::seal(bad_anchor.anchor.into_record(), &blake).unwrap();
    assert_seal_mismatch(check(bad_anchor), "model");
    // Weights given for a model anchored without any.
    let no_weights = AnchoredModel {
        anchor: sealed(&l.model),
        architecture: model_request().architecture,
        hyperparameters: model_request().hyperparameters,
        environment: model_request().environment,
        parameters: None,
    };
    check(no_weights.clone()).unwrap();
    let mut extra = no_weights;
    extra.architecture.total_params = Some(2);
    assert_seal_mismatch(check(extra.clone()), "model architecture_fingerprint");
    extra.architecture = model_request().architecture;
    extra.architecture.total_params = Some(1_000);
    extra.parameters = Some(fp);
    assert_unexpected(check(extra), "architecture.total_params");
}

// ---------------------------------------------------------------------------------------------
// Tamper twins: training.

/// Restores `session` into a fresh training manager over the restored datasets and model
/// (nothing kept when refused).
fn restore_session(
    l: &Lifecycle,
    session: Claimed<TrainingSession>,
    checkpoints: Vec<Claimed<TrainingCheckpoint>>,
    completion: Option<(TrainingMetrics, Claimed<TrainingSnapshot>)>,
) -> Result<(), Error> {
    all_or_nothing(
        TrainingManager::new(stage_ctx(ELSEWHERE)),
        |t| {
            let (datasets, models) = (restored_datasets(l), restored_models(l));
            t.restore_session(&datasets, &models, session, checkpoints, completion)
        },
        |t| t.training_session(SESSION_ID).is_none(),
    )
}

#[test]
fn restore_session_refuses_broken_checkpoint_chains() {
    let l = lifecycle();
    let check = |session: Claimed<TrainingSession>, cps: Vec<Claimed<TrainingCheckpoint>>| {
        restore_session(l, session, cps, None)
    };
    let cps = |order: &[usize]| -> Vec<Claimed<TrainingCheckpoint>> {
        order.iter().map(|&i| l.checkpoints[i].clone()).collect()
    };
    // The first checkpoint, then `second` resealed after an edit.
    let then = |second: TrainingCheckpoint| vec![l.checkpoints[0].clone(), reseal(second)];
    check(l.session.clone(), cps(&[0, 1, 2])).unwrap();

    let session = flipped(&l.session);
    assert_seal_mismatch(check(session, cps(&[0, 1, 2])), "training session");
    let mut session = l.session.record.clone();
    session.session_id = String::new();
    assert_empty(check(reseal(session), Vec::new()), "session_id");
    let mut edited = cps(&[0, 1, 2]);
    edited[1].record.step += 1;
    assert_seal_mismatch(check(l.session.clone(), edited), "training checkpoint");
    // Missing, reordered and repeated checkpoints.
    assert_err!(
        check(l.session.clone(), cps(&[0, 2])),
        Error::Model(lcm_model::Error::ChainGap {
            index: 1,
            expected: 1,
            actual: 2,
            ..
        })
    );
    assert_err!(
        check(l.session.clone(), cps(&[1, 2])),
        Error::Model(lcm_model::Error::ChainGap { index: 0, .. })
    );
    assert_err!(
        check(l.session.clone(), cps(&[0, 1, 1])),
        Error::Model(lcm_model::Error::ChainOrder {
            index: 2,
            expected: 2,
            actual: 1,
            ..
        })
    );
    // An index edited and resealed: the position check catches it.
    let mut moved = l.checkpoints[1].record.clone();
    moved.index = 0;
    assert_err!(
        check(l.session.clone(), then(moved)),
        Error::Model(lcm_model::Error::ChainOrder { index: 1, .. })
    );
    // A broken link: the second checkpoint links to the session, not to the first.
    let mut unlinked = l.checkpoints[1].record.clone();
    unlinked.previous = l.session.digest;
    assert_err!(
        check(l.session.clone(), then(unlinked)),
        Error::Model(lcm_model::Error::ChainLink { index: 1, .. })
    );
    // A checkpoint of another session.
    let mut foreign = l.checkpoints[0].record.clone();
    foreign.session = l.other_session.digest;
    assert_unexpected(check(l.session.clone(), vec![reseal(foreign)]), "session");
    assert_unexpected(check(l.other_session.clone(), cps(&[0])), "session");
    // The create path's checks: a repeated id, a step going back, an empty id or metric name.
    let mut repeated = l.checkpoints[1].record.clone();
    repeated.checkpoint_id = "ckpt_0".into();
    assert_duplicate(
        check(l.session.clone(), then(repeated)),
        "training checkpoint",
    );
    let mut back = l.checkpoints[1].record.clone();
    back.step = l.checkpoints[0].record.step;
    assert_unexpected(check(l.session.clone(), then(back)), "step");
    let mut anonymous = l.checkpoints[0].record.clone();
    anonymous.checkpoint_id = String::new();
    assert_empty(
        check(l.session.clone(), vec![reseal(anonymous)]),
        "checkpoint_id",
    );

    // A session resealed without splits: the create path refuses to start one.
    let mut no_splits = l.session.record.clone();
    no_splits.data_splits.clear();
    assert_err!(
        TrainingManager::new(stage_ctx(ELSEWHERE)).restore_session(
            &restored_datasets(l),
            &restored_models(l),
            reseal(no_splits),
            Vec::new(),
            None
        ),
        Error::Model(lcm_model::Error::EmptyCollection {
            kind: "training session",
            field: "data_splits",
            ..
        })
    );

    // A session is restored once.
    let mut t = TrainingManager::new(stage_ctx(ELSEWHERE));
    t.restore_session(
        &restored_datasets(l),
        &restored_models(l),
        l.session.clone(),
        Vec::new(),
        None,
    )
    .unwrap();
    assert_duplicate(
        t.restore_session(
            &restored_datasets(l),
            &restored_models(l),
            l.session.clone(),
            cps(&[0]),
            None,
        ),
        "training session",
    );
    // The session kept is the one restored first, with no checkpoints.
    assert!(
        t.training_session(SESSION_ID)
            .unwrap()
            .checkpoints()
            .is_empty()
    );
}

/// What `start_training_session` checks is checked again on restore: a resealed session whose
/// model, splits or datasets root were edited is refused.
#[test]
fn restore_session_rechecks_the_sessions_references() {
    let l = lifecycle();
    let restore =
        |session: TrainingSession, datasets: &DatasetFamilyManager, models: &ModelManager| {
            TrainingManager::new(stage_ctx(ELSEWHERE)).restore_session(
                datasets,
                models,
                reseal(session),
                Vec::new(),
                None,
            )
        };
    let (datasets, models) = (restored_datasets(l), restored_models(l));
    // The untouched session is accepted; so the refusals below are the edits'.
    restore(l.session.record.clone(), &datasets, &models).unwrap();
    let mut other_model = l.session.record.clone();
    other_model.model_anchor = flip(other_model.model_anchor);
    assert_err!(
        restore(other_model, &datasets, &models),
        Error::UnknownReference {
            field: "model_anchor",
            ..
        }
    );
    let mut swapped = l.session.record.clone();
    let train = swapped.data_splits[&DatasetSplit::Train];
    let test = swapped.data_splits[&DatasetSplit::Test];
    swapped.data_splits.insert(DatasetSplit::Train, test);
    swapped.data_splits.insert(DatasetSplit::Test, train);
    assert_unexpected(restore(swapped, &datasets, &models), "data_splits");
    let mut root = l.session.record.clone();
    root.datasets_root = flip(root.datasets_root);
    assert_unexpected(restore(root, &datasets, &models), "datasets_root_anchor");
    // Splits of a family the managers were not given; a model they do not hold.
    let empty = DatasetFamilyManager::new(stage_ctx(ELSEWHERE));
    assert_err!(
        restore(l.session.record.clone(), &empty, &models),
        Error::UnknownReference {
            field: "data_splits",
            ..
        }
    );
    let no_models = ModelManager::new(stage_ctx(ELSEWHERE));
    assert_err!(
        restore(l.session.record.clone(), &datasets, &no_models),
        Error::UnknownReference {
            field: "model_anchor",
            ..
        }
    );
}

#[test]
fn restore_session_refuses_a_completion_that_does_not_match() {
    let l = lifecycle();
    let check = |cps: &[Claimed<TrainingCheckpoint>],
                 metrics: TrainingMetrics,
                 snapshot: Claimed<TrainingSnapshot>| {
        restore_session(
            l,
            l.session.clone(),
            cps.to_vec(),
            Some((metrics, snapshot)),
        )
    };
    check(&l.checkpoints, final_metrics(), l.snapshot.clone()).unwrap();
    // The snapshot of another session.
    assert_unexpected(
        check(&l.checkpoints, final_metrics(), l.other_snapshot.clone()),
        "session",
    );
    // Other metrics than the snapshot binds.
    let mut metrics = final_metrics();
    metrics.epochs = vec![0, 1, 3];
    assert_unexpected(
        check(&l.checkpoints, metrics, l.snapshot.clone()),
        "metrics_digest",
    );
    // The last checkpoint left out: the snapshot's head is not the chain's.
    assert_unexpected(
        check(&l.checkpoints[..2], final_metrics(), l.snapshot.clone()),
        "checkpoint_head",
    );
    let snapshot = flipped(&l.snapshot);
    assert_err!(
        check(&l.checkpoints, final_metrics(), snapshot),
        Error::Model(lcm_model::Error::SealMismatch { .. })
    );
    let mut count = l.snapshot.record.clone();
    count.checkpoint_count = 2;
    assert_unexpected(
        check(&l.checkpoints, final_metrics(), reseal(count)),
        "checkpoint_count",
    );
    let mut nobody = l.snapshot.record.clone();
    nobody.user_id = String::new();
    assert_empty(
        check(&l.checkpoints, final_metrics(), reseal(nobody)),
        "user_id",
    );
}

// ---------------------------------------------------------------------------------------------
// Tamper twins: deployments.

/// A fresh deployment manager holding the lifecycle's pre-deployment, restored.
fn restored_predeployment(l: &Lifecycle) -> DeploymentManager {
    let mut d = DeploymentManager::new(stage_ctx(ELSEWHERE));
    d.restore_predeployment(l.predeployment.clone(), sbom())
        .expect("the fixture is valid");
    d
}

#[test]
fn restore_predeployment_refuses_tampering() {
    let l = lifecycle();
    let check = |anchor: Claimed<PreDeploymentAnchor>, sbom: Sbom| {
        all_or_nothing(
            DeploymentManager::new(stage_ctx(ELSEWHERE)),
            |d| d.restore_predeployment(anchor, sbom),
            |d| d.predeployment(PRE_ID).is_none(),
        )
    };
    check(l.predeployment.clone(), sbom()).unwrap();
    let mut changed = sbom();
    changed.vulnerability_count = 1;
    assert_seal_mismatch(
        check(l.predeployment.clone(), changed),
        "predeployment anchor sbom_digest",
    );
    let mut added = sbom();
    added.dependencies.insert("numpy".into(), "1.26".into());
    assert_seal_mismatch(
        check(l.predeployment.clone(), added),
        "predeployment anchor sbom_digest",
    );
    assert_seal_mismatch(
        check(flipped(&l.predeployment), sbom()),
        "predeployment anchor",
    );
    let mut region = l.predeployment.clone();
    region.record.intended_region = "eu-west-1".into();
    assert_seal_mismatch(check(region, sbom()), "predeployment anchor");
    let mut no_ticket = l.predeployment.record.clone();
    no_ticket.approval_ticket_id = String::new();
    assert_empty(check(reseal(no_ticket), sbom()), "approval_ticket_id");
    let mut artifact = l.predeployment.record.clone();
    artifact.build_artifact.artifact_digest = "md5:00".into();
    assert_err!(
        check(reseal(artifact), sbom()),
        Error::Model(lcm_model::Error::UnexpectedValue { .. })
    );

    let mut d = restored_predeployment(l);
    assert_err!(
        d.restore_predeployment(l.predeployment.clone(), sbom()),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
    assert_err!(
        d.create_predeployment_anchor(predeployment_request(l.model.digest, l.snapshot.digest)),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
}

#[test]
fn restore_deployment_refuses_tampering() {
    let l = lifecycle();
    let check = |anchor: Claimed<DeploymentAnchor>,
                 history: Vec<Claimed<DeploymentStatusEvent>>| {
        all_or_nothing(
            restored_predeployment(l),
            |d| d.restore_deployment(anchor, history),
            |d| d.deployment(DEPLOY_ID).is_none() && d.status_history(DEPLOY_ID).is_none(),
        )
    };
    let events = |order: &[usize]| -> Vec<Claimed<DeploymentStatusEvent>> {
        order.iter().map(|&i| l.history[i].clone()).collect()
    };
    // The first event, then `second` resealed after an edit.
    let then = |second: DeploymentStatusEvent| vec![l.history[0].clone(), reseal(second)];
    check(l.deployment.clone(), events(&[0])).unwrap();
    check(l.deployment.clone(), events(&[0, 1, 2, 3])).unwrap();

    // The predeployment it names is missing, or is another one under the same id.
    let mut bare = DeploymentManager::new(stage_ctx(ELSEWHERE));
    assert_err!(
        bare.restore_deployment(l.deployment.clone(), events(&[0])),
        Error::UnknownReference {
            field: "predeployment_id",
            ..
        }
    );
    let mut other_pre = l.predeployment.record.clone();
    other_pre.intended_region = "eu-west-1".into();
    let mut elsewhere = DeploymentManager::new(stage_ctx(ELSEWHERE));
    elsewhere
        .restore_predeployment(reseal(other_pre), sbom())
        .unwrap();
    assert_unexpected(
        elsewhere.restore_deployment(l.deployment.clone(), events(&[0])),
        "predeployment",
    );

    assert_seal_mismatch(
        check(flipped(&l.deployment), events(&[0])),
        "deployment anchor",
    );
    let mut by = l.deployment.record.clone();
    by.deployed_by = String::new();
    assert_empty(check(reseal(by), Vec::new()), "deployed_by");
    // The history exactly as verify_status_history checks it.
    use lcm_model::Error as M;
    assert_err!(
        check(l.deployment.clone(), Vec::new()),
        Error::Model(M::EmptyCollection { .. })
    );
    assert_err!(
        check(l.deployment.clone(), events(&[0, 2, 3])),
        Error::Model(M::ChainGap {
            index: 1,
            expected: 1,
            actual: 2,
            ..
        })
    );
    assert_err!(
        check(l.deployment.clone(), events(&[0, 1, 1])),
        Error::Model(M::ChainOrder { index: 2, .. })
    );
    assert_unexpected(check(l.deployment.clone(), events(&[1, 2])), "status");
    let mut edited = events(&[0, 1]);
    edited[1].record.reason = "all good".into();
    assert_err!(
        check(l.deployment.clone(), edited),
        Error::Model(M::SealMismatch { .. })
    );
    let mut relinked = l.history[1].record.clone();
    relinked.prev_event = None;
    assert_err!(
        check(l.deployment.clone(), then(relinked)),
        Error::Model(M::ChainLink { index: 1, .. })
    );
    let mut foreign = l.history[1].record.clone();
    foreign.deployment = l.predeployment.digest;
    assert_unexpected(check(l.deployment.clone(), then(foreign)), "deployment");
    // What verify_status_history leaves to the manager: the id and the allowed changes.
    let mut renamed = l.history[1].record.clone();
    renamed.deployment_id = "deploy_002".into();
    assert_unexpected(check(l.deployment.clone(), then(renamed)), "deployment_id");
    let mut twice = l.history[1].record.clone();
    twice.status = DeploymentStatus::Deployed;
    assert_unexpected(check(l.deployment.clone(), then(twice)), "status");

    let mut d = restored_predeployment(l);
    d.restore_deployment(l.deployment.clone(), events(&[0]))
        .unwrap();
    assert_err!(
        d.restore_deployment(l.deployment.clone(), events(&[0, 1])),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
    assert_eq!(d.status_history(DEPLOY_ID).map(<[_]>::len), Some(1));
}

// ---------------------------------------------------------------------------------------------
// Tamper twins: roots.

/// A fresh root manager holding the lifecycle's test evaluation (the one its release names),
/// restored.
fn restored_test_evaluation(l: &Lifecycle) -> RootManager {
    let mut r = RootManager::new(stage_ctx(ELSEWHERE));
    r.restore_test_evaluation(l.test_evaluation.clone())
        .expect("the fixture is valid");
    r
}

#[test]
fn restore_test_evaluation_refuses_tampering() {
    let l = lifecycle();
    let check = |anchor: Claimed<TestEvaluationAnchor>| {
        all_or_nothing(
            RootManager::new(stage_ctx(ELSEWHERE)),
            |r| r.restore_test_evaluation(anchor),
            |r| r.test_evaluation("test_001").is_none(),
        )
    };
    assert_seal_mismatch(check(flipped(&l.test_evaluation)), "test evaluation anchor");
    let mut better = l.test_evaluation.record.clone();
    better
        .metrics
        .insert("accuracy".into(), lcm_model::Finite::new(0.99).unwrap());
    assert_seal_mismatch(
        check(reseal(better)),
        "test evaluation anchor metrics_digest",
    );
    let mut other_split = l.test_evaluation.record.clone();
    other_split.test_dataset = split(l, DatasetSplit::Validation).anchor.digest;
    assert_seal_mismatch(
        check(reseal(other_split)),
        "test evaluation anchor metrics_digest",
    );
    let mut untyped = l.test_evaluation.record.clone();
    untyped.evaluation_type = String::new();
    assert_empty(check(reseal(untyped)), "evaluation_type");
    let mut r = restored_test_evaluation(l);
    assert_err!(
        r.restore_test_evaluation(l.test_evaluation.clone()),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
}

#[test]
fn restore_release_root_refuses_tampering() {
    let l = lifecycle();
    let check = |deployment: &Claimed<DeploymentAnchor>, root: Claimed<ReleaseRoot>| {
        all_or_nothing(
            restored_test_evaluation(l),
            |r| r.restore_release_root(deployment, root),
            |r| r.release_root(DEPLOY_ID).is_none(),
        )
    };
    assert_seal_mismatch(check(&l.deployment, flipped(&l.release)), "release root");
    let mut root = l.release.record.clone();
    root.root = flip(root.root);
    assert_err!(
        check(&l.deployment, reseal(root)),
        Error::Model(lcm_model::Error::RootMismatch { .. })
    );
    let mut leaf = l.release.record.clone();
    leaf.test_evaluation = flip(leaf.test_evaluation);
    assert_err!(
        check(&l.deployment, reseal(leaf)),
        Error::Model(lcm_model::Error::RootMismatch { .. })
    );
    // A release of another pre-deployment than the deployment carries out, with its root
    // recomputed over the swapped leaf: the create path refuses it, so must a restore.
    let mut swapped = l.release.record.clone();
    swapped.predeployment = flip(swapped.predeployment);
    swapped.root = lcm_crypto::merkle::MerkleTree::from_leaves_with(
        policy().hash_algorithm,
        swapped.leaves().iter().map(Digest::as_bytes),
    )
    .root();
    lcm_model::verify::verify_release_root(&policy(), &swapped).unwrap();
    assert_unexpected(check(&l.deployment, reseal(swapped)), "predeployment");
    // A release on another test evaluation than any held (a better one, resealed), with its
    // root recomputed over the swapped leaf: the create path releases a sealed test
    // evaluation, so must a restore.
    let mut better = l.test_evaluation.record.clone();
    better.test_id = "test_002".into();
    let mut swapped = l.release.record.clone();
    swapped.test_evaluation = reseal(better).digest;
    swapped.root = lcm_crypto::merkle::MerkleTree::from_leaves_with(
        policy().hash_algorithm,
        swapped.leaves().iter().map(Digest::as_bytes),
    )
    .root();
    assert_err!(
        check(&l.deployment, reseal(swapped)),
        Error::UnknownReference {
            field: "test_evaluation",
            ..
        }
    );
    // Nor is the genuine release restored before its test evaluation.
    assert_err!(
        RootManager::new(stage_ctx(ELSEWHERE))
            .restore_release_root(&l.deployment, l.release.clone()),
        Error::UnknownReference {
            field: "test_evaluation",
            ..
        }
    );
    // The root of another deployment.
    let mut other = l.deployment.record.clone();
    other.deployment_id = "deploy_002".into();
    let other = reseal(other);
    assert_unexpected(check(&other, l.release.clone()), "deployment");
    let bad_deployment = flipped(&l.deployment);
    assert_seal_mismatch(
        check(&bad_deployment, l.release.clone()),
        "deployment anchor",
    );
    let mut r = restored_test_evaluation(l);
    r.restore_release_root(&l.deployment, l.release.clone())
        .unwrap();
    assert_err!(
        r.restore_release_root(&l.deployment, l.release.clone()),
        Error::Model(lcm_model::Error::DuplicateId { .. })
    );
}

// ---------------------------------------------------------------------------------------------
// The manager's policy decides.

/// A context under `policy` (clock and randomness as any stage's).
fn ctx_under(policy: Policy) -> Context {
    let clock = Arc::new(FixedClock::new(Timestamp::from_unix_micros(0), 1));
    Context::new(
        policy,
        clock,
        SeededRandom::new(&Seed::from_bytes([ELSEWHERE; 32])),
    )
    .expect("the policy is valid")
}

#[test]
fn restores_refuse_domains_the_policy_excludes() {
    use lcm_model::DomainType;
    let l = lifecycle();
    let only = |domains: Vec<DomainType>| {
        ctx_under(Policy {
            domains,
            ..policy()
        })
    };

    let mut d = DatasetFamilyManager::new(only(vec![DomainType::Model]));
    assert_err!(
        d.restore_family(l.family.clone(), Vec::new()),
        Error::DomainNotAllowed {
            domain: "dataset_family"
        }
    );
    let mut d = DatasetFamilyManager::new(only(vec![DomainType::DatasetFamily]));
    assert_err!(
        d.restore_family(l.family.clone(), l.splits.clone()),
        Error::DomainNotAllowed {
            domain: "dataset_split"
        }
    );
    d.restore_family(l.family.clone(), Vec::new()).unwrap();

    let datasets_only = || only(vec![DomainType::Dataset]);
    assert_err!(
        ModelManager::new(datasets_only()).restore_model(l.model.clone()),
        Error::DomainNotAllowed { domain: "model" }
    );
    assert_err!(
        TrainingManager::new(datasets_only()).restore_session(
            &restored_datasets(l),
            &restored_models(l),
            l.session.clone(),
            Vec::new(),
            None
        ),
        Error::DomainNotAllowed { domain: "training" }
    );
    let mut d = DeploymentManager::new(datasets_only());
    assert_err!(
        d.restore_predeployment(l.predeployment.clone(), sbom()),
        Error::DomainNotAllowed {
            domain: "deployment"
        }
    );
    assert_err!(
        d.restore_deployment(l.deployment.clone(), l.history.clone()),
        Error::DomainNotAllowed {
            domain: "deployment"
        }
    );
}

#[test]
fn restores_recompute_seals_under_the_managers_policy() {
    let l = lifecycle();
    // The same records under another hash algorithm do not verify.
    let blake3 = || {
        ctx_under(Policy {
            hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
            ..policy()
        })
    };
    assert_seal_mismatch(
        DatasetFamilyManager::new(blake3()).restore_family(l.family.clone(), Vec::new()),
        "dataset family",
    );
    assert_seal_mismatch(
        ModelManager::new(blake3()).restore_model(l.model.clone()),
        "model",
    );
    assert_seal_mismatch(
        TrainingManager::new(blake3()).restore_session(
            &restored_datasets(l),
            &restored_models(l),
            l.session.clone(),
            Vec::new(),
            None,
        ),
        "training session",
    );
    assert_seal_mismatch(
        DeploymentManager::new(blake3()).restore_predeployment(l.predeployment.clone(), sbom()),
        "predeployment anchor",
    );
    assert_seal_mismatch(
        RootManager::new(blake3()).restore_test_evaluation(l.test_evaluation.clone()),
        "test evaluation anchor",
    );
    assert_seal_mismatch(
        RootManager::new(blake3()).restore_release_root(&l.deployment, l.release.clone()),
        "deployment anchor",
    );
}
