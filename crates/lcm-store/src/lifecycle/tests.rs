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

/// Every digest field of the input files, as a JSON pointer into a lifecycle file whose
/// test split has content digests and whose pre-deployment has a rollout plan digest.
const DIGEST_FIELDS: &[(&str, &str)] = &[
    (
        "/dataset/splits/test/content_digests/xray_0009",
        "dataset.splits.test.content_digests.xray_0009",
    ),
    (
        "/training/checkpoints/0/model_state_digest",
        "training.checkpoints[0].model_state_digest",
    ),
    (
        "/training/checkpoints/1/optimizer_state_digest",
        "training.checkpoints[1].optimizer_state_digest",
    ),
    (
        "/training/final_model_digest",
        "training.final_model_digest",
    ),
    (
        "/predeployment/rollout_plan_digest",
        "predeployment.rollout_plan_digest",
    ),
    (
        "/predeployment/sbom/security_scan_digest",
        "predeployment.sbom.security_scan_digest",
    ),
];

fn example_with_every_digest() -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    v["dataset"]["splits"]["test"]["content_digests"] =
        serde_json::json!({"xray_0009": "77".repeat(32), "xray_0010": "88".repeat(32)});
    v["predeployment"]["rollout_plan_digest"] = "99".repeat(32).into();
    v
}

fn parse(v: &serde_json::Value) -> Result<LifecycleInput, crate::Error> {
    parse_lifecycle(v.to_string().as_bytes())
}

#[test]
fn every_input_digest_reads_with_or_without_an_algorithm_prefix() {
    let base = example_with_every_digest();
    let expected = format!("{:?}", parse(&base).unwrap());
    for (pointer, path) in DIGEST_FIELDS {
        let hex = base.pointer(pointer).unwrap().as_str().unwrap().to_owned();
        for prefix in ["sha256:", "blake3:"] {
            let mut v = base.clone();
            *v.pointer_mut(pointer).unwrap() = format!("{prefix}{hex}").into();
            // The same input, and so the same records, as the bare form.
            assert_eq!(format!("{:?}", parse(&v).unwrap()), expected, "{path}");
        }
        for (bad, why) in [
            (format!("md5:{hex}"), "got the prefix \"md5\""),
            (format!("SHA256:{hex}"), "got the prefix \"SHA256\""),
            (format!("sha256:{hex}0"), "got 65 characters"),
            (format!("sha256:sha256:{hex}"), "got 71 characters"),
            (format!("A{}", &hex[1..]), "lowercase hex character"),
        ] {
            let mut v = base.clone();
            *v.pointer_mut(pointer).unwrap() = bad.into();
            let e = parse(&v).unwrap_err().to_string();
            assert!(e.starts_with(&format!("lifecycle: {path}: expected a digest: 64 lowercase hex characters, alone or after \"sha256:\" or \"blake3:\"")), "{e}");
            assert!(e.contains(why), "{e} (expected {why})");
        }
    }
    // The artifact digest keeps its `<algorithm>:<hex>` form in the record; 64 hex characters
    // alone are a SHA-256 digest.
    let prefixed = base["predeployment"]["build_artifact"]["artifact_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut v = base;
    v["predeployment"]["build_artifact"]["artifact_digest"] =
        prefixed.trim_start_matches("sha256:").into();
    let bare = parse(&v).unwrap();
    assert_eq!(bare.predeployment.build_artifact.artifact_digest, prefixed);
    assert_eq!(format!("{bare:?}"), expected);
    v["predeployment"]["build_artifact"]["artifact_digest"] =
        format!("md5:{}", "ab".repeat(16)).into();
    let mut project = Project::new(ctx()).unwrap();
    let e = lifecycle_stage(
        &mut project,
        parse(&v).unwrap(),
        &Passwords {
            dataset: "d",
            model: "m",
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("artifact_digest"), "{e}");
    // Outside input files (records, documents) only the bare hex is read.
    let prefixed = format!("\"sha256:{}\"", "ab".repeat(32));
    assert!(serde_json::from_str::<Digest>(&prefixed).is_err());
}

#[test]
fn input_errors_name_the_json_path() {
    let mut v = example_with_every_digest();
    v["training"]["checkpoints"][1]["epoch"] = "two".into();
    let e = parse(&v).unwrap_err().to_string();
    assert!(
        e.starts_with("lifecycle: training.checkpoints[1].epoch: invalid type"),
        "{e}"
    );
}

/// The `properties` of the object schema `schema`, following a `$ref` into `root`'s `$defs`.
fn properties<'a>(
    root: &'a serde_json::Value,
    schema: &'a serde_json::Value,
) -> &'a serde_json::Map<String, serde_json::Value> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &root["$defs"][r.trim_start_matches("#/$defs/")],
        None => schema,
    };
    schema["properties"].as_object().unwrap()
}

