//! `cargo xtask pkce-package`: builds the npm-ready ES-module package of the PKCE module into
//! `target/pkce-package/` (package.json, .wasm, .js, .d.ts, README), the wasm optimised with
//! wasm-opt and the JavaScript glue bundled with its snippet and minified by esbuild (the .d.ts
//! documents the API).

use std::path::{Path, PathBuf};

use crate::{command, copy, repo_root, step, wasm_release, write};

/// The package name.
pub const NAME: &str = "@pleo-walkthrough/pkce";

/// Where the package's own files are (`crates/pkce-js/package/`): README, Node's entry.
pub fn files_dir() -> PathBuf {
    repo_root().join("crates/pkce-js/package")
}

/// The package's README, whose browser examples the Vite build takes.
pub fn readme() -> Result<String, String> {
    crate::read(&files_dir().join("README.md"))
}

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
    // The package's own files, kept as files: the README (whose two browser examples are built
    // with Vite and run by the tests) and Node's entry with its types.
    for name in ["README.md", "node.js", "node.d.ts"] {
        copy(&files_dir().join(name), &out.join(name))?;
    }
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
