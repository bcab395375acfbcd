// The package's JavaScript values, built on this side of the boundary: one call each, instead of
// an object and one property set per field from WebAssembly (smaller, and faster).

// Facts of the Rust side, each written once here (`tests/objects.rs` holds them to `pkce`).
const CODE_CHALLENGE_METHOD = "S256";
const CHALLENGE_LENGTH = 43;

/** A `PkcePair` from verifier and challenge in one string (the challenge is its last characters). */
export function pair(packed) {
  return {
    codeVerifier: packed.slice(0, -CHALLENGE_LENGTH),
    codeChallenge: packed.slice(-CHALLENGE_LENGTH),
    codeChallengeMethod: CODE_CHALLENGE_METHOD,
  };
}

/** A `CallbackResult`. */
export function callbackResult(code, state) {
  return { code, state };
}

/** A `PkceError`: an `Error` with a stable `code` and, when the authorisation server refused, what it said. */
export function codedError(code, message, oauthError, errorDescription) {
  const error = new Error(message);
  error.code = code;
  if (oauthError !== undefined) error.oauthError = oauthError;
  if (errorDescription !== undefined) error.errorDescription = errorDescription;
  return error;
}

const STRING_OPTIONS = ["authorizationEndpoint", "clientId", "redirectUri", "state", "codeChallenge"];

/**
 * The `AuthorizationUrlOptions` as one string for the WebAssembly: the five string options in
 * the order above, then the scopes space-separated, joined by NUL characters (which no valid
 * value contains: RFC 6749 Appendix A, RFC 3986). Throws `invalid_options` for anything else.
 */
export function authorizationUrlOptions(options) {
  if (typeof options !== "object" || options === null) throw codedError("invalid_options", "options must be an object");
  const values = STRING_OPTIONS.map((name) => {
    if (typeof options[name] !== "string") throw codedError("invalid_options", `options.${name} must be a string`);
    return options[name];
  });
  const scope = options.scope;
  if (typeof scope === "string") values.push(scope);
  else if (Array.isArray(scope) && scope.every((s) => typeof s === "string")) values.push(scope.join(" "));
  else throw codedError("invalid_options", "options.scope must be a string or an array of strings");
  if (values.some((value) => value.includes("\0"))) throw codedError("invalid_options", "options may not contain NUL characters");
  return values.join("\0");
}
