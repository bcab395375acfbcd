//! Installs what a fresh machine lacks, printing each step. Versions are pinned: Trunk 0.21.14
//! (0.22 needs a newer rustc; only the development loop uses it) and wasm-bindgen-cli exactly
//! matching the `wasm-bindgen` crate.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{command, run, step};

/// The Trunk version the project builds with.
pub const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `wasm-bindgen` crate pin in the workspace Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// The cargo-fuzz version the fuzz targets run with (on stable, with `RUSTC_BOOTSTRAP=1`).
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The geckodriver (crates.io) that drives Debian's Firefox ESR in the end-to-end tests.
pub const GECKODRIVER_VERSION: &str = "0.37.1";

/// The binaryen release whose npm package ships a working `wasm-opt`.
pub const BINARYEN_VERSION: &str = "132";
/// The WebAssembly features rustc's wasm32 target emits, for wasm-opt to accept them.
pub const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// `wasm-opt` from the npm package binaryen, installed under `.tools/` when missing.
fn ensure_wasm_opt() -> Result<(), String> {
    ensure_npm_tool(
        "binaryen",
        BINARYEN_VERSION,
        "wasm-opt",
        &format!("version_{BINARYEN_VERSION}"),
    )
}

/// The esbuild release that minifies the app's JavaScript glue (Trunk's own minifier cannot
/// parse what wasm-bindgen writes).
pub const ESBUILD_VERSION: &str = "0.25.12";

/// `esbuild` from npm, installed under `.tools/` when missing.
fn ensure_esbuild() -> Result<(), String> {
    ensure_npm_tool("esbuild", ESBUILD_VERSION, "esbuild", ESBUILD_VERSION)
}

/// The HAR validator the end-to-end tests check the session's HTTP Archive with: `har-validator`
/// validates against `har-schema`, the JSON Schemas of HAR 1.2.
pub const HAR_VALIDATOR_VERSION: &str = "5.1.5";
/// The accessibility checker the end-to-end tests inject into Chromium.
pub const AXE_CORE_VERSION: &str = "4.14.1";

/// The npm library `package@version` (no program to ask its version: its `package.json` is
/// read), installed under `.tools/` when missing.
fn ensure_npm_library(package: &str, version: &str) -> Result<(), String> {
    let manifest = crate::repo_root().join(format!(".tools/node_modules/{package}/package.json"));
    let installed = std::fs::read_to_string(&manifest).unwrap_or_default();
    if installed.contains(&format!("\"version\": \"{version}\"")) {
        println!("    {package} {version}: installed");
        return Ok(());
    }
    npm_install(package, version)
}

/// Where an npm tool (`wasm-opt`, `esbuild`) is, once [`ensure_tools`] has installed it.
pub fn npm_tool(program: &str) -> PathBuf {
    crate::repo_root().join(".tools/node_modules/.bin").join(program)
}

/// [`npm_tool`]`(program)` from the npm package `package@version`, installed when the program is
/// missing or its `--version` does not contain `wanted`.
fn ensure_npm_tool(package: &str, version: &str, program: &str, wanted: &str) -> Result<(), String> {
    if version_of(&npm_tool(program).display().to_string(), &["--version"]).is_some_and(|v| v.contains(wanted)) {
        println!("    {program} {wanted}: installed");
        return Ok(());
    }
    npm_install(package, version)
}

/// `npm install package@version` into `.tools/`.
fn npm_install(package: &str, version: &str) -> Result<(), String> {
    let tools = crate::repo_root().join(".tools");
    step(&format!("Installing npm {package}@{version} into .tools/"));
    std::fs::create_dir_all(&tools).map_err(|e| format!("cannot create .tools: {e}"))?;
    run(
        command("npm").arg("install").arg("--prefix").arg(&tools).args([
            "--no-audit",
            "--no-fund",
            &format!("{package}@{version}"),
        ]),
        &format!("npm install {package}"),
    )
}

/// cargo-fuzz, installed with `cargo install` when missing.
pub fn ensure_cargo_fuzz() -> Result<(), String> {
    ensure_cargo_installed(
        "cargo-fuzz",
        CARGO_FUZZ_VERSION,
        &["fuzz", "--version"],
        ToolBuild::Debug,
        "about 20 seconds",
    )
}

/// geckodriver, installed with `cargo install` when missing (no prebuilt binary is reachable).
fn ensure_geckodriver() -> Result<(), String> {
    ensure_cargo_installed(
        "geckodriver",
        GECKODRIVER_VERSION,
        &["--version"],
        ToolBuild::LightRelease,
        "about a minute and a half",
    )
}

/// How `cargo install` builds a tool.
#[derive(Debug, Clone, Copy)]
enum ToolBuild {
    /// Cargo's dev profile (`--debug`): for a tool that hands the work to other programs (cargo,
    /// wasm-bindgen, wasm-opt), whose own speed nobody waits for. Trunk so built installs in 166 s
    /// here instead of 392 s, and builds the app as fast (docs/decisions.md).
    Debug,
    /// The release profile without its fat LTO ([`LIGHT_INSTALL_PROFILE`]): for a tool whose own
    /// work the tests wait for (wasm-bindgen-cli reads every test's module; geckodriver carries
    /// every WebDriver command).
    LightRelease,
}

