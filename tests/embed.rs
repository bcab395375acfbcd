//! The walkthrough framed by documentation pages of another site, in headless Chromium with
//! third-party cookies blocked: the pages are built from the embedding guide's snippets as written
//! (`cargo xtask doc-sites`) and served on `http://127.0.0.1:<port>`; the companion is
//! `http://localhost:<port>`, another site to the browser. Sign-in runs in a pop-up.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::Html;
use axum::routing::get;
use e2e_harness::{
    Browser, Engine, Mode, Server, Setup, ThirdPartyCookies, Walkthrough, assert_nothing_secret_reached_the_browser,
    documentation_site, eventually, free_listener, record_case,
};
use fantoccini::wd::WindowHandle;

/// A documentation site on `127.0.0.1` and a companion on `localhost` that lets it frame the
/// walkthrough; `extra` configures the companion further. In WebKit the companion is served over
/// https: WebKitGTK keeps no `Secure` cookie from http, and the frame's cookies are `Secure`.
async fn site_and_companion(engine: Engine, extra: &[(&str, &str)]) -> (Server, Walkthrough) {
    let listener = free_listener().await;
    let wt = companion_for(engine, &listener, extra).await;
    let docs = Server::spawn(listener, wt.recorder.wrap(documentation_site(wt.url(""))));
    (docs, wt)
}

/// The companion of [`site_and_companion`], letting the site on `docs` frame the walkthrough.
async fn companion_for(engine: Engine, docs: &tokio::net::TcpListener, extra: &[(&str, &str)]) -> Walkthrough {
    let docs_origin = format!("http://127.0.0.1:{}", docs.local_addr().unwrap().port());
    let mut vars = vec![("COMPANION_EMBED_ORIGINS", docs_origin.as_str())];
    vars.extend_from_slice(extra);
    match engine {
        Engine::WebKit => Walkthrough::start_https(&vars).await,
        Engine::Chromium | Engine::Firefox => Walkthrough::start_with(Mode::Local, &vars).await,
    }
}

/// `engine` set up so that the frame can sign in: Chromium and Firefox as readers have them
/// (Chromium with third-party cookies blocked: partitioned cookies), WebKitGTK with cookies
/// allowed (`--cookies-policy=always`; as shipped it keeps none of a frame's, and the frame
/// offers a new tab instead, see
/// `where_the_frames_cookies_are_refused_a_new_tab_completes_the_flow`). Pop-up blockers on.
async fn framing_browser(engine: Engine) -> Browser {
    let setup = match engine {
        Engine::WebKit => Setup {
            third_party_cookies: ThirdPartyCookies::Allowed,
            ..Setup::reader(engine)
        },
        Engine::Chromium | Engine::Firefox => Setup::reader(engine),
    };
    Browser::launch_with(engine, setup).await
}

/// The embedding guide's HTML snippet on a documentation site, its companion (with `extra`), and a
/// [`framing_browser`], already inside the walkthrough's frame; the page's window.
async fn in_the_frame_of_the_html_page(
    engine: Engine,
    extra: &[(&str, &str)],
) -> (Server, Walkthrough, Browser, WindowHandle) {
    let (docs, wt) = site_and_companion(engine, extra).await;
    let browser = framing_browser(engine).await;
    into_the_html_page(browser, docs, wt).await
}

/// `browser` on the embedding guide's HTML snippet of `docs`, inside the walkthrough's frame.
async fn into_the_html_page(
    browser: Browser,
    docs: Server,
    wt: Walkthrough,
) -> (Server, Walkthrough, Browser, WindowHandle) {
    browser.client.goto(&page_url(&docs, "html.html")).await.unwrap();
    let main = browser.client.window().await.unwrap();
    into_the_frame(&browser, &main).await;
    (docs, wt, browser, main)
}

fn page_url(docs: &Server, page: &str) -> String {
    format!("http://127.0.0.1:{}/{page}", docs.addr.port())
}

/// Waits for a window other than `main` and returns it.
async fn new_window(browser: &Browser, main: &WindowHandle) -> WindowHandle {
    eventually("no pop-up opened", async || {
        let windows = browser.client.windows().await.unwrap();
        windows
            .into_iter()
            .find(|w| w != main)
            .ok_or_else(|| "one window".to_owned())
    })
    .await
}

