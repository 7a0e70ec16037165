//! Issue 11, "store integrity and strict input": each case as the attacker tried it, run
//! against the real binary.

use std::path::Path;

use super::{
    Scratch, assert_stderr_has, assert_stdout_has, check_fails, demo, infer, infer_with, lcm,
    lines, materialize, p, recorded, run, signed, stderr, stdout, verify, with_receipts,
};

/// Runs `sql` on the store's file directly, as someone with write access would.
fn edit(s: &Scratch, sql: &str) {
    let conn = rusqlite::Connection::open(s.store()).expect("open the store file");
    conn.execute_batch(sql).expect("the edit runs");
}

/// Case 1: one flipped bit of a chain's commitment seed is found by `check`, and the seed is
/// refused before any receipt is committed under it.
#[test]
fn a_flipped_seed_bit_is_found() {
    let s = with_receipts("strict-seed", 3);
    run(lcm(&s.store()).arg("check"), 0);
    edit(
        &s,
        "DROP TRIGGER chains_no_update; \
         UPDATE chains SET seed = randomblob(32) WHERE chain_id = 1; \
         CREATE TRIGGER chains_no_update BEFORE UPDATE ON chains \
             BEGIN SELECT RAISE(ABORT, 'chains are append-only'); END;",
    );
    check_fails(&s.store(), &["stage store", "deploy_001", "field seed"]);
    // No receipt is committed under the wrong seed.
    let out = infer(&s.store(), &lines(1, "b"), 1);
    assert_stderr_has(&out, "field seed");
}

/// Case 1, one bit exactly: the first byte of the seed xor 1.
#[test]
fn a_single_bit_of_the_seed_is_found() {
    let s = with_receipts("strict-seed-bit", 2);
    let mut seed: Vec<u8> = select(&s.store(), "SELECT seed FROM chains WHERE chain_id = 1");
    seed[0] ^= 1;
    let conn = rusqlite::Connection::open(s.store()).expect("open");
    conn.execute_batch("DROP TRIGGER chains_no_update")
        .expect("drop");
    conn.execute("UPDATE chains SET seed = ?1", [&seed])
        .expect("update");
    conn.execute_batch(
        "CREATE TRIGGER chains_no_update BEFORE UPDATE ON chains \
         BEGIN SELECT RAISE(ABORT, 'chains are append-only'); END;",
    )
    .expect("restore");
    drop(conn);
    check_fails(&s.store(), &["field seed", "deploy_001"]);
}

/// Case 2: a policy downgraded in `meta` is found by `check`, and `infer` refuses the store
/// instead of committing queries in the clear.
#[test]
fn a_policy_downgrade_is_found_and_infer_refuses() {
    let s = with_receipts("strict-policy", 2);
    edit(
        &s,
        "UPDATE meta SET value = replace(value, '\"salted\"', '\"plaintext\"') \
         WHERE key = 'policy'",
    );
    let policy: String = select(&s.store(), "SELECT value FROM meta WHERE key = 'policy'");
    assert!(policy.contains("plaintext"), "{policy}");
    check_fails(&s.store(), &["stage store", "field policy", "plaintext"]);
    let out = infer(&s.store(), &lines(1, "b"), 1);
    assert_stderr_has(&out, "field policy");
    // Nothing was appended.
    assert_eq!(receipt_count(&s.store()), 2);
}

/// Case 2, the rule the bundle verifier applies: a receipt committed under another scheme
/// than the store's policy fails `check`.
#[test]
fn a_receipt_under_another_scheme_is_found() {
    let s = with_receipts("strict-scheme", 2);
    // Rewrite the receipt's scheme (its digest then differs too, but the scheme is named
    // first), with the trigger dropped and restored.
    edit(
        &s,
        "DROP TRIGGER receipts_no_update; \
         UPDATE receipts SET input_scheme = 2 WHERE key % 1099511627776 = 1; \
         CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts \
             BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;",
    );
    check_fails(&s.store(), &["stage receipts"]);
}

