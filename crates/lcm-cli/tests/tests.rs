//! Integration tests that run the real `lcm` binary.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

/// A scratch directory removed at the end of the test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lcm-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Self(dir)
    }

    fn path(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    fn store(&self) -> PathBuf {
        self.path("lcm.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lcm(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lcm"));
    c.env("LCM_STORE", store).env_remove("RUST_BACKTRACE");
    c
}

#[track_caller]
fn run(cmd: &mut Command, expected_code: i32) -> Output {
    let out = cmd.output().expect("run lcm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(expected_code),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Errors are one line, never a panic or a backtrace.
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    if expected_code != 0 {
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

/// Standard error of `out`, as text.
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that `out`'s standard output holds `needle`, and shows all of it when not.
#[track_caller]
fn assert_stdout_has(out: &Output, needle: &str) {
    let text = stdout(out);
    assert!(text.contains(needle), "{needle:?} not in: {text}");
}

/// Asserts that `out`'s standard error holds `needle`, and shows all of it when not.
#[track_caller]
fn assert_stderr_has(out: &Output, needle: &str) {
    let text = stderr(out);
    assert!(text.contains(needle), "{needle:?} not in: {text}");
}

#[test]
fn init_is_idempotent_and_open_needs_init() {
    let s = Scratch::new("init");
    run(lcm(&s.store()).arg("check"), 2);
    let first = run(lcm(&s.store()).args(["init", "--json"]), 0);
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(v["created"], true);
    let second = run(lcm(&s.store()).args(["init", "--json"]), 0);
    let w: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(w["created"], false);
    assert_eq!(v["policy_digest"], w["policy_digest"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.store()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = run(lcm(&s.store()).args(["check", "--json"]), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["receipts"], 0);
    // A malformed policy file is an input error.
    let bad = s.path("policy.json");
    std::fs::write(&bad, "{not json").unwrap();
    let other = s.path("other.db");
    run(
        lcm(&other).args(["init", "--policy", bad.to_str().unwrap()]),
        2,
    );
    run(
        lcm(&other).args(["init", "--policy", "/nonexistent/policy.json"]),
        2,
    );
}

#[test]
fn keygen_writes_keys_and_refuses_to_overwrite() {
    let s = Scratch::new("keygen");
    let key = s.path("signing.key");
    let out = run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().unwrap(), "--json"]),
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let private = std::fs::read_to_string(&key).unwrap();
    let public = std::fs::read_to_string(s.path("signing.key.pub")).unwrap();
    for text in [&private, &public] {
        let hex = text.strip_suffix('\n').unwrap();
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    assert_eq!(v["key_id"].as_str().unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().unwrap()]),
        2,
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), private);
    run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().unwrap(), "--force"]),
        0,
    );
    assert_ne!(std::fs::read_to_string(&key).unwrap(), private);
}

#[test]
fn usage_errors_exit_2() {
    let s = Scratch::new("usage");
    run(lcm(&s.store()).arg("no-such-command"), 2);
    run(lcm(&s.store()).args(["fingerprint"]), 2);
    run(
        lcm(&s.store()).args(["fingerprint", "/nonexistent/file"]),
        2,
    );
    run(
        lcm(&s.store()).args(["fingerprint", "--algorithm", "md5", "x"]),
        2,
    );
    let out = run(lcm(&s.store()).arg("--help"), 0);
    assert!(stdout(&out).contains("fingerprint"));
}

#[test]
fn fingerprint_files_directories_and_safetensors() {
    let s = Scratch::new("fingerprint");
    let dir = s.path("model");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.bin"), b"abc").unwrap();
    std::fs::write(dir.join("sub/b.bin"), b"").unwrap();
    let a = dir.join("a.bin");
    let out = run(lcm(&s.store()).args(["fingerprint", p(&a)]), 0);
    // The plain SHA-256 of "abc".
    assert!(
        stdout(&out)
            .starts_with("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ")
    );
    let blake3 = ["fingerprint", "--algorithm", "blake3", "--json", p(&a)];
    let out = run(lcm(&s.store()).args(blake3), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["digest"],
        "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    );
    // A directory digest changes with a file's content and with a file's name.
    let tree = |dir: &Path| -> String {
        let out = run(
            lcm(&s.store()).args(["fingerprint", "--json", dir.to_str().unwrap()]),
            0,
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["files"], 2);
        v["digest"].as_str().unwrap().to_owned()
    };
    let before = tree(&dir);
    assert_eq!(before, tree(&dir));
    std::fs::write(dir.join("sub/b.bin"), b"x").unwrap();
    let edited = tree(&dir);
    assert_ne!(before, edited);
    std::fs::rename(dir.join("sub/b.bin"), dir.join("sub/c.bin")).unwrap();
    assert_ne!(edited, tree(&dir));

    // safetensors: a valid file gets a parameter fingerprint; a truncated one is an error.
    let header = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0, 0, 128, 63, 0, 0, 0, 64]);
    let st = s.path("m.safetensors");
    std::fs::write(&st, &bytes).unwrap();
    let out = run(
        lcm(&s.store()).args(["fingerprint", "--json", st.to_str().unwrap()]),
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["parameters"]["tensors"], 1);
    assert_eq!(v["parameters"]["elements"], 2);
    std::fs::write(&st, &bytes[..bytes.len() - 1]).unwrap();
    let out = run(
        lcm(&s.store()).args(["fingerprint", st.to_str().unwrap()]),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed safetensors"));
}

const LIFECYCLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/cli/lifecycle.json"
);

/// A store with the example lifecycle recorded and `n` receipts (tagged `a`) appended.
fn with_receipts(name: &str, n: usize) -> Scratch {
    let s = recorded(name);
    infer(&s.store(), &lines(n, "a"), 0);
    s
}

