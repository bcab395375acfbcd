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

    /// The HTTP status of each code. Every code is named (no catch-all), so a new code does
    /// not compile until it has a status.
    pub fn status(&self) -> StatusCode {
        use ErrorCode::*;
        match self.code {
            CallbackTooLarge
            | CallbackParameterRepeated
            | IssuerMismatch
            | IssuerMissing
            | StateMissing
            | NoPendingAuthorization
            | StateMismatch
            | AuthorizationDenied
            | AuthorizationFailed
            | CodeMissing
            | VerifierInvalid
            | AttemptMissing
            | AttemptMismatch
            | InvalidRequest
            | TokenRequestRejected => StatusCode::BAD_REQUEST,
            // What the page says of the browser itself (a blocked pop-up, refused frame cookies):
            // the companion never answers these, and a request that did would be a bad one.
            PopupBlocked | PopupClosed | FrameCookiesRefused | WayBackRefused | FrameRefused => StatusCode::BAD_REQUEST,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_answered_with_a_client_or_server_error_status() {
        for code in ErrorCode::ALL {
            let status = AppError::new(code).status();
            assert!(status.is_client_error() || status.is_server_error(), "{code}: {status}");
        }
        assert_eq!(
            AppError::new(ErrorCode::Overloaded).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            AppError::new(ErrorCode::StateMismatch).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
