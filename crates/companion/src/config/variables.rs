//! The configuration contract as one table: every variable the companion reads, what it means,
//! what applies when it is unset and, for a number, its range and unit (which the parser reads
//! here). docs/architecture.md's table is this one rendered ([`markdown_table`]); a test holds
//! the two equal, and another that the parser reads no variable outside it.

/// A number's default (when it is fixed), range and unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number {
    /// The value when unset, unless it is worked out from other variables.
    pub default: Option<u64>,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted.
    pub max: u64,
    /// What it counts (`seconds`, `milliseconds`).
    pub unit: &'static str,
}

/// One environment variable of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// Its name.
    pub name: &'static str,
    /// What it sets, for the docs.
    pub meaning: &'static str,
    /// What applies when it is unset, as the docs say it (after a number's fixed default).
    pub unset: &'static str,
    /// For a number: its default, range and unit.
    pub number: Option<Number>,
}

const fn text(name: &'static str, meaning: &'static str, unset: &'static str) -> Variable {
    Variable {
        name,
        meaning,
        unset,
        number: None,
    }
}

const fn number(name: &'static str, meaning: &'static str, unset: &'static str, number: Number) -> Variable {
    Variable {
        name,
        meaning,
        unset,
        number: Some(number),
    }
}

const fn seconds(default: Option<u64>, min: u64, max: u64) -> Number {
    Number {
        default,
        min,
        max,
        unit: "seconds",
    }
}

const fn milliseconds(default: u64, min: u64, max: u64) -> Number {
    Number {
        default: Some(default),
        min,
        max,
        unit: "milliseconds",
    }
}

