//! The JSON spoken between the browser and the companion (docs/architecture.md), and the
//! headers they share.

use crate::prelude::*;

use serde::{Deserialize, Serialize};

use crate::{Environment, ErrorCode};

/// The header every state-changing call carries (BFF CSRF defence), and its value.
pub const CSRF_HEADER: &str = "x-requested-with";
/// The value the app sends in [`CSRF_HEADER`].
pub const CSRF_HEADER_VALUE: &str = "pleo-walkthrough";
/// The header the embedded walkthrough (the `/embed` frame) sends with every call to the
/// companion: its cookies are the frame's own, partitioned ones (docs/architecture.md,
/// "Embedding in another site").
pub const EMBED_HEADER: &str = "x-walkthrough-embed";
/// The value the frame sends in [`EMBED_HEADER`].
pub const EMBED_HEADER_VALUE: &str = "frame";
/// The query parameter that says the same as [`EMBED_HEADER`] where a request cannot carry a
/// header (a download link): `?embed=frame`.
pub const EMBED_QUERY_PARAMETER: &str = "embed";
/// The query parameter of `GET /api/embed/way-back` naming the documentation page to go back to.
pub const WAY_BACK_TARGET_PARAMETER: &str = "to";
/// Seconds a sign-in attempt lives: the attempt cookie's Max-Age, the companion's record of it,
/// and how long the frame waits for its pop-up's callback.
pub const ATTEMPT_SECS: u64 = 10 * 60;
/// Seconds a callback handed over by a pop-up waits for its frame to take it.
pub const HANDOFF_SECS: u64 = 60;
/// Header on every relayed API response: the API's own status (tells it from a companion error).
pub const UPSTREAM_STATUS: &str = "x-upstream-status";
/// Header on every relayed API response: milliseconds the API took, as the companion measured.
pub const UPSTREAM_DURATION: &str = "x-upstream-duration-ms";

/// `GET /api/config`: the public settings. Never the client secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicConfig {
    /// Which authorisation server and API.
    pub environment: Environment,
    /// The registered client ID.
    pub client_id: String,
    /// The authorisation server base URL.
    pub authorization_server_url: String,
    /// Where the browser is sent to authorise.
    pub authorize_url: String,
    /// Where the companion exchanges codes (shown, never called by the browser).
    pub token_url: String,
    /// The API base URL the companion calls.
    pub api_base_url: String,
    /// The scopes requested.
    pub scopes: Vec<String>,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The client authentication method at the token endpoint.
    pub token_endpoint_auth_method: String,
    /// The issuer identifier an `iss` in the authorization response must equal (RFC 9207
    /// §2.4): the server's RFC 8414 metadata `issuer` when it publishes metadata, else the
    /// authorisation server base URL.
    #[serde(default)]
    pub issuer: String,
    /// Whether the server names itself (`iss`) in every authorization response, as its metadata
    /// says (`authorization_response_iss_parameter_supported`): then a response without `iss`
    /// is refused.
    #[serde(default)]
    pub iss_always_sent: bool,
}

/// `POST /api/authorize/start`: binds a sign-in attempt to this browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeStart {
    /// The state the browser will send.
    pub state: String,
    /// The S256 challenge the browser will send.
    pub code_challenge: String,
    /// Always `S256`.
    pub code_challenge_method: String,
}

/// `POST /api/token`: the callback's code, with the verifier and state kept since the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenExchange {
    /// The authorization code from the callback.
    pub code: String,
    /// The PKCE verifier (RFC 7636 §4.5).
    pub code_verifier: String,
    /// The state the callback carried, already checked by the browser.
    pub state: String,
}

/// What the browser may know about the tokens: never the tokens themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    /// `token_type` as the server said it (`Bearer` if it said nothing).
    pub token_type: String,
    /// Seconds of life the server gave the access token.
    pub expires_in: u64,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// Granted scopes (the requested ones if the server did not say).
    pub scope: String,
    /// The first characters of the access token and its length, e.g. `Ab3d… (43 chars)`.
    pub access_token_hint: String,
    /// Whether a refresh token is held server-side.
    pub has_refresh_token: bool,
}

/// `GET /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Whether this browser has a session with tokens.
    pub signed_in: bool,
    /// The environment in use.
    pub environment: Environment,
    /// The token summary when signed in.
    pub tokens: Option<TokenSummary>,
}

/// `POST /api/logout` body: `{"disconnect": true}` also revokes at Pleo.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logout {
    /// Revoke every token of the client with `DELETE /v1/installations/me` first. Pleo
    /// documents no RFC 7009 endpoint; this is its revocation, and it needs this explicit flag.
    #[serde(default)]
    pub disconnect: bool,
}

