//! Unit tests of `lcm_managers::training`.

use lcm_model::Error as ModelError;
use lcm_model::Policy;
use lcm_model::Timestamp;
use lcm_model::records::{
    DatasetFamilyMetadata, DatasetSplitAnchor, ModelArchitecture, SplitInfo, TrainingEnvironment,
};
use lcm_model::verify::verify_claimed_training_run;

use super::*;
use crate::dataset::tests::{ctx, ctx_with};
use crate::test_support::{empty_field, seal_mismatch, unexpected_value, unknown_reference};
use crate::{ModelAnchorRequest, ModelManager};

struct Fixture {
    datasets: DatasetFamilyManager,
    models: ModelManager,
    model: Sealed<ModelAnchor>,
    /// A second model that authorizes both families.
    both: Sealed<ModelAnchor>,
    splits: BTreeMap<DatasetSplit, Sealed<DatasetSplitAnchor>>,
    root: Digest,
    training: TrainingManager,
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// Two families ("med" authorized, "other" not), three splits each, one model (and one
/// that authorizes both).
fn fixture(seed: u8) -> Fixture {
    fixture_in(ctx(seed))
}

fn fixture_in(c: Context) -> Fixture {
    let mut datasets = DatasetFamilyManager::new(c.clone());
    let mut splits = BTreeMap::new();
    for fam in ["med", "other"] {
        let meta = DatasetFamilyMetadata::new(fam, "v1", "owner", "custom");
        let anchor = datasets
            .create_dataset_family_anchor(fam, meta, "pw")
            .unwrap();
        let info = BTreeMap::from([
            (
                DatasetSplit::Train,
                SplitInfo::new(ids(&format!("{fam}-a"), 8)),
            ),
            (
                DatasetSplit::Validation,
                SplitInfo::new(ids(&format!("{fam}-b"), 2)),
            ),
            (
                DatasetSplit::Test,
                SplitInfo::new(ids(&format!("{fam}-c"), 2)),
            ),
        ]);
        let made = datasets.add_dataset_splits(&anchor, info).unwrap();
        if fam == "med" {
            splits = made;
        }
    }
    let mut models = ModelManager::new(c.clone());
    let request = |version: &str, authorized: &[&str]| ModelAnchorRequest {
        model_name: "pneumonia".into(),
        version: version.into(),
        architecture: ModelArchitecture::new("CNN"),
        hyperparameters: Map::new(),
        environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
        authorized_datasets: authorized.iter().map(|a| (*a).to_owned()).collect(),
        trainer_commit: "abc123".into(),
        parameters: None,
    };
    let model = models
        .create_model_anchor(&datasets, request("v1", &["med"]), "pw")
        .unwrap();
    let both = models
        .create_model_anchor(&datasets, request("v2", &["med", "other"]), "pw")
        .unwrap();
    let root = datasets.datasets_root_anchor("med").unwrap();
    Fixture {
        datasets,
        models,
        model,
        both,
        splits,
        root,
        training: TrainingManager::new(c),
    }
}

fn config(epochs: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("epochs".into(), Value::from(epochs));
    m.insert("optimizer".into(), Value::from("adam"));
    m
}

fn train_val(f: &Fixture) -> BTreeMap<DatasetSplit, Digest> {
    [DatasetSplit::Train, DatasetSplit::Validation]
        .into_iter()
        .map(|s| (s, f.splits[&s].digest()))
        .collect()
}

fn start(f: &mut Fixture, id: &str, cfg: Map<String, Value>) -> Sealed<TrainingSession> {
    let splits = train_val(f);
    f.training
        .start_training_session(&f.datasets, &f.models, id, &f.model, f.root, cfg, splits)
        .unwrap()
}

fn loss(v: f64) -> BTreeMap<String, f64> {
    BTreeMap::from([("loss".to_owned(), v)])
}

fn d(b: u8) -> Digest {
    Digest::from_bytes([b; 32])
}

fn metrics() -> TrainingMetrics {
    TrainingMetrics::new(
        BTreeMap::from([("loss".to_owned(), vec![1.0, 0.45])]),
        BTreeMap::from([("loss".to_owned(), vec![1.1, 0.48])]),
        vec![1, 10],
    )
    .unwrap()
}

/// The whole flow; returns every digest it produced.
fn lifecycle(seed: u8, cfg_epochs: u64, second_loss: f64) -> Vec<Digest> {
    lifecycle_in(ctx(seed), cfg_epochs, second_loss)
}

fn lifecycle_in(c: Context, cfg_epochs: u64, second_loss: f64) -> Vec<Digest> {
    let mut f = fixture_in(c);
    let s = start(&mut f, "train_001", config(cfg_epochs));
    let c1 = f
        .training
        .add_checkpoint(&s, "ckpt_1", 1, 250, loss(1.0), d(1), d(2))
        .unwrap();
    let c2 = f
        .training
        .add_checkpoint(&s, "ckpt_10", 10, 2500, loss(second_loss), d(3), d(4))
        .unwrap();
    let snap = f
        .training
        .complete_training_session(&s, d(5), metrics(), "alice")
        .unwrap();
    f.training.verify_session("train_001").unwrap();
    let root = f.training.training_session_root("train_001").unwrap();
    let mut out: Vec<Digest> = f.splits.values().map(Sealed::digest).collect();
    out.extend([
        f.model.digest(),
        f.root,
        s.digest(),
        c1.digest(),
        c2.digest(),
        snap.digest(),
        root,
    ]);
    out
}

#[test]
fn end_to_end_is_deterministic() {
    let a = lifecycle(11, 50, 0.45);
    assert_eq!(a, lifecycle(11, 50, 0.45));
    // Another random stream gives other salts, hence other anchors and roots.
    let b = lifecycle(12, 50, 0.45);
    assert_ne!(a.last(), b.last());
    // The config and a checkpoint metric each reach the root.
    assert_ne!(a.last(), lifecycle(11, 51, 0.45).last());
    assert_ne!(a.last(), lifecycle(11, 50, 0.44).last());
}

#[test]
fn blake3_policy_runs_the_whole_flow() {
    let blake = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        kdf_iterations: 100_000,
        ..Policy::default()
    };
    let a = lifecycle_in(ctx_with(blake.clone(), 11), 50, 0.45);
    assert_eq!(a, lifecycle_in(ctx_with(blake, 11), 50, 0.45));
    let sha = lifecycle(11, 50, 0.45);
    assert!(
        a.iter().zip(&sha).all(|(x, y)| x != y),
        "every digest depends on the hash"
    );
}

