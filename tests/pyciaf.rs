//! The compatibility profile against every vector of the Python reference
//! (`tests/vectors/pyciaf/reference-vectors.json`, DenzilGreenwood/pyciaf 1.7.0).

use lcm::compat::pyciaf::{self, Error, ModelInputs, ReceiptFields};
use lcm::crypto::hex;
use lcm::crypto::merkle::MerkleTree;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/pyciaf/reference-vectors.json"))
        .expect("the vector file is JSON")
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

#[test]
fn canonical_json_section() {
    let v = vectors();
    let cases = v["canonical_json"].as_array().unwrap();
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
        assert_eq!(
            pyciaf::canonical_json(&input).unwrap(),
            s(&out["canonical_json"]),
            "{}",
            case["name"]
        );
        assert_eq!(
            pyciaf::canonical_hash(&input).unwrap(),
            s(&out["canonical_hash"]),
            "{}",
            case["name"]
        );
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
    let v = vectors();
    let cases = v["canonical_json_errors"].as_array().unwrap();
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
    let v = vectors();
    let cases = v["create_commitment"].as_array().unwrap();
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
    let v = vectors();
    let cases = v["merkle_roots"].as_array().unwrap();
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
    assert_eq!(pyciaf::merkle_root(&l3).unwrap(), s(&dup["root_3"]));
    assert_eq!(pyciaf::merkle_root(&l4).unwrap(), s(&dup["root_4"]));
    let native = |leaves: &[&str]| {
        MerkleTree::from_leaves(leaves.iter().map(|l| hex::decode(l).unwrap())).root()
    };
    assert_ne!(native(&l3), native(&l4));

    let inner = &w["interior_node_as_leaf"];
    let (l4, l2) = (strs(&inner["leaves_4"]), strs(&inner["leaves_2"]));
    assert_eq!(pyciaf::merkle_root(&l4).unwrap(), s(&inner["root_4"]));
    assert_eq!(pyciaf::merkle_root(&l2).unwrap(), s(&inner["root_2"]));
    assert_ne!(native(&l4), native(&l2));

    assert_eq!(
        pyciaf::merkle_root(&[]).unwrap(),
        s(&w["empty_tree"]["MerkleTree([]).get_root()"])
    );
    assert_eq!(
        pyciaf::merkle_root(&["not-hex"]).unwrap(),
        s(&w["single_non_hex_leaf_accepted_as_root"])
    );
    let short = &w["short_hex_leaves_accepted"];
    assert_eq!(
        pyciaf::merkle_root(&strs(&short["leaves"])).unwrap(),
        s(&short["root"])
    );
    // Python's bytes.fromhex: either case, whitespace between pairs; non-hex fails.
    assert_eq!(
        pyciaf::merkle_root(&["AB", " cd\t"]).unwrap(),
        s(&short["root"])
    );
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
    let v = vectors();
    let cases = v["policy"].as_array().unwrap();
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
    assert_eq!(
        pyciaf::merkle_root(&strs(&split["sample_hashes"])).unwrap(),
        s(&split["sample_merkle_root"])
    );

    let model = &l["model_anchor"];
    let j = |k: &str| serde_json::to_string(&model[k]).unwrap();
    let (arch, hp, env) = (j("architecture"), j("hyperparameters"), j("environment"));
    let authorized = strs(&model["authorized_datasets"]);
    let digests = pyciaf::model_digests(&ModelInputs {
        model_name: s(&model["model_name"]),
        version: s(&model["version"]),
        architecture_json: &arch,
        hyperparameters_json: &hp,
        environment_json: &env,
        trainer_commit: s(&model["trainer_commit"]),
        authorized_datasets: &authorized,
    })
    .unwrap();
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

    let rr = &l["release_root"];
    let leaves = strs(&rr["leaves"]);
    assert_eq!(
        pyciaf::release_root(leaves[0], leaves[1], leaves[2], leaves[3]).unwrap(),
        s(&rr["root"])
    );
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

/// The profile exists as a value but no native path accepts it: the managers refuse to run
/// under it, and it is never the default.
#[test]
fn the_profile_is_refused_by_the_managers() {
    use lcm::model::Policy;
    let compat = Policy::pyciaf_compat();
    assert!(compat.is_pyciaf_compat());
    assert!(lcm::managers::Context::with_policy(compat).is_err());
    assert!(lcm::managers::Context::with_policy(Policy::default()).is_ok());
    assert!(!lcm::model::default_policy().is_pyciaf_compat());
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
    let hp = serde_json::to_string(&model["hyperparameters"]).unwrap();
    let authorized = strs(&model["authorized_datasets"]);
    let digests = pyciaf::model_digests(&ModelInputs {
        model_name: s(&model["model_name"]),
        version: s(&model["version"]),
        architecture_json: &arch,
        hyperparameters_json: &hp,
        environment_json: &env,
        trainer_commit: s(&model["trainer_commit"]),
        authorized_datasets: &authorized,
    })
    .unwrap();
    assert_eq!(digests.arch_root, s(&model["arch_root"]));
    assert_eq!(digests.env_digest, s(&model["env_digest"]));
    assert_eq!(digests.model_hash, s(&model["model_hash"]));
}
