//! The three browser engines the walkthrough's readers use, each driven over WebDriver with a
//! fresh profile: Chromium (chromedriver), Firefox ESR (geckodriver) and WebKitGTK
//! (WebKitWebDriver starting MiniBrowser, on an Xvfb display of its own). Each is stopped, with
//! its driver and its folder, when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{eventually, free_listener};

/// A browser engine, as Debian packages it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Blink: Debian's `chromium`, through `chromium-driver`.
    Chromium,
    /// Gecko: Debian's `firefox-esr`, through `geckodriver` from crates.io.
    Firefox,
    /// WebKit: WebKitGTK's MiniBrowser, through `webkit2gtk-driver`, on Xvfb.
    WebKit,
}

impl Engine {
    /// Every engine, in the order the test command reports them.
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::WebKit];

    /// Its name in test names, screenshots and figures.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    /// The programs it needs: the driver, the browser, and (WebKit) the X server.
    pub fn programs(self) -> Vec<String> {
        match self {
            Engine::Chromium => vec![
                env_or("CHROMEDRIVER", "/usr/bin/chromedriver"),
                env_or("CHROMIUM", "/usr/bin/chromium"),
            ],
            Engine::Firefox => vec![geckodriver_path(), env_or("FIREFOX", "/usr/bin/firefox-esr")],
            Engine::WebKit => vec![
                env_or("WEBKIT_WEBDRIVER", "/usr/bin/WebKitWebDriver"),
                MINIBROWSER.to_owned(),
                XVFB.to_owned(),
            ],
        }
    }
}

/// WebKitGTK's browser for automation, from `libwebkit2gtk-4.1-0`.
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
/// Debian's X virtual framebuffer (`xvfb`): WebKitGTK has no headless mode.
const XVFB: &str = "/usr/bin/Xvfb";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// geckodriver as `cargo install geckodriver` puts it (`GECKODRIVER` overrides).
fn geckodriver_path() -> String {
    std::env::var("GECKODRIVER").unwrap_or_else(|_| {
        let home = std::env::var("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
        home.join("bin/geckodriver").display().to_string()
    })
}

/// What a cross-site frame's cookies get (`tests/embed.rs` probes each in every engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThirdPartyCookies {
    /// The engine's own default: Chromium (156) keeps only partitioned ones, Firefox keeps all in
    /// a jar per top-level site (Total Cookie Protection), WebKitGTK keeps none.
    AsShipped,
    /// "Block third-party cookies": Chromium keeps partitioned ones only (CHIPS); Firefox
    /// (`network.cookie.cookieBehavior` 1) and WebKitGTK keep none.
    Blocked,
    /// None, partitioned or not: Chromium refuses `localhost`'s cookies under any other
    /// top-level site (a content-setting exception), Firefox and WebKitGTK third parties'.
    Refused,
    /// Every cookie is kept, as a first party's would be (WebKitGTK's
    /// `--cookies-policy=always`).
    Allowed,
}

/// How a browser is set up.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// What a cross-site frame's cookies get.
    pub third_party_cookies: ThirdPartyCookies,
    /// Whether the pop-up blocker is on (the drivers turn it off unless told).
    pub popup_blocker: bool,
    /// Whether the system theme is dark (`prefers-color-scheme: dark`).
    pub dark: bool,
}

impl Setup {
    /// The engine's defaults, pop-up blocker off, light theme.
    pub const PLAIN: Setup = Setup {
        third_party_cookies: ThirdPartyCookies::AsShipped,
        popup_blocker: false,
        dark: false,
    };

    /// A documentation reader's browser: pop-up blocker on, Firefox and WebKit as shipped, and
    /// Chromium with "Block third-party cookies" on (the setting users turn on, and the one its
    /// third-party-cookie phase-out turned on).
    pub fn reader(engine: Engine) -> Setup {
        Setup {
            third_party_cookies: match engine {
                Engine::Chromium => ThirdPartyCookies::Blocked,
                Engine::Firefox | Engine::WebKit => ThirdPartyCookies::AsShipped,
            },
            popup_blocker: true,
            dark: false,
        }
    }
}

/// One browser driven over WebDriver; it, its driver and its X server are stopped when dropped.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Which engine it is.
    pub engine: Engine,
    /// The driver, and for WebKit the X server, each the leader of its process group.
    processes: Vec<Child>,
    /// Its profile and temporary files.
    folder: TempDir,
    /// The frame of the top-level page the client is in ([`Browser::enter_frame`]), if any.
    frame: std::sync::Mutex<Option<u16>>,
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The window every browser starts with (CSS pixels).
const WINDOW: (u32, u32) = (1200, 1600);

