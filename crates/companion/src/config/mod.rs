//! The configuration contract (docs/architecture.md#the-configuration-contract), read from the
//! environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use contract::Environment;
use contract::wire::PublicConfig;
use flow::authorize::check_endpoint;
use secrecy::SecretString;
use url::{Host, Url};

use crate::sessions::{RedisSettings, seal};

pub mod variables;
use variables::{self as v, Variable};

/// Where the embedded stand-in is mounted in the companion's router when `PLEO_ENV=local`.
pub const STAND_IN_PREFIX: &str = "/stand-in";
pub use contract::environment::{LOCAL_CLIENT_ID, LOCAL_REDIRECT_URI};

/// A configuration value that cannot be used, with the variable it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it, as a sentence.
    pub problem: String,
}

fn config_error(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The companion's settings. The secret is a [`SecretString`]: its `Debug` is redacted.
#[derive(Debug, Clone)]
pub struct Config {
    /// The environment.
    pub environment: Environment,
    /// Authorisation server base URL.
    pub authorization_server_url: String,
    /// API base URL.
    pub api_base_url: String,
    /// The registered client ID.
    pub client_id: String,
    /// The client secret: sent only to the token endpoint, in the Basic header.
    pub client_secret: SecretString,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The origin (`scheme://host[:port]`) the app is served from: the redirect URI's, as the
    /// URL parser serialises it (the form browsers send in `Origin`).
    app_origin: String,
    /// Whether the redirect URI is https.
    secure_cookies: bool,
    /// The scopes to request.
    pub scopes: Vec<String>,
    /// Where the companion listens.
    pub addr: SocketAddr,
    /// A built app (Trunk's `dist/`) to serve beside `/api`, for the one-process demo and tests.
    pub static_dir: Option<PathBuf>,
    /// Skip the stand-in's consent page (local only; tests and benchmarks).
    pub auto_approve: bool,
    /// The `Cross-Origin-Opener-Policy` of the stand-in's pages (`STAND_IN_OPENER_POLICY`,
    /// local only): `same-origin` shows what a pop-up cut off from its frame does.
    pub stand_in_opener_policy: Option<String>,
    /// Seconds an outgoing call (token endpoint, API) may take before it is a timeout (504).
    pub upstream_timeout_secs: u64,
    /// Seconds a refresh may take before its outcome is unknown (longer than other calls:
    /// giving up on a refresh costs the refresh token).
    pub refresh_timeout_secs: u64,
    /// Seconds a session lives at most from sign-in, however active (RFC 10017 asks for a
    /// lifetime tied to the refresh token's).
    pub session_max_secs: u64,
    /// API writes the proxy may forward (`COMPANION_API_WRITES`); none by default.
    pub api_writes: Vec<crate::allow_list::WriteRule>,
    /// Where sessions live: `None` in this process's memory (the default), or a Redis shared by
    /// every replica (`COMPANION_SESSION_STORE`).
    pub session_store: Option<RedisSettings>,
    /// How long a refresh lease lasts unless renewed: how long a replica that died holding it
    /// delays that session's refresh (`COMPANION_REFRESH_LEASE_MS`).
    pub refresh_lease: Duration,
    /// The origins whose pages may frame the walkthrough at `/embed` (`COMPANION_EMBED_ORIGINS`,
    /// exact `scheme://host[:port]`, as browsers serialise them); none by default.
    pub embed_origins: Vec<String>,
    /// Where Prometheus metrics are served (`COMPANION_METRICS_ADDR`): off unless set, and on a
    /// listener of their own, never the public one.
    pub metrics_addr: Option<SocketAddr>,
    /// How the request log is written (`COMPANION_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// After a shutdown signal, how long `/readyz` answers 503 while requests are still served,
    /// so a load balancer stops sending before the listener closes (`COMPANION_SHUTDOWN_DRAIN_SECS`).
    pub shutdown_drain: Duration,
    /// After the drain, how long calls in flight may take to finish before the process stops
    /// anyway (`COMPANION_SHUTDOWN_GRACE_SECS`); never shorter than a token-endpoint call.
    pub shutdown_grace: Duration,
}

/// How the request log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Config {
    /// Reads the contract's variables through `var` (the process environment in `main`).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |variable: &variables::Variable| {
            var(variable.name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let env_text = var(&v::PLEO_ENV).unwrap_or_else(|| Environment::Local.as_str().to_owned());
        let environment = Environment::parse(&env_text).ok_or_else(|| {
            config_error(
                v::PLEO_ENV.name,
                format!("{env_text:?} is not one of local, staging, production, custom"),
            )
        })?;
        let addr_text = var(&v::COMPANION_ADDR).unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let addr: SocketAddr = addr_text.parse().map_err(|_| {
            config_error(
                v::COMPANION_ADDR.name,
                format!("{addr_text:?} is not an address such as 127.0.0.1:3000"),
            )
        })?;

        let (default_auth, default_api) = match environment {
            Environment::Local => {
                let base = format!("http://{addr}{STAND_IN_PREFIX}");
                (Some(base.clone()), Some(base))
            }
            Environment::Staging | Environment::Production | Environment::Custom => {
                let urls = environment.pleo_urls();
                (
                    urls.map(|u| u.authorization_server.to_owned()),
                    urls.map(|u| u.api.to_owned()),
                )
            }
        };
        let authorization_server_url = var(&v::PLEO_AUTHORIZATION_SERVER_URL).or(default_auth).ok_or_else(|| {
            config_error(
                v::PLEO_AUTHORIZATION_SERVER_URL.name,
                "is required when PLEO_ENV=custom",
            )
        })?;
        // For `custom` the API defaults to the authorisation server's base: one URL is enough.
        let api_base_url = var(&v::PLEO_API_BASE_URL)
            .or(default_api)
            .unwrap_or_else(|| authorization_server_url.clone());
        for (variable, url) in [
            (v::PLEO_AUTHORIZATION_SERVER_URL.name, &authorization_server_url),
            (v::PLEO_API_BASE_URL.name, &api_base_url),
        ] {
            parse_endpoint(url).ok_or_else(|| {
                config_error(
                    variable,
                    format!(
                        "{url:?} must be an https URL ({HTTP_ONLY_ON_LOOPBACK}), without user:password@ or a fragment"
                    ),
                )
            })?;
        }
        let local = environment == Environment::Local;
        if local && !cfg!(feature = "stand-in") {
            return Err(config_error(
                v::PLEO_ENV.name,
                "local needs the embedded stand-in, which this build leaves out: build with the `stand-in` feature (the default), or set staging, production or custom",
            ));
        }
        let client_id = match var(&v::PLEO_CLIENT_ID) {
            Some(id) => id,
            None if local => LOCAL_CLIENT_ID.to_owned(),
            None => {
                return Err(config_error(
                    v::PLEO_CLIENT_ID.name,
                    format!("is required when PLEO_ENV={}", environment.as_str()),
                ));
            }
        };
        let client_secret = match var(&v::PLEO_CLIENT_SECRET) {
            Some(secret) => secret,
            // The embedded stand-in gets a fresh secret every run: none is written anywhere.
            None if local => pkce::State::generate()
                .map(|s| s.as_str().to_owned())
                .map_err(|_| config_error(v::PLEO_CLIENT_SECRET.name, "no random source to make one"))?,
            None => {
                return Err(config_error(
                    v::PLEO_CLIENT_SECRET.name,
                    format!("is required when PLEO_ENV={}", environment.as_str()),
                ));
            }
        };
        let redirect_uri = var(&v::PLEO_REDIRECT_URI).unwrap_or_else(|| LOCAL_REDIRECT_URI.to_owned());
        let redirect = parse_redirect_uri(&redirect_uri)?;
        let (app_origin, secure_cookies) = (redirect.origin().ascii_serialization(), redirect.scheme() == "https");
        let upstream_timeout_secs = number(&var, &v::COMPANION_UPSTREAM_TIMEOUT_SECS, None)?;
        let refresh_timeout_secs = number(&var, &v::COMPANION_REFRESH_TIMEOUT_SECS, None)?;
        let shutdown_grace = shutdown_grace(&var, upstream_timeout_secs.max(refresh_timeout_secs))?;
        let refresh_lease = Duration::from_millis(number(&var, &v::COMPANION_REFRESH_LEASE_MS, None)?);
        let scopes = var(&v::PLEO_SCOPES)
            .unwrap_or_else(|| {
                if local {
                    "users:read export-jobs:read test:test"
                } else {
                    "users:read"
                }
                .to_owned()
            })
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(Self {
            environment,
            authorization_server_url: authorization_server_url.trim_end_matches('/').to_owned(),
            api_base_url: api_base_url.trim_end_matches('/').to_owned(),
            client_id,
            client_secret: SecretString::from(client_secret),
            redirect_uri,
            app_origin,
            secure_cookies,
            scopes,
            addr,
            static_dir: static_dir(var(&v::COMPANION_STATIC_DIR))?,
            auto_approve: local && var(&v::STAND_IN_AUTO_APPROVE).is_some_and(|v| v == "1"),
            stand_in_opener_policy: var(&v::STAND_IN_OPENER_POLICY).filter(|_| local),
            upstream_timeout_secs,
            refresh_timeout_secs,
            session_max_secs: number(&var, &v::COMPANION_SESSION_MAX_SECS, None)?,
            api_writes: crate::allow_list::parse_write_rules(&var(&v::COMPANION_API_WRITES).unwrap_or_default())
                .map_err(|problem| config_error(v::COMPANION_API_WRITES.name, problem))?,
            session_store: session_store(&var, refresh_lease)?,
            metrics_addr: var(&v::COMPANION_METRICS_ADDR)
                .map(|text| {
                    text.parse().map_err(|_| {
                        config_error(
                            v::COMPANION_METRICS_ADDR.name,
                            format!("{text:?} is not an address such as 127.0.0.1:9100"),
                        )
                    })
                })
                .transpose()?,
            log_format: match var(&v::COMPANION_LOG_FORMAT).as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(config_error(
                        v::COMPANION_LOG_FORMAT.name,
                        format!("{other:?} is neither text nor json"),
                    ));
                }
            },
            shutdown_drain: Duration::from_secs(number(&var, &v::COMPANION_SHUTDOWN_DRAIN_SECS, None)?),
            shutdown_grace,
            refresh_lease,
            embed_origins: embed_origins(var(&v::COMPANION_EMBED_ORIGINS).as_deref())
                .map_err(|problem| config_error(v::COMPANION_EMBED_ORIGINS.name, problem))?,
        })
    }

    /// The origin the app is served from (see [`Config::app_origin`]).
    pub fn app_origin(&self) -> &str {
        &self.app_origin
    }

    /// Whether the app is served over https (the parsed redirect URI's scheme): cookies then get
    /// `Secure` and the `__Host-` prefix.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// What `GET /api/config` shows: everything but the secret.
    pub fn public(&self) -> PublicConfig {
        PublicConfig {
            environment: self.environment,
            client_id: self.client_id.clone(),
            authorization_server_url: self.authorization_server_url.clone(),
            authorize_url: flow::authorize_endpoint(&self.authorization_server_url),
            token_url: flow::token_endpoint(&self.authorization_server_url),
            api_base_url: self.api_base_url.clone(),
            scopes: self.scopes.clone(),
            redirect_uri: self.redirect_uri.clone(),
            token_endpoint_auth_method: contract::oauth::CLIENT_AUTH_METHOD.to_owned(),
            // Until metadata says otherwise (AppState::public_config): the configured server,
            // which names itself in every response when it is the embedded stand-in.
            issuer: self.authorization_server_url.clone(),
            iss_always_sent: self.environment == Environment::Local,
        }
    }
}