/// Case 3: dropped append-only triggers are reported by name, and the newest receipts
/// deleted with them no longer pass silently.
#[test]
fn dropped_triggers_are_reported() {
    let s = with_receipts("strict-triggers", 6);
    run(lcm(&s.store()).args(["batch", "close"]), 0);
    infer(&s.store(), &lines(4, "b"), 0);
    run(lcm(&s.store()).args(["batch", "close"]), 0);
    edit(
        &s,
        "DROP TRIGGER receipts_no_delete; DROP TRIGGER batches_no_delete; \
         DROP TRIGGER records_no_delete; \
         DELETE FROM receipts WHERE key % 1099511627776 >= 6; \
         DELETE FROM batches WHERE first_seq = 6; \
         DELETE FROM records WHERE kind = 'inference-batch-root' AND id LIKE '%6%';",
    );
    // The deleted tail is found first, by the chain's transparency log, which still holds
    // the ten receipts (its own tables kept their triggers).
    check_fails(
        &s.store(),
        &["log of deployment", "has 10 leaves", "6 receipts"],
    );
    // Dropped triggers alone, with no content edit, are reported by name.
    let u = recorded("strict-triggers-only");
    edit(
        &u,
        "DROP TRIGGER receipts_no_delete; DROP TRIGGER batches_no_delete; \
         DROP TRIGGER records_no_delete;",
    );
    check_fails(
        &u.store(),
        &["stage store", "schema", "trigger", "_no_delete", "missing"],
    );
    // One trigger is enough.
    let t = recorded("strict-one-trigger");
    edit(&t, "DROP TRIGGER evidence_no_update");
    check_fails(&t.store(), &["trigger evidence_no_update", "missing"]);
    // A trigger replaced by one that lets everything through is "not the one".
    let u = recorded("strict-changed-trigger");
    edit(
        &u,
        "DROP TRIGGER records_no_update; \
         CREATE TRIGGER records_no_update BEFORE UPDATE ON records BEGIN SELECT 1; END;",
    );
    check_fails(&u.store(), &["trigger records_no_update", "not the one"]);
    // An added object is named too.
    let v = recorded("strict-added");
    edit(&v, "CREATE TABLE extra (x)");
    check_fails(&v.store(), &["table extra", "added"]);
}

/// Case 1-3: a fresh store passes, and its check still says so.
#[test]
fn an_unedited_store_passes() {
    let s = with_receipts("strict-clean", 3);
    let out = run(lcm(&s.store()).arg("check"), 0);
    assert!(stdout(&out).starts_with("store ok"), "{}", stdout(&out));
}

/// The number of receipts in the store's file.
fn receipt_count(store: &Path) -> i64 {
    select(store, "SELECT count(*) FROM receipts")
}

/// The one value `sql` selects from the store's file.
fn select<T: rusqlite::types::FromSql>(store: &Path, sql: &str) -> T {
    let conn = rusqlite::Connection::open(store).expect("open the store file");
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// Case 5: a key given twice inside a map-typed object of a signed document (a header's
/// `authorized_datasets`, a bundle's metrics) is refused with exit 2 naming the field, as it
/// is in `infer` input and in a safetensors header.
#[test]
fn duplicate_map_keys_are_refused_everywhere() {
    let (s, dir) = demo("strict-dup");
    let public = dir.join("signing.key.pub");
    let header = std::fs::read_to_string(dir.join("header.json")).expect("header");
    let at = header
        .find("\"authorized_datasets\": {")
        .expect("authorized_datasets");
    let open = at + header[at..].find('{').expect("brace") + 1;
    let entry_end = open + 1 + header[open + 1..].find('\n').expect("line");
    let entry = header[open..entry_end].trim().trim_end_matches(',');
    let key = entry.split(':').next().expect("key");
    let forged = format!("{key}: \"{}\"", "0".repeat(64));
    let mut twice = header.clone();
    twice.insert_str(open, &format!("\n{forged},"));
    let file = s.path("dup-header.json");
    std::fs::write(&file, &twice).expect("write");
    let out = verify(&s, &file, &public, &[], 2);
    assert_stderr_has(&out, "authorized_datasets");
    assert_stderr_has(&out, "duplicate key");
    let out = run(
        lcm(&s.store()).args(["inspect", file.to_str().expect("utf-8")]),
        2,
    );
    assert_stderr_has(&out, "duplicate key");

    // A bundle's metrics.
    let bundle = std::fs::read_to_string(dir.join("bundle.json")).expect("bundle");
    let twice = bundle.replacen(
        "\"accuracy\": 0.82,",
        "\"accuracy\": 0.99, \"accuracy\": 0.82,",
        1,
    );
    assert_ne!(twice, bundle);
    let file = s.path("dup-bundle.json");
    std::fs::write(&file, &twice).expect("write");
    let out = verify(&s, &file, &public, &[], 2);
    assert_stderr_has(&out, "metrics");
    assert_stderr_has(&out, "\"accuracy\"");

    // infer input.
    let r = recorded("strict-dup-infer");
    let out = infer(
        &r.store(),
        "{\"request_id\":\"r1\",\"query\":\"q\",\"output\":\"o\",\"input_metadata\":{\"x\":1,\"x\":2}}\n",
        2,
    );
    assert_stderr_has(&out, "input_metadata");
    assert_stderr_has(&out, "duplicate key \"x\"");
    assert_eq!(receipt_count(&r.store()), 0);

    // A safetensors header naming one tensor twice.
    let header = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0, 0, 128, 63, 0, 0, 0, 64]);
    let st = s.path("m.safetensors");
    std::fs::write(&st, &bytes).expect("write");
    let out = run(
        lcm(&s.store()).args(["fingerprint", st.to_str().expect("utf-8")]),
        2,
    );
    assert_stderr_has(&out, "duplicate key \"w\"");
}

