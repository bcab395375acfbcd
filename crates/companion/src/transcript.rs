//! The transcript: every server-side step of a session (code exchange, refresh, API call,
//! disconnect), with secrets and tokens replaced by a short fingerprint, so the walkthrough can
//! show what the companion did without ever showing what it holds.

pub use contract::wire::{TranscriptEntry, TranscriptStep};
use sha2::{Digest, Sha256};

use crate::redaction;

/// How many steps a session keeps (the oldest go first).
pub const MAX_ENTRIES: usize = 100;
/// How many bytes of text a session's transcript holds at most: [`MAX_ENTRIES`] entries of at
/// most [`MAX_ENTRY_BYTES`] each.
pub const MAX_BYTES: usize = 128 * 1024;
/// How many bytes of text one entry holds at most ([`capped`]).
pub const MAX_ENTRY_BYTES: usize = MAX_BYTES / MAX_ENTRIES;

/// Form and JSON fields whose values are secrets or tokens.
const SECRET_FIELDS: &[&str] = &[
    "code",
    "code_verifier",
    "refresh_token",
    "access_token",
    "id_token",
    "client_secret",
    "token",
];

/// Whether a form or JSON field of this name holds a secret or a token.
pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.contains(&name)
}

/// The first `bytes` bytes of SHA-256 over `data`, in hex.
fn sha256_prefix(data: &[u8], bytes: usize) -> String {
    Sha256::digest(data)
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A short, stable fingerprint of a secret: enough to tell two apart, useless to an attacker.
pub fn fingerprint(secret: &str) -> String {
    format!("[redacted sha256:{}]", sha256_prefix(secret.as_bytes(), 4))
}

/// An entry's name for the endpoints that serve one entry: the first 8 bytes of SHA-256 over
/// the entry as stored, in hex. Stable across reads and replicas, and unchanged by the redaction
/// by value, which depends on the session's current tokens.
pub fn entry_id(entry: &TranscriptEntry) -> String {
    sha256_prefix(&serde_json::to_vec(entry).unwrap_or_default(), 8)
}

/// A form body with every secret field fingerprinted.
pub fn redact_form(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if is_secret_field(name) {
            out.append_pair(name, &fingerprint(value));
        } else {
            out.append_pair(name, value);
        }
    }
    out.finish()
}

/// A token endpoint's JSON body with every secret field fingerprinted, at any depth (a server
/// may nest its answer); a body that is not JSON is summarised.
pub fn redact_json(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact_fields(&mut value);
            value.to_string()
        }
        Err(_) => format!("({} bytes, not JSON)", body.len()),
    }
}

fn redact_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            for (name, field) in object.iter_mut() {
                if is_secret_field(name) {
                    let text = field.as_str().map(str::to_owned).unwrap_or_else(|| field.to_string());
                    *field = serde_json::Value::String(fingerprint(&text));
                } else {
                    redact_fields(field);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_fields),
        _ => {}
    }
}

/// `text` with every occurrence of each of `secrets` replaced by its fingerprint: redaction
/// by value, for whatever a server put where no field name gives it away.
pub fn redact_values(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret) {
            text = text.replace(secret, &fingerprint(secret));
        }
    }
    text
}

/// The longest text of an upstream server's that the browser is shown (an OAuth `error`
/// description, say), in characters.
pub const MAX_UPSTREAM_TEXT_CHARS: usize = 300;

/// What an upstream server's text that held a secret in some spelling is shown as.
pub const HELD_A_SECRET_OF_THIS_CLIENT: &str = "not shown: it held a secret of this client or session";

/// An upstream server's text as the browser may be shown it: nothing of it when it holds one of
/// `secrets` in any spelling, or a part of one ([`redaction::SecretSpellings::part_held_in`]);
/// else every long token-like run dropped ([`redaction::prose_of`]), every character outside RFC 6749 §5.2's set for
/// `error_description` (%x20-21 / %x23-5B / %x5D-7E) made a `?` (so that no character the server
/// slips into a secret hides it), redacted by value against `secrets`, then cut to `max_chars`
/// (after the redaction, so no cut leaves part of a secret).
pub fn upstream_text(text: &str, secrets: &[&str], max_chars: usize) -> String {
    if redaction::SecretSpellings::of(secrets).part_held_in(text) {
        return format!("({HELD_A_SECRET_OF_THIS_CLIENT})");
    }
    let text = redaction::prose_of(text);
    let allowed: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e') {
                c
            } else {
                '?'
            }
        })
        .collect();
    let redacted = redact_values(&allowed, secrets);
    match redacted.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &redacted[..cut]),
        None => redacted,
    }
}

