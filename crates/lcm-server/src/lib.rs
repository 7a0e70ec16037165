//! `lcm serve`: the receipt service. Many inference replicas append to one receipt chain per
//! deployment over HTTP; auditors read its checkpoints, proofs and tiles.
//!
//! - Appends (`POST /v1/deployments/{deployment}/receipts`): a batch of the JSON Lines that
//!   `lcm infer` reads, parsed with the same strict input
//!   ([`lcm_store::pipeline::parse_requests`]), queued on a bounded queue for one writer
//!   thread that group-commits the queued batches of a deployment in one transaction
//!   ([`lcm_store::Store::append_keyed`]) with the receipts made by the store's pipeline
//!   ([`lcm_store::pipeline::make_receipts`]). The answer comes only after the commit: an
//!   acknowledged receipt is durable. A full queue answers 429 with `Retry-After`.
//! - Access control ([`tokens`]): writes need `Authorization: Bearer TOKEN` of a token
//!   scoped to the deployment; reads of the log need one too unless
//!   [`Config::public_reads`].
//! - Idempotent appends: an `Idempotency-Key` header is recorded in the receipts'
//!   transaction; a retry with the same key and body gets the original acknowledgements and
//!   appends nothing, the same key with another body is refused (422).
//! - Reads: the signed checkpoint (with [`Config::log_key`]), inclusion proofs (as
//!   tlog-proof files) and consistency proofs, the C2SP tiles at their tlog-tiles paths,
//!   a stored receipt, a receipt's capsule with a capsule header signed by the log key
//!   ([`lcm_store::export::receipt_capsule`]), `/healthz` and `/readyz`.
//! - Request heads are bounded explicitly ([`MAX_HEAD_BYTES`], [`MAX_HEADERS`],
//!   [`MAX_READ_BUFFER`]; 431 past them).
//! - HTTPS with rustls (ring provider) when given a certificate and key ([`Config::tls`]).
//! - Limits: request body size, a per-request time limit, a connection limit; on
//!   SIGTERM/SIGINT the server stops accepting, finishes what is in flight and returns.
//!
//! Architecture Invariant: the service touches the store only through `lcm_store`'s
//! [`lcm_store::Store`] trait and its functions, so every backend serves unchanged.
//!
//! # Example
//!
//! ```no_run
//! let config = lcm_server::Config::new("lcm.db".into(), "127.0.0.1:8080".to_owned());
//! lcm_server::serve(&config, |addr| eprintln!("listening on {addr}"))?;
//! # Ok::<(), lcm_server::Error>(())
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

mod checkpoints;
mod error;
mod limits;
mod routes;
mod tls;
pub mod tokens;
mod writer;

pub use crate::error::Error;
pub use crate::limits::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_READ_BUFFER};
pub use crate::routes::{OPENAPI, ROUTES};

/// How `lcm serve` runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The store's location (as `--store`).
    pub store: PathBuf,
    /// `HOST:PORT` to listen on (port 0: any free port, see [`serve`]'s callback).
    pub listen: String,
    /// The log key file that signs checkpoints (`--log-key`); without it, no checkpoint or
    /// inclusion proof is served.
    pub log_key: Option<PathBuf>,
    /// The log's origin (`--origin`; default: the key's name).
    pub origin: Option<String>,
    /// Whether the log's public data (checkpoint, proofs, tiles) may be read without a token.
    pub public_reads: bool,
    /// The most batches waiting for the writer; past it, 429.
    pub queue_depth: usize,
    /// The most receipts the writer commits in one transaction (it stops adding batches once
    /// past it).
    pub group_receipts: usize,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The longest a request may take, queueing and commit included; past it, 503.
    pub request_timeout: Duration,
    /// The most connections held open at once.
    pub max_connections: usize,
    /// The number of read connections to the store.
    pub readers: usize,
    /// HTTPS: the certificate chain and the private key, PEM files (`--tls-cert`,
    /// `--tls-key`); plain HTTP without.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl Config {
    /// The defaults: no log key, reads need a token, 256 queued batches, transactions of up
    /// to 16,384 receipts, 8 MiB bodies, 30 s per request, 512 connections, 2 readers.
    pub fn new(store: PathBuf, listen: String) -> Self {
        Self {
            store,
            listen,
            log_key: None,
            origin: None,
            public_reads: false,
            queue_depth: 256,
            group_receipts: 16_384,
            max_body: 8 << 20,
            request_timeout: Duration::from_secs(30),
            max_connections: 512,
            readers: 2,
            tls: None,
        }
    }
}

