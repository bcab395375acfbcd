//! The allow-list the proxy forwards: the contract's API catalog (every entry a read: GET and
//! HEAD), and the writes the operator configured (`COMPANION_API_WRITES`).

use axum::http::Method;
use contract::{ApiEndpoint, CATALOG};
use flow::ErrorCode;

/// Whether a raw (still percent-encoded) path segment is a plain identifier: ASCII letters,
/// digits, `-` and `_`, 1 to 64 of them. Rules out `..`, `%2F`, `%0D%0A`, `@host`, `:` and
/// anything else that could steer the request elsewhere.
fn is_plain_segment(segment: &str) -> bool {
    (1..=64).contains(&segment.len())
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `pattern` (`v2/employees/{id}`) matches the path `segments`.
fn pattern_matches(pattern: &str, segments: &[&str]) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    pattern.len() == segments.len() && pattern.iter().zip(segments).all(|(p, s)| *p == "{id}" || p == s)
}

/// The plain segments of a raw path, or `None` if any segment is not plain.
fn plain_segments(raw_path: &str) -> Option<Vec<&str>> {
    let segments: Vec<&str> = raw_path.split('/').collect();
    segments.iter().all(|s| is_plain_segment(s)).then_some(segments)
}

/// The catalog entry the plain `segments` of a path match.
fn catalog_entry(segments: &[&str]) -> Option<&'static ApiEndpoint> {
    CATALOG.iter().find(|endpoint| pattern_matches(endpoint.path, segments))
}

/// A write the operator allowed explicitly (`COMPANION_API_WRITES`), e.g. `DELETE v1/installations/me`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRule {
    /// POST, PUT, PATCH or DELETE.
    pub method: Method,
    /// The path pattern, as in the catalog.
    pub pattern: String,
}

/// Parses `METHOD pattern` entries separated by commas.
pub fn parse_write_rules(text: &str) -> Result<Vec<WriteRule>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (method, pattern) = entry
                .split_once(' ')
                .ok_or_else(|| format!("{entry:?} is not \"METHOD path\""))?;
            let method = match method {
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "PATCH" => Method::PATCH,
                "DELETE" => Method::DELETE,
                other => return Err(format!("{other:?} is not one of POST, PUT, PATCH, DELETE")),
            };
            let pattern = pattern.trim().trim_start_matches('/').to_owned();
            if !pattern.split('/').all(|s| s == "{id}" || is_plain_segment(s)) {
                return Err(format!("{pattern:?} is not a path of plain segments and {{id}}"));
            }
            Ok(WriteRule { method, pattern })
        })
        .collect()
}

/// Whether `method` on `raw_path` may be forwarded: GET (and HEAD) for the catalog, other
/// methods only where a write rule allows them.
pub fn check(raw_path: &str, method: &Method, writes: &[WriteRule]) -> Result<(), ErrorCode> {
    let segments = plain_segments(raw_path).ok_or(ErrorCode::PathNotAllowed)?;
    let in_catalog = catalog_entry(&segments);
    let writable = writes.iter().filter(|w| pattern_matches(&w.pattern, &segments));
    let allowed = match in_catalog {
        Some(_) if matches!(*method, Method::GET | Method::HEAD) => true,
        _ => writable.clone().any(|w| w.method == *method),
    };
    match (allowed, in_catalog.is_some() || writable.count() > 0) {
        (true, _) => Ok(()),
        (false, true) => Err(ErrorCode::MethodNotAllowed),
        (false, false) => Err(ErrorCode::PathNotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog entry `raw_path` (below `/api/pleo/`, as received, not decoded) matches.
    fn match_route(raw_path: &str) -> Option<&'static ApiEndpoint> {
        catalog_entry(&plain_segments(raw_path)?)
    }

    #[test]
    fn catalog_paths_match() {
        assert_eq!(match_route("v2/employees").unwrap().path, "v2/employees");
        assert_eq!(match_route("v2/employees/e123-abc").unwrap().path, "v2/employees/{id}");
        assert_eq!(match_route("v1/installations/me").unwrap().path, "v1/installations/me");
    }

    #[test]
    fn writes_are_refused_unless_configured() {
        assert_eq!(
            check("v1/installations/me", &Method::DELETE, &[]),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(check("v1/installations/me", &Method::GET, &[]), Ok(()));
        let writes = parse_write_rules("DELETE v1/installations/me, POST /v3/export-jobs").unwrap();
        assert_eq!(check("v1/installations/me", &Method::DELETE, &writes), Ok(()));
        assert_eq!(check("v3/export-jobs", &Method::POST, &writes), Ok(()));
        assert_eq!(
            check("v3/export-jobs", &Method::PUT, &writes),
            Err(ErrorCode::MethodNotAllowed)
        );
        assert_eq!(check("v9/x", &Method::POST, &writes), Err(ErrorCode::PathNotAllowed));
        assert!(parse_write_rules("GET v1/x").is_err());
        assert!(parse_write_rules("POST v1/../x").is_err());
        assert!(parse_write_rules("nonsense").is_err());
    }

    #[test]
    fn escapes_from_the_allow_list_do_not_match() {
        for path in [
            "",
            "v2",
            "v2/employees/",
            "v2/employees/a/b",
            "v2/../v1/admin",
            "v2/employees/..",
            "v2/employees/%2E%2E",
            "v2/employees%2Fx",
            "v2/employees/a%0D%0AHost:evil",
            "//evil.example/v2/employees",
            "http://evil.example/v2/employees",
            "v2/employees/@evil.example",
            "v9/anything",
            "V2/EMPLOYEES",
        ] {
            assert!(match_route(path).is_none(), "{path:?} must not match");
        }
        assert!(match_route(&format!("v2/employees/{}", "a".repeat(65))).is_none());
    }
}
