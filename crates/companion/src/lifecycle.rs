//! Where the process is in its life: serving, or shutting down (after SIGTERM or Ctrl-C), which
//! `/readyz` reports so that a load balancer stops sending before the listener closes.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a shutdown has begun, and whether the session store answered the last probe. Cheap
/// to read on every probe.
#[derive(Debug, Default)]
pub struct Lifecycle {
    shutting_down: AtomicBool,
    /// The last probe found the session store not answering.
    store_down: AtomicBool,
}

impl Lifecycle {
    /// Marks the process as shutting down: `/readyz` answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether a shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Notes whether the session store answered a probe; `true` when that differs from the
    /// probe before (so that a change is logged once, not at every probe).
    pub fn note_session_store(&self, up: bool) -> bool {
        self.store_down.swap(!up, Ordering::SeqCst) == up
    }
}
