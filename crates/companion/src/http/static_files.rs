//! How the companion serves `COMPANION_STATIC_DIR`: never a dotfile (`.env`, `.git`), whatever
//! the folder holds (the configuration also refuses a folder with a `.env` in it); the app's
//! content-hashed files cached for good, everything else revalidated on every use.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use contract::routes::CALLBACK_PATH;

/// 404 for any path with a segment that starts with a dot, raw or percent-encoded.
pub async fn refuse_dotfiles(request: Request, next: Next) -> Response {
    if has_dot_segment(request.uri().path()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// `Cache-Control` of a served file: `public, max-age=31536000, immutable` for a content-hashed
/// name (`app-<16 hex digits>.js`: its bytes never change, so a return from the authorisation
/// server reuses the browser's copy and its compiled module); `no-store` for the callback page,
/// whose URL holds the code (RFC 9700 §4.3.1: the code kept out of caches and history);
/// `no-cache` for every other file (`index.html`, the loaders), so a new build is seen at once.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let callback = request.uri().path() == CALLBACK_PATH;
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    // A hashed name that is not there gets the app's page (the single-page fallback): never
    // cached for good.
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let immutable = hashed && !page && response.status() == StatusCode::OK;
    let value = if callback {
        "no-store"
    } else if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // 206 (a range of it) and 304 (not modified) answers are of one of those encodings too.
    let negotiated = hashed
        && !page
        && matches!(
            response.status(),
            StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
        );
    if negotiated {
        // A content-hashed file may come brotli- or gzip-encoded, or plain, by what the request
        // accepts: caches keep them apart.
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether the path's file name is `<name>-<16 lowercase hex digits>.<extension>`, the form
/// `cargo xtask build-app` gives the app's files.
pub fn is_content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _extension)) = file.rsplit_once('.') else {
        return false;
    };
    stem.rsplit_once('-').is_some_and(|(name, hash)| {
        !name.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
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
    use super::{has_dot_segment, is_content_hashed};

    #[test]
    fn content_hashed_names_are_told_from_the_rest() {
        for path in [
            "/app-0123456789abcdef.js",
            "/app_bg-0123456789abcdef.wasm",
            "/walkthrough-fedcba9876543210.css",
        ] {
            assert!(is_content_hashed(path), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/app.js",
            "/embed-frame.js",
            "/app-0123456789ABCDEF.js",
            "/-0123456789abcdef.js",
            "/app-0123456789abcde.js",
        ] {
            assert!(!is_content_hashed(path), "{path}");
        }
    }

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
