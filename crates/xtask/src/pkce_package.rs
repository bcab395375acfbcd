//! `cargo xtask pkce-package`: builds the npm-ready ES-module package of the PKCE module into
//! `target/pkce-package/` (package.json, .wasm, .js, .d.ts, README), the wasm optimised with
//! wasm-opt and the JavaScript glue bundled with its snippet and minified by esbuild (the .d.ts
//! documents the API).

use std::path::{Path, PathBuf};

use crate::{command, repo_root, step, wasm_release, write};

/// The package name.
pub const NAME: &str = "@pleo-walkthrough/pkce";

/// Where the package is written.
pub fn out_dir() -> PathBuf {
    repo_root().join("target/pkce-package")
}

/// Raw and gzipped sizes of the package's code (.wasm + .js).
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Bytes of pkce_bg.wasm.
    pub wasm: u64,
    /// Bytes of pkce.js.
    pub js: u64,
    /// Bytes of both, each gzipped -9.
    pub gzipped: u64,
}

/// Builds the package and reports its sizes (the caller has run `setup::ensure_tools`).
pub fn build() -> Result<Sizes, String> {
    step("Building the PKCE module (release, wasm32)");
    wasm_release::run_release_build("cargo build -p pkce-js", || wasm_release::wasm32_release("pkce-js"))?;
    let out = out_dir();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    step("Generating the ES module and TypeScript definitions (wasm-bindgen --target web)");
    let input = repo_root().join("target/wasm32-unknown-unknown/release/pkce_js.wasm");
    wasm_release::generate_glue(&input, &out, "pkce", true)?;
    step("Optimising for size (wasm-opt -Oz)");
    let wasm = out.join("pkce_bg.wasm");
    wasm_release::optimise_for_size(&wasm)?;
    step("Bundling the JavaScript glue with its snippets into pkce.js, minified (esbuild)");
    wasm_release::bundle_glue(&out.join("pkce.js"))?;
    let _ = std::fs::remove_dir_all(out.join("snippets"));
    write(&out.join("package.json"), &package_json())?;
    write(&out.join("node.js"), NODE_ENTRY)?;
    write(&out.join("node.d.ts"), "export * from \"./pkce.js\";\n")?;
    write(&out.join("README.md"), README)?;
    let sizes = Sizes {
        wasm: size(&wasm),
        js: size(&out.join("pkce.js")),
        gzipped: gzipped(&wasm)? + gzipped(&out.join("pkce.js"))?,
    };
    println!(
        "    {}: pkce_bg.wasm {} B + pkce.js {} B = {} B raw, {} B gzipped",
        out.display(),
        sizes.wasm,
        sizes.js,
        sizes.wasm + sizes.js,
        sizes.gzipped
    );
    Ok(sizes)
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Bytes of `gzip -9` of a file.
pub fn gzipped(path: &Path) -> Result<u64, String> {
    let output = command("gzip")
        .arg("-9")
        .arg("-c")
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(output.stdout.len() as u64)
}

fn package_json() -> String {
    format!(
        r#"{{
  "name": "{NAME}",
  "version": "{version}",
  "description": "RFC 7636 PKCE (S256) for browsers and Node 20+: code verifier, challenge, state, authorize URL and callback checks, in WebAssembly.",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./node.js",
  "module": "./pkce.js",
  "types": "./pkce.d.ts",
  "exports": {{
    ".": {{
      "node": {{ "types": "./node.d.ts", "default": "./node.js" }},
      "default": {{ "types": "./pkce.d.ts", "default": "./pkce.js" }}
    }},
    "./pkce_bg.wasm": {{ "types": "./pkce_bg.wasm.d.ts", "default": "./pkce_bg.wasm" }}
  }},
  "files": ["pkce.js", "pkce.d.ts", "pkce_bg.wasm", "pkce_bg.wasm.d.ts", "node.js", "node.d.ts", "README.md"],
  "engines": {{ "node": ">=20" }},
  "sideEffects": ["./node.js"]{repository}
}}
"#,
        version = env!("CARGO_PKG_VERSION"),
        repository = repository()
            .map(|url| format!(
                ",\n  \"repository\": {{ \"type\": \"git\", \"url\": \"{url}\", \"directory\": \"crates/pkce-js\" }}"
            ))
            .unwrap_or_default()
    )
}

/// The repository the package is built from, as its clone names it (`git remote get-url
/// origin`), in the form npm documents; none for a clone without a remote.
fn repository() -> Option<String> {
    let output = command("git").args(["remote", "get-url", "origin"]).output().ok()?;
    let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && url.starts_with("https://")).then(|| format!("git+{url}"))
}