impl Browser {
    /// `engine` with its defaults ([`Setup::PLAIN`]).
    pub async fn launch(engine: Engine) -> Self {
        Self::launch_with(engine, Setup::PLAIN).await
    }

    /// `engine` as a documentation reader has it ([`Setup::reader`]).
    pub async fn reader(engine: Engine) -> Self {
        Self::launch_with(engine, Setup::reader(engine)).await
    }

    /// `engine` whose system theme is dark.
    pub async fn launch_dark(engine: Engine) -> Self {
        Self::launch_with(
            engine,
            Setup {
                dark: true,
                ..Setup::PLAIN
            },
        )
        .await
    }

    /// Starts `engine`'s driver on a free port and the browser with a fresh profile, set up as
    /// `setup` says.
    pub async fn launch_with(engine: Engine, setup: Setup) -> Self {
        for program in engine.programs() {
            assert!(
                std::path::Path::new(&program).exists(),
                "{program} is missing: run `cargo xtask test`, which installs every engine"
            );
        }
        let port = free_listener().await.local_addr().unwrap().port();
        // The profile and the temporary files (Chromium's `scoped_dir`s, geckodriver's profile
        // copy, WebKit's caches) live in one folder, removed with the browser.
        let folder = TempDir(std::env::temp_dir().join(format!("e2e-{}-{}-{port}", engine.name(), std::process::id())));
        let tmp = folder.0.join("tmp");
        std::fs::create_dir_all(&tmp).expect("the browser's temporary folder is made");
        let mut processes = Vec::new();
        let driver = |program: &str, args: &[String], env: &[(&str, String)]| {
            let mut command = Command::new(program);
            command
                .args(args)
                .env("TMPDIR", &tmp)
                .envs(env.iter().map(|(k, v)| (*k, v)))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Its own process group, so that the browser it starts is stopped with it.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            command.spawn().unwrap_or_else(|e| panic!("{program} starts: {e}"))
        };
        let programs = engine.programs();
        let caps = match engine {
            Engine::Chromium => {
                processes.push(driver(&programs[0], &[format!("--port={port}")], &[]));
                chromium_capabilities(&programs[1], &folder.0.join("profile"), setup)
            }
            Engine::Firefox => {
                processes.push(driver(&programs[0], &[format!("--port={port}")], &[]));
                firefox_capabilities(&programs[1], setup)
            }
            Engine::WebKit => {
                let display = start_xvfb(&mut processes, &tmp);
                let home = folder.0.join("home");
                std::fs::create_dir_all(&home).expect("the browser's home folder is made");
                let env = [
                    ("DISPLAY", display),
                    ("HOME", home.display().to_string()),
                    ("XDG_DATA_HOME", home.join("data").display().to_string()),
                    ("XDG_CACHE_HOME", home.join("cache").display().to_string()),
                    ("XDG_CONFIG_HOME", home.join("config").display().to_string()),
                    // No accessibility bus on the virtual display.
                    ("NO_AT_BRIDGE", "1".to_owned()),
                ];
                processes.push(driver(&programs[0], &[format!("--port={port}")], &env));
                webkit_capabilities(&programs[1], setup)
            }
        };
        let mut caps: serde_json::Map<String, serde_json::Value> = caps.as_object().unwrap().clone();
        // The https the tests serve has certificates they make.
        caps.insert("acceptInsecureCerts".to_owned(), serde_json::Value::Bool(true));
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..150 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let browser = Self {
                        client,
                        engine,
                        processes,
                        folder,
                        frame: std::sync::Mutex::new(None),
                    };
                    browser.resize(WINDOW.0).await;
                    return browser;
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not accept a session: {last_error}", programs[0]);
    }

    /// Into frame `index` of the current window's top-level page.
    pub async fn enter_frame(&self, index: u16) {
        self.client.enter_frame(index).await.unwrap();
        *self.frame.lock().unwrap() = Some(index);
    }

    /// Back in the window's top-level page.
    pub async fn switch_to_window(&self, window: fantoccini::wd::WindowHandle) {
        self.client.switch_to_window(window).await.unwrap();
        *self.frame.lock().unwrap() = None;
    }