/// Waits until `main` is the only window (the pop-up closed itself).
async fn popup_gone(browser: &Browser) {
    eventually("the pop-up did not close itself", async || {
        let open = browser.client.windows().await.unwrap().len();
        if open > 1 {
            Err(format!("{open} windows"))
        } else {
            Ok(())
        }
    })
    .await
}

/// Back in the documentation page's window, inside the walkthrough's (first) frame.
async fn into_the_frame(browser: &Browser, main: &WindowHandle) {
    into_frame_number(browser, main, 0).await;
}

/// The frame's height as the documentation page lays it out.
async fn frame_height(browser: &Browser, main: &WindowHandle) -> f64 {
    browser.switch_to_window(main.clone()).await;
    let height = browser
        .client
        .execute(
            "return document.querySelector('iframe').getBoundingClientRect().height;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    browser.enter_frame(0).await;
    height
}

/// In the frame: a fresh PKCE pair and state, and step 2's authorize button; the pop-up's
/// window.
async fn open_the_popup(browser: &Browser, main: &WindowHandle) -> WindowHandle {
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    new_window(browser, main).await
}

/// In the frame: step 2's authorize button, then the consent page in the pop-up, then back in
/// the frame, signed in.
async fn sign_in_through_the_popup(browser: &Browser, main: &WindowHandle, shots: Option<&str>) {
    let popup = open_the_popup(browser, main).await;
    browser.switch_to_window(popup).await;
    browser.find("#approve").await;
    if let Some(shots) = shots {
        browser.screenshot(&format!("{shots}-3-consent-in-the-popup")).await;
    }
    browser.click("#approve").await;
    popup_gone(browser).await;
    into_the_frame(browser, main).await;
    browser.find("#popup-signed-in").await;
    browser.find("#exchanged").await;
}

/// The widths the frame's height is checked at (the documentation page's viewport, CSS px):
/// a phone, a tablet, a desktop.
const WIDTHS: [u32; 3] = [360, 768, 1280];

/// The frame's height equals its document's (1 px), and nothing scrolls inside it (its document's
/// scroll width and height are its client width and height), once it settles, at every one of
/// [`WIDTHS`]; `when` names the moment.
async fn the_frame_fits_its_content(browser: &Browser, main: &WindowHandle, when: &str) {
    for width in WIDTHS {
        browser.switch_to_window(main.clone()).await;
        browser.resize(width).await;
        browser.enter_frame(0).await;
        eventually(
            &format!("{when}, at {width} px: the frame did not settle at its document's size"),
            async || {
                let frame = frame_height(browser, main).await;
                let document = browser
                    .client
                    .execute(
                        "const d = document.documentElement; \
                         return [d.getBoundingClientRect().height, d.scrollHeight, d.clientHeight, d.scrollWidth, d.clientWidth];",
                        vec![],
                    )
                    .await
                    .unwrap();
                let [height, scroll_height, client_height, scroll_width, client_width] =
                    [0, 1, 2, 3, 4].map(|i| document[i].as_f64().unwrap());
                if (frame - height).abs() <= 1.0 && scroll_height <= client_height && scroll_width <= client_width {
                    Ok(())
                } else {
                    Err(format!(
                        "frame {frame}px, document {height}px (scroll {scroll_width}x{scroll_height}px in {client_width}x{client_height}px)"
                    ))
                }
            },
        )
        .await;
    }
    browser.switch_to_window(main.clone()).await;
    browser.resize(1200).await;
    browser.enter_frame(0).await;
}

/// The whole walkthrough in the frame of the documentation page `page`: steps 1 to 4, then
/// refresh and sign-out, with a screenshot of the page at each step, and the frame fitting its
/// content at every width before signing in, once signed in, and with the API's answer.
async fn walkthrough_in_the_frame(engine: Engine, page: &str, shots: &str) {
    let (docs, wt) = site_and_companion(engine, &[]).await;
    let browser = framing_browser(engine).await;
    browser.client.goto(&page_url(&docs, page)).await.unwrap();
    let main = browser.client.window().await.unwrap();
    into_the_frame(&browser, &main).await;
    assert_eq!(browser.text("[data-testid=redirect-uri]").await, wt.url("/callback"));
    the_frame_fits_its_content(&browser, &main, "loaded").await;
    browser.switch_to_window(main.clone()).await;
    browser.screenshot(&format!("{shots}-0-documentation-page")).await;
    into_the_frame(&browser, &main).await;
    browser
        .screenshot_of("step-1", &format!("{shots}-1-configuration"))
        .await;
    browser.click("#generate").await;
    browser.screenshot_of("step-2", &format!("{shots}-2-authorize")).await;
    sign_in_through_the_popup(&browser, &main, Some(shots)).await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    browser.find("#callback-checks").await;
    browser.screenshot_of("step-3", &format!("{shots}-4-exchanged")).await;
    the_frame_fits_its_content(&browser, &main, "signed in").await;

    let before = frame_height(&browser, &main).await;
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    let body: serde_json::Value = serde_json::from_str(&browser.text("[data-testid=api-body]").await).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    // The documentation page's frame grows with the answer: no scrollbar inside it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = frame_height(&browser, &main).await;
    while after <= before + 100.0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = frame_height(&browser, &main).await;
    }
    assert!(
        after > before + 100.0,
        "the frame is {after}px high, {before}px before the answer"
    );
    the_frame_fits_its_content(&browser, &main, "with the API's answer").await;
    browser.screenshot_of("step-4", &format!("{shots}-5-api")).await;

    browser.click("#refresh-now").await;
    browser
        .wait_for_text("#step-5 [data-testid=outcome]", "Refreshed")
        .await;
    assert_eq!(wt.stand_in.token_requests("refresh_token"), 1);
    browser.screenshot_of("step-5", &format!("{shots}-6-refreshed")).await;
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.switch_to_window(main.clone()).await;
    let outer = browser.page_state().await;
    for secret in wt.forbidden_strings() {
        assert!(!outer.contains(&secret), "a secret is in the documentation page");
    }
    into_the_frame(&browser, &main).await;
    browser.click("#sign-out").await;
    eventually("still signed in after signing out", async || {
        let disabled = browser.find("#sign-out").await.attr("disabled").await.unwrap();
        disabled.map(|_| ()).ok_or_else(|| "#sign-out is enabled".to_owned())
    })
    .await;
    eventually("the companion did not forget the session", async || {
        match wt.state.sessions.count(0).await.unwrap() {
            0 => Ok(()),
            left => Err(format!("{left} sessions")),
        }
    })
    .await;
    browser.screenshot_of("step-6", &format!("{shots}-7-signed-out")).await;
    browser.close().await;
}

