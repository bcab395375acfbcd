//! The session's transcript as an HTTP Archive (HAR 1.2, the format browsers' developer tools
//! read and write): the companion's server-side exchanges, as redacted as the transcript is, for
//! a reader to open in their own tools or attach to a support request.

use cookie::time::OffsetDateTime;
use cookie::time::format_description::well_known::Rfc3339;
use serde_json::{Value, json};

use crate::transcript::TranscriptEntry;

/// The archive of `entries` (oldest first).
pub fn archive(entries: &[TranscriptEntry]) -> Value {
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "pleo-oauth-walkthrough companion", "version": env!("CARGO_PKG_VERSION")},
            "entries": entries.iter().map(entry).collect::<Vec<_>>(),
            "comment": "The companion's server-side exchanges for one session. The client secret, \
                        codes, verifiers and tokens are replaced by [redacted sha256:…]; API \
                        bodies are kept as their size and hash only.",
        }
    })
}

/// `[{name, value}]`, HAR's shape for headers and query strings.
fn pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Value> {
    pairs
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect()
}

/// The media type of a body the transcript kept: JSON when it parses, else text.
fn media_type(body: &str) -> &'static str {
    if serde_json::from_str::<Value>(body).is_ok() {
        "application/json"
    } else {
        "text/plain"
    }
}

fn entry(entry: &TranscriptEntry) -> Value {
    let started = i128::from(entry.started_at_ms) * 1_000_000;
    let started = OffsetDateTime::from_unix_timestamp_nanos(started)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let query: Vec<(String, String)> = url::Url::parse(&entry.url)
        .map(|url| {
            url.query_pairs()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let headers = pairs(entry.request_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let mut request = json!({
        "method": entry.method,
        "url": entry.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers,
        "queryString": pairs(query.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
        "headersSize": -1,
        "bodySize": entry.request_body.as_ref().map_or(0, String::len),
    });
    if let Some(body) = &entry.request_body {
        let mime = entry
            .request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map_or("application/octet-stream", |(_, v)| v.as_str());
        request["postData"] = json!({"mimeType": mime, "text": body});
    }
    let body = entry.response_body.as_deref().unwrap_or("");
    let status = entry.status.unwrap_or(0);
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut response = json!({
        "status": status,
        "statusText": reason,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [],
        "content": {"size": body.len(), "mimeType": media_type(body), "text": body},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": -1,
    });
    if let Some(error) = &entry.error {
        // HAR's custom fields start with an underscore; browsers write `_error` the same way.
        response["_error"] = json!(error);
    }
    json!({
        "startedDateTime": started,
        "time": entry.duration_ms,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": entry.duration_ms, "receive": 0},
        "comment": entry.step.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript;
    use contract::wire::TranscriptStep;

    /// The fields HAR 1.2 requires of `value`, at every level the archive writes.
    fn assert_har_1_2(value: &Value) {
        let log = &value["log"];
        assert_eq!(log["version"], "1.2");
        assert!(log["creator"]["name"].is_string() && log["creator"]["version"].is_string());
        for entry in log["entries"].as_array().unwrap() {
            let started = entry["startedDateTime"].as_str().unwrap();
            assert!(OffsetDateTime::parse(started, &Rfc3339).is_ok(), "{started}");
            assert!(entry["time"].is_number());
            assert!(entry["cache"].is_object());
            for timing in ["send", "wait", "receive"] {
                assert!(entry["timings"][timing].is_number());
            }
            let request = &entry["request"];
            for field in ["method", "url", "httpVersion"] {
                assert!(request[field].is_string(), "request.{field}");
            }
            for field in ["cookies", "headers", "queryString"] {
                assert!(request[field].is_array(), "request.{field}");
            }
            assert!(request["headersSize"].is_number() && request["bodySize"].is_number());
            let response = &entry["response"];
            assert!(response["status"].is_number());
            for field in ["statusText", "httpVersion", "redirectURL"] {
                assert!(response[field].is_string(), "response.{field}");
            }
            assert!(response["cookies"].is_array() && response["headers"].is_array());
            assert!(response["content"]["size"].is_number() && response["content"]["mimeType"].is_string());
            assert!(response["headersSize"].is_number() && response["bodySize"].is_number());
        }
    }

    #[test]
    fn a_transcript_becomes_a_har_1_2_archive_with_its_redactions() {
        let mut refresh = TranscriptEntry::new(
            TranscriptStep::Refresh,
            1_764_633_600_123,
            "POST",
            "https://auth.example/oauth/token",
        );
        refresh.request_headers = vec![(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        refresh.request_body = Some(transcript::redact_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-1"),
        ]));
        refresh.status = Some(200);
        refresh.duration_ms = 12;
        refresh.response_body = Some(transcript::redact_json(
            br#"{"access_token":"at-1","token_type":"bearer"}"#,
        ));
        let mut call = TranscriptEntry::new(
            TranscriptStep::ApiCall,
            1_764_633_601_000,
            "GET",
            "https://api.example/v2/employees?limit=2",
        );
        call.error = Some("connection refused".to_owned());
        let har = archive(&[refresh, call]);
        assert_har_1_2(&har);
        let entries = har["log"]["entries"].as_array().unwrap();
        assert_eq!(entries[0]["startedDateTime"], "2025-12-02T00:00:00.123Z");
        assert_eq!(
            entries[0]["request"]["postData"]["mimeType"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(entries[0]["response"]["statusText"], "OK");
        assert_eq!(entries[0]["response"]["content"]["mimeType"], "application/json");
        assert_eq!(
            entries[1]["request"]["queryString"],
            json!([{"name": "limit", "value": "2"}])
        );
        assert_eq!(entries[1]["response"]["status"], 0);
        assert_eq!(entries[1]["response"]["_error"], "connection refused");
        let text = har.to_string();
        for secret in ["rt-1", "at-1"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