/// Case 6: ids that are empty or hold control characters are refused before anything is
/// appended, so no forged acknowledgment line can be printed.
#[test]
fn ids_with_control_characters_or_empty_are_refused() {
    let s = recorded("strict-ids");
    for (line, field) in [
        (
            r#"{"request_id":"evil\n999\tinf_000003\t000","query":"q","output":"o"}"#,
            "request_id",
        ),
        (
            r#"{"request_id":"","query":"q","output":"o"}"#,
            "request_id",
        ),
        (
            r#"{"request_id":"r","receipt_id":"evil\n999","query":"q","output":"o"}"#,
            "receipt_id",
        ),
        (
            r#"{"request_id":"r","receipt_id":"","query":"q","output":"o"}"#,
            "receipt_id",
        ),
        (
            r#"{"request_id":"r","receipt_id":"a\u001b[2Jb","query":"q","output":"o"}"#,
            "receipt_id",
        ),
    ] {
        let out = infer(&s.store(), &format!("{line}\n"), 2);
        assert!(
            stderr(&out).contains(&format!("field {field}")),
            "{line}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "{line}");
    }
    assert_eq!(receipt_count(&s.store()), 0);
    let out = run(lcm(&s.store()).args(["list", "receipts"]), 0);
    assert_eq!(stdout(&out), "");
    // An id in a stage file too.
    let file = s.path("status.json");
    let stage = std::fs::read_to_string(super::stage_file("deployment")).expect("stage");
    std::fs::write(&file, stage.replace("deploy_001", "deploy\\u0000x")).expect("write");
    let out = run(
        lcm(&s.store()).args(["record", "deployment", file.to_str().expect("utf-8")]),
        2,
    );
    assert_stderr_has(&out, "field $.deployment_id");
    assert_stderr_has(&out, "control character");
}

/// Case 7: a number that does not survive a round trip, a key given twice, and a request id
/// fed three times are refused (exit 2, naming the field); the flag allows repeats.
#[test]
fn inference_metadata_is_not_altered_silently() {
    let s = recorded("strict-numbers");
    // One request line, with `fields` (each led by a comma) after its query and output.
    let request = |id: &str, fields: &str| {
        format!(r#"{{"request_id":"{id}","query":"q","output":"o"{fields}}}"#) + "\n"
    };
    let big = r#","input_metadata":{"n":123456789012345678901234567890}"#;
    let out = infer(&s.store(), &request("r1", big), 2);
    assert_stderr_has(&out, "input_metadata.n");
    assert_stderr_has(&out, "123456789012345678901234567890");
    let twice = r#","output_metadata":{"x":1,"x":2}"#;
    let out = infer(&s.store(), &request("r1", twice), 2);
    assert_stderr_has(&out, "output_metadata");
    assert_eq!(receipt_count(&s.store()), 0);
    // Exact numbers pass.
    let exact = r#","input_metadata":{"n":12345678901234567890,"f":0.95}"#;
    infer(&s.store(), &request("r1", exact), 0);
    // The same request id again: in the same input, and in a later run.
    let again = request("r1", "");
    let out = infer(&s.store(), &again, 2);
    assert_stderr_has(&out, "field request_id");
    assert_stderr_has(&out, "--allow-repeated-request-id");
    let out = infer(&s.store(), &request("r2", "").repeat(2), 2);
    assert_stderr_has(&out, "\"r2\"");
    assert_eq!(receipt_count(&s.store()), 1);
    // Allowed on request: the retry is recorded as a receipt of its own.
    let allow = ["--allow-repeated-request-id"];
    infer_with(&s.store(), &allow, &again.repeat(2), 0);
    assert_eq!(receipt_count(&s.store()), 3);
    run(lcm(&s.store()).arg("check"), 0);
}

/// Runs `lcm ARGS` with the file-size limit at `blocks` 512-byte blocks and SIGXFSZ ignored,
/// so that a write past the limit fails as a full disk would (`EFBIG`).
#[cfg(unix)]
fn with_size_limit(store: &Path, blocks: u32, args: &[&str]) -> std::process::Output {
    let mut script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${{{i}}}\""));
    }
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_lcm"))
        .args(args)
        .env("LCM_STORE", store)
        .output()
        .expect("run sh")
}

