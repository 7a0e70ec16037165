//! A small blocking client of `lcm serve`, for inference servers that embed it: no async
//! runtime (it is built on `ureq`), one [`Client`] shared by threads.
//!
//! - [`Client::append`] sends a batch of request lines (the JSON Lines `lcm infer` reads)
//!   under a batch key, and retries it with the same key, with exponential backoff, on 429,
//!   5xx and connection errors: the server records the key with the receipts, so a retry
//!   after a lost response returns the first acknowledgements and appends nothing twice.
//!   It returns only once the server acknowledged, that is once the receipts are durable.
//! - [`Client::checkpoint`], [`Client::inclusion_proof`], [`Client::consistency_proof`]
//!   read the log (verify them with `lcm log verify-checkpoint` / `lcm log verify-proof` or
//!   `lcm_tlog`).
//! - [`send_lines`] is `lcm infer --server`: lines from a reader, in batches.
//!
//! # Example
//!
//! ```no_run
//! let client = lcm_client::Client::new("http://127.0.0.1:8080")?.with_token("lcm_…");
//! let key = lcm_client::batch_key()?;
//! let body = b"{\"request_id\":\"r1\",\"query\":\"q\",\"output\":\"o\"}\n";
//! let appended = client.append("dep-1", &key, body)?;
//! for ack in &appended.receipts {
//!     println!("{}\t{}\t{}", ack.sequence, ack.receipt_id, ack.digest);
//! }
//! # Ok::<(), lcm_client::Error>(())
//! ```

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

use lcm_crypto::Digest;
use serde::Deserialize;
use zeroize::Zeroizing;

/// An error of the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the request (a 4xx other than 429, or a 5xx after the retries).
    #[error("server answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's error message.
        message: String,
    },
    /// The server could not be reached (after the retries).
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The server's answer does not have the documented shape.
    #[error("unexpected answer from the server: {0}")]
    Answer(String),
    /// A bad argument (URL, deployment).
    #[error("{0}")]
    Input(String),
    /// Reading the request lines failed.
    #[error("reading the request lines: {0}")]
    Read(#[from] std::io::Error),
}

/// The acknowledgement of one durable receipt (what `lcm infer --json` prints).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// Its position in the deployment's chain.
    pub sequence: u64,
    /// The receipt id.
    pub receipt_id: String,
    /// The receipt's digest.
    pub digest: Digest,
}

/// What an append returned.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appended {
    /// One acknowledgement per receipt, in chain order.
    pub receipts: Vec<Ack>,
    /// Whether the batch key had been recorded already (these are the first attempt's).
    pub replayed: bool,
}

/// How [`Client::append`] retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The most attempts (at least 1).
    pub attempts: u32,
    /// The first wait; it doubles after each failed attempt.
    pub initial: Duration,
    /// The longest wait (also the cap of a server's `Retry-After`).
    pub max: Duration,
}

impl Default for Retry {
    /// 10 attempts, waiting 50 ms, 100 ms, … up to 2 s.
    fn default() -> Self {
        Self {
            attempts: 10,
            initial: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }
}

/// A new random batch key (128 bits, hex).
///
/// # Errors
///
/// [`Error::Input`] when the system's randomness fails.
pub fn batch_key() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    lcm_crypto::fill_random(&mut bytes).map_err(|e| Error::Input(e.to_string()))?;
    Ok(lcm_crypto::hex::encode(&bytes))
}

/// A client of one `lcm serve`.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: Option<Zeroizing<String>>,
    retry: Retry,
    /// The requests that needed more than one attempt, shared by the clones.
    retried: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// What one attempt gave: an answer, or a failure worth retrying (with the server's wait).
enum Attempt {
    Done(u16, String),
    Again(String, Option<Duration>),
}

impl Client {
    /// A client of the server at `base` (`http://HOST:PORT` or `https://HOST:PORT`, whose
    /// certificate is checked against the public web roots unless [`Client::with_ca_pem`]
    /// names the CA), with a 60 s limit per request.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] for a URL that is not `http(s)://HOST[:PORT]`.
    pub fn new(base: &str) -> Result<Self, Error> {
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"))
            .ok_or_else(|| {
                Error::Input(format!("--server {base}: expected http:// or https://"))
            })?;
        if rest.is_empty() || rest.trim_end_matches('/').contains('/') {
            return Err(Error::Input(format!(
                "--server {base}: expected http(s)://HOST:PORT"
            )));
        }
        let agent = agent(ureq::tls::RootCerts::WebPki);
        Ok(Self {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            token: None,
            retry: Retry::default(),
            retried: std::sync::Arc::default(),
        })
    }

