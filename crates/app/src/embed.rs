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
