//! The HTTP routes and their handlers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lcm_store::log::Log;
use lcm_store::{Store, StoredReceipt, tlog_ops};
use lcm_tlog::tiles::{self, Tile};
use serde::Deserialize;
use serde_json::json;

use crate::checkpoints::Checkpoints;
use crate::writer::{Appended, Job, Queue};
use crate::{Error, tokens};

/// The OpenAPI 3 document of the service, committed as `crates/lcm-server/openapi.json` and
/// served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Every route, as the OpenAPI document names it (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
    ("post", "/v1/deployments/{deployment}/receipts"),
    ("get", "/v1/deployments/{deployment}/receipts/{receipt_id}"),
    (
        "get",
        "/v1/deployments/{deployment}/receipts/{receipt_id}/capsule",
    ),
    ("get", "/v1/deployments/{deployment}/checkpoint"),
    ("get", "/v1/deployments/{deployment}/proof/inclusion"),
    ("get", "/v1/deployments/{deployment}/proof/consistency"),
    ("get", "/v1/deployments/{deployment}/tile/{tile_path}"),
];

/// The longest `Idempotency-Key` accepted.
const MAX_KEY: usize = 200;

/// The store's read connections, shared by the handlers (each used by one blocking task at a
/// time).
pub(crate) struct Readers {
    stores: Vec<Mutex<Box<dyn Store>>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("connections", &self.stores.len())
            .finish()
    }
}

impl Readers {
    pub(crate) fn new(stores: Vec<Mutex<Box<dyn Store>>>) -> Self {
        Self {
            stores,
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `f` on one of the read connections, on a blocking thread.
    async fn with<T: Send + 'static>(
        state: &Arc<State>,
        f: impl FnOnce(&dyn Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let state = Arc::clone(state);
        tokio::task::spawn_blocking(move || {
            let readers = &state.readers;
            let n = readers.stores.len().max(1);
            let i = readers.next.fetch_add(1, Ordering::Relaxed) % n;
            let store = readers
                .stores
                .get(i)
                .ok_or_else(|| Error::Internal("no read connection".to_owned()))?
                .lock()
                .map_err(|_| Error::Internal("a read connection failed".to_owned()))?;
            f(&**store)
        })
        .await
        .map_err(|e| Error::Internal(format!("a read task failed: {e}")))?
    }
}

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) queue: Queue,
    /// Shared with [`crate::run`], which drops the read connections off the async threads.
    pub(crate) readers: Arc<Readers>,
    pub(crate) log_key: Option<PathBuf>,
    pub(crate) origin: Option<String>,
    pub(crate) public_reads: bool,
    /// The signed checkpoints made so far, by deployment and size.
    pub(crate) checkpoints: Checkpoints,
}

type Shared = Extract<Arc<State>>;

/// The router, with its limits.
pub(crate) fn router(state: Arc<State>, max_body: usize, timeout: Duration) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    OPENAPI,
                )
            }),
        )
        .route("/v1/deployments/{deployment}/receipts", post(append))
        .route(
            "/v1/deployments/{deployment}/receipts/{receipt_id}",
            get(receipt),
        )
        .route(
            "/v1/deployments/{deployment}/receipts/{receipt_id}/capsule",
            get(capsule),
        )
        .route("/v1/deployments/{deployment}/checkpoint", get(checkpoint))
        .route(
            "/v1/deployments/{deployment}/proof/inclusion",
            get(inclusion),
        )
        .route(
            "/v1/deployments/{deployment}/proof/consistency",
            get(consistency),
        )
        .route("/v1/deployments/{deployment}/tile/{*path}", get(tile))
        .fallback(|| async { Error::NotFound("no such route".to_owned()) })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(
            move |req: Request, next: Next| async move {
                match tokio::time::timeout(timeout, next.run(req)).await {
                Ok(response) => response,
                Err(_) => Error::Unavailable(format!(
                    "the request took longer than {} s; retry it (with the same Idempotency-Key)",
                    timeout.as_secs()
                ))
                .into_response(),
            }
            },
        ))
        .with_state(state)
}