/// Case 8: a write that fails half way leaves the previous file as it was (export, header),
/// and a failed keygen leaves no key file at all.
#[cfg(unix)]
#[test]
fn a_failed_write_keeps_the_previous_file() {
    let (s, dir) = demo("strict-atomic");
    let key = dir.join("signing.key");
    let bundle = s.path("bundle.json");
    let header = s.path("header.json");
    for (file, command) in [(&bundle, "export"), (&header, "header")] {
        let args = [command, "--key", p(&key), "--out", p(file)];
        run(lcm(&s.store()).args(args), 0);
        let before = std::fs::read(file).expect("written");
        let out = with_size_limit(&s.store(), 1, &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("File too large") || stderr(&out).contains("too large"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read(file).expect("still there"),
            before,
            "{command}"
        );
    }
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&s.0)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    // keygen on a full disk: neither key file exists afterwards.
    let new_key = s.path("new.key");
    let out = with_size_limit(
        &s.store(),
        0,
        &["keygen", "--out", new_key.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!new_key.exists());
    assert!(!s.path("new.key.pub").exists());
    // With room, it works, and the private key is 0600.
    run(
        lcm(&s.store()).args(["keygen", "--out", new_key.to_str().expect("utf-8")]),
        0,
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&new_key)
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Makes `paths` unwritable: mode 0444 for files, 0555 for folders, and (when the test runs
/// as root, who ignores modes) the immutable attribute where `chattr` can set it.
#[cfg(unix)]
struct ReadOnly(Vec<std::path::PathBuf>, bool);

#[cfg(unix)]
impl ReadOnly {
    fn new(paths: &[std::path::PathBuf]) -> Self {
        use std::os::unix::fs::PermissionsExt;
        for p in paths {
            let mode = if p.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        let immutable = std::process::Command::new("chattr")
            .arg("+i")
            .args(paths)
            .output()
            .is_ok_and(|o| o.status.success());
        Self(paths.to_vec(), immutable)
    }
}

#[cfg(unix)]
impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .args(&self.0)
                .output();
        }
        for p in &self.0 {
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755));
        }
    }
}

