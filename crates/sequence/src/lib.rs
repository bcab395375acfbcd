//! The live sequence diagram of the walkthrough: who talks to whom, as it happens. Its messages
//! come from two records: what the browser did (its calls to the companion, its visit to the
//! authorisation server and the redirect back: [`BrowserEvent`]) and what the companion did
//! server side (the transcript, already redacted). They are merged by time, numbered, coloured
//! by the step of Pleo's guide they belong to, and drawn as SVG between four lifelines. Neither
//! record holds a secret or a token, so neither can the diagram: the transcript fingerprints
//! them, and the browser's record keeps paths and parameter names only.

use contract::FaultKnob;
use contract::routes::{CALLBACK_PATH, Route};
use contract::wire::{TranscriptEntry, TranscriptStep};

/// A lifeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The reader's browser: the page and its WebAssembly.
    Browser,
    /// The companion server (the confidential client).
    Companion,
    /// Pleo's authorisation server.
    AuthorizationServer,
    /// Pleo's API.
    Api,
}

impl Lane {
    /// Every lane, left to right.
    pub const ALL: [Self; 4] = [Self::Browser, Self::Companion, Self::AuthorizationServer, Self::Api];

    /// Its name on the diagram.
    pub fn name(self) -> &'static str {
        match self {
            Self::Browser => "Browser",
            Self::Companion => "Companion",
            Self::AuthorizationServer => "Auth server",
            Self::Api => "Pleo API",
        }
    }

    /// Its one-letter code in [`BrowserEvent::to_line`].
    fn code(self) -> char {
        match self {
            Self::Browser => 'b',
            Self::Companion => 'c',
            Self::AuthorizationServer => 'a',
            Self::Api => 'p',
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|lane| code.starts_with(lane.code()) && code.len() == 1)
    }

    /// Its lifeline's x in the drawing.
    fn x(self) -> u32 {
        let index = Self::ALL.iter().position(|lane| *lane == self).unwrap_or(0);
        LANE_X0 + LANE_GAP * index as u32
    }
}

/// Something the browser did or saw, as the diagram records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserEvent {
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Who sent it.
    pub from: Lane,
    /// Who received it.
    pub to: Lane,
    /// Method, path and status, e.g. `POST /api/token 200`.
    pub label: String,
}

impl BrowserEvent {
    /// A call of the page to the companion at `url` (absolute or a path; the diagram shows the
    /// path), `status` 0 when no answer came.
    pub fn call(at_ms: u64, method: &str, url: &str, status: u16) -> Self {
        let path = path_of(url);
        let status = if status == 0 {
            "no answer".to_owned()
        } else {
            status.to_string()
        };
        Self {
            at_ms,
            from: Lane::Browser,
            to: Lane::Companion,
            label: format!("{method} {path} {status}"),
        }
    }

    /// The browser sent to the authorisation server's `authorize_url` (its path only: the query
    /// carries the state and the challenge, which are shown in step 2).
    pub fn authorize(at_ms: u64, authorize_url: &str) -> Self {
        Self {
            at_ms,
            from: Lane::Browser,
            to: Lane::AuthorizationServer,
            label: format!("GET {}", path_of(authorize_url).split('?').next().unwrap_or_default()),
        }
    }

    /// The authorisation server's redirect back to the callback, with these parameter names.
    pub fn callback(at_ms: u64, parameter_names: &[String]) -> Self {
        Self {
            at_ms,
            from: Lane::AuthorizationServer,
            to: Lane::Browser,
            label: format!("302 → {CALLBACK_PATH} ({})", parameter_names.join(", ")),
        }
    }

    /// One line of text, for the tab's storage: `at \t from \t to \t label`.
    pub fn to_line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}",
            self.at_ms,
            self.from.code(),
            self.to.code(),
            self.label
        )
    }

    /// The event a [`BrowserEvent::to_line`] line holds, if it is one.
    pub fn from_line(line: &str) -> Option<Self> {
        let mut fields = line.splitn(4, '\t');
        Some(Self {
            at_ms: fields.next()?.parse().ok()?,
            from: Lane::from_code(fields.next()?)?,
            to: Lane::from_code(fields.next()?)?,
            label: fields.next()?.to_owned(),
        })
    }
}