/// The crates.io tool `name` at `version` (`--locked`), installed with `cargo install` as `build`
/// says unless `name version_args` already names that version; `takes` says how long an install
/// takes.
fn ensure_cargo_installed(
    name: &str,
    version: &str,
    version_args: &[&str],
    build: ToolBuild,
    takes: &str,
) -> Result<(), String> {
    if version_of(name, version_args).is_some_and(|v| v.contains(version)) {
        println!("    {name} {version}: installed");
        return Ok(());
    }
    step(&format!("Installing {name} {version} (cargo install, {takes})"));
    run(
        command("cargo")
            .args(["install", name, "--version", version, "--locked"])
            .args(match build {
                ToolBuild::Debug => &["--debug"][..],
                ToolBuild::LightRelease => &LIGHT_INSTALL_PROFILE[..],
            }),
        &format!("cargo install {name}"),
    )
}

/// `cargo install` settings for the release-built tools ([`ToolBuild::LightRelease`],
/// wasm-bindgen-cli): no link-time optimisation and 16 codegen units, so that a tool's last crates
/// compile on every core instead of one fat-LTO link on one (docs/decisions.md has the figures).
/// The tools run for seconds at a time; none is measurably slower.
const LIGHT_INSTALL_PROFILE: [&str; 4] = [
    "--config",
    "profile.release.lto=false",
    "--config",
    "profile.release.codegen-units=16",
];

/// Trunk, for the development loop (`trunk serve`), installed with `cargo install` when
/// missing. The release build does not need it ([`crate::wasm_release::build_app`]).
pub fn ensure_trunk() -> Result<(), String> {
    ensure_cargo_installed(
        "trunk",
        TRUNK_VERSION,
        &["--version"],
        ToolBuild::Debug,
        "about 3 minutes on two cores",
    )
}

/// The geckodriver the test command found or installed (first on `PATH` with cargo's bin
/// directory first), for the end-to-end tests (`GECKODRIVER`).
pub fn geckodriver_path() -> PathBuf {
    std::env::split_paths(&path_with_cargo_bin())
        .map(|dir| dir.join("geckodriver"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| cargo_bin().join("geckodriver"))
}

/// `$CARGO_HOME/bin` (default `~/.cargo/bin`), where `cargo install` puts tools.
pub fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// PATH with cargo's bin directory and `.tools/node_modules/.bin` (wasm-opt) first, so
/// freshly installed tools are found.
pub fn path_with_cargo_bin() -> std::ffi::OsString {
    let mut paths = vec![cargo_bin(), crate::repo_root().join(".tools/node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// The first line `program args` prints, if it runs.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let output = command(program).args(args).output().ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    })
}

/// Installs the wasm target, wasm-bindgen-cli, wasm-opt and esbuild when missing; with
/// `test_services`, also the three browser engines and their drivers (Debian's Chromium and
/// ChromeDriver, Firefox ESR with geckodriver, WebKitGTK's driver and Xvfb), Redis (replica
/// tests) and the operations tools.
pub fn ensure_tools(test_services: bool) -> Result<(), String> {
    step("Checking the toolchain: wasm32 target, wasm-bindgen-cli");
    ensure_rust_target("wasm32-unknown-unknown")?;
    // The test command's formatting and lint gates (a minimal rustup profile has neither).
    for (component, program) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        match version_of("cargo", &[program, "--version"]) {
            Some(v) => println!("    {v}: installed"),
            None => {
                step(&format!("Adding {component} (rustup component add)"));
                run(
                    command("rustup").args(["component", "add", component]),
                    "rustup component add",
                )?;
            }
        }
    }
    match version_of("wasm-bindgen", &["--version"]) {
        Some(v) if v.contains(WASM_BINDGEN_VERSION) => println!("    {v}: installed"),
        _ => {
            step(&format!(
                "Installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (cargo install, a few minutes the first time)"
            ));
            // Not --locked: its lock file names a crate version the registry here lacks.
            run(
                command("cargo")
                    .args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION])
                    .args(LIGHT_INSTALL_PROFILE),
                "cargo install wasm-bindgen-cli",
            )?;
        }
    }
    ensure_wasm_opt()?;
    ensure_esbuild()?;
    // `trunk serve --offline` runs cargo offline: every crate the app needs must be in cargo's
    // cache first.
    step("Fetching the workspace's dependencies (cargo fetch; the development loop builds offline)");
    run(command("cargo").arg("fetch"), "cargo fetch")?;
    if test_services {
        ensure_npm_library("har-validator", HAR_VALIDATOR_VERSION)?;
        ensure_npm_library("axe-core", AXE_CORE_VERSION)?;
        ensure_chromium()?;
        ensure_firefox()?;
        ensure_geckodriver()?;
        ensure_webkit()?;
        ensure_redis()?;
        ensure_operations_tools()?;
    }
    Ok(())
}