/// Node entry: initialises synchronously from the .wasm bytes next to it.
const NODE_ENTRY: &str = r#"// Node 20+: initialise synchronously from the bytes of the .wasm beside this file.
import { readFileSync } from "node:fs";
import { initSync } from "./pkce.js";

initSync({ module: readFileSync(new URL("./pkce_bg.wasm", import.meta.url)) });

export * from "./pkce.js";
"#;

/// The package's README; its two browser examples are built with Vite and run by the tests.
pub const README: &str = r#"# @pleo-walkthrough/pkce

RFC 7636 PKCE with S256 for any web app, in WebAssembly built from a Rust core that is tested
against the RFC's Appendix B vector, property tests, Node's crypto and the browser's WebCrypto.
`calculateCodeChallenge` is synchronous (WebCrypto's digest is not).

## Install

Until the package is published, install the tarball that `cargo xtask pkce-package` writes into
`target/pkce-tarball/` of the walkthrough's repository:

```sh
npm install /path/to/walkthrough/target/pkce-tarball/pleo-walkthrough-pkce-0.1.0.tgz
```

It is an ES module (for browsers through any bundler, and for Node 20+); CommonJS code loads it
with `await import("@pleo-walkthrough/pkce")`. Bundlers that keep
`new URL("pkce_bg.wasm", import.meta.url)` as it is (esbuild, Rollup) need `pkce_bg.wasm` beside
their output; webpack 5 and Vite emit it themselves.

## Browser (ES module)

On the page that starts the sign-in:

```js
import init, { generatePkce, generateState, buildAuthorizationUrl } from "@pleo-walkthrough/pkce";

// init() fetches pkce_bg.wasm next to pkce.js. Wait for it with .then (or inside an async
// function): a top-level await is refused by the default build targets of Vite and webpack.
init().then(() => {
  const { codeVerifier, codeChallenge } = generatePkce();
  const state = generateState();
  sessionStorage.setItem("pkce", JSON.stringify({ codeVerifier, state }));
  location.href = buildAuthorizationUrl({
    authorizationEndpoint: "https://auth.staging.pleo.io/oauth/authorize",
    clientId: "<your client id>",
    redirectUri: "http://localhost:8080/callback",
    scope: ["users:read"],
    state,
    codeChallenge,
  });
});
```

On the redirect URI:

```js
import init, { parseCallback } from "@pleo-walkthrough/pkce";

init().then(async () => {
  const pending = JSON.parse(sessionStorage.getItem("pkce"));
  sessionStorage.removeItem("pkce"); // single use
  try {
    const { code } = parseCallback(location.href, pending?.state);
    // Your backend holds the client secret and exchanges the code (RFC 6749 §4.1.3).
    await fetch("/oauth/exchange", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code, codeVerifier: pending.codeVerifier }),
    });
  } catch (e) {
    console.error(e.code, e.message); // e.g. "state_mismatch", "authorization_denied"
  }
});
```

Both build as they are in a new Vite project (`npm create vite`, default settings) and in
plain `<script type="module">` pages.

## Node 20+

```js
import { generatePkce, calculateCodeChallenge } from "@pleo-walkthrough/pkce"; // initialised synchronously
```

## API

| function | returns | throws (`error.code`) |
|---|---|---|
| `generateCodeVerifier(length = 43)` | 43-128 chars of `[A-Za-z0-9-._~]` from the CSPRNG | `verifier_length_out_of_range` |
| `calculateCodeChallenge(verifier)` | `BASE64URL(SHA-256(verifier))` | `verifier_too_short`, `verifier_too_long`, `verifier_invalid_character` |
| `generatePkce(length = 43)` | `{ codeVerifier, codeChallenge, codeChallengeMethod: "S256" }` | as above |
| `generateState()` | 43 chars, 256 bits | `random_unavailable` |
| `verifyCodeChallenge(verifier, challenge)` | `boolean` (server side, constant time) | never |
| `buildAuthorizationUrl(options)` | the authorize URL with `response_type=code` and `code_challenge_method=S256`; `scope` is an array or a whitespace-separated string | `invalid_options` (options of another shape, or a NUL character in one), `config_invalid` (not https; http off loopback, which is `localhost`, 127.0.0.0/8 or `[::1]`; a fragment; or an endpoint query that repeats one of the parameters) |
| `parseCallback(url, expectedState, expectedIssuer?)` | `{ code, state }`; with `expectedIssuer` (a server that sends `iss`, RFC 9207), the response must name exactly that issuer | `callback_parameter_repeated`, `issuer_missing`, `issuer_mismatch`, `state_missing`, `no_pending_authorization`, `state_mismatch`, `authorization_denied`, `authorization_failed` (with `oauthError`, `errorDescription`), `code_missing`, `callback_too_large` |

`plain` is not offered: RFC 9700 §2.1.1 asks for S256.
"#;