/// A URL's path and query (everything after the authority), or the text as it is.
pub fn path_of(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

/// One arrow of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its number, from 1.
    pub number: usize,
    /// Who sent it.
    pub from: Lane,
    /// Who received it.
    pub to: Lane,
    /// Method, path and status.
    pub label: String,
    /// The step of Pleo's guide it belongs to (2 to 6).
    pub step: u8,
    /// The whole exchange, as the detail view shows it.
    pub detail: String,
}

/// The step of the guide a browser event belongs to, by the path it names (the companion's
/// routes from `contract::routes`).
fn step_of(label: &str) -> u8 {
    let path = label
        .split_whitespace()
        .find(|word| word.starts_with('/'))
        .unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    match Route::of_path(path) {
        Some(Route::AuthorizeStart | Route::CookieCheck) => 2,
        Some(Route::Token | Route::Handoff | Route::HandoffTake) => 3,
        Some(Route::Pleo) => 4,
        Some(Route::Refresh) => 5,
        Some(Route::Faults) if path.ends_with(FaultKnob::RefreshRace.as_str()) => 5,
        Some(_) => 6,
        None if path == CALLBACK_PATH => 3,
        // The authorisation server's authorization endpoint, wherever it is.
        None if path.ends_with("/authorize") => 2,
        None => 6,
    }
}

/// The step of the guide a server-side exchange belongs to.
fn step_of_entry(step: TranscriptStep) -> u8 {
    match step {
        TranscriptStep::TokenExchange => 3,
        TranscriptStep::ApiCall => 4,
        TranscriptStep::Refresh => 5,
        TranscriptStep::Disconnect => 6,
    }
}

/// A transcript entry as the detail view shows it: request, headers, body, answer.
fn entry_detail(entry: &TranscriptEntry) -> String {
    let mut text = format!("{} {}\n", entry.method, entry.url);
    for (name, value) in &entry.request_headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(body) = &entry.request_body {
        text.push_str(&format!("\n{body}\n"));
    }
    match entry.status {
        Some(status) => text.push_str(&format!("\n→ {status} in {} ms\n", entry.duration_ms)),
        None => text.push_str("\n→ no answer\n"),
    }
    for more in [&entry.response_body, &entry.error].into_iter().flatten() {
        text.push_str(more);
        text.push('\n');
    }
    text
}

/// The diagram's messages: the browser's events and the companion's transcript, each already
/// oldest first, merged by time (on a tie, the browser's first: its call is what made the
/// companion act), and numbered. A merge, not a sort: a sort of these records cost the wasm
/// 3 KB.
pub fn messages(browser: &[BrowserEvent], transcript: &[TranscriptEntry]) -> Vec<Message> {
    let mut out = Vec::with_capacity(browser.len() + transcript.len());
    let (mut browser, mut transcript) = (browser.iter().peekable(), transcript.iter().peekable());
    loop {
        let number = out.len() + 1;
        let browser_first = match (browser.peek(), transcript.peek()) {
            (Some(event), Some(entry)) => event.at_ms <= entry.started_at_ms,
            (next, _) => next.is_some(),
        };
        let message = if browser_first {
            browser.next().map(|event| browser_message(number, event))
        } else {
            transcript.next().map(|entry| companion_message(number, entry))
        };
        match message {
            Some(message) => out.push(message),
            None => return out,
        }
    }
}

/// Message `number`: something the browser did or saw.
fn browser_message(number: usize, event: &BrowserEvent) -> Message {
    Message {
        number,
        from: event.from,
        to: event.to,
        label: event.label.clone(),
        step: step_of(&event.label),
        detail: format!(
            "{}\n\nThe browser's own request or redirect: its cookies are HttpOnly, and it holds no token.",
            event.label
        ),
    }
}

/// Message `number`: one server-side exchange of the companion.
fn companion_message(number: usize, entry: &TranscriptEntry) -> Message {
    let to = match entry.step {
        TranscriptStep::TokenExchange | TranscriptStep::Refresh => Lane::AuthorizationServer,
        TranscriptStep::ApiCall | TranscriptStep::Disconnect => Lane::Api,
    };
    let status = entry.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    Message {
        number,
        from: Lane::Companion,
        to,
        label: format!("{} {} {status}", entry.method, path_of(&entry.url)),
        step: step_of_entry(entry.step),
        detail: entry_detail(entry),
    }
}

