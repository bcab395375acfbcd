//! The transcript: every server-side step of a session (code exchange, refresh, API call,
//! disconnect), with secrets and tokens replaced by a short fingerprint, so the walkthrough can
//! show what the companion did without ever showing what it holds.

pub use flow::wire::TranscriptEntry;
use sha2::{Digest, Sha256};

/// How many steps a session keeps (the oldest go first).
pub const MAX_ENTRIES: usize = 100;

/// Form and JSON fields whose values are secrets or tokens.
const SECRET_FIELDS: &[&str] = &["code", "code_verifier", "refresh_token", "access_token", "id_token", "client_secret", "token"];

/// A short, stable fingerprint of a secret: enough to tell two apart, useless to an attacker.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("[redacted sha256:{hex}]")
}

/// A form body with every secret field fingerprinted.
pub fn redact_form(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if SECRET_FIELDS.contains(name) {
            out.append_pair(name, &fingerprint(value));
        } else {
            out.append_pair(name, value);
        }
    }
    out.finish()
}

/// A JSON body with every secret field fingerprinted; a body that is not JSON is summarised.
pub fn redact_json(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut object)) => {
            for field in SECRET_FIELDS {
                if let Some(value) = object.get_mut(*field) {
                    let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                    *value = serde_json::Value::String(fingerprint(&text));
                }
            }
            serde_json::Value::Object(object).to_string()
        }
        Ok(other) => other.to_string(),
        Err(_) => format!("({} bytes, not JSON)", body.len()),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
