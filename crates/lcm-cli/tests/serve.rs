//! `lcm serve`, `lcm token` and `lcm infer --server` with the real binary: the contracts,
//! and the fault tests (`kill -9` of the server under load, a retry after the kill, two
//! servers on one store).
//!
//! The fault tests take a store location: they run on `SQLite` always, and on PostgreSQL
//! when `LCM_TEST_POSTGRES_URL` is set (each test then creates its own database, dropped
//! afterwards); otherwise they say that leg is skipped. The PostgreSQL restart under load
//! restarts the server that every user of the machine shares, so it runs only when
//! `LCM_TEST_PG_RESTART=1` is set too (`.ci/run` sets it).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use super::{
    LIFECYCLE, Scratch, infer_on, lcm, lines, recorded, run, spawn_fed, stdout, stored_receipts,
};

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
/// PostgreSQL database when `LCM_TEST_POSTGRES_URL` is set (dropped with the value).
struct Stores {
    locations: Vec<String>,
    /// The server's URL and the database made for the test.
    database: Option<(String, String)>,
}

impl Drop for Stores {
    fn drop(&mut self) {
        if let Some((url, db)) = &self.database
            && let Ok(mut client) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

#[allow(clippy::print_stderr)] // A skipped leg says so, as the PostgreSQL tests do.
fn stores(s: &Scratch, name: &str) -> Stores {
    let mut out = Stores {
        locations: vec![s.store().to_string_lossy().into_owned()],
        database: None,
    };
    let Some(url) = super::postgres_url() else {
        eprintln!("{name}: PostgreSQL leg skipped (LCM_TEST_POSTGRES_URL is not set)");
        return out;
    };
    let db = format!("lcm_{name}_{}", std::process::id());
    let mut client =
        postgres::Client::connect(&url, postgres::NoTls).expect("the PostgreSQL test server");
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .expect("drop an old test database");
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create the test database");
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url.as_str(), String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    out.locations.push(format!("{base}/{db}{query}"));
    out.database = Some((url.clone(), db));
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
    let cmd = &mut remote(store, url, token);
    let (child, mut stdin) = spawn_fed(cmd.args(["--batch-size", "20"]), Stdio::piped());
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
    acknowledged_and_retried(clients).0
}

/// [`acknowledged`], and how many batches the clients sent again (each says so on stderr).
fn acknowledged_and_retried(clients: Vec<std::thread::JoinHandle<Output>>) -> (Vec<String>, u64) {
    let mut acked = Vec::new();
    let mut retried = 0;
    for c in clients {
        let out = c.join().expect("client thread");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        retried += batches_sent_again(&stderr);
        acked.extend(stdout(&out).lines().map(str::to_owned));
    }
    acked.sort();
    (acked, retried)
}

/// The batches `lcm infer --server` says it sent again: `(N batches sent again)` on its last
/// line, 0 when it does not say.
fn batches_sent_again(stderr: &str) -> u64 {
    stderr
        .lines()
        .filter_map(|l| {
            l.strip_suffix(" sent again)")?
                .rsplit_once('(')?
                .1
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[test]
fn the_batches_sent_again_are_read_from_the_clients_stderr() {
    let said = "lcm: appended 20 receipts through http://x (3 batches sent again)\n";
    assert_eq!(batches_sent_again(said), 3);
    assert_eq!(
        batches_sent_again("lcm: appended 1 receipt through http://x (1 batch sent again)"),
        1
    );
    assert_eq!(
        batches_sent_again("lcm: appended 20 receipts through http://x\n"),
        0
    );
}

/// Runs `test` on each store of [`stores`] (`SQLite`, and `PostgreSQL` when the test URL is
/// set), each with the example recorded, given the store and a token for `deploy_001`.
fn on_each_recorded_store(scratch: &str, name: &str, mut test: impl FnMut(&Path, &str)) {
    let s = Scratch::new(scratch);
    let stores = stores(&s, name);
    for location in &stores.locations {
        let store = Path::new(&location);
        record_at(store);
        let tok = token(store, "deploy_001");
        test(store, &tok);
    }
}

/// After the clients exited 0: `lines` lines acknowledged, the acknowledged receipts exactly
/// the stored ones (each stored once), the check passes, and `served` drains to exit 0.
/// Returns how many batches the clients said they sent again.
fn each_acknowledged_receipt_stored_once(
    store: &Path,
    clients: Vec<std::thread::JoinHandle<Output>>,
    lines: usize,
    served: Served,
) -> u64 {
    let (acked, retried) = acknowledged_and_retried(clients);
    assert_eq!(acked.len(), lines);
    let mut stored = stored_receipts(store);
    stored.sort();
    assert_eq!(acked, stored);
    run(lcm(store).arg("check"), 0);
    let (status, text) = served.term();
    assert_eq!(status.code(), Some(0), "{text}");
    retried
}

/// `kill -9` of `lcm serve` while three clients append: the server is restarted on the same
/// port, the clients retry each unanswered batch with its key, and afterwards every
/// acknowledged receipt is in the store exactly once, every line of every client is
/// acknowledged once (a batch committed before the kill whose answer was lost is not
/// appended again: it would be refused as a repeated request id), and the check passes.
#[test]
fn kill_9_of_serve_under_load_loses_no_acknowledged_receipt() {
    on_each_recorded_store("serve-kill9", "kill9", |store, tok| {
        let listen = format!("127.0.0.1:{}", free_port());
        let served = Served::start(store, &listen, &[]);
        let url = served.url.clone();
        let clients: Vec<_> = ["x", "y", "z"]
            .into_iter()
            .map(|tag| slow_client(store, &url, tok, tag, 1500))
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        served.kill9();
        std::thread::sleep(Duration::from_millis(200));
        let served = Served::start(store, &listen, &[]);
        let retried = each_acknowledged_receipt_stored_once(store, clients, 4500, served);
        // The server was down for 200 ms while they were sending: they sent batches again.
        assert!(retried >= 1, "no batch was sent again");
    });
}

/// A PostgreSQL restart (`pg_ctlcluster … restart`, which ends every session) while three
/// clients append through `lcm serve`: the server survives (its connections are made again
/// at the next batch), the clients retry each failed batch with its key, and afterwards every
/// line is acknowledged once, every acknowledged receipt is stored exactly once, and the
/// check passes. Runs only with `LCM_TEST_PG_RESTART=1` and `LCM_TEST_POSTGRES_URL`.
#[test]
#[allow(clippy::print_stderr)] // The skip says so.
fn postgres_restart_under_load_is_survived() {
    if std::env::var("LCM_TEST_PG_RESTART").as_deref() != Ok("1") {
        eprintln!("pg-restart: skipped (set LCM_TEST_PG_RESTART=1 and LCM_TEST_POSTGRES_URL)");
        return;
    }
    let s = Scratch::new("serve-pg-restart");
    let stores = stores(&s, "pgrestart");
    let Some(location) = stores.locations.get(1) else {
        eprintln!("pg-restart: skipped (LCM_TEST_POSTGRES_URL is not set)");
        return;
    };
    let store = Path::new(location);
    record_at(store);
    let tok = token(store, "deploy_001");
    let served = Served::start(store, "127.0.0.1:0", &[]);
    let clients: Vec<_> = ["u", "v", "w"]
        .into_iter()
        .map(|tag| slow_client(store, &served.url, &tok, tag, 8000))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let restarted = Command::new("sh")
        .args([
            "-c",
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | sort -V | tail -n 1) main restart",
        ])
        .output()
        .expect("run pg_ctlcluster");
    assert!(
        restarted.status.success(),
        "pg_ctlcluster restart: {}",
        String::from_utf8_lossy(&restarted.stderr)
    );
    // The restart fell under load: the clients were still sending when it was over.
    assert!(
        clients.iter().any(|c| !c.is_finished()),
        "the clients finished before the restart"
    );
    let retried = each_acknowledged_receipt_stored_once(store, clients, 24_000, served);
    eprintln!("pg-restart: the clients sent {retried} batches again");
}

/// Two `lcm serve` processes on one store, two clients on each: one contiguous chain.
#[test]
fn two_servers_on_one_store_keep_one_chain() {
    on_each_recorded_store("serve-two", "two", |store, tok| {
        let a = Served::start(store, "127.0.0.1:0", &[]);
        let b = Served::start(store, "127.0.0.1:0", &[]);
        let clients: Vec<_> = [("p", &a.url), ("q", &a.url), ("r", &b.url), ("s", &b.url)]
            .into_iter()
            .map(|(tag, url)| slow_client(store, url, tok, tag, 600))
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
    });
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

/// `GET …/receipts/{receipt_id}/capsule` with the real binary, on every store: the header is
/// signed with the server's log key and the capsule is the one `lcm materialize` makes against
/// it; `lcm verify` accepts them offline with the log key's public key and refuses a tampered
/// receipt, a tampered header and another key (exit 1). An unknown receipt is 404; a server
/// without a log key answers 501 naming `--log-key`.
#[test]
fn a_receipts_capsule_is_served_and_verifies_offline() {
    let s = Scratch::new("serve-capsule");
    let stores = stores(&s, "capsule");
    let path = |name: &str| s.path(name).to_string_lossy().into_owned();
    let key = path("log.key");
    run(
        lcm(&s.store()).args(["keygen", "--out", &key, "--name", "example.com/lcm"]),
        0,
    );
    run(
        lcm(&s.store()).args(["keygen", "--out", &path("other.key")]),
        0,
    );
    let (public, other) = (path("log.key.pub"), path("other.key.pub"));
    let (header, capsule) = (path("header.json"), path("capsule.json"));
    let verify = |store: &Path, capsule: &str, header: &str, key: &str, code: i32| {
        let out = run(
            lcm(store).args(["verify", capsule, "--header", header, "--key", key]),
            code,
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for location in &stores.locations {
        let store = Path::new(&location);
        record_at(store);
        let tok = token(store, "deploy_001");
        let served = Served::start(store, "127.0.0.1:0", &["--log-key", &key]);
        infer_on(&mut remote(store, &served.url, &tok), &lines(300, "c"), 0);
        let client = lcm_client::Client::new(&served.url)
            .expect("client")
            .with_token(&tok);
        let text = client
            .receipt_capsule("deploy_001", "c_123")
            .expect("the capsule");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        std::fs::write(&header, v["header"].to_string()).expect("write header");
        std::fs::write(&capsule, v["capsule"].to_string()).expect("write capsule");
        assert_eq!(v["header"]["stage_g_inference"]["receipt_count"], 300);
        verify(store, &capsule, &header, &public, 0);
        // The capsule is `lcm materialize`'s against that header.
        let made = path("made.json");
        run(
            lcm(store).args(["materialize", "c_123", "--header", &header, "--out", &made]),
            0,
        );
        let made: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&made).expect("read")).expect("JSON");
        assert_eq!(made, v["capsule"]);
        // Tamper twins: another receipt id inside the capsule, another count in the header,
        // another key.
        let tampered = path("tampered.json");
        let edited = v["capsule"].to_string().replace("\"c_123\"", "\"c_124\"");
        assert_ne!(edited, v["capsule"].to_string());
        std::fs::write(&tampered, edited).expect("write");
        let said = verify(store, &tampered, &header, &public, 1);
        assert!(said.contains("verification failed"), "{said}");
        let forged = path("forged.json");
        let mut h = v["header"].clone();
        h["stage_g_inference"]["receipt_count"] = serde_json::json!(299);
        std::fs::write(&forged, h.to_string()).expect("write");
        let said = verify(store, &capsule, &forged, &public, 1);
        assert!(said.contains("[header]"), "{said}");
        let said = verify(store, &capsule, &header, &other, 1);
        assert!(said.contains("[header]"), "{said}");
        let refused = |c: &lcm_client::Client, id: &str| match c.receipt_capsule("deploy_001", id) {
            Err(lcm_client::Error::Refused { status, message }) => (status, message),
            other => (0, format!("{other:?}")),
        };
        assert_eq!(refused(&client, "c_300").0, 404);
        let anonymous = lcm_client::Client::new(&served.url).expect("client");
        assert_eq!(refused(&anonymous, "c_123").0, 401);
        let (status, text) = served.term();
        assert_eq!(status.code(), Some(0), "{text}");
        let keyless = Served::start(store, "127.0.0.1:0", &["--public-reads"]);
        let anonymous = lcm_client::Client::new(&keyless.url).expect("client");
        let (status, message) = refused(&anonymous, "c_123");
        assert_eq!(status, 501);
        assert!(message.contains("--log-key"), "{message}");
        let (status, text) = keyless.term();
        assert_eq!(status.code(), Some(0), "{text}");
    }
}

/// A line of `/proc/PID/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kib(pid: u32, field: &str) -> u64 {
    read_status_kib(pid, field).expect("a kB field of /proc/PID/status")
}

/// [`status_kib`], `None` when the process is gone (or the field missing).
pub(crate) fn read_status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The memory of `lcm serve` does not grow with the chain: after `K` receipts appended in
/// batches of 500 (the warm-up: every buffer, cache and connection has reached its size), the
/// peak resident size (`VmHWM`) grows by less than `BOUND_KIB` while `4 K` more are appended
/// the same way. The bound is documented in docs/SERVER.md.
#[test]
#[allow(clippy::print_stderr)] // The figures are printed for the docs.
fn serve_memory_does_not_grow_with_the_chain() {
    const K: usize = 10_000;
    const BATCH: usize = 500;
    const BOUND_KIB: u64 = 8 * 1024;
    let s = recorded("serve-memory");
    let store = s.store();
    let tok = token(&store, "deploy_001");
    let served = Served::start(&store, "127.0.0.1:0", &[]);
    let pid = served.child.id();
    let client = lcm_client::Client::new(&served.url)
        .expect("client")
        .with_token(&tok);
    let text = lines(5 * K, "m");
    let all: Vec<&str> = text.lines().collect();
    let append = |from: usize, to: usize| {
        for (i, chunk) in all[from..to].chunks(BATCH).enumerate() {
            let mut body = chunk.join("\n");
            body.push('\n');
            let acked = client
                .append("deploy_001", &format!("m{from}-{i}"), body.as_bytes())
                .expect("appended");
            assert_eq!(acked.receipts.len(), chunk.len());
        }
    };
    append(0, K);
    let (warm, warm_rss) = (status_kib(pid, "VmHWM"), status_kib(pid, "VmRSS"));
    append(K, 5 * K);
    let (peak, rss) = (status_kib(pid, "VmHWM"), status_kib(pid, "VmRSS"));
    eprintln!(
        "lcm serve memory: after {K} receipts VmHWM {warm} KiB (VmRSS {warm_rss}); after {} \
         VmHWM {peak} KiB (VmRSS {rss}); growth {} KiB (bound {BOUND_KIB})",
        5 * K,
        peak.saturating_sub(warm)
    );
    assert!(
        peak.saturating_sub(warm) < BOUND_KIB,
        "VmHWM grew from {warm} to {peak} KiB over {} receipts",
        4 * K
    );
    assert_eq!(stored_receipts(&store).len(), 5 * K);
    let (status, text) = served.term();
    assert_eq!(status.code(), Some(0), "{text}");
}
