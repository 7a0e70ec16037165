//! Integration tests that run the real `lcm` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let out = run(
        lcm(&s.store()).args(["fingerprint", dir.join("a.bin").to_str().unwrap()]),
        0,
    );
    // The plain SHA-256 of "abc".
    assert!(
        stdout(&out)
            .starts_with("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ")
    );
    let out = run(
        lcm(&s.store()).args([
            "fingerprint",
            "--algorithm",
            "blake3",
            "--json",
            dir.join("a.bin").to_str().unwrap(),
        ]),
        0,
    );
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
