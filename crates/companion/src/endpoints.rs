//! The browser <-> companion API (docs/architecture.md#the-browser---companion-api).

use axum::Json;
use axum::extract::{OriginalUri, RawQuery};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use contract::exports::{PostmanExport, SnippetLanguage};
use contract::wire::{
    AuthorizeStart, CookieCheck, HandoffClaim, HandoffDelivery, Logout, PublicConfig, SessionInfo, TokenExchange,
    TokenSummary, WayBack,
};
use flow::ErrorCode;

use crate::error::AppError;
use crate::http::cookies;
use crate::http::extract::{JsonBody, OptionalJsonBody, OptionalSignedIn, RawBody, SignedIn};
use crate::oauth::token_calls;
use crate::proxy::refresh;
use crate::sessions::Handoff;
use crate::transcript::{self, TranscriptEntry};
use crate::{AppState, proxy};
use secrecy::ExposeSecret;

/// `GET /api/config`: the public settings, never the secret.
pub async fn config(State(state): State<AppState>) -> Json<PublicConfig> {
    Json(state.public_config().await)
}

/// `GET /api/postman/{collection|environment}`: the step 1 export for Postman, built from the
/// public configuration (the client secret stays a variable to fill in), as a download. Served
/// here rather than built in the browser: the page links to it, and the wasm stays smaller.
pub async fn postman(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let config = state.config.public();
    let kind = PostmanExport::parse(&file).ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let document = match kind {
        PostmanExport::Collection => crate::take_home::postman::collection(&config),
        PostmanExport::Environment => crate::take_home::postman::environment(&config),
    };
    json_download(
        &contract::catalog::postman_file_name(config.environment, kind),
        &document,
    )
}

