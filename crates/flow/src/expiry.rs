//! Token expiry arithmetic, in whole seconds since the Unix epoch.

/// Refresh at most this many seconds before expiry, for clock skew and request time: the
/// companion refreshes then, and the app's countdown says "refresh due" then.
pub const REFRESH_SKEW_SECS: u64 = 30;

/// The share of a token's lifetime that the refresh margin may take at most: a half, so a
/// short-lived token serves at least half its life between refreshes (a burst of calls shorter
/// than that refreshes it once).
pub const REFRESH_MARGIN_DIVISOR: u64 = 2;

/// Seconds before expiry to refresh a token that lives `expires_in` seconds: the smaller of
/// [`REFRESH_SKEW_SECS`] and half its lifetime. A fixed 30 s made a token of 30 s or
/// less due at once, so every call refreshed it (and Pleo rotates the refresh token each time).
pub fn refresh_margin(expires_in: u64) -> u64 {
    REFRESH_SKEW_SECS.min(expires_in / REFRESH_MARGIN_DIVISOR)
}

/// When a token issued at `now` with `expires_in` seconds of life expires (RFC 6749 §5.1).
pub fn expires_at(now: u64, expires_in: u64) -> u64 {
    now.saturating_add(expires_in)
}

/// Whether a token expiring at `expires_at` should be refreshed now, `skew` seconds early so
/// that clock differences and request time never make the API see an expired token.
pub fn should_refresh(now: u64, expires_at: u64, skew: u64) -> bool {
    now.saturating_add(skew) >= expires_at
}

/// Seconds until `expires_at`, zero once it has passed.
pub fn seconds_left(now: u64, expires_at: u64) -> u64 {
    expires_at.saturating_sub(now)
}

/// The servers' clock: seconds since the Unix epoch, shifted by an offset that tests (and the
/// stand-in's fault knobs) can move; clones share the offset.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Default)]
pub struct Clock {
    shift: alloc::sync::Arc<core::sync::atomic::AtomicI64>,
}

#[cfg(feature = "std")]
impl Clock {
    /// Now, in seconds since the Unix epoch, with the shift applied.
    pub fn now(&self) -> u64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        wall.saturating_add_signed(self.shift.load(core::sync::atomic::Ordering::Relaxed))
    }

    /// Moves the clock by `seconds` (may be negative).
    pub fn shift_by(&self, seconds: i64) {
        self.shift.fetch_add(seconds, core::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_happens_skew_seconds_early() {
        let at = expires_at(1_000, 900);
        assert_eq!(at, 1_900);
        assert!(!should_refresh(1_869, at, 30));
        assert!(should_refresh(1_870, at, 30));
        assert!(should_refresh(5_000, at, 30));
        assert_eq!(seconds_left(1_850, at), 50);
        assert_eq!(seconds_left(2_000, at), 0);
        assert_eq!(expires_at(u64::MAX, 10), u64::MAX);
    }

    #[test]
    fn the_margin_is_30_seconds_or_half_a_short_lifetime() {
        assert_eq!(refresh_margin(900), 30);
        assert_eq!(refresh_margin(60), 30);
        assert_eq!(refresh_margin(40), 20);
        assert_eq!(refresh_margin(8), 4);
        assert_eq!(refresh_margin(0), 0);
        // An 8 s token issued at 1000 is not due until 1004: a burst right after a refresh
        // uses it instead of refreshing again.
        let at = expires_at(1_000, 8);
        assert!(!should_refresh(1_001, at, refresh_margin(8)));
        assert!(!should_refresh(1_003, at, refresh_margin(8)));
        assert!(should_refresh(1_004, at, refresh_margin(8)));
        // With the fixed 30 s it was due the moment it was issued.
        assert!(should_refresh(1_000, at, REFRESH_SKEW_SECS));
        attack_cases::record_case(
            "Callback and flow",
            "access tokens that live 30 s or less (8 s), called in bursts",
            "refreshed in the second half of their life (the margin is the smaller of 30 s and half the lifetime), not on every call",
        );
    }
}