/// Case 9: an archived store (a 0444 file in a 0555 folder) is checked, listed, shown and
/// exported without writing.
#[cfg(unix)]
#[test]
fn an_archived_store_is_audited_read_only() {
    let s = with_receipts("strict-ro", 5);
    run(lcm(&s.store()).args(["batch", "close"]), 0);
    let archive = s.path("archive");
    std::fs::create_dir_all(&archive).expect("mkdir");
    let store = archive.join("lcm.db");
    // A copy as an archive holds it: one closed database file.
    let conn = rusqlite::Connection::open(s.store()).expect("open");
    conn.execute("VACUUM INTO ?1", [store.to_str().expect("utf-8")])
        .expect("vacuum into");
    drop(conn);
    let key = s.path("k");
    run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().expect("utf-8")]),
        0,
    );
    let before = std::fs::read(&store).expect("read");
    let _guard = ReadOnly::new(&[store.clone(), archive]);
    let out = run(lcm(&store).arg("check"), 0);
    assert!(stdout(&out).starts_with("store ok"), "{}", stdout(&out));
    let out = run(lcm(&store).args(["list", "receipts"]), 0);
    assert_eq!(stdout(&out).lines().count(), 5);
    run(lcm(&store).args(["list"]), 0);
    run(lcm(&store).args(["show", "inference-receipt", "a_0"]), 0);
    run(
        lcm(&store).args(["header", "--key", key.to_str().expect("utf-8")]),
        0,
    );
    let bundle = s.path("bundle.json");
    signed(&store, "export", &key, &bundle);
    verify(&s, &bundle, &s.path("k.pub"), &[], 0);
    assert_eq!(std::fs::read(&store).expect("read"), before);
    // A command that writes says why it cannot.
    let out = infer(&store, &lines(1, "b"), 2);
    assert!(!stderr(&out).is_empty());
}

/// Case 10: a private key readable by group or others is refused with how to fix it, and a
/// private key given where the public key belongs is named as such.
#[cfg(unix)]
#[test]
fn key_files_are_used_as_what_they_are() {
    use std::os::unix::fs::PermissionsExt;
    let (s, dir) = demo("strict-keys");
    let key = dir.join("signing.key");
    let header = s.path("h.json");
    let header_args = ["header", "--key", p(&key), "--out", p(&header)];
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let out = run(lcm(&s.store()).args(header_args), 2);
        let e = stderr(&out);
        assert!(e.contains("too open"), "{e}");
        assert!(e.contains(&format!("chmod 600 {}", key.display())), "{e}");
        assert!(!header.exists());
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    run(lcm(&s.store()).args(header_args), 0);
    // The private key passed to verify.
    let out = verify(&s, &dir.join("bundle.json"), &key, &[], 2);
    let e = stderr(&out);
    assert!(e.contains("is a private key"), "{e}");
    assert!(e.contains("signing.key.pub"), "{e}");
    verify(
        &s,
        &dir.join("bundle.json"),
        &dir.join("signing.key.pub"),
        &[],
        0,
    );
    // The private key on its own, without its .pub beside it: it derives the signer's key.
    let alone = s.path("alone.key");
    std::fs::copy(&key, &alone).expect("copy");
    for doc in ["bundle.json", "header.json"] {
        let out = verify(&s, &dir.join(doc), &alone, &[], 2);
        assert!(
            stderr(&out).contains("alone.key is a private key")
                && stderr(&out).contains("the key that signed"),
            "{}",
            stderr(&out)
        );
    }
    // Another key's public key is still a plain mismatch (exit 1).
    let other = s.path("other");
    run(
        lcm(&s.store()).args(["keygen", "--out", other.to_str().expect("utf-8")]),
        0,
    );
    verify(&s, &dir.join("bundle.json"), &s.path("other.pub"), &[], 1);
}

/// A store whose policy commits in plaintext, and the policy file that made it.
fn plaintext_store(name: &str) -> Scratch {
    let s = Scratch::new(name);
    let probe = s.path("probe.db");
    run(lcm(&probe).arg("init"), 0);
    let policy: String = rusqlite::Connection::open(&probe)
        .expect("open")
        .query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
            r.get(0)
        })
        .expect("policy");
    let plaintext = policy.replace("\"salted\"", "\"plaintext\"");
    assert_ne!(plaintext, policy);
    let file = s.path("policy.json");
    std::fs::write(&file, plaintext).expect("write");
    run(
        lcm(&s.store()).args(["init", "--policy", file.to_str().expect("utf-8")]),
        0,
    );
    s
}

fn record_lifecycle(s: &Scratch, extra: &[&str], code: i32) -> std::process::Output {
    run(
        lcm(&s.store())
            .args(["record", "lifecycle", super::LIFECYCLE])
            .args(extra)
            .env("LCM_DATASET_PASSWORD", "family_password")
            .env("LCM_MODEL_PASSWORD", "model_password"),
        code,
    )
}