/// `document` as pretty JSON, to be saved as `filename`.
fn json_download(filename: &str, document: &serde_json::Value) -> Result<Response, AppError> {
    let body = serde_json::to_string_pretty(document).map_err(|_| AppError::new(ErrorCode::Internal))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json".to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/authorize/start`: remembers this attempt's state and challenge server-side,
/// bound to this browser by an HttpOnly cookie, so `/api/token` can refuse an injected code
/// (RFC 9700 §4.5, authorization code injection; §4.7 login CSRF).
pub async fn authorize_start(
    State(state): State<AppState>,
    scope: cookies::Scope,
    jar: CookieJar,
    JsonBody(start): JsonBody<AuthorizeStart>,
) -> Result<impl IntoResponse, AppError> {
    pkce::State::parse(&start.state)
        .map_err(|e| AppError::with_message(ErrorCode::InvalidRequest, format!("state: {e}")))?;
    if start.code_challenge_method != pkce::CodeChallenge::METHOD
        || pkce::CodeChallenge::parse(&start.code_challenge).is_none()
    {
        return Err(AppError::with_message(
            ErrorCode::InvalidRequest,
            "code_challenge must be a 43-character S256 challenge with code_challenge_method S256.",
        ));
    }
    let now = state.clock.now();
    let name = cookies::attempt_name(&start.state);
    // The frame's sign-in runs in a pop-up, whose callback may have to come back through the
    // companion ([`handoff_deliver`]): its slot is armed with the attempt.
    let handoff = if scope.frame { Handoff::Armed } else { Handoff::None };
    let id = state
        .sessions
        .start_attempt(start.state, start.code_challenge, handoff, now)
        .await?;
    // At most MAX_ATTEMPTS_PER_BROWSER attempt cookies: dead ones and the oldest go.
    let mut others: Vec<(String, Option<u64>)> = Vec::new();
    for (other, id) in scope.attempts(&jar) {
        if other != name {
            others.push((other, state.sessions.attempt_started_at(&id, now).await?));
        }
    }
    others.sort_by_key(|(_, started)| *started);
    let excess = (others.len() + 1).saturating_sub(MAX_ATTEMPTS_PER_BROWSER);
    let mut jar = jar;
    for (i, (other, started)) in others.into_iter().enumerate() {
        if started.is_none() || i < excess {
            jar = scope.clear(jar, &other);
        }
    }
    let jar = scope.set(jar, &name, id, state.sessions.attempt_secs() as i64);
    Ok((jar, StatusCode::NO_CONTENT))
}

/// Sign-in attempts one browser can have open at once (one per tab); older ones drop off.
pub const MAX_ATTEMPTS_PER_BROWSER: usize = 4;

/// `POST /api/token`: checks the code against this browser's attempt, exchanges it with
/// `client_secret_basic`, keeps the tokens, and answers with a session cookie and a summary.
pub async fn token(
    State(state): State<AppState>,
    scope: cookies::Scope,
    jar: CookieJar,
    OptionalSignedIn(signed_in): OptionalSignedIn,
    JsonBody(exchange): JsonBody<TokenExchange>,
) -> Result<impl IntoResponse, AppError> {
    let now = state.clock.now();
    let name = cookies::attempt_name(&exchange.state);
    let Some(id) = scope.get(&jar, &name) else {
        // No attempt of this state here: a mismatch if this browser has others, else none.
        let mut others_live = false;
        for (_, id) in scope.attempts(&jar) {
            others_live |= state.sessions.attempt_started_at(&id, now).await?.is_some();
        }
        return Err(AppError::new(if others_live {
            ErrorCode::AttemptMismatch
        } else {
            ErrorCode::AttemptMissing
        }));
    };
    let attempt = state.sessions.take_attempt(&id, &exchange.state, now).await?;
    let jar = scope.clear(jar, &name);
    if pkce::CodeVerifier::parse(&exchange.code_verifier).is_err() {
        return Err(AppError::new(ErrorCode::VerifierInvalid));
    }
    if !pkce::verify(&exchange.code_verifier, &attempt.code_challenge) || exchange.code.is_empty() {
        return Err(AppError::new(ErrorCode::AttemptMismatch));
    }
    // Sent, the code is spent (RFC 6749 §4.1.2): the exchange and the session it makes run to
    // their end in a task of their own, whatever becomes of this request
    // ([`token_calls::run_to_end`]). A browser that went away meanwhile still holds the attempt
    // cookie, and its next `GET /api/session` takes the session ([`session`]).
    let task_state = state.clone();
    let replaced = signed_in.map(|old| old.id);
    let (summary, id) = token_calls::run_to_end(&state.token_calls, async move {
        let state = task_state;
        let mut log = Vec::new();
        let tokens = state
            .token_client
            .exchange(&exchange.code, &exchange.code_verifier, now, &mut log)
            .await
            .map_err(|f| f.into_app_error(false))?;
        let summary = tokens.summary();
        if let Some(old) = replaced {
            state.sessions.remove(&old).await?;
        }
        let session = state.sessions.create(tokens, log, now).await?;
        state.sessions.finish_attempt(&id, &session, now).await?;
        Ok((summary, session))
    })
    .await?;
    let jar = scope.set(jar, cookies::SESSION, id, state.sessions.session_idle_secs() as i64);
    Ok((jar, Json(summary)))
}

/// `GET /api/session`: signed in or not, with the token summary. A browser without a session
/// whose sign-in finished after it went away (its attempt cookie is still there, the answer
/// with the session cookie never reached it) takes that session now, once.
pub async fn session(
    State(state): State<AppState>,
    scope: cookies::Scope,
    jar: CookieJar,
    OptionalSignedIn(signed_in): OptionalSignedIn,
) -> Result<(CookieJar, Json<SessionInfo>), AppError> {
    let mut jar = jar;
    let mut record = signed_in.map(|signed_in| signed_in.record);
    if record.is_none() {
        let now = state.clock.now();
        for (name, attempt) in scope.attempts(&jar) {
            let Some(id) = state.sessions.take_finished_attempt(&attempt, now).await? else {
                continue;
            };
            jar = scope.clear(jar, &name);
            if let Some(found) = state.sessions.load(&id, now).await? {
                record = Some(found);
                jar = scope.set(jar, cookies::SESSION, id, state.sessions.session_idle_secs() as i64);
                break;
            }
        }
    }
    let tokens = record.and_then(|record| record.tokens.as_ref().map(|t| t.summary()));
    Ok((
        jar,
        Json(SessionInfo {
            signed_in: tokens.is_some(),
            environment: state.config.environment,
            tokens,
        }),
    ))
}

/// `POST /api/refresh`: refreshes now, unless another request (on any replica) refreshed
/// since this one read the session: one refresh at a time ([`refresh`]).
pub async fn refresh(
    State(state): State<AppState>,
    SignedIn { id, record }: SignedIn,
) -> Result<Json<TokenSummary>, AppError> {
    let (tokens, _) = refresh::refresh_unless_changed(&state, &id, record.version).await?;
    Ok(Json(tokens.summary()))
}

/// `GET /api/transcript`: the server-side steps of this session, redacted: each entry as it
/// was recorded, and once more by value against every secret the companion holds for it (the
/// client secret, the session's tokens), wherever in the text one might be.
pub async fn transcript(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<Vec<TranscriptEntry>>, AppError> {
    Ok(Json(served_transcript(&state, &signed_in).await?))
}

/// The session's transcript as served: each entry named by its [`transcript::entry_id`], then
/// redacted by value against the secret and the session's current tokens (a second line of
/// defence behind the redaction by field when it was recorded).
async fn served_transcript(
    state: &AppState,
    SignedIn { id, record }: &SignedIn,
) -> Result<Vec<TranscriptEntry>, AppError> {
    let mut entries = state.sessions.transcript(id).await?;
    let mut known = vec![state.config.client_secret.expose_secret()];
    if let Some(tokens) = record.tokens.as_ref() {
        known.push(tokens.access_token.expose_secret());
        known.extend(tokens.refresh_token.as_ref().map(ExposeSecret::expose_secret));
    }
    for entry in &mut entries {
        entry.id = transcript::entry_id(entry);
    }
    transcript::redact_entries(&mut entries, &known);
    Ok(entries)
}

/// `GET /api/transcript/har`: the transcript as an HTTP Archive (HAR 1.2), as a download.
pub async fn transcript_har(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, AppError> {
    let entries = served_transcript(&state, &signed_in).await?;
    let filename = contract::catalog::har_file_name(state.config.public().environment);
    json_download(&filename, &crate::take_home::har::archive(&entries))
}

/// `GET /api/transcript/{entry}/as/{language}`: one exchange as a curl command, a `fetch`
/// module or a `reqwest` program, with environment variables for the secret and the tokens
/// ([`crate::take_home::copy_as`]); 404 `not_found` for an entry or a language there is none of.
pub async fn transcript_snippet(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((entry, language)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let language = SnippetLanguage::parse(&language).ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let entries = served_transcript(&state, &signed_in).await?;
    let entry = entries
        .iter()
        .find(|e| e.id == entry)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    let text = crate::take_home::copy_as::snippet(entry, language, &state.config.client_id);
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `POST /api/logout`: forgets the tokens and clears the cookie; with `disconnect`, first
/// deletes the installation at the API (which revokes every token of the client).
pub async fn logout(
    State(state): State<AppState>,
    scope: cookies::Scope,
    jar: CookieJar,
    OptionalSignedIn(signed_in): OptionalSignedIn,
    OptionalJsonBody(request): OptionalJsonBody<Logout>,
) -> Result<impl IntoResponse, AppError> {
    let mut disconnect_status = None;
    if let Some(signed_in) = signed_in {
        if request.disconnect {
            disconnect_status = Some(proxy::disconnect(&state, &signed_in).await?);
        }
        state.sessions.remove(&signed_in.id).await?;
    }
    let body = serde_json::json!({ "signed_in": false, "disconnect_status": disconnect_status });
    Ok((scope.clear(jar, cookies::SESSION), Json(body)))
}

/// `ANY /api/pleo/{path}`: the allow-listed API proxy.
/// `OriginalUri`: inside the nested `/api` router the plain `Uri` has lost its prefix.
pub async fn pleo(
    State(state): State<AppState>,
    signed_in: Result<SignedIn, AppError>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    RawBody(body): RawBody,
) -> Result<Response, AppError> {
    // RFC 9110 §9.3.1: a GET body has no meaning; it is refused rather than sent upstream.
    if matches!(method, Method::GET | Method::HEAD) && !body.is_empty() {
        return Err(AppError::with_message(
            ErrorCode::InvalidRequest,
            "A GET or HEAD request carries no body; nothing was sent.",
        ));
    }
    // The allow-list first: a path off it is refused whoever asks.
    let url = proxy::upstream_url(&state.config.api_base_url, &method, &uri, &state.config.api_writes)?;
    proxy::forward(&state, &signed_in?, method, url, body).await
}

/// `POST /api/embed/handoff`: the pop-up's callback page hands the callback to the companion
/// when it has no link left to the frame that opened it (the authorisation server's pages sent
/// `Cross-Origin-Opener-Policy`). Kept only for a frame's sign-in that waits for it (its state),
/// once, for at most a minute; 202 when kept; 404 `handoff_not_expected` when no frame waits
/// (then the page is no pop-up of a frame, and the app's own callback page handles it); 409
/// `handoff_conflict` when a callback already came for that state: the slot is then spent and
/// the frame starts again (RFC 9700 §4.7: a leaked authorize URL must not sign the reader in
/// as whoever used it first).
pub async fn handoff_deliver(
    State(state): State<AppState>,
    JsonBody(delivery): JsonBody<HandoffDelivery>,
) -> Result<StatusCode, AppError> {
    if delivery.callback.len() > flow::callback::MAX_QUERY_LEN {
        return Err(AppError::new(ErrorCode::CallbackTooLarge));
    }
    let query = delivery.callback.trim_start_matches('?');
    let states: Vec<_> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .collect();
    let [sign_in] = states.as_slice() else {
        return Err(AppError::new(ErrorCode::HandoffNotExpected));
    };
    let kept = state
        .sessions
        .deliver_handoff(sign_in, delivery.callback, state.clock.now())
        .await;
    count_handoff(kept.as_ref().map(|()| "kept"));
    kept.map(|()| StatusCode::ACCEPTED)
}

/// Counts a hand-off in the metrics by what came of it: `outcome`, or the error's code.
fn count_handoff(outcome: Result<&'static str, &AppError>) {
    let outcome = outcome.unwrap_or_else(|e| e.code.as_str());
    metrics::counter!(crate::metric_names::HANDOFFS, "outcome" => outcome).increment(1);
}

/// `POST /api/embed/handoff/take`: the frame takes the callback of its sign-in `state`, once;
/// only with the frame's attempt cookie of the attempt that armed the slot (the hand-off is
/// bound to the attempt, and so to the browser, that started it, RFC 9700 §4.5): another
/// attempt started with the same `state` (a leaked authorize URL) gets `handoff_not_expected`. 409 `handoff_pending` until the pop-up has handed it over,
/// 409 `handoff_conflict` when two callbacks came.
pub async fn handoff_take(
    State(state): State<AppState>,
    scope: cookies::Scope,
    jar: CookieJar,
    JsonBody(claim): JsonBody<HandoffClaim>,
) -> Result<Json<HandoffDelivery>, AppError> {
    let now = state.clock.now();
    let id = scope
        .get(&jar, &cookies::attempt_name(&claim.state))
        .ok_or_else(|| AppError::new(ErrorCode::AttemptMissing))?;
    state.sessions.live_attempt(&id, &claim.state, now).await?;
    let taken = state.sessions.take_handoff(&claim.state, &id, now).await;
    count_handoff(taken.as_ref().map(|_| "taken"));
    Ok(Json(HandoffDelivery { callback: taken? }))
}

/// The base name of the frame's probe cookie.
const COOKIE_CHECK: &str = "cookie_check";
/// Seconds the probe cookie lives: the frame asks for it back as soon as it is set, so a minute
/// is plenty, and the cookie is gone soon after.
const COOKIE_CHECK_SECS: i64 = 60;

/// `POST /api/embed/cookie-check`: sets the probe cookie, for [`COOKIE_CHECK_SECS`], with the attributes
/// every cookie of the caller's scope has (the frame's: `SameSite=None; Secure; Partitioned`), so
/// that the frame learns when it loads, not at the end of a sign-in, whether this browser keeps
/// its cookies on this documentation page.
pub async fn cookie_check_set(scope: cookies::Scope, jar: CookieJar) -> (CookieJar, StatusCode) {
    (
        scope.set(jar, COOKIE_CHECK, "1".to_owned(), COOKIE_CHECK_SECS),
        StatusCode::NO_CONTENT,
    )
}

/// `GET /api/embed/cookie-check`: whether the probe cookie came back.
pub async fn cookie_check(scope: cookies::Scope, jar: CookieJar) -> Json<CookieCheck> {
    Json(CookieCheck {
        kept: scope.get(&jar, COOKIE_CHECK).is_some(),
    })
}

/// `GET /api/embed/way-back?to=…`: `to`, when it is a page of a site allowed to frame the
/// walkthrough (`COMPANION_EMBED_ORIGINS`), for the full page's link back to the documentation
/// page a reader came from; 400 `way_back_refused` otherwise, so that a crafted link never
/// makes the walkthrough a signpost to another site.
pub async fn way_back(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<WayBack>, AppError> {
    let asked = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == contract::wire::WAY_BACK_TARGET_PARAMETER)
        .map(|(_, to)| to.into_owned())
        .unwrap_or_default();
    contract::page::way_back(&asked, &state.config.embed_origins)
        .map(|to| Json(WayBack { to: to.to_owned() }))
        .ok_or_else(|| AppError::new(ErrorCode::WayBackRefused))
}

/// Any other `/api` path.
pub async fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound)
}
