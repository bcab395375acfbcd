//! The walkthrough app: Pleo's OAuth 2.0 + PKCE flow, step by step, in the browser.
//!
//! Browser glue only: storage ([`pending`]), navigation and fetch ([`api`]); the protocol is in
//! the `flow` and `pkce` crates. The browser never holds the client secret or a token.

pub mod api;
pub mod embed;
pub mod pending;
pub mod views;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The whole app: the walkthrough at `/`, the redirect target at `/callback`.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="top">
                <h1>"Pleo OAuth 2.0 + PKCE walkthrough"</h1>
                <p class="lede">"Pleo's OAuth 2.0 workflow, live: Authorization Code with PKCE, the client secret and the tokens kept by a companion server."</p>
            </header>
            <main>
                <Routes fallback=|| view! { <p>"There is no such page. " <a href="/">"Back to the walkthrough"</a></p> }>
                    <Route path=path!("/") view=|| view! { <views::WalkthroughPage/> }/>
                    <Route path=path!("/callback") view=views::CallbackPage/>
                </Routes>
            </main>
        </Router>
    }
}
