//! What the browser did, for the sequence diagram: its protocol calls to the companion, its visit
//! to the authorisation server and the redirect back ([`sequence::BrowserEvent`]). Kept in memory
//! and in this tab's sessionStorage (one line an event), so the sign-in's redirect, which
//! reloads the page, does not lose the start of the story; a frame whose storage is blocked
//! keeps it in memory only (its sign-in runs in a pop-up, without leaving the page).

use std::cell::RefCell;

use sequence::BrowserEvent;

const KEY: &str = "pleo-walkthrough.sequence";
/// The most events kept (the oldest go first).
const MAX_EVENTS: usize = 100;

thread_local! {
    static EVENTS: RefCell<Option<Vec<BrowserEvent>>> = const { RefCell::new(None) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Runs `f` on the events, loaded from the tab's storage the first time.
fn with_events<T>(f: impl FnOnce(&mut Vec<BrowserEvent>) -> T) -> T {
    EVENTS.with_borrow_mut(|events| {
        let events = events.get_or_insert_with(|| {
            let stored = storage()
                .and_then(|s| s.get_item(KEY).ok().flatten())
                .unwrap_or_default();
            stored.lines().filter_map(BrowserEvent::from_line).collect()
        });
        f(events)
    })
}

/// Milliseconds since the Unix epoch, as the companion's transcript counts them.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Records `event` in time order: a call is stamped when it starts and recorded when it ends,
/// so one that overlaps another (the binding sent while the pop-up opens) comes in late, and
/// the diagram merges these events as a sorted list.
pub fn record(event: BrowserEvent) {
    with_events(|events| {
        let at = events.partition_point(|e| e.at_ms <= event.at_ms);
        events.insert(at, event);
        let excess = events.len().saturating_sub(MAX_EVENTS);
        events.drain(..excess);
        if let Some(storage) = storage() {
            let lines: Vec<String> = events.iter().map(BrowserEvent::to_line).collect();
            let _ = storage.set_item(KEY, &lines.join("\n"));
        }
    });
}

/// Every recorded event, oldest first.
pub fn events() -> Vec<BrowserEvent> {
    with_events(|events| events.clone())
}
