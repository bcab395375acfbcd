//! Redaction by structure: whether a text holds a secret in any spelling a server could have
//! turned it into, and what of an upstream server's free text the browser may be shown.
//!
//! Redaction by value ([`super::transcript::redact_values`]) finds a secret only as it was
//! sent. A server that echoes what it got changes it on the way: form- or percent-encoded (in
//! either case), JSON-escaped (`\/`, `\u0041`), HTML entities, base64 or base64url, hex, upper
//! case, a character slipped inside. [`holds_secret`] undoes the encodings (the text's
//! escapes, case, every character that is not printable ASCII) and looks for every encoding of the secret
//! (base64 at each of its three alignments, hex), so a new spelling of these kinds needs no new
//! rule. What it cannot know (a spelling of the server's own invention) is met by
//! [`prose_of`]: of an upstream server's free text the browser gets only what survives the
//! removal of every long token-like run.

use base64::Engine as _;

/// The shortest spelling of a secret looked for: shorter ones would match ordinary words.
const MIN_SPELLING: usize = 8;

/// The longest run of token characters (letters, digits, `-._~+/=%`) that [`prose_of`] keeps:
/// words of prose are shorter, tokens and encodings of them longer.
pub const MAX_TOKEN_RUN: usize = 20;

/// Whether `text` holds one of `secrets` in any of the spellings the module names.
pub fn holds_secret(text: &str, secrets: &[&str]) -> bool {
    let spellings: Vec<String> = secrets.iter().flat_map(|secret| spellings_of(secret)).collect();
    if spellings.is_empty() {
        return false;
    }
    let plain = canonical(text);
    let decoded = canonical(&percent_decoded(&json_unescaped(&html_unescaped(text))));
    spellings
        .iter()
        .any(|spelling| plain.contains(spelling.as_str()) || decoded.contains(spelling.as_str()))
}

/// The shortest run of a secret's own characters that [`holds_part_of_secret`] finds.
pub const SECRET_PART: usize = 12;

/// Whether `text` holds [`SECRET_PART`] or more characters in a row of one of `secrets` (in
/// any case, whatever is slipped between them), or the whole of one in any spelling
/// ([`holds_secret`]): for a server's free text, where part of a secret is as bad as all of it
/// (a server that split one between `error` and `error_description`).
pub fn holds_part_of_secret(text: &str, secrets: &[&str]) -> bool {
    if holds_secret(text, secrets) {
        return true;
    }
    let plain = canonical(&percent_decoded(&json_unescaped(&html_unescaped(text))));
    secrets.iter().any(|secret| {
        let secret = canonical(secret);
        secret.len() >= SECRET_PART
            && (0..=secret.len() - SECRET_PART)
                .filter(|at| secret.is_char_boundary(*at) && secret.is_char_boundary(at + SECRET_PART))
                .any(|at| plain.contains(&secret[at..at + SECRET_PART]))
    })
}

/// `text` lowercased with every character that is not printable ASCII (a non-ASCII letter, a
/// control character, a space) left out: one slipped into a secret hides nothing.
fn canonical(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_graphic)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The spellings of `secret` [`holds_secret`] looks for, lowercased: the secret, its hex, and
/// its base64 and base64url at each of the three alignments it can have inside a longer
/// encoded text (the quanta that depend on the bytes around it left out).
fn spellings_of(secret: &str) -> Vec<String> {
    if secret.len() < MIN_SPELLING {
        return Vec::new();
    }
    let bytes = secret.as_bytes();
    let mut spellings = vec![secret.to_ascii_lowercase()];
    spellings.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for shift in 0..3 {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = engine.encode(&shifted);
            let start = if shift == 0 { 0 } else { 4 };
            let end = encoded.len().saturating_sub(4).max(start);
            spellings.push(encoded[start..end].to_ascii_lowercase());
        }
    }
    spellings.retain(|s| s.len() >= MIN_SPELLING);
    spellings
}

/// `text` with `%XX` (either case) decoded; a `%` not followed by two hex digits stays.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with JSON's escapes in strings undone (`\/`, `\"`, `\\`, `\uXXXX`), as a text that
/// holds JSON source shows them.
fn json_unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('u') => {
                chars.next();
                let digits: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => out.push_str(&digits),
                }
            }
            Some(escaped @ ('/' | '"' | '\\')) => {
                chars.next();
                out.push(escaped);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `text` with HTML's character references undone: `&#NN;`, `&#xHH;` and the named ones a
/// server escapes with (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&sol;`, `&equals;`,
/// `&plus;`).
fn html_unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "sol" => Some('/'),
            "equals" => Some('='),
            "plus" => Some('+'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `c` can be part of a token or of an encoding of one.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.' | '_' | '~' | '+' | '/' | '=' | '%' | '&' | '#' | ';' | '\\'
        )
}

