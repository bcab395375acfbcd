//! The fault knobs over HTTP (`/_knobs/*`), for a stand-in running on its own. Only routed when
//! `Settings::fault_knobs` is on, which the binary allows only on a loopback address. The
//! companion drives an embedded stand-in through the same methods in-process.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::StandIn;
use crate::store::TokenFaults;

/// A token to act on.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenBody {
    token: String,
}

/// A clock shift.
#[derive(Debug, Deserialize)]
pub(crate) struct ClockBody {
    shift_secs: i64,
}

fn done(found: bool) -> Response {
    if found {
        Json(json!({ "ok": true })).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "unknown_token", "message": "No such token." })),
        )
            .into_response()
    }
}

/// `POST /_knobs/expire-access-token` `{"token": ...}`.
pub(crate) async fn expire_access_token(State(stand_in): State<StandIn>, Json(body): Json<TokenBody>) -> Response {
    done(stand_in.expire_access_token(&body.token))
}

/// `POST /_knobs/revoke-refresh-token` `{"token": ...}`.
pub(crate) async fn revoke_refresh_token(State(stand_in): State<StandIn>, Json(body): Json<TokenBody>) -> Response {
    done(stand_in.revoke_refresh_token(&body.token))
}

/// `POST /_knobs/token-endpoint` `{"status": 503, "delay_ms": 0, "remaining": 2}`.
pub(crate) async fn token_endpoint(State(stand_in): State<StandIn>, Json(faults): Json<TokenFaults>) -> Response {
    stand_in.set_token_faults(faults);
    done(true)
}

/// `POST /_knobs/clock` `{"shift_secs": 900}`.
pub(crate) async fn clock(State(stand_in): State<StandIn>, Json(body): Json<ClockBody>) -> Response {
    stand_in.clock.shift_by(body.shift_secs);
    Json(json!({ "ok": true, "now": stand_in.clock.now() })).into_response()
}