/// `body` with every occurrence of each of `secrets` replaced by its fingerprint, byte for byte
/// (an API answer need not be UTF-8); unchanged, and not copied, when it holds none.
pub fn redact_bytes(body: bytes::Bytes, secrets: &[&str]) -> bytes::Bytes {
    let mut body = body;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let finder = memchr::memmem::Finder::new(secret.as_bytes());
        if finder.find(&body).is_none() {
            continue;
        }
        let replacement = fingerprint(secret);
        let mut out = Vec::with_capacity(body.len());
        let mut from = 0;
        for at in finder.find_iter(&body) {
            out.extend_from_slice(&body[from..at]);
            out.extend_from_slice(replacement.as_bytes());
            from = at + secret.len();
        }
        out.extend_from_slice(&body[from..]);
        body = out.into();
    }
    body
}

/// Every text field of `entries` redacted by value (see [`redact_values`]), then by structure:
/// a field that still holds one of `secrets` in another spelling is replaced
/// ([`redaction::SecretSpellings::redact_text`]).
pub fn redact_entries(entries: &mut [TranscriptEntry], secrets: &[&str]) {
    let spellings = redaction::SecretSpellings::of(secrets);
    let redact = |text: &mut String| *text = spellings.redact_text(&redact_values(text, secrets));
    for entry in entries {
        let fields = [
            Some(&mut entry.url),
            entry.request_body.as_mut(),
            entry.response_body.as_mut(),
            entry.error.as_mut(),
        ];
        fields.into_iter().flatten().for_each(redact);
        entry.request_headers.iter_mut().for_each(|(_, value)| redact(value));
    }
}

/// A body kept as its size and a hash only: API bodies are shown by the browser that received
/// them, and the transcript holds no copy. The hash tells bodies apart (the reader got the
/// body itself, so it guards nothing): the standard library's SipHash, which costs the proxied
/// call a fraction of SHA-256.
pub fn summarise_body(body: &[u8]) -> String {
    use std::hash::Hasher as _;
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(body);
    format!("({} bytes, hash {:016x})", body.len(), hasher.finish())
}

/// `entry` within [`MAX_ENTRY_BYTES`]: its longest body or error, while it is too long, is
/// kept as its size and hash only (never cut: a cut could leave part of a secret that the
/// redaction by value, which matches whole secrets, would miss); then the URL, which carries no
/// secret, is shortened.
pub fn capped(mut entry: TranscriptEntry) -> TranscriptEntry {
    const MARK: &str = "…";
    for _ in 0..3 {
        if size_of(&entry) <= MAX_ENTRY_BYTES {
            return entry;
        }
        let longest = [&mut entry.request_body, &mut entry.response_body, &mut entry.error]
            .into_iter()
            .flatten()
            .max_by_key(|text| text.len());
        match longest {
            Some(text) if text.len() > 64 => {
                *text = format!(
                    "{} (longer than a transcript entry keeps)",
                    summarise_body(text.as_bytes())
                )
            }
            _ => break,
        }
    }
    let excess = size_of(&entry).saturating_sub(MAX_ENTRY_BYTES);
    if excess > 0 {
        let mut keep = entry.url.len().saturating_sub(excess + MARK.len());
        while !entry.url.is_char_boundary(keep) {
            keep -= 1;
        }
        entry.url.truncate(keep);
        entry.url.push_str(MARK);
    }
    entry
}