/// Case 4: a dataset with personal data under plaintext commitments is refused unless an
/// override records why; the override is a sealed record; `lcm verify` refuses such a bundle
/// by default and, when told to accept it, says so in a warning. Requirement flags apply.
#[test]
fn plaintext_commitments_on_pii_are_gated() {
    let s = plaintext_store("strict-pii");
    let out = record_lifecycle(&s, &[], 2);
    let e = stderr(&out);
    assert!(e.contains("contains_pii"), "{e}");
    assert!(e.contains("--allow-plaintext-pii"), "{e}");
    let list = run(lcm(&s.store()).arg("list"), 0);
    assert_eq!(stdout(&list), "", "nothing was recorded");
    // The stage on its own too.
    let out = run(
        lcm(&s.store())
            .args(["record", "dataset", &super::stage_file("dataset")])
            .env("LCM_DATASET_PASSWORD", "family_password"),
        2,
    );
    assert_stderr_has(&out, "contains_pii");
    // With a reason, it is recorded, and so is the reason.
    record_lifecycle(
        &s,
        &["--allow-plaintext-pii", "IRB study 42: synthetic ids only"],
        0,
    );
    let out = run(lcm(&s.store()).args(["list", "policy-override"]), 0);
    assert_stdout_has(&out, "plaintext-pii/");
    let id = stdout(&out).split('\t').nth(1).expect("id").to_owned();
    let out = run(lcm(&s.store()).args(["show", "policy-override", &id]), 0);
    assert_stdout_has(&out, "IRB study 42");
    infer(
        &s.store(),
        "{\"request_id\":\"r1\",\"query\":\"patient John Doe SSN 123-45-6789\",\"output\":\"o\"}\n",
        0,
    );
    run(lcm(&s.store()).arg("check"), 0);
    // The tamper twin: the override's reason edited behind the triggers' back.
    let key = s.path("k");
    run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().expect("utf-8")]),
        0,
    );
    let bundle = s.path("bundle.json");
    signed(&s.store(), "export", &key, &bundle);
    let public = s.path("k.pub");
    let out = verify(&s, &bundle, &public, &[], 1);
    assert!(
        stderr(&out).contains("no_plaintext_with_pii") || stderr(&out).contains("personal data"),
        "{}",
        stderr(&out)
    );
    let out = verify(&s, &bundle, &public, &["--allow-plaintext-pii"], 0);
    let text = stdout(&out);
    assert!(
        text.contains("warning: commitments are plaintext"),
        "{text}"
    );
    assert!(text.contains("personal data"), "{text}");
    let out = verify(
        &s,
        &bundle,
        &public,
        &["--allow-plaintext-pii", "--json"],
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(2));
    // Requirement flags.
    for (flag, value, code) in [
        ("--require-commitments", "salted", 1),
        ("--require-commitments", "hmac", 1),
        ("--require-commitments", "HMAC-SHA256", 1),
        ("--require-commitments", "plaintext", 0),
        ("--require-framework", "GDPR", 1),
        ("--require-framework", "HIPAA", 0),
        ("--min-kdf-iterations", "100000000", 1),
        ("--require-hash", "blake3", 1),
        ("--require-hash", "sha256", 0),
    ] {
        let args = ["--allow-plaintext-pii", flag, value];
        verify(&s, &bundle, &public, &args, code);
    }
    let args = ["--allow-plaintext-pii", "--require-commitments", "hmac"];
    let out = verify(&s, &bundle, &public, &args, 1);
    let err = stderr(&out);
    assert!(err.contains("/policy/commitments"), "{err}");
    assert!(
        err.contains("HMAC-SHA256") && err.contains("plaintext"),
        "{err}"
    );
    let out = verify(&s, &bundle, &public, &["--require-commitments", "bogus"], 2);
    assert!(
        stderr(&out).contains("--require-commitments"),
        "{}",
        stderr(&out)
    );
    edit(
        &s,
        "DROP TRIGGER records_no_update; \
         UPDATE records SET json = replace(json, 'IRB study 42', 'IRB study 43') \
         WHERE kind = 'policy-override'; \
         CREATE TRIGGER records_no_update BEFORE UPDATE ON records \
             BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;",
    );
    check_fails(&s.store(), &["stage records", "policy-override"]);
}

