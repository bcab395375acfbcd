//! One refresh at a time per session, across every replica: Pleo rotates the refresh token on
//! each refresh and revokes the grant when an old one is presented, so a refresh token must
//! never be presented twice (RFC 9700 §4.14.2; RFC 10017 on the BFF's token handling).
//!
//! The protocol, for a caller that saw version `v` of the session's record:
//! 1. Take this process's lock for the session, re-read; if the version moved on, use it.
//! 2. Take the store's lease (Redis: `SET NX PX`, random owner, renewed while held), re-read:
//!    if the version moved on, another replica refreshed: use its tokens (the re-read after
//!    the lock is the step a lock alone misses). While another replica holds the lease, wait
//!    for the version to move on (a short poll of Redis), never for the token endpoint.
//! 3. Mark the record "refresh in flight" (a write conditional on `v`), present the refresh
//!    token, and write the result conditional on the marked version, so a holder whose lease
//!    lapsed never overwrites a newer result.
//! 4. A lease holder that finds the marker knows the one before it died mid-presentation: the
//!    refresh token may already be rotated, so it is dropped, never presented again.

use std::time::Duration;

use flow::ErrorCode;
use secrecy::SecretString;

use crate::AppState;
use crate::error::AppError;
use crate::oauth::token_calls;
use crate::oauth::token_client::TokenFailure;
use crate::oauth::tokens::TokenSet;
use crate::sessions::{LeaseOutcome, SessionRecord};

/// The one policy for every call made with a session's access token: the token is refreshed
/// first when it is due ([`flow::expiry::refresh_margin`]); when the call still answers
/// `unauthorized` (RFC 6750 §3.1 `invalid_token`), the session is refreshed once, unless another
/// request already did, and the call is made once more; never a loop. Returns the call's answer
/// and the tokens it was made with (whose values the caller redacts from what it relays).
pub async fn call_with_fresh_token<T, Call, Answer>(
    state: &AppState,
    id: &str,
    record: &SessionRecord,
    call: Call,
    unauthorized: fn(&T) -> bool,
) -> Result<(T, TokenSet), AppError>
where
    Call: Fn(SecretString) -> Answer,
    Answer: Future<Output = Result<T, AppError>>,
{
    let (tokens, version) = current_tokens(state, id, record).await?;
    let answer = call(tokens.access_token.clone()).await?;
    if !unauthorized(&answer) {
        return Ok((answer, tokens));
    }
    // A newer token if another request refreshed since `version`, otherwise a refresh now.
    let (fresh, _) = refresh_unless_changed(state, id, version).await?;
    let answer = call(fresh.access_token.clone()).await?;
    Ok((answer, fresh))
}

/// The tokens to use now (their access token for the call), and the record version they came
/// from: refreshed first if the access token expires within the refresh margin and a refresh
/// token is left. Without one, an access token that has not yet expired still serves (after
/// `refresh_outcome_unknown`).
async fn current_tokens(state: &AppState, id: &str, record: &SessionRecord) -> Result<(TokenSet, u64), AppError> {
    let tokens = record
        .tokens
        .as_ref()
        .ok_or_else(|| AppError::new(ErrorCode::ReauthorizationRequired))?;
    let now = state.clock.now();
    let margin = flow::expiry::refresh_margin(tokens.expires_in);
    let stale = flow::expiry::should_refresh(now, tokens.expires_at, margin);
    if !stale || (tokens.refresh_token.is_none() && now < tokens.expires_at) {
        return Ok((tokens.clone(), record.version));
    }
    refresh_unless_changed(state, id, record.version).await
}

/// The session's tokens after a refresh, unless the record moved on from `seen_version`
/// (someone else refreshed, or discarded the tokens): then the tokens it holds now. Returns
/// them with their version.
///
/// The refresh runs in a task of its own ([`token_calls::run_to_end`]): a caller that goes away
/// (a closed tab, a cut connection) leaves it to finish and write the rotated tokens.
pub async fn refresh_unless_changed(
    state: &AppState,
    id: &str,
    seen_version: u64,
) -> Result<(TokenSet, u64), AppError> {
    let (task_state, id) = (state.clone(), id.to_owned());
    token_calls::run_to_end(&state.token_calls, async move {
        refresh_in_task(&task_state, &id, seen_version).await
    })
    .await
}

/// [`refresh_unless_changed`] in its task.
async fn refresh_in_task(state: &AppState, id: &str, seen_version: u64) -> Result<(TokenSet, u64), AppError> {
    let lock = state.sessions.refresh_lock(id);
    let mut latest = lock.lock().await;
    // Requests of this process that waited here for the same refresh take its result as it is.
    if let Some((tokens, version)) = latest.as_ref().filter(|(_, version)| *version > seen_version) {
        count_refresh("waited");
        return Ok((tokens.clone(), *version));
    }
    let record = reread(state, id).await?;
    if record.version != seen_version && !record.refresh_in_flight {
        count_refresh("waited");
        return tokens_of(record);
    }
    let wait = Duration::from_secs(state.config.refresh_timeout_secs) + 2 * state.config.refresh_lease;
    let result = match state.sessions.lease(id, seen_version, state.clock.now(), wait).await? {
        LeaseOutcome::Changed(record) => {
            count_refresh("waited");
            tokens_of(record)
        }
        LeaseOutcome::Acquired(lease) => {
            let result = refresh_holding_lease(state, id, seen_version, &lease).await;
            state.sessions.release(lease).await;
            result
        }
    };
    if let Ok((tokens, version)) = &result {
        *latest = Some((tokens.clone(), *version));
    }
    result
}

