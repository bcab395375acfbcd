//! `@pleo-walkthrough/pkce`: RFC 7636 PKCE for any web app, from JavaScript or TypeScript.
//!
//! Glue only: each function converts its arguments, calls the pure Rust core (`pkce`, `flow`)
//! and converts the result. Errors are thrown as `Error`s with a stable `code` property. The
//! JavaScript values are made on the JavaScript side, in `src/objects.js` (one call each).
//!
//! `no_std` on wasm32: nothing in this crate's dependency graph links the standard library, so
//! the WebAssembly holds no formatting or unwinding code, and this crate supplies what the
//! standard library otherwise would: the allocator and the panic handler. (A native build, which
//! only type-checks the glue, keeps the standard library.)

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;

/// Talc instead of the standard library's dlmalloc: a third of the size, and faster.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic cannot be reported from here without the formatting code this crate leaves out: it
/// traps, which JavaScript sees as a `RuntimeError: unreachable`. No input reaches one: every
/// function validates and returns an error with a code instead (the `flow` functions it calls
/// are fuzzed in `fuzz/`).
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A PKCE pair (RFC 7636): the verifier to keep, the challenge to send. */
export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: "S256";
}

/** What `buildAuthorizationUrl` needs (RFC 6749 §4.1.1, RFC 7636 §4.3). */
export interface AuthorizationUrlOptions {
  /** e.g. "https://auth.staging.pleo.io/oauth/authorize" */
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  /** Space-separated string or an array of scopes. */
  scope: string | string[];
  state: string;
  codeChallenge: string;
}

/** A callback that passed every check. */
export interface CallbackResult {
  code: string;
  state: string;
}

/** Errors thrown by this package carry a stable `code`. */
export interface PkceError extends Error {
  code: string;
  oauthError?: string;
  errorDescription?: string;
}
"#;

#[wasm_bindgen(module = "/src/objects.js")]
extern "C" {
    /// The `PkcePair` from verifier + challenge in one string: one crossing and one string
    /// instead of an object and three property sets.
    fn pair(packed: &str) -> JsValue;
    /// The `CallbackResult`.
    #[wasm_bindgen(js_name = callbackResult)]
    fn callback_result(code: &str, state: &str) -> JsValue;
    /// A `PkceError`: an `Error` with a stable `code` property (and what the authorisation
    /// server said, when it refused).
    #[wasm_bindgen(js_name = codedError)]
    fn coded_error(
        code: &str,
        message: &str,
        oauth_error: Option<String>,
        error_description: Option<String>,
    ) -> JsValue;
    /// The `AuthorizationUrlOptions` as endpoint, client ID, redirect URI, state, challenge and
    /// the scopes space-separated, joined by NUL (one string crosses instead of an array);
    /// throws `invalid_options` for options of another shape or with a NUL in them.
    #[wasm_bindgen(js_name = authorizationUrlOptions, catch)]
    fn authorization_url_options(options: &JsValue) -> Result<String, JsValue>;
}

fn pkce_error(e: pkce::PkceError) -> JsValue {
    coded_error(e.code(), e.summary(), None, None)
}

/// A new code verifier from the platform CSPRNG: 43 characters by default, 43 to 128 allowed
/// (RFC 7636 §4.1).
#[wasm_bindgen(js_name = generateCodeVerifier)]
pub fn generate_code_verifier(length: Option<usize>) -> Result<String, JsValue> {
    pkce::CodeVerifier::generate_with_length(length.unwrap_or(pkce::CodeVerifier::DEFAULT_LEN))
        .map(pkce::CodeVerifier::into_string)
        .map_err(pkce_error)
}

/// The S256 challenge of a verifier (RFC 7636 §4.2), synchronously. Throws
/// `verifier_too_short`, `verifier_too_long` or `verifier_invalid_character`.
#[wasm_bindgen(js_name = calculateCodeChallenge)]
pub fn calculate_code_challenge(verifier: &str) -> Result<String, JsValue> {
    let verifier = pkce::CodeVerifier::parse(verifier).map_err(pkce_error)?;
    Ok(pkce::CodeChallenge::s256(&verifier).as_str().to_owned())
}

/// A verifier and its S256 challenge in one call.
#[wasm_bindgen(js_name = generatePkce, unchecked_return_type = "PkcePair")]
pub fn generate_pkce(length: Option<usize>) -> Result<JsValue, JsValue> {
    let verifier = pkce::CodeVerifier::generate_with_length(length.unwrap_or(pkce::CodeVerifier::DEFAULT_LEN))
        .map_err(pkce_error)?;
    let challenge = pkce::CodeChallenge::s256(&verifier);
    let mut packed = verifier.into_string();
    packed.push_str(challenge.as_str());
    Ok(pair(&packed))
}

