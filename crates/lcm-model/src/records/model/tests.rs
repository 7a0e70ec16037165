//! Unit tests of `lcm_model::records::model`.

use super::*;

fn p() -> Policy {
    Policy::default()
}

fn t<'a>(name: &'a str, bytes: &'a [u8]) -> Tensor<'a> {
    Tensor::new(name, "u8", &[2], bytes)
}

#[test]
fn fingerprint_detects_and_locates_each_change() {
    let a = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("b", &[3, 4])]).unwrap();
    let same = ParameterFingerprint::compute(&p(), [t("b", &[3, 4]), t("a", &[1, 2])]).unwrap();
    assert_eq!(a.root(), same.root());
    assert!(a.diff(&same).is_empty());
    assert_eq!(a.element_count(), 4);

    let changed = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("b", &[3, 5])]).unwrap();
    assert_ne!(a.root(), changed.root());
    assert_eq!(a.diff(&changed), vec![TensorChange::Changed("b".into())]);

    let renamed = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("c", &[3, 4])]).unwrap();
    assert_eq!(
        a.diff(&renamed),
        vec![
            TensorChange::Removed("b".into()),
            TensorChange::Added("c".into())
        ]
    );

    let i8s = Tensor {
        dtype: "i8",
        ..t("b", &[3, 4])
    };
    let dtype = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), i8s]).unwrap();
    assert_eq!(a.diff(&dtype), vec![TensorChange::Changed("b".into())]);

    let reshaped = Tensor {
        shape: &[1, 2],
        ..t("b", &[3, 4])
    };
    let shape = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), reshaped]).unwrap();
    assert_eq!(a.diff(&shape), vec![TensorChange::Changed("b".into())]);

    let blake = Policy {
        hash_algorithm: HashAlgorithm::Blake3,
        ..p()
    };
    let b3 = ParameterFingerprint::compute(&blake, [t("a", &[1, 2]), t("b", &[3, 4])]).unwrap();
    assert_ne!(a.root(), b3.root());
}

#[test]
fn tensor_encoding_is_injective() {
    // Moving a byte between name and dtype, or between shape dims, changes the digest.
    let x = Tensor::new("ab", "c", &[2], &[0, 0]);
    let y = Tensor::new("a", "bc", &[2], &[0, 0]);
    assert_ne!(x.digest(&p()).unwrap(), y.digest(&p()).unwrap());
    let s1 = Tensor::new("w", "q4", &[1, 6], &[0]);
    let s2 = Tensor::new("w", "q4", &[6, 1], &[0]);
    assert_ne!(s1.digest(&p()).unwrap(), s2.digest(&p()).unwrap());
}

#[test]
fn fingerprint_rejects_bad_tensors() {
    let dup = ParameterFingerprint::compute(&p(), [t("a", &[1, 2]), t("a", &[1, 2])]);
    assert_matches!(dup, Err(Error::InvalidField { field: "name", .. }));
    let none = ParameterFingerprint::compute(&p(), []);
    assert_matches!(
        none,
        Err(Error::InvalidField {
            field: "tensors",
            ..
        })
    );
    let short = ParameterFingerprint::compute(&p(), [t("a", &[1])]);
    assert_matches!(short, Err(Error::InvalidField { field: "bytes", .. }));
    let f32s = Tensor::new("w", "f32", &[2], &[0; 7]);
    assert_matches!(
        f32s.digest(&p()),
        Err(Error::InvalidField { field: "bytes", .. })
    );
    let huge = Tensor::new("w", "custom", &[u64::MAX, 2], &[]);
    assert_matches!(
        huge.digest(&p()),
        Err(Error::InvalidField { field: "shape", .. })
    );
    let unnamed = t("", &[1, 2]);
    assert_matches!(
        unnamed.digest(&p()),
        Err(Error::EmptyField { field: "name", .. })
    );
    let untyped = Tensor {
        dtype: "",
        ..t("a", &[1, 2])
    };
    assert_matches!(
        untyped.digest(&p()),
        Err(Error::EmptyField { field: "dtype", .. })
    );
    // An unknown dtype is hashed without a length check.
    let custom = Tensor::new("q", "q4_0", &[32], &[0; 18]);
    assert!(custom.digest(&p()).is_ok());
}

#[test]
fn architecture_and_environment() {
    let arch = ModelArchitecture::new("CNN");
    assert!(arch.validate().is_ok());
    assert_matches!(
        ModelArchitecture::new("").validate(),
        Err(Error::EmptyField { field: "type", .. })
    );
    let json = serde_json::to_string(&arch).unwrap();
    assert!(json.contains("\"type\":\"CNN\""), "{json}");
    assert_eq!(
        serde_json::from_str::<ModelArchitecture>(&json).unwrap(),
        arch
    );
    assert!(
        serde_json::from_str::<ModelArchitecture>(&json.replace("type", "model_type")).is_err()
    );

    let env = TrainingEnvironment::new("tensorflow", "2.13.0");
    assert!(env.validate().is_ok());
    let e1 = TrainingEnvironment {
        framework: String::new(),
        ..env.clone()
    };
    assert_matches!(
        e1.validate(),
        Err(Error::EmptyField {
            field: "framework",
            ..
        })
    );
    let e2 = TrainingEnvironment {
        framework_version: String::new(),
        ..env.clone()
    };
    assert_matches!(
        e2.validate(),
        Err(Error::EmptyField {
            field: "framework_version",
            ..
        })
    );

    let d = env.digest(&p()).unwrap();
    for v in [
        TrainingEnvironment {
            cuda_version: Some("11.8".into()),
            ..env.clone()
        },
        TrainingEnvironment {
            python_version: Some("3.11.4".into()),
            ..env.clone()
        },
        TrainingEnvironment {
            os_info: Some("Linux".into()),
            ..env.clone()
        },
        TrainingEnvironment {
            hardware: Some("A100".into()),
            ..env
        },
    ] {
        assert_ne!(v.digest(&p()).unwrap(), d);
    }
}

