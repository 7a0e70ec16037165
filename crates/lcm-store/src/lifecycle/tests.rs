//! Unit tests of lifecycle recording: the example file and its implied references.

use lcm_model::records::{DatasetSplitAnchor, ReleaseRoot, TrainingCheckpoint};

use super::*;

fn ctx() -> Context {
    Context::with_policy(lcm_model::Policy {
        kdf_iterations: lcm_model::policy::MIN_KDF_ITERATIONS,
        ..lcm_model::Policy::default()
    })
    .unwrap()
}

#[test]
fn example_records_and_stores_every_stage() {
    let input: LifecycleInput = serde_json::from_str(EXAMPLE).unwrap();
    let ctx = ctx();
    let staged = lifecycle_stage(
        &mut Project::new(ctx.clone()).unwrap(),
        input,
        &Passwords {
            dataset: "d",
            model: "m",
        },
    )
    .unwrap();
    let kinds = |k: &str| staged.records.iter().filter(|r| r.kind == k).count();
    assert_eq!(kinds(DatasetSplitAnchor::KIND), 3);
    assert_eq!(kinds(TrainingCheckpoint::KIND), 2);
    assert_eq!(kinds(ReleaseRoot::KIND), 1);
    let policy = ctx.policy();
    for s in &staged.records {
        let (digest, canon) = crate::check::recompute(policy, &s.kind, &s.json).unwrap();
        assert_eq!(digest, s.digest, "{} {}", s.kind, s.id);
        assert_eq!(canon, s.json);
    }
    let release = staged
        .records
        .iter()
        .find(|r| r.kind == ReleaseRoot::KIND)
        .unwrap();
    let release: ReleaseRoot = serde_json::from_str(&release.json).unwrap();
    lcm_managers::verify_release_root(policy, &release).unwrap();
    assert_eq!(staged.evidence.len(), 5);
}

#[test]
fn a_lifecycle_file_reference_must_be_its_own() {
    let mut input: LifecycleInput = serde_json::from_str(EXAMPLE).unwrap();
    input.training.model = Some("other@v9".to_owned());
    let err = lifecycle_stage(
        &mut Project::new(ctx()).unwrap(),
        input,
        &Passwords {
            dataset: "d",
            model: "m",
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, crate::Error::Stage { stage: "training", message } if message.contains("other@v9")),
        "{err}"
    );
}