/// Case 13: a failed security scan at pre-deployment blocks the deployment unless an
/// override records why.
#[test]
fn a_failed_security_scan_blocks_deployment() {
    let s = Scratch::new("strict-scan");
    run(lcm(&s.store()).arg("init"), 0);
    let lifecycle = std::fs::read_to_string(super::LIFECYCLE).expect("lifecycle");
    let failed = lifecycle.replace(
        "\"compliance_status\": \"passed\"",
        "\"compliance_status\": \"failed\"",
    );
    assert_ne!(failed, lifecycle);
    let file = s.path("lifecycle.json");
    std::fs::write(&file, failed).expect("write");
    let record = |extra: &[&str], code| {
        run(
            lcm(&s.store())
                .args(["record", "lifecycle", file.to_str().expect("utf-8")])
                .args(extra)
                .env("LCM_DATASET_PASSWORD", "family_password")
                .env("LCM_MODEL_PASSWORD", "model_password"),
            code,
        )
    };
    let out = record(&[], 2);
    let e = stderr(&out);
    assert!(e.contains("compliance_status"), "{e}");
    assert!(e.contains("--allow-failed-security-scan"), "{e}");
    assert_eq!(stdout(&run(lcm(&s.store()).arg("list"), 0)), "");
    record(
        &[
            "--allow-failed-security-scan",
            "CVE-2026-1 accepted by CISO",
        ],
        0,
    );
    let out = run(lcm(&s.store()).args(["list", "policy-override"]), 0);
    assert_stdout_has(&out, "failed-security-scan/deploy_001");
    run(lcm(&s.store()).arg("check"), 0);

    // Stage by stage: the deployment stage is the one refused.
    let t = Scratch::new("strict-scan-stages");
    run(lcm(&t.store()).arg("init"), 0);
    super::record_first_stages(&t.store(), 4);
    let pre = std::fs::read_to_string(super::stage_file("predeployment")).expect("stage");
    let pre_file = t.path("pre.json");
    std::fs::write(
        &pre_file,
        pre.replace(
            "\"compliance_status\": \"passed\"",
            "\"compliance_status\": \"failed\"",
        ),
    )
    .expect("write");
    super::record(
        &t.store(),
        "predeployment",
        pre_file.to_str().expect("utf-8"),
        0,
    );
    let dep = super::stage_file("deployment");
    let out = super::record(&t.store(), "deployment", &dep, 2);
    assert_stderr_has(&out, "compliance_status");
    run(
        lcm(&t.store()).args([
            "record",
            "deployment",
            &dep,
            "--allow-failed-security-scan",
            "hotfix approved",
        ]),
        0,
    );
}

/// Case 12: `materialize` refuses a header of another store (the same example lifecycle,
/// other salts and seeds) and accepts its own, also after its chain grew.
#[test]
fn materialize_refuses_a_header_of_another_store() {
    let (a, dir_a) = demo("strict-foreign-a");
    let (b, dir_b) = demo("strict-foreign-b");
    let capsule = a.path("capsule.json");
    let capsule_of = |s: &Scratch, header: &Path, code| {
        materialize(
            &s.store(),
            "inf_000003",
            p(header),
            &["--out", p(&capsule)],
            code,
        )
    };
    let out = capsule_of(&a, &dir_b.join("header.json"), 2);
    let e = stderr(&out);
    assert!(e.contains("not a header of deployment"), "{e}");
    assert!(e.contains("field"), "{e}");
    assert!(!capsule.exists());
    capsule_of(&b, &dir_a.join("header.json"), 2);
    // Its own header, also once more receipts were appended after it.
    capsule_of(&a, &dir_a.join("header.json"), 0);
    infer(
        &a.store(),
        "{\"request_id\":\"later\",\"query\":\"q\",\"output\":\"o\"}\n",
        0,
    );
    capsule_of(&a, &dir_a.join("header.json"), 0);
    verify(
        &a,
        &capsule,
        &dir_a.join("signing.key.pub"),
        &[
            "--header",
            dir_a.join("header.json").to_str().expect("utf-8"),
        ],
        0,
    );
    // A header whose chain head is not this chain's at its count.
    let header = std::fs::read_to_string(dir_a.join("header.json")).expect("header");
    let v: serde_json::Value = serde_json::from_str(&header).expect("json");
    let head = v["stage_g_inference"]["chain_head"]
        .as_str()
        .expect("head")
        .to_owned();
    let forged = header.replace(&head, &"ab".repeat(32));
    let file = a.path("forged.json");
    std::fs::write(&file, forged).expect("write");
    let out = capsule_of(&a, &file, 2);
    assert_stderr_has(&out, "chain_head");
}