#[test]
fn checkpoints_form_a_chain() {
    let mut f = fixture(13);
    let s = start(&mut f, "t", config(5));
    let c1 = f
        .training
        .add_checkpoint(&s, "c1", 1, 10, loss(1.0), d(1), d(2))
        .unwrap();
    assert_eq!((c1.record().previous, c1.record().index), (s.digest(), 0));
    let c2 = f
        .training
        .add_checkpoint(&s, "c2", 1, 20, loss(0.9), d(1), d(2))
        .unwrap();
    assert_eq!((c2.record().previous, c2.record().index), (c1.digest(), 1));
    assert_eq!(
        f.training.training_session("t").unwrap().checkpoint_head(),
        c2.digest()
    );

    let e = f
        .training
        .add_checkpoint(&s, "c3", 1, 20, loss(0.8), d(1), d(2));
    let (id, actual) = unexpected_value(e, "step");
    assert_eq!((id.as_str(), actual.as_str()), ("t/c3", "20"));
    let e = f
        .training
        .add_checkpoint(&s, "c3", 1, 19, loss(0.8), d(1), d(2));
    unexpected_value(e, "step");
    let e = f
        .training
        .add_checkpoint(&s, "c3", 0, 30, loss(0.8), d(1), d(2));
    unexpected_value(e, "epoch");
    let e = f
        .training
        .add_checkpoint(&s, "c2", 2, 30, loss(0.8), d(1), d(2));
    assert_matches!(e, Err(Error::Model(lcm_model::Error::DuplicateId { .. })));
    let e = f
        .training
        .add_checkpoint(&s, "", 2, 30, loss(0.8), d(1), d(2));
    empty_field(e, "checkpoint_id");
    for bad in [f64::NAN, f64::INFINITY] {
        let mut m = loss(0.8);
        m.insert("accuracy".into(), bad);
        match f.training.add_checkpoint(&s, "c3", 2, 30, m, d(1), d(2)) {
            Err(Error::Model(lcm_model::Error::NonFiniteMetric { metric, .. })) => {
                assert_eq!(metric, "accuracy");
            }
            other => panic!("{other:?}"),
        }
    }
    let e = f.training.add_checkpoint(
        &s,
        "c3",
        2,
        30,
        loss(0.8)
            .into_values()
            .map(|v| (String::new(), v))
            .collect(),
        d(1),
        d(2),
    );
    empty_field(e, "metrics");
    // Nothing failed was stored.
    assert_eq!(
        f.training
            .training_session("t")
            .unwrap()
            .checkpoints()
            .len(),
        2
    );

    // A session this manager did not start, or an altered one.
    let mut altered = s.record().clone();
    altered.training_config = config(6);
    let altered = Sealed::seal(altered, f.training.context().policy()).unwrap();
    let e = f
        .training
        .add_checkpoint(&altered, "c3", 2, 30, loss(0.8), d(1), d(2));
    unknown_reference(e, "training_session");
    let mut g = fixture(14);
    let foreign = start(&mut g, "t", config(5));
    let e = f
        .training
        .add_checkpoint(&foreign, "c3", 2, 30, loss(0.8), d(1), d(2));
    assert_matches!(e, Err(Error::UnknownReference { .. }));

    f.training
        .complete_training_session(&s, d(9), metrics(), "alice")
        .unwrap();
    let e = f
        .training
        .add_checkpoint(&s, "c3", 2, 30, loss(0.8), d(1), d(2));
    assert_matches!(e, Err(Error::AlreadyCompleted { .. }));
}

