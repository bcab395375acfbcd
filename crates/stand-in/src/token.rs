//! `/oauth/token`: the authorization_code and refresh_token grants (RFC 6749 §4.1.3, §6).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use flow::token_error::OAuthErrorBody;
use serde_json::json;

use contract::OAuthError;

use crate::StandIn;
use crate::authorize::unique_params;
use crate::store::{IssuedTokens, MAX_GRANTS, TokenFaults};

/// A JSON response with the RFC 6749 §5.1 caching headers.
pub(crate) fn no_store_json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An RFC 6749 §5.2 refusal: a typed error that the handlers' checks return, answered as the
/// RFC's JSON (`invalid_client` as 401 with a Basic challenge).
#[derive(Debug)]
pub(crate) struct OAuthRefusal {
    error: OAuthError,
    description: String,
}

impl OAuthRefusal {
    pub(crate) fn new(error: OAuthError, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

impl IntoResponse for OAuthRefusal {
    fn into_response(self) -> Response {
        let status = if self.error == OAuthError::InvalidClient {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = OAuthErrorBody {
            error: self.error.as_str().to_owned(),
            error_description: Some(self.description),
        };
        let mut response = no_store_json(status, serde_json::to_value(body).unwrap_or_default());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"stand-in\""),
            );
        }
        response
    }
}

/// An RFC 6749 §5.2 error response ([`OAuthRefusal`]).
pub(crate) fn oauth_error(error: OAuthError, description: &str) -> Response {
    OAuthRefusal::new(error, description).into_response()
}

fn token_response(issued: IssuedTokens) -> Response {
    no_store_json(
        StatusCode::OK,
        json!({
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
            "scope": issued.scope.join(" "),
        }),
    )
}