/// `POST /api/faults/{knob}` body: the embedded stand-in's knobs' optional parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultParams {
    /// For `token-endpoint`: the status to answer with (500, 503) or none for delay only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For `token-endpoint`: milliseconds to wait before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// For `token-endpoint`: how many of the next token requests are affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
    /// For `token-endpoint`: process the refresh first, then wait and answer (a server that
    /// finishes its work after the client has given up).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub process_before_delay: bool,
    /// For `clock`: seconds that pass for this session's grant alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_secs: Option<i64>,
}

/// Every companion error body: `{"error": code, "message": sentence}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The stable code.
    pub error: ErrorCode,
    /// A sentence for a person.
    pub message: String,
}

impl ApiError {
    /// The error with its code's standard sentence.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            error: code,
            message: code.message().to_owned(),
        }
    }

    /// The error with a sentence of its own.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: code,
            message: message.into(),
        }
    }
}

/// A short, safe hint of a secret value: its first four characters and its length.
pub fn token_hint(token: &str) -> String {
    let head: String = token.chars().take(4).collect();
    format!("{head}… ({} chars)", token.chars().count())
}

/// What a transcript entry records; the wire form is the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptStep {
    /// The code exchange at the token endpoint (RFC 6749 §4.1.3).
    TokenExchange,
    /// A refresh at the token endpoint (RFC 6749 §6).
    Refresh,
    /// A call to the API through the proxy.
    ApiCall,
    /// `DELETE /v1/installations/me`, Pleo's "disconnect".
    Disconnect,
}

/// Read by its wire name ([`TranscriptStep::as_str`]).
impl<'de> Deserialize<'de> for TranscriptStep {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::wire_name::deserialize(deserializer, &Self::ALL, Self::as_str)
    }
}

impl TranscriptStep {
    /// Every step, in declaration order.
    pub const ALL: [Self; 4] = [Self::TokenExchange, Self::Refresh, Self::ApiCall, Self::Disconnect];

    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenExchange => "token_exchange",
            Self::Refresh => "refresh",
            Self::ApiCall => "api_call",
            Self::Disconnect => "disconnect",
        }
    }
}

/// One server-side HTTP exchange of the companion, redacted (`GET /api/transcript`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    /// This entry's name in `/api/transcript/{id}/as/{language}`: a hash of the entry as the
    /// companion stored it, filled in when served (empty in the store).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// What the exchange was for.
    pub step: TranscriptStep,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// The URL called (never carries a secret: tokens travel in headers and bodies).
    pub url: String,
    /// Request headers worth showing, redacted.
    pub request_headers: Vec<(String, String)>,
    /// The request body, redacted.
    pub request_body: Option<String>,
    /// The response status, if a response came.
    pub status: Option<u16>,
    /// Milliseconds until the whole response was read.
    pub duration_ms: u64,
    /// The response body (token responses redacted; API bodies summarised by size).
    pub response_body: Option<String>,
    /// What went wrong, when no response came.
    pub error: Option<String>,
}

impl TranscriptEntry {
    /// An entry for a `method` call of `url` started at `started_at_ms`, to be filled in as the
    /// exchange goes.
    pub fn new(step: TranscriptStep, started_at_ms: u64, method: &str, url: &str) -> Self {
        Self {
            id: String::new(),
            step,
            started_at_ms,
            method: method.to_owned(),
            url: url.to_owned(),
            request_headers: Vec::new(),
            request_body: None,
            status: None,
            duration_ms: 0,
            response_body: None,
            error: None,
        }
    }
}

/// `POST /api/embed/handoff`: the pop-up's callback, handed to the frame through the companion
/// when the pop-up lost its link to the frame (`Cross-Origin-Opener-Policy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffDelivery {
    /// The callback's query as the pop-up received it (`?code=…&state=…&iss=…`).
    pub callback: String,
}

/// `GET /api/embed/cookie-check`: whether the probe cookie that the `POST` set came back, that
/// is, whether this browser keeps the frame's cookies on this documentation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieCheck {
    /// The probe cookie came back.
    pub kept: bool,
}

/// `GET /api/embed/way-back?to=…`: the documentation page the full page may lead back to, when
/// `to` is a page of a site allowed to frame the walkthrough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WayBack {
    /// The documentation page.
    pub to: String,
}

/// `POST /api/embed/handoff/take`: the frame asks for the callback of its sign-in `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffClaim {
    /// The state the frame sent to the authorize endpoint.
    pub state: String,
}

#[cfg(test)]
mod tests {
    use super::TranscriptStep;

    #[test]
    fn every_transcript_step_reads_back_from_the_name_it_is_written_with() {
        for (index, step) in TranscriptStep::ALL.into_iter().enumerate() {
            assert_eq!(step as usize, index);
            let json = serde_json::to_string(&step).unwrap();
            assert_eq!(json, std::format!("\"{}\"", step.as_str()));
            assert_eq!(serde_json::from_str::<TranscriptStep>(&json).unwrap(), step);
        }
        assert!(serde_json::from_str::<TranscriptStep>("\"sideways\"").is_err());
    }
}