#[test]
fn messages_name_the_record_and_the_field() {
    let mut f = fixture(18);
    let s = start(&mut f, "t", config(5));
    f.training
        .add_checkpoint(&s, "c1", 1, 20, loss(1.0), d(1), d(2))
        .unwrap();
    let step = f
        .training
        .add_checkpoint(&s, "c2", 1, 20, loss(1.0), d(1), d(2));
    assert_eq!(
        step.unwrap_err().to_string(),
        "training checkpoint \"t/c2\": step: expected a step greater than 20 (checkpoint \"c1\"), got 20"
    );
    let nan = f
        .training
        .add_checkpoint(&s, "c2", 1, 30, loss(f64::NAN), d(1), d(2));
    assert_eq!(
        nan.unwrap_err().to_string(),
        "training checkpoint \"t/c2\": metric \"loss\": expected a finite number, got NaN"
    );
    f.training
        .complete_training_session(&s, d(9), metrics(), "alice")
        .unwrap();
    let again = f
        .training
        .complete_training_session(&s, d(9), metrics(), "alice");
    assert_eq!(
        again.unwrap_err().to_string(),
        "training session \"t\" is already completed"
    );
    let wrong = f.datasets.verify_password("med", "guess");
    assert_eq!(
        wrong.unwrap_err().to_string(),
        "dataset family \"med\": wrong master password"
    );
    let info = BTreeMap::from([
        (
            DatasetSplit::Train,
            SplitInfo::new(vec!["x".into(), "y".into()]),
        ),
        (DatasetSplit::Test, SplitInfo::new(vec!["y".into()])),
    ]);
    let mut datasets = DatasetFamilyManager::new(ctx(18));
    let meta = DatasetFamilyMetadata::new("n", "v", "o", "l");
    let fam = datasets
        .create_dataset_family_anchor("fam", meta, "pw")
        .unwrap();
    let overlap = datasets.add_dataset_splits(&fam, info);
    assert_eq!(
        overlap.unwrap_err().to_string(),
        "dataset family \"fam\": record \"y\" is in both the train and test splits"
    );
}

