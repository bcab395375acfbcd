//! The companion's request parsing on any input: the proxy's path and query check
//! (`METHOD /api/pleo/...`), the JSON bodies of `/api/authorize/start`, `/api/token` and
//! `/api/logout`, and the `COMPANION_API_WRITES` rules. Never panics; whatever the proxy lets
//! through is an allow-listed path under the API base with a re-encoded query.
#![no_main]

use companion::allow_list::parse_write_rules;
use libfuzzer_sys::fuzz_target;

const BASE: &str = "https://api.example";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = serde_json::from_slice::<contract::wire::AuthorizeStart>(data);
    let _ = serde_json::from_slice::<contract::wire::TokenExchange>(data);
    let _ = serde_json::from_slice::<contract::wire::Logout>(data);
    let writes = parse_write_rules(&text).unwrap_or_default();

    let (method, target) = text.split_once(' ').unwrap_or(("GET", &text));
    let (Ok(method), Ok(uri)) = (http::Method::from_bytes(method.as_bytes()), target.parse::<http::Uri>()) else { return };
    let Ok(url) = companion::proxy::upstream_url(BASE, &method, &uri, &writes) else { return };
    let rest = url.strip_prefix(BASE).expect("stays under the API base");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    assert!(path.starts_with('/') && !path.contains("//") && !path.contains(".."), "{url}");
    assert!(path[1..].split('/').all(|s| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')), "{url}");
    assert!(!query.contains(['\r', '\n', ' ', '#']), "{url}");
});