/// What to say about a `.env` that could not be read: the number of the line at fault, never
/// its text (which may hold the client secret). `text` is the file's content.
pub fn env_file_error(error: &dotenvy::Error, text: &str) -> String {
    match error {
        dotenvy::Error::LineParse(line, _) => {
            let number = text.lines().position(|l| l.contains(line.as_str())).map(|i| i + 1);
            let place = number.map_or_else(|| "a line".to_owned(), |n| format!("line {n}"));
            format!(
                ".env: {place} could not be parsed (its content is not printed: it may hold a secret); quote values with spaces"
            )
        }
        dotenvy::Error::Io(e) => format!(".env could not be read: {e}"),
        _ => ".env could not be read (a value is not valid UTF-8 or names an unknown variable)".to_owned(),
    }
}

/// The folder to serve the app from, refused when it holds a `.env` (a secret would be one
/// misconfiguration away from being served).
fn static_dir(value: Option<String>) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dir) = value.map(PathBuf::from) else {
        return Ok(None);
    };
    if dir.join(".env").exists() {
        return Err(config_error(
            v::COMPANION_STATIC_DIR.name,
            format!(
                "{} holds a .env file; serve a folder with only the built app in it",
                dir.display()
            ),
        ));
    }
    Ok(Some(dir))
}