#[test]
fn verify_inputs_detects_each_substitution() {
    let pol = p();
    let arch = ModelArchitecture::new("CNN");
    let mut hp = Map::new();
    hp.insert("lr".into(), Value::from(0.001));
    let env = TrainingEnvironment::new("tensorflow", "2.13.0");
    let description = ModelDescription {
        model_name: "m".into(),
        version: "v1".into(),
        architecture_fingerprint: arch.digest(&pol).unwrap(),
        hyperparameters_digest: hyperparameters_digest(&pol, &hp).unwrap(),
        environment_digest: env.digest(&pol).unwrap(),
        parameter_fingerprint: None,
        trainer_commit: "abc".into(),
        authorized_datasets: BTreeMap::new(),
    };
    let anchor = ModelAnchor {
        description_digest: description.digest(&pol).unwrap(),
        description,
        kdf_iterations: 100_000,
        salt: Salt::from_bytes([0; 16]),
        anchor: MacTag::from_bytes([0; 32]),
        created_at: Timestamp::from_unix_micros(0),
    };
    anchor.verify_inputs(&pol, &arch, &hp, &env).unwrap();

    // The anchor survives JSON (salt and tag as hex) and parsing is strict.
    let json = serde_json::to_string(&anchor).unwrap();
    assert_eq!(serde_json::from_str::<ModelAnchor>(&json).unwrap(), anchor);
    let extra = json.replacen('{', "{\"model_id\":\"m\",", 1);
    assert!(serde_json::from_str::<ModelAnchor>(&extra).is_err());

    let other_arch = ModelArchitecture {
        total_params: Some(1),
        ..arch.clone()
    };
    let e = anchor.verify_inputs(&pol, &other_arch, &hp, &env);
    assert_matches!(
        e,
        Err(Error::DigestMismatch {
            record: "model-architecture",
            ..
        })
    );
    let mut other_hp = hp.clone();
    other_hp.insert("lr".into(), Value::from(0.01));
    let e = anchor.verify_inputs(&pol, &arch, &other_hp, &env);
    assert_matches!(
        e,
        Err(Error::DigestMismatch {
            record: "hyperparameters",
            ..
        })
    );
    let other_env = TrainingEnvironment::new("tensorflow", "2.14.0");
    let e = anchor.verify_inputs(&pol, &arch, &hp, &other_env);
    assert_matches!(
        e,
        Err(Error::DigestMismatch {
            record: "training-environment",
            ..
        })
    );
    let mut tampered = anchor;
    tampered.description.trainer_commit = "abd".into();
    let e = tampered.verify_inputs(&pol, &arch, &hp, &env);
    assert_matches!(
        e,
        Err(Error::DigestMismatch {
            record: "model-description",
            ..
        })
    );
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::default())]

    /// The root ignores the order tensors come in, and one flipped bit anywhere is
    /// located in exactly its tensor.
    #[test]
    fn fingerprint_is_order_free_and_locates_a_flip(
        sizes in proptest::collection::vec(0usize..40, 1..8),
        rotate in 0usize..8,
        pick in 0usize..8,
        bit in 0u8..8,
    ) {
        let p = Policy::default();
        let names: Vec<String> = (0..sizes.len()).map(|i| format!("t{i}")).collect();
        let data: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| u8::try_from((i * 31 + j) % 251).unwrap()).collect())
            .collect();
        let shapes: Vec<[u64; 1]> = sizes.iter().map(|&n| [n as u64]).collect();
        let tensors: Vec<Tensor<'_>> = (0..sizes.len())
            .map(|i| Tensor { name: &names[i], dtype: "u8", shape: &shapes[i], bytes: &data[i] })
            .collect();
        let a = ParameterFingerprint::compute(&p, tensors.iter().copied()).unwrap();
        let mut rotated = tensors.clone();
        rotated.rotate_left(rotate % tensors.len());
        let b = ParameterFingerprint::compute(&p, rotated).unwrap();
        proptest::prop_assert_eq!(a.root(), b.root());

        let i = pick % tensors.len();
        if !data[i].is_empty() {
            let mut flipped = data[i].clone();
            let at = (pick * 7) % flipped.len();
            flipped[at] ^= 1 << bit;
            let mut changed = tensors.clone();
            changed[i] = Tensor { bytes: &flipped, ..tensors[i] };
            let c = ParameterFingerprint::compute(&p, changed).unwrap();
            proptest::prop_assert_ne!(a.root(), c.root());
            proptest::prop_assert_eq!(a.diff(&c), vec![TensorChange::Changed(names[i].clone())]);
        }
    }
}
