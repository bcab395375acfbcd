//! The extractors the handlers name their inputs with, each refusing with an [`AppError`]: JSON
//! bodies (415, 413, 400 with a sentence), a raw body (the proxy), and the session the browser's
//! cookie names (401 `not_signed_in`; 503 when the store does not answer).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use flow::ErrorCode;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::AppError;
use crate::http::cookies;
use crate::sessions::SessionRecord;

/// A JSON request body whose rejection is an [`AppError`]: `unsupported_media_type` (415),
/// `body_too_large` (413) or `invalid_request` (400), each with a sentence.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::new(ErrorCode::UnsupportedMediaType)),
            Err(JsonRejection::JsonSyntaxError(_)) => Err(AppError::with_message(
                ErrorCode::InvalidRequest,
                "The body is not valid JSON.",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(AppError::with_message(
                ErrorCode::InvalidRequest,
                format!("The JSON does not have the expected fields: {}", e.body_text()),
            )),
            Err(other) => Err(body_error(other.status())),
        }
    }
}

/// A JSON body that may be left out: no body is `T::default()`, any other is read as
/// [`JsonBody`] reads it (logout, the fault knobs' parameters).
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::body::HttpBody as _;
        if request.body().is_end_stream() {
            return Ok(Self(T::default()));
        }
        JsonBody::from_request(request, state)
            .await
            .map(|JsonBody(value)| Self(value))
    }
}

/// A raw request body (the proxy) whose rejection is an [`AppError`].
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|e| body_error(e.status()))
    }
}

/// A body that could not be read: over [`crate::MAX_BODY_BYTES`] (413) or cut off.
fn body_error(status: StatusCode) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(ErrorCode::BodyTooLarge)
    } else {
        AppError::with_message(
            ErrorCode::InvalidRequest,
            "The request body could not be read (cut off).",
        )
    }
}

/// The live session the browser's session cookie names, as read when the request came. As an
/// extractor, a handler that needs one says so in its signature, and a request without one is
/// 401 `not_signed_in` (503 `session_store_unavailable` when the store does not answer: the
/// session is not lost); a handler that works signed in or not takes [`OptionalSignedIn`], and
/// one that decides the order of its checks takes `Result<SignedIn, AppError>`.
pub struct SignedIn {
    /// The session's id (the cookie's value).
    pub id: String,
    /// The session's record when the request came.
    pub record: SessionRecord,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Ok(scope) = cookies::Scope::from_request_parts(parts, state).await;
        let id = scope
            .get(&jar, cookies::SESSION)
            .ok_or_else(|| AppError::new(ErrorCode::NotSignedIn))?;
        let record = state
            .sessions
            .load(&id, state.clock.now())
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::NotSignedIn))?;
        Ok(Self { id, record })
    }
}

/// The session if the browser has a live one, `None` if it has none; a store that does not
/// answer is still refused (503): "no answer" is not "no session".
pub struct OptionalSignedIn(pub Option<SignedIn>);

impl FromRequestParts<AppState> for OptionalSignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match SignedIn::from_request_parts(parts, state).await {
            Ok(signed_in) => Ok(Self(Some(signed_in))),
            Err(e) if e.code == ErrorCode::NotSignedIn => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}