/// Whether `pem` holds at least one PEM certificate block, begun and ended (RFC 7468 §5).
fn holds_pem_certificate(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .any(|rest| rest.contains("-----END CERTIFICATE-----"))
}

/// Seconds a token-endpoint call may still need after a shutdown's drain beyond its own
/// timeout: writing its outcome to the session store.
const GRACE_TO_WRITE_SECS: u64 = 5;

/// `COMPANION_SHUTDOWN_GRACE_SECS`: by default the longest token-endpoint call
/// (`longest_token_call_secs`, the larger of the refresh and upstream timeouts) and the time to
/// write its outcome; a shorter grace is refused, because a token call cut off by the exit loses
/// what it was sent for (a refresh's rotated tokens, RFC 9700 §4.14.2).
fn shutdown_grace(
    var: &impl Fn(&Variable) -> Option<String>,
    longest_token_call_secs: u64,
) -> Result<Duration, ConfigError> {
    let grace = number(
        var,
        &v::COMPANION_SHUTDOWN_GRACE_SECS,
        Some(longest_token_call_secs + GRACE_TO_WRITE_SECS),
    )?;
    if grace < longest_token_call_secs {
        return Err(config_error(
            v::COMPANION_SHUTDOWN_GRACE_SECS.name,
            format!(
                "{grace} s is shorter than the longest token-endpoint call ({longest_token_call_secs} s, \
                 COMPANION_REFRESH_TIMEOUT_SECS or COMPANION_UPSTREAM_TIMEOUT_SECS): a refresh cut off \
                 by the exit would lose its rotated tokens; give it at least {longest_token_call_secs}"
            ),
        ));
    }
    Ok(Duration::from_secs(grace))
}

