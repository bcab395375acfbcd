//! What the page's own scripts say to each other and keep: the messages between the frame, its
//! loader and its pop-up, and the tab's storage key of a sign-in in progress. The app's Rust
//! and the scripts in `www/` read them from here ([`crate::javascript`]).

/// `sessionStorage` key of the sign-in this tab started and has not finished: the state, the
/// verifier, where to return to. Read back by the callback page to tell the app's own sign-in
/// from a frame's pop-up.
pub const PENDING_AUTHORIZATION_KEY: &str = "pleo-walkthrough.pending-authorization";
/// The frame's message to its loader on the documentation page: its content's height.
pub const MESSAGE_HEIGHT: &str = "pleo-walkthrough:height";
/// The pop-up's message to the frame that opened it: the callback's query.
pub const MESSAGE_CALLBACK: &str = "pleo-walkthrough:callback";
/// The frame's answer to [`MESSAGE_CALLBACK`]: received, the pop-up may close.
pub const MESSAGE_CALLBACK_RECEIVED: &str = "pleo-walkthrough:callback-received";