pub(crate) const PLEO_ENV: Variable = text(
    "PLEO_ENV",
    "`local` (embedded stand-in), `staging`, `production`, or `custom`",
    "`local`",
);
pub(crate) const PLEO_AUTHORIZATION_SERVER_URL: Variable = text(
    "PLEO_AUTHORIZATION_SERVER_URL",
    "base; authorize = base + `/oauth/authorize`, token = base + `/oauth/token`; https, or http on loopback; no `user@`",
    "per `PLEO_ENV`",
);
pub(crate) const PLEO_API_BASE_URL: Variable = text(
    "PLEO_API_BASE_URL",
    "API base, same rule",
    "per `PLEO_ENV` (`custom`: the authorisation server's)",
);
pub(crate) const PLEO_CLIENT_ID: Variable = text(
    "PLEO_CLIENT_ID",
    "the registered client's ID",
    "the stand-in's own client for `local`",
);
pub(crate) const PLEO_CLIENT_SECRET: Variable = text(
    "PLEO_CLIENT_SECRET",
    "the registered client's secret: sent only to the token endpoint",
    "for `local`, a fresh random secret every run",
);
pub(crate) const PLEO_REDIRECT_URI: Variable = text(
    "PLEO_REDIRECT_URI",
    "the registered redirect URI; its origin is the app's",
    "`http://localhost:8080/callback`",
);
pub(crate) const PLEO_SCOPES: Variable = text(
    "PLEO_SCOPES",
    "space-separated scopes",
    "`users:read` (staging, production); `users:read export-jobs:read test:test` (local)",
);
pub(crate) const COMPANION_ADDR: Variable = text(
    "COMPANION_ADDR",
    "where the companion listens",
    "`127.0.0.1:3000` (`cargo xtask demo`: `127.0.0.1:8080`)",
);
pub(crate) const COMPANION_STATIC_DIR: Variable = text(
    "COMPANION_STATIC_DIR",
    "also serve a built app (`dist/`) from the companion; refused if it holds a `.env`; no dotfile is served",
    "unset",
);
pub(crate) const COMPANION_UPSTREAM_TIMEOUT_SECS: Variable = number(
    "COMPANION_UPSTREAM_TIMEOUT_SECS",
    "how long a token exchange or API call may take (504)",
    "",
    seconds(Some(15), 1, 300),
);
pub(crate) const COMPANION_REFRESH_TIMEOUT_SECS: Variable = number(
    "COMPANION_REFRESH_TIMEOUT_SECS",
    "how long a refresh may take before its outcome is unknown",
    "",
    seconds(Some(crate::oauth::token_client::DEFAULT_REFRESH_TIMEOUT_SECS), 1, 300),
);
/// The longest absolute session lifetime that may be configured: Pleo's refresh token
/// lifetime, 60 days (a session cannot outlive its refresh token).
const MAX_SESSION_MAX_SECS: u64 = 60 * 24 * 3600;
pub(crate) const COMPANION_SESSION_MAX_SECS: Variable = number(
    "COMPANION_SESSION_MAX_SECS",
    "a session's absolute lifetime, however busy (at most 60 days, the refresh token's)",
    "(7 days)",
    seconds(
        Some(crate::sessions::DEFAULT_SESSION_MAX_SECS),
        60,
        MAX_SESSION_MAX_SECS,
    ),
);
pub(crate) const COMPANION_SESSION_STORE: Variable = text(
    "COMPANION_SESSION_STORE",
    "`memory` (this process only), or a `redis://` / `rediss://` URL shared by every replica; never repeated in an error (it may hold a password)",
    "`memory`",
);
pub(crate) const COMPANION_SESSION_KEY: Variable = text(
    "COMPANION_SESSION_KEY",
    "required with Redis: 32 random bytes, base64 (`openssl rand -base64 32`), the same on every replica; seals what goes to Redis",
    "none",
);
pub(crate) const COMPANION_SESSION_KEY_PREVIOUS: Variable = text(
    "COMPANION_SESSION_KEY_PREVIOUS",
    "during a key rotation, the key before; what it sealed still opens",
    "unset",
);
pub(crate) const COMPANION_SESSION_STORE_TIMEOUT_MS: Variable = number(
    "COMPANION_SESSION_STORE_TIMEOUT_MS",
    "the longest one Redis call may take",
    "",
    milliseconds(1_000, 50, 10_000),
);
/// A refresh lease's lifetime unless configured: long enough for a token endpoint's round trip
/// many times over (the holder renews it anyway), short enough that a replica that died
/// holding it delays that session's refresh by seconds only.
pub(crate) const COMPANION_REFRESH_LEASE_MS: Variable = number(
    "COMPANION_REFRESH_LEASE_MS",
    "a refresh lease's lifetime unless renewed: how long a replica that died holding it delays that session's refresh",
    "",
    milliseconds(5_000, 100, 60_000),
);
pub(crate) const COMPANION_API_WRITES: Variable = text(
    "COMPANION_API_WRITES",
    "API writes the proxy may forward, e.g. `DELETE v1/installations/me, POST v3/export-jobs`",
    "none (GET only)",
);
pub(crate) const COMPANION_SESSION_STORE_CA: Variable = text(
    "COMPANION_SESSION_STORE_CA",
    "with a `rediss://` store: a PEM file of the certificate authority that signed Redis's certificate (a private CA); without it, the system's roots",
    "unset",
);
pub(crate) const COMPANION_METRICS_ADDR: Variable = text(
    "COMPANION_METRICS_ADDR",
    "where Prometheus metrics are served (`GET /metrics`), on a listener of their own: keep it off the public internet",
    "unset (no metrics)",
);
pub(crate) const COMPANION_LOG_FORMAT: Variable = text(
    "COMPANION_LOG_FORMAT",
    "the log: `text`, or `json` (one object per line, for collectors); one line per request either way",
    "`text`",
);
pub(crate) const COMPANION_SHUTDOWN_DRAIN_SECS: Variable = number(
    "COMPANION_SHUTDOWN_DRAIN_SECS",
    "after SIGTERM or Ctrl-C, how long `/readyz` answers 503 while requests are still served, so a load balancer stops sending",
    "",
    seconds(Some(2), 0, 60),
);
pub(crate) const COMPANION_SHUTDOWN_GRACE_SECS: Variable = number(
    "COMPANION_SHUTDOWN_GRACE_SECS",
    "after the drain, how long calls in flight may take to finish before the process stops anyway (never shorter than the refresh and upstream timeouts, which a token call may take)",
    "the longer of those timeouts + 5 (`35`)",
    seconds(None, 1, 600),
);
pub(crate) const COMPANION_EMBED_ORIGINS: Variable = text(
    "COMPANION_EMBED_ORIGINS",
    "documentation sites that may frame the walkthrough at `/embed`: comma-separated exact origins (`https://docs.example.com`; http only on loopback: `localhost`, 127.0.0.0/8, `[::1]`, the endpoints' rule); the embed page's `frame-ancestors`",
    "none (nobody may frame it)",
);
pub(crate) const STAND_IN_AUTO_APPROVE: Variable = text(
    "STAND_IN_AUTO_APPROVE",
    "`1`: the embedded stand-in skips its consent page (tests, benchmarks)",
    "unset",
);
pub(crate) const STAND_IN_OPENER_POLICY: Variable = text(
    "STAND_IN_OPENER_POLICY",
    "the `Cross-Origin-Opener-Policy` of the stand-in's pages (local only), e.g. `same-origin`: what a sign-in pop-up cut off from its frame does",
    "unset",
);

