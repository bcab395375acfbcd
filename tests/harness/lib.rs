//! The end-to-end harness: the companion (and, for `custom`, a separate stand-in) on free
//! loopback ports, the built app, a browser engine (Chromium, Firefox ESR or WebKitGTK, driven
//! over WebDriver by [`browser`]), replicas on Redis ([`cluster`]), what each test needs and the
//! one guard that skips it without, and a recorder of every response the browser received, to
//! prove that no secret and no token reached it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use base64::Engine as _;
use companion::{AppState, Config};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod browser;
pub mod cluster;

pub use browser::{Browser, Engine, Setup, ThirdPartyCookies};

/// Makes each named test, an `async fn(Engine)` of the calling file, a test in every engine:
/// `chromium::name`, `firefox::name` and `webkit::name`, so that a count or a failure names the
/// engine. The tests come in groups by what they need besides their engine, which each test
/// checks before it runs (the one guard, [`skipped_in`]):
///
/// ```ignore
/// e2e_harness::in_every_engine! {
///     [Need::App] => signs_in, refreshes;
///     [Need::App, Need::DocSites] => embeds;
/// }
/// ```
#[macro_export]
macro_rules! in_every_engine {
    ($($needs:expr => $($test:ident),+);+ $(;)?) => {
        $crate::in_engine!(chromium, Chromium, $($needs => $($test),+);+);
        $crate::in_engine!(firefox, Firefox, $($needs => $($test),+);+);
        $crate::in_engine!(webkit, WebKit, $($needs => $($test),+);+);
    };
}

/// The tests of [`in_every_engine`] for one engine, in a module named after it.
#[macro_export]
macro_rules! in_engine {
    ($module:ident, $engine:ident, $($needs:expr => $($test:ident),+);+) => {
        mod $module {
            $($crate::engine_tests!($engine, $needs, $($test),+);)+
        }
    };
}

/// One group of [`in_engine`]: each test, skipped (or failed, under `E2E_REQUIRE_ALL`) when its
/// needs or its engine are missing.
#[macro_export]
macro_rules! engine_tests {
    ($engine:ident, $needs:expr, $($test:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $test() {
                #[allow(unused_imports, reason = "the needs are named as the calling file names them")]
                use $crate::Need;
                if $crate::skipped_in($crate::Engine::$engine, &$needs) {
                    return;
                }
                super::$test($crate::Engine::$engine).await;
            }
        )+
    };
}

/// The client secret every end-to-end run uses: distinctive, so a leak is found by search.
pub const SECRET: &str = "e2e-Secret-9f8e7d6c5b4a-never-in-the-browser";
/// The client ID of the `custom` runs.
pub const CUSTOM_CLIENT_ID: &str = "0b6e7c1a-5f2d-4e8b-9a3c-7d1e2f3a4b5c";

/// One response the browser received: where from, its head and its body.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method and path of the request.
    pub request: String,
    /// Status line and headers of the response.
    pub head: String,
    /// The body, as text (lossy).
    pub body: String,
}

impl Seen {
    /// The response's `Location` header, as the head recorded it.
    pub fn location(&self) -> Option<String> {
        let rest = self.head.split("\"location\": \"").nth(1)?;
        rest.split('"').next().map(str::to_owned)
    }
}

/// Everything the browser received from our servers.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    /// All responses so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    /// Wraps `router` so every response to a browser request is recorded. Requests made by
    /// the companion itself (its token and API calls, by user agent) are not the browser's.
    pub fn wrap(&self, router: Router) -> Router {
        let recorder = self.clone();
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let recorder = recorder.clone();
            async move {
                let from_companion = request
                    .headers()
                    .get("user-agent")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ua| ua.starts_with("pleo-oauth-walkthrough-companion"));
                let label = format!("{} {}", request.method(), request.uri());
                let response = next.run(request).await;
                if from_companion {
                    return response;
                }
                let (parts, body) = response.into_parts();
                let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
                let head = format!("{} {:?}", parts.status, parts.headers);
                recorder.0.lock().unwrap().push(Seen {
                    request: label,
                    head,
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                });
                Response::from_parts(parts, Body::from(bytes))
            }
        }))
    }
}

/// A server on a free loopback port, stopped when dropped.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    /// Serves `router` on an already bound listener.
    pub fn spawn(listener: TcpListener, router: Router) -> Self {
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
                .unwrap();
        });
        Self { addr, stop: Some(stop) }
    }
}

