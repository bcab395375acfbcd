//! Checking the authorization response at the redirect URI (RFC 6749 §4.1.2).

use crate::prelude::*;

use crate::ErrorCode;

/// The longest callback query accepted; real responses are a few hundred bytes.
pub const MAX_QUERY_LEN: usize = 8 * 1024;

/// A callback that passed every check. Only [`check_callback`] makes one, so a code cannot be
/// exchanged without its state having been checked first.
#[derive(Debug, PartialEq, Eq)]
pub struct ValidatedCallback {
    code: String,
}

impl ValidatedCallback {
    /// The authorization code, to be exchanged once.
    pub fn code(&self) -> &str {
        &self.code
    }
}

/// Why a callback was refused: a stable code, plus what the server said where it said anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    /// The stable code.
    pub code: ErrorCode,
    /// The server's `error` value, for `authorization_denied` and `authorization_failed`.
    pub oauth_error: Option<String>,
    /// The server's `error_description`, cut to 300 printable characters.
    pub description: Option<String>,
}

impl CallbackError {
    /// Every code [`check_callback`] can refuse with (its tests check each refusal against this
    /// list), for callers that carry only these codes' sentences, such as the JavaScript package.
    pub const CODES: [ErrorCode; 10] = [
        ErrorCode::CallbackTooLarge,
        ErrorCode::CallbackParameterRepeated,
        ErrorCode::IssuerMismatch,
        ErrorCode::IssuerMissing,
        ErrorCode::StateMissing,
        ErrorCode::NoPendingAuthorization,
        ErrorCode::StateMismatch,
        ErrorCode::AuthorizationDenied,
        ErrorCode::AuthorizationFailed,
        ErrorCode::CodeMissing,
    ];

    fn new(code: ErrorCode) -> Self {
        Self {
            code,
            oauth_error: None,
            description: None,
        }
    }
}

/// The authorisation server an authorization response must come from (RFC 9207 §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedIssuer<'a> {
    /// Its issuer identifier: the RFC 8414 metadata's `issuer` where the server publishes
    /// metadata, else the configured base URL. An `iss` must equal it exactly.
    pub identifier: &'a str,
    /// Whether it names itself in every response (its metadata's
    /// `authorization_response_iss_parameter_supported`): then a response without `iss` is
    /// refused (`issuer_missing`).
    pub always_sends_iss: bool,
}

/// Checks a callback query (without the leading `?`) as ordered guard clauses:
/// size, repeated parameters, `iss` (RFC 9207 §2.4: equal to the expected issuer when present,
/// and required when the server always sends it), `state` present, a pending authorization,
/// `state` equal in constant time (RFC 6749 §10.12, RFC 9700 §4.7.1), an `error` response (RFC
/// 6749 §4.1.2.1), and last the `code`. Error responses are checked for `iss` too: RFC 9207 §2
/// puts it in every authorization response.
pub fn check_callback(
    query: &str,
    pending_state: Option<&str>,
    expected_issuer: Option<ExpectedIssuer<'_>>,
) -> Result<ValidatedCallback, CallbackError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.len() > MAX_QUERY_LEN {
        return Err(CallbackError::new(ErrorCode::CallbackTooLarge));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if pairs.iter().any(|(seen, _)| *seen == name) {
            return Err(CallbackError::new(ErrorCode::CallbackParameterRepeated));
        }
        pairs.push((name.into_owned(), value.into_owned()));
    }
    let param = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());

    if let Some(expected) = expected_issuer {
        match param("iss") {
            Some(iss) if iss != expected.identifier => return Err(CallbackError::new(ErrorCode::IssuerMismatch)),
            None if expected.always_sends_iss => return Err(CallbackError::new(ErrorCode::IssuerMissing)),
            _ => {}
        }
    }
    let state = param("state")
        .filter(|s| !s.is_empty())
        .ok_or(CallbackError::new(ErrorCode::StateMissing))?;
    let pending = pending_state.ok_or(CallbackError::new(ErrorCode::NoPendingAuthorization))?;
    if !pkce::constant_time_eq(state.as_bytes(), pending.as_bytes()) {
        return Err(CallbackError::new(ErrorCode::StateMismatch));
    }
    if let Some(error) = param("error") {
        let code = if error == "access_denied" {
            ErrorCode::AuthorizationDenied
        } else {
            ErrorCode::AuthorizationFailed
        };
        return Err(CallbackError {
            code,
            oauth_error: Some(printable(error, 64)),
            description: param("error_description").map(|d| printable(d, 300)),
        });
    }
    match param("code").filter(|c| !c.is_empty()) {
        Some(code) => Ok(ValidatedCallback { code: code.to_owned() }),
        None => Err(CallbackError::new(ErrorCode::CodeMissing)),
    }
}

