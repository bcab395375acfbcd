//! Companion replicas as real processes on one real Redis, against a stand-in on a loopback
//! port: what the replica tests and the replica benchmarks run. Every server listens on a free
//! loopback port and is stopped when its value is dropped.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use secrecy::SecretString;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{CUSTOM_CLIENT_ID, SECRET, free_listener};

/// The API call the replica tests make: the first page of employees, through the proxy.
pub const EMPLOYEES: &str = "/api/pleo/v2/employees?limit=5";

/// Debian's Redis server.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
/// The redirect URI the replicas are registered with; its origin is the one CSRF checks expect.
pub const REDIRECT_URI: &str = "http://localhost:8080/callback";
const APP_ORIGIN: &str = "http://localhost:8080";

/// The companion binary the replicas run: `COMPANION_BIN`, else the workspace's
/// `target/debug/companion`.
pub fn companion_bin() -> PathBuf {
    std::env::var_os("COMPANION_BIN").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
                PathBuf::from,
            );
            target.join("debug/companion")
        },
        PathBuf::from,
    )
}

/// A free loopback port (bound, read, released: the process about to use it binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `redis-server` of its own: loopback, a free port, no automatic persistence; a stop saves
/// what it holds to its own folder, and a start loads it back, as a restarted Redis would.
pub struct RedisServer {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one and waits until it listens.
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("walkthrough-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self { child: None, port, dir };
        server.start_again();
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts it again on the same port, with what it saved when it stopped.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(REDIS_SERVER)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        wait_for_port(self.port, "redis-server");
    }

    /// Stops it as an operator would (`SHUTDOWN SAVE`: what it holds is kept on disk) and waits
    /// until it is gone.
    pub async fn stop(&mut self) {
        let mut connection = self.connection().await;
        let _: Result<(), _> = redis::cmd("SHUTDOWN").arg("SAVE").query_async(&mut connection).await;
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// A connection of the test's own, to look at (and tamper with) what Redis holds.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("the test's Redis connection")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The key under which Redis holds `kind` (`session`, `transcript`, `lease`, `attempt`) for the
/// cookie value `id`: the companion names keys by a hash of the id, never the id.
pub fn redis_key(kind: &str, id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("walkthrough:{kind}:{hex}")
}

/// The stand-in as a server of its own on a free port, auto-approving, registered with the
/// replicas' client; access tokens live `access_token_ttl` seconds.
pub struct StandInServer {
    /// The stand-in, to count its token requests and set its faults.
    pub stand_in: stand_in::StandIn,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl StandInServer {
    /// Starts one whose API answers at once.
    pub async fn start(access_token_ttl: u64) -> Self {
        Self::start_with_api_latency(access_token_ttl, 0).await
    }

    /// Starts one whose API waits `api_latency_ms` before answering, as a remote or slow one.
    pub async fn start_with_api_latency(access_token_ttl: u64, api_latency_ms: u64) -> Self {
        Self::start_registered(access_token_ttl, api_latency_ms, REDIRECT_URI).await
    }

    /// Starts one whose client is registered with `redirect_uri`.
    pub async fn start_registered(access_token_ttl: u64, api_latency_ms: u64, redirect_uri: &str) -> Self {
        let registration = stand_in::Registration {
            client_id: CUSTOM_CLIENT_ID.into(),
            client_secret: SecretString::from(SECRET),
            redirect_uris: vec![redirect_uri.into()],
            scopes: vec!["users:read".into()],
            client_name: "replica tests".into(),
        };
        let stand_in = stand_in::StandIn::new(
            registration,
            stand_in::Settings {
                auto_approve: true,
                access_token_ttl,
                api_latency_ms,
                ..stand_in::Settings::default()
            },
        );
        let listener = free_listener().await;
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = stand_in::router(stand_in.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { stand_in, base, task }
    }

    /// Refresh requests it answered so far.
    pub fn refreshes(&self) -> u64 {
        self.stand_in.token_requests("refresh_token")
    }
}

impl Drop for StandInServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One companion process.
pub struct Replica {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Replica {
    /// Starts the companion binary with `env` (and `COMPANION_ADDR` on a free port) and waits
    /// until it answers.
    pub async fn start(env: Vec<(String, String)>) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("walkthrough-replica-{}-{port}.log", std::process::id()));
        let mut replica = Self {
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            port,
            env,
            log,
        };
        replica.start_again().await;
        replica
    }

    /// Starts it again, same port, same settings (a deploy, or a restart after a crash).
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let stdout = log.try_clone().unwrap();
        let mut command = Command::new(companion_bin());
        if !self.env.iter().any(|(k, _)| k == "RUST_LOG") {
            command.env("RUST_LOG", "companion=warn");
        }
        let child = command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("COMPANION_ADDR", format!("127.0.0.1:{}", self.port))
            // No `.env` of the repository's: the replica gets exactly the settings above.
            .current_dir(std::env::temp_dir())
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .expect("the companion binary starts");
        self.child = Some(child);
        wait_for_port(self.port, "a companion replica");
    }

    /// Sets one of its settings for its next start.
    pub fn set(&mut self, name: &str, value: &str) {
        self.unset(name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Leaves one of its settings out of its next start.
    pub fn unset(&mut self, name: &str) {
        self.env.retain(|(n, _)| n != name);
    }

    /// `SIGKILL`: gone at once, whatever it was doing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// `SIGTERM`, as an orchestrator stops it: it shuts down gracefully (the companion's
    /// `main`); [`Replica::wait_exit`] waits for the end.
    pub fn terminate(&self) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success(), "SIGTERM sent");
        }
    }

    /// Waits (at most `limit`) for the process to end after [`Replica::terminate`]; its exit
    /// code, `None` if it is still running (it is then killed).
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status.code();
            }
            if Instant::now() >= deadline {
                self.kill();
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What it wrote to stdout and stderr so far (its request log and warnings).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A Redis, a stand-in and `n` replicas sharing that Redis.
pub struct Cluster {
    /// The replicas' Redis.
    pub redis: RedisServer,
    /// The authorisation server and API.
    pub stand_in: StandInServer,
    /// The companions.
    pub replicas: Vec<Replica>,
    /// The HTTP client of the test (no redirects followed, no cookie store: cookies are sent
    /// by hand, as a load balancer's clients would send them to any replica).
    pub http: reqwest::Client,
}

/// The session key every replica of a cluster shares (32 bytes, base64).
pub fn session_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(*b"replica-tests-session-key-32-byt")
}

impl Cluster {
    /// Starts `n` replicas with access tokens of `access_token_ttl` seconds and `extra`
    /// settings.
    pub async fn start(n: usize, access_token_ttl: u64, extra: &[(&str, &str)]) -> Self {
        Self::start_with(n, StandInServer::start(access_token_ttl).await, extra).await
    }