async fn the_plain_html_snippet_runs_the_whole_walkthrough_in_a_frame_of_another_site(engine: Engine) {
    walkthrough_in_the_frame(engine, "html.html", "embed-html").await;
    record_case(
        "Embed",
        "the walkthrough framed by a page of another site, third-party cookies blocked",
        "steps 1 to 5 and sign-out complete in the frame: partitioned cookies, sign-in in a pop-up",
    );
}

async fn the_mintlify_snippet_runs_the_whole_walkthrough(engine: Engine) {
    walkthrough_in_the_frame(engine, "mintlify.html", "embed-mintlify").await;
}

async fn the_docusaurus_snippet_runs_the_whole_walkthrough(engine: Engine) {
    walkthrough_in_the_frame(engine, "docusaurus.html", "embed-docusaurus").await;
}

/// Where the browser keeps no cookie of the frame (WebKitGTK as shipped; Chromium and Firefox
/// set to refuse them), the frame knows it as it loads: the sign-in click opens no pop-up and
/// starts no attempt (it asks for storage access where the browser offers the Storage Access
/// API), and says `frame_cookies_refused` with the full page in a new tab, which completes the
/// flow and offers the way back to the documentation page.
async fn where_the_frames_cookies_are_refused_a_new_tab_completes_the_flow(engine: Engine) {
    let (docs, wt) = site_and_companion(engine, &[]).await;
    let setup = Setup {
        third_party_cookies: ThirdPartyCookies::Refused,
        ..Setup::reader(engine)
    };
    let browser = Browser::launch_with(engine, setup).await;
    let page = page_url(&docs, "html.html");
    browser.client.goto(&page).await.unwrap();
    let main = browser.client.window().await.unwrap();
    into_the_frame(&browser, &main).await;
    let checked = |wt: &Walkthrough| {
        wt.recorder
            .seen()
            .iter()
            .any(|s| s.request.starts_with("GET /api/embed/cookie-check") && s.body.contains("\"kept\":false"))
    };
    eventually("the frame did not find its cookies refused as it loaded", async || {
        checked(&wt).then_some(()).ok_or_else(|| "no check answered".to_owned())
    })
    .await;
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    assert_eq!(browser.error_code("#step-2").await, "frame_cookies_refused");
    assert_eq!(browser.client.windows().await.unwrap().len(), 1, "no pop-up opened");
    assert!(
        !wt.recorder
            .seen()
            .iter()
            .any(|s| s.request.starts_with("POST /api/authorize/start")),
        "no sign-in attempt was started"
    );
    browser.screenshot_of("step-2", "embed-cookies-refused").await;

    browser.click("#open-in-new-tab").await;
    let tab = new_window(&browser, &main).await;
    browser.switch_to_window(tab).await;
    // The new window opens blank, then loads the link's address.
    let expected = [("back".to_owned(), page.clone())];
    eventually(
        "the new tab did not open the full page naming the documentation page",
        async || {
            let address = browser.client.current_url().await.unwrap();
            let named: Vec<(String, String)> = address.query_pairs().into_owned().collect();
            (named == expected).then_some(()).ok_or_else(|| address.to_string())
        },
    )
    .await;
    // The full page opens at step 2: it scrolls there once its configuration is in.
    eventually("the new tab did not open at step 2", async || {
        let top = browser
            .client
            .execute(
                "return document.getElementById('step-2')?.getBoundingClientRect().top ?? -1;",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap_or(-1.0);
        if top.abs() < 2.0 {
            Ok(())
        } else {
            Err(format!("step 2 is at {top}px"))
        }
    })
    .await;
    e2e_harness::sign_in_here_and_call_the_api(&browser).await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    let back = browser.find("#back-to-documentation").await;
    assert_eq!(back.attr("href").await.unwrap(), Some(page));
    browser
        .screenshot_of("back-to-documentation", "embed-cookies-refused-new-tab")
        .await;
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    record_case(
        "Embed",
        "a browser that keeps no cookie of the frame (WebKitGTK as shipped, or set to refuse them)",
        "known as the frame loads: frame_cookies_refused on the sign-in click, no pop-up, no attempt; the new tab completes and leads back",
    );
    browser.close().await;
}

/// A real Docusaurus 3 site (`docusaurus build`, served as static files from another origin)
/// with the embedding guide's component: rendered on the server with the walkthrough's element
/// in its page, then the whole walkthrough in its frame.
async fn the_docusaurus_site_runs_the_whole_walkthrough(engine: Engine) {
    let served =
        std::fs::read_to_string(e2e_harness::doc_sites_path().join("site/docs/oauth-walkthrough/index.html")).unwrap();
    assert!(
        served.contains("data-pleo-walkthrough=\"\"") && served.contains("Sign in, exchange the code"),
        "the page is rendered on the server, the walkthrough's element in it"
    );
    walkthrough_in_the_frame(engine, "site/docs/oauth-walkthrough", "embed-docusaurus-site").await;
    record_case(
        "Embed",
        "the walkthrough in a real Docusaurus 3 site (server-side rendered, on another origin)",
        "steps 1 to 5 and sign-out complete in the frame, in every engine",
    );
}

/// Where the browser keeps every cookie of a cross-site frame (Chromium and Firefox with
/// third-party cookies allowed, WebKitGTK with `--cookies-policy=always`), the frame signs in and
/// calls the API just the same.
async fn where_third_party_cookies_are_allowed_the_frame_signs_in(engine: Engine) {
    let (docs, wt) = site_and_companion(engine, &[]).await;
    let setup = Setup {
        third_party_cookies: ThirdPartyCookies::Allowed,
        ..Setup::reader(engine)
    };
    let browser = Browser::launch_with(engine, setup).await;
    let (_docs, wt, browser, main) = into_the_html_page(browser, docs, wt).await;
    sign_in_through_the_popup(&browser, &main, None).await;
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    browser.close().await;
}

/// Which of a cross-site frame's cookies come back under `setting` in `engine`: its
/// `SameSite=None; Secure` one and its partitioned one, set and sent over https.
async fn cookies_a_frame_keeps(engine: Engine, setting: ThirdPartyCookies) -> Vec<String> {
    let probe = Router::new()
        .route(
            "/set",
            get(|| async {
                let mut headers = HeaderMap::new();
                for cookie in [
                    "unpartitioned=1; Secure; SameSite=None; Path=/",
                    "partitioned=1; Secure; SameSite=None; Path=/; Partitioned",
                ] {
                    headers.append(header::SET_COOKIE, cookie.parse().unwrap());
                }
                (headers, Html("<p id=set>set</p>"))
            }),
        )
        .route(
            "/check",
            get(|headers: HeaderMap| async move {
                let sent = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                Html(format!("<p id=sent>[{sent}]</p>"))
            }),
        );
    let probe = Server::spawn_tls(free_listener().await, probe);
    let docs = Server::spawn(free_listener().await, documentation_site(String::new()));
    let framed = |path: &str| {
        format!(
            "{}?src=https://localhost:{}{path}",
            page_url(&docs, "frame"),
            probe.addr.port()
        )
    };
    let browser = Browser::launch_with(
        engine,
        Setup {
            third_party_cookies: setting,
            ..Setup::PLAIN
        },
    )
    .await;
    browser.client.goto(&framed("/set")).await.unwrap();
    browser.enter_frame(0).await;
    browser.find("#set").await;
    browser.client.goto(&framed("/check")).await.unwrap();
    browser.enter_frame(0).await;
    let sent = browser.text("#sent").await;
    browser.close().await;
    let mut kept: Vec<String> = sent
        .trim_matches(['[', ']'])
        .split("; ")
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_owned()))
        .collect();
    kept.sort();
    kept
}