impl Server {
    /// Serves `router` over https on an already bound listener, with a certificate for
    /// `localhost` made for it (the browsers accept the tests' own certificates:
    /// `acceptInsecureCerts`).
    pub fn spawn_tls(listener: TcpListener, router: Router) -> Self {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let addr = listener.local_addr().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(_) => continue,
                    },
                };
                let (acceptor, router) = (acceptor.clone(), router.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper_util::service::TowerToHyperService::new(router);
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self { addr, stop: Some(stop) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A free loopback listener.
pub async fn free_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// What an end-to-end test needs that `cargo test` on its own neither builds nor installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The built app (`dist/`, from `cargo xtask build-app`).
    App,
    /// A browser engine and its driver (Debian's packages and geckodriver, which `cargo xtask
    /// test` installs).
    Browser(Engine),
    /// The built PKCE package (`cargo xtask pkce-package`).
    PkcePackage,
    /// The package README's example bundled by Vite (`cargo xtask test` builds it).
    ViteExample,
    /// Debian's `redis-server` (which `cargo xtask test` installs).
    RedisServer,
    /// The companion's binary (`COMPANION_BIN`, or `target/debug/companion`; `cargo xtask test`
    /// builds the production one).
    CompanionBinary,
    /// The documentation pages built from the embedding guide's snippets (`cargo xtask doc-sites`).
    DocSites,
    /// The npm package `har-validator` (HAR 1.2's schemas), which `cargo xtask test` installs.
    HarValidator,
    /// The npm package `axe-core` (accessibility rules), which `cargo xtask test` installs.
    AxeCore,
    /// Debian's HAProxy (which `cargo xtask test` installs).
    Haproxy,
    /// Prometheus's `promtool` (Debian's `prometheus`, which `cargo xtask test` installs).
    Promtool,
    /// The PKCE package's bundles by webpack, esbuild and Rollup, from its tarball (`cargo
    /// xtask test` builds them).
    PkceBundles,
    /// The container image [`image`] (`cargo xtask image`, which `cargo xtask test` runs).
    Image,
}

impl Need {
    /// What is missing, as a sentence, or `None` when it is there.
    fn missing(self) -> Option<String> {
        let absent =
            |path: PathBuf, what: &str| (!path.exists()).then(|| format!("{what} ({} is missing)", path.display()));
        match self {
            Need::App => absent(dist_path().join("index.html"), "the built app"),
            Need::Browser(engine) => engine
                .programs()
                .into_iter()
                .find_map(|program| absent(program.into(), engine.name())),
            Need::PkcePackage => absent(pkce_package_path().join("pkce.js"), "the built PKCE package"),
            Need::ViteExample => absent(
                vite_example_path().join("index.html"),
                "the Vite build of the package README's example",
            ),
            Need::RedisServer => absent(cluster::REDIS_SERVER.into(), "redis-server"),
            Need::CompanionBinary => absent(cluster::companion_bin(), "the companion binary"),
            Need::HarValidator => absent(har_validator_path().join("package.json"), "har-validator"),
            Need::AxeCore => absent(axe_core_script(), "axe-core"),
            Need::Haproxy => absent(HAPROXY.into(), "haproxy"),
            Need::Promtool => absent(PROMTOOL.into(), "promtool"),
            Need::PkceBundles => absent(
                pkce_bundles_path().join("rollup/index.html"),
                "the PKCE package's bundles",
            ),
            Need::Image => match image() {
                None => {
                    Some("the container image (WALKTHROUGH_IMAGE names the one `cargo xtask image` built)".to_owned())
                }
                Some(image) => {
                    let present = std::process::Command::new("podman")
                        .args(["image", "exists", &image])
                        .status()
                        .is_ok_and(|s| s.success());
                    (!present).then(|| format!("the container image {image}"))
                }
            },
            Need::DocSites => absent(
                doc_sites_path().join("html.html"),
                "the documentation pages built from the embedding guide's snippets",
            )
            .or_else(|| {
                absent(
                    doc_sites_path().join("site/docs/oauth-walkthrough/index.html"),
                    "the Docusaurus site built with the embedding guide's component",
                )
            }),
        }
    }
}

/// Debian's HAProxy.
pub const HAPROXY: &str = "/usr/sbin/haproxy";
/// The container image `cargo xtask image` built, as the test command names it
/// (`WALKTHROUGH_IMAGE`).
pub fn image() -> Option<String> {
    std::env::var("WALKTHROUGH_IMAGE").ok().filter(|i| !i.is_empty())
}
/// Prometheus's metrics checker.
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// [`skipped`] for a test in `engine`: its needs and the engine with its driver.
pub fn skipped_in(engine: Engine, needs: &[Need]) -> bool {
    let mut all = needs.to_vec();
    all.push(Need::Browser(engine));
    skipped(&all)
}

/// Whether the calling test must be skipped because something it `needs` is missing: then it
/// prints one line saying what and passes without running, so that `cargo test` in a fresh clone
/// exits 0. Under `cargo xtask test`, which builds and installs all of it (`E2E_REQUIRE_ALL=1`),
/// a missing need fails the test instead.
pub fn skipped(needs: &[Need]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(|need| need.missing()).collect();
    if missing.is_empty() {
        return false;
    }
    let test = std::thread::current().name().unwrap_or("an end-to-end test").to_owned();
    assert!(
        std::env::var_os("E2E_REQUIRE_ALL").is_none(),
        "{test}: needs {}",
        missing.join(", ")
    );
    // Straight to the process's stderr: the test harness captures print!/eprint!, and the line
    // is for the person who ran `cargo test`.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: needs {}; `cargo xtask test` builds and installs it",
        missing.join(", ")
    );
    true
}

