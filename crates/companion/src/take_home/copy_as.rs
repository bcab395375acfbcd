//! "Copy as curl, fetch or Rust": one server-side exchange of the transcript as a command or
//! program a reader can run, with environment variables where the secret and the tokens go
//! (`$PLEO_CLIENT_SECRET`, `$PLEO_ACCESS_TOKEN`, …), never their values: the transcript holds
//! none, and the snippets are built from it.

use contract::exports::SnippetLanguage;

use crate::transcript::{self, TranscriptEntry};

/// The environment variable that stands for a secret form field's value.
fn placeholder(field: &str) -> &'static str {
    match field {
        "code" => "PLEO_AUTHORIZATION_CODE",
        "code_verifier" => "PLEO_CODE_VERIFIER",
        "refresh_token" => "PLEO_REFRESH_TOKEN",
        "access_token" => "PLEO_ACCESS_TOKEN",
        "id_token" => "PLEO_ID_TOKEN",
        "client_secret" => "PLEO_CLIENT_SECRET",
        _ => "PLEO_TOKEN",
    }
}

/// A value in a snippet: written out, or read from an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Literal(String),
    Env(&'static str),
}

/// How the request authenticates (RFC 6749 §2.3.1; RFC 6750 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Auth {
    None,
    /// The client's id and secret in a Basic header.
    Basic,
    /// The access token.
    Bearer,
}

/// What a snippet sends, read from a transcript entry.
#[derive(Debug)]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    auth: Auth,
    /// Headers other than `Authorization` (and `Content-Type` when the body is a form).
    headers: Vec<(&'a str, &'a str)>,
    /// A form body, secret fields as placeholders.
    form: Option<Vec<(String, Value)>>,
    /// A body the transcript kept only as its size (API bodies).
    unkept_body: bool,
}

impl<'a> Request<'a> {
    fn of(entry: &'a TranscriptEntry) -> Self {
        let header = |name: &str| {
            entry
                .request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let auth = match header("authorization") {
            Some(v) if v.starts_with("Basic") => Auth::Basic,
            Some(v) if v.starts_with("Bearer") => Auth::Bearer,
            _ => Auth::None,
        };
        let is_form = header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let form = entry.request_body.as_deref().filter(|_| is_form).map(|body| {
            form_urlencoded::parse(body.as_bytes())
                .map(|(name, value)| {
                    let value = if transcript::is_secret_field(&name) {
                        Value::Env(placeholder(&name))
                    } else {
                        Value::Literal(value.into_owned())
                    };
                    (name.into_owned(), value)
                })
                .collect()
        });
        let headers = entry
            .request_headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
            .filter(|(n, _)| !(is_form && n.eq_ignore_ascii_case("content-type")))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        Self {
            method: &entry.method,
            url: &entry.url,
            auth,
            headers,
            unkept_body: entry.request_body.is_some() && !is_form,
            form,
        }
    }
}

/// `entry` as a `language` snippet; `client_id` (public) goes in the Basic header.
pub fn snippet(entry: &TranscriptEntry, language: SnippetLanguage, client_id: &str) -> String {
    let request = Request::of(entry);
    let title = format!("{} {} ({})", entry.method, entry.url, entry.step.as_str());
    match language {
        SnippetLanguage::Curl => curl(&request, client_id, &title),
        SnippetLanguage::Fetch => fetch(&request, client_id, &title),
        SnippetLanguage::Reqwest => reqwest(&request, client_id, &title),
    }
}

/// A word the shell takes as written: single quotes, a quote inside closed and reopened.
fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn curl(request: &Request<'_>, client_id: &str, title: &str) -> String {
    let mut lines = vec![format!(
        "curl --silent --show-error --request {} {}",
        request.method,
        shell_word(request.url)
    )];
    match request.auth {
        Auth::Basic => lines.push(format!(
            "  --user {}\"$PLEO_CLIENT_SECRET\"",
            shell_word(&format!("{client_id}:"))
        )),
        Auth::Bearer => lines.push("  --header \"Authorization: Bearer $PLEO_ACCESS_TOKEN\"".to_owned()),
        Auth::None => {}
    }
    for (name, value) in &request.headers {
        lines.push(format!("  --header {}", shell_word(&format!("{name}: {value}"))));
    }
    for (name, value) in request.form.iter().flatten() {
        lines.push(match value {
            Value::Literal(v) => format!("  --data-urlencode {}", shell_word(&format!("{name}={v}"))),
            Value::Env(var) => format!("  --data-urlencode \"{name}=${var}\""),
        });
    }
    if request.unkept_body {
        lines.push("  --data-binary @body.json".to_owned());
    }
    let mut out = format!("# {title}\n");
    if request.unkept_body {
        out.push_str("# The companion keeps no copy of API bodies: put the request's body in body.json.\n");
    }
    out.push_str(&lines.join(" \\\n"));
    out.push('\n');
    out
}

/// A JavaScript string literal (JSON's is one).
fn js_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn fetch(request: &Request<'_>, client_id: &str, title: &str) -> String {
    let mut headers = vec![];
    match request.auth {
        Auth::Basic => headers.push(format!(
            "    Authorization: \"Basic \" + Buffer.from({} + process.env.PLEO_CLIENT_SECRET).toString(\"base64\"),",
            js_string(&format!("{client_id}:"))
        )),
        Auth::Bearer => headers.push("    Authorization: `Bearer ${process.env.PLEO_ACCESS_TOKEN}`,".to_owned()),
        Auth::None => {}
    }
    for (name, value) in &request.headers {
        headers.push(format!("    {}: {},", js_string(name), js_string(value)));
    }
    let mut out = format!(
        "// {title}\n// Server side only (Node 18+, an ES module): the secret and the tokens never belong in a browser.\n"
    );
    if request.unkept_body {
        out.push_str("// The companion keeps no copy of API bodies: put the request's body in body.json.\n");
    }
    out.push_str(&format!(
        "const response = await fetch({}, {{\n  method: {},\n  headers: {{\n{}\n  }},\n",
        js_string(request.url),
        js_string(request.method),
        headers.join("\n")
    ));
    if let Some(form) = &request.form {
        let fields: Vec<String> = form
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Literal(v) => js_string(v),
                    Value::Env(var) => format!("process.env.{var}"),
                };
                format!("    {}: {value},", js_string(name))
            })
            .collect();
        out.push_str(&format!(
            "  body: new URLSearchParams({{\n{}\n  }}),\n",
            fields.join("\n")
        ));
    } else if request.unkept_body {
        out.push_str("  body: (await import(\"node:fs\")).readFileSync(\"body.json\"),\n");
    }
    out.push_str("});\nconsole.log(response.status, await response.text());\n");
    out
}

