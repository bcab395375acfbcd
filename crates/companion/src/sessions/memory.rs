//! The in-memory store: one process's sessions and attempts, for the local demo and the tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::{Attempt, HANDOFF_SECS, Limits, SessionRecord, locked};
use crate::error::AppError;
use crate::transcript::{self, TranscriptEntry};

#[derive(Debug, Default)]
pub(super) struct MemoryStore {
    sessions: Mutex<HashMap<String, MemorySession>>,
    attempts: Mutex<HashMap<String, Attempt>>,
    handoffs: Mutex<HashMap<String, Handoff>>,
}

/// A frame's sign-in waiting for its pop-up's callback, keyed by its state.
#[derive(Debug)]
struct Handoff {
    callback: Option<String>,
    expires_at: u64,
}

#[derive(Debug)]
struct MemorySession {
    record: SessionRecord,
    created_at: u64,
    last_seen: u64,
    transcript: VecDeque<TranscriptEntry>,
}

impl MemorySession {
    fn is_live(&self, limits: &Limits, now: u64) -> bool {
        self.last_seen + limits.session_idle_secs > now && self.created_at + limits.session_max_secs > now
    }
}

impl MemoryStore {
    pub(super) fn create(&self, limits: &Limits, id: &str, record: SessionRecord, now: u64) -> Result<(), AppError> {
        let mut sessions = locked(&self.sessions);
        if sessions.len() >= limits.max_sessions {
            sessions.retain(|_, s| s.is_live(limits, now));
            if sessions.len() >= limits.max_sessions {
                return Err(AppError::new(flow::ErrorCode::Overloaded));
            }
        }
        sessions.insert(
            id.to_owned(),
            MemorySession {
                record,
                created_at: now,
                last_seen: now,
                transcript: VecDeque::new(),
            },
        );
        Ok(())
    }

    pub(super) fn load(&self, limits: &Limits, id: &str, now: u64) -> Option<SessionRecord> {
        let mut sessions = locked(&self.sessions);
        let session = sessions.get_mut(id)?;
        if !session.is_live(limits, now) {
            sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.record.clone())
    }

    pub(super) fn replace(&self, id: &str, expected_version: u64, record: &SessionRecord) -> bool {
        let mut sessions = locked(&self.sessions);
        match sessions.get_mut(id) {
            Some(session) if session.record.version == expected_version => {
                session.record = record.clone();
                true
            }
            _ => false,
        }
    }

    pub(super) fn remove(&self, id: &str) {
        locked(&self.sessions).remove(id);
    }

    pub(super) fn record(&self, id: &str, entries: Vec<TranscriptEntry>) {
        let mut sessions = locked(&self.sessions);
        let Some(session) = sessions.get_mut(id) else {
            return;
        };
        let transcript = &mut session.transcript;
        transcript.extend(entries);
        let excess = transcript.len().saturating_sub(transcript::MAX_ENTRIES);
        transcript.drain(..excess);
    }

    pub(super) fn transcript(&self, id: &str) -> Vec<TranscriptEntry> {
        locked(&self.sessions)
            .get(id)
            .map(|s| s.transcript.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(super) fn count(&self) -> usize {
        locked(&self.sessions).len()
    }

    pub(super) fn start_attempt(&self, limits: &Limits, id: &str, attempt: Attempt, now: u64) -> Result<(), AppError> {
        let mut attempts = locked(&self.attempts);
        attempts.retain(|_, a| a.created_at + limits.attempt_secs > now);
        if attempts.len() >= limits.max_attempts {
            return Err(AppError::new(flow::ErrorCode::Overloaded));
        }
        attempts.insert(id.to_owned(), attempt);
        Ok(())
    }

    pub(super) fn attempt(&self, id: &str) -> Option<Attempt> {
        locked(&self.attempts).get(id).cloned()
    }

    pub(super) fn remove_attempt(&self, id: &str) -> bool {
        locked(&self.attempts).remove(id).is_some()
    }

    pub(super) fn expect_handoff(&self, limits: &Limits, state: &str, now: u64) -> Result<(), AppError> {
        let mut handoffs = locked(&self.handoffs);
        handoffs.retain(|_, h| h.expires_at > now);
        if handoffs.len() >= limits.max_attempts {
            return Err(AppError::new(flow::ErrorCode::Overloaded));
        }
        let expires_at = now + limits.attempt_secs;
        handoffs.insert(
            state.to_owned(),
            Handoff {
                callback: None,
                expires_at,
            },
        );
        Ok(())
    }

    pub(super) fn deliver_handoff(&self, state: &str, callback: String, now: u64) -> bool {
        match locked(&self.handoffs).get_mut(state) {
            Some(handoff) if handoff.callback.is_none() && handoff.expires_at > now => {
                handoff.callback = Some(callback);
                handoff.expires_at = handoff.expires_at.min(now + HANDOFF_SECS);
                true
            }
            _ => false,
        }
    }

    pub(super) fn take_handoff(&self, state: &str, now: u64) -> Option<Option<String>> {
        let mut handoffs = locked(&self.handoffs);
        let handoff = handoffs.get(state).filter(|h| h.expires_at > now)?;
        if handoff.callback.is_none() {
            return Some(None);
        }
        handoffs.remove(state).map(|h| h.callback)
    }

    pub(super) fn sweep(&self, limits: &Limits, now: u64) {
        locked(&self.sessions).retain(|_, s| s.is_live(limits, now));
        locked(&self.attempts).retain(|_, a| a.created_at + limits.attempt_secs > now);
        locked(&self.handoffs).retain(|_, h| h.expires_at > now);
    }
}
