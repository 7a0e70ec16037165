//! The service end to end, in process: a real listener on loopback, the `lcm-client`
//! client, a `SQLite` store in a temporary directory.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use lcm_client::{Client, Error as ClientError, Retry};
use lcm_store::Store;

const DEPLOYMENT: &str = "deploy_001";

/// A store with the example lifecycle recorded, in its own directory.
struct Fixture {
    dir: PathBuf,
    store: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lcm-server-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test step");
        let store = dir.join("lcm.db");
        let (mut s, _) = lcm_store::init(&store, &lcm_model::Policy::default()).expect("test step");
        let input = serde_json::from_str(lcm_store::lifecycle::EXAMPLE).expect("test step");
        let passwords = lcm_store::lifecycle::Passwords {
            dataset: "dataset password",
            model: "model password",
        };
        lcm_store::lifecycle::record_into(&mut *s, input, &passwords).expect("test step");
        Self { dir, store }
    }

    fn open(&self) -> Box<dyn Store> {
        lcm_store::open(&self.store).expect("test step")
    }

    fn token(&self, deployment: &str) -> String {
        let mut s = self.open();
        lcm_server::tokens::create(&mut *s, deployment, "test")
            .expect("test step")
            .token
            .to_string()
    }

    /// The size of the log of [`DEPLOYMENT`]'s chain.
    fn log_size(&self) -> u64 {
        self.open().log_size(DEPLOYMENT).expect("test step")
    }

    /// Runs the store's full check (`lcm check`) on the fixture's store.
    fn check(&self) {
        lcm_store::check::check_store(&*self.open(), &mut |_| {}).expect("test step");
    }

    fn log_key(&self) -> PathBuf {
        let path = self.dir.join("log.key");
        let key = lcm_crypto::SigningKey::generate(&mut lcm_crypto::OsRandom).expect("test step");
        lcm_store::files::write_key_pair(&path, &key, true).expect("test step");
        path
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running server: its URL, the sender that stops it and its thread.
struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), lcm_server::Error>>>,
}

impl Running {
    fn start(config: lcm_server::Config) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("test step");
            rt.block_on(lcm_server::run(
                &config,
                |addr| addr_tx.send(addr).expect("test step"),
                async {
                    let _ = stopped.await;
                },
            ))
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("test step");
        Self {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> Result<(), lcm_server::Error> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(lcm_server::Error::Internal(
                "the server thread panicked".to_owned(),
            )),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn config(f: &Fixture) -> lcm_server::Config {
    lcm_server::Config::new(f.store.clone(), "127.0.0.1:0".to_owned())
}

fn lines(prefix: &str, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            format!("{{\"request_id\":\"{prefix}-{i}\",\"query\":\"q{i}\",\"output\":\"o{i}\"}}\n")
        })
        .collect::<String>()
        .into_bytes()
}

fn no_retry() -> Retry {
    Retry {
        attempts: 1,
        initial: Duration::from_millis(1),
        max: Duration::from_millis(1),
    }
}

/// The status of a refusal (0 for any other error, which no assertion expects).
fn status(e: ClientError) -> u16 {
    match e {
        ClientError::Refused { status, .. } => status,
        _ => 0,
    }
}

/// The status of the refusal `r` must be.
fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> u16 {
    status(r.expect_err("a refusal"))
}

/// A client of `url` (with `token`, when given) that does not retry, so that a refusal shows.
fn client_at(url: &str, token: Option<&str>) -> Client {
    let client = Client::new(url).expect("test step").with_retry(no_retry());
    match token {
        Some(token) => client.with_token(token),
        None => client,
    }
}

/// A client of `server` with `token` that does not retry (so that a refusal shows).
fn client_of(server: &Running, token: &str) -> Client {
    client_at(&server.url, Some(token))
}

/// A client of `server` with `token` and the client's default retries.
fn retrying_client_of(server: &Running, token: &str) -> Client {
    Client::new(&server.url)
        .expect("test step")
        .with_token(token)
}