#[test]
fn every_input_file_kind_has_a_schema_matching_its_example() {
    let stages = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/cli/stages/");
    for (kind, file) in [
        ("lifecycle", None),
        ("dataset", Some("dataset")),
        ("model", Some("model")),
        ("training", Some("training")),
        ("training", Some("training-complete")),
        ("predeployment", Some("predeployment")),
        ("deployment", Some("deployment")),
        ("test", Some("test")),
    ] {
        let schema = schema(kind).unwrap();
        assert!(SCHEMA_KINDS.iter().any(|(k, _)| *k == kind));
        let text = match file {
            Some(f) => std::fs::read_to_string(format!("{stages}{f}.json")).unwrap(),
            None => EXAMPLE.to_owned(),
        };
        let example: serde_json::Value = serde_json::from_str(&text).unwrap();
        let props = properties(&schema, &schema);
        // Every key of the example is a property; every required property is given; unknown
        // keys are refused, as the parser refuses them.
        for key in example.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "{kind}: {key}");
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(
                example.get(required.as_str().unwrap()).is_some(),
                "{kind}: {required}"
            );
        }
        assert_eq!(schema["additionalProperties"], false, "{kind}");
        assert_eq!(schema["title"], format!("lcm record {kind} FILE"));
        assert_eq!(
            props.contains_key("_comment"),
            kind != "lifecycle" || file.is_none()
        );
    }
    // The notations and accepted values are in the schema.
    let training = schema("training").unwrap();
    assert_eq!(
        training["$defs"]["Digest"]["pattern"],
        "^((sha256|blake3):)?[0-9a-f]{64}$"
    );
    let pre = schema("predeployment").unwrap();
    let status: Vec<&str> = pre["$defs"]["ComplianceStatus"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["const"].as_str())
        .collect();
    assert_eq!(
        status,
        ["failed", "passed", "passed_with_warnings", "unknown"]
    );
    let dataset = schema("dataset").unwrap();
    let splits: Vec<&String> = dataset["properties"]["splits"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(splits, ["test", "train", "val"]);
    assert_eq!(
        dataset["properties"]["splits"]["additionalProperties"],
        false
    );
    assert!(!training.to_string().contains("# Examples"));
    assert!(schema("inferences").is_none());
}

