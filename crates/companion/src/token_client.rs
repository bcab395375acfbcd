//! The confidential client at the token endpoint: code exchange and refresh.

use std::time::Duration;

use base64::Engine as _;
use flow::ErrorCode;
use flow::wire::OAuthErrorBody;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::AppError;
use crate::sessions::TokenSet;
use crate::transcript::{self, TranscriptEntry};
use std::time::Instant;

/// Lifetime assumed when a token response has no `expires_in` (Pleo's documented 15 minutes).
pub const DEFAULT_EXPIRES_IN: u64 = 15 * 60;

/// A successful token response (RFC 6749 §5.1). Tokens go straight into secrets.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    refresh_token: Option<SecretString>,
    expires_in: Option<u64>,
    token_type: Option<String>,
    scope: Option<String>,
}

/// Why a token request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// The server refused the grant (RFC 6749 §5.2), with its `error` and description.
    Rejected { error: String, description: Option<String> },
    /// A transient failure (5xx, timeout, unreachable): worth a bounded retry for refresh.
    Transient(AppError),
    /// An answer that is not a token response.
    Malformed(AppError),
}

impl TokenFailure {
    /// The error the browser gets. A rejected refresh is terminal: authorise again.
    pub fn into_app_error(self, refreshing: bool) -> AppError {
        match self {
            Self::Rejected { .. } if refreshing => AppError::new(ErrorCode::ReauthorizationRequired),
            Self::Rejected { error, description } => AppError::with_message(
                ErrorCode::TokenRequestRejected,
                format!(
                    "The authorisation server refused the token request: {error}{}",
                    description.map(|d| format!(" ({d})")).unwrap_or_default()
                ),
            ),
            Self::Transient(e) | Self::Malformed(e) => e,
        }
    }
}

/// The HTTP client used for every outgoing call: no redirects (RFC 9700 §4.11, SSRF), timeouts.
pub fn http_client(timeout_secs: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(timeout_secs.min(5)))
        .timeout(Duration::from_secs(timeout_secs))
        .user_agent(concat!("pleo-oauth-walkthrough-companion/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}

/// The token endpoint client of one registered confidential client.
#[derive(Debug, Clone)]
pub struct TokenClient {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
}

impl TokenClient {
    /// A client for `token_url` authenticating as `client_id`.
    pub fn new(http: reqwest::Client, token_url: String, client_id: String, client_secret: SecretString, redirect_uri: String) -> Self {
        Self { http, token_url, client_id, client_secret, redirect_uri }
    }

    /// RFC 6749 §4.1.3 + RFC 7636 §4.5: exchanges `code` with its verifier. Not retried: a code
    /// is single use, and a replay would revoke what the first use issued.
    pub async fn exchange(&self, code: &str, verifier: &str, now: u64, log: &mut Vec<TranscriptEntry>) -> Result<TokenSet, TokenFailure> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", verifier),
        ];
        self.request("token_exchange", &form, now, log).await
    }

    /// RFC 6749 §6: a refresh. Transient failures are retried twice with backoff (Pleo: back
    /// off for transient failures only); a rejection is returned at once.
    pub async fn refresh(&self, refresh_token: &SecretString, now: u64, log: &mut Vec<TranscriptEntry>) -> Result<TokenSet, TokenFailure> {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose_secret())];
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            match self.request("refresh", &form, now, log).await {
                Err(TokenFailure::Transient(_)) if attempt < 2 => {
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                other => return other,
            }
        }
    }

    /// `client_secret_basic` (RFC 6749 §2.3.1): id and secret form-urlencoded, joined by `:`,
    /// base64-encoded. Marked sensitive so no HTTP layer logs it.
    fn basic_authorization(&self) -> HeaderValue {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = format!("{}:{}", encode(&self.client_id), encode(self.client_secret.expose_secret()));
        let mut value = HeaderValue::from_str(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        value
    }

    /// One token request, recorded (redacted) in `log` whatever its outcome.
    async fn request(&self, step: &'static str, form: &[(&str, &str)], now: u64, log: &mut Vec<TranscriptEntry>) -> Result<TokenSet, TokenFailure> {
        let started = Instant::now();
        let mut entry = TranscriptEntry {
            step: step.to_owned(),
            started_at_ms: transcript::now_ms(),
            method: "POST".to_owned(),
            url: self.token_url.clone(),
            request_headers: vec![
                ("Authorization".to_owned(), "Basic ••••".to_owned()),
                ("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
            ],
            request_body: Some(transcript::redact_form(form)),
            status: None,
            duration_ms: 0,
            response_body: None,
            error: None,
        };
        let result = self.send(form).await;
        entry.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok((status, body)) => {
                entry.status = Some(status.as_u16());
                entry.response_body = Some(transcript::redact_json(body));
            }
            Err(e) => entry.error = Some(e.message.clone()),
        }
        log.push(entry);
        let (status, body) = result.map_err(TokenFailure::Transient)?;
        if status.is_success() {
            let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
                TokenFailure::Malformed(AppError::with_message(ErrorCode::TokenEndpointFailed, "The token endpoint answered 200 with a body that is not a token response."))
            })?;
            let expires_in = parsed.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
            return Ok(TokenSet {
                access_token: parsed.access_token,
                refresh_token: parsed.refresh_token,
                token_type: parsed.token_type.unwrap_or_else(|| "Bearer".to_owned()),
                scope: parsed.scope.unwrap_or_default(),
                expires_in,
                expires_at: flow::expiry::expires_at(now, expires_in),
            });
        }
        if status.is_client_error()
            && let Ok(error) = serde_json::from_slice::<OAuthErrorBody>(&body)
        {
            return Err(TokenFailure::Rejected { error: error.error, description: error.error_description });
        }
        let failure = AppError::with_message(ErrorCode::TokenEndpointFailed, format!("The token endpoint answered HTTP {}.", status.as_u16()));
        if status.is_server_error() { Err(TokenFailure::Transient(failure)) } else { Err(TokenFailure::Malformed(failure)) }
    }
}

impl TokenClient {
    async fn send(&self, form: &[(&str, &str)]) -> Result<(reqwest::StatusCode, bytes::Bytes), AppError> {
        let sent = self.http.post(&self.token_url).header(AUTHORIZATION, self.basic_authorization()).form(form).send().await;
        let response = sent.map_err(|e| transport_error(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| transport_error(&e))?;
        Ok((status, body))
    }
}

/// A transport error as the browser sees it: timeout (504) or unreachable (502).
fn transport_error(error: &reqwest::Error) -> AppError {
    if error.is_timeout() {
        AppError::new(ErrorCode::TokenEndpointTimeout)
    } else {
        AppError::new(ErrorCode::TokenEndpointUnreachable)
    }
}
