//! The PKCE package's README examples, as a front-end team pastes them: a Vite project (default
//! settings, so Vite's default build target) with the README's sign-in example as its page and
//! its callback example as the redirect URI's page, importing the built package, built with
//! `vite build` into `target/pkce-vite-example/dist/`. The end-to-end test
//! (`tests/pkce_package.rs`) serves that build, runs it in headless Chromium against a small
//! authorisation endpoint and checks the verifier that reaches the "backend" against the
//! challenge the endpoint received.
//!
//! The examples are taken from the README's text unchanged but for the two addresses, which
//! point at the test's own server: `location.origin` stands for it, so the build does not depend
//! on the port the test picks.

use std::path::{Path, PathBuf};

use crate::{command, pkce_package, repo_root, run, step};

/// The Vite release the examples are checked with: 6 is the line whose default target
/// (`modules`: es2020) refuses a top-level await, so it is the one that catches it.
pub const VITE_VERSION: &str = "6.4.6";

/// The README's addresses and what the test build uses instead.
const ADDRESSES: [(&str, &str); 2] = [
    (
        "\"https://auth.staging.pleo.io/oauth/authorize\"",
        "location.origin + \"/oauth/authorize\"",
    ),
    (
        "\"http://localhost:8080/callback\"",
        "location.origin + \"/callback.html\"",
    ),
];

/// Where the Vite project is written.
fn project_dir() -> PathBuf {
    repo_root().join("target/pkce-vite-example")
}

/// Where the built example lands (what the end-to-end test serves).
pub fn dist_dir() -> PathBuf {
    project_dir().join("dist")
}

/// Writes the Vite project around the README's two browser examples and builds it. The package
/// must have been built into [`pkce_package::out_dir`].
pub fn build() -> Result<(), String> {
    step(&format!(
        "Building the PKCE package README's browser examples with Vite {VITE_VERSION} (default settings)"
    ));
    let (sign_in, callback) = readme_examples(&pkce_package::readme()?)?;
    let dir = project_dir();
    let _ = std::fs::remove_dir_all(dir.join("dist"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let package = pkce_package::out_dir();
    let files = [
        ("package.json", package_json(&package)),
        ("vite.config.js", VITE_CONFIG.to_owned()),
        ("index.html", page("sign-in.js")),
        ("callback.html", page("callback.js")),
        ("sign-in.js", sign_in),
        ("callback.js", callback),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    run(
        command("npm")
            .current_dir(&dir)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"]),
        "npm install (Vite example)",
    )?;
    run(
        command(&dir.join("node_modules/.bin/vite").display().to_string())
            .current_dir(&dir)
            .args(["build", "--logLevel", "warn"]),
        "vite build",
    )
}

/// The README's two ```js blocks (sign-in, callback), with its addresses pointed at the page's
/// own origin. Fails if the README no longer has them as expected.
fn readme_examples(readme: &str) -> Result<(String, String), String> {
    let blocks: Vec<&str> = readme
        .split("```js\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    let [sign_in, callback, ..] = blocks.as_slice() else {
        return Err("the package README has fewer than two ```js examples".to_owned());
    };
    let mut sign_in = (*sign_in).to_owned();
    for (from, to) in ADDRESSES {
        if sign_in.matches(from).count() != 1 {
            return Err(format!(
                "the package README's sign-in example no longer has {from} once"
            ));
        }
        sign_in = sign_in.replace(from, to);
    }
    Ok((sign_in, (*callback).to_owned()))
}

fn page(script: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>PKCE package example</title></head>\n<body><script type=\"module\" src=\"/{script}\"></script></body></html>\n"
    )
}

fn package_json(package: &Path) -> String {
    format!(
        r#"{{
  "private": true,
  "type": "module",
  "dependencies": {{ "@pleo-walkthrough/pkce": "file:{}" }},
  "devDependencies": {{ "vite": "{VITE_VERSION}" }}
}}
"#,
        package.display()
    )
}

/// Two pages; nothing else differs from Vite's defaults (the build target among them).
const VITE_CONFIG: &str = r#"import { defineConfig } from "vite";

export default defineConfig({
  build: { rollupOptions: { input: { index: "index.html", callback: "callback.html" } } },
});
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_examples_are_found_and_point_at_the_pages_origin() {
        let (sign_in, callback) = readme_examples(&pkce_package::readme().unwrap()).unwrap();
        assert!(
            sign_in.contains("location.origin + \"/oauth/authorize\"")
                && sign_in.contains("location.origin + \"/callback.html\"")
        );
        assert!(!sign_in.contains("staging.pleo.io"));
        assert!(callback.contains("parseCallback(location.href"));
        assert!(
            !sign_in.contains("await init()") && !callback.contains("await init()"),
            "no top-level await in the examples"
        );
    }
}
