//! The allow-list of Pleo API paths the proxy forwards, with their methods and scopes.

use axum::http::Method;

/// One allowed API route. `{id}` stands for one identifier segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRoute {
    /// The path below the API base, without a leading slash, e.g. `v2/employees/{id}`.
    pub pattern: &'static str,
    /// The methods forwarded for it.
    pub methods: &'static [Method],
    /// The scope Pleo requires, if any.
    pub scope: Option<&'static str>,
}

/// Pleo's read endpoints (../shared/pleo-facts.md). Writes are not forwarded: they need
/// explicit configuration (the BFF rule: the proxy is not an open relay).
pub const API_CATALOG: &[ApiRoute] = &[
    ApiRoute { pattern: "v2/employees", methods: &[Method::GET], scope: Some("users:read") },
    ApiRoute { pattern: "v2/employees/{id}", methods: &[Method::GET], scope: Some("users:read") },
    ApiRoute { pattern: "v1/companies", methods: &[Method::GET], scope: None },
    ApiRoute { pattern: "v1/companies/{id}", methods: &[Method::GET], scope: None },
    ApiRoute { pattern: "v1/introspect", methods: &[Method::GET], scope: None },
    ApiRoute { pattern: "v3/export-jobs", methods: &[Method::GET], scope: Some("export-jobs:read") },
    ApiRoute { pattern: "v1/installations/me", methods: &[Method::GET], scope: None },
];

/// Whether a raw (still percent-encoded) path segment is a plain identifier: ASCII letters,
/// digits, `-` and `_`, 1 to 64 of them. Rules out `..`, `%2F`, `%0D%0A`, `@host`, `:` and
/// anything else that could steer the request elsewhere.
fn is_plain_segment(segment: &str) -> bool {
    (1..=64).contains(&segment.len()) && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The catalog entry `raw_path` (below `/api/pleo/`, as received, not decoded) matches.
pub fn match_route(raw_path: &str) -> Option<&'static ApiRoute> {
    let segments: Vec<&str> = raw_path.split('/').collect();
    if !segments.iter().all(|s| is_plain_segment(s)) {
        return None;
    }
    API_CATALOG.iter().find(|route| {
        let pattern: Vec<&str> = route.pattern.split('/').collect();
        pattern.len() == segments.len() && pattern.iter().zip(&segments).all(|(p, s)| *p == "{id}" || p == s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_paths_match() {
        assert_eq!(match_route("v2/employees").unwrap().pattern, "v2/employees");
        assert_eq!(match_route("v2/employees/e123-abc").unwrap().pattern, "v2/employees/{id}");
        assert_eq!(match_route("v1/installations/me").unwrap().pattern, "v1/installations/me");
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
