//! The stand-in's memory: pending consents, codes, grants and tokens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{Clock, Registration, opaque_value};

/// Lifetimes and switches of the stand-in.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Access token lifetime in seconds (Pleo: use `expires_in`; older docs say 15 minutes).
    pub access_token_ttl: u64,
    /// Authorization code lifetime in seconds ("short-lived" at Pleo; 60 here).
    pub code_ttl: u64,
    /// Refresh token lifetime in seconds (Pleo: at least 60 days).
    pub refresh_token_ttl: u64,
    /// Skip the consent page and approve as the first demo user (tests, benchmarks).
    pub auto_approve: bool,
    /// The issuer URL advertised in the RFC 8414 metadata; derived from the request's Host
    /// header when unset.
    pub issuer: Option<String>,
    /// Serve the `/_knobs/*` fault endpoints. Only ever on for a loopback listener.
    pub fault_knobs: bool,
    /// Milliseconds every API answer waits, as a remote API's would (benchmarks); 0 by default.
    pub api_latency_ms: u64,
    /// The `Cross-Origin-Opener-Policy` its answers carry, as an authorisation server's pages
    /// may (`same-origin` cuts a pop-up off from the page that opened it); none by default.
    pub opener_policy: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            access_token_ttl: 15 * 60,
            code_ttl: 60,
            refresh_token_ttl: 60 * 24 * 3600,
            auto_approve: false,
            issuer: None,
            fault_knobs: false,
            api_latency_ms: 0,
            opener_policy: None,
        }
    }
}

/// An authorization request waiting for the user's decision on the consent page.
#[derive(Debug, Clone)]
pub(crate) struct PendingConsent {
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: String,
    pub code_challenge: String,
    pub created_at: u64,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub code_challenge: String,
    pub user_id: String,
    pub expires_at: u64,
    /// Set by the first redemption; a second one revokes the grant (RFC 6749 §4.1.2).
    pub redeemed_grant: Option<u64>,
}

/// One authorization: the tokens issued from one code and its refreshes.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub scope: Vec<String>,
    pub user_id: String,
    pub revoked: bool,
    /// The refresh token was revoked by a fault knob: refresh fails, access tokens live on.
    pub refresh_revoked: bool,
    /// The only refresh token of this grant that may be used (rotation).
    pub current_refresh: String,
    /// The refresh tokens it replaced, newest last, at most [`REFRESH_HISTORY`]: presenting one
    /// of them revokes the grant (reuse detection).
    pub previous_refresh: VecDeque<String>,
    pub refresh_expires_at: u64,
}

/// The `Retry-After` of the API's 429 under the `rate-limit` knob, in seconds.
pub const RATE_LIMIT_RETRY_AFTER_SECS: u64 = 2;

/// How many of a grant's replaced refresh tokens are remembered for reuse detection; an older
/// one is unknown (and refused as such).
pub(crate) const REFRESH_HISTORY: usize = 64;
/// The most live grants at once; past it the token endpoint answers `temporarily_unavailable`.
pub(crate) const MAX_GRANTS: usize = 10_000;
/// The most consent requests and unredeemed codes held at once (each); past it new
/// authorization requests are refused.
pub(crate) const MAX_PENDING: usize = 10_000;
/// The grant types the token endpoint counts; anything else is counted as `unsupported`.
const COUNTED_GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// An access token and the grant it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub grant: u64,
    pub expires_at: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub pending: HashMap<String, PendingConsent>,
    pub codes: HashMap<String, CodeGrant>,
    pub grants: HashMap<u64, Grant>,
    pub access_tokens: HashMap<String, AccessToken>,
    /// Every refresh token ever issued, with its grant, so an old one can be recognised.
    pub refresh_tokens: HashMap<String, u64>,
    pub next_grant: u64,
    /// Authenticated requests the token endpoint has answered, by grant type (for tests and
    /// the walkthrough): the two it supports and `unsupported`, nothing a caller names.
    pub token_requests: HashMap<&'static str, u64>,
    /// Grants revoked because an old refresh token was presented again (reuse detection).
    pub revoked_for_reuse: u64,
    /// Faults the token endpoint applies to its next requests, whoever sends them.
    pub token_faults: TokenFaults,
    /// Faults that apply only to refreshes of one grant (the companion's knob for a session).
    pub grant_faults: HashMap<u64, TokenFaults>,
    /// API calls of a grant still to be answered 429 (the `rate-limit` knob).
    pub rate_limited: HashMap<u64, u32>,
    /// The last [`ISSUED_LOG`] tokens issued, for [`StandIn::issued_tokens`]: outlives the
    /// pruning of dead grants, so a leak scan still knows their tokens.
    pub issued: VecDeque<String>,
}