#[test]
fn completion_happens_once() {
    let mut f = fixture(15);
    let s = start(&mut f, "t", config(5));
    assert_matches!(
        f.training.training_session_root("t"),
        Err(Error::NotCompleted { .. })
    );
    assert_matches!(
        f.training.verify_session("t"),
        Err(Error::NotCompleted { .. })
    );
    assert_matches!(
        f.training.training_session_root("x"),
        Err(Error::NotFound { .. })
    );
    let e = f
        .training
        .complete_training_session(&s, d(9), metrics(), "");
    empty_field(e, "user_id");
    let bad = TrainingMetrics {
        epochs: vec![2, 1],
        ..TrainingMetrics::default()
    };
    let e = f.training.complete_training_session(&s, d(9), bad, "alice");
    unexpected_value(e, "epochs");
    assert!(!f.training.training_session("t").unwrap().is_completed());

    let snap = f
        .training
        .complete_training_session(&s, d(9), metrics(), "alice")
        .unwrap();
    let r = &snap.record();
    assert_eq!(
        (r.checkpoint_count, r.checkpoint_head, r.session),
        (0, s.digest(), s.digest())
    );
    assert_eq!(
        r.config_digest,
        training_config_digest(f.training.context().policy(), &config(5)).unwrap()
    );
    let e = f
        .training
        .complete_training_session(&s, d(9), metrics(), "alice");
    assert_matches!(e, Err(Error::AlreadyCompleted { .. }));
    let root = f.training.training_session_root("t").unwrap();
    assert_eq!(
        root,
        compute_training_session_root(f.training.context().policy(), &snap)
    );
}

#[test]
fn session_start_checks_references() {
    let mut f = fixture(16);
    let p = f.training.context().policy().clone();
    let go = |f: &mut Fixture, id: &str, model: &Sealed<ModelAnchor>, root: Digest, splits| {
        f.training.start_training_session(
            &f.datasets,
            &f.models,
            id,
            model,
            root,
            config(1),
            splits,
        )
    };
    let model = f.model.clone();
    let root = f.root;
    let tv = train_val(&f);
    let other = |f: &Fixture, s| f.datasets.split_anchor("other", s).unwrap().digest();
    // A session trained on one split anchor, as the checks below vary it.
    let train_on = |f: &mut Fixture, split: Digest| {
        go(
            f,
            "t",
            &model,
            root,
            BTreeMap::from([(DatasetSplit::Train, split)]),
        )
    };

    let e = go(&mut f, "t", &model, root, BTreeMap::new());
    assert_matches!(
        e,
        Err(Error::Model(lcm_model::Error::EmptyCollection {
            field: "data_splits",
            ..
        }))
    );
    let e = train_on(&mut f, d(7));
    unknown_reference(e, "data_splits");
    let test = f.splits[&DatasetSplit::Test].digest();
    let e = train_on(&mut f, test);
    unexpected_value(e, "data_splits");
    let foreign = other(&f, DatasetSplit::Train);
    let e = train_on(&mut f, foreign);
    match e {
        Err(Error::Unauthorized {
            field: "data_splits",
            reference,
            ..
        }) => {
            assert!(reference.ends_with("dataset family other"), "{reference}");
        }
        other => panic!("{other:?}"),
    }
    let e = go(&mut f, "t", &model, d(1), tv.clone());
    unexpected_value(e, "datasets_root_anchor");
    let mut tampered = model.to_claimed();
    tampered.record.description.authorized_datasets.insert(
        "other".into(),
        f.datasets.dataset_family("other").unwrap().digest(),
    );
    // An edited anchor reaches the manager only as a claim, which does not check.
    let e = tampered.clone().check_named(&p, "model anchor", "m@1");
    seal_mismatch(e, "model anchor");
    // A correctly re-sealed edit is still not a model the model manager made.
    let resealed = Sealed::seal(tampered.record, &p).unwrap();
    let e = go(&mut f, "t", &resealed, root, tv.clone());
    let (_, reference) = unknown_reference(e, "model_anchor");
    assert!(reference.starts_with("pneumonia@v1 ("), "{reference}");
    let mut stranger = ModelManager::new(ctx(16));
    let unknown = stranger
        .create_model_anchor(
            &f.datasets,
            ModelAnchorRequest {
                model_name: "x".into(),
                version: "1".into(),
                architecture: ModelArchitecture::new("CNN"),
                hyperparameters: Map::new(),
                environment: TrainingEnvironment::new("tf", "2"),
                authorized_datasets: vec!["med".into()],
                trainer_commit: "c".into(),
                parameters: None,
            },
            "pw",
        )
        .unwrap();
    let e = go(&mut f, "t", &unknown, root, tv.clone());
    unknown_reference(e, "model_anchor");
    // A model that authorizes both families still cannot mix them in one session.
    let both = f.both.clone();
    let mut mixed = tv.clone();
    mixed.insert(
        DatasetSplit::Validation,
        other(&f, DatasetSplit::Validation),
    );
    let e = go(&mut f, "t", &both, root, mixed);
    unexpected_value(e, "data_splits");
    // ... but may train on the other family alone.
    let other_root = f.datasets.datasets_root_anchor("other").unwrap();
    let only_other = BTreeMap::from([(DatasetSplit::Train, other(&f, DatasetSplit::Train))]);
    go(&mut f, "t_other", &both, other_root, only_other).unwrap();
    let e = go(&mut f, "", &model, root, tv.clone());
    empty_field(e, "session_id");

    let s = go(&mut f, "t", &model, root, tv.clone()).unwrap();
    assert_eq!(s.record().model_anchor, model.digest());
    assert_eq!(
        s.record().data_splits[&DatasetSplit::Train],
        f.splits[&DatasetSplit::Train].digest()
    );
    let e = go(&mut f, "t", &model, root, tv);
    assert_matches!(e, Err(Error::Model(lcm_model::Error::DuplicateId { .. })));
}