/// The cookie settings the tests rely on do what they say, in every engine: each is probed in
/// a cross-site frame, so a setting that did not block (or did not allow) fails here.
async fn each_cookie_setting_keeps_what_the_tests_say_in_a_cross_site_frame(engine: Engine) {
    use ThirdPartyCookies::{Allowed, AsShipped, Blocked, Refused};
    let (both, partitioned, none) = (
        vec!["partitioned".to_owned(), "unpartitioned".to_owned()],
        vec!["partitioned".to_owned()],
        Vec::<String>::new(),
    );
    let expected = match engine {
        Engine::Chromium => [
            (AsShipped, partitioned.clone()),
            (Blocked, partitioned.clone()),
            (Refused, none.clone()),
            (Allowed, both.clone()),
        ],
        Engine::Firefox => [
            (AsShipped, both.clone()),
            (Blocked, none.clone()),
            (Refused, none.clone()),
            (Allowed, both.clone()),
        ],
        Engine::WebKit => [
            (AsShipped, none.clone()),
            (Blocked, none.clone()),
            (Refused, none.clone()),
            (Allowed, both.clone()),
        ],
    };
    let mut seen = Vec::new();
    for (setting, _) in &expected {
        seen.push((*setting, cookies_a_frame_keeps(engine, *setting).await));
    }
    assert_eq!(seen, expected, "{}", engine.name());
}
async fn a_blocked_or_closed_popup_says_so_and_the_next_try_completes(engine: Engine) {
    let (_docs, wt, browser, main) = in_the_frame_of_the_html_page(engine, &[]).await;

    // A click the browser does not count as the user's (made by a script more than five seconds
    // after the last user action, when Chromium's transient activation has lapsed): the pop-up
    // blocker refuses the window.
    browser.click("#generate").await;
    browser
        .client
        .execute(
            "setTimeout(() => document.getElementById('authorize-go').click(), 5500);",
            vec![],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(browser.error_code("#step-2").await, "popup_blocked");
    let new_tab = browser.find("#open-in-new-tab").await;
    // The full page at the same step (WebKit's driver gives the address resolved against the
    // frame's); followed, it names the documentation page for the way back (the new-tab test).
    let href = new_tab.attr("href").await.unwrap().unwrap_or_default();
    assert_eq!(href.trim_start_matches(&wt.url("")), "/#step-2");
    assert_eq!(new_tab.attr("target").await.unwrap().as_deref(), Some("_blank"));
    assert_eq!(browser.client.windows().await.unwrap().len(), 1, "no window opened");
    browser.screenshot_of("step-2", "embed-popup-blocked").await;
    record_case(
        "Embed",
        "pop-up blocked by the browser",
        "popup_blocked on screen, with a link that runs the full-page flow in a new tab",
    );

    // The user closes the pop-up at the consent page.
    browser.click("#authorize-go").await;
    let popup = new_window(&browser, &main).await;
    browser.switch_to_window(popup).await;
    browser.find("#approve").await;
    browser.client.close_window().await.unwrap();
    into_the_frame(&browser, &main).await;
    assert_eq!(browser.error_code("#step-2").await, "popup_closed");
    browser.screenshot_of("step-2", "embed-popup-closed").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 0);
    record_case(
        "Embed",
        "pop-up closed before consent",
        "popup_closed on screen; nothing granted; the next try completes",
    );

    // Nothing is lost: the next try signs in.
    sign_in_through_the_popup(&browser, &main, None).await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    browser.close().await;
}