    /// WebKit's driver clicks only inside the top-level viewport, and an element scrolled into
    /// view inside a cross-site frame does not scroll the page around it: in a frame, the page
    /// is scrolled so that `rect` (`[x, y, width, height]` in the frame) is in the middle of the
    /// viewport; the frame's top in the page's viewport, once still (`None` where nothing is
    /// scrolled).
    async fn scroll_the_framing_page_to(&self, rect: &serde_json::Value) -> Option<f64> {
        let index = (*self.frame.lock().unwrap())?;
        if self.engine != Engine::WebKit {
            return None;
        }
        let y = rect.get(1).and_then(serde_json::Value::as_f64).unwrap_or_default();
        let height = rect.get(3).and_then(serde_json::Value::as_f64).unwrap_or_default();
        self.client.enter_parent_frame().await.unwrap();
        // Scrolled until the element's centre is in the viewport, where the page lays the frame
        // out the same twice in a row (the frame's height may still be following its content).
        let script = format!(
            "const top = document.querySelectorAll('iframe')[{index}].getBoundingClientRect().top; \
             const centre = top + {y} + {height} / 2; \
             if (centre < innerHeight * 0.25 || centre > innerHeight * 0.75) window.scrollBy(0, centre - innerHeight / 2); \
             return document.querySelectorAll('iframe')[{index}].getBoundingClientRect().top;"
        );
        let mut last = None;
        for _ in 0..20 {
            let top = self.client.execute(&script, vec![]).await.ok().and_then(|t| t.as_f64());
            if top.is_some() && top == last {
                break;
            }
            last = top;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        self.client.enter_frame(index).await.unwrap();
        last
    }

    /// Makes the window's viewport `width` CSS pixels wide and [`WINDOW`]'s height high, whatever
    /// the engine draws around it.
    pub async fn resize(&self, width: u32) {
        let _ = self.client.set_window_size(width, WINDOW.1).await;
        let border = self
            .client
            .execute("return [outerWidth - innerWidth, outerHeight - innerHeight];", vec![])
            .await
            .ok()
            .and_then(|b| Some((b[0].as_u64()?, b[1].as_u64()?)));
        if let Some((dx, dy)) = border.filter(|b| *b != (0, 0)) {
            let (dx, dy) = (u32::try_from(dx).unwrap_or(0), u32::try_from(dy).unwrap_or(0));
            let _ = self.client.set_window_size(width + dx, WINDOW.1 + dy).await;
        }
    }

    /// Waits (up to 15 s) for an element matching `css`, through navigations: a search that a
    /// navigation aborts (the callback page replacing itself) is tried again.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.client.wait().at_most(left).for_element(Locator::Css(css)).await {
                Ok(element) => return element,
                // Chromium and Firefox say "aborted by navigation"; WebKit says its callback was
                // not called before the unload event.
                Err(e)
                    if ["aborted by navigation", "before the unload event"]
                        .iter()
                        .any(|m| e.to_string().contains(m))
                        && !left.is_zero() =>
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("no element {css}: {e}"),
            }
        }
    }

    /// The text of the element matching `css`, once it exists.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Clicks the element matching `css`, once it exists, scrolled into view first (WebKit's
    /// driver drops a click on a framed element outside the top-level viewport). Where the driver
    /// refuses to click the element itself (geckodriver and WebKit's driver, on a link inside an
    /// SVG drawing), the pointer is moved to where its centre is drawn and pressed there, as a
    /// reader's would be.
    pub async fn click(&self, css: &str) {
        use fantoccini::actions::{InputSource as _, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
        let element = self.find(css).await;
        // Scrolled to the centre, and still: a click lands where the element is drawn, and a
        // page still laying itself out (a reload answered piece by piece) moves it.
        let rect = "arguments[0].scrollIntoView({block: 'center'}); \
                    const r = arguments[0].getBoundingClientRect(); return [r.x, r.y, r.width, r.height];";
        let mut last = serde_json::Value::Null;
        // In a frame that WebKit's page must be scrolled for, the element is still only once
        // its place in the frame and the frame's place in the page both are: the frame's height
        // follows its content a moment later, and until then the frame scrolls inside.
        let mut placed = None;
        for _ in 0..30 {
            for _ in 0..20 {
                let now = self
                    .client
                    .execute(rect, vec![serde_json::to_value(&element).unwrap()])
                    .await
                    .unwrap_or_default();
                if now == last {
                    break;
                }
                last = now;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            let Some(top) = self.scroll_the_framing_page_to(&last).await else {
                break;
            };
            let now = Some((last.clone(), top));
            if now == placed {
                break;
            }
            placed = now;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let in_a_webkit_frame = placed.is_some();
        let arm = "window.__harnessClicked = false; \
                   arguments[0].addEventListener('click', () => { window.__harnessClicked = true; }, { once: true, capture: true });";
        if in_a_webkit_frame {
            let _ = self
                .client
                .execute(arm, vec![serde_json::to_value(&element).unwrap()])
                .await;
        }
        let clicked = element.click().await;
        // WebKit's driver now and then drops a click inside a cross-site frame without a word
        // (one in five in the two-frame test): where the element saw none, it is clicked again.
        if in_a_webkit_frame && clicked.is_ok() {
            for _ in 0..3 {
                // The driver may answer before the page has the event: a second wait.
                let mut seen = false;
                for _ in 0..40 {
                    seen = self
                        .client
                        .execute("return window.__harnessClicked !== false;", vec![])
                        .await
                        .map_or(true, |v| v.as_bool().unwrap_or(true));
                    if seen {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                if seen {
                    break;
                }
                // Where it is now (the frame may have grown to its content meanwhile).
                last = self
                    .client
                    .execute(rect, vec![serde_json::to_value(&element).unwrap()])
                    .await
                    .unwrap_or_default();
                self.scroll_the_framing_page_to(&last).await;
                let _ = self
                    .client
                    .execute(arm, vec![serde_json::to_value(&element).unwrap()])
                    .await;
                let _ = element.click().await;
            }
        }
        let Err(refused) = clicked else {
            return;
        };
        let centre = |at: usize, size: usize| {
            let number = |i: usize| last.get(i).and_then(serde_json::Value::as_f64).unwrap_or_default();
            (number(at) + number(size) / 2.0).floor()
        };
        let pointer = MouseActions::new("reader".to_owned())
            .then(PointerAction::MoveTo {
                duration: None,
                x: centre(0, 2),
                y: centre(1, 3),
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client
            .perform_actions(pointer)
            .await
            .unwrap_or_else(|e| panic!("cannot click {css} ({refused:?}), nor with the pointer: {e}"));
    }

    /// Waits (up to 15 s) until the element matching `css` has text containing `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        eventually(&format!("no {css} with {needle:?}"), async || {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => match element.text().await {
                    Ok(text) if text.contains(needle) => Ok(text),
                    Ok(text) => Err(format!("it says {text:?}")),
                    Err(e) => Err(e.to_string()),
                },
                Err(_) => Err("there is none".to_owned()),
            }
        })
        .await
    }

    /// The stable code of the error the page shows (`data-error-code`) inside `scope` (a CSS
    /// selector; `body` for anywhere), once there is one.
    pub async fn error_code(&self, scope: &str) -> String {
        let error = self.find(&format!("{scope} [data-error-code]")).await;
        error.attr("data-error-code").await.unwrap().unwrap_or_default()
    }

    /// Scrolls `#id` into view and saves a screenshot named `name`.
    pub async fn screenshot_of(&self, id: &str, name: &str) {
        let _ = self
            .client
            .execute(&format!("document.getElementById('{id}')?.scrollIntoView()"), vec![])
            .await;
        self.screenshot(name).await;
    }

    /// What the page holds: storage, cookies visible to scripts, and the DOM.
    pub async fn page_state(&self) -> String {
        let script = "return JSON.stringify({session: Object.entries(sessionStorage), local: Object.entries(localStorage), \
                      cookie: document.cookie, html: document.documentElement.outerHTML});";
        self.client
            .execute(script, vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a screenshot under `tests/artifacts/` (kept by CI as a test artifact).
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        // Bounded: WebKitGTK's driver can take a page's screenshot forever, and a screenshot
        // is a record of the run, not a step of it.
        if let Ok(Ok(png)) = tokio::time::timeout(Duration::from_secs(5), self.client.screenshot()).await {
            std::fs::write(dir.join(format!("{}-{name}.png", self.engine.name())), png).unwrap();
        }
    }

    /// Ends the WebDriver session, then the driver and its X server.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Also when a test panics: the driver's process group (the browser it started), the X
    /// server, and any process still naming the browser's folder.
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", process.id())])
                .stderr(Stdio::null())
                .status();
            let _ = process.kill();
            let _ = process.wait();
        }
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(self.folder.0.display().to_string())
            .stderr(Stdio::null())
            .status();
    }
}