/// Whether `dist/` holds the release build (`cargo xtask build-app` names the app's files by
/// their content; the development server's debug build does not), or why not as a sentence that
/// names the command that makes it.
pub fn release_build() -> Result<(), String> {
    release_build_in(&dist_path())
}

/// [`release_build`] of the build in `dist`.
pub fn release_build_in(dist: &std::path::Path) -> Result<(), String> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .map_err(|e| format!("{} cannot be read ({e}): run `cargo xtask build-app`", index.display()))?;
    let hashed_wasm = html.match_indices("app_bg-").any(|(at, _)| {
        let rest = &html[at + "app_bg-".len()..];
        rest.len() > 21 && rest[..16].bytes().all(|b| b.is_ascii_hexdigit()) && rest[16..].starts_with(".wasm")
    });
    if hashed_wasm {
        Ok(())
    } else {
        Err(format!(
            "{} is not the release build (its files are not named by their content): run `cargo xtask build-app`",
            dist.display()
        ))
    }
}

fn dist_path() -> PathBuf {
    std::env::var("WALKTHROUGH_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"))
}

fn pkce_package_path() -> PathBuf {
    std::env::var("PKCE_PACKAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pkce-package"))
}

/// Where `cargo xtask test` writes the PKCE package's bundles (one folder per bundler).
pub fn pkce_bundles_path() -> PathBuf {
    std::env::var("PKCE_BUNDLES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pkce-bundlers/dist"))
}

/// Where `cargo xtask test` writes the Vite build of the package README's example.
pub fn vite_example_path() -> PathBuf {
    std::env::var("PKCE_VITE_EXAMPLE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pkce-vite-example/dist"))
}

/// Where `cargo xtask test` installs the npm package `har-validator`.
pub fn har_validator_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/node_modules/har-validator")
}

/// The script of the npm package `axe-core`, as `cargo xtask test` installs it.
pub fn axe_core_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/node_modules/axe-core/axe.min.js")
}

/// Where `cargo xtask doc-sites` writes the documentation pages built from the README's embed
/// snippets (`__COMPANION__` in them stands for the companion's address).
pub fn doc_sites_path() -> PathBuf {
    std::env::var("DOC_SITES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/doc-sites/dist"))
}

/// A file of the documentation site: what `cargo xtask doc-sites` built at `path`, with the
/// companion's address filled in (in its pages and scripts), as a static host serves it (a
/// folder's `index.html` for the folder).
fn documentation_file(path: &str, companion: &str) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if path.split('/').any(|part| part == ".." || part.starts_with('.')) {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let mut file = doc_sites_path().join(path.trim_start_matches('/'));
    if file.is_dir() {
        file = file.join("index.html");
    }
    let Ok(bytes) = std::fs::read(&file) else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let kind = match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    };
    let body = if matches!(extension, "html" | "js") {
        String::from_utf8_lossy(&bytes)
            .replace("__COMPANION__", companion)
            .into_bytes()
    } else {
        bytes
    };
    ([(axum::http::header::CONTENT_TYPE, kind)], body).into_response()
}