async fn a_popup_cut_off_by_cross_origin_opener_policy_completes_through_the_companion(engine: Engine) {
    let (_docs, wt, browser, main) =
        in_the_frame_of_the_html_page(engine, &[("STAND_IN_OPENER_POLICY", "same-origin")]).await;
    let popup = open_the_popup(&browser, &main).await;
    // The consent page's policy cuts the pop-up off: the frame sees it as closed and listens
    // for the hand-off instead.
    into_the_frame(&browser, &main).await;
    assert_eq!(browser.error_code("#step-2").await, "popup_closed");
    browser.switch_to_window(popup).await;
    browser.click("#approve").await;
    popup_gone(&browser).await;
    into_the_frame(&browser, &main).await;
    browser.find("#popup-signed-in").await;
    browser.find("#exchanged").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    assert!(
        wt.recorder
            .seen()
            .iter()
            .any(|s| s.request.starts_with("POST /api/embed/handoff/take") && s.head.starts_with("200")),
        "the callback came through the companion"
    );
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    assert_nothing_secret_reached_the_browser(&browser, &wt).await;
    record_case(
        "Embed",
        "pop-up cut off from the frame by Cross-Origin-Opener-Policy",
        "completes: the callback page hands code and state to the companion, the frame takes them with its attempt cookie",
    );
    browser.close().await;
}

