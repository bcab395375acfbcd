//! `POST /api/faults/{knob}`: the embedded stand-in's fault knobs, applied to this session's
//! tokens, so the walkthrough can show expiry, revocation and an unreliable token endpoint.
//! Only with `PLEO_ENV=local`; the tokens never leave the server.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use flow::ErrorCode;
use flow::wire::FaultParams;
use secrecy::ExposeSecret;
use serde_json::json;
use stand_in::TokenFaults;

use crate::AppState;
use crate::endpoints::session_of;
use crate::error::AppError;

/// Applies one knob: `expire-access-token`, `revoke-refresh-token`, `token-endpoint`, `clock`.
pub async fn apply(State(state): State<AppState>, jar: CookieJar, Path(knob): Path<String>, body: Bytes) -> Result<impl IntoResponse, AppError> {
    let stand_in = state.stand_in.as_ref().ok_or_else(|| {
        AppError::with_message(ErrorCode::NotFound, "Fault knobs exist only with the embedded stand-in (PLEO_ENV=local).")
    })?;
    let params: FaultParams = if body.is_empty() {
        FaultParams::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::with_message(ErrorCode::InvalidRequest, format!("The knob parameters are not valid JSON: {e}")))?
    };
    let session_tokens = || async {
        let (_, session) = session_of(&state, &jar).ok_or_else(|| AppError::new(ErrorCode::NotSignedIn))?;
        let tokens = session.tokens.lock().await;
        let tokens = tokens.as_ref().ok_or_else(|| AppError::new(ErrorCode::ReauthorizationRequired))?;
        Ok::<_, AppError>((tokens.access_token.clone(), tokens.refresh_token.clone()))
    };
    match knob.as_str() {
        "expire-access-token" => {
            let (access, _) = session_tokens().await?;
            stand_in.expire_access_token(access.expose_secret());
        }
        "revoke-refresh-token" => {
            let (_, refresh) = session_tokens().await?;
            if let Some(refresh) = refresh {
                stand_in.revoke_refresh_token(refresh.expose_secret());
            }
        }
        "token-endpoint" => stand_in.set_token_faults(TokenFaults {
            status: params.status.filter(|s| (400..=599).contains(s)),
            delay_ms: params.delay_ms.min(60_000),
            remaining: params.remaining.unwrap_or(1).min(100),
        }),
        "clock" => stand_in.clock().shift_by(params.shift_secs.unwrap_or(0).clamp(-86_400 * 400, 86_400 * 400)),
        _ => return Err(AppError::with_message(ErrorCode::NotFound, "Knobs: expire-access-token, revoke-refresh-token, token-endpoint, clock.")),
    }
    Ok(Json(json!({ "applied": knob })))
}
