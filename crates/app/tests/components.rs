//! Component tests in headless Chromium: mount, act, assert.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]
#![cfg(target_arch = "wasm32")]

use contract::wire::PublicConfig;
use leptos::prelude::*;
use walkthrough_app::options::EmbedOptions;
use walkthrough_app::pending::{self, PendingAuthorization};
use walkthrough_app::views::CallbackPage;
use walkthrough_app::views::api_explorer::pagination_summary;
use walkthrough_app::views::authorize::AuthorizePanel;
use walkthrough_app::views::register::StepRegister;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn config() -> PublicConfig {
    PublicConfig {
        environment: contract::Environment::Local,
        client_id: "6f1f5c4e-3c55-4a0e-9d4b-1f0d5b7a2c01".into(),
        authorization_server_url: "http://127.0.0.1:3000/stand-in".into(),
        authorize_url: "http://127.0.0.1:3000/stand-in/oauth/authorize".into(),
        token_url: "http://127.0.0.1:3000/stand-in/oauth/token".into(),
        api_base_url: "http://127.0.0.1:3000/stand-in".into(),
        scopes: vec!["users:read".into(), "test:test".into()],
        redirect_uri: "http://localhost:8080/callback".into(),
        token_endpoint_auth_method: "client_secret_basic".into(),
        issuer: "http://127.0.0.1:3000/stand-in".into(),
        iss_always_sent: true,
    }
}

/// A fresh container in the test page.
fn container() -> web_sys::HtmlElement {
    let div = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn text_of(root: &web_sys::HtmlElement, css: &str) -> String {
    root.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("no {css}"))
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn step_1_shows_the_registration_values_and_links_the_companions_postman_export() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), || view! { <StepRegister config=config() compact=false/> });
    leptos::task::tick().await;
    assert_eq!(
        text_of(&root, "[data-testid=client-id]"),
        "6f1f5c4e-3c55-4a0e-9d4b-1f0d5b7a2c01"
    );
    assert_eq!(text_of(&root, "[data-testid=auth-method]"), "client_secret_basic");
    let registration = text_of(&root, "table.registration");
    assert!(registration.contains("https://oauth.pstmn.io/v1/browser-callback"));
    assert!(registration.contains("Supported"));
    assert!(text_of(&root, "#step-1").contains("Why it matters"));
    let link = |id: &str| root.query_selector(id).unwrap().unwrap();
    assert_eq!(
        link("#postman-collection").get_attribute("href").unwrap(),
        "/api/postman/collection"
    );
    assert_eq!(
        link("#postman-collection").get_attribute("download").unwrap(),
        "pleo-local.postman_collection.json"
    );
    assert_eq!(
        link("#postman-environment").get_attribute("href").unwrap(),
        "/api/postman/environment"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn authorize_panel_generates_an_s256_pair_and_a_full_authorize_url() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), || view! { <AuthorizePanel config=config()/> });
    leptos::task::tick().await;
    root.query_selector("#generate")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    leptos::task::tick().await;
    let verifier = text_of(&root, "[data-testid=verifier]");
    let challenge = text_of(&root, "[data-testid=challenge]");
    let v = pkce::CodeVerifier::parse(&verifier).unwrap();
    assert_eq!(pkce::CodeChallenge::s256(&v).as_str(), challenge);
    let url = text_of(&root, "[data-testid=authorize-request-url]");
    assert!(url.starts_with("http://127.0.0.1:3000/stand-in/oauth/authorize?response_type=code&client_id="));
    assert!(url.contains("&code_challenge_method=S256"));
    assert!(url.contains(&format!("state={}", text_of(&root, "[data-testid=state]"))));
    drop(handle);
}

#[wasm_bindgen_test]
async fn callback_without_state_is_refused_and_uses_up_the_pending_authorization() {
    pending::store(&PendingAuthorization {
        state: "s".repeat(43),
        code_verifier: "v".repeat(43),
        return_to: "/#step-3".into(),
        issuer: None,
        iss_always_sent: false,
    })
    .unwrap();
    let root = container();
    // The test page's address has no callback parameters at all.
    let handle = leptos::mount::mount_to(root.clone(), || view! { <CallbackPage/> });
    // The checks run in the page's action: a few turns of the event loop.
    let mut error = None;
    for _ in 0..50 {
        leptos::task::tick().await;
        error = root.query_selector("[data-error-code]").unwrap();
        if error.is_some() {
            break;
        }
    }
    let error = error.expect("an error is shown");
    assert_eq!(error.get_attribute("data-error-code").as_deref(), Some("state_missing"));
    assert!(
        pending::take().is_none(),
        "the verifier and state are single use: the callback removed them, refused or not"
    );
    drop(handle);
}

#[wasm_bindgen_test]
fn embed_options_come_from_data_attributes_with_safe_defaults() {
    assert_eq!(EmbedOptions::parse(None, None, None), EmbedOptions::default());
    let o = EmbedOptions::parse(Some("1-3, 5"), Some("true"), Some("2"));
    assert_eq!(o.steps, vec![1, 2, 3, 5]);
    assert!(o.compact);
    assert_eq!(o.start_step, 2);
    let junk = EmbedOptions::parse(Some("nine,x"), Some("no"), Some("12"));
    assert_eq!(junk.steps, (1..=6).collect::<Vec<_>>());
    assert!(!junk.compact);
    assert_eq!(junk.start_step, 1);
}

#[wasm_bindgen_test]
fn pagination_is_summarised_from_pleos_shape() {
    let body = r#"{"data":[{},{}],"pagination":{"total":24,"hasNextPage":true,"hasPreviousPage":false}}"#;
    assert_eq!(
        pagination_summary(body).unwrap(),
        "2 item(s) here, 24 in all; next page: true, previous page: false"
    );
    assert_eq!(pagination_summary(r#"{"data":{}}"#), None);
}

#[wasm_bindgen_test]
fn only_same_origin_paths_are_returned_to() {
    assert!(pending::is_local_path("/#step-6"));
    assert!(pending::is_local_path("/docs-example.html#step-3"));
    assert!(!pending::is_local_path("//evil.example/"));
    assert!(!pending::is_local_path("https://evil.example/"));
    assert!(!pending::is_local_path("/\\evil.example"));
}
