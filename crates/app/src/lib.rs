//! The walkthrough app: Pleo's OAuth 2.0 + PKCE flow, step by step, in the browser.
//!
//! Browser glue only: storage ([`pending`]), navigation and fetch ([`api`]); the protocol is in
//! the `flow` and `pkce` crates. The browser never holds the client secret or a token.

pub mod api;
pub mod authorization;
pub mod browser_log;
pub mod callback;
pub mod embed;
pub mod live;
pub mod options;
pub mod pending;
pub mod popup;
pub mod views;

use leptos::prelude::*;

/// The whole app: the walkthrough at `/`, the redirect target at `/callback`. Two pages, each
/// entered by a full page load (the authorisation server redirects to one, the callback
/// replaces itself with the other), so the path is read once; a client-side router would cost
/// about 15 KB of gzipped wasm for nothing. (The frame a documentation site embeds, `/embed`,
/// mounts the walkthrough as a documentation page does: [`embed`].)
#[component]
pub fn App() -> impl IntoView {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    let page = match path.as_str() {
        "/" | "/index.html" => view! { <views::WalkthroughPage/> }.into_any(),
        p if p == contract::routes::CALLBACK_PATH => view! { <views::CallbackPage/> }.into_any(),
        _ => view! { <p>"There is no such page. " <a href="/">"Back to the walkthrough"</a></p> }.into_any(),
    };
    view! {
        <header class="top">
            <h1>"Pleo OAuth 2.0 + PKCE walkthrough"</h1>
            <p class="lede">"Pleo's OAuth 2.0 workflow, live: Authorization Code with PKCE, the client secret and the tokens kept by a companion server."</p>
        </header>
        <main>{page}</main>
    }
}
