//! The confidential client at the token endpoint: code exchange and refresh.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use flow::ErrorCode;
use flow::token_error::OAuthErrorBody;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::AppError;
use crate::oauth::tokens::TokenSet;
use crate::transcript::{self, TranscriptEntry, TranscriptStep};
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
    Rejected {
        /// Its `error` code, bounded and redacted.
        error: String,
        /// Its `error_description`, bounded and redacted.
        description: Option<String>,
    },
    /// The request never reached the server (connection refused, DNS, TLS), or the server said
    /// it did not take it (429 or 503 with `Retry-After`): the refresh token is unused.
    NotProcessed(AppError),
    /// The request may have reached the server and no token response came back (a timeout
    /// after sending, a 5xx, a cut or unreadable answer): a refresh may have rotated the token.
    /// The refresh token it presented must never be presented again.
    OutcomeUnknown(AppError),
}

impl TokenFailure {
    /// The error the browser gets. A rejected refresh is terminal: authorise again. A refresh
    /// whose outcome is unknown says so (`refresh_outcome_unknown`).
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
            Self::OutcomeUnknown(cause) if refreshing => AppError::with_message(
                ErrorCode::RefreshOutcomeUnknown,
                format!("{} {}", cause.message, ErrorCode::RefreshOutcomeUnknown.message()),
            ),
            Self::NotProcessed(e) | Self::OutcomeUnknown(e) => e,
        }
    }
}

/// Seconds a refresh may take before its outcome is unknown, unless configured: longer than
/// other calls, because giving up on a refresh costs the refresh token.
pub const DEFAULT_REFRESH_TIMEOUT_SECS: u64 = 30;
/// Retries of a refresh that did not reach the server or was refused with `Retry-After`.
const REFRESH_RETRIES: u32 = 2;
/// The longest `Retry-After` a refresh waits for; a longer one is answered at once.
const MAX_RETRY_AFTER_SECS: u64 = 5;
/// RFC 6749 §5.2's error codes: the only `error` values relayed as the server sent them.
const OAUTH_ERROR_CODES: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// What stands for an `error` that is none of [`OAUTH_ERROR_CODES`].
pub const UNRECOGNISED_ERROR_CODE: &str = "an error code RFC 6749 does not define";

/// `error` as the browser is shown it: one of RFC 6749 §5.2's codes, or
/// [`UNRECOGNISED_ERROR_CODE`]. A server's own text never passes as a code, so a secret cannot
/// be carried in it, nor split between it and the description.
fn oauth_error_code(error: &str) -> &str {
    OAUTH_ERROR_CODES
        .into_iter()
        .find(|code| *code == error)
        .unwrap_or(UNRECOGNISED_ERROR_CODE)
}
/// The largest token response read; a larger one is refused as it arrives.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// The HTTP client used for every outgoing call: no redirects (RFC 9700 §4.11, SSRF), timeouts.
#[expect(
    clippy::expect_used,
    reason = "fails only when the TLS backend cannot start, before any request: nothing to serve without it"
)]
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
    refresh_timeout: Duration,
}