/// A completed run with two checkpoints, and its policy.
fn completed() -> (Policy, TrainingRun) {
    let mut f = fixture(17);
    let s = start(&mut f, "t", config(5));
    f.training
        .add_checkpoint(&s, "c1", 1, 10, loss(1.0), d(1), d(2))
        .unwrap();
    f.training
        .add_checkpoint(&s, "c2", 2, 20, loss(0.5), d(3), d(4))
        .unwrap();
    f.training
        .complete_training_session(&s, d(9), metrics(), "alice")
        .unwrap();
    let p = f.training.context().policy().clone();
    (p, f.training.training_session("t").unwrap().clone())
}

#[test]
fn every_snapshot_field_changes_the_root() {
    let (p, run) = completed();
    let snap = run.snapshot().unwrap().clone();
    let root = compute_training_session_root(&p, &snap);
    let edits: Vec<fn(&mut TrainingSnapshot)> = vec![
        |s| s.session_id.push('x'),
        |s| s.session = Digest::from_bytes([0xa0; 32]),
        |s| s.model_anchor = Digest::from_bytes([0xa1; 32]),
        |s| s.datasets_root = Digest::from_bytes([0xa2; 32]),
        |s| s.config_digest = Digest::from_bytes([0xa3; 32]),
        |s| s.checkpoint_head = Digest::from_bytes([0xa4; 32]),
        |s| s.checkpoint_count += 1,
        |s| s.metrics_digest = Digest::from_bytes([0xa5; 32]),
        |s| s.final_model_digest = Digest::from_bytes([0xa6; 32]),
        |s| s.user_id.push('x'),
        |s| s.started_at = Timestamp::from_unix_micros(1),
        |s| s.completed_at = Timestamp::from_unix_micros(2),
    ];
    let mut seen = vec![root];
    for (i, edit) in edits.iter().enumerate() {
        let mut record = snap.record().clone();
        edit(&mut record);
        // Unsealed tampering is caught by the seal check.
        let forged = Claimed {
            record: record.clone(),
            digest: snap.digest(),
        };
        assert!(
            matches!(
                forged.check_named(&p, "training snapshot", "t"),
                Err(ModelError::SealMismatch { .. })
            ),
            "edit {i}"
        );
        let resealed = Sealed::seal(record, &p).unwrap();
        let r = compute_training_session_root(&p, &resealed);
        assert!(!seen.contains(&r), "edit {i} left the root unchanged");
        seen.push(r);
    }
    // The hash algorithm of the policy governs the root.
    let blake = Policy {
        hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
        ..p
    };
    let resealed = Sealed::seal(snap.record().clone(), &blake).unwrap();
    assert_ne!(compute_training_session_root(&blake, &resealed), root);
}

