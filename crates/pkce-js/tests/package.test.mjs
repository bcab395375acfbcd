// The built npm package, tested in Node 20+ with node's own test runner, against Node's crypto.
// Run by `cargo xtask test` after `cargo xtask pkce-package`; PKCE_PACKAGE names the directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const dir = process.env.PKCE_PACKAGE ?? new URL("../../../target/pkce-package", import.meta.url).pathname;
const pkce = await import(pathToFileURL(join(dir, "node.js")).href);

const nodeS256 = (verifier) => createHash("sha256").update(verifier, "ascii").digest("base64url");

test("RFC 7636 Appendix B vector", () => {
  assert.equal(
    pkce.calculateCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

test("10,000 random verifiers of every length agree with Node's crypto", () => {
  for (let i = 0; i < 10_000; i++) {
    const verifier = pkce.generateCodeVerifier(43 + (i % 86));
    assert.match(verifier, /^[A-Za-z0-9._~-]{43,128}$/);
    assert.equal(pkce.calculateCodeChallenge(verifier), nodeS256(verifier));
  }
});

test("generatePkce returns a matching S256 pair", () => {
  const pair = pkce.generatePkce();
  assert.equal(pair.codeChallengeMethod, "S256");
  assert.equal(pair.codeVerifier.length, 43);
  assert.equal(pair.codeChallenge, nodeS256(pair.codeVerifier));
  assert.ok(pkce.verifyCodeChallenge(pair.codeVerifier, pair.codeChallenge));
  assert.ok(!pkce.verifyCodeChallenge(pair.codeVerifier, pair.codeVerifier));
});

/** The `code` of the error `fn` throws, or "no error". */
const code = (fn) => { try { fn(); } catch (e) { assert.ok(e instanceof Error); return e.code; } return "no error"; };

test("errors carry stable codes", () => {
  assert.equal(code(() => pkce.calculateCodeChallenge("a".repeat(42))), "verifier_too_short");
  assert.equal(code(() => pkce.calculateCodeChallenge("a".repeat(129))), "verifier_too_long");
  assert.equal(code(() => pkce.calculateCodeChallenge("a".repeat(42) + "+")), "verifier_invalid_character");
  assert.equal(code(() => pkce.calculateCodeChallenge("a".repeat(42) + "é")), "verifier_invalid_character");
  assert.equal(code(() => pkce.calculateCodeChallenge("")), "verifier_too_short");
  assert.equal(code(() => pkce.generateCodeVerifier(42)), "verifier_length_out_of_range");
  assert.equal(code(() => pkce.buildAuthorizationUrl({})), "invalid_options");
  assert.equal(code(() => pkce.buildAuthorizationUrl(null)), "invalid_options");
  assert.equal(code(() => pkce.buildAuthorizationUrl("https://as/authorize")), "invalid_options");
  const options = { authorizationEndpoint: "https://as.example/authorize", clientId: "c", redirectUri: "https://app/cb", scope: "a b", state: "s", codeChallenge: "x" };
  assert.equal(code(() => pkce.buildAuthorizationUrl({ ...options, clientId: 7 })), "invalid_options");
  assert.equal(code(() => pkce.buildAuthorizationUrl({ ...options, scope: ["a", 2] })), "invalid_options");
  assert.equal(code(() => pkce.buildAuthorizationUrl({ ...options, scope: undefined })), "invalid_options");
  assert.equal(code(() => pkce.buildAuthorizationUrl({ ...options, authorizationEndpoint: "http://as.example/authorize" })), "config_invalid");
  assert.equal(code(() => pkce.buildAuthorizationUrl({ ...options, authorizationEndpoint: "https://as.example/authorize?state=x" })), "config_invalid");
  assert.equal(code(() => pkce.parseCallback("https://app/cb?code=x", "good")), "state_missing");
  assert.equal(code(() => pkce.parseCallback("https://app/cb?state=good", "good")), "code_missing");
  assert.equal(code(() => pkce.parseCallback("https://app/cb?code=x&code=y&state=good", "good")), "callback_parameter_repeated");
  assert.equal(code(() => pkce.parseCallback("https://app/cb?code=x&state=evil", "good")), "state_mismatch");
});

test("parseCallback with expectedIssuer requires exactly that iss (RFC 9207)", () => {
  const as = "https://auth.example";
  assert.equal(pkce.parseCallback(`https://app/cb?code=x&state=good&iss=${encodeURIComponent(as)}`, "good", as).code, "x");
  assert.equal(code(() => pkce.parseCallback("https://app/cb?code=x&state=good", "good", as)), "issuer_missing");
  assert.equal(code(() => pkce.parseCallback("https://app/cb?code=x&state=good&iss=https%3A%2F%2Fevil.example", "good", as)), "issuer_mismatch");
  assert.equal(code(() => pkce.parseCallback(`https://app/cb?code=x&state=good&iss=${encodeURIComponent(as + "/")}`, "good", as)), "issuer_mismatch");
  assert.equal(pkce.parseCallback("https://app/cb?code=x&state=good", "good").code, "x", "without expectedIssuer, iss is not checked");
});

test("buildAuthorizationUrl and parseCallback round-trip", () => {
  const state = pkce.generateState();
  assert.equal(state.length, 43);
  const url = pkce.buildAuthorizationUrl({
    authorizationEndpoint: "https://auth.staging.pleo.io/oauth/authorize",
    clientId: "client-1",
    redirectUri: "http://localhost:8080/callback",
    scope: ["users:read", "test:test"],
    state,
    codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  });
  const params = new URL(url).searchParams;
  assert.equal(params.get("response_type"), "code");
  assert.equal(params.get("scope"), "users:read test:test");
  assert.equal(params.get("code_challenge_method"), "S256");
  // A string scope is split on whitespace and sent space-separated (RFC 6749 §3.3).
  const fromString = pkce.buildAuthorizationUrl({ authorizationEndpoint: "http://127.0.0.1:9/oauth/authorize", clientId: "c", redirectUri: "http://localhost/cb", scope: " users:read\ttest:test ", state, codeChallenge: "x" });
  assert.equal(new URL(fromString).searchParams.get("scope"), "users:read test:test");
  assert.deepEqual(pkce.parseCallback(`http://localhost:8080/callback?code=abc&state=${state}`, state), { code: "abc", state });
  try {
    pkce.parseCallback(`?error=access_denied&error_description=no&state=${state}`, state);
    assert.fail("an error response must throw");
  } catch (e) {
    assert.equal(e.code, "authorization_denied");
    assert.equal(e.oauthError, "access_denied");
    assert.equal(e.errorDescription, "no");
  }
});
