//! Server-side sessions (the tokens) and sign-in attempts (state + challenge), both in memory,
//! bounded in number and lifetime.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use contract::wire::TokenSummary;
use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;
use crate::transcript::{self, TranscriptEntry};

/// The tokens of one session. Never serialized, never sent to the browser; `Debug` is redacted
/// by [`SecretString`].
#[derive(Debug)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if the server gave one.
    pub refresh_token: Option<SecretString>,
    /// `token_type` (`Bearer` when the server said nothing).
    pub token_type: String,
    /// Granted scopes.
    pub scope: String,
    /// Seconds of life given at issue.
    pub expires_in: u64,
    /// Expiry, seconds since the Unix epoch.
    pub expires_at: u64,
}

impl TokenSet {
    /// What the browser may see: no token, only a hint of the access token.
    pub fn summary(&self) -> TokenSummary {
        TokenSummary {
            token_type: self.token_type.clone(),
            expires_in: self.expires_in,
            expires_at: self.expires_at,
            scope: self.scope.clone(),
            access_token_hint: contract::wire::token_hint(self.access_token.expose_secret()),
            has_refresh_token: self.refresh_token.is_some(),
        }
    }
}

/// One browser's session. The async mutex around the tokens is the single-flight refresh lock:
/// whoever finds the token stale refreshes while holding it, and everyone else waits for the
/// result (Pleo: "only one refresh in flight"; both tokens replaced atomically).
#[derive(Debug, Default)]
pub struct Session {
    /// `None` once the tokens were discarded (terminal refresh failure).
    pub tokens: tokio::sync::Mutex<Option<TokenSet>>,
    /// When it was created (the sign-in), for the absolute lifetime.
    created_at: u64,
    last_seen: AtomicU64,
    transcript: Mutex<Transcript>,
}

/// A session's transcript and the bytes of text it holds (kept as entries come and go, so that
/// recording one is not a walk over all of them).
#[derive(Debug, Default)]
struct Transcript {
    entries: VecDeque<TranscriptEntry>,
    bytes: usize,
}

impl Session {
    /// Appends steps to this session's transcript, dropping the oldest past the bounds (entries
    /// and bytes).
    pub fn record(&self, entries: impl IntoIterator<Item = TranscriptEntry>) {
        let mut transcript = locked(&self.transcript);
        for entry in entries {
            transcript.bytes += transcript::size_of(&entry);
            transcript.entries.push_back(entry);
        }
        while transcript.entries.len() > transcript::MAX_ENTRIES || transcript.bytes > transcript::MAX_BYTES {
            let Some(dropped) = transcript.entries.pop_front() else {
                break;
            };
            transcript.bytes -= transcript::size_of(&dropped);
        }
    }

    /// The transcript, oldest first.
    pub fn transcript(&self) -> Vec<TranscriptEntry> {
        locked(&self.transcript).entries.iter().cloned().collect()
    }
}

/// A sign-in attempt started by `POST /api/authorize/start`.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The state the browser sent.
    pub state: String,
    /// The S256 challenge the browser sent.
    pub code_challenge: String,
    created_at: u64,
}

/// Limits of the in-memory stores.
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
            session_max_secs: crate::config::DEFAULT_SESSION_MAX_SECS,
            max_attempts: 10_000,
            attempt_secs: 600,
        }
    }
}

/// All sessions and attempts, keyed by the random ids in their cookies.
#[derive(Debug, Default)]
pub struct Sessions {
    limits: Limits,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    attempts: Mutex<HashMap<String, Attempt>>,
}

