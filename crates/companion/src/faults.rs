//! `POST /api/faults/{knob}`: the embedded stand-in's fault knobs, applied to this session's
//! tokens and grant only, so the walkthrough can show expiry, revocation and an unreliable
//! token endpoint without touching anyone else's sign-in. Every knob needs a session. Only with
//! `PLEO_ENV=local`; the tokens never leave the server.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use contract::FaultKnob;
use contract::wire::FaultParams;
use flow::ErrorCode;
use secrecy::ExposeSecret;
use serde_json::json;
use stand_in::TokenFaults;

use crate::AppState;
use crate::error::AppError;
use crate::http::extract::{OptionalJsonBody, SignedIn};

/// The `Retry-After` the `token-endpoint` knob sends with a 429 or 503.
const KNOB_RETRY_AFTER_SECS: u64 = 1;
/// The longest the `clock` knob moves a grant's time, either way.
const MAX_SHIFT_SECS: i64 = 86_400 * 400;
/// The most requests the `token-endpoint` and `rate-limit` knobs act on (one by default).
const MAX_REMAINING: u32 = 100;

/// Applies one knob to this session: `expire-access-token`, `revoke-refresh-token`,
/// `token-endpoint` (its refreshes only), `clock` (its grant's time only), `rate-limit` (its
/// next API calls), `refresh-race` (the lab of step 5).
pub async fn apply(
    State(state): State<AppState>,
    signed_in: Result<SignedIn, AppError>,
    Path(knob): Path<String>,
    OptionalJsonBody(params): OptionalJsonBody<FaultParams>,
) -> Result<impl IntoResponse, AppError> {
    let stand_in = state.stand_in.as_ref().ok_or_else(|| {
        AppError::with_message(
            ErrorCode::NotFound,
            "Fault knobs exist only with the embedded stand-in (PLEO_ENV=local).",
        )
    })?;
    let Some(knob) = FaultKnob::parse(&knob) else {
        let names: Vec<&str> = FaultKnob::ALL.iter().map(|k| k.as_str()).collect();
        return Err(AppError::with_message(
            ErrorCode::NotFound,
            format!("Knobs: {}.", names.join(", ")),
        ));
    };
    let SignedIn { id, record } = signed_in?;
    let tokens = record
        .tokens
        .as_ref()
        .ok_or_else(|| AppError::new(ErrorCode::ReauthorizationRequired))?;
    let access = tokens.access_token.expose_secret();
    let refresh = tokens.refresh_token.as_ref().map(|t| t.expose_secret().to_owned());
    let no_refresh_token = || {
        AppError::with_message(
            ErrorCode::ReauthorizationRequired,
            "This session has no refresh token left to act on; authorise again.",
        )
    };
    let remaining = params.remaining.unwrap_or(1).min(MAX_REMAINING);
    let applied = match knob {
        FaultKnob::ExpireAccessToken => stand_in.expire_access_token(access),
        FaultKnob::RevokeRefreshToken => stand_in.revoke_refresh_token(&refresh.ok_or_else(no_refresh_token)?),
        FaultKnob::TokenEndpoint => {
            let status = params.status.filter(|s| (400..=599).contains(s));
            let faults = TokenFaults {
                status,
                delay_ms: params.delay_ms.min(60_000),
                remaining,
                process_before_delay: params.process_before_delay,
                retry_after_secs: status.filter(|s| matches!(s, 429 | 503)).map(|_| KNOB_RETRY_AFTER_SECS),
            };
            stand_in.set_token_faults_for(&refresh.ok_or_else(no_refresh_token)?, faults)
        }
        FaultKnob::RateLimit => stand_in.rate_limit_grant(access, remaining),
        FaultKnob::Clock => stand_in.age_grant(
            access,
            params.shift_secs.unwrap_or(0).clamp(-MAX_SHIFT_SECS, MAX_SHIFT_SECS),
        ),
        FaultKnob::RefreshRace => {
            let refresh = tokens.refresh_token.clone().ok_or_else(no_refresh_token)?;
            return race_refreshes(&state, &id, &record, refresh).await;
        }
    };
    if !applied {
        return Err(AppError::new(ErrorCode::ReauthorizationRequired));
    }
    Ok(Json(json!({ "applied": knob.as_str() })))
}

/// The refresh-race lab: two refreshes at once with the session's one refresh token, past the
/// lock of [`crate::proxy::refresh`] (the only code that presents a refresh token without it, and only
/// where the embedded stand-in is). The stand-in does what Pleo does (RFC 9700 §4.14.2): the
/// first presentation rotates the token; the second presents the replaced one, and the whole
/// grant is revoked, the new tokens with it. Both exchanges go to the transcript; the tokens are
/// discarded, as after any rejected refresh, and the answer says what happened.
async fn race_refreshes(
    state: &AppState,
    id: &str,
    record: &crate::sessions::SessionRecord,
    refresh: secrecy::SecretString,
) -> Result<Json<serde_json::Value>, AppError> {
    let now = state.clock.now();
    let (mut log, mut second_log) = (Vec::new(), Vec::new());
    let (first, second) = tokio::join!(
        state.token_client.refresh(&refresh, now, &mut log, &|| true),
        state.token_client.refresh(&refresh, now, &mut second_log, &|| true),
    );
    log.append(&mut second_log);
    // In the order they were answered: the one that rotated the token first.
    log.sort_by_key(|entry| entry.started_at_ms + entry.duration_ms);
    state.sessions.record(id, log).await?;
    if state.sessions.replace(id, record, None, false).await?.is_none() {
        tracing::warn!("refresh race: the session moved on during the race; its tokens are left as they are");
    }
    let rejected = [&first, &second].iter().filter(|r| r.is_err()).count();
    Err(AppError::with_message(
        ErrorCode::ReauthorizationRequired,
        match rejected {
            1 => "Two refreshes raced with the same refresh token: one got new tokens, the other presented \
                  the token that had just been replaced, and the authorisation server revoked the whole \
                  grant, the new tokens with it. Authorise again, then run the burst with one refresh at a time."
                .to_owned(),
            n => format!(
                "Two refreshes raced with the same refresh token; {n} of them were refused. The tokens are \
                 discarded: authorise again."
            ),
        },
    ))
}