impl TokenClient {
    /// A client for `token_url` authenticating as `client_id`; refreshes may take
    /// `refresh_timeout_secs`.
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_id: String,
        client_secret: SecretString,
        redirect_uri: String,
        refresh_timeout_secs: u64,
    ) -> Self {
        Self {
            http,
            token_url,
            client_id,
            client_secret,
            redirect_uri,
            refresh_timeout: Duration::from_secs(refresh_timeout_secs),
        }
    }

    /// RFC 6749 §4.1.3 + RFC 7636 §4.5: exchanges `code` with its verifier. Not retried: a code
    /// is single use, and a replay would revoke what the first use issued.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        now: u64,
        log: &mut Vec<TranscriptEntry>,
    ) -> Result<TokenSet, TokenFailure> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", verifier),
        ];
        self.request(TranscriptStep::TokenExchange, &form, None, now, log).await
    }

    /// RFC 6749 §6: a refresh, with its own (longer) timeout. Pleo rotates refresh tokens and
    /// revokes the grant when an old one is presented (RFC 9700 §4.14.2), so the same refresh
    /// token is presented again only when the first request certainly was not processed: it
    /// never reached the server, or the server refused it with 429/503 and `Retry-After`
    /// (at most [`REFRESH_RETRIES`] times). Anything after the request may have reached the
    /// server is [`TokenFailure::OutcomeUnknown`], and the caller must not present it again.
    /// A retry starts only while `may_retry()` holds: once a shutdown has begun, a refresh that
    /// was not processed is reported as it is (the refresh token stays unused), so that the
    /// longest call a shutdown waits for is one try, at most the refresh timeout.
    pub async fn refresh(
        &self,
        refresh_token: &SecretString,
        now: u64,
        log: &mut Vec<TranscriptEntry>,
        may_retry: &(dyn Fn() -> bool + Sync),
    ) -> Result<TokenSet, TokenFailure> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let mut backoff = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            match self
                .request(TranscriptStep::Refresh, &form, Some(self.refresh_timeout), now, log)
                .await
            {
                Err(TokenFailure::NotProcessed(e))
                    if attempt < REFRESH_RETRIES && worth_another_try(&e) && may_retry() =>
                {
                    attempt += 1;
                    tokio::time::sleep(e.retry_after.map_or(backoff, Duration::from_secs)).await;
                    backoff *= 2;
                }
                other => return other,
            }
        }
    }

    /// `client_secret_basic` (RFC 6749 §2.3.1): id and secret form-urlencoded, joined by `:`,
    /// base64-encoded. Marked sensitive so no HTTP layer logs it.
    #[expect(
        clippy::expect_used,
        reason = "base64 and the word Basic are always a valid header value"
    )]
    fn basic_authorization(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Basic {}", self.basic_credentials()[2]))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        value
    }

    /// The client's credentials as `client_secret_basic` carries them, in each form a server
    /// could echo them: the secret form-urlencoded, `id:secret` so joined, and that base64-encoded.
    fn basic_credentials(&self) -> [String; 3] {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let secret = encode(self.client_secret.expose_secret());
        let joined = format!("{}:{secret}", encode(&self.client_id));
        let encoded = base64::engine::general_purpose::STANDARD.encode(&joined);
        [secret, joined, encoded]
    }

    /// Every secret a token request carried, in every form its answer could hold it: the client
    /// secret as it is and as `client_secret_basic` sent it, and the form's secret fields (code,
    /// verifier, refresh token). Redacted by value from whatever of the answer is kept or shown.
    fn request_secrets(&self, form: &[(&str, &str)]) -> Vec<String> {
        let mut known = vec![self.client_secret.expose_secret().to_owned()];
        known.extend(self.basic_credentials());
        known.extend(
            form.iter()
                .filter(|(name, _)| transcript::is_secret_field(name))
                .map(|(_, value)| (*value).to_owned()),
        );
        // The longest first: a secret inside a longer one (the secret inside `id:secret`) must
        // not break up the longer one before it is found.
        known.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        known
    }

    /// One token request, recorded (redacted) in `log` whatever its outcome.
    async fn request(
        &self,
        step: TranscriptStep,
        form: &[(&str, &str)],
        timeout: Option<Duration>,
        now: u64,
        log: &mut Vec<TranscriptEntry>,
    ) -> Result<TokenSet, TokenFailure> {
        let started = Instant::now();
        let mut entry = TranscriptEntry::new(step, transcript::now_ms(), "POST", &self.token_url);
        entry.request_headers = vec![
            ("Authorization".to_owned(), "Basic ••••".to_owned()),
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ];
        entry.request_body = Some(transcript::redact_form(form));
        let result = self.send(form, timeout).await;
        let grant = match step {
            TranscriptStep::Refresh => "refresh_token",
            _ => "authorization_code",
        };
        metrics::histogram!(crate::metric_names::TOKEN_ENDPOINT_SECONDS, "grant_type" => grant)
            .record(crate::metric_names::seconds_since(started));
        entry.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        // The answer read once: as a token response, or as an OAuth error (RFC 6749 §5.1, §5.2).
        let read = result.map(|answer| {
            let tokens = serde_json::from_slice::<TokenResponse>(&answer.body).ok();
            let oauth_error = serde_json::from_slice::<OAuthErrorBody>(&answer.body).ok();
            (answer, tokens, oauth_error)
        });
        match &read {
            Ok((answer, tokens, oauth_error)) => {
                entry.status = Some(answer.status.as_u16());
                let recognised = tokens.is_some() || oauth_error.is_some();
                entry.response_body = Some(self.recorded_body(&answer.body, form, tokens.as_ref(), recognised));
            }
            Err(failure) => entry.error = Some(failure_message(failure)),
        }
        log.push(entry);
        let (answer, tokens, oauth_error) = read?;
        let status = answer.status;
        if status.is_success() {
            let parsed = tokens.ok_or_else(|| {
                TokenFailure::OutcomeUnknown(AppError::with_message(
                    ErrorCode::TokenEndpointFailed,
                    "The token endpoint answered 200 with a body that is not a token response.",
                ))
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
        let mut failure = AppError::with_message(
            ErrorCode::TokenEndpointFailed,
            format!("The token endpoint answered HTTP {}.", status.as_u16()),
        );
        // RFC 6585 §4: 429 refuses the request for its rate; a 503 with Retry-After (RFC 9110
        // §10.2.3) says the server did not take it and when to come back. Only these are
        // known not to have been processed, and only with Retry-After is another try worth it.
        if status.as_u16() == 429 || (status.as_u16() == 503 && answer.retry_after.is_some()) {
            failure.retry_after = answer.retry_after.filter(|secs| *secs <= MAX_RETRY_AFTER_SECS);
            return Err(TokenFailure::NotProcessed(failure));
        }
        if status.is_client_error()
            && let Some(error) = oauth_error
        {
            // The server's words reach the browser: redacted by value and bounded, as a server
            // that echoes what it was sent would otherwise hand the secret to the page.
            let known = self.request_secrets(form);
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(TokenFailure::Rejected {
                error: oauth_error_code(&error.error).to_owned(),
                description: error
                    .error_description
                    .map(|d| transcript::upstream_text(&d, &known, transcript::MAX_UPSTREAM_TEXT_CHARS)),
            });
        }
        Err(TokenFailure::OutcomeUnknown(failure))
    }

    /// A token endpoint answer as the transcript keeps it: a token response or an OAuth error
    /// with every secret field fingerprinted at any depth, every secret the request carried
    /// (the client secret, code, verifier, refresh token) and every token in the answer
    /// fingerprinted wherever else it appears, and any string that still holds one in another
    /// spelling (an echo of the form body) replaced; anything else only by size and hash.
    fn recorded_body(
        &self,
        body: &[u8],
        form: &[(&str, &str)],
        tokens: Option<&TokenResponse>,
        recognised: bool,
    ) -> String {
        if !recognised {
            return transcript::summarise_body(body);
        }
        let request_secrets = self.request_secrets(form);
        let mut known: Vec<&str> = request_secrets.iter().map(String::as_str).collect();
        if let Some(tokens) = tokens {
            known.push(tokens.access_token.expose_secret());
            known.extend(tokens.refresh_token.as_ref().map(ExposeSecret::expose_secret));
        }
        crate::redaction::SecretSpellings::of(&known)
            .redact_text(&transcript::redact_values(&transcript::redact_json(body), &known))
    }

    async fn send(&self, form: &[(&str, &str)], timeout: Option<Duration>) -> Result<TokenAnswer, TokenFailure> {
        let mut request = self
            .http
            .post(&self.token_url)
            .header(AUTHORIZATION, self.basic_authorization())
            .form(form);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|e| transport_failure(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = crate::upstream::read_limited(response, MAX_TOKEN_RESPONSE_BYTES)
            .await
            .map_err(|e| transport_failure(&e))?
            .ok_or_else(|| {
                TokenFailure::OutcomeUnknown(AppError::with_message(
                    ErrorCode::TokenEndpointFailed,
                    "The token response is larger than any real one; it was not read.",
                ))
            })?;
        Ok(TokenAnswer {
            status,
            retry_after,
            body,
        })
    }
}

/// Whether a refresh the server did not process is worth another try: a connect failure (after
/// a backoff), or a refusal that said when to come back (`Retry-After`); a 429 without it is not.
fn worth_another_try(failure: &AppError) -> bool {
    failure.retry_after.is_some() || failure.code != ErrorCode::TokenEndpointFailed
}

/// What the token endpoint answered.
struct TokenAnswer {
    status: reqwest::StatusCode,
    /// `Retry-After` in seconds, when sent as a number.
    retry_after: Option<u64>,
    body: Bytes,
}

fn failure_message(failure: &TokenFailure) -> String {
    match failure {
        TokenFailure::Rejected { error, .. } => error.clone(),
        TokenFailure::NotProcessed(e) | TokenFailure::OutcomeUnknown(e) => e.message.clone(),
    }
}

/// A transport error: before the request was sent (connecting: not processed) or after (its
/// outcome unknown), as a timeout (504) or unreachable (502).
fn transport_failure(error: &reqwest::Error) -> TokenFailure {
    let e = if error.is_timeout() {
        AppError::new(ErrorCode::TokenEndpointTimeout)
    } else {
        AppError::new(ErrorCode::TokenEndpointUnreachable)
    };
    if error.is_connect() {
        TokenFailure::NotProcessed(e)
    } else {
        TokenFailure::OutcomeUnknown(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing listens at the token endpoint: the request never left, so the refresh token is
    /// unused and the same refresh may be tried again (here: twice more, then reported).
    #[tokio::test]
    async fn a_refresh_that_cannot_connect_is_not_processed_and_is_retried() {
        let port = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = TokenClient::new(
            http_client(5),
            format!("http://127.0.0.1:{port}/oauth/token"),
            "c".into(),
            SecretString::from("s"),
            "http://localhost/cb".into(),
            5,
        );
        let mut log = Vec::new();
        let failure = client
            .refresh(&SecretString::from("rt"), 0, &mut log, &|| true)
            .await
            .unwrap_err();
        assert!(
            matches!(&failure, TokenFailure::NotProcessed(e) if e.code == ErrorCode::TokenEndpointUnreachable),
            "{failure:?}"
        );
        assert_eq!(
            log.len(),
            1 + REFRESH_RETRIES as usize,
            "one try and the retries, each in the transcript"
        );
        assert_eq!(
            failure.into_app_error(true).code,
            ErrorCode::TokenEndpointUnreachable,
            "not `refresh_outcome_unknown`: nothing was sent"
        );
    }
}