/// A Rust string literal (`Debug` of a `str` is one).
fn rust_string(text: &str) -> String {
    format!("{text:?}")
}

fn reqwest(request: &Request<'_>, client_id: &str, title: &str) -> String {
    let method = match request.method {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => {
            format!("reqwest::Method::{}", request.method)
        }
        other => format!("reqwest::Method::from_bytes({}.as_bytes())?", rust_string(other)),
    };
    let mut calls = vec![format!("        .request({method}, {})", rust_string(request.url))];
    match request.auth {
        Auth::Basic => calls.push(format!(
            "        .basic_auth({}, Some(env(\"PLEO_CLIENT_SECRET\")?))",
            rust_string(client_id)
        )),
        Auth::Bearer => calls.push("        .bearer_auth(env(\"PLEO_ACCESS_TOKEN\")?)".to_owned()),
        Auth::None => {}
    }
    for (name, value) in &request.headers {
        calls.push(format!(
            "        .header({}, {})",
            rust_string(name),
            rust_string(value)
        ));
    }
    if let Some(form) = &request.form {
        let fields: Vec<String> = form
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Literal(v) => format!("{}.to_owned()", rust_string(v)),
                    Value::Env(var) => format!("env({})?", rust_string(var)),
                };
                format!("            ({}, {value}),", rust_string(name))
            })
            .collect();
        calls.push(format!("        .form(&[\n{}\n        ])", fields.join("\n")));
    } else if request.unkept_body {
        calls.push("        .body(std::fs::read(\"body.json\")?)".to_owned());
    }
    format!(
        "// {title}\n\
         // Cargo.toml: reqwest = {{ version = \"0.12\", features = [\"rustls-tls\"] }}, tokio = {{ version = \"1\", features = [\"full\"] }}\n\
         #[tokio::main]\n\
         async fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    \
         let env = |name: &str| std::env::var(name).map_err(|_| format!(\"set {{name}}\"));\n    \
         let response = reqwest::Client::new()\n{}\n        .send()\n        .await?;\n    \
         println!(\"{{}} {{}}\", response.status(), response.text().await?);\n    \
         Ok(())\n}}\n",
        calls.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::wire::TranscriptStep;

    fn refresh() -> TranscriptEntry {
        let mut entry = TranscriptEntry::new(TranscriptStep::Refresh, 0, "POST", "https://auth.example/oauth/token");
        entry.request_headers = vec![
            ("Authorization".to_owned(), "Basic ••••".to_owned()),
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ];
        entry.request_body = Some(transcript::redact_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-secret-value"),
        ]));
        entry
    }

    fn api_call() -> TranscriptEntry {
        let mut entry = TranscriptEntry::new(
            TranscriptStep::ApiCall,
            0,
            "GET",
            "https://api.example/v2/employees?limit=2&after=it's",
        );
        entry.request_headers = vec![
            (
                "Authorization".to_owned(),
                format!("Bearer {}", transcript::fingerprint("at-secret")),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        entry
    }

    #[test]
    fn every_language_round_trips_through_its_name() {
        for language in SnippetLanguage::ALL {
            assert_eq!(SnippetLanguage::parse(language.as_str()), Some(language));
        }
        assert_eq!(SnippetLanguage::parse("cobol"), None);
    }

    #[test]
    fn a_refresh_as_curl_reads_the_secret_and_the_refresh_token_from_the_environment() {
        let curl = snippet(&refresh(), SnippetLanguage::Curl, "client-1");
        assert!(
            curl.contains("--request POST 'https://auth.example/oauth/token'"),
            "{curl}"
        );
        assert!(curl.contains("--user 'client-1:'\"$PLEO_CLIENT_SECRET\""), "{curl}");
        assert!(curl.contains("--data-urlencode 'grant_type=refresh_token'"), "{curl}");
        assert!(
            curl.contains("--data-urlencode \"refresh_token=$PLEO_REFRESH_TOKEN\""),
            "{curl}"
        );
        assert!(!curl.contains("redacted") && !curl.contains("••••"), "{curl}");
    }

    #[test]
    fn an_api_call_in_every_language_carries_the_access_token_as_a_variable() {
        let entry = api_call();
        let curl = snippet(&entry, SnippetLanguage::Curl, "c");
        assert!(
            curl.contains("'https://api.example/v2/employees?limit=2&after=it'\\''s'"),
            "{curl}"
        );
        assert!(
            curl.contains("--header \"Authorization: Bearer $PLEO_ACCESS_TOKEN\""),
            "{curl}"
        );
        assert!(curl.contains("--header 'Accept: application/json'"), "{curl}");
        let fetch = snippet(&entry, SnippetLanguage::Fetch, "c");
        assert!(
            fetch.contains("Authorization: `Bearer ${process.env.PLEO_ACCESS_TOKEN}`"),
            "{fetch}"
        );
        assert!(fetch.contains("method: \"GET\""), "{fetch}");
        let rust = snippet(&entry, SnippetLanguage::Reqwest, "c");
        assert!(
            rust.contains(".request(reqwest::Method::GET, \"https://api.example/v2/employees?limit=2&after=it's\")"),
            "{rust}"
        );
        assert!(rust.contains(".bearer_auth(env(\"PLEO_ACCESS_TOKEN\")?)"), "{rust}");
        for text in [curl, fetch, rust] {
            assert!(!text.contains("redacted"), "{text}");
        }
    }

    #[test]
    fn a_refresh_as_fetch_and_rust_sends_the_form_with_placeholders() {
        let fetch = snippet(&refresh(), SnippetLanguage::Fetch, "client-1");
        assert!(
            fetch.contains("Buffer.from(\"client-1:\" + process.env.PLEO_CLIENT_SECRET)"),
            "{fetch}"
        );
        assert!(
            fetch.contains("\"refresh_token\": process.env.PLEO_REFRESH_TOKEN,"),
            "{fetch}"
        );
        assert!(!fetch.contains("Content-Type"), "URLSearchParams sets it: {fetch}");
        let rust = snippet(&refresh(), SnippetLanguage::Reqwest, "client-1");
        assert!(
            rust.contains(".basic_auth(\"client-1\", Some(env(\"PLEO_CLIENT_SECRET\")?))"),
            "{rust}"
        );
        assert!(
            rust.contains("(\"refresh_token\", env(\"PLEO_REFRESH_TOKEN\")?),"),
            "{rust}"
        );
        assert!(
            rust.contains("(\"grant_type\", \"refresh_token\".to_owned()),"),
            "{rust}"
        );
    }

    #[test]
    fn a_body_the_transcript_did_not_keep_is_read_from_a_file() {
        let mut entry = api_call();
        entry.method = "POST".to_owned();
        entry.request_body = Some(transcript::summarise_body(b"{\"a\":1}"));
        for language in SnippetLanguage::ALL {
            let text = snippet(&entry, language, "c");
            assert!(text.contains("body.json"), "{text}");
            assert!(!text.contains("bytes, hash"), "{text}");
        }
    }
}