/// A documentation site: the built pages with the companion's address filled in (the MDX pages
/// at `/<name>.html`, the real Docusaurus site under `/site/`), and `/frame`, a page that frames
/// any address (for the cookie probe).
pub fn documentation_site(companion: String) -> Router {
    let site_companion = companion.clone();
    Router::new()
        .route(
            "/site/{*path}",
            axum::routing::get(move |axum::extract::Path(path): axum::extract::Path<String>| {
                let companion = site_companion.clone();
                async move { documentation_file(&format!("site/{path}"), &companion) }
            }),
        )
        .route(
            "/frame",
            axum::routing::get(
                |axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                    let src = query.get("src").cloned().unwrap_or_default().replace('"', "");
                    axum::response::Html(format!(
                        "<!doctype html><title>frame</title><iframe src=\"{src}\"></iframe>"
                    ))
                },
            ),
        )
        .route(
            "/{file}",
            axum::routing::get(move |axum::extract::Path(file): axum::extract::Path<String>| {
                let companion = companion.clone();
                async move { documentation_file(&file, &companion) }
            }),
        )
}

/// The built app (Trunk's `dist/`).
pub fn dist_dir() -> PathBuf {
    let dir = dist_path();
    assert!(
        dir.join("index.html").exists(),
        "no built app at {}: run `cargo xtask test` (it builds the app with Trunk)",
        dir.display()
    );
    dir
}

/// Which authorisation server the run uses.
pub enum Mode {
    /// `PLEO_ENV=local`: the stand-in embedded in the companion.
    Local,
    /// `PLEO_ENV=custom`: a separate stand-in, reached only through the contract's variables.
    Custom,
}

/// The servers of one end-to-end run.
pub struct Walkthrough {
    /// The companion serving the app and `/api`.
    pub companion: Server,
    /// The separate stand-in of a `custom` run.
    pub standalone: Option<Server>,
    /// The stand-in, embedded or separate, for looking at what it issued.
    pub stand_in: stand_in::StandIn,
    /// Every response the browser received (none in an unrecorded run).
    pub recorder: Recorder,
    /// The companion's state.
    pub state: AppState,
    /// Where the browser reaches the companion: `http://localhost:<port>`, or `https://…` on a
    /// listener of its own ([`Walkthrough::start_https`]).
    origin: String,
    /// The https listener of [`Walkthrough::start_https`].
    _https: Option<Server>,
}

impl Walkthrough {
    /// Starts the companion (and a separate stand-in for `custom`) on free loopback ports.
    pub async fn start(mode: Mode) -> Self {
        Self::start_with(mode, &[]).await
    }

    /// As [`Walkthrough::start`], with more configuration variables (e.g. auto-approve).
    pub async fn start_with(mode: Mode, extra: &[(&str, &str)]) -> Self {
        Self::launch(mode, extra, true, |router| router).await
    }

    /// As [`Walkthrough::start_with`], without the recorder: for the benchmarks, which measure
    /// the companion and the stand-in, not the test's copy of every response.
    pub async fn start_unrecorded(mode: Mode, extra: &[(&str, &str)]) -> Self {
        Self::launch(mode, extra, false, |router| router).await
    }

    /// As [`Walkthrough::start_unrecorded`], with the companion's router changed by `wrap` (a
    /// benchmark's reference: the same server with other headers).
    pub async fn start_wrapped(mode: Mode, extra: &[(&str, &str)], wrap: impl FnOnce(Router) -> Router) -> Self {
        Self::launch(mode, extra, false, wrap).await
    }

    /// As [`Walkthrough::start_with`] (local), with the browser reaching the companion over https
    /// (`https://localhost:<port>`, a certificate made for it; `Secure` cookies): WebKit keeps
    /// no `Secure` cookie from http. Its stand-in is still reached over http on the companion's
    /// own address, as a real authorisation server is reached on its own.
    pub async fn start_https(extra: &[(&str, &str)]) -> Self {
        Self::launch_on(Mode::Local, extra, true, |router| router, Some(free_listener().await)).await
    }

    /// As [`Walkthrough::start_https`], without the recorder (the benchmarks).
    pub async fn start_https_unrecorded(extra: &[(&str, &str)]) -> Self {
        Self::launch_on(Mode::Local, extra, false, |router| router, Some(free_listener().await)).await
    }

    async fn launch(mode: Mode, extra: &[(&str, &str)], record: bool, wrap: impl FnOnce(Router) -> Router) -> Self {
        Self::launch_on(mode, extra, record, wrap, None).await
    }

