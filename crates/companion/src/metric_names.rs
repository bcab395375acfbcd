//! The name and help text of every metric the companion records, for every room that records
//! one (the recorder and its listener are [`crate::ops::metrics`]).

/// Requests answered, by method (a standard one, or `other`), route template (or one label for
/// every unmatched path) and status.
pub const REQUESTS: &str = "companion_http_requests_total";
/// Time to answer a request, by route template.
pub const REQUEST_SECONDS: &str = "companion_http_request_duration_seconds";
/// Time the token endpoint took, by grant type.
pub const TOKEN_ENDPOINT_SECONDS: &str = "companion_token_endpoint_duration_seconds";
/// Time the API took, by its status.
pub const API_SECONDS: &str = "companion_api_duration_seconds";
/// Time one session-store call took (Redis).
pub const STORE_SECONDS: &str = "companion_session_store_duration_seconds";
/// Whether the session store answered the last readiness probe (1) or not (0).
pub const STORE_UP: &str = "companion_session_store_up";
/// Session-store calls that failed or timed out.
pub const STORE_ERRORS: &str = "companion_session_store_errors_total";
/// Refreshes, by outcome: `refreshed`, `waited` (another request's or replica's result was
/// used), `invalid_grant`, `outcome_unknown`, `not_processed`, `dropped` (a refresh token a dead
/// replica was presenting, never presented again).
pub const REFRESHES: &str = "companion_refreshes_total";
/// Pop-up hand-offs, by what came of them (`kept`, `taken`, or the error code).
pub const HANDOFFS: &str = "companion_handoffs_total";
/// Live sessions (read from the store when scraped).
pub const SESSIONS: &str = "companion_sessions";
/// Live sign-in attempts (read from the store when scraped).
pub const ATTEMPTS: &str = "companion_sign_in_attempts";

/// Each metric's help text (Prometheus's `# HELP`), with its unit where it has one.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(REQUESTS, "Requests answered, by method, route template and status.");
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer a request, by route template."
    );
    describe_histogram!(
        TOKEN_ENDPOINT_SECONDS,
        Unit::Seconds,
        "Time the token endpoint took, by grant type."
    );
    describe_histogram!(API_SECONDS, Unit::Seconds, "Time Pleo's API took, by its status.");
    describe_histogram!(
        STORE_SECONDS,
        Unit::Seconds,
        "Time one session-store (Redis) call took."
    );
    describe_counter!(STORE_ERRORS, "Session-store calls that failed or timed out.");
    describe_gauge!(
        STORE_UP,
        "Whether the session store answered the last readiness probe (1) or not (0)."
    );
    describe_counter!(
        REFRESHES,
        "Refreshes by outcome: refreshed, waited, invalid_grant, outcome_unknown, not_processed, dropped."
    );
    describe_counter!(HANDOFFS, "Pop-up hand-offs, by what came of them.");
    describe_gauge!(SESSIONS, "Live sessions, read from the store when scraped.");
    describe_gauge!(ATTEMPTS, "Live sign-in attempts, read from the store when scraped.");
}

/// Seconds since `started`, for a histogram.
pub fn seconds_since(started: std::time::Instant) -> f64 {
    started.elapsed().as_secs_f64()
}
