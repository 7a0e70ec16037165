//! Issue 15: `lcm fingerprint` on real model layouts — Hugging Face cache snapshots (links),
//! sharded safetensors, manifests, every bad path reported, and `lcm fingerprint diff`.

use super::*;

#[path = "../../lcm-store/tests/safetensors_file.rs"]
mod safetensors_file;
use safetensors_file::u8_safetensors as safetensors;

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON on standard output")
}

#[cfg(unix)]
#[test]
fn hugging_face_snapshot_with_links_is_fingerprinted() {
    use std::os::unix::fs::symlink;
    let s = Scratch::new("fp-hf");
    let repo = s.path("hub/models--org--tiny");
    let snap = repo.join("snapshots/0123abcd");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(repo.join("blobs/1111"), b"{}").unwrap();
    std::fs::write(repo.join("blobs/2222"), safetensors(&[("w", &[1, 2, 3])])).unwrap();
    symlink("../../blobs/1111", snap.join("config.json")).unwrap();
    symlink("../../blobs/2222", snap.join("model.safetensors")).unwrap();
    let out = run(lcm(&s.store()).args(["--json", "fingerprint", p(&snap)]), 0);
    let v = json(&out);
    assert_eq!(v["type"], "directory");
    assert_eq!(v["files"], 2);
    assert_eq!(v["parameters"]["tensors"], 1);
    assert_eq!(v["parameters"]["file"], "model.safetensors");
    // The manifest names the files by their names in the snapshot, not the blobs.
    let out = run(
        lcm(&s.store()).args(["fingerprint", "--manifest", p(&snap)]),
        0,
    );
    let text = stdout(&out);
    assert!(text.contains("\t2\tconfig.json\n"), "{text}");
    assert!(text.contains("\tmodel.safetensors\tw\n"), "{text}");
    assert!(!text.contains("blobs"), "{text}");
    // A link given on the command line is followed: the digest of its target's bytes.
    let out = run(
        lcm(&s.store()).args(["--json", "fingerprint", p(&snap.join("config.json"))]),
        0,
    );
    assert_eq!(
        json(&out)["digest"],
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    // A link cycle is reported, not followed forever.
    symlink("..", snap.join("loop")).unwrap();
    let out = run(lcm(&s.store()).args(["fingerprint", p(&snap)]), 2);
    assert_stderr_has(&out, "symbolic link cycle");
}

#[test]
fn every_bad_path_is_reported_and_the_rest_are_hashed() {
    let s = Scratch::new("fp-keep-going");
    let a = s.path("a.bin");
    let c = s.path("c.bin");
    let bad = s.path("bad.safetensors");
    std::fs::write(&a, b"abc").unwrap();
    std::fs::write(&c, b"abc").unwrap();
    std::fs::write(&bad, b"not safetensors").unwrap();
    let missing = s.path("missing");
    let out = lcm(&s.store())
        .args(["fingerprint", p(&a), p(&bad), p(&missing), p(&c)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(
        text,
        format!("{abc}  {}\n{abc}  {}\n", p(&a), p(&c)),
        "{text}"
    );
    // One line per bad path, the last with the count.
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("bad.safetensors: malformed safetensors"),
        "{err}"
    );
    assert!(lines[1].contains("missing"), "{err}");
    assert!(
        lines[1].ends_with("(2 of 4 paths could not be fingerprinted)"),
        "{err}"
    );
}

#[test]
fn sharded_safetensors_get_one_fingerprint_and_a_bad_index_is_refused() {
    let s = Scratch::new("fp-sharded");
    let one = s.path("one.safetensors");
    std::fs::write(&one, safetensors(&[("a", &[1]), ("b", &[2, 3])])).unwrap();
    let dir = s.path("sharded");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m-1.safetensors"), safetensors(&[("a", &[1])])).unwrap();
    std::fs::write(dir.join("m-2.safetensors"), safetensors(&[("b", &[2, 3])])).unwrap();
    let index = dir.join("model.safetensors.index.json");
    std::fs::write(
        &index,
        r#"{"metadata":{"total_size":3},"weight_map":{"a":"m-1.safetensors","b":"m-2.safetensors"}}"#,
    )
    .unwrap();
    let root = |path: &Path| {
        json(&run(
            lcm(&s.store()).args(["--json", "fingerprint", p(path)]),
            0,
        ))["parameters"]["root"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let whole = root(&one);
    // The directory, and the index file alone, give the fingerprint of the same tensors in
    // one file.
    assert_eq!(root(&dir), whole);
    assert_eq!(root(&index), whole);
    // A bad index is refused, whether the directory or the index file is named.
    for (text, path, error) in [
        (
            r#"{"weight_map":{"a":"m-2.safetensors","b":"m-1.safetensors"}}"#,
            &dir,
            "the index places it in",
        ),
        (
            r#"{"weight_map":{"a":"m-1.safetensors","b":"m-3.safetensors"}}"#,
            &index,
            "\"m-3.safetensors\" is missing",
        ),
    ] {
        std::fs::write(&index, text).unwrap();
        let out = run(lcm(&s.store()).args(["fingerprint", p(path)]), 2);
        assert_stderr_has(&out, error);
    }
}

#[test]
fn diff_names_changes_with_exit_0_1_2() {
    let s = Scratch::new("fp-diff");
    let a = s.path("a");
    let b = s.path("b");
    for (dir, w) in [(&a, [1u8, 2]), (&b, [1, 9])] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config.json"), b"{}").unwrap();
        std::fs::write(
            dir.join("model.safetensors"),
            safetensors(&[("w", &w), ("bias", &[0])]),
        )
        .unwrap();
    }
    std::fs::write(b.join("tokenizer.json"), b"[]").unwrap();
    // Saved manifest of A, compared with the directory B.
    let saved = s.path("a.manifest.json");
    run(
        lcm(&s.store()).args(["fingerprint", "--manifest", "--out", p(&saved), p(&a)]),
        0,
    );
    // `lcm fingerprint FLAGS… diff OLD NEW`.
    let diff = |flags: &[&str], old: &Path, new: &Path, code| {
        let mut cmd = lcm(&s.store());
        cmd.arg("fingerprint").args(flags);
        run(cmd.args(["diff", p(old), p(new)]), code)
    };
    let out = diff(&[], &saved, &b, 1);
    assert_eq!(
        stdout(&out),
        "changed\tfile\tmodel.safetensors\nadded\tfile\ttokenizer.json\nchanged\ttensor\tw\ndiffer\n"
    );
    let out = run(
        lcm(&s.store()).args(["--json", "fingerprint", "diff", p(&a), p(&b)]),
        1,
    );
    let v = json(&out);
    assert_eq!(v["equal"], false);
    assert_eq!(
        v["tensors"],
        serde_json::json!([{"change": "changed", "name": "w"}])
    );
    // Equal: exit 0.
    let out = diff(&[], &a, &saved, 0);
    assert_eq!(stdout(&out), "identical\n");
    // Bad input: a missing path, a tampered manifest, different algorithms: exit 2.
    diff(&[], &a, &s.path("nope"), 2);
    let text = std::fs::read_to_string(&saved).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let digest = v["files"][0]["digest"].as_str().unwrap();
    let tampered = s.path("tampered.json");
    std::fs::write(&tampered, text.replacen(digest, &"0".repeat(64), 1)).unwrap();
    let out = diff(&[], &tampered, &a, 2);
    assert_stderr_has(&out, "is not the digest of its files");
    let out = diff(&["--algorithm", "blake3"], &saved, &a, 2);
    assert_stderr_has(&out, "same --algorithm");
    // --out takes one path.
    run(
        lcm(&s.store()).args(["fingerprint", "--out", p(&saved), p(&a), p(&b)]),
        2,
    );
}

#[test]
fn record_training_takes_the_weights_and_computes_final_model_digest() {
    let s = Scratch::new("fp-weights");
    run(lcm(&s.store()).arg("init"), 0);
    record_first_stages(&s.store(), 3);
    let weights = s.path("weights.safetensors");
    std::fs::write(&weights, safetensors(&[("w", &[1, 2, 3])])).unwrap();
    let expected = json(&run(
        lcm(&s.store()).args(["--json", "fingerprint", p(&weights)]),
        0,
    ))["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let complete: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stage_file("training-complete")).unwrap())
            .unwrap();
    // A file that gives another final_model_digest than the weights' is refused.
    let given = s.path("given.json");
    std::fs::write(&given, complete.to_string()).unwrap();
    let with_weights = |file: &Path, code: i32| {
        run(
            lcm(&s.store())
                .args(["record", "training", p(file), "--weights", p(&weights)])
                .env("LCM_DATASET_PASSWORD", "family_password")
                .env("LCM_MODEL_PASSWORD", "model_password"),
            code,
        )
    };
    let out = with_weights(&given, 2);
    assert_stderr_has(&out, "is not the digest of the weights");
    // Left out, it is computed from the weights.
    let mut without = complete;
    without
        .as_object_mut()
        .unwrap()
        .remove("final_model_digest");
    let left_out = s.path("left-out.json");
    std::fs::write(&left_out, without.to_string()).unwrap();
    with_weights(&left_out, 0);
    let snapshot: serde_json::Value = serde_json::from_slice(
        &run(
            lcm(&s.store()).args(["show", "training-snapshot", "train_001"]),
            0,
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(snapshot["final_model_digest"], expected.as_str());
}

#[test]
fn record_model_and_lifecycle_take_the_weights_and_bind_their_parameter_fingerprint() {
    let s = Scratch::new("fp-model-weights");
    run(lcm(&s.store()).arg("init"), 0);
    record(&s.store(), "dataset", &stage_file("dataset"), 0);
    let weights = s.path("weights.safetensors");
    std::fs::write(&weights, safetensors(&[("w", &[1, 2, 3]), ("b", &[4])])).unwrap();
    let fp = json(&run(
        lcm(&s.store()).args(["--json", "fingerprint", p(&weights)]),
        0,
    ));
    let root = fp["parameters"]["root"].as_str().unwrap().to_owned();
    assert_ne!(fp["digest"], root.as_str());
    let with_weights = |kind: &str, file: &Path, code: i32| {
        run(
            lcm(&s.store())
                .args(["record", kind, p(file), "--weights", p(&weights)])
                .env("LCM_DATASET_PASSWORD", "family_password")
                .env("LCM_MODEL_PASSWORD", "model_password"),
            code,
        )
    };
    // The example's total_params (1,000,000) is not the weights' element count (4).
    let example = PathBuf::from(stage_file("model"));
    let out = with_weights("model", &example, 2);
    assert_stderr_has(&out, "architecture.total_params 1000000");
    // A file without a model is refused, naming --weights.
    let plain = s.path("plain.bin");
    std::fs::write(&plain, b"not a model").unwrap();
    let out = run(
        lcm(&s.store())
            .args(["record", "model", p(&example), "--weights", p(&plain)])
            .env("LCM_MODEL_PASSWORD", "model_password"),
        2,
    );
    assert_stderr_has(&out, "--weights");
    assert_stderr_has(&out, "no parameter fingerprint");
    // Left out, total_params is the weights' count; the anchor binds their root.
    let mut model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    let remove = |v: &mut serde_json::Value, key: &str| v.as_object_mut().unwrap().remove(key);
    remove(&mut model["architecture"], "total_params");
    let file = s.path("model.json");
    std::fs::write(&file, model.to_string()).unwrap();
    with_weights("model", &file, 0);
    let anchor: serde_json::Value = serde_json::from_slice(
        &run(
            lcm(&s.store()).args(["show", "model-anchor", "pneumonia_model@v1.0"]),
            0,
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(
        anchor["description"]["parameter_fingerprint"],
        root.as_str(),
        "{anchor}"
    );
    run(lcm(&s.store()).arg("check"), 0);
    // A whole lifecycle: the model binds the root, the training snapshot the file digest.
    let l = Scratch::new("fp-lifecycle-weights");
    run(lcm(&l.store()).arg("init"), 0);
    let mut lifecycle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(LIFECYCLE).unwrap()).unwrap();
    remove(&mut lifecycle["model"]["architecture"], "total_params");
    remove(&mut lifecycle["training"], "final_model_digest");
    let file = l.path("lifecycle.json");
    std::fs::write(&file, lifecycle.to_string()).unwrap();
    run(
        lcm(&l.store())
            .args(["record", "lifecycle", p(&file), "--weights", p(&weights)])
            .env("LCM_DATASET_PASSWORD", "family_password")
            .env("LCM_MODEL_PASSWORD", "model_password"),
        0,
    );
    let show = |kind: &str, id: &str| -> serde_json::Value {
        serde_json::from_slice(&run(lcm(&l.store()).args(["show", kind, id]), 0).stdout).unwrap()
    };
    let anchor = show("model-anchor", "pneumonia_model@v1.0");
    assert_eq!(
        anchor["description"]["parameter_fingerprint"],
        root.as_str()
    );
    let snapshot = show("training-snapshot", "train_001");
    assert_eq!(snapshot["final_model_digest"], fp["digest"]);
}