    async fn launch_on(
        mode: Mode,
        extra: &[(&str, &str)],
        record: bool,
        wrap: impl FnOnce(Router) -> Router,
        https: Option<TcpListener>,
    ) -> Self {
        let listener = free_listener().await;
        let addr = listener.local_addr().unwrap();
        let origin = match &https {
            Some(https) => format!("https://localhost:{}", https.local_addr().unwrap().port()),
            None => format!("http://localhost:{}", addr.port()),
        };
        let redirect_uri = format!("{origin}/callback");
        let recorder = Recorder::default();
        let served = |router: Router| if record { recorder.wrap(router) } else { router };
        let mut vars = vec![
            ("COMPANION_ADDR", addr.to_string()),
            ("PLEO_REDIRECT_URI", redirect_uri.clone()),
            ("PLEO_CLIENT_SECRET", SECRET.to_owned()),
            ("COMPANION_STATIC_DIR", dist_dir().display().to_string()),
        ];
        let mut standalone = None;
        let mut separate_stand_in = None;
        if let Mode::Custom = mode {
            let registration = stand_in::Registration {
                client_id: CUSTOM_CLIENT_ID.to_owned(),
                client_secret: SecretString::from(SECRET),
                redirect_uris: vec![redirect_uri],
                scopes: stand_in::Registration::ALL_SCOPES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                client_name: "Custom server client".to_owned(),
            };
            let auto_approve = extra.iter().any(|(n, v)| *n == "STAND_IN_AUTO_APPROVE" && *v == "1");
            let api_latency_ms = extra
                .iter()
                .find(|(n, _)| *n == "STAND_IN_API_LATENCY_MS")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let si = stand_in::StandIn::new(
                registration,
                stand_in::Settings {
                    auto_approve,
                    api_latency_ms,
                    ..stand_in::Settings::default()
                },
            );
            let si_listener = free_listener().await;
            let server = Server::spawn(si_listener, served(stand_in::router(si.clone())));
            vars.extend([
                ("PLEO_ENV", "custom".to_owned()),
                (
                    "PLEO_AUTHORIZATION_SERVER_URL",
                    format!("http://127.0.0.1:{}", server.addr.port()),
                ),
                ("PLEO_CLIENT_ID", CUSTOM_CLIENT_ID.to_owned()),
            ]);
            standalone = Some(server);
            separate_stand_in = Some(si);
        }
        vars.extend(extra.iter().map(|(n, v)| (*n, (*v).to_owned())));
        let config = Config::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())).unwrap();
        let state = AppState::new(config);
        let stand_in = separate_stand_in.or_else(|| state.stand_in.clone()).unwrap();
        let router = served(wrap(companion::router(state.clone())));
        let https = https.map(|https| Server::spawn_tls(https, router.clone()));
        let companion = Server::spawn(listener, router);
        Self {
            companion,
            standalone,
            stand_in,
            recorder,
            state,
            origin,
            _https: https,
        }
    }

    /// The app's address, as the browser opens it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Every string that must never reach the browser: the secret, its Basic-auth forms, and
    /// every token the stand-in issued.
    pub fn forbidden_strings(&self) -> Vec<String> {
        let id = self.state.config.client_id.clone();
        let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let mut forbidden = vec![SECRET.to_owned(), encode(&format!("{id}:{SECRET}")), encode(SECRET)];
        forbidden.extend(self.stand_in.issued_tokens());
        forbidden
    }
}

