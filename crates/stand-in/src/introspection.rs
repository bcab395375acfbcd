//! `POST /oauth/token/introspect` (RFC 7662), as Pleo documents it: Basic auth, form `token`,
//! optional `token_type_hint`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde_json::json;

use contract::OAuthError;

use crate::StandIn;
use crate::token::{authenticate_client, form_params, no_store_json, oauth_error};

/// RFC 7662 §2.2: `{"active": false}` for anything unknown, expired or revoked; otherwise the
/// token's scope, client, type, expiry and subject.
pub(crate) async fn introspect(State(stand_in): State<StandIn>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match form_params(&headers, &body) {
        Ok(params) => params,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = authenticate_client(&stand_in, &headers, &params) {
        return refusal.into_response();
    }
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(OAuthError::InvalidRequest, "The token parameter is required.");
    };
    let now = stand_in.clock.now();
    let inner = stand_in.lock();
    let client_id = stand_in.registration.client_id.clone();
    if let Some(access) = inner.access_tokens.get(token.as_str()).filter(|a| a.expires_at > now)
        && let Some(grant) = inner.grants.get(&access.grant).filter(|g| !g.revoked)
    {
        return no_store_json(
            StatusCode::OK,
            json!({
                "active": true, "token_type": "access_token", "scope": grant.scope.join(" "),
                "client_id": client_id, "exp": access.expires_at, "sub": format!("urn:pleo:user:{}", grant.user_id),
            }),
        );
    }
    if let Some(grant) = inner
        .refresh_tokens
        .get(token.as_str())
        .and_then(|g| inner.grants.get(g))
    {
        let live = !grant.revoked
            && !grant.refresh_revoked
            && grant.current_refresh == *token
            && grant.refresh_expires_at > now;
        if live {
            return no_store_json(
                StatusCode::OK,
                json!({
                    "active": true, "token_type": "refresh_token", "scope": grant.scope.join(" "),
                    "client_id": client_id, "exp": grant.refresh_expires_at, "sub": format!("urn:pleo:user:{}", grant.user_id),
                }),
            );
        }
    }
    no_store_json(StatusCode::OK, json!({ "active": false }))
}
