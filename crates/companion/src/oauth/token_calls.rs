//! Token-endpoint calls that outlive the request that started them.
//!
//! A handler's future is dropped when its client goes away (a reader closes the tab) and when a
//! shutdown's grace runs out. A code exchange or a refresh, once sent, has an effect at the
//! authorisation server whatever the browser does next: Pleo rotates the refresh token and
//! revokes the grant when an old one comes back (RFC 9700 §4.14.2), and a code is single use
//! (RFC 6749 §4.1.2). So each such call runs in a task of `AppState::token_calls` that the
//! handler only awaits: dropping the handler leaves the task to present, read and write the
//! outcome; shutdown waits for the tracker before the process exits (`main.rs`).

use std::future::Future;

use flow::ErrorCode;
use tokio_util::task::TaskTracker;

use crate::error::AppError;

/// Runs `work` to its end in a task of `tracker` (the state's `token_calls`) and returns its
/// outcome to a caller that is still there; a caller that goes away leaves it running.
pub async fn run_to_end<T, Work>(tracker: &TaskTracker, work: Work) -> Result<T, AppError>
where
    Work: Future<Output = Result<T, AppError>> + Send + 'static,
    T: Send + 'static,
{
    match tracker.spawn(work).await {
        Ok(outcome) => outcome,
        Err(e) => {
            // Only a panic in the task gets here (the runtime never cancels a tracked task).
            tracing::error!("a token-endpoint task ended without an outcome: {e}");
            Err(AppError::new(ErrorCode::Internal))
        }
    }
}
