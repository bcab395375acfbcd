//! Server-side sessions (the tokens and the transcript) and sign-in attempts (state +
//! challenge), bounded in number and lifetime, behind one interface with two stores: in memory
//! (the default: one process, nothing to install) and Redis (`COMPANION_SESSION_STORE`: several
//! replicas share every session, and a restart loses nothing). See docs/architecture.md,
//! "Sessions and replicas".

mod memory;
mod records;
mod redis;
pub mod seal;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::error::AppError;
use crate::oauth::tokens::TokenSet;
use crate::transcript::{self, TranscriptEntry};
pub use contract::wire::HANDOFF_SECS;
pub use records::{Attempt, DEFAULT_SESSION_MAX_SECS, Handoff, LeaseOutcome, Limits, SessionRecord};
use records::{Slot, locked, random_id};
pub use redis::RedisSettings;

/// Where sessions live.
#[derive(Debug)]
enum Store {
    Memory(Box<memory::MemoryStore>),
    Redis(Box<redis::RedisStore>),
}

/// The right to refresh one session's tokens, held by one request of one replica at a time
/// (a lease in Redis; the process's own lock is enough in memory). Dropped without
/// [`Lease::release`] it lapses at its expiry.
#[derive(Debug)]
pub enum Lease {
    /// One process: its per-session lock is the lease.
    Local,
    /// A Redis lease with a random owner.
    Redis(redis::RedisLease),
}

/// A session's refresh lock in one process, with the last refresh result it saw.
pub type RefreshLock = tokio::sync::Mutex<Option<(TokenSet, u64)>>;

/// All sessions and attempts, keyed by the random ids in their cookies.
#[derive(Debug)]
pub struct Sessions {
    limits: Limits,
    store: Store,
    /// Per session, the lock that lets one request of this process at a time go for the lease,
    /// holding the last tokens a refresh of this process gave (and their version).
    refresh_locks: Mutex<HashMap<String, Weak<RefreshLock>>>,
}

impl Sessions {
    /// Empty in-memory stores with these limits.
    pub fn in_memory(limits: Limits) -> Self {
        Self::with_store(limits, Store::Memory(Box::default()))
    }

    /// Stores in Redis, shared with every replica configured alike. Connects when first used:
    /// a companion started before its Redis answers 503 `session_store_unavailable` meanwhile.
    pub fn in_redis(limits: Limits, settings: RedisSettings) -> Self {
        Self::with_store(limits, Store::Redis(Box::new(redis::RedisStore::new(settings))))
    }

    fn with_store(limits: Limits, store: Store) -> Self {
        Self {
            limits,
            store,
            refresh_locks: Mutex::default(),
        }
    }

    /// Stores `tokens` in a new session with the sign-in's transcript and returns its id.
    pub async fn create(
        &self,
        tokens: TokenSet,
        transcript: Vec<TranscriptEntry>,
        now: u64,
    ) -> Result<String, AppError> {
        let id = random_id()?;
        let record = SessionRecord {
            tokens: Some(tokens),
            version: 1,
            refresh_in_flight: false,
            created_at: now,
        };
        match &self.store {
            Store::Memory(store) => store.create(&self.limits, &id, record, now)?,
            Store::Redis(store) => store.create(&self.limits, &id, &record, now).await?,
        }
        self.record(&id, transcript).await?;
        Ok(id)
    }

    /// The live session with this id, marked as used now; `None` when there is none (or its
    /// record does not open: tampered, truncated, or copied under another id).
    pub async fn load(&self, id: &str, now: u64) -> Result<Option<SessionRecord>, AppError> {
        match &self.store {
            Store::Memory(store) => Ok(store.load(&self.limits, id, now)),
            Store::Redis(store) => store.load(&self.limits, id, now).await,
        }
    }

