//! `/.well-known/oauth-authorization-server` (RFC 8414): what the stand-in supports.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use contract::oauth::{AUTHORIZE_PATH, CLIENT_AUTH_METHOD, INTROSPECTION_PATH, TOKEN_PATH};
use serde_json::{Value, json};

use crate::{Registration, StandIn};

/// The metadata document. The issuer is the configured one, or `http://{Host}` when unset.
pub(crate) async fn metadata(State(stand_in): State<StandIn>, headers: HeaderMap) -> Json<Value> {
    let sends_iss = stand_in.settings.issuer.is_some();
    let issuer = stand_in.settings.issuer.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    });
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECTION_PATH}"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": [pkce::CodeChallenge::METHOD],
        "token_endpoint_auth_methods_supported": [CLIENT_AUTH_METHOD],
        "introspection_endpoint_auth_methods_supported": [CLIENT_AUTH_METHOD],
        "scopes_supported": Registration::ALL_SCOPES,
        "authorization_response_iss_parameter_supported": sends_iss,
    }))
}
