//! Issue 15: `lcm list` kinds, `--json` output for scripts, and the small frictions.

use super::*;

/// `lcm list KIND` of the demo store: one line, for `deploy_001`, holding `holds`; returns
/// that line of `lcm --json list KIND`, parsed.
fn list_one(store: &Path, kind: &str, holds: &str) -> serde_json::Value {
    let text = stdout(&run(lcm(store).args(["list", kind]), 0));
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("deploy_001\t"), "{text}");
    assert!(text.contains(holds), "{text}");
    json_out(store, &["list", kind])
}

/// `lcm --json ARGS`, which must exit 0, its output parsed.
fn json_out(store: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(lcm(store).arg("--json").args(args), 0);
    serde_json::from_slice(&out.stdout).expect("the output is JSON")
}

#[test]
fn list_refuses_an_unknown_kind_and_lists_lifecycles_deployments_batches() {
    let (s, _dir) = demo("list-kinds");
    // An unknown kind is a usage error naming what is accepted.
    let out = run(lcm(&s.store()).args(["list", "bogus"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    for accepted in [
        "lifecycles",
        "deployments",
        "batches",
        "receipts",
        "model-anchor",
    ] {
        assert!(err.contains(accepted), "{err}");
    }
    assert!(out.stdout.is_empty());
    // The plural of a record kind is the kind.
    let models = stdout(&run(lcm(&s.store()).args(["list", "model-anchors"]), 0));
    assert_eq!(
        models,
        stdout(&run(lcm(&s.store()).args(["list", "model-anchor"]), 0))
    );
    assert!(
        models.starts_with("model-anchor\tpneumonia_model@v1.0\t"),
        "{models}"
    );

    let v = list_one(&s.store(), "lifecycles", "\t20 receipts\t4 batches");
    assert_eq!(v["deployment"], "deploy_001");
    assert_eq!(v["receipts"], 20);
    assert_eq!(v["batches"], 4);
    let release = stdout(&run(lcm(&s.store()).args(["list", "release-root"]), 0));
    assert!(
        release.contains(v["release_root"].as_str().unwrap()),
        "{release}"
    );

    let v = list_one(
        &s.store(),
        "deployments",
        "\tdeployed\treleased\t20 receipts",
    );
    assert_eq!(v["status"], "deployed");
    assert_eq!(v["released"], true);

    let batches = stdout(&run(lcm(&s.store()).args(["list", "batches"]), 0));
    assert_eq!(batches.lines().count(), 4, "{batches}");
    let json = stdout(&run(lcm(&s.store()).args(["--json", "list", "batches"]), 0));
    let counts: u64 = json
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["deployment"], "deploy_001");
            v["count"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(counts, 20);
    // Of a named chain only; a chain without batches lists none.
    assert_eq!(
        stdout(&run(
            lcm(&s.store()).args(["list", "batches", "--deployment", "deploy_001"]),
            0
        )),
        batches
    );
    assert_eq!(
        stdout(&run(
            lcm(&s.store()).args(["list", "batches", "--deployment", "nowhere"]),
            0
        )),
        ""
    );
}

#[test]
fn header_export_verify_and_inspect_print_what_a_script_needs() {
    let (s, dir) = demo("json-out");
    let key = dir.join("signing.key");
    let public = dir.join("signing.key.pub");
    let p = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let header = s.path("h.json");
    let bundle = s.path("b.json");
    // Text: one line saying what was written.
    let line = stdout(&run(
        lcm(&s.store()).args(["header", "--key", &p(&key), "--out", &p(&header)]),
        0,
    ));
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with(&format!("wrote header {}: header ", p(&header))),
        "{line}"
    );
    assert!(
        line.contains("of deploy_001, 20 receipts, 4 batches, signed by key "),
        "{line}"
    );
    // JSON: the path, the header digest, the key id, the receipts.
    let h = json_out(
        &s.store(),
        &["header", "--key", &p(&key), "--out", &p(&header)],
    );
    assert_eq!(h["kind"], "header");
    assert_eq!(h["path"], p(&header));
    assert_eq!(h["deployment"], "deploy_001");
    assert_eq!(h["receipts"], 20);
    assert_eq!(h["batches"], 4);
    assert_eq!(h["bytes"], std::fs::metadata(&header).unwrap().len());
    let b = json_out(
        &s.store(),
        &["export", "--key", &p(&key), "--out", &p(&bundle)],
    );
    assert_eq!(b["kind"], "bundle");
    assert_eq!(b["path"], p(&bundle));
    assert_eq!(b["key_id"], h["key_id"]);
    assert_eq!(b["receipts"], 20);
    assert_eq!(b["release_root"], h["release_root"]);
    assert!(line.contains(h["key_id"].as_str().unwrap()), "{line} {h}");
    // The digests are those inspect and verify see.
    let i = json_out(&s.store(), &["inspect", &p(&header)]);
    assert_eq!(i["header_digest"], h["header_digest"]);
    assert_eq!(i["key_id"], h["key_id"]);
    assert_eq!(i["receipts_root"], h["receipts_root"]);
    let i = json_out(&s.store(), &["inspect", &p(&bundle)]);
    assert_eq!(i["header_digest"], b["header_digest"]);
    assert_eq!(i["records"]["receipts"], 20);
    assert_eq!(i["records"]["splits"], 3);
    assert!(i["summary"].as_array().unwrap().len() > 3);
    // A summary, not the document; --document adds it.
    assert!(i.get("document").is_none());
    let full = json_out(&s.store(), &["inspect", "--document", &p(&bundle)]);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(full["document"], written);
    // Without --out the document is the output, with or without --json.
    let doc = run(
        lcm(&s.store()).args(["--json", "header", "--key", &p(&key)]),
        0,
    );
    let doc: serde_json::Value = serde_json::from_slice(&doc.stdout).unwrap();
    assert!(doc.get("capsule_version").is_some(), "{doc}");

    // verify --json: every check with its stage and result, next to the count.
    let v: serde_json::Value =
        serde_json::from_slice(&verify(&s, &bundle, &public, &["--json"], 0).stdout).unwrap();
    assert_eq!(v["valid"], true);
    let results = v["results"].as_array().unwrap();
    let passed = results.iter().filter(|r| r["result"] == "passed").count();
    assert_eq!(v["checks"], passed);
    assert_eq!(
        results.len(),
        passed + v["not_applicable"].as_array().unwrap().len()
    );
    for r in results {
        assert!(r["stage"].is_string() && r["check"].is_string(), "{r}");
    }
    let stages: std::collections::BTreeSet<&str> =
        results.iter().filter_map(|r| r["stage"].as_str()).collect();
    assert!(stages.len() > 3, "{stages:?}");
    // A tampered bundle: the failed check is in the list, with its error.
    let mut tampered = written;
    tampered["lifecycle"]["dataset"]["family"]["record"]["family_id"] = "other".into();
    let bad = s.path("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let out = verify(&s, &bad, &public, &["--json"], 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let failed: Vec<&serde_json::Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["result"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{v}");
    assert_eq!(failed.len(), v["failures"].as_array().unwrap().len());
    assert!(failed.iter().all(|r| r["error"].is_string()));
}

#[test]
fn counts_are_in_the_right_number() {
    let s = Scratch::new("plural");
    let dir = s.path("out");
    let text = stdout(&run(
        lcm(&s.store()).args(["demo", "--receipts", "1", "--out", dir.to_str().unwrap()]),
        0,
    ));
    assert!(text.contains("1 receipt in 1 batch,"), "{text}");
    let check = stdout(&run(lcm(&s.store()).arg("check"), 0));
    assert!(check.contains("1 receipt in 1 chain, 1 batch"), "{check}");
    assert!(check.contains(": 1 receipt, 1 batch, head"), "{check}");
    let inspect = stdout(&run(
        lcm(&s.store()).args(["inspect", dir.join("bundle.json").to_str().unwrap()]),
        0,
    ));
    assert!(
        inspect.contains("1 status event, 1 receipt in 1 group (1 sealed batch)"),
        "{inspect}"
    );
    assert!(!text.contains("1 batches") && !check.contains("1 batches"));
}

#[test]
fn store_is_offered_only_by_commands_that_use_one() {
    let s = Scratch::new("store-flag");
    let store = s.store();
    let key = s.path("k");
    let p = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    // Commands that use no store refuse --store after them (a usage error, exit 2), and
    // their help does not offer it.
    run(
        lcm(&store).args(["keygen", "--out", &p(&key), "--store", &p(&store)]),
        2,
    );
    assert!(!key.exists());
    let file = s.path("f.bin");
    std::fs::write(&file, b"x").unwrap();
    run(
        lcm(&store).args(["fingerprint", &p(&file), "--store", &p(&store)]),
        2,
    );
    run(
        lcm(&store).args(["inspect", &p(&file), "--store", &p(&store)]),
        2,
    );
    for command in ["keygen", "fingerprint", "inspect"] {
        let help = stdout(&run(lcm(&store).args([command, "--help"]), 0));
        assert!(!help.contains("--store"), "{command}: {help}");
    }
    // verify keeps it: with --header OLD and no --proof it reads the store's log.
    let help = stdout(&run(lcm(&store).args(["verify", "--help"]), 0));
    assert!(help.contains("--store"), "{help}");
    // Commands that use a store take it after the command (over LCM_STORE), before it, or
    // from LCM_STORE.
    let other = s.path("other.db");
    run(
        Command::new(env!("CARGO_BIN_EXE_lcm"))
            .env_remove("LCM_STORE")
            .args(["init", "--store", &p(&other)]),
        0,
    );
    assert!(other.exists());
    assert!(!store.exists());
    run(lcm(&store).args(["check", "--store", &p(&other)]), 0);
    run(lcm(&store).args(["--store", &p(&other), "check"]), 0);
    run(
        lcm(&store).args(["record", "--store", &p(&other), "release", "--help"]),
        0,
    );
    run(lcm(&other).arg("check"), 0);
    run(lcm(&store).arg("check"), 2);
    // --store after the command wins over the top-level one.
    run(
        lcm(&store).args(["--store", &p(&store), "check", "--store", &p(&other)]),
        0,
    );
}

#[test]
fn keygen_names_a_missing_folder() {
    let s = Scratch::new("keygen-folder");
    let key = s.path("keys/x");
    let out = run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().unwrap()]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "the folder {} does not exist",
            s.path("keys").display()
        )),
        "{err}"
    );
    assert!(!s.path("keys").exists());
    // A bare file name is in the current folder.
    run(
        lcm(&s.store())
            .current_dir(&s.0)
            .args(["keygen", "--out", "here.key"]),
        0,
    );
    assert!(s.path("here.key").exists() && s.path("here.key.pub").exists());
}