    /// Writes `tokens` as the next version after `previous` if the stored one is still
    /// `previous`'s; returns the record written, or `None` when another write came first (or
    /// the session is gone).
    pub async fn replace(
        &self,
        id: &str,
        previous: &SessionRecord,
        tokens: Option<TokenSet>,
        refresh_in_flight: bool,
    ) -> Result<Option<SessionRecord>, AppError> {
        let expected_version = previous.version;
        let record = SessionRecord {
            tokens,
            version: expected_version + 1,
            refresh_in_flight,
            created_at: previous.created_at,
        };
        let written = match &self.store {
            Store::Memory(store) => store.replace(id, expected_version, &record),
            Store::Redis(store) => store.replace(id, expected_version, &record).await?,
        };
        Ok(written.then_some(record))
    }

    /// Forgets a session, its tokens and its transcript.
    pub async fn remove(&self, id: &str) -> Result<(), AppError> {
        match &self.store {
            Store::Memory(store) => {
                store.remove(id);
                Ok(())
            }
            Store::Redis(store) => store.remove(id).await,
        }
    }

    /// Appends steps to a session's transcript, each [`transcript::capped`], dropping the oldest
    /// past [`transcript::MAX_ENTRIES`] (so it holds at most [`transcript::MAX_BYTES`] of text).
    pub async fn record(&self, id: &str, entries: Vec<TranscriptEntry>) -> Result<(), AppError> {
        if entries.is_empty() {
            return Ok(());
        }
        let entries: Vec<TranscriptEntry> = entries.into_iter().map(transcript::capped).collect();
        match &self.store {
            Store::Memory(store) => {
                store.record(id, entries);
                Ok(())
            }
            Store::Redis(store) => store.record(&self.limits, id, &entries).await,
        }
    }

    /// A session's transcript, oldest first.
    pub async fn transcript(&self, id: &str) -> Result<Vec<TranscriptEntry>, AppError> {
        match &self.store {
            Store::Memory(store) => Ok(store.transcript(id)),
            Store::Redis(store) => store.transcript(id).await,
        }
    }

    /// This process's refresh lock for session `id`: held while a request goes for the lease,
    /// so each replica sends at most one request to the store's lease at a time.
    pub fn refresh_lock(&self, id: &str) -> Arc<RefreshLock> {
        let mut locks = locked(&self.refresh_locks);
        if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        locks.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(RefreshLock::default());
        locks.insert(id.to_owned(), Arc::downgrade(&lock));
        lock
    }

    /// Takes the refresh lease of session `id`, waiting (bounded by `wait`) while another
    /// replica holds it, unless meanwhile the record moves on from `seen_version` with no
    /// refresh in flight.
    pub async fn lease(
        &self,
        id: &str,
        seen_version: u64,
        now: u64,
        wait: Duration,
    ) -> Result<LeaseOutcome<Lease>, AppError> {
        match &self.store {
            Store::Memory(_) => Ok(LeaseOutcome::Acquired(Lease::Local)),
            Store::Redis(store) => Ok(match store.lease(&self.limits, id, seen_version, now, wait).await? {
                LeaseOutcome::Acquired(lease) => LeaseOutcome::Acquired(Lease::Redis(lease)),
                LeaseOutcome::Changed(record) => LeaseOutcome::Changed(record),
            }),
        }
    }

    /// Keeps `lease` from lapsing until the future is dropped (every third of its lifetime); it
    /// never completes.
    pub async fn renew_forever(&self, lease: &Lease) -> std::convert::Infallible {
        match (&self.store, lease) {
            (Store::Redis(store), Lease::Redis(lease)) => store.renew_forever(lease).await,
            _ => std::future::pending().await,
        }
    }

    /// Gives the lease back (only if it is still this holder's).
    pub async fn release(&self, lease: Lease) {
        if let (Store::Redis(store), Lease::Redis(lease)) = (&self.store, lease) {
            store.release(lease).await;
        }
    }

    /// Seconds a sign-in attempt lives (the attempt cookie's Max-Age).
    pub fn attempt_secs(&self) -> u64 {
        self.limits.attempt_secs
    }

    /// Seconds a session lives unused (the session cookie's Max-Age).
    pub fn session_idle_secs(&self) -> u64 {
        self.limits.session_idle_secs
    }