    /// The client of `lcm infer --server URL --ca-file PEM`: a client of `server` sending
    /// `token` (without surrounding whitespace: a token read from a file or the environment
    /// may end with a newline) and, when `ca_file` names a PEM file, trusting only its CA
    /// certificates.
    ///
    /// # Errors
    ///
    /// As [`Client::new`]; [`Error::Input`] naming `ca_file` when it cannot be read or holds
    /// no valid certificate.
    pub fn connect(server: &str, token: &str, ca_file: Option<&Path>) -> Result<Self, Error> {
        let client = Self::new(server)?.with_token(token.trim());
        let Some(ca) = ca_file else {
            return Ok(client);
        };
        let pem = std::fs::read(ca).map_err(|e| Error::Input(format!("{}: {e}", ca.display())))?;
        client
            .with_ca_pem(&pem)
            .map_err(|e| Error::Input(format!("--ca-file {}: {e}", ca.display())))
    }

    /// The same client trusting only the CA certificates in `pem` for `https://`.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when `pem` holds no certificate or a malformed one.
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            let item = item.map_err(|e| Error::Input(format!("CA file: {e}")))?;
            if let ureq::tls::PemItem::Certificate(c) = item {
                certs.push(c);
            }
        }
        if certs.is_empty() {
            return Err(Error::Input("CA file: no certificate".to_owned()));
        }
        self.agent = agent(ureq::tls::RootCerts::new_with_certs(&certs));
        Ok(self)
    }

    /// The same client sending `token` (`Authorization: Bearer`).
    #[must_use]
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(Zeroizing::new(token.to_owned()));
        self
    }

    /// The same client retrying as `retry` says.
    #[must_use]
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// How many requests of this client and its clones needed more than one attempt
    /// (answered in the end or not): for an append, the batches sent again with their key.
    pub fn retried(&self) -> u64 {
        self.retried.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn url(&self, deployment: &str, rest: &str) -> String {
        format!("{}/v1/deployments/{deployment}/{rest}", self.base)
    }

    fn once(&self, method: &str, url: &str, key: Option<&str>, body: Option<&[u8]>) -> Attempt {
        let auth = self
            .token
            .as_ref()
            .map(|t| Zeroizing::new(format!("Bearer {}", t.as_str())));
        let result = if method == "POST" {
            let mut req = self
                .agent
                .post(url)
                .header("content-type", "application/x-ndjson");
            if let Some(a) = &auth {
                req = req.header("authorization", a.as_str());
            }
            if let Some(k) = key {
                req = req.header("idempotency-key", k);
            }
            req.send(body.unwrap_or_default())
        } else {
            let mut req = self.agent.get(url);
            if let Some(a) = &auth {
                req = req.header("authorization", a.as_str());
            }
            req.call()
        };
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match response.body_mut().read_to_string() {
                    // 501: the server lacks a configuration (a log key); a retry cannot help.
                    Ok(text) if status == 429 || (status >= 500 && status != 501) => {
                        Attempt::Again(format!("{status}: {}", message(&text)), wait)
                    }
                    Ok(text) => Attempt::Done(status, text),
                    Err(e) => Attempt::Again(e.to_string(), None),
                }
            }
            Err(e) => Attempt::Again(e.to_string(), None),
        }
    }

    /// Sends until an answer that is not worth retrying, or the attempts run out.
    fn send(
        &self,
        method: &str,
        url: &str,
        key: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<String, Error> {
        let mut wait = self.retry.initial;
        let mut last = String::new();
        for attempt in 0..self.retry.attempts.max(1) {
            if attempt == 1 {
                self.retried
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if attempt > 0 {
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2).min(self.retry.max);
            }
            match self.once(method, url, key, body) {
                Attempt::Done(status, text) if (200..300).contains(&status) => return Ok(text),
                Attempt::Done(status, text) => {
                    return Err(Error::Refused {
                        status,
                        message: message(&text),
                    });
                }
                Attempt::Again(why, server_wait) => {
                    last = why;
                    if let Some(w) = server_wait {
                        wait = w.min(self.retry.max).max(wait);
                    }
                }
            }
        }
        Err(Error::Transport(format!(
            "{url}: gave up after {} attempts; last: {last}",
            self.retry.attempts.max(1)
        )))
    }

    /// Appends the request lines in `body` (JSON Lines) to `deployment`'s chain under the
    /// batch key `key`, retrying with the same key (see [`Retry`]). Returns once the server
    /// acknowledged: every receipt is then durable.
    ///
    /// # Errors
    ///
    /// [`Error::Refused`] (400 malformed lines, 401/403 token, 409 repeated request id, 422
    /// the key used with another body or a deployment that cannot append);
    /// [`Error::Transport`] when every attempt failed.
    pub fn append(&self, deployment: &str, key: &str, body: &[u8]) -> Result<Appended, Error> {
        let text = self.send(
            "POST",
            &self.url(deployment, "receipts"),
            Some(key),
            Some(body),
        )?;
        serde_json::from_str(&text).map_err(|e| Error::Answer(e.to_string()))
    }

    /// The log's latest checkpoint, a signed note.
    ///
    /// # Errors
    ///
    /// As [`Client::append`].
    pub fn checkpoint(&self, deployment: &str) -> Result<String, Error> {
        self.send("GET", &self.url(deployment, "checkpoint"), None, None)
    }

    /// The tlog-proof of the receipt `receipt_id` against a new checkpoint.
    ///
    /// # Errors
    ///
    /// As [`Client::append`].
    pub fn inclusion_proof(&self, deployment: &str, receipt_id: &str) -> Result<String, Error> {
        let url = self.url(
            deployment,
            &format!("proof/inclusion?receipt_id={}", encode(receipt_id)),
        );
        self.send("GET", &url, None, None)
    }

    /// The capsule of the receipt `receipt_id` and the header it proves into, signed with the
    /// server's log key: the JSON object `{"header": HEADER, "capsule": CAPSULE}` (the
    /// documents of `lcm header` and `lcm materialize`), as text.
    ///
    /// # Errors
    ///
    /// As [`Client::append`] (a server without a log key refuses with 501).
    pub fn receipt_capsule(&self, deployment: &str, receipt_id: &str) -> Result<String, Error> {
        let url = self.url(
            deployment,
            &format!("receipts/{}/capsule", encode(receipt_id)),
        );
        self.send("GET", &url, None, None)
    }

    /// The consistency proof between log sizes `old` and `new` (base64 hashes, one a line).
    ///
    /// # Errors
    ///
    /// As [`Client::append`].
    pub fn consistency_proof(&self, deployment: &str, old: u64, new: u64) -> Result<String, Error> {
        let url = self.url(
            deployment,
            &format!("proof/consistency?old={old}&new={new}"),
        );
        self.send("GET", &url, None, None)
    }
}