/// `text` with control characters dropped, cut to `max` characters: safe to show.
fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "abc123";

    fn code_of(query: &str) -> Result<ValidatedCallback, CallbackError> {
        check_callback(query, Some(STATE), None)
    }

    fn err(query: &str) -> ErrorCode {
        code_of(query).unwrap_err().code
    }

    #[test]
    fn valid_callback_gives_the_code() {
        assert_eq!(code_of("?code=c0de&state=abc123").unwrap().code(), "c0de");
        assert_eq!(code_of("state=abc123&code=a%2Bb").unwrap().code(), "a+b");
    }

    #[test]
    fn state_checks_come_in_order() {
        assert_eq!(err("code=x"), ErrorCode::StateMissing);
        assert_eq!(err("code=x&state="), ErrorCode::StateMissing);
        assert_eq!(err("code=x&state=abc124"), ErrorCode::StateMismatch);
        assert_eq!(err("code=x&state=abc12"), ErrorCode::StateMismatch);
        assert_eq!(
            check_callback("code=x&state=abc123", None, None).unwrap_err().code,
            ErrorCode::NoPendingAuthorization
        );
    }

    #[test]
    fn an_error_response_with_a_forged_state_is_a_state_mismatch() {
        assert_eq!(err("error=access_denied&state=evil"), ErrorCode::StateMismatch);
    }

    #[test]
    fn access_denied_and_other_errors_carry_what_the_server_said() {
        let denied = code_of("error=access_denied&state=abc123").unwrap_err();
        assert_eq!(denied.code, ErrorCode::AuthorizationDenied);
        assert_eq!(denied.description, None);
        let failed = code_of("error=invalid_scope&error_description=no%0Asuch+scope&state=abc123").unwrap_err();
        assert_eq!(failed.code, ErrorCode::AuthorizationFailed);
        assert_eq!(failed.oauth_error.as_deref(), Some("invalid_scope"));
        assert_eq!(failed.description.as_deref(), Some("nosuch scope"));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(err("code=a&code=b&state=abc123"), ErrorCode::CallbackParameterRepeated);
        assert_eq!(
            err("code=a&state=abc123&state=abc123"),
            ErrorCode::CallbackParameterRepeated
        );
    }

    #[test]
    fn oversized_query_is_refused() {
        let query = format!("state=abc123&code={}", "a".repeat(MAX_QUERY_LEN));
        assert_eq!(err(&query), ErrorCode::CallbackTooLarge);
    }

    #[test]
    fn missing_code_is_refused() {
        assert_eq!(err("state=abc123"), ErrorCode::CodeMissing);
        assert_eq!(err("state=abc123&code="), ErrorCode::CodeMissing);
    }

    const AS: ExpectedIssuer<'static> = ExpectedIssuer {
        identifier: "https://as",
        always_sends_iss: false,
    };
    const AS_ALWAYS: ExpectedIssuer<'static> = ExpectedIssuer {
        identifier: "https://as",
        always_sends_iss: true,
    };

    #[test]
    fn issuer_is_compared_when_present_and_required_when_the_server_always_sends_it() {
        assert!(check_callback("code=x&state=abc123&iss=https%3A%2F%2Fas", Some(STATE), Some(AS_ALWAYS)).is_ok());
        let bad = check_callback("code=x&state=abc123&iss=https%3A%2F%2Fevil", Some(STATE), Some(AS));
        assert_eq!(bad.unwrap_err().code, ErrorCode::IssuerMismatch);
        // A trailing slash is another issuer: identifiers compare as strings (RFC 9207 §2.4).
        let slash = check_callback("code=x&state=abc123&iss=https%3A%2F%2Fas%2F", Some(STATE), Some(AS));
        assert_eq!(slash.unwrap_err().code, ErrorCode::IssuerMismatch);
        assert!(
            check_callback("code=x&state=abc123", Some(STATE), Some(AS)).is_ok(),
            "optional unless the server always sends it"
        );
        let missing = check_callback("code=x&state=abc123", Some(STATE), Some(AS_ALWAYS));
        assert_eq!(missing.unwrap_err().code, ErrorCode::IssuerMissing);
        let error_without = check_callback("error=access_denied&state=abc123", Some(STATE), Some(AS_ALWAYS));
        assert_eq!(
            error_without.unwrap_err().code,
            ErrorCode::IssuerMissing,
            "error responses carry iss too"
        );
        assert!(check_callback("code=x&state=abc123&iss=x", Some(STATE), None).is_ok());
    }

    /// `CallbackError::CODES` is exactly the set of codes the checks refuse with.
    #[test]
    fn codes_lists_every_refusal_and_nothing_else() {
        let long = format!("state=abc123&code={}", "x".repeat(MAX_QUERY_LEN));
        let refusals = [
            check_callback(&long, Some(STATE), None),
            check_callback("code=a&code=b&state=abc123", Some(STATE), None),
            check_callback("code=x&state=abc123&iss=evil", Some(STATE), Some(AS)),
            check_callback("code=x&state=abc123", Some(STATE), Some(AS_ALWAYS)),
            check_callback("code=x", Some(STATE), None),
            check_callback("code=x&state=abc123", None, None),
            check_callback("code=x&state=other", Some(STATE), None),
            check_callback("error=access_denied&state=abc123", Some(STATE), None),
            check_callback("error=server_error&state=abc123", Some(STATE), None),
            check_callback("state=abc123", Some(STATE), None),
        ];
        let codes: Vec<ErrorCode> = refusals.into_iter().map(|r| r.unwrap_err().code).collect();
        assert_eq!(codes, CallbackError::CODES);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_never_accepts_without_the_state(query in "\\PC{0,200}") {
            match check_callback(&query, Some("s3cret-state"), None) {
                Ok(cb) => {
                    proptest::prop_assert!(query.contains("state=s3cret-state"));
                    proptest::prop_assert!(!cb.code().is_empty());
                }
                Err(refusal) => proptest::prop_assert!(CallbackError::CODES.contains(&refusal.code)),
            }
        }
    }
}
