//! `lcm serve`, `lcm token` and `lcm infer --server` with the real binary: the contracts,
//! and the fault tests (`kill -9` of the server under load, a retry after the kill, two
//! servers on one store).
//!
//! The fault tests take a store location: they run on `SQLite` always, and on PostgreSQL
//! when `LCM_TEST_POSTGRES_URL` is set and this build has that backend (each test then
//! creates its own database with `psql`); otherwise they say that leg is skipped.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use super::{LIFECYCLE, Scratch, infer_on, lcm, lines, recorded, run, stdout, stored_receipts};

/// A running `lcm serve`.
struct Served {
    child: Child,
    url: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Served {
    /// Starts `lcm serve` on `store` listening on `listen`, waits until it listens.
    fn start(store: &Path, listen: &str, extra: &[&str]) -> Self {
        let mut child = lcm(store)
            .args(["serve", "--listen", listen])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lcm serve");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let mut first = String::new();
        reader.read_line(&mut first).expect("first line");
        let addr = first.trim().strip_prefix("lcm: listening on ");
        assert!(addr.is_some(), "lcm serve said {first}");
        let addr = addr.unwrap_or_default().to_owned();
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
            rest
        });
        Self {
            child,
            url: format!("http://{addr}"),
            stderr: Some(stderr),
        }
    }

    /// SIGTERM, then waits: the exit status and what it printed on stderr after starting.
    fn term(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        run(Command::new("kill").args(["-TERM", &pid]), 0);
        let status = self.child.wait().expect("wait lcm serve");
        let text = self
            .stderr
            .take()
            .map(|t| t.join().expect("stderr"))
            .unwrap_or_default();
        (status, text)
    }

    /// SIGKILL, then waits.
    fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(store: &Path, deployment: &str) -> String {
    let out = run(
        lcm(store).args([
            "token",
            "create",
            "--deployment",
            deployment,
            "--name",
            "test",
        ]),
        0,
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    text.trim_end().to_owned()
}

fn remote(store: &Path, url: &str, token: &str) -> Command {
    let mut c = lcm(store);
    c.args(["infer", "--server", url, "--deployment", "deploy_001"])
        .env("LCM_TOKEN", token);
    c
}

#[test]
fn serve_token_and_infer_server_contracts() {
    let s = recorded("serve");
    let store = s.store();
    let tok = token(&store, "deploy_001");
    assert!(
        tok.starts_with("lcm_") && tok.len() == 4 + 16 + 1 + 64,
        "{tok}"
    );
    let id = &tok[4..20];
    let listed = stdout(&run(lcm(&store).args(["token", "list"]), 0));
    assert!(
        listed.starts_with(&format!("{id}\tdeploy_001\ttest\t")),
        "{listed}"
    );
    assert!(!listed.contains(&tok[21..]), "the secret is never listed");
    let served = Served::start(&store, "127.0.0.1:0", &[]);
    // Acknowledgements exactly as `lcm infer` prints them, each the stored receipt.
    let out = infer_on(&mut remote(&store, &served.url, &tok), &lines(5, "a"), 0);
    let acked: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(acked, stored_receipts(&store));
    assert!(acked[0].starts_with("0\ta_0\t"));
    let out = infer_on(
        remote(&store, &served.url, &tok).args(["--json", "--batch-size", "2"]),
        &lines(3, "b"),
        0,
    );
    let json: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json ack"))
        .collect();
    assert_eq!(json.len(), 3);
    assert_eq!(json[2]["sequence"], 7);
    assert_eq!(json[2]["receipt_id"], "b_2");
    assert_eq!(stored_receipts(&store).len(), 8);
    // Refusals: no token, a wrong token, --model with --server, a repeated request id.
    let mut no_token = remote(&store, &served.url, "");
    no_token.env_remove("LCM_TOKEN");
    let out = infer_on(&mut no_token, &lines(1, "c"), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("LCM_TOKEN"));
    let wrong = format!(
        "{}{}",
        &tok[..tok.len() - 1],
        if tok.ends_with('0') { '1' } else { '0' }
    );
    let out = infer_on(&mut remote(&store, &served.url, &wrong), &lines(1, "c"), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    infer_on(
        remote(&store, &served.url, &tok).args(["--model", "pneumonia_model@v1.0"]),
        &lines(1, "c"),
        2,
    );
    let out = infer_on(&mut remote(&store, &served.url, &tok), &lines(1, "a"), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("409"));
    // Revoked: refused.
    run(lcm(&store).args(["token", "revoke", id]), 0);
    run(lcm(&store).args(["token", "revoke", "0000000000000000"]), 2);
    infer_on(&mut remote(&store, &served.url, &tok), &lines(1, "d"), 2);
    // SIGTERM: drains and exits 0.
    let (status, text) = served.term();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("drained"), "{text}");
    assert_eq!(stored_receipts(&store).len(), 8);
    run(lcm(&store).arg("check"), 0);
}

/// The store locations a fault test runs on: a `SQLite` file in `s`, and a fresh
/// PostgreSQL database when `LCM_TEST_POSTGRES_URL` is set and the build has the backend.
#[allow(clippy::print_stderr)] // A skipped leg says so, as the PostgreSQL tests do.
fn stores(s: &Scratch, name: &str) -> Vec<String> {
    let mut out = vec![s.store().to_string_lossy().into_owned()];
    let Ok(url) = std::env::var("LCM_TEST_POSTGRES_URL") else {
        eprintln!("{name}: PostgreSQL leg skipped (LCM_TEST_POSTGRES_URL is not set)");
        return out;
    };
    let probe = lcm(Path::new(&url)).arg("check").output().expect("run lcm");
    if String::from_utf8_lossy(&probe.stderr).contains("no store backend") {
        eprintln!("{name}: PostgreSQL leg skipped (this build has no postgres:// backend)");
        return out;
    }
    let db = format!("lcm_{name}_{}", std::process::id());
    let created = Command::new("psql")
        .args([
            url.as_str(),
            "-qc",
            &format!("DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}"),
        ])
        .output();
    match created {
        Ok(o) if o.status.success() => {
            let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
            out.push(format!("{base}/{db}"));
        }
        _ => eprintln!("{name}: PostgreSQL leg skipped (psql could not create {db})"),
    }
    out
}

/// `store` initialized with the example lifecycle recorded (a location, file or URL).
fn record_at(store: &Path) {
    run(lcm(store).arg("init"), 0);
    run(
        lcm(store)
            .args(["record", "lifecycle", LIFECYCLE])
            .env("LCM_DATASET_PASSWORD", "family_password")
            .env("LCM_MODEL_PASSWORD", "model_password"),
        0,
    );
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An `lcm infer --server` process fed `n` lines tagged `tag`, ten at a time with a pause,
/// so that it sends many small batches over a while.
fn slow_client(
    store: &Path,
    url: &str,
    token: &str,
    tag: &str,
    n: usize,
) -> std::thread::JoinHandle<Output> {
    let mut child = remote(store, url, token)
        .args(["--batch-size", "20"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lcm infer --server");
    let mut stdin = child.stdin.take().expect("stdin");
    let text = lines(n, tag);
    std::thread::spawn(move || {
        let feeder = std::thread::spawn(move || {
            for chunk in text.lines().collect::<Vec<_>>().chunks(10) {
                let mut part = chunk.join("\n");
                part.push('\n');
                if stdin.write_all(part.as_bytes()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let out = child.wait_with_output().expect("wait client");
        let _ = feeder.join();
        out
    })
}

/// Every client exited 0; returns all their acknowledgement lines, sorted.
fn acknowledged(clients: Vec<std::thread::JoinHandle<Output>>) -> Vec<String> {
    let mut acked = Vec::new();
    for c in clients {
        let out = c.join().expect("client thread");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        acked.extend(stdout(&out).lines().map(str::to_owned));
    }
    acked.sort();
    acked
}

/// `kill -9` of `lcm serve` while three clients append: the server is restarted on the same
/// port, the clients retry each unanswered batch with its key, and afterwards every
/// acknowledged receipt is in the store exactly once, every line of every client is
/// acknowledged once (a batch committed before the kill whose answer was lost is not
/// appended again: it would be refused as a repeated request id), and the check passes.
#[test]
fn kill_9_of_serve_under_load_loses_no_acknowledged_receipt() {
    let s = Scratch::new("serve-kill9");
    for location in stores(&s, "kill9") {
        let store = Path::new(&location);
        record_at(store);
        let tok = token(store, "deploy_001");
        let listen = format!("127.0.0.1:{}", free_port());
        let served = Served::start(store, &listen, &[]);
        let url = served.url.clone();
        let clients: Vec<_> = ["x", "y", "z"]
            .into_iter()
            .map(|tag| slow_client(store, &url, &tok, tag, 1500))
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        served.kill9();
        std::thread::sleep(Duration::from_millis(200));
        let served = Served::start(store, &listen, &[]);
        let acked = acknowledged(clients);
        assert_eq!(acked.len(), 4500);
        let mut stored = stored_receipts(store);
        stored.sort();
        assert_eq!(acked, stored);
        run(lcm(store).arg("check"), 0);
        let (status, text) = served.term();
        assert_eq!(status.code(), Some(0), "{text}");
    }
}

/// Two `lcm serve` processes on one store, two clients on each: one contiguous chain.
#[test]
fn two_servers_on_one_store_keep_one_chain() {
    let s = Scratch::new("serve-two");
    for location in stores(&s, "two") {
        let store = Path::new(&location);
        record_at(store);
        let tok = token(store, "deploy_001");
        let a = Served::start(store, "127.0.0.1:0", &[]);
        let b = Served::start(store, "127.0.0.1:0", &[]);
        let clients: Vec<_> = [("p", &a.url), ("q", &a.url), ("r", &b.url), ("s", &b.url)]
            .into_iter()
            .map(|(tag, url)| slow_client(store, url, &tok, tag, 600))
            .collect();
        let acked = acknowledged(clients);
        assert_eq!(acked.len(), 2400);
        let mut stored = stored_receipts(store);
        // One chain: sequences 0..n, each once.
        let mut sequences: Vec<u64> = stored
            .iter()
            .map(|l| {
                l.split('\t')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("sequence")
            })
            .collect();
        sequences.sort_unstable();
        assert!(sequences.iter().enumerate().all(|(i, &s)| s == i as u64));
        stored.sort();
        assert_eq!(acked, stored);
        run(lcm(store).arg("check"), 0);
        for served in [a, b] {
            let (status, text) = served.term();
            assert_eq!(status.code(), Some(0), "{text}");
        }
    }
}

/// `lcm serve --tls-cert --tls-key` and `lcm infer --server https://… --ca-file`.
#[test]
fn serve_over_https_with_a_ca_file() {
    let s = recorded("serve-tls");
    let store = s.store();
    let tok = token(&store, "deploy_001");
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    let (cert, key) = (s.path("cert.pem"), s.path("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("key");
    let served = Served::start(
        &store,
        "127.0.0.1:0",
        &[
            "--tls-cert",
            &cert.to_string_lossy(),
            "--tls-key",
            &key.to_string_lossy(),
        ],
    );
    let https = served.url.replacen("http://", "https://", 1);
    let ca = cert.to_string_lossy().into_owned();
    let out = infer_on(
        remote(&store, &https, &tok).args(["--ca-file", &ca]),
        &lines(2, "t"),
        0,
    );
    assert_eq!(stdout(&out).lines().count(), 2);
    // Without the CA file the certificate is not trusted (after the client's retries).
    let out = infer_on(&mut remote(&store, &https, &tok), &lines(1, "u"), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
    // --tls-cert needs --tls-key.
    run(
        lcm(&store).args(["serve", "--listen", "127.0.0.1:0", "--tls-cert", &ca]),
        2,
    );
    let (status, _) = served.term();
    assert_eq!(status.code(), Some(0));
    assert_eq!(stored_receipts(&store).len(), 2);
}
