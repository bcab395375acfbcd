//! Where the process is in its life: serving, or shutting down (after SIGTERM or Ctrl-C), which
//! `/readyz` reports so that a load balancer stops sending before the listener closes.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a shutdown has begun. Cheap to read on every probe.
#[derive(Debug, Default)]
pub struct Lifecycle {
    shutting_down: AtomicBool,
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
}