    /// How many live sessions are held.
    pub async fn count(&self, now: u64) -> Result<usize, AppError> {
        match &self.store {
            Store::Memory(store) => Ok(store.count()),
            Store::Redis(store) => store.count(now).await,
        }
    }

    /// Whether the store answers, or why not as a sentence (never the store's URL): always for
    /// memory; a `PING` within the call timeout for Redis (`/readyz`).
    pub async fn ping(&self) -> Result<(), String> {
        match &self.store {
            Store::Memory(_) => Ok(()),
            Store::Redis(store) => store.ping().await,
        }
    }

    /// How many live sign-in attempts are held (the metrics).
    pub async fn count_attempts(&self, now: u64) -> Result<usize, AppError> {
        match &self.store {
            Store::Memory(store) => Ok(store.count_attempts(&self.limits, now)),
            Store::Redis(store) => store.count_attempts(now).await,
        }
    }

    /// Records a sign-in attempt (with its [`Handoff`] slot) and returns its id (for the
    /// cookie); `overloaded`, writing nothing, past [`Limits::max_attempts`]. The slot belongs
    /// to the attempt that armed it: only that attempt takes its callback or removes it
    /// ([`Sessions::take_handoff`], [`Sessions::take_attempt`]), and a slot already armed for
    /// the same state is left as it is: a start never re-arms, takes over or clears one.
    pub async fn start_attempt(
        &self,
        state: String,
        code_challenge: String,
        handoff: Handoff,
        now: u64,
    ) -> Result<String, AppError> {
        let id = random_id()?;
        let attempt = Attempt {
            state,
            code_challenge,
            created_at: now,
        };
        let started = match &self.store {
            Store::Memory(store) => store.start_attempt(&self.limits, &id, attempt, handoff, now),
            Store::Redis(store) => store.start_attempt(&self.limits, &id, &attempt, handoff, now).await?,
        };
        if !started {
            return Err(AppError::new(flow::ErrorCode::Overloaded));
        }
        Ok(id)
    }

    /// When the live attempt `id` started, or `None` if there is none.
    pub async fn attempt_started_at(&self, id: &str, now: u64) -> Result<Option<u64>, AppError> {
        let attempt = match &self.store {
            Store::Memory(store) => store.attempt(id),
            Store::Redis(store) => store.attempt(id).await?,
        };
        Ok(attempt
            .filter(|a| a.created_at + self.limits.attempt_secs > now)
            .map(|a| a.created_at))
    }

    /// Takes (single use) the live attempt `id` if its state equals `state` (constant time).
    /// `attempt_missing` if it is not live (or another request took it first),
    /// `attempt_mismatch` if the state differs (it then stays, for the tab it belongs to).
    pub async fn take_attempt(&self, id: &str, state: &str, now: u64) -> Result<Attempt, AppError> {
        let attempt = self.live_attempt(id, state, now).await?;
        let taken = match &self.store {
            Store::Memory(store) => store.remove_attempt(id, state),
            Store::Redis(store) => store.remove_attempt(id, state).await?,
        };
        if !taken {
            return Err(AppError::new(flow::ErrorCode::AttemptMissing));
        }
        Ok(attempt)
    }

    /// Remembers, for [`Limits::attempt_secs`], that the attempt `attempt_id` ended in the
    /// session `session_id`: a browser that went away while its code was exchanged (a closed
    /// tab) never got the session cookie, but still holds the attempt cookie, and its next load
    /// takes the session with it ([`Sessions::take_finished_attempt`]).
    pub async fn finish_attempt(&self, attempt_id: &str, session_id: &str, now: u64) -> Result<(), AppError> {
        match &self.store {
            Store::Memory(store) => {
                store.finish_attempt(attempt_id, session_id, now + self.limits.attempt_secs);
                Ok(())
            }
            Store::Redis(store) => {
                store
                    .finish_attempt(attempt_id, session_id, self.limits.attempt_secs)
                    .await
            }
        }
    }

