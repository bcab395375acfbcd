//! What the companion will not serve from `COMPANION_STATIC_DIR`: dotfiles (`.env`, `.git`),
//! whatever the folder holds. The configuration also refuses a folder with a `.env` in it.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// 404 for any path with a segment that starts with a dot, raw or percent-encoded.
pub async fn refuse_dotfiles(request: Request, next: Next) -> Response {
    if has_dot_segment(request.uri().path()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// Whether a path segment (decoded) starts with `.`.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded: String = form_urlencoded::parse(format!("s={segment}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        decoded.starts_with('.') || segment.starts_with('.')
    })
}

#[cfg(test)]
mod tests {
    use super::has_dot_segment;

    #[test]
    fn dot_segments_are_found_raw_and_encoded() {
        for path in ["/.env", "/a/.git/config", "/%2eenv", "/%2Egit/HEAD", "/x/%2e%2e/y"] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in ["/", "/index.html", "/app_bg.wasm", "/callback", "/a.b/c"] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }
}
