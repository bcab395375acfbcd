//! Redaction by structure: whether a text holds a secret in any spelling a server could have
//! turned it into, and what of an upstream server's free text the browser may be shown.
//!
//! Redaction by value ([`crate::transcript::redact_values`]) finds a secret only as it was
//! sent. A server that echoes what it got changes it on the way: form- or percent-encoded (in
//! either case), JSON-escaped (`\/`, `\u0041`), HTML entities, base64 or base64url, hex, upper
//! case, a character slipped inside. [`SecretSpellings`] undoes the encodings (the text's
//! escapes, case, every character that is not printable ASCII) and looks for every encoding of
//! the secret (base64 at each of its three alignments, hex), so a new spelling of these kinds
//! needs no new rule. What it cannot know (a spelling of the server's own invention) is met by
//! [`prose_of`]: of an upstream server's free text the browser gets only what survives the
//! removal of every long token-like run.

use base64::Engine as _;

/// The shortest spelling of a secret looked for: shorter ones would match ordinary words.
const MIN_SPELLING: usize = 8;

/// The longest run of token characters (letters, digits, `-._~+/=%`) that [`prose_of`] keeps:
/// words of prose are shorter, tokens and encodings of them longer.
pub const MAX_TOKEN_RUN: usize = 20;

/// The shortest run of a secret's own characters that [`SecretSpellings::part_held_in`] finds.
pub const SECRET_PART: usize = 12;

/// Every spelling of some secrets the module names, made once for all the texts that are
/// looked through for them (a transcript's fields, an API answer's strings).
#[derive(Debug)]
pub struct SecretSpellings {
    /// Each secret as it is, in hex, and in base64 and base64url at each alignment, lowercased.
    spellings: Vec<String>,
    /// Each secret in [`canonical`] form, for [`SecretSpellings::part_held_in`].
    canonical: Vec<String>,
}

/// A text in the two forms that are looked through: as it is and decoded, both [`canonical`].
struct Readings {
    plain: String,
    decoded: String,
}

impl Readings {
    fn of(text: &str) -> Self {
        Self {
            plain: canonical(text),
            decoded: canonical(&percent_decoded(&json_unescaped(&html_unescaped(text)))),
        }
    }

    fn contain(&self, needle: &str) -> bool {
        self.plain.contains(needle) || self.decoded.contains(needle)
    }
}

impl SecretSpellings {
    /// The spellings of `secrets`.
    pub fn of(secrets: &[&str]) -> Self {
        Self {
            spellings: secrets.iter().flat_map(|secret| spellings_of(secret)).collect(),
            canonical: secrets.iter().map(|secret| canonical(secret)).collect(),
        }
    }

    /// Whether `text` holds one of the secrets in any of its spellings.
    pub fn held_in(&self, text: &str) -> bool {
        !self.spellings.is_empty() && self.held_in_readings(&Readings::of(text))
    }

    fn held_in_readings(&self, readings: &Readings) -> bool {
        self.spellings.iter().any(|spelling| readings.contain(spelling))
    }

    /// Whether `text` holds [`SECRET_PART`] or more characters in a row of one of the secrets
    /// (in any case, whatever is slipped between them), or the whole of one in any spelling: for
    /// a server's free text, where part of a secret is as bad as all of it (a server that split
    /// one between `error` and `error_description`).
    pub fn part_held_in(&self, text: &str) -> bool {
        let readings = Readings::of(text);
        self.held_in_readings(&readings)
            || self.canonical.iter().any(|secret| {
                secret.len() >= SECRET_PART
                    && (0..=secret.len() - SECRET_PART).any(|at| readings.contain(&secret[at..at + SECRET_PART]))
            })
    }

    /// Every string (value or key) of `value`, at any depth, that holds a secret replaced by
    /// [`HELD_A_SECRET`]; whether anything was.
    pub fn redact_json_strings(&self, value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) if self.held_in(text) => {
                *text = HELD_A_SECRET.to_owned();
                true
            }
            serde_json::Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| self.redact_json_strings(item) | changed),
            serde_json::Value::Object(object) => {
                let mut changed = false;
                let fields = std::mem::take(object);
                for (name, mut field) in fields {
                    changed |= self.redact_json_strings(&mut field);
                    let name = if self.held_in(&name) {
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

    /// `text`, when it is JSON, with each string that holds a secret replaced
    /// ([`SecretSpellings::redact_json_strings`]); `None` when it is not JSON.
    pub fn redact_json_text(&self, text: &str) -> Option<String> {
        let mut value = serde_json::from_str::<serde_json::Value>(text).ok()?;
        self.redact_json_strings(&mut value);
        Some(value.to_string())
    }

    /// A text the browser may be shown: as it is when it holds no secret in any spelling;
    /// else, when it is JSON, with each string that holds one replaced; else only its size
    /// ([`held_a_secret`]).
    pub fn redact_text(&self, text: &str) -> String {
        if !self.held_in(text) {
            return text.to_owned();
        }
        self.redact_json_text(text).unwrap_or_else(|| held_a_secret(text.len()))
    }
}

/// What stands for a text of `bytes` that held a secret and is not JSON.
pub fn held_a_secret(bytes: usize) -> String {
    format!("({bytes} bytes; {HELD_A_SECRET})")
}

/// `text` lowercased with every character that is not printable ASCII (a non-ASCII letter, a
/// control character, a space) left out: one slipped into a secret hides nothing.
fn canonical(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_graphic)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The spellings of `secret` [`SecretSpellings`] looks for, lowercased: the secret, its hex, and
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
            assert!(
                SecretSpellings::of(&[SECRET]).held_in(&format!("got: {text} .")),
                "{what}: {text}"
            );
        }
    }

    #[test]
    fn json_strings_and_texts_that_hold_a_secret_are_replaced_whole() {
        let echoed = format!(
            r#"{{"error":"invalid_request","error_description":"got refresh_token={}","n":1}}"#,
            SECRET.replace('+', "%2B").replace('/', "%2F")
        );
        let spellings = SecretSpellings::of(&[SECRET]);
        let shown = spellings.redact_text(&echoed);
        assert!(
            shown.contains(HELD_A_SECRET) && shown.contains("invalid_request"),
            "{shown}"
        );
        assert!(!spellings.held_in(&shown));
        let plain = spellings.redact_text(&format!("Bearer {}", SECRET.to_ascii_uppercase()));
        assert!(
            plain.starts_with('(') && plain.ends_with(&format!("{HELD_A_SECRET})")),
            "{plain}"
        );
        assert_eq!(spellings.redact_text("nothing here"), "nothing here");
    }

    #[test]
    fn ordinary_text_holds_no_secret() {
        for text in ["invalid_grant", "The refresh token has expired.", "", "users:read"] {
            assert!(!SecretSpellings::of(&[SECRET]).held_in(text), "{text}");
        }
        assert!(
            !SecretSpellings::of(&["short"]).held_in("short"),
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