/// Every error answer as the documented JSON `{"error": ...}`: the extractors' own refusals
/// (a malformed path or query, a body over the limit, a wrong method) come as text.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status().as_u16() < 400 || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let text = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_owned()
    } else {
        text
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        axum::body::Body::from(json!({ "error": text }).to_string()),
    )
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(Extract(state): Shared) -> Result<&'static str, Error> {
    Readers::with(&state, |s| {
        s.chains()
            .map_err(|e| Error::Unavailable(format!("the store is not reachable: {e}")))
    })
    .await?;
    Ok("ready\n")
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Checks that `deployment` is a well-formed id and that a read of its log is allowed.
async fn authorize_read(
    state: &Arc<State>,
    headers: &HeaderMap,
    deployment: &str,
) -> Result<(), Error> {
    check_deployment(deployment)?;
    if state.public_reads {
        return Ok(());
    }
    let token = bearer(headers).ok_or(Error::Unauthorized)?;
    let deployment = deployment.to_owned();
    Readers::with(state, move |s| {
        tokens::authorize(s, &token, &deployment).map(drop)
    })
    .await
}

fn check_deployment(deployment: &str) -> Result<(), Error> {
    lcm_model::strict::check_id("deployment", deployment).map_err(|e| Error::Input(e.to_string()))
}

/// A receipt id as `lcm infer` accepts one (not empty, no control characters): any other
/// cannot be in a chain, and is refused with 400 before a store is asked (PostgreSQL's text
/// cannot even hold a NUL).
fn check_receipt_id(receipt_id: &str) -> Result<(), Error> {
    lcm_model::strict::check_id("receipt_id", receipt_id).map_err(|e| Error::Input(e.to_string()))
}

/// The acknowledgement of a receipt: the object `lcm infer --json` prints.
fn ack(r: &StoredReceipt) -> serde_json::Value {
    json!({"sequence": r.sequence, "receipt_id": r.receipt_id, "digest": r.digest})
}

async fn append(
    Extract(state): Shared,
    Path(deployment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    check_deployment(&deployment)?;
    let token = bearer(&headers).ok_or(Error::Unauthorized)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .filter(|k| {
                    !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic())
                })
                .ok_or_else(|| {
                    Error::Input(format!(
                        "Idempotency-Key: 1 to {MAX_KEY} printable ASCII characters"
                    ))
                })?;
            Some(k.to_owned())
        }
    };
    let dep = deployment.clone();
    Readers::with(&state, move |s| {
        tokens::authorize(s, &token, &dep).map(drop)
    })
    .await?;
    // Parsing is CPU work: off the async threads, without holding a read connection.
    let (lines, digest) = tokio::task::spawn_blocking(move || {
        let text = std::str::from_utf8(&body)
            .map_err(|_| Error::Input("the body is not UTF-8".to_owned()))?;
        let lines = lcm_store::pipeline::parse_requests(text)?;
        if lines.is_empty() {
            return Err(Error::Input("the body holds no request line".to_owned()));
        }
        Ok((
            lines,
            lcm_crypto::hash(lcm_crypto::HashAlgorithm::Sha256, &body),
        ))
    })
    .await
    .map_err(|e| Error::Internal(format!("a parse task failed: {e}")))??;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = Job {
        deployment,
        key,
        body: digest,
        lines,
        reply,
    };
    state.queue.try_send(job).map_err(|e| match e {
        tokio::sync::mpsc::error::TrySendError::Full(_) => Error::Busy,
        tokio::sync::mpsc::error::TrySendError::Closed(_) => {
            Error::Unavailable("the server is stopping".to_owned())
        }
    })?;
    let Appended { receipts, replayed } = answer
        .await
        .map_err(|_| Error::Internal("the writer stopped".to_owned()))??;
    let body = json!({
        "receipts": receipts.iter().map(ack).collect::<Vec<_>>(),
        "replayed": replayed,
    });
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