/// What of an upstream server's free text may be shown: every run of more than
/// [`MAX_TOKEN_RUN`] token characters replaced by `[…]`.
pub fn prose_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() > MAX_TOKEN_RUN {
            out.push_str("[…]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// What stands where a text held a secret in some spelling.
pub const HELD_A_SECRET: &str = "[redacted: held a secret]";

/// Every string (value or key) of `value`, at any depth, that [`holds_secret`] replaced by
/// [`HELD_A_SECRET`]; whether anything was.
pub fn redact_json_strings(value: &mut serde_json::Value, secrets: &[&str]) -> bool {
    match value {
        serde_json::Value::String(text) if holds_secret(text, secrets) => {
            *text = HELD_A_SECRET.to_owned();
            true
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| redact_json_strings(item, secrets) | changed),
        serde_json::Value::Object(object) => {
            let mut changed = false;
            let fields = std::mem::take(object);
            for (name, mut field) in fields {
                changed |= redact_json_strings(&mut field, secrets);
                let name = if holds_secret(&name, secrets) {
                    changed = true;
                    format!("{HELD_A_SECRET} {}", object.len())
                } else {
                    name
                };
                object.insert(name, field);
            }
            changed
        }
        _ => false,
    }
}

/// A text the browser may be shown, given `secrets`: as it is when it holds none in any
/// spelling; else, when it is JSON, with each string that holds one replaced; else only its
/// size.
pub fn redact_text(text: &str, secrets: &[&str]) -> String {
    if !holds_secret(text, secrets) {
        return text.to_owned();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            redact_json_strings(&mut value, secrets);
            value.to_string()
        }
        Err(_) => format!("({} bytes; {HELD_A_SECRET})", text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "rt_9Xq+Lk/2mZpW8vBnR4tYcD7hJ0sE";

    /// Every transformation an echoing server was seen to make.
    fn transformations(secret: &str) -> Vec<(&'static str, String)> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("refresh_token={secret}"));
        let lower_percent: String = secret.bytes().map(|b| format!("%{b:02x}")).collect();
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let json = secret.replace('/', "\\/");
        let unicode: String = secret.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        let entities: String = secret.chars().map(|c| format!("&#{};", c as u32)).collect();
        let hex: String = secret.bytes().map(|b| format!("{b:02X}")).collect();
        let (head, tail) = secret.split_at(10);
        vec![
            ("form-encoded", format!("grant_type=refresh_token&refresh_token={form}")),
            ("lower-case percent-encoding", lower_percent),
            ("base64", b64),
            ("base64url, inside a longer text", b64url),
            ("upper case", secret.to_ascii_uppercase()),
            ("hex", hex),
            ("HTML entities", entities),
            ("JSON-escaped slash", json),
            ("JSON \\u escapes", unicode),
            ("one inserted non-ASCII character", format!("{head}\u{00e9}{tail}")),
        ]
    }

    #[test]
    fn a_secret_is_found_in_every_spelling_an_echo_gave_it() {
        for (what, text) in transformations(SECRET) {
            assert!(holds_secret(&format!("got: {text} ."), &[SECRET]), "{what}: {text}");
        }
    }

    #[test]
    fn json_strings_and_texts_that_hold_a_secret_are_replaced_whole() {
        let echoed = format!(
            r#"{{"error":"invalid_request","error_description":"got refresh_token={}","n":1}}"#,
            SECRET.replace('+', "%2B").replace('/', "%2F")
        );
        let shown = redact_text(&echoed, &[SECRET]);
        assert!(
            shown.contains(HELD_A_SECRET) && shown.contains("invalid_request"),
            "{shown}"
        );
        assert!(!holds_secret(&shown, &[SECRET]));
        let plain = redact_text(&format!("Bearer {}", SECRET.to_ascii_uppercase()), &[SECRET]);
        assert!(
            plain.starts_with('(') && plain.ends_with(&format!("{HELD_A_SECRET})")),
            "{plain}"
        );
        assert_eq!(redact_text("nothing here", &[SECRET]), "nothing here");
    }

    #[test]
    fn ordinary_text_holds_no_secret() {
        for text in ["invalid_grant", "The refresh token has expired.", "", "users:read"] {
            assert!(!holds_secret(text, &[SECRET]), "{text}");
        }
        assert!(
            !holds_secret("short", &["short"]),
            "spellings under 8 characters are not looked for"
        );
    }

    #[test]
    fn prose_keeps_words_and_drops_token_like_runs() {
        assert_eq!(
            prose_of("The code has expired (redirect_uri mismatch)."),
            "The code has expired (redirect_uri mismatch)."
        );
        assert_eq!(prose_of(&format!("token {SECRET} refused")), "token […] refused");
        for (what, text) in transformations(SECRET) {
            let shown = prose_of(&text);
            let window = text.chars().collect::<Vec<_>>();
            for piece in window.windows(MAX_TOKEN_RUN + 1) {
                let piece: String = piece.iter().collect();
                assert!(!shown.contains(&piece), "{what}: {shown}");
            }
        }
    }
}