#[test]
fn verify_training_run_catches_tampering() {
    let (p, run) = completed();
    let (s, cps, m, snap) = (
        run.session(),
        run.checkpoints(),
        run.metrics().unwrap(),
        run.snapshot().unwrap(),
    );
    verify_training_run(&p, s, cps, m, snap).unwrap();
    // Tampering reaches a verifier only as a claim, whose seals it recomputes.
    let (s, cps, snap) = (
        &s.to_claimed(),
        &cps.iter().map(Sealed::to_claimed).collect::<Vec<_>>()[..],
        &snap.to_claimed(),
    );
    verify_claimed_training_run(&p, s, cps, m, snap).unwrap();

    let mut reordered = cps.to_vec();
    reordered.swap(0, 1);
    let e = verify_claimed_training_run(&p, s, &reordered, m, snap);
    assert_matches!(e, Err(ModelError::ChainOrder { index: 0, .. }));

    let mut edited = cps.to_vec();
    edited[1]
        .record
        .metrics
        .insert("loss".into(), Finite::new(0.1).unwrap());
    let e = verify_claimed_training_run(&p, s, &edited, m, snap);
    seal_mismatch(e, "training checkpoint");

    // Re-sealing an edited checkpoint breaks the next link or the snapshot head.
    // The checkpoints with the `i`th edited and correctly re-sealed.
    let resealed_at = |i: usize, edit: fn(&mut TrainingCheckpoint)| {
        let mut t = cps.to_vec();
        let mut record = t[i].record().clone();
        edit(&mut record);
        t[i] = Sealed::seal(record, &p).unwrap().into();
        t
    };
    let resealed = resealed_at(0, |c| c.step = 11);
    let e = verify_claimed_training_run(&p, s, &resealed, m, snap);
    assert_matches!(e, Err(ModelError::ChainLink { index: 1, .. }));
    let last = resealed_at(1, |c| c.step = 21);
    let e = verify_claimed_training_run(&p, s, &last, m, snap);
    unexpected_value(e, "checkpoint_head");

    let e = verify_claimed_training_run(&p, s, &cps[..1], m, snap);
    unexpected_value(e, "checkpoint_head");

    let going_back = resealed_at(1, |c| c.step = 5);
    let e = verify_claimed_training_run(&p, s, &going_back, m, snap);
    assert_matches!(e, Err(ModelError::UnexpectedValue { field: "step", .. }));

    let mut other_metrics = m.clone();
    other_metrics.epochs = vec![1, 11];
    let e = verify_claimed_training_run(&p, s, cps, &other_metrics, snap);
    unexpected_value(e, "metrics_digest");

    let mut other_session = s.record().clone();
    other_session.training_config = config(6);
    let other_session = Sealed::seal(other_session, &p).unwrap().into();
    let e = verify_claimed_training_run(&p, &other_session, cps, m, snap);
    assert_matches!(e, Err(ModelError::ChainLink { index: 0, .. }));
    let e = verify_claimed_training_run(&p, &other_session, &[], m, snap);
    unexpected_value(e, "session");

    let mut count = snap.record().clone();
    count.checkpoint_count = 3;
    let count = Sealed::seal(count, &p).unwrap().into();
    let e = verify_claimed_training_run(&p, s, cps, m, &count);
    unexpected_value(e, "checkpoint_count");
    let mut forged = snap.clone();
    forged.record.user_id = "mallory".into();
    let e = verify_claimed_training_run(&p, s, cps, m, &forged);
    seal_mismatch(e, "training snapshot");
}