/// A fresh store with the example recorded, a token of [`DEPLOYMENT`], and a server on it.
fn serving(name: &str) -> (Fixture, String, Running) {
    let f = Fixture::new(name);
    let token = f.token(DEPLOYMENT);
    let server = Running::start(config(&f));
    (f, token, server)
}

/// A server with a queue of one batch whose writer is blocked: the store's write lock is
/// held by the connection returned (until it ends its transaction); with a token.
fn blocked_queue_of_one(name: &str) -> (Fixture, String, Running, rusqlite::Connection) {
    let f = Fixture::new(name);
    let token = f.token(DEPLOYMENT);
    let mut cfg = config(&f);
    cfg.queue_depth = 1;
    let server = Running::start(cfg);
    // Hold the store's write lock: the writer blocks on its first transaction.
    let lock = rusqlite::Connection::open(&f.store).expect("open");
    lock.execute_batch("BEGIN IMMEDIATE").expect("lock");
    (f, token, server, lock)
}

/// Raw HTTP: status and headers of one request (for what the client hides).
fn raw(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = url.strip_prefix("http://").expect("test step");
    let mut s = std::net::TcpStream::connect(addr).expect("test step");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("test step");
    let _ = s.write_all(body);
    let mut text = Vec::new();
    let _ = s.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

#[test]
fn appends_are_acknowledged_durable_and_checked() {
    let (f, token, server) = serving("append");
    let client = retrying_client_of(&server, &token);
    let a = client
        .append(DEPLOYMENT, "k1", &lines("a", 5))
        .expect("test step");
    assert!(!a.replayed);
    assert_eq!(a.receipts.len(), 5);
    let b = client
        .append(DEPLOYMENT, "k2", &lines("b", 3))
        .expect("test step");
    assert_eq!(b.receipts.first().expect("test step").sequence, 5);
    // Every acknowledged receipt is in the store, as acknowledged.
    let store = f.open();
    for ack in a.receipts.iter().chain(&b.receipts) {
        let r = store
            .receipt(DEPLOYMENT, &ack.receipt_id)
            .expect("test step")
            .expect("test step");
        assert_eq!((r.sequence, r.digest), (ack.sequence, ack.digest));
    }
    assert_eq!(store.log_size(DEPLOYMENT).expect("test step"), 8);
    f.check();
    server.stop().expect("test step");
}

#[test]
fn writes_need_a_valid_token_of_the_deployment() {
    let (f, token, server) = serving("tokens");
    let other = f.token("another_deployment");
    let body = lines("t", 1);
    let anonymous = client_at(&server.url, None);
    assert_eq!(refusal(anonymous.append(DEPLOYMENT, "k", &body)), 401);
    // One character of the secret changed: refused.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.last_mut().expect("test step");
    *last = if *last == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("test step");
    let c = anonymous.clone().with_token(&tampered);
    assert_eq!(refusal(c.append(DEPLOYMENT, "k", &body)), 401);
    let c = anonymous.clone().with_token(&other);
    assert_eq!(refusal(c.append(DEPLOYMENT, "k", &body)), 403);
    let good = anonymous.with_token(&token);
    good.append(DEPLOYMENT, "k", &body).expect("test step");
    // Revoked: refused from the next request on.
    let mut s = f.open();
    let id = lcm_server::tokens::id_of(&token)
        .expect("test step")
        .to_owned();
    lcm_server::tokens::revoke(&mut *s, &id).expect("test step");
    assert_eq!(refusal(good.append(DEPLOYMENT, "k2", &lines("u", 1))), 401);
    // Nothing refused was appended.
    assert_eq!(f.log_size(), 1);
    server.stop().expect("test step");
}

#[test]
fn a_retry_with_the_same_key_appends_nothing_twice() {
    let (f, token, server) = serving("idempotent");
    let client = client_of(&server, &token);
    let body = lines("i", 4);
    let first = client
        .append(DEPLOYMENT, "batch-1", &body)
        .expect("test step");
    let again = client
        .append(DEPLOYMENT, "batch-1", &body)
        .expect("test step");
    assert!(again.replayed);
    assert_eq!(first.receipts, again.receipts);
    assert_eq!(f.log_size(), 4);
    // The same key with another body: refused, nothing appended.
    let other = lines("j", 4);
    assert_eq!(refusal(client.append(DEPLOYMENT, "batch-1", &other)), 422);
    // One byte of the body changed (an output "o0" -> "p0") is another body.
    let mut changed = body;
    let at = changed
        .windows(4)
        .position(|w| w == b"\"o0\"")
        .expect("test step");
    changed[at + 1] = b'p';
    assert_eq!(refusal(client.append(DEPLOYMENT, "batch-1", &changed)), 422);
    assert_eq!(f.log_size(), 4);
    server.stop().expect("test step");
}

#[test]
fn strict_input_and_repeated_request_ids_are_refused() {
    let (f, token, server) = serving("strict");
    let client = client_of(&server, &token);
    client
        .append(DEPLOYMENT, "k1", &lines("r", 2))
        .expect("test step");
    // A request id the chain holds: 409.
    assert_eq!(
        refusal(client.append(DEPLOYMENT, "k2", &lines("r", 1))),
        409
    );
    // Twice in one batch: 409.
    let twice = [lines("d", 1), lines("d", 1)].concat();
    assert_eq!(refusal(client.append(DEPLOYMENT, "k3", &twice)), 409);
    // Unknown field, duplicate key, not JSON, empty: 400.
    for bad in [
        &b"{\"request_id\":\"x\",\"query\":\"q\",\"output\":\"o\",\"extra\":1}\n"[..],
        b"{\"request_id\":\"x\",\"request_id\":\"y\",\"query\":\"q\",\"output\":\"o\"}\n",
        b"not json\n",
        b"\n\n",
    ] {
        assert_eq!(refusal(client.append(DEPLOYMENT, "k4", bad)), 400);
    }
    // An unknown deployment: 422 (its token exists, its deployment does not).
    let stranger = f.token("nowhere");
    let c = client.with_token(&stranger);
    assert_eq!(refusal(c.append("nowhere", "k5", &lines("n", 1))), 422);
    assert_eq!(f.log_size(), 2);
    server.stop().expect("test step");
}

#[test]
fn a_full_queue_answers_429_and_shutdown_drains_what_is_in_flight() {
    let (f, token, server, lock) = blocked_queue_of_one("queue");
    let client = client_of(&server, &token);
    let spawn = |key: &'static str, prefix: &'static str| {
        let c = client.clone();
        std::thread::spawn(move || c.append(DEPLOYMENT, key, &lines(prefix, 2)))
    };
    let first = spawn("q1", "q1");
    std::thread::sleep(Duration::from_millis(500));
    let second = spawn("q2", "q2");
    std::thread::sleep(Duration::from_millis(500));
    let auth = format!("Bearer {token}");
    let (code, text) = raw(
        &server.url,
        "POST",
        &format!("/v1/deployments/{DEPLOYMENT}/receipts"),
        &[("authorization", &auth)],
        &lines("q3", 1),
    );
    assert_eq!(code, 429, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    // Stop while two appends are in flight, then release the lock: both are answered, and
    // the server returns.
    let (stop_tx, stop_rx) = mpsc::channel();
    let stopper = std::thread::spawn(move || stop_tx.send(server.stop()).expect("test step"));
    std::thread::sleep(Duration::from_millis(300));
    lock.execute_batch("ROLLBACK").expect("test step");
    let a = first.join().expect("test step").expect("test step");
    let b = second.join().expect("test step").expect("test step");
    assert_eq!(a.receipts.len() + b.receipts.len(), 4);
    stop_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("test step")
        .expect("test step");
    stopper.join().expect("test step");
    assert_eq!(f.log_size(), 4);
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let f = Fixture::new("limit");
    let token = f.token(DEPLOYMENT);
    let mut cfg = config(&f);
    cfg.max_body = 1000;
    let server = Running::start(cfg);
    let client = client_of(&server, &token);
    assert_eq!(
        refusal(client.append(DEPLOYMENT, "big", &lines("b", 50))),
        413
    );
    client
        .append(DEPLOYMENT, "small", &lines("s", 2))
        .expect("test step");
    server.stop().expect("test step");
}

#[test]
fn the_log_is_served_checkpoint_proofs_and_tiles() {
    let f = Fixture::new("reads");
    let token = f.token(DEPLOYMENT);
    let key = f.log_key();
    let mut cfg = config(&f);
    cfg.log_key = Some(key.clone());
    cfg.origin = Some("lcm.test/reads".to_owned());
    let server = Running::start(cfg);
    let client = client_of(&server, &token);
    let acks = client
        .append(DEPLOYMENT, "k", &lines("l", 300))
        .expect("test step");
    // The checkpoint is the store's log, signed by the key.
    let note = client.checkpoint(DEPLOYMENT).expect("test step");
    let signed = lcm_tlog::SignedCheckpoint::parse(note.as_bytes()).expect("test step");
    assert_eq!(signed.checkpoint().size(), 300);
    assert_eq!(signed.checkpoint().origin(), "lcm.test/reads");
    let store = f.open();
    let log = lcm_store::log::Log::open(&*store, DEPLOYMENT).expect("test step");
    assert_eq!(
        signed.checkpoint().root(),
        log.root().expect("test step").digest()
    );
    // The inclusion proof is a tlog-proof of the receipt at its index.
    let r = &acks.receipts[7];
    let proof = client
        .inclusion_proof(DEPLOYMENT, &r.receipt_id)
        .expect("test step");
    let parsed = lcm_tlog::proof::TlogProof::parse(proof.as_bytes()).expect("test step");
    assert_eq!(parsed.index, 7);
    assert_eq!(parsed.extra.as_deref(), Some(&r.digest.as_bytes()[..]));
    // The consistency proof is the store's.
    let text = client
        .consistency_proof(DEPLOYMENT, 10, 300)
        .expect("test step");
    let expected = lcm_tlog::consistency::format_hash_lines(
        &log.consistency_proof(10, 300).expect("test step"),
    );
    assert_eq!(text, expected);
    // Sizes out of range (found by schemathesis: old = new = 0 was a 500).
    for (old, new) in [(0, 0), (0, 5), (11, 10)] {
        assert_eq!(
            status(
                client
                    .consistency_proof(DEPLOYMENT, old, new)
                    .expect_err("refused")
            ),
            400
        );
    }
    assert_eq!(refusal(client.consistency_proof(DEPLOYMENT, 10, 301)), 400);
    let auth = format!("Bearer {token}");
    let h = [("authorization", auth.as_str())];
    // A receipt id no chain can hold (a control character, empty) is a 400 before the store
    // is asked (found by schemathesis: a NUL was a 500 from PostgreSQL).
    let receipts = format!("/v1/deployments/{DEPLOYMENT}/receipts");
    let inclusion = format!("/v1/deployments/{DEPLOYMENT}/proof/inclusion?receipt_id=");
    for target in [
        format!("{inclusion}a%00b"),
        format!("{inclusion}a%01b"),
        format!("{receipts}/a%00b"),
        format!("{receipts}/a%00b/capsule"),
        inclusion,
    ] {
        let (code, body) = raw(&server.url, "GET", &target, &h, b"");
        assert_eq!(code, 400, "{target}: {body}");
        assert!(body.contains("receipt_id"), "{target}: {body}");
    }
    // Tiles: the full level-0 tile, the partial one, none beyond the log.
    let path = |p: &str| format!("/v1/deployments/{DEPLOYMENT}/tile/{p}");
    let (code, body) = raw(&server.url, "GET", &path("0/000"), &h, b"");
    assert_eq!(code, 200);
    assert!(body.contains("immutable"));
    assert_eq!(raw(&server.url, "GET", &path("0/001.p/44"), &h, b"").0, 200);
    assert_eq!(raw(&server.url, "GET", &path("0/001.p/45"), &h, b"").0, 404);
    assert_eq!(raw(&server.url, "GET", &path("0/001"), &h, b"").0, 404);
    assert_eq!(raw(&server.url, "GET", &path("1/000.p/1"), &h, b"").0, 200);
    assert_eq!(
        raw(&server.url, "GET", &path("entries/000"), &h, b"").0,
        200
    );
    assert_eq!(raw(&server.url, "GET", &path("0/x"), &h, b"").0, 404);
    // Reads need a token unless --public-reads.
    let anonymous = client_at(&server.url, None);
    assert_eq!(refusal(anonymous.checkpoint(DEPLOYMENT)), 401);
    assert_eq!(raw(&server.url, "GET", "/healthz", &[], b"").0, 200);
    assert_eq!(raw(&server.url, "GET", "/readyz", &[], b"").0, 200);
    assert_eq!(raw(&server.url, "GET", "/nothing", &[], b"").0, 404);
    server.stop().expect("test step");
    let mut cfg = config(&f);
    cfg.public_reads = true;
    cfg.log_key = Some(key);
    let server = Running::start(cfg);
    let anonymous = client_at(&server.url, None);
    assert!(anonymous.checkpoint(DEPLOYMENT).is_ok());
    // Writes still need one.
    assert_eq!(
        refusal(anonymous.append(DEPLOYMENT, "x", &lines("x", 1))),
        401
    );
    server.stop().expect("test step");
}

#[test]
fn concurrent_clients_keep_one_chain() {
    let (f, token, server) = serving("concurrent");
    let client = retrying_client_of(&server, &token);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = client.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for b in 0..10 {
                    let key = format!("c{t}-{b}");
                    let a = c
                        .append(DEPLOYMENT, &key, &lines(&key, 20))
                        .expect("test step");
                    acked.extend(a.receipts);
                }
                acked
            })
        })
        .collect();
    let mut all: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("test step"))
        .collect();
    all.sort_by_key(|a| a.sequence);
    assert_eq!(all.len(), 800);
    assert!(all.iter().enumerate().all(|(i, a)| a.sequence == i as u64));
    f.check();
    server.stop().expect("test step");
}

