//! The walkthrough app: Pleo's OAuth 2.0 + PKCE flow, step by step, in the browser.
//!
//! Browser glue only: storage ([`pending`]), navigation and fetch ([`api`]); the protocol is in
//! the `flow` and `pkce` crates. The browser never holds the client secret or a token.

pub mod api;
pub mod authorization;
pub mod embed;
pub mod live;
pub mod options;
pub mod pending;
pub mod popup;
pub mod views;

use leptos::prelude::*;

/// The whole app: the walkthrough at `/`, the redirect target at `/callback`, and the
/// walkthrough framed by a documentation site at `/embed`. Pages entered by a full page load
/// each (the authorisation server redirects to one, the callback replaces itself with the
/// other), so the path is read once; a client-side router would cost about 15 KB of gzipped
/// wasm for nothing.
#[component]
pub fn App() -> impl IntoView {
    let location = web_sys::window().map(|w| w.location());
    let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_default();
    if path == "/embed" {
        api::set_in_frame();
        let query = location.and_then(|l| l.search().ok()).unwrap_or_default();
        let options = options::EmbedOptions::from_query(&query);
        return view! { <main class="pleo-walkthrough framed"><views::WalkthroughPage options=options/></main> }
            .into_any();
    }
    let page = match path.as_str() {
        "/" | "/index.html" => view! { <views::WalkthroughPage/> }.into_any(),
        "/callback" => view! { <views::CallbackPage/> }.into_any(),
        _ => view! { <p>"There is no such page. " <a href="/">"Back to the walkthrough"</a></p> }.into_any(),
    };
    view! {
        <header class="top">
            <h1>"Pleo OAuth 2.0 + PKCE walkthrough"</h1>
            <p class="lede">"Pleo's OAuth 2.0 workflow, live: Authorization Code with PKCE, the client secret and the tokens kept by a companion server."</p>
        </header>
        <main>{page}</main>
    }
    .into_any()
}
