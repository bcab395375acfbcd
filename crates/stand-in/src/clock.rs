//! The stand-in's clock: wall time plus a shift that the fault knobs can move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, shifted by a settable offset (shared by clones).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    shift: Arc<AtomicI64>,
}

impl Clock {
    /// Now, in seconds since the Unix epoch, with the shift applied.
    pub fn now(&self) -> u64 {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        wall.saturating_add_signed(self.shift.load(Ordering::Relaxed))
    }

    /// Moves the clock by `seconds` (may be negative).
    pub fn shift_by(&self, seconds: i64) {
        self.shift.fetch_add(seconds, Ordering::Relaxed);
    }
}
