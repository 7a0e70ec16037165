//! Unit tests of `lcm_managers::model`.

use lcm_crypto::{HashAlgorithm, Salt};
use lcm_model::records::{DatasetFamilyMetadata, Tensor};

use super::*;
use crate::dataset::tests::ctx;
use crate::test_support::{
    Tamper, check_tampers, empty_field, password_refusal, unexpected_value, unknown_reference,
};

fn setup() -> (DatasetFamilyManager, ModelManager) {
    let mut d = DatasetFamilyManager::new(ctx(7));
    let m = DatasetFamilyMetadata::new("n", "v", "o", "l");
    d.create_dataset_family_anchor("ds1", m.clone(), "pw")
        .unwrap();
    d.create_dataset_family_anchor("ds2", m, "pw").unwrap();
    (d, ModelManager::new(ctx(8)))
}

fn request() -> ModelAnchorRequest {
    let mut hp = Map::new();
    hp.insert("lr".into(), Value::from(0.001));
    ModelAnchorRequest {
        model_name: "m".into(),
        version: "v1".into(),
        architecture: ModelArchitecture::new("CNN"),
        hyperparameters: hp,
        environment: TrainingEnvironment::new("tensorflow", "2.13.0"),
        authorized_datasets: vec!["ds2".into(), "ds1".into()],
        trainer_commit: "abc123".into(),
        parameters: None,
    }
}

#[test]
fn anchor_binds_inputs_and_datasets() {
    let (d, mut m) = setup();
    let a = m.create_model_anchor(&d, request(), "pw").unwrap();
    let p = m.context().policy().clone();
    a.to_claimed().verify(&p).unwrap();
    let desc = &a.record().description;
    assert_eq!(desc.authorized_datasets.len(), 2);
    assert_eq!(
        desc.authorized_datasets["ds1"],
        d.dataset_family("ds1").unwrap().digest()
    );
    assert_eq!(desc.parameter_fingerprint, None);
    let stored = m.model("m", "v1").unwrap();
    a.record()
        .verify_inputs(
            &p,
            &stored.architecture,
            &stored.hyperparameters,
            &stored.environment,
        )
        .unwrap();
    assert_eq!(m.find_model(&a.digest()).map(|x| &x.anchor), Some(&a));
    assert_eq!(m.list_models().collect::<Vec<_>>(), vec![("m", "v1")]);

    m.verify_password("m", "v1", "pw").unwrap();
    let w = [1u8];
    let fp = ParameterFingerprint::compute(&p, [Tensor::new("w", "u8", &[1], &w)]).unwrap();
    let (_, actual) = unexpected_value(m.verify_parameters("m", "v1", &fp), "parameters");
    assert_eq!(actual, "none");
    assert_matches!(
        m.verify_password("m", "v1", "px"),
        Err(Error::WrongPassword { .. })
    );
    assert_matches!(
        m.verify_password("m", "v2", "pw"),
        Err(Error::NotFound { .. })
    );
    let tampers: [(Tamper<ModelAnchor>, &str); 3] = [
        (
            |t| {
                t.description
                    .authorized_datasets
                    .insert("ds3".into(), Digest::from_bytes([3; 32]));
            },
            "seal mismatch",
        ),
        (
            |t| t.description_digest = Digest::from_bytes([9; 32]),
            "seal mismatch",
        ),
        (|t| t.salt = Salt::from_bytes([9; 16]), "wrong password"),
    ];
    check_tampers(a.record(), &tampers, |t| {
        password_refusal(verify_model_password(&p, t, "pw"))
    });
    let mut t = a.record().clone();
    t.salt = Salt::from_bytes([9; 16]);
    assert_matches!(verify_model_password(&p, &t, ""), Err(Error::Empty { .. }));

    // Every input changes the description digest.
    let base = a.record().description_digest;
    let mut variants: Vec<ModelAnchorRequest> = Vec::new();
    let mut r = request();
    r.version = "v2".into();
    variants.push(r);
    let mut r = request();
    r.architecture.input_dim = Some(3);
    variants.push(r);
    let mut r = request();
    r.hyperparameters.insert("lr".into(), Value::from(0.002));
    variants.push(r);
    let mut r = request();
    r.environment.hardware = Some("A100".into());
    variants.push(r);
    let mut r = request();
    r.authorized_datasets.pop();
    variants.push(r);
    let mut r = request();
    r.trainer_commit = "abc124".into();
    variants.push(r);
    for (i, r) in variants.into_iter().enumerate() {
        let mut probe = ModelManager::new(ctx(8));
        let other = probe.create_model_anchor(&d, r, "pw").unwrap();
        assert_ne!(other.record().description_digest, base, "variant {i}");
    }
}