fn text(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn ops(e: tlog_ops::OpsError) -> Error {
    match e {
        tlog_ops::OpsError::Store(s) => Error::from_store(*s),
        other => Error::Internal(other.to_string()),
    }
}

fn log_key(state: &State) -> Result<PathBuf, Error> {
    state.log_key.clone().ok_or_else(|| {
        Error::NotFound("this server has no log key (lcm serve --log-key)".to_owned())
    })
}

async fn receipt(
    Extract(state): Shared,
    Path((deployment, receipt_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    check_receipt_id(&receipt_id)?;
    authorize_read(&state, &headers, &deployment).await?;
    let r = Readers::with(&state, move |s| {
        s.receipt(&deployment, &receipt_id)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no receipt {receipt_id} in deployment {deployment}"
            ))
        })
    })
    .await?;
    let body = json!({
        "sequence": r.sequence,
        "receipt_id": r.receipt_id,
        "digest": r.digest,
        "receipt": serde_json::from_str::<serde_json::Value>(&r.json)
            .map_err(|e| Error::Internal(format!("stored receipt: {e}")))?,
    });
    Ok(axum::Json(body).into_response())
}

/// A receipt's capsule and the header it proves into, signed with the log key: `{"header":
/// HEADER, "capsule": CAPSULE}`, the documents of `lcm header` and `lcm materialize`.
async fn capsule(
    Extract(state): Shared,
    headers: HeaderMap,
    Path((deployment, receipt_id)): Path<(String, String)>,
) -> Result<Response, Error> {
    check_receipt_id(&receipt_id)?;
    authorize_read(&state, &headers, &deployment).await?;
    let key = state.log_key.clone().ok_or_else(|| {
        Error::NotConfigured(
            "this server signs no capsule header: it was started without a log key \
             (lcm serve --log-key)"
                .to_owned(),
        )
    })?;
    let origin = state.origin.clone();
    let body = Readers::with(&state, move |s| {
        let signer = tlog_ops::log_signer(&key, origin.as_deref(), &deployment).map_err(ops)?;
        let (header, capsule) = lcm_store::export::receipt_capsule(
            s,
            &deployment,
            &receipt_id,
            lcm_model::Timestamp::now(),
            signer.signing_key(),
        )?;
        let header = header.to_json(None).map_err(lcm_store::Error::from)?;
        let capsule = capsule.to_json(None).map_err(lcm_store::Error::from)?;
        Ok(format!("{{\"header\":{header},\"capsule\":{capsule}}}"))
    })
    .await?;
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

async fn checkpoint(
    Extract(state): Shared,
    Path(deployment): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let note = read_signed(&state, &headers, deployment, |_, _, signed| {
        Ok(signed.to_text())
    })
    .await?;
    Ok(text(note))
}

/// Authorizes a read of `deployment`'s log ([`authorize_read`]), then runs `read` on a reader
/// connection with the log open.
async fn read_log<T: Send + 'static>(
    state: &Arc<State>,
    headers: &HeaderMap,
    deployment: String,
    read: impl FnOnce(&dyn Store, &Log<'_>) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    authorize_read(state, headers, &deployment).await?;
    Readers::with(state, move |s| read(s, &Log::open(s, &deployment)?)).await
}

/// [`read_log`], with the log's checkpoint at its size signed with the log key
/// ([`signed_checkpoint`]); a server without a log key answers not found.
async fn read_signed<T: Send + 'static>(
    state: &Arc<State>,
    headers: &HeaderMap,
    deployment: String,
    read: impl FnOnce(&dyn Store, &Log<'_>, lcm_tlog::SignedCheckpoint) -> Result<T, Error>
    + Send
    + 'static,
) -> Result<T, Error> {
    authorize_read(state, headers, &deployment).await?;
    let key = log_key(state)?;
    let origin = state.origin.clone();
    let shared = Arc::clone(state);
    Readers::with(state, move |s| {
        let log = Log::open(s, &deployment)?;
        let signed = signed_checkpoint(&shared, &log, &key, origin.as_deref())?;
        read(s, &log, signed)
    })
    .await
}

/// The checkpoint of `log` at its size signed with the log key: kept per (deployment, size),
/// so that reads at one size sign once.
fn signed_checkpoint(
    state: &State,
    log: &Log<'_>,
    key: &std::path::Path,
    origin: Option<&str>,
) -> Result<lcm_tlog::SignedCheckpoint, Error> {
    let deployment = log.deployment();
    state
        .checkpoints
        .get_or_sign(deployment, log.size(), || {
            let signer = tlog_ops::log_signer(key, origin, deployment)?;
            tlog_ops::sign_checkpoint(log, &signer)
        })
        .map_err(ops)
}

/// The query of an inclusion proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    receipt_id: String,
}