/// The number `variable` holds, refused outside its range; when unset its default from the
/// table, or `worked_out` for a default that depends on other variables.
fn number(
    var: &impl Fn(&Variable) -> Option<String>,
    variable: &Variable,
    worked_out: Option<u64>,
) -> Result<u64, ConfigError> {
    let Some(rule) = variable.number else {
        return Err(config_error(
            variable.name,
            "is not a number in the configuration table",
        ));
    };
    match var(variable) {
        None => worked_out
            .or(rule.default)
            .ok_or_else(|| config_error(variable.name, "has no default")),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (rule.min..=rule.max).contains(n))
            .ok_or_else(|| {
                config_error(
                    variable.name,
                    format!(
                        "{text:?} is not a number of {} from {} to {}",
                        rule.unit, rule.min, rule.max
                    ),
                )
            }),
    }
}

/// The Redis session store of `COMPANION_SESSION_STORE` (`memory` or unset: none), with its
/// sealing keys, which it cannot go without. The URL is never repeated in an error: it may
/// carry a password.
fn session_store(
    var: &impl Fn(&Variable) -> Option<String>,
    lease: Duration,
) -> Result<Option<RedisSettings>, ConfigError> {
    const STORE: &str = v::COMPANION_SESSION_STORE.name;
    const KEY: &str = v::COMPANION_SESSION_KEY.name;
    const PREVIOUS: &str = v::COMPANION_SESSION_KEY_PREVIOUS.name;
    const STORE_CA: &str = v::COMPANION_SESSION_STORE_CA.name;
    let url = match var(&v::COMPANION_SESSION_STORE) {
        None => return Ok(None),
        Some(v) if v == "memory" => return Ok(None),
        Some(url) => url,
    };
    let redis_url = Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "redis" | "rediss") && u.host().is_some());
    let not_a_url = || {
        config_error(
            STORE,
            "is neither `memory` nor a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0 (the value is not repeated: it may hold a password)",
        )
    };
    let tls = redis_url.as_ref().is_some_and(|u| u.scheme() == "rediss");
    // A private certificate authority for `rediss://` (`COMPANION_SESSION_STORE_CA`, PEM);
    // without it the system's roots.
    let ca = match var(&v::COMPANION_SESSION_STORE_CA) {
        None => None,
        Some(_) if !tls => {
            return Err(config_error(
                STORE_CA,
                "applies only to a rediss:// session store (Redis over TLS)",
            ));
        }
        Some(path) => {
            let pem =
                std::fs::read(&path).map_err(|e| config_error(STORE_CA, format!("{path:?} cannot be read: {e}")))?;
            // A file of no certificate (a key, an empty file) would leave the TLS client with
            // no authority to trust, found out only at the first connection.
            if !holds_pem_certificate(&pem) {
                return Err(config_error(
                    STORE_CA,
                    format!("{path:?} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
                ));
            }
            Some(pem)
        }
    };
    let client = match (redis_url, ca) {
        (None, _) => return Err(not_a_url()),
        (Some(_), None) => redis::Client::open(url.as_str()).map_err(|_| not_a_url())?,
        (Some(_), Some(pem)) => redis::Client::build_with_tls(
            url.as_str(),
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            },
        )
        .map_err(|e| {
            config_error(
                STORE_CA,
                format!(
                    "is not a PEM certificate authority Redis's TLS can use: {}",
                    e.detail().unwrap_or("unreadable")
                ),
            )
        })?,
    };
    let key = var(&v::COMPANION_SESSION_KEY).ok_or_else(|| {
        config_error(
            KEY,
            "is required with a Redis session store: 32 random bytes, base64 (`openssl rand -base64 32`); every replica gets the same",
        )
    })?;
    let current = seal::parse_key(&key).map_err(|problem| config_error(KEY, problem))?;
    let previous = var(&v::COMPANION_SESSION_KEY_PREVIOUS)
        .map(|k| seal::parse_key(&k))
        .transpose()
        .map_err(|problem| config_error(PREVIOUS, problem))?;
    let call_timeout = number(var, &v::COMPANION_SESSION_STORE_TIMEOUT_MS, None)?;
    Ok(Some(RedisSettings {
        client,
        keys: seal::SealingKeys::new(&current, previous.as_ref()),
        lease,
        call_timeout: Duration::from_millis(call_timeout),
    }))
}

