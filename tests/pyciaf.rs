//! The compatibility profile against every vector of the Python reference
//! (`tests/vectors/pyciaf/reference-vectors.json`, DenzilGreenwood/pyciaf 1.7.0).

use lcm::compat::pyciaf::{self, Error, ModelDigests, ModelInputs, ReceiptFields};
use lcm::crypto::hex;
use lcm::crypto::merkle::MerkleTree;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/pyciaf/reference-vectors.json"))
        .expect("the vector file is JSON")
}

/// The cases of the vectors' section `name`, an array.
fn cases(name: &str) -> Vec<Value> {
    let mut v = vectors();
    serde_json::from_value(v[name].take()).expect("an array of cases")
}

fn s(v: &Value) -> &str {
    v.as_str().expect("a string")
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().expect("an array").iter().map(s).collect()
}

/// The raw text of the `"input"` member of the case named `name`, key order kept (`serde_json`
/// without `preserve_order` would sort the keys, and `str(dict)` prints them in input order).
fn raw_input(name: &str) -> String {
    let file = include_str!("vectors/pyciaf/reference-vectors.json");
    let at = file
        .find(&format!("\"name\": \"{name}\""))
        .expect("the case");
    let start = at + file[at..].find("\"input\": ").expect("its input") + "\"input\": ".len();
    let mut stream =
        serde_json::Deserializer::from_str(&file[start..]).into_iter::<serde::de::IgnoredAny>();
    stream.next().expect("a value").expect("valid JSON");
    file[start..start + stream.byte_offset()].to_owned()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(s(v)).expect("hex")
}

/// The reference's model digests of the vectors' `model` section, with the architecture and
/// environment given as JSON text.
fn model_digests(model: &Value, architecture_json: &str, environment_json: &str) -> ModelDigests {
    let hp = serde_json::to_string(&model["hyperparameters"]).expect("JSON");
    let authorized = strs(&model["authorized_datasets"]);
    pyciaf::model_digests(&ModelInputs {
        model_name: s(&model["model_name"]),
        version: s(&model["version"]),
        architecture_json,
        hyperparameters_json: &hp,
        environment_json,
        trainer_commit: s(&model["trainer_commit"]),
        authorized_datasets: &authorized,
    })
    .expect("the vectors' model is valid")
}

/// Checks the reference's release root over the four leaves of the vectors' `release_root`
/// section `section`, and returns the leaves.
#[track_caller]
fn check_release_root(section: &Value) -> Vec<&str> {
    let leaves = strs(&section["leaves"]);
    assert_eq!(
        pyciaf::release_root(leaves[0], leaves[1], leaves[2], leaves[3]).expect("a root"),
        s(&section["root"])
    );
    leaves
}

/// Checks that the reference's tree over `leaves` has the vectors' `expected` root.
#[track_caller]
fn check_root(leaves: &[&str], expected: &Value) {
    assert_eq!(pyciaf::merkle_root(leaves).expect("a root"), s(expected));
}

#[test]
fn canonical_json_section() {
    let cases = cases("canonical_json");
    assert!(cases.len() >= 14);
    for case in cases {
        // `nan` cannot travel in the vector file's JSON (it holds null); Python's json.loads
        // reads the bare `NaN` the reference writes.
        let input = if case["python_input"] == "nan" {
            "NaN".to_owned()
        } else {
            serde_json::to_string(&case["input"]).unwrap()
        };
        let out = &case["output"];
        for (key, got) in [
            ("canonical_json", pyciaf::canonical_json(&input)),
            ("canonical_hash", pyciaf::canonical_hash(&input)),
        ] {
            assert_eq!(got.unwrap(), s(&out[key]), "{} {key}", case["name"]);
        }
    }
}

