//! The service's errors and the HTTP answers they become.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lcm_store::Error as StoreError;

/// An error of the service, of a request or of a token operation. Cloneable, so that one
/// failed transaction can answer every request in it: that is why a store error is kept as
/// its message ([`Error::from_store`] sorts it into the HTTP class it belongs to) instead of
/// as a source, which `lcm_store::Error` (holding I/O and `SQLite` errors) cannot be cloned
/// into.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request or its input is malformed (400).
    #[error("{0}")]
    Input(String),
    /// The input is well formed but cannot be appended: unknown or stopped deployment, wrong
    /// model (422).
    #[error("{0}")]
    Unprocessable(String),
    /// No token, or a malformed, unknown, wrong or revoked one (401).
    #[error("a valid token is required (Authorization: Bearer TOKEN)")]
    Unauthorized,
    /// A valid token of another deployment (403).
    #[error("the token is not scoped to this deployment")]
    Forbidden,
    /// `lcm token revoke` of an id the store does not hold.
    #[error("no token with this id")]
    UnknownToken,
    /// A batch key recorded with another body (422).
    #[error("this Idempotency-Key was used with another body")]
    KeyReused,
    /// A request id or receipt id the chain or the batch holds already (409).
    #[error("{0}")]
    Conflict(String),
    /// Nothing at this path (404).
    #[error("{0}")]
    NotFound(String),
    /// This server was started without what the request needs: a receipt's capsule without
    /// a log key (501).
    #[error("{0}")]
    NotConfigured(String),
    /// The writer's queue is full (429 with Retry-After).
    #[error("the service is saturated; retry later")]
    Busy,
    /// The request took longer than the server's limit, or the server is stopping (503 with
    /// Retry-After): a batch may have been appended; retry it with the same key.
    #[error("{0}")]
    Unavailable(String),
    /// A failure of the store or the server (500).
    #[error("{0}")]
    Internal(String),
    /// The server could not start (bad address, key or store).
    #[error("{0}")]
    Start(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::from_store(e)
    }
}

impl Error {
    /// The service's error for a store error.
    pub fn from_store(e: StoreError) -> Self {
        let text = e.to_string();
        match e {
            // The store's message names `lcm infer`'s flag, which a service cannot take.
            StoreError::RepeatedRequest {
                deployment,
                request_id,
            } => Self::Conflict(format!(
                "request_id {request_id:?} is already used in the chain of deployment {deployment} \
                 (or twice in this batch)"
            )),
            StoreError::RequestLine { .. } | StoreError::StrictLine { .. } => Self::Input(text),
            StoreError::Duplicate { .. } | StoreError::DuplicateReceipt { .. } => {
                Self::Conflict(text)
            }
            StoreError::NotStored { .. }
            | StoreError::NotDeployed { .. }
            | StoreError::WrongModel { .. }
            | StoreError::NoPredeployment { .. }
            | StoreError::BrokenLink { .. } => Self::Unprocessable(text),
            StoreError::NoReceipt { .. } | StoreError::NoChain { .. } => Self::NotFound(text),
            _ => Self::Internal(text),
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Input(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) | Self::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::NotFound(_) | Self::UnknownToken => StatusCode::NOT_FOUND,
            Self::NotConfigured(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Busy => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) | Self::Start(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({"error": self.to_string()}).to_string();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if matches!(self, Self::Busy | Self::Unavailable(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, Self::Unauthorized) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