async fn messages_from_the_documentation_page_are_ignored(engine: Engine) {
    let (_docs, wt, browser, main) = in_the_frame_of_the_html_page(engine, &[]).await;
    browser.find("#step-1").await;
    let popup = open_the_popup(&browser, &main).await;
    // While the frame waits for its pop-up, the documentation page (another origin) posts it a
    // callback of its own, and posts the loader a height.
    browser.switch_to_window(main.clone()).await;
    let height_before = browser
        .client
        .execute(
            "const frame = document.querySelector('iframe'); \
             frame.contentWindow.postMessage({type: 'pleo-walkthrough:callback', callback: '?code=forged&state=forged'}, '*'); \
             window.postMessage({type: 'pleo-walkthrough:height', height: 7}, '*'); \
             return frame.getBoundingClientRect().height;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let height_after = browser
        .client
        .execute(
            "return document.querySelector('iframe').getBoundingClientRect().height;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    // The frame may still be following its own content; the page's 7 px never lands.
    assert!(
        height_before > 100.0 && height_after > 100.0,
        "the loader ignored a height from the page itself: {height_before} px, then {height_after} px"
    );
    into_the_frame(&browser, &main).await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#step-2 [data-error-code]"))
            .await
            .is_err()
    );
    browser.switch_to_window(popup).await;
    browser.click("#approve").await;
    popup_gone(&browser).await;
    into_the_frame(&browser, &main).await;
    browser.find("#popup-signed-in").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 1);
    record_case(
        "Embed",
        "a callback message posted to the frame by another origin",
        "ignored (origin and source checked); the sign-in completes with the pop-up's own callback",
    );
    record_case(
        "Embed",
        "a height message posted to the loader by anything but its frame",
        "ignored (origin and source checked); the frame keeps its height",
    );
    browser.close().await;
}

async fn a_site_not_in_the_embed_origins_gets_no_walkthrough(engine: Engine) {
    let (_allowed, wt) = site_and_companion(engine, &[]).await;
    let other = Server::spawn(free_listener().await, documentation_site(wt.url("")));
    let browser = framing_browser(engine).await;
    browser.client.goto(&page_url(&other, "html.html")).await.unwrap();
    assert_eq!(browser.error_code("body").await, "frame_refused");
    assert!(browser.client.find(fantoccini::Locator::Css("iframe")).await.is_err());
    browser.screenshot("embed-refused-origin").await;
    record_case(
        "Embed",
        "the frame placed on a page of an origin not in COMPANION_EMBED_ORIGINS",
        "refused by the browser (frame-ancestors); the loader shows frame_refused in its place",
    );
    browser.close().await;
}

