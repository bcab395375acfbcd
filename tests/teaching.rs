//! The walkthrough teaching by showing, in every engine against the stand-in: each
//! server-side exchange copied as curl, fetch and Rust, run after filling in the environment
//! variables; the session downloaded as HAR, valid against HAR 1.2's schemas and without a
//! secret; the refresh-race lab, failing without the lock and not with it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use e2e_harness::{
    Browser, Engine, Mode, SECRET, Walkthrough, assert_nothing_secret_reached_the_browser, eventually,
    sign_in_and_call_the_api,
};

/// The snippet the page shows after clicking `language` on the newest entry of kind `step`
/// inside `#step_id`.
async fn copied(browser: &Browser, step_id: &str, step: &str, language: &str) -> String {
    let entry = format!("#{step_id} .transcript-entry[data-step={step}]:last-child");
    browser
        .click(&format!("{entry} button[data-language={language}]"))
        .await;
    let pre = format!("{entry} pre.snippet");
    eventually(&format!("no {language} snippet in {entry}"), async || {
        let text = browser.text(&pre).await;
        if text.is_empty() {
            return Err("it is empty".to_owned());
        }
        Ok(browser
            .find(&pre)
            .await
            .prop("textContent")
            .await
            .unwrap()
            .unwrap_or(text))
    })
    .await
}