/// Runs the service until SIGTERM or SIGINT, then drains: stops accepting, answers every
/// request in flight (their batches committed first), stops the writer and returns.
/// `listening` is called with the bound address once the server accepts connections.
///
/// # Errors
///
/// [`Error::Start`] when the store, the log key or the address cannot be used.
pub fn serve(config: &Config, listening: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Start(format!("runtime: {e}")))?;
    runtime.block_on(run(config, listening, shutdown_signal()))
}

/// Resolves on SIGTERM or SIGINT (or never, if no handler can be installed).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// [`serve`] on the caller's runtime, stopping when `shutdown` resolves.
///
/// # Errors
///
/// As [`serve`].
pub async fn run(
    config: &Config,
    listening: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let start = |what: &str, e: &dyn std::fmt::Display| Error::Start(format!("{what}: {e}"));
    if let Some(key) = &config.log_key {
        // Fail at start, not at the first checkpoint request.
        lcm_store::tlog_ops::log_signer(key, config.origin.as_deref(), "check")
            .map_err(|e| start("--log-key", &e))?;
    }
    let acceptor = match &config.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    // Opened off the async threads: a PostgreSQL store's client runs a runtime of its own,
    // which may not be started from inside this one.
    let store_location = config.store.clone();
    let reader_count = config.readers.max(1);
    let (writer_store, readers) = tokio::task::spawn_blocking(move || {
        let writer_store = lcm_store::open(&store_location).map_err(|e| start("store", &e))?;
        let mut readers = Vec::new();
        for _ in 0..reader_count {
            readers.push(std::sync::Mutex::new(
                lcm_store::open(&store_location).map_err(|e| start("store", &e))?,
            ));
        }
        Ok::<_, Error>((writer_store, readers))
    })
    .await
    .map_err(|e| start("store", &e))??;
    let (queue, rx) = tokio::sync::mpsc::channel(config.queue_depth.max(1));
    let group = config.group_receipts.max(1);
    let writer = std::thread::Builder::new()
        .name("lcm-writer".to_owned())
        .spawn(move || writer::run(writer_store, rx, group))
        .map_err(|e| start("writer thread", &e))?;
    let readers = Arc::new(routes::Readers::new(readers));
    let state = Arc::new(routes::State {
        queue,
        readers: Arc::clone(&readers),
        log_key: config.log_key.clone(),
        origin: config.origin.clone(),
        public_reads: config.public_reads,
        checkpoints: checkpoints::Checkpoints::new(checkpoints::CACHED_CHECKPOINTS),
    });
    let app = routes::router(state, config.max_body, config.request_timeout);
    let served = async {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| start(&format!("--listen {}", config.listen), &e))?;
        let addr = listener.local_addr().map_err(|e| start("--listen", &e))?;
        let listener = limits::Limited {
            inner: listener,
            slots: Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1))),
        };
        listening(addr);
        match acceptor {
            None => limits::serve(listener, app, config.request_timeout, shutdown).await,
            Some(acceptor) => {
                let listener =
                    tls::TlsListener::new(listener, acceptor).map_err(|e| start("--listen", &e))?;
                limits::serve(listener, app, config.request_timeout, shutdown).await;
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    // Every request has been answered and the router (with the queue's sender) dropped: the
    // writer finishes what is queued and stops. The read connections are closed on a
    // blocking thread, as they were opened: closing a PostgreSQL client blocks on its own
    // runtime.
    let _ = tokio::task::spawn_blocking(move || drop(readers)).await;
    let joined = tokio::task::spawn_blocking(move || writer.join()).await;
    served?;
    match joined {
        Ok(Ok(())) => Ok(()),
        _ => Err(Error::Internal("the writer thread failed".to_owned())),
    }
}
