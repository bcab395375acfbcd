//! CSRF defence for state-changing calls (RFC 10017 §6.1.3.3:
//! a custom request header plus an Origin check; RFC 9700 §4.4.1).

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use contract::wire::{CSRF_HEADER, CSRF_HEADER_VALUE};
use flow::ErrorCode;

use crate::AppState;
use crate::error::AppError;

/// Lets safe methods through; every other call needs `X-Requested-With: pleo-walkthrough`
/// (which a cross-site form cannot send, and a cross-site fetch cannot send without a CORS
/// preflight the companion never grants) and an `Origin` equal to the app's.
pub async fn require_csrf_header(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    if headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) != Some(CSRF_HEADER_VALUE) {
        return AppError::new(ErrorCode::CsrfHeaderMissing).into_response();
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin != Some(state.config.app_origin()) {
        return AppError::with_message(
            ErrorCode::OriginNotAllowed,
            format!(
                "This call must come from the app at {}; open it there.",
                state.config.app_origin()
            ),
        )
        .into_response();
    }
    next.run(request).await
}
