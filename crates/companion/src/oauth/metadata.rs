//! What the authorisation server says of itself (RFC 8414), as far as the callback check needs
//! it: its issuer identifier and whether it names itself (`iss`) in every authorization
//! response (RFC 9207 §3). Fetched once, when first needed; a server without metadata (Pleo
//! documents none) leaves the configured base URL as the issuer and `iss` optional.

use std::time::Duration;

use serde::Deserialize;

use crate::upstream::read_limited;

/// The path of the metadata document (RFC 8414 §3).
const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// How long the metadata request may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The largest metadata document read.
const MAX_BYTES: usize = 64 * 1024;

/// The two facts of the metadata the companion uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMetadata {
    /// `issuer`, exactly as published.
    pub issuer: String,
    /// `authorization_response_iss_parameter_supported`.
    pub iss_always_sent: bool,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// The metadata URLs of an issuer `base` (no trailing slash): the RFC 8414 §3.1 form, with the
/// well-known path before the issuer's path, and, for an issuer with a path, the form that
/// appends it (which many servers, the stand-in among them, serve).
pub fn metadata_urls(base: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(base) else {
        return Vec::new();
    };
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    let mut urls = vec![format!("{origin}{WELL_KNOWN}{path}")];
    if !path.is_empty() {
        urls.push(format!("{origin}{path}{WELL_KNOWN}"));
    }
    urls
}

/// Fetches the metadata of the authorisation server at `base`. `None` when there is none, it
/// cannot be read, or its `issuer` is not the configured server (RFC 8414 §3.3: then it must
/// not be used); the reason goes to the log.
pub async fn discover(http: &reqwest::Client, base: &str) -> Option<ServerMetadata> {
    for url in metadata_urls(base) {
        let Ok(response) = http.get(&url).timeout(TIMEOUT).send().await else {
            continue;
        };
        if !response.status().is_success() {
            continue;
        }
        let Ok(Some(body)) = read_limited(response, MAX_BYTES).await else {
            continue;
        };
        let Ok(document) = serde_json::from_slice::<Document>(&body) else {
            tracing::warn!(%url, "the authorisation server metadata is not the RFC 8414 JSON; iss stays optional");
            return None;
        };
        // Compared as parsed URLs: `https://as.example` and `https://as.example/` are one.
        if url::Url::parse(&document.issuer).ok() != url::Url::parse(base).ok() {
            tracing::warn!(%url, issuer = %document.issuer, "the metadata names another issuer than the configured server; not used (RFC 8414 §3.3)");
            return None;
        }
        return Some(ServerMetadata {
            issuer: document.issuer,
            iss_always_sent: document.authorization_response_iss_parameter_supported,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::metadata_urls;

    #[test]
    fn metadata_is_looked_up_where_rfc_8414_puts_it() {
        assert_eq!(
            metadata_urls("https://auth.example"),
            ["https://auth.example/.well-known/oauth-authorization-server"]
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:3000/stand-in"),
            [
                "http://127.0.0.1:3000/.well-known/oauth-authorization-server/stand-in",
                "http://127.0.0.1:3000/stand-in/.well-known/oauth-authorization-server"
            ]
        );
    }
}