    /// The session the attempt `attempt_id` ended in, once ([`Sessions::finish_attempt`]).
    pub async fn take_finished_attempt(&self, attempt_id: &str, now: u64) -> Result<Option<String>, AppError> {
        match &self.store {
            Store::Memory(store) => Ok(store.take_finished_attempt(attempt_id, now)),
            Store::Redis(store) => store.take_finished_attempt(attempt_id).await,
        }
    }

    /// Keeps the pop-up's callback in the slot of the frame's sign-in `state`, for at most
    /// [`HANDOFF_SECS`]. The slot takes one callback: `handoff_not_expected` if no frame's
    /// sign-in armed one; a second delivery poisons it (`handoff_conflict`, for this caller and
    /// for the frame's take), so a callback from someone who signed in elsewhere with a leaked
    /// authorize URL is never taken as the reader's without a word (RFC 9700 §4.7).
    pub async fn deliver_handoff(&self, state: &str, callback: String, now: u64) -> Result<(), AppError> {
        let slot = match &self.store {
            Store::Memory(store) => store.deliver_handoff(state, callback, now),
            Store::Redis(store) => store.deliver_handoff(state, &callback).await?,
        };
        match slot {
            Slot::Pending => Ok(()),
            Slot::Missing => Err(AppError::new(flow::ErrorCode::HandoffNotExpected)),
            Slot::Delivered(_) | Slot::Conflict => Err(AppError::new(flow::ErrorCode::HandoffConflict)),
        }
    }

    /// The callback handed off for `state`, once, to the attempt `attempt_id` that armed the
    /// slot and to no other: `handoff_pending` while it has not come, `handoff_conflict` when
    /// two came (or it was taken already), `handoff_not_expected` when no frame's sign-in of
    /// this attempt waits (exchanged, expired, never started, or armed by another attempt with
    /// the same state: someone who read a leaked authorize URL and started with its state).
    pub async fn take_handoff(&self, state: &str, attempt_id: &str, now: u64) -> Result<String, AppError> {
        let slot = match &self.store {
            Store::Memory(store) => store.take_handoff(state, attempt_id, now),
            Store::Redis(store) => store.take_handoff(state, attempt_id).await?,
        };
        match slot {
            Slot::Delivered(callback) => Ok(callback),
            Slot::Pending => Err(AppError::new(flow::ErrorCode::HandoffPending)),
            Slot::Conflict => Err(AppError::new(flow::ErrorCode::HandoffConflict)),
            Slot::Missing => Err(AppError::new(flow::ErrorCode::HandoffNotExpected)),
        }
    }

    /// The live attempt `id` if its state equals `state` (constant time), left in place:
    /// `attempt_missing` or `attempt_mismatch` as [`Sessions::take_attempt`] says.
    pub async fn live_attempt(&self, id: &str, state: &str, now: u64) -> Result<Attempt, AppError> {
        let attempt = match &self.store {
            Store::Memory(store) => store.attempt(id),
            Store::Redis(store) => store.attempt(id).await?,
        }
        .filter(|a| a.created_at + self.limits.attempt_secs > now)
        .ok_or_else(|| AppError::new(flow::ErrorCode::AttemptMissing))?;
        if !pkce::constant_time_eq(attempt.state.as_bytes(), state.as_bytes()) {
            return Err(AppError::new(flow::ErrorCode::AttemptMismatch));
        }
        Ok(attempt)
    }