/// The x of the first lifeline, and the gap between two.
const LANE_X0: u32 = 30;
const LANE_GAP: u32 = 95;
/// The drawing's width.
const WIDTH: u32 = 2 * LANE_X0 + 3 * LANE_GAP;
/// The y of the first message, and the height of each.
const FIRST_Y: u32 = 48;
const ROW: u32 = 30;
/// The width of a label character (11 px monospace), for cutting labels to the room they have.
const CHAR_WIDTH: f32 = 6.7;

/// The steps the legend names, with their colour's name in it.
const LEGEND: [(u8, &str); 5] = [
    (2, "2 authorise"),
    (3, "3 code"),
    (4, "4 API"),
    (5, "5 refresh"),
    (6, "6 revoke"),
];
/// The legend's height below the last message.
const LEGEND_HEIGHT: u32 = 24;

/// The colour of a step's arrows: mid tones, legible on the light and the dark theme.
fn colour(step: u8) -> &'static str {
    match step {
        2 => "#3b82f6",
        3 => "#8b5cf6",
        4 => "#14b8a6",
        5 => "#f59e0b",
        _ => "#f43f5e",
    }
}

/// `text` safe inside an SVG element or attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to `chars` characters, with an ellipsis when cut.
fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(chars.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// The diagram as SVG: the lifelines, one numbered arrow per message, each a link
/// (`data-message` = its number) that the page opens in the detail view, and the legend of the
/// steps' colours.
pub fn svg(messages: &[Message]) -> String {
    let lines_end = FIRST_Y + ROW * messages.len() as u32 - ROW / 2;
    let height = lines_end + LEGEND_HEIGHT;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" \
         font-size=\"11\" fill=\"currentColor\"><title>Sequence diagram: {} messages</title>",
        messages.len()
    );
    for lane in Lane::ALL {
        let x = lane.x();
        out.push_str(&format!(
            "<text x=\"{x}\" y=\"14\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\">{}</text>\
             <line x1=\"{x}\" y1=\"22\" x2=\"{x}\" y2=\"{lines_end}\" stroke=\"currentColor\" stroke-opacity=\".35\" stroke-dasharray=\"3 3\"/>",
            lane.name()
        ));
    }
    for message in messages {
        let y = FIRST_Y + ROW * (message.number as u32 - 1);
        let (from, to) = (message.from.x(), message.to.x());
        let left = from.min(to);
        let room = ((WIDTH - left - 4) as f32 / CHAR_WIDTH) as usize;
        let text = format!("{}. {}", message.number, message.label);
        let colour = colour(message.step);
        // The arrowhead points from `from` towards `to`.
        let head = if to > from {
            format!("M{to},{y}l-7,-4v8z")
        } else {
            format!("M{to},{y}l7,-4v8z")
        };
        out.push_str(&format!(
            "<a href=\"#sequence-detail\" data-message=\"{n}\" data-step=\"{step}\"><title>{n}. {label}, {from_name} to {to_name}</title>\
             <text x=\"{tx}\" y=\"{ty}\" font-family=\"ui-monospace, monospace\">{shown}</text>\
             <line x1=\"{from}\" y1=\"{y}\" x2=\"{to}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <path d=\"{head}\" fill=\"{colour}\"/></a>",
            n = message.number,
            step = message.step,
            from_name = message.from.name(),
            to_name = message.to.name(),
            label = escape(&message.label),
            tx = left + 4,
            ty = y - 5,
            shown = escape(&cut(&text, room)),
        ));
    }
    // Each entry as wide as its swatch and name (10 px type: 6 px a character).
    let mut x = 2;
    for (step, name) in LEGEND {
        let y = height - 8;
        out.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"3\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\">{name}</text>",
            x + 10,
            colour(step),
            x + 13,
            y + 3
        ));
        x += 13 + 6 * name.len() as u32 + 8;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(step: TranscriptStep, at: u64, method: &str, url: &str, status: u16) -> TranscriptEntry {
        let mut entry = TranscriptEntry::new(step, at, method, url);
        entry.status = Some(status);
        entry.request_headers = vec![("Authorization".to_owned(), "Basic ••••".to_owned())];
        entry.request_body = Some("grant_type=authorization_code&code=%5Bredacted+sha256%3A1%5D".to_owned());
        entry
    }

    /// The flow of steps 2 to 4, as the browser and the companion record it.
    fn sign_in_and_call() -> Vec<Message> {
        let browser = [
            BrowserEvent::call(100, "POST", "/api/authorize/start", 204),
            BrowserEvent::authorize(101, "https://auth.example/oauth/authorize?state=s&code_challenge=c"),
            BrowserEvent::callback(300, &["code".to_owned(), "state".to_owned(), "iss".to_owned()]),
            BrowserEvent::call(310, "POST", "/api/token", 200),
            BrowserEvent::call(400, "GET", "http://localhost:3000/api/pleo/v2/employees", 200),
        ];
        let transcript = [
            entry(
                TranscriptStep::TokenExchange,
                310,
                "POST",
                "https://auth.example/oauth/token",
                200,
            ),
            entry(
                TranscriptStep::ApiCall,
                401,
                "GET",
                "https://api.example/v2/employees",
                200,
            ),
        ];
        messages(&browser, &transcript)
    }

    #[test]
    fn the_browser_and_the_companion_merge_in_order_with_the_browser_first_on_a_tie() {
        let messages = sign_in_and_call();
        let arrows: Vec<(usize, Lane, Lane, &str, u8)> = messages
            .iter()
            .map(|m| (m.number, m.from, m.to, m.label.as_str(), m.step))
            .collect();
        use Lane::*;
        assert_eq!(
            arrows,
            [
                (1, Browser, Companion, "POST /api/authorize/start 204", 2),
                (2, Browser, AuthorizationServer, "GET /oauth/authorize", 2),
                (3, AuthorizationServer, Browser, "302 → /callback (code, state, iss)", 3),
                (4, Browser, Companion, "POST /api/token 200", 3),
                (5, Companion, AuthorizationServer, "POST /oauth/token 200", 3),
                (6, Browser, Companion, "GET /api/pleo/v2/employees 200", 4),
                (7, Companion, Api, "GET /v2/employees 200", 4),
            ]
        );
        assert!(
            messages[4].detail.contains("Authorization: Basic ••••\n"),
            "{}",
            messages[4].detail
        );
        assert!(messages[4].detail.contains("→ 200 in 0 ms"), "{}", messages[4].detail);
    }

    #[test]
    fn browser_events_survive_the_tabs_storage_and_refuse_anything_else() {
        for event in [
            BrowserEvent::call(1, "POST", "/api/refresh", 0),
            BrowserEvent::callback(2, &["error".to_owned()]),
            BrowserEvent::authorize(3, "/oauth/authorize"),
        ] {
            assert_eq!(BrowserEvent::from_line(&event.to_line()), Some(event));
        }
        assert_eq!(
            BrowserEvent::call(1, "POST", "/api/refresh", 0).label,
            "POST /api/refresh no answer"
        );
        for line in ["", "x\tb\tc\tlabel", "1\tz\tc\tlabel", "1\tbb\tc\tlabel", "1\tb\tc"] {
            assert_eq!(BrowserEvent::from_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn the_svg_has_four_lifelines_a_link_per_message_and_escaped_cut_labels() {
        let mut messages = sign_in_and_call();
        messages[5].label =
            "GET /api/pleo/v2/employees?limit=10&after=<script>&x=very-long-cursor-value-here 200".to_owned();
        let svg = svg(&messages);
        for lane in Lane::ALL {
            assert!(svg.contains(&format!(">{}</text>", lane.name())), "{}", lane.name());
        }
        assert_eq!(svg.matches("<a href=\"#sequence-detail\"").count(), messages.len());
        assert!(svg.contains("data-message=\"7\" data-step=\"4\""));
        assert!(!svg.contains("<script>"), "labels are escaped");
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains('…'), "a long label is cut to its room");
        assert!(
            svg.contains("viewBox=\"0 0 345 267\""),
            "48 + 7 rows of 30 - 15, and the legend"
        );
        assert!(svg.contains(">4 API</text>"), "the legend");
    }

    #[test]
    fn a_label_keeps_to_the_room_right_of_its_arrow() {
        assert_eq!(cut("abcdef", 6), "abcdef");
        assert_eq!(cut("abcdefg", 6), "abcde…");
        assert_eq!(
            path_of("https://api.example/v2/employees?limit=1"),
            "/v2/employees?limit=1"
        );
        assert_eq!(path_of("/api/token"), "/api/token");
        assert_eq!(step_of("POST /api/faults/refresh-race 401"), 5);
        assert_eq!(step_of("POST /api/faults/rate-limit 200"), 6);
    }
}
