//! Step 4: Pleo's API through the companion, with an explorer over the catalog.

use contract::CATALOG;
use contract::wire::TranscriptStep;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::api;
use crate::live::Live;
use crate::views::step_card::{StepCard, StepGuide};
use crate::views::widgets::{ErrorNotice, JsonViewer, Progress, TranscriptList};

/// A member of a parsed JSON value (`undefined` when absent).
fn member(value: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The body parsed by the browser's `JSON` (as it is for pretty-printing), if it is JSON.
fn parsed(body: &str) -> Option<JsValue> {
    js_sys::JSON::parse(body).ok().filter(JsValue::is_object)
}

/// A one-line summary of Pleo's `pagination` object, if the body is a list that has one. The
/// browser's `JSON` reads it: typed serde structs for these members cost 1.3 KB gzipped.
pub fn pagination_summary(body: &str) -> Option<String> {
    let page = parsed(body)?;
    let pagination = Some(member(&page, "pagination")).filter(JsValue::is_object)?;
    let data = member(&page, "data");
    let items = if js_sys::Array::is_array(&data) {
        js_sys::Array::from(&data).length()
    } else {
        0
    };
    let flag = |name: &str| member(&pagination, name).as_bool().unwrap_or(false);
    Some(format!(
        "{items} item(s) here, {} in all; next page: {}, previous page: {}",
        member(&pagination, "total")
            .as_f64()
            .map_or_else(|| "?".to_owned(), |t| (t as u64).to_string()),
        flag("hasNextPage"),
        flag("hasPreviousPage"),
    ))
}

/// The paths of the previous and next pages of a list answer, from Pleo's cursors
/// (`before=startCursor`, `after=endCursor`), where there is such a page. `path` is the path as
/// called; its query is replaced.
fn page_paths(path: &str, body: &str) -> [Option<String>; 2] {
    let pagination = parsed(body)
        .map(|page| member(&page, "pagination"))
        .unwrap_or(JsValue::UNDEFINED);
    let base = path.split('?').next().unwrap_or(path);
    let page = |flag: &str, cursor: &str, parameter: &str| {
        member(&pagination, flag).as_bool().filter(|more| *more)?;
        // Opaque: whatever characters the API chose, encoded for the query.
        let cursor = String::from(js_sys::encode_uri_component(&member(&pagination, cursor).as_string()?));
        Some(format!("{base}?limit=10&{parameter}={cursor}"))
    };
    [
        page("hasPreviousPage", "startCursor", "before"),
        page("hasNextPage", "endCursor", "after"),
    ]
}

/// The first `data[].id` of a list response, to offer for the `{id}` endpoints.
fn first_id(body: &str) -> Option<String> {
    let data = member(&parsed(body)?, "data");
    js_sys::Array::is_array(&data)
        .then(|| member(&js_sys::Array::from(&data).get(0), "id").as_string())
        .flatten()
}

/// Step 4 of Pleo's guide.
#[component]
pub fn StepApi(
    /// Collapse the step's explanation (documentation pages).
    compact: bool,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let guide = StepGuide {
        number: 4,
        title: "Call Pleo's API",
        purpose: "Use the access token to read the organisation's data.",
        input: "An API path on the allow-list; the companion adds Authorization: Bearer.",
        output: "Pleo's JSON, with status and timing; errors by status (401 token, 403 scope, 404, 5xx).",
        why: "The browser never holds the token: a cross-site script on this page could not steal it.",
    };
    let selected = RwSignal::new(0usize);
    let id = RwSignal::new(String::new());
    let call = Action::new_local(move |path: &String| {
        let path = path.clone();
        async move {
            let outcome = api::call_api(&path).await;
            // A list's first id fills the `{id}` field, unless the reader typed one.
            if let Ok(c) = &outcome
                && let Some(found) = first_id(&c.body)
                && id.get_untracked().is_empty()
            {
                id.set(found);
            }
            live.reload_session();
            outcome
        }
    });
    let busy = call.pending();
    let call_selected = move |_| {
        let endpoint = CATALOG[selected.get_untracked()];
        call.dispatch(endpoint.with_id(id.get_untracked().trim()));
    };
    let call_employees = move |_| {
        call.dispatch("v2/employees".to_owned());
    };
    view! {
        <StepCard guide=guide compact=compact>
            <p><button id="call-employees" class="primary" on:click=call_employees disabled=move || busy.get()>"Call GET /v2/employees"</button></p>
            <fieldset class="explorer">
                <legend>"API explorer"</legend>
                {CATALOG.iter().enumerate().map(|(i, e)| view! {
                    <label class="endpoint">
                        <input type="radio" name="endpoint" value=i.to_string() checked=i == 0 on:change=move |_| selected.set(i)/>
                        <code>{format!("GET /{}", e.path)}</code>
                        <span class="scope" data-granted=move || live.granted(e.scope).map(|g| g.to_string())>{e.scope.map_or_else(|| "any scope".to_owned(), |s| format!("scope {s}"))}</span>
                        <span class="muted">{e.about}</span>
                    </label>
                }).collect_view()}
                <label>"id for {id}: " <input type="text" id="endpoint-id" prop:value=move || id.get() on:input=move |ev| id.set(event_target_value(&ev)) placeholder="filled from the last list"/></label>
                <button id="call-selected" on:click=call_selected disabled=move || busy.get()>"Send"</button>
            </fieldset>
            {move || busy.get().then(|| view! { <Progress text="Calling the API through the companion…"/> })}
            {move || call.value().get().map(|r| match r {
                Ok(c) => view! {
                    <p class="result-line">
                        <code>{c.label.clone()}</code>" → "
                        <strong data-testid="api-status">{c.status}</strong>
                        {format!(" in {} ms", c.browser_ms.round() as u64)}
                        {c.upstream_ms.map(|ms| format!(" (API {ms} ms)"))}
                    </p>
                    {pagination_summary(&c.body).map(|p| {
                        let [previous, next] = page_paths(c.label.trim_start_matches("GET /"), &c.body);
                        let (no_previous, no_next) = (previous.is_none(), next.is_none());
                        view! {
                            <p class="pagination" data-testid="pagination">{p}" "
                                <button id="page-previous" disabled=no_previous on:click=move |_| { call.dispatch(previous.clone().unwrap_or_default()); }>"← Previous page (before)"</button>" "
                                <button id="page-next" disabled=no_next on:click=move |_| { call.dispatch(next.clone().unwrap_or_default()); }>"Next page (after) →"</button>
                            </p>
                        }
                    })}
                    {(c.status == 403).then(|| view! {
                        <p class="hint" data-testid="scope-hint">"403: the access token lacks the scope this endpoint needs (insufficient_scope, RFC 6750 §3.1). Tick it in step 2 and authorise again."</p>
                    })}
                    <JsonViewer body=c.body.clone()/>
                }.into_any(),
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
            })}
            <h3>"On the companion"</h3>
            <TranscriptList steps=&[TranscriptStep::ApiCall]/>
        </StepCard>
    }
}
