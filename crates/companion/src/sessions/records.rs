//! What the session stores keep, in either store: the session record (the tokens and their
//! version) and its stored form, the sign-in attempt, the limits, the hand-off slot's states and
//! what waiting for a refresh lease came to. The stores and [`super::Sessions`] build on these.

use std::sync::{Mutex, MutexGuard};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::oauth::tokens::TokenSet;

/// A session's tokens as one record: every change writes a new version, and a write is
/// conditional on the version it replaces, so that an older result never overwrites a newer
/// one (one refresh across replicas, `crate::proxy::refresh`). Everything the companion decides on is
/// in here, and in Redis all of it is sealed: a Redis writer can delete a record or put back an
/// older one, but not stretch its lifetime (docs/architecture.md, "What a Redis writer can do").
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// `None` once the tokens were discarded (terminal refresh failure).
    pub tokens: Option<TokenSet>,
    /// Counts the writes, from 1 at sign-in.
    pub version: u64,
    /// Set, under the refresh lease, just before the refresh token is presented, and cleared
    /// with the result. Found set by the next lease holder, it means the holder before it died
    /// mid-presentation: the refresh token may have been rotated and must not be presented again.
    pub refresh_in_flight: bool,
    /// When the session was signed in, seconds since the epoch: its absolute lifetime counts
    /// from here ([`Limits::session_max_secs`]).
    pub created_at: u64,
}

/// The record's form inside a store (sealed in Redis).
#[derive(Serialize, Deserialize)]
pub(super) struct StoredRecord {
    tokens: Option<StoredTokens>,
    pub(super) version: u64,
    refresh_in_flight: bool,
    /// `None` in a record sealed before `created` moved inside the seal: then the clear field
    /// beside it counts once, and the record is sealed again with it inside.
    #[serde(default)]
    pub(super) created: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    refresh_token: Option<String>,
    token_type: String,
    scope: String,
    expires_in: u64,
    expires_at: u64,
}

impl From<&SessionRecord> for StoredRecord {
    fn from(record: &SessionRecord) -> Self {
        Self {
            tokens: record.tokens.as_ref().map(|t| StoredTokens {
                access_token: t.access_token.expose_secret().to_owned(),
                refresh_token: t.refresh_token.as_ref().map(|r| r.expose_secret().to_owned()),
                token_type: t.token_type.clone(),
                scope: t.scope.clone(),
                expires_in: t.expires_in,
                expires_at: t.expires_at,
            }),
            version: record.version,
            refresh_in_flight: record.refresh_in_flight,
            created: Some(record.created_at),
        }
    }
}

impl StoredRecord {
    /// The session record, with `created_at` as sealed (or `legacy_created` for a record sealed
    /// before it was inside).
    pub(super) fn into_record(self, legacy_created: Option<u64>) -> Option<SessionRecord> {
        let created_at = self.created.or(legacy_created)?;
        let stored = self;
        Some(SessionRecord {
            tokens: stored.tokens.map(|t| TokenSet {
                access_token: SecretString::from(t.access_token),
                refresh_token: t.refresh_token.map(SecretString::from),
                token_type: t.token_type,
                scope: t.scope,
                expires_in: t.expires_in,
                expires_at: t.expires_at,
            }),
            version: stored.version,
            refresh_in_flight: stored.refresh_in_flight,
            created_at,
        })
    }
}

/// A sign-in attempt started by `POST /api/authorize/start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// The state the browser sent.
    pub state: String,
    /// The S256 challenge the browser sent.
    pub code_challenge: String,
    /// When it started, seconds since the epoch.
    pub created_at: u64,
}

/// A session's absolute lifetime unless configured: 7 days, well inside Pleo's refresh token
/// lifetime (at least 60 days).
pub const DEFAULT_SESSION_MAX_SECS: u64 = 7 * 24 * 3600;

/// Limits of the stores; with Redis they hold across replicas (Redis expiry and counts kept in
/// Redis, not a sweeper per process).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most sessions held at once.
    pub max_sessions: usize,
    /// Seconds a session lives without being used.
    pub session_idle_secs: u64,
    /// Seconds a session lives at most from sign-in, however busy (RFC 10017 asks for an
    /// absolute lifetime, tied to the refresh token's).
    pub session_max_secs: u64,
    /// The most sign-in attempts held at once.
    pub max_attempts: usize,
    /// Seconds a sign-in attempt lives.
    pub attempt_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sessions: 10_000,
            session_idle_secs: 8 * 3600,
            session_max_secs: DEFAULT_SESSION_MAX_SECS,
            max_attempts: 10_000,
            attempt_secs: contract::wire::ATTEMPT_SECS,
        }
    }
}

impl Limits {
    /// Seconds the session created at `created_at` and last used at `now` has left: the
    /// shorter of its idle and its absolute lifetime; 0 when it is over.
    pub(super) fn session_ttl(&self, created_at: u64, now: u64) -> u64 {
        let absolute_end = created_at.saturating_add(self.session_max_secs);
        self.session_idle_secs.min(absolute_end.saturating_sub(now))
    }
}

/// Whether a sign-in attempt comes from the frame, whose pop-up may hand its callback back
/// through the companion: then a hand-off slot is armed with the attempt, in the same atomic
/// step, after the attempt limit's check (a refused start writes nothing), and it goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// The app's own page: its callback comes back to it.
    None,
    /// The frame: arm a slot for the pop-up's callback, keyed by the attempt's state (all the
    /// pop-up knows) and owned by the attempt's id (which only the frame's cookie carries).
    Armed,
}

/// What a hand-off slot came to, as a store reports it (the [`Sessions`] methods turn it into
/// a callback or a stable error code).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// No slot (never armed, taken by the attempt's exchange, or expired).
    Missing,
    /// Armed, no callback yet.
    Pending,
    /// Holds the one callback delivered.
    Delivered(String),
    /// Two callbacks came (RFC 9700 §4.7 login CSRF: the authorize URL was used twice), or the
    /// callback was already taken: neither is used again.
    Conflict,
}

/// What waiting for a session's refresh lease came to (`L`: the lease, [`super::Lease`] or a
/// store's own).
#[derive(Debug)]
pub enum LeaseOutcome<L> {
    /// This request holds the lease.
    Acquired(L),
    /// Meanwhile another replica wrote a newer record (and is done with it): no need to refresh.
    Changed(SessionRecord),
}

/// A session or attempt id: 256 bits from the operating system's CSPRNG, base64url (the
/// `pkce` crate's state generator, RFC 6749 §10.10).
pub(super) fn random_id() -> Result<String, AppError> {
    pkce::State::generate().map(|id| id.as_str().to_owned()).map_err(|_| {
        AppError::with_message(
            flow::ErrorCode::Internal,
            "The operating system's random source failed.",
        )
    })
}

pub(super) fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