/// Checks `client_secret_basic` credentials, refusing a secret in the body (RFC 6749 §2.3.1).
pub(crate) fn authenticate_client(
    stand_in: &StandIn,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(), OAuthRefusal> {
    if params.contains_key("client_secret") {
        return Err(OAuthRefusal::new(
            OAuthError::InvalidClient,
            "Send the client credentials in the Authorization header (client_secret_basic), not in the body.",
        ));
    }
    match basic_credentials(headers) {
        Some((id, secret)) if stand_in.registration.authenticates(&id, &secret) => {}
        _ => {
            return Err(OAuthRefusal::new(
                OAuthError::InvalidClient,
                "Client authentication failed.",
            ));
        }
    }
    if params
        .get("client_id")
        .is_some_and(|id| *id != stand_in.registration.client_id)
    {
        return Err(OAuthRefusal::new(
            OAuthError::InvalidClient,
            "The client_id in the body differs from the authenticated client.",
        ));
    }
    Ok(())
}

/// The form parameters of a `application/x-www-form-urlencoded` body, or the §5.2 error.
pub(crate) fn form_params(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthRefusal> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    match std::str::from_utf8(body).ok().filter(|_| is_form).map(unique_params) {
        Some(Ok(params)) => Ok(params),
        Some(Err(name)) => Err(OAuthRefusal::new(
            OAuthError::InvalidRequest,
            format!("The parameter {name} appears more than once."),
        )),
        None => Err(OAuthRefusal::new(
            OAuthError::InvalidRequest,
            "The body must be application/x-www-form-urlencoded UTF-8.",
        )),
    }
}

/// The client credentials of an `Authorization: Basic` header, each form-urldecoded as
/// RFC 6749 §2.3.1 requires.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// `POST /oauth/token`.
///
/// Client authentication is `client_secret_basic` only, as Pleo's client configuration says:
/// credentials in the body are refused with `invalid_client` (RFC 6749 §2.3.1).
pub(crate) async fn token(State(stand_in): State<StandIn>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match form_params(&headers, &body) {
        Ok(params) => params,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = authenticate_client(&stand_in, &headers, &params) {
        return refusal.into_response();
    }
    let grant_type = params.get("grant_type").map(String::as_str).unwrap_or_default();
    stand_in.count_token_request(grant_type);
    let fault = stand_in.next_token_fault(params.get("refresh_token").map(String::as_str));
    let delay = |fault: &TokenFaults| tokio::time::sleep(std::time::Duration::from_millis(fault.delay_ms));
    if let Some(fault) = fault.filter(|f| !f.process_before_delay) {
        delay(&fault).await;
        if let Some(refusal) = injected_error(&fault) {
            return refusal;
        }
    }
    let answer = match grant_type {
        "authorization_code" => authorization_code(&stand_in, &params),
        "refresh_token" => refresh(&stand_in, &params),
        "" => oauth_error(OAuthError::InvalidRequest, "grant_type is required."),
        _ => oauth_error(
            OAuthError::UnsupportedGrantType,
            "Only authorization_code and refresh_token are supported.",
        ),
    };
    match fault.filter(|f| f.process_before_delay) {
        // The work is done (a refresh has rotated): whether the client waits or not.
        Some(fault) => {
            delay(&fault).await;
            injected_error(&fault).unwrap_or(answer)
        }
        None => answer,
    }
}

/// The error status a fault answers with, if it has one (`Retry-After` with a 429 or 503).
fn injected_error(fault: &TokenFaults) -> Option<Response> {
    let status = fault.status.and_then(|s| StatusCode::from_u16(s).ok())?;
    let mut response = no_store_json(
        status,
        json!({ "error": OAuthError::ServerError.as_str(), "error_description": "Injected by a fault knob." }),
    );
    if let Some(secs) = fault.retry_after_secs.filter(|_| matches!(status.as_u16(), 429 | 503)) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Some(response)
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6: one use, unexpired, same redirect URI, and a verifier
/// whose S256 hash is the challenge. A second use revokes what the first issued (§4.1.2).
fn authorization_code(stand_in: &StandIn, params: &HashMap<String, String>) -> Response {
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    let now = stand_in.clock.now();
    let mut inner = stand_in.lock();
    let Some(code) = inner.codes.get_mut(get("code")) else {
        return oauth_error(OAuthError::InvalidGrant, "The authorization code is unknown.");
    };
    if let Some(grant) = code.redeemed_grant {
        inner.revoke_grant(grant);
        return oauth_error(
            OAuthError::InvalidGrant,
            "The authorization code was already used; the tokens it gave are revoked.",
        );
    }
    if now >= code.expires_at {
        return oauth_error(OAuthError::InvalidGrant, "The authorization code has expired.");
    }
    if code.redirect_uri != get("redirect_uri") {
        return oauth_error(
            OAuthError::InvalidGrant,
            "redirect_uri differs from the one in the authorization request.",
        );
    }
    if !pkce::verify(get("code_verifier"), &code.code_challenge) {
        return oauth_error(
            OAuthError::InvalidGrant,
            "The code_verifier is missing, malformed, or does not match the code_challenge.",
        );
    }
    let (scope, user) = (code.scope.clone(), code.user_id.clone());
    inner.sweep(now, stand_in.settings.code_ttl);
    if inner.grants.len() >= MAX_GRANTS {
        return no_store_json(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": OAuthError::TemporarilyUnavailable.as_str(), "error_description": "The stand-in holds as many grants as it may." }),
        );
    }
    let (grant, issued) = inner.issue_for_new_grant(&stand_in.settings, now, scope, user);
    if let Some(code) = inner.codes.get_mut(get("code")) {
        code.redeemed_grant = Some(grant);
    }
    token_response(issued)
}

/// RFC 6749 §6 with Pleo's rotation: a refresh returns a new access and refresh token and
/// invalidates every earlier one; presenting an old or expired refresh token revokes the whole
/// authorization (RFC 9700 §4.14.2, refresh token reuse detection).
fn refresh(stand_in: &StandIn, params: &HashMap<String, String>) -> Response {
    let presented = params.get("refresh_token").map(String::as_str).unwrap_or("");
    let now = stand_in.clock.now();
    let mut inner = stand_in.lock();
    let Some(&grant_id) = inner.refresh_tokens.get(presented) else {
        return oauth_error(OAuthError::InvalidGrant, "The refresh token is unknown.");
    };
    let Some(grant) = inner.grants.get(&grant_id) else {
        return oauth_error(OAuthError::InvalidGrant, "The refresh token is unknown.");
    };
    if grant.revoked || grant.refresh_revoked {
        return oauth_error(OAuthError::InvalidGrant, "The refresh token was revoked.");
    }
    if grant.current_refresh != presented || now >= grant.refresh_expires_at {
        if grant.current_refresh != presented {
            inner.revoked_for_reuse += 1;
        }
        inner.revoke_grant(grant_id);
        return oauth_error(
            OAuthError::InvalidGrant,
            "The refresh token was already used or has expired; every token of this authorization is revoked.",
        );
    }
    token_response(inner.rotate(&stand_in.settings, now, grant_id))
}
