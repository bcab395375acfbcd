//! Export for Postman: a collection (v2.1) and an environment, configured as Pleo's Postman
//! guide says (Authorization Code with PKCE, SHA-256, client credentials in a Basic header),
//! with the client secret left as a variable to fill in.

use contract::catalog::{CATALOG, METHOD, POSTMAN_WEB_REDIRECT};
use contract::oauth::{AUTHORIZE_PATH, TOKEN_PATH};
use contract::wire::PublicConfig;
use serde_json::{Value, json};

/// A Postman collection (schema v2.1.0) whose collection-level auth is OAuth 2.0 with PKCE.
pub fn collection(config: &PublicConfig) -> Value {
    let auth = [
        ("grant_type", json!("authorization_code_with_pkce")),
        (
            "authUrl",
            json!(format!("{{{{AUTHORIZATION_SERVER_URL}}}}{AUTHORIZE_PATH}")),
        ),
        (
            "accessTokenUrl",
            json!(format!("{{{{AUTHORIZATION_SERVER_URL}}}}{TOKEN_PATH}")),
        ),
        (
            "refreshTokenUrl",
            json!(format!("{{{{AUTHORIZATION_SERVER_URL}}}}{TOKEN_PATH}")),
        ),
        ("clientId", json!("{{CLIENT_ID}}")),
        ("clientSecret", json!("{{CLIENT_SECRET}}")),
        ("scope", json!("{{SCOPES}}")),
        ("challengeAlgorithm", json!(pkce::CodeChallenge::METHOD)),
        ("client_authentication", json!("header")),
        ("redirect_uri", json!(POSTMAN_WEB_REDIRECT)),
        ("useBrowser", json!(true)),
        ("addTokenTo", json!("header")),
        ("tokenName", json!(format!("Pleo {}", config.environment))),
    ];
    // The catalog's paths, with Postman's `:id` for the identifier segment.
    let items: Vec<Value> = CATALOG
        .iter()
        .map(|endpoint| {
            let path = endpoint.with_id(":id");
            json!({
                "name": endpoint.title,
                "request": {
                    "method": METHOD,
                    "header": [{ "key": "Accept", "value": "application/json" }],
                    "url": {
                        "raw": format!("{{{{API_BASE_URL}}}}/{path}"),
                        "host": ["{{API_BASE_URL}}"],
                        "path": path.split('/').collect::<Vec<_>>(),
                    }
                }
            })
        })
        .collect();
    json!({
        "info": {
            "name": format!("Pleo API with OAuth 2.0 + PKCE ({})", config.environment),
            "description": "Authorization Code with PKCE (SHA-256), client credentials sent as a Basic Auth header, \
                as in Pleo's Postman guide. Fill in CLIENT_SECRET in the environment (never commit it), \
                register the Postman redirect URI with Pleo, then use Get New Access Token and switch on Auto-refresh token.",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {
            "type": "oauth2",
            "oauth2": auth.iter().map(|(key, value)| json!({
                "key": key,
                "value": value,
                "type": if value.is_boolean() { "boolean" } else { "string" },
            })).collect::<Vec<_>>(),
        },
        "item": items,
    })
}

/// A Postman environment with the current settings; the secret is left empty to fill in.
pub fn environment(config: &PublicConfig) -> Value {
    let values = [
        (
            "AUTHORIZATION_SERVER_URL",
            config.authorization_server_url.as_str(),
            "default",
        ),
        ("API_BASE_URL", config.api_base_url.as_str(), "default"),
        ("CLIENT_ID", config.client_id.as_str(), "default"),
        ("CLIENT_SECRET", "", "secret"),
        ("SCOPES", &config.scopes.join(" "), "default"),
    ];
    json!({
        "name": format!("Pleo {}", config.environment),
        "values": values.iter().map(|(key, value, kind)| json!({ "key": key, "value": value, "type": kind, "enabled": true })).collect::<Vec<_>>(),
        "_postman_variable_scope": "environment",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PublicConfig {
        PublicConfig {
            environment: contract::Environment::Staging,
            client_id: "id-1".into(),
            authorization_server_url: "https://auth.staging.pleo.io".into(),
            authorize_url: "https://auth.staging.pleo.io/oauth/authorize".into(),
            token_url: "https://auth.staging.pleo.io/oauth/token".into(),
            api_base_url: "https://external.staging.pleo.io".into(),
            scopes: vec!["users:read".into()],
            redirect_uri: "http://localhost:8080/callback".into(),
            token_endpoint_auth_method: contract::oauth::CLIENT_AUTH_METHOD.into(),
            issuer: "https://auth.staging.pleo.io".into(),
            iss_always_sent: false,
        }
    }

    fn auth_value<'a>(collection: &'a Value, key: &str) -> &'a Value {
        &collection["auth"]["oauth2"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .unwrap()["value"]
    }

    #[test]
    fn collection_carries_pkce_sha256_basic_auth_and_the_endpoints() {
        let c = collection(&config());
        assert_eq!(
            c["info"]["schema"],
            "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
        );
        assert_eq!(c["auth"]["type"], "oauth2");
        assert_eq!(auth_value(&c, "grant_type"), "authorization_code_with_pkce");
        assert_eq!(auth_value(&c, "challengeAlgorithm"), "S256");
        assert_eq!(auth_value(&c, "client_authentication"), "header");
        assert_eq!(
            auth_value(&c, "authUrl"),
            "{{AUTHORIZATION_SERVER_URL}}/oauth/authorize"
        );
        assert_eq!(
            auth_value(&c, "accessTokenUrl"),
            "{{AUTHORIZATION_SERVER_URL}}/oauth/token"
        );
        assert_eq!(auth_value(&c, "clientSecret"), "{{CLIENT_SECRET}}");
        assert_eq!(c["item"][0]["request"]["url"]["raw"], "{{API_BASE_URL}}/v2/employees");
    }

    #[test]
    fn environment_has_the_settings_and_an_empty_secret() {
        let e = environment(&config());
        let value = |key: &str| {
            e["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["key"] == key)
                .unwrap()
                .clone()
        };
        assert_eq!(
            value("AUTHORIZATION_SERVER_URL")["value"],
            "https://auth.staging.pleo.io"
        );
        assert_eq!(value("CLIENT_ID")["value"], "id-1");
        assert_eq!(value("CLIENT_SECRET")["value"], "");
        assert_eq!(value("CLIENT_SECRET")["type"], "secret");
        assert_eq!(value("SCOPES")["value"], "users:read");
    }
}