#[test]
fn final_weights_sets_or_checks_final_model_digest() {
    let dir = std::env::temp_dir().join(format!("lcm-final-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let weights = dir.join("w.bin");
    std::fs::write(&weights, b"weights").unwrap();
    let build = |alg| crate::fingerprint::Manifest::build(alg, &weights, &mut |_, _| {}).unwrap();
    let sha = build(lcm_crypto::HashAlgorithm::Sha256);
    assert_eq!(
        sha.digest,
        lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, b"weights")
    );
    let mut input = parse_lifecycle(EXAMPLE.as_bytes()).unwrap().training;
    // Another digest in the file: refused, naming both.
    let e = final_weights(&mut input, &sha).unwrap_err().to_string();
    assert!(e.contains("is not the digest of the weights"), "{e}");
    assert!(e.contains(&sha.digest.to_hex()), "{e}");
    // Left out: set; the same digest given: kept.
    input.final_model_digest = None;
    final_weights(&mut input, &sha).unwrap();
    assert_eq!(input.final_model_digest, Some(sha.digest));
    final_weights(&mut input, &sha).unwrap();
    // Another hash than SHA-256: refused.
    input.final_model_digest = None;
    let blake = build(lcm_crypto::HashAlgorithm::Blake3);
    assert!(final_weights(&mut input, &blake).is_err());
    assert_eq!(input.final_model_digest, None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether `value` conforms to `schema` (of `root`), for the keywords schemars writes for the
/// infer line and the policy: `$ref`, `type`, `enum`, `const`, `pattern` (the digest
/// patterns), `properties`, `required`, `additionalProperties`, `items`, `anyOf`, `oneOf`.
fn conforms(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
) -> bool {
    use serde_json::Value;
    if let Some(r) = schema["$ref"].as_str() {
        return conforms(
            root,
            &root["$defs"][r.trim_start_matches("#/$defs/")],
            value,
        );
    }
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(serde_json::Map::is_empty) {
        return true;
    }
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("type {other}"),
    };
    match &schema["type"] {
        Value::String(t) if !type_ok(t) => return false,
        Value::Array(ts) if !ts.iter().any(|t| type_ok(t.as_str().unwrap())) => return false,
        _ => {}
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return false;
    }
    if !schema["const"].is_null() && &schema["const"] != value {
        return false;
    }
    if let (Some(pattern), Some(text)) = (schema["pattern"].as_str(), value.as_str()) {
        let hex = |s: &str| {
            s.len() == 64
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let ok = match pattern {
            "^[0-9a-f]{64}$" => hex(text),
            "^((sha256|blake3):)?[0-9a-f]{64}$" => hex(text
                .strip_prefix("sha256:")
                .or_else(|| text.strip_prefix("blake3:"))
                .unwrap_or(text)),
            other => panic!("pattern {other}"),
        };
        if !ok {
            return false;
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            let n = options.iter().filter(|s| conforms(root, s, value)).count();
            if n == 0 || (key == "oneOf" && n > 1) {
                return false;
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array())
        && !values.iter().all(|v| conforms(root, items, v))
    {
        return false;
    }
    if let Some(object) = value.as_object() {
        let props = schema["properties"].as_object();
        for (k, v) in object {
            match props.and_then(|p| p.get(k)) {
                Some(s) if !conforms(root, s, v) => return false,
                None if schema["additionalProperties"] == Value::Bool(false) => return false,
                _ => {}
            }
        }
        if let Some(required) = schema["required"].as_array()
            && !required
                .iter()
                .all(|r| object.contains_key(r.as_str().unwrap()))
        {
            return false;
        }
    }
    true
}

#[test]
fn the_infer_line_and_policy_schemas_accept_what_the_parsers_accept() {
    use serde_json::json;
    let line = schema("infer-line").unwrap();
    assert_eq!(line["title"], "a line of lcm infer's standard input");
    let example = include_str!("../../../../examples/cli/inferences.jsonl");
    let mut lines: Vec<serde_json::Value> = example
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.push(json!({"request_id": "r", "query": {"image": [1, 2]}, "output": 0.5}));
    for l in &lines {
        assert!(conforms(&line, &line, l), "{l}");
        crate::pipeline::parse_requests(&l.to_string()).unwrap();
    }
    let explanation = "7".repeat(64);
    for wrong in [
        json!({"request_id": "r", "query": "q"}),
        json!({"request_id": "r", "query": "q", "output": "o", "model": "m"}),
        json!({"request_id": 7, "query": "q", "output": "o"}),
        json!({"request_id": "r", "query": "q", "output": "o", "input_metadata": []}),
        json!({"request_id": "r", "query": "q", "output": "o",
               "explanation_digests": [format!("sha256:{explanation}")]}),
    ] {
        assert!(!conforms(&line, &line, &wrong), "{wrong}");
        assert!(
            crate::pipeline::parse_requests(&wrong.to_string()).is_err(),
            "{wrong}"
        );
    }
    let policy = schema("policy").unwrap();
    assert_eq!(policy["title"], "lcm init --policy FILE");
    let default = serde_json::to_value(lcm_model::Policy::default()).unwrap();
    let mut plaintext = default.clone();
    plaintext["commitments"] = "plaintext".into();
    plaintext["hash_algorithm"] = "BLAKE3".into();
    plaintext["domains"] = json!(["inference", "dataset_family"]);
    for good in [&default, &plaintext] {
        assert!(conforms(&policy, &policy, good), "{good}");
        serde_json::from_value::<lcm_model::Policy>(good.clone()).unwrap();
    }
    for (field, bad) in [
        ("hash_algorithm", json!("sha256")),
        ("commitments", json!("hmac")),
        ("domains", json!("all")),
        ("domains", json!(["everything"])),
        ("merkle", json!("rfc6962")),
        ("kdf_iterations", json!("many")),
        ("unknown", json!(1)),
    ] {
        let mut wrong = default.clone();
        wrong[field] = bad;
        assert!(!conforms(&policy, &policy, &wrong), "{wrong}");
        assert!(
            serde_json::from_value::<lcm_model::Policy>(wrong.clone()).is_err(),
            "{wrong}"
        );
    }
}