/// Where the repository's git hooks are (`commit-msg` holds CONTRIBUTING's commit rule).
pub const HOOKS_DIR: &str = ".githooks";

/// Points git's `core.hooksPath` at [`HOOKS_DIR`] in a clone that has no hooks path of its own
/// (one set to something else is left as it is, and said so). Outside a git clone, nothing.
pub fn use_repository_hooks() {
    let root = crate::repo_root();
    if !root.join(".git").exists() {
        return;
    }
    let current = command("git")
        .arg("-C")
        .arg(&root)
        .args(["config", "--get", "core.hooksPath"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if current == HOOKS_DIR {
        return;
    }
    if !current.is_empty() {
        println!("    git's core.hooksPath is {current}: the commit rule's hook ({HOOKS_DIR}/commit-msg) is not used");
        return;
    }
    let set = command("git")
        .arg("-C")
        .arg(&root)
        .args(["config", "core.hooksPath", HOOKS_DIR])
        .status();
    if set.is_ok_and(|s| s.success()) {
        println!("    git now checks each commit message against CONTRIBUTING's rule ({HOOKS_DIR}/commit-msg)");
    }
}

/// Debian's chromium and chromium-driver, installed with apt-get when missing.
fn ensure_chromium() -> Result<(), String> {
    ensure_debian_packages(
        "Chromium and ChromeDriver",
        &["/usr/bin/chromium", "/usr/bin/chromedriver"],
        &["chromium", "chromium-driver"],
        ("/usr/bin/chromium", "--version"),
    )
}

/// Debian's Firefox ESR, installed with apt-get when missing.
fn ensure_firefox() -> Result<(), String> {
    ensure_debian_packages(
        "Firefox ESR",
        &["/usr/bin/firefox-esr"],
        &["firefox-esr"],
        ("/usr/bin/firefox-esr", "--version"),
    )
}

/// Debian's WebKitGTK driver (WebKitWebDriver, which starts WebKitGTK's MiniBrowser) and Xvfb
/// (WebKitGTK has no headless mode), installed with apt-get when missing.
fn ensure_webkit() -> Result<(), String> {
    ensure_debian_packages(
        "WebKitGTK's driver and Xvfb",
        &[
            "/usr/bin/WebKitWebDriver",
            "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
            "/usr/bin/Xvfb",
        ],
        &["webkit2gtk-driver", "xvfb"],
        // WebKitWebDriver names no version (`--version` exits 1) and MiniBrowser's needs a
        // display: the line then says what is installed.
        ("/usr/bin/WebKitWebDriver", "--version"),
    )
}

/// Debian's redis-server (the replica tests start their own on a free loopback port), installed
/// with apt-get when missing.
fn ensure_redis() -> Result<(), String> {
    ensure_debian_packages(
        "Redis",
        &["/usr/bin/redis-server"],
        &["redis-server"],
        ("/usr/bin/redis-server", "--version"),
    )
}

/// The Rust standard library for `target` (rustup), added when missing.
pub fn ensure_rust_target(target: &str) -> Result<(), String> {
    let installed = command("rustup").args(["target", "list", "--installed"]).output();
    let installed = installed
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if installed.lines().any(|line| line.trim() == target) {
        println!("    {target}: installed");
        return Ok(());
    }
    step(&format!("Adding the {target} target (rustup)"));
    run(command("rustup").args(["target", "add", target]), "rustup target add")
}

/// Debian's musl-tools (`musl-gcc`, for the C in `ring` on the static musl build) and podman
/// (which builds and runs the container image), installed with apt-get when missing.
pub fn ensure_image_tools() -> Result<(), String> {
    ensure_debian_packages(
        "musl-tools and podman",
        &["/usr/bin/musl-gcc", "/usr/bin/podman", "/usr/sbin/runc"],
        &["musl-tools", "podman", "runc"],
        ("/usr/bin/podman", "--version"),
    )
}

/// Debian's HAProxy (the rolling-restart test puts the replicas behind it) and Prometheus's
/// `promtool` (which checks the metrics scrape), installed with apt-get when missing.
fn ensure_operations_tools() -> Result<(), String> {
    ensure_debian_packages(
        "HAProxy and promtool",
        &["/usr/sbin/haproxy", "/usr/bin/promtool"],
        &["haproxy", "prometheus"],
        ("/usr/sbin/haproxy", "-v"),
    )
}

/// Debian `packages`, installed with apt-get (as root, or through sudo) unless every one of
/// `files` is there; `version` is the command whose output names what is installed.
fn ensure_debian_packages(what: &str, files: &[&str], packages: &[&str], version: (&str, &str)) -> Result<(), String> {
    if files.iter().all(|f| Path::new(f).exists()) {
        println!(
            "    {}: installed",
            version_of(version.0, &[version.1]).unwrap_or_else(|| what.to_owned())
        );
        return Ok(());
    }
    step(&format!("Installing {what} (apt-get)"));
    let as_root = version_of("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    let apt = |args: &[&str]| -> Command {
        let mut c = if as_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !as_root {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update"]), "apt-get update")?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    run(&mut apt(&install), &format!("apt-get install {}", packages.join(" ")))
}
