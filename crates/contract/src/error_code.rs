//! The stable error codes every layer reports, each with a human sentence.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. The wire form is the snake_case name; tests and
/// clients match on it, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A configured URL or value is unusable.
    ConfigInvalid,
    /// The callback query is longer than any real authorization response.
    CallbackTooLarge,
    /// A callback parameter appears more than once.
    CallbackParameterRepeated,
    /// The callback's `iss` names another authorisation server (RFC 9207).
    IssuerMismatch,
    /// The callback has no `state`.
    StateMissing,
    /// This browser has no pending authorization (new tab, cleared storage, or already used).
    NoPendingAuthorization,
    /// The callback's `state` differs from the one this browser sent.
    StateMismatch,
    /// The user (or the server) refused access: `error=access_denied`.
    AuthorizationDenied,
    /// The authorisation server answered with another RFC 6749 §4.1.2.1 error.
    AuthorizationFailed,
    /// The callback carries neither `code` nor `error`.
    CodeMissing,
    /// A PKCE code verifier is malformed.
    VerifierInvalid,
    /// A state-changing call lacks the CSRF header.
    CsrfHeaderMissing,
    /// A state-changing call came from another origin.
    OriginNotAllowed,
    /// The code exchange was not started by `POST /api/authorize/start` in this browser.
    AttemptMissing,
    /// The code, verifier or state does not match the attempt this browser started.
    AttemptMismatch,
    /// The request body is not the JSON this endpoint takes.
    InvalidRequest,
    /// The request body is larger than the companion accepts.
    BodyTooLarge,
    /// The request body's Content-Type is not the one the endpoint takes.
    UnsupportedMediaType,
    /// No session: sign in first.
    NotSignedIn,
    /// The tokens are gone (revoked, expired, rotated away): authorise again.
    ReauthorizationRequired,
    /// The authorisation server refused the token request (RFC 6749 §5.2).
    TokenRequestRejected,
    /// The token endpoint answered with an error status or a body that is not a token response.
    TokenEndpointFailed,
    /// The token endpoint could not be reached.
    TokenEndpointUnreachable,
    /// The token endpoint did not answer in time.
    TokenEndpointTimeout,
    /// A refresh may or may not have happened at the server (no answer after it was sent): the
    /// refresh token is not presented again, since a rotated one presented twice revokes the
    /// grant.
    RefreshOutcomeUnknown,
    /// "Disconnect" (`DELETE /v1/installations/me`) failed: nothing was revoked, the session is
    /// kept.
    DisconnectFailed,
    /// The authorisation server sends `iss` (its metadata says so) and the callback has none
    /// (RFC 9207 §2.4).
    IssuerMissing,
    /// The API path is not on the proxy's allow-list.
    PathNotAllowed,
    /// The HTTP method is not allowed for this API path.
    MethodNotAllowed,
    /// The API could not be reached.
    ApiUnreachable,
    /// The API did not answer in time.
    ApiTimeout,
    /// The companion is not running or not reachable from the page.
    CompanionUnreachable,
    /// Too many sessions or attempts at once.
    Overloaded,
    /// The session store (Redis) did not answer; the session is kept there, untouched.
    SessionStoreUnavailable,
    /// The browser blocked the sign-in pop-up of the embedded walkthrough.
    PopupBlocked,
    /// The sign-in pop-up was closed (or cut off from the frame) before it answered.
    PopupClosed,
    /// The browser keeps no cookie for the walkthrough's frame on this documentation page (and
    /// refused, or does not offer, storage access): the sign-in cannot finish in the frame.
    FrameCookiesRefused,
    /// The page a way back was asked for is not on a site allowed to frame the walkthrough.
    WayBackRefused,
    /// A pop-up's callback names no sign-in that an embedded walkthrough started.
    HandoffNotExpected,
    /// The pop-up's callback has not reached the companion yet.
    HandoffPending,
    /// Two callbacks came for one frame's sign-in (its authorize URL was used twice): neither is
    /// used, and the reader starts again.
    HandoffConflict,
    /// The documentation page's frame stayed empty: the page's origin is not in
    /// `COMPANION_EMBED_ORIGINS` (or the companion did not answer). Shown by `embed-frame.js`.
    FrameRefused,
    /// A route that does not exist.
    NotFound,
    /// Something failed that should not have; the log has the details. (Stays last: see
    /// [`ErrorCode::ALL`].)
    Internal,
}

/// Read by its wire name ([`ErrorCode::as_str`]).
impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::wire_name::deserialize(deserializer, &Self::ALL, Self::as_str)
    }
}