/// An agent that answers every status (the client decides what to retry), trusting `roots`.
fn agent(roots: ureq::tls::RootCerts) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into()
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    use std::fmt::Write as _;
    value.bytes().fold(String::new(), |mut s, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
        s
    })
}

/// The `error` of a server's JSON answer, else the text.
fn message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(500).collect())
}

/// `lcm infer --server`: reads request lines from `input` and appends them to `deployment`
/// in batches of at most `batch_size` lines (a batch is sent early when no more input is
/// buffered, so a slow producer gets each line acknowledged), each under a new batch key and
/// retried with it; `ack` gets each batch's acknowledgements once the server gave them.
/// Returns the number of receipts acknowledged.
///
/// Memory: one batch of lines.
///
/// # Errors
///
/// As [`Client::append`] and read failures, as `E`; `ack`'s errors as they are (the caller's
/// own, for example a closed standard output), after which nothing more is sent.
pub fn send_lines<E: From<Error>>(
    client: &Client,
    deployment: &str,
    input: impl Read,
    batch_size: usize,
    ack: &mut dyn FnMut(&Appended) -> Result<(), E>,
) -> Result<u64, E> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut batch: Vec<u8> = Vec::new();
    let mut lines = 0usize;
    let mut appended = 0u64;
    let mut flush = |batch: &mut Vec<u8>, lines: &mut usize| -> Result<(), E> {
        if *lines == 0 {
            batch.clear();
            return Ok(());
        }
        let key = batch_key()?;
        let a = client.append(deployment, &key, batch)?;
        appended = appended.saturating_add(u64::try_from(a.receipts.len()).unwrap_or(u64::MAX));
        ack(&a)?;
        batch.clear();
        *lines = 0;
        Ok(())
    };
    loop {
        let start = batch.len();
        let n = reader.read_until(b'\n', &mut batch).map_err(Error::from)?;
        if n == 0 {
            break;
        }
        if batch
            .get(start..)
            .is_some_and(|l| !l.iter().all(u8::is_ascii_whitespace))
        {
            lines += 1;
        }
        if batch.last() != Some(&b'\n') {
            batch.push(b'\n');
        }
        if lines >= batch_size.max(1) || (reader.buffer().is_empty() && lines > 0) {
            flush(&mut batch, &mut lines)?;
        }
    }
    flush(&mut batch, &mut lines)?;
    Ok(appended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_trims_the_token_and_reads_the_ca_file() {
        let client = Client::connect("http://127.0.0.1:1", " lcm_t\n", None).unwrap();
        assert_eq!(client.token.as_deref().map(String::as_str), Some("lcm_t"));
        let dir = std::env::temp_dir();
        let missing = dir.join(format!("lcm-client-none-{}.pem", std::process::id()));
        let e = Client::connect("https://h:1", "t", Some(&missing)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}: ", missing.display())),
            "{e}"
        );
        let empty = dir.join(format!("lcm-client-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, b"no certificate here\n").unwrap();
        let e = Client::connect("https://h:1", "t", Some(&empty)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("--ca-file {}: CA file: no certificate", empty.display())
        );
        std::fs::remove_file(&empty).unwrap();
        // A bad URL is refused before any file is read.
        let e = Client::connect("ftp://h", "t", Some(&missing)).unwrap_err();
        assert!(e.to_string().starts_with("--server ftp://h: "), "{e}");
    }
}
