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
use crate::endpoints::{OptionalJsonBody, SignedIn};
use crate::error::AppError;

/// The `Retry-After` the `token-endpoint` knob sends with a 429 or 503.
const KNOB_RETRY_AFTER_SECS: u64 = 1;
/// The longest the `clock` knob moves a grant's time, either way.
const MAX_SHIFT_SECS: i64 = 86_400 * 400;

/// Applies one knob to this session: `expire-access-token`, `revoke-refresh-token`,
/// `token-endpoint` (its refreshes only), `clock` (its grant's time only).
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
    let record = signed_in?.record;
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
    let applied = match knob {
        FaultKnob::ExpireAccessToken => stand_in.expire_access_token(access),
        FaultKnob::RevokeRefreshToken => stand_in.revoke_refresh_token(&refresh.ok_or_else(no_refresh_token)?),
        FaultKnob::TokenEndpoint => {
            let status = params.status.filter(|s| (400..=599).contains(s));
            let faults = TokenFaults {
                status,
                delay_ms: params.delay_ms.min(60_000),
                remaining: params.remaining.unwrap_or(1).min(100),
                process_before_delay: params.process_before_delay,
                retry_after_secs: status.filter(|s| matches!(s, 429 | 503)).map(|_| KNOB_RETRY_AFTER_SECS),
            };
            stand_in.set_token_faults_for(&refresh.ok_or_else(no_refresh_token)?, faults)
        }
        _ => stand_in.age_grant(
            access,
            params.shift_secs.unwrap_or(0).clamp(-MAX_SHIFT_SECS, MAX_SHIFT_SECS),
        ),
    };
    if !applied {
        return Err(AppError::new(ErrorCode::ReauthorizationRequired));
    }
    Ok(Json(json!({ "applied": knob.as_str() })))
}
