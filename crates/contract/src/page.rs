//! What the page's own scripts say to each other and keep: the messages between the frame, its
//! loader and its pop-up, and the tab's storage key of a sign-in in progress. The app's Rust
//! and the scripts in `www/` read them from here ([`crate::javascript`]).

use crate::prelude::*;

/// `sessionStorage` key of the sign-in this tab started and has not finished: the state, the
/// verifier, where to return to. Read back by the callback page to tell the app's own sign-in
/// from a frame's pop-up.
pub const PENDING_AUTHORIZATION_KEY: &str = "pleo-walkthrough.pending-authorization";
/// `sessionStorage` key of the documentation page a reader came from when the frame could not
/// sign in there and opened the full page in a new tab (its `back` query): the way back, offered
/// at the end of the walkthrough.
pub const BACK_TO_DOCUMENTATION_KEY: &str = "pleo-walkthrough.back-to-documentation";
/// The id of the link that opens the walkthrough's full page in a new tab, where the frame
/// cannot sign in (`frame.js` names the documentation page in it as it is followed).
pub const NEW_TAB_LINK_ID: &str = "open-in-new-tab";
/// The frame's query parameter naming the documentation page it is on (its loader sets it).
pub const DOCUMENTATION_PAGE_PARAMETER: &str = "page";
/// The full page's query parameter naming the documentation page to return to.
pub const BACK_PARAMETER: &str = "back";
/// The frame's message to its loader on the documentation page: its content's height.
pub const MESSAGE_HEIGHT: &str = "pleo-walkthrough:height";
/// The pop-up's message to the frame that opened it: the callback's query.
pub const MESSAGE_CALLBACK: &str = "pleo-walkthrough:callback";
/// The frame's answer to [`MESSAGE_CALLBACK`]: received, the pop-up may close.
pub const MESSAGE_CALLBACK_RECEIVED: &str = "pleo-walkthrough:callback-received";
/// What the frame's sign-in rejects with when a newer sign-in started meanwhile: not an error to
/// show (the newer one's result is), so not one of the stable error codes.
pub const SIGN_IN_SUPERSEDED: &str = "superseded";

/// The documentation page the full page may offer a way back to: `back`, when it is a page of
/// one of the sites allowed to frame the walkthrough (`embed_origins`, exact origins), so that
/// a link to the walkthrough never turns it into a signpost to any other site.
pub fn way_back<'a>(back: &'a str, embed_origins: &[String]) -> Option<&'a str> {
    let allowed = embed_origins.iter().any(|origin| {
        back.strip_prefix(origin.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    });
    (allowed && !back.chars().any(char::is_control)).then_some(back)
}

#[cfg(test)]
mod tests {
    use super::way_back;
    use alloc::borrow::ToOwned as _;

    #[test]
    fn the_way_back_leads_only_to_a_page_of_an_embedding_site() {
        let origins = [
            "https://docs.example.com".to_owned(),
            "http://127.0.0.1:4000".to_owned(),
        ];
        assert_eq!(
            way_back("https://docs.example.com/guides/oauth", &origins),
            Some("https://docs.example.com/guides/oauth")
        );
        assert_eq!(
            way_back("http://127.0.0.1:4000/", &origins),
            Some("http://127.0.0.1:4000/")
        );
        for refused in [
            "https://docs.example.com.evil.net/",
            "https://docs.example.com@evil.net/",
            "https://docs.example.com",
            "https://evil.net/https://docs.example.com/",
            "javascript:alert(1)//https://docs.example.com/",
            "https://docs.example.com/\n",
            "",
        ] {
            assert_eq!(way_back(refused, &origins), None, "{refused}");
        }
        assert_eq!(way_back("https://docs.example.com/a", &[]), None);
    }
}