/// Case 11: the demo's header and bundle carry a signed marker; `verify` and `inspect` say the
/// document is synthetic demo data, and the README's demo -> verify flow still exits 0.
/// Removing the marker breaks the signature; a real lifecycle has none.
#[test]
fn demo_output_says_it_is_synthetic() {
    let (s, dir) = demo("strict-synthetic");
    let public = dir.join("signing.key.pub");
    for name in ["bundle.json", "header.json"] {
        let file = dir.join(name);
        let text = std::fs::read_to_string(&file).expect("written");
        assert!(
            text.contains("\"synthetic\": \"synthetic demo data"),
            "{name}"
        );
        let out = verify(&s, &file, &public, &[], 0);
        assert_stdout_has(&out, "warning: this is synthetic demo data");
        let out = verify(&s, &file, &public, &["--json"], 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(
            v["synthetic"]
                .as_str()
                .is_some_and(|n| n.starts_with("synthetic demo data"))
        );
        let out = run(
            lcm(&s.store()).args(["inspect", file.to_str().expect("utf-8")]),
            0,
        );
        assert_stdout_has(&out, "SYNTHETIC: synthetic demo data");
        // The marker is signed: taking it out fails verification.
        let stripped: String = text
            .lines()
            .filter(|l| !l.contains("\"synthetic\":"))
            .collect::<Vec<_>>()
            .join("\n");
        let bare = s.path(&format!("bare-{name}"));
        std::fs::write(&bare, stripped).expect("write");
        verify(&s, &bare, &public, &[], 1);
    }
    // Headers and bundles exported later from the demo's store are marked too.
    let header = s.path("h.json");
    signed(&s.store(), "header", &dir.join("signing.key"), &header);
    assert!(
        std::fs::read_to_string(&header)
            .expect("h")
            .contains("\"synthetic\"")
    );
    // A recorded lifecycle is not synthetic.
    let r = recorded("strict-not-synthetic");
    run(
        lcm(&r.store()).args(["keygen", "--out", r.path("k").to_str().expect("utf-8")]),
        0,
    );
    let out = run(
        lcm(&r.store()).args(["header", "--key", r.path("k").to_str().expect("utf-8")]),
        0,
    );
    assert!(!stdout(&out).contains("synthetic"));
}

/// Case 5 and 6 at the edges: the header a capsule is verified against is read strictly, and
/// a batch window id is an id.
#[test]
fn capsule_headers_and_window_ids_are_strict() {
    let (s, dir) = demo("strict-edges");
    let header = dir.join("header.json");
    let capsule = s.path("capsule.json");
    materialize(
        &s.store(),
        "inf_000001",
        p(&header),
        &["--out", p(&capsule)],
        0,
    );
    let text = std::fs::read_to_string(&header).expect("header");
    let twice = text.replacen("{", "{\"capsule_version\": \"lcm-capsule/1\",", 1);
    let file = s.path("twice.json");
    std::fs::write(&file, twice).expect("write");
    let out = verify(
        &s,
        &capsule,
        &dir.join("signing.key.pub"),
        &["--header", file.to_str().expect("utf-8")],
        2,
    );
    assert_stderr_has(&out, "duplicate key \"capsule_version\"");
    infer(&s.store(), &lines(2, "w"), 0);
    let out = run(
        lcm(&s.store()).args(["batch", "close", "--window", "w\n1"]),
        2,
    );
    assert_stderr_has(&out, "field --window");
    run(
        lcm(&s.store()).args(["batch", "close", "--window", "w1"]),
        0,
    );
}