/// Polls `probe` every 50 ms until it gives `Ok`, for at most 15 s; then fails saying `what` and
/// what the last poll saw (its `Err`).
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match probe().await {
            Ok(found) => return found,
            Err(seen) => assert!(std::time::Instant::now() < deadline, "{what}: {seen}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// On the full page where it stands: a fresh PKCE pair, the authorisation server's consent,
/// the exchange, and the API call answered 200.
pub async fn sign_in_here_and_call_the_api(browser: &Browser) {
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.click("#approve").await;
    browser.find("#exchanged").await;
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
}

/// Steps 1-6 of the walking skeleton in the page, with screenshots named `{shots}-…`.
pub async fn sign_in_and_call_the_api(browser: &Browser, wt: &Walkthrough, shots: &str) {
    browser.client.goto(&wt.url("/")).await.unwrap();
    assert_eq!(browser.text("[data-testid=client-id]").await, wt.state.config.client_id);
    assert_eq!(browser.text("[data-testid=redirect-uri]").await, wt.url("/callback"));
    assert_eq!(browser.text("[data-testid=auth-method]").await, "client_secret_basic");
    browser.screenshot(&format!("{shots}-1-config")).await;

    browser.click("#generate").await;
    let verifier = browser.text("[data-testid=verifier]").await;
    let challenge = browser.text("[data-testid=challenge]").await;
    let state = browser.text("[data-testid=state]").await;
    let parsed = pkce::CodeVerifier::parse(&verifier).expect("the page shows an RFC 7636 verifier");
    assert_eq!(
        pkce::CodeChallenge::s256(&parsed).as_str(),
        challenge,
        "the WASM challenge is S256 of the verifier"
    );
    assert_eq!(state.len(), 43);
    let url = browser.text("[data-testid=authorize-request-url]").await;
    assert!(url.starts_with(&format!(
        "{}/oauth/authorize?",
        wt.state.config.authorization_server_url
    )));
    assert!(url.contains(&format!("code_challenge={challenge}")) && url.contains("code_challenge_method=S256"));
    browser.screenshot(&format!("{shots}-2-authorize")).await;

    browser.click("#authorize-go").await;
    browser.find("#approve").await;
    browser.screenshot(&format!("{shots}-3-consent")).await;
    browser.click("#approve").await;

    browser.find("#exchanged").await;
    assert!(browser.text("[data-testid=access-token-hint]").await.contains("chars"));
    let address = browser.client.current_url().await.unwrap();
    assert_eq!(address.query(), None, "the code is removed from the address bar");
    assert_eq!(
        (address.path(), address.fragment()),
        ("/", Some("step-3")),
        "back at step 3"
    );
    browser.find("#callback-checks").await;
    assert_eq!(browser.text("#step-3 [data-testid=transcript-status]").await, "200");
    let exchange = browser.text("#step-3 .transcript").await;
    assert!(
        exchange.contains("Authorization: Basic ••••") && exchange.contains("grant_type=authorization_code"),
        "{exchange}"
    );
    browser.screenshot_of("step-3", &format!("{shots}-4-exchanged")).await;

    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    let body: serde_json::Value = serde_json::from_str(&browser.text("[data-testid=api-body]").await).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert!(body["data"][0]["email"].as_str().unwrap().contains('@'));
    assert_eq!(body["pagination"]["total"], 24);
    assert!(browser.text("[data-testid=pagination]").await.contains("24 in all"));
    browser.screenshot_of("step-4", &format!("{shots}-5-api")).await;
}

/// Asserts that no forbidden string is in anything the browser received, in the built files,
/// or in the page's storage, script-visible cookies and DOM.
pub async fn assert_nothing_secret_reached_the_browser(browser: &Browser, wt: &Walkthrough) {
    let forbidden = wt.forbidden_strings();
    assert!(
        forbidden.len() >= 5,
        "the secret, its Basic forms, and at least one access and refresh token"
    );
    let seen = wt.recorder.seen();
    assert!(
        seen.iter().any(|s| s.request.starts_with("POST /api/token")),
        "the recorder saw the browser's calls"
    );
    for response in &seen {
        for secret in &forbidden {
            assert!(
                !response.body.contains(secret.as_str()),
                "a secret is in the body of {}",
                response.request
            );
            assert!(
                !response.head.contains(secret.as_str()),
                "a secret is in the headers of {}",
                response.request
            );
        }
    }
    for file in std::fs::read_dir(dist_dir()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET), "the secret is in a served file");
    }
    let page = browser.page_state().await;
    for secret in &forbidden {
        assert!(
            !page.contains(secret.as_str()),
            "a secret is in the page's storage, cookies or DOM"
        );
    }
    let state: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(state["cookie"], "", "the session cookie is HttpOnly");
    let stored: Vec<&str> = state["session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap())
        .collect();
    assert!(
        !stored.contains(&"pleo-walkthrough.pending-authorization"),
        "the verifier and state were used up: {stored:?}"
    );
    assert_eq!(state["local"], serde_json::json!([]));
}

pub use attack_cases::record_case;

/// The built PKCE package (`cargo xtask pkce-package`).
pub fn pkce_package_dir() -> PathBuf {
    let dir = pkce_package_path();
    assert!(
        dir.join("pkce.js").exists(),
        "no PKCE package at {}: run `cargo xtask pkce-package` (`cargo xtask test` does)",
        dir.display()
    );
    dir
}

/// Serves the PKCE package under `/pkg/` and the plain-HTML example page (`www/pkce-example.html`)
/// at `/`, on a free loopback port.
pub async fn serve_pkce_package() -> Server {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../www/pkce-example.html");
    let app = Router::new()
        .route_service("/", tower_http::services::ServeFile::new(example))
        .nest_service("/pkg", tower_http::services::ServeDir::new(pkce_package_dir()));
    Server::spawn(free_listener().await, app)
}
