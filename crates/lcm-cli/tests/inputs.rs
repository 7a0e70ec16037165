//! Issue 15: one digest notation in every input file (64 hex characters, with or without an
//! algorithm prefix) and errors that name the field and the expected form.

use super::*;

/// `stage_file(name)` with every 64-hex digest value rewritten by `f`.
fn rewritten(s: &Scratch, name: &str, f: &dyn Fn(&str, &str) -> String) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stage_file(name)).expect("the example"))
            .expect("JSON");
    fn walk(v: &mut serde_json::Value, key: &str, f: &dyn Fn(&str, &str) -> String) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    walk(child, k, f);
                }
            }
            serde_json::Value::Array(items) => {
                for child in items {
                    walk(child, key, f);
                }
            }
            serde_json::Value::String(text) if key.ends_with("digest") => {
                *text = f(key, text);
            }
            _ => {}
        }
    }
    walk(&mut v, "", f);
    let path = s.path(&format!("{name}.json"));
    std::fs::write(&path, v.to_string()).expect("written");
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[test]
fn prefixed_and_bare_digests_record_the_same_lifecycle() {
    let bare = Scratch::new("digests-bare");
    let prefixed = Scratch::new("digests-prefixed");
    for s in [&bare, &prefixed] {
        run(lcm(&s.store()).arg("init"), 0);
    }
    for &(kind, file) in &STAGE_FILES[..5] {
        record(&bare.store(), kind, &stage_file(file), 0);
        // Every digest field in the other notation: prefixed where the example is bare, bare
        // where it is prefixed (the artifact digest).
        let other = rewritten(
            &prefixed,
            file,
            &|key, text| match text.strip_prefix("sha256:") {
                Some(hex) => hex.to_owned(),
                None if key == "final_model_digest" => format!("blake3:{text}"),
                None => format!("sha256:{text}"),
            },
        );
        record(&prefixed.store(), kind, &other, 0);
    }
    // The same records (ids), holding the same digests in their canonical notation.
    let list = |s: &Scratch| {
        stdout(&run(lcm(&s.store()).arg("list"), 0))
            .lines()
            .map(|l| l.rsplit_once('\t').unwrap().0.to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(list(&bare), list(&prefixed));
    let show = |s: &Scratch, kind: &str, id: &str| -> serde_json::Value {
        serde_json::from_str(&stdout(&run(lcm(&s.store()).args(["show", kind, id]), 0))).unwrap()
    };
    for (kind, id, fields) in [
        (
            "training-checkpoint",
            "train_001/ckpt_epoch_10",
            &["model_state_digest", "optimizer_state_digest"][..],
        ),
        (
            "training-checkpoint",
            "train_001/ckpt_epoch_50",
            &["model_state_digest", "optimizer_state_digest"],
        ),
        ("training-snapshot", "train_001", &["final_model_digest"]),
        (
            "predeployment-anchor",
            "predeploy_001",
            &["build_artifact", "sbom_digest"],
        ),
    ] {
        let (a, b) = (show(&bare, kind, id), show(&prefixed, kind, id));
        for field in fields {
            assert!(!a[field].is_null(), "{kind} {id} {field}");
            assert_eq!(a[field], b[field], "{kind} {id} {field}");
        }
    }
    assert_eq!(
        show(&prefixed, "training-checkpoint", "train_001/ckpt_epoch_10")["model_state_digest"],
        "1".repeat(64)
    );
}

#[test]
fn a_wrong_digest_names_the_field_and_the_expected_form() {
    let s = Scratch::new("digests-wrong");
    run(lcm(&s.store()).arg("init"), 0);
    record(&s.store(), "dataset", &stage_file("dataset"), 0);
    record(&s.store(), "model", &stage_file("model"), 0);
    for (bad, why) in [
        ("md5:", "got the prefix \"md5\""),
        ("sha256:sha256:", "got 71 characters"),
    ] {
        let file = rewritten(&s, "training", &|key, text| {
            if key == "model_state_digest" {
                format!("{bad}{text}")
            } else {
                text.to_owned()
            }
        });
        let out = record(&s.store(), "training", &file, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(
                "training: checkpoints[0].model_state_digest: expected a digest: 64 lowercase hex characters, alone or after \"sha256:\" or \"blake3:\""
            ),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn schema_lists_kinds_and_prints_each_schema() {
    let s = Scratch::new("schema");
    let kinds = stdout(&run(lcm(&s.store()).arg("schema"), 0));
    assert_eq!(kinds.lines().count(), 7, "{kinds}");
    assert!(
        kinds.starts_with("lifecycle\tlcm record lifecycle FILE\n"),
        "{kinds}"
    );
    for line in kinds.lines() {
        let kind = line.split('\t').next().unwrap();
        let out = run(lcm(&s.store()).args(["schema", kind]), 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(v["additionalProperties"], false, "{kind}");
    }
    let out = run(lcm(&s.store()).args(["schema", "training"]), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["properties"]["final_model_digest"]["anyOf"][0]["$ref"],
        "#/$defs/Digest"
    );
    let out = run(lcm(&s.store()).args(["schema", "bogus"]), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("expected one of lifecycle, dataset, model, training"),
        "{out:?}"
    );
}

#[test]
fn input_errors_name_the_path_the_form_and_the_accepted_values() {
    let s = Scratch::new("input-errors");
    run(lcm(&s.store()).arg("init"), 0);
    let file = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(stage_file(name)).unwrap()).unwrap();
        edit(&mut v);
        let path = s.path(&format!("{name}.json"));
        std::fs::write(&path, v.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let err = |out: Output| String::from_utf8_lossy(&out.stderr).into_owned();
    // content_digests given as a list: the path, and that a map is expected.
    let list = file("dataset", &|v| {
        v["splits"]["train"]["content_digests"] = serde_json::json!(["a", "b"]);
    });
    let e = err(record(&s.store(), "dataset", &list, 2));
    assert!(
        e.contains("dataset: splits.train.content_digests: invalid type: sequence, expected a map"),
        "{e}"
    );
    // A wrong split name lists the accepted ones.
    let split = file("dataset", &|v| {
        let train = v["splits"]["train"].take();
        v["splits"].as_object_mut().unwrap().remove("train");
        v["splits"]["training"] = train;
    });
    let e = err(record(&s.store(), "dataset", &split, 2));
    assert!(
        e.contains(r#"unknown split "training", expected one of "train", "val", "test""#),
        "{e}"
    );
    record(&s.store(), "dataset", &stage_file("dataset"), 0);
    record(&s.store(), "model", &stage_file("model"), 0);
    record(&s.store(), "training", &stage_file("training"), 0);
    record(&s.store(), "training", &stage_file("training-complete"), 0);
    // A compliance status lists the accepted values, at its path.
    let status = file("predeployment", &|v| {
        v["sbom"]["compliance_status"] = "ok".into();
    });
    let e = err(record(&s.store(), "predeployment", &status, 2));
    assert!(
        e.contains("sbom.compliance_status: unknown variant `ok`"),
        "{e}"
    );
    assert!(e.contains("`failed`") && e.contains("`passed`"), "{e}");
    // A deployment of an unknown pre-deployment names the input field, not an internal one.
    let deployment = file("deployment", &|v| {
        v["predeployment_id"] = "predeploy_404".into();
    });
    let e = err(record(&s.store(), "deployment", &deployment, 2));
    assert!(e.contains("predeployment_id"), "{e}");
    assert!(!e.contains("anchor_ref"), "{e}");
}