/// The bytes of text an entry holds, for [`MAX_ENTRY_BYTES`].
pub fn size_of(entry: &TranscriptEntry) -> usize {
    let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    entry.url.len()
        + entry.method.len()
        + entry
            .request_headers
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>()
        + optional(&entry.request_body)
        + optional(&entry.response_body)
        + optional(&entry.error)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_text_is_redacted_bounded_and_holds_no_smuggled_secret() {
        let secret = "s3cr3t-value";
        let echoed = format!("bad client {secret} and more, {}", "x ".repeat(500));
        let shown = upstream_text(&echoed, &[secret], MAX_UPSTREAM_TEXT_CHARS);
        assert_eq!(shown, format!("({HELD_A_SECRET_OF_THIS_CLIENT})"), "nothing of it");
        let smuggled = format!("bad client s3cr3t\u{0}-value, {}", "x ".repeat(500));
        let shown = upstream_text(&smuggled, &[secret], MAX_UPSTREAM_TEXT_CHARS);
        assert!(!shown.contains("s3cr3t"), "a control character hides nothing: {shown}");
        let long = format!("the grant has expired, {}", "x ".repeat(500));
        let shown = upstream_text(&long, &[secret], MAX_UPSTREAM_TEXT_CHARS);
        assert!(shown.starts_with("the grant has expired, x x"), "{shown}");
        assert_eq!(shown.chars().count(), MAX_UPSTREAM_TEXT_CHARS + 1, "cut, with a mark");
        assert_eq!(upstream_text("invalid_grant", &[secret], 64), "invalid_grant");
    }

    #[test]
    fn a_relayed_body_loses_every_secret_and_is_not_copied_without_one() {
        let clean = bytes::Bytes::from_static(b"{\"data\":[]}");
        let same = redact_bytes(clean.clone(), &["tok"]);
        assert_eq!(same.as_ptr(), clean.as_ptr(), "no copy");
        let body = bytes::Bytes::from(b"{\"echo\":\"Bearer at-123\",\"again\":\"at-123\xff\"}".to_vec());
        let redacted = redact_bytes(body, &["at-123", ""]);
        let text = String::from_utf8_lossy(&redacted);
        assert!(!text.contains("at-123"), "{text}");
        assert_eq!(text.matches(&fingerprint("at-123")).count(), 2);
    }

    #[test]
    fn secrets_become_fingerprints_and_the_rest_stays() {
        let form = redact_form(&[("grant_type", "refresh_token"), ("refresh_token", "rt-secret-value")]);
        assert!(form.starts_with("grant_type=refresh_token&refresh_token=%5Bredacted+sha256%3A"));
        assert!(!form.contains("rt-secret-value"));
        let json = redact_json(br#"{"access_token":"at-secret","refresh_token":"rt-secret","expires_in":900}"#);
        assert!(!json.contains("at-secret") && !json.contains("rt-secret"));
        assert!(json.contains("\"expires_in\":900"));
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
        assert_eq!(redact_json(b"<html>"), "(6 bytes, not JSON)");
    }

    #[test]
    fn nested_secret_fields_and_known_values_anywhere_are_redacted() {
        let nested =
            redact_json(br#"{"data":{"access_token":"at-nested"},"list":[{"refresh_token":"rt-in-list"}],"n":1}"#);
        assert!(
            !nested.contains("at-nested") && !nested.contains("rt-in-list"),
            "{nested}"
        );
        assert!(nested.contains("\"n\":1"));
        let renamed = redact_values(
            r#"{"accessTok":"the-known-token-value","x":"the-known-token-value"}"#,
            &["the-known-token-value", ""],
        );
        assert!(!renamed.contains("the-known-token-value"), "{renamed}");
        assert_eq!(renamed.matches(&fingerprint("the-known-token-value")).count(), 2);
    }

    #[test]
    fn bodies_are_summarised_by_size_and_hash() {
        let summary = summarise_body(b"{\"data\":[]}");
        assert!(
            summary.starts_with("(11 bytes, hash ") && !summary.contains("data"),
            "{summary}"
        );
    }

    #[test]
    fn an_entry_is_capped_by_summarising_its_longest_texts_whole_then_shortening_its_url() {
        let secret = "s3cr3t-refresh-token-value";
        let mut entry = TranscriptEntry::new(TranscriptStep::Refresh, 1, "POST", "https://auth.example/oauth/token");
        entry.response_body = Some(format!("{}{secret}{}", "a".repeat(1000), "b".repeat(1000)));
        entry.error = Some("short".to_owned());
        let kept = capped(entry.clone());
        assert!(size_of(&kept) <= MAX_ENTRY_BYTES);
        let body = kept.response_body.unwrap();
        assert!(
            body.contains("2026 bytes") && !body.contains("s3cr3t"),
            "kept whole or not at all: {body}"
        );
        assert_eq!(kept.error.as_deref(), Some("short"));
        assert_eq!(kept.url, entry.url, "the URL was short enough");

        let mut long_url = TranscriptEntry::new(
            TranscriptStep::ApiCall,
            1,
            "GET",
            &format!("https://api.example/v2/employees?q={}", "é".repeat(1500)),
        );
        long_url.response_body = Some("(12 bytes, hash 0011223344556677)".to_owned());
        let kept = capped(long_url);
        assert!(size_of(&kept) <= MAX_ENTRY_BYTES, "{}", size_of(&kept));
        assert!(kept.url.starts_with("https://api.example/v2/employees?q=") && kept.url.ends_with('…'));

        let small = TranscriptEntry::new(TranscriptStep::ApiCall, 1, "GET", "https://api.example/v2/employees");
        assert_eq!(capped(small.clone()), small, "a small entry stays as it is");
    }
}