    /// As [`Cluster::start`], against `stand_in`.
    pub async fn start_with(n: usize, stand_in: StandInServer, extra: &[(&str, &str)]) -> Self {
        let redis = RedisServer::start();
        let mut env: Vec<(String, String)> = [
            ("PLEO_ENV", "custom"),
            ("PLEO_AUTHORIZATION_SERVER_URL", stand_in.base.as_str()),
            ("PLEO_CLIENT_ID", CUSTOM_CLIENT_ID),
            ("PLEO_CLIENT_SECRET", SECRET),
            ("PLEO_SCOPES", "users:read"),
            ("PLEO_REDIRECT_URI", REDIRECT_URI),
            ("COMPANION_SESSION_STORE", redis.url().as_str()),
            ("COMPANION_SESSION_KEY", session_key().as_str()),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let mut replicas = Vec::new();
        for _ in 0..n {
            replicas.push(Replica::start(env.clone()).await);
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(512)
            .build()
            .unwrap();
        Self {
            redis,
            stand_in,
            replicas,
            http,
        }
    }

    /// The replicas that are running (not killed).
    pub fn running(&self) -> Vec<usize> {
        (0..self.replicas.len())
            .filter(|&i| self.replicas[i].child.is_some())
            .collect()
    }

    /// The base URL of replica `i`.
    pub fn base(&self, i: usize) -> &str {
        &self.replicas[i].base
    }

    /// Signs in through replica `i` ([`sign_in_over_http`]). Returns the session cookie
    /// (`name=value`).
    pub async fn sign_in(&self, i: usize) -> String {
        sign_in_over_http(&self.http, self.base(i), APP_ORIGIN).await
    }

    /// A state-changing request as the app sends it (CSRF header, the app's origin).
    pub fn post(&self, base: &str, path: &str, cookie: Option<&str>) -> reqwest::RequestBuilder {
        let request = self
            .http
            .post(format!("{base}{path}"))
            .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
            .header("origin", APP_ORIGIN);
        match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    /// `GET path` on replica `i` with `cookie`: the status, `Retry-After` and the JSON body.
    pub async fn get(&self, i: usize, path: &str, cookie: &str) -> (u16, Option<String>, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base(i)))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry_after, response.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the session's access token is due for a refresh (it expires within the
    /// companion's refresh margin), as every replica's clock sees it.
    pub async fn wait_until_stale(&self, cookie: &str) {
        let (status, _, session) = self.get(0, "/api/session", cookie).await;
        assert_eq!(status, 200);
        let expires_at = session["tokens"]["expires_at"].as_u64().expect("signed in");
        let expires_in = session["tokens"]["expires_in"].as_u64().expect("signed in");
        let due = expires_at.saturating_sub(flow::expiry::refresh_margin(expires_in));
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            if now >= due {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn first_cookie(response: &reqwest::Response) -> String {
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The session id inside a cookie `name=value`.
pub fn cookie_value(cookie: &str) -> &str {
    cookie.split_once('=').map_or(cookie, |(_, v)| v)
}

/// Every key Redis holds and every byte of every value, for a scan.
pub async fn everything_in(redis: &RedisServer) -> Vec<(String, Vec<u8>)> {
    let mut connection = redis.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut connection).await.unwrap();
    let mut out = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut connection).await.unwrap();
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(&key).query_async(&mut connection).await.unwrap()],
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .unwrap(),
            "list" | "zset" => redis::cmd(if kind == "list" { "LRANGE" } else { "ZRANGE" })
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut connection)
                .await
                .unwrap(),
            other => panic!("an unexpected kind of key: {other}"),
        };
        out.extend(values.into_iter().map(|v| (key.clone(), v)));
    }
    out
}

/// The access-token lifetime that makes a token due for a refresh `secs` seconds after it is
/// issued (the inverse of [`flow::expiry::refresh_margin`]), still valid for
/// `min(secs, 30)` seconds more.
pub fn lifetime_due_after(secs: u64) -> u64 {
    let half = secs * flow::expiry::REFRESH_MARGIN_DIVISOR;
    if flow::expiry::refresh_margin(half) == secs {
        half
    } else {
        secs + flow::expiry::REFRESH_SKEW_SECS
    }
}

/// Signs in over HTTP as the app does, at the companion on `base` with the app's `origin`: start,
/// authorise at the authorisation server its configuration names (the stand-in, auto-approved;
/// `http` must not follow redirects), exchange. Returns the session cookie (`name=value`).
pub async fn sign_in_over_http(http: &reqwest::Client, base: &str, origin: &str) -> String {
    let post = |path: &str| {
        http.post(format!("{base}{path}"))
            .header(contract::wire::CSRF_HEADER, contract::wire::CSRF_HEADER_VALUE)
            .header("origin", origin)
    };
    let verifier = pkce::CodeVerifier::generate().unwrap();
    let state = pkce::State::generate().unwrap();
    let challenge = pkce::CodeChallenge::s256(&verifier);
    let start = post("/api/authorize/start")
        .json(&flow::start_request(state.as_str(), challenge.as_str()))
        .send()
        .await
        .unwrap();
    assert!(start.status().is_success(), "authorize/start: {}", start.status());
    let attempt = first_cookie(&start);
    let config: contract::wire::PublicConfig = http
        .get(format!("{base}/api/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = flow::AuthorizeRequest::for_config(&config, state.as_str(), challenge.as_str())
        .url()
        .unwrap();
    let redirect = http.get(url).send().await.unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let callback = flow::check_callback(location.split_once('?').unwrap().1, Some(state.as_str()), None).unwrap();
    let token = post("/api/token")
        .header("cookie", attempt)
        .json(
            &serde_json::json!({"code": callback.code(), "code_verifier": verifier.as_str(), "state": state.as_str()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200, "token exchange");
    token
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("pleo_walkthrough_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}