async fn inclusion(
    Extract(state): Shared,
    Path(deployment): Path<String>,
    Query(q): Query<InclusionQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    check_receipt_id(&q.receipt_id)?;
    let proof = read_signed(&state, &headers, deployment, move |s, log, signed| {
        let proof = tlog_ops::receipt_proof_at(s, log, &q.receipt_id, signed).map_err(ops)?;
        Ok(proof.to_text())
    })
    .await?;
    Ok(text(proof))
}

/// The query of a consistency proof.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

async fn consistency(
    Extract(state): Shared,
    Path(deployment): Path<String>,
    Query(q): Query<ConsistencyQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let hashes = read_log(&state, &headers, deployment, move |_, log| {
        if q.old == 0 || q.old > q.new || q.new > log.size() {
            return Err(Error::Input(format!(
                "need 0 < old <= new <= {} (the log's size)",
                log.size()
            )));
        }
        Ok(log.consistency_proof(q.old, q.new)?)
    })
    .await?;
    Ok(text(lcm_tlog::consistency::format_hash_lines(&hashes)))
}

async fn tile(
    Extract(state): Shared,
    Path((deployment, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    authorize_read(&state, &headers, &deployment).await?;
    let full = format!("tile/{path}");
    let (tile, entries) = Tile::parse_path(&full)
        .map_err(|_| Error::NotFound(format!("{full} is not a tile path")))?;
    let bytes = Readers::with(&state, move |s| read_tile(s, &deployment, tile, entries)).await?;
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // A tile at a path never changes (a grown partial tile has another path).
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(r)
}

/// The bytes of a hash tile or an entry bundle, or 404 when the log does not reach it.
fn read_tile(s: &dyn Store, deployment: &str, tile: Tile, entries: bool) -> Result<Vec<u8>, Error> {
    let size = s.log_size(deployment)?;
    let width = u64::from(tile.width());
    // The leaves below the tile's last hash: (index * 256 + width) * 256^level.
    let reach = tile
        .index()
        .checked_mul(u64::from(tiles::TILE_WIDTH))
        .and_then(|v| v.checked_add(width))
        .and_then(|v| {
            256u64
                .checked_pow(u32::from(tile.level()))
                .and_then(|p| v.checked_mul(p))
        });
    if reach.is_none_or(|r| r > size) {
        return Err(Error::NotFound(format!(
            "the log of deployment {deployment} (size {size}) has no such tile"
        )));
    }
    if !entries {
        let log = Log::open(s, deployment)?;
        return Ok(log.tile(tile)?.iter().flat_map(|h| *h.as_bytes()).collect());
    }
    let first = tile.index() * u64::from(tiles::TILE_WIDTH);
    let mut digests = Vec::with_capacity(tile.width().into());
    s.scan_receipts(deployment, first, Some(first + width - 1), &mut |r| {
        digests.push(r.digest);
        Ok(())
    })?;
    let entries: Vec<&[u8]> = digests.iter().map(|d| d.as_bytes().as_slice()).collect();
    tiles::encode_entry_bundle(&entries).map_err(|e| Error::Internal(e.to_string()))
}
