//! Interoperability: an independent client, the `oauth2` crate, runs the whole
//! authorization-code + PKCE + refresh flow against the stand-in over real sockets, so the
//! stand-in is proven to speak standard OAuth 2.0, not only our own dialect.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse, TokenUrl,
};
use secrecy::SecretString;
use stand_in::{Registration, Settings, StandIn, router};

const REDIRECT: &str = "http://localhost:8080/callback";

#[tokio::test]
async fn the_oauth2_crate_completes_code_pkce_and_refresh_against_the_stand_in() {
    let secret = "interop:secret&with=reserved chars";
    let registration = Registration {
        client_id: "interop-client".into(),
        client_secret: SecretString::from(secret),
        redirect_uris: vec![REDIRECT.into()],
        scopes: vec!["users:read".into()],
        client_name: "oauth2-rs".into(),
    };
    let si = StandIn::new(
        registration,
        Settings {
            auto_approve: true,
            ..Settings::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, router(si.clone())).into_future());

    let client = BasicClient::new(ClientId::new("interop-client".into()))
        .set_client_secret(ClientSecret::new(secret.into()))
        .set_auth_uri(AuthUrl::new(format!("{base}/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = http.get(url.as_str()).send().await.unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let params: Vec<(String, String)> = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(&get("state"), csrf.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(get("code")))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let access = tokens.access_token().secret().clone();
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 900);
    let employees = http
        .get(format!("{base}/v2/employees"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(employees.status(), 200);

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(refreshed.access_token().secret(), &access);
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
    let old = http
        .get(format!("{base}/v2/employees"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401, "rotation invalidated the first access token");
    let new = http
        .get(format!("{base}/v2/employees"))
        .bearer_auth(refreshed.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
    assert_eq!(si.token_requests("refresh_token"), 1);
}