#[test]
fn weights_fingerprint_is_bound_and_checked() {
    let (d, mut m) = setup();
    let p = m.context().policy().clone();
    let w = [0u8; 24];
    let tensors = [
        Tensor::new("dense.weight", "f32", &[2, 2], &w[..16]),
        Tensor::new("dense.bias", "f32", &[2], &w[16..]),
    ];
    let fp = ParameterFingerprint::compute(&p, tensors).unwrap();
    let mut r = request();
    r.architecture.total_params = Some(6);
    r.parameters = Some(fp.clone());
    let a = m.create_model_anchor(&d, r, "pw").unwrap();
    assert_eq!(
        a.record().description.parameter_fingerprint,
        Some(fp.root())
    );
    assert_eq!(m.model("m", "v1").unwrap().parameters.as_ref(), Some(&fp));

    m.verify_parameters("m", "v1", &fp).unwrap();
    let bias = [0u8, 0, 128, 63, 0, 0, 0, 0];
    let retrained = ParameterFingerprint::compute(
        &p,
        [
            tensors[0],
            Tensor {
                bytes: &bias,
                ..tensors[1]
            },
            Tensor::new("extra", "u8", &[1], &[1]),
        ],
    )
    .unwrap();
    let (_, actual) = unexpected_value(m.verify_parameters("m", "v1", &retrained), "parameters");
    assert_eq!(actual, "changed dense.bias, added extra");
    let e = m.verify_parameters("m", "v9", &fp);
    assert_matches!(e, Err(Error::NotFound { .. }));

    let mut r = request();
    r.version = "v2".into();
    r.architecture.total_params = Some(7);
    r.parameters = Some(fp);
    let (_, actual) = unexpected_value(
        m.create_model_anchor(&d, r, "pw"),
        "architecture.total_params",
    );
    assert_eq!(actual, "7");
    let blake = Policy {
        hash_algorithm: HashAlgorithm::Blake3,
        ..p
    };
    let fp3 = ParameterFingerprint::compute(&blake, tensors).unwrap();
    let mut r = request();
    r.version = "v3".into();
    r.parameters = Some(fp3);
    let e = m.create_model_anchor(&d, r, "pw");
    unexpected_value(e, "parameters");
}

#[test]
fn bad_requests_are_named() {
    let (d, mut m) = setup();
    let mut r = request();
    r.authorized_datasets.push("nope".into());
    let (id, reference) =
        unknown_reference(m.create_model_anchor(&d, r, "pw"), "authorized_datasets");
    assert_eq!((reference.as_str(), id.as_str()), ("nope", "m@v1"));
    let mut r = request();
    r.authorized_datasets.push("ds1".into());
    let e = m.create_model_anchor(&d, r, "pw");
    unexpected_value(e, "authorized_datasets");
    for field in ["model_name", "version", "trainer_commit"] {
        let mut r = request();
        match field {
            "model_name" => r.model_name.clear(),
            "version" => r.version.clear(),
            _ => r.trainer_commit.clear(),
        }
        match m.create_model_anchor(&d, r, "pw") {
            Err(Error::Empty { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let e = m.create_model_anchor(&d, request(), "");
    empty_field(e, "master_password");
    let mut r = request();
    r.architecture.model_type.clear();
    let e = m.create_model_anchor(&d, r, "pw");
    empty_field(e, "type");
    let mut r = request();
    r.environment.framework_version.clear();
    let e = m.create_model_anchor(&d, r, "pw");
    empty_field(e, "framework_version");
    m.create_model_anchor(&d, request(), "pw").unwrap();
    let e = m.create_model_anchor(&d, request(), "pw");
    assert_matches!(e, Err(Error::Model(lcm_model::Error::DuplicateId { .. })));
    // A dataset manager that does not know the families.
    let empty = DatasetFamilyManager::new(ctx(7));
    let mut r = request();
    r.version = "v9".into();
    let e = m.create_model_anchor(&empty, r, "pw");
    assert_matches!(e, Err(Error::UnknownReference { .. }));
}