/// An endpoint as a real URL parser reads it (the `url` crate, as browsers and reqwest do):
/// the shared textual rule of [`check_endpoint`] first, then on the parsed URL: https with a
/// host, or http whose parsed host is loopback (`localhost`, 127.0.0.0/8, `::1`; RFC 8252 §7.3,
/// RFC 9700 §2.6), and no userinfo (RFC 3986 §3.2.1: `http://127.0.0.1:1@evil.example/` is a
/// request to evil.example).
pub fn parse_endpoint(text: &str) -> Option<Url> {
    check_endpoint(text).ok()?;
    let url = Url::parse(text).ok()?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return None;
    }
    match url.scheme() {
        "https" if url.host().is_some() => Some(url),
        "http" if is_loopback(&url) => Some(url),
        _ => None,
    }
}

/// Whether the parsed URL's host is loopback: `localhost`, 127.0.0.0/8 or `[::1]` (RFC 8252
/// §7.3): the one rule for where plain http is allowed, for endpoints and embed origins alike.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// How a refused URL's message says where http is allowed.
const HTTP_ONLY_ON_LOOPBACK: &str = "http only on loopback: localhost, 127.0.0.0/8, [::1]";

/// Pleo's rule: an absolute URI, https except on loopback, no fragment (RFC 6749 §3.1.2): the
/// endpoint rule of [`parse_endpoint`], and a path written out (the server compares the text
/// exactly, so the companion keeps and sends the text as configured).
fn parse_redirect_uri(uri: &str) -> Result<Url, ConfigError> {
    let has_path = uri.split_once("://").is_some_and(|(_, rest)| rest.contains('/'));
    parse_endpoint(uri).filter(|_| has_path).ok_or_else(|| {
        config_error(
            v::PLEO_REDIRECT_URI.name,
            format!("{uri:?} must be an absolute https URL with a path ({HTTP_ONLY_ON_LOOPBACK}), without a fragment"),
        )
    })
}

