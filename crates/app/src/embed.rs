//! Embedding the walkthrough in a documentation page: one mount element, one script tag.
//!
//! ```html
//! <div id="pleo-oauth-walkthrough" data-steps="1,2,3" data-compact="true" data-start-step="2"></div>
//! <script type="module" src="/embed.js"></script>
//! ```
//! The page must be served from the companion's origin (or proxy `/api/` to it): the session
//! cookie is `SameSite=Strict` and the API is same-origin only.

use leptos::prelude::*;

use crate::views::WalkthroughPage;

/// The id of the element the walkthrough mounts into on a documentation page.
pub const MOUNT_ID: &str = "pleo-oauth-walkthrough";

/// Options read from the mount element's data attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Which steps to show (1 to 6), in order.
    pub steps: Vec<u8>,
    /// Collapse each step's explanation.
    pub compact: bool,
    /// The step to scroll to on load.
    pub start_step: u8,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            steps: (1..=6).collect(),
            compact: false,
            start_step: 1,
        }
    }
}

impl EmbedOptions {
    /// From `data-steps` ("1,2,3" or "2-4"), `data-compact` ("true"/"false"), `data-start-step`.
    /// Values that do not parse fall back to the defaults.
    pub fn parse(steps: Option<&str>, compact: Option<&str>, start_step: Option<&str>) -> Self {
        let defaults = Self::default();
        // Indexed by step number: in order and without repeats, with no sorting code in the wasm.
        let mut wanted = [false; 7];
        for part in steps
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let range = match part.split_once('-') {
                Some((a, b)) => a.trim().parse::<u8>().ok().zip(b.trim().parse::<u8>().ok()),
                None => part.parse::<u8>().ok().map(|n| (n, n)),
            };
            if let Some((from, to)) = range {
                for n in from.max(1)..=to.min(6) {
                    wanted[usize::from(n)] = true;
                }
            }
        }
        let chosen: Vec<u8> = (1..=6).filter(|&n| wanted[usize::from(n)]).collect();
        Self {
            steps: if chosen.is_empty() { defaults.steps } else { chosen },
            compact: matches!(compact.map(str::trim), Some("" | "true" | "1" | "yes")),
            start_step: start_step
                .and_then(|s| s.trim().parse().ok())
                .filter(|n| (1..=6).contains(n))
                .unwrap_or(1),
        }
    }

    /// From the mount element's data attributes.
    pub fn from_element(element: &web_sys::HtmlElement) -> Self {
        let data = element.dataset();
        Self::parse(
            data.get("steps").as_deref(),
            data.get("compact").as_deref(),
            data.get("startStep").as_deref(),
        )
    }
}

/// Mounts the walkthrough into `#pleo-oauth-walkthrough` if the page has one; returns whether it did.
pub fn mount_embedded() -> bool {
    use wasm_bindgen::JsCast;
    let Some(element) = document()
        .get_element_by_id(MOUNT_ID)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    let options = EmbedOptions::from_element(&element);
    leptos::mount::mount_to(
        element,
        move || view! { <div class="pleo-walkthrough embedded"><WalkthroughPage options=options/></div> },
    )
    .forget();
    true
}