#[test]
fn https_with_rustls_and_a_ca_file() {
    let f = Fixture::new("tls");
    let token = f.token(DEPLOYMENT);
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("certificate");
    let cert = f.dir.join("cert.pem");
    let key = f.dir.join("key.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
    let mut cfg = config(&f);
    cfg.tls = Some((cert, key));
    let server = Running::start(cfg);
    let https = server.url.replacen("http://", "https://", 1);
    let client = client_at(&https, Some(&token))
        .with_ca_pem(made.cert.pem().as_bytes())
        .expect("CA");
    let a = client
        .append(DEPLOYMENT, "k", &lines("t", 3))
        .expect("append over TLS");
    assert_eq!(a.receipts.len(), 3);
    // Twins: the public roots do not know this CA; another CA is refused; plain HTTP to the
    // TLS port gets no answer.
    let public = client_at(&https, Some(&token));
    assert!(matches!(
        public.append(DEPLOYMENT, "k2", &lines("u", 1)),
        Err(ClientError::Transport(_))
    ));
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("other");
    let wrong = client_at(&https, Some(&token))
        .with_ca_pem(other.cert.pem().as_bytes())
        .expect("CA");
    assert!(matches!(
        wrong.append(DEPLOYMENT, "k3", &lines("v", 1)),
        Err(ClientError::Transport(_))
    ));
    let plain = client_at(&server.url, Some(&token));
    assert!(plain.append(DEPLOYMENT, "k4", &lines("w", 1)).is_err());
    assert!(
        Client::new(&https)
            .expect("client")
            .with_ca_pem(b"not pem")
            .is_err()
    );
    assert_eq!(f.log_size(), 3);
    server.stop().expect("stop");
}

#[test]
fn bad_tls_files_are_refused_at_start() {
    let f = Fixture::new("tls-bad");
    let missing = f.dir.join("missing.pem");
    let mut cfg = config(&f);
    cfg.tls = Some((missing.clone(), missing));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r = rt.block_on(lcm_server::run(&cfg, |_| {}, async {}));
    assert!(matches!(r, Err(lcm_server::Error::Start(m)) if m.contains("missing.pem")));
}

/// The served document is the committed one; every route is in it and every path in it is
/// routed (a request to each answers something other than the router's own 404).
#[test]
fn the_openapi_document_is_served_and_names_every_route() {
    let f = Fixture::new("openapi");
    let server = Running::start(config(&f));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
        .expect("read");
    let (code, text) = raw(&server.url, "GET", "/openapi.json", &[], b"");
    assert_eq!(code, 200);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).expect("body");
    assert_eq!(body, committed);
    let doc: serde_json::Value = serde_json::from_str(&committed).expect("json");
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    let routed: Vec<(String, String)> = lcm_server::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented.len(), routed.len());
    for r in &routed {
        assert!(documented.contains(r), "{r:?} is not in openapi.json");
    }
    for (method, path) in &routed {
        let concrete = path
            .replace("{deployment}", DEPLOYMENT)
            .replace("{receipt_id}", "r")
            .replace("{tile_path}", "0/000");
        let (code, text) = raw(&server.url, &method.to_uppercase(), &concrete, &[], b"");
        assert!(
            !text.contains("no such route"),
            "{method} {path}: {code} {text}"
        );
    }
    // Errors are JSON everywhere, the extractors' refusals included.
    let (code, text) = raw(
        &server.url,
        "GET",
        &format!("/v1/deployments/{DEPLOYMENT}/proof/consistency?old=x"),
        &[],
        b"",
    );
    assert_eq!(code, 400);
    assert!(
        text.contains("application/json") && text.contains("{\"error\":"),
        "{text}"
    );
    let (code, text) = raw(&server.url, "DELETE", "/healthz", &[], b"");
    assert_eq!(code, 405);
    assert!(text.contains("{\"error\":"), "{text}");
    server.stop().expect("stop");
}