/// A session or attempt id: 256 bits from the operating system's CSPRNG, base64url (the
/// `pkce` crate's state generator, RFC 6749 §10.10).
fn random_id() -> Result<String, AppError> {
    pkce::State::generate().map(|id| id.as_str().to_owned()).map_err(|_| {
        AppError::with_message(
            flow::ErrorCode::Internal,
            "The operating system's random source failed.",
        )
    })
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sessions {
    /// Empty stores with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Stores `tokens` in a new session and returns its id (for the cookie).
    pub fn create(&self, tokens: TokenSet, transcript: Vec<TranscriptEntry>, now: u64) -> Result<String, AppError> {
        let mut sessions = locked(&self.sessions);
        if sessions.len() >= self.limits.max_sessions {
            sessions.retain(|_, s| self.is_live(s, now));
            if sessions.len() >= self.limits.max_sessions {
                return Err(AppError::new(flow::ErrorCode::Overloaded));
            }
        }
        let id = random_id()?;
        let session = Session {
            tokens: tokio::sync::Mutex::new(Some(tokens)),
            created_at: now,
            last_seen: AtomicU64::new(now),
            ..Session::default()
        };
        session.record(transcript);
        sessions.insert(id.clone(), Arc::new(session));
        Ok(id)
    }

    /// Whether `session` is within both its idle and its absolute lifetime at `now`.
    fn is_live(&self, session: &Session, now: u64) -> bool {
        session.last_seen.load(Ordering::Relaxed) + self.limits.session_idle_secs > now
            && session.created_at + self.limits.session_max_secs > now
    }

    /// The live session with this id, marked as used now.
    pub fn get(&self, id: &str, now: u64) -> Option<Arc<Session>> {
        let mut sessions = locked(&self.sessions);
        let session = sessions.get(id)?;
        if !self.is_live(session, now) {
            sessions.remove(id);
            return None;
        }
        session.last_seen.store(now, Ordering::Relaxed);
        Some(Arc::clone(session))
    }

    /// Forgets a session and its tokens.
    pub fn remove(&self, id: &str) {
        locked(&self.sessions).remove(id);
    }

    /// Seconds a sign-in attempt lives (the attempt cookie's Max-Age).
    pub fn attempt_secs(&self) -> u64 {
        self.limits.attempt_secs
    }

    /// Seconds a session lives unused (the session cookie's Max-Age).
    pub fn session_idle_secs(&self) -> u64 {
        self.limits.session_idle_secs
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        locked(&self.sessions).len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a sign-in attempt and returns its id (for the cookie).
    pub fn start_attempt(&self, state: String, code_challenge: String, now: u64) -> Result<String, AppError> {
        let mut attempts = locked(&self.attempts);
        let ttl = self.limits.attempt_secs;
        attempts.retain(|_, a| a.created_at + ttl > now);
        if attempts.len() >= self.limits.max_attempts {
            return Err(AppError::new(flow::ErrorCode::Overloaded));
        }
        let id = random_id()?;
        attempts.insert(
            id.clone(),
            Attempt {
                state,
                code_challenge,
                created_at: now,
            },
        );
        Ok(id)
    }

    /// When the live attempt `id` started, or `None` if there is none.
    pub fn attempt_started_at(&self, id: &str, now: u64) -> Option<u64> {
        let attempts = locked(&self.attempts);
        attempts
            .get(id)
            .filter(|a| a.created_at + self.limits.attempt_secs > now)
            .map(|a| a.created_at)
    }

    /// Takes (single use) the live attempt `id` if its state equals `state` (constant time).
    /// `AttemptMissing` if it is not live, `AttemptMismatch` if the state differs (it then
    /// stays, for the tab it belongs to).
    pub fn take_attempt(&self, id: &str, state: &str, now: u64) -> Result<Attempt, flow::ErrorCode> {
        let mut attempts = locked(&self.attempts);
        let attempt = attempts
            .get(id)
            .filter(|a| a.created_at + self.limits.attempt_secs > now)
            .ok_or(flow::ErrorCode::AttemptMissing)?;
        if !pkce::constant_time_eq(attempt.state.as_bytes(), state.as_bytes()) {
            return Err(flow::ErrorCode::AttemptMismatch);
        }
        Ok(attempts.remove(id).expect("found above"))
    }

    /// Drops idle sessions and stale attempts; run periodically.
    pub fn sweep(&self, now: u64) {
        locked(&self.sessions).retain(|_, s| self.is_live(s, now));
        let ttl = self.limits.attempt_secs;
        locked(&self.attempts).retain(|_, a| a.created_at + ttl > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: SecretString::from("access-token-value"),
            refresh_token: None,
            token_type: "Bearer".into(),
            scope: "users:read".into(),
            expires_in: 900,
            expires_at: 1900,
        }
    }

    #[test]
    fn summary_and_debug_never_contain_the_token() {
        let t = tokens();
        let summary = serde_json::to_string(&t.summary()).unwrap();
        assert!(!summary.contains("access-token-value"));
        assert!(summary.contains("acce… (18 chars)"));
        assert!(!format!("{t:?}").contains("access-token-value"));
    }

    #[test]
    fn sessions_are_bounded_and_expire_when_idle() {
        let limits = Limits {
            max_sessions: 2,
            session_idle_secs: 100,
            ..Limits::default()
        };
        let store = Sessions::new(limits);
        let a = store.create(tokens(), vec![], 1000).unwrap();
        store.create(tokens(), vec![], 1000).unwrap();
        assert_eq!(
            store.create(tokens(), vec![], 1050).unwrap_err().code,
            flow::ErrorCode::Overloaded
        );
        assert!(store.get(&a, 1099).is_some());
        // the other one idled out at 1100, making room
        assert!(store.create(tokens(), vec![], 1150).is_ok());
        assert!(store.get(&a, 1198).is_some());
        assert!(store.get(&a, 1299).is_none());
        assert!(store.get("forged", 1000).is_none());
    }

    #[test]
    fn sweep_drops_idle_sessions_and_stale_attempts() {
        let store = Sessions::new(Limits {
            session_idle_secs: 100,
            attempt_secs: 50,
            ..Limits::default()
        });
        store.create(tokens(), vec![], 1000).unwrap();
        let kept = store.create(tokens(), vec![], 1080).unwrap();
        store.start_attempt("s".into(), "c".into(), 1000).unwrap();
        store.sweep(1100);
        assert_eq!(store.len(), 1);
        assert!(store.get(&kept, 1100).is_some());
        assert!(locked(&store.attempts).is_empty());
    }

    #[test]
    fn attempts_are_single_use_short_lived_and_checked_by_state() {
        use flow::ErrorCode::{AttemptMismatch, AttemptMissing};
        let store = Sessions::new(Limits::default());
        let first = store.start_attempt("s1".into(), "c".into(), 1000).unwrap();
        let second = store.start_attempt("s2".into(), "c".into(), 1000).unwrap();
        assert_eq!(store.take_attempt(&first, "s2", 1001).unwrap_err(), AttemptMismatch);
        assert_eq!(
            store.take_attempt(&first, "s1", 1001).unwrap().state,
            "s1",
            "a mismatch left it in place"
        );
        assert_eq!(
            store.take_attempt(&first, "s1", 1001).unwrap_err(),
            AttemptMissing,
            "single use"
        );
        assert_eq!(
            store.attempt_started_at(&second, 1001),
            Some(1000),
            "the other tab's attempt stayed"
        );
        assert_eq!(store.take_attempt(&second, "s2", 1001).unwrap().state, "s2");
        let late = store.start_attempt("s".into(), "c".into(), 1000).unwrap();
        assert_eq!(store.attempt_started_at(&late, 1600), None);
        assert_eq!(store.take_attempt(&late, "s", 1600).unwrap_err(), AttemptMissing);
    }

    #[test]
    fn a_busy_session_still_ends_at_its_absolute_lifetime() {
        let store = Sessions::new(Limits {
            session_idle_secs: 100,
            session_max_secs: 250,
            ..Limits::default()
        });
        let id = store.create(tokens(), vec![], 1000).unwrap();
        for now in (1050..1250).step_by(50) {
            assert!(store.get(&id, now).is_some(), "used every 50 s, never idle");
        }
        assert!(
            store.get(&id, 1250).is_none(),
            "250 s after sign-in it is over, however busy"
        );
    }
}