#[test]
fn the_policy_line_says_what_domains_mean() {
    let s = Scratch::new("domains");
    let out = stdout(&run(lcm(&s.store()).arg("init"), 0));
    assert!(
        out.contains(" domains=[] (no restriction: every record kind) "),
        "{out}"
    );
    assert!(!out.contains("domains=all"), "{out}");
    let policy = s.path("policy.json");
    let mut value = serde_json::to_value(lcm_model::Policy::default()).unwrap();
    value["domains"] = serde_json::json!(["model", "dataset_family"]);
    std::fs::write(&policy, value.to_string()).unwrap();
    let other = s.path("other.db");
    let out = stdout(&run(
        lcm(&other).args(["init", "--policy", policy.to_str().unwrap()]),
        0,
    ));
    assert!(
        out.contains(" domains=[model,dataset_family] (only these record kinds) "),
        "{out}"
    );
}

#[test]
fn examples_are_built_in() {
    let s = Scratch::new("examples");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cli");
    for (name, file) in [
        ("lifecycle", "lifecycle.json"),
        ("dataset", "stages/dataset.json"),
        ("model", "stages/model.json"),
        ("training", "stages/training.json"),
        ("training-complete", "stages/training-complete.json"),
        ("predeployment", "stages/predeployment.json"),
        ("deployment", "stages/deployment.json"),
        ("test", "stages/test.json"),
        ("inferences", "inferences.jsonl"),
    ] {
        let out = run(lcm(&s.store()).args(["example", name]), 0);
        assert_eq!(
            out.stdout,
            std::fs::read(root.join(file)).unwrap(),
            "{name}"
        );
    }
    run(lcm(&s.store()).args(["example", "nothing"]), 2);
    // The printed lifecycle records as is, and help points to the command, not to a folder
    // an installed binary does not have.
    let file = s.path("lifecycle.json");
    std::fs::write(
        &file,
        run(lcm(&s.store()).args(["example", "lifecycle"]), 0).stdout,
    )
    .unwrap();
    run(lcm(&s.store()).arg("init"), 0);
    record(&s.store(), "lifecycle", file.to_str().unwrap(), 0);
    for stage in ["lifecycle", "dataset", "model", "training", "test"] {
        let help = stdout(&run(lcm(&s.store()).args(["record", stage, "--help"]), 0));
        assert!(!help.contains("examples/cli"), "{help}");
        assert!(help.contains("lcm example "), "{help}");
    }
}