    /// Drops idle sessions and stale attempts of the in-memory store; run periodically. (Redis
    /// expires its keys itself.)
    pub fn sweep(&self, now: u64) {
        if let Store::Memory(store) = &self.store {
            store.sweep(&self.limits, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    pub(crate) fn tokens() -> TokenSet {
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

    #[tokio::test]
    async fn sessions_are_bounded_and_expire_when_idle() {
        let limits = Limits {
            max_sessions: 2,
            session_idle_secs: 100,
            ..Limits::default()
        };
        let store = Sessions::in_memory(limits);
        let a = store.create(tokens(), vec![], 1000).await.unwrap();
        store.create(tokens(), vec![], 1000).await.unwrap();
        assert_eq!(
            store.create(tokens(), vec![], 1050).await.unwrap_err().code,
            flow::ErrorCode::Overloaded
        );
        assert!(store.load(&a, 1099).await.unwrap().is_some());
        // the other one idled out at 1100, making room
        assert!(store.create(tokens(), vec![], 1150).await.is_ok());
        assert!(store.load(&a, 1198).await.unwrap().is_some());
        assert!(store.load(&a, 1299).await.unwrap().is_none());
        assert!(store.load("forged", 1000).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn sweep_drops_idle_sessions_and_stale_attempts() {
        let store = Sessions::in_memory(Limits {
            session_idle_secs: 100,
            attempt_secs: 50,
            ..Limits::default()
        });
        store.create(tokens(), vec![], 1000).await.unwrap();
        let kept = store.create(tokens(), vec![], 1080).await.unwrap();
        let attempt = store
            .start_attempt("s".into(), "c".into(), Handoff::None, 1000)
            .await
            .unwrap();
        store.sweep(1100);
        assert_eq!(store.count(1100).await.unwrap(), 1);
        assert!(store.load(&kept, 1100).await.unwrap().is_some());
        let Store::Memory(memory) = &store.store else {
            unreachable!()
        };
        assert!(memory.attempt(&attempt).is_none());
    }

    #[tokio::test]
    async fn attempts_are_single_use_short_lived_and_checked_by_state() {
        use flow::ErrorCode::{AttemptMismatch, AttemptMissing};
        let store = Sessions::in_memory(Limits::default());
        let first = store
            .start_attempt("s1".into(), "c".into(), Handoff::None, 1000)
            .await
            .unwrap();
        let second = store
            .start_attempt("s2".into(), "c".into(), Handoff::None, 1000)
            .await
            .unwrap();
        assert_eq!(
            store.take_attempt(&first, "s2", 1001).await.unwrap_err().code,
            AttemptMismatch
        );
        assert_eq!(
            store.take_attempt(&first, "s1", 1001).await.unwrap().state,
            "s1",
            "a mismatch left it in place"
        );
        assert_eq!(
            store.take_attempt(&first, "s1", 1001).await.unwrap_err().code,
            AttemptMissing,
            "single use"
        );
        assert_eq!(
            store.attempt_started_at(&second, 1001).await.unwrap(),
            Some(1000),
            "the other tab's attempt stayed"
        );
        assert_eq!(store.take_attempt(&second, "s2", 1001).await.unwrap().state, "s2");
        let late = store
            .start_attempt("s".into(), "c".into(), Handoff::None, 1000)
            .await
            .unwrap();
        assert_eq!(store.attempt_started_at(&late, 1600).await.unwrap(), None);
        assert_eq!(
            store.take_attempt(&late, "s", 1600).await.unwrap_err().code,
            AttemptMissing
        );
    }

    #[tokio::test]
    async fn a_handoff_slot_is_armed_only_with_an_attempt_inside_the_limit_and_goes_with_it() {
        use flow::ErrorCode::{HandoffNotExpected, Overloaded};
        let store = Sessions::in_memory(Limits {
            max_attempts: 2,
            ..Limits::default()
        });
        let first = store
            .start_attempt("s1".into(), "c".into(), Handoff::Armed, 1000)
            .await
            .unwrap();
        store
            .start_attempt("s2".into(), "c".into(), Handoff::Armed, 1000)
            .await
            .unwrap();
        assert_eq!(
            store
                .start_attempt("s3".into(), "c".into(), Handoff::Armed, 1000)
                .await
                .unwrap_err()
                .code,
            Overloaded
        );
        assert_eq!(
            store
                .deliver_handoff("s3", "?state=s3".into(), 1001)
                .await
                .unwrap_err()
                .code,
            HandoffNotExpected,
            "a refused start armed no slot"
        );
        let Store::Memory(memory) = &store.store else {
            unreachable!()
        };
        assert_eq!(memory.handoff_count(), 2, "one slot per attempt, no more");
        store.take_attempt(&first, "s1", 1001).await.unwrap();
        assert_eq!(memory.handoff_count(), 1, "the slot went with its attempt");
        assert_eq!(
            store.take_handoff("s1", &first, 1001).await.unwrap_err().code,
            HandoffNotExpected
        );
        store.sweep(1000 + Limits::default().attempt_secs);
        assert_eq!(memory.handoff_count(), 0, "and expires with it");
    }

    #[tokio::test]
    async fn a_handoff_slot_takes_one_callback_and_a_second_spends_it() {
        use flow::ErrorCode::{HandoffConflict, HandoffPending};
        let store = Sessions::in_memory(Limits::default());
        let frame = store
            .start_attempt("s".into(), "c".into(), Handoff::Armed, 1000)
            .await
            .unwrap();
        assert_eq!(
            store.take_handoff("s", &frame, 1001).await.unwrap_err().code,
            HandoffPending
        );
        store
            .deliver_handoff("s", "?code=first&state=s".into(), 1001)
            .await
            .unwrap();
        // A second start of the same state neither re-arms nor clears the slot.
        store
            .start_attempt("s".into(), "c".into(), Handoff::Armed, 1002)
            .await
            .unwrap();
        assert_eq!(
            store.take_handoff("s", &frame, 1003).await.unwrap(),
            "?code=first&state=s"
        );
        assert_eq!(
            store.take_handoff("s", &frame, 1003).await.unwrap_err().code,
            HandoffConflict,
            "taken once"
        );
        assert_eq!(
            store
                .deliver_handoff("s", "?code=late&state=s".into(), 1004)
                .await
                .unwrap_err()
                .code,
            HandoffConflict,
            "a callback after the take is told so"
        );

        let frame = store
            .start_attempt("t".into(), "c".into(), Handoff::Armed, 1000)
            .await
            .unwrap();
        store
            .deliver_handoff("t", "?code=someone-elses&state=t".into(), 1001)
            .await
            .unwrap();
        assert_eq!(
            store
                .deliver_handoff("t", "?code=the-readers&state=t".into(), 1002)
                .await
                .unwrap_err()
                .code,
            HandoffConflict
        );
        assert_eq!(
            store.take_handoff("t", &frame, 1003).await.unwrap_err().code,
            HandoffConflict,
            "two callbacks: neither is used"
        );
    }

    #[tokio::test]
    async fn a_busy_session_still_ends_at_its_absolute_lifetime() {
        let store = Sessions::in_memory(Limits {
            session_idle_secs: 100,
            session_max_secs: 250,
            ..Limits::default()
        });
        let id = store.create(tokens(), vec![], 1000).await.unwrap();
        for now in (1050..1250).step_by(50) {
            assert!(
                store.load(&id, now).await.unwrap().is_some(),
                "used every 50 s, never idle"
            );
        }
        assert!(
            store.load(&id, 1250).await.unwrap().is_none(),
            "250 s after sign-in it is over, however busy"
        );
    }

    #[tokio::test]
    async fn a_write_is_conditional_on_the_version_it_replaces() {
        let store = Sessions::in_memory(Limits::default());
        let id = store.create(tokens(), vec![], 1000).await.unwrap();
        let first = store.load(&id, 1000).await.unwrap().unwrap();
        let written = store.replace(&id, &first, None, true).await.unwrap().unwrap();
        assert_eq!(
            (written.version, written.refresh_in_flight, written.created_at),
            (2, true, 1000)
        );
        assert!(
            store
                .replace(&id, &first, Some(tokens()), false)
                .await
                .unwrap()
                .is_none(),
            "an older reader's write is refused"
        );
        let now = store.load(&id, 1001).await.unwrap().unwrap();
        assert_eq!((now.version, now.tokens.is_none()), (2, true));
    }

    #[test]
    fn a_session_has_the_shorter_of_its_idle_and_absolute_lifetimes_left() {
        let limits = Limits {
            session_idle_secs: 100,
            session_max_secs: 250,
            ..Limits::default()
        };
        assert_eq!(limits.session_ttl(1000, 1000), 100);
        assert_eq!(limits.session_ttl(1000, 1200), 50);
        assert_eq!(limits.session_ttl(1000, 1300), 0);
    }
}