/// Into the walkthrough frame number `index` of the documentation page's window `main`.
async fn into_frame_number(browser: &Browser, main: &WindowHandle, index: u16) {
    browser.switch_to_window(main.clone()).await;
    eventually("the page has fewer frames", async || {
        let frames = browser
            .client
            .execute("return document.querySelectorAll('iframe').length;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        if frames > u64::from(index) {
            Ok(())
        } else {
            Err(format!("{frames} frames"))
        }
    })
    .await;
    browser.enter_frame(index).await;
}

async fn two_frames_on_one_page_each_sign_in_through_a_popup_of_their_own(engine: Engine) {
    let listener = free_listener().await;
    let wt = companion_for(engine, &listener, &[]).await;
    // The embedding guide's HTML snippet twice on one page (say, a guide with two examples).
    let snippet = r#"<div data-pleo-walkthrough data-steps="1-6" data-compact="true"></div>"#;
    let page = format!(
        "<!doctype html><title>two walkthroughs</title>{snippet}{snippet}<script src=\"{}\" async></script>",
        wt.url("/embed-frame.js")
    );
    let site = documentation_site(wt.url("")).route("/two-frames.html", get(move || async move { Html(page) }));
    let docs = Server::spawn(listener, wt.recorder.wrap(site));
    let browser = framing_browser(engine).await;
    browser.client.goto(&page_url(&docs, "two-frames.html")).await.unwrap();
    let main = browser.client.window().await.unwrap();

    // Both frames open their pop-ups before either reader approves.
    into_frame_number(&browser, &main, 0).await;
    let first = open_the_popup(&browser, &main).await;
    // The first frame's height follows what its sign-in shows; the second frame, below it,
    // moves until then (and a click aimed at it meanwhile lands elsewhere).
    browser.switch_to_window(main.clone()).await;
    let mut last = 0.0;
    eventually("the first frame did not settle", async || {
        let height = browser
            .client
            .execute(
                "return document.querySelectorAll('iframe')[0].getBoundingClientRect().height;",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let same = height == last;
        last = height;
        same.then_some(()).ok_or_else(|| format!("{height} px"))
    })
    .await;
    into_frame_number(&browser, &main, 1).await;
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    let second = eventually(
        "the second frame's pop-up did not open a window of its own",
        async || {
            let windows = browser.client.windows().await.unwrap();
            windows
                .into_iter()
                .find(|w| *w != main && *w != first)
                .ok_or_else(|| "two windows".to_owned())
        },
    )
    .await;

    // The second frame's pop-up answers first and signs in the second frame, not the first.
    browser.switch_to_window(second).await;
    browser.click("#approve").await;
    into_frame_number(&browser, &main, 1).await;
    browser.find("#popup-signed-in").await;
    browser.find("#exchanged").await;
    into_frame_number(&browser, &main, 0).await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#step-2 [data-error-code]"))
            .await
            .is_err(),
        "the first frame got no stranger's callback"
    );
    browser.switch_to_window(first).await;
    browser.click("#approve").await;
    popup_gone(&browser).await;
    into_frame_number(&browser, &main, 0).await;
    browser.find("#popup-signed-in").await;
    browser.find("#exchanged").await;
    assert_eq!(wt.stand_in.token_requests("authorization_code"), 2);
    record_case(
        "Embed",
        "two walkthrough frames on one documentation page, both signing in at once",
        "each opens a pop-up window of its own name and is signed in by its own callback",
    );
    browser.close().await;
}

e2e_harness::in_every_engine! {
    [Need::App, Need::DocSites] =>
        the_plain_html_snippet_runs_the_whole_walkthrough_in_a_frame_of_another_site,
        the_mintlify_snippet_runs_the_whole_walkthrough,
        the_docusaurus_snippet_runs_the_whole_walkthrough,
        the_docusaurus_site_runs_the_whole_walkthrough,
        a_blocked_or_closed_popup_says_so_and_the_next_try_completes,
        a_popup_cut_off_by_cross_origin_opener_policy_completes_through_the_companion,
        messages_from_the_documentation_page_are_ignored,
        a_site_not_in_the_embed_origins_gets_no_walkthrough,
        two_frames_on_one_page_each_sign_in_through_a_popup_of_their_own,
        where_the_frames_cookies_are_refused_a_new_tab_completes_the_flow,
        where_third_party_cookies_are_allowed_the_frame_signs_in;
    [] =>
        each_cookie_setting_keeps_what_the_tests_say_in_a_cross_site_frame;
}