async fn reread(state: &AppState, id: &str) -> Result<SessionRecord, AppError> {
    state
        .sessions
        .load(id, state.clock.now())
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotSignedIn))
}

fn tokens_of(record: SessionRecord) -> Result<(TokenSet, u64), AppError> {
    let version = record.version;
    record
        .tokens
        .map(|tokens| (tokens, version))
        .ok_or_else(|| AppError::new(ErrorCode::ReauthorizationRequired))
}

/// Steps 2 to 4 of the protocol, with the lease held (and renewed while the request is out).
async fn refresh_holding_lease(
    state: &AppState,
    id: &str,
    seen_version: u64,
    lease: &crate::sessions::Lease,
) -> Result<(TokenSet, u64), AppError> {
    let record = reread(state, id).await?;
    if record.refresh_in_flight {
        tracing::warn!("a refresh was cut off mid-presentation; its refresh token is not presented again");
        count_refresh("dropped");
        let tokens = record.tokens.clone().map(|mut tokens| {
            tokens.refresh_token = None;
            tokens
        });
        return written(state, id, &record, tokens, false).await.and_then(tokens_of);
    }
    if record.version != seen_version {
        count_refresh("waited");
        return tokens_of(record);
    }
    let Some(tokens) = record.tokens.clone() else {
        return Err(AppError::new(ErrorCode::ReauthorizationRequired));
    };
    let Some(refresh_token) = tokens.refresh_token.clone() else {
        written(state, id, &record, None, false).await?;
        return Err(AppError::new(ErrorCode::ReauthorizationRequired));
    };
    let Some(marked) = state.sessions.replace(id, &record, Some(tokens.clone()), true).await? else {
        return tokens_of(reread(state, id).await?);
    };
    let mut log = Vec::new();
    let serving = || !state.lifecycle.is_shutting_down();
    let refreshed = tokio::select! {
        refreshed = state.token_client.refresh(&refresh_token, state.clock.now(), &mut log, &serving) => refreshed,
        never = state.sessions.renew_forever(lease) => match never {},
    };
    if let Err(e) = state.sessions.record(id, log).await {
        tracing::warn!("a refresh's transcript entry was not kept: {e}");
    }
    count_refresh(match &refreshed {
        Ok(_) => "refreshed",
        Err(TokenFailure::Rejected { .. }) => "invalid_grant",
        Err(TokenFailure::OutcomeUnknown(_)) => "outcome_unknown",
        Err(TokenFailure::NotProcessed(_)) => "not_processed",
    });
    let (next, outcome) = match refreshed {
        Ok(mut fresh) => {
            if fresh.refresh_token.is_none() {
                // RFC 6749 §6: the server may keep the refresh token as it is.
                fresh.refresh_token = Some(refresh_token);
            }
            (Some(fresh), Ok(()))
        }
        // Pleo: a rejected refresh is terminal; stop, discard the tokens, authorise again.
        Err(failure @ TokenFailure::Rejected { .. }) => (None, Err(failure.into_app_error(true))),
        // It may have been rotated at the server: spend it; the access token serves until expiry.
        Err(failure @ TokenFailure::OutcomeUnknown(_)) => {
            let mut kept = tokens;
            kept.refresh_token = None;
            (Some(kept), Err(failure.into_app_error(true)))
        }
        Err(failure @ TokenFailure::NotProcessed(_)) => (Some(tokens), Err(failure.into_app_error(true))),
    };
    let record = written(state, id, &marked, next, false).await?;
    outcome?;
    tokens_of(record)
}

/// Counts a refresh in the metrics by its outcome ([`crate::metric_names::REFRESHES`]).
fn count_refresh(outcome: &'static str) {
    metrics::counter!(crate::metric_names::REFRESHES, "outcome" => outcome).increment(1);
}

/// Writes the next version after `previous`; a conflict means the lease lapsed and another
/// holder wrote first: its record stands.
async fn written(
    state: &AppState,
    id: &str,
    previous: &SessionRecord,
    tokens: Option<TokenSet>,
    refresh_in_flight: bool,
) -> Result<SessionRecord, AppError> {
    match state.sessions.replace(id, previous, tokens, refresh_in_flight).await? {
        Some(record) => Ok(record),
        None => {
            tracing::warn!("a refresh result was not written: the session moved on while its lease had lapsed");
            reread(state, id).await
        }
    }
}
