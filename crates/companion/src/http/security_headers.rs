//! The security headers of every answer: no referrer (the callback URL carries the code, RFC
//! 9700 §4.2.4), no MIME sniffing, a strict Content-Security-Policy that no other site may
//! frame (`frame-ancestors 'none'`, RFC 6749 §10.13), and `Cache-Control: no-store` on every
//! `/api` answer (RFC 6749 §5.1 for tokens; here for everything a session reads).

use std::path::Path;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of `/api` answers: JSON, never a document that runs or loads anything.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of the app's pages: its own scripts, styles and WebAssembly
/// (`'wasm-unsafe-eval'` compiles the module, nothing evaluates strings), the inline scripts of
/// the pages in the static folder by their SHA-256 (Trunk's loader, the callback page's relay),
/// calls to its own origin only, and framing as [`AppPolicy::framed_by`] says.
pub struct AppPolicy {
    /// ` 'sha256-…'` for every inline script, read once from the folder's pages.
    script_hashes: String,
}

impl AppPolicy {
    /// Reads the inline scripts of the `.html` pages in `static_dir` (none without one).
    pub fn read(static_dir: Option<&Path>) -> Self {
        let script_hashes = static_dir
            .and_then(|dir| std::fs::read_dir(dir).ok())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "html"))
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .flat_map(|html| {
                inline_scripts(&html)
                    .into_iter()
                    .map(|script| format!(" 'sha256-{}'", script_hash(script)))
                    .collect::<Vec<_>>()
            })
            .collect();
        Self { script_hashes }
    }

    /// The policy, with `frame_ancestors` (see [`frame_ancestors`]) as who may frame the page.
    pub fn framed_by(&self, frame_ancestors: &str) -> String {
        format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors}",
            self.script_hashes
        )
    }
}

/// The `frame-ancestors` source list for `origins`: exactly those (CSP Level 3 §6.4.2), or
/// `'none'` when there are none. Every page but `/embed` gets `'none'` (RFC 6749 §10.13).
pub fn frame_ancestors(origins: &[String]) -> String {
    if origins.is_empty() {
        "'none'".to_owned()
    } else {
        origins.join(" ")
    }
}

/// The text of every inline `<script>` (one without `src`) of a page, as the browser hashes it.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(tag_end) = rest[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = rest[tag_end..].find("</script>").map(|i| tag_end + i) else {
            break;
        };
        if !rest[start..tag_end].contains("src=") {
            scripts.push(&rest[tag_end + 1..close]);
        }
        rest = &rest[close..];
    }
    scripts
}

/// The CSP hash source of a script: base64 of its SHA-256 (CSP Level 3 §2.3.1).
fn script_hash(script: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
}

/// `router` (the embed page) with the app's policy, framed by `origins` only.
pub fn embed_page(router: Router, policy: &AppPolicy, origins: &[String]) -> Router {
    let policy = policy.framed_by(&frame_ancestors(origins));
    router.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static(API_POLICY)),
    ))
}

/// `/api` with `Cache-Control: no-store`, [`API_POLICY`] and `Cross-Origin-Resource-Policy:
/// same-origin` on every answer, successful or not: the frame's cookies go with requests from
/// the documentation site's page too, and no other origin may read what they return.
pub fn api(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_POLICY),
        ))
}

/// The whole companion with `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`,
/// and `policy` wherever a route set no policy of its own.
pub fn everywhere(router: Router, policy: &str) -> Router {
    let policy = HeaderValue::from_str(policy).unwrap_or_else(|_| HeaderValue::from_static(API_POLICY));
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_scripts_with_src_are_not() {
        let html = "<head><script type=\"module\" src=\"/embed.js\"></script><script type=\"module\">import init from '/app.js';\ninit();</script></head>";
        assert_eq!(inline_scripts(html), ["import init from '/app.js';\ninit();"]);
        // The CSP Level 3 example: alert('Hello, world.');
        assert_eq!(
            script_hash("alert('Hello, world.');"),
            "qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng="
        );
    }

    #[test]
    fn the_app_policy_allows_its_own_inline_scripts_and_no_framing() {
        let dir = std::env::temp_dir().join(format!("csp-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<script>boot()</script>").unwrap();
        let policy = AppPolicy::read(Some(&dir)).framed_by(&frame_ancestors(&[]));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            policy.contains(&format!("'sha256-{}'", script_hash("boot()"))),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }

    #[test]
    fn frame_ancestors_name_the_embed_origins_or_none() {
        assert_eq!(frame_ancestors(&[]), "'none'");
        let origins = [
            "https://docs.example.com".to_owned(),
            "http://127.0.0.1:4000".to_owned(),
        ];
        assert_eq!(
            frame_ancestors(&origins),
            "https://docs.example.com http://127.0.0.1:4000"
        );
        assert!(
            AppPolicy::read(None)
                .framed_by(&frame_ancestors(&origins))
                .ends_with("frame-ancestors https://docs.example.com http://127.0.0.1:4000")
        );
    }
}
