//! Embedding the walkthrough in a documentation page: one mount element, one script tag.
//!
//! ```html
//! <div id="pleo-oauth-walkthrough" data-steps="1,2,3" data-compact="true" data-start-step="2"></div>
//! <script type="module" src="/embed.js"></script>
//! ```
//! The page must be served from the companion's origin (or proxy `/api/` to it): the session
//! cookie is `SameSite=Strict` and the API is same-origin only. The frame that documentation
//! on another site embeds (`/embed`, `www/embed.html`) is such a page: its `frame.js` makes the
//! mount element from the frame's query, with `data-frame`, which puts the walkthrough in frame
//! mode (its own partitioned cookies, sign-in in a pop-up: [`crate::popup`]).

use contract::page::{BACK_PARAMETER, BACK_TO_DOCUMENTATION_KEY, DOCUMENTATION_PAGE_PARAMETER, way_back};
use leptos::prelude::*;

use crate::options::EmbedOptions;
use crate::views::WalkthroughPage;

/// The id of the element the walkthrough mounts into on a documentation page.
pub const MOUNT_ID: &str = "pleo-oauth-walkthrough";

/// Mounts the walkthrough into `#pleo-oauth-walkthrough` if the page has one; returns whether it did.
pub fn mount_embedded() -> bool {
    use wasm_bindgen::JsCast;
    let Some(element) = document()
        .get_element_by_id(MOUNT_ID)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    if element.has_attribute("data-frame") {
        crate::api::set_in_frame();
    }
    let options = EmbedOptions::from_element(&element);
    leptos::mount::mount_to(
        element,
        move || view! { <div class="pleo-walkthrough embedded"><WalkthroughPage options=options/></div> },
    )
    .forget();
    true
}

/// The query parameter `name` of this page's address, as it is encoded there.
fn raw_query_parameter(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
}

/// The walkthrough's own page at step 2, for a new tab where the frame cannot sign in (its
/// pop-up blocked, its cookies refused): with `back`, the documentation page the frame is on (its
/// loader's `page`, passed on as it is encoded), for a way back at the end.
pub fn full_page_href() -> String {
    let back = raw_query_parameter(DOCUMENTATION_PAGE_PARAMETER).map(|page| format!("?{BACK_PARAMETER}={page}"));
    format!("/{}#step-2", back.unwrap_or_default())
}

/// The way back to the documentation page a reader came from ([`full_page_href`]), kept for
/// this tab across the sign-in's redirects; only to a site allowed to frame the walkthrough.
#[component]
pub fn BackToDocumentation(
    /// The sites allowed to frame the walkthrough.
    embed_origins: Vec<String>,
) -> impl IntoView {
    let storage = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
    let back = raw_query_parameter(BACK_PARAMETER)
        .and_then(|raw| js_sys::decode_uri_component(&raw).ok())
        .map(String::from);
    if let (Some(storage), Some(back)) = (&storage, &back) {
        let _ = storage.set_item(BACK_TO_DOCUMENTATION_KEY, back);
    }
    let back = back.or_else(|| storage?.get_item(BACK_TO_DOCUMENTATION_KEY).ok().flatten());
    back.filter(|b| way_back(b, &embed_origins).is_some()).map(|href| {
        view! { <p class="card back-to-documentation"><a id="back-to-documentation" href=href>"Back to the documentation page"</a></p> }
    })
}
