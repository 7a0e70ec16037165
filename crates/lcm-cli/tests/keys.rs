//! Issue 15, keys: PKCS#8/SPKI PEM key files that openssl reads and writes, key ids in the
//! output, and verification against a set of trusted keys.

use super::*;

/// Whether an `openssl` binary that knows Ed25519 is on this machine.
fn openssl() -> bool {
    Command::new("openssl")
        .args(["list", "-public-key-algorithms"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("ED25519"))
}

/// `lcm --json keygen --out PATH EXTRA...`: the key id it printed.
fn keygen(s: &Scratch, path: &Path, extra: &[&str]) -> String {
    let out = run(
        lcm(&s.store())
            .args(["--json", "keygen", "--out", p(path)])
            .args(extra),
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["key_id"].as_str().expect("key_id").to_owned()
}

/// `lcm header` of the store's lifecycle signed with `key`, written at `out`.
fn header(s: &Scratch, key: &Path, out: &Path) {
    signed(&s.store(), "header", key, out);
}

/// `lcm --json verify FILE ARGS...` expecting `code`.
fn verify_with(s: &Scratch, file: &Path, args: &[&str], code: i32) -> Output {
    run(
        lcm(&s.store())
            .args(["--json", "verify", p(file)])
            .args(args)
            .env_remove("LCM_PUBLIC_KEY"),
        code,
    )
}

#[test]
fn pem_keys_are_read_and_written_like_openssl() {
    let (s, _dir) = demo("keys-pem");
    let key = s.path("pem.key");
    let id = keygen(&s, &key, &["--pem"]);
    let private = std::fs::read_to_string(&key).unwrap();
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{private}"
    );
    let public = std::fs::read_to_string(pub_of(&key)).unwrap();
    assert!(
        public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{public}"
    );
    // A header signed with the PEM key verifies with its PEM public key and says the key id.
    let h = s.path("h-pem.json");
    header(&s, &key, &h);
    let v: serde_json::Value =
        serde_json::from_slice(&verify_with(&s, &h, &["--key", p(&pub_of(&key))], 0).stdout)
            .unwrap();
    assert_eq!(v["key_id"], id);
    assert_eq!(v["trusted_keys"], 1);
    if !openssl() {
        eprintln!("openssl with Ed25519 not found: the interoperability half is skipped");
        return;
    }
    // openssl reads lcm's private key and derives the same public key file.
    let derived = Command::new("openssl")
        .args(["pkey", "-in", p(&key), "-pubout"])
        .output()
        .unwrap();
    assert!(derived.status.success(), "{}", stderr(&derived));
    assert_eq!(String::from_utf8(derived.stdout).unwrap(), public);
    // lcm signs with openssl's key, and verifies with openssl's public key.
    let theirs = s.path("openssl.pem");
    let theirs_pub = s.path("openssl.pub");
    for args in [
        vec!["genpkey", "-algorithm", "ed25519", "-out", p(&theirs)],
        vec!["pkey", "-in", p(&theirs), "-pubout", "-out", p(&theirs_pub)],
    ] {
        assert!(
            Command::new("openssl")
                .args(args)
                .status()
                .unwrap()
                .success()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let h2 = s.path("h-openssl.json");
    header(&s, &theirs, &h2);
    verify_with(&s, &h2, &["--key", p(&theirs_pub)], 0);
    // ... and not with lcm's own key: a different signer.
    verify_with(&s, &h2, &["--key", p(&pub_of(&key))], 1);
}

#[test]
fn corrupt_key_files_name_the_file_and_the_accepted_forms() {
    let (s, dir) = demo("keys-corrupt");
    let h = s.path("h.json");
    header(&s, &dir.join("signing.key"), &h);
    let bad = s.path("bad.key");
    let pem = s.path("pem.key");
    keygen(&s, &pem, &["--pem"]);
    let good = std::fs::read_to_string(&pem).unwrap();
    // One base64 character of the algorithm identifier changed, a truncated block, and text
    // that is neither form.
    for text in [
        good.replacen("K2Vw", "K2Vx", 1),
        good[..good.len() / 2].to_owned(),
        "not a key\n".to_owned(),
    ] {
        std::fs::write(&bad, &text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let out = run(
            lcm(&s.store()).args(["header", "--key", p(&bad), "--out", p(&h)]),
            2,
        );
        assert_stderr_has(&out, p(&bad));
        assert_stderr_has(&out, "PKCS#8 PEM PRIVATE KEY");
        assert_stderr_has(&out, "64 hex characters");
        // Given as a public key: a (broken) PEM private key is named as such, anything
        // else with the public forms.
        let out = verify_with(&s, &h, &["--key", p(&bad)], 2);
        if text.contains("PRIVATE KEY") {
            assert_stderr_has(&out, "is a private key, not a public key");
        } else {
            assert_stderr_has(&out, "SPKI PEM PUBLIC KEY");
        }
    }
    // A PEM private key given to a verifier is named as such, never used.
    let out = verify_with(&s, &h, &["--key", p(&pem)], 2);
    assert_stderr_has(&out, "is a private key, not a public key");
}

fn pub_of(key: &Path) -> PathBuf {
    let mut s = key.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

#[test]
fn a_trusted_key_set_accepts_any_of_its_keys_and_names_an_outsider() {
    let (s, dir) = demo("keys-trusted");
    let demo_key = dir.join("signing.key");
    let (a, b, outsider) = (s.path("a.key"), s.path("b.key"), s.path("c.key"));
    let id_a = keygen(&s, &a, &["--pem"]);
    let id_b = keygen(&s, &b, &["--name", "lcm.local/b"]);
    let id_c = keygen(&s, &outsider, &[]);
    let (ha, hb, hc) = (s.path("ha.json"), s.path("hb.json"), s.path("hc.json"));
    header(&s, &a, &ha);
    header(&s, &b, &hb);
    header(&s, &outsider, &hc);
    // --key repeated: each header verifies, reporting the key id that verified it.
    // Each of `ha` and `hb` verifies under `args`, reporting its key id and the set's size.
    let both_verify = |args: &[&str], size: u64| {
        for (h, id) in [(&ha, &id_a), (&hb, &id_b)] {
            let v: serde_json::Value =
                serde_json::from_slice(&verify_with(&s, h, args, 0).stdout).unwrap();
            assert_eq!(v["key_id"], id.as_str());
            assert_eq!(v["trusted_keys"], size);
        }
    };
    let (pub_a, pub_b) = (pub_of(&a), pub_of(&b));
    let keys = ["--key", p(&pub_a), "--key", p(&pub_b)];
    both_verify(&keys, 2);
    let out = verify_with(&s, &hc, &keys, 1);
    assert_stderr_has(
        &out,
        &format!("signed by key id {id_c}, which is not one of the 2"),
    );
    // A trusted-key file: a comment, a hex key, a PEM block and a C2SP verifier key.
    let list = s.path("trusted");
    let text = format!(
        "# the demo's key, a (PEM) and b (its verifier key)\n{}\n{}{}",
        std::fs::read_to_string(pub_of(&demo_key)).unwrap(),
        std::fs::read_to_string(pub_of(&a)).unwrap(),
        std::fs::read_to_string(s.path("b.key.vkey")).unwrap(),
    );
    std::fs::write(&list, text).unwrap();
    let trusted = ["--trusted-keys", p(&list)];
    both_verify(&trusted, 3);
    let out = verify_with(&s, &hc, &trusted, 1);
    assert_stderr_has(&out, &format!("signed by key id {id_c}"));
    // With --key too, the outsider is trusted.
    let pub_outsider = pub_of(&outsider);
    let both = ["--trusted-keys", p(&list), "--key", p(&pub_outsider)];
    verify_with(&s, &hc, &both, 0);
    // A tampered header is not rescued by the set: its own key's check fails.
    let tampered = s.path("tampered.json");
    let renamed = std::fs::read_to_string(&ha)
        .unwrap()
        .replacen("deploy_001", "deploy_0", 1);
    std::fs::write(&tampered, renamed).unwrap();
    verify_with(&s, &tampered, &trusted, 1);
    // A bad line names the file and line; a private key in the list is refused; an empty
    // list has no key.
    for (text, needle) in [
        ("# ok\nzz\n".to_owned(), "line 2"),
        (std::fs::read_to_string(&a).unwrap(), "a private key"),
        ("# nothing\n\n".to_owned(), "no key"),
    ] {
        std::fs::write(&list, text).unwrap();
        let out = verify_with(&s, &ha, &trusted, 2);
        assert_stderr_has(&out, p(&list));
        assert_stderr_has(&out, needle);
    }
}

/// `lcm --json key ARGS...` on `store`, expecting `code`: its JSON output on success.
fn key_cmd(store: &Path, args: &[&str], code: i32) -> (Output, serde_json::Value) {
    let out = run(lcm(store).args(["--json", "key"]).args(args), code);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, v)
}

/// A copy of the demo's store (the file is whole: each `lcm` run checkpoints on exit).
fn copy_store(s: &Scratch, name: &str) -> PathBuf {
    let copy = s.path(name);
    std::fs::copy(s.store(), &copy).expect("copy the store");
    copy
}

#[test]
fn a_rotated_store_verifies_old_headers_with_the_old_key_and_refuses_the_rest() {
    let (s, dir) = demo("keys-rotate");
    let (old, old_header) = (dir.join("signing.key"), dir.join("header.json"));
    let new = s.path("new.key");
    let new_id = keygen(&s, &new, &[]);
    // The same lifecycle, kept unrotated, to sign with keys the rotated store refuses.
    let unrotated = copy_store(&s, "unrotated.db");
    let (_, rotated) = key_cmd(
        &s.store(),
        &["rotate", "--key", p(&old), "--new-key", p(&new)],
        0,
    );
    assert_eq!(rotated["new_key_id"], new_id);
    assert_eq!(rotated["sequence"], 0);
    let old_id = rotated["old_key_id"].as_str().unwrap().to_owned();
    // The list: both keys in order, the new one current; its JSON is a trusted-key set.
    let (out, list) = key_cmd(&s.store(), &["list"], 0);
    assert_eq!(list["current"], new_id);
    assert_eq!(list["keys"][0]["key_id"], old_id);
    assert_eq!(list["keys"][0]["retired_by"], new_id);
    assert_eq!(list["keys"][1]["current"], true);
    let keys_json = s.path("keys.json");
    std::fs::write(&keys_json, &out.stdout).unwrap();
    let text = stdout(&run(lcm(&s.store()).args(["key", "list"]), 0));
    assert!(text.lines().nth(1).unwrap().ends_with("current"), "{text}");
    assert_stdout_has(&run(lcm(&s.store()).arg("check"), 0), "1 key rotation");

    // The old header (made before the rotation) verifies with the store's keys or the list.
    for trust in [
        vec!["--store", p(&s.store())],
        vec!["--trusted-keys", p(&keys_json)],
    ] {
        let v: serde_json::Value =
            serde_json::from_slice(&verify_with(&s, &old_header, &trust, 0).stdout).unwrap();
        assert_eq!(v["key_id"], old_id);
    }
    // The retired key no longer signs the store's headers; the new one does, and verifies.
    let out = run(
        lcm(&s.store()).args(["header", "--key", p(&old), "--out", p(&s.path("x.json"))]),
        2,
    );
    assert_stderr_has(&out, "was retired at");
    let new_header = s.path("new-header.json");
    header(&s, &new, &new_header);
    let v: serde_json::Value = serde_json::from_slice(
        &verify_with(&s, &new_header, &["--trusted-keys", p(&keys_json)], 0).stdout,
    )
    .unwrap();
    assert_eq!(v["key_id"], new_id);
    // The old key signing after its retirement (through the unrotated copy): refused, exit 1.
    let late = s.path("late.json");
    signed(&unrotated, "header", &old, &late);
    for trust in [
        vec!["--store", p(&s.store())],
        vec!["--trusted-keys", p(&keys_json)],
    ] {
        let out = verify_with(&s, &late, &trust, 1);
        assert_stderr_has(&out, &format!("signed by key id {old_id}"));
        assert_stderr_has(&out, "after that key was retired");
    }
    // A key outside the chain: exit 1 naming its id.
    let stranger = s.path("stranger.key");
    let stranger_id = keygen(&s, &stranger, &[]);
    let foreign = s.path("foreign.json");
    signed(&unrotated, "header", &stranger, &foreign);
    let out = verify_with(&s, &foreign, &["--store", p(&s.store())], 1);
    assert_stderr_has(
        &out,
        &format!("signed by key id {stranger_id}, which is not one of the 2 trusted keys"),
    );
    // Rotating again from the retired key, or back to it: refused (exit 2).
    let out = key_cmd(
        &s.store(),
        &["rotate", "--key", p(&old), "--new-key", p(&stranger)],
        2,
    )
    .0;
    assert_stderr_has(&out, "not the store's current key");
    let out = key_cmd(
        &s.store(),
        &["rotate", "--key", p(&new), "--new-key", p(&old)],
        2,
    )
    .0;
    assert_stderr_has(&out, "a key of the store already");
    // A store without rotations lists none and gives no key to verify with.
    let (_, none) = key_cmd(&unrotated, &["list"], 0);
    assert_eq!(none["keys"], serde_json::json!([]));
    let out = run(
        lcm(&unrotated)
            .args(["verify", p(&old_header), "--store", p(&unrotated)])
            .env_remove("LCM_PUBLIC_KEY"),
        2,
    );
    assert_stderr_has(&out, "no key rotation");
}

#[test]
fn a_tampered_key_rotation_fails_the_check() {
    let (s, dir) = demo("keys-rotate-tamper");
    let new = s.path("new.key");
    keygen(&s, &new, &[]);
    let old = dir.join("signing.key");
    key_cmd(
        &s.store(),
        &["rotate", "--key", p(&old), "--new-key", p(&new)],
        0,
    );
    let json: String = rusqlite::Connection::open(s.store())
        .unwrap()
        .query_row("SELECT json FROM key_rotations", [], |r| r.get(0))
        .unwrap();
    let stored: lcm_store::keys::KeyRotation = serde_json::from_str(&json).unwrap();
    let (sig, key) = (
        stored.new_key_signature.to_hex(),
        stored.statement.new_public_key.to_hex(),
    );
    // One byte of the countersignature; the new key swapped for another key.
    let mut bytes = *stored.new_key_signature.as_bytes();
    bytes[5] ^= 0x10;
    let flipped = lcm_crypto::Signature::from_bytes(bytes).to_hex();
    let other = s.path("other.key");
    keygen(&s, &other, &[]);
    let other = std::fs::read_to_string(pub_of(&other)).unwrap();
    for (field, from, to) in [
        ("new_key_signature", sig, flipped),
        ("new_key_id", key, other.trim().to_owned()),
    ] {
        let copy = copy_store(&s, "tampered.db");
        tamper(
            &copy,
            "key_rotations_no_update",
            "UPDATE key_rotations SET json = replace(json, ?1, ?2)",
            [&from, &to],
        );
        let out = run(lcm(&copy).arg("check"), 1);
        assert_stderr_has(&out, "stage keys: key rotation 0");
        assert_stderr_has(&out, &format!("field {field}"));
        std::fs::remove_file(&copy).unwrap();
    }
    // Deleting the statement (the trigger dropped): the check names the dropped trigger.
    tamper(
        &s.store(),
        "key_rotations_no_delete",
        "DELETE FROM key_rotations",
        [],
    );
    check_fails(&s.store(), &["key_rotations_no_delete"]);
}