/// The bundle of the store's only lifecycle, exported with a fresh key, as JSON.
fn exported(s: &Scratch) -> serde_json::Value {
    let key = s.path("export.key");
    if !key.exists() {
        run(
            lcm(&s.store()).args(["keygen", "--out", key.to_str().expect("utf-8 path")]),
            0,
        );
    }
    let out = run(
        lcm(&s.store()).args(["export", "--key", key.to_str().expect("utf-8 path")]),
        0,
    );
    serde_json::from_slice(&out.stdout).expect("the bundle is JSON")
}

#[test]
fn input_files_take_rfc3339_timestamps_of_any_precision() {
    let canonical = "2025-09-12T14:00:00.000000Z";
    let text = std::fs::read_to_string(LIFECYCLE).unwrap();
    assert!(text.contains(canonical));
    for spelling in [
        "2025-09-12T14:00:00Z",
        "2025-09-12T14:00:00.0Z",
        "2025-09-12T16:00:00.000000000+02:00",
    ] {
        let s = Scratch::new("rfc3339");
        let file = s.path("lifecycle.json");
        std::fs::write(&file, text.replace(canonical, spelling)).unwrap();
        run(lcm(&s.store()).arg("init"), 0);
        record(&s.store(), "lifecycle", file.to_str().unwrap(), 0);
        // Kept in the canonical form.
        let bundle = exported(&s).to_string();
        assert!(
            bundle.contains(&format!("\"build_timestamp\":\"{canonical}\"")),
            "{spelling}"
        );
        assert!(!bundle.contains(spelling), "{spelling}");
    }
    // Stage files too: the short form parses (the store then lacks the training run).
    let s = Scratch::new("rfc3339-stage");
    run(lcm(&s.store()).arg("init"), 0);
    let stage = std::fs::read_to_string(stage_file("predeployment")).unwrap();
    assert!(stage.contains(canonical));
    let file = s.path("predeployment.json");
    std::fs::write(&file, stage.replace(canonical, "2025-09-12T14:00:00Z")).unwrap();
    let out = record(&s.store(), "predeployment", file.to_str().unwrap(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("timestamp"), "{err}");
    // What is not RFC 3339 is refused, saying what is accepted.
    std::fs::write(&file, stage.replace(canonical, "2025-09-12 14:00")).unwrap();
    let out = record(&s.store(), "predeployment", file.to_str().unwrap(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected an RFC 3339 timestamp"), "{err}");
    assert!(err.contains("\"2025-09-12 14:00\""), "{err}");
    assert_eq!(record_ids(&s.store()), Vec::<String>::new());
    // batch close --until too.
    let s = recorded("rfc3339-until");
    infer(&s.store(), &lines(3, "u"), 0);
    let out = run(
        lcm(&s.store()).args(["batch", "close", "--until", "2000-01-01T00:00:00+01:00"]),
        0,
    );
    assert_eq!(stdout(&out).trim(), "no receipts to batch");
    run(
        lcm(&s.store()).args(["batch", "close", "--until", "9999-01-01T00:00:00Z"]),
        0,
    );
    run(
        lcm(&s.store()).args(["batch", "close", "--until", "yesterday"]),
        2,
    );
}

/// The progress bar (indicatif) draws only on a terminal, with a rate in whole items per
/// second: under `script` (a pseudo-terminal) `lcm check` draws it; on a pipe nothing.
#[test]
fn progress_draws_only_on_a_terminal_with_a_sane_rate() {
    let (s, _dir) = demo("progress");
    let quiet = run(lcm(&s.store()).arg("check"), 0);
    assert_eq!(stderr(&quiet), "");
    let command = format!(
        "{} check --store {}",
        env!("CARGO_BIN_EXE_lcm"),
        s.store().display()
    );
    let Ok(out) = Command::new("script")
        .args(["-qc", &command, "/dev/null"])
        .output()
    else {
        eprintln!("no `script` on this machine: the terminal half is skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // Every drawing is the bar in its final style (none in indicatif's default).
    assert!(!text.contains('\u{2591}'), "{text}");
    let bar = text
        .split(['\r', '\n'])
        .rfind(|l| l.contains("checking receipts ["))
        .unwrap_or_else(|| panic!("no bar drawn on the terminal: {text}"));
    assert!(bar.contains("20/20"), "{bar}");
    let rate = bar
        .split('(')
        .nth(1)
        .and_then(|r| r.split("/s").next())
        .expect("a rate in the bar");
    let digits: String = rate.chars().filter(char::is_ascii_digit).collect();
    assert!(!rate.contains('.'), "a whole number: {bar}");
    assert!(digits.len() <= 9, "a sane rate: {bar}");
}