/// Runs `program` with `args` and `env`, `input` on its standard input; its standard output.
fn run(program: &str, args: &[&str], env: &[(&str, &str)], input: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn copied_snippets_run_against_the_stand_in_and_the_har_is_valid_and_redacted(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "take-home").await;
    browser.click("#refresh-now").await;
    browser
        .wait_for_text("#step-5 [data-testid=outcome]", "Refreshed")
        .await;

    // Copy as: every language of the API call, and the refresh as curl.
    let api_curl = copied(&browser, "step-4", "api_call", "curl").await;
    let api_fetch = copied(&browser, "step-4", "api_call", "fetch").await;
    let api_rust = copied(&browser, "step-4", "api_call", "reqwest").await;
    browser.screenshot_of("step-4", "take-home-1-copy-as").await;
    let refresh_curl = copied(&browser, "step-5", "refresh", "curl").await;
    for snippet in [&api_curl, &api_fetch, &api_rust, &refresh_curl] {
        assert!(!snippet.contains("redacted"), "{snippet}");
    }
    assert!(
        api_rust.contains(".bearer_auth(env(\"PLEO_ACCESS_TOKEN\")?)"),
        "{api_rust}"
    );
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;

    // Filled in with what the companion holds now, they work against the stand-in.
    let (access, refresh) = wt.stand_in.newest_tokens().expect("a grant with tokens");
    let employees = run("bash", &[], &[("PLEO_ACCESS_TOKEN", &access)], &api_curl);
    assert!(employees.contains("\"data\""), "curl of the API call: {employees}");
    let fetched = run(
        "node",
        &["--input-type=module"],
        &[("PLEO_ACCESS_TOKEN", &access)],
        &api_fetch,
    );
    assert!(
        fetched.starts_with("200 ") && fetched.contains("\"data\""),
        "fetch of the API call: {fetched}"
    );
    let refreshed = run(
        "bash",
        &[],
        &[("PLEO_CLIENT_SECRET", SECRET), ("PLEO_REFRESH_TOKEN", &refresh)],
        &refresh_curl,
    );
    let tokens: serde_json::Value = serde_json::from_str(&refreshed).unwrap_or_else(|_| panic!("{refreshed}"));
    assert!(
        tokens["access_token"].is_string() && tokens["refresh_token"].is_string(),
        "curl of the refresh: {refreshed}"
    );

    // The HAR, as the download link fetches it in the browser.
    let link = browser.find("#download-har").await;
    assert!(link.attr("download").await.unwrap().is_some(), "the link downloads");
    let href = link.attr("href").await.unwrap().unwrap();
    let har = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then(r => r.text()).then(done, e => done('fetch failed: ' + e));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    let har = har.as_str().unwrap().to_owned();
    let validator = e2e_harness::har_validator_path();
    let verdict = run(
        "node",
        &[
            "-e",
            "const v = require(process.argv[1]); let t = ''; process.stdin.on('data', d => t += d).on('end', () => \
             v.har(JSON.parse(t)).then(() => console.log('valid'), e => { console.log(JSON.stringify(e.errors)); process.exit(1); }));",
            &validator.display().to_string(),
        ],
        &[],
        &har,
    );
    assert_eq!(verdict.trim(), "valid");
    let parsed: serde_json::Value = serde_json::from_str(&har).unwrap();
    let steps: Vec<&str> = parsed["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["comment"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["token_exchange", "api_call", "refresh"]);
    for secret in wt.forbidden_strings() {
        assert!(!har.contains(&secret), "a secret or token is in the HAR");
    }
    browser.close().await;
}

async fn the_refresh_race_lab_revokes_the_grant_without_the_lock_and_not_with_it(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    sign_in_and_call_the_api(&browser, &wt, "lab").await;
    browser.click("#refresh-race").await;
    assert_eq!(browser.error_code("#step-5").await, "reauthorization_required");
    browser.wait_for_text("#step-5", "revoked the whole grant").await;
    let mut statuses = vec![];
    for status in browser
        .client
        .find_all(fantoccini::Locator::Css(
            "#step-5 .transcript-entry[data-step=refresh] [data-testid=transcript-status]",
        ))
        .await
        .unwrap()
    {
        statuses.push(status.text().await.unwrap());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        ["200", "400"],
        "one refresh rotated the token, the other presented the old one"
    );
    assert_eq!(wt.stand_in.grants_revoked_for_reuse(), 1);
    browser.screenshot_of("step-5", "lab-1-race-without-the-lock").await;

    // Authorise again, then the same burst with one refresh at a time.
    browser.click("#step-5 [data-testid=authorize-again]").await;
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    browser.click("#single-flight").await;
    let proof = browser
        .wait_for_text("#step-5 [data-testid=outcome]", "after 1 refresh")
        .await;
    assert!(proof.contains("[200, 200, 200, 200, 200]"), "{proof}");
    assert_eq!(wt.stand_in.grants_revoked_for_reuse(), 1, "no second revocation");
    browser.screenshot_of("step-5", "lab-2-burst-with-the-lock").await;
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

async fn scopes_picked_in_step_2_decide_what_the_explorer_opens_pages_turn_and_a_rate_limit_is_waited_out(
    engine: Engine,
) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    browser.client.goto(&wt.url("/")).await.unwrap();
    // Step 2: leave export-jobs:read out.
    browser
        .click("#step-2 input[name=scope][value='export-jobs:read']")
        .await;
    browser.click("#generate").await;
    let url = browser.text("[data-testid=authorize-request-url]").await;
    assert!(
        url.contains("scope=users%3Aread+test%3Atest&") || url.contains("scope=users%3Aread%20test%3Atest&"),
        "{url}"
    );
    browser.screenshot_of("step-2", "scopes-1-picked").await;
    browser.click("#authorize-go").await;
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    assert_eq!(
        browser.text("[data-testid=granted-scope]").await,
        "users:read test:test"
    );

    // Step 4: the explorer marks export-jobs as not granted; calling it shows the 403.
    let mark = browser.find("#step-4 input[value='5'] ~ .scope").await;
    assert_eq!(mark.attr("data-granted").await.unwrap().as_deref(), Some("false"));
    let employees = browser.find("#step-4 input[value='0'] ~ .scope").await;
    assert_eq!(employees.attr("data-granted").await.unwrap().as_deref(), Some("true"));
    browser.click("#step-4 input[name=endpoint][value='5']").await;
    browser.click("#call-selected").await;
    browser.wait_for_text("[data-testid=api-status]", "403").await;
    assert!(
        browser
            .text("[data-testid=scope-hint]")
            .await
            .contains("insufficient_scope")
    );
    assert!(
        browser
            .text("[data-testid=api-body]")
            .await
            .contains("insufficient_scope")
    );
    browser.screenshot_of("step-4", "scopes-2-insufficient-scope").await;

    // Pages: forward with `after` to the last page, then back with `before`.
    browser.click("#call-employees").await;
    browser
        .wait_for_text("[data-testid=pagination]", "previous page: false")
        .await;
    let mut pages = 1;
    loop {
        let summary = browser.text("[data-testid=pagination]").await;
        if summary.contains("next page: false") {
            break;
        }
        let label = browser.text(".result-line code").await;
        browser.click("#page-next").await;
        // The next answer replaces this one.
        let next = eventually(&format!("no next page after {label}"), async || {
            let shown = browser.text(".result-line code").await;
            if shown == label {
                Err("the same answer".to_owned())
            } else {
                Ok(shown)
            }
        })
        .await;
        assert!(next.contains("after="), "{next}");
        pages += 1;
        assert!(pages <= 10, "paging never ends");
    }
    assert_eq!(pages, 3, "24 employees, 10 a page");
    let last = browser.text("[data-testid=pagination]").await;
    assert!(last.starts_with("4 item(s) here, 24 in all"), "{last}");
    assert!(
        browser
            .find("#page-next")
            .await
            .attr("disabled")
            .await
            .unwrap()
            .is_some()
    );
    browser.screenshot_of("step-4", "pages-last").await;
    browser.click("#page-previous").await;
    browser.wait_for_text(".result-line code", "before=").await;
    browser
        .wait_for_text("[data-testid=pagination]", "10 item(s) here")
        .await;

    // Step 6: a rate limit, relayed and waited out.
    browser.click("#fault-rate-limit").await;
    let outcome = browser.wait_for_text("#step-6 [data-testid=outcome]", "HTTP 429").await;
    assert!(
        outcome.contains("Retry-After: 2 s") && outcome.contains("trying again: HTTP 200"),
        "{outcome}"
    );
    browser.screenshot_of("step-6", "rate-limited").await;
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

/// The serious and critical violations axe-core finds in the page as it is, as `rule: targets`.
async fn axe_violations(browser: &Browser) -> Vec<String> {
    let axe = std::fs::read_to_string(e2e_harness::axe_core_script()).unwrap();
    browser.client.execute(&axe, vec![]).await.unwrap();
    let found = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run(document, { resultTypes: ['violations'] }).then( \
               r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical') \
                 .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))), \
               e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// How many CSS pixels the page is wider than its viewport (0: no horizontal scrolling).
async fn overflow_px(browser: &Browser) -> i64 {
    let script = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;";
    browser.client.execute(script, vec![]).await.unwrap().as_i64().unwrap()
}

/// Whether the page's `prefers-color-scheme` is dark.
async fn prefers_dark(browser: &Browser) -> bool {
    let script = "return matchMedia('(prefers-color-scheme: dark)').matches;";
    browser.client.execute(script, vec![]).await.unwrap().as_bool().unwrap()
}

/// The computed background colour of the first element matching `css`.
async fn background_of(browser: &Browser, css: &str) -> String {
    let script = "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor;";
    let value = browser
        .client
        .execute(script, vec![serde_json::json!(css)])
        .await
        .unwrap();
    value.as_str().unwrap().to_owned()
}

async fn every_step_passes_axe_at_360_and_1280_px_in_both_themes_without_horizontal_scrolling(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    for (theme, dark) in [("light", false), ("dark", true)] {
        let browser = if dark {
            Browser::launch_dark(engine).await
        } else {
            Browser::launch(engine).await
        };
        browser.client.goto(&wt.url("/")).await.unwrap();
        assert_eq!(
            prefers_dark(&browser).await,
            dark,
            "the browser's system theme is {theme}"
        );
        // Every step with content: signed in, an API answer, a refresh, a snippet shown.
        sign_in_and_call_the_api(&browser, &wt, &format!("a11y-{theme}")).await;
        browser.click("#refresh-now").await;
        browser
            .wait_for_text("#step-5 [data-testid=outcome]", "Refreshed")
            .await;
        browser
            .click("#step-4 .transcript-entry button[data-language=curl]")
            .await;
        browser.wait_for_text("#step-4 pre.snippet", "curl").await;
        let card = background_of(&browser, ".card").await;
        assert_eq!(card == "rgb(28, 25, 23)", dark, "{theme} theme: cards are {card}");
        for width in [360, 768, 1280, 1440] {
            browser.resize(width).await;
            let overflow = overflow_px(&browser).await;
            assert!(
                overflow <= 0,
                "{theme} at {width} px: {overflow} px of horizontal scrolling"
            );
            if width == 360 || width == 1280 {
                let violations = axe_violations(&browser).await;
                assert!(violations.is_empty(), "{theme} at {width} px: {violations:#?}");
                browser.screenshot(&format!("a11y-{theme}-{width}")).await;
            }
        }
        browser.close().await;
    }
    // The embed's theme option wins over the system theme.
    let browser = Browser::launch(engine).await;
    browser.client.goto(&wt.url("/embed?theme=dark")).await.unwrap();
    browser.find("#generate").await;
    assert_eq!(background_of(&browser, ".card").await, "rgb(28, 25, 23)");
    let violations = axe_violations(&browser).await;
    assert!(violations.is_empty(), "the frame with theme=dark: {violations:#?}");
    browser.close().await;
}

/// The diagram's messages as their links name them (their `<title>`): `N. label, From to To`.
async fn diagram_messages(browser: &Browser) -> Vec<String> {
    let script = "return [...document.querySelectorAll('[data-testid=sequence] a[data-message] > title')].map(t => t.textContent);";
    let found = browser.client.execute(script, vec![]).await.unwrap();
    serde_json::from_value(found).unwrap()
}

async fn the_sequence_diagram_draws_the_flow_as_it_happens_and_opens_each_exchange_redacted(engine: Engine) {
    let wt = Walkthrough::start(Mode::Local).await;
    let browser = Browser::launch(engine).await;
    browser.client.goto(&wt.url("/")).await.unwrap();
    assert!(diagram_messages(&browser).await.is_empty(), "nothing has happened yet");
    sign_in_and_call_the_api(&browser, &wt, "diagram").await;
    browser
        .screenshot_of("pleo-oauth-walkthrough", "diagram-1-signed-in-and-called")
        .await;
    browser.click("#refresh-now").await;
    browser
        .wait_for_text("#step-5 [data-testid=outcome]", "Refreshed")
        .await;
    let messages = eventually("the refresh never reached the diagram", async || {
        let messages = diagram_messages(&browser).await;
        let refreshed = messages
            .iter()
            .any(|m| m.starts_with("9. POST /stand-in/oauth/token 200, Companion to Auth server"));
        if refreshed {
            Ok(messages)
        } else {
            Err(format!("{messages:#?}"))
        }
    })
    .await;
    let expected = [
        "1. POST /api/authorize/start 204, Browser to Companion",
        "2. GET /stand-in/oauth/authorize, Browser to Auth server",
        "3. 302 → /callback (code, state, iss), Auth server to Browser",
        "4. POST /api/token 200, Browser to Companion",
        "5. POST /stand-in/oauth/token 200, Companion to Auth server",
        "6. GET /api/pleo/v2/employees 200, Browser to Companion",
        "7. GET /stand-in/v2/employees 200, Companion to Pleo API",
        "8. POST /api/refresh 200, Browser to Companion",
        "9. POST /stand-in/oauth/token 200, Companion to Auth server",
    ];
    assert_eq!(messages, expected);
    browser
        .screenshot_of("pleo-oauth-walkthrough", "diagram-2-refreshed")
        .await;

    // A message opens its exchange, redacted.
    browser.click("[data-testid=sequence] a[data-message='5']").await;
    let detail = browser
        .wait_for_text("[data-testid=sequence-detail]", "grant_type=authorization_code")
        .await;
    assert!(detail.starts_with("5. POST http://"), "{detail}");
    assert!(detail.contains("[redacted sha256:"), "{detail}");
    let address = browser.client.current_url().await.unwrap();
    assert_ne!(
        address.fragment(),
        Some("sequence-detail"),
        "opening a message does not change the address"
    );
    browser
        .screenshot_of("pleo-oauth-walkthrough", "diagram-3-detail")
        .await;

    // Step 6: signing out is drawn too.
    browser.click("#sign-out").await;
    browser
        .wait_for_text("#step-6 [data-testid=outcome]", "Signed out")
        .await;
    // Drawn as the answer comes, which may be a moment after the step says so.
    eventually("the diagram does not end with the sign-out", async || {
        let after = diagram_messages(&browser).await;
        after
            .last()
            .is_some_and(|last| last.ends_with(". POST /api/logout 200, Browser to Companion"))
            .then_some(())
            .ok_or_else(|| format!("{after:#?}"))
    })
    .await;
    browser
        .screenshot_of("pleo-oauth-walkthrough", "diagram-4-signed-out")
        .await;
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

e2e_harness::in_every_engine! {
    [Need::App, Need::HarValidator] =>
        copied_snippets_run_against_the_stand_in_and_the_har_is_valid_and_redacted;
    [Need::App] =>
        the_refresh_race_lab_revokes_the_grant_without_the_lock_and_not_with_it,
        scopes_picked_in_step_2_decide_what_the_explorer_opens_pages_turn_and_a_rate_limit_is_waited_out,
        the_sequence_diagram_draws_the_flow_as_it_happens_and_opens_each_exchange_redacted;
    [Need::App, Need::AxeCore] =>
        every_step_passes_axe_at_360_and_1280_px_in_both_themes_without_horizontal_scrolling;
}