/// Chromium headless in `profile`: the switches that keep it off this machine's closed network.
fn chromium_capabilities(binary: &str, profile: &std::path::Path, setup: Setup) -> serde_json::Value {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    args.push(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    args.push(format!("--user-data-dir={}", profile.display()));
    if setup.dark {
        args.push("--force-dark-mode".to_owned());
    }
    let prefs = match setup.third_party_cookies {
        ThirdPartyCookies::AsShipped => serde_json::json!({}),
        ThirdPartyCookies::Blocked => serde_json::json!({
            "profile.cookie_controls_mode": 1,
            "profile.block_third_party_cookies": true,
        }),
        ThirdPartyCookies::Refused => serde_json::json!({
            "profile.cookie_controls_mode": 1,
            "profile.block_third_party_cookies": true,
            // Primary pattern: the cookie's site; secondary: the top-level site it is under.
            "profile.content_settings.exceptions.cookies": {
                "[*.]localhost,127.0.0.1": { "setting": 2 },
            },
        }),
        ThirdPartyCookies::Allowed => serde_json::json!({ "profile.cookie_controls_mode": 0 }),
    };
    serde_json::json!({
        "goog:chromeOptions": {
            "binary": binary,
            "args": args,
            "excludeSwitches": if setup.popup_blocker { vec!["disable-popup-blocking"] } else { vec![] },
            "prefs": prefs,
        }
    })
}

/// Firefox headless, in a profile geckodriver makes under the browser's folder, kept off the
/// network it would otherwise call home to.
fn firefox_capabilities(binary: &str, setup: Setup) -> serde_json::Value {
    // network.cookie.cookieBehavior: 0 accepts all, 1 refuses third parties' (partitioned ones
    // too), 5 partitions them (Total Cookie Protection, the default).
    let cookie_behavior = match setup.third_party_cookies {
        ThirdPartyCookies::AsShipped => 5,
        ThirdPartyCookies::Blocked | ThirdPartyCookies::Refused => 1,
        ThirdPartyCookies::Allowed => 0,
    };
    serde_json::json!({
        "browserName": "firefox",
        "moz:firefoxOptions": {
            "binary": binary,
            "args": ["-headless", format!("--width={}", WINDOW.0), format!("--height={}", WINDOW.1)],
            "prefs": {
                "network.cookie.cookieBehavior": cookie_behavior,
                // A JSON document opened in a tab shows as its text, as in the other engines,
                // not in the developer tools' viewer.
                "devtools.jsonview.enabled": false,
                "dom.disable_open_during_load": setup.popup_blocker,
                "layout.css.prefers-color-scheme.content-override": if setup.dark { 0 } else { 1 },
                "ui.systemUsesDarkTheme": i32::from(setup.dark),
                "app.update.disabledForTesting": true,
                "browser.safebrowsing.malware.enabled": false,
                "browser.safebrowsing.phishing.enabled": false,
                "network.captive-portal-service.enabled": false,
                "network.connectivity-service.enabled": false,
                "datareporting.policy.dataSubmissionEnabled": false,
                "toolkit.telemetry.enabled": false,
                "extensions.update.enabled": false,
                "browser.region.network.url": "",
                "network.dns.disablePrefetch": true,
            },
        }
    })
}

/// WebKitGTK's MiniBrowser in automation mode (an ephemeral profile of its own).
fn webkit_capabilities(binary: &str, setup: Setup) -> serde_json::Value {
    let mut args = vec!["--automation".to_owned()];
    args.push(format!(
        "--cookies-policy={}",
        match setup.third_party_cookies {
            ThirdPartyCookies::AsShipped | ThirdPartyCookies::Blocked | ThirdPartyCookies::Refused => "no-third-party",
            ThirdPartyCookies::Allowed => "always",
        }
    ));
    if !setup.popup_blocker {
        args.push("--javascript-can-open-windows-automatically=true".to_owned());
    }
    if setup.dark {
        args.push("--dark-mode".to_owned());
    }
    serde_json::json!({
        "browserName": "MiniBrowser",
        "webkitgtk:browserOptions": { "binary": binary, "args": args },
    })
}

/// Starts Xvfb on a free display number of its choosing (`-displayfd`) and returns `:N`.
fn start_xvfb(processes: &mut Vec<Child>, tmp: &std::path::Path) -> String {
    use std::io::Read as _;
    let mut command = Command::new(XVFB);
    command
        .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
        .arg(format!("{}x{}x24", WINDOW.0 + 400, WINDOW.1 + 400))
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut xvfb = command.spawn().expect("Xvfb starts");
    let mut stdout = xvfb.stdout.take().expect("Xvfb's output is piped");
    let mut number = String::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
        number.push(char::from(byte[0]));
    }
    processes.push(xvfb);
    assert!(!number.is_empty(), "Xvfb named no display");
    format!(":{}", number.trim())
}
