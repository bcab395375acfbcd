//! The companion's one error type: details to the log, a short JSON body to the browser.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use contract::wire::ApiError;
use flow::ErrorCode;

/// An error answered as `{"error": code, "message": sentence}` with a fitting status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    /// The stable code.
    pub code: ErrorCode,
    /// The sentence for a person.
    pub message: String,
    /// Seconds after which trying again makes sense, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl AppError {
    /// The error with its code's standard sentence.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.message().to_owned(),
            retry_after: None,
        }
    }

    /// The error with a sentence of its own.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The HTTP status of each code.
    pub fn status(&self) -> StatusCode {
        use ErrorCode::*;
        match self.code {
            NotSignedIn | ReauthorizationRequired => StatusCode::UNAUTHORIZED,
            CsrfHeaderMissing | OriginNotAllowed | PathNotAllowed => StatusCode::FORBIDDEN,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            NotFound | HandoffNotExpected => StatusCode::NOT_FOUND,
            HandoffPending | HandoffConflict => StatusCode::CONFLICT,
            TokenEndpointFailed
            | TokenEndpointUnreachable
            | ApiUnreachable
            | RefreshOutcomeUnknown
            | DisconnectFailed => StatusCode::BAD_GATEWAY,
            TokenEndpointTimeout | ApiTimeout => StatusCode::GATEWAY_TIMEOUT,
            Overloaded | SessionStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal | ConfigInvalid | CompanionUnreachable => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(code = %self.code, "{}", self.message);
        }
        let mut response = (status, Json(ApiError::with_message(self.code, self.message))).into_response();
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}