/// The client retries a 429 (with the same key) until the server has room: three clients
/// against a queue of one, the writer blocked, all acknowledged once it is free.
#[test]
fn the_client_retries_a_full_queue_with_the_same_key() {
    let (f, token, server, lock) = blocked_queue_of_one("retry429");
    let client = Client::new(&server.url)
        .expect("client")
        .with_token(&token)
        .with_retry(Retry {
            attempts: 20,
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
        });
    let threads: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|tag| {
            let c = client.clone();
            std::thread::spawn(move || c.append(DEPLOYMENT, tag, &lines(tag, 5)))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    lock.execute_batch("ROLLBACK").expect("unlock");
    let mut total = 0;
    for t in threads {
        total += t
            .join()
            .expect("thread")
            .expect("acknowledged")
            .receipts
            .len();
    }
    assert_eq!(total, 15);
    assert_eq!(f.log_size(), 15);
    // The count of requests sent again (the PostgreSQL restart test reports it): a client
    // answered at once counts none; one whose server does not answer counts each request
    // once, however many attempts it made, and its clones share the count.
    let fresh = Client::new(&server.url).expect("client").with_token(&token);
    fresh
        .append(DEPLOYMENT, "d", &lines("d", 1))
        .expect("appended");
    assert_eq!(fresh.retried(), 0);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let nowhere = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let unanswered = Client::new(&nowhere)
        .expect("client")
        .with_token(&token)
        .with_retry(Retry {
            attempts: 3,
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
        });
    let clone = unanswered.clone();
    for c in [&unanswered, &clone] {
        assert!(matches!(
            c.append(DEPLOYMENT, "e", &lines("e", 1)),
            Err(ClientError::Transport(_))
        ));
    }
    assert_eq!((unanswered.retried(), clone.retried()), (2, 2));
    server.stop().expect("stop");
}

/// `lcm infer --server`'s loop: every line acknowledged batch by batch; the caller's own
/// error (a closed standard output) stops it after the batch it was raised for.
#[test]
fn send_lines_acknowledges_each_batch_and_stops_at_the_callers_error() {
    #[derive(Debug)]
    enum Caller {
        Client(ClientError),
        Stop,
    }
    impl From<ClientError> for Caller {
        fn from(e: ClientError) -> Self {
            Self::Client(e)
        }
    }
    let (f, token, server) = serving("send-lines");
    let client = retrying_client_of(&server, &token);
    let mut seen = Vec::new();
    let sent = lcm_client::send_lines(&client, DEPLOYMENT, &lines("s", 5)[..], 2, &mut |a| {
        seen.push(a.receipts.len());
        Ok::<(), ClientError>(())
    })
    .expect("test step");
    assert_eq!((sent, seen), (5, vec![2, 2, 1]));
    let stopped = lcm_client::send_lines(&client, DEPLOYMENT, &lines("t", 6)[..], 2, &mut |_| {
        Err(Caller::Stop)
    });
    assert!(matches!(stopped, Err(Caller::Stop)), "{stopped:?}");
    // The batch the error was raised for is durable; nothing after it was sent.
    assert_eq!(f.log_size(), 7);
    // The server's refusal comes back as the caller's error type.
    let refused = client_at(&server.url, Some("lcm_0000000000000000_00"));
    let r = lcm_client::send_lines(&refused, DEPLOYMENT, &lines("u", 1)[..], 2, &mut |_| {
        Ok::<(), Caller>(())
    });
    assert!(
        matches!(
            r,
            Err(Caller::Client(ClientError::Refused { status: 401, .. }))
        ),
        "{r:?}"
    );
    server.stop().expect("test step");
}

/// The status of a request whose head is `head` (sent raw; a write refused by a server that
/// already answered and closed is not an error here), 0 when nothing came back.
fn raw_head(url: &str, head: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = url.strip_prefix("http://").expect("test step");
    let mut s = std::net::TcpStream::connect(addr).expect("test step");
    let _ = s.write_all(head.as_bytes());
    let mut text = Vec::new();
    let _ = s.read_to_end(&mut text);
    String::from_utf8_lossy(&text)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Request heads past the explicit limits (bytes, header count) are refused with 431 and the
/// server keeps serving; heads just within them are answered.
#[test]
fn request_heads_past_the_limits_get_431() {
    let f = Fixture::new("heads");
    let server = Running::start(config(&f));
    let head = |fields: &[String]| {
        let mut h = String::from("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n");
        for field in fields {
            h.push_str(field);
            h.push_str("\r\n");
        }
        h.push_str("\r\n");
        h
    };
    let big = |n: usize| vec![format!("x-big: {}", "a".repeat(n))];
    let many = |n: usize| (0..n).map(|i| format!("x-f{i}: v")).collect::<Vec<_>>();
    // Within: one field of half the byte limit; the count limit less the three fields above.
    assert_eq!(
        raw_head(&server.url, &head(&big(lcm_server::MAX_HEAD_BYTES / 2))),
        200
    );
    assert_eq!(
        raw_head(&server.url, &head(&many(lcm_server::MAX_HEADERS - 2))),
        200
    );
    // Past them: 431, and the next request is served.
    assert_eq!(
        raw_head(&server.url, &head(&big(lcm_server::MAX_HEAD_BYTES))),
        431
    );
    assert_eq!(
        raw_head(&server.url, &head(&many(lcm_server::MAX_HEADERS + 1))),
        431
    );
    assert_eq!(raw(&server.url, "GET", "/healthz", &[], b"").0, 200);
    server.stop().expect("test step");
}