/// The URL of the PostgreSQL server the tests may use, when `LCM_TEST_POSTGRES_URL` names one.
fn postgres_url() -> Option<String> {
    std::env::var("LCM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A store with the example lifecycle recorded.
fn recorded(name: &str) -> Scratch {
    let s = Scratch::new(name);
    run(lcm(&s.store()).arg("init"), 0);
    record(&s.store(), "lifecycle", LIFECYCLE, 0);
    s
}

fn infer_cmd(store: &Path) -> Command {
    let mut c = lcm(store);
    c.args([
        "infer",
        "--model",
        "pneumonia_model@v1.0",
        "--deployment",
        "deploy_001",
    ]);
    c
}

/// Runs `lcm infer` with `input` on standard input.
fn infer(store: &Path, input: &str, expected_code: i32) -> Output {
    infer_with(store, &[], input, expected_code)
}

/// Runs `lcm infer` with extra arguments and `input` on standard input.
fn infer_with(store: &Path, args: &[&str], input: &str, expected_code: i32) -> Output {
    infer_on(infer_cmd(store).args(args), input, expected_code)
}

/// Starts `cmd` with its standard input and output piped and its standard error to `stderr`;
/// returns the child and its standard input.
fn spawn_fed(cmd: &mut Command, stderr: Stdio) -> (Child, ChildStdin) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn lcm");
    let stdin = child.stdin.take().expect("piped stdin");
    (child, stdin)
}

/// Runs `lcm infer --deployment DEPLOYMENT ARGS…` with `input` on standard input.
fn infer_at(store: &Path, deployment: &str, args: &[&str], input: &str, code: i32) -> Output {
    let mut cmd = lcm(store);
    cmd.args(["infer", "--deployment", deployment]).args(args);
    infer_on(&mut cmd, input, code)
}

/// Runs an `lcm infer` command with `input` on standard input.
fn infer_on(cmd: &mut Command, input: &str, expected_code: i32) -> Output {
    use std::io::Write as _;
    let (child, mut stdin) = spawn_fed(cmd, Stdio::piped());
    let text = input.to_owned();
    let feeder = std::thread::spawn(move || {
        // The child may stop reading early on an error.
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(expected_code), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn lines(n: usize, tag: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"request_id\":\"req_{tag}_{i}\",\"receipt_id\":\"{tag}_{i}\",\"query\":\"q {i}\",\"output\":\"o {i}\"}}\n"
            )
        })
        .collect()
}

/// The stored receipts as (sequence, receipt id, digest) lines.
fn stored_receipts(store: &Path) -> Vec<String> {
    let out = run(lcm(store).args(["list", "receipts"]), 0);
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn record_infer_batch_and_check() {
    let s = recorded("lifecycle");
    // The same lifecycle again is refused (its ids are taken), and nothing of it is stored.
    let out = run(
        lcm(&s.store())
            .args(["record", "lifecycle", LIFECYCLE])
            .env("LCM_DATASET_PASSWORD", "a")
            .env("LCM_MODEL_PASSWORD", "b"),
        2,
    );
    assert_stderr_has(&out, "already stored");
    let out = infer(&s.store(), &lines(25, "a"), 0);
    let acks: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(acks.len(), 25);
    assert!(acks[0].starts_with("0\ta_0\t"));
    assert_eq!(stored_receipts(&s.store()), acks);
    let out = run(lcm(&s.store()).args(["batch", "close", "--json"]), 0);
    let batch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(batch["count"], 25);
    assert_eq!(batch["window_id"], "batch_0_24");
    // Nothing left to batch.
    let out = run(lcm(&s.store()).args(["batch", "close", "--json"]), 0);
    assert_eq!(stdout(&out).trim(), r#"{"batch":null}"#);
    infer(&s.store(), &lines(5, "b"), 0);
    run(
        lcm(&s.store()).args(["batch", "close", "--window", "w2"]),
        0,
    );
    let out = run(lcm(&s.store()).args(["check", "--json"]), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["receipts"], 30);
    assert_eq!(report["batches"], 2);
    // 14 lifecycle records and 2 batch roots.
    assert_eq!(report["records"], 16);
    let out = run(
        lcm(&s.store()).args(["show", "inference-receipt", "a_3", "--json"]),
        0,
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["record"]["sequence"], 3);
    assert_eq!(
        shown["record"]["prev_receipt"],
        acks[2].split('\t').nth(2).unwrap()
    );
}

#[test]
fn infer_input_errors() {
    let s = recorded("infer-errors");
    // A malformed line: the lines before it are appended and acknowledged, then exit 2.
    let input = format!("{}not json\n{}", lines(3, "a"), lines(2, "z"));
    let out = infer(&s.store(), &input, 2);
    assert_eq!(stdout(&out).lines().count(), 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 4"), "{stderr}");
    assert_eq!(stored_receipts(&s.store()).len(), 3);
    // An unknown field, a missing field.
    infer(
        &s.store(),
        "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"x\":1}\n",
        2,
    );
    infer(&s.store(), "{\"request_id\":\"r\",\"query\":\"q\"}\n", 2);
    // A duplicate receipt id appends nothing of its batch.
    infer(&s.store(), &lines(1, "a"), 2);
    assert_eq!(stored_receipts(&s.store()).len(), 3);
    // Unknown model or deployment.
    run(
        lcm(&s.store()).args(["infer", "--model", "nope@v1", "--deployment", "deploy_001"]),
        2,
    );
    run(
        lcm(&s.store()).args([
            "infer",
            "--model",
            "pneumonia_model@v1.0",
            "--deployment",
            "nope",
        ]),
        2,
    );
    run(lcm(&s.store()).args(["check"]), 0);
}

#[test]
fn record_lifecycle_input_errors() {
    let s = Scratch::new("record-errors");
    run(lcm(&s.store()).arg("init"), 0);
    let with_passwords = |c: &mut Command| {
        c.env("LCM_DATASET_PASSWORD", "a")
            .env("LCM_MODEL_PASSWORD", "b");
    };
    let bad = s.path("bad.json");
    std::fs::write(&bad, "{\"dataset\": 1").unwrap();
    for args in [
        vec!["record", "lifecycle", "/nonexistent.json"],
        vec!["record", "lifecycle", bad.to_str().unwrap()],
    ] {
        let mut c = lcm(&s.store());
        c.args(&args);
        with_passwords(&mut c);
        run(&mut c, 2);
    }
    // Missing password.
    run(
        lcm(&s.store())
            .args(["record", "lifecycle", LIFECYCLE])
            .env_remove("LCM_DATASET_PASSWORD")
            .env("LCM_MODEL_PASSWORD", "b"),
        2,
    );
    // A split leak (a record in two splits) is refused by the dataset manager.
    let leaky = std::fs::read_to_string(LIFECYCLE).unwrap().replace(
        "\"xray_0009\", \"xray_0010\"",
        "\"xray_0009\", \"xray_0001\"",
    );
    let leaky_path = s.path("leaky.json");
    std::fs::write(&leaky_path, leaky).unwrap();
    let mut c = lcm(&s.store());
    c.args(["record", "lifecycle", leaky_path.to_str().unwrap()]);
    with_passwords(&mut c);
    run(&mut c, 2);
    // Nothing was stored by the failed attempts.
    let out = run(lcm(&s.store()).args(["list"]), 0);
    assert_eq!(stdout(&out), "");
}

#[test]
fn receipts_are_append_only_and_tampering_is_found() {
    let s = with_receipts("tamper", 10);
    run(lcm(&s.store()).args(["batch", "close"]), 0);
    let conn = rusqlite::Connection::open(s.store()).unwrap();
    for sql in [
        "UPDATE receipts SET receipt_id = 'x' WHERE key % 1099511627776 = 1",
        "DELETE FROM receipts WHERE key % 1099511627776 = 9",
        "UPDATE records SET json = json WHERE kind = 'model-anchor'",
        "DELETE FROM batches",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // Someone with write access drops the triggers and edits a receipt: check finds it.
    conn.execute_batch(
        "DROP TRIGGER receipts_no_update; \
         UPDATE receipts SET request_id = 'req_a_X' WHERE key % 1099511627776 = 4;",
    )
    .unwrap();
    drop(conn);
    let out = run(lcm(&s.store()).arg("check"), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stage receipts"), "{stderr}");
    assert!(
        stderr.contains("a_4") || stderr.contains("sequence 4"),
        "{stderr}"
    );
}

/// A receipt moved to a chain that is not its deployment's, or naming a model its deployment
/// does not release, is found even before its digest is recomputed.
#[test]
fn a_receipt_of_another_release_is_found() {
    let s = with_receipts("tamper-release", 3);
    let model = stdout(&run(lcm(&s.store()).args(["list", "model-anchor"]), 0))
        .split('\t')
        .nth(2)
        .unwrap()
        .trim()
        .to_owned();
    let conn = rusqlite::Connection::open(s.store()).unwrap();
    let stored: Vec<u8> = conn
        .query_row(
            "SELECT model_anchor FROM receipts WHERE key % 1099511627776 = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        lcm_crypto::Digest::from_hex(&model).unwrap().as_bytes(),
        &stored[..]
    );
    drop(conn);
    tamper(
        &s.store(),
        "receipts_no_update",
        "UPDATE receipts SET model_anchor = ?1 WHERE key % 1099511627776 = 1",
        rusqlite::params![&[0xabu8; 32][..]],
    );
    check_fails(&s.store(), &["stage receipts", "field model_anchor"]);
}

/// A release root resealed over another training session root (its own root recomputed, so
/// the record is self-consistent) is found: the leaf must be the root of the session its
/// pre-deployment was built from.
#[test]
fn a_release_of_another_session_root_is_found() {
    use lcm_model::records::{DeploymentAnchor, PreDeploymentAnchor, TestEvaluationAnchor};
    use lcm_model::{Claimed, Record as _};
    let s = recorded("tamper-session-root");
    let conn = rusqlite::Connection::open(s.store()).unwrap();
    fn sealed<T: lcm_model::Record + serde::de::DeserializeOwned>(
        conn: &rusqlite::Connection,
        id: &str,
    ) -> Claimed<T> {
        let (json, digest): (String, Vec<u8>) = conn
            .query_row(
                "SELECT json, digest FROM records WHERE kind = ?1 AND id = ?2",
                rusqlite::params![T::KIND, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        Claimed {
            record: serde_json::from_str(&json).unwrap(),
            digest: lcm_crypto::Digest::try_from_slice(&digest).unwrap(),
        }
    }
    let policy = lcm_model::Policy::default();
    let pre: Claimed<PreDeploymentAnchor> = sealed(&conn, "predeploy_001");
    let dep: Claimed<DeploymentAnchor> = sealed(&conn, "deploy_001");
    let test: Claimed<TestEvaluationAnchor> = sealed(&conn, "test_001");
    let forged = lcm_model::verify::compute_release_root(
        &policy,
        &lcm_crypto::Digest::from_bytes([0x42; 32]),
        &pre,
        &dep,
        &test,
    )
    .unwrap();
    let digest = forged.digest(&policy).unwrap();
    drop(conn);
    tamper(
        &s.store(),
        "records_no_update",
        "UPDATE records SET json = ?1, digest = ?2 WHERE kind = 'release-root'",
        rusqlite::params![
            lcm_model::canonical::to_string(&forged).unwrap(),
            &digest.as_bytes()[..]
        ],
    );
    check_fails(&s.store(), &["stage lifecycle", "training_session_root"]);
}

#[test]
fn tampered_record_is_found() {
    let s = recorded("tamper-record");
    tamper(
        &s.store(),
        "records_no_update",
        "UPDATE records SET json = replace(json, 'TICKET-12345', 'TICKET-99999') \
         WHERE kind = 'predeployment-anchor'",
        [],
    );
    check_fails(
        &s.store(),
        &[
            "stage records: predeployment-anchor predeploy_001",
            "field digest",
        ],
    );
}

/// Records that each hash right but no longer fit together: a checkpoint removed from the
/// middle of the session's chain.
#[test]
fn a_removed_checkpoint_is_found() {
    let s = recorded("tamper-chain");
    run(lcm(&s.store()).arg("check"), 0);
    tamper(
        &s.store(),
        "records_no_delete",
        "DELETE FROM records WHERE kind = 'training-checkpoint' AND id = 'train_001/ckpt_epoch_10'",
        [],
    );
    check_fails(&s.store(), &["stage lifecycle", "train_001"]);
    // A stage recorded on this store refuses to build on it.
    let out = record_status(&s.store(), "deploy_001", "failed", "x", 2);
    assert_stderr_has(&out, "train_001");
}

/// A record whose seal is right but that names a record the store does not hold.
#[test]
fn a_dangling_reference_is_found() {
    for (kind, id, field) in [
        ("model-anchor", "pneumonia_model@v1.0", "model_anchor"),
        ("dataset-split-anchor", "med_v1/test", "data_splits"),
    ] {
        let s = recorded(&format!("dangling-{field}"));
        let store = s.store();
        let delete = "DELETE FROM records WHERE kind = ?1 AND id = ?2";
        tamper(
            &store,
            "records_no_delete",
            delete,
            rusqlite::params![kind, id],
        );
        // A split's evidence goes with it, or the evidence stage would speak first.
        let delete = "DELETE FROM evidence WHERE id = ?1";
        tamper(&store, "evidence_no_delete", delete, rusqlite::params![id]);
        check_fails(&store, &["stage lifecycle", field]);
    }
}

/// Runs `lcm infer --batch-size BATCH` on `store` with lines fed until it dies, kills it
/// (SIGKILL on Unix) once it acknowledged `n` receipts, and returns every acknowledgment
/// line it wrote (complete lines only, those written before the kill included).
fn kill_infer_after(store: &Path, batch: &str, n: usize) -> Vec<String> {
    use std::io::{BufRead as _, Write as _};
    let (mut child, mut stdin) = spawn_fed(
        infer_cmd(store).args(["--batch-size", batch]),
        Stdio::null(),
    );
    // Feed lines forever (until the child dies).
    let feeder = std::thread::spawn(move || {
        for i in 0.. {
            let line = format!(
                "{{\"request_id\":\"r{i}\",\"receipt_id\":\"k_{i}\",\"query\":\"q\",\"output\":\"o\"}}\n"
            );
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut acked = Vec::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    while acked.len() < n {
        line.clear();
        assert!(reader.read_line(&mut line).expect("read an acknowledgment") > 0);
        acked.push(line.trim_end().to_owned());
    }
    child.kill().expect("kill lcm infer"); // SIGKILL on Unix
    child.wait().expect("wait for lcm infer");
    // Acknowledgments already written before the kill count too (complete lines only).
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
    acked.extend(
        rest.split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .map(|l| l.trim_end().to_owned()),
    );
    feeder.join().expect("the feeder thread");
    acked
}

#[test]
fn kill_9_during_infer_loses_no_acknowledged_receipt() {
    let s = recorded("kill9");
    let acked = kill_infer_after(&s.store(), "64", 500);
    run(lcm(&s.store()).arg("check"), 0);
    let stored = stored_receipts(&s.store());
    assert!(stored.len() >= acked.len());
    // Every acknowledged receipt is stored with the same sequence and digest.
    assert_eq!(&stored[..acked.len()], &acked[..]);
    // And the store still takes appends after the crash.
    infer(&s.store(), &lines(3, "after"), 0);
    run(lcm(&s.store()).arg("check"), 0);
}

/// Runs one `lcm infer --batch-size 8` process for each tag at once on `store`, each fed `n`
/// lines; returns each one's acknowledgment lines. The batches are small, so that the
/// processes' transactions interleave.
fn infer_at_once(store: &Path, tags: &[&str], n: usize) -> Vec<Vec<String>> {
    let writers: Vec<_> = tags
        .iter()
        .map(|tag| {
            let (store, input) = (store.to_path_buf(), lines(n, tag));
            std::thread::spawn(move || {
                let out = infer_with(&store, &["--batch-size", "8"], &input, 0);
                stdout(&out).lines().map(str::to_owned).collect::<Vec<_>>()
            })
        })
        .collect();
    writers
        .into_iter()
        .map(|w| w.join().expect("a writer thread"))
        .collect()
}

#[test]
fn concurrent_appenders_lose_nothing() {
    let s = recorded("concurrent");
    let mut acked: Vec<String> = infer_at_once(&s.store(), &["p", "q", "r"], 300)
        .into_iter()
        .flatten()
        .collect();
    run(lcm(&s.store()).arg("check"), 0);
    let mut stored = stored_receipts(&s.store());
    assert_eq!(stored.len(), 900);
    acked.sort();
    stored.sort();
    assert_eq!(acked, stored);
}

#[test]
fn tampered_evidence_is_found() {
    let s = recorded("tamper-evidence");
    let out = run(lcm(&s.store()).args(["check", "--json"]), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Three split record lists, the training metrics and the SBOM.
    assert_eq!(report["evidence"], 5);
    tamper(
        &s.store(),
        "evidence_no_update",
        "UPDATE evidence SET json = replace(json, 'xray_0009', 'xray_0099') \
         WHERE kind = 'split-records'",
        [],
    );
    check_fails(&s.store(), &["stage evidence: split-records med_v1/test"]);
}

/// Runs `lcm demo` with a few receipts into a scratch store; returns the scratch and the
/// output directory.
fn demo(name: &str) -> (Scratch, PathBuf) {
    let s = Scratch::new(name);
    let dir = s.path("out");
    let out = run(
        lcm(&s.store()).args(["demo", "--receipts", "20", "--out", p(&dir)]),
        0,
    );
    let text = stdout(&out);
    assert!(text.contains("20 receipts in 4 batches"), "{text}");
    assert!(text.contains("lcm verify"), "{text}");
    (s, dir)
}

fn verify(s: &Scratch, file: &Path, key: &Path, extra: &[&str], code: i32) -> Output {
    run(
        lcm(&s.store())
            .args(["verify", p(file), "--key", p(key)])
            .args(extra),
        code,
    )
}

/// A path as a command-line argument.
fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `lcm COMMAND --key KEY --out OUT` on `store`: its `header` or `export` signed with `key`.
fn signed(store: &Path, command: &str, key: &Path, out: &Path) {
    run(
        lcm(store).args([command, "--key", p(key), "--out", p(out)]),
        0,
    );
}

/// `lcm materialize RECEIPT --header HEADER ARGS…` on `store`, expecting `code`.
fn materialize(store: &Path, receipt: &str, header: &str, args: &[&str], code: i32) -> Output {
    run(
        lcm(store)
            .args(["materialize", receipt, "--header", header])
            .args(args),
        code,
    )
}

#[test]
fn demo_writes_a_bundle_and_header_that_verify() {
    let (s, dir) = demo("demo");
    let public = dir.join("signing.key.pub");
    let out = verify(&s, &dir.join("bundle.json"), &public, &["--json"], 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["kind"], "bundle");
    let out = verify(&s, &dir.join("header.json"), &public, &[], 0);
    assert!(stdout(&out).starts_with("valid header"));
    run(lcm(&s.store()).arg("check"), 0);
    // A second demo into the same store is refused with a hint.
    let out = run(
        lcm(&s.store()).args(["demo", "--out", dir.to_str().unwrap()]),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds"));
    // header and export from the store verify too.
    let key = dir.join("signing.key");
    let header = s.path("h.json");
    let bundle = s.path("b.json");
    signed(&s.store(), "header", &key, &header);
    signed(&s.store(), "export", &key, &bundle);
    verify(&s, &header, &public, &[], 0);
    verify(&s, &bundle, &public, &[], 0);
    let out = run(
        lcm(&s.store()).args(["inspect", bundle.to_str().unwrap()]),
        0,
    );
    assert_stdout_has(&out, "20 receipts");
    // Streamed to standard output: the same records as the demo's bundle (assembled in
    // memory), one final newline, and it verifies.
    let out = run(
        lcm(&s.store()).args(["export", "--key", key.to_str().unwrap()]),
        0,
    );
    assert!(out.stdout.ends_with(b"}\n") && !out.stdout.ends_with(b"\n\n"));
    let streamed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let demo_bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bundle.json")).unwrap()).unwrap();
    assert_eq!(streamed["lifecycle"], demo_bundle["lifecycle"]);
    let piped = s.path("piped.json");
    std::fs::write(&piped, &out.stdout).unwrap();
    verify(&s, &piped, &public, &[], 0);
}

#[test]
fn verify_exit_codes() {
    let (s, dir) = demo("verify-codes");
    let public = dir.join("signing.key.pub");
    let bundle = dir.join("bundle.json");
    let text = std::fs::read_to_string(&bundle).unwrap();

    // Another key: exit 1, the header stage named.
    let other = s.path("other.key");
    run(
        lcm(&s.store()).args(["keygen", "--out", other.to_str().unwrap()]),
        0,
    );
    let out = verify(&s, &bundle, &s.path("other.key.pub"), &[], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("verification failed: [header]"), "{stderr}");

    // One edited value inside a receipt: exit 1, stage G and a field pointer.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let request = v["lifecycle"]["inference"]["batches"][1]["receipts"][0]["record"]["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tampered = s.path("tampered.json");
    std::fs::write(
        &tampered,
        text.replacen(&format!("\"{request}\""), "\"req_forged\"", 1),
    )
    .unwrap();
    let out = verify(&s, &tampered, &public, &["--json"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[G inference]"), "{stderr}");
    assert!(
        stderr.contains("/lifecycle/inference/batches/1"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert!(!report["failures"].as_array().unwrap().is_empty());

    // A tampered header signature.
    let header = dir.join("header.json");
    let htext = std::fs::read_to_string(&header).unwrap();
    let hv: serde_json::Value = serde_json::from_str(&htext).unwrap();
    let release = hv["stage_h_roots"]["release_root"].as_str().unwrap();
    let forged = s.path("forged-header.json");
    std::fs::write(&forged, htext.replace(release, &"0".repeat(64))).unwrap();
    let out = verify(&s, &forged, &public, &[], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature"));

    // Input errors: exit 2.
    verify(&s, &s.path("missing.json"), &public, &[], 2);
    let malformed = s.path("malformed.json");
    std::fs::write(&malformed, &text[..text.len() / 2]).unwrap();
    verify(&s, &malformed, &public, &[], 2);
    let unknown = s.path("unknown.json");
    std::fs::write(&unknown, "{\"hello\": 1}").unwrap();
    verify(&s, &unknown, &public, &[], 2);
    let bad_key = s.path("bad.pub");
    std::fs::write(&bad_key, "not a key\n").unwrap();
    let out = verify(&s, &bundle, &bad_key, &[], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex characters"));
    std::fs::write(&bad_key, format!("{}\n", "ab".repeat(31))).unwrap();
    verify(&s, &bundle, &bad_key, &[], 2);
    run(
        lcm(&s.store())
            .args(["verify", bundle.to_str().unwrap()])
            .env_remove("LCM_PUBLIC_KEY"),
        2,
    );
    // The key from the environment.
    run(
        lcm(&s.store())
            .args(["verify", bundle.to_str().unwrap()])
            .env("LCM_PUBLIC_KEY", &public),
        0,
    );
}

#[test]
fn materialize_a_receipt_capsule_with_disclosure() {
    let (s, dir) = demo("materialize");
    let public = dir.join("signing.key.pub");
    let header = dir.join("header.json");
    let capsule = s.path("capsule.json");
    let h = header.to_str().unwrap();
    let disclosed = [
        "--query",
        "Is there pneumonia in chest X-ray 7?",
        "--output",
        "No pneumonia detected (confidence: 95%)",
        "--out",
        p(&capsule),
    ];
    materialize(&s.store(), "inf_000007", h, &disclosed, 0);
    verify(&s, &capsule, &public, &["--header", h], 0);
    let out = run(
        lcm(&s.store()).args(["inspect", capsule.to_str().unwrap()]),
        0,
    );
    assert!(stdout(&out).contains("disclosed: query true, output true"));
    // A capsule needs its header.
    verify(&s, &capsule, &public, &[], 2);
    // A disclosed query that is not the committed one is refused.
    let other_query = ["--query", "something else"];
    materialize(&s.store(), "inf_000007", h, &other_query, 2);
    materialize(&s.store(), "no_such_receipt", h, &[], 2);
    // An edited disclosure fails verification.
    let text = std::fs::read_to_string(&capsule).unwrap();
    let edited = s.path("edited.json");
    std::fs::write(&edited, text.replace("X-ray 7?", "X-ray 8?")).unwrap();
    verify(&s, &edited, &public, &["--header", h], 1);
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    use std::io::BufRead as _;
    let s = recorded("pipe");
    // More than a pipe buffer of output.
    infer(&s.store(), &lines(3000, "a"), 0);
    let mut child = lcm(&s.store())
        .args(["list", "receipts"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.starts_with("0\ta_0\t"));
    drop(reader);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

// `lcm compat audit` on the Python reference's capsule header.
mod compat;

// The transparency log: checkpoints, consistency, forks, witnesses, proofs, tiles.
mod log;

// The store commands on a PostgreSQL store.
mod postgres;
// `lcm serve`, `lcm token`, `lcm infer --server`, and the service's fault tests.
mod serve;

/// Makes the key `k` in the scratch directory (once), exports the bundle of `deployment` (or
/// of the store's only lifecycle) signed with it, verifies it with the real binary, and
/// returns it parsed.
fn export_verified(s: &Scratch, deployment: Option<&str>) -> serde_json::Value {
    let key = s.path("k");
    if !key.exists() {
        run(
            lcm(&s.store()).args(["keygen", "--out", key.to_str().expect("utf-8 path")]),
            0,
        );
    }
    let bundle = s.path(&format!("bundle-{}.json", deployment.unwrap_or("only")));
    let mut cmd = lcm(&s.store());
    cmd.args([
        "export",
        "--key",
        key.to_str().expect("utf-8 path"),
        "--out",
        bundle.to_str().expect("utf-8 path"),
    ]);
    if let Some(d) = deployment {
        cmd.args(["--deployment", d]);
    }
    run(&mut cmd, 0);
    verify(s, &bundle, &s.path("k.pub"), &[], 0);
    serde_json::from_slice(&std::fs::read(&bundle).expect("bundle written")).expect("bundle json")
}

/// Runs `lcm check`, which must fail (exit 1) with every one of `expected` on standard error.
#[track_caller]
fn check_fails(store: &Path, expected: &[&str]) {
    let out = run(lcm(store).arg("check"), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for e in expected {
        assert!(stderr.contains(e), "{e}: {stderr}");
    }
}

/// Edits the store's SQLite file as someone with write access to it would: drops the
/// append-only `trigger`, then runs `sql` with `params`.
fn tamper(store: &Path, trigger: &str, sql: &str, params: impl rusqlite::Params) {
    let conn = rusqlite::Connection::open(store).expect("open the store's file");
    conn.execute_batch(&format!("DROP TRIGGER {trigger};"))
        .expect("drop the trigger");
    conn.execute(sql, params).expect("the tampering statement");
}

const STAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/cli/stages/");

fn stage_file(name: &str) -> String {
    format!("{STAGES}{name}.json")
}

/// `lcm record KIND FILE` with both passwords set.
fn record(store: &Path, kind: &str, file: &str, code: i32) -> Output {
    run(
        lcm(store)
            .args(["record", kind, file])
            .env("LCM_DATASET_PASSWORD", "family_password")
            .env("LCM_MODEL_PASSWORD", "model_password"),
        code,
    )
}

/// The example's stage files in recording order: the `lcm record` kind and the file's name.
const STAGE_FILES: [(&str, &str); 7] = [
    ("dataset", "dataset"),
    ("model", "model"),
    ("training", "training"),
    ("training", "training-complete"),
    ("predeployment", "predeployment"),
    ("deployment", "deployment"),
    ("test", "test"),
];

/// The example's first `n` stages (of [`STAGE_FILES`]), each in its own process.
fn record_first_stages(store: &Path, n: usize) {
    for &(kind, file) in &STAGE_FILES[..n] {
        record(store, kind, &stage_file(file), 0);
    }
}

/// Every stage of the example, each in its own process, then the release root.
fn record_stages(store: &Path) {
    record_first_stages(store, STAGE_FILES.len());
    record_release(store, "deploy_001", "test_001", 0);
}

/// `lcm record release --deployment DEPLOYMENT --test TEST` on `store`.
fn record_release(store: &Path, deployment: &str, test: &str, code: i32) -> Output {
    let args = [
        "record",
        "release",
        "--deployment",
        deployment,
        "--test",
        test,
    ];
    run(lcm(store).args(args), code)
}

/// `lcm record status --deployment DEPLOYMENT --status STATUS --reason REASON` on `store`.
fn record_status(store: &Path, deployment: &str, status: &str, reason: &str, code: i32) -> Output {
    let args = [
        "--deployment",
        deployment,
        "--status",
        status,
        "--reason",
        reason,
    ];
    run(lcm(store).args(["record", "status"]).args(args), code)
}

/// The (kind, id) of every stored record.
fn record_ids(store: &Path) -> Vec<String> {
    let out = run(lcm(store).arg("list"), 0);
    stdout(&out)
        .lines()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn stages_recorded_one_by_one_make_the_lifecycle_a_file_makes() {
    let s = Scratch::new("stages");
    run(lcm(&s.store()).arg("init"), 0);
    record_stages(&s.store());
    let whole = recorded("stages-whole");
    assert_eq!(record_ids(&s.store()), record_ids(&whole.store()));
    run(lcm(&s.store()).arg("check"), 0);
    infer(&s.store(), &lines(7, "a"), 0);
    let v = export_verified(&s, None);
    assert_eq!(
        v["lifecycle"]["training"]["checkpoints"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn stage_input_errors_store_nothing() {
    let s = Scratch::new("stage-errors");
    run(lcm(&s.store()).arg("init"), 0);
    let write = |name: &str, text: &str| {
        let p = s.path(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    // Before the dataset exists, a model authorized on it is refused.
    let out = record(&s.store(), "model", &stage_file("model"), 2);
    assert_stderr_has(&out, "med_v1");
    record(&s.store(), "dataset", &stage_file("dataset"), 0);
    // The dataset password comes from the environment only.
    let out = run(
        lcm(&s.store())
            .args(["record", "dataset", &stage_file("dataset")])
            .env_remove("LCM_DATASET_PASSWORD"),
        2,
    );
    assert_stderr_has(&out, "LCM_DATASET_PASSWORD");
    // A model file without authorized datasets.
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stage_file("model")).unwrap()).unwrap();
    let mut bare = model.clone();
    bare.as_object_mut().unwrap().remove("authorized_datasets");
    let out = record(&s.store(), "model", &write("m.json", &bare.to_string()), 2);
    assert_stderr_has(&out, "authorized_datasets");
    // An unknown field is refused, not ignored.
    let mut extra = model;
    extra["colour"] = "blue".into();
    let out = record(
        &s.store(),
        "model",
        &write("m2.json", &extra.to_string()),
        2,
    );
    assert_stderr_has(&out, "colour");
    // Malformed JSON.
    record(&s.store(), "model", &write("m3.json", "{"), 2);
    record(&s.store(), "model", &stage_file("model"), 0);
    // Metrics without the completion they belong to.
    let mut early: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stage_file("training")).unwrap()).unwrap();
    early["metrics"] = serde_json::json!({"train_metrics": {}, "val_metrics": {}, "epochs": [1]});
    let out = record(
        &s.store(),
        "training",
        &write("t0.json", &early.to_string()),
        2,
    );
    assert_stderr_has(&out, "need final_model_digest");
    // A session that is started without its model.
    let out = record(&s.store(), "training", &stage_file("training-complete"), 2);
    assert_stderr_has(&out, "field model is required");
    record(&s.store(), "training", &stage_file("training"), 0);
    // Starting it again names a model: refused, the session exists.
    let out = record(&s.store(), "training", &stage_file("training"), 2);
    assert_stderr_has(&out, "already started");
    // A pre-deployment of an open session.
    let out = record(&s.store(), "predeployment", &stage_file("predeployment"), 2);
    assert_stderr_has(&out, "not completed");
    // A deployment of an unknown pre-deployment; a test of an unknown family.
    record(&s.store(), "deployment", &stage_file("deployment"), 2);
    let test = std::fs::read_to_string(stage_file("test"))
        .unwrap()
        .replace("med_v1", "med_v9");
    record(&s.store(), "test", &write("t.json", &test), 2);
    record_release(&s.store(), "nope", "x", 2);
    // Nothing of the failures was stored: the dataset (4), the model and the started session
    // (2) only.
    assert_eq!(record_ids(&s.store()).len(), 7);
    record(&s.store(), "training", &stage_file("training-complete"), 0);
    // A completed session takes no more checkpoints.
    let out = record(&s.store(), "training", &stage_file("training-complete"), 2);
    assert_stderr_has(&out, "completed");
    run(lcm(&s.store()).arg("check"), 0);
}

/// Records a second deployment, `deploy_002`, of the same trained model, released on the
/// same test, into `s`'s store.
fn second_deployment(s: &Scratch) {
    let pre = std::fs::read_to_string(stage_file("predeployment"))
        .expect("the stage file")
        .replace("predeploy_001", "predeploy_002");
    let dep = std::fs::read_to_string(stage_file("deployment"))
        .expect("the stage file")
        .replace("deploy_001", "deploy_002");
    let (pre_path, dep_path) = (s.path("p2.json"), s.path("d2.json"));
    std::fs::write(&pre_path, pre).expect("the stage file");
    std::fs::write(&dep_path, dep).expect("the stage file");
    record(
        &s.store(),
        "predeployment",
        pre_path.to_str().expect("utf-8"),
        0,
    );
    record(
        &s.store(),
        "deployment",
        dep_path.to_str().expect("utf-8"),
        0,
    );
    record_release(&s.store(), "deploy_002", "test_001", 0);
}

/// A store of two lifecycles: `deploy_001` with receipts `one_0` to `one_3`, and a second
/// deployment of the same trained model, released on the same test, `deploy_002`, with
/// receipts `two_0` to `two_5`; and what the second `lcm infer` printed.
fn two_chains(name: &str) -> (Scratch, Output) {
    let s = recorded(name);
    second_deployment(&s);
    infer(&s.store(), &lines(4, "one"), 0);
    let model = ["--model", "pneumonia_model@v1.0"];
    let out = infer_at(&s.store(), "deploy_002", &model, &lines(6, "two"), 0);
    (s, out)
}

#[test]
fn two_lifecycles_in_one_store() {
    let (s, out) = two_chains("two-lifecycles");
    // Each chain counts from 0.
    assert!(stdout(&out).starts_with("0\ttwo_0\t"), "{}", stdout(&out));
    let key = s.path("k");
    run(
        lcm(&s.store()).args(["keygen", "--out", key.to_str().unwrap()]),
        0,
    );
    let key = key.to_str().unwrap();
    // Which lifecycle is meant must be said.
    let out = run(lcm(&s.store()).args(["export", "--key", key]), 2);
    assert_stderr_has(&out, "--deployment");
    run(lcm(&s.store()).args(["list", "receipts"]), 2);
    run(lcm(&s.store()).args(["batch", "close"]), 2);
    for (deployment, receipts) in [("deploy_001", 4), ("deploy_002", 6)] {
        run(
            lcm(&s.store()).args(["batch", "close", "--deployment", deployment]),
            0,
        );
        let out = run(
            lcm(&s.store()).args(["list", "receipts", "--deployment", deployment]),
            0,
        );
        assert_eq!(stdout(&out).lines().count(), receipts);
        let v = export_verified(&s, Some(deployment));
        assert_eq!(
            v["lifecycle"]["deployment"]["anchor"]["record"]["deployment_id"],
            deployment
        );
        let count: usize = v["lifecycle"]["inference"]["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["receipts"].as_array().unwrap().len())
            .sum();
        assert_eq!(count, receipts);
    }
    // A receipt's capsule is found in the chain of its header's deployment.
    let header = s.path("h2.json");
    run(
        lcm(&s.store()).args([
            "header",
            "--key",
            key,
            "--deployment",
            "deploy_002",
            "--out",
            header.to_str().unwrap(),
        ]),
        0,
    );
    let h = header.to_str().unwrap();
    let capsule = s.path("c.json");
    let args = ["--query", "q 3", "--out", p(&capsule)];
    materialize(&s.store(), "two_3", h, &args, 0);
    verify(&s, &capsule, &s.path("k.pub"), &["--header", h], 0);
    // deploy_001's chain has no such receipt, and its name contradicts the header.
    materialize(&s.store(), "two_3", h, &["--deployment", "deploy_001"], 2);
    let out = run(lcm(&s.store()).args(["check", "--json"]), 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["receipts"], 10);
    assert_eq!(report["chains"].as_array().unwrap().len(), 2);
    assert_eq!(report["chains"][1]["deployment"], "deploy_002");
}

#[test]
fn a_rollback_stops_inference_and_is_in_the_bundle() {
    let s = with_receipts("rollback", 3);
    let status = |status: &str, code: i32| {
        record_status(&s.store(), "deploy_001", status, "latency regression", code)
    };
    let out = status("rollback", 0);
    assert!(stdout(&out).starts_with("deployment-status-event\tdeploy_001/1\t"));
    let out = infer(&s.store(), &lines(1, "b"), 2);
    assert_stderr_has(&out, "has status rollback");
    // Rollback is final.
    status("deployed", 2);
    status("nonsense", 2);
    run(lcm(&s.store()).arg("check"), 0);
    let v = export_verified(&s, None);
    let history = v["lifecycle"]["deployment"]["status_history"]
        .as_array()
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["record"]["status"], "rollback");
}

/// Processes adding checkpoints to one open session at once: each stage is read and written
/// in one transaction, so the checkpoint chain never forks.
#[test]
fn concurrent_stage_writers_never_fork_a_chain() {
    let s = Scratch::new("stage-race");
    run(lcm(&s.store()).arg("init"), 0);
    record_first_stages(&s.store(), 3);
    let children: Vec<_> = (0..4)
        .map(|i| {
            let file = s.path(&format!("c{i}.json"));
            let body = serde_json::json!({
                "session_id": "train_001",
                "checkpoints": [{
                    "checkpoint_id": format!("ckpt_{i}"),
                    "epoch": 20 + i,
                    "step": 5000 + i * 100,
                    "model_state_digest": "7".repeat(64),
                    "optimizer_state_digest": "8".repeat(64),
                }],
            });
            std::fs::write(&file, body.to_string()).unwrap();
            lcm(&s.store())
                .args(["record", "training", file.to_str().unwrap()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut stored = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        match out.status.code() {
            Some(0) => stored += 1,
            // A checkpoint whose step is not after the last one stored is refused.
            Some(2) => assert!(stderr.contains("step"), "{stderr}"),
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    assert!(stored >= 1);
    run(lcm(&s.store()).arg("check"), 0);
    let out = run(
        lcm(&s.store()).args(["list", "training-checkpoint", "--json"]),
        0,
    );
    assert_eq!(stdout(&out).lines().count(), 1 + stored);
    // The managers rebuilt from the store accept the chain as it is (indices 0..n, each
    // linked to the one before): completing the session works.
    record(&s.store(), "training", &stage_file("training-complete"), 0);
}

// Issue 11: store integrity and strict input, one test per case.
mod strict;

// Issue 15: listing, machine-readable output and the small frictions of real use.
mod usability;

// Issue 15: fingerprints of real model layouts (links, shards, manifests, diff).
mod fingerprints;

// Issue 15: the input files' notations and errors.
mod inputs;

// Issue 15: PEM key files, key ids and trusted-key sets.
mod keys;

// Issue 15: every command's --json output, as docs/CLI.md documents it.
mod json;

// Issue 15: inference on JSON payloads, the model from the deployment, disclosure from
// files, receipts by request id and by time.
mod receipts;

// Issue 12 item 7: `lcm verify` of a bundle streamed, in memory that does not grow.
mod bundles;

/// `lcm list receipts` writes as it scans, in pieces: a chain whose listing is several pieces
/// long comes out whole and in order, the same lines `lcm infer` acknowledged.
#[test]
fn list_receipts_streams_every_receipt_in_order() {
    let s = recorded("list-stream");
    let acked = stdout(&infer(&s.store(), &lines(2_000, "ls"), 0));
    assert!(acked.len() > 2 * (1 << 16), "{} bytes", acked.len());
    let listed = stdout(&run(lcm(&s.store()).args(["list", "receipts"]), 0));
    assert_eq!(listed, acked);
    let json = stdout(&run(
        lcm(&s.store()).args(["--json", "list", "receipts"]),
        0,
    ));
    assert_eq!(json.lines().count(), 2_000);
    for (i, line) in json.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["sequence"], u64::try_from(i).unwrap(), "{line}");
    }
}