/// `COMPANION_EMBED_ORIGINS`: comma-separated origins, each exactly `scheme://host[:port]` (no
/// path, query, user or fragment; http only on loopback, as for endpoints), kept in the
/// form browsers send and CSP compares: the URL parser's serialisation.
fn embed_origins(text: Option<&str>) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for item in text
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let refused = || format!("{item:?} is not an origin such as https://docs.example.com");
        let url = url::Url::parse(item).map_err(|_| refused())?;
        let bare = url.path() == "/" && !item.ends_with('/') && url.query().is_none() && url.fragment().is_none();
        // A host of letters, digits, dots and dashes (or an IP): no CSP wildcard such as `*.`.
        let plain_host = url
            .host_str()
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c)));
        if !bare || !url.username().is_empty() || url.password().is_some() || !plain_host {
            return Err(refused());
        }
        if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback(&url)) {
            return Err(format!("{item:?} must be https ({HTTP_ONLY_ON_LOOPBACK})"));
        }
        origins.push(url.origin().ascii_serialization());
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    /// The defaults the docs' table writes as text are the ones the parser applies: each unset
    /// variable's value in a configuration of nothing, as the table shows it.
    #[test]
    fn the_tables_default_texts_are_the_parsers_defaults() {
        let local = config(&[]).unwrap();
        let shown = |variable: &v::Variable, value: &str| {
            assert!(
                variable.unset.contains(&format!("`{value}`")),
                "{}: the table says {:?}, the parser applies {value:?}",
                variable.name,
                variable.unset
            );
        };
        shown(&v::PLEO_ENV, local.environment.as_str());
        shown(&v::PLEO_REDIRECT_URI, &local.redirect_uri);
        shown(&v::PLEO_SCOPES, &local.scopes.join(" "));
        shown(&v::COMPANION_ADDR, &local.addr.to_string());
        shown(&v::COMPANION_LOG_FORMAT, "text");
        assert_eq!(local.log_format, LogFormat::Text);
        let staging = config(&[
            ("PLEO_ENV", "staging"),
            ("PLEO_CLIENT_ID", "id"),
            ("PLEO_CLIENT_SECRET", "s"),
        ])
        .unwrap();
        shown(&v::PLEO_SCOPES, &staging.scopes.join(" "));
        let grace = local.upstream_timeout_secs.max(local.refresh_timeout_secs) + GRACE_TO_WRITE_SECS;
        assert_eq!(local.shutdown_grace, Duration::from_secs(grace));
        shown(&v::COMPANION_SHUTDOWN_GRACE_SECS, &grace.to_string());
    }

    #[test]
    fn defaults_are_the_embedded_stand_in_with_a_fresh_secret() {
        let c = config(&[]).unwrap();
        assert_eq!(c.environment, Environment::Local);
        assert_eq!(c.authorization_server_url, "http://127.0.0.1:3000/stand-in");
        assert_eq!(c.api_base_url, "http://127.0.0.1:3000/stand-in");
        assert_eq!(c.redirect_uri, "http://localhost:8080/callback");
        assert_eq!(c.app_origin(), "http://localhost:8080");
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert!(c.scopes.contains(&"users:read".to_owned()));
        assert_eq!(c.client_secret.expose_secret().len(), 43);
        assert_ne!(
            c.client_secret.expose_secret(),
            config(&[]).unwrap().client_secret.expose_secret()
        );
        assert!(!c.secure_cookies());
    }

    #[test]
    fn staging_and_production_use_pleos_urls_and_need_credentials() {
        let err = config(&[("PLEO_ENV", "staging")]).unwrap_err();
        assert_eq!(err.variable, "PLEO_CLIENT_ID");
        let c = config(&[
            ("PLEO_ENV", "staging"),
            ("PLEO_CLIENT_ID", "id"),
            ("PLEO_CLIENT_SECRET", "s"),
        ])
        .unwrap();
        assert_eq!(c.authorization_server_url, "https://auth.staging.pleo.io");
        assert_eq!(c.api_base_url, "https://external.staging.pleo.io");
        assert_eq!(c.scopes, vec!["users:read".to_owned()]);
        assert_eq!(c.public().authorize_url, "https://auth.staging.pleo.io/oauth/authorize");
        assert_eq!(c.public().token_url, "https://auth.staging.pleo.io/oauth/token");
        let p = config(&[
            ("PLEO_ENV", "production"),
            ("PLEO_CLIENT_ID", "id"),
            ("PLEO_CLIENT_SECRET", "s"),
        ])
        .unwrap();
        assert_eq!(p.api_base_url, "https://external.pleo.io");
    }

    #[test]
    fn custom_needs_only_the_authorization_server_url_besides_credentials() {
        assert_eq!(
            config(&[("PLEO_ENV", "custom")]).unwrap_err().variable,
            "PLEO_AUTHORIZATION_SERVER_URL"
        );
        let c = config(&[
            ("PLEO_ENV", "custom"),
            ("PLEO_AUTHORIZATION_SERVER_URL", "https://as.example/"),
            ("PLEO_CLIENT_ID", "id"),
            ("PLEO_CLIENT_SECRET", "s"),
        ])
        .unwrap();
        assert_eq!(c.authorization_server_url, "https://as.example");
        assert_eq!(c.api_base_url, "https://as.example");
    }

    #[test]
    fn a_shutdown_grace_shorter_than_a_token_call_is_refused_and_the_default_covers_one() {
        let default = config(&[]).unwrap();
        assert_eq!(
            default.shutdown_grace,
            Duration::from_secs(default.refresh_timeout_secs + GRACE_TO_WRITE_SECS)
        );
        let refused = config(&[("COMPANION_SHUTDOWN_GRACE_SECS", "20")]).unwrap_err();
        assert_eq!(refused.variable, "COMPANION_SHUTDOWN_GRACE_SECS");
        assert!(refused.problem.contains("at least 30"), "{}", refused.problem);
        let shorter_calls = config(&[
            ("COMPANION_SHUTDOWN_GRACE_SECS", "10"),
            ("COMPANION_REFRESH_TIMEOUT_SECS", "8"),
            ("COMPANION_UPSTREAM_TIMEOUT_SECS", "5"),
        ])
        .unwrap();
        assert_eq!(shorter_calls.shutdown_grace, Duration::from_secs(10));
        let slow_upstream = config(&[
            ("COMPANION_SHUTDOWN_GRACE_SECS", "10"),
            ("COMPANION_REFRESH_TIMEOUT_SECS", "8"),
            ("COMPANION_UPSTREAM_TIMEOUT_SECS", "12"),
        ]);
        assert!(slow_upstream.is_err(), "the code exchange's timeout counts too");
    }

    #[test]
    fn a_session_store_ca_file_without_a_certificate_is_refused_at_start() {
        let dir = std::env::temp_dir().join(format!("companion-ca-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key.pem");
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let key_path = key.display().to_string();
        let refused = config(&[
            ("COMPANION_SESSION_STORE", "rediss://127.0.0.1:6380/0"),
            ("COMPANION_SESSION_KEY", &"ab".repeat(32)),
            ("COMPANION_SESSION_STORE_CA", &key_path),
        ])
        .unwrap_err();
        assert_eq!(refused.variable, "COMPANION_SESSION_STORE_CA");
        assert!(refused.problem.contains("no PEM certificate"), "{}", refused.problem);
        assert!(holds_pem_certificate(
            b"x\n-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        ));
        assert!(!holds_pem_certificate(b"-----BEGIN CERTIFICATE-----\nAA=="));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(config(&[("PLEO_ENV", "prod")]).unwrap_err().variable, "PLEO_ENV");
        assert_eq!(
            config(&[("COMPANION_ADDR", "nope")]).unwrap_err().variable,
            "COMPANION_ADDR"
        );
        assert_eq!(
            config(&[("PLEO_REDIRECT_URI", "http://example.com/cb")])
                .unwrap_err()
                .variable,
            "PLEO_REDIRECT_URI"
        );
        assert_eq!(
            config(&[("PLEO_REDIRECT_URI", "https://example.com")])
                .unwrap_err()
                .variable,
            "PLEO_REDIRECT_URI"
        );
        for bad in [
            "http://127.0.0.1.evil.example/cb",
            "https://app.example/cb#x",
            "https://app.example/c b",
            "app.example/cb",
        ] {
            assert_eq!(
                config(&[("PLEO_REDIRECT_URI", bad)]).unwrap_err().variable,
                "PLEO_REDIRECT_URI",
                "{bad}"
            );
        }
        for good in [
            "http://127.0.0.1:8080/callback",
            "http://[::1]:8080/callback",
            "https://app.example/callback?x=1",
        ] {
            assert!(config(&[("PLEO_REDIRECT_URI", good)]).is_ok(), "{good}");
        }
        let err = config(&[
            ("PLEO_ENV", "custom"),
            ("PLEO_AUTHORIZATION_SERVER_URL", "http://as.example"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "PLEO_AUTHORIZATION_SERVER_URL");
    }

    #[test]
    fn a_malformed_env_line_is_named_by_number_and_never_printed() {
        let text = "PLEO_ENV=local\nPLEO_CLIENT_SECRET=s3cr3t-VALUE with-a-space\n";
        let error = dotenvy::from_read_iter(text.as_bytes())
            .find_map(Result::err)
            .expect("dotenvy refuses the line");
        let message = env_file_error(&error, text);
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(!format!("{error}").is_empty());
    }

    #[test]
    fn a_static_folder_holding_a_env_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("static-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".env"), "PLEO_CLIENT_SECRET=x").unwrap();
        let err = config(&[("COMPANION_STATIC_DIR", dir.to_str().unwrap())]).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(err.variable, "COMPANION_STATIC_DIR");
    }

    /// Userinfo made `http://127.0.0.1:1@192.0.2.2:4001` pass for a loopback server, and the
    /// client secret went to 192.0.2.2 over plain http.
    #[test]
    fn userinfo_and_backslashes_never_pass_for_a_loopback_server() {
        for bad in [
            "http://127.0.0.1:1@192.0.2.2:4001",
            "http://localhost:80@host.example/",
            "http://[::1]@host.example/",
            "https://user:secret@as.example",
            "http://localhost\\@evil.example",
        ] {
            let custom = [
                ("PLEO_ENV", "custom"),
                ("PLEO_AUTHORIZATION_SERVER_URL", bad),
                ("PLEO_CLIENT_ID", "id"),
                ("PLEO_CLIENT_SECRET", "s"),
            ];
            assert_eq!(
                config(&custom).unwrap_err().variable,
                "PLEO_AUTHORIZATION_SERVER_URL",
                "{bad}"
            );
            let api = [("PLEO_API_BASE_URL", bad)];
            assert_eq!(config(&api).unwrap_err().variable, "PLEO_API_BASE_URL", "{bad}");
            assert!(parse_endpoint(bad).is_none(), "{bad}");
        }
        assert_eq!(
            parse_endpoint("http://127.0.0.1:4001/x").unwrap().host_str(),
            Some("127.0.0.1")
        );
        assert_eq!(parse_endpoint("http://[::1]:4001/x").unwrap().host_str(), Some("[::1]"));
    }

    #[test]
    fn https_app_gets_secure_cookies_and_the_public_config_has_no_secret() {
        let c = config(&[
            ("PLEO_REDIRECT_URI", "https://app.example/callback"),
            ("PLEO_CLIENT_SECRET", "top-secret-value"),
        ])
        .unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.app_origin(), "https://app.example");
        let public = serde_json::to_string(&c.public()).unwrap();
        assert!(!public.contains("top-secret-value"));
        assert!(!format!("{c:?}").contains("top-secret-value"));
    }

    #[test]
    fn a_redis_session_store_needs_a_url_and_a_32_byte_key_and_never_repeats_the_url() {
        let key = "cmVwbGljYS10ZXN0cy1zZXNzaW9uLWtleS0zMi1ieXQ=";
        assert!(config(&[]).unwrap().session_store.is_none(), "memory by default");
        assert!(
            config(&[("COMPANION_SESSION_STORE", "memory")])
                .unwrap()
                .session_store
                .is_none()
        );
        let redis = config(&[
            ("COMPANION_SESSION_STORE", "redis://:hunter2@127.0.0.1:6379/0"),
            ("COMPANION_SESSION_KEY", key),
        ])
        .unwrap();
        let settings = redis.session_store.expect("a Redis store");
        assert_eq!(
            settings.lease,
            Duration::from_millis(5_000),
            "COMPANION_REFRESH_LEASE_MS's default"
        );
        assert!(!format!("{settings:?}").contains("hunter2"));
        let missing = config(&[("COMPANION_SESSION_STORE", "redis://127.0.0.1/")]).unwrap_err();
        assert_eq!(missing.variable, "COMPANION_SESSION_KEY");
        let short = config(&[
            ("COMPANION_SESSION_STORE", "redis://127.0.0.1/"),
            ("COMPANION_SESSION_KEY", "c2hvcnQ="),
        ])
        .unwrap_err();
        assert_eq!(short.variable, "COMPANION_SESSION_KEY");
        assert!(short.problem.contains("5 bytes"), "{}", short.problem);
        let bad_previous = config(&[
            ("COMPANION_SESSION_STORE", "redis://127.0.0.1/"),
            ("COMPANION_SESSION_KEY", key),
            ("COMPANION_SESSION_KEY_PREVIOUS", "nope"),
        ])
        .unwrap_err();
        assert_eq!(bad_previous.variable, "COMPANION_SESSION_KEY_PREVIOUS");
        for url in ["postgres://:hunter2@db/", "hunter2", "redis://"] {
            let wrong = config(&[("COMPANION_SESSION_STORE", url), ("COMPANION_SESSION_KEY", key)]).unwrap_err();
            assert_eq!(wrong.variable, "COMPANION_SESSION_STORE");
            assert!(!wrong.to_string().contains("hunter2"), "{wrong}");
        }
        let lease = config(&[("COMPANION_REFRESH_LEASE_MS", "50")]).unwrap_err();
        assert_eq!(lease.variable, "COMPANION_REFRESH_LEASE_MS");
    }

    #[test]
    fn embed_origins_are_exact_origins() {
        assert_eq!(embed_origins(None).unwrap(), Vec::<String>::new());
        assert_eq!(
            embed_origins(Some(
                "https://docs.example.com, http://127.0.0.1:4000,https://Docs.Example.org:443, http://localhost:7001, http://127.0.0.2:7001, http://[::1]:7001"
            ))
            .unwrap(),
            [
                "https://docs.example.com",
                "http://127.0.0.1:4000",
                "https://docs.example.org",
                "http://localhost:7001",
                "http://127.0.0.2:7001",
                "http://[::1]:7001"
            ],
            "http on loopback, as for endpoints"
        );
        for bad in [
            "docs.example.com",
            "https://docs.example.com/",
            "https://docs.example.com/guide",
            "http://docs.example.com",
            "http://10.0.0.1:7001",
            "https://u:p@docs.example.com",
            "https://*.example.com",
            "'self'",
        ] {
            assert!(embed_origins(Some(bad)).is_err(), "{bad}");
        }
        let error =
            Config::from_lookup(|n| (n == "COMPANION_EMBED_ORIGINS").then(|| "https://docs.example.com/x".to_owned()))
                .unwrap_err();
        assert!(error.to_string().contains("COMPANION_EMBED_ORIGINS"), "{error}");
    }
}
