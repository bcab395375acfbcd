//! The container image (`cargo xtask image`, the repository's `Containerfile`) run with podman
//! as an operator runs it: the whole flow in headless Chromium against the container, with a
//! stand-in on a loopback port as the authorisation server and API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a step that fails fails the test, with the value in its message"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e_harness::cluster::StandInServer;
use e2e_harness::{Browser, CUSTOM_CLIENT_ID, Engine, Need, SECRET, record_case, skipped};

/// What podman needs to run a container on this kind of machine (a `containers.conf` with no
/// default ulimits and the cgroupfs manager), written for the test.
const CONTAINERS_CONF: &str = "[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = \"cgroupfs\"\n";

/// A container of the image, stopped and removed when dropped (here, not by podman's own `--rm`
/// cleanup, which runs without the test's `containers.conf` and would leave it behind).
struct Container {
    name: String,
    conf: std::path::PathBuf,
}

impl Drop for Container {
    fn drop(&mut self) {
        // Stopped first, with time for the companion's graceful shutdown (podman 4.3 fails a
        // `rm --force` whose stop times out while the process is already stopping).
        for args in [&["stop", "--time", "15"][..], &["rm", "--force"][..]] {
            let _ = Command::new("podman")
                .env("CONTAINERS_CONF", &self.conf)
                .args(args)
                .arg(&self.name)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }

        let _ = std::fs::remove_file(&self.conf);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_image_serves_the_whole_flow_in_chromium() {
    if skipped(&[Need::Image, Need::Browser(Engine::Chromium)]) {
        return;
    }
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let origin = format!("http://localhost:{port}");
    let redirect_uri = format!("{origin}/callback");
    let stand_in = StandInServer::start_registered(900, 0, &redirect_uri).await;
    let name = format!("walkthrough-image-test-{}", std::process::id());
    let conf = std::env::temp_dir().join(format!("{name}-containers.conf"));
    std::fs::write(&conf, CONTAINERS_CONF).unwrap();
    let container = Container { name, conf };
    let started = Command::new("podman")
        .env("CONTAINERS_CONF", &container.conf)
        .args(["run", "--detach", "--runtime", "/usr/sbin/runc", "--network", "host"])
        .args(["--name", &container.name])
        .args(["-e", "PLEO_ENV=custom"])
        .args(["-e", &format!("PLEO_AUTHORIZATION_SERVER_URL={}", stand_in.base)])
        .args(["-e", &format!("PLEO_CLIENT_ID={CUSTOM_CLIENT_ID}")])
        .args(["-e", &format!("PLEO_CLIENT_SECRET={SECRET}")])
        .args(["-e", "PLEO_SCOPES=users:read"])
        .args(["-e", &format!("PLEO_REDIRECT_URI={redirect_uri}")])
        .args(["-e", &format!("COMPANION_ADDR=127.0.0.1:{port}")])
        .arg(e2e_harness::image().unwrap())
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "podman run: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let http = reqwest::Client::new();
    loop {
        if let Ok(answer) = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && answer.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "the container did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let user = Command::new("podman")
        .env("CONTAINERS_CONF", &container.conf)
        .args(["exec", &container.name, "/companion", "--version"])
        .output();
    drop(user);
    let inspect = Command::new("podman")
        .env("CONTAINERS_CONF", &container.conf)
        .args(["inspect", "--format", "{{.Config.User}}", &container.name])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inspect.stdout).trim(),
        "10001:10001",
        "not root"
    );

    let browser = Browser::launch(Engine::Chromium).await;
    browser.client.goto(&format!("{origin}/")).await.unwrap();
    assert_eq!(browser.text("[data-testid=redirect-uri]").await, redirect_uri);
    browser.click("#generate").await;
    browser.click("#authorize-go").await;
    browser.find("#exchanged").await;
    browser.click("#call-employees").await;
    assert_eq!(browser.text("[data-testid=api-status]").await, "200");
    browser.screenshot("image-api").await;
    let page = browser.page_state().await;
    let mut secrets = stand_in.stand_in.issued_tokens();
    secrets.push(SECRET.to_owned());
    for secret in &secrets {
        assert!(!page.contains(secret.as_str()), "a secret or token reached the page");
    }
    assert_eq!(stand_in.stand_in.token_requests("authorization_code"), 1);
    browser.close().await;
    record_case(
        "Operations",
        "the container image (FROM scratch, static binary, non-root) run with podman, the whole flow in Chromium",
        "the app loads from the image, signs in through the stand-in, calls the API (200); it runs as user 10001; no secret reaches the page",
    );
}