impl ErrorCode {
    /// Every code, in declaration order (checked at compile time: as many as there are
    /// variants, `Internal` last; and by a test: each at its index).
    pub const ALL: [Self; 44] = [
        Self::ConfigInvalid,
        Self::CallbackTooLarge,
        Self::CallbackParameterRepeated,
        Self::IssuerMismatch,
        Self::StateMissing,
        Self::NoPendingAuthorization,
        Self::StateMismatch,
        Self::AuthorizationDenied,
        Self::AuthorizationFailed,
        Self::CodeMissing,
        Self::VerifierInvalid,
        Self::CsrfHeaderMissing,
        Self::OriginNotAllowed,
        Self::AttemptMissing,
        Self::AttemptMismatch,
        Self::InvalidRequest,
        Self::BodyTooLarge,
        Self::UnsupportedMediaType,
        Self::NotSignedIn,
        Self::ReauthorizationRequired,
        Self::TokenRequestRejected,
        Self::TokenEndpointFailed,
        Self::TokenEndpointUnreachable,
        Self::TokenEndpointTimeout,
        Self::RefreshOutcomeUnknown,
        Self::DisconnectFailed,
        Self::IssuerMissing,
        Self::PathNotAllowed,
        Self::MethodNotAllowed,
        Self::ApiUnreachable,
        Self::ApiTimeout,
        Self::CompanionUnreachable,
        Self::Overloaded,
        Self::SessionStoreUnavailable,
        Self::PopupBlocked,
        Self::PopupClosed,
        Self::FrameCookiesRefused,
        Self::WayBackRefused,
        Self::HandoffNotExpected,
        Self::HandoffPending,
        Self::HandoffConflict,
        Self::FrameRefused,
        Self::NotFound,
        Self::Internal,
    ];

