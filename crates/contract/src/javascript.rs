//! The facts the scripts in `www/` share with the Rust side, by the name each script declares
//! them under (`const NAME = value;`). A script may write a fact's value only in that one
//! declaration; `tests/javascript.rs` reads every script and fails on any difference, so a fact
//! is typed once in Rust and checked everywhere else.

use crate::prelude::*;
use crate::routes::Route;
use crate::{ErrorCode, page, wire};

/// A fact's value as a script writes it: a string or a whole number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string literal.
    Text(String),
    /// An integer literal.
    Number(u64),
}

/// Every fact a script in `www/` may declare: (its constant's name, its value).
pub fn facts() -> Vec<(&'static str, Value)> {
    let text = |value: &str| Value::Text(value.to_owned());
    alloc::vec![
        ("CSRF_HEADER", text(wire::CSRF_HEADER)),
        ("CSRF_HEADER_VALUE", text(wire::CSRF_HEADER_VALUE)),
        ("EMBED_HEADER", text(wire::EMBED_HEADER)),
        ("EMBED_HEADER_VALUE", text(wire::EMBED_HEADER_VALUE)),
        ("ATTEMPT_SECS", Value::Number(wire::ATTEMPT_SECS)),
        ("HANDOFF_PATH", Value::Text(Route::Handoff.path(&[]))),
        ("HANDOFF_TAKE_PATH", Value::Text(Route::HandoffTake.path(&[]))),
        ("COOKIE_CHECK_PATH", Value::Text(Route::CookieCheck.path(&[]))),
        ("PAGE_PARAMETER", text(page::DOCUMENTATION_PAGE_PARAMETER)),
        ("BACK_PARAMETER", text(page::BACK_PARAMETER)),
        ("BACK_TO_DOCUMENTATION_KEY", text(page::BACK_TO_DOCUMENTATION_KEY)),
        ("NEW_TAB_LINK_ID", text(page::NEW_TAB_LINK_ID)),
        ("WAY_BACK_PATH", Value::Text(Route::WayBack.path(&[]))),
        ("WAY_BACK_TARGET_PARAMETER", text(wire::WAY_BACK_TARGET_PARAMETER)),
        ("CALLBACK_PATH", text(crate::routes::CALLBACK_PATH)),
        ("EMBED_PATH", text(crate::routes::EMBED_PATH)),
        ("PENDING", text(page::PENDING_AUTHORIZATION_KEY)),
        ("HEIGHT", text(page::MESSAGE_HEIGHT)),
        ("CALLBACK", text(page::MESSAGE_CALLBACK)),
        ("RECEIVED", text(page::MESSAGE_CALLBACK_RECEIVED)),
        ("FRAME_REFUSED", text(ErrorCode::FrameRefused.as_str())),
        ("POPUP_BLOCKED", text(ErrorCode::PopupBlocked.as_str())),
        ("POPUP_CLOSED", text(ErrorCode::PopupClosed.as_str())),
        ("FRAME_COOKIES_REFUSED", text(ErrorCode::FrameCookiesRefused.as_str())),
        ("HANDOFF_CONFLICT", text(ErrorCode::HandoffConflict.as_str())),
        ("HANDOFF_PENDING", text(ErrorCode::HandoffPending.as_str())),
        (
            "SESSION_STORE_UNAVAILABLE",
            text(ErrorCode::SessionStoreUnavailable.as_str())
        ),
        ("COMPANION_UNREACHABLE", text(ErrorCode::CompanionUnreachable.as_str())),
        ("SUPERSEDED", text(page::SIGN_IN_SUPERSEDED)),
        ("FRAME_REFUSED_MESSAGE", text(ErrorCode::FrameRefused.message())),
    ]
}
