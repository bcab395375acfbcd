import init, { calculateCodeChallenge, generatePkce } from "@pleo-walkthrough/pkce";

const b64url = (bytes) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

init()
  .then(async () => {
    const vector = calculateCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    const { codeVerifier, codeChallenge } = generatePkce();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier)));
    window.pkceResult = { vector, pairMatchesWebCrypto: b64url(digest) === codeChallenge };
  })
  .catch((error) => {
    window.pkceResult = { error: String(error) };
  });