/// How many issued tokens [`StandIn::issued_tokens`] remembers.
const ISSUED_LOG: usize = 20_000;

/// A fault the token endpoint applies to its next `remaining` requests: a delay, then
/// optionally an error status instead of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenFaults {
    /// Answer with this status (500, 503, ...) instead of the token response.
    pub status: Option<u16>,
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// How many of the next requests the fault applies to.
    pub remaining: u32,
    /// Process the request first (a refresh rotates the tokens), then wait and answer: a server
    /// that finishes its work after the client has given up, as one behind a load balancer
    /// does. Off: the delay comes first, and a client that gives up leaves nothing done.
    #[serde(default)]
    pub process_before_delay: bool,
    /// With a 503 or 429 `status`: the `Retry-After` seconds sent with it.
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
}

/// What the token endpoint issued for one grant.
#[derive(Debug, Clone)]
pub(crate) struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub scope: Vec<String>,
}

/// The stand-in: its registration, settings, clock and memory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StandIn {
    pub(crate) registration: Arc<Registration>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Clock,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    /// A stand-in that knows one client.
    pub fn new(registration: Registration, settings: Settings) -> Self {
        Self {
            registration: Arc::new(registration),
            settings: Arc::new(settings),
            clock: Clock::default(),
            inner: Arc::default(),
        }
    }

    /// The clock, to shift time in tests and in the walkthrough.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How many authenticated token requests of `grant_type` were answered (successfully or
    /// not); `unsupported` counts every other grant type.
    pub fn token_requests(&self, grant_type: &str) -> u64 {
        self.lock().token_requests.get(grant_type).copied().unwrap_or(0)
    }

    /// How many grants were revoked because a replaced refresh token was presented again: a
    /// client that never presents one twice keeps this at 0.
    pub fn grants_revoked_for_reuse(&self) -> u64 {
        self.lock().revoked_for_reuse
    }

    /// Counts one authenticated token request of `grant_type`.
    pub(crate) fn count_token_request(&self, grant_type: &str) {
        let counted = COUNTED_GRANT_TYPES
            .into_iter()
            .find(|known| *known == grant_type)
            .unwrap_or("unsupported");
        *self.lock().token_requests.entry(counted).or_default() += 1;
    }

    /// How many grants, consent requests and codes are held: tests prove they stay bounded.
    pub fn held(&self) -> (usize, usize, usize) {
        let inner = self.lock();
        (inner.grants.len(), inner.pending.len(), inner.codes.len())
    }

    /// Every access and refresh token issued (the last 20,000): tests search for them where
    /// they must not be.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.iter().cloned().collect()
    }

    /// Every refresh token ever issued, in no order: tests play the attacker who stole one.
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.lock().refresh_tokens.keys().cloned().collect()
    }

    /// The newest access token issued and its grant's current refresh token: what a client
    /// holds after its last exchange or refresh (tests run the walkthrough's snippets with them).
    pub fn newest_tokens(&self) -> Option<(String, String)> {
        let inner = self.lock();
        inner.issued.iter().rev().find_map(|token| {
            let grant = inner.grants.get(&inner.access_tokens.get(token)?.grant)?;
            Some((token.clone(), grant.current_refresh.clone()))
        })
    }

    /// Fault knob for one session: the next `calls` API calls with the grant of access token
    /// `token` are answered 429 with `Retry-After` ([`RATE_LIMIT_RETRY_AFTER_SECS`]). False if
    /// the token is unknown.
    pub fn rate_limit_grant(&self, token: &str, calls: u32) -> bool {
        let mut inner = self.lock();
        let Some(grant) = inner.access_tokens.get(token).map(|t| t.grant) else {
            return false;
        };
        inner.rate_limited.insert(grant, calls);
        true
    }

    /// Fault knob: the access token `token` expires now.
    pub fn expire_access_token(&self, token: &str) -> bool {
        let now = self.clock.now();
        self.lock()
            .access_tokens
            .get_mut(token)
            .map(|t| t.expires_at = now)
            .is_some()
    }

    /// Fault knob: the refresh token `token` is revoked; its access token lives until expiry.
    pub fn revoke_refresh_token(&self, token: &str) -> bool {
        let mut inner = self.lock();
        let Some(&grant) = inner.refresh_tokens.get(token) else {
            return false;
        };
        inner.grants.get_mut(&grant).map(|g| g.refresh_revoked = true).is_some()
    }

    /// Fault knob: the token endpoint's next requests, from anyone, are delayed and/or fail
    /// (the standalone stand-in's `/_knobs`, and tests).
    pub fn set_token_faults(&self, faults: TokenFaults) {
        self.lock().token_faults = faults;
    }

    /// Fault knob for one session: only refreshes of the grant that refresh token `token`
    /// belongs to are delayed and/or fail. False if the token is unknown.
    pub fn set_token_faults_for(&self, token: &str, faults: TokenFaults) -> bool {
        let mut inner = self.lock();
        let Some(&grant) = inner.refresh_tokens.get(token) else {
            return false;
        };
        inner.grant_faults.insert(grant, faults);
        true
    }

    /// Fault knob for one session: the grant of `token` (access or refresh) ages by `secs`, as
    /// if that much time had passed for it alone: its access token and refresh token come that
    /// much nearer expiry (or move away from it, for a negative shift). False if unknown.
    pub fn age_grant(&self, token: &str, secs: i64) -> bool {
        let mut inner = self.lock();
        let grant = inner
            .refresh_tokens
            .get(token)
            .copied()
            .or_else(|| inner.access_tokens.get(token).map(|t| t.grant));
        let Some(grant) = grant else { return false };
        let age = |at: &mut u64| *at = at.saturating_add_signed(secs.saturating_neg());
        inner
            .access_tokens
            .values_mut()
            .filter(|t| t.grant == grant)
            .for_each(|t| age(&mut t.expires_at));
        inner
            .grants
            .get_mut(&grant)
            .map(|g| age(&mut g.refresh_expires_at))
            .is_some()
    }

    /// Takes one request's share of the token endpoint faults, if any are left: the faults of
    /// the grant whose refresh token `refresh_token` is, else those for everyone.
    pub(crate) fn next_token_fault(&self, refresh_token: Option<&str>) -> Option<TokenFaults> {
        let mut inner = self.lock();
        let grant = refresh_token.and_then(|token| inner.refresh_tokens.get(token).copied());
        let inner = &mut *inner;
        let faults = match grant
            .and_then(|g| inner.grant_faults.get_mut(&g))
            .filter(|f| f.remaining > 0)
        {
            Some(scoped) => scoped,
            None => &mut inner.token_faults,
        };
        (faults.remaining > 0).then(|| {
            faults.remaining -= 1;
            *faults
        })
    }

    /// Revokes every grant of the client (`DELETE /v1/installations/me`).
    pub fn revoke_all(&self) {
        let mut inner = self.lock();
        let grants: Vec<u64> = inner.grants.keys().copied().collect();
        for grant in grants {
            inner.revoke_grant(grant);
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than refusing every later request, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Starts a grant and issues its first tokens.
    pub fn issue_for_new_grant(
        &mut self,
        settings: &Settings,
        now: u64,
        scope: Vec<String>,
        user_id: String,
    ) -> (u64, IssuedTokens) {
        let id = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            id,
            Grant {
                scope,
                user_id,
                revoked: false,
                refresh_revoked: false,
                current_refresh: String::new(),
                previous_refresh: VecDeque::new(),
                refresh_expires_at: 0,
            },
        );
        (id, self.rotate(settings, now, id))
    }

    /// Issues a new access and refresh token for `grant`, invalidating all earlier ones at once.
    pub fn rotate(&mut self, settings: &Settings, now: u64, grant: u64) -> IssuedTokens {
        self.access_tokens.retain(|_, token| token.grant != grant);
        let access_token = opaque_value();
        let refresh_token = opaque_value();
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                grant,
                expires_at: now + settings.access_token_ttl,
            },
        );
        self.refresh_tokens.insert(refresh_token.clone(), grant);
        for token in [&access_token, &refresh_token] {
            if self.issued.len() == ISSUED_LOG {
                self.issued.pop_front();
            }
            self.issued.push_back(token.clone());
        }
        #[expect(
            clippy::expect_used,
            reason = "rotate is only called for a grant this store just found or made"
        )]
        let entry = self
            .grants
            .get_mut(&grant)
            .expect("rotate is called for a grant that exists");
        let replaced = std::mem::replace(&mut entry.current_refresh, refresh_token.clone());
        if !replaced.is_empty() {
            entry.previous_refresh.push_back(replaced);
        }
        if entry.previous_refresh.len() > REFRESH_HISTORY
            && let Some(forgotten) = entry.previous_refresh.pop_front()
        {
            self.refresh_tokens.remove(&forgotten);
        }
        entry.refresh_expires_at = now + settings.refresh_token_ttl;
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: settings.access_token_ttl,
            scope: entry.scope.clone(),
        }
    }

    /// Revokes every token of `grant` (replayed code, reused refresh token, uninstall).
    pub fn revoke_grant(&mut self, grant: u64) {
        if let Some(entry) = self.grants.get_mut(&grant) {
            entry.revoked = true;
        }
        self.access_tokens.retain(|_, token| token.grant != grant);
    }

    /// Drops consent requests and codes older than they may live, and dead grants (revoked,
    /// or past their refresh token's expiry) with every token and fault that names them. A
    /// redeemed code is kept while its grant lives, so that a replay still revokes it.
    pub fn sweep(&mut self, now: u64, code_ttl: u64) {
        self.pending.retain(|_, p| p.created_at + 600 > now);
        let dead: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.revoked || now >= g.refresh_expires_at)
            .map(|(id, _)| *id)
            .collect();
        for id in &dead {
            if let Some(grant) = self.grants.remove(id) {
                self.refresh_tokens.remove(&grant.current_refresh);
                for old in &grant.previous_refresh {
                    self.refresh_tokens.remove(old);
                }
            }
            self.grant_faults.remove(id);
        }
        if !dead.is_empty() {
            self.access_tokens.retain(|_, token| !dead.contains(&token.grant));
        }
        let grants = &self.grants;
        // A rate limit lives while its grant does and has calls left to refuse.
        self.rate_limited
            .retain(|grant, calls| *calls > 0 && grants.contains_key(grant));
        self.codes.retain(|_, c| match c.redeemed_grant {
            Some(grant) => grants.contains_key(&grant),
            None => c.expires_at + code_ttl > now,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(refresh_expires_at: u64) -> Grant {
        Grant {
            scope: vec!["users:read".into()],
            user_id: "u".into(),
            revoked: false,
            refresh_revoked: false,
            current_refresh: "rt".into(),
            previous_refresh: VecDeque::new(),
            refresh_expires_at,
        }
    }

    #[test]
    fn the_sweep_prunes_rate_limits_of_dead_grants_and_spent_ones() {
        let mut inner = Inner::default();
        inner.grants.insert(1, grant(5_000));
        inner.grants.insert(2, grant(5_000));
        inner.grants.insert(3, grant(1_500));
        inner.rate_limited.extend([(1, 2), (2, 0), (3, 2), (99, 2)]);
        inner.sweep(2_000, 60);
        assert_eq!(
            inner.rate_limited.into_iter().collect::<Vec<_>>(),
            [(1, 2)],
            "kept only for a live grant with calls left to refuse"
        );
        attack_cases::record_case(
            "Stand-in",
            "rate limits set on grants that then died, or that ran out",
            "pruned by the sweep with their grants: the stand-in's memory stays bounded",
        );
    }
}
