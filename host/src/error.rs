//! The one error type domain services return, and its single mapping to HTTP:
//! the Confluence JSON envelope (REST) or an HTML error page (UI, see
//! `web::UiError`). Services never build responses themselves.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// Authentication is required (or failed).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    /// A stale version or a concurrent change.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// The node cannot take writes right now (read-only mode, fenced).
    #[error("{0}")]
    Unavailable(String),
    #[error("database error: {}", db_detail(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("database pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("{0}")]
    NotImplemented(String),
    #[error("{0}")]
    Internal(String),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Error::Db(e) if is_unique_violation(e) => StatusCode::CONFLICT,
            Error::Db(e) if is_fenced(e) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Db(e) if is_unstorable_text(e) => StatusCode::BAD_REQUEST,
            Error::Db(_) | Error::Pool(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to the client. Internal details are logged, not sent.
    pub fn public_message(&self) -> String {
        match self {
            Error::Db(e) if is_unique_violation(e) => {
                "the change conflicts with another change made at the same time; reload and retry"
                    .into()
            }
            Error::Db(e) if is_fenced(e) => FENCED_MESSAGE.into(),
            Error::Db(e) if is_unstorable_text(e) => {
                "a value contains a character that cannot be stored (such as NUL, U+0000)".into()
            }
            Error::Db(_) | Error::Pool(_) | Error::Internal(_) => {
                "internal error; the details are in the node's log".into()
            }
            other => other.to_string(),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }

    pub(crate) fn log_if_internal(&self) {
        if matches!(self, Error::Db(e) if is_fenced(e)) {
            tracing::warn!(error = %self, "write refused by the fence");
        } else if self.status().is_server_error()
            && !matches!(self, Error::Unavailable(_) | Error::NotImplemented(_))
        {
            tracing::error!(error = %self, "request failed");
        }
    }
}

fn db_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!(
            "{} ({}){}",
            d.message(),
            d.code().code(),
            d.detail().map(|x| format!(": {x}")).unwrap_or_default()
        ),
        None => e.to_string(),
    }
}

/// The database refused a write because this node's cluster membership
/// lapsed (the fence of migration V6).
pub(crate) fn is_fenced(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code() == "CR001")
}

/// Text PostgreSQL cannot hold (a NUL character) reached a query: the
/// client's input, not a fault of the node.
fn is_unstorable_text(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::CHARACTER_NOT_IN_REPERTOIRE)
}

pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Confluence's error envelope; clients read `message` and `reason`. The
/// OpenAPI document describes every REST error with this type.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorEnvelope {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    pub data: ErrorData,
    pub message: String,
    pub reason: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorData {
    pub authorized: bool,
    pub valid: bool,
    #[serde(rename = "allowedInReadOnlyMode")]
    pub allowed_in_read_only_mode: bool,
    /// Confluence's per-field errors; always empty here (the message says
    /// what is wrong), so the element type is left open.
    pub errors: Vec<serde_json::Value>,
    pub successful: bool,
}

/// Confluence's error envelope; clients read `message` and `reason`.
pub(crate) fn envelope(status: StatusCode, message: &str) -> Response {
    envelope_with(status, message, true)
}

/// [`envelope`] with Confluence's `allowedInReadOnlyMode` flag set as given.
pub(crate) fn envelope_with(
    status: StatusCode,
    message: &str,
    allowed_in_read_only: bool,
) -> Response {
    let body = serde_json::to_string(&ErrorEnvelope {
        status_code: status.as_u16(),
        data: ErrorData {
            authorized: !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
            valid: true,
            allowed_in_read_only_mode: allowed_in_read_only,
            errors: Vec::new(),
            successful: false,
        },
        message: message.to_owned(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
    })
    .unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Cairn\""),
        );
    }
    resp
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log_if_internal();
        envelope(self.status(), &self.public_message())
    }
}

/// What a write on a fenced node is told (see `cluster/fencing.rs`).
pub(crate) const FENCED_MESSAGE: &str = "This node has lost contact with the cluster coordinator (etcd) and does not accept changes until it rejoins; nothing was changed. Retry: the load balancer sends you to a healthy node.";