#[test]
fn canonical_json_rules_beyond_the_file() {
    for (input, expected) in [
        ("18446744073709551616", "18446744073709551616"),
        ("-0", "0"),
        (
            "[1E2, 1e400, -1e400, -0.0]",
            "[100.0,Infinity,-Infinity,-0.0]",
        ),
        (
            r#"{"z":3,"\ue000":1,"\ud83d\ude00":2}"#,
            r#"{"z":3,"\ue000":1,"\ud83d\ude00":2}"#,
        ),
        (r#""\ud800x""#, r#""\ud800x""#),
        ("\"\u{7f}/\"", r#""\u007f/""#),
        (" { \"a\" : [ ] } ", r#"{"a":[]}"#),
    ] {
        assert_eq!(pyciaf::canonical_json(input).unwrap(), expected, "{input}");
    }
}

/// The reference raises `TypeError` on these Python values; none of them is JSON, so the
/// function refuses their text as well, saying where.
#[test]
fn canonical_json_errors_section() {
    let cases = cases("canonical_json_errors");
    assert_eq!(cases.len(), 2);
    for case in cases {
        let err = pyciaf::canonical_json(s(&case["python_input"])).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{err}");
    }
    for bad in ["{1: 2}", "[1,]", "{\"a\":1", "b'x'", "nan", "\"\u{1}\""] {
        assert!(pyciaf::canonical_json(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn create_commitment_section() {
    let cases = cases("create_commitment");
    assert_eq!(cases.len(), 8);
    for case in cases {
        let f = s(&case["fn"]);
        let (kind, secret) = if f.contains("PLAINTEXT") {
            ("plaintext", Vec::new())
        } else if f.contains("SALTED") {
            ("salted", bytes(&case["salt_hex"]))
        } else {
            ("HMAC-SHA256", bytes(&case["key_hex"]))
        };
        let input = raw_input(s(&case["name"]));
        assert_eq!(
            serde_json::from_str::<Value>(&input).unwrap(),
            case["input"]
        );
        assert_eq!(
            pyciaf::commitment(kind, &input, &secret).unwrap(),
            s(&case["output"]),
            "{}",
            case["name"]
        );
    }
    assert!(matches!(
        pyciaf::commitment("SALTED", "1", &[0; 16]),
        Err(Error::CommitmentKind { .. })
    ));
    // A changed salt, key or datum changes the tag.
    let base = pyciaf::commitment("salted", "\"hello\"", &[0; 16]).unwrap();
    assert_ne!(
        base,
        pyciaf::commitment("salted", "\"hello\"", &[1; 16]).unwrap()
    );
    assert_ne!(
        base,
        pyciaf::commitment("salted", "\"hellO\"", &[0; 16]).unwrap()
    );
    assert_eq!(
        pyciaf::commitment("plaintext", "[1.0, null, true, \"it's\"]", &[]).unwrap(),
        "[1.0, None, True, \"it's\"]"
    );
}

#[test]
fn merkle_roots_section() {
    let cases = cases("merkle_roots");
    assert!(cases.len() >= 8);
    for case in cases {
        let leaves = strs(&case["leaves"]);
        assert_eq!(
            pyciaf::merkle_root(&leaves).unwrap(),
            s(&case["root_MerkleTree"]),
            "n = {}",
            case["n"]
        );
    }
}

/// The collisions the reference's tree allows happen in the profile and not in the native
/// RFC 9162 tree over the same leaves.
#[test]
fn merkle_weaknesses_section() {
    let v = vectors();
    let w = &v["merkle_weaknesses"];
    let dup = &w["duplicate_last_collision"];
    let (l3, l4) = (strs(&dup["leaves_3"]), strs(&dup["leaves_4"]));
    check_root(&l3, &dup["root_3"]);
    check_root(&l4, &dup["root_4"]);
    let native = |leaves: &[&str]| {
        MerkleTree::from_leaves(leaves.iter().map(|l| hex::decode(l).unwrap())).root()
    };
    assert_ne!(native(&l3), native(&l4));

    let inner = &w["interior_node_as_leaf"];
    let (l4, l2) = (strs(&inner["leaves_4"]), strs(&inner["leaves_2"]));
    check_root(&l4, &inner["root_4"]);
    check_root(&l2, &inner["root_2"]);
    assert_ne!(native(&l4), native(&l2));

    check_root(&[], &w["empty_tree"]["MerkleTree([]).get_root()"]);
    check_root(&["not-hex"], &w["single_non_hex_leaf_accepted_as_root"]);
    let short = &w["short_hex_leaves_accepted"];
    check_root(&strs(&short["leaves"]), &short["root"]);
    // Python's bytes.fromhex: either case, whitespace between pairs; non-hex fails.
    check_root(&["AB", " cd\t"], &short["root"]);
    assert!(matches!(
        pyciaf::merkle_root(&["ab", "not-hex"]),
        Err(Error::LeafHex { index: 1, .. })
    ));
    assert!(pyciaf::merkle_root(&["ab", "abc"]).is_err());
}

#[test]
fn anchor_derivation_section() {
    let v = vectors();
    let cases = v["anchor_derivation"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let master = pyciaf::master_anchor(s(&case["password"]), &bytes(&case["salt_hex"]));
        assert_eq!(hex::encode(&master), s(&case["master_anchor_hex"]));
        let dataset = pyciaf::hmac_anchor(&master, s(&case["dataset_hash"]));
        assert_eq!(hex::encode(&dataset), s(&case["dataset_anchor_hex"]));
        let model = pyciaf::hmac_anchor(&master, s(&case["model_hash"]));
        assert_eq!(hex::encode(&model), s(&case["model_anchor_hex"]));
        let capsule = pyciaf::hmac_anchor(&dataset, s(&case["capsule_id"]));
        assert_eq!(hex::encode(&capsule), s(&case["capsule_anchor_hex"]));
    }
    let d = &v["derive_anchor_from_master"];
    assert_eq!(
        hex::encode(&pyciaf::hmac_anchor(
            s(&d["master_password"]).as_bytes(),
            s(&d["dataset_id"])
        )),
        s(&d["output_hex"])
    );
    // Python's hmac accepts the empty key; it is the all-zero block.
    assert_eq!(
        pyciaf::hmac_anchor(&[], "x"),
        pyciaf::hmac_anchor(&[0; 64], "x")
    );
}

#[test]
fn policy_section() {
    let cases = cases("policy");
    assert_eq!(cases.len(), 2);
    for case in cases {
        let d = &case["to_dict"];
        let input = serde_json::to_string(d).unwrap();
        assert_eq!(
            pyciaf::canonical_json(&input).unwrap(),
            s(&case["canonical_json"])
        );
        assert_eq!(
            pyciaf::policy_digest(&strs(&d["domains"]), s(&d["commitments"])),
            s(&case["policy_digest"])
        );
    }
}

#[test]
fn lifecycle_section() {
    let v = vectors();
    let l = &v["lifecycle"];

    let sa = &l["split_assignment_digest"];
    let ids = strs(&sa["record_ids"]);
    assert_eq!(
        pyciaf::split_assignment_digest(&ids, None),
        s(&sa["unsalted"])
    );
    assert_eq!(
        pyciaf::split_assignment_digest(&ids, Some(&bytes(&sa["salt_hex"]))),
        s(&sa["salted"])
    );
    assert_eq!(
        pyciaf::split_assignment_digest(&ids, Some(&[])),
        s(&sa["unsalted"])
    );

    let fam = &l["dataset_family_anchor"];
    let meta = serde_json::to_string(&fam["metadata"]).unwrap();
    let anchor = pyciaf::family_anchor(&meta, s(&fam["dataset_content_root"])).unwrap();
    assert_eq!(anchor, s(&fam["family_anchor"]));
    assert_eq!(pyciaf::display_id("d_f_", &anchor), s(&fam["anchor_id"]));
    // Fields outside meta7 do not matter; one inside does.
    let mut m = fam["metadata"].clone();
    m["tags"] = serde_json::json!(["x"]);
    assert_eq!(
        pyciaf::family_anchor(&m.to_string(), s(&fam["dataset_content_root"])).unwrap(),
        anchor
    );
    m["owner"] = serde_json::json!("p");
    assert_ne!(
        pyciaf::family_anchor(&m.to_string(), s(&fam["dataset_content_root"])).unwrap(),
        anchor
    );

    let split = &l["dataset_split_anchor"];
    let meta = serde_json::to_string(&split["split_metadata"]).unwrap();
    let anchor = pyciaf::split_anchor(&meta, s(&split["split_content_root"])).unwrap();
    assert_eq!(anchor, s(&split["split_anchor"]));
    assert_eq!(
        pyciaf::display_id("d_s_train_", &anchor),
        s(&split["anchor_id"])
    );
    check_root(&strs(&split["sample_hashes"]), &split["sample_merkle_root"]);

    let model = &l["model_anchor"];
    let j = |k: &str| serde_json::to_string(&model[k]).unwrap();
    let digests = model_digests(model, &j("architecture"), &j("environment"));
    assert_eq!(digests.params_root, s(&model["params_root"]));
    assert_eq!(digests.arch_root, s(&model["arch_root"]));
    assert_eq!(digests.hp_digest, s(&model["hp_digest"]));
    assert_eq!(digests.env_digest, s(&model["env_digest"]));
    assert_eq!(digests.model_hash, s(&model["model_hash"]));
    let master = pyciaf::master_anchor(s(&model["master_password"]), &bytes(&model["salt_hex"]));
    assert_eq!(hex::encode(&master), s(&model["master_anchor_hex"]));
    let anchor = pyciaf::hmac_anchor(&master, &digests.model_hash);
    assert_eq!(hex::encode(&anchor), s(&model["model_anchor_hex"]));
    assert_eq!(
        pyciaf::display_id("m_", &hex::encode(&anchor)),
        s(&model["anchor_id"])
    );

    check_release_root(&l["release_root"]);
}

#[test]
fn receipts_chain_and_batch() {
    let fields = ReceiptFields {
        receipt_id: "r1",
        model_anchor_ref: "m_c1e87289...",
        deployment_anchor_ref: "dp_f8fa14db...",
        request_id: "q1",
        input_commitment: "hello",
        output_commitment: "world",
        explanation_digests: &[],
        timestamp: "2026-01-02T03:04:05.678901",
    };
    // The digest is the canonical hash of exactly these eight fields.
    let json = r#"{"receipt_id":"r1","model_anchor_ref":"m_c1e87289...","deployment_anchor_ref":"dp_f8fa14db...","request_id":"q1","input_commitment":"hello","output_commitment":"world","explanation_digests":[],"timestamp":"2026-01-02T03:04:05.678901"}"#;
    let d1 = pyciaf::receipt_digest(&fields);
    assert_eq!(d1, pyciaf::canonical_hash(json).unwrap());
    let c1 = pyciaf::connections_digest(None, &d1);
    assert_eq!(
        c1,
        pyciaf::canonical_hash(&format!("{d1:?}"))
            .map(|_| c1.clone())
            .unwrap()
    );
    assert_eq!(
        c1,
        hex::encode(
            lcm::crypto::hash(lcm::crypto::HashAlgorithm::Sha256, d1.as_bytes()).as_bytes()
        )
    );
    let d2 = pyciaf::receipt_digest(&ReceiptFields {
        receipt_id: "r2",
        ..fields
    });
    let c2 = pyciaf::connections_digest(Some(&c1), &d2);
    assert_eq!(
        c2,
        hex::encode(
            lcm::crypto::hash(
                lcm::crypto::HashAlgorithm::Sha256,
                format!("{c1}||{d2}").as_bytes()
            )
            .as_bytes()
        )
    );
    assert_eq!(pyciaf::batch_root(&[]).unwrap(), "empty_batch");
    assert_eq!(
        pyciaf::batch_root(&[&d1, &d2]).unwrap(),
        pyciaf::merkle_root(&[&d1, &d2]).unwrap()
    );
}

/// The profile exists as a value but no native path accepts it: a native policy cannot hold
/// it (its wire form does not parse as one), so the managers cannot run under it, and it is
/// never the default.
#[test]
fn the_profile_is_refused_by_the_managers() {
    use lcm::model::Policy;
    let compat = pyciaf::policy();
    let wire = serde_json::to_value(&compat).unwrap();
    assert_eq!(wire["canonicalization"], "pyciaf-json");
    assert_eq!(wire["merkle"], "pyciaf-duplicate-last");
    assert!(serde_json::from_value::<Policy>(wire).is_err());
    assert!(lcm::managers::Context::with_policy(Policy::default()).is_ok());
    assert!(lcm::get_default_policy().validate().is_ok());
    assert!(lcm::default_policy().validate().is_ok());
}

#[track_caller]
fn check_commitment(kind: &str, input: &str, secret: &[u8], expected: &Value) {
    // `null` marks text Python cannot encode as UTF-8 (a lone surrogate): an error here too.
    assert_eq!(
        pyciaf::commitment(kind, input, secret).ok().as_deref(),
        expected.as_str(),
        "{kind} {input:?}"
    );
}

/// Random values (big ints, float bit patterns, NaN, control characters, lone surrogates,
/// astral characters, nesting) through `CPython` 3.11.7's own `json`, `hashlib` and `hmac`.
#[test]
fn differential_against_cpython() {
    let v: Value =
        serde_json::from_str(include_str!("vectors/pyciaf/python-differential.json")).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 400);
    let salt: Vec<u8> = (0..16).collect();
    let key: Vec<u8> = (0..32).collect();
    for c in cases {
        let input = s(&c["input"]);
        assert_eq!(
            pyciaf::canonical_json(input).unwrap(),
            s(&c["canon"]),
            "{input:?}"
        );
        check_commitment("plaintext", input, &[], &c["plain"]);
        check_commitment("salted", input, &salt, &c["salted"]);
        check_commitment("HMAC-SHA256", input, &key, &c["hmac"]);
    }
    let trees = v["merkle"].as_array().unwrap();
    assert_eq!(trees.len(), 60);
    for m in trees {
        let leaves = strs(&m["leaves"]);
        assert_eq!(
            pyciaf::merkle_root(&leaves).unwrap(),
            s(&m["root"]),
            "{leaves:?}"
        );
    }
}

/// `dataset_hash` fills the `DatasetMetadata` defaults and sorts `tags` and
/// `compliance_frameworks` before hashing the 17 fields; `test_metrics_digest` turns int
/// metrics into floats, as pydantic does.
#[test]
fn dataset_hash_and_test_metrics_follow_the_models() {
    let given = r#"{"name": "d", "tags": ["b", "a"], "compliance_frameworks": ["z", "GDPR"], "unknown_field": 1}"#;
    let explicit = r#"{"dataset_id": "ds", "split": "train", "name": "d", "owner": "unknown", "license": "unknown",
        "schema_digest": "", "sampling_rules": {}, "version": "1.0.0", "content_root": "", "contains_pii": false,
        "privacy_level": "public", "compliance_frameworks": ["GDPR", "z"], "tags": ["a", "b"], "rng_seed": null,
        "rng_source": null, "stratify_by": null, "split_assignment_digest": null}"#;
    let h = pyciaf::dataset_hash("ds", "train", given).unwrap();
    assert_eq!(h, pyciaf::canonical_hash(explicit).unwrap());
    assert_ne!(h, pyciaf::dataset_hash("ds", "val", given).unwrap());
    assert!(matches!(
        pyciaf::dataset_hash("ds", "train", "{}"),
        Err(Error::Field { field: "name", .. })
    ));
    assert!(pyciaf::dataset_hash("ds", "train", r#"{"name": "d", "tags": [1]}"#).is_err());

    let ints =
        pyciaf::test_metrics_digest(r#"{"total_samples": 1000, "f1": 0.85}"#, "ds", "pre_deploy")
            .unwrap();
    let floats = r#"{"metrics": {"f1": 0.85, "total_samples": 1000.0}, "test_dataset_ref": "ds", "evaluation_type": "pre_deploy"}"#;
    assert_eq!(ints, pyciaf::canonical_hash(floats).unwrap());
    assert!(pyciaf::test_metrics_digest(r#"{"f1": "high"}"#, "ds", "pre_deploy").is_err());

    // Sample hashes use the default separators, unlike canonical_hash.
    let sample = r#"{"b": [1, 2], "a": "x"}"#;
    let expected = hex::encode(
        lcm::crypto::hash(
            lcm::crypto::HashAlgorithm::Sha256,
            br#"{"a": "x", "b": [1, 2]}"#,
        )
        .as_bytes(),
    );
    assert_eq!(pyciaf::sample_hash(sample).unwrap(), expected);
    assert_ne!(
        pyciaf::sample_hash(sample).unwrap(),
        pyciaf::canonical_hash(sample).unwrap()
    );
    assert_eq!(
        pyciaf::intent_to_actual_digest("a", "b"),
        hex::encode(lcm::crypto::hash(lcm::crypto::HashAlgorithm::Sha256, b"a||b").as_bytes())
    );
    assert_eq!(
        pyciaf::training_session_root("ab", "cd", "ef").unwrap(),
        pyciaf::merkle_root(&["ab", "cd", "ef"]).unwrap()
    );
}

/// Nesting up to the parser's limit goes through every writer without exhausting the stack.
#[test]
fn deep_nesting_is_handled() {
    let depth = 512;
    let input = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(pyciaf::canonical_json(&input).unwrap(), input);
    let plain = pyciaf::commitment("plaintext", &input, &[]).unwrap();
    assert_eq!(plain, input);
    let deeper = format!("[{input}]");
    assert!(matches!(
        pyciaf::canonical_json(&deeper),
        Err(Error::TooDeep { limit: 512 })
    ));
}

mod properties {
    use lcm::compat::pyciaf;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any text: an error or a value, never a panic.
        #[test]
        fn no_panic_on_any_text(text in "\\PC{0,40}") {
            let _ = pyciaf::canonical_json(&text);
            let _ = pyciaf::commitment("plaintext", &text, &[]);
        }

        /// JSON-looking text built from the grammar's pieces: never a panic, and whatever is
        /// read is written in a form that reads back to the same canonical text.
        #[test]
        fn canonical_output_is_a_fixed_point(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("[".to_owned()), Just("]".to_owned()), Just("{".to_owned()),
                    Just("}".to_owned()), Just(",".to_owned()), Just(":".to_owned()),
                    Just("\"k\"".to_owned()), Just("\"\\ud800\\u00e9\"".to_owned()),
                    Just("NaN".to_owned()), Just("-Infinity".to_owned()), Just("null".to_owned()),
                    any::<f64>().prop_map(|f| format!("{f:e}")),
                    any::<i64>().prop_map(|i| i.to_string()),
                    "[0-9.eE+-]{1,6}",
                ],
                0..12,
            )
        ) {
            let text = parts.concat();
            if let Ok(canon) = pyciaf::canonical_json(&text) {
                prop_assert!(canon.is_ascii());
                prop_assert_eq!(pyciaf::canonical_json(&canon).unwrap(), canon);
            }
        }

        /// Merkle leaves of any text: an error or a root, never a panic.
        #[test]
        fn merkle_root_never_panics(leaves in proptest::collection::vec("[0-9a-fA-F \\t]{0,8}", 0..6)) {
            let refs: Vec<&str> = leaves.iter().map(String::as_str).collect();
            let _ = pyciaf::merkle_root(&refs);
        }
    }
}

/// The reference's digests recomputed from `lcm`'s own record types: their JSON field names
/// are the reference's, so a record serializes straight into the compat functions.
#[test]
fn reference_digests_from_our_records() {
    use lcm::model::records::{DatasetFamilyMetadata, ModelArchitecture, TrainingEnvironment};
    let v = vectors();
    let l = &v["lifecycle"];

    let fam = &l["dataset_family_anchor"];
    let mut meta = fam["metadata"].clone();
    // `creation_date` is not one of our fields, and not hashed by the reference either.
    meta.as_object_mut().unwrap().remove("creation_date");
    let ours: DatasetFamilyMetadata = serde_json::from_value(meta).unwrap();
    let json = serde_json::to_string(&ours).unwrap();
    assert_eq!(
        pyciaf::family_anchor(&json, s(&fam["dataset_content_root"])).unwrap(),
        s(&fam["family_anchor"])
    );

    let model = &l["model_anchor"];
    let arch: ModelArchitecture = serde_json::from_value(model["architecture"].clone()).unwrap();
    let env: TrainingEnvironment = serde_json::from_value(model["environment"].clone()).unwrap();
    let (arch, env) = (
        serde_json::to_string(&arch).unwrap(),
        serde_json::to_string(&env).unwrap(),
    );
    let digests = model_digests(model, &arch, &env);
    assert_eq!(digests.arch_root, s(&model["arch_root"]));
    assert_eq!(digests.env_digest, s(&model["env_digest"]));
    assert_eq!(digests.model_hash, s(&model["model_hash"]));
}

/// The manager mode (`lcm::compat::pyciaf::managers`, the code of
/// `lcm_managers::compat::pyciaf`): the reference's sequence of calls reproduces its digests.
mod managers {
    use std::sync::Arc;

    use lcm::compat::pyciaf::managers::{
        BuildArtifact, CapsuleHeaderInputs, CapsuleManager, DatasetFamilyManager, DatasetManager,
        DatasetSplit, DeploymentInputs, DeploymentManager, FamilyAnchor, FamilySplit,
        FamilySplitConfig, InferenceManager, InferenceReceipt, InferenceRequest, ModelAnchor,
        ModelManager, PreDeploymentInputs, PyciafContext, RootManager, Sbom, TrainingManager,
        TrainingMetrics, verify_connections,
    };
    use lcm::compat::pyciaf::{self, ModelInputs};
    use lcm::crypto::{CommitmentScheme, HashAlgorithm, Seed, SeededRandom, hex};
    use lcm::model::{FixedClock, Policy};
    use serde_json::{Value, json};

    use super::{bytes, check_release_root, s, strs, vectors};

    /// The vectors' frozen clock, `2026-01-02T03:04:05.678901`.
    const FROZEN: &str = "2026-01-02T03:04:05.678901";

    fn ctx(commitments: CommitmentScheme, step_micros: i64) -> PyciafContext {
        let mut policy = pyciaf::policy();
        policy.commitments = commitments;
        PyciafContext::new(
            policy,
            Arc::new(FixedClock::new(
                format!("{FROZEN}Z")
                    .parse()
                    .expect("the frozen time is RFC 3339"),
                step_micros,
            )),
            SeededRandom::new(&Seed::from_bytes([9; 32])),
        )
        .expect("the profile opens a context")
    }

    /// The vectors, a salted context on the frozen clock, and a family manager on it: where the
    /// lifecycle tests start.
    fn salted_lifecycle() -> (Value, PyciafContext, DatasetFamilyManager) {
        let ctx = ctx(CommitmentScheme::Salted, 0);
        let families = DatasetFamilyManager::new(ctx.clone());
        (vectors(), ctx, families)
    }

    /// The anchor of family `fam` that `families` makes for `metadata` and the content root of
    /// the vectors' family section `section`.
    fn family_anchor<'a>(
        families: &'a mut DatasetFamilyManager,
        metadata: &Value,
        section: &Value,
    ) -> &'a FamilyAnchor {
        families
            .create_dataset_family_anchor(
                "fam",
                &metadata.to_string(),
                s(&section["dataset_content_root"]),
            )
            .expect("a family anchor")
    }

    fn sha256(text: &str) -> String {
        hex::encode(lcm::crypto::hash(HashAlgorithm::Sha256, text.as_bytes()).as_bytes())
    }

    /// Python's `json.dumps(x, sort_keys=True)` for the ASCII values these tests build
    /// (`serde_json`'s map is sorted; only the separators differ).
    fn py_dumps(v: &Value, compact: bool) -> String {
        let (item, key) = if compact { (",", ":") } else { (", ", ": ") };
        match v {
            Value::Object(m) => {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| {
                        format!("{}{key}{}", Value::from(k.as_str()), py_dumps(v, compact))
                    })
                    .collect();
                format!("{{{}}}", parts.join(item))
            }
            Value::Array(a) => {
                let parts: Vec<String> = a.iter().map(|v| py_dumps(v, compact)).collect();
                format!("[{}]", parts.join(item))
            }
            other => other.to_string(),
        }
    }

    fn model_inputs<'a>(
        model: &'a Value,
        jsons: &'a [String; 3],
        authorized: &'a [&'a str],
    ) -> ModelInputs<'a> {
        ModelInputs {
            model_name: s(&model["model_name"]),
            version: s(&model["version"]),
            architecture_json: &jsons[0],
            hyperparameters_json: &jsons[1],
            environment_json: &jsons[2],
            trainer_commit: s(&model["trainer_commit"]),
            authorized_datasets: authorized,
        }
    }

    /// The anchor that `models` makes for the vectors' `model` section with `jsons`
    /// (architecture, hyperparameters, environment), `password` and `salt`.
    fn anchor_model<'a>(
        models: &'a mut ModelManager,
        model: &Value,
        jsons: &[String; 3],
        password: Option<&str>,
        salt: Option<&[u8]>,
    ) -> &'a ModelAnchor {
        let authorized = strs(&model["authorized_datasets"]);
        models
            .create_model_anchor(&model_inputs(model, jsons, &authorized), password, salt)
            .expect("a model anchor")
    }

    fn model_jsons(model: &Value) -> [String; 3] {
        [
            model["architecture"].to_string(),
            model["hyperparameters"].to_string(),
            model["environment"].to_string(),
        ]
    }

    /// The `lifecycle`, `anchor_derivation` and `derive_anchor_from_master` sections, driven
    /// through the managers call by call.
    #[test]
    fn the_managers_reproduce_the_lifecycle_section() {
        let (v, ctx, mut families) = salted_lifecycle();
        let l = &v["lifecycle"];

        // Dataset family: the constructor, then the simulation (same content-root rule).
        let fam = &l["dataset_family_anchor"];
        let anchor = family_anchor(&mut families, &fam["metadata"], fam);
        assert_eq!(anchor.family_anchor, s(&fam["family_anchor"]));
        assert_eq!(anchor.anchor_id, s(&fam["anchor_id"]));
        assert_eq!(
            anchor.to_dict().unwrap(),
            pyciaf::canonical_json(&fam["to_dict"].to_string()).unwrap()
        );
        let simulated = families
            .create_dataset_family(
                "fam",
                &fam["metadata"].to_string(),
                &FamilySplitConfig::defaults([1, 2, 3]),
            )
            .unwrap();
        assert_eq!(simulated.family_anchor, s(&fam["family_anchor"]));
        assert_eq!(families.get_all_splits("fam").len(), 3);

        // Split anchor, its samples and its assignment digest.
        let split = &l["dataset_split_anchor"];
        let ids = strs(&l["split_assignment_digest"]["record_ids"]);
        assert_eq!(
            pyciaf::split_assignment_digest(&ids, None),
            s(&split["split_metadata"]["split_assignment_digest"])
        );
        let made = families
            .create_split_anchor(
                "fam",
                FamilySplit::Train,
                &split["split_metadata"].to_string(),
                s(&split["split_content_root"]),
            )
            .unwrap();
        assert_eq!(made.split_anchor, s(&split["split_anchor"]));
        assert_eq!(made.anchor_id, s(&split["anchor_id"]));
        for id in &ids {
            // The simulation's sample rule, `sha256(f"{record_id}_data")`.
            families
                .add_sample_hash("fam", FamilySplit::Train, &sha256(&format!("{id}_data")))
                .unwrap();
        }
        let train = families
            .get_split_anchor("fam", FamilySplit::Train)
            .unwrap();
        assert_eq!(train.sample_hashes, strs(&split["sample_hashes"]));
        assert_eq!(
            train.merkle_root().unwrap().as_deref(),
            Some(s(&split["sample_merkle_root"]))
        );
        // The split map digest over what the manager holds, recomputed independently.
        let map = families.get_all_splits("fam");
        let mut expected = serde_json::Map::new();
        for a in map {
            let assignment: Value =
                serde_json::from_str::<Value>(&a.split_metadata).unwrap()["split_assignment_digest"].clone();
            expected.insert(
                a.split.value().to_owned(),
                json!({"anchor": a.split_anchor, "assignment": assignment}),
            );
        }
        assert_eq!(
            families.compute_split_map_digest("fam").unwrap(),
            sha256(&py_dumps(&Value::Object(expected), true))
        );
        assert_eq!(
            families.compute_split_map_digest("nobody").unwrap(),
            pyciaf::canonical_hash("{}").unwrap()
        );

        // Model anchor: the digests, PBKDF2 + HMAC over the hex text, the display id, to_dict.
        let model = &l["model_anchor"];
        let jsons = model_jsons(model);
        let mut models = ModelManager::new(ctx.clone());
        let m = anchor_model(
            &mut models,
            model,
            &jsons,
            Some(s(&model["master_password"])),
            Some(&bytes(&model["salt_hex"])),
        );
        for field in [
            "params_root",
            "arch_root",
            "hp_digest",
            "env_digest",
            "model_hash",
        ] {
            let ours = match field {
                "params_root" => &m.digests.params_root,
                "arch_root" => &m.digests.arch_root,
                "hp_digest" => &m.digests.hp_digest,
                "env_digest" => &m.digests.env_digest,
                _ => &m.digests.model_hash,
            };
            assert_eq!(ours, s(&model[field]), "{field}");
        }
        assert_eq!(m.expose_model_anchor_hex(), s(&model["model_anchor_hex"]));
        assert_eq!(m.anchor_id, s(&model["anchor_id"]));
        assert_eq!(
            m.to_dict().unwrap(),
            pyciaf::canonical_json(&model["to_dict"].to_string()).unwrap()
        );

        // The anchor derivations: a dataset anchor is HMAC(PBKDF2(password, salt), hex text).
        for case in v["anchor_derivation"].as_array().unwrap() {
            let mut datasets = DatasetManager::new(ctx.clone());
            let d = datasets
                .create_dataset_anchor(
                    "ds",
                    DatasetSplit::Train,
                    r#"{"name": "d"}"#,
                    s(&case["password"]),
                    Some(&bytes(&case["salt_hex"])),
                )
                .unwrap();
            let master = pyciaf::master_anchor(s(&case["password"]), &bytes(&case["salt_hex"]));
            assert_eq!(hex::encode(&master), s(&case["master_anchor_hex"]));
            assert_eq!(
                d.expose_dataset_anchor_hex(),
                hex::encode(&pyciaf::hmac_anchor(&master, &d.dataset_hash))
            );
            assert_eq!(
                hex::encode(&pyciaf::hmac_anchor(&master, s(&case["dataset_hash"]))),
                s(&case["dataset_anchor_hex"])
            );
            assert!(d.anchor_id.starts_with("t_"));
        }
        let dam = &v["derive_anchor_from_master"];
        assert_eq!(
            ctx.derive_anchor_from_master(s(&dam["master_password"]), s(&dam["dataset_id"])),
            s(&dam["output_hex"])
        );

        // The release root over the section's four leaves.
        let rr = &l["release_root"];
        let leaves = check_release_root(rr);

        // The capsule header: the model stage and the policy block are manager outputs; the
        // roots stage is built from the section's roots.
        let header = CapsuleManager::new(ctx)
            .create_capsule_header(&CapsuleHeaderInputs {
                model_anchor: Some(m),
                training_session_root: Some(leaves[0]),
                release_root: Some(s(&rr["root"])),
                inference_batch_root: Some("bf5f1d0a"),
                ..CapsuleHeaderInputs::default()
            })
            .unwrap();
        let ours: Value = serde_json::from_str(header.to_compact_json()).unwrap();
        let theirs: Value = serde_json::from_str(s(&l["capsule_header"]["compact_json"])).unwrap();
        for key in [
            "capsule_version",
            "generated_at",
            "policy",
            "stage_b_model",
            "stage_h_roots",
        ] {
            assert_eq!(ours[key], theirs[key], "{key}");
        }
        assert_eq!(ours["stage_a_dataset"], Value::Null);
    }

    /// One changed input gives a different digest from the vector's: the rules are applied,
    /// not the file.
    #[test]
    fn a_changed_input_changes_the_digest() {
        let (v, ctx, mut families) = salted_lifecycle();
        let l = &v["lifecycle"];
        let fam = &l["dataset_family_anchor"];
        for (field, value) in [
            ("name", json!("fam2")),
            ("contains_pii", json!(true)),
            ("description", json!("")),
        ] {
            let mut meta = fam["metadata"].clone();
            meta[field] = value;
            let a = family_anchor(&mut families, &meta, fam);
            assert_ne!(a.family_anchor, s(&fam["family_anchor"]), "{field}");
        }
        // `tags` are not hashed by the reference: same anchor.
        let mut meta = fam["metadata"].clone();
        meta["tags"] = json!(["x"]);
        let a = family_anchor(&mut families, &meta, fam);
        assert_eq!(a.family_anchor, s(&fam["family_anchor"]));

        let split = &l["dataset_split_anchor"];
        let mut meta = split["split_metadata"].clone();
        meta["rng_seed"] = json!(1235);
        let a = families
            .create_split_anchor(
                "fam",
                FamilySplit::Train,
                &meta.to_string(),
                s(&split["split_content_root"]),
            )
            .unwrap();
        assert_ne!(a.split_anchor, s(&split["split_anchor"]));

        let model = &l["model_anchor"];
        let mut models = ModelManager::new(ctx);
        let salt = bytes(&model["salt_hex"]);
        let mut jsons = model_jsons(model);
        jsons[1] = r#"{"lr": 0.01, "batch_size": 32}"#.to_owned();
        let m = anchor_model(
            &mut models,
            model,
            &jsons,
            Some(s(&model["master_password"])),
            Some(&salt),
        );
        assert_ne!(m.digests.model_hash, s(&model["model_hash"]));
        let jsons = model_jsons(model);
        // Another password: same model hash, another anchor.
        let m = anchor_model(&mut models, model, &jsons, Some("other"), Some(&salt));
        assert_eq!(m.digests.model_hash, s(&model["model_hash"]));
        assert_ne!(m.expose_model_anchor_hex(), s(&model["model_anchor_hex"]));
        // No password: the reference's default is the model's name.
        let by_name =
            anchor_model(&mut models, model, &jsons, None, Some(&salt)).expose_model_anchor_hex();
        let master = pyciaf::master_anchor(s(&model["model_name"]), &salt);
        assert_eq!(
            by_name,
            hex::encode(&pyciaf::hmac_anchor(&master, s(&model["model_hash"])))
        );
        // Without a salt one is drawn: the anchor is not the vector's.
        let m = anchor_model(
            &mut models,
            model,
            &jsons,
            Some(s(&model["master_password"])),
            None,
        );
        assert_eq!(m.master_salt.len(), 16);
        assert_ne!(m.expose_model_anchor_hex(), s(&model["model_anchor_hex"]));
        assert!(!format!("{m:?}").contains(s(&model["model_anchor_hex"])));
    }

    /// Several receipts on two chains: every connections digest is `connections_digest(prev,
    /// receipt_digest)` of the chain's previous one, every receipt digest is the canonical hash
    /// of its eight fields, and the batch root is the tree over the receipt digests.
    #[test]
    fn receipt_chains_and_batch_root() {
        let mut inference = InferenceManager::new(ctx(CommitmentScheme::Plaintext, 1));
        let mut expected_prev: [Option<String>; 2] = [None, None];
        let mut all = Vec::new();
        for i in 0..6 {
            let chain = ["conn_a", "conn_b"][i % 2];
            let (rid, query, output) = (format!("r{i}"), format!("q{i}"), format!("answer {i}"));
            let explanations = ["e1", "e2"];
            let request = InferenceRequest {
                explanation_digests: if i == 3 { &explanations } else { &[] },
                ..InferenceRequest::new(
                    chain,
                    &rid,
                    "m_c1e87289...",
                    "dp_f8fa14db...",
                    "req",
                    &query,
                    &output,
                )
            };
            let r = inference
                .perform_inference_with_audit(&request)
                .unwrap()
                .clone();
            // The receipt digest, from the eight fields written out here.
            let fields = json!({
                "receipt_id": rid, "model_anchor_ref": "m_c1e87289...",
                "deployment_anchor_ref": "dp_f8fa14db...", "request_id": "req",
                "input_commitment": query, "output_commitment": output,
                "explanation_digests": if i == 3 { json!(["e1", "e2"]) } else { json!([]) },
                "timestamp": r.timestamp,
            });
            assert_eq!(r.receipt_digest, sha256(&py_dumps(&fields, true)));
            let prev = &mut expected_prev[i % 2];
            assert_eq!(r.prev_connections_digest, *prev);
            let link = match prev.as_deref() {
                Some(p) => sha256(&format!("{p}||{}", r.receipt_digest)),
                None => sha256(&r.receipt_digest),
            };
            assert_eq!(r.connections_digest, link);
            assert_eq!(
                r.connections_digest,
                pyciaf::connections_digest(prev.as_deref(), &r.receipt_digest)
            );
            *prev = Some(r.connections_digest.clone());
            all.push(r);
        }
        // The clock moved one microsecond per reading: no two receipts share a timestamp.
        assert_eq!(all[0].timestamp, FROZEN);
        assert_eq!(all[1].timestamp, "2026-01-02T03:04:05.678902");

        let a = inference.get_inference_connections("conn_a").unwrap();
        assert_eq!(
            a.get_final_connections_digest(),
            expected_prev[0].as_deref().unwrap()
        );
        verify_connections(&a.receipts, a.get_final_connections_digest()).unwrap();

        // The batch root covers receipt digests, chain by chain in the given order.
        let order: Vec<&str> = all
            .iter()
            .step_by(2)
            .chain(all.iter().skip(1).step_by(2))
            .map(|r| r.receipt_digest.as_str())
            .collect();
        let root = inference
            .create_inference_batch_root("w1", &["conn_a", "missing", "conn_b"])
            .unwrap();
        assert_eq!(root, pyciaf::batch_root(&order).unwrap());
        assert_eq!(root, pyciaf::merkle_root(&order).unwrap());
        assert_eq!(inference.get_batch_root("w1"), Some(root.as_str()));
        assert_eq!(
            inference
                .create_inference_batch_root("w2", &["missing"])
                .unwrap(),
            "empty_batch"
        );
        let mut roots = RootManager::new(ctx(CommitmentScheme::Plaintext, 0));
        assert_eq!(
            roots.compute_inference_batch_root("w1", &order).unwrap(),
            root
        );
        assert_eq!(
            roots.computed_root("inference_batch_w1"),
            Some(root.as_str())
        );
    }

    type Tamper<'a> = &'a dyn Fn(&mut Vec<InferenceReceipt>);

    /// The chain verifier recomputes: any changed field, link or digest is found.
    #[test]
    fn tampered_chains_are_refused() {
        let mut inference = InferenceManager::new(ctx(CommitmentScheme::Salted, 1));
        for i in 0..3 {
            let rid = format!("r{i}");
            inference
                .perform_inference_with_audit(&InferenceRequest::new(
                    "c", &rid, "m", "d", "q", "in", "out",
                ))
                .unwrap();
        }
        let c = inference.get_inference_connections("c").unwrap();
        // Salted commitments: 16 hex + "...", a fresh salt each (the two "in"s differ).
        let r0 = &c.receipts[0];
        assert_eq!(r0.input_commitment.commitment_value.len(), 19);
        assert!(r0.input_commitment.commitment_value.ends_with("..."));
        assert_ne!(
            r0.input_commitment.commitment_value,
            c.receipts[1].input_commitment.commitment_value
        );
        let final_digest = c.get_final_connections_digest().to_owned();
        verify_connections(&c.receipts, &final_digest).unwrap();
        let tamper: [Tamper<'_>; 6] = [
            &|r| r[1].request_id.push('x'),
            &|r| r[1].timestamp.push('0'),
            &|r| r[2].output_commitment.commitment_value.push('x'),
            &|r| r[1].prev_connections_digest = None,
            &|r| r[0].connections_digest = r[1].connections_digest.clone(),
            &|r| r.swap(0, 1),
        ];
        for (i, t) in tamper.iter().enumerate() {
            let mut receipts = c.receipts.clone();
            t(&mut receipts);
            assert!(
                verify_connections(&receipts, &final_digest).is_err(),
                "tamper {i}"
            );
        }
        let mut shorter = c.receipts.clone();
        shorter.pop();
        assert!(verify_connections(&shorter, &final_digest).is_err());
        assert!(verify_connections(&[], "genesis").is_ok());
        assert!(verify_connections(&[], &final_digest).is_err());
    }

    /// Training, deployment, test evaluation and the roots, each digest recomputed here from
    /// the reference's rules written out independently.
    #[test]
    fn the_rest_of_the_lifecycle_follows_the_rules() {
        let v = vectors();
        let model = &v["lifecycle"]["model_anchor"];
        let ctx = ctx(CommitmentScheme::Plaintext, 0);
        let mut models = ModelManager::new(ctx.clone());
        let jsons = model_jsons(model);
        let m = anchor_model(&mut models, model, &jsons, Some("pw"), Some(&[1; 16]));

        let mut datasets = DatasetManager::new(ctx.clone());
        for split in [DatasetSplit::Test, DatasetSplit::Train] {
            datasets
                .create_dataset_anchor(
                    "ds",
                    split,
                    r#"{"name": "d", "split_assignment_digest": "ab"}"#,
                    "pw",
                    Some(&[2; 16]),
                )
                .unwrap();
        }
        datasets
            .add_samples_to_split(
                "ds",
                DatasetSplit::Train,
                &[r#"{"x": 1}"#, r#"{"x": 1}"#, r#"{"x": 2}"#],
            )
            .unwrap();
        let train = datasets
            .get_dataset_anchor("ds", DatasetSplit::Train)
            .unwrap();
        assert_eq!(train.sample_hashes.len(), 2, "duplicates are dropped");
        assert_eq!(train.sample_hashes[0], sha256(r#"{"x": 1}"#));
        let test = datasets
            .get_dataset_anchor("ds", DatasetSplit::Test)
            .unwrap();
        let datasets_root = datasets.get_datasets_root_anchor("ds").unwrap();
        // Train before test, whatever the creation order.
        assert_eq!(
            datasets_root,
            pyciaf::merkle_root(&[&train.dataset_hash, &test.dataset_hash]).unwrap()
        );
        assert!(datasets.get_datasets_root_anchor("nope").is_err());
        assert_eq!(
            datasets.compute_enhanced_split_map_digest("ds").unwrap(),
            sha256(&py_dumps(
                &json!({
                    "test": {"anchor": test.dataset_hash, "assignment": "ab"},
                    "train": {"anchor": train.dataset_hash, "assignment": "ab"},
                }),
                true
            ))
        );

        let mut training = TrainingManager::new(ctx.clone());
        training
            .create_training_session(
                "s1",
                m,
                &datasets_root,
                r#"{"lr": 0.001, "session_id": "overridden"}"#,
                &[(FamilySplit::Train, "t_1"), (FamilySplit::Test, "x_1")],
                None,
            )
            .unwrap();
        assert!(
            training
                .get_training_session("s1")
                .unwrap()
                .get_training_session_root()
                .is_err()
        );
        training
            .set_metrics(
                "s1",
                TrainingMetrics {
                    train_metrics: vec![("loss".to_owned(), vec![1.0, 0.5])],
                    val_metrics: vec![],
                    epochs: vec![1, 2],
                },
            )
            .unwrap();
        let metrics_digest =
            sha256(r#"{"epochs":[1,2],"train_metrics":{"loss":[1.0,0.5]},"val_metrics":{}}"#);
        let snapshot = training
            .complete_training(
                "s1",
                &["bb".repeat(32).as_str(), &"aa".repeat(32), &"bb".repeat(32)],
            )
            .unwrap()
            .clone();
        let params = json!({
            "lr": 0.001, "session_id": "s1", "model_anchor": m.anchor_id,
            "datasets_root_anchor": datasets_root, "data_splits": {"train": "t_1", "test": "x_1"},
            "checkpoints_count": 0, "metrics_digest": metrics_digest,
            "start_time": FROZEN, "end_time": FROZEN,
        });
        assert_eq!(snapshot.training_parameters, py_dumps(&params, true));
        let snapshot_root = pyciaf::merkle_root(&[&"aa".repeat(32), &"bb".repeat(32)]).unwrap();
        assert_eq!(snapshot.merkle_root_hash, snapshot_root);
        assert_eq!(
            snapshot.snapshot_id,
            sha256(&format!(
                "1.0.0-{snapshot_root}-{FROZEN}-{}",
                py_dumps(&params, false)
            ))
        );
        let session = training.get_training_session("s1").unwrap();
        let tsr = session.get_training_session_root().unwrap();
        assert_eq!(
            tsr,
            pyciaf::merkle_root(&[&m.digests.model_hash, &datasets_root, &snapshot_root]).unwrap()
        );

        let mut deployment = DeploymentManager::new(ctx.clone());
        let artifact = BuildArtifact {
            artifact_type: "container".to_owned(),
            artifact_digest: "sha256:abc".to_owned(),
            build_timestamp: FROZEN.to_owned(),
            builder_info: "ci".to_owned(),
            size_bytes: 10,
        };
        let sbom = Sbom {
            dependencies: vec![("numpy".to_owned(), "2.0".to_owned())],
            security_scan_digest: "scan_1".to_owned(),
            vulnerability_count: 0,
            compliance_status: "passed".to_owned(),
        };
        let pre = deployment
            .create_predeployment_anchor(&PreDeploymentInputs {
                predeployment_id: "pre_1",
                build_artifact: &artifact,
                sbom: &sbom,
                approval_ticket_id: "APR-1",
                intended_env: "prod",
                intended_region: "eu-west-1",
                rollout_plan_digest: None,
            })
            .unwrap()
            .clone();
        let sbom_digest = sha256(&py_dumps(
            &json!({"dependencies": {"numpy": "2.0"}, "security_scan_digest": "scan_1", "vulnerability_count": 0, "compliance_status": "passed"}),
            true,
        ));
        assert_eq!(pre.sbom_digest, sbom_digest);
        assert_eq!(
            pre.predeployment_hash,
            sha256(&py_dumps(
                &json!({"predeployment_id": "pre_1", "artifact_digest": "sha256:abc", "sbom_digest": sbom_digest, "approval_ticket_id": "APR-1", "intended_env": "prod", "intended_region": "eu-west-1", "rollout_plan_digest": "default_rollout"}),
                true
            ))
        );
        let dep = deployment
            .create_deployment_anchor("dep_1", "pre_1", &DeploymentInputs::default())
            .unwrap()
            .clone();
        assert_eq!(
            dep.deployment_hash,
            sha256(&py_dumps(
                &json!({"deployment_id": "dep_1", "deployment_time": FROZEN, "deployment_env": "prod", "location": "eu-west-1", "deployment_commit": "sha256:abc", "infrastructure_hash": "default_infra", "config_digest": "default_config"}),
                true
            ))
        );
        assert_eq!(
            dep.intent_to_actual_digest,
            sha256(&format!(
                "{}||{}",
                pre.predeployment_hash, dep.deployment_hash
            ))
        );
        assert!(
            deployment
                .create_deployment_anchor("dep_2", "pre_x", &DeploymentInputs::default())
                .is_err()
        );

        let mut roots = RootManager::new(ctx.clone());
        let te = roots
            .create_test_evaluation_anchor(
                "te1",
                "ds",
                "pre_deploy",
                &[("accuracy", 0.9), ("total_samples", 1000.0)],
            )
            .unwrap()
            .clone();
        assert_eq!(
            te.test_metrics_digest,
            pyciaf::canonical_hash(r#"{"metrics": {"accuracy": 0.9, "total_samples": 1000.0}, "test_dataset_ref": "ds", "evaluation_type": "pre_deploy"}"#).unwrap()
        );
        // NaN is hashed as the reference writes it.
        let nan = roots
            .create_test_evaluation_anchor("te2", "ds", "pre_deploy", &[("f1", f64::NAN)])
            .unwrap();
        assert_eq!(
            nan.test_metrics_digest,
            sha256(
                r#"{"evaluation_type":"pre_deploy","metrics":{"f1":NaN},"test_dataset_ref":"ds"}"#
            )
        );
        assert_eq!(roots.compute_training_session_root(session).unwrap(), tsr);
        let release = roots.compute_release_root(&tsr, &pre, &dep, &te).unwrap();
        assert_eq!(
            release,
            pyciaf::merkle_root(&[
                &tsr,
                &pre.predeployment_hash,
                &dep.deployment_hash,
                &te.test_metrics_digest
            ])
            .unwrap()
        );
        assert_eq!(
            roots.computed_root("release_pre_1_dep_1"),
            Some(release.as_str())
        );

        // The header's stages D, E and F follow the records, cut to 8 hex.
        let header = CapsuleManager::new(ctx)
            .create_capsule_header(&CapsuleHeaderInputs {
                training_session: Some(session),
                predeployment_anchor: Some(&pre),
                deployment_anchor: Some(&dep),
                test_evaluation_anchor: Some(&te),
                ..CapsuleHeaderInputs::default()
            })
            .unwrap();
        let h: Value = serde_json::from_str(header.to_compact_json()).unwrap();
        assert_eq!(
            h["stage_d_predeployment"]["anchor_id"],
            json!(pre.anchor_id)
        );
        assert_eq!(
            h["stage_d_predeployment"]["intent_digest"],
            json!(format!("{}...", &pre.predeployment_hash[..8]))
        );
        assert_eq!(
            h["stage_e_deployment"]["actual_digest"],
            json!(format!("{}...", &dep.intent_to_actual_digest[..8]))
        );
        assert_eq!(
            h["stage_f_test_evaluation"]["metrics"],
            json!({"accuracy": 0.9, "total_samples": 1000.0})
        );
        assert_eq!(h["stage_c_training"]["final_loss"], json!(0.5));
        assert_eq!(
            h["stage_c_training"]["training_snapshot"],
            json!(format!("{}...", &snapshot_root[..8]))
        );
        assert_eq!(h["stage_h_roots"], Value::Null);
        assert!(
            header
                .to_compact_json()
                .contains(r#""total_samples":1000.0"#)
        );
    }

    /// The profile's policy carrying a native policy's values where the types allow it (the
    /// native canonicalization and tree cannot even be written into it).
    fn with_native_values(native: Policy) -> pyciaf::PyciafPolicy {
        pyciaf::PyciafPolicy {
            hash_algorithm: native.hash_algorithm,
            commitments: native.commitments,
            kdf_iterations: native.kdf_iterations,
            schema_version: native.schema_version,
            domains: native.domains,
            ..pyciaf::policy()
        }
    }

    /// The opt-in: the compatibility context takes only the profile, and every native path
    /// still refuses the profile.
    #[test]
    fn the_profile_is_opt_in_and_native_paths_refuse_it() {
        assert!(PyciafContext::with_policy(with_native_values(Policy::default())).is_err());
        assert!(PyciafContext::with_policy(with_native_values(lcm::get_default_policy())).is_err());
        assert!(PyciafContext::with_policy(pyciaf::policy()).is_ok());
        // No native policy holds the profile: its wire form (what a header claiming it would
        // carry) does not parse, so neither `validate`, `Context::with_policy` nor
        // `Context::new` can be reached with it.
        let wire = serde_json::to_value(pyciaf::policy()).unwrap();
        assert!(serde_json::from_value::<Policy>(wire.clone()).is_err());
        let mut renamed = wire;
        renamed["canonicalization"] = json!("lcm-json/1");
        assert!(
            serde_json::from_value::<Policy>(renamed).is_err(),
            "the tree alone is refused too"
        );
        assert!(
            lcm::managers::Context::new(
                Policy::default(),
                Arc::new(lcm::model::SystemClock),
                lcm::crypto::OsRandom
            )
            .is_ok()
        );
    }
}