/// An unguessable `state` value: 43 base64url characters, 256 bits (RFC 6749 §10.12).
#[wasm_bindgen(js_name = generateState)]
pub fn generate_state() -> Result<String, JsValue> {
    pkce::State::generate()
        .map(|s| s.as_str().to_owned())
        .map_err(pkce_error)
}

/// For servers: whether `verifier` is valid and hashes to `challenge` (RFC 7636 §4.6),
/// compared in constant time.
#[wasm_bindgen(js_name = verifyCodeChallenge)]
pub fn verify_code_challenge(verifier: &str, challenge: &str) -> bool {
    pkce::verify(verifier, challenge)
}

/// A refusal of the `flow` core as a `PkceError`, with what the authorisation server said.
fn flow_refusal(code: flow::ErrorCode, oauth_error: Option<String>, description: Option<String>) -> JsValue {
    let (code, sentence) = code_and_sentence(code);
    coded_error(code, sentence, oauth_error, description)
}

/// The code and sentence of the refusals the package's two `flow` calls can return:
/// `config_invalid` from the authorize URL and [`flow::CallbackError::CODES`] from the callback
/// check (a test keeps the lists equal); anything else would be `internal`. One arm per code, each
/// with a constant, so that the WebAssembly carries only these sentences, not the other
/// twenty-odd, which are the companion's.
fn code_and_sentence(code: flow::ErrorCode) -> (&'static str, &'static str) {
    use flow::ErrorCode::*;
    let of = |known: flow::ErrorCode| (known.as_str(), known.message());
    match code {
        ConfigInvalid => of(ConfigInvalid),
        CallbackTooLarge => of(CallbackTooLarge),
        CallbackParameterRepeated => of(CallbackParameterRepeated),
        IssuerMismatch => of(IssuerMismatch),
        IssuerMissing => of(IssuerMissing),
        StateMissing => of(StateMissing),
        NoPendingAuthorization => of(NoPendingAuthorization),
        StateMismatch => of(StateMismatch),
        AuthorizationDenied => of(AuthorizationDenied),
        AuthorizationFailed => of(AuthorizationFailed),
        CodeMissing => of(CodeMissing),
        _ => of(Internal),
    }
}

/// The authorize URL with every parameter encoded, `response_type=code` and
/// `code_challenge_method=S256` included. Throws `invalid_options` or `config_invalid`
/// (an endpoint that is not https, or http off loopback).
#[wasm_bindgen(js_name = buildAuthorizationUrl)]
pub fn build_authorization_url(
    #[wasm_bindgen(unchecked_param_type = "AuthorizationUrlOptions")] options: JsValue,
) -> Result<String, JsValue> {
    let options = authorization_url_options(&options)?;
    let mut values = options.split('\0');
    let mut next = || values.next().unwrap_or_default();
    let (endpoint, client_id, redirect_uri, state, code_challenge, scope) =
        (next(), next(), next(), next(), next(), next());
    // RFC 6749 §3.3: scope tokens are separated by spaces; tabs and newlines are forgiven.
    let scopes: Vec<String> = scope.split_ascii_whitespace().map(str::to_owned).collect();
    let request = flow::AuthorizeRequest {
        endpoint,
        client_id,
        redirect_uri,
        scopes: &scopes,
        state,
        code_challenge,
    };
    request.url().map_err(|code| flow_refusal(code, None, None))
}

/// Checks a callback URL (or its query) against the state this app sent, as ordered guard
/// clauses: repeated parameters, `iss`, `state`, an `error` response, the `code`. With
/// `expected_issuer` (for a server that sends `iss`, RFC 9207), the response must name exactly
/// that issuer (`issuer_missing`, `issuer_mismatch`). Throws with codes such as
/// `state_mismatch`, `authorization_denied` (with `oauthError`, `errorDescription`).
#[wasm_bindgen(js_name = parseCallback, unchecked_return_type = "CallbackResult")]
pub fn parse_callback(url: &str, expected_state: &str, expected_issuer: Option<String>) -> Result<JsValue, JsValue> {
    let without_fragment = url.split('#').next().unwrap_or_default();
    let query = without_fragment.split_once('?').map_or(without_fragment, |(_, q)| q);
    let expected = Some(expected_state).filter(|s| !s.is_empty());
    let issuer = expected_issuer.as_deref().map(|identifier| flow::ExpectedIssuer {
        identifier,
        always_sends_iss: true,
    });
    match flow::check_callback(query, expected, issuer) {
        Ok(callback) => Ok(callback_result(callback.code(), expected_state)),
        Err(refusal) => Err(flow_refusal(refusal.code, refusal.oauth_error, refusal.description)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_the_flow_calls_return_is_thrown_as_itself() {
        for code in flow::CallbackError::CODES
            .into_iter()
            .chain([flow::ErrorCode::ConfigInvalid])
        {
            assert_eq!(code_and_sentence(code), (code.as_str(), code.message()));
        }
        assert_eq!(code_and_sentence(flow::ErrorCode::CsrfHeaderMissing).0, "internal");
    }
}
