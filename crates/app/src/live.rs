//! The live values every step reads, as signals in the context: the companion's public
//! configuration, this browser's session, and the companion's transcript, each loaded by a task
//! of its own (signals rather than resources: a step writes the session it just got, so the
//! page need not ask again). Steps reload the session and the transcript after anything that
//! changes them.

use contract::wire::{PublicConfig, SessionInfo, TranscriptEntry};
use leptos::prelude::*;

use crate::api::{self, ClientError};
use crate::pending::{self, CallbackReport};

/// The `performance.mark` set once the configuration has arrived (for bench/: navigation to a
/// usable walkthrough).
pub const INTERACTIVE_MARK: &str = "walkthrough-interactive";

/// The live values of the page, shared through the context.
#[derive(Clone, Copy)]
pub struct Live {
    /// `GET /api/config`.
    pub config: RwSignal<Option<Result<PublicConfig, ClientError>>>,
    /// `GET /api/session`.
    pub session: RwSignal<Option<Result<SessionInfo, ClientError>>>,
    /// `GET /api/transcript` (empty when signed out).
    pub transcript: RwSignal<Option<Vec<TranscriptEntry>>>,
    /// The last handled callback (from this tab's sessionStorage).
    pub report: RwSignal<Option<CallbackReport>>,
}

impl Live {
    /// The values, loading.
    pub fn new() -> Self {
        let live = Self {
            config: RwSignal::new(None),
            session: RwSignal::new(None),
            transcript: RwSignal::new(None),
            report: RwSignal::new(pending::report()),
        };
        leptos::task::spawn_local(async move {
            live.config.set(Some(api::config().await));
            if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
                let _ = performance.mark(INTERACTIVE_MARK);
            }
        });
        live.reload_session();
        live
    }

    /// Loads the session and the transcript again (after anything the companion did).
    pub fn reload_session(self) {
        leptos::task::spawn_local(async move {
            self.session.set(Some(api::session().await));
            self.transcript.set(Some(api::transcript().await.unwrap_or_default()));
        });
    }

    /// Signed in with `tokens` (the exchange's answer: no need to ask again); the transcript
    /// loads again.
    pub fn signed_in_with(self, tokens: contract::wire::TokenSummary) {
        let environment = self
            .loaded_config()
            .map_or(contract::Environment::Local, |c| c.environment);
        self.session.set(Some(Ok(SessionInfo {
            signed_in: true,
            environment,
            tokens: Some(tokens),
        })));
        leptos::task::spawn_local(async move {
            self.transcript.set(Some(api::transcript().await.unwrap_or_default()));
        });
    }

    /// Whether the companion holds tokens for this browser.
    pub fn signed_in(self) -> bool {
        matches!(self.session.get(), Some(Ok(s)) if s.signed_in)
    }

    /// Whether the session's grant holds `scope` (an endpoint without one: always). Unknown
    /// while signed out.
    pub fn granted(self, scope: Option<&str>) -> Option<bool> {
        match self.session.get() {
            Some(Ok(s)) => s
                .tokens
                .map(|t| scope.is_none_or(|needed| t.scope.split(' ').any(|s| s == needed))),
            _ => None,
        }
    }

    /// Whether the embedded stand-in (and so the fault knobs) is in use.
    pub fn is_local(self) -> bool {
        matches!(self.config.get(), Some(Ok(c)) if c.environment == contract::Environment::Local)
    }

    /// The configuration, once loaded.
    pub fn loaded_config(self) -> Option<PublicConfig> {
        self.config.get_untracked().and_then(Result::ok)
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}
