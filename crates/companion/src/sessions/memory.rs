//! The in-memory store: one process's sessions and attempts, for the local demo and the tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::records::{Attempt, Handoff, Limits, SessionRecord, Slot, locked};
use crate::error::AppError;
use crate::transcript::{self, TranscriptEntry};
use contract::wire::HANDOFF_SECS;

#[derive(Debug, Default)]
pub(super) struct MemoryStore {
    sessions: Mutex<HashMap<String, MemorySession>>,
    attempts: Mutex<HashMap<String, Attempt>>,
    /// Hand-off slots by state; each lives with its attempt (and in the same lock).
    handoffs: Mutex<HashMap<String, HandoffSlot>>,
    /// Finished attempts: attempt id -> (the session it ended in, until when it is kept).
    finished: Mutex<HashMap<String, (String, u64)>>,
}

/// A frame's sign-in waiting for its pop-up's callback, keyed by its state.
#[derive(Debug)]
struct HandoffSlot {
    /// The id of the attempt that armed it: the only one that takes or removes it.
    owner: String,
    slot: Slot,
    expires_at: u64,
}

#[derive(Debug)]
struct MemorySession {
    record: SessionRecord,
    last_seen: u64,
    transcript: VecDeque<TranscriptEntry>,
}

impl MemorySession {
    fn is_live(&self, limits: &Limits, now: u64) -> bool {
        self.last_seen + limits.session_idle_secs > now && self.record.created_at + limits.session_max_secs > now
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

    /// `false`, writing nothing, when the attempts are at their limit.
    pub(super) fn start_attempt(
        &self,
        limits: &Limits,
        id: &str,
        attempt: Attempt,
        handoff: Handoff,
        now: u64,
    ) -> bool {
        let mut attempts = locked(&self.attempts);
        let mut handoffs = locked(&self.handoffs);
        attempts.retain(|_, a| a.created_at + limits.attempt_secs > now);
        handoffs.retain(|_, h| h.expires_at > now);
        if attempts.len() >= limits.max_attempts {
            return false;
        }
        if handoff == Handoff::Armed {
            handoffs.entry(attempt.state.clone()).or_insert(HandoffSlot {
                owner: id.to_owned(),
                slot: Slot::Pending,
                expires_at: now + limits.attempt_secs,
            });
        }
        attempts.insert(id.to_owned(), attempt);
        true
    }

    pub(super) fn attempt(&self, id: &str) -> Option<Attempt> {
        locked(&self.attempts).get(id).cloned()
    }

    pub(super) fn count_attempts(&self, limits: &Limits, now: u64) -> usize {
        locked(&self.attempts)
            .values()
            .filter(|a| a.created_at + limits.attempt_secs > now)
            .count()
    }

    /// Removes the attempt and the hand-off slot it armed (a slot of its state armed by another
    /// attempt stays); `true` only for the one caller that removed the attempt.
    pub(super) fn remove_attempt(&self, id: &str, state: &str) -> bool {
        let mut attempts = locked(&self.attempts);
        let removed = attempts.remove(id).is_some();
        if removed {
            let mut handoffs = locked(&self.handoffs);
            if handoffs.get(state).is_some_and(|h| h.owner == id) {
                handoffs.remove(state);
            }
        }
        removed
    }

    pub(super) fn finish_attempt(&self, attempt_id: &str, session_id: &str, until: u64) {
        let mut finished = locked(&self.finished);
        finished.insert(attempt_id.to_owned(), (session_id.to_owned(), until));
    }

    pub(super) fn take_finished_attempt(&self, attempt_id: &str, now: u64) -> Option<String> {
        locked(&self.finished)
            .remove(attempt_id)
            .filter(|(_, until)| *until > now)
            .map(|(session, _)| session)
    }

    /// The slot as it was before this delivery: [`Slot::Pending`] means this callback is kept;
    /// a slot that held one is poisoned.
    pub(super) fn deliver_handoff(&self, state: &str, callback: String, now: u64) -> Slot {
        let mut handoffs = locked(&self.handoffs);
        let Some(handoff) = handoffs.get_mut(state).filter(|h| h.expires_at > now) else {
            return Slot::Missing;
        };
        let before = std::mem::replace(&mut handoff.slot, Slot::Conflict);
        if before == Slot::Pending {
            handoff.slot = Slot::Delivered(callback);
            handoff.expires_at = handoff.expires_at.min(now + HANDOFF_SECS);
        }
        before
    }

    /// The slot as it was; a delivered callback is taken once (the slot then answers
    /// [`Slot::Conflict`] until its attempt goes).
    pub(super) fn take_handoff(&self, state: &str, attempt_id: &str, now: u64) -> Slot {
        let mut handoffs = locked(&self.handoffs);
        let Some(handoff) = handoffs
            .get_mut(state)
            .filter(|h| h.expires_at > now && h.owner == attempt_id)
        else {
            return Slot::Missing;
        };
        match &handoff.slot {
            Slot::Delivered(_) => std::mem::replace(&mut handoff.slot, Slot::Conflict),
            Slot::Pending => Slot::Pending,
            Slot::Conflict | Slot::Missing => Slot::Conflict,
        }
    }

    /// How many hand-off slots are held (for the tests of the limit).
    #[cfg(test)]
    pub(super) fn handoff_count(&self) -> usize {
        locked(&self.handoffs).len()
    }

    pub(super) fn sweep(&self, limits: &Limits, now: u64) {
        locked(&self.sessions).retain(|_, s| s.is_live(limits, now));
        locked(&self.attempts).retain(|_, a| a.created_at + limits.attempt_secs > now);
        locked(&self.handoffs).retain(|_, h| h.expires_at > now);
        locked(&self.finished).retain(|_, (_, until)| *until > now);
    }
}