/// Every variable, in the docs' order.
pub const VARIABLES: [Variable; 26] = [
    PLEO_ENV,
    PLEO_AUTHORIZATION_SERVER_URL,
    PLEO_API_BASE_URL,
    PLEO_CLIENT_ID,
    PLEO_CLIENT_SECRET,
    PLEO_REDIRECT_URI,
    PLEO_SCOPES,
    COMPANION_ADDR,
    COMPANION_STATIC_DIR,
    COMPANION_UPSTREAM_TIMEOUT_SECS,
    COMPANION_REFRESH_TIMEOUT_SECS,
    COMPANION_SESSION_MAX_SECS,
    COMPANION_SESSION_STORE,
    COMPANION_SESSION_KEY,
    COMPANION_SESSION_KEY_PREVIOUS,
    COMPANION_SESSION_STORE_TIMEOUT_MS,
    COMPANION_REFRESH_LEASE_MS,
    COMPANION_API_WRITES,
    COMPANION_SESSION_STORE_CA,
    COMPANION_METRICS_ADDR,
    COMPANION_LOG_FORMAT,
    COMPANION_SHUTDOWN_DRAIN_SECS,
    COMPANION_SHUTDOWN_GRACE_SECS,
    COMPANION_EMBED_ORIGINS,
    STAND_IN_AUTO_APPROVE,
    STAND_IN_OPENER_POLICY,
];

/// The docs' table of [`VARIABLES`] (Markdown: variable, meaning, default).
pub fn markdown_table() -> String {
    let mut table = String::from("| variable | meaning | default |\n|---|---|---|\n");
    for variable in VARIABLES {
        let (meaning, unset) = match variable.number {
            None => (variable.meaning.to_owned(), variable.unset.to_owned()),
            Some(n) => (
                format!("{}; {} to {} {}", variable.meaning, n.min, n.max, n.unit),
                match n.default {
                    Some(default) if variable.unset.is_empty() => format!("`{default}`"),
                    Some(default) => format!("`{default}` {}", variable.unset),
                    None => variable.unset.to_owned(),
                },
            ),
        };
        table.push_str(&format!("| `{}` | {meaning} | {unset} |\n", variable.name));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_table_is_this_table() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture.md");
        let docs = std::fs::read_to_string(docs).unwrap();
        let table = markdown_table();
        assert!(
            docs.contains(&table),
            "docs/architecture.md's configuration table differs from config::variables; it should read:\n{table}"
        );
    }

    #[test]
    fn the_parser_reads_no_variable_outside_the_table() {
        let parser = include_str!("mod.rs");
        let code = parser.split("#[cfg(test)]").next().unwrap();
        assert!(
            !code.contains("var(\""),
            "config/mod.rs reads a variable by a name of its own"
        );
        let names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "a variable is listed twice");
    }

    #[test]
    fn every_fixed_number_default_is_in_its_range() {
        for variable in VARIABLES {
            if let Some(Number {
                default: Some(default),
                min,
                max,
                ..
            }) = variable.number
            {
                assert!((min..=max).contains(&default), "{}", variable.name);
            }
        }
    }
}