    /// The wire form: the stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigInvalid => "config_invalid",
            Self::CallbackTooLarge => "callback_too_large",
            Self::CallbackParameterRepeated => "callback_parameter_repeated",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::StateMissing => "state_missing",
            Self::NoPendingAuthorization => "no_pending_authorization",
            Self::StateMismatch => "state_mismatch",
            Self::AuthorizationDenied => "authorization_denied",
            Self::AuthorizationFailed => "authorization_failed",
            Self::CodeMissing => "code_missing",
            Self::VerifierInvalid => "verifier_invalid",
            Self::CsrfHeaderMissing => "csrf_header_missing",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::AttemptMissing => "attempt_missing",
            Self::AttemptMismatch => "attempt_mismatch",
            Self::InvalidRequest => "invalid_request",
            Self::BodyTooLarge => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotSignedIn => "not_signed_in",
            Self::ReauthorizationRequired => "reauthorization_required",
            Self::TokenRequestRejected => "token_request_rejected",
            Self::TokenEndpointFailed => "token_endpoint_failed",
            Self::TokenEndpointUnreachable => "token_endpoint_unreachable",
            Self::TokenEndpointTimeout => "token_endpoint_timeout",
            Self::RefreshOutcomeUnknown => "refresh_outcome_unknown",
            Self::DisconnectFailed => "disconnect_failed",
            Self::IssuerMissing => "issuer_missing",
            Self::PathNotAllowed => "path_not_allowed",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ApiUnreachable => "api_unreachable",
            Self::ApiTimeout => "api_timeout",
            Self::CompanionUnreachable => "companion_unreachable",
            Self::Overloaded => "overloaded",
            Self::SessionStoreUnavailable => "session_store_unavailable",
            Self::PopupBlocked => "popup_blocked",
            Self::PopupClosed => "popup_closed",
            Self::FrameCookiesRefused => "frame_cookies_refused",
            Self::WayBackRefused => "way_back_refused",
            Self::HandoffNotExpected => "handoff_not_expected",
            Self::HandoffPending => "handoff_pending",
            Self::HandoffConflict => "handoff_conflict",
            Self::FrameRefused => "frame_refused",
            Self::NotFound => "not_found",
            Self::Internal => "internal",
        }
    }

    /// A sentence for a person: what happened and what to do next.
    pub fn message(self) -> &'static str {
        match self {
            Self::ConfigInvalid => "The configuration has an unusable value; check the PLEO_* settings.",
            Self::CallbackTooLarge => {
                "The callback address is far longer than any real authorization response; start again."
            }
            Self::CallbackParameterRepeated => {
                "A callback parameter appears twice, which a real authorization response never does; start again."
            }
            Self::IssuerMismatch => {
                "The response names a different authorisation server than the one configured; it was not used."
            }
            Self::StateMissing => {
                "The callback has no state parameter, so it cannot be tied to this browser; start again."
            }
            Self::NoPendingAuthorization => {
                "This browser has no authorization in progress (it was already used, or started in another tab); start again."
            }
            Self::StateMismatch => {
                "The callback's state does not match the one this browser sent; the code was not used. Start again."
            }
            Self::AuthorizationDenied => {
                "Access was denied at the consent screen; nothing was granted. Start again to retry."
            }
            Self::AuthorizationFailed => "The authorisation server returned an error instead of a code; start again.",
            Self::CodeMissing => "The callback carries no authorization code; start again.",
            Self::VerifierInvalid => "The PKCE code verifier is malformed (RFC 7636 §4.1); start again.",
            Self::CsrfHeaderMissing => "This call changes state and must carry the X-Requested-With header.",
            Self::OriginNotAllowed => {
                "This call came from an origin the companion does not serve; open the app at its configured address."
            }
            Self::AttemptMissing => "No sign-in was started from this browser (or it expired); start again.",
            Self::AttemptMismatch => {
                "The code, verifier or state does not belong to the sign-in this browser started; start again."
            }
            Self::InvalidRequest => "The request body is not the JSON this endpoint takes.",
            Self::BodyTooLarge => "The request body is larger than the companion accepts; nothing was done.",
            Self::UnsupportedMediaType => "The body must be sent with Content-Type: application/json.",
            Self::NotSignedIn => "There is no session; authorise first.",
            Self::ReauthorizationRequired => "The tokens are no longer valid; authorise again.",
            Self::TokenRequestRejected => "The authorisation server refused the token request.",
            Self::TokenEndpointFailed => "The token endpoint answered with an error; try again later.",
            Self::TokenEndpointUnreachable => {
                "The token endpoint could not be reached; check the authorisation server URL."
            }
            Self::TokenEndpointTimeout => "The token endpoint did not answer in time; try again later.",
            Self::RefreshOutcomeUnknown => {
                "The refresh may have happened at the server, so the refresh token will not be presented again (a rotated one presented twice revokes the grant): the current access token works until it expires, then authorise again."
            }
            Self::DisconnectFailed => {
                "Disconnecting failed, so nothing was revoked; you are still signed in and can try again."
            }
            Self::IssuerMissing => {
                "The authorisation server says it names itself in every response (RFC 9207), and this one has no iss; it was not used. Start again."
            }
            Self::PathNotAllowed => "This API path is not on the companion's allow-list.",
            Self::MethodNotAllowed => "This HTTP method is not allowed for this API path.",
            Self::ApiUnreachable => "The API could not be reached; check the API base URL.",
            Self::ApiTimeout => "The API did not answer in time; try again later.",
            Self::CompanionUnreachable => {
                "The companion is not reachable; start it with `cargo run -p companion` (or use `cargo xtask demo`)."
            }
            Self::Overloaded => "Too many sessions at once; try again in a moment.",
            Self::SessionStoreUnavailable => {
                "The companion cannot reach its session store right now; your session is kept. Try again in a moment."
            }
            Self::PopupBlocked => {
                "The browser blocked the sign-in window. Allow pop-ups for this page, or open the walkthrough in a new tab."
            }
            Self::PopupClosed => {
                "The sign-in window was closed, or its pages cut it off from this one, before it answered. If it is still open, finish there and the walkthrough goes on here; otherwise start again."
            }
            Self::FrameCookiesRefused => {
                "This browser keeps no cookies for this frame, so signing in cannot finish here: allow it if asked and try again, or open the walkthrough in a new tab."
            }
            Self::WayBackRefused => {
                "That page is not on a site listed in COMPANION_EMBED_ORIGINS, so the walkthrough does not lead there."
            }
            Self::HandoffNotExpected => {
                "No embedded walkthrough is waiting for this sign-in (it expired or was not started in a frame)."
            }
            Self::HandoffPending => "The sign-in window has not answered yet.",
            Self::HandoffConflict => {
                "Two sign-ins answered for this one (its address was used twice), so neither is used: start signing in again."
            }
            Self::FrameRefused => {
                "The walkthrough did not load in this page: the companion does not list this site in COMPANION_EMBED_ORIGINS, or it is not reachable."
            }
            Self::NotFound => "There is no such endpoint.",
            Self::Internal => "Something went wrong inside the companion; the log has the details.",
        }
    }
}

const _: () = assert!(ErrorCode::ALL.len() == ErrorCode::Internal as usize + 1);

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_the_snake_case_code() {
        let json = serde_json::to_string(&ErrorCode::ReauthorizationRequired).unwrap();
        assert_eq!(json, "\"reauthorization_required\"");
        assert_eq!(ErrorCode::ReauthorizationRequired.as_str(), "reauthorization_required");
        let back: ErrorCode = serde_json::from_str("\"state_mismatch\"").unwrap();
        assert_eq!(back, ErrorCode::StateMismatch);
        assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
        assert!(serde_json::from_str::<ErrorCode>("3").is_err());
    }

    #[test]
    fn all_lists_every_code_once_in_order_and_each_round_trips() {
        for (index, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, index);
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }
}
